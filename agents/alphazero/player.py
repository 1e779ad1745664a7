"""An AlphaZero network as a player of :mod:`selfplay`: with search, or the raw policy."""

from __future__ import annotations

import numpy as np
import torch

from agents.alphazero.network import PolicyValueNet
from selfplay.player import PlayerBase
from sim.board import BoardGame
from sim.board.base import H_PLY, H_WINNER, ONGOING
from sim.search.mcts import BatchedMCTS


class AlphaZeroPlayer(PlayerBase):
    """Plays the most visited move of a PUCT search guided by ``net`` (a proven win
    first), or, with ``simulations=0``, the raw network's most probable legal move.
    In a game's first ``opening_plies`` plies it draws the move in proportion to the
    visits (the priors when raw) instead, so that matches between deterministic
    players are not the same game over and over.

    ``act_batch`` answers many positions with one batched search (one forward per
    step for all of them), which the lockstep match runner and the mistake benchmark
    use. After each call, ``last_priors`` / ``last_visits`` / ``last_value`` hold the
    network's priors, the root visit counts and the root value of the last position
    (what ``scripts/watch.py`` draws over the board).
    """

    def __init__(
        self,
        game: BoardGame,
        net: PolicyValueNet,
        simulations: int = 800,
        c_puct: float = 1.5,
        fpu: float = 0.2,
        leaves_per_step: int = 8,
        name: str | None = None,
        opening_plies: int = 0,
    ) -> None:
        if simulations < 0:
            raise ValueError(f"AlphaZeroPlayer: simulations must be >= 0, got {simulations}")
        if tuple(net.config.obs_shape) != tuple(game.obs_shape) or (
            net.config.num_actions != game.num_actions
        ):
            raise ValueError(
                f"AlphaZeroPlayer: the network was built for observations "
                f"{net.config.obs_shape} and {net.config.num_actions} actions, but "
                f"{game.name} has {game.obs_shape} and {game.num_actions}"
            )
        self.game, self.net = game, net.eval()
        self.simulations, self.c_puct, self.fpu = int(simulations), c_puct, fpu
        self.leaves_per_step = max(1, min(int(leaves_per_step), max(1, simulations // 8)))
        self.name = name or (f"alphazero({simulations})" if simulations else "alphazero-raw")
        self.opening_plies = int(opening_plies)
        self._searches: dict[int, BatchedMCTS] = {}
        self.last_priors = self.last_visits = None
        self.last_value = 0.0

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int:
        return int(self.act_batch(np.asarray(state)[None], rng)[0])

    @torch.inference_mode()
    def act_batch(self, states: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        states = np.ascontiguousarray(states, dtype=np.int64)
        opening = states[:, H_PLY] < self.opening_plies
        if self.simulations == 0:
            obs = np.stack([self.game.observation(s) for s in states])
            legal = np.stack([self.game.legal_mask(s) for s in states])
            if not legal.any(axis=1).all():
                raise ValueError("AlphaZeroPlayer: asked to move in a finished game")
            priors, values = self.net.evaluate(obs, legal)
            self.last_priors, self.last_visits = priors[-1], None
            self.last_value = float(values[-1])
            best = np.argmax(np.where(legal, priors, -1.0), axis=1)
            for i in np.flatnonzero(opening):
                best[i] = rng.choice(len(priors[i]), p=priors[i] / priors[i].sum())
            return best
        if (states[:, H_WINNER] != ONGOING).any():
            raise ValueError("AlphaZeroPlayer: asked to move in a finished game")
        mcts = self._search(len(states))
        mcts.reset(states)
        result = mcts.search(self.net.evaluate, self.simulations, self.leaves_per_step)
        self.last_priors = mcts.tree.prior[-1, 0].astype(np.float64)  # the root's priors
        self.last_visits, self.last_value = result.visits[-1], float(result.values[-1])
        actions = mcts.select_actions(0.0, rng)
        if opening.any():
            actions = np.where(opening, mcts.select_actions(1.0, rng), actions)
        return actions

    def _search(self, n: int) -> BatchedMCTS:
        if n not in self._searches:
            if len(self._searches) > 4:  # a few sizes recur (match rounds); keep memory low
                self._searches.clear()
            self._searches[n] = BatchedMCTS.for_game(
                self.game, n, self.simulations + 1, c_puct=self.c_puct, fpu=self.fpu,
                fpu_relative=True,
            )  # fmt: skip
        return self._searches[n]

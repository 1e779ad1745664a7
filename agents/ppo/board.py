"""Board games (Connect Four, ...) through self-play: the learner plays one side of many
games at once against the snapshot pool or a built-in opponent.

:class:`BoardSource` keeps ``num_games`` games of a :mod:`sim.board` game; the learner
is one agent row per game and acts only where it is to move; after its move the other
side replies (a policy from the pool, batched over the games it plays, or a built-in
opponent of :mod:`envs.board.opponents`) until it is the learner's turn again. The
learner takes each game's first or second seat alternately. Reward: +1 win, -1 loss,
0 draw, at the end. :class:`PPOBoardPlayer` puts a policy behind the player protocol of
:mod:`selfplay.player`, so evaluation uses the existing match runner.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from agents.ppo.actor import POLICY, Actor, HeldPolicies
from agents.ppo.arena import EpisodeEnd
from agents.ppo.network import PolicySpec
from envs.board.opponents import OPPONENTS, make_opponent
from sim.board import BoardGame, make_game

PREFIX = "board:"


def board_game(env: str, **options) -> BoardGame:
    """The game of ``env`` = ``"board:<name>"`` (e.g. ``board:connect4``)."""
    if not env.startswith(PREFIX):
        raise ValueError(f"a board env is named 'board:<game>', got {env!r}")
    return make_game(env[len(PREFIX) :], **options)


def board_spec(game: BoardGame, **arch) -> PolicySpec:
    return PolicySpec(
        kind="mlp", nvec=(int(game.num_actions),), obs_dim=int(np.prod(game.obs_shape)),
        extra={"env": f"{PREFIX}{game.name}"}, **arch,
    )  # fmt: skip


def board_obs(game: BoardGame, states: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Policy inputs of the player to move in each state."""
    return {
        "x": np.stack([game.observation(s).reshape(-1) for s in states]),
        "action_mask": np.stack([game.legal_mask(s) for s in states]).astype(np.int8),
    }


class BoardSource:
    """``num_games`` games; ``opponent_fn(rng)`` picks each game's opponent: a built-in
    kind (``random``, ``greedy``, ...) or ``"policy:<key>"`` played by ``policy_fn``."""

    team = 1

    def __init__(
        self,
        game: BoardGame,
        num_games: int,
        opponent_fn: Callable[[np.random.Generator], str],
        policy_fn: Callable[[str], Actor] | None = None,
        seed: int = 0,
    ) -> None:
        if num_games < 1:
            raise ValueError(f"num_games must be >= 1, got {num_games}")
        self.game = game
        self.num_agents = int(num_games)
        self.opponent_fn = opponent_fn
        self.held = HeldPolicies(policy_fn)
        self.rng = np.random.default_rng(seed)
        self.states = [game.initial_state() for _ in range(num_games)]
        self.seats = np.zeros(num_games, dtype=np.int64)
        self.opponents = [""] * num_games
        self.builtin: dict[str, Callable] = {}
        self.games_started = 0
        self.lengths = np.zeros(num_games, dtype=np.int64)

    def _start(self, i: int) -> None:
        self.states[i] = self.game.initial_state()
        self.seats[i] = self.games_started % 2
        self.games_started += 1
        self.lengths[i] = 0
        opp = self.opponent_fn(self.rng)
        if not opp.startswith(POLICY) and opp not in OPPONENTS:
            raise ValueError(f"opponent {opp!r} is neither 'policy:KEY' nor {sorted(OPPONENTS)}")
        self.opponents[i] = opp

    def _reply(self, games: list[int]) -> None:
        """Let the opponents move in ``games`` until the learner is to move or it ends."""
        g = self.game
        while True:
            waiting = [
                i for i in games
                if not g.is_terminal(self.states[i]) and g.to_play(self.states[i]) != self.seats[i]
            ]  # fmt: skip
            if not waiting:
                return
            for key in sorted({self.opponents[i] for i in waiting}):
                rows = [i for i in waiting if self.opponents[i] == key]
                if key.startswith(POLICY):
                    actor = self.held[key]
                    obs = board_obs(g, [self.states[i] for i in rows])
                    n = len(rows)
                    st = actor.step(obs, actor.initial_state(n), np.ones(n, np.float32))
                    moves = st.actions[:, 0]
                else:
                    if key not in self.builtin:
                        self.builtin[key] = make_opponent(key, g)
                    moves = [self.builtin[key](self.states[i].copy(), self.rng) for i in rows]
                for i, a in zip(rows, moves, strict=True):
                    g.rules.play(self.states[i], g.check_action(self.states[i], int(a)))

    def observe(self) -> dict[str, np.ndarray]:
        return board_obs(self.game, self.states)

    def reset(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        for i in range(self.num_agents):
            self._start(i)
        self.held.keep(self.opponents)
        self._reply(list(range(self.num_agents)))
        return self.observe(), np.ones(self.num_agents, dtype=np.float32)

    def step(self, actions: np.ndarray):
        g = self.game
        rewards = np.zeros(self.num_agents, dtype=np.float32)
        starts = np.zeros(self.num_agents, dtype=np.float32)
        for i, a in enumerate(np.asarray(actions).reshape(self.num_agents, -1)[:, 0]):
            g.rules.play(self.states[i], g.check_action(self.states[i], int(a)))
            self.lengths[i] += 1
        self._reply(list(range(self.num_agents)))
        ends = []
        restarted = []
        for i, state in enumerate(self.states):
            if g.is_terminal(state):
                w = g.winner(state)
                score = 0.5 if w is None else float(w == self.seats[i])
                rewards[i] = 2 * score - 1
                ends.append(EpisodeEnd(self.opponents[i], score, float(rewards[i]),
                                       int(self.lengths[i]), 1))  # fmt: skip
                self._start(i)
                starts[i] = 1.0
                restarted.append(i)
        self.held.keep(self.opponents)
        self._reply(restarted)
        return self.observe(), rewards, starts, ends

    # ---- exact resume ------------------------------------------------------------------
    def state_dict(self, prefix: str) -> tuple[dict[str, torch.Tensor], dict]:
        tensors = {
            f"{prefix}/states": torch.from_numpy(np.stack(self.states).copy()),
            f"{prefix}/seats": torch.from_numpy(self.seats.copy()),
            f"{prefix}/lengths": torch.from_numpy(self.lengths.copy()),
        }
        meta = {
            "opponents": list(self.opponents),
            "rng": self.rng.bit_generator.state,
            "games_started": self.games_started,
        }
        return tensors, meta

    def load_state_dict(self, prefix: str, tensors: dict, meta: dict) -> None:
        states = tensors[f"{prefix}/states"].numpy()
        if states.shape != (self.num_agents, *self.states[0].shape):
            raise ValueError(f"saved games have shape {states.shape}, not this source's")
        self.states = [s.copy() for s in states]
        self.seats[...] = tensors[f"{prefix}/seats"].numpy()
        self.lengths[...] = tensors[f"{prefix}/lengths"].numpy()
        self.opponents = list(meta["opponents"])
        self.held.keep(self.opponents)
        self.rng.bit_generator.state = meta["rng"]
        self.games_started = int(meta["games_started"])


class PPOBoardPlayer:
    """A board-game policy as a :mod:`selfplay` player (``act`` and ``act_batch``)."""

    def __init__(self, game: BoardGame, net, name: str = "ppo", greedy: bool = False) -> None:
        self.game = game
        self.name = name
        self.actor = Actor(net, name, greedy=greedy)

    def act_batch(self, states: np.ndarray, rng: np.random.Generator) -> list[int]:
        self.actor.generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        obs = board_obs(self.game, list(states))
        n = len(states)
        st = self.actor.step(obs, self.actor.initial_state(n), np.ones(n, np.float32))
        return [int(a) for a in st.actions[:, 0]]

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int:
        return self.act_batch(state[None], rng)[0]

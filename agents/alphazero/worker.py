"""Self-play: many concurrent games whose leaves share one network forward.

A :class:`SelfPlayWorker` holds ``parallel_games`` games and one batched search over
them (:class:`sim.search.mcts.BatchedMCTS`). Each step searches every game, with the
leaves of all games evaluated together, then plays one move in each; a finished game
becomes training samples and its slot starts a new game. Its network is a copy that
the learner refreshes with :meth:`SelfPlayWorker.load_weights`.

:class:`SelfPlayWorkers` runs several workers on an execution backend (``--workers N
--backend process|ray|serial``, see :mod:`selfplay.backends`); its ``start``/``collect``
pair lets the learner train while they play.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.network import NetworkConfig, PolicyValueNet
from sim.board import BoardGame, make_game
from sim.board.base import H_PLY, H_TO_PLAY
from sim.search.mcts import BatchedMCTS


@dataclass
class Samples:
    """Training positions: planes from the mover's view, search policy, game outcome."""

    obs: np.ndarray  # float32[N, C, H, W]
    policy: np.ndarray  # float32[N, A]   visit shares (or Gumbel's improved policy)
    value: np.ndarray  # float32[N]       final result for the player to move there

    def __len__(self) -> int:
        return len(self.value)

    @staticmethod
    def concat(parts: list[Samples], obs_shape: tuple, num_actions: int) -> Samples:
        if not parts:
            return Samples(
                np.zeros((0, *obs_shape), np.float32),
                np.zeros((0, num_actions), np.float32),
                np.zeros(0, np.float32),
            )
        return Samples(
            np.concatenate([p.obs for p in parts]),
            np.concatenate([p.policy for p in parts]),
            np.concatenate([p.value for p in parts]),
        )


@dataclass
class PlayStats:
    """What one :meth:`SelfPlayWorker.play` call did."""

    moves: int = 0
    positions: int = 0  # moves whose search became a training target
    games: int = 0
    evaluations: int = 0  # positions the network evaluated
    seconds: float = 0.0
    game_length_sum: int = 0
    first_player_wins: int = 0
    draws: int = 0
    lost: int = 0  # worker jobs lost (a worker died or timed out): their games dropped

    def add(self, other: PlayStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def network_config(config: AlphaZeroConfig, game: BoardGame) -> NetworkConfig:
    return NetworkConfig(game.obs_shape, game.num_actions, config.blocks, config.channels)


class SelfPlayWorker:
    """``parallel_games`` concurrent self-play games of one game, with their search."""

    def __init__(self, config: AlphaZeroConfig, seed: int) -> None:
        config.validate()
        self.config = config
        self.game = make_game(config.game, **config.game_options)
        with torch.random.fork_rng():  # weights until load_weights: seeded, not global
            torch.manual_seed(seed)
            self.net = PolicyValueNet(network_config(config, self.game)).eval()
        s = config.search
        capacity = s.simulations + 2
        self.mcts = BatchedMCTS.for_game(
            self.game,
            config.parallel_games,
            capacity,
            c_puct=s.c_puct,
            fpu=s.fpu,
            fpu_relative=True,
            dirichlet_alpha=s.dirichlet_alpha,
            dirichlet_fraction=s.dirichlet_fraction,
            seed=seed,
        )
        self.rng = np.random.default_rng(seed + 1)
        batch = config.parallel_games
        self.states = np.stack([self.game.initial_state() for _ in range(batch)])
        # per game: (planes, policy target, player to move, root value) of each full search
        self.records: list[list[tuple[np.ndarray, np.ndarray, int, float]]] = [
            [] for _ in range(batch)
        ]
        self.evaluations = 0

    # ---- network ---------------------------------------------------------------------
    def load_weights(self, weights: dict[str, torch.Tensor | np.ndarray]) -> None:
        """Tensors or NumPy arrays (what a pool broadcasts; Ray's are read-only views)."""
        self.net.load_state_dict(
            {
                k: v if torch.is_tensor(v) else torch.from_numpy(np.array(v))
                for k, v in weights.items()
            }
        )
        self.net.eval()

    def evaluate(self, obs: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.evaluations += len(obs)
        return self.net.evaluate(obs, legal)

    # ---- playing ---------------------------------------------------------------------
    def play(self, steps: int) -> tuple[Samples, PlayStats]:
        """Make ``steps`` moves in every concurrent game; the samples of the games that
        finished. Trees restart from the current positions at each call, so a run that
        stops between calls (a checkpoint) resumes exactly."""
        start, evals0 = time.perf_counter(), self.evaluations
        stats = PlayStats()
        finished: list[Samples] = []
        s = self.config.search
        self.mcts.reset(self.states)
        for _ in range(steps):
            full = s.full_search_prob >= 1.0 or self.rng.random() < s.full_search_prob
            sims = s.simulations if full else s.fast_simulations
            if s.gumbel:
                result = self.mcts.search_gumbel(
                    self.evaluate, sims, s.leaves_per_step, max_considered=s.gumbel_considered
                )
                actions, targets, roots = result.actions, result.policy, result.values
            else:
                # KataGo: only full searches explore with root noise.
                self.mcts.dirichlet_fraction = s.dirichlet_fraction if full else 0.0
                self.mcts.search(self.evaluate, sims, s.leaves_per_step)
                targets = self.mcts.policy(1.0)
                roots = self.mcts.result().values
                actions = self._choose(self.mcts)
            stats.moves += len(actions)
            for b, action in enumerate(actions):
                state = self.states[b]
                if full:
                    self.records[b].append(
                        (
                            self.game.observation(state),
                            targets[b].astype(np.float32),
                            int(state[H_TO_PLAY]),
                            float(roots[b]),
                        )
                    )
                    stats.positions += 1
                self.game.rules.play(state, int(action))
                if self.game.is_terminal(state):
                    finished.append(self._finish(b, stats))
                else:
                    self.mcts.advance(b, int(action))
        stats.evaluations = self.evaluations - evals0
        stats.seconds = time.perf_counter() - start
        return Samples.concat(finished, self.game.obs_shape, self.game.num_actions), stats

    def _choose(self, mcts: BatchedMCTS) -> np.ndarray:
        """Proportional to visits in a game's first ``temperature_moves`` plies, else the
        most visited (proven wins first, proven losses avoided: see select_actions)."""
        plies = self.states[:, H_PLY]
        explore = mcts.select_actions(1.0, self.rng)
        exploit = mcts.select_actions(0.0, self.rng)
        return np.where(plies < self.config.search.temperature_moves, explore, exploit)

    def _finish(self, b: int, stats: PlayStats) -> Samples:
        state = self.states[b]
        returns = self.game.returns(state)
        records = self.records[b]
        winner = self.game.winner(state)
        stats.games += 1
        stats.game_length_sum += self.game.ply(state)
        stats.draws += winner is None
        stats.first_player_wins += winner == 0
        shape, num_actions = self.game.obs_shape, self.game.num_actions
        samples = Samples(
            np.array([r[0] for r in records], dtype=np.float32).reshape(-1, *shape),
            np.array([r[1] for r in records], dtype=np.float32).reshape(-1, num_actions),
            self._value_targets(returns, records),
        )
        self.records[b] = []
        self.states[b] = self.game.initial_state()
        self.mcts.set_root(b, self.states[b])
        return samples

    def _value_targets(self, returns: np.ndarray, records: list) -> np.ndarray:
        """float32[n]: the outcome for each position's mover, mixed with its search's
        root value by ``value_q_weight``."""
        z = np.array([returns[r[2]] for r in records], dtype=np.float64)
        q = np.array([r[3] for r in records], dtype=np.float64)
        w = self.config.value_q_weight
        return ((1.0 - w) * z + w * q).astype(np.float32)

    # ---- checkpointing ----------------------------------------------------------------
    def state_dict(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Games in progress (positions and their pending samples) and RNG states."""
        lengths = [len(r) for r in self.records]
        flat = [r for rec in self.records for r in rec]
        shape, num_actions = self.game.obs_shape, self.game.num_actions
        tensors = {
            "worker/states": torch.from_numpy(self.states.copy()),
            "worker/obs": torch.from_numpy(
                np.array([r[0] for r in flat], dtype=np.float32).reshape(-1, *shape)
            ),
            "worker/policy": torch.from_numpy(
                np.array([r[1] for r in flat], dtype=np.float32).reshape(-1, num_actions)
            ),
            "worker/players": torch.tensor([r[2] for r in flat], dtype=torch.int64),
            "worker/roots": torch.tensor([r[3] for r in flat], dtype=torch.float64),
        }
        meta = {
            "lengths": lengths,
            "rng": self.rng.bit_generator.state,
            "mcts_rng": self.mcts.rng.bit_generator.state,
            "evaluations": self.evaluations,
        }
        return tensors, meta

    def load_state_dict(self, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
        states = tensors["worker/states"].numpy()
        if states.shape != self.states.shape or len(meta["lengths"]) != len(self.records):
            raise ValueError(
                f"the checkpoint holds {states.shape[0]} self-play games of state size "
                f"{states.shape[1]}; this run has {self.states.shape[0]} of size "
                f"{self.states.shape[1]} (parallel_games or game differ)"
            )
        self.states = states.copy()
        obs, policy = tensors["worker/obs"].numpy(), tensors["worker/policy"].numpy()
        players = tensors["worker/players"].numpy()
        # checkpoints from before root values were kept have none (only z was used then)
        roots = tensors.get("worker/roots", torch.zeros(len(players), dtype=torch.float64))
        roots = roots.numpy()
        at = 0
        for b, n in enumerate(meta["lengths"]):
            self.records[b] = [
                (obs[i].copy(), policy[i].copy(), int(players[i]), float(roots[i]))
                for i in range(at, at + n)
            ]
            at += n
        self.rng.bit_generator.state = meta["rng"]
        self.mcts.rng.bit_generator.state = meta["mcts_rng"]
        self.evaluations = int(meta["evaluations"])


# ---- worker pools -----------------------------------------------------------------------
def worker_seed(seed: int, index: int, incarnation: int = 0) -> int:
    """Worker ``index``'s seed; a restarted worker (``incarnation`` > 0) plays new games."""
    return seed + 1000 * (index + 1) + 1_000_003 * incarnation


def make_selfplay_worker(
    config_json: dict, seed: int, index: int, incarnation: int = 0
) -> SelfPlayWorker:
    """A pool's worker factory (module level, so that processes and Ray can send it)."""
    return SelfPlayWorker(
        AlphaZeroConfig.from_json(config_json), worker_seed(seed, index, incarnation)
    )


def play_job(worker: SelfPlayWorker, steps: int) -> tuple[Samples, PlayStats]:
    """The job a pool runs: ``steps`` moves in every game of ``worker``."""
    return worker.play(steps)


class SelfPlayWorkers:
    """``count`` self-play workers on a backend (:mod:`selfplay.backends`).

    ``start(weights, steps)`` publishes the weights once (Ray: one ``ray.put``) and has
    every worker play ``steps`` moves, returning at once; ``collect()`` waits for them
    and returns their samples in worker order, so that a run is the same on every
    backend. A worker that dies is restarted with fresh games; what it was playing is
    lost (counted in ``PlayStats.lost``), never half added. Worker ``i`` is seeded
    ``seed + 1000 * (i + 1)``.
    """

    def __init__(
        self, config: AlphaZeroConfig, count: int, seed: int, backend: str | Any | None = None
    ) -> None:
        """``backend``: a name (default ``config.backend``; its backend is closed with
        this), or a backend object the caller keeps and closes."""
        from selfplay.backends import make_backend

        self.config = config
        self.game = make_game(config.game, **config.game_options)
        self._owns = backend is None or isinstance(backend, str)
        if self._owns:
            self.backend = make_backend(backend or config.backend, count, config.ray_address)
        else:
            self.backend = backend
        try:
            factory = functools.partial(make_selfplay_worker, config.to_json(), seed)
            self.pool = self.backend.worker_pool(
                factory, count, threads=config.worker_threads, job_timeout=config.worker_timeout
            )
        except BaseException:
            if self._owns:
                self.backend.close()
            raise
        self.tickets: list[int] = []

    def start(self, weights: dict[str, torch.Tensor], steps: int) -> None:
        # NumPy arrays pickle by value; tensors would go through shared-memory handles.
        self.pool.broadcast({k: v.detach().cpu().numpy() for k, v in weights.items()})
        self.tickets = [self.pool.submit(play_job, steps, worker=i) for i in range(self.pool.count)]

    def collect(self) -> tuple[Samples, PlayStats]:
        parts, total = [], PlayStats()
        seconds = 0.0
        for result in self.pool.gather(self.tickets, timeout=self.config.worker_timeout):
            if result.lost:
                total.lost += 1
                continue
            samples, stats = result.value
            parts.append(samples)
            seconds = max(seconds, stats.seconds)
            total.add(stats)
        total.seconds = seconds
        self.tickets = []
        return Samples.concat(parts, self.game.obs_shape, self.game.num_actions), total

    def close(self) -> None:
        try:
            self.pool.close()
        finally:
            if self._owns:
                self.backend.close()


def ProcessWorkers(config: AlphaZeroConfig, count: int, seed: int) -> SelfPlayWorkers:
    """Self-play workers in spawned processes (the name of earlier versions)."""
    return SelfPlayWorkers(config, count, seed, backend="process")

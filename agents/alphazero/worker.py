"""Self-play: many concurrent games whose leaves share one network forward.

A :class:`SelfPlayWorker` holds ``parallel_games`` games and one batched search over
them (:class:`sim.search.mcts.BatchedMCTS`). Each step searches every game, with the
leaves of all games evaluated together, then plays one move in each; a finished game
becomes training samples and its slot starts a new game. Its network is a copy that
the learner refreshes with :meth:`SelfPlayWorker.load_weights`.

:class:`ProcessWorkers` runs several workers in their own processes (``--workers N``);
its ``start``/``collect`` pair lets the learner train while they play. The same
interface fits a Ray backend.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
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
        self.records: list[list[tuple[np.ndarray, np.ndarray, int]]] = [[] for _ in range(batch)]
        self.evaluations = 0

    # ---- network ---------------------------------------------------------------------
    def load_weights(self, weights: dict[str, torch.Tensor]) -> None:
        self.net.load_state_dict(weights)
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
                actions, targets = result.actions, result.policy
            else:
                # KataGo: only full searches explore with root noise.
                self.mcts.dirichlet_fraction = s.dirichlet_fraction if full else 0.0
                self.mcts.search(self.evaluate, sims, s.leaves_per_step)
                targets = self.mcts.policy(1.0)
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
            np.array([returns[r[2]] for r in records], dtype=np.float32),
        )
        self.records[b] = []
        self.states[b] = self.game.initial_state()
        self.mcts.set_root(b, self.states[b])
        return samples

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
        at = 0
        for b, n in enumerate(meta["lengths"]):
            self.records[b] = [
                (obs[i].copy(), policy[i].copy(), int(players[i])) for i in range(at, at + n)
            ]
            at += n
        self.rng.bit_generator.state = meta["rng"]
        self.mcts.rng.bit_generator.state = meta["mcts_rng"]
        self.evaluations = int(meta["evaluations"])


# ---- worker processes ------------------------------------------------------------------
def _worker_main(conn, config_json: dict, seed: int, threads: int) -> None:
    # Ctrl-C is the learner's to handle: it stops the run between iterations.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    torch.set_num_threads(threads)
    worker = SelfPlayWorker(AlphaZeroConfig.from_json(config_json), seed)
    while True:
        message = conn.recv()
        if message[0] == "stop":
            return
        _, weights, steps = message
        try:
            worker.load_weights({k: torch.from_numpy(v) for k, v in weights.items()})
            conn.send(("ok", worker.play(steps)))
        except Exception as e:  # report to the learner rather than dying silently
            conn.send(("error", f"{type(e).__name__}: {e}"))


class ProcessWorkers:
    """``count`` self-play workers in spawned processes (one torch thread each).

    ``start(weights, steps)`` hands every worker the latest weights and returns at once;
    ``collect()`` waits for their samples. Worker ``i`` is seeded ``seed + 1000 * (i+1)``.
    """

    def __init__(self, config: AlphaZeroConfig, count: int, seed: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes, self.processes = [], []
        for i in range(count):
            parent, child = ctx.Pipe()
            p = ctx.Process(
                target=_worker_main,
                args=(child, config.to_json(), seed + 1000 * (i + 1), 1),
                daemon=True,
            )
            p.start()
            self.pipes.append(parent)
            self.processes.append(p)
        self.game = make_game(config.game, **config.game_options)
        self._pending = False

    def start(self, weights: dict[str, torch.Tensor], steps: int) -> None:
        # NumPy arrays pickle by value; tensors would go through shared-memory handles.
        weights = {k: v.detach().cpu().numpy() for k, v in weights.items()}
        for pipe in self.pipes:
            pipe.send(("play", weights, steps))
        self._pending = True

    def collect(self) -> tuple[Samples, PlayStats]:
        parts, total = [], PlayStats()
        seconds = 0.0
        for i, pipe in enumerate(self.pipes):
            try:
                status, payload = pipe.recv()
            except (EOFError, OSError):
                status, payload = "error", "the process died (see its output above)"
            if status != "ok":
                raise RuntimeError(f"self-play worker {i} failed: {payload}")
            samples, stats = payload
            parts.append(samples)
            seconds = max(seconds, stats.seconds)
            total.add(stats)
        total.seconds = seconds
        self._pending = False
        return Samples.concat(parts, self.game.obs_shape, self.game.num_actions), total

    def close(self) -> None:
        for pipe in self.pipes:
            try:
                if self._pending and pipe.poll(30):
                    pipe.recv()
                pipe.send(("stop",))
            except (EOFError, OSError):
                pass  # already gone
        for p in self.processes:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()

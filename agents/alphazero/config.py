"""The configuration of an AlphaZero run: one dataclass, parsed by tyro, saved in checkpoints.

The defaults are the ones that train Connect Four on two CPU cores (a small tower, a
modest search budget with playout-cap randomization, a replay window of recent games,
two self-play processes beside a one-thread learner that samples each position about
ten times; see docs/BENCHMARKS.md "Learning Connect Four from scratch").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Literal


@dataclass
class SearchConfig:
    """How MCTS searches in self-play."""

    simulations: int = 128
    """simulations per move of a full search (its visits become a policy target)."""
    fast_simulations: int = 32
    """simulations per move of a fast search (playout-cap randomization; not a target)."""
    full_search_prob: float = 0.25
    """probability that a move gets a full search; 1 disables playout-cap randomization."""
    c_puct: float = 1.5
    """exploration constant of PUCT."""
    fpu: float = 0.2
    """first-play urgency: an unvisited child's value is its parent's minus this."""
    dirichlet_alpha: float = 1.0
    """Dirichlet noise concentration at the roots (about 10 / typical number of moves)."""
    dirichlet_fraction: float = 0.25
    """share of the root priors replaced by noise in self-play."""
    leaves_per_step: int = 1
    """leaves each game contributes per network batch (>1 uses virtual loss)."""
    temperature_moves: int = 10
    """plies played in proportion to visit counts; later plies take the most visited."""
    gumbel: bool = False
    """Gumbel AlphaZero root selection (sequential halving) instead of PUCT + noise."""
    gumbel_considered: int = 16
    """actions sequential halving starts from (Gumbel only)."""


@dataclass
class AlphaZeroConfig:
    """An AlphaZero run: game, network, self-play, training, evaluation, bookkeeping."""

    game: str = "connect4"
    """board game to learn (connect4, tictactoe, othello, gomoku, go)."""
    game_options: dict[str, int] = field(default_factory=dict)
    """options of the game, e.g. {"size": 6} for Othello 6x6 or {"size": 9} for Gomoku."""
    blocks: int = 5
    """residual blocks in the network tower."""
    channels: int = 64
    """channels of the tower's convolutions."""
    search: SearchConfig = field(default_factory=SearchConfig)
    """self-play search."""
    parallel_games: int = 64
    """games played concurrently per self-play worker (their leaves share one forward)."""
    steps_per_iteration: int = 16
    """moves each concurrent game makes between two training phases."""
    workers: int = 2
    """self-play workers (each holds parallel_games games, its search and a copy of the
    network; they play while the learner trains); 0 plays in the training process, one
    phase after the other (the only mode that resumes bit for bit)."""
    backend: Literal["serial", "process", "ray"] = "process"
    """where the workers run: "process" (spawned processes), "ray" (Ray actors: a local
    instance, or the cluster at ray_address) or "serial" (in the training process, one
    after another: for debugging; the same games as the others)."""
    ray_address: str | None = None
    """a Ray cluster to join (host:port of `ray start --head`, or "auto"); None reads
    RAY_ADDRESS, else a local instance starts (backend "ray" only)."""
    worker_threads: int = 1
    """torch threads of each worker (and the CPUs a Ray actor reserves)."""
    worker_timeout: float = 900.0
    """seconds a worker may take over one iteration's moves before it is restarted (its
    games lost) and the learner goes on without them."""
    replay_size: int = 100_000
    """positions kept in the replay window (the oldest are dropped)."""
    min_replay: int = 2_000
    """positions gathered before training starts."""
    batch_size: int = 256
    """positions per training step."""
    value_q_weight: float = 0.5
    """share of the search's root value in each position's value target, the rest the
    game's outcome (Oracle's Connect Four study averaged the two; a root the solver
    proved has its exact value); 0 trains on outcomes alone (docs/BENCHMARKS.md compares)."""
    sample_reuse: float = 10.0
    """training steps are paced so that each new position is sampled this often on average."""
    lr: float = 2e-3
    """AdamW learning rate."""
    weight_decay: float = 1e-4
    """AdamW's decoupled weight decay (weights shrink by lr * weight_decay per step)."""
    augment: bool = True
    """train on a random board symmetry of each sampled position."""
    minutes: float = 120.0
    """training budget in wall-clock minutes, evaluations not counted (the run stops at
    the first iteration past it; a resumed run counts its earlier sessions)."""
    max_iterations: int = 0
    """stop after this many iterations (0: no limit)."""
    eval_every_minutes: float = 10.0
    """time between evaluations (mistake rates, matches, ratings); 0 turns them off."""
    eval_positions: int = 200
    """positions of each Pons file in a periodic evaluation (Connect Four only)."""
    eval_simulations: int = 800
    """simulations per move when evaluating with search."""
    eval_games: int = 20
    """games against each baseline in a periodic evaluation."""
    baseline_rollouts: int = 1000
    """simulations of the pure-MCTS (random rollout) baseline."""
    checkpoint_every_minutes: float = 5.0
    """time between checkpoints (also written at the end and on Ctrl-C)."""
    seed: int = 0
    """seed of everything random in the run."""
    threads: int = 1
    """torch threads of the training process (with workers 0 it plays too: give it 2)."""
    run_dir: str = ""
    """where checkpoints, logs and videos go (default runs/alphazero-<game>-<timestamp>)."""
    positions_dir: str = "../shared/data/connect4"
    """folder of the Pons position files for Connect Four evaluations ('' to skip)."""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> AlphaZeroConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown AlphaZero config fields {unknown}")
        values = dict(data)
        values["search"] = SearchConfig(**values.get("search", {}))
        return cls(**values)

    def validate(self) -> None:
        """ValueError naming the first setting that cannot work."""
        s = self.search
        checks = [
            (s.simulations >= 1, "search.simulations must be >= 1"),
            (
                1 <= s.fast_simulations <= s.simulations or s.full_search_prob >= 1.0,
                "search.fast_simulations must be in 1..search.simulations",
            ),
            (s.gumbel_considered >= 1, "search.gumbel_considered must be >= 1"),
            (s.temperature_moves >= 0, "search.temperature_moves must be >= 0"),
            (s.dirichlet_alpha > 0, "search.dirichlet_alpha must be > 0"),
            (0 <= s.dirichlet_fraction <= 1, "search.dirichlet_fraction must be in [0, 1]"),
            (self.minutes > 0, "minutes must be > 0"),
            (self.eval_simulations >= 0, "eval_simulations must be >= 0"),
            (0.0 < s.full_search_prob <= 1.0, "search.full_search_prob must be in (0, 1]"),
            (s.leaves_per_step >= 1, "search.leaves_per_step must be >= 1"),
            (self.parallel_games >= 1, "parallel_games must be >= 1"),
            (self.steps_per_iteration >= 1, "steps_per_iteration must be >= 1"),
            (self.workers >= 0, "workers must be >= 0"),
            (
                self.backend in ("serial", "process", "ray"),
                f"unknown backend {self.backend!r} (serial, process, ray)",
            ),
            (self.backend != "ray" or self.workers >= 1, "backend 'ray' needs workers >= 1"),
            (self.worker_threads >= 1, "worker_threads must be >= 1"),
            (self.worker_timeout > 0, "worker_timeout must be > 0"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.replay_size >= self.batch_size, "replay_size must be >= batch_size"),
            (self.min_replay <= self.replay_size, "min_replay must be <= replay_size"),
            (self.sample_reuse > 0, "sample_reuse must be > 0"),
            (0.0 <= self.value_q_weight <= 1.0, "value_q_weight must be in [0, 1]"),
            (self.blocks >= 0 and self.channels >= 1, "blocks >= 0 and channels >= 1"),
            (self.threads >= 1, "threads must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"AlphaZero config: {message}")

"""The configuration of a DQN run: one dataclass (tyro parses it; checkpoints keep it).

Fields left at ``None`` take the value of the game family's preset (:data:`PRESETS`:
``atari`` or ``minatar``), so ``--env minatar:breakout`` and ``--env ALE/Pong-v5`` each
get sensible settings and any field can still be set by hand.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # Rainbow-lite for Atari: Double + dueling + 3-step, Adam as in Rainbow.
    "atari": {
        "network": "nature",
        "total_steps": 10_000_000,
        "num_envs": 4,
        "buffer_size": 1_000_000,
        "batch_size": 32,
        "lr": 1e-4,
        "adam_eps": 1.5e-4,
        "learning_starts": 20_000,
        "train_freq": 4,
        "target_update": 8_000,
        "exploration_steps": 250_000,
        "eps_end": 0.01,
        "eval_every": 250_000,
        "eval_episodes": 10,
    },
    # MinAtar's reference DQN (Young & Tian 2019) budgets, with Adam.
    "minatar": {
        "network": "minatar",
        "total_steps": 5_000_000,
        "num_envs": 1,
        "buffer_size": 100_000,
        "batch_size": 32,
        "lr": 2.5e-4,
        "adam_eps": 3.125e-4,
        "learning_starts": 5_000,
        "train_freq": 1,
        "target_update": 1_000,
        "exploration_steps": 100_000,
        "eps_end": 0.1,
        "eval_every": 100_000,
        "eval_episodes": 20,
    },
}


@dataclass
class DQNConfig:
    """A DQN run: game, protocol, network, replay, optimisation, exploration, bookkeeping."""

    env: str = "minatar:breakout"
    """game: an ALE id (ALE/Pong-v5, PongNoFrameskip-v4, pong) or a MinAtar one
    (minatar:breakout, simarena/MinAtar-Breakout-v0)."""
    protocol: str | None = None
    """evaluation protocol: machado or nature for ALE games (default machado), minatar."""
    network: str | None = None
    """Q-network: nature (84x84 Atari CNN) or minatar (10x10 CNN); preset by game."""
    dueling: bool = True
    """dueling head (value + mean-centred advantages)."""
    double: bool = True
    """Double Q-learning: the online network picks the bootstrap action, the target rates it."""
    n_step: int = 3
    """steps of reward summed before bootstrapping (1 = plain DQN)."""
    gamma: float = 0.99
    """discount per step."""
    total_steps: int | None = None
    """agent steps (over all envs) the run trains for; MinAtar 5M, Atari 10M (40M frames)."""
    minutes: float = 0.0
    """wall-clock budget: stop at the first step past it (0: no limit)."""
    num_envs: int | None = None
    """parallel envs stepped together (each step adds num_envs transitions)."""
    buffer_size: int | None = None
    """replay capacity in frames (about transitions)."""
    batch_size: int | None = None
    """transitions per gradient step."""
    lr: float | None = None
    """Adam learning rate."""
    adam_eps: float | None = None
    """Adam epsilon."""
    max_grad_norm: float = 10.0
    """clip the gradient's global norm to this (0: no clipping)."""
    learning_starts: int | None = None
    """agent steps of experience gathered before the first gradient step."""
    train_freq: int | None = None
    """agent steps per gradient step (4 on Atari, 1 on MinAtar)."""
    target_update: int | None = None
    """agent steps between copies of the online network into the target network."""
    prioritized: bool = False
    """prioritized replay (proportional, Schaul et al. 2016) instead of uniform."""
    per_alpha: float = 0.5
    """priority exponent of prioritized replay."""
    per_beta: float = 0.4
    """importance-weight exponent at the start; annealed linearly to 1 over the run."""
    eps_start: float = 1.0
    """exploration epsilon at the start."""
    eps_end: float | None = None
    """exploration epsilon after the decay."""
    exploration_steps: int | None = None
    """agent steps of linear epsilon decay from eps_start to eps_end."""
    eval_every: int | None = None
    """agent steps between evaluations (0: only at the end)."""
    eval_episodes: int | None = None
    """episodes per evaluation, with the protocol's small epsilon and raw rewards."""
    checkpoint_every: int = 250_000
    """agent steps between checkpoints (one is always written at the end)."""
    save_replay: bool = False
    """also write the replay memory (replay.safetensors) with each checkpoint, so that a
    resumed run continues exactly; large for Atari (about 7 GB per 1M frames)."""
    seed: int = 0
    """seed of the envs, the network's initialisation, exploration and replay sampling."""
    threads: int = 1
    """torch CPU threads."""
    device: str = "cpu"
    """torch device of the networks (cpu or cuda)."""
    run_dir: str | None = None
    """output folder; default runs/dqn-<env>-<timestamp>."""
    progress: bool = True
    """show a progress bar with steps/s."""


def family(env: str) -> str:
    from envs.atari import parse_game

    return "minatar" if parse_game(env)[0] == "minatar" else "atari"


def resolve(config: DQNConfig) -> DQNConfig:
    """The config with every ``None`` replaced by its preset, checked; ValueError if wrong."""
    preset = PRESETS[family(config.env)]
    filled = {
        f.name: preset[f.name]
        for f in fields(config)
        if getattr(config, f.name) is None and f.name in preset
    }
    c = replace(config, **filled)
    positive = ("total_steps", "num_envs", "buffer_size", "batch_size", "train_freq")
    for name in positive + ("target_update", "n_step"):
        if getattr(c, name) < 1:
            raise ValueError(f"{name} must be >= 1, got {getattr(c, name)}")
    for name in ("learning_starts", "exploration_steps", "eval_every", "eval_episodes"):
        if getattr(c, name) < 0:
            raise ValueError(f"{name} must be >= 0, got {getattr(c, name)}")
    for name in ("eps_start", "eps_end", "gamma"):
        if not 0.0 <= getattr(c, name) <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {getattr(c, name)}")
    if c.lr <= 0:
        raise ValueError(f"lr must be positive, got {c.lr}")
    if c.device not in ("cpu", "cuda") and not c.device.startswith("cuda:"):
        raise ValueError(f"device must be cpu or cuda, got {c.device!r}")
    return c


def to_dict(config: DQNConfig) -> dict[str, Any]:
    return asdict(config)


def from_dict(data: dict[str, Any]) -> DQNConfig:
    names = {f.name for f in fields(DQNConfig)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"unknown config fields in checkpoint: {sorted(unknown)}")
    return DQNConfig(**data)

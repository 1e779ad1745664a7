"""AlphaZero checkpoints: everything a run needs to resume, in one atomic safetensors file.

Tensors: the network (``net/...``), AdamW's moments (``optim/...``), torch's RNG state,
the replay window (``replay/...``) and the self-play games in progress (``worker/...``).
JSON metadata: the run config, the network architecture, counters, NumPy RNG states,
the rating table and the evaluation history. Loading never executes code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.network import NetworkConfig, PolicyValueNet
from agents.checkpoint import CheckpointError, load_checkpoint, load_module

AGENT = "alphazero"
CHECKPOINT = "checkpoint.safetensors"  # a run folder's latest checkpoint


def resolve(path: str | os.PathLike) -> Path:
    """``path`` itself, or the latest checkpoint of a run folder."""
    path = Path(path).expanduser()
    return path / CHECKPOINT if path.is_dir() else path


def read(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata of an AlphaZero checkpoint, a file or a run folder
    (CheckpointError otherwise)."""
    path = resolve(path)
    tensors, meta = load_checkpoint(path)
    missing = [k for k in ("config", "network") if k not in meta]
    if meta.get("agent") != AGENT:
        raise CheckpointError(
            f"{str(path)!r} is a checkpoint of agent {meta.get('agent')!r}, not {AGENT!r}"
        )
    if missing:
        raise CheckpointError(f"{str(path)!r} lacks {missing} in its metadata")
    return tensors, meta


def read_run(path: str | os.PathLike) -> tuple[Path, dict[str, torch.Tensor], dict[str, Any]]:
    """A run's full checkpoint (not an evaluated network's weights-only file)."""
    path = resolve(path)
    tensors, meta = read(path)
    missing = [k for k in ("optimizer", "rng", "replay", "counters") if k not in meta]
    if missing:
        raise CheckpointError(
            f"{str(path)!r} holds a network only (no {', '.join(missing)}); resume from a "
            f"run folder or its {CHECKPOINT}"
        )
    return path, tensors, meta


def load_network(
    path: str | os.PathLike, game: str | None = None
) -> tuple[PolicyValueNet, AlphaZeroConfig, dict[str, Any]]:
    """The network of an AlphaZero checkpoint (in eval mode), its run config and metadata.

    ``game``: the game the caller plays; a checkpoint of another game is refused.
    """
    tensors, meta = read(path)
    try:
        config = AlphaZeroConfig.from_json(meta["config"])
        net_config = NetworkConfig.from_json(meta["network"])
    except (KeyError, TypeError, ValueError) as e:  # readable, but another layout
        raise CheckpointError(f"{str(path)!r} has unusable metadata: {e!r}") from None
    if game is not None and game != config.game:
        raise CheckpointError(
            f"{str(resolve(path))!r} is a {config.game} network; it cannot play {game}"
        )
    net = PolicyValueNet(net_config)
    load_module("net", net, tensors)
    return net.eval(), config, meta

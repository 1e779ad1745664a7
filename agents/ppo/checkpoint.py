"""PPO checkpoints: a whole run (resume) or one policy (evaluation, opponents).

Both are one atomic safetensors file (:mod:`agents.checkpoint`): the policy under
``net/...`` and, in JSON metadata, ``agent = "ppo"``, the policy spec (architecture and
observation layout) and the run config. A run checkpoint adds the optimizer, RNG
states, the snapshot pool (weights under ``pool/<id>/...``), the rating table, the
history and the state of every env source, so a resumed run continues exactly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from agents.checkpoint import CheckpointError, load_checkpoint, load_module
from agents.ppo.network import ActorCritic, PolicySpec, build_policy

AGENT = "ppo"
CHECKPOINT = "checkpoint.safetensors"


def resolve(path: str | os.PathLike) -> Path:
    """``path`` itself, or the latest checkpoint of a run folder."""
    path = Path(path).expanduser()
    return path / CHECKPOINT if path.is_dir() else path


def read(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Tensors and metadata of a PPO checkpoint (CheckpointError otherwise)."""
    path = resolve(path)
    tensors, meta = load_checkpoint(path)
    if meta.get("agent") != AGENT:
        raise CheckpointError(
            f"{str(path)!r} is a checkpoint of agent {meta.get('agent')!r}, not {AGENT!r}"
        )
    return tensors, meta


def check_layout(spec: PolicySpec, expected: PolicySpec, where: str) -> None:
    """CheckpointError if ``spec`` was built for another observation or action layout."""
    got, want = spec.layout(), expected.layout()
    diff = [k for k in want if got[k] != want[k]]
    if diff:
        details = ", ".join(f"{k}: {got[k]!r} vs {want[k]!r}" for k in diff)
        raise CheckpointError(
            f"{where} was trained for another env or observation layout "
            f"({spec.extra.get('env', '?')!r}; checkpoint vs this env: {details})"
        )


def load_policy(
    path: str | os.PathLike, expected: PolicySpec | None = None
) -> tuple[ActorCritic, PolicySpec, dict[str, Any]]:
    """The policy of a PPO checkpoint (eval mode), its spec and metadata. ``expected``:
    the layout the caller's env needs; a checkpoint of another layout is refused."""
    tensors, meta = read(path)
    try:
        spec = PolicySpec.from_json(meta["spec"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{str(resolve(path))!r} has unusable metadata: {e!r}") from None
    if expected is not None:
        check_layout(spec, expected, repr(str(resolve(path))))
    net = build_policy(spec)
    load_module("net", net, tensors)
    return net.eval(), spec, meta

"""Checkpoints that are written atomically and load without executing code.

A checkpoint is one safetensors file: every tensor of the run (weights, optimizer
moments, torch's RNG state, replay arrays...) under a namespaced key, and everything
else (counters, config, optimizer hyperparameters, NumPy RNG states) as JSON in the
file's metadata header. One file means one atomic ``os.replace``: a crash while saving
leaves the previous checkpoint intact, and a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

FORMAT = "simarena-checkpoint-v1"
_META_KEY = "simarena"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, corrupt, or not the one expected."""


def save_checkpoint(
    path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> Path:
    """Write ``tensors`` and the JSON-able ``meta`` to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {_META_KEY: json.dumps({"format": FORMAT, **meta})}
    # safetensors wants contiguous, unshared CPU tensors.
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a checkpoint is a normal file
    try:
        save_file(flat, tmp, metadata=header)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata of a checkpoint; CheckpointError says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {str(path)!r}")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
        meta = json.loads(header[_META_KEY])
    except (SafetensorError, OSError, KeyError, json.JSONDecodeError, RuntimeError) as e:
        raise CheckpointError(
            f"{str(path)!r} is not a readable simarena checkpoint (corrupt or truncated?): {e}"
        ) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} has format {meta.get('format')!r}, not {FORMAT}")
    return tensors, meta


# ---- pieces of a run's state -------------------------------------------------------
def module_tensors(prefix: str, module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {f"{prefix}/{k}": v for k, v in module.state_dict().items()}


def load_module(prefix: str, module: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Load ``module`` from ``tensors``; CheckpointError if the architecture differs."""
    state = {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + "/")}
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise CheckpointError(
            f"the checkpoint's {prefix!r} does not fit this network: {first}"
        ) from None


def optimizer_state(
    prefix: str, optimizer: torch.optim.Optimizer
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """An optimizer's state split into tensors and JSON (its hyperparameters and steps)."""
    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, slots in sd["state"].items():
        for name, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}/{index}/{name}"] = value
            else:
                scalars[f"{index}/{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def load_optimizer(
    prefix: str,
    optimizer: torch.optim.Optimizer,
    tensors: dict[str, torch.Tensor],
    meta: dict[str, Any],
) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "/"):
            index, name = key[len(prefix) + 1 :].split("/", 1)
            state.setdefault(int(index), {})[name] = value
    for key, value in meta["scalars"].items():
        index, name = key.split("/", 1)
        state.setdefault(int(index), {})[name] = value
    try:
        optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError) as e:
        raise CheckpointError(f"the checkpoint's optimizer state does not fit: {e}") from None


def rng_state(
    generator: np.random.Generator | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """torch's CPU RNG state (a tensor) and a NumPy generator's state (JSON)."""
    meta = {"numpy": generator.bit_generator.state if generator is not None else None}
    return {"rng/torch": torch.get_rng_state()}, meta


def restore_rng(
    tensors: dict[str, torch.Tensor],
    meta: dict[str, Any],
    generator: np.random.Generator | None = None,
) -> None:
    torch.set_rng_state(tensors["rng/torch"])
    if generator is not None and meta.get("numpy") is not None:
        generator.bit_generator.state = meta["numpy"]

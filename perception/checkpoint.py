"""Perception checkpoints: safetensors weights plus a JSON header, written atomically.

One file holds the network (``model/...`` tensors) and its :class:`ModelConfig` as
JSON; a training checkpoint adds the optimizer moments, scheduler, RNG states and
step counter under other keys, so :func:`load` reads a model file and a training
checkpoint alike. A file is written under a temporary name, flushed and renamed, so
a crash while saving leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from perception.models import ModelConfig, PerceptionNet, build_model
from sim.driving.scene import CLASS_NAMES

FORMAT = "simarena-perception-v1"
_META_KEY = "simarena-perception"
MODEL_FILE = "model.safetensors"
STATE_FILE = "checkpoint.safetensors"


class CheckpointError(ValueError):
    """A perception checkpoint is missing, unreadable, corrupt, or does not fit."""


def save(path: str | os.PathLike, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> Path:
    """Write ``tensors`` and JSON-able ``meta`` to ``path`` atomically; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {_META_KEY: json.dumps({"format": FORMAT, **meta})}
    flat = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(flat, tmp, metadata=header)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The tensors and metadata of a perception checkpoint; CheckpointError if unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no perception checkpoint at {str(path)!r}")
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
        meta = json.loads(header[_META_KEY])
    except KeyError:
        raise CheckpointError(f"{str(path)!r} is not a perception checkpoint (no header)") from None
    except (SafetensorError, OSError, json.JSONDecodeError, RuntimeError, ValueError) as e:
        raise CheckpointError(
            f"{str(path)!r} is not a readable perception checkpoint (corrupt or truncated?): {e}"
        ) from None
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"{str(path)!r} has format {meta.get('format')!r}, not {FORMAT}")
    return tensors, meta


def model_tensors(model: PerceptionNet) -> dict[str, torch.Tensor]:
    return {f"model/{k}": v for k, v in model.state_dict().items()}


def save_model(path: str | os.PathLike, model: PerceptionNet, **meta: Any) -> Path:
    """Save a network alone (what :func:`load` needs)."""
    return save(path, model_tensors(model), {"model": model.config.to_json(), **meta})


def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint file: ``path`` itself, or the model (else the latest training
    checkpoint) inside a run folder."""
    path = Path(path)
    if path.is_dir():
        for name in (MODEL_FILE, STATE_FILE):
            if (path / name).is_file():
                return path / name
        raise CheckpointError(f"run folder {str(path)!r} holds no {MODEL_FILE} or {STATE_FILE}")
    return path


def model_from(tensors: dict[str, torch.Tensor], meta: dict[str, Any], where: str) -> PerceptionNet:
    """Rebuild the network saved in a checkpoint's tensors and header."""
    if "model" not in meta:
        raise CheckpointError(f"{where} has no model config")
    try:
        config = ModelConfig(**meta["model"])
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{where} holds an invalid model config: {e}") from None
    if "seg" in config.heads and tuple(config.class_names) != CLASS_NAMES:
        raise CheckpointError(
            f"{where} was trained for classes {list(config.class_names)}, but the simulator "
            f"labels are {list(CLASS_NAMES)}"
        )
    try:
        model = build_model(config)
    except ValueError as e:
        raise CheckpointError(f"{where}: {e}") from None
    state = {k[len("model/") :]: v for k, v in tensors.items() if k.startswith("model/")}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).splitlines()[0]
        raise CheckpointError(f"{where}'s weights do not fit its model config: {first}") from None
    return model.eval()


def load(path: str | os.PathLike, image_size: tuple[int, int] | None = None, compile: bool = False):
    """A :class:`perception.predict.Perception` from a checkpoint file or run folder.

    ``image_size`` (H, W), when given, must be the size the model was trained for;
    ``compile``: ``torch.compile`` the inference network (see ``Perception``).
    """
    from perception.predict import Perception

    file = resolve(path)
    tensors, meta = read(file)
    model = model_from(tensors, meta, repr(str(file)))
    if image_size is not None and tuple(image_size) != model.config.image_size:
        raise CheckpointError(
            f"{str(file)!r} was trained on {model.config.image_size[0]}x"
            f"{model.config.image_size[1]} images, not {image_size[0]}x{image_size[1]}"
        )
    return Perception(model, compile=compile)

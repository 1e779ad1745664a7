"""A run folder: where a training run writes its config, TensorBoard logs and checkpoints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch.utils.tensorboard import SummaryWriter


def open_run(run_dir: Path, agent: str, config: dict[str, Any]) -> SummaryWriter:
    """Create ``run_dir``, save ``config.json`` there, say where the run writes, and
    return a TensorBoard writer on ``run_dir/tensorboard``."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(json.dumps(config, indent=2))
    print(f"{agent}: writing to {run_dir}")
    return SummaryWriter(str(run_dir / "tensorboard"))

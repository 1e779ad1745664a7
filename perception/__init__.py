"""Perception trained only on simulator output: segmentation and detection networks,
their data pipeline, metrics, checkpoints and training loop.

``perception.load(path)`` returns a :class:`perception.predict.Perception` whose
``predict(rgb)`` maps uint8 camera images (H, W, 3) or (N, H, W, 3) to per-pixel class
ids in ``sim.driving.LABELS`` order (and boxes, for networks with a detection head).
"""

from __future__ import annotations

from perception.checkpoint import CheckpointError, load
from perception.predict import Perception, Prediction

__all__ = ["CheckpointError", "Perception", "Prediction", "load"]

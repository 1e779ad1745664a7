"""Driving simulator: procedural roads, traffic and ego physics, and a Numba camera
renderer with domain randomization that emits RGB with per-pixel labels, depth,
instance ids and 2D boxes.

:mod:`sim.driving.scene` is the contract between the world and the renderer.
"""

from __future__ import annotations

from sim.driving.scene import CLASS_NAMES, LABELS, NUM_CLASSES, GroundMap, SceneObjects, label_id

__all__ = ["CLASS_NAMES", "LABELS", "NUM_CLASSES", "GroundMap", "SceneObjects", "label_id"]

"""Driving simulator: procedural roads, traffic and ego physics, and a Numba camera
renderer with domain randomization that emits RGB with per-pixel labels, depth,
instance ids and 2D boxes.

:mod:`sim.driving.scene` is the contract between the world (:mod:`world`, :mod:`road`,
:mod:`traffic`, :mod:`vehicle`) and the renderer (:mod:`camera`, :mod:`render`,
:mod:`randomization`).
"""

from __future__ import annotations

from sim.driving.camera import RIGS, Camera, topdown_rig
from sim.driving.randomization import CANONICAL, Randomization, randomization_from
from sim.driving.render import Frame, Renderer
from sim.driving.scene import CLASS_NAMES, LABELS, NUM_CLASSES, GroundMap, SceneObjects, label_id
from sim.driving.world import EGO_ID, STATE_SIZE, World
from sim.driving.world_config import WorldConfig

__all__ = [
    "CANONICAL",
    "CLASS_NAMES",
    "EGO_ID",
    "LABELS",
    "NUM_CLASSES",
    "RIGS",
    "STATE_SIZE",
    "Camera",
    "Frame",
    "GroundMap",
    "Randomization",
    "Renderer",
    "SceneObjects",
    "World",
    "WorldConfig",
    "label_id",
    "randomization_from",
    "topdown_rig",
]

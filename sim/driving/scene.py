"""What the world hands the renderer: the label table, the ground map and the object boxes.

This module is the contract between the world (roads, traffic, ego physics) and the
camera renderer, so each can be built and tested on its own.

Conventions (all SI units)::

    world frame   x east, y north, z up; yaw in radians, counter-clockwise from +x
    ground map    ground[row, col] is the class of the cell whose lower-left corner is
                  (origin_x + col * cell, origin_y + row * cell); rows grow with y
    object boxes  one row per box: (x, y, z, length, width, height, yaw) where (x, y)
                  is the centre of the footprint, z the height of its base, length lies
                  along yaw; instance ids start at 1 (0 is "no instance": ground, sky)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Per-pixel class ids, in the order every label image, model and metric uses.
LABELS: dict[str, int] = {
    "sky": 0,
    "terrain": 1,
    "road": 2,  # drivable surface
    "lane_marking": 3,
    "kerb": 4,  # kerb or shoulder
    "vehicle": 5,
    "pedestrian": 6,
    "obstacle": 7,  # static obstacles and flying distractors
}
CLASS_NAMES: tuple[str, ...] = tuple(sorted(LABELS, key=LABELS.get))
NUM_CLASSES = len(LABELS)
SKY, TERRAIN, ROAD, LANE_MARKING, KERB, VEHICLE, PEDESTRIAN, OBSTACLE = range(NUM_CLASSES)
GROUND_CLASSES = (TERRAIN, ROAD, LANE_MARKING, KERB)
BOX_FIELDS = ("x", "y", "z", "length", "width", "height", "yaw")


def label_id(name: str) -> int:
    """The class id of ``name``; a clear error lists the known names."""
    try:
        return LABELS[name]
    except KeyError:
        raise ValueError(f"unknown class name {name!r}; known: {list(CLASS_NAMES)}") from None


@dataclass(frozen=True)
class GroundMap:
    """The ground as a raster of class ids (terrain, road, lane marking, kerb)."""

    ground: np.ndarray  # uint8[rows, cols] class id per cell
    origin: tuple[float, float]  # world (x, y) of cell (0, 0)'s lower-left corner
    cell: float  # metres per cell side

    def __post_init__(self) -> None:
        g = self.ground
        if not isinstance(g, np.ndarray) or g.ndim != 2 or g.dtype != np.uint8 or g.size == 0:
            raise ValueError("GroundMap.ground must be a non-empty 2-D uint8 array")
        if not self.cell > 0:
            raise ValueError(f"GroundMap.cell must be positive, got {self.cell}")
        # The ground classes are the contiguous ids TERRAIN..KERB; min/max is cheap on big maps.
        lo, hi = int(g.min()), int(g.max())
        if lo < TERRAIN or hi > KERB:
            bad = np.setdiff1d(np.unique(g), GROUND_CLASSES)
            raise ValueError(f"GroundMap.ground holds non-ground class ids {bad.tolist()}")

    def class_at(self, x: float, y: float) -> int:
        """The class at world point (x, y); terrain outside the map."""
        col = int(np.floor((x - self.origin[0]) / self.cell))
        row = int(np.floor((y - self.origin[1]) / self.cell))
        rows, cols = self.ground.shape
        if 0 <= row < rows and 0 <= col < cols:
            return int(self.ground[row, col])
        return TERRAIN


@dataclass(frozen=True)
class SceneObjects:
    """Solid objects of the world as oriented boxes (vehicles, pedestrians, obstacles)."""

    boxes: np.ndarray  # float32[K, 7] see BOX_FIELDS
    classes: np.ndarray  # uint8[K] VEHICLE, PEDESTRIAN or OBSTACLE
    instances: np.ndarray  # int32[K] >= 1, unique
    # Instance id of the ego's own box when the scene holds it (0: it does not). Only
    # top-down views draw it: cameras mounted on the ego never see their own car.
    ego_instance: int = 0

    def __post_init__(self) -> None:
        k = len(self.classes)
        if self.boxes.shape != (k, 7) or self.instances.shape != (k,):
            raise ValueError(
                f"SceneObjects: boxes {self.boxes.shape}, classes ({k},) and instances "
                f"{self.instances.shape} must agree as (K, 7), (K,), (K,)"
            )
        if k and (self.instances.min() < 1 or len(np.unique(self.instances)) != k):
            raise ValueError("SceneObjects: instance ids must be unique and >= 1")
        if self.ego_instance and self.ego_instance not in self.instances:
            raise ValueError(f"SceneObjects: no box has the ego's instance id {self.ego_instance}")

    @staticmethod
    def empty() -> SceneObjects:
        return SceneObjects(
            np.zeros((0, 7), np.float32), np.zeros(0, np.uint8), np.zeros(0, np.int32)
        )

    def __len__(self) -> int:
        return len(self.classes)

"""Cameras mounted on the ego vehicle, and the standard rigs (front, surround, top-down).

A camera's mount is given in the ego frame (x forward, y left, z up, metres, origin on
the ground under the ego's reference point). Angles are radians: ``yaw`` turns left,
``pitch`` positive looks down, ``roll`` turns clockwise as seen from behind the camera.

Perspective cameras are pinhole cameras with square pixels and a horizontal field of
view ``fov_deg``. A ``topdown`` camera is orthographic: it looks straight down from
height ``z`` (its pitch and roll are ignored), shows ``extent`` metres across its width
and turns with ``yaw`` (0: the ego's heading points up the image).

Pixel (row, col) looks along the ray through its centre; depth images hold the planar
depth (distance along the optical axis), which for the top-down camera is the height
below the camera.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["RIGS", "Camera", "front_rig", "surround_rig", "topdown_rig"]


@dataclass(frozen=True)
class Camera:
    """One camera: mount pose in the ego frame, field of view and resolution."""

    name: str
    x: float = 1.2  # metres forward of the ego reference point
    y: float = 0.0  # metres left
    z: float = 1.4  # metres above the ground
    yaw: float = 0.0  # radians, left positive
    pitch: float = 0.0  # radians, positive looks down
    roll: float = 0.0  # radians
    fov_deg: float = 90.0  # horizontal field of view (perspective cameras)
    height: int = 96  # pixels
    width: int = 96  # pixels
    topdown: bool = False  # orthographic, looking straight down
    extent: float = 40.0  # metres across the image width (topdown cameras)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Camera.name must be a non-empty string, got {self.name!r}")
        for field in ("x", "y", "z", "yaw", "pitch", "roll", "fov_deg", "extent"):
            value = getattr(self, field)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"Camera {self.name!r}: {field} must be a finite number")
        if not 0.0 < self.fov_deg < 180.0:
            raise ValueError(
                f"Camera {self.name!r}: fov_deg must lie in (0, 180), got {self.fov_deg}"
            )
        for field in ("height", "width"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"Camera {self.name!r}: {field} must be a positive int, got {value!r}"
                )
        if not self.extent > 0.0:
            raise ValueError(f"Camera {self.name!r}: extent must be positive, got {self.extent}")
        if self.topdown and not self.z > 0.0:
            raise ValueError(
                f"Camera {self.name!r}: a topdown camera needs z > 0 (above the ground), "
                f"got {self.z}"
            )

    @property
    def focal(self) -> float:
        """Focal length in pixels (perspective cameras)."""
        return 0.5 * self.width / math.tan(math.radians(self.fov_deg) / 2)


def front_rig(height: int, width: int) -> list[Camera]:
    """One forward camera behind the windscreen, tilted slightly down."""
    return [Camera("front", 1.2, 0.0, 1.4, 0.0, 0.06, 0.0, 90.0, height, width)]


def surround_rig(height: int, width: int) -> list[Camera]:
    """Six cameras round the car in the manner of Autopilot's: a wide and a narrow camera
    behind the windscreen, two side cameras in the B-pillars looking forward-sideways,
    and two side cameras on the front fenders looking backwards (together they cover the
    rear). Every mount lies inside a 4.6 x 1.9 x 1.5 m ego box, so an ego box in the
    scene never shows in these cameras."""
    d = math.radians
    return [
        Camera("front_wide", 1.2, 0.0, 1.4, 0.0, 0.06, 0.0, 120.0, height, width),
        Camera("front_narrow", 1.2, 0.0, 1.4, 0.0, 0.03, 0.0, 35.0, height, width),
        Camera("left_pillar", 0.3, 0.85, 1.3, d(60), 0.08, 0.0, 90.0, height, width),
        Camera("right_pillar", 0.3, -0.85, 1.3, d(-60), 0.08, 0.0, 90.0, height, width),
        Camera("left_repeater", 1.5, 0.9, 0.9, d(140), 0.05, 0.0, 90.0, height, width),
        Camera("right_repeater", 1.5, -0.9, 0.9, d(-140), 0.05, 0.0, 90.0, height, width),
    ]


def topdown_rig(
    height: int, width: int, *, altitude: float = 50.0, extent: float = 40.0, ahead: float = 8.0
) -> list[Camera]:
    """A top-down chase camera ``altitude`` metres above the ego, ``extent`` metres across
    (the zoom), centred ``ahead`` metres in front of the ego, heading up."""
    return [
        Camera(
            "topdown",
            ahead,
            0.0,
            altitude,
            0.0,
            math.pi / 2,
            0.0,
            60.0,
            height,
            width,
            topdown=True,
            extent=extent,
        )  # fmt: skip
    ]


RIGS: dict[str, Callable[[int, int], list[Camera]]] = {
    "front": front_rig,
    "surround": surround_rig,
    "topdown": topdown_rig,
}

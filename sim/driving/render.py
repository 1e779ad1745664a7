"""The camera renderer: RGB, per-pixel labels, depth, instance ids and 2-D boxes of a
world (:class:`~sim.driving.scene.GroundMap` and :class:`~sim.driving.scene.SceneObjects`)
seen by a rig of cameras on the ego vehicle, with domain randomization.

The ground is flat (z = 0) and its class comes from the ground map under each pixel's
ray, so labels are exact; objects are oriented boxes, z-buffered. Every box in the scene
is drawn except from a camera inside it, and except the ego's own box
(``SceneObjects.ego_instance``) in perspective cameras: they are mounted on the ego,
and mount jitter can lift one out of the ego's box, where it would see its own roof
labelled as a vehicle. The top-down view shows the ego. Flying distractors are boxes of
class "obstacle" with instance ids from ``DISTRACTOR_INSTANCE_BASE``; they move with the
ego.

Boxes are given for vehicles and pedestrians with at least one pixel in view, as
(x0, y0, x1, y1) pixel edges (x1, y1 exclusive) round the pixels the object would cover
with nothing in front of it; ``visible`` is the fraction of those pixels it does cover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.driving.camera import Camera
from sim.driving.randomization import GROUPS, Randomization, Style, sample_style
from sim.driving.raster import frame_setup, render_view
from sim.driving.scene import GroundMap, SceneObjects

__all__ = ["DISTRACTOR_INSTANCE_BASE", "Frame", "Renderer"]

DISTRACTOR_INSTANCE_BASE = 1 << 24


@dataclass
class Frame:
    """One camera's picture of the scene and its labels."""

    rgb: np.ndarray  # uint8[H, W, 3]
    labels: np.ndarray  # uint8[H, W] ids of scene.LABELS
    depth: np.ndarray  # float32[H, W] planar depth in metres, inf for sky
    instances: np.ndarray  # int32[H, W] instance id, 0 for ground and sky
    boxes: np.ndarray  # float32[N, 4] x0, y0, x1, y1 in pixels (vehicles, pedestrians)
    box_classes: np.ndarray  # uint8[N]
    box_instances: np.ndarray  # int32[N]
    visible: np.ndarray  # float32[N] visible pixels / pixels covered unoccluded
    camera: str = ""  # the camera's name


class Renderer:
    """Renders a rig of cameras with a randomization config.

    Arguments:
        cameras: the rig (see :data:`sim.driving.camera.RIGS`); names must be unique.
        randomization: what to randomize (see :mod:`sim.driving.randomization`).

    ``render`` resamples the randomized aspects when ``new_episode`` is true (and on the
    first call), and the aspects in ``randomization.per_frame`` on every call; all draws
    derive from the ``rng`` passed in (two integers per episode's first frame, one per
    later frame), so the same generator state gives the same frames.
    """

    def __init__(self, cameras: list[Camera], randomization: Randomization) -> None:
        cameras = list(cameras)
        if not cameras:
            raise ValueError("Renderer needs at least one camera")
        for cam in cameras:
            if not isinstance(cam, Camera):
                raise ValueError(f"Renderer cameras must be Camera objects, got {type(cam)}")
        names = [c.name for c in cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"Renderer camera names must be unique, got {names}")
        if not isinstance(randomization, Randomization):
            raise ValueError(
                "Renderer randomization must be a Randomization (see randomization_from), "
                f"got {type(randomization).__name__}"
            )
        self.cameras = cameras
        self.randomization = randomization
        self._mounts = np.array(
            [
                [
                    c.x,
                    c.y,
                    c.z,
                    c.yaw,
                    c.pitch,
                    c.roll,
                    c.fov_deg,
                    c.extent,
                    float(c.topdown),
                    c.width,
                ]
                for c in cameras
            ],  # fmt: skip
            dtype=np.float64,
        )
        self._scratch = [
            (
                np.zeros((c.height, c.width, 3), np.float32),
                np.zeros((c.height, c.width, 3), np.float32),
                np.zeros((c.height, c.width), np.int32),
            )
            for c in cameras
        ]
        self._per_frame = tuple(g for g in GROUPS if g in randomization.per_frame)
        self.style: Style | None = None

    def render(
        self,
        ground: GroundMap,
        objects: SceneObjects,
        ego_pose: tuple[float, float, float],
        rng: np.random.Generator,
        new_episode: bool,
    ) -> list[Frame]:
        """One frame per camera of the scene seen from the ego at (x, y, yaw)."""
        if not isinstance(ground, GroundMap) or not isinstance(objects, SceneObjects):
            raise ValueError("Renderer.render needs a GroundMap and a SceneObjects")
        if len(ego_pose) != 3 or not all(np.isfinite(ego_pose)):
            raise ValueError(f"ego_pose must be finite (x, y, yaw), got {ego_pose!r}")
        if new_episode or self.style is None:
            self.style = sample_style(
                self.randomization, self.cameras, int(rng.integers(1 << 62)), self.style
            )
        frame_seed = int(rng.integers(1 << 62))
        style = self.style
        if self._per_frame:
            sample_style(self.randomization, self.cameras, frame_seed, style, self._per_frame)
        g = ground.ground if ground.ground.flags.c_contiguous else np.ascontiguousarray(
            ground.ground
        )  # fmt: skip
        gmeta = np.array([ground.origin[0], ground.origin[1], 1.0 / ground.cell])
        cams, objs, lights = frame_setup(
            np.asarray(ego_pose, np.float64),
            self._mounts,
            style.jitter,
            np.asarray(objects.boxes, np.float32),
            np.asarray(objects.classes, np.uint8),
            np.asarray(objects.instances, np.int32),
            style.distractors,
            DISTRACTOR_INSTANCE_BASE,
            style.lights,
        )
        # Cameras mounted on the ego never see its body (see the module docstring).
        mounted_objs = objs[objs[:, 16] != objects.ego_instance] if objects.ego_instance else objs
        frames = []
        for i, cam in enumerate(self.cameras):
            h, w = cam.height, cam.width
            rgb = np.empty((h, w, 3), np.uint8)
            labels = np.empty((h, w), np.uint8)
            depth = np.empty((h, w), np.float32)
            inst = np.empty((h, w), np.int32)
            fbuf, tmp, objidx = self._scratch[i]
            seen = objs if cam.topdown else mounted_objs
            boxes, box_cls, box_inst, visible = render_view(
                cams[i], g, gmeta, seen, style.all_mats, lights, style.ambient, style.paint,
                style.post, (frame_seed + i) & 0x7FFFFFFF, fbuf, tmp, objidx, rgb, labels,
                depth, inst,
            )  # fmt: skip
            frames.append(
                Frame(rgb, labels, depth, inst, boxes, box_cls, box_inst, visible, cam.name)
            )
        return frames

"""Driving from the camera alone: ``simarena/Drive-v0``'s front camera turned into a
policy's image, either through a frozen perception network or as raw pixels.

:class:`CameraView` replaces the camera frame by a small channels-first uint8 image:

* ``"segmentation"``: the class ids a frozen :class:`perception.Perception` predicts,
  as per-class pixel counts in each ``pool`` x ``pool`` cell (``NUM_CLASSES`` planes,
  0..pool^2: a thin lane marking still shows as a few pixels of its cell);
* ``"labels"``: the same from the simulator's true labels (the upper bound of the
  perception route: a perfect perception network);
* ``"pixels"``: the RGB frame averaged over the same cells (3 planes, 0..255).

:func:`make_camera_drive` stacks the last ``frame_stack`` views into channels (speed and
closing speeds are visible only across frames) and is registered as
``perception/CameraDrive-v0``; make it through this module so the id is registered::

    gymnasium.make("perception.driving:perception/CameraDrive-v0", view="pixels")

PPO's :class:`agents.ppo.gym_source.GymSource` takes such an env as it takes any other
(a uint8 (C, H, W) Box is an image for its CNN policy), so a checkpoint records the id
and options and ``scripts/evaluate_drive.py`` rebuilds the same env.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.wrappers import FrameStackObservation, ReshapeObservation

from sim.driving.scene import NUM_CLASSES

CAMERA_DRIVE_ID = "perception/CameraDrive-v0"
MAKE_ID = f"perception.driving:{CAMERA_DRIVE_ID}"
VIEWS = ("segmentation", "labels", "pixels")


def class_counts(labels: np.ndarray, pool: int) -> np.ndarray:
    """(NUM_CLASSES, H / pool, W / pool) uint8: pixels of each class per cell of a
    (H, W) class-id image."""
    h, w = labels.shape
    one_hot = labels[None] == np.arange(NUM_CLASSES, dtype=labels.dtype)[:, None, None]
    cells = one_hot.reshape(NUM_CLASSES, h // pool, pool, w // pool, pool)
    return cells.sum(axis=(2, 4), dtype=np.uint8)


def pooled_pixels(rgb: np.ndarray, pool: int) -> np.ndarray:
    """(3, H / pool, W / pool) uint8: the mean colour of each cell of a (H, W, 3) image."""
    h, w, _ = rgb.shape
    cells = rgb.reshape(h // pool, pool, w // pool, pool, 3).mean(axis=(1, 3))
    return np.ascontiguousarray(np.rint(cells).astype(np.uint8).transpose(2, 0, 1))


class CameraView(gymnasium.ObservationWrapper):
    """The front camera of a ``simarena/Drive-v0`` env as a small channels-first image
    (see the module docstring). ``perception``: a :class:`perception.Perception`, or a
    checkpoint file or run folder to load it from (view ``"segmentation"`` only)."""

    def __init__(
        self, env: gymnasium.Env, view: str = "segmentation", perception: Any = None,
        pool: int = 4,
    ) -> None:  # fmt: skip
        super().__init__(env)
        if view not in VIEWS:
            raise ValueError(f"view must be one of {list(VIEWS)}, got {view!r}")
        u = env.unwrapped
        want = "rgb_labels" if view == "labels" else "rgb"
        if getattr(u, "obs_mode", None) != want or getattr(u, "camera", None) == "surround":
            raise ValueError(
                f"view {view!r} needs a one-camera Drive-v0 env with obs_mode {want!r}, got "
                f"obs_mode {getattr(u, 'obs_mode', None)!r}, camera {getattr(u, 'camera', None)!r}"
            )
        h, w = u.resolution
        if isinstance(pool, bool) or not isinstance(pool, int) or pool < 1 or h % pool or w % pool:
            raise ValueError(
                f"pool must be an int >= 1 dividing the resolution {h}x{w}, got {pool!r}"
            )
        if view != "pixels" and pool * pool > 255:
            raise ValueError(f"pool must be at most 15 for class counts in uint8, got {pool}")
        if view != "segmentation" and perception is not None:
            raise ValueError(f"view {view!r} takes no perception model (only 'segmentation')")
        if view == "segmentation":
            if perception is None:
                raise ValueError("view 'segmentation' needs a perception model (perception=PATH)")
            if isinstance(perception, str) or hasattr(perception, "__fspath__"):
                from perception.checkpoint import load

                perception = load(perception, image_size=(h, w))
            elif tuple(perception.image_size) != (h, w):
                raise ValueError(
                    f"the perception model takes {perception.image_size} images, the camera "
                    f"gives {(h, w)}"
                )
        self.view, self.pool, self.perception = view, pool, perception
        if view == "pixels":
            self.observation_space = spaces.Box(0, 255, (3, h // pool, w // pool), np.uint8)
        else:
            shape = (NUM_CLASSES, h // pool, w // pool)
            self.observation_space = spaces.Box(0, pool * pool, shape, np.uint8)

    def observation(self, observation: Any) -> np.ndarray:
        if self.view == "pixels":
            return pooled_pixels(observation, self.pool)
        if self.view == "labels":
            return class_counts(observation["labels"], self.pool)
        return class_counts(self.perception.predict(observation).labels, self.pool)


def make_camera_drive(
    view: str = "segmentation",
    perception: Any = None,
    pool: int = 4,
    frame_stack: int = 2,
    action_type: str = "discrete",
    **drive_options: Any,
) -> gymnasium.Env:
    """``simarena/Drive-v0`` seen through :class:`CameraView`, the last ``frame_stack``
    views stacked into channels: a uint8 Box (frame_stack * planes, H / pool, W / pool).
    ``drive_options``: Drive-v0's own arguments (``randomization``, ``resolution``,
    ``traffic_density``, ...; the camera is the front one)."""
    from envs.driving.env import DriveEnv

    if isinstance(frame_stack, bool) or not isinstance(frame_stack, int) or frame_stack < 1:
        raise ValueError(f"frame_stack must be an int >= 1, got {frame_stack!r}")
    for key in ("obs_mode", "camera"):
        if key in drive_options:
            raise ValueError(f"{key} is set by the view, not an option of {CAMERA_DRIVE_ID}")
    obs_mode = "rgb_labels" if view == "labels" else "rgb"
    env: gymnasium.Env = DriveEnv(
        obs_mode=obs_mode, camera="front", action_type=action_type, **drive_options
    )
    env = CameraView(env, view, perception, pool)
    if frame_stack > 1:
        c, h, w = env.observation_space.shape
        env = FrameStackObservation(env, frame_stack)
        env = ReshapeObservation(env, (frame_stack * c, h, w))
    return env


if CAMERA_DRIVE_ID not in gymnasium.registry:
    gymnasium.register(
        CAMERA_DRIVE_ID,
        entry_point=make_camera_drive,
        disable_env_checker=False,
        kwargs={},
    )

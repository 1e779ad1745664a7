"""``simarena/Drive-v0``: drive a procedural multi-lane road through traffic from a state
vector, a lidar scan or randomized, labelled camera images."""

from __future__ import annotations

import math
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from sim.driving.randomization import Randomization, randomization_from
from sim.driving.scene import NUM_CLASSES
from sim.driving.world import EGO_ID, STATE_SIZE, World
from sim.driving.world_config import WorldConfig

OBS_MODES = ("state", "lidar", "rgb", "rgb_labels")
CAMERAS = ("front", "surround", "topdown")
ACTION_TYPES = ("continuous", "discrete")
RENDER_MODES = ["human", "rgb_array"]
# Discrete actions: (steer, throttle) pairs, steer left positive, throttle < 0 brakes.
# Steer 0.05 (0.0275 rad) is what the road's sharpest curves (1/100 m) need, 0.15 a lane
# change, 0.4 and 1 (full lock) evasive swerves and turning out from behind an obstacle;
# throttle -1 brakes hard, -0.3 gently (holding a gap).
DISCRETE_STEER = (-1.0, -0.4, -0.15, -0.05, 0.0, 0.05, 0.15, 0.4, 1.0)
DISCRETE_THROTTLE = (-1.0, -0.3, 0.0, 0.5)
DISCRETE_ACTIONS = np.array(
    [(steer, accel) for accel in DISCRETE_THROTTLE for steer in DISCRETE_STEER],
    dtype=np.float32,
)
DEFAULT_REWARD_WEIGHTS: dict[str, float] = {
    "progress": 0.1,  # per metre of route progress
    "lane": 0.05,  # times (lane offset / half lane width)^2, subtracted per step
    "speed": 0.05,  # times max(0, 1 - |v - target| / target) per step
    # A crash costs more than a whole route earns (about 37 progress + 15 speed + 5), so
    # no gain in speed pays for the risk of one.
    "collision": 60.0,  # subtracted once, on a crash
    "off_road": 60.0,  # subtracted once, on leaving the road
    "complete": 5.0,  # added once, on completing the route
}
STATE_BOUND = 5.0
WORLD_OVERRIDES = (
    "lanes",
    "road_length",
    "curvature",
    "junctions",
    "traffic_density",
    "pedestrians",
    "obstacles",
)


def _choice(name: str, value: object, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")


class DriveEnv(gymnasium.Env):
    """Drive the ego car along a procedural multi-lane road through traffic.

    ## Description

    Each episode builds a seeded world (:class:`sim.driving.world.World`): a curvy road
    of ``lanes`` lanes (all in the direction of travel) with lane markings, kerbs and
    optional junctions; traffic that follows its lanes (IDM car following, MOBIL lane
    changes); pedestrians on the shoulders who now and then cross; static obstacles in
    the lanes. The ego, a kinematic bicycle, starts 20 m along the road in a random lane
    at 10 m/s and must drive the route to its end without crashing or leaving the road.
    The class table of the label images is ``sim.driving.LABELS``.

    ## Action Space

    ``action_type="continuous"`` (default): ``Box(-1, 1, (2,), float32)``: steering
    (left positive, times ``max_steer`` = 0.55 rad) and throttle (positive accelerates
    up to 3 m/s^2, negative brakes up to 8 m/s^2). Out-of-range values are clipped, or
    rejected with a ValueError (env unchanged) when ``strict=True``; non-finite values
    are always rejected. ``action_type="discrete"``: ``Discrete(36)``, the rows of
    :data:`DISCRETE_ACTIONS`: steer -1, -0.4, -0.15, -0.05, 0, 0.05, 0.15, 0.4, 1
    (fastest varying) times throttle -1, -0.3, 0, 0.5.

    ## Observation Space

    * ``"state"``: ``Box(-5, 5, (69,), float32)`` (:data:`sim.driving.world.STATE_SIZE`):
      speed / 20 m/s, lateral offset / road half width, lane offset / half lane width,
      sin and cos of the heading error, route progress (s / length), 50 x road curvature
      at 0, 10, 20, 35 and 50 m ahead; for the six nearest objects within 60 m
      (vehicles, pedestrians, obstacles; nearest first) dx, dy in the ego frame / 60 m,
      relative velocity dvx, dvy / 20 m/s and a present flag (zeros when absent); the
      lane index / (lanes - 1); for the ego's lane, the lane to its left and the one to
      its right: exists, the bumper-to-bumper gap to the nearest thing ahead in it / 60 m
      (1 when none), its closing speed / 20 m/s, the gap to the nearest thing behind /
      60 m and its closing speed (a missing lane reads all zeros: blocked); then the six
      slots' length / 10 m and width / 5 m (a truck, a car, a pedestrian, an obstacle).
      See :meth:`World.state_vector`.
    * ``"lidar"``: ``Box(0, ., (lidar_beams + 3,), float32)``: ``lidar_beams`` ranges /
      ``lidar_range`` of rays from the ego centre (beam 0 straight ahead, then
      counter-clockwise) against object boxes and the road edges, then speed / 20 m/s
      and sin, cos of the heading error.
    * ``"rgb"``: uint8 camera images of the rig ``camera`` at ``resolution=(H, W)``:
      ``(H, W, 3)`` for a one-camera rig (``"front"``, ``"topdown"``) and
      ``(n_cams, H, W, 3)`` for several (``"surround"``: 6).
    * ``"rgb_labels"``: ``Dict(rgb=..., labels=...)``, ``labels`` uint8 class ids of
      ``sim.driving.LABELS`` per pixel, ``(H, W)`` or ``(n_cams, H, W)``.

    Image modes put the labelled 2D boxes of vehicles and pedestrians in ``info``:
    ``boxes`` float32 (N, 4) pixel (x0, y0, x1, y1), ``box_classes`` uint8,
    ``box_instances`` int32, ``box_visible`` float32 (visible fraction) and
    ``box_camera`` int32 (camera index), over all cameras. The ego (instance 1) is part
    of the scene: the top-down chase camera shows and boxes it, the cameras mounted in
    the car do not see it.

    ## Rewards

    Per step, with ``reward_weights`` (defaults :data:`DEFAULT_REWARD_WEIGHTS`):
    ``progress`` x metres of route progress, minus ``lane`` x (offset from the nearest
    lane centre / half lane width)^2, plus ``speed`` x max(0, 1 - |v - target_speed| /
    target_speed); minus ``collision`` on a crash, minus ``off_road`` on leaving the
    road, plus ``complete`` on completing the route.

    ## Episode End

    Termination on a collision of the ego's box with any vehicle, pedestrian or
    obstacle (``info["collision"]`` the instance id), on leaving the road (the ego's
    centre beyond the road edge, onto the shoulder), or on completing the route (within
    ``end_margin`` = 10 m of the road's end). Truncation after ``max_steps`` steps.

    ## Arguments

    ``obs_mode`` (``"state"``, ``"lidar"``, ``"rgb"``, ``"rgb_labels"``), ``camera``
    (``"front"``, ``"surround"``, ``"topdown"``), ``resolution`` ((H, W), (96, 96)),
    ``randomization`` (``"full"``, ``"off"``, ``"canonical"`` or a
    :class:`sim.driving.randomization.Randomization`; besides the image style it scales
    the traffic density per episode by its ``traffic`` range), ``action_type``
    (``"continuous"``, ``"discrete"``), ``strict`` (False), ``config`` (a
    :class:`sim.driving.world_config.WorldConfig`), the map and traffic overrides
    ``lanes``, ``road_length``, ``curvature``, ``junctions``, ``traffic_density``,
    ``pedestrians``, ``obstacles`` (None keeps the config's), ``map_seed`` (an int fixes
    the road for every episode; None draws a new road per episode), ``max_steps``
    (1000), ``target_speed`` (15 m/s), ``lidar_beams`` (32), ``lidar_range`` (50 m),
    ``reward_weights``, ``render_mode`` (``"human"``, ``"rgb_array"``: a bird's-eye
    view beside the camera views). Everything random follows ``reset(seed=...)``.

    ## Version History

    * v0: Initial version. Before release: the state vector gained the lane features
      (lane index; gaps and closing speeds ahead and behind in the own and neighbouring
      lanes) and the object slots' sizes (41 -> 69 features); the discrete actions grew
      from 15 (steer 0, +-0.15, +-0.5 x throttle -0.8, 0, 0.5) to 36, since the
      smallest steer was three times what curves need (the policy chattered) and the
      largest too small to turn out from close behind an obstacle (the scripted driver
      completes 96.5% of routes with them, 93.0% with steer 0, +-0.05, +-0.15, +-0.5); the
      collision and off-road penalties went from 10 to 60, more than a whole route
      earns (a crash was cheaper than the time saved by speeding).
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES, "render_fps": 10}

    def __init__(
        self,
        obs_mode: str = "state",
        camera: str = "front",
        resolution: tuple[int, int] = (96, 96),
        randomization: str | Randomization = "full",
        action_type: str = "continuous",
        strict: bool = False,
        config: WorldConfig | None = None,
        lanes: int | None = None,
        road_length: float | None = None,
        curvature: float | None = None,
        junctions: int | None = None,
        traffic_density: float | None = None,
        pedestrians: int | None = None,
        obstacles: int | None = None,
        map_seed: int | None = None,
        max_steps: int = 1000,
        target_speed: float = 15.0,
        lidar_beams: int = 32,
        lidar_range: float = 50.0,
        reward_weights: dict[str, float] | None = None,
        render_mode: str | None = None,
    ) -> None:
        _choice("obs_mode", obs_mode, OBS_MODES)
        _choice("camera", camera, CAMERAS)
        _choice("action_type", action_type, ACTION_TYPES)
        if render_mode is not None:
            _choice("render_mode", render_mode, RENDER_MODES)
        if (
            not isinstance(resolution, (tuple, list))
            or len(resolution) != 2
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 8 for v in resolution)
        ):
            raise ValueError(f"resolution must be (H, W) of ints >= 8, got {resolution!r}")
        if config is not None and not isinstance(config, WorldConfig):
            raise ValueError(f"config must be a WorldConfig, got {type(config).__name__}")
        for name, value, lo in (("max_steps", max_steps, 1), ("lidar_beams", lidar_beams, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < lo:
                raise ValueError(f"{name} must be an int >= {lo}, got {value!r}")
        for name, value in (("target_speed", target_speed), ("lidar_range", lidar_range)):
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive number, got {value!r}")
        weights = dict(DEFAULT_REWARD_WEIGHTS)
        if reward_weights is not None:
            unknown = set(reward_weights) - set(weights)
            if unknown:
                raise ValueError(
                    f"unknown reward_weights keys {sorted(unknown)}; known: {list(weights)}"
                )
            weights.update({k: float(v) for k, v in reward_weights.items()})
        cfg = config if config is not None else WorldConfig()
        local = locals()
        overrides = {k: local[k] for k in WORLD_OVERRIDES if local[k] is not None}
        if overrides:
            cfg = cfg.replace(**overrides)
        self.randomization = randomization_from(randomization)
        self.config = cfg
        self.obs_mode = obs_mode
        self.camera = camera
        self.resolution = (int(resolution[0]), int(resolution[1]))
        self.action_type = action_type
        self.strict = bool(strict)
        self.max_steps = max_steps
        self.target_speed = float(target_speed)
        self.lidar_beams = lidar_beams
        self.lidar_range = float(lidar_range)
        self.reward_weights = weights
        self.render_mode = render_mode
        self.world = World(cfg, seed=0, map_seed=map_seed)

        if action_type == "continuous":
            self.action_space = spaces.Box(-1.0, 1.0, (2,), np.float32)
        else:
            self.action_space = spaces.Discrete(len(DISCRETE_ACTIONS))
        self._renderer = None
        self._frames: list = []
        h, w = self.resolution
        if obs_mode in ("rgb", "rgb_labels") or render_mode is not None:
            from sim.driving.camera import RIGS
            from sim.driving.render import Renderer

            self._renderer = Renderer(RIGS[camera](h, w), self.randomization)
        if obs_mode == "state":
            self.observation_space = spaces.Box(
                -STATE_BOUND, STATE_BOUND, (STATE_SIZE,), np.float32
            )
        elif obs_mode == "lidar":
            low = np.zeros(lidar_beams + 3, np.float32)
            high = np.ones(lidar_beams + 3, np.float32)
            high[lidar_beams] = cfg.max_speed / 20.0
            low[lidar_beams + 1 :] = -1.0
            self.observation_space = spaces.Box(low, high, dtype=np.float32)
        else:
            n = len(self._renderer.cameras)
            lead = (n,) if n > 1 else ()
            rgb = spaces.Box(0, 255, (*lead, h, w, 3), np.uint8)
            if obs_mode == "rgb":
                self.observation_space = rgb
            else:
                labels = spaces.Box(0, NUM_CLASSES - 1, (*lead, h, w), np.uint8)
                self.observation_space = spaces.Dict({"rgb": rgb, "labels": labels})
        self._render_rng = np.random.default_rng(0)
        self._window = None
        self._steps = 0
        self._done = False

    # ---- observations --------------------------------------------------------------
    def _render_frames(self, new_episode: bool) -> None:
        w = self.world
        self._frames = self._renderer.render(
            w.ground, w.objects(include_ego=True), w.ego_pose, self._render_rng, new_episode
        )

    def _obs(self):
        w = self.world
        if self.obs_mode == "state":
            return w.state_vector(bound=STATE_BOUND)
        if self.obs_mode == "lidar":
            n = self.lidar_beams
            out = np.empty(n + 3, np.float32)
            out[:n] = w.lidar(n, self.lidar_range) / self.lidar_range
            out[n] = w.speed / 20.0
            out[n + 1] = math.sin(w.heading_error)
            out[n + 2] = math.cos(w.heading_error)
            return out
        rgb = np.stack([f.rgb for f in self._frames])
        if len(self._frames) == 1:
            rgb = rgb[0]
        if self.obs_mode == "rgb":
            return rgb
        labels = np.stack([f.labels for f in self._frames])
        if len(self._frames) == 1:
            labels = labels[0]
        return {"rgb": rgb, "labels": labels}

    def _info(self) -> dict[str, Any]:
        w = self.world
        info: dict[str, Any] = {
            "s": w.s,
            "d": w.d,
            "heading_error": w.heading_error,
            "speed": w.speed,
            "progress": w.s / w.road.length,
            "lane_offset": w.lane_offset,
            "collision": w.collision,
            "off_road": w.off_road,
            "route_complete": w.route_complete,
            "ego_pose": w.ego_pose,
        }
        if w.collision:
            info["collision_class"] = w.instance_class(w.collision)
        if self.obs_mode in ("rgb", "rgb_labels"):
            f = self._frames
            info["boxes"] = np.concatenate([x.boxes for x in f]).reshape(-1, 4)
            info["box_classes"] = np.concatenate([x.box_classes for x in f])
            info["box_instances"] = np.concatenate([x.box_instances for x in f])
            info["box_visible"] = np.concatenate([x.visible for x in f])
            info["box_camera"] = np.concatenate(
                [np.full(len(x.box_classes), i, np.int32) for i, x in enumerate(f)]
            )
        return info

    # ---- API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        world_seed = int(self.np_random.integers(1 << 62))
        scale = self.randomization.sample_traffic(self.np_random)
        self._render_rng = np.random.default_rng(int(self.np_random.integers(1 << 62)))
        self.world.reset(world_seed, traffic_scale=scale)
        self._steps = 0
        self._done = False
        if self.obs_mode in ("rgb", "rgb_labels"):
            self._render_frames(new_episode=True)
        elif self._renderer is not None:
            self._frames = []  # rendered on demand by render()
        self._new_display_episode = True
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._info()

    def _controls(self, action) -> tuple[float, float]:
        """(steer, throttle) of ``action``, checked before anything changes."""
        if self.action_type == "discrete":
            a = np.asarray(action)
            if a.shape != () or not np.issubdtype(a.dtype, np.integer):
                raise ValueError(f"discrete action must be an int, got {action!r}")
            if not 0 <= int(a) < len(DISCRETE_ACTIONS):
                raise ValueError(
                    f"discrete action must be in [0, {len(DISCRETE_ACTIONS)}), got {int(a)}"
                )
            steer, throttle = DISCRETE_ACTIONS[int(a)]
            return float(steer), float(throttle)
        if isinstance(action, np.ndarray) and action.shape == (2,) and action.dtype.kind == "f":
            steer, throttle = float(action[0]), float(action[1])  # the fast path
        else:
            try:
                a = np.asarray(action, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(
                    f"action must be 2 numbers (steer, throttle), got {action!r}"
                ) from None
            if a.shape != (2,):
                raise ValueError(f"action must have shape (2,) (steer, throttle), got {a.shape}")
            steer, throttle = float(a[0]), float(a[1])
        if not (math.isfinite(steer) and math.isfinite(throttle)):
            raise ValueError(f"action must be finite, got {[steer, throttle]}")
        if abs(steer) > 1.0 or abs(throttle) > 1.0:
            if self.strict:
                raise ValueError(
                    f"action {[steer, throttle]} is outside the action space [-1, 1]^2 "
                    "(strict=True; with strict=False it would be clipped)"
                )
            steer = min(max(steer, -1.0), 1.0)
            throttle = min(max(throttle, -1.0), 1.0)
        return steer, throttle

    def step(self, action):
        steer, throttle = self._controls(action)
        if self._done:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        w = self.world
        w.step(steer, throttle)
        self._steps += 1
        rw = self.reward_weights
        lane = w.lane_offset / (0.5 * self.config.lane_width)
        speed_term = max(0.0, 1.0 - abs(w.speed - self.target_speed) / self.target_speed)
        reward = (
            rw["progress"] * w.progress_delta - rw["lane"] * lane * lane + rw["speed"] * speed_term
        )
        collided = w.collision != 0
        off_road = w.off_road
        complete = w.route_complete and not collided and not off_road
        if collided:
            reward -= rw["collision"]
        if off_road:
            reward -= rw["off_road"]
        if complete:
            reward += rw["complete"]
        terminated = collided or off_road or complete
        truncated = not terminated and self._steps >= self.max_steps
        self._done = terminated or truncated
        if self.obs_mode in ("rgb", "rgb_labels"):
            self._render_frames(new_episode=False)
        elif self._renderer is not None:
            self._frames = []
        obs = self._obs()
        info = self._info()
        if self.render_mode == "human":
            self.render()
        return obs, float(reward), terminated, truncated, info

    def render(self):
        if self.render_mode is None:
            gymnasium.logger.warn("render() called without a render_mode; nothing to render")
            return None
        from envs.driving.birdseye import Window, birdseye, compose

        if not self._frames and self._renderer is not None:
            self._render_frames(new_episode=self._new_display_episode)
        self._new_display_episode = False
        frame = compose(birdseye(self.world), [f.rgb for f in self._frames])
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            self._window = Window("simarena Drive-v0", self.metadata["render_fps"])
        self._window.show(frame)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    # ---- helpers -------------------------------------------------------------------
    def get_state(self) -> dict:
        """A copy of the dynamic state (world and step counter), for tests and search."""
        state = self.world.get_state()
        state["env"] = np.array([self._steps, int(self._done)], np.int64)
        return state

    @property
    def ego_instance(self) -> int:
        return EGO_ID

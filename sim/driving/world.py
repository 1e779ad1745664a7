"""The driving world: a seeded route road with its ground map, traffic, pedestrians,
obstacles and the ego; one fused Numba kernel per step.

``World.step(steer, throttle)`` moves the ego (kinematic bicycle), projects it onto the
route (arc length ``s``, lateral offset ``d``, heading error), advances traffic and
pedestrians and checks the ego's box against every object (SAT). ``objects()`` hands the
renderer oriented boxes with stable instance ids (1 is the ego, then vehicles,
pedestrians, obstacles, each keeping its id for the episode); ``ground`` is the
rasterized road. The state is a handful of arrays (:meth:`get_state`,
:meth:`set_state`), and a step is a pure function of it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.driving.road import Road, curvature_at, frenet_to_world, generate_road, project
from sim.driving.road import rasterize as rasterize_road
from sim.driving.scene import OBSTACLE, PEDESTRIAN, VEHICLE, GroundMap, SceneObjects
from sim.driving.traffic import (
    MIN_OVERLAP,
    O_D,
    O_HEI,
    O_LEN,
    O_S,
    O_WID,
    O_X,
    O_Y,
    O_YAW,
    P_ACTIVE,
    P_D,
    P_HEI,
    P_LEN,
    P_MODE,
    P_S,
    P_VD,
    P_VS,
    P_WID,
    P_X,
    P_Y,
    P_YAW,
    PR_DT,
    PR_EGO_L,
    PR_EGO_W,
    PR_HW,
    PR_MAX_ACCEL,
    PR_MAX_BRAKE,
    PR_MAX_SPEED,
    PR_MAX_STEER,
    PR_WHEELBASE,
    V_ACTIVE,
    V_D,
    V_HEI,
    V_LEN,
    V_S,
    V_V,
    V_VD,
    V_WID,
    V_X,
    V_Y,
    V_YAW,
    WALK,
    make_params,
    new_rng_state,
    spawn_obstacles,
    spawn_pedestrians,
    spawn_traffic,
    traffic_step,
)
from sim.driving.vehicle import bicycle_step, boxes_overlap, ray_box, ray_segment
from sim.driving.world_config import WorldConfig

# ---- ego vector --------------------------------------------------------------------
E_X, E_Y, E_YAW, E_V, E_S, E_D, E_SEG, E_HE, E_ACC, E_DELTA, E_PREV_S = range(11)
NE = 11
EGO_ID = 1
STATE_DISTANCES = (0.0, 10.0, 20.0, 35.0, 50.0)  # curvature look-ahead (m)
STATE_NEIGHBOURS = 6
NEIGHBOUR_RANGE = 60.0
LANE_FEATURES = 5  # per lane (own, left, right): exists, lead gap, closing, rear gap, closing
STATE_SIZE = 6 + len(STATE_DISTANCES) + 5 * STATE_NEIGHBOURS + 1 + 3 * LANE_FEATURES
STATE_SIZE += 2 * STATE_NEIGHBOURS  # the slots' length and width


@njit(cache=True)
def _wrap(a):
    return math.atan2(math.sin(a), math.cos(a))


@njit(cache=True)
def _ego_frenet(ego, prm):
    """(s, d, v_s, half length along s, half width across) of the ego for traffic."""
    he = ego[E_HE]
    c = abs(math.cos(he))
    s_ = abs(math.sin(he))
    hl = 0.5 * (prm[PR_EGO_L] * c + prm[PR_EGO_W] * s_)
    hw = 0.5 * (prm[PR_EGO_L] * s_ + prm[PR_EGO_W] * c)
    return np.array([ego[E_S], ego[E_D], ego[E_V] * math.cos(he), hl, hw])


@njit(cache=True)
def _ego_collision(ego, veh, ped, obs, prm):
    """Instance id of the first object the ego's box overlaps, 0 for none."""
    x, y, yaw = ego[E_X], ego[E_Y], ego[E_YAW]
    el, ew = prm[PR_EGO_L], prm[PR_EGO_W]
    nv = veh.shape[0]
    npd = ped.shape[0]
    for i in range(nv):
        if veh[i, V_ACTIVE] != 0.0 and boxes_overlap(
            x, y, yaw, el, ew, veh[i, V_X], veh[i, V_Y], veh[i, V_YAW], veh[i, V_LEN],
            veh[i, V_WID]):  # fmt: skip
            return 2 + i
    for j in range(npd):
        if ped[j, P_ACTIVE] != 0.0 and boxes_overlap(
            x, y, yaw, el, ew, ped[j, P_X], ped[j, P_Y], ped[j, P_YAW], ped[j, P_LEN],
            ped[j, P_WID]):  # fmt: skip
            return 2 + nv + j
    for k in range(obs.shape[0]):
        if boxes_overlap(x, y, yaw, el, ew, obs[k, O_X], obs[k, O_Y], obs[k, O_YAW],
                         obs[k, O_LEN], obs[k, O_WID]):  # fmt: skip
            return 2 + nv + npd + k
    return 0


@njit(cache=True)
def _set_ego_frenet(ego, xs, ys, hs, ds, window):
    s, d, seg = project(xs, ys, ds, ego[E_X], ego[E_Y], int(ego[E_SEG]) - window,
                        int(ego[E_SEG]) + window)  # fmt: skip
    _, _, h = frenet_to_world(xs, ys, hs, ds, s, 0.0)
    ego[E_S] = s
    ego[E_D] = d
    ego[E_SEG] = seg
    ego[E_HE] = _wrap(ego[E_YAW] - h)


@njit(cache=True)
def world_step(ego, veh, ped, obs, xs, ys, hs, ds, prm, rng, steer, throttle):
    """One step of the whole world (in place); returns the instance id the ego hit (0:
    none). ``steer`` and ``throttle`` (negative: brake) are clamped to [-1, 1]."""
    steer = min(max(steer, -1.0), 1.0)
    throttle = min(max(throttle, -1.0), 1.0)
    delta = steer * prm[PR_MAX_STEER]
    acc = throttle * (prm[PR_MAX_ACCEL] if throttle >= 0 else prm[PR_MAX_BRAKE])
    dt = prm[PR_DT]
    x, y, yaw, v = bicycle_step(ego[E_X], ego[E_Y], ego[E_YAW], ego[E_V], delta, acc, dt,
                                prm[PR_WHEELBASE], prm[PR_MAX_SPEED])  # fmt: skip
    ego[E_PREV_S] = ego[E_S]
    ego[E_X] = x
    ego[E_Y] = y
    ego[E_YAW] = yaw
    ego[E_V] = v
    ego[E_ACC] = acc
    ego[E_DELTA] = delta
    _set_ego_frenet(ego, xs, ys, hs, ds, int(v * dt / ds) + 3)
    traffic_step(veh, ped, obs, xs, ys, hs, ds, prm, rng, _ego_frenet(ego, prm))
    return _ego_collision(ego, veh, ped, obs, prm)


@njit(cache=True)
def _lidar(ego, veh, ped, obs, left, right, seg, ds, window, n_beams, max_range, out):
    """Ranges of ``n_beams`` rays from the ego centre (beam 0 straight ahead, then
    counter-clockwise) against object boxes and the road edges, capped at max_range."""
    ox, oy, yaw = ego[E_X], ego[E_Y], ego[E_YAW]
    n = left.shape[0]
    w = int(window * max_range / ds) + 2
    lo = max(0, seg - w)
    hi = min(n - 1, seg + w)
    for b in range(n_beams):
        a = yaw + 2.0 * math.pi * b / n_beams
        dx = math.cos(a)
        dy = math.sin(a)
        best = max_range
        for i in range(veh.shape[0]):
            if veh[i, V_ACTIVE] != 0.0:
                t = ray_box(ox, oy, dx, dy, veh[i, V_X], veh[i, V_Y], veh[i, V_YAW],
                            veh[i, V_LEN], veh[i, V_WID])  # fmt: skip
                best = min(best, t)
        for j in range(ped.shape[0]):
            if ped[j, P_ACTIVE] != 0.0:
                t = ray_box(ox, oy, dx, dy, ped[j, P_X], ped[j, P_Y], ped[j, P_YAW],
                            ped[j, P_LEN], ped[j, P_WID])  # fmt: skip
                best = min(best, t)
        for k in range(obs.shape[0]):
            t = ray_box(ox, oy, dx, dy, obs[k, O_X], obs[k, O_Y], obs[k, O_YAW], obs[k, O_LEN],
                        obs[k, O_WID])  # fmt: skip
            best = min(best, t)
        for i in range(lo, hi):
            t = ray_segment(ox, oy, dx, dy, left[i, 0], left[i, 1], left[i + 1, 0],
                            left[i + 1, 1])  # fmt: skip
            best = min(best, t)
            t = ray_segment(ox, oy, dx, dy, right[i, 0], right[i, 1], right[i + 1, 0],
                            right[i + 1, 1])  # fmt: skip
            best = min(best, t)
        out[b] = best


@njit(cache=True)
def _state(ego, veh, ped, obs, ks, ds, prm, length, lane_w, lanes, v_ref, bound, out):
    """The ``state`` observation (see :meth:`World.state_vector`), clipped to +-bound."""
    hw = prm[PR_HW]
    he = ego[E_HE]
    d = ego[E_D]
    out[0] = ego[E_V] / v_ref
    out[1] = d / hw
    # offset from the nearest lane centre, in half lane widths
    k = round((d + hw) / lane_w - 0.5)
    k = min(max(k, 0), lanes - 1)
    out[2] = (d - (k - (lanes - 1) / 2) * lane_w) / (0.5 * lane_w)
    out[3] = math.sin(he)
    out[4] = math.cos(he)
    out[5] = ego[E_S] / length
    for i in range(len(STATE_DISTANCES)):
        out[6 + i] = 50.0 * curvature_at(ks, ds, ego[E_S] + STATE_DISTANCES[i])
    # K nearest objects in the ego frame: dx, dy, dvx, dvy, present
    nv = veh.shape[0]
    npd = ped.shape[0]
    m = nv + npd + obs.shape[0]
    dist = np.full(m, np.inf)
    px = np.zeros(m)
    py = np.zeros(m)
    vx = np.zeros(m)
    vy = np.zeros(m)
    for i in range(nv):
        if veh[i, V_ACTIVE] != 0.0:
            px[i], py[i] = veh[i, V_X], veh[i, V_Y]
            sp = math.hypot(veh[i, V_V], veh[i, V_VD])
            vx[i] = sp * math.cos(veh[i, V_YAW])
            vy[i] = sp * math.sin(veh[i, V_YAW])
    for j in range(npd):
        if ped[j, P_ACTIVE] != 0.0:
            q = nv + j
            px[q], py[q] = ped[j, P_X], ped[j, P_Y]
            sp = abs(ped[j, P_VD]) if ped[j, P_MODE] != WALK else abs(ped[j, P_VS])
            vx[q] = sp * math.cos(ped[j, P_YAW])
            vy[q] = sp * math.sin(ped[j, P_YAW])
    for kk in range(obs.shape[0]):
        q = nv + npd + kk
        px[q], py[q] = obs[kk, O_X], obs[kk, O_Y]
    c = math.cos(ego[E_YAW])
    s_ = math.sin(ego[E_YAW])
    evx = ego[E_V] * c
    evy = ego[E_V] * s_
    for q in range(m):
        active = True
        if q < nv:
            active = veh[q, V_ACTIVE] != 0.0
        elif q < nv + npd:
            active = ped[q - nv, P_ACTIVE] != 0.0
        if active:
            r = math.hypot(px[q] - ego[E_X], py[q] - ego[E_Y])
            if r < NEIGHBOUR_RANGE:
                dist[q] = r
    base = 6 + len(STATE_DISTANCES)
    for slot in range(STATE_NEIGHBOURS):
        q = np.argmin(dist) if m > 0 else 0
        o = base + 5 * slot
        if m == 0 or dist[q] == np.inf:
            for f in range(5):
                out[o + f] = 0.0
            continue
        dist[q] = np.inf
        rx = px[q] - ego[E_X]
        ry = py[q] - ego[E_Y]
        rvx = vx[q] - evx
        rvy = vy[q] - evy
        out[o] = (c * rx + s_ * ry) / NEIGHBOUR_RANGE
        out[o + 1] = (-s_ * rx + c * ry) / NEIGHBOUR_RANGE
        out[o + 2] = (c * rvx + s_ * rvy) / v_ref
        out[o + 3] = (-s_ * rvx + c * rvy) / v_ref
        out[o + 4] = 1.0
    # the slots' sizes (length / 10 m, width / 5 m): a truck, a car, a pedestrian
    sizes = base + 5 * STATE_NEIGHBOURS + 1 + 3 * LANE_FEATURES
    dist[:] = np.inf
    for q in range(m):
        active = True
        if q < nv:
            active = veh[q, V_ACTIVE] != 0.0
        elif q < nv + npd:
            active = ped[q - nv, P_ACTIVE] != 0.0
        if active:
            r = math.hypot(px[q] - ego[E_X], py[q] - ego[E_Y])
            if r < NEIGHBOUR_RANGE:
                dist[q] = r
    for slot in range(STATE_NEIGHBOURS):
        q = np.argmin(dist) if m > 0 else 0
        if m == 0 or dist[q] == np.inf:
            out[sizes + 2 * slot] = 0.0
            out[sizes + 2 * slot + 1] = 0.0
            continue
        dist[q] = np.inf
        if q < nv:
            ln, wd = veh[q, V_LEN], veh[q, V_WID]
        elif q < nv + npd:
            ln, wd = ped[q - nv, P_LEN], ped[q - nv, P_WID]
        else:
            ln, wd = obs[q - nv - npd, O_LEN], obs[q - nv - npd, O_WID]
        out[sizes + 2 * slot] = ln / 10.0
        out[sizes + 2 * slot + 1] = wd / 5.0
    _lane_state(ego, veh, ped, obs, prm, lane_w, lanes, v_ref, out, base + 5 * STATE_NEIGHBOURS)
    for i in range(out.shape[0]):
        out[i] = min(max(out[i], -bound), bound)


@njit(cache=True)
def _lane_state(ego, veh, ped, obs, prm, lane_w, lanes, v_ref, out, o):
    """Lane index / (lanes - 1), then for the ego's lane (the nearest centre), the lane
    to its left and the one to its right: exists, bumper-to-bumper gap to the nearest
    thing ahead in that lane / 60 m (1: none within 60 m), its closing speed / v_ref,
    the gap to the nearest thing behind / 60 m and its closing speed / v_ref. A missing
    lane reads exists 0, gaps 0 (blocked)."""
    hw = prm[PR_HW]
    ef = _ego_frenet(ego, prm)
    es, evs, ehl = ef[0], ef[2], ef[3]
    lane = round((ego[E_D] + hw) / lane_w - 0.5)
    lane = min(max(lane, 0), lanes - 1)
    out[o] = lane / (lanes - 1) if lanes > 1 else 0.0
    nv = veh.shape[0]
    npd = ped.shape[0]
    for j in range(3):
        k = lane + (0, 1, -1)[j]
        b = o + 1 + LANE_FEATURES * j
        if k < 0 or k >= lanes:
            for f in range(LANE_FEATURES):
                out[b + f] = 0.0
            continue
        lo = k * lane_w - hw
        hi = lo + lane_w
        lead, lead_v, rear, rear_v = NEIGHBOUR_RANGE, evs, NEIGHBOUR_RANGE, evs
        for q in range(nv + npd + obs.shape[0]):
            if q < nv:
                if veh[q, V_ACTIVE] == 0.0:
                    continue
                s, d, vs = veh[q, V_S], veh[q, V_D], veh[q, V_V]
                hl, hwd = 0.5 * veh[q, V_LEN], 0.5 * veh[q, V_WID]
            elif q < nv + npd:
                p = q - nv
                if ped[p, P_ACTIVE] == 0.0:
                    continue
                s, d, vs = ped[p, P_S], ped[p, P_D], ped[p, P_VS]
                hl = hwd = 0.5 * max(ped[p, P_LEN], ped[p, P_WID])
            else:
                p = q - nv - npd
                s, d, vs = obs[p, O_S], obs[p, O_D], 0.0
                hl = hwd = 0.5 * max(obs[p, O_LEN], obs[p, O_WID])  # it may stand askew
            if min(d + hwd, hi) - max(d - hwd, lo) <= MIN_OVERLAP:
                continue
            if s >= es:
                gap = max(s - hl - es - ehl, 0.0)
                if gap < lead:
                    lead, lead_v = gap, vs
            else:
                gap = max(es - ehl - s - hl, 0.0)
                if gap < rear:
                    rear, rear_v = gap, vs
        out[b] = 1.0
        out[b + 1] = lead / NEIGHBOUR_RANGE
        out[b + 2] = (evs - lead_v) / v_ref
        out[b + 3] = rear / NEIGHBOUR_RANGE
        out[b + 4] = (rear_v - evs) / v_ref


class World:
    """The driving world of a :class:`WorldConfig`; call :meth:`reset` before use.

    ``map_seed`` fixes the road (the same map every episode, built once); by default
    each :meth:`reset` draws a new road from its seed.
    """

    def __init__(
        self,
        config: WorldConfig | None = None,
        seed: int | None = None,
        map_seed: int | None = None,
    ) -> None:
        self.config = config if config is not None else WorldConfig()
        if not isinstance(self.config, WorldConfig):
            raise TypeError(f"config must be a WorldConfig, got {type(config).__name__}")
        self.map_seed = map_seed
        self.params = make_params(self.config)
        self._fixed: tuple[Road, GroundMap] | None = None
        self.steps = 0
        self.reset(seed)

    # ---- episode -----------------------------------------------------------------
    def reset(self, seed: int | None = None, traffic_scale: float = 1.0) -> None:
        """A new episode: road (unless ``map_seed``), traffic (``traffic_scale`` times the
        configured density), pedestrians, obstacles."""
        if not traffic_scale >= 0:
            raise ValueError(f"traffic_scale must be >= 0, got {traffic_scale}")
        cfg = self.config
        rng = np.random.default_rng(seed)
        if self.map_seed is not None:
            if self._fixed is None:
                road = generate_road(cfg, np.random.default_rng(self.map_seed))
                self._fixed = (road, rasterize_road(road, cfg.cell))
            self.road, self.ground = self._fixed
        else:
            self.road = generate_road(cfg, rng)
            self.ground = rasterize_road(self.road, cfg.cell)
        road = self.road
        self._edges = road.edges()
        # An edge point within max_range lies within this many times max_range of arc
        # length (the inner edge of a bend is shorter than the centreline).
        self._edge_window = 1.0 / (1.0 - cfg.curvature * cfg.half_width)
        lane = cfg.ego_lane if cfg.ego_lane is not None else int(rng.integers(cfg.lanes))
        s0 = cfg.ego_start_s
        x, y, h = road.pose_at(s0, cfg.lane_center(lane))
        ego = np.zeros(NE)
        ego[[E_X, E_Y, E_YAW, E_V]] = x, y, _wrap(h), cfg.ego_speed
        ego[E_SEG] = int(s0 / road.ds)
        _set_ego_frenet(ego, road.xs, road.ys, road.hs, road.ds, 4)
        ego[E_PREV_S] = ego[E_S]
        self._ego = ego
        self._obs = spawn_obstacles(cfg, road, rng)
        self._ped = spawn_pedestrians(cfg, road, rng)
        traffic_cfg = cfg
        if traffic_scale != 1.0:
            traffic_cfg = cfg.replace(traffic_density=cfg.traffic_density * traffic_scale)
        self._veh = spawn_traffic(traffic_cfg, road, rng, s0, lane, cfg.ego_speed, self._obs)
        self._rng = new_rng_state(rng)
        self.collision = 0
        self.steps = 0

    def step(self, steer: float, throttle: float) -> None:
        """Advance ``dt``: ``steer`` in [-1, 1] (left positive, times ``max_steer``),
        ``throttle`` in [-1, 1] (positive accelerates up to ``max_accel``, negative
        brakes up to ``max_brake``); values outside are clamped."""
        r = self.road
        self.collision = int(world_step(self._ego, self._veh, self._ped, self._obs, r.xs, r.ys,
                                        r.hs, r.ds, self.params, self._rng, float(steer),
                                        float(throttle)))  # fmt: skip
        self.steps += 1

    # ---- state -------------------------------------------------------------------
    def get_state(self) -> dict[str, np.ndarray]:
        """A copy of the dynamic state (the road is fixed within an episode)."""
        return {
            "ego": self._ego.copy(),
            "veh": self._veh.copy(),
            "ped": self._ped.copy(),
            "obs": self._obs.copy(),
            "rng": self._rng.copy(),
            "misc": np.array([self.collision, self.steps], dtype=np.int64),
        }

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        self._ego[:] = state["ego"]
        self._veh = state["veh"].copy()
        self._ped = state["ped"].copy()
        self._obs = state["obs"].copy()
        self._rng[:] = state["rng"]
        self.collision, self.steps = (int(v) for v in state["misc"])

    # ---- queries -----------------------------------------------------------------
    @property
    def ego_pose(self) -> tuple[float, float, float]:
        """(x, y, yaw) of the ego's box centre."""
        e = self._ego
        return float(e[E_X]), float(e[E_Y]), float(e[E_YAW])

    @property
    def speed(self) -> float:
        return float(self._ego[E_V])

    @property
    def s(self) -> float:
        """Route progress: arc length of the ego's projection on the centreline."""
        return float(self._ego[E_S])

    @property
    def progress_delta(self) -> float:
        """Arc length gained by the last step."""
        return float(self._ego[E_S] - self._ego[E_PREV_S])

    @property
    def d(self) -> float:
        """Lateral offset of the ego from the centreline (left positive)."""
        return float(self._ego[E_D])

    @property
    def heading_error(self) -> float:
        """Ego yaw minus the road heading at its projection, in (-pi, pi]."""
        return float(self._ego[E_HE])

    @property
    def lane_offset(self) -> float:
        """Offset from the nearest lane centre (m)."""
        cfg = self.config
        k = min(max(round((self.d + cfg.half_width) / cfg.lane_width - 0.5), 0), cfg.lanes - 1)
        return self.d - cfg.lane_center(k)

    @property
    def off_road(self) -> bool:
        """The ego's centre has left the route's road surface (|d| > half width), or
        it has driven back past the start."""
        return abs(self.d) > self.config.half_width or self.s < -1.0

    @property
    def route_complete(self) -> bool:
        return self.s >= self.road.length - self.config.end_margin

    @property
    def vehicles(self) -> np.ndarray:
        """The raw vehicle table (read only by convention; columns ``traffic.V_*``)."""
        return self._veh

    @property
    def pedestrians(self) -> np.ndarray:
        return self._ped

    @property
    def obstacles(self) -> np.ndarray:
        return self._obs

    def instance_class(self, instance: int) -> str:
        """``"ego"``, ``"vehicle"``, ``"pedestrian"`` or ``"obstacle"`` for an id."""
        nv, npd = len(self._veh), len(self._ped)
        if instance == EGO_ID:
            return "ego"
        if 2 <= instance < 2 + nv:
            return "vehicle"
        if instance < 2 + nv + npd:
            return "pedestrian"
        if instance < 2 + nv + npd + len(self._obs):
            return "obstacle"
        raise ValueError(f"no object has instance id {instance}")

    def objects(self, include_ego: bool = False) -> SceneObjects:
        """Every active object as an oriented box (see :mod:`sim.driving.scene`); the
        ego (id 1, class VEHICLE) only with ``include_ego`` (a chase or top-down
        camera shows it, a camera mounted on it does not)."""
        veh, ped, obs = self._veh, self._ped, self._obs
        nv, npd = len(veh), len(ped)
        va = np.flatnonzero(veh[:, V_ACTIVE] != 0) if nv else np.zeros(0, np.int64)
        pa = np.flatnonzero(ped[:, P_ACTIVE] != 0) if npd else np.zeros(0, np.int64)
        parts = [
            np.stack([veh[va, V_X], veh[va, V_Y], np.zeros(len(va)), veh[va, V_LEN],
                      veh[va, V_WID], veh[va, V_HEI], veh[va, V_YAW]], axis=1),
            np.stack([ped[pa, P_X], ped[pa, P_Y], np.zeros(len(pa)), ped[pa, P_LEN],
                      ped[pa, P_WID], ped[pa, P_HEI], ped[pa, P_YAW]], axis=1),
            np.stack([obs[:, O_X], obs[:, O_Y], np.zeros(len(obs)), obs[:, O_LEN],
                      obs[:, O_WID], obs[:, O_HEI], obs[:, O_YAW]], axis=1),
        ]  # fmt: skip
        classes = [
            np.full(len(va), VEHICLE),
            np.full(len(pa), PEDESTRIAN),
            np.full(len(obs), OBSTACLE),
        ]
        ids = [2 + va, 2 + nv + pa, 2 + nv + npd + np.arange(len(obs))]
        if include_ego:
            cfg, e = self.config, self._ego
            parts.insert(0, np.array([[e[E_X], e[E_Y], 0.0, cfg.ego_length, cfg.ego_width,
                                       cfg.ego_height, e[E_YAW]]]))  # fmt: skip
            classes.insert(0, np.array([VEHICLE]))
            ids.insert(0, np.array([EGO_ID]))
        return SceneObjects(
            boxes=np.concatenate(parts).astype(np.float32),
            classes=np.concatenate(classes).astype(np.uint8),
            instances=np.concatenate(ids).astype(np.int32),
            ego_instance=EGO_ID if include_ego else 0,
        )

    def lidar(self, n_beams: int = 32, max_range: float = 50.0) -> np.ndarray:
        """float32 ranges (m) of ``n_beams`` rays from the ego centre, beam 0 straight
        ahead then counter-clockwise, hitting object boxes and the road edges."""
        out = np.empty(n_beams)
        left, right = self._edges
        _lidar(self._ego, self._veh, self._ped, self._obs, left, right, int(self._ego[E_SEG]),
               self.road.ds, self._edge_window, n_beams, max_range, out)  # fmt: skip
        return out.astype(np.float32)

    def state_vector(self, v_ref: float = 20.0, bound: float = 5.0) -> np.ndarray:
        """float32 features, each clipped to +-``bound``: speed / v_ref, d / half
        width, lane offset / half lane, sin and cos of the heading error, s / length,
        50 x curvature at :data:`STATE_DISTANCES` ahead, then for the
        :data:`STATE_NEIGHBOURS` nearest objects within 60 m (nearest first) the
        ego-frame dx, dy (/ 60 m), dvx, dvy (/ v_ref) and a present flag (zeros when
        absent); then the lane index / (lanes - 1) and, for the ego's lane, the lane to
        its left and to its right, :data:`LANE_FEATURES` values (exists, gap ahead / 60
        m, closing speed / v_ref, gap behind / 60 m, closing speed / v_ref; see
        ``_lane_state``); then the slots' length / 10 m and width / 5 m."""
        out = np.empty(STATE_SIZE, np.float32)
        cfg = self.config
        _state(self._ego, self._veh, self._ped, self._obs, self.road.ks, self.road.ds,
               self.params, self.road.length, cfg.lane_width, cfg.lanes, v_ref, bound,
               out)  # fmt: skip
        return out

    def curvature_ahead(self, distance: float) -> float:
        return float(curvature_at(self.road.ks, self.road.ds, self.s + distance))

    @property
    def dt(self) -> float:
        return float(self.params[PR_DT])

"""Traffic along the route's lanes (IDM car following, MOBIL lane changes), pedestrians on
the shoulders who cross now and then, and static obstacles; spawning and one Numba step.

State is struct-of-arrays in float64 tables, one row per agent (columns ``V_*``,
``P_*``, ``O_*``), so a whole step is one kernel call. Positions are Frenet (arc length
``s``, lateral offset ``d``) along the route; world poses (``*_X``, ``*_Y``, ``*_YAW``)
are refreshed every step for collision checks and the renderer.

Car following is the Intelligent Driver Model (Treiber et al., 2000) against the
nearest thing ahead that occupies the car's lane (or, while it changes lanes, either
lane): another car, the ego, a pedestrian on the road, an obstacle. Lane changes follow
MOBIL (Kesting et al., 2007): change when the own gain plus ``politeness`` times the
followers' gains beats ``threshold`` (plus ``keep_right`` going left, minus it going
right) and the new follower need not brake harder than ``safe_decel``. All draws come
from a xorshift generator whose state is part of the world state, so a step is a pure
function of the state.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.driving.road import Road, frenet_to_world
from sim.driving.world_config import WorldConfig

# ---- vehicle table columns ---------------------------------------------------------
V_ACTIVE, V_S, V_D, V_V, V_VD, V_LANE, V_TARGET, V_V0 = range(8)
V_LEN, V_WID, V_HEI, V_TIMER, V_ACC, V_X, V_Y, V_YAW = range(8, 16)
NV = 16
# ---- pedestrian table columns ------------------------------------------------------
P_ACTIVE, P_S, P_D, P_VS, P_VD, P_MODE, P_TARGET, P_SPEED = range(8)
P_LEN, P_WID, P_HEI, P_X, P_Y, P_YAW = range(8, 14)
NP_ = 14
WALK, CROSS = 0, 1
# ---- obstacle table columns --------------------------------------------------------
O_S, O_D, O_LEN, O_WID, O_HEI, O_YAWOFF, O_X, O_Y, O_YAW, O_HS, O_HD = range(11)
NO = 11
# ---- parameter vector --------------------------------------------------------------
(PR_LANES, PR_LANE_W, PR_HW, PR_SHOULDER, PR_LENGTH, PR_DT, PR_T, PR_S0, PR_A, PR_B,
 PR_BMAX, PR_POLITE, PR_THR, PR_BSAFE, PR_LC_TIME, PR_DECIDE, PR_CROSS_RATE, PR_EGO_L,
 PR_EGO_W, PR_WHEELBASE, PR_MAX_STEER, PR_MAX_ACCEL, PR_MAX_BRAKE, PR_MAX_SPEED,
 PR_EGO_V0, PR_KEEP_RIGHT) = range(26)  # fmt: skip
NPR = 26

# kinds of the thing found by a lane search
K_NONE, K_VEH, K_EGO, K_PED, K_OBS = range(5)
CROSS_LOOKOUT = 40.0  # a pedestrian crosses only with no vehicle this close behind
MIN_OVERLAP = 0.05  # lateral overlap that puts something in a lane


def make_params(config: WorldConfig, ego_v0: float = 15.0) -> np.ndarray:
    """The kernel parameter vector of ``config``; ``ego_v0`` is the speed traffic
    assumes the ego wants when it weighs cutting in front of it."""
    p = np.zeros(NPR)
    p[PR_LANES] = config.lanes
    p[PR_LANE_W] = config.lane_width
    p[PR_HW] = config.half_width
    p[PR_SHOULDER] = config.shoulder_width
    p[PR_LENGTH] = config.road_length
    p[PR_DT] = config.dt
    p[PR_T] = config.idm_time_headway
    p[PR_S0] = config.idm_min_gap
    p[PR_A] = config.idm_accel
    p[PR_B] = config.idm_decel
    p[PR_BMAX] = config.max_decel
    p[PR_POLITE] = config.mobil_politeness
    p[PR_THR] = config.mobil_threshold
    p[PR_BSAFE] = config.mobil_safe_decel
    p[PR_LC_TIME] = config.lane_change_time
    p[PR_DECIDE] = config.decision_interval
    p[PR_CROSS_RATE] = config.ped_cross_rate
    p[PR_EGO_L] = config.ego_length
    p[PR_EGO_W] = config.ego_width
    p[PR_WHEELBASE] = config.wheelbase
    p[PR_MAX_STEER] = config.max_steer
    p[PR_MAX_ACCEL] = config.max_accel
    p[PR_MAX_BRAKE] = config.max_brake
    p[PR_MAX_SPEED] = config.max_speed
    p[PR_EGO_V0] = ego_v0
    p[PR_KEEP_RIGHT] = config.mobil_keep_right
    return p


# ---- random numbers ----------------------------------------------------------------
@njit(cache=True)
def rand_uniform(state):
    """A uniform draw in [0, 1) from xorshift64* state ``state[0]`` (advanced)."""
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return float((x * np.uint64(2685821657736338717)) >> np.uint64(11)) / 9007199254740992.0


def new_rng_state(rng: np.random.Generator) -> np.ndarray:
    return np.array([int(rng.integers(1, 2**63))], dtype=np.uint64)


# ---- IDM ---------------------------------------------------------------------------
@njit(cache=True)
def idm(v, v0, dv, gap, prm):
    """IDM acceleration at speed ``v`` (desired ``v0``) behind a leader ``gap`` metres
    ahead (bumper to bumper) approaching at ``dv = v - v_leader``; clamped to
    [-max_decel, accel]."""
    a = prm[PR_A]
    free = 1.0 - (v / v0) ** 4 if v0 > 0 else -1.0
    if gap == math.inf:
        acc = a * free
    else:
        sstar = prm[PR_S0] + max(0.0, v * prm[PR_T] + v * dv / (2.0 * math.sqrt(a * prm[PR_B])))
        g = max(gap, 0.05)
        acc = a * (free - (sstar / g) ** 2)
    return min(max(acc, -prm[PR_BMAX]), a)


@njit(cache=True)
def lane_bounds(lane, prm):
    c = (lane - (prm[PR_LANES] - 1) / 2) * prm[PR_LANE_W]
    return c - prm[PR_LANE_W] / 2, c + prm[PR_LANE_W] / 2


@njit(cache=True)
def _overlaps(d, half, lo, hi):
    return min(d + half, hi) - max(d - half, lo) > MIN_OVERLAP


@njit(cache=True)
def nearest_in_lanes(s, hl, self_i, la, lb, ahead, veh, ped, obs, ego, prm):
    """The nearest thing ahead (``ahead``) or behind of arc length ``s`` in lanes
    ``la``..``lb``: (bumper gap, its speed along s, kind, index). Behind, only
    vehicles and the ego count (followers). ``ego`` = (s, d, v_s, half length along s,
    half width across)."""
    lo, _ = lane_bounds(min(la, lb), prm)
    _, hi = lane_bounds(max(la, lb), prm)
    best = math.inf
    bv = 0.0
    kind = K_NONE
    idx = -1
    for j in range(veh.shape[0]):
        if j == self_i or veh[j, V_ACTIVE] == 0.0:
            continue
        lj = veh[j, V_LANE]
        tj = veh[j, V_TARGET]
        if not (lj == la or lj == lb or tj == la or tj == lb):
            continue
        ds = veh[j, V_S] - s if ahead else s - veh[j, V_S]
        if ds <= 0.0:
            continue
        gap = ds - hl - 0.5 * veh[j, V_LEN]
        if gap < best:
            best = gap
            bv = veh[j, V_V]
            kind = K_VEH
            idx = j
    if _overlaps(ego[1], ego[4], lo, hi):
        ds = ego[0] - s if ahead else s - ego[0]
        if ds > 0.0:
            gap = ds - hl - ego[3]
            if gap < best:
                best = gap
                bv = ego[2]
                kind = K_EGO
                idx = 0
    if ahead:
        for j in range(ped.shape[0]):
            if ped[j, P_ACTIVE] == 0.0 or not _overlaps(ped[j, P_D], 0.4, lo, hi):
                continue
            ds = ped[j, P_S] - s
            if ds > 0.0 and ds - hl - 0.3 < best:
                best = ds - hl - 0.3
                bv = 0.0
                kind = K_PED
                idx = j
        for j in range(obs.shape[0]):
            if not _overlaps(obs[j, O_D], obs[j, O_HD], lo, hi):
                continue
            ds = obs[j, O_S] - s
            if ds > 0.0 and ds - hl - obs[j, O_HS] < best:
                best = ds - hl - obs[j, O_HS]
                bv = 0.0
                kind = K_OBS
                idx = j
    return best, bv, kind, idx


@njit(cache=True)
def _desired(kind, idx, veh, prm):
    return veh[idx, V_V0] if kind == K_VEH else prm[PR_EGO_V0]


@njit(cache=True)
def _mobil(i, acc_i, veh, ped, obs, ego, prm):
    """The lane car ``i`` should change to by MOBIL, or -1."""
    lane = int(veh[i, V_LANE])
    s = veh[i, V_S]
    v = veh[i, V_V]
    v0 = veh[i, V_V0]
    hl = 0.5 * veh[i, V_LEN]
    p = prm[PR_POLITE]
    gof, vof, kof, iof = nearest_in_lanes(s, hl, i, lane, lane, False, veh, ped, obs, ego, prm)
    gol, vol, kol, _ = nearest_in_lanes(s, hl, i, lane, lane, True, veh, ped, obs, ego, prm)
    best_gain = -math.inf
    best_lane = -1
    for dl in (-1, 1):
        lane2 = lane + dl
        if lane2 < 0 or lane2 >= prm[PR_LANES]:
            continue
        gl, vl, kl, _ = nearest_in_lanes(s, hl, i, lane2, lane2, True, veh, ped, obs, ego, prm)
        gf, vf, kf, jf = nearest_in_lanes(s, hl, i, lane2, lane2, False, veh, ped, obs, ego, prm)
        if gl < 1.0 or gf < 1.0:
            continue
        gain = idm(v, v0, v - vl, gl, prm) - acc_i
        if kf != K_NONE:
            v0f = _desired(kf, jf, veh, prm)
            a_n2 = idm(vf, v0f, vf - v, gf, prm)
            if a_n2 < -prm[PR_BSAFE]:
                continue
            a_n = idm(vf, v0f, vf - vl, gf + 2 * hl + gl, prm)
            gain += p * (a_n2 - a_n)
        if kof != K_NONE:
            v0o = _desired(kof, iof, veh, prm)
            a_o = idm(vof, v0o, vof - v, gof, prm)
            a_o2 = idm(vof, v0o, vof - vol, gof + 2 * hl + gol, prm)
            gain += p * (a_o2 - a_o)
        # asymmetric MOBIL: overtake on the left, return to the right
        gain -= prm[PR_THR] + dl * prm[PR_KEEP_RIGHT]
        if gain > 0.0 and gain > best_gain:
            best_gain = gain
            best_lane = lane2
    return best_lane


@njit(cache=True)
def traffic_step(veh, ped, obs, xs, ys, hs, ds, prm, rng, ego):
    """Advance vehicles and pedestrians by one step (in place). ``ego`` = (s, d, v_s,
    half length along s, half width across) of the ego after its own step."""
    dt = prm[PR_DT]
    n = veh.shape[0]
    acc = np.zeros(n)
    for i in range(n):
        if veh[i, V_ACTIVE] == 0.0:
            continue
        la = int(veh[i, V_LANE])
        lb = int(veh[i, V_TARGET])
        hl = 0.5 * veh[i, V_LEN]
        g, vl, _, _ = nearest_in_lanes(veh[i, V_S], hl, i, la, lb, True, veh, ped, obs, ego, prm)
        v = veh[i, V_V]
        acc[i] = idm(v, veh[i, V_V0], v - vl, g, prm)
    for i in range(n):
        if veh[i, V_ACTIVE] == 0.0 or veh[i, V_LANE] != veh[i, V_TARGET]:
            continue
        veh[i, V_TIMER] -= dt
        if veh[i, V_TIMER] <= 0.0:
            veh[i, V_TIMER] += prm[PR_DECIDE]
            target = _mobil(i, acc[i], veh, ped, obs, ego, prm)
            if target >= 0:
                veh[i, V_TARGET] = target
    length = prm[PR_LENGTH]
    for i in range(n):
        if veh[i, V_ACTIVE] == 0.0:
            continue
        v = veh[i, V_V]
        a = acc[i]
        v1 = v + a * dt
        if v1 < 0.0:  # stops within the step
            veh[i, V_S] += -v * v / (2 * a) if a < 0 else 0.0
            v1 = 0.0
        else:
            veh[i, V_S] += v * dt + 0.5 * a * dt * dt
        veh[i, V_V] = v1
        veh[i, V_ACC] = a
        vd = 0.0
        if veh[i, V_TARGET] != veh[i, V_LANE]:
            c = (veh[i, V_TARGET] - (prm[PR_LANES] - 1) / 2) * prm[PR_LANE_W]
            rate = prm[PR_LANE_W] / prm[PR_LC_TIME] * min(1.0, (v1 + 1.0) / 5.0)
            delta = c - veh[i, V_D]
            if abs(delta) <= rate * dt:
                veh[i, V_D] = c
                veh[i, V_LANE] = veh[i, V_TARGET]
                veh[i, V_TIMER] = prm[PR_DECIDE]
            else:
                vd = rate if delta > 0 else -rate
                veh[i, V_D] += vd * dt
        veh[i, V_VD] = vd
        x, y, h = frenet_to_world(xs, ys, hs, ds, veh[i, V_S], veh[i, V_D])
        veh[i, V_X] = x
        veh[i, V_Y] = y
        veh[i, V_YAW] = h + math.atan2(vd, max(v1, 0.5))
        if veh[i, V_S] > length + 20.0:
            veh[i, V_ACTIVE] = 0.0  # left the map
    pedestrian_step(ped, veh, xs, ys, hs, ds, prm, rng, ego)


@njit(cache=True)
def pedestrian_step(ped, veh, xs, ys, hs, ds, prm, rng, ego):
    dt = prm[PR_DT]
    length = prm[PR_LENGTH]
    p_cross = prm[PR_CROSS_RATE] * dt
    for j in range(ped.shape[0]):
        if ped[j, P_ACTIVE] == 0.0:
            continue
        if ped[j, P_MODE] == WALK:
            ped[j, P_S] += ped[j, P_VS] * dt
            if ped[j, P_S] < 0.0 or ped[j, P_S] > length:  # turn back at the ends
                ped[j, P_VS] = -ped[j, P_VS]
                ped[j, P_S] = min(max(ped[j, P_S], 0.0), length)
            if rand_uniform(rng) < p_cross:
                s = ped[j, P_S]
                clear = not (s - CROSS_LOOKOUT < ego[0] < s + 5.0)
                for i in range(veh.shape[0]):
                    if veh[i, V_ACTIVE] != 0.0 and s - CROSS_LOOKOUT < veh[i, V_S] < s + 5.0:
                        clear = False
                        break
                if clear:
                    ped[j, P_MODE] = CROSS
                    ped[j, P_TARGET] = -ped[j, P_D]
                    ped[j, P_VD] = ped[j, P_SPEED] if ped[j, P_D] < 0 else -ped[j, P_SPEED]
        else:
            ped[j, P_D] += ped[j, P_VD] * dt
            t = ped[j, P_TARGET]
            if (ped[j, P_VD] > 0 and ped[j, P_D] >= t) or (ped[j, P_VD] < 0 and ped[j, P_D] <= t):
                ped[j, P_D] = t
                ped[j, P_VD] = 0.0
                ped[j, P_MODE] = WALK
        vs = ped[j, P_VS] if ped[j, P_MODE] == WALK else 0.0
        vd = ped[j, P_VD]
        x, y, h = frenet_to_world(xs, ys, hs, ds, ped[j, P_S], ped[j, P_D])
        ped[j, P_X] = x
        ped[j, P_Y] = y
        ped[j, P_YAW] = h + math.atan2(vd, vs)


# ---- spawning ----------------------------------------------------------------------
def spawn_obstacles(config: WorldConfig, road: Road, rng: np.random.Generator) -> np.ndarray:
    """Static boxes at least 40 m ahead of the ego start and 30 m apart along the road:
    in a random lane, or on the shoulder of a one-lane road (so the route stays open)."""
    obs = np.zeros((config.obstacles, NO))
    lo = config.ego_start_s + 40.0
    hi = config.road_length - config.end_margin - 10.0
    placed: list[float] = []
    k = 0
    for _ in range(50 * config.obstacles):
        if k == config.obstacles or hi <= lo:
            break
        s = rng.uniform(lo, hi)
        if any(abs(s - q) < 30.0 for q in placed):
            continue
        length, width = rng.uniform(0.5, 2.5), rng.uniform(0.5, 1.8)
        if config.lanes > 1:
            d = config.lane_center(int(rng.integers(config.lanes))) + rng.uniform(-0.5, 0.5)
        else:
            side = 1 if rng.random() < 0.5 else -1
            d = side * (config.half_width + config.shoulder_width / 2)
            width = min(width, config.shoulder_width)
        yaw_off = rng.uniform(-0.5, 0.5)
        c, s_ = abs(math.cos(yaw_off)), abs(math.sin(yaw_off))
        x, y, h = road.pose_at(s, d)
        obs[k] = (s, d, length, width, rng.uniform(0.5, 1.5), yaw_off, x, y, h + yaw_off,
                  0.5 * (length * c + width * s_), 0.5 * (length * s_ + width * c))  # fmt: skip
        placed.append(s)
        k += 1
    return obs[:k]


def spawn_pedestrians(config: WorldConfig, road: Road, rng: np.random.Generator) -> np.ndarray:
    ped = np.zeros((config.pedestrians, NP_))
    for j in range(config.pedestrians):
        side = 1 if rng.random() < 0.5 else -1
        speed = rng.uniform(*config.ped_speed)
        s = rng.uniform(0.0, config.road_length)
        d = side * (config.half_width + config.shoulder_width / 2)
        direction = 1 if rng.random() < 0.5 else -1
        x, y, h = road.pose_at(s, d)
        yaw = h if direction > 0 else h + math.pi
        ped[j] = (1, s, d, direction * speed, 0, WALK, d, speed,
                  0.5, 0.6, rng.uniform(1.5, 1.9), x, y, yaw)  # fmt: skip
    return ped


def spawn_traffic(
    config: WorldConfig,
    road: Road,
    rng: np.random.Generator,
    ego_s: float,
    ego_lane: int,
    ego_v: float,
    obstacles: np.ndarray,
) -> np.ndarray:
    """Vehicles spread over the lanes at ``traffic_density`` per km per lane, clear of
    the ego and the obstacles, with speeds that let every follower brake in time."""
    n_want = min(
        config.max_vehicles,
        int(round(config.traffic_density * config.road_length / 1000 * config.lanes)),
    )
    rows: list[list[float]] = []
    for _ in range(20 * n_want):
        if len(rows) == n_want:
            break
        truck = rng.random() < config.truck_fraction
        length = rng.uniform(8.0, 11.0) if truck else rng.uniform(4.0, 4.9)
        width = rng.uniform(2.3, 2.5) if truck else rng.uniform(1.7, 2.0)
        height = rng.uniform(3.0, 3.8) if truck else rng.uniform(1.4, 1.7)
        lo, hi = config.traffic_speed
        v0 = rng.uniform(lo, hi) * (0.8 if truck else 1.0)
        lane = int(rng.integers(config.lanes))
        s = rng.uniform(0.0, config.road_length - config.end_margin)
        d = config.lane_center(lane)
        # clearance: 8 m to anything in the lane (bumper to bumper), 25 m around the ego
        ok = abs(s - ego_s) > 0.5 * (length + config.ego_length) + (
            25.0 if lane == ego_lane else 2.0
        )
        for r in rows:
            if r[V_LANE] == lane and abs(s - r[V_S]) < 0.5 * (length + r[V_LEN]) + 8.0:
                ok = False
        for o in obstacles:
            if abs(o[O_D] - d) < config.lane_width / 2 + o[O_HD] and abs(o[O_S] - s) < (
                0.5 * length + o[O_HS] + 25.0
            ):
                ok = False
        if not ok:
            continue
        row = [0.0] * NV
        row[V_ACTIVE] = 1
        row[V_S], row[V_D], row[V_LANE], row[V_TARGET] = s, d, lane, lane
        row[V_V0], row[V_LEN], row[V_WID], row[V_HEI] = v0, length, width, height
        row[V_V] = v0 * rng.uniform(0.7, 0.95)
        row[V_TIMER] = rng.uniform(0.0, config.decision_interval)
        rows.append(row)
    veh = np.array(rows, dtype=np.float64).reshape(-1, NV)
    # Front to back per lane, cap each speed so the car can close the gap to its leader
    # (a car, the ego, an obstacle) at comfortable braking: no crash at the first step.
    for lane in range(config.lanes):
        things = [(r[V_S], 0.5 * r[V_LEN], i) for i, r in enumerate(veh) if r[V_LANE] == lane]
        if lane == ego_lane:
            things.append((ego_s, 0.5 * config.ego_length, -1))
        things.sort(reverse=True)
        lead_s, lead_hl, lead_v = math.inf, 0.0, 0.0
        center = config.lane_center(lane)
        for s, hl, i in things:
            v = ego_v if i < 0 else veh[i, V_V]
            gap = lead_s - s - hl - lead_hl
            lead_v_here = lead_v
            for o in obstacles:
                in_lane = abs(o[O_D] - center) < config.lane_width / 2 + o[O_HD]
                if in_lane and o[O_S] > s and o[O_S] - s - hl - o[O_HS] < gap:
                    gap, lead_v_here = o[O_S] - s - hl - o[O_HS], 0.0
            if i >= 0 and gap < math.inf:
                # braking from v to lead speed within gap - min_gap at idm_decel
                room = max(0.0, gap - config.idm_min_gap)
                v_cap = math.sqrt(lead_v_here**2 + 2 * config.idm_decel * room)
                veh[i, V_V] = min(veh[i, V_V], v_cap)
                v = veh[i, V_V]
            lead_s, lead_hl, lead_v = s, hl, v
    for r in veh:
        r[V_X], r[V_Y], r[V_YAW] = road.pose_at(r[V_S], r[V_D])
    return veh

"""The driving world: config validation, roads and their ground map, the bicycle model,
IDM and MOBIL traffic, collisions, off-road, lidar and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.driving import traffic as T
from sim.driving.road import generate_road, rasterize
from sim.driving.scene import KERB, LANE_MARKING, OBSTACLE, PEDESTRIAN, ROAD, TERRAIN, VEHICLE
from sim.driving.vehicle import bicycle_step, boxes_overlap, ray_box, ray_segment
from sim.driving.world import EGO_ID, STATE_SIZE, World
from sim.driving.world_config import WorldConfig

TINY = dict(road_length=150.0, lanes=2, traffic_density=10.0, pedestrians=2, obstacles=1)
EMPTY = dict(traffic_density=0.0, pedestrians=0, obstacles=0)


# ---- config ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "changes, field",
    [
        ({"lanes": 0}, "lanes"),
        ({"road_length": 0.0}, "road_length"),
        ({"road_length": -5.0}, "road_length"),
        ({"lane_width": -3.5}, "lane_width"),
        ({"traffic_density": -1.0}, "traffic_density"),
        ({"pedestrians": -1}, "pedestrians"),
        ({"obstacles": 1.5}, "obstacles"),
        ({"dt": 0.0}, "dt"),
        ({"curvature": 0.2}, "curvature"),
        ({"traffic_speed": (20.0, 10.0)}, "traffic_speed"),
        ({"ego_lane": 5}, "ego_lane"),
        ({"max_steer": float("nan")}, "max_steer"),
        ({"ego_start_s": 1000.0}, "ego_start_s"),
    ],
)
def test_config_errors_name_the_field(changes, field):
    with pytest.raises(ValueError, match=field):
        WorldConfig(**changes)


def test_config_replace_validates_and_rejects_unknown_fields():
    cfg = WorldConfig()
    assert cfg.replace(lanes=2).lanes == 2
    with pytest.raises(ValueError, match="lanes"):
        cfg.replace(lanes=0)
    with pytest.raises(ValueError, match="unknown"):
        cfg.replace(wheels=3)
    assert cfg.lane_center(0) < 0 < cfg.lane_center(cfg.lanes - 1)


# ---- road and ground map -----------------------------------------------------------
def test_straight_road_and_frenet_round_trip():
    straight = generate_road(WorldConfig(curvature=0.0), np.random.default_rng(0))
    assert np.allclose(straight.ys, 0.0) and np.allclose(np.diff(straight.xs), straight.ds)
    road = generate_road(WorldConfig(curvature=0.02), np.random.default_rng(3))
    assert np.abs(road.ks).max() > 0.005 and np.abs(road.ks).max() <= 0.02 + 1e-9
    rng = np.random.default_rng(1)
    for s, d in zip(rng.uniform(5, road.length - 5, 50), rng.uniform(-6, 6, 50), strict=True):
        x, y, _ = road.pose_at(s, d)
        s2, d2 = road.project(x, y)
        assert abs(s2 - s) < 0.05 and abs(d2 - d) < 0.02


def test_ground_map_classes_follow_the_cross_section():
    cfg = WorldConfig(lanes=3, curvature=0.01, road_length=200.0, cell=0.1)
    road = generate_road(cfg, np.random.default_rng(5))
    g = rasterize(road, cfg.cell)
    hw, lw = cfg.half_width, cfg.lane_width
    for s in np.linspace(10, 190, 10):
        for lane in range(3):
            assert g.class_at(*road.pose_at(s, cfg.lane_center(lane))[:2]) == ROAD
        for side in (-1, 1):
            assert g.class_at(*road.pose_at(s, side * (hw + 0.75))[:2]) == KERB
            assert g.class_at(*road.pose_at(s, side * (hw + 3.0))[:2]) == TERRAIN
            # solid edge lines
            assert g.class_at(*road.pose_at(s, side * (hw - 0.3))[:2]) == LANE_MARKING
    # dashed separators: marked on a dash (s mod 9 < 3), road in the gap
    sep = -hw + lw
    assert g.class_at(*road.pose_at(91.5, sep)[:2]) == LANE_MARKING
    assert g.class_at(*road.pose_at(96.0, sep)[:2]) == ROAD
    # square ends: beyond the start is terrain
    assert g.class_at(*road.pose_at(-1.0, 0.0)[:2]) == TERRAIN
    assert g.ground.dtype == np.uint8 and set(np.unique(g.ground)) <= {
        TERRAIN,
        ROAD,
        LANE_MARKING,
        KERB,
    }


def test_junctions_add_cross_streets():
    cfg = WorldConfig(junctions=2, road_length=300.0)
    plain = rasterize(generate_road(cfg.replace(junctions=0), np.random.default_rng(2)), 0.2)
    road = generate_road(cfg, np.random.default_rng(2))
    crossed = rasterize(road, 0.2)
    assert road.cross.shape == (2, 4)
    assert (crossed.ground == ROAD).sum() > (plain.ground == ROAD).sum()
    x0, y0, x1, y1 = road.cross[0]
    far = (x0 + 0.1 * (x1 - x0), y0 + 0.1 * (y1 - y0))  # on the cross street, off the route
    assert crossed.class_at(*far) in (ROAD, LANE_MARKING)


# ---- bicycle model and geometry ----------------------------------------------------
def test_bicycle_straight_line():
    x, y, yaw, v = 0.0, 0.0, 0.3, 10.0
    for _ in range(50):
        x, y, yaw, v = bicycle_step(x, y, yaw, v, 0.0, 0.0, 0.1, 2.7, 40.0)
    assert math.isclose(math.hypot(x, y), 50.0, rel_tol=1e-9)
    assert math.isclose(math.atan2(y, x), 0.3, abs_tol=1e-12) and yaw == pytest.approx(0.3)


@pytest.mark.parametrize("delta", [0.1, -0.3])
def test_bicycle_turning_radius_is_wheelbase_over_tan_steer(delta):
    wheelbase = 2.7
    x, y, yaw, v = 0.0, 0.0, 0.0, 8.0
    rear = []
    for _ in range(200):
        x, y, yaw, v = bicycle_step(x, y, yaw, v, delta, 0.0, 0.05, wheelbase, 40.0)
        rear.append((x - 0.5 * wheelbase * math.cos(yaw), y - 0.5 * wheelbase * math.sin(yaw)))
    rear = np.array(rear)
    # least-squares circle through the rear axle's track
    a = np.c_[2 * rear, np.ones(len(rear))]
    cx, cy, c = np.linalg.lstsq(a, (rear**2).sum(1), rcond=None)[0]
    radius = math.sqrt(c + cx * cx + cy * cy)
    assert radius == pytest.approx(wheelbase / math.tan(abs(delta)), rel=1e-6)
    assert np.sign(cy) == np.sign(delta)  # left steer turns left


def test_bicycle_speed_limits():
    _, _, _, v = bicycle_step(0.0, 0.0, 0.0, 1.0, 0.0, -8.0, 0.5, 2.7, 40.0)
    assert v == 0.0  # no reverse
    _, _, _, v = bicycle_step(0.0, 0.0, 0.0, 39.0, 0.0, 3.0, 1.0, 2.7, 40.0)
    assert v == 40.0


def test_box_overlap_and_rays():
    assert boxes_overlap(0, 0, 0, 4, 2, 3.9, 0, 0, 4, 2)
    assert not boxes_overlap(0, 0, 0, 4, 2, 4.1, 0, 0, 4, 2)
    # axis-aligned bounds overlap, the rotated boxes do not (separating axis of box 2)
    assert not boxes_overlap(0, 0, 0, 2, 2, 2.2, 2.2, math.pi / 4, 2, 2)
    assert boxes_overlap(0, 0, 0, 2, 2, 1.6, 1.6, math.pi / 4, 2, 2)
    assert ray_box(0, 0, 1, 0, 10, 0, 0, 4, 2) == pytest.approx(8.0)
    assert ray_box(0, 0, 0, 1, 10, 0, 0, 4, 2) == math.inf
    assert ray_box(10, 0, 1, 0, 10, 0, 0.5, 4, 2) == 0.0  # from inside
    assert ray_segment(0, 0, 1, 0, 5, -1, 5, 1) == pytest.approx(5.0)
    assert ray_segment(0, 0, -1, 0, 5, -1, 5, 1) == math.inf


# ---- traffic -----------------------------------------------------------------------
def _convoy(n: int, gap: float, speed: float, v0s, lanes: int = 1) -> np.ndarray:
    veh = np.zeros((n, T.NV))
    for i in range(n):
        veh[i, T.V_ACTIVE] = 1
        veh[i, T.V_S] = 300.0 - i * (4.5 + gap)
        veh[i, [T.V_V, T.V_V0, T.V_LEN, T.V_WID, T.V_HEI]] = speed, v0s[i], 4.5, 1.8, 1.5
        veh[i, T.V_D] = (0 - (lanes - 1) / 2) * 3.5
        veh[i, T.V_TIMER] = 0.1 * i
    return veh


def _run_traffic(cfg: WorldConfig, veh: np.ndarray, steps: int, hook=None):
    road = generate_road(cfg, np.random.default_rng(0))
    prm = T.make_params(cfg)
    rng = np.array([12345], np.uint64)
    empty_p = np.zeros((0, T.NP_))
    empty_o = np.zeros((0, T.NO))
    far_ego = np.array([-1e4, 100.0, 0.0, 2.25, 0.95])  # off the road
    history = []
    for k in range(steps):
        if hook:
            hook(k, veh)
        T.traffic_step(veh, empty_p, empty_o, road.xs, road.ys, road.hs, road.ds, prm, rng,
                       far_ego)  # fmt: skip
        history.append(veh.copy())
    return np.array(history)


def test_idm_single_lane_convoy_never_collides():
    cfg = WorldConfig(lanes=1, road_length=3000.0, curvature=0.005, **EMPTY)
    v0s = [6.0] + [30.0] * 9  # a slow leader and fast followers close behind
    veh = _convoy(10, 12.0, 15.0, v0s)

    def brake(k, veh):  # the leader stops dead at 60 s
        if k == 600:
            veh[0, T.V_V0] = 0.0

    hist = _run_traffic(cfg, veh, 1200, brake)
    gaps = hist[:, :-1, T.V_S] - hist[:, 1:, T.V_S] - 4.5
    assert gaps.min() > 0.5
    assert (hist[:, :, T.V_LANE] == 0).all()
    assert hist[-1, 0, T.V_V] < 0.1  # the leader stopped, everyone behind too
    assert hist[-1, :, T.V_V].max() < 0.5


def test_mobil_changes_lane_round_a_slow_car():
    cfg = WorldConfig(lanes=2, road_length=3000.0, curvature=0.0, **EMPTY)
    veh = _convoy(2, 80.0, 12.0, [5.0, 25.0], lanes=2)
    veh[0, T.V_V] = 5.0
    hist = _run_traffic(cfg, veh, 600)
    fast_lane = hist[:, 1, T.V_LANE]
    assert (fast_lane == 1).any()  # moved to the left lane
    assert hist[-1, 1, T.V_S] > hist[-1, 0, T.V_S] + 10  # and passed
    assert (hist[:, 0, T.V_LANE] == 0).all()  # the slow car had no reason to move
    assert hist[-1, 1, T.V_LANE] == 0  # and the fast one kept right again


def test_world_traffic_never_overlaps():
    w = World(WorldConfig(road_length=300.0, traffic_density=20.0, obstacles=2), seed=4)
    for k in range(300):
        w.step(0.0, 0.0 if k % 2 else 0.2)  # ego drives, no crash checks needed
        v = w.vehicles
        act = np.flatnonzero(v[:, T.V_ACTIVE] > 0)
        for a in act:
            for b in act[act > a]:
                assert not boxes_overlap(
                    *v[a, [T.V_X, T.V_Y, T.V_YAW, T.V_LEN, T.V_WID]],
                    *v[b, [T.V_X, T.V_Y, T.V_YAW, T.V_LEN, T.V_WID]],
                ), (k, a, b)


def test_pedestrians_walk_the_shoulder_and_cross():
    cfg = WorldConfig(road_length=200.0, pedestrians=6, ped_cross_rate=0.5, **{
        "traffic_density": 0.0, "obstacles": 0})  # fmt: skip
    w = World(cfg, seed=1)
    hw = cfg.half_width
    sides = np.sign(w.pedestrians[:, T.P_D]).copy()
    on_road = False
    for _ in range(150):
        w.step(0.0, -1.0)  # ego stays near the start
        d = w.pedestrians[:, T.P_D]
        assert (np.abs(d) <= hw + cfg.shoulder_width).all()
        on_road |= bool((np.abs(d) < hw).any())
    assert on_road and (np.sign(w.pedestrians[:, T.P_D]) != sides).any()


# ---- world -------------------------------------------------------------------------
def test_same_seed_same_trajectory():
    def run(seed):
        w = World(WorldConfig(**TINY), seed=seed)
        rng = np.random.default_rng(7)
        poses = []
        for _ in range(120):
            w.step(*rng.uniform(-0.2, 1, 2))
            poses.append(np.concatenate([w.ego_pose, w.objects().boxes.ravel()]))
        return np.concatenate(poses), w.get_state()

    a, sa = run(3)
    b, sb = run(3)
    c, _ = run(4)
    assert np.array_equal(a, b) and all(np.array_equal(sa[k], sb[k]) for k in sa)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_set_state_replays_exactly():
    w = World(WorldConfig(**TINY), seed=2)
    for _ in range(10):
        w.step(0.05, 0.5)
    saved = w.get_state()
    for _ in range(30):
        w.step(-0.1, 0.3)
    after = w.get_state()
    w.set_state(saved)
    for _ in range(30):
        w.step(-0.1, 0.3)
    assert all(np.array_equal(after[k], w.get_state()[k]) for k in after)


def test_objects_have_stable_ids_and_classes():
    w = World(WorldConfig(**TINY), seed=0)
    objs = w.objects()
    assert EGO_ID not in objs.instances
    nv, npd, no = len(w.vehicles), len(w.pedestrians), len(w.obstacles)
    assert len(objs) == nv + npd + no
    assert (objs.classes == VEHICLE).sum() == nv and (objs.classes == PEDESTRIAN).sum() == npd
    assert (objs.classes == OBSTACLE).sum() == no
    first = dict(zip(objs.instances.tolist(), objs.classes.tolist(), strict=True))
    for _ in range(20):
        w.step(0.0, 0.5)
    objs = w.objects(include_ego=True)
    assert objs.instances[0] == EGO_ID and objs.classes[0] == VEHICLE
    assert objs.ego_instance == EGO_ID and w.objects().ego_instance == 0
    for inst, cls in zip(objs.instances[1:].tolist(), objs.classes[1:].tolist(), strict=True):
        assert first[inst] == cls
    assert w.instance_class(EGO_ID) == "ego"
    box = objs.boxes[0]
    assert np.allclose(box[[0, 1, 6]], w.ego_pose, atol=1e-4)


def test_collision_with_an_obstacle():
    w = World(WorldConfig(lanes=2, road_length=200.0, ego_lane=0, **EMPTY), seed=0)
    x, y, h = w.road.pose_at(w.s + 8.0, w.d)
    w._obs = np.zeros((1, T.NO))
    w._obs[0, [T.O_S, T.O_D, T.O_LEN, T.O_WID, T.O_HEI]] = w.s + 8.0, w.d, 1.0, 1.0, 1.0
    w._obs[0, [T.O_X, T.O_Y, T.O_YAW, T.O_HS, T.O_HD]] = x, y, h, 0.5, 0.5
    for _ in range(20):
        w.step(0.0, 0.5)
        if w.collision:
            break
    assert w.collision == 2 and w.instance_class(w.collision) == "obstacle"


def test_off_road_and_route_progress():
    w = World(WorldConfig(lanes=2, road_length=200.0, curvature=0.0, **EMPTY), seed=0)
    s0 = w.s
    for _ in range(10):
        w.step(0.0, 0.0)
    assert w.s - s0 == pytest.approx(10.0, rel=1e-6) and abs(w.heading_error) < 1e-9
    assert not w.off_road
    for _ in range(60):
        w.step(1.0, 0.0)
        if w.off_road:
            break
    assert w.off_road and abs(w.d) > w.config.half_width


def test_lidar_sees_road_edges_and_objects():
    cfg = WorldConfig(lanes=2, road_length=200.0, curvature=0.0, ego_lane=0, **EMPTY)
    w = World(cfg, seed=0)
    r = w.lidar(4, 50.0)  # ahead, left, behind, right
    assert r[0] == 50.0 and r[2] == 50.0
    assert r[1] == pytest.approx(cfg.half_width - w.d, abs=1e-6)
    assert r[3] == pytest.approx(cfg.half_width + w.d, abs=1e-6)
    s = w.state_vector()
    assert s.shape == (STATE_SIZE,) and s.dtype == np.float32 and np.isfinite(s).all()
    assert s[0] == pytest.approx(cfg.ego_speed / 20.0)


def test_fixed_map_seed_keeps_the_road():
    w = World(WorldConfig(road_length=150.0), seed=0, map_seed=9)
    g1 = w.ground
    w.reset(5)
    assert w.ground is g1
    w2 = World(WorldConfig(road_length=150.0), seed=0)
    w2.reset(5)
    assert w2.ground.ground.shape != g1.ground.shape or not np.array_equal(
        w2.ground.ground, g1.ground
    )

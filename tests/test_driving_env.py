"""``simarena/Drive-v0``: API checks (Gymnasium and SB3), determinism, episode ends,
strict actions, image modes and rendering, on tiny maps."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from envs.driving.env import DISCRETE_ACTIONS, DriveEnv
from sim.driving import traffic as T
from sim.driving.scene import NUM_CLASSES, PEDESTRIAN, VEHICLE
from sim.driving.world import STATE_SIZE
from sim.driving.world_config import WorldConfig

TINY = dict(road_length=120.0, lanes=2, traffic_density=12.0, pedestrians=2, obstacles=1)
EMPTY = dict(traffic_density=0.0, pedestrians=0, obstacles=0)
SMALL = (32, 32)


def _check(env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gym_check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)


@pytest.mark.parametrize("obs_mode", ["state", "lidar"])
@pytest.mark.parametrize("action_type", ["continuous", "discrete"])
def test_check_env_vector_modes(obs_mode, action_type):
    _check(DriveEnv(obs_mode=obs_mode, action_type=action_type, **TINY))


@pytest.mark.parametrize(
    "obs_mode, camera", [("rgb", "front"), ("rgb_labels", "topdown"), ("rgb", "surround")]
)
def test_check_env_image_modes(obs_mode, camera):
    env = DriveEnv(obs_mode=obs_mode, camera=camera, resolution=SMALL, **TINY)
    _check(env)
    obs, info = env.reset(seed=0)
    n = 6 if camera == "surround" else 1
    rgb = obs if obs_mode == "rgb" else obs["rgb"]
    assert rgb.shape == ((n,) if n > 1 else ()) + (*SMALL, 3) and rgb.dtype == np.uint8
    if obs_mode == "rgb_labels":
        assert obs["labels"].shape == SMALL and obs["labels"].max() < NUM_CLASSES
    for key in ("boxes", "box_classes", "box_instances", "box_visible", "box_camera"):
        assert len(info[key]) == len(info["box_classes"])
    assert set(info["box_classes"].tolist()) <= {VEHICLE, PEDESTRIAN}


def test_registered_and_spaces():
    env = gymnasium.make("simarena/Drive-v0", **TINY)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (STATE_SIZE,) and env.observation_space.contains(obs)
    lidar = DriveEnv(obs_mode="lidar", lidar_beams=16, **TINY)
    assert lidar.observation_space.shape == (19,)
    disc = DriveEnv(action_type="discrete", **TINY)
    assert disc.action_space.n == len(DISCRETE_ACTIONS) == 36


def _rollout(env, seed, steps=60):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(0)
    out = [np.asarray(obs if not isinstance(obs, dict) else obs["rgb"], np.float64).ravel()]
    for _ in range(steps):
        a = np.array([rng.uniform(-0.1, 0.1), rng.uniform(0, 1)], np.float32)
        obs, r, term, trunc, _ = env.step(a)
        o = obs if not isinstance(obs, dict) else obs["rgb"]
        out.append(np.concatenate([np.asarray(o, np.float64).ravel(), [r]]))
        if term or trunc:
            break
    return np.concatenate(out)


def test_same_seed_same_trajectory():
    a = _rollout(DriveEnv(**TINY), 5)
    b = _rollout(DriveEnv(**TINY), 5)
    c = _rollout(DriveEnv(**TINY), 6)
    assert np.array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c)


def test_same_seed_same_frames():
    kw = dict(obs_mode="rgb", resolution=SMALL, randomization="full", **TINY)
    assert np.array_equal(_rollout(DriveEnv(**kw), 3, 10), _rollout(DriveEnv(**kw), 3, 10))


def test_collision_terminates_with_penalty():
    env = DriveEnv(lanes=2, road_length=150.0, **EMPTY)
    env.reset(seed=0)
    w = env.world
    x, y, h = w.road.pose_at(w.s + 7.0, w.d)
    obs = np.zeros((1, T.NO))
    obs[0, [T.O_S, T.O_D, T.O_LEN, T.O_WID, T.O_HEI]] = w.s + 7.0, w.d, 1.0, 1.0, 1.0
    obs[0, [T.O_X, T.O_Y, T.O_YAW, T.O_HS, T.O_HD]] = x, y, h, 0.5, 0.5
    w._obs = obs
    for _ in range(20):
        _, r, term, trunc, info = env.step(np.array([0.0, 1.0], np.float32))
        if term:
            break
    assert term and not trunc and info["collision"] > 0 and info["collision_class"] == "obstacle"
    assert r < -5
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, np.float32))


def test_off_road_terminates():
    env = DriveEnv(road_length=150.0, curvature=0.0, **EMPTY)
    env.reset(seed=1)
    for _ in range(100):
        _, r, term, trunc, info = env.step(np.array([1.0, 0.0], np.float32))
        if term:
            break
    assert term and info["off_road"] and not info["collision"] and r < -5


def test_route_complete_terminates_and_max_steps_truncates():
    env = DriveEnv(road_length=80.0, curvature=0.0, **EMPTY)
    env.reset(seed=0)
    total = 0.0
    for _ in range(200):
        _, r, term, trunc, info = env.step(np.array([0.0, 0.5], np.float32))
        total += r
        if term:
            break
    assert term and info["route_complete"] and total > 5
    short = DriveEnv(max_steps=5, **TINY)
    short.reset(seed=0)
    for k in range(5):
        _, _, term, trunc, _ = short.step(np.zeros(2, np.float32))
        assert term is False and trunc == (k == 4)


def test_strict_action_error_leaves_state_unchanged():
    env = DriveEnv(strict=True, **TINY)
    env.reset(seed=0)
    env.step(np.array([0.1, 0.5], np.float32))
    before = env.get_state()
    for bad in ([1.5, 0.0], [0.0, -2.0], [np.nan, 0.0], [0.0], "left"):
        with pytest.raises(ValueError):
            env.step(np.array(bad) if not isinstance(bad, str) else bad)
        after = env.get_state()
        assert all(np.array_equal(before[k], after[k]) for k in before)
    # lenient: out-of-range actions are clipped to the box
    lenient_a, lenient_b = DriveEnv(**TINY), DriveEnv(**TINY)
    lenient_a.reset(seed=2)
    lenient_b.reset(seed=2)
    oa = lenient_a.step(np.array([5.0, 3.0], np.float32))[0]
    ob = lenient_b.step(np.array([1.0, 1.0], np.float32))[0]
    assert np.array_equal(oa, ob)
    with pytest.raises(ValueError, match="finite"):
        lenient_a.step(np.array([np.inf, 0.0]))


def test_discrete_actions_are_validated():
    env = DriveEnv(action_type="discrete", **TINY)
    env.reset(seed=0)
    env.step(7)
    env.step(np.int64(35))
    for bad in (36, -1, 0.5):
        with pytest.raises(ValueError, match="discrete"):
            env.step(bad)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"obs_mode": "pixels"}, "obs_mode"),
        ({"camera": "rear"}, "camera"),
        ({"resolution": (0, 32)}, "resolution"),
        ({"action_type": "multi"}, "action_type"),
        ({"render_mode": "ansi"}, "render_mode"),
        ({"randomization": "wild"}, "randomization"),
        ({"lanes": 0}, "lanes"),
        ({"road_length": -1.0}, "road_length"),
        ({"traffic_density": -1.0}, "traffic_density"),
        ({"config": WorldConfig(), "curvature": 1.0}, "curvature"),
        ({"reward_weights": {"speeed": 1.0}}, "reward_weights"),
        ({"max_steps": 0}, "max_steps"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DriveEnv(**kwargs)


def test_render_rgb_array_shows_birdseye_beside_cameras():
    env = DriveEnv(render_mode="rgb_array", resolution=SMALL, camera="surround", **TINY)
    env.reset(seed=0)
    env.step(np.zeros(2, np.float32))
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[0] == 256
    assert frame.shape[1] > 256  # the camera grid beside the bird's-eye view
    plain = DriveEnv(render_mode="rgb_array", camera="front", resolution=SMALL, **TINY)
    plain.reset(seed=0)
    assert plain.render().shape[1] > 256

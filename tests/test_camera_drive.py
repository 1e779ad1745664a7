"""Camera-only driving (``perception.driving``): the views a policy sees, the env's API
checks, the CNN policy that takes them, and a tiny DAgger run of the driving script."""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401
from agents.ppo import checkpoint as ppo_ckpt
from agents.ppo.gym_source import GymSource, policy_spec
from agents.ppo.network import build_policy
from perception.checkpoint import save_model
from perception.driving import (
    MAKE_ID,
    CameraView,
    class_counts,
    make_camera_drive,
    pooled_pixels,
)
from perception.models import ModelConfig, build_model
from sim.driving.scene import NUM_CLASSES

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(road_length=120.0, lanes=2, traffic_density=8.0, pedestrians=1, obstacles=1)
SMALL = (32, 32)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    torch.manual_seed(0)
    model = build_model(ModelConfig(width=4))  # 96x96, the camera's default
    return str(save_model(tmp_path_factory.mktemp("perception") / "model.safetensors", model))


def test_class_counts_and_pooled_pixels_by_hand():
    labels = np.zeros((4, 4), np.uint8)
    labels[0, 0] = 3
    labels[2:, 2:] = 5
    counts = class_counts(labels, 2)
    assert counts.shape == (NUM_CLASSES, 2, 2) and counts.dtype == np.uint8
    assert counts[0].tolist() == [[3, 4], [4, 0]]
    assert counts[3].tolist() == [[1, 0], [0, 0]]
    assert counts[5].tolist() == [[0, 0], [0, 4]]
    assert counts.sum(0).tolist() == [[4, 4], [4, 4]]
    rgb = np.zeros((2, 4, 3), np.uint8)
    rgb[:, :2, 0] = [[10, 20], [30, 41]]  # mean 25.25
    rgb[:, 2:, 2] = 255
    px = pooled_pixels(rgb, 2)
    assert px.shape == (3, 1, 2) and px[0].tolist() == [[25, 0]] and px[2].tolist() == [[0, 255]]


@pytest.mark.parametrize("view", ["pixels", "labels", "segmentation"])
def test_every_view_passes_the_checkers_and_is_deterministic(view, model_path):
    kwargs = dict(view=view, perception=model_path, **TINY)
    if view != "segmentation":
        kwargs.pop("perception")
    env = gymnasium.make(MAKE_ID, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gym_check_env(env.unwrapped, skip_render_check=True)
        gym_check_env(env, skip_render_check=True)
        sb3_check_env(env, warn=False)
    planes = 3 if view == "pixels" else NUM_CLASSES
    assert env.observation_space.shape == (2 * planes, 24, 24)

    def rollout(seed):
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for a in [4, 4, 13, 22, 31, 0, 8] * 3:
            obs, _, term, trunc, _ = env.step(a)
            out.append(obs)
            if term or trunc:
                break
        return np.stack(out)

    a, b = rollout(5), rollout(5)
    np.testing.assert_array_equal(a, b)
    assert env.observation_space.contains(a[-1])
    if view != "pixels":  # each cell's counts add up to its pixels
        assert (a[-1][:NUM_CLASSES].sum(0) == 16).all()


def test_views_show_the_true_labels_and_the_model_prediction(model_path):
    import perception

    truth = make_camera_drive("labels", frame_stack=1, **TINY)
    seg = make_camera_drive("segmentation", model_path, frame_stack=1, **TINY)
    obs_t, _ = truth.reset(seed=3)
    obs_s, _ = seg.reset(seed=3)
    u = seg.unwrapped
    frame = u._frames[0]
    np.testing.assert_array_equal(obs_t, class_counts(frame.labels, 4))
    predicted = perception.load(model_path).predict(frame.rgb).labels
    np.testing.assert_array_equal(obs_s, class_counts(predicted, 4))


def test_bad_views_are_refused(model_path):
    from envs.driving.env import DriveEnv

    with pytest.raises(ValueError, match="view must be one of"):
        make_camera_drive("depth", resolution=SMALL, **TINY)
    with pytest.raises(ValueError, match="needs a perception model"):
        make_camera_drive("segmentation", resolution=SMALL, **TINY)
    with pytest.raises(ValueError, match="trained on 96x96 images, not 48x48"):
        make_camera_drive("segmentation", model_path, resolution=(48, 48), **TINY)
    with pytest.raises(ValueError, match="pool must be an int >= 1 dividing"):
        make_camera_drive("pixels", pool=5, resolution=SMALL, **TINY)
    with pytest.raises(ValueError, match="frame_stack must be"):
        make_camera_drive("pixels", frame_stack=0, resolution=SMALL, **TINY)
    with pytest.raises(ValueError, match="obs_mode is set by the view"):
        make_camera_drive("pixels", obs_mode="state", resolution=SMALL, **TINY)
    with pytest.raises(ValueError, match="takes no perception model"):
        make_camera_drive("pixels", model_path, resolution=SMALL, **TINY)
    with pytest.raises(ValueError, match="one-camera Drive-v0 env with obs_mode 'rgb'"):
        CameraView(DriveEnv(obs_mode="state", **TINY), "pixels")


def test_ppo_takes_a_camera_env_with_a_cnn_policy(tmp_path):
    source = GymSource(MAKE_ID, 2, seed=0, env_options={"view": "labels", **TINY})
    spec = source.spec(hidden=32)
    assert spec.kind == "cnn" and spec.image_shape == (2 * NUM_CLASSES, 24, 24)
    assert spec.image_scale == pytest.approx(1 / 16)
    obs, starts = source.reset()
    assert obs["x"].shape == (2, 2 * NUM_CLASSES, 24, 24) and obs["x"].dtype == np.uint8
    net = build_policy(spec)
    logits, value, _ = net({"x": torch.from_numpy(obs["x"])}, net.initial_state(2), torch.ones(2))
    assert logits[0].shape == (2, 36) and value.shape == (2,)
    with pytest.raises(ValueError, match="takes images"):
        wrong = torch.zeros(1, 3, 24, 24, dtype=torch.uint8)
        net({"x": wrong}, net.initial_state(1), torch.ones(1))
    # any image size fits the CNN; a channels-last camera frame stays a flat vector
    for shape in [(3, 8, 8), (1, 1, 1), (10, 10, 10), (4, 84, 84)]:
        small = build_policy(policy_spec(spaces.Box(0, 255, shape, np.uint8), (3,)))
        out = small({"x": torch.zeros(2, *shape, dtype=torch.uint8)}, small.initial_state(2),
                    torch.ones(2))  # fmt: skip
        assert out[0][0].shape == (2, 3)
    assert policy_spec(spaces.Box(0, 255, (96, 96, 3), np.uint8), (3,)).kind == "mlp"
    # the spec survives a checkpoint, and a state-vector layout is refused
    from agents.ppo.config import PPOConfig
    from agents.ppo.train import save_policy

    path = save_policy(tmp_path / "p.safetensors", net, spec, PPOConfig(env=MAKE_ID), {})
    loaded, got, _ = ppo_ckpt.load_policy(path, expected=spec)
    assert got == spec
    other = GymSource("simarena/Drive-v0", 1, env_options={"action_type": "discrete"}).spec()
    with pytest.raises(ppo_ckpt.CheckpointError, match="image_shape"):
        ppo_ckpt.load_policy(path, expected=other)
    source.close()


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_dagger_from_the_camera_trains_and_evaluates(tmp_path, model_path, capsys):
    tdb = _script("train_drive_baseline")
    ev = _script("evaluate_drive")
    run = tmp_path / "run"
    args = tdb.Args(
        run_dir=str(run), view="labels", dagger_rounds=2, episodes_per_round=1,
        grad_steps=5, batch_size=16, validate_episodes=1, ppo_minutes=0.0, num_envs=1,
        num_steps=8, hidden=32,
    )  # fmt: skip
    summary = tdb.main(args)
    assert summary["view"] == "labels" and [r["round"] for r in summary["dagger"]] == [0, 1]
    steps = [r["env_steps"] for r in summary["dagger"]]
    assert 0 < steps[0] < steps[1] == summary["dagger_env_steps"]
    # the labels-trained policy, driven through the perception model's segmentation
    report = ev.main(ev.Args(
        checkpoint=str(run), episodes=1, env_options={
            "view": "segmentation", "perception": model_path},
    ))  # fmt: skip
    assert report.episodes == 1
    with pytest.raises(ValueError, match="takes inputs"):
        ev.main(ev.Args(checkpoint=str(run), episodes=1, env_options={"view": "pixels"}))
    with pytest.raises(ValueError, match="needs --perception"):
        tdb.env_spec(tdb.Args(view="segmentation"))

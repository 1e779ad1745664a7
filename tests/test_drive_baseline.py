"""The driving baseline: PPO trains on Drive-v0's state vector through the train CLI, and
scripts/evaluate_drive.py counts route completions, crashes, off-road exits and
timeouts correctly on seeds apart from training."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import gymnasium
import numpy as np
import pytest

import envs  # noqa: F401  (registers simarena/Drive-v0)
from selfplay.match import wilson_interval

ROOT = Path(__file__).resolve().parents[1]


def _evaluate_drive():
    path = ROOT / "scripts" / "evaluate_drive.py"
    spec = importlib.util.spec_from_file_location("evaluate_drive", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["evaluate_drive"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


ed = _evaluate_drive()


def _lane_keeper(speed: float):
    """Follows its lane at ``speed`` and ignores everything else (so it hits obstacles)."""

    def act(obs):
        he = math.atan2(obs[3], obs[4])
        lane = obs[2] * 1.75  # lane offset (m)
        steer = (0.15 * obs[6] / 50 * 2.7 - 0.25 * lane - 1.2 * math.sin(he)) / 0.55
        throttle = 0.3 * (speed - 20.0 * obs[0])
        return np.clip(np.array([steer, throttle], np.float32), -1, 1)

    return act


def _tally(env, driver, episodes: int, seed: int) -> dict[str, int]:
    """Outcomes counted by hand, from the env's final info."""
    out = {"completed": 0, "crashes": 0, "off_road": 0, "timeouts": 0}
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, _, term, trunc, info = env.step(driver(obs))
            done = term or trunc
        key = ("crashes" if info["collision"] else "off_road" if info["off_road"]
               else "completed" if info["route_complete"] else "timeouts")  # fmt: skip
        out[key] += 1
    return out


def test_counts_match_a_hand_tally_with_crashes():
    env = gymnasium.make("simarena/Drive-v0", road_length=200.0, obstacles=3, max_steps=300)
    driver = _lane_keeper(14.0)
    report = ed.evaluate_drive(env, driver, episodes=8, seed=5)
    tally = _tally(env, driver, 8, 5)
    got = {k: getattr(report, k) for k in tally}
    assert got == tally
    assert report.crashes >= 1 and report.completed >= 1  # both outcomes exercised
    assert sum(got.values()) == report.episodes == 8
    assert report.completion_rate == report.completed / 8
    assert report.completion_ci95 == pytest.approx(wilson_interval(report.completed, 8))
    assert sum(report.crash_classes.values()) == report.crashes
    assert len(report.failed_seeds) == 8 - report.completed
    assert 10.0 < report.mean_speed < 16.0


def test_scripted_driver_completes_an_empty_road_and_other_outcomes_count():
    empty = dict(road_length=150.0, traffic_density=0.0, pedestrians=0, obstacles=0)
    env = gymnasium.make("simarena/Drive-v0", **empty)
    report = ed.evaluate_drive(env, ed.ScriptedDriver(env), episodes=3, seed=7)
    assert (report.completed, report.crashes, report.off_road, report.timeouts) == (3, 0, 0, 0)
    assert report.completion_ci95 == pytest.approx(wilson_interval(3, 3))
    # the discrete action set is enough for the scripted driver too
    disc = gymnasium.make("simarena/Drive-v0", action_type="discrete", **empty)
    assert ed.evaluate_drive(disc, ed.ScriptedDriver(disc), 2, seed=7).completed == 2
    # hard left: off the road; full brake: cut off by max_steps
    short = gymnasium.make("simarena/Drive-v0", max_steps=30, **empty)
    left = ed.evaluate_drive(short, lambda o: np.array([1.0, 0.0], np.float32), 2, seed=1)
    assert (left.off_road, left.completed, left.failed_seeds) == (2, 0, [1, 2])
    stop = ed.evaluate_drive(short, lambda o: np.array([0.0, -1.0], np.float32), 2, seed=1)
    assert (stop.timeouts, stop.completed, stop.mean_steps) == (2, 0, 30.0)
    with pytest.raises(ValueError, match="episodes"):
        ed.evaluate_drive(short, ed.ScriptedDriver(short), 0)


def test_ppo_train_cli_then_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), "ppo",
           "--env", "simarena/Drive-v0",
           "--env-options", "action_type", "discrete", "obs_mode", "state", "max_steps", "40",
           "--num-envs", "2", "--num-steps", "16", "--max-updates", "2", "--minutes", "1",
           "--eval-every-minutes", "0", "--threads", "1", "--rollout-workers", "0",
           "--run-dir", str(run), "--json"]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1])["updates"] == 2

    args = ed.Args(checkpoint=str(run), episodes=2, json=True)
    report = ed.main(args)
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["episodes"] == 2 and out["env_options"]["max_steps"] == 40
    total = report.completed + report.crashes + report.off_road + report.timeouts
    assert total == 2 and out["completed"] == report.completed
    lo, hi = out["completion_ci95"]
    assert 0.0 <= lo <= out["completion_rate"] <= hi <= 1.0
    # training reset seeds 0, 1, ... are refused; a wrong env is refused
    with pytest.raises(ValueError, match="overlap the training seeds"):
        ed.main(ed.Args(checkpoint=str(run), episodes=2, seed=0))
    with pytest.raises(ValueError, match="inputs"):
        ed.main(ed.Args(checkpoint=str(run), episodes=1, env_options={"obs_mode": "lidar"}))
    with pytest.raises(ValueError, match="exactly one"):
        ed.main(ed.Args(episodes=1))


def test_warm_started_ppo_run_is_an_ordinary_ppo_run(tmp_path, capsys):
    path = ROOT / "scripts" / "train_drive_baseline.py"
    spec = importlib.util.spec_from_file_location("train_drive_baseline", path)
    tdb = importlib.util.module_from_spec(spec)
    sys.modules["train_drive_baseline"] = tdb
    spec.loader.exec_module(tdb)
    run = tmp_path / "run"
    args = tdb.Args(run_dir=str(run), ppo_minutes=0.01, dagger_rounds=2, episodes_per_round=1,
                    grad_steps=2, batch_size=8, num_envs=2, num_steps=8, hidden=16,
                    validate_every=1, validate_episodes=1, critic_warmup_updates=1)  # fmt: skip
    summary = tdb.main(args)
    assert (run / "warm_start.safetensors").is_file()
    assert (run / "checkpoint.safetensors").is_file()
    out = capsys.readouterr().out
    assert "dagger round 1: policy completed" in out and "validation" in out
    # Only PPO-updated policies (past the critic warm-up) are candidates.
    assert summary["updates"] >= 2 and 0.0 <= summary["best_validation"] <= 1.0
    assert json.loads((run / "summary.json").read_text())["updates"] == summary["updates"]
    report = ed.main(ed.Args(checkpoint=str(run), episodes=1))
    assert report.episodes == 1


def test_state_vector_lane_features_see_gaps_ahead_and_behind():
    """An obstacle 30 m ahead in the ego's lane and a car 20 m behind in the lane to its
    left read as bumper-to-bumper gaps and closing speeds; the missing lane to the right
    of the rightmost lane reads blocked (zeros)."""
    from sim.driving.traffic import O_D, O_LEN, O_S, O_WID, V_ACTIVE, V_D, V_LEN, V_S, V_V
    from sim.driving.world import STATE_SIZE, World
    from sim.driving.world_config import WorldConfig

    cfg = WorldConfig(traffic_density=4.0, pedestrians=0, obstacles=1, ego_lane=0,
                      curvature=0.0)  # fmt: skip
    w = World(cfg, seed=3)
    ego_s, ego_v = w.s, w.speed
    o = w.obstacles
    o[0, O_S], o[0, O_D], o[0, O_LEN], o[0, O_WID] = ego_s + 30.0, cfg.lane_center(0), 2.0, 1.0
    v = w.vehicles
    v[:, V_ACTIVE] = 0.0
    v[0, V_ACTIVE], v[0, V_S], v[0, V_D], v[0, V_V] = 1.0, ego_s - 20.0, cfg.lane_center(1), 14.0
    s = w.state_vector()
    assert s.shape == (STATE_SIZE,) == (69,)
    lane = 41
    half_ego = cfg.ego_length / 2
    assert s[lane] == 0.0  # the rightmost of three lanes
    own, left, right = s[lane + 1 : lane + 6], s[lane + 6 : lane + 11], s[lane + 11 :]
    assert own[0] == 1.0 and own[1] == pytest.approx((30.0 - 1.0 - half_ego) / 60, abs=1e-3)
    assert own[2] == pytest.approx(ego_v / 20, abs=1e-3) and own[3] == 1.0  # nothing behind
    rear_gap = (20.0 - v[0, V_LEN] / 2 - half_ego) / 60
    assert left[0] == 1.0 and left[1] == 1.0 and left[3] == pytest.approx(rear_gap, abs=1e-3)
    assert left[4] == pytest.approx((14.0 - ego_v) / 20, abs=1e-3)
    assert (right[:5] == 0).all()
    # the slots' sizes: positive for a present object, zero for an empty slot
    present = s[11:41].reshape(6, 5)[:, 4] > 0.5
    sizes = s[57:69].reshape(6, 2)
    assert ((sizes > 0).all(1) == present).all()


def test_dagger_continues_from_a_policy_with_forked_workers(tmp_path, capsys):
    path = ROOT / "scripts" / "train_drive_baseline.py"
    spec = importlib.util.spec_from_file_location("train_drive_baseline", path)
    tdb = importlib.util.module_from_spec(spec)
    sys.modules["train_drive_baseline"] = tdb
    spec.loader.exec_module(tdb)
    tiny = dict(ppo_minutes=0.0, dagger_rounds=2, episodes_per_round=1, grad_steps=2,
                batch_size=8, num_envs=2, num_steps=8, hidden=16, validate_episodes=2)  # fmt: skip
    first = tmp_path / "first"
    tdb.main(tdb.Args(run_dir=str(first), **tiny))
    second = tmp_path / "second"
    init = str(first / "warm_start.safetensors")
    summary = tdb.main(tdb.Args(run_dir=str(second), init=init, workers=2, **tiny))
    out = capsys.readouterr().out
    assert "initial policy" in out and "dagger round 1: policy completed" in out
    assert summary["best_validation"] >= 0.0
    assert ed.main(ed.Args(checkpoint=str(second), episodes=1)).episodes == 1
    assert tdb._split(10, 5, 2) == [(10, 3), (13, 2)]

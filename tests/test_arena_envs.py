"""FogArena envs: PettingZoo and Gymnasium/SB3 checkers, seeding, masks, strict and
lenient actions, rewards, replays, rendering."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import json  # noqa: E402

import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test  # noqa: E402

import envs  # noqa: E402, F401
from envs.arena import fogarena_v0  # noqa: E402
from envs.arena.render import play_replay  # noqa: E402
from sim.arena.replay import ReplayError, load_replay  # noqa: E402

# Dict observations and tuple masks draw PettingZoo's generic advice.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is not a NumPy array"),
    pytest.mark.filterwarnings("ignore:Action mask is not a NumPy array"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros"),
    pytest.mark.filterwarnings("ignore:Observation space for each agent probably"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]


def noop(env):
    return {a: np.zeros(3, dtype=np.int64) for a in env.agents}


def test_parallel_api():
    parallel_api_test(fogarena_v0.parallel_env(team_size=2, enemy_team_size=3), num_cycles=150)


def test_aec_api():
    api_test(fogarena_v0.env(team_size=2, time_limit=60), num_cycles=80)


def test_parallel_seed():
    parallel_seed_test(lambda: fogarena_v0.parallel_env(team_size=2, time_limit=100))


def test_same_seed_same_trajectory_and_hash():
    def run(seed):
        env = fogarena_v0.parallel_env(team_size=3, time_limit=150)
        obs, _ = env.reset(seed=seed)
        rng = np.random.default_rng(1)
        total = 0.0
        while env.agents:
            acts = {}
            for a in env.agents:
                space = env.action_space(a)
                space.seed(int(rng.integers(1 << 30)))
                acts[a] = space.sample(mask=obs[a]["action_mask"])
            obs, rew, *_ = env.step(acts)
            total += sum(rew.values())
        return env.state_hash(), total

    assert run(3) == run(3)
    assert run(3)[0] != run(4)[0]


def test_dead_hero_stays_in_agents_with_noop_masks():
    env = fogarena_v0.parallel_env(team_size=1, time_limit=500)
    env.reset(seed=0)
    env.core.batch.ui[0, 0, 6] = -1000  # F_HP
    obs, rew, term, trunc, info = env.step(noop(env))
    a = "team0_hero0"
    assert a in env.agents and not term[a]
    move, attack, ability = obs[a]["action_mask"]
    assert move.sum() == attack.sum() == ability.sum() == 1
    assert obs[a]["observation"]["entities"][0, 18] == 0.0  # alive feature
    assert env.reward_components()[a]["death"] == 1.0


def test_strict_and_lenient_illegal_actions():
    strict = fogarena_v0.parallel_env(team_size=1, illegal_action="strict")
    strict.reset(seed=0)
    h = strict.state_hash()
    bad = {"team0_hero0": np.array([0, 33, 0])}
    with pytest.raises(ValueError, match="out of range"):
        strict.step(bad)
    masked = {"team0_hero0": np.array([0, 5, 0])}  # an enemy hero not in range at start
    with pytest.raises(ValueError, match="illegal attack 5 for team0_hero0"):
        strict.step(masked)
    assert strict.state_hash() == h
    lenient = fogarena_v0.parallel_env(team_size=1)
    lenient.reset(seed=0)
    lenient.step(masked)  # becomes a no-op
    assert lenient.core.log[-1][0].tolist() == [0, -1, -1]


@pytest.mark.parametrize(
    "actions, words",
    [
        ({"nobody": np.zeros(3, dtype=int)}, "unknown agent"),
        ({"team0_hero0": np.zeros(2, dtype=int)}, "3 integers"),
        ({"team0_hero0": np.array([0.5, 0, 0])}, "3 integers"),
        ([0, 0, 0], "must be a dict"),
    ],
)
def test_bad_actions_errors(actions, words):
    env = fogarena_v0.parallel_env(team_size=1)
    env.reset(seed=0)
    h = env.state_hash()
    with pytest.raises(ValueError, match=words):
        env.step(actions)
    assert env.state_hash() == h


def test_bad_options_errors():
    with pytest.raises(ValueError, match="illegal_action"):
        fogarena_v0.parallel_env(illegal_action="maybe")
    with pytest.raises(ValueError, match="team_sizes"):
        fogarena_v0.parallel_env(team_size=6)
    with pytest.raises(ValueError, match="unknown reward components"):
        fogarena_v0.parallel_env(reward_weights={"gold": 1.0})
    with pytest.raises(ValueError, match="team_spirit"):
        fogarena_v0.parallel_env(team_spirit=2.0)
    with pytest.raises(ValueError, match="opponent"):
        gymnasium.make("simarena/FogArena-v0", opponent="godlike")


def test_zero_sum_and_team_spirit():
    env = fogarena_v0.parallel_env(team_size=2, time_limit=3, zero_sum=True)
    env.reset(seed=0)
    env.core.batch.ui[0, 18, 6] -= 50  # team 1's base tower: team 0 wins at the limit
    while env.agents:
        _, rew, *_ = env.step(noop(env))
    assert sum(rew.values()) == pytest.approx(0.0)
    assert rew["team0_hero0"] > 0 > rew["team1_hero0"]


def test_gymnasium_and_sb3_checkers():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gymnasium.make("simarena/FogArena-v0", team_size=2, time_limit=200)
    check_env(env.unwrapped)
    sb3_check_env(env.unwrapped)


def test_gym_env_same_seed_same_game_and_masks():
    def run(seed):
        env = gymnasium.make("simarena/FogArena-v0", team_size=2, opponent="hard", time_limit=120)
        obs, info = env.reset(seed=seed)
        rng = np.random.default_rng(0)
        total, done = 0.0, False
        while not done:
            mask = obs["action_mask"].reshape(2, -1)
            act = []
            for row in mask:
                for lo, hi in ((0, 9), (9, 42), (42, 75)):
                    act.append(int(rng.choice(np.flatnonzero(row[lo:hi]))))
            obs, r, term, trunc, info = env.step(np.array(act))
            total += r
            done = term or trunc
        return env.unwrapped.state_hash(), total, info["winner"]

    assert run(7) == run(7)


def test_gym_wrong_action_shape():
    env = gymnasium.make("simarena/FogArena-v0", team_size=2)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="shape"):
        env.step(np.zeros(5, dtype=np.int64))


def test_replay_roundtrip_render_and_malformed_files(tmp_path):
    env = fogarena_v0.parallel_env(team_size=2, time_limit=40, render_mode="rgb_array")
    env.reset(seed=9)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
    path = env.save_replay(tmp_path / "m.npz")
    res = play_replay(path, display=False, team=1, record=tmp_path / "m.mp4")
    assert res["frames"] == 41 and res["hash_ok"] is True
    assert (tmp_path / "m.mp4").stat().st_size > 0
    # malformed files
    with pytest.raises(ReplayError, match="does not exist"):
        load_replay(tmp_path / "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ReplayError, match="malformed"):
        load_replay(tmp_path / "junk.npz")
    np.savez(tmp_path / "nometa.npz", actions=np.zeros((1, 10, 3), dtype=np.int32))
    with pytest.raises(ReplayError, match="needs arrays"):
        load_replay(tmp_path / "nometa.npz")
    _, seed, actions, _ = load_replay(path)
    meta = {"format": "fogarena-replay", "version": 1, "config": {"team_sizes": [2, 2]}}
    np.savez(tmp_path / "noseed.npz", meta=np.array(json.dumps(meta)), actions=actions)
    with pytest.raises(ReplayError, match="seed"):
        load_replay(tmp_path / "noseed.npz")
    meta["seed"] = seed
    bad = actions.copy()
    bad[0, 0, 0] = 12
    np.savez(tmp_path / "range.npz", meta=np.array(json.dumps(meta)), actions=bad)
    with pytest.raises(ReplayError, match="out of range"):
        load_replay(tmp_path / "range.npz")
    np.savez(tmp_path / "shape.npz", meta=np.array(json.dumps(meta)), actions=actions[:, :4])
    with pytest.raises(ReplayError, match="shape"):
        load_replay(tmp_path / "shape.npz")
    with pytest.raises(ValueError, match="speed"):
        play_replay(path, speed=0, display=False)

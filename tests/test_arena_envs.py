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
from envs.arena.raw import shaped_rewards  # noqa: E402
from envs.arena.render import play_replay  # noqa: E402
from sim.arena.config import F_ABL_CD, F_HP, F_LEVEL, F_X, F_Y, REWARD_COMPONENTS  # noqa: E402
from sim.arena.replay import VERSION, ReplayError, load_replay, save_replay  # noqa: E402

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
    masked = {"team0_hero0": np.array([0, 5, 0])}  # slot 4: an ally slot, empty in a 1v1
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


def test_zero_sum_and_team_spirit_by_hand():
    """2v3, team spirit 0.3: hero 0 dealt 100 hp to heroes, hero 6 made a last hit."""
    env = fogarena_v0.parallel_env(team_size=2, enemy_team_size=3, team_spirit=0.3)
    env.reset(seed=0)
    comp = env.core.batch.comp[0]
    comp[:] = 0
    comp[0, REWARD_COMPONENTS.index("damage")] = 100  # 0.2 at weight 0.002
    comp[6, REWARD_COMPONENTS.index("last_hit")] = 1  # 0.16
    # blended: team 0 (0.17, 0.03) sums 0.2; team 1 (0.016, 0.128, 0.016) sums 0.16;
    # zero-sum: team 0 heroes less 0.36 / 4, team 1 heroes less 0.36 / 6
    got = env.core.shaped_rewards()
    want = {0: 0.08, 1: -0.06, 5: -0.044, 6: 0.068, 7: -0.044}
    for h, r in want.items():
        assert got[h] == pytest.approx(r), h
    assert got.sum() == pytest.approx(0.0)
    env.core.zero_sum = False
    got = env.core.shaped_rewards()
    for h, r in {0: 0.17, 1: 0.03, 5: 0.016, 6: 0.128, 7: 0.016}.items():
        assert got[h] == pytest.approx(r), h


def test_zero_sum_holds_for_unequal_teams_and_the_win_is_not_doubled():
    w = np.array([0.002, 0.16, 1.0, -1.0, 0.001, 5.0])
    rng = np.random.default_rng(0)
    comp = rng.integers(0, 3, (50, 10, 6)).astype(np.float32)
    for sizes in ((2, 3), (1, 5), (4, 4)):
        out = shaped_rewards(comp, w, sizes, 0.3, True)
        assert np.allclose(out.sum(-1), 0.0)
    # a win between equal teams is zero-sum already: it keeps its size
    win = np.zeros((10, 6), dtype=np.float32)
    win[:3, 5], win[5:8, 5] = 1, -1
    out = shaped_rewards(win, w, (3, 3), 0.3, True)
    assert np.allclose(out[:3], 5.0) and np.allclose(out[5:8], -5.0)
    # played out: 2v3, team 0 wins at the time limit; every step sums to 0
    env = fogarena_v0.parallel_env(team_size=2, enemy_team_size=3, time_limit=3)
    env.reset(seed=0)
    env.core.batch.ui[0, 18, F_HP] -= 50  # team 1's base tower: team 0 wins at the limit
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
    meta = {"format": "fogarena-replay", "version": VERSION, "config": {"team_sizes": [2, 2]}}
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
    for bad_seed in (True, 1 << 63, "3"):
        meta["seed"] = bad_seed
        np.savez(tmp_path / "seed.npz", meta=np.array(json.dumps(meta)), actions=actions)
        with pytest.raises(ReplayError, match="seed must be an integer"):
            load_replay(tmp_path / "seed.npz")


def test_a_tampered_replay_is_reported_as_diverged(tmp_path):
    env = fogarena_v0.parallel_env(team_size=1, time_limit=30)
    env.reset(seed=2)
    for i, a in enumerate(env.agents):  # seeded: the same match every run
        env.action_space(a).seed(i)
    rng = np.random.default_rng(0)
    while env.agents:
        env.step({a: env.action_space(a).sample() for a in env.agents})
    path = env.save_replay(tmp_path / "ok.npz")
    config, seed, actions, final_hash = load_replay(path)
    assert play_replay(path, display=False)["hash_ok"] is True
    tampered = actions.copy()
    # every hero moves otherwise from tick 5 (one hero's new moves could leave no trace)
    tampered[5:, :, 0] = rng.integers(1, 9, tampered[5:, :, 0].shape)
    bad = save_replay(tmp_path / "bad.npz", config, seed, tampered, final_hash)
    with pytest.raises(ReplayError, match="diverged"):
        play_replay(bad, display=False)
    other_seed = save_replay(tmp_path / "seed.npz", config, seed + 1, actions, final_hash)
    with pytest.raises(ReplayError, match="diverged"):
        play_replay(other_seed, display=False)


def test_team_view_panel_hides_what_the_team_does_not_see():
    from envs.arena.render import ArenaRenderer

    env = fogarena_v0.parallel_env(team_size=1, creeps=False)
    env.reset(seed=0)
    b = env.core.batch
    assert b.vis[0, 0, 5] == 0  # the enemy hero starts out of sight
    r = ArenaRenderer(b.map)
    before = r.draw(b, team=0)
    spectator = r.draw(b)
    b.ui[0, 5, F_HP] = 100
    b.ui[0, 5, F_LEVEL] = 7
    b.ui[0, 5, F_ABL_CD] = 20
    b.ui[0, 15, F_HP] = 1000  # team 1's top tower, unseen
    assert np.array_equal(r.draw(b, team=0), before)
    assert not np.array_equal(r.draw(b), spectator)
    x, y = int(b.ui[0, 5, F_X]), int(b.ui[0, 5, F_Y])
    assert (x, y) != (0, 0)


def test_render_team_is_checked():
    for bad in (2, True, "0"):
        with pytest.raises(ValueError, match="render_team"):
            fogarena_v0.parallel_env(render_team=bad)
        with pytest.raises(ValueError, match="render_team"):
            gymnasium.make("simarena/FogArena-v0", render_team=bad)


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"team0": "godlike"}, "unknown scripted level"),
        ({"team_size": 7}, "team_sizes"),
        ({"view": 3}, "--view"),
        ({"speed": 0.0}, "--speed"),
        ({"replay": "none.npz"}, "does not exist"),
    ],
)
def test_watch_arena_bad_input_exits_2_with_one_line(kwargs, words, tmp_path, capsys, monkeypatch):
    import importlib
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "scripts"))
    mod = importlib.import_module("watch_arena")
    if "replay" in kwargs:
        kwargs["replay"] = tmp_path / kwargs["replay"]
    with pytest.raises(SystemExit) as e:
        mod.main(mod.Config(out=tmp_path, time_limit=5, **kwargs))
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and words in err and err.count("\n") == 1

"""ALE and MinAtar envs of the factory: official checkers over the registered ids, the
cv2-exact resize, backend equivalence, protocols, seeding, state round trips, bad input."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import envs
from envs.atari import MINATAR_GAMES, PROTOCOLS, make_atari, parse_game
from envs.atari.resize import area_table, resize_area

IDS = sorted(i for i, (entry, _) in envs.GYM_ENVS.items() if entry.startswith("envs.atari."))
DETERMINISTIC = {"noop_max": 0, "repeat_action_probability": 0.0}


def test_registered_ids_cover_minatar_and_atari():
    assert len([i for i in IDS if "MinAtar" in i]) == len(MINATAR_GAMES) == 5
    assert "simarena/Atari-Pong-v0" in IDS


@pytest.mark.parametrize("env_id", IDS)
def test_gymnasium_and_sb3_checkers(env_id):
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    env = gymnasium.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # advice on observation bounds, not errors
        check_env(env, skip_render_check=True)
        sb3_check_env(make_atari(envs.GYM_ENVS[env_id][1]["game"]), warn=False)
    obs, info = env.reset(seed=0)
    assert info["protocol"] in PROTOCOLS
    assert env.observation_space.contains(obs)


@pytest.mark.parametrize("game", MINATAR_GAMES)
def test_minatar_seeding_and_state_round_trip(game):
    def run(env, actions):
        out = []
        for a in actions:
            obs, r, term, trunc, _ = env.step(a)
            out.append((obs.copy(), r, term))
            if term or trunc:
                out.append(env.reset()[0].copy())
        return out

    actions = np.random.default_rng(1).integers(6, size=60)
    a, b = make_atari(f"minatar:{game}"), make_atari(f"minatar:{game}")
    oa, _ = a.reset(seed=5)
    ob, _ = b.reset(seed=5)
    np.testing.assert_array_equal(oa, ob)
    assert oa.shape[1:] == (10, 10) and oa.dtype == np.uint8
    run(a, actions[:20])
    state = a.unwrapped.get_state()
    tail = run(a, actions[20:])
    c = make_atari(f"minatar:{game}")
    c.reset(seed=123)  # a different episode, replaced whole by the state
    c.unwrapped.set_state(state)
    for x, y in zip(tail, run(c, actions[20:]), strict=True):
        for u, v in zip(
            x if isinstance(x, tuple) else (x,), y if isinstance(y, tuple) else (y,), strict=True
        ):
            np.testing.assert_array_equal(u, v)


def test_resize_matches_ale_vector_env_and_opencv_tables():
    # Our frames against ale-py's C++ pipeline (OpenCV INTER_AREA inside), both backends.
    for game, proto in (("ALE/Breakout-v5", "nature"), ("pong", "machado")):
        a = make_atari(game, proto, training=True, num_envs=2, overrides=DETERMINISTIC)
        b = make_atari(
            game, proto, training=True, num_envs=2, backend="sync", overrides=DETERMINISTIC
        )
        np.testing.assert_array_equal(a.reset(seed=3)[0], b.reset(seed=3)[0])
        rng = np.random.default_rng(0)
        for _ in range(150):
            act = rng.integers(a.single_action_space.n, size=2)
            ra, rb = a.step(act), b.step(act)
            for x, y in zip(ra[:4], rb[:4], strict=True):
                np.testing.assert_array_equal(x, y)
        assert a.metadata["protocol"]["overrides"] == DETERMINISTIC
    # A frame that is constant stays constant (weights of each output sum to 1).
    out = resize_area(np.full((210, 160), 77, np.uint8), 84, 84)
    assert (out == 77).all()
    di, _, al = area_table(160, 84)
    np.testing.assert_allclose(np.bincount(di, al), 1.0, rtol=1e-6)


def test_protocols_are_stamped_and_shape_the_env():
    m = make_atari("ALE/Breakout-v5", "machado")
    n = make_atari("BreakoutNoFrameskip-v4", "nature", training=True)
    assert m.action_space.n == 18 and n.action_space.n == 4
    assert m.observation_space.shape == (4, 84, 84)
    pm, pn = m.metadata["protocol"], n.metadata["protocol"]
    assert pm["repeat_action_probability"] == 0.25 and not pm["life_loss"]
    assert not pm["reward_clipping"] and pn["reward_clipping"] and pn["life_loss"]
    _, info = n.reset(seed=0)
    assert info["protocol"] == "nature" and info["life_loss"] is False
    lost = False
    for _ in range(400):
        _, r, term, trunc, info = n.step(n.action_space.sample())
        assert r in (-1.0, 0.0, 1.0)
        lost |= info["life_loss"]
        if term or trunc:
            break
    assert lost  # random Breakout loses a life within 400 steps, the episode going on


def test_vector_env_and_game_ids():
    v = make_atari("minatar:freeway", num_envs=3)
    obs, _ = v.reset(seed=0)
    assert obs.shape == (3, 7, 10, 10) and v.metadata["protocol"]["name"] == "minatar"
    assert parse_game("simarena/MinAtar-SpaceInvaders-v0") == ("minatar", "space_invaders")
    assert parse_game("MinAtar/Breakout-v1") == ("minatar", "breakout")
    assert parse_game("ALE/MsPacman-v5") == ("ale", "ms_pacman")
    assert parse_game("PongNoFrameskip-v4") == ("ale", "pong")


def test_bad_input():
    with pytest.raises(ValueError, match=r"unknown game id 'ALE/Nope-v5'; available: .*minatar:"):
        make_atari("ALE/Nope-v5")
    with pytest.raises(ValueError, match="ALE/Pong-v5"):
        make_atari("minatar:pong")
    with pytest.raises(ValueError, match="unknown protocol 'v4'"):
        make_atari("pong", "v4")
    with pytest.raises(ValueError, match="does not apply"):
        make_atari("minatar:breakout", "nature")
    with pytest.raises(ValueError, match="unknown protocol setting 'frameskip'"):
        make_atari("pong", overrides={"frameskip": 2})
    with pytest.raises(ValueError, match="num_envs"):
        make_atari("pong", num_envs=0)
    with pytest.raises(ValueError, match="backend 'ale' is for ALE"):
        make_atari("minatar:breakout", num_envs=2, backend="ale")
    env = make_atari("minatar:breakout")
    env.reset(seed=0)
    before = env.unwrapped.get_state()
    for bad in (6, -1, 1.5, "x"):
        with pytest.raises(ValueError, match="invalid action"):
            env.step(bad)
    assert env.unwrapped.get_state() == before


def test_minatar_vector_env_equals_sync_vector_env():
    """Our MinAtar vector env steps exactly as SyncVectorEnv over the single envs,
    autoresets and the time limit included; its state round trip resumes exactly."""
    from envs.atari.minatar import MinAtarVectorEnv

    short = {"max_episode_steps": 40}  # truncations too, not only game overs
    fast = make_atari("minatar:breakout", num_envs=3, overrides=short)
    sync = make_atari("minatar:breakout", num_envs=3, backend="sync", overrides=short)
    assert isinstance(fast, MinAtarVectorEnv) and fast.metadata["backend"] == "minatar"
    np.testing.assert_array_equal(fast.reset(seed=4)[0], sync.reset(seed=4)[0])
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(120):
        act = rng.integers(6, size=3)
        ra, rb = fast.step(act), sync.step(act)
        for x, y in zip(ra[:4], rb[:4], strict=True):
            np.testing.assert_array_equal(x, y)
        ends += int((ra[2] | ra[3]).sum())
    assert ends > 3
    state, pending = fast.get_state(), fast._autoreset_envs.tolist()
    other = make_atari("minatar:breakout", num_envs=3, overrides=short)
    other.reset(seed=99)  # other episodes, replaced whole by the state
    other.set_state(state, pending)
    for act in rng.integers(6, size=(60, 3)):
        ra, rb = fast.step(act), other.step(act)
        for x, y in zip(ra[:4], rb[:4], strict=True):
            np.testing.assert_array_equal(x, y)
    before = fast._obs.copy()
    with pytest.raises(ValueError, match="invalid actions"):
        fast.step(np.array([0, 6, 1]))
    with pytest.raises(ValueError, match="invalid actions"):
        fast.step(np.array([0, 1]))
    np.testing.assert_array_equal(fast._obs, before)

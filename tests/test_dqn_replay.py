"""The frame-deduplicated replay against naively stored stacks, n-step targets by hand,
prioritized sampling, and its checkpoint state."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.dqn.replay import FrameReplay


class Naive:
    """Every transition stored whole: (obs, action, reward, next_obs, term, stop)."""

    def __init__(self, num_envs):
        self.items = []  # (env, seq, obs, a, r, next_obs, term, stop)
        self.seq = [0] * num_envs


def play(replay, naive, rng, steps, num_envs, stack, life_loss_p=0.0, end_p=0.1):
    """Random episodes of random frames in ``num_envs`` streams, written to both."""
    shape = replay.obs_shape
    obs = rng.integers(0, 256, size=(num_envs, *shape), dtype=np.uint8)
    obs[:, : stack - 1] = 0  # zero padding, as the envs pad their first stack
    replay.start(np.arange(num_envs), obs)
    for _ in range(steps):
        new = rng.integers(0, 256, size=(num_envs, *replay.frame_shape), dtype=np.uint8)
        nxt = np.concatenate([obs[:, replay.frame_shape[0] :], new], axis=1)
        a = rng.integers(0, 18, size=num_envs)
        r = rng.normal(size=num_envs).astype(np.float32)
        terminated = rng.random(num_envs) < end_p / 2
        truncated = ~terminated & (rng.random(num_envs) < end_p / 2)
        life = ~terminated & ~truncated & (rng.random(num_envs) < life_loss_p)
        replay.add(np.arange(num_envs), a, r, nxt, terminated | life, terminated | truncated | life)
        for e in range(num_envs):
            naive.items.append(
                (
                    e,
                    naive.seq[e],
                    obs[e].copy(),
                    a[e],
                    r[e],
                    nxt[e].copy(),
                    terminated[e] | life[e],
                    terminated[e] | truncated[e] | life[e],
                )
            )
            naive.seq[e] += 1
        obs = nxt.copy()
        done = np.flatnonzero(terminated | truncated)
        if done.size:
            replay.end_episode(done)
            fresh = rng.integers(0, 256, size=(done.size, *shape), dtype=np.uint8)
            fresh[:, : replay.frame_shape[0] * (stack - 1)] = 0
            obs[done] = fresh
            replay.start(done, fresh)


def naive_target(naive, e, seq_index, n, gamma):
    """n-step return, discount and bootstrap obs of item ``seq_index`` of env ``e``, by hand."""
    stream = [it for it in naive.items if it[0] == e]
    ret, disc = 0.0, None
    for k in range(n):
        _, _, _, _, r, nxt, term, stop = stream[seq_index + k]
        ret += gamma**k * r
        if stop:
            disc = 0.0 if term else gamma ** (k + 1)
            return ret, disc, nxt
    return ret, gamma**n, stream[seq_index + n - 1][5]


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    num_envs=st.integers(1, 3),
    stack=st.sampled_from([1, 2, 4]),
    n_step=st.integers(1, 4),
    capacity_per_env=st.integers(12, 40),
    steps=st.integers(5, 80),
    life_loss_p=st.sampled_from([0.0, 0.1]),
)
def test_sampled_stacks_equal_naive_stacks(
    seed, num_envs, stack, n_step, capacity_per_env, steps, life_loss_p
):
    rng = np.random.default_rng(seed)
    gamma = 0.9
    replay = FrameReplay(capacity_per_env * num_envs, (stack, 3, 2), stack, num_envs, n_step, gamma)
    naive = Naive(num_envs)
    play(replay, naive, rng, steps, num_envs, stack, life_loss_p, end_p=0.15)
    if not replay.valid.any():
        return
    valid = np.flatnonzero(replay.valid)
    batch = replay.gather(valid)
    # Each sampled (obs, action, reward) must be some naive transition of that env; find
    # it by its position in the env's stream, counted back from the newest.
    for i, flat in enumerate(valid):
        e = flat // replay.slots
        stream = [it for it in naive.items if it[0] == e]
        matches = [
            j
            for j, it in enumerate(stream)
            if np.array_equal(it[2], batch.obs[i]) and it[3] == batch.actions[i]
        ]
        assert len(matches) == 1, "a sampled stack is not a stored one"
        ret, disc, nxt = naive_target(naive, e, matches[0], n_step, gamma)
        assert batch.returns[i] == pytest.approx(ret, rel=1e-5, abs=1e-5)
        assert batch.discounts[i] == pytest.approx(disc, rel=1e-6)
        np.testing.assert_array_equal(batch.next_obs[i], nxt)
    # The newest transitions whose window is complete are all there (nothing lost but
    # the n-1 most recent of an open episode and what the ring overwrote).
    assert (
        len(replay)
        >= min(len(naive.items), num_envs * (capacity_per_env - 2 * stack - 2 * n_step)) // 4
    )


def test_n_step_return_by_hand():
    # One env, stack 1, n = 3, gamma 0.5: rewards 1, 2, 4, 8 then termination after 4.
    replay = FrameReplay(64, (1, 1, 1), 1, 1, n_step=3, gamma=0.5)
    frame = lambda v: np.full((1, 1, 1, 1), v, np.uint8)  # noqa: E731
    replay.start([0], frame(0))
    for t, r in enumerate([1.0, 2.0, 4.0, 8.0]):
        replay.add([0], [t], [r], frame(t + 1), [t == 3], [t == 3])
    b = replay.gather(np.flatnonzero(replay.valid))
    np.testing.assert_array_equal(b.actions, [0, 1, 2, 3])
    np.testing.assert_allclose(b.returns, [1 + 1 + 1, 2 + 2 + 2, 4 + 4, 8])
    np.testing.assert_allclose(b.discounts, [0.125, 0.0, 0.0, 0.0])
    np.testing.assert_array_equal(b.next_obs.ravel(), [3, 4, 4, 4])
    np.testing.assert_array_equal(b.obs.ravel(), [0, 1, 2, 3])


def test_truncation_bootstraps_and_open_windows_wait():
    replay = FrameReplay(64, (1, 1, 1), 1, 1, n_step=2, gamma=0.5)
    f = lambda v: np.full((1, 1, 1, 1), v, np.uint8)  # noqa: E731
    replay.start([0], f(0))
    replay.add([0], [0], [1.0], f(1), [False], [False])
    assert len(replay) == 0  # its 2-step window is not complete yet
    replay.add([0], [1], [1.0], f(2), [False], [True])  # truncated: bootstrap from obs 2
    b = replay.gather(np.flatnonzero(replay.valid))
    np.testing.assert_allclose(b.returns, [1.5, 1.0])
    np.testing.assert_allclose(b.discounts, [0.25, 0.5])
    np.testing.assert_array_equal(b.next_obs.ravel(), [2, 2])


def test_prioritized_sampling_follows_priorities_and_state_round_trips():
    rng = np.random.default_rng(0)
    replay = FrameReplay(200, (4, 2, 2), 4, 2, n_step=3, prioritized=True)
    play(replay, Naive(2), rng, 60, 2, 4)
    idx = np.flatnonzero(replay.valid)
    errors = np.ones(idx.size)
    errors[0] = 100.0  # priority 100^0.6 = 15.8 against 1 for each of the others
    replay.update_priorities(idx, errors)
    b = replay.sample(512, np.random.default_rng(1))
    share = 15.85 / (15.85 + idx.size - 1)
    assert abs((b.index == idx[0]).mean() - share) < 0.05
    assert b.weights.max() == 1.0
    np.testing.assert_allclose(b.weights[b.index == idx[0]], 15.85**-0.4, rtol=1e-3)
    arrays, meta = replay.state()
    copy = FrameReplay(200, (4, 2, 2), 4, 2, n_step=3, prioritized=True)
    copy.load_state({k: v.copy() for k, v in arrays.items()}, meta)
    b2 = copy.sample(512, np.random.default_rng(1))
    np.testing.assert_array_equal(b.obs, b2.obs)
    np.testing.assert_array_equal(b.index, b2.index)
    wrong = FrameReplay(200, (4, 2, 2), 4, 2, n_step=2)
    with pytest.raises(ValueError, match="n_step"):
        wrong.load_state(arrays, meta)


def test_memory_of_a_million_atari_transitions_is_one_frame_each():
    replay = FrameReplay(1_000_000, (4, 84, 84), 4, num_envs=4)
    size = sum(getattr(replay, n).nbytes for n in replay.ARRAYS)
    assert size < 7.2e9  # stacks of obs + next obs would be 56 GB; SB3's optimized 28 GB


def test_bad_input():
    with pytest.raises(ValueError, match="stack"):
        FrameReplay(100, (3, 84, 84), 4)
    with pytest.raises(ValueError, match="n_step"):
        FrameReplay(100, (4, 84, 84), 4, n_step=0)
    replay = FrameReplay(100, (1, 2, 2), 1)
    with pytest.raises(RuntimeError, match="start"):
        replay.add([0], [0], [0.0], np.zeros((1, 1, 2, 2)), [False], [False])
    with pytest.raises(RuntimeError, match="no complete transition"):
        replay.sample(4, np.random.default_rng(0))

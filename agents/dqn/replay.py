"""Frame-deduplicated replay memory for DQN from pixels.

A stacked Atari observation (4, 84, 84) shares three of its frames with the next one;
storing stacks costs 4x the memory (and 8x when next observations are stored too:
28 GB for 1M transitions). Here each env has a ring of single frames; an episode starts
by storing the whole first stack (zero padding included), then each step adds one
frame. The observation of the transition at slot ``s`` is frames ``s-k+1 .. s`` of the
same ring and its next observation ends at ``s+1`` -- the first stack of every episode is
stored in full, so a window never reaches into the previous episode and no masking is
needed. 1M Atari transitions take about 7.1 GB (uint8 throughout).

n-step returns are assembled at sampling time from the per-slot rewards and flags:
``stop`` ends an n-step window (termination, truncation, or a life loss when the
protocol signals one) and ``term`` also cuts the bootstrap (termination, life loss).
A transition becomes sampleable once its n-step window is complete, and stops being so
when the ring overwrites the oldest frame its observation needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from agents.dqn.sumtree import SumTree, _set


@dataclass
class Batch:
    obs: np.ndarray  # (B, *obs_shape) uint8
    actions: np.ndarray  # (B,) int64
    returns: np.ndarray  # (B,) float32: discounted n-step reward sums
    discounts: np.ndarray  # (B,) float32: gamma^m, 0 where the window ended in a terminal
    next_obs: np.ndarray  # (B, *obs_shape) uint8: the bootstrap observation
    index: np.ndarray  # (B,) int64 flat slot ids (for priority updates)
    weights: np.ndarray  # (B,) float32 importance weights (ones when uniform)


class FrameReplay:
    """Replay of ``num_envs`` parallel streams of stacked frames.

    ``obs_shape`` is the stacked observation, ``stack`` how many frames it holds along
    axis 0 (4 for Atari, 1 for MinAtar whose single "frame" has several channels).
    ``capacity`` counts frames (about transitions: each episode adds ``stack - 1``
    padding frames). Writing: :meth:`start` at each episode's first observation, then
    :meth:`add` once per step. Sampling draws from ``rng`` only.
    """

    ARRAYS = ("frames", "actions", "rewards", "term", "stop", "valid")

    def __init__(
        self,
        capacity: int,
        obs_shape: tuple[int, ...],
        stack: int,
        num_envs: int = 1,
        n_step: int = 1,
        gamma: float = 0.99,
        prioritized: bool = False,
        alpha: float = 0.6,
    ):
        obs_shape = tuple(int(d) for d in obs_shape)
        if stack < 1 or obs_shape[0] % stack:
            raise ValueError(f"obs_shape {obs_shape} does not hold a stack of {stack} frames")
        if n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {n_step}")
        if num_envs < 1 or capacity < num_envs * (stack + n_step + 1):
            raise ValueError(
                f"capacity {capacity} too small for {num_envs} envs, stack {stack}, n_step {n_step}"
            )
        self.obs_shape = obs_shape
        self.stack = stack
        self.frame_shape = (obs_shape[0] // stack, *obs_shape[1:])
        self.num_envs = num_envs
        self.n_step = n_step
        self.gamma = float(gamma)
        self.slots = math.ceil(capacity / num_envs) + stack  # per env
        E, S = num_envs, self.slots
        # np.empty: pages are committed as the ring fills, so memory tracks use.
        self.frames = np.empty((E * S, *self.frame_shape), np.uint8)
        self.actions = np.zeros(E * S, np.int64)
        self.rewards = np.zeros(E * S, np.float32)
        self.term = np.zeros(E * S, np.bool_)
        self.stop = np.zeros(E * S, np.bool_)
        self.valid = np.zeros(E * S, np.bool_)
        self.head = np.zeros(E, np.int64)  # logical index of the next frame to write
        self.first = np.zeros(E, np.int64)  # logical index of the episode's first transition
        self.open = np.zeros(E, np.bool_)  # an episode is being written
        self.prioritized = prioritized
        self.alpha = float(alpha)
        self.max_priority = 1.0
        self.tree = SumTree(E * S) if prioritized else None
        self._base = np.arange(E, dtype=np.int64) * S
        self._no_tree = np.zeros(0, np.float64)
        self._frames2d = self.frames.reshape(E * S, -1)  # a view: one row per frame
        self._gpow = (self.gamma ** np.arange(n_step + 1)).astype(np.float32)

    # ---- writing ---------------------------------------------------------------------
    def _flat(self, env: np.ndarray, logical: np.ndarray) -> np.ndarray:
        return self._base[env] + logical % self.slots

    def _invalidate(self, env: np.ndarray, logical: np.ndarray) -> None:
        # The frame written at ``logical`` overwrites the oldest one; transitions whose
        # observation reaches back to it (the next stack - 1 slots) lose it.
        ahead = logical[:, None] + np.arange(self.stack)[None, :]
        idx = self._flat(np.repeat(env, self.stack), ahead.ravel())
        hit = idx[self.valid[idx]]
        if hit.size:
            self.valid[hit] = False
            if self.tree is not None:
                self.tree.set(hit, np.zeros(hit.size))

    def _push(self, env: np.ndarray, frames: np.ndarray) -> None:
        logical = self.head[env]
        self._invalidate(env, logical)
        self.frames[self._flat(env, logical)] = frames
        self.head[env] += 1

    def start(self, env: np.ndarray | list[int], obs: np.ndarray) -> None:
        """Begin an episode in each of ``env`` with its first (stacked) observation."""
        env = np.atleast_1d(np.asarray(env, np.int64))
        obs = np.asarray(obs, np.uint8).reshape(len(env), self.stack, *self.frame_shape)
        for j in range(self.stack):
            self._push(env, obs[:, j])
        self.first[env] = self.head[env] - 1
        self.open[env] = True

    def add(
        self,
        env: np.ndarray | list[int],
        actions: np.ndarray,
        rewards: np.ndarray,
        next_obs: np.ndarray,
        term: np.ndarray,
        stop: np.ndarray,
    ) -> None:
        """One step in each of ``env``: the action taken, its reward, the next stacked
        observation (only its newest frame is stored), whether the step cuts the bootstrap
        (``term``) and whether it ends the n-step window (``stop``; an episode's last step,
        or a life loss). A step with ``stop`` from termination or truncation must be
        followed by :meth:`start` for that env."""
        env = np.atleast_1d(np.asarray(env, np.int64))
        if not self.open[env].all():
            raise RuntimeError("add() for an env without an open episode: call start() first")
        n = len(env)
        if n == 0:
            return
        next_obs = np.asarray(next_obs, np.uint8).reshape(n, self.stack, -1)
        tree = self.tree
        _add(
            env,
            _vector(actions, np.int64, n),
            _vector(rewards, np.float32, n),
            next_obs[:, -1],
            _vector(term, np.bool_, n),
            _vector(stop, np.bool_, n),
            self._frames2d,
            self.actions,
            self.rewards,
            self.term,
            self.stop,
            self.valid,
            self.head,
            self.first,
            self.slots,
            self.stack,
            self.n_step,
            self._no_tree if tree is None else tree.tree,
            0 if tree is None else tree.leaves,
            self.max_priority**self.alpha,
        )

    def end_episode(self, env: np.ndarray | list[int]) -> None:
        """Close the episodes of ``env`` (after their last :meth:`add`)."""
        self.open[np.asarray(env, np.int64)] = False

    # ---- reading ---------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.valid.sum())

    def _uniform(self, size: int, rng: np.random.Generator) -> np.ndarray:
        filled = np.minimum(self.head, self.slots)
        cum = np.cumsum(filled)
        total = int(cum[-1])
        out = np.empty(size, np.int64)
        have = 0
        for _ in range(1000):
            draw = rng.integers(total, size=2 * size)
            have = _pick(draw, cum, filled, self._base, self.valid, out, have)
            if have >= size:
                return out
        raise RuntimeError("the replay holds no complete transition yet")

    def sample(
        self, size: int, rng: np.random.Generator, beta: float = 0.4, out: Batch | None = None
    ) -> Batch:
        """``size`` transitions with their n-step returns (uniform, or in proportion to
        priority^alpha with importance weights^beta when prioritized); written into the
        arrays of ``out`` when given (see :meth:`batch_buffers`)."""
        if not self.valid.any():
            raise RuntimeError("the replay holds no complete transition yet")
        if self.tree is None:
            flat = self._uniform(size, rng)
            weights = np.ones(size, np.float32)
        else:
            total = self.tree.total
            bounds = (np.arange(size) + rng.random(size)) * (total / size)  # stratified
            flat = self.tree.find(bounds)
            bad = ~self.valid[flat]  # float drift at the edges: redraw those uniformly
            if bad.any():
                flat[bad] = self._uniform(int(bad.sum()), rng)
            p = self.tree.get(flat) / total
            w = (len(self) * p) ** (-beta)
            weights = (w / w.max()).astype(np.float32)
        return self.gather(flat, weights, out)

    def batch_buffers(self, size: int) -> Batch:
        """Arrays for :meth:`sample` to fill in place (reused batch after batch)."""
        return Batch(
            obs=np.empty((size, *self.obs_shape), np.uint8),
            actions=np.empty(size, np.int64),
            returns=np.empty(size, np.float32),
            discounts=np.empty(size, np.float32),
            next_obs=np.empty((size, *self.obs_shape), np.uint8),
            index=np.empty(size, np.int64),
            weights=np.ones(size, np.float32),
        )

    def gather(
        self, flat: np.ndarray, weights: np.ndarray | None = None, out: Batch | None = None
    ) -> Batch:
        """The batch of the given flat slot ids (which must be valid)."""
        flat = np.asarray(flat, np.int64)
        b = self.batch_buffers(len(flat)) if out is None else out
        if len(b.index) != len(flat):
            raise ValueError(f"out holds {len(b.index)} transitions, not {len(flat)}")
        b.index[...] = flat
        if weights is not None:
            b.weights[...] = weights
        size = len(flat)
        _gather(
            flat,
            self._frames2d,
            self.actions,
            self.rewards,
            self.term,
            self.stop,
            self.slots,
            self.stack,
            self.n_step,
            self._gpow,
            b.obs.reshape(size, self.stack, -1),
            b.next_obs.reshape(size, self.stack, -1),
            b.actions,
            b.returns,
            b.discounts,
        )
        return b

    def update_priorities(self, index: np.ndarray, errors: np.ndarray, eps: float = 1e-6) -> None:
        if self.tree is None:
            return
        p = np.abs(np.asarray(errors, np.float64)) + eps
        self.max_priority = max(self.max_priority, float(p.max()))
        keep = self.valid[index]  # a slot overwritten since sampling keeps priority 0
        self.tree.set(index[keep], p[keep] ** self.alpha)

    # ---- checkpoints -----------------------------------------------------------------
    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Arrays and JSON counters (everything :meth:`load_state` needs)."""
        arrays = {name: getattr(self, name) for name in self.ARRAYS}
        arrays.update(head=self.head, first=self.first, open=self.open)
        if self.tree is not None:
            arrays["tree"] = self.tree.tree
        meta = {
            "obs_shape": list(self.obs_shape),
            "stack": self.stack,
            "num_envs": self.num_envs,
            "slots": self.slots,
            "n_step": self.n_step,
            "gamma": self.gamma,
            "prioritized": self.prioritized,
            "alpha": self.alpha,
            "max_priority": self.max_priority,
        }
        return arrays, meta

    def load_state(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        mine = self.state()[1]
        for key in ("obs_shape", "stack", "num_envs", "slots", "n_step", "prioritized"):
            if meta[key] != mine[key]:
                raise ValueError(
                    f"the saved replay has {key}={meta[key]}, this run needs {mine[key]}"
                )
        for name in (*self.ARRAYS, "head", "first", "open"):
            getattr(self, name)[...] = arrays[name]
        if self.tree is not None:
            self.tree.tree[...] = arrays["tree"]
        self.max_priority = float(meta["max_priority"])
        self.gamma = float(meta["gamma"])
        self._gpow = (self.gamma ** np.arange(self.n_step + 1)).astype(np.float32)
        self.alpha = float(meta["alpha"])


def _vector(x, dtype, n: int) -> np.ndarray:
    a = np.asarray(x, dtype)
    return a if a.shape == (n,) else np.broadcast_to(a, (n,))


# ---- Numba kernels ---------------------------------------------------------------------
@njit(cache=True)
def _validate(idx, valid, tree, leaves, priority):  # pragma: no cover - Numba
    valid[idx] = True
    if tree.size:
        _set(tree, leaves, np.array([idx]), np.array([priority]))


@njit(cache=True)
def _add(
    env, actions, rewards, newest, term, stop, frames, act_s, rew_s, term_s, stop_s,
    valid, head, first, slots, stack, n_step, tree, leaves, priority,
):  # fmt: skip  # pragma: no cover - Numba
    # Envs own disjoint slot ranges: each is written in turn, as FrameReplay.add documents.
    zero = np.zeros(1)
    for i in range(env.shape[0]):
        e = env[i]
        base = e * slots
        t = head[e] - 1  # the transition's slot holds its observation's newest frame
        slot = base + t % slots
        st = stop[i] or term[i]
        act_s[slot] = actions[i]
        rew_s[slot] = rewards[i]
        term_s[slot] = term[i]
        stop_s[slot] = st
        # The new frame overwrites the oldest; transitions reaching back to it lose it.
        logical = head[e]
        for k in range(stack):
            j = base + (logical + k) % slots
            if valid[j]:
                valid[j] = False
                if tree.size:
                    _set(tree, leaves, np.array([j]), zero)
        frames[base + logical % slots] = newest[i]
        head[e] = logical + 1
        # Complete windows: the transition n-1 steps back, or every pending one at a stop.
        lag = t - (n_step - 1)
        if lag >= first[e]:
            _validate(base + lag % slots, valid, tree, leaves, priority)
        if st:
            for s in range(max(first[e], t - n_step + 2), t + 1):
                _validate(base + s % slots, valid, tree, leaves, priority)
            first[e] = t + 1  # a life loss: the episode goes on from here


@njit(cache=True)
def _pick(draw, cum, filled, base, valid, out, have):  # pragma: no cover - Numba
    """Map uniform draws over the filled slots to flat ids; keep the valid ones."""
    for d in draw:
        if have >= out.shape[0]:
            break
        e = np.searchsorted(cum, d, side="right")
        flat = base[e] + d - (cum[e] - filled[e])
        if valid[flat]:
            out[have] = flat
            have += 1
    return have


@njit(cache=True)
def _gather(
    flat, frames, actions, rewards, term, stop, slots, stack, n_step, gpow,
    obs, next_obs, act_out, ret_out, disc_out,
):  # fmt: skip  # pragma: no cover - Numba
    for b in range(flat.shape[0]):
        f = flat[b]
        base = (f // slots) * slots
        s = f - base
        ret = np.float32(0.0)
        steps = n_step
        disc = gpow[n_step]
        for k in range(n_step):
            i = base + (s + k) % slots
            ret += gpow[k] * rewards[i]
            if stop[i]:
                steps = k + 1
                disc = np.float32(0.0) if term[i] else gpow[k + 1]
                break
        for j in range(stack):
            obs[b, j] = frames[base + (s - stack + 1 + j) % slots]
            next_obs[b, j] = frames[base + (s + steps - stack + 1 + j) % slots]
        act_out[b] = actions[f]
        ret_out[b] = ret
        disc_out[b] = disc

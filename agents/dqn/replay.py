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

from agents.dqn.sumtree import SumTree


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
        term = np.asarray(term, np.bool_)
        stop = np.asarray(stop, np.bool_) | term
        t = self.head[env] - 1  # the transition's slot holds its observation's newest frame
        slot = self._flat(env, t)
        self.actions[slot] = actions
        self.rewards[slot] = rewards
        self.term[slot] = term
        self.stop[slot] = stop
        next_obs = np.asarray(next_obs, np.uint8).reshape(len(env), self.stack, *self.frame_shape)
        self._push(env, next_obs[:, -1])
        # Complete windows: the transition n-1 steps back, or every pending one at a stop.
        lag = t - (self.n_step - 1)
        ready = lag >= self.first[env]
        self._make_valid(env[ready], lag[ready])
        for i in np.flatnonzero(stop):
            lo = max(self.first[env[i]], t[i] - self.n_step + 2)
            if lo <= t[i]:
                e = np.full(t[i] - lo + 1, env[i])
                self._make_valid(e, np.arange(lo, t[i] + 1))
            self.first[env[i]] = t[i] + 1  # a life loss: the episode goes on from here

    def end_episode(self, env: np.ndarray | list[int]) -> None:
        """Close the episodes of ``env`` (after their last :meth:`add`)."""
        self.open[np.asarray(env, np.int64)] = False

    def _make_valid(self, env: np.ndarray, logical: np.ndarray) -> None:
        if env.size == 0:
            return
        idx = self._flat(env, logical)
        self.valid[idx] = True
        if self.tree is not None:
            self.tree.set(idx, np.full(idx.size, self.max_priority**self.alpha))

    # ---- reading ---------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.valid.sum())

    def _stacks(self, flat: np.ndarray) -> np.ndarray:
        env, slot = np.divmod(flat, self.slots)
        offs = np.arange(-self.stack + 1, 1)
        idx = env[:, None] * self.slots + (slot[:, None] + offs[None, :]) % self.slots
        return self.frames[idx].reshape(len(flat), *self.obs_shape)

    def _uniform(self, size: int, rng: np.random.Generator) -> np.ndarray:
        filled = np.minimum(self.head, self.slots)
        total = int(filled.sum())
        out = np.empty(0, np.int64)
        for _ in range(1000):
            draw = rng.integers(total, size=2 * size)
            env = np.searchsorted(np.cumsum(filled), draw, side="right")
            flat = self._base[env] + draw - (np.cumsum(filled) - filled)[env]
            out = np.concatenate([out, flat[self.valid[flat]]])
            if out.size >= size:
                return out[:size]
        raise RuntimeError("the replay holds no complete transition yet")

    def sample(self, size: int, rng: np.random.Generator, beta: float = 0.4) -> Batch:
        """``size`` transitions with their n-step returns (uniform, or in proportion to
        priority^alpha with importance weights^beta when prioritized)."""
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
        return self.gather(flat, weights)

    def gather(self, flat: np.ndarray, weights: np.ndarray | None = None) -> Batch:
        """The batch of the given flat slot ids (which must be valid)."""
        env, slot = np.divmod(flat, self.slots)
        returns = np.zeros(len(flat), np.float32)
        discounts = np.full(len(flat), self.gamma**self.n_step, np.float32)
        steps = np.full(len(flat), self.n_step, np.int64)
        alive = np.ones(len(flat), np.bool_)
        for k in range(self.n_step):
            i = env * self.slots + (slot + k) % self.slots
            returns += np.where(alive, np.float32(self.gamma**k) * self.rewards[i], 0)
            ended = alive & self.stop[i]
            steps[ended] = k + 1
            discounts[ended] = np.where(self.term[i[ended]], 0.0, self.gamma ** (k + 1))
            alive &= ~self.stop[i]
        nxt = env * self.slots + (slot + steps) % self.slots
        return Batch(
            obs=self._stacks(flat),
            actions=self.actions[flat],
            returns=returns,
            discounts=discounts,
            next_obs=self._stacks(nxt),
            index=flat,
            weights=np.ones(len(flat), np.float32) if weights is None else weights,
        )

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
        self.alpha = float(meta["alpha"])

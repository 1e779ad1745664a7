"""Single-agent Gymnasium envs as PPO agent rows.

:class:`GymSource` steps ``num_envs`` copies of one env in this process (resetting a
finished copy at once, bootstrapping truncated episodes from their final observation)
and turns observations into policy inputs:

* a ``Box`` observation: one agent per env, the flattened vector (MLP policy); a uint8
  ``Box`` of shape (C, H, W) with no more channels than rows or columns is an image, kept
  as it is (CNN policy, channels first: stack frames into channels, e.g. with
  Gymnasium's ``FrameStackObservation`` and ``ReshapeObservation``; a channels-last
  (H, W, 3) image stays a flat vector);
* a dict with ``observation`` (Box) and ``action_mask``: the same, masked (a Box env
  with an ``action_masks()`` method, as sb3-contrib's MaskablePPO takes, is masked too:
  ``simarena/Connect4-v0`` against its built-in opponent);
* the layout of ``simarena/FogArena-v0`` (``entities``, ``entity_mask``, ``grid``,
  ``globals``, ``action_mask`` with a leading hero axis): one agent per hero, all with
  the team's reward, sharing the entity policy of the batched arena (so a checkpoint
  plays either).

Actions: ``Discrete`` or ``MultiDiscrete`` (continuous actions are refused).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

import envs  # noqa: F401  (registers the simarena ids)
from agents.ppo.arena import EpisodeEnd, arena_spec
from agents.ppo.network import PolicySpec

ARENA_KEYS = ("entities", "entity_mask", "grid", "globals", "action_mask")


def _nvec(space: spaces.Space) -> tuple[int, ...]:
    if isinstance(space, spaces.Discrete):
        if space.start != 0:
            raise ValueError(f"Discrete actions must start at 0, got start={space.start}")
        return (int(space.n),)
    if isinstance(space, spaces.MultiDiscrete):
        if space.nvec.ndim != 1:
            raise ValueError("only one-dimensional MultiDiscrete action spaces are supported")
        return tuple(int(k) for k in space.nvec)
    raise ValueError(
        f"PPO here supports Discrete and MultiDiscrete actions, not {type(space).__name__}"
    )


class GymSource:
    """``num_envs`` copies of ``env_id`` (see the module docstring)."""

    def __init__(
        self, env_id: str, num_envs: int, seed: int = 0, env_options: dict[str, Any] | None = None
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        try:
            self.envs = [gymnasium.make(env_id, **(env_options or {})) for _ in range(num_envs)]
        except gymnasium.error.Error as e:
            raise ValueError(f"cannot make Gymnasium env {env_id!r}: {e}") from None
        self.env_id = env_id
        self.num_envs = num_envs
        self.seed = seed
        env = self.envs[0]
        obs_space, act_space = env.observation_space, env.action_space
        self.mode = self._mode(obs_space)
        if self.mode == "arena":
            self.team = int(obs_space["entities"].shape[0])
            nvec = _nvec(act_space)
            self.agent_nvec = nvec[:3]
            if len(nvec) != 3 * self.team:
                raise ValueError(f"expected 3 action parts per hero, got {len(nvec)}")
            roles = env.unwrapped.core.config.roles[env.unwrapped.team]
            self.roles = np.array(roles, dtype=np.int64)
        else:
            self.team = 1
            self.agent_nvec = _nvec(act_space)
        self.num_agents = num_envs * self.team
        masks = callable(getattr(env.unwrapped, "action_masks", None))
        self.mask_fn = self.mode in ("box", "image") and masks
        self.ep_return = np.zeros(num_envs)
        self.ep_length = np.zeros(num_envs, dtype=np.int64)
        self._episodes = 0

    @staticmethod
    def _mode(space: spaces.Space) -> str:
        if isinstance(space, spaces.Box):
            return "image" if is_image(space) else "box"
        if isinstance(space, spaces.Dict):
            keys = set(space.spaces)
            if set(ARENA_KEYS) <= keys:
                return "arena"
            if {"observation", "action_mask"} <= keys and isinstance(
                space["observation"], spaces.Box
            ):
                return "masked"
        raise ValueError(
            f"unsupported observation space {space}: PPO takes a Box (a uint8 (C, H, W) Box "
            "is an image), a dict with "
            "'observation' (Box) and 'action_mask', or the FogArena-v0 team layout"
        )

    def spec(self, **arch: Any) -> PolicySpec:
        """The policy layout this env needs, with the given architecture options."""
        if self.mode == "arena":
            return arena_spec(**arch)
        space = self.envs[0].observation_space
        box = space["observation"] if self.mode == "masked" else space
        return policy_spec(box, self.agent_nvec, self.env_id, **arch)

    # ---- observations ------------------------------------------------------------------
    def _convert(self, raw: list[dict | np.ndarray]) -> dict[str, np.ndarray]:
        if self.mode in ("box", "image"):
            if self.mode == "image":
                out = {"x": np.stack(raw)}
            else:
                out = {"x": np.stack([np.asarray(o, np.float32).reshape(-1) for o in raw])}
            if self.mask_fn and len(raw) == self.num_envs:
                masks = [np.asarray(e.unwrapped.action_masks(), np.int8) for e in self.envs]
                out["action_mask"] = np.stack(masks)
            return out
        if self.mode == "masked":
            return {
                "x": np.stack([np.asarray(o["observation"], np.float32).reshape(-1) for o in raw]),
                "action_mask": np.stack([np.asarray(o["action_mask"], np.int8) for o in raw]),
            }
        n, k = len(raw), self.team
        return {
            "entities": np.concatenate([o["entities"] for o in raw]),
            "entity_mask": np.concatenate([o["entity_mask"] for o in raw]),
            "grid": np.concatenate([o["grid"] for o in raw]),
            "globals": np.concatenate([o["globals"] for o in raw]),
            "hero": np.tile(np.arange(k), n),
            "role": np.tile(self.roles, n),
            "self_index": np.zeros(n * k, dtype=np.int64),
            "action_mask": _arena_mask(raw, k, self.agent_nvec),
        }

    def reset(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        raw = [env.reset(seed=self.seed + i)[0] for i, env in enumerate(self.envs)]
        self._episodes = self.num_envs
        self._last = raw
        return self._convert(raw), np.ones(self.num_agents, dtype=np.float32)

    def step(self, actions: np.ndarray):
        """Actions (num_agents, parts). Returns (obs, rewards, starts, ends, truncated)
        where ``truncated`` is a list of (agent rows, final observation dict) whose
        value the caller adds to the reward (bootstrapping a cut-off episode)."""
        per_env = actions.reshape(self.num_envs, -1)
        raw, rewards = [], np.zeros(self.num_envs, dtype=np.float32)
        starts = np.zeros(self.num_envs, dtype=np.float32)
        ends: list[EpisodeEnd] = []
        truncated = []
        for i, env in enumerate(self.envs):
            a = per_env[i] if self.mode == "arena" or len(self.agent_nvec) > 1 else per_env[i, 0]
            obs, r, term, trunc, info = env.step(a)
            rewards[i] = r
            self.ep_return[i] += r
            self.ep_length[i] += 1
            if term or trunc:
                winner = info.get("winner")
                score = float("nan")
                if winner is not None and self.mode == "arena":
                    score = 0.5 if winner == 2 else float(winner == env.unwrapped.team)
                ends.append(EpisodeEnd("env", score, float(self.ep_return[i]),
                                       int(self.ep_length[i]), self.team))  # fmt: skip
                if trunc and not term:
                    truncated.append((i, obs))
                obs, _ = env.reset(seed=self.seed + self._episodes)
                self._episodes += 1
                self.ep_return[i] = 0.0
                self.ep_length[i] = 0
                starts[i] = 1.0
            raw.append(obs)
        rep = np.repeat
        trunc_out = [
            (np.arange(i * self.team, (i + 1) * self.team), self._convert([o]))
            for i, o in truncated
        ]
        return (
            self._convert(raw),
            rep(rewards, self.team),
            rep(starts, self.team),
            ends,
            trunc_out,
        )

    def close(self) -> None:
        for env in self.envs:
            env.close()


def is_image(space: spaces.Space) -> bool:
    """A uint8 (C, H, W) Box with no more channels than rows and columns: what the CNN
    policy takes (MinAtar's planes, stacked Atari frames, camera views)."""
    if not isinstance(space, spaces.Box) or space.dtype != np.uint8 or len(space.shape) != 3:
        return False
    c, h, w = space.shape
    return c <= min(h, w)


def policy_spec(space: spaces.Box, nvec: tuple[int, ...], env_id: str = "", **arch) -> PolicySpec:
    """The policy layout of a Box observation: a CNN for an image, else an MLP over the
    flattened vector."""
    if is_image(space):
        return PolicySpec(
            kind="cnn", nvec=nvec, image_shape=tuple(space.shape),
            image_scale=image_scale(space), extra={"env": env_id}, **arch,
        )  # fmt: skip
    return PolicySpec(
        kind="mlp", nvec=nvec, obs_dim=int(np.prod(space.shape)), extra={"env": env_id}, **arch
    )


def policy_input(spec: PolicySpec, obs: Any) -> np.ndarray:
    """One observation as the policy's batch of one: the image as it is (cnn) or the
    flattened float vector (mlp)."""
    if spec.kind == "cnn":
        return np.asarray(obs)[None]
    return np.asarray(obs, np.float32).reshape(1, -1)


def image_scale(space: spaces.Box) -> float:
    """1/255 for camera pixels, 1/high for other uint8 planes (counts, fractions)."""
    high = float(np.max(space.high))
    return 1.0 / high if high > 0 else 1.0


def _arena_mask(raw: list[dict], k: int, nvec: tuple[int, ...]) -> np.ndarray:
    per = int(sum(nvec))
    return np.concatenate([np.asarray(o["action_mask"], np.int8).reshape(k, per) for o in raw])

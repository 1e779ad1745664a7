"""The DQN preprocessing of ALE frames, built on Gymnasium's wrappers.

:class:`AtariPreprocessing` is Gymnasium's wrapper of that name (no-op starts, frame skip
with a max-pool of the last two frames, life-loss termination option) with its resize
done by :func:`envs.atari.resize.resize_area` (OpenCV's ``INTER_AREA``, bit for bit), so
that it runs without OpenCV installed, and an optional FIRE press after reset. The small
wrappers beside it add what the protocols need: a life-loss signal that does not end the
episode, and the protocol stamp.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium.spaces import Box

from envs.atari.resize import resize_area


class AtariPreprocessing(gymnasium.wrappers.AtariPreprocessing):
    """Gymnasium's ``AtariPreprocessing`` (gray 84x84, uint8, no new axis) without OpenCV.

    Its ``step`` and ``reset`` (no-op starts, frame skip, max-pool) are Gymnasium's own;
    only the constructor (which insists on importing cv2) and the resize are replaced.
    """

    def __init__(
        self,
        env: gymnasium.Env,
        noop_max: int = 30,
        frame_skip: int = 4,
        screen_size: int = 84,
        fire_reset: bool = False,
    ):
        gymnasium.utils.RecordConstructorArgs.__init__(
            self,
            noop_max=noop_max,
            frame_skip=frame_skip,
            screen_size=screen_size,
            fire_reset=fire_reset,
        )
        gymnasium.Wrapper.__init__(self, env)
        if frame_skip <= 0:
            raise ValueError(f"frame_skip must be positive, got {frame_skip}")
        if noop_max < 0:
            raise ValueError(f"noop_max must be non-negative, got {noop_max}")
        if not (isinstance(screen_size, int) and screen_size > 0):
            raise ValueError(f"screen_size must be a positive int, got {screen_size!r}")
        if frame_skip > 1 and getattr(env.unwrapped, "_frameskip", None) != 1:
            raise ValueError("disable the frame skip of the wrapped ALE env (frameskip=1)")
        if noop_max > 0 and env.unwrapped.get_action_meanings()[0] != "NOOP":
            raise ValueError("no-op starts need action 0 to be NOOP")
        self.noop_max = noop_max
        # FIRE for one frame after the no-ops, as ale-py's vector env does (use_fire_reset).
        self.fire_reset = fire_reset and "FIRE" in env.unwrapped.get_action_meanings()[:2]
        self.frame_skip = frame_skip
        self.screen_size = (screen_size, screen_size)
        self.terminal_on_life_loss = False  # the life-loss signal is LifeLossSignal's
        self.grayscale_obs = True
        self.grayscale_newaxis = False
        self.scale_obs = False
        shape = env.unwrapped.ale.getScreenDims()  # (height, width)
        self.obs_buffer = [np.empty(shape, np.uint8), np.empty(shape, np.uint8)]
        self.lives = 0
        self.game_over = False
        self.observation_space = Box(0, 255, (screen_size, screen_size), np.uint8)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = super().reset(seed=seed, options=options)
        if self.fire_reset:
            _, _, terminated, truncated, step_info = self.env.step(1)
            info.update(step_info)
            if terminated or truncated:  # never seen in practice; start over without FIRE
                return super().reset(seed=seed, options=options)
            self.ale.getScreenGrayscale(self.obs_buffer[0])
            self.obs_buffer[1].fill(0)
            obs = self._get_obs()
        return obs, info

    def _get_obs(self) -> np.ndarray:
        if self.frame_skip > 1:
            np.maximum(self.obs_buffer[0], self.obs_buffer[1], out=self.obs_buffer[0])
        return resize_area(self.obs_buffer[0], *self.screen_size)


class LifeLossSignal(gymnasium.Wrapper):
    """``info["life_loss"]``: True on a step that cost a life. The episode goes on (so
    returns stay whole-game returns); a learner may treat the step as terminal."""

    def __init__(self, env: gymnasium.Env):
        super().__init__(env)
        self._lives = 0

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self._lives = self.env.unwrapped.ale.lives()
        info["life_loss"] = False
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        lives = self.env.unwrapped.ale.lives()
        info["life_loss"] = bool(lives < self._lives)
        self._lives = lives
        return obs, reward, terminated, truncated, info


class ProtocolStamp(gymnasium.Wrapper):
    """Names the evaluation protocol: ``metadata["protocol"]`` (all its settings) and
    ``info["protocol"]`` (its name) on every reset and step."""

    def __init__(self, env: gymnasium.Env, protocol: dict[str, Any]):
        super().__init__(env)
        self.metadata = {**env.metadata, "protocol": dict(protocol)}
        self._name = protocol["name"]

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        info["protocol"] = self._name
        return obs, info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["protocol"] = self._name
        return obs, reward, terminated, truncated, info

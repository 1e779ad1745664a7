"""The five MinAtar games (Young & Tian, 2019) as Gymnasium envs with channel-first obs."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

MINATAR_GAMES = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")

# One colour per channel (channel 0 first) for rgb_array; black where no channel is set.
_PALETTE = np.array(
    [
        [0, 0, 0],
        [230, 230, 230],
        [240, 80, 60],
        [250, 200, 60],
        [80, 200, 120],
        [70, 140, 240],
        [200, 100, 220],
        [120, 220, 230],
        [250, 140, 40],
        [150, 150, 150],
        [100, 60, 30],
    ],
    np.uint8,
)


class MinAtarEnv(gymnasium.Env):
    """A MinAtar game: a 10x10 miniature of an Atari game, one channel per object kind.

    ## Description

    The games of the ``minatar`` package (asterix, breakout, freeway, seaquest,
    space_invaders) with the settings of the MinAtar paper: sticky actions with
    probability 0.1 and difficulty ramping. Seeding goes through Gymnasium's
    ``np_random``: each reset reseeds the game from it, so a seed fixes the trajectory.

    ## Action Space

    ``Discrete(6)``: no-op, left, up, right, down, fire (the full set, as in the paper;
    actions a game ignores act as no-op).

    ## Observation Space

    ``Box(0, 1, (channels, 10, 10), uint8)``: channel-first, one 0/1 plane per object kind
    (breakout 4, asterix 4, freeway 7, seaquest 10, space_invaders 6 channels).

    ## Rewards

    The game's: mostly +1 per point scored (a brick, a crossing, a kill...).

    ## Episode End

    Termination when the game ends (the player dies, or freeway's clock runs out).
    Truncation only through a ``TimeLimit`` (the factory adds one).

    ## Arguments

    ``game`` (one of :data:`MINATAR_GAMES`), ``sticky_action_prob`` (0.1),
    ``difficulty_ramping`` (True), ``render_mode`` (``"rgb_array"`` or None).

    ## Version History

    * v0: initial version.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 15}

    def __init__(
        self,
        game: str = "breakout",
        sticky_action_prob: float = 0.1,
        difficulty_ramping: bool = True,
        render_mode: str | None = None,
    ):
        from minatar import Environment

        if game not in MINATAR_GAMES:
            raise ValueError(
                f"unknown MinAtar game {game!r}; available: {', '.join(MINATAR_GAMES)}"
            )
        if not 0.0 <= sticky_action_prob <= 1.0:
            raise ValueError(f"sticky_action_prob must be in [0, 1], got {sticky_action_prob}")
        if render_mode not in (None, *self.metadata["render_modes"]):
            raise ValueError(
                f"render_mode {render_mode!r} not supported; use one of "
                f"{self.metadata['render_modes']} or None"
            )
        self.game = game
        self.render_mode = render_mode
        self._game = Environment(
            game, sticky_action_prob=sticky_action_prob, difficulty_ramping=difficulty_ramping
        )
        h, w, c = self._game.state_shape()
        self.observation_space = spaces.Box(0, 1, (c, h, w), np.uint8)
        self.action_space = spaces.Discrete(self._game.num_actions())
        self._needs_reset = True

    def _obs(self) -> np.ndarray:
        return np.ascontiguousarray(self._game.state().transpose(2, 0, 1), dtype=np.uint8)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        # The game draws from its own RandomState: reseed it from ours every episode.
        self._game.seed(int(self.np_random.integers(2**31 - 1)))
        self._game.last_action = 0
        self._game.reset()
        self._needs_reset = False
        return self._obs(), {}

    def step(self, action):
        if self._needs_reset:
            raise RuntimeError("step() called before reset() or after the episode ended")
        try:
            a = int(action)
            ok = a == action and 0 <= a < self.action_space.n
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(
                f"invalid action {action!r}: expected an int in [0, {self.action_space.n})"
            )
        reward, terminal = self._game.act(a)
        self._needs_reset = bool(terminal)
        return self._obs(), float(reward), bool(terminal), False, {}

    # ---- exact save and restore (checkpoints resume mid-episode) ---------------------
    def get_state(self) -> dict[str, Any]:
        """The whole game state as JSON-able data (no pickles): game fields, both RNGs."""
        fields = {k: _encode(v) for k, v in vars(self._game.env).items() if k not in ("random",)}
        return {
            "game": self.game,
            "fields": fields,
            "game_random": _encode(self._game.random),
            "last_action": int(self._game.last_action),
            "np_random": self.np_random.bit_generator.state,
            "needs_reset": self._needs_reset,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        if state.get("game") != self.game:
            raise ValueError(f"state of MinAtar {state.get('game')!r}, not {self.game!r}")
        self.reset()  # creates np_random; every field is overwritten next
        for k, v in state["fields"].items():
            setattr(self._game.env, k, _decode(v))
        self._game.random = _decode(state["game_random"])
        self._game.env.random = self._game.random
        self._game.last_action = state["last_action"]
        self.np_random.bit_generator.state = state["np_random"]
        self._needs_reset = state["needs_reset"]

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        state = self._game.state()  # (10, 10, C) bool
        index = np.max(state * np.arange(1, state.shape[2] + 1), axis=2)
        image = _PALETTE[index % len(_PALETTE)]
        return np.kron(image, np.ones((16, 16, 1), np.uint8))


class MinAtarVectorEnv(gymnasium.vector.VectorEnv):
    """``num_envs`` copies of a :class:`MinAtarEnv` stepped in one loop, with the
    time limit built in: the same observations, rewards and ends as Gymnasium's
    ``SyncVectorEnv`` over ``TimeLimit(MinAtarEnv)`` (next-step autoreset), without its
    per-step wrapper calls, action checks per env, info merging and array stacking.

    ``infos`` are empty. :meth:`get_state` / :meth:`set_state` save and restore every game
    mid-episode (checkpoints resume exactly).
    """

    metadata = {"render_modes": [], "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        game: str,
        num_envs: int,
        sticky_action_prob: float = 0.1,
        difficulty_ramping: bool = True,
        max_episode_steps: int = 100_000,
    ):
        if not isinstance(num_envs, int) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
        if max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be >= 1, got {max_episode_steps}")
        self.envs = [
            MinAtarEnv(game, sticky_action_prob, difficulty_ramping) for _ in range(num_envs)
        ]
        self.num_envs = num_envs
        self.max_episode_steps = int(max_episode_steps)
        self.render_mode = None
        self.single_observation_space = self.envs[0].observation_space
        self.single_action_space = self.envs[0].action_space
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._obs = np.zeros(self.observation_space.shape, np.uint8)
        self._elapsed = np.zeros(num_envs, np.int64)
        self._autoreset_envs = np.zeros(num_envs, np.bool_)

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if seed is None or isinstance(seed, int):
            seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"{len(seeds)} seeds for {self.num_envs} envs")
        for i, env in enumerate(self.envs):
            self._obs[i] = env.reset(seed=seeds[i])[0]
        self._elapsed[:] = 0
        self._autoreset_envs[:] = False
        return self._obs.copy(), {}

    def step(self, actions):
        actions = np.asarray(actions)
        n = self.single_action_space.n
        if (
            actions.shape != (self.num_envs,)
            or actions.dtype.kind not in "iu"
            or (actions < 0).any()
            or (actions >= n).any()
        ):
            raise ValueError(
                f"invalid actions {actions!r}: expected {self.num_envs} ints in [0, {n})"
            )
        rewards = np.zeros(self.num_envs, np.float64)
        terminated = np.zeros(self.num_envs, np.bool_)
        truncated = np.zeros(self.num_envs, np.bool_)
        for i, env in enumerate(self.envs):
            if self._autoreset_envs[i]:
                self._obs[i] = env.reset()[0]
                self._elapsed[i] = 0
                continue
            game = env._game
            reward, term = game.act(int(actions[i]))  # MinAtarEnv.step without its checks
            env._needs_reset = bool(term)
            rewards[i] = reward
            terminated[i] = term
            self._elapsed[i] += 1
            truncated[i] = self._elapsed[i] >= self.max_episode_steps  # as TimeLimit
            self._obs[i] = game.state().transpose(2, 0, 1)
        np.logical_or(terminated, truncated, out=self._autoreset_envs)
        return self._obs.copy(), rewards, terminated, truncated, {}

    def get_state(self) -> list[dict[str, Any]]:
        """Every game's state and step count (JSON-able); the autoreset flags are the
        caller's to keep (:meth:`set_state` takes them back)."""
        return [
            {"env": env.get_state(), "elapsed": int(e)}
            for env, e in zip(self.envs, self._elapsed, strict=True)
        ]

    def set_state(self, states: list[dict[str, Any]], autoreset: list[bool]) -> None:
        if len(states) != self.num_envs or len(autoreset) != self.num_envs:
            raise ValueError(f"states of {len(states)} envs for {self.num_envs}")
        for i, (env, s) in enumerate(zip(self.envs, states, strict=True)):
            env.set_state(s["env"])
            self._elapsed[i] = s["elapsed"]
            self._obs[i] = env._obs()
        self._autoreset_envs[:] = autoreset


def _encode(v: Any) -> Any:
    if isinstance(v, np.random.RandomState):
        name, keys, pos, has_gauss, gauss = v.get_state()
        return {"__rs__": [name, keys.tolist(), pos, has_gauss, gauss]}
    if isinstance(v, np.ndarray):
        return {"__nd__": v.tolist(), "dtype": v.dtype.str, "shape": list(v.shape)}
    if isinstance(v, np.generic):
        return {"__np__": v.item(), "dtype": v.dtype.str}
    if isinstance(v, dict):
        return {"__dict__": [[_encode(k), _encode(x)] for k, x in v.items()]}
    if isinstance(v, tuple):
        return {"__tuple__": [_encode(x) for x in v]}
    if isinstance(v, list):
        return [_encode(x) for x in v]
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    raise TypeError(f"cannot save a MinAtar field of type {type(v).__name__}")


def _decode(v: Any) -> Any:
    if isinstance(v, list):
        return [_decode(x) for x in v]
    if not isinstance(v, dict):
        return v
    if "__rs__" in v:
        name, keys, pos, has_gauss, gauss = v["__rs__"]
        rs = np.random.RandomState()
        rs.set_state((name, np.array(keys, np.uint32), pos, has_gauss, gauss))
        return rs
    if "__nd__" in v:
        return np.array(v["__nd__"], np.dtype(v["dtype"])).reshape(v["shape"])
    if "__np__" in v:
        return np.dtype(v["dtype"]).type(v["__np__"])
    if "__tuple__" in v:
        return tuple(_decode(x) for x in v["__tuple__"])
    return {_decode(k): _decode(x) for k, x in v["__dict__"]}

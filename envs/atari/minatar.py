"""The five MinAtar games (Young & Tian, 2019) as Gymnasium envs with channel-first obs."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

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

"""``make_atari``: one factory for ALE games and MinAtar games, single or vectorized, under
a named evaluation protocol.

Protocols (``PROTOCOLS``), stamped in ``metadata["protocol"]`` and ``info["protocol"]``:

* ``machado``: Machado et al. (2018), the conventions of ALE's ``-v5`` ids: sticky
  actions (0.25), the full 18-action set, no life-loss signal, no FIRE on reset and no
  no-op starts (sticky actions already randomize starts).
* ``nature``: the DQN Nature paper as ``NoFrameskip-v4`` + SB3/CleanRL wrappers play it:
  no sticky actions, the minimal action set, up to 30 no-op starts, FIRE on reset, and
  for training a life-loss signal.
* ``minatar``: MinAtar's own (sticky actions 0.1, difficulty ramping, 6 actions).

Both ALE protocols: frame skip 4 with a max-pool of the last two frames, 84x84 gray,
a stack of the last 4 frames (``(4, 84, 84)`` uint8), episodes truncated at 108,000
frames (30 minutes). ``training=True`` clips rewards to their sign and (``nature``)
signals life losses in ``info["life_loss"]`` / ``info["lives"]``; evaluation envs keep the
raw score and whole games.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import gymnasium
import numpy as np

from envs.atari.minatar import MINATAR_GAMES, MinAtarEnv, MinAtarVectorEnv
from envs.atari.preprocessing import AtariPreprocessing, LifeLossSignal, ProtocolStamp

_ALE_COMMON = {
    "frame_skip": 4,
    "max_pool": True,
    "screen_size": 84,
    "grayscale": True,
    "stack": 4,
    "max_episode_frames": 108_000,
    "reward_clipping_in_training": True,
}
PROTOCOLS: dict[str, dict[str, Any]] = {
    "machado": {
        "name": "machado",
        **_ALE_COMMON,
        "repeat_action_probability": 0.25,
        "full_action_space": True,
        "noop_max": 0,
        "fire_reset": False,
        "life_loss_in_training": False,
        "eval_epsilon": 0.001,
    },
    "nature": {
        "name": "nature",
        **_ALE_COMMON,
        "repeat_action_probability": 0.0,
        "full_action_space": False,
        "noop_max": 30,
        "fire_reset": True,
        "life_loss_in_training": True,
        "eval_epsilon": 0.05,
    },
    "minatar": {
        "name": "minatar",
        "sticky_action_prob": 0.1,
        "difficulty_ramping": True,
        "stack": 1,
        "max_episode_steps": 100_000,
        "reward_clipping_in_training": False,
        "life_loss_in_training": False,
        "eval_epsilon": 0.01,
    },
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@functools.lru_cache(maxsize=1)
def atari_games() -> tuple[str, ...]:
    """ROM ids shipped with ale-py (snake case: ``pong``, ``space_invaders``...)."""
    from ale_py import roms

    return tuple(roms.get_all_rom_ids())


def available_games() -> list[str]:
    """Every game id the factory takes, in its canonical form."""
    return [f"minatar:{g}" for g in MINATAR_GAMES] + [f"ALE/{_camel(g)}-v5" for g in atari_games()]


def _camel(rom: str) -> str:
    return "".join(part.title() for part in rom.split("_"))


def parse_game(game_id: str) -> tuple[str, str]:
    """``("ale" | "minatar", rom or game name)`` of an id such as ``ALE/Pong-v5``,
    ``PongNoFrameskip-v4``, ``pong``, ``minatar:breakout``, ``MinAtar/Breakout-v1`` or
    ``simarena/MinAtar-Breakout-v0``; ValueError listing the available games otherwise."""
    if not isinstance(game_id, str) or not game_id.strip():
        raise ValueError(f"game id must be a non-empty string, got {game_id!r}")
    s = game_id.strip()
    low = s.lower()
    minatar = None
    for prefix in ("minatar:", "minatar/", "simarena/minatar-"):
        if low.startswith(prefix):
            minatar = s[len(prefix) :]
    if minatar is not None:
        name = _key(re.sub(r"-v\d+$", "", minatar))
        for g in MINATAR_GAMES:
            if _key(g) == name:
                return "minatar", g
    else:
        name = re.sub(r"^(ale/|simarena/atari-)", "", low)
        name = re.sub(r"(noframeskip|deterministic)?-v\d+$", "", name)
        for rom in atari_games():
            if _key(rom) == _key(name):
                return "ale", rom
    raise ValueError(f"unknown game id {game_id!r}; available: {', '.join(available_games())}")


def resolve_protocol(kind: str, protocol: str | None) -> dict[str, Any]:
    """The protocol dict for a game kind (``None``: machado for ALE, minatar for MinAtar)."""
    if protocol is None:
        protocol = "machado" if kind == "ale" else "minatar"
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; available: {', '.join(PROTOCOLS)}")
    if (kind == "minatar") != (protocol == "minatar"):
        allowed = "minatar" if kind == "minatar" else "machado, nature"
        raise ValueError(f"protocol {protocol!r} does not apply to {kind} games (use {allowed})")
    return dict(PROTOCOLS[protocol])


def _stamp(protocol: dict[str, Any], training: bool, game_id: str) -> dict[str, Any]:
    return {
        **protocol,
        "game": game_id,
        "training": training,
        "reward_clipping": training and protocol["reward_clipping_in_training"],
        "life_loss": training and protocol["life_loss_in_training"],
    }


def _stack(env: gymnasium.Env, size: int) -> gymnasium.Env:
    # Zeros before the first frame, as ale-py's vector env and SB3's VecFrameStack pad.
    return gymnasium.wrappers.FrameStackObservation(env, size, padding_type="zero")


def _sign(reward):
    return np.sign(reward)


def _single_ale(rom: str, p: dict[str, Any], render_mode: str | None) -> gymnasium.Env:
    from ale_py.env import AtariEnv

    env = AtariEnv(
        game=rom,
        obs_type="grayscale",  # cheapest screen copy; the preprocessing reads ALE itself
        frameskip=1,
        repeat_action_probability=p["repeat_action_probability"],
        full_action_space=p["full_action_space"],
        max_num_frames_per_episode=p["max_episode_frames"],
        render_mode=render_mode,
    )
    return AtariPreprocessing(
        env,
        noop_max=p["noop_max"],
        frame_skip=p["frame_skip"],
        screen_size=p["screen_size"],
        fire_reset=p["fire_reset"],
    )


def _single(kind: str, name: str, p: dict[str, Any], render_mode: str | None) -> gymnasium.Env:
    """One env with the protocol's dynamics and observation; no clipping, stack, stamp."""
    if kind == "ale":
        return _single_ale(name, p, render_mode)
    env = MinAtarEnv(
        name,
        sticky_action_prob=p["sticky_action_prob"],
        difficulty_ramping=p["difficulty_ramping"],
        render_mode=render_mode,
    )
    return gymnasium.wrappers.TimeLimit(env, p["max_episode_steps"])


def make_atari(
    game_id: str,
    protocol: str | None = None,
    training: bool = False,
    num_envs: int | None = None,
    *,
    backend: str = "auto",
    num_threads: int = 0,
    render_mode: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> gymnasium.Env | gymnasium.vector.VectorEnv:
    """An ALE or MinAtar game with the DQN preprocessing of ``protocol``.

    ``num_envs=None`` gives one ``gymnasium.Env``; an int gives a ``VectorEnv`` (next-step
    autoreset) of that many copies: ale-py's C++ ``AtariVectorEnv`` (``backend="ale"``,
    the default for ALE games; ``num_threads`` worker threads, 0 = one per env), our
    :class:`~envs.atari.minatar.MinAtarVectorEnv` (``backend="minatar"``, the default for
    MinAtar) or Gymnasium's ``SyncVectorEnv`` over the single envs (``backend="sync"``,
    any game; the one that renders). For identical seeds and actions the ALE backends
    give identical observations without sticky actions or no-op starts, the MinAtar ones
    always.

    ``overrides`` changes protocol settings (e.g. ``{"noop_max": 0}``); they are stamped
    too, under ``"overrides"``, so a result never passes for the plain protocol.
    """
    kind, name = parse_game(game_id)
    canonical = f"minatar:{name}" if kind == "minatar" else f"ALE/{_camel(name)}-v5"
    base = resolve_protocol(kind, protocol)
    for key in overrides or {}:
        if key not in base or key == "name":
            raise ValueError(
                f"unknown protocol setting {key!r}; {base['name']} has: "
                + ", ".join(k for k in base if k != "name")
            )
    p = _stamp({**base, **(overrides or {})}, bool(training), canonical)
    if overrides:
        p["overrides"] = dict(overrides)
    if backend not in ("auto", "ale", "minatar", "sync"):
        raise ValueError(f"unknown backend {backend!r}; use auto, ale, minatar or sync")
    if num_envs is None:
        env = _single(kind, name, p, render_mode)
        if p["life_loss"]:
            env = LifeLossSignal(env)
        if p["reward_clipping"]:
            env = gymnasium.wrappers.RecordEpisodeStatistics(env)  # raw returns in info
            env = gymnasium.wrappers.TransformReward(env, _sign)
        if p["stack"] > 1:
            env = _stack(env, p["stack"])
        return ProtocolStamp(env, p)

    if not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"num_envs must be a positive int or None, got {num_envs!r}")
    if backend == "auto":
        backend = "ale" if kind == "ale" else ("sync" if render_mode else "minatar")
    if backend == "minatar":
        if kind != "minatar":
            raise ValueError("backend 'minatar' is for MinAtar games; ALE uses 'ale' or 'sync'")
        if render_mode is not None:
            raise ValueError("the 'minatar' backend does not render; use backend='sync'")
        venv = MinAtarVectorEnv(
            name,
            num_envs,
            sticky_action_prob=p["sticky_action_prob"],
            difficulty_ramping=p["difficulty_ramping"],
            max_episode_steps=p["max_episode_steps"],
        )
    elif backend == "ale":
        if kind != "ale":
            raise ValueError("backend 'ale' is for ALE games; MinAtar uses 'sync'")
        if render_mode is not None:
            raise ValueError("the 'ale' backend does not render; use backend='sync'")
        from ale_py.vector_env import AtariVectorEnv

        venv: gymnasium.vector.VectorEnv = AtariVectorEnv(
            name,
            num_envs,
            num_threads=num_threads,
            max_num_frames_per_episode=p["max_episode_frames"],
            repeat_action_probability=p["repeat_action_probability"],
            full_action_space=p["full_action_space"],
            img_height=p["screen_size"],
            img_width=p["screen_size"],
            stack_num=p["stack"],
            frameskip=p["frame_skip"],
            maxpool=p["max_pool"],
            noop_max=p["noop_max"],
            episodic_life=False,
            life_loss_info=False,
            reward_clipping=False,
            use_fire_reset=p["fire_reset"],
        )
    else:

        def one() -> gymnasium.Env:
            env = _single(kind, name, p, render_mode)
            if p["stack"] > 1:
                env = _stack(env, p["stack"])
            return env

        venv = gymnasium.vector.SyncVectorEnv([one] * num_envs)
    if p["reward_clipping"]:
        venv = gymnasium.wrappers.vector.RecordEpisodeStatistics(venv)
        venv = gymnasium.wrappers.vector.TransformReward(venv, _sign)
    venv.metadata = {**venv.metadata, "protocol": p, "backend": backend}
    return venv


def make_atari_env(game: str = "ALE/Pong-v5", **kwargs: Any) -> gymnasium.Env:
    """Entry point of the registered ``simarena/...`` ids (one evaluation env by default)."""
    return make_atari(game, **kwargs)

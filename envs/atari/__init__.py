"""ALE (Atari 2600) and MinAtar games with the standard DQN preprocessing and named
evaluation protocols; see :mod:`envs.atari.factory`."""

from envs.atari.factory import (
    PROTOCOLS,
    atari_games,
    available_games,
    make_atari,
    parse_game,
    resolve_protocol,
)
from envs.atari.minatar import MINATAR_GAMES, MinAtarEnv

__all__ = [
    "MINATAR_GAMES",
    "PROTOCOLS",
    "MinAtarEnv",
    "atari_games",
    "available_games",
    "make_atari",
    "parse_game",
    "resolve_protocol",
]

"""Gymnasium and PettingZoo envs over the :mod:`sim` cores.

Importing this package registers every ``simarena/...`` Gymnasium id (entry points are
strings, so nothing heavy loads until an env is made).
"""

from __future__ import annotations

import gymnasium

# id -> (entry point, kwargs); kept here rather than imported so registration stays cheap.
_BOARD_ENTRY = "envs.board.gym_env:BoardGameEnv"
GYM_ENVS: dict[str, tuple[str, dict]] = {
    "simarena/Connect4-v0": (_BOARD_ENTRY, {"game": "connect4"}),
    "simarena/TicTacToe-v0": (_BOARD_ENTRY, {"game": "tictactoe"}),
    "simarena/Othello-v0": (_BOARD_ENTRY, {"game": "othello"}),
    "simarena/Gomoku-v0": (_BOARD_ENTRY, {"game": "gomoku"}),
    "simarena/Go9x9-v0": ("envs.board.gym_env:go9x9", {}),
    "simarena/Chess-v0": ("envs.board.chess_v0:gym_env", {}),
    "simarena/FogArena-v0": ("envs.arena.gym_env:FogArenaEnv", {}),
    "simarena/MinAtar-Asterix-v0": (
        "envs.atari.factory:make_atari_env",
        {"game": "minatar:asterix"},
    ),
    "simarena/MinAtar-Breakout-v0": (
        "envs.atari.factory:make_atari_env",
        {"game": "minatar:breakout"},
    ),
    "simarena/MinAtar-Freeway-v0": (
        "envs.atari.factory:make_atari_env",
        {"game": "minatar:freeway"},
    ),
    "simarena/MinAtar-Seaquest-v0": (
        "envs.atari.factory:make_atari_env",
        {"game": "minatar:seaquest"},
    ),
    "simarena/MinAtar-SpaceInvaders-v0": (
        "envs.atari.factory:make_atari_env",
        {"game": "minatar:space_invaders"},
    ),
    "simarena/Atari-Pong-v0": ("envs.atari.factory:make_atari_env", {"game": "ALE/Pong-v5"}),
    "simarena/Atari-Breakout-v0": (
        "envs.atari.factory:make_atari_env",
        {"game": "ALE/Breakout-v5"},
    ),
    "simarena/Drive-v0": ("envs.driving.env:DriveEnv", {}),
}


def register_envs() -> None:
    """Register every id of :data:`GYM_ENVS` not yet registered (safe to call again)."""
    for env_id, (entry_point, kwargs) in GYM_ENVS.items():
        if env_id not in gymnasium.registry:
            gymnasium.register(id=env_id, entry_point=entry_point, kwargs=kwargs)


register_envs()

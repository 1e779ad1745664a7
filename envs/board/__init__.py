"""Board game envs: PettingZoo AEC envs (two agents) and Gymnasium single-agent envs.

``AEC_ENVS`` maps each AEC env name to its module (``module.env(**kwargs)`` and
``module.raw_env(**kwargs)``). The Gymnasium ids are listed in :data:`envs.GYM_ENVS`.
"""

from __future__ import annotations

from types import ModuleType

from envs.board import chess_v0, connect4_v0, go9x9_v0, gomoku_v0, othello_v0, tictactoe_v0
from envs.board.aec import BoardGameAECEnv
from envs.board.opponents import OPPONENTS, Opponent, make_opponent

AEC_ENVS: dict[str, ModuleType] = {
    "connect4_v0": connect4_v0,
    "tictactoe_v0": tictactoe_v0,
    "othello_v0": othello_v0,
    "gomoku_v0": gomoku_v0,
    "go9x9_v0": go9x9_v0,
    "chess_v0": chess_v0,
}

__all__ = ["AEC_ENVS", "OPPONENTS", "BoardGameAECEnv", "Opponent", "make_opponent"]

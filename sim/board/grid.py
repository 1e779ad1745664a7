"""Kernels shared by the games that store a cell grid (Tic-Tac-Toe, Othello, Gomoku, Go).

Those games keep a square board of side ``state[H_SIZE]`` row by row from the top at
``state[HEADER:HEADER + size*size]``: 0 empty, 1 a stone of player_0, 2 one of player_1.
Point ``(row, col)`` is action ``row * size + col``.  Game modules re-export the kernels
they use under the interface names (``board_view = grid.board_view``).

The hot kernels take the side ``n`` and are inlined into their callers, so that a game
of fixed size (Tic-Tac-Toe) passes a constant and gets its loops unrolled.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.board.base import H_GAME, H_SIZE, H_TO_PLAY, H_WINNER, HEADER, ONGOING


@njit(cache=True)
def new_grid_state(game: int, size: int, extra: int = 0) -> np.ndarray:
    """An empty ``size`` x ``size`` board of ``game``, player_0 to move, plus ``extra`` cells."""
    s = np.zeros(HEADER + size * size + extra, dtype=np.int64)
    s[H_GAME] = game
    s[H_WINNER] = ONGOING
    s[H_SIZE] = size
    return s


@njit(cache=True)
def board_view(state: np.ndarray) -> np.ndarray:
    """int8[size, size], row 0 at the top: 0 empty, 1 player_0's stone, 2 player_1's."""
    n = state[H_SIZE]
    out = np.empty((n, n), dtype=np.int8)
    for r in range(n):
        for c in range(n):
            out[r, c] = state[HEADER + r * n + c]
    return out


@njit(cache=True, inline="always")
def stone_planes_into(state: np.ndarray, out: np.ndarray, n: int) -> None:
    """Observation planes 0 (the mover's stones) and 1 (the opponent's) of ``out``."""
    mine = state[H_TO_PLAY] + 1
    # One plane per pass, r and c from nested loops (no division per point): each pass
    # vectorizes, 3-4x faster than filling both planes in one divmod loop (8x8, 9x9).
    for r in range(n):
        for c in range(n):
            out[0, r, c] = 1.0 if state[HEADER + r * n + c] == mine else 0.0
    for r in range(n):
        for c in range(n):
            v = state[HEADER + r * n + c]
            out[1, r, c] = 1.0 if (v != 0 and v != mine) else 0.0


# The placement rule of Tic-Tac-Toe and Gomoku: every empty point is a legal move.
@njit(cache=True, inline="always")
def empty_point_is_legal(state: np.ndarray, action: int, n: int) -> bool:
    """True if the game is on and ``action`` is an empty point."""
    if action < 0 or action >= n * n or state[H_WINNER] != ONGOING:
        return False
    return state[HEADER + action] == 0


@njit(cache=True, inline="always")
def empty_points_mask_into(state: np.ndarray, out: np.ndarray, n: int) -> int:
    """``out[p]``: point ``p`` is empty and the game is on; returns how many are."""
    count = 0
    ongoing = state[H_WINNER] == ONGOING
    for p in range(n * n):
        ok = ongoing and state[HEADER + p] == 0
        out[p] = ok
        count += ok
    return count

"""Free-style Gomoku on a 15x15 board, or any size from 5 to 19 (``Gomoku(size=9)``).

Rules: players alternately place a stone on an empty point; the first to make five
**or more** in a row (horizontal, vertical or either diagonal) wins, so overlines
count; a full board with no such line is a draw.  player_0 (Black, ``X``) moves first.

State after the shared header (see :mod:`sim.board.base`)::

    state[5]   the last move's action, -1 before the first move
    state[6]   length of the longest line through the last move (0 before it)
    state[7]   unused (0)
    state[8:8 + size*size]  points row by row from the top: 0 empty, 1 player_0, 2 player_1

Point ``(row, col)`` (row 0 at the top) is action ``row * size + col``; there is no
pass.  Text uses the default notation: column letter ``a..`` from the left, row
number counted from the bottom, so ``h8`` is the centre of 15x15.

Only lines through the stone just placed can be new, so :func:`play` counts in the
four directions around it instead of scanning the board.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from sim.board import grid
from sim.board.base import (
    DRAW,
    GOMOKU,
    H_PLY,
    H_SIZE,
    H_TO_PLAY,
    H_WINNER,
    HEADER,
    BoardGame,
    is_int,
)

DEFAULT_SIZE = 15
MIN_SIZE, MAX_SIZE = 5, 19
WIN_LENGTH = 5
S_LAST_MOVE, S_LAST_LINE = 5, 6
NO_MOVE = -1
NUM_PLANES = 3


@njit(cache=True, inline="always")
def _run(state: np.ndarray, n: int, row: int, col: int, dr: int, dc: int, stone: int) -> int:
    """Stones of colour ``stone`` next to (row, col) going (dr, dc), the point excluded."""
    count = 0
    r, c = row + dr, col + dc
    while 0 <= r < n and 0 <= c < n and state[HEADER + r * n + c] == stone:
        count += 1
        r += dr
        c += dc
    return count


@njit(cache=True, inline="always")
def _line(state: np.ndarray, n: int, row: int, col: int, dr: int, dc: int, stone: int) -> int:
    """Length of the line of ``stone`` through (row, col) along (dr, dc), the point included."""
    return 1 + _run(state, n, row, col, dr, dc, stone) + _run(state, n, row, col, -dr, -dc, stone)


@njit(cache=True)
def longest_line(state: np.ndarray, action: int) -> int:
    """Longest line through point ``action`` of the colour standing there (0 if empty)."""
    n = state[H_SIZE]
    stone = state[HEADER + action]
    if stone == 0:
        return 0
    row, col = action // n, action % n
    return max(
        _line(state, n, row, col, 0, 1, stone),
        _line(state, n, row, col, 1, 0, stone),
        _line(state, n, row, col, 1, 1, stone),
        _line(state, n, row, col, 1, -1, stone),
    )


@njit(cache=True)
def new_state(size: int = DEFAULT_SIZE) -> np.ndarray:
    if size < MIN_SIZE or size > MAX_SIZE:
        raise ValueError("gomoku: size must be from 5 to 19")
    s = grid.new_grid_state(GOMOKU, size)
    s[S_LAST_MOVE] = NO_MOVE
    return s


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    n = state[H_SIZE]
    return n * n


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    return grid.empty_point_is_legal(state, action, state[H_SIZE])


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    return grid.empty_points_mask_into(state, out, state[H_SIZE])


board_view = grid.board_view


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    n = state[H_SIZE]
    state[HEADER + action] = state[H_TO_PLAY] + 1
    state[H_PLY] += 1
    state[S_LAST_MOVE] = action
    line = longest_line(state, action)
    state[S_LAST_LINE] = line
    if line >= WIN_LENGTH:
        state[H_WINNER] = state[H_TO_PLAY]
    elif state[H_PLY] == n * n:  # no passes, so ply counts the stones
        state[H_WINNER] = DRAW
    state[H_TO_PLAY] = 1 - state[H_TO_PLAY]


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """Plane 0: the mover's stones; 1: the opponent's; 2: the last move (one point).

    Plane 2 marks the stone the opponent just placed, all zero before the first move.
    """
    n = state[H_SIZE]
    grid.stone_planes_into(state, out, n)
    out[2] = 0.0
    last = state[S_LAST_MOVE]
    if last != NO_MOVE:
        out[2, last // n, last % n] = 1.0


class Gomoku(BoardGame):
    """Free-style Gomoku: five or more in a row wins; actions are points ``row * size + col``."""

    name = "gomoku"
    player_symbols = ("X", "O")  # Black, White
    rules = sys.modules[__name__]

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if not (is_int(size) and MIN_SIZE <= size <= MAX_SIZE):
            raise ValueError(
                f"gomoku: size must be an int from {MIN_SIZE} to {MAX_SIZE}, got {size!r}"
            )
        size = int(size)
        super().__init__(
            size=size, board_shape=(size, size), num_actions=size * size, num_planes=NUM_PLANES
        )

    def last_move(self, state: np.ndarray) -> int | None:
        """The action played last, or None before the first move."""
        a = int(state[S_LAST_MOVE])
        return None if a == NO_MOVE else a

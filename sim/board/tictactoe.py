"""Tic-Tac-Toe on a 3x3 board.

``state[8:17]`` are the cells row by row from the top: 0 empty, 1 player_0 (X),
2 player_1 (O).  Actions are cells 0..8; in text, points ``a1``..``c3``
(column letter, row counted from the bottom).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from sim.board import grid
from sim.board.base import DRAW, H_PLY, H_TO_PLAY, H_WINNER, HEADER, TICTACTOE, BoardGame

N = 3
NUM_PLANES = 2
# The 8 lines through the board, as cell triples.
LINES = np.array(
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]],
    dtype=np.int64,
)


@njit(cache=True)
def new_state(size: int = 3) -> np.ndarray:
    return grid.new_grid_state(TICTACTOE, N)


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    return N * N


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    return grid.empty_point_is_legal(state, action, N)


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    return grid.empty_points_mask_into(state, out, N)


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """Plane 0: the mover's marks; plane 1: the opponent's."""
    grid.stone_planes_into(state, out, N)


board_view = grid.board_view


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    stone = state[H_TO_PLAY] + 1
    state[HEADER + action] = stone
    state[H_PLY] += 1
    for i in range(LINES.shape[0]):
        a, b, c = LINES[i, 0], LINES[i, 1], LINES[i, 2]
        if state[HEADER + a] == stone and state[HEADER + b] == stone and state[HEADER + c] == stone:
            state[H_WINNER] = state[H_TO_PLAY]
            break
    else:
        if state[H_PLY] == N * N:
            state[H_WINNER] = DRAW
    state[H_TO_PLAY] = 1 - state[H_TO_PLAY]


class TicTacToe(BoardGame):
    """Tic-Tac-Toe: three in a row wins; actions are cells 0..8, row by row from the top."""

    name = "tictactoe"
    player_symbols = ("X", "O")
    rules = sys.modules[__name__]

    def __init__(self) -> None:
        super().__init__(size=N, board_shape=(N, N), num_actions=N * N, num_planes=NUM_PLANES)

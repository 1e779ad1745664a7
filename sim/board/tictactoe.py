"""Tic-Tac-Toe on a 3x3 board.

``state[8:17]`` are the cells row by row from the top: 0 empty, 1 player_0 (X),
2 player_1 (O).  Actions are cells 0..8; in text, points ``a1``..``c3``
(column letter, row counted from the bottom).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.board.base import (
    DRAW,
    H_GAME,
    H_PLY,
    H_SIZE,
    H_TO_PLAY,
    H_WINNER,
    HEADER,
    ONGOING,
    TICTACTOE,
    BoardGame,
)

N = 3
STATE_SIZE = HEADER + N * N
NUM_PLANES = 2
# The 8 lines through the board, as cell triples.
LINES = np.array(
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [0, 3, 6], [1, 4, 7], [2, 5, 8], [0, 4, 8], [2, 4, 6]],
    dtype=np.int64,
)


@njit(cache=True)
def new_state(size: int = 3) -> np.ndarray:
    s = np.zeros(STATE_SIZE, dtype=np.int64)
    s[H_GAME] = TICTACTOE
    s[H_WINNER] = ONGOING
    s[H_SIZE] = N
    return s


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    return N * N


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    if action < 0 or action >= N * N or state[H_WINNER] != ONGOING:
        return False
    return state[HEADER + action] == 0


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    n = 0
    ongoing = state[H_WINNER] == ONGOING
    for a in range(N * N):
        ok = ongoing and state[HEADER + a] == 0
        out[a] = ok
        n += ok
    return n


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


@njit(cache=True)
def board_view(state: np.ndarray) -> np.ndarray:
    out = np.zeros((N, N), dtype=np.int8)
    for a in range(N * N):
        out[a // N, a % N] = state[HEADER + a]
    return out


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """Plane 0: the mover's marks; plane 1: the opponent's."""
    mine = state[H_TO_PLAY] + 1
    for a in range(N * N):
        v = state[HEADER + a]
        out[0, a // N, a % N] = 1.0 if v == mine else 0.0
        out[1, a // N, a % N] = 1.0 if (v != 0 and v != mine) else 0.0


class TicTacToe(BoardGame):
    """Tic-Tac-Toe: three in a row wins; actions are cells 0..8, row by row from the top."""

    name = "tictactoe"
    player_symbols = ("X", "O")
    _new_state = staticmethod(new_state)
    _legal_mask_into = staticmethod(legal_mask_into)
    _is_legal = staticmethod(is_legal)
    _play = staticmethod(play)
    _observation_into = staticmethod(observation_into)
    _board_view = staticmethod(board_view)

    def __init__(self) -> None:
        super().__init__(size=N, board_shape=(N, N), num_actions=N * N, num_planes=NUM_PLANES)

"""Connect Four (6 rows x 7 columns) on bitboards, after Pascal Pons.

Bit ``col * 7 + row`` (row 0 at the bottom) is one cell; each column keeps a spare
top bit so that shifted alignments never wrap.  Game header fields::

    state[5]  stones of the player to move (Pons' ``position``)
    state[6]  all stones (Pons' ``mask``)

Actions are columns 0..6; in text they are Pons' digits 1..7, a game is a string
of digits such as ``"4453"``.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from sim.board.base import (
    CONNECT4,
    DRAW,
    H_GAME,
    H_PLY,
    H_SIZE,
    H_TO_PLAY,
    H_WINNER,
    HEADER,
    ONGOING,
    BoardGame,
)

WIDTH, HEIGHT = 7, 6
STATE_SIZE = HEADER
S_POSITION, S_MASK = 5, 6
NUM_PLANES = 2


@njit(cache=True, inline="always")
def bottom_mask_col(col: int) -> int:
    return np.int64(1) << (col * (HEIGHT + 1))


@njit(cache=True, inline="always")
def top_mask_col(col: int) -> int:
    return np.int64(1) << (HEIGHT - 1 + col * (HEIGHT + 1))


@njit(cache=True, inline="always")
def alignment(pos: int) -> bool:
    """True if the bitboard ``pos`` holds four in a row in any direction."""
    m = pos & (pos >> (HEIGHT + 1))  # horizontal
    if m & (m >> (2 * (HEIGHT + 1))):
        return True
    m = pos & (pos >> HEIGHT)  # diagonal \
    if m & (m >> (2 * HEIGHT)):
        return True
    m = pos & (pos >> (HEIGHT + 2))  # diagonal /
    if m & (m >> (2 * (HEIGHT + 2))):
        return True
    m = pos & (pos >> 1)  # vertical
    return (m & (m >> 2)) != 0


@njit(cache=True)
def new_state(size: int = 0) -> np.ndarray:
    s = np.zeros(STATE_SIZE, dtype=np.int64)
    s[H_GAME] = CONNECT4
    s[H_WINNER] = ONGOING
    s[H_SIZE] = WIDTH
    return s


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    return WIDTH


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    if action < 0 or action >= WIDTH or state[H_WINNER] != ONGOING:
        return False
    return (state[S_MASK] & top_mask_col(action)) == 0


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    n = 0
    ongoing = state[H_WINNER] == ONGOING
    for c in range(WIDTH):
        ok = ongoing and (state[S_MASK] & top_mask_col(c)) == 0
        out[c] = ok
        n += ok
    return n


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    pos, old_mask = state[S_POSITION], state[S_MASK]
    mask = old_mask | (old_mask + bottom_mask_col(action))
    mover = pos | (mask ^ old_mask)  # the mover's stones, new one included
    state[S_POSITION] = pos ^ old_mask  # the opponent's stones: they move next
    state[S_MASK] = mask
    state[H_PLY] += 1
    if alignment(mover):
        state[H_WINNER] = state[H_TO_PLAY]
    elif state[H_PLY] == WIDTH * HEIGHT:
        state[H_WINNER] = DRAW
    state[H_TO_PLAY] = 1 - state[H_TO_PLAY]


@njit(cache=True)
def board_view(state: np.ndarray) -> np.ndarray:
    """int8[6, 7], row 0 at the top."""
    out = np.zeros((HEIGHT, WIDTH), dtype=np.int8)
    mover = state[S_POSITION]
    mask = state[S_MASK]
    p0 = mover if state[H_TO_PLAY] == 0 else mover ^ mask
    for c in range(WIDTH):
        for r in range(HEIGHT):
            bit = np.int64(1) << (c * (HEIGHT + 1) + r)
            if mask & bit:
                out[HEIGHT - 1 - r, c] = 1 if p0 & bit else 2
    return out


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """Plane 0: the mover's stones; plane 1: the opponent's (row 0 at the top)."""
    mover = state[S_POSITION]
    other = mover ^ state[S_MASK]
    for c in range(WIDTH):
        for r in range(HEIGHT):
            bit = np.int64(1) << (c * (HEIGHT + 1) + r)
            out[0, HEIGHT - 1 - r, c] = 1.0 if mover & bit else 0.0
            out[1, HEIGHT - 1 - r, c] = 1.0 if other & bit else 0.0


class Connect4(BoardGame):
    """Connect Four: 6x7, gravity, four in a row wins; actions are columns 0..6."""

    name = "connect4"
    player_symbols = ("X", "O")
    rules = sys.modules[__name__]

    def __init__(self) -> None:
        super().__init__(
            size=WIDTH, board_shape=(HEIGHT, WIDTH), num_actions=WIDTH, num_planes=NUM_PLANES
        )

    def with_mover(self, state: np.ndarray, player: int) -> np.ndarray:
        """As the base method; the bitboard keeps the mover's stones, so swap them too."""
        if int(state[H_TO_PLAY]) == player:
            return state
        flipped = super().with_mover(state, player)
        flipped[S_POSITION] ^= flipped[S_MASK]
        return flipped

    def illegal_reason(self, state: np.ndarray, action: int) -> str:
        return "the column is full"

    def symmetries(self, planes: np.ndarray, policy: np.ndarray) -> list[tuple]:
        """Identity and the left-right mirror."""
        return [
            (planes, policy),
            (np.ascontiguousarray(np.flip(planes, -1)), np.ascontiguousarray(policy[::-1])),
        ]

    def action_to_str(self, action: int) -> str:
        if not 0 <= int(action) < WIDTH:
            raise ValueError(f"connect4: action {action} is out of range 0..6")
        return str(int(action) + 1)

    def str_to_action(self, text: str) -> int:
        t = text.strip()
        if len(t) != 1 or t not in "1234567":
            raise ValueError(f"connect4: cannot read move {text!r}: expected a column digit 1..7")
        return int(t) - 1

    def split_moves(self, text: str) -> list[str]:
        """Pons' notation: a run of digits, optionally separated by spaces or commas."""
        return [ch for ch in text if not ch.isspace() and ch not in ",;"]

    def format_moves(self, actions) -> str:
        return "".join(self.action_to_str(int(a)) for a in actions)

    def column_labels(self) -> list[str]:
        return [str(c + 1) for c in range(WIDTH)]


def solve(moves: str, weak: bool = False, max_nodes: int | None = None) -> int:
    """Exact score of the position after ``moves`` (Pons' notation), for the side to move.

    Win: 22 minus the stones the winner has played at the end; loss: the negative; draw:
    0. ``weak=True`` returns only the sign (1 win, 0 draw, -1 loss). Past ``max_nodes``
    searched positions it raises :class:`~sim.board.connect4_solver.SolverBudgetExceeded`
    (early positions take seconds). See :mod:`sim.board.connect4_solver`; it loads on first
    use, so the rules alone do not pay for its compilation or its table.
    """
    from sim.board.connect4_solver import solve as _solve

    return _solve(moves, weak=weak, max_nodes=max_nodes)

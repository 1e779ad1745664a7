"""Othello (Reversi) on an 8x8 board, or any even size from 4 to 16 (``Othello(size=6)``).

Coordinates follow Othello literature: columns ``a..`` from the left, rows ``1..``
counted from the **top**, so ``a1`` is the top-left corner.  Cell ``(row, col)`` is
action ``row * size + col``; action ``size * size`` is "pass".  The start position
has player_1 (White, ``O``) on d4/e5 and player_0 (Black, ``X``, moves first) on
d5/e4, so Black's first moves are d3, c4, f5 and e6.

Rules:

* a placement must flip at least one line of opponent stones (any of the 8 directions);
  every bracketed line is flipped;
* passes are explicit: "pass" is legal only when the mover has no placement, and then
  it is the only legal move;
* the game is over as soon as neither side has a placement (board full included),
  right after the move that caused it, so an env never has to play out pointless
  passes.  Hence two passes never follow each other.  More stones wins; equal is a draw
  (:meth:`Othello.stone_counts` gives the stones on the board; tournament scoring would
  also hand the empty squares to the winner, which never changes who won).

:func:`perft` counts leaves of the move tree, as in the published reversi numbers.

State after the shared header (see :mod:`sim.board.base`)::

    state[5]   passes in a row just played (0 or 1)
    state[6]   player_0's stones
    state[7]   player_1's stones
    state[8:8 + size*size]  cells row by row from the top: 0 empty, 1 player_0, 2 player_1

One mailbox code path serves every size: a directional scan per cell is fast enough
here, and bitboards would only cover 8x8.
"""

from __future__ import annotations

import re
import sys

import numpy as np
from numba import njit

from sim.board import grid
from sim.board.base import (
    DRAW,
    H_PLY,
    H_SIZE,
    H_TO_PLAY,
    H_WINNER,
    HEADER,
    ONGOING,
    OTHELLO,
    BoardGame,
    is_int,
)

DEFAULT_SIZE = 8
MIN_SIZE, MAX_SIZE = 4, 16
S_PASSES, S_STONES0, S_STONES1 = 5, 6, 7
NUM_PLANES = 3


@njit(cache=True, inline="always")
def _bracketed(state: np.ndarray, n: int, row: int, col: int, dr: int, dc: int, me: int) -> int:
    """Opponent stones flipped in direction (dr, dc) by ``me`` playing at (row, col)."""
    # Steps to the edge, so the walk needs no per-step bounds test; callers pass literal
    # directions, which inlining folds into constants.
    steps = n
    if dr > 0:
        steps = n - 1 - row
    elif dr < 0:
        steps = row
    if dc > 0:
        steps = min(steps, n - 1 - col)
    elif dc < 0:
        steps = min(steps, col)
    delta = dr * n + dc
    idx = HEADER + row * n + col + delta
    opp = 3 - me
    if steps < 2 or state[idx] != opp:
        return 0
    for count in range(1, steps):
        idx += delta
        v = state[idx]
        if v != opp:
            return count if v == me else 0
    return 0


@njit(cache=True, inline="always")
def _is_placement(state: np.ndarray, n: int, cell: int, me: int) -> bool:
    """True if ``me`` (1 or 2) may place at ``cell``."""
    if state[HEADER + cell] != 0:
        return False
    row, col = cell // n, cell % n
    return (
        _bracketed(state, n, row, col, -1, -1, me) > 0
        or _bracketed(state, n, row, col, -1, 0, me) > 0
        or _bracketed(state, n, row, col, -1, 1, me) > 0
        or _bracketed(state, n, row, col, 0, -1, me) > 0
        or _bracketed(state, n, row, col, 0, 1, me) > 0
        or _bracketed(state, n, row, col, 1, -1, me) > 0
        or _bracketed(state, n, row, col, 1, 0, me) > 0
        or _bracketed(state, n, row, col, 1, 1, me) > 0
    )


@njit(cache=True, inline="always")
def _flip(state: np.ndarray, n: int, row: int, col: int, dr: int, dc: int, me: int) -> int:
    """Flip the stones ``me`` brackets in direction (dr, dc) from (row, col); their count."""
    count = _bracketed(state, n, row, col, dr, dc, me)
    idx = HEADER + row * n + col
    for _ in range(count):
        idx += dr * n + dc
        state[idx] = me
    return count


@njit(cache=True)
def has_placement(state: np.ndarray, me: int) -> bool:
    """True if stone colour ``me`` (1 = player_0, 2 = player_1) has a placing move."""
    n = state[H_SIZE]
    for cell in range(n * n):
        if _is_placement(state, n, cell, me):
            return True
    return False


@njit(cache=True)
def new_state(size: int = DEFAULT_SIZE) -> np.ndarray:
    if size < MIN_SIZE or size > MAX_SIZE or size % 2 != 0:
        raise ValueError("othello: size must be even, from 4 to 16")
    s = grid.new_grid_state(OTHELLO, size)
    h = size // 2
    # White (2) on d4/e5, Black (1) on e4/d5 in 8x8 terms.
    s[HEADER + (h - 1) * size + (h - 1)] = 2
    s[HEADER + h * size + h] = 2
    s[HEADER + (h - 1) * size + h] = 1
    s[HEADER + h * size + (h - 1)] = 1
    s[S_STONES0] = 2
    s[S_STONES1] = 2
    return s


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    n = state[H_SIZE]
    return n * n + 1


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    n = state[H_SIZE]
    if action < 0 or action > n * n or state[H_WINNER] != ONGOING:
        return False
    me = state[H_TO_PLAY] + 1
    if action == n * n:
        return not has_placement(state, me)
    return _is_placement(state, n, action, me)


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    n = state[H_SIZE]
    count = 0
    if state[H_WINNER] == ONGOING:
        me = state[H_TO_PLAY] + 1
        for cell in range(n * n):
            ok = _is_placement(state, n, cell, me)
            out[cell] = ok
            count += ok
    else:
        out[: n * n] = False
    out[n * n] = state[H_WINNER] == ONGOING and count == 0
    return count + out[n * n]


@njit(cache=True)
def _finish(state: np.ndarray) -> None:
    """Score the finished game: more stones wins, equal is a draw."""
    s0, s1 = state[S_STONES0], state[S_STONES1]
    state[H_WINNER] = 0 if s0 > s1 else (1 if s1 > s0 else DRAW)


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    n = state[H_SIZE]
    player = state[H_TO_PLAY]
    me = player + 1
    state[H_PLY] += 1
    state[H_TO_PLAY] = 1 - player
    if action == n * n:
        # The game did not end before this pass, so the opponent can place: no check needed.
        state[S_PASSES] += 1
        return
    state[S_PASSES] = 0
    row, col = action // n, action % n
    flipped = (
        _flip(state, n, row, col, -1, -1, me)
        + _flip(state, n, row, col, -1, 0, me)
        + _flip(state, n, row, col, -1, 1, me)
        + _flip(state, n, row, col, 0, -1, me)
        + _flip(state, n, row, col, 0, 1, me)
        + _flip(state, n, row, col, 1, -1, me)
        + _flip(state, n, row, col, 1, 0, me)
        + _flip(state, n, row, col, 1, 1, me)
    )
    state[HEADER + action] = me
    state[S_STONES0 + player] += flipped + 1
    state[S_STONES0 + 1 - player] -= flipped
    if not has_placement(state, 3 - me) and not has_placement(state, me):
        _finish(state)


board_view = grid.board_view  # row 0 at the top is Othello row 1


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """Plane 0: the mover's stones; 1: the opponent's; 2: the mover's legal placements.

    Plane 2 is all zero when the mover must pass (or the game is over).
    """
    n = state[H_SIZE]
    grid.stone_planes_into(state, out, n)
    me = state[H_TO_PLAY] + 1
    ongoing = state[H_WINNER] == ONGOING
    for cell in range(n * n):
        legal = ongoing and _is_placement(state, n, cell, me)
        out[2, cell // n, cell % n] = 1.0 if legal else 0.0


@njit(cache=True)
def _perft(state: np.ndarray, depth: int, scratch: np.ndarray, masks: np.ndarray) -> int:
    # Rows depth-1 of scratch/masks belong to this level, so recursion allocates nothing.
    if state[H_WINNER] != ONGOING:
        return 1
    mask = masks[depth - 1]
    count = legal_mask_into(state, mask)
    if depth == 1:
        return count
    child = scratch[depth - 1]
    nodes = 0
    for a in range(mask.shape[0]):
        if mask[a]:
            child[:] = state
            play(child, a)
            nodes += _perft(child, depth - 1, scratch, masks)
    return nodes


@njit(cache=True)
def perft(state: np.ndarray, depth: int) -> int:
    """Leaf count of the game tree ``depth`` moves deep from ``state``.

    Counted as in Aart Bik's published reversi perft: a forced pass is a move, and a
    finished game reached above full depth counts as one leaf.
    """
    if depth <= 0 or state[H_WINNER] != ONGOING:
        return 1
    scratch = np.empty((depth, state.shape[0]), dtype=np.int64)
    masks = np.zeros((depth, num_actions(state)), dtype=np.bool_)
    return _perft(state, depth, scratch, masks)


class Othello(BoardGame):
    """Othello: place to bracket and flip; explicit passes; most stones wins.

    Actions are cells ``row * size + col`` (row 0 at the top) and ``size * size`` for
    pass; text is Othello notation (``a1`` top-left, rows from the top) or ``pass``.
    """

    name = "othello"
    player_symbols = ("X", "O")  # Black, White (Edax-style board strings)
    rules = sys.modules[__name__]
    rows_from_top = True  # Othello notation: a1 is the top-left corner
    notation_note = "row 1 at the top"

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if not (is_int(size) and MIN_SIZE <= size <= MAX_SIZE and size % 2 == 0):
            raise ValueError(
                f"othello: size must be an even int from {MIN_SIZE} to {MAX_SIZE}, got {size!r}"
            )
        size = int(size)
        super().__init__(
            size=size, board_shape=(size, size), num_actions=size * size + 1, num_planes=NUM_PLANES
        )

    # ---- state -------------------------------------------------------------
    def stone_counts(self, state: np.ndarray) -> tuple[int, int]:
        """Stones of (player_0, player_1) on the board."""
        return int(state[S_STONES0]), int(state[S_STONES1])

    def state_from_board(self, board: np.ndarray, to_play: int = 0) -> np.ndarray:
        """A state holding ``board`` (int[size, size], 0/1/2, row 0 at the top).

        The result is scored at once if neither side can place.  Ply is taken as the
        number of placements (stones beyond the initial four); passes are unknown.
        """
        b = self._check_board(board, to_play)
        s = new_state(self.size)
        s[HEADER:] = b.reshape(-1)
        s[S_STONES0] = int((b == 1).sum())
        s[S_STONES1] = int((b == 2).sum())
        s[H_TO_PLAY] = to_play
        s[H_PLY] = max(0, s[S_STONES0] + s[S_STONES1] - 4)
        if not has_placement(s, 1) and not has_placement(s, 2):
            _finish(s)
        return s

    def illegal_reason(self, state: np.ndarray, action: int) -> str:
        if action == self.size * self.size:
            return "pass is allowed only when no placement is"
        if state[HEADER + action] != 0:
            return "the square is occupied"
        return "it flips no stones"

    # ---- notation ----------------------------------------------------------
    def split_moves(self, text: str) -> list[str]:
        """Tokens of a transcript, spaced (``"f5 d6"``) or run together (``"F5D6pass"``).

        Any other character becomes its own token, so the parser names it.
        """
        return re.findall(r"pass|[a-z]\d+|[^\s,;]", text.lower())

    def status_line(self, state: np.ndarray) -> str:
        s0, s1 = self.stone_counts(state)
        x, o = self.player_symbols
        return f"{super().status_line(state)}; {x} {s0} - {o} {s1}"

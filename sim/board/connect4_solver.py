"""A perfect Connect Four solver, after Pascal Pons' "Solving Connect 4: how to build
a perfect AI" (blog.gamesolver.org), in Numba.

Negamax with alpha-beta on Pons' bitboards (the layout of :mod:`sim.board.connect4`:
bit ``col * 7 + row``, row 0 at the bottom), with

- anticipation of losing moves: a node only expands moves that do not hand the
  opponent an immediate win, and a node facing two threats is scored as lost at once;
- move ordering: center-first columns, then sorted by how many winning cells a move
  creates for the mover;
- a transposition table of position keys (``position + mask``) holding upper or lower
  bounds of the exact score, in a preallocated prime-size array;
- null-window searches at the root that narrow the score by binary search (Pons'
  "iterative deepening" step).

Scores follow Pons: for the side to move, a win scores 22 minus the number of stones
the winner has played at the end (an immediate win with ``n`` stones on the board
scores ``(43 - n) // 2``), a loss the negative of the opponent's win score, a draw 0.
``weak=True`` searches only the window [-1, 1] and returns the sign (1, 0, -1).

The transposition table is module state, one per process (``TT_SIZE`` int64 entries,
64 MiB of address space that is only paged in as it is used).  Its entries are exact
bounds of a position's score, valid in any later search, so :func:`solve` keeps it
between calls (a game played against the solver gets faster); :func:`clear_table`
empties it.  Clearing costs time proportional to the entries written since the last
clear, not the table size.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.board.base import CONNECT4, H_GAME, H_PLY, H_WINNER, HEADER, ONGOING, is_int
from sim.board.connect4 import HEIGHT, S_MASK, S_POSITION, WIDTH, alignment

__all__ = [
    "INVALID",
    "MAX_SCORE",
    "MIN_SCORE",
    "TT_SIZE",
    "SolverBudgetExceeded",
    "analyze",
    "clear_table",
    "last_node_count",
    "solve",
    "solve_many",
    "solve_state",
]

SIZE = WIDTH * HEIGHT
# Pons' MIN_SCORE/MAX_SCORE (-18, 18): score bounds inside the search, where the mover
# cannot win at once; they offset the TT value encoding below.
MIN_SCORE = -SIZE // 2 + 3
MAX_SCORE = (SIZE + 1) // 2 - 3
INVALID = -1000  # analyze(): score of a column that cannot be played

TT_SIZE = (1 << 23) + 9  # a prime, so that key % TT_SIZE spreads keys evenly
DIRTY_CAPACITY = 1 << 20  # slots remembered for a cheap clear; past this, clear it all
# TT values (Pons' encoding, never 0 so that 0 means "empty"): an upper bound u is
# stored as u - MIN_SCORE + 1 (1..37), a lower bound l as l + MAX_SCORE - 2*MIN_SCORE + 2
# (38..74). An entry packs the full 49-bit key above 7 value bits.
VALUE_BITS = 7
VALUE_MASK = (1 << VALUE_BITS) - 1
LOWER_BOUND_FLOOR = MAX_SCORE - MIN_SCORE + 1

BOTTOM_MASK = sum(1 << (c * (HEIGHT + 1)) for c in range(WIDTH))
BOARD_MASK = BOTTOM_MASK * ((1 << HEIGHT) - 1)
COLUMN_ORDER = np.array(
    [WIDTH // 2 + (1 - 2 * (i % 2)) * ((i + 1) // 2) for i in range(WIDTH)], dtype=np.int64
)  # 3, 2, 4, 1, 5, 0, 6: center first
# Column masks in search order (read-only globals are compile-time constants in Numba).
ORDERED_COLUMN_MASKS = np.array(
    [((1 << HEIGHT) - 1) << (int(c) * (HEIGHT + 1)) for c in COLUMN_ORDER], dtype=np.int64
)

# Control block shared by the kernels: nodes searched, node budget, slots to clear.
CTL_NODES, CTL_MAX_NODES, CTL_DIRTY = 0, 1, 2
NO_BUDGET = np.iinfo(np.int64).max

# _position_from_codes() error codes.
ERR_NONE, ERR_CHAR, ERR_FULL_COLUMN, ERR_AFTER_WIN, ERR_WON, ERR_BOARD_FULL = range(6)


class SolverBudgetExceeded(RuntimeError):
    """The search needed more nodes than ``max_nodes``; nothing was returned."""


# ---- bitboard helpers ------------------------------------------------------------------
@njit(cache=True, inline="always")
def _winning_cells(position: int, mask: int) -> int:
    """Empty cells that would complete four for the owner of ``position`` (Pons)."""
    # vertical
    r = (position << 1) & (position << 2) & (position << 3)
    # horizontal, then the two diagonals: three known stones around the empty cell
    for step in (HEIGHT + 1, HEIGHT, HEIGHT + 2):
        p = (position << step) & (position << (2 * step))
        r |= p & (position << (3 * step))
        r |= p & (position >> step)
        p = (position >> step) & (position >> (2 * step))
        r |= p & (position << step)
        r |= p & (position >> (3 * step))
    return r & (BOARD_MASK ^ mask)


@njit(cache=True, inline="always")
def _popcount(x: int) -> int:
    n = 0
    while x:
        x &= x - 1
        n += 1
    return n


@njit(cache=True, inline="always")
def _half_toward_zero(x: int) -> int:
    """C's ``x / 2``: Pons' root window arithmetic truncates, Python's // floors."""
    return x // 2 if x >= 0 else -((-x) // 2)


@njit(cache=True, inline="always")
def _possible(mask: int) -> int:
    return (mask + BOTTOM_MASK) & BOARD_MASK


# ---- transposition table ---------------------------------------------------------------
@njit(cache=True, inline="always")
def _tt_get(tt: np.ndarray, key: int) -> int:
    entry = tt[key % TT_SIZE]
    if (entry >> VALUE_BITS) == key:
        return entry & VALUE_MASK
    return 0


@njit(cache=True, inline="always")
def _tt_put(tt: np.ndarray, dirty: np.ndarray, ctl: np.ndarray, key: int, value: int) -> None:
    slot = key % TT_SIZE
    if tt[slot] == 0:
        n = ctl[CTL_DIRTY]
        if n >= 0:  # -1: too many to remember, the next clear wipes everything
            if n < dirty.shape[0]:
                dirty[n] = slot
                ctl[CTL_DIRTY] = n + 1
            else:
                ctl[CTL_DIRTY] = -1
    tt[slot] = (key << VALUE_BITS) | value


@njit(cache=True)
def _tt_clear(tt: np.ndarray, dirty: np.ndarray, ctl: np.ndarray) -> None:
    n = ctl[CTL_DIRTY]
    if n < 0:
        tt[:] = 0
    else:
        for i in range(n):
            tt[dirty[i]] = 0
    ctl[CTL_DIRTY] = 0


# ---- search ----------------------------------------------------------------------------
@njit(cache=True)
def _negamax(
    position: int,
    mask: int,
    nmoves: int,
    alpha: int,
    beta: int,
    tt: np.ndarray,
    dirty: np.ndarray,
    sorter: np.ndarray,
    ctl: np.ndarray,
) -> int:
    """Score of a position whose mover cannot win at once, searched in (alpha, beta).

    Returns a value <= alpha if the true score is <= alpha (an upper bound), >= beta if
    it is >= beta (a lower bound), else the exact score.  Returns 0 without touching
    the table once the node budget ``ctl[CTL_MAX_NODES]`` is spent; callers check it.
    """
    ctl[CTL_NODES] += 1
    if ctl[CTL_NODES] > ctl[CTL_MAX_NODES]:
        return 0
    # Moves that do not let the opponent win next: block a single threat, never play
    # under an opponent's winning cell; two threats to block means the game is lost.
    possible = _possible(mask)
    opponent_win = _winning_cells(position ^ mask, mask)
    forced = possible & opponent_win
    if forced:
        if forced & (forced - 1):
            return -((SIZE - nmoves) // 2)
        possible = forced
    possible &= ~(opponent_win >> 1)
    if possible == 0:
        return -((SIZE - nmoves) // 2)
    if nmoves >= SIZE - 2:  # neither side can win with the last two stones
        return 0

    # The opponent cannot win next move, nor can we (invariant): tighten the window.
    low = -((SIZE - 2 - nmoves) // 2)
    if alpha < low:
        alpha = low
        if alpha >= beta:
            return alpha
    high = (SIZE - 1 - nmoves) // 2
    if beta > high:
        beta = high
        if alpha >= beta:
            return beta
    key = position + mask
    value = _tt_get(tt, key)
    if value:
        if value > LOWER_BOUND_FLOOR:
            low = value + 2 * MIN_SCORE - MAX_SCORE - 2
            if alpha < low:
                alpha = low
                if alpha >= beta:
                    return alpha
        else:
            high = value + MIN_SCORE - 1
            if beta > high:
                beta = high
                if alpha >= beta:
                    return beta

    # Insertion sort by threats created; columns go in reverse center order and ties
    # keep insertion order, so popping from the end gives center-first among equals.
    moves = sorter[nmoves]
    n = 0
    for i in range(WIDTH - 1, -1, -1):
        move = possible & ORDERED_COLUMN_MASKS[i]
        if move:
            score = _popcount(_winning_cells(position | move, mask))
            j = n
            while j > 0 and moves[2 * j - 1] > score:
                moves[2 * j] = moves[2 * j - 2]
                moves[2 * j + 1] = moves[2 * j - 1]
                j -= 1
            moves[2 * j] = move
            moves[2 * j + 1] = score
            n += 1

    opponent = position ^ mask
    for k in range(n - 1, -1, -1):
        move = moves[2 * k]
        score = -_negamax(opponent, mask | move, nmoves + 1, -beta, -alpha, tt, dirty, sorter, ctl)
        if ctl[CTL_NODES] > ctl[CTL_MAX_NODES]:
            return 0
        if score >= beta:
            _tt_put(tt, dirty, ctl, key, score + MAX_SCORE - 2 * MIN_SCORE + 2)
            return score
        if score > alpha:
            alpha = score
    _tt_put(tt, dirty, ctl, key, alpha - MIN_SCORE + 1)
    return alpha


@njit(cache=True)
def _solve_position(
    position: int,
    mask: int,
    nmoves: int,
    weak: bool,
    tt: np.ndarray,
    dirty: np.ndarray,
    sorter: np.ndarray,
    ctl: np.ndarray,
) -> int:
    """Exact score (or its sign if ``weak``) by null-window binary search on the score."""
    if _winning_cells(position, mask) & _possible(mask):
        return 1 if weak else (SIZE + 1 - nmoves) // 2
    low = -((SIZE - nmoves) // 2)
    high = (SIZE + 1 - nmoves) // 2
    if weak:
        low, high = -1, 1
    while low < high:
        med = low + (high - low) // 2
        # Probe near zero first: small windows around 0 are cheap to refute.
        if med <= 0 and _half_toward_zero(low) < med:
            med = _half_toward_zero(low)
        elif med >= 0 and high // 2 > med:
            med = high // 2
        r = _negamax(position, mask, nmoves, med, med + 1, tt, dirty, sorter, ctl)
        if ctl[CTL_NODES] > ctl[CTL_MAX_NODES]:
            return 0
        if r <= med:
            high = r
        else:
            low = r
    if weak:
        return 1 if low > 0 else (-1 if low < 0 else 0)
    return low


@njit(cache=True)
def _analyze_position(
    position: int,
    mask: int,
    nmoves: int,
    weak: bool,
    tt: np.ndarray,
    dirty: np.ndarray,
    sorter: np.ndarray,
    ctl: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out[c]`` with the mover's score after playing column ``c`` (or INVALID)."""
    wins = _winning_cells(position, mask)
    for col in range(WIDTH):
        column = ((1 << HEIGHT) - 1) << (col * (HEIGHT + 1))
        if mask & (1 << (HEIGHT - 1 + col * (HEIGHT + 1))):
            out[col] = INVALID
            continue
        move = (mask + (1 << (col * (HEIGHT + 1)))) & column
        if wins & move:
            out[col] = 1 if weak else (SIZE + 1 - nmoves) // 2
        else:
            out[col] = -_solve_position(
                position ^ mask, mask | move, nmoves + 1, weak, tt, dirty, sorter, ctl
            )
            if ctl[CTL_NODES] > ctl[CTL_MAX_NODES]:
                return


@njit(cache=True)
def _solve_batch(
    positions: np.ndarray,
    masks: np.ndarray,
    nmoves: np.ndarray,
    weak: bool,
    clear_between: bool,
    tt: np.ndarray,
    dirty: np.ndarray,
    sorter: np.ndarray,
    ctl: np.ndarray,
    scores: np.ndarray,
    nodes: np.ndarray,
) -> None:
    for i in range(positions.shape[0]):
        if clear_between:
            _tt_clear(tt, dirty, ctl)
        before = ctl[CTL_NODES]
        scores[i] = _solve_position(positions[i], masks[i], nmoves[i], weak, tt, dirty, sorter, ctl)
        nodes[i] = ctl[CTL_NODES] - before


@njit(cache=True)
def _position_from_codes(codes: np.ndarray) -> tuple[int, int, int, int, int]:
    """Play ASCII digits '1'..'7'; returns (position, mask, moves, error, error index)."""
    position = 0
    mask = 0
    n = codes.shape[0]
    for i in range(n):
        col = np.int64(codes[i]) - 49  # ord("1")
        if col < 0 or col >= WIDTH:
            return position, mask, i, ERR_CHAR, i
        if mask & (1 << (HEIGHT - 1 + col * (HEIGHT + 1))):
            return position, mask, i, ERR_FULL_COLUMN, i
        move = (mask + (1 << (col * (HEIGHT + 1)))) & (((1 << HEIGHT) - 1) << (col * (HEIGHT + 1)))
        if alignment(position | move):
            return position, mask, i, (ERR_WON if i == n - 1 else ERR_AFTER_WIN), i
        position ^= mask
        mask |= move
    if n == SIZE:
        return position, mask, n, ERR_BOARD_FULL, n - 1
    return position, mask, n, ERR_NONE, -1


# ---- module state ------------------------------------------------------------------------
_table: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(tt, dirty, sorter, ctl), allocated on first use (np.zeros pages in lazily)."""
    global _table
    if _table is None:
        tt = np.zeros(TT_SIZE, dtype=np.int64)
        dirty = np.zeros(DIRTY_CAPACITY, dtype=np.int64)
        sorter = np.zeros((SIZE + 1, 2 * WIDTH), dtype=np.int64)  # per-ply move lists
        ctl = np.zeros(3, dtype=np.int64)
        _table = (tt, dirty, sorter, ctl)
    return _table


def clear_table() -> None:
    """Empty this process's transposition table (node counts are unaffected)."""
    tt, dirty, _, ctl = _tables()
    _tt_clear(tt, dirty, ctl)


def last_node_count() -> int:
    """Nodes searched by the last :func:`solve`, :func:`solve_state`, :func:`analyze`
    or :func:`solve_many` call (whole batch), including one stopped by its budget."""
    return int(_tables()[3][CTL_NODES])


def _start(max_nodes: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tables = _tables()
    ctl = tables[3]
    if max_nodes is not None and (not is_int(max_nodes) or max_nodes < 0):
        raise ValueError(
            f"connect4 solver: max_nodes must be a non-negative int, got {max_nodes!r}"
        )
    ctl[CTL_NODES] = 0
    ctl[CTL_MAX_NODES] = NO_BUDGET if max_nodes is None else int(max_nodes)
    return tables


def _check_budget(ctl: np.ndarray) -> None:
    if ctl[CTL_NODES] > ctl[CTL_MAX_NODES]:
        raise SolverBudgetExceeded(
            f"connect4 solver: node budget of {int(ctl[CTL_MAX_NODES])} exceeded"
        )


def _parse(moves: str) -> tuple[int, int, int]:
    """(position, mask, plies) after ``moves``; ValueError naming the first bad move."""
    if not isinstance(moves, str):
        raise ValueError(
            f"connect4 solver: moves must be a string of digits 1..7, got {type(moves).__name__}"
        )
    text = moves.strip()
    try:
        codes = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as e:
        codes = np.frombuffer(text[: e.start].encode("ascii") + b"?", dtype=np.uint8)
    position, mask, n, err, at = _position_from_codes(codes)
    if err == ERR_NONE:
        return int(position), int(mask), int(n)
    where = f"move #{at + 1} {text[at]!r} in {moves!r}" if at < len(text) else repr(moves)
    if err == ERR_CHAR:
        raise ValueError(f"connect4 solver: bad character at {where}: expected a column 1..7")
    if err == ERR_FULL_COLUMN:
        raise ValueError(f"connect4 solver: {where} plays into a full column")
    if err == ERR_AFTER_WIN:
        raise ValueError(
            f"connect4 solver: move #{at + 2} {text[at + 1]!r} in {moves!r} comes "
            f"after the game was won by move #{at + 1}"
        )
    if err == ERR_WON:
        raise ValueError(f"connect4 solver: the position is already won ({where} wins)")
    raise ValueError(f"connect4 solver: the board is full after {moves!r}: the game is over")


def _from_state(state: np.ndarray) -> tuple[int, int, int]:
    if (
        not isinstance(state, np.ndarray)
        or state.dtype != np.int64
        or state.ndim != 1
        or state.shape[0] < HEADER
    ):
        raise ValueError("connect4 solver: expected a connect4 state (1-D np.int64 array)")
    if state[H_GAME] != CONNECT4:
        raise ValueError(
            f"connect4 solver: state is for game id {int(state[H_GAME])}, not connect4 ({CONNECT4})"
        )
    if state[H_WINNER] != ONGOING:
        raise ValueError("connect4 solver: the game in this state is already over")
    position, mask, n = int(state[S_POSITION]), int(state[S_MASK]), int(state[H_PLY])
    if (
        position & ~mask
        or mask & ~BOARD_MASK
        or bin(mask).count("1") != n
        or (mask + BOTTOM_MASK) & mask & BOARD_MASK
    ):  # a stone above an empty cell
        raise ValueError("connect4 solver: inconsistent connect4 state (stones vs ply count)")
    return position, mask, n


# ---- public API --------------------------------------------------------------------------
def solve(moves: str, weak: bool = False, max_nodes: int | None = None) -> int:
    """Exact score, for the side to move, of the position after ``moves``.

    ``moves`` is Pons' notation: columns as digits 1..7, first player first ("4453").
    ``weak=True`` returns only 1 (win), 0 (draw) or -1 (loss), and is faster.
    Raises ValueError for a malformed or finished game, and
    :class:`SolverBudgetExceeded` if more than ``max_nodes`` nodes are needed.
    The transposition table is kept between calls; see :func:`clear_table`.
    """
    position, mask, n = _parse(moves)
    tt, dirty, sorter, ctl = _start(max_nodes)
    score = _solve_position(position, mask, n, bool(weak), tt, dirty, sorter, ctl)
    _check_budget(ctl)
    return int(score)


def solve_state(state: np.ndarray, weak: bool = False, max_nodes: int | None = None) -> int:
    """:func:`solve` for a :mod:`sim.board.connect4` state (not over); it is not modified."""
    position, mask, n = _from_state(state)
    tt, dirty, sorter, ctl = _start(max_nodes)
    score = _solve_position(position, mask, n, bool(weak), tt, dirty, sorter, ctl)
    _check_budget(ctl)
    return int(score)


def analyze(
    moves_or_state: str | np.ndarray, weak: bool = False, max_nodes: int | None = None
) -> np.ndarray:
    """int64[7]: the mover's score after playing each column, :data:`INVALID` if full.

    An immediate win scores ``(43 - n) // 2`` (1 if ``weak``); the best column's score
    equals :func:`solve`'s.  ``max_nodes`` bounds the whole analysis.
    """
    if isinstance(moves_or_state, np.ndarray):
        position, mask, n = _from_state(moves_or_state)
    else:
        position, mask, n = _parse(moves_or_state)
    tt, dirty, sorter, ctl = _start(max_nodes)
    out = np.empty(WIDTH, dtype=np.int64)
    _analyze_position(position, mask, n, bool(weak), tt, dirty, sorter, ctl, out)
    _check_budget(ctl)
    return out


def solve_many(
    lines: list[str], weak: bool = False, clear_between: bool = True, return_nodes: bool = False
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Scores of many positions in one compiled loop (benchmarks, tests).

    Each line is a move string, optionally followed by text after a space (so the
    lines of Pons' ``MOVES SCORE`` test files can be passed as they are).  With
    ``clear_between`` (as in Pons' benchmark) the table is cleared before each
    position.  ``return_nodes`` also returns the nodes searched per position.
    """
    count = len(lines)
    positions = np.empty(count, dtype=np.int64)
    masks = np.empty(count, dtype=np.int64)
    plies = np.empty(count, dtype=np.int64)
    for i, line in enumerate(lines):
        fields = line.split()
        positions[i], masks[i], plies[i] = _parse(fields[0] if fields else "")
    tt, dirty, sorter, ctl = _start(None)
    scores = np.empty(count, dtype=np.int64)
    nodes = np.empty(count, dtype=np.int64)
    _solve_batch(
        positions,
        masks,
        plies,
        bool(weak),
        bool(clear_between),
        tt,
        dirty,
        sorter,
        ctl,
        scores,
        nodes,
    )
    return (scores, nodes) if return_nodes else scores

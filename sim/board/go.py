"""Go on a 9x9 board (any size from 2 to 19), positional superko, Tromp-Taylor scoring.

``Go(size=9, komi=7.5, max_moves=None)``; ``make_game("go")`` is 9x9 with komi 7.5.
player_0 is Black (``X``) and moves first, player_1 is White (``O``).

Rules (Tromp-Taylor, except that suicide is illegal):

* a play puts a stone on an empty point, then removes every opponent group left
  without liberties; a play that would leave its own group without liberties after
  those removals (**suicide**) is illegal;
* **positional superko**: a play is illegal if the board it produces (stones only,
  whoever is to move) equals any earlier board of this game, the start included;
* a pass (action ``size*size``) is always legal while the game is on;
* the game ends after two passes in a row, or when ``max_moves`` moves (passes count)
  have been played (default ``3 * size * size``: 243 on 9x9); either way the board is
  scored as it stands;
* **area scoring**: a player's score is their stones plus the empty points that reach
  only stones of their colour (through empty points); an empty region touching both
  colours (dame), or none, counts for nobody.  White adds komi.  The higher score wins;
  equal scores (possible only with an integer komi) are a draw.

Boards are compared through 64-bit Zobrist hashes (a fixed-seed table, so hashes agree
across processes).  Two different boards with the same hash would make a legal play look
like a repetition: the odds are about ``moves**2 / 2**64`` per game, and as passing is
always legal a collision can never leave a player without a move.

State after the shared header (see :mod:`sim.board.base`)::

    state[5]   passes in a row just played (0, 1; 2 ends the game)
    state[6]   Zobrist hash of the current board (0 for the empty board)
    state[7]   komi times two (15 for 7.5), so a half-point komi stays an integer
    state[8:8 + size*size]  points row by row from the top: 0 empty, 1 Black, 2 White
    state[8 + size*size + k]  hash of the board after k moves, k = 0 .. ply

so ``max_moves = len(state) - 8 - size*size - 1``.  Point ``(row, col)`` (row 0 at the
top) is action ``row * size + col``.  Text is GTP: columns ``A..T`` skipping ``I`` from
the left, rows ``1..size`` from the bottom (``A1`` is the bottom-left corner), ``pass``;
either case is read, upper case is written.

Observation planes, from the mover's view: 0 the mover's stones, 1 the opponent's,
2 empty points, 3 all ones if the mover is Black (zeros if White, so komi is visible),
4 the mover's legal plays (suicide and superko excluded; pass is not a point).
"""

from __future__ import annotations

import sys

import numpy as np
from numba import njit

from sim.board import grid
from sim.board.base import (
    DRAW,
    GO,
    H_PLY,
    H_SIZE,
    H_TO_PLAY,
    H_WINNER,
    HEADER,
    ONGOING,
    BoardGame,
    is_int,
)

DEFAULT_SIZE = 9
DEFAULT_KOMI = 7.5
MIN_SIZE, MAX_SIZE = 2, 19
MAX_MOVES_LIMIT = 100_000
S_PASSES, S_HASH, S_KOMI2 = 5, 6, 7
NUM_PLANES = 5
BLACK, WHITE = 1, 2
GTP_COLUMNS = "ABCDEFGHJKLMNOPQRST"

# Why a move is illegal (move_status); LEGAL is 0.
LEGAL, GAME_OVER, OUT_OF_RANGE, OCCUPIED, SUICIDE, SUPERKO = 0, 1, 2, 3, 4, 5
REASONS = {
    GAME_OVER: "the game is over",
    OUT_OF_RANGE: "out of range",
    OCCUPIED: "the point is occupied",
    SUICIDE: "suicide: the stone's group would have no liberties",
    SUPERKO: "positional superko: it repeats an earlier board",
}

# Bloom filter over the hash history, rebuilt per legal-mask call, so that most
# candidate plays skip the linear scan of the history.
BLOOM_WORDS = 64


def _neighbor_table() -> np.ndarray:
    """NEIGHBORS[size, point] = up to 4 adjacent points, padded with -1."""
    table = np.full((MAX_SIZE + 1, MAX_SIZE * MAX_SIZE, 4), -1, dtype=np.int64)
    for n in range(1, MAX_SIZE + 1):
        for p in range(n * n):
            r, c = divmod(p, n)
            k = 0
            for dr, dc in ((-1, 0), (0, -1), (0, 1), (1, 0)):
                if 0 <= r + dr < n and 0 <= c + dc < n:
                    table[n, p, k] = (r + dr) * n + c + dc
                    k += 1
    return table


def _zobrist_table() -> np.ndarray:
    """ZOBRIST[point, colour] (column 0, empty, is 0): fixed seed, full 64-bit range."""
    rng = np.random.default_rng(0x60_5EED)
    info = np.iinfo(np.int64)
    table = rng.integers(
        info.min, info.max, size=(MAX_SIZE * MAX_SIZE, 3), dtype=np.int64, endpoint=True
    )
    table[:, 0] = 0
    return table


NEIGHBORS = _neighbor_table()
ZOBRIST = _zobrist_table()


@njit(cache=True)
def new_state(size: int = DEFAULT_SIZE, komi2: int = 15, max_moves: int = 0) -> np.ndarray:
    """Empty board; ``komi2`` is komi times two; ``max_moves <= 0`` means ``3*size*size``."""
    if size < MIN_SIZE or size > MAX_SIZE:
        raise ValueError("go: size must be from 2 to 19")
    if max_moves <= 0:
        max_moves = 3 * size * size
    s = grid.new_grid_state(GO, size, max_moves + 1)  # history[0] = 0, the empty board's hash
    s[S_KOMI2] = komi2
    return s


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    n = state[H_SIZE]
    return n * n + 1


@njit(cache=True, inline="always")
def move_cap(state: np.ndarray) -> int:
    n = state[H_SIZE]
    return state.shape[0] - HEADER - n * n - 1


@njit(cache=True)
def _label_groups(
    state: np.ndarray,
    n: int,
    gid: np.ndarray,
    glibs: np.ndarray,
    ghash: np.ndarray,
    stack: np.ndarray,
    libmark: np.ndarray,
) -> int:
    """Give each stone its group id; per group its liberty count and Zobrist hash."""
    nn = n * n
    for p in range(nn):
        gid[p] = -1
        libmark[p] = -1
    groups = 0
    for p in range(nn):
        colour = state[HEADER + p]
        if colour == 0 or gid[p] >= 0:
            continue
        gid[p] = groups
        stack[0] = p
        top, libs, h = 1, 0, np.int64(0)
        while top > 0:
            top -= 1
            q = stack[top]
            h ^= ZOBRIST[q, colour]
            for k in range(4):
                r = NEIGHBORS[n, q, k]
                if r < 0:
                    break
                v = state[HEADER + r]
                if v == 0:
                    if libmark[r] != groups:  # count each liberty once per group
                        libmark[r] = groups
                        libs += 1
                elif v == colour and gid[r] < 0:
                    gid[r] = groups
                    stack[top] = r
                    top += 1
        glibs[groups] = libs
        ghash[groups] = h
        groups += 1
    return groups


@njit(cache=True, inline="always")
def _label_groups_in(state: np.ndarray, n: int, work: np.ndarray) -> int:
    """:func:`_label_groups` on arrays carved from ``work`` (at least ``5 * n * n`` long).

    Afterwards ``work[:nn]`` holds the group ids, ``work[nn:2*nn]`` the liberty counts
    and ``work[2*nn:3*nn]`` the hashes (``nn = n * n``); the rest is scratch.
    """
    nn = n * n
    return _label_groups(
        state,
        n,
        work[:nn],
        work[nn : 2 * nn],
        work[2 * nn : 3 * nn],
        work[3 * nn : 4 * nn],
        work[4 * nn : 5 * nn],
    )


@njit(cache=True, inline="always")
def _play_outcome(
    state: np.ndarray,
    n: int,
    p: int,
    me: int,
    gid: np.ndarray,
    glibs: np.ndarray,
    ghash: np.ndarray,
) -> tuple[bool, int]:
    """(not suicide, board hash afterwards) for ``me`` playing on empty point ``p``."""
    h = state[S_HASH] ^ ZOBRIST[p, me]
    alive = False
    cap0, cap1, cap2 = -1, -1, -1  # groups already captured: one may touch p twice
    for k in range(4):
        q = NEIGHBORS[n, p, k]
        if q < 0:
            break
        v = state[HEADER + q]
        if v == 0:
            alive = True
            continue
        g = gid[q]
        if v == me:
            if glibs[g] >= 2:  # p was one liberty; another remains
                alive = True
        elif glibs[g] == 1 and g != cap0 and g != cap1 and g != cap2:
            alive = True
            h ^= ghash[g]
            if cap0 < 0:
                cap0 = g
            elif cap1 < 0:
                cap1 = g
            else:
                cap2 = g
    return alive, h


@njit(cache=True, inline="always")
def _seen_before(state: np.ndarray, n: int, h: int) -> bool:
    start = HEADER + n * n
    for i in range(start, start + state[H_PLY] + 1):
        if state[i] == h:
            return True
    return False


@njit(cache=True)
def move_status(state: np.ndarray, action: int) -> int:
    """LEGAL (0), or why not: GAME_OVER, OUT_OF_RANGE, OCCUPIED, SUICIDE or SUPERKO."""
    n = state[H_SIZE]
    nn = n * n
    if state[H_WINNER] != ONGOING:
        return GAME_OVER
    if action < 0 or action > nn:
        return OUT_OF_RANGE
    if action == nn:
        return LEGAL
    if state[HEADER + action] != 0:
        return OCCUPIED
    work = np.empty(5 * nn, dtype=np.int64)
    _label_groups_in(state, n, work)
    alive, h = _play_outcome(
        state, n, action, state[H_TO_PLAY] + 1, work[:nn], work[nn : 2 * nn], work[2 * nn : 3 * nn]
    )
    if not alive:
        return SUICIDE
    if _seen_before(state, n, h):
        return SUPERKO
    return LEGAL


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    return move_status(state, action) == LEGAL


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    n = state[H_SIZE]
    nn = n * n
    if state[H_WINNER] != ONGOING:
        out[: nn + 1] = False
        return 0
    work = np.empty(5 * nn + BLOOM_WORDS, dtype=np.int64)
    _label_groups_in(state, n, work)
    gid, glibs, ghash = work[:nn], work[nn : 2 * nn], work[2 * nn : 3 * nn]
    bloom = work[5 * nn :]
    bloom[:] = 0
    start = HEADER + nn
    for i in range(start, start + state[H_PLY] + 1):
        h = state[i]
        bloom[(h >> 6) & (BLOOM_WORDS - 1)] |= np.int64(1) << (h & 63)
    me = state[H_TO_PLAY] + 1
    count = 0
    for p in range(nn):
        ok = False
        if state[HEADER + p] == 0:
            ok, h = _play_outcome(state, n, p, me, gid, glibs, ghash)
            if ok and (bloom[(h >> 6) & (BLOOM_WORDS - 1)] >> (h & 63)) & 1:
                ok = not _seen_before(state, n, h)
        out[p] = ok
        count += ok
    out[nn] = True
    return count + 1


@njit(cache=True)
def area(state: np.ndarray) -> tuple[int, int]:
    """Tromp-Taylor area (Black, White): stones plus empty points reaching only that colour."""
    n = state[H_SIZE]
    nn = n * n
    work = np.zeros(2 * nn, dtype=np.int64)
    seen, stack = work[:nn], work[nn:]
    black, white = 0, 0
    for p in range(nn):
        v = state[HEADER + p]
        if v == BLACK:
            black += 1
        elif v == WHITE:
            white += 1
        elif seen[p] == 0:
            # Flood the empty region; remember which colours it touches (bit 1, bit 2).
            seen[p] = 1
            stack[0] = p
            top, size, reach = 1, 0, 0
            while top > 0:
                top -= 1
                q = stack[top]
                size += 1
                for k in range(4):
                    r = NEIGHBORS[n, q, k]
                    if r < 0:
                        break
                    w = state[HEADER + r]
                    if w != 0:
                        reach |= w
                    elif seen[r] == 0:
                        seen[r] = 1
                        stack[top] = r
                        top += 1
            if reach == BLACK:
                black += size
            elif reach == WHITE:
                white += size
    return black, white


@njit(cache=True)
def score(state: np.ndarray) -> float:
    """Black's area minus White's, komi included: > 0 Black leads, < 0 White leads."""
    black, white = area(state)
    return black - white - state[S_KOMI2] / 2.0


@njit(cache=True)
def _finish(state: np.ndarray) -> None:
    black, white = area(state)
    twice_margin = 2 * (black - white) - state[S_KOMI2]  # integer: no float ties
    if twice_margin > 0:
        state[H_WINNER] = 0
    elif twice_margin < 0:
        state[H_WINNER] = 1
    else:
        state[H_WINNER] = DRAW


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    n = state[H_SIZE]
    nn = n * n
    player = state[H_TO_PLAY]
    h = state[S_HASH]
    if action == nn:
        state[S_PASSES] += 1
    else:
        state[S_PASSES] = 0
        me = player + 1
        opp = 3 - me
        state[HEADER + action] = me
        h ^= ZOBRIST[action, me]
        work = np.zeros(2 * nn, dtype=np.int64)
        visited, members = work[:nn], work[nn:]
        for k in range(4):
            q = NEIGHBORS[n, action, k]
            if q < 0:
                break
            if state[HEADER + q] != opp:
                continue
            # Collect the adjacent enemy group breadth first; stop at its first liberty.
            # Each neighbour gets its own stamp: a fill that stopped early marked only
            # part of its group, which must not cut a later fill short.
            stamp = k + 1
            visited[q] = stamp
            members[0] = q
            read, size, free = 0, 1, False
            while read < size and not free:
                x = members[read]
                read += 1
                for j in range(4):
                    y = NEIGHBORS[n, x, j]
                    if y < 0:
                        break
                    v = state[HEADER + y]
                    if v == 0:
                        free = True
                        break
                    if v == opp and visited[y] != stamp:
                        visited[y] = stamp
                        members[size] = y
                        size += 1
            if not free:
                for i in range(size):
                    y = members[i]
                    state[HEADER + y] = 0
                    h ^= ZOBRIST[y, opp]
    ply = state[H_PLY] + 1
    state[S_HASH] = h
    state[HEADER + nn + ply] = h
    state[H_PLY] = ply
    state[H_TO_PLAY] = 1 - player
    if state[S_PASSES] >= 2 or ply >= move_cap(state):
        _finish(state)


@njit(cache=True)
def board_hash(state: np.ndarray) -> int:
    """Zobrist hash of the board as it stands, computed from scratch."""
    n = state[H_SIZE]
    h = np.int64(0)
    for p in range(n * n):
        h ^= ZOBRIST[p, state[HEADER + p]]
    return h


board_view = grid.board_view  # row 0 at the top is GTP row ``size``


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """Planes: mover's stones, opponent's, empty, mover-is-Black, mover's legal plays."""
    n = state[H_SIZE]
    nn = n * n
    me = state[H_TO_PLAY] + 1
    legal = np.zeros(nn + 1, dtype=np.bool_)
    legal_mask_into(state, legal)
    grid.stone_planes_into(state, out, n)
    out[3] = 1.0 if me == BLACK else 0.0
    for r in range(n):
        for c in range(n):
            p = r * n + c
            out[2, r, c] = 1.0 if state[HEADER + p] == 0 else 0.0
            out[4, r, c] = 1.0 if legal[p] else 0.0


class Go(BoardGame):
    """Go with positional superko, no suicide and Tromp-Taylor area scoring.

    Actions are points ``row * size + col`` (row 0 at the top) and ``size * size`` for
    pass; text is GTP (``D4``, ``pass``).  See the module docstring for the rules.
    """

    name = "go"
    player_symbols = ("X", "O")  # Black, White
    rules = sys.modules[__name__]
    notation_note = "GTP: no I column"

    def __init__(
        self, size: int = DEFAULT_SIZE, komi: float = DEFAULT_KOMI, max_moves: int | None = None
    ) -> None:
        if not (is_int(size) and MIN_SIZE <= size <= MAX_SIZE):
            raise ValueError(f"go: size must be an int from {MIN_SIZE} to {MAX_SIZE}, got {size!r}")
        size = int(size)
        if (
            isinstance(komi, bool)
            or not isinstance(komi, (int, float, np.integer, np.floating))
            or not np.isfinite(komi)
            or float(komi) * 2 != round(float(komi) * 2)
            or abs(komi) > size * size
        ):
            raise ValueError(
                f"go: komi must be a whole or half number within +-{size * size}, got {komi!r}"
            )
        if max_moves is None:
            max_moves = 3 * size * size
        if not (is_int(max_moves) and 1 <= max_moves <= MAX_MOVES_LIMIT):
            raise ValueError(
                f"go: max_moves must be an int from 1 to {MAX_MOVES_LIMIT} or "
                f"None, got {max_moves!r}"
            )
        self.komi = float(komi)
        self.max_moves = int(max_moves)
        super().__init__(
            size=size, board_shape=(size, size), num_actions=size * size + 1, num_planes=NUM_PLANES
        )

    def __repr__(self) -> str:
        return f"Go(size={self.size}, komi={self.komi}, max_moves={self.max_moves})"

    # ---- state -------------------------------------------------------------
    def initial_state(self) -> np.ndarray:
        return new_state(self.size, round(self.komi * 2), self.max_moves)

    def score(self, state: np.ndarray) -> float:
        """Tromp-Taylor score, Black minus White, komi included (of any position)."""
        return float(score(state))

    def area(self, state: np.ndarray) -> tuple[int, int]:
        """Tromp-Taylor area of (Black, White), without komi."""
        black, white = area(state)
        return int(black), int(white)

    def passes(self, state: np.ndarray) -> int:
        """Passes in a row just played."""
        return int(state[S_PASSES])

    def state_from_board(self, board: np.ndarray, to_play: int = 0) -> np.ndarray:
        """A state holding ``board`` (int[size, size], 0/1/2, row 0 at the top).

        That board becomes the game's first position (ply 0, no earlier boards for
        superko).  Every group on it must have a liberty.
        """
        b = self._check_board(board, to_play)
        n = self.size
        s = self.initial_state()
        s[HEADER : HEADER + n * n] = b.reshape(-1)
        s[H_TO_PLAY] = to_play
        nn = n * n
        work = np.empty(5 * nn, dtype=np.int64)
        groups = _label_groups_in(s, n, work)
        if (work[nn : nn + groups] == 0).any():
            raise ValueError("go: board has a group without liberties")
        s[S_HASH] = board_hash(s)
        s[HEADER + nn] = s[S_HASH]
        return s

    def illegal_reason(self, state: np.ndarray, action: int) -> str:
        return REASONS[int(move_status(state, action))]

    # ---- notation ----------------------------------------------------------
    def column_labels(self) -> list[str]:
        return list(GTP_COLUMNS[: self.size])

    def status_line(self, state: np.ndarray) -> str:
        black, white = self.area(state)
        return (
            f"{super().status_line(state)}; area X {black} - O {white}, "
            f"komi {self.komi:g}, score {self.score(state):+g}"
        )

"""Chess as Numba kernels, with python-chess (the ``chess`` package) for FEN and notation.

``Chess(max_moves=None, material_cap=False)``; ``make_game("chess")``.  player_0 is
White and moves first, player_1 is Black.

The rules are the Numba kernels of :mod:`sim.board.base` (``legal_mask_into``,
``play`` ...), so the one MCTS (:mod:`sim.search`) steps chess as it steps Go, for
AlphaZero and the envs' ``mcts`` opponent.  python-chess reads FEN and SAN, writes UCI
and names why a move is illegal; the tests check the kernels against it (perft, and
every state of random games against python-chess's own).

Rules are FIDE's, with the draws that a player could claim made automatic (as in pgx
and OpenSpiel), so that a game always ends by itself.  After each move, in this order:

* **checkmate**: the side that moved wins (even on the fiftieth move);
* **stalemate**: draw;
* **insufficient material** (python-chess's test: neither side can ever mate): draw;
* **threefold repetition**: the position (pieces, side to move, castling rights and an
  en passant capture that is actually legal) has occurred three times: draw;
* **fifty-move rule**: 100 plies without a capture or a pawn move: draw;
* the optional **move cap** ``max_moves`` (plies, for short training games): draw, or,
  with ``material_cap``, a win for the side with more material (pawn 1, knight and
  bishop 3, rook 5, queen 9; equal material draws) once the pending captures are played
  out: a capture-only search in which either side may stop capturing (quiescence, up to
  8 plies), so the last mover's capture counts only if it cannot be taken back. A
  training variant: short capped games between weak players are almost all drawn,
  which teaches a value head nothing.

State after the shared header (see :mod:`sim.board.base`)::

    state[5]    castling rights: bit 0 White O-O, 1 White O-O-O, 2 Black O-O, 3 Black O-O-O
    state[6]    en passant target square (0..63) after a double pawn push, else -1
    state[7]    halfmove clock: plies since the last capture or pawn move
    state[8:72] squares a1 = 0, b1 = 1 .. h1 = 7, a2 = 8 .. h8 = 63 (python-chess order):
                0 empty, 1..6 a White pawn, knight, bishop, rook, queen, king, 7..12 Black's
    state[72]   fullmove number (as in FEN)
    state[73]   why the game ended: END_REASONS (0 while it goes on)
    state[74]   move cap in plies, 0 for none
    state[75]   K, the number of hashes in the history (1..101)
    state[76]   1 if the move cap is decided on material (``material_cap``), else 0
    state[77 + k], k < K: Zobrist hashes of the positions since the last capture or pawn
                move, oldest first, the current one last

The history covers every position that can still repeat (a capture or a pawn move
makes all earlier positions unreachable; a lost castling right changes the hash), so
threefold repetition needs no move list.  Hashes are 64-bit Zobrist keys from a fixed
seed; a collision (odds about ``100**2 / 2**64`` per game) could only call a draw early.

**Actions** (AlphaZero's 8x8x73 encoding, 4672 actions), always from the mover's view:
squares are mirrored top to bottom (rank 1 <-> rank 8) when Black moves, so "north" is
toward the opponent.  ``action = plane * 64 + row * 8 + col`` where (row, col) is the
from-square in the observation's layout (row 0 is the rank farthest from the mover:
rank 8 for White, rank 1 for Black; col 0 is the a-file) and ``plane`` is

* 0..55, queen-like moves: ``direction * 7 + distance - 1``, directions N, NE, E, SE,
  S, SW, W, NW, distance 1..7; castling is the king's two-square move, and a pawn
  reaching the last rank this way promotes to a queen;
* 56..63, knight moves: (+2,+1), (+1,+2), (-1,+2), (-2,+1), (-2,-1), (-1,-2), (+1,-2),
  (+2,-1) as (ranks north, files east);
* 64..72, underpromotions: ``64 + 3 * piece + side`` with piece 0 knight, 1 bishop,
  2 rook and side 0 capture toward the a-file, 1 straight ahead, 2 toward the h-file.

Text is UCI (``e2e4``, ``e7e8n``, ``e1g1`` for O-O); SAN (``Nf3``, ``O-O``) is read too.

**Observation** ``float32[20, 8, 8]`` from the observer's view (mirrored for Black like
the actions; row 0 is the far rank, column 0 the a-file):

* 0..5   the observer's pawns, knights, bishops, rooks, queens, king;
* 6..11  the opponent's, same order;
* 12     all ones if the position has occurred before (a second repetition draws);
* 13     all ones if the observer is White;
* 14, 15 all ones if the observer may still castle king side / queen side;
* 16, 17 the same for the opponent;
* 18     the halfmove clock / 100 everywhere (the fifty-move rule's progress);
* 19     the en passant target square, if any.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

import chess as pychess
import numpy as np
from numba import njit

from sim.board.base import (
    CHESS,
    DRAW,
    H_GAME,
    H_PLY,
    H_SIZE,
    H_TO_PLAY,
    H_WINNER,
    HEADER,
    ONGOING,
    BoardGame,
    is_int,
    to_int,
)

SIZE = 8
NUM_PLANES = 20
NUM_ACTIONS = 73 * 64
S_CASTLING, S_EP, S_HALFMOVE = 5, 6, 7
S_FULLMOVE, S_END, S_CAP, S_NHIST, S_MATERIAL_CAP = 72, 73, 74, 75, 76
HIST0 = 77
MAX_HISTORY = 101  # positions since the last capture or pawn move, the current included
STATE_SIZE = HIST0 + MAX_HISTORY
MAX_MOVES_LIMIT = 100_000

# state[S_END]
ONGOING_REASON, CHECKMATE, STALEMATE, INSUFFICIENT, FIFTY_MOVES, THREEFOLD, MOVE_CAP = range(7)
MATERIAL = 7  # the move cap with material_cap, and one side ahead
END_REASONS = {
    CHECKMATE: "checkmate",
    STALEMATE: "stalemate",
    INSUFFICIENT: "insufficient material",
    FIFTY_MOVES: "fifty-move rule",
    THREEFOLD: "threefold repetition",
    MOVE_CAP: "move cap",
    MATERIAL: "material at the move cap",
}

PIECE_LETTERS = ".PNBRQKpnbrqk"
UNICODE_PIECES = " ♙♘♗♖♕♔♟♞♝♜♛♚"
PROMOTION_LETTERS = {pychess.KNIGHT: "n", pychess.BISHOP: "b", pychess.ROOK: "r"}

# Queen-move directions (ranks north, files east) and knight jumps, in plane order.
QUEEN_DIRS = ((1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1))
KNIGHT_JUMPS = ((2, 1), (1, 2), (-1, 2), (-2, 1), (-2, -1), (-1, -2), (1, -2), (2, -1))
UNDERPROMOTIONS = (pychess.KNIGHT, pychess.BISHOP, pychess.ROOK)

CASTLING_BITS = (  # (state bit, python-chess rook square)
    (1, pychess.H1),
    (2, pychess.A1),
    (4, pychess.H8),
    (8, pychess.A8),
)


def _plane_tables() -> tuple[np.ndarray, dict[tuple[int, int, int], int]]:
    """DELTA[plane] = (ranks north, files east, promotion piece or 0) and its inverse."""
    delta = np.zeros((73, 3), dtype=np.int64)
    for d, (dr, df) in enumerate(QUEEN_DIRS):
        for dist in range(1, 8):
            delta[d * 7 + dist - 1] = (dr * dist, df * dist, 0)
    for k, (dr, df) in enumerate(KNIGHT_JUMPS):
        delta[56 + k] = (dr, df, 0)
    for p, piece in enumerate(UNDERPROMOTIONS):
        for side, df in enumerate((-1, 0, 1)):
            delta[64 + 3 * p + side] = (1, df, piece)
    inverse = {(int(a), int(b), int(c)): i for i, (a, b, c) in enumerate(delta)}
    return delta, inverse


DELTA, PLANE_OF = _plane_tables()


def _zobrist_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.int64]:
    """Piece-square keys (code 0, empty, is 0), castling-mask keys, ep-file keys, side key."""
    rng = np.random.default_rng(0xC4E55)
    info = np.iinfo(np.int64)

    def keys(*shape: int) -> np.ndarray:
        return rng.integers(info.min, info.max, size=shape, dtype=np.int64, endpoint=True)

    squares = keys(64, 13)
    squares[:, 0] = 0
    castling = keys(16)
    castling[0] = 0
    return squares, castling, keys(8), keys(1)[0]


Z_SQUARES, Z_CASTLING, Z_EP, Z_BLACK = _zobrist_tables()
_BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))


# ---- Numba rules ------------------------------------------------------------------------
# The board is state[HEADER:HEADER + 64], square = rank * 8 + file (a1 = 0, h8 = 63).
# Moves are generated as (from, to, promotion) triples: promotion 0, or the piece type
# (KNIGHT..QUEEN) a pawn becomes; legality is a make-and-test on a scratch board.
PAWN, KNIGHT, BISHOP, ROOK, QUEEN, KING = 1, 2, 3, 4, 5, 6
MAX_MOVES_IN_POSITION = 256  # the known maximum is 218
_ROOK_DIRS = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]], dtype=np.int64)
_BISHOP_DIRS = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.int64)
_KING_DIRS = np.array(QUEEN_DIRS, dtype=np.int64)
_KNIGHT_JUMPS = np.array(KNIGHT_JUMPS, dtype=np.int64)
# Queen-move direction index (QUEEN_DIRS order) of a step (sign of ranks + 1, of files + 1).
_DIR_INDEX = np.full((3, 3), -1, dtype=np.int64)
for _d, (_dr, _df) in enumerate(QUEEN_DIRS):
    _DIR_INDEX[_dr + 1, _df + 1] = _d
# Knight plane of a jump (ranks + 2, files + 2).
_KNIGHT_PLANE = np.full((5, 5), -1, dtype=np.int64)
for _k, (_dr, _df) in enumerate(KNIGHT_JUMPS):
    _KNIGHT_PLANE[_dr + 2, _df + 2] = 56 + _k
# Castling right bits lost when a move leaves or lands on a square (rook corners).
_CORNER_BITS = np.zeros(64, dtype=np.int64)
for _bit, _rook in CASTLING_BITS:
    _CORNER_BITS[_rook] = _bit


@njit(cache=True, inline="always")
def _on_board(rank: int, file: int) -> bool:
    return 0 <= rank < 8 and 0 <= file < 8


@njit(cache=True)
def _attacked(board: np.ndarray, sq: int, by_white: bool) -> bool:
    """True if a piece of ``by_white``'s side attacks square ``sq`` of ``board`` (codes[64])."""
    off = 0 if by_white else 6
    rank, file = sq >> 3, sq & 7
    # Pawns: a white pawn attacks one rank up, so it stands one rank below ``sq``.
    pr = rank - 1 if by_white else rank + 1
    if 0 <= pr < 8:
        for df in (-1, 1):
            if 0 <= file + df < 8 and board[pr * 8 + file + df] == PAWN + off:
                return True
    for k in range(8):
        r, f = rank + _KNIGHT_JUMPS[k, 0], file + _KNIGHT_JUMPS[k, 1]
        if _on_board(r, f) and board[r * 8 + f] == KNIGHT + off:
            return True
        r, f = rank + _KING_DIRS[k, 0], file + _KING_DIRS[k, 1]
        if _on_board(r, f) and board[r * 8 + f] == KING + off:
            return True
    for k in range(4):
        for diagonal in (False, True):
            dr = _BISHOP_DIRS[k, 0] if diagonal else _ROOK_DIRS[k, 0]
            df = _BISHOP_DIRS[k, 1] if diagonal else _ROOK_DIRS[k, 1]
            slider = BISHOP + off if diagonal else ROOK + off
            r, f = rank + dr, file + df
            while _on_board(r, f):
                code = board[r * 8 + f]
                if code != 0:
                    if code == slider or code == QUEEN + off:
                        return True
                    break
                r += dr
                f += df
    return False


@njit(cache=True)
def _king_square(board: np.ndarray, white: bool) -> int:
    king = KING if white else KING + 6
    for sq in range(64):
        if board[sq] == king:
            return sq
    return -1


@njit(cache=True)
def _apply(board: np.ndarray, frm: int, to: int, promo: int, ep: int) -> None:
    """Move the piece on ``frm`` to ``to`` on ``board`` (codes[64]) in place, with the
    castling rook, the pawn taken en passant (``ep``: the en passant square) and promotion."""
    code = board[frm]
    off = 0 if code <= 6 else 6
    kind = code - off
    if kind == PAWN and to == ep and board[to] == 0 and (to & 7) != (frm & 7):
        board[to - 8 if off == 0 else to + 8] = 0
    elif kind == KING and abs(to - frm) == 2:
        rook_from, rook_to = (frm + 3, frm + 1) if to > frm else (frm - 4, frm - 1)
        board[rook_to] = board[rook_from]
        board[rook_from] = 0
    board[to] = promo + off if promo else code
    board[frm] = 0


@njit(cache=True)
def _push(moves: np.ndarray, n: int, frm: int, to: int, promo: int) -> int:
    moves[n, 0] = frm
    moves[n, 1] = to
    moves[n, 2] = promo
    return n + 1


@njit(cache=True)
def _pawn_moves(board: np.ndarray, moves: np.ndarray, n: int, frm: int, to: int) -> int:
    """Add the pawn move ``frm`` -> ``to``: four moves when it reaches the last rank."""
    if (to >> 3) == 7 or (to >> 3) == 0:
        for promo in (QUEEN, KNIGHT, BISHOP, ROOK):
            n = _push(moves, n, frm, to, promo)
        return n
    return _push(moves, n, frm, to, 0)


@njit(cache=True)
def _pseudo_legal(state: np.ndarray, moves: np.ndarray) -> int:
    """The mover's pseudo-legal moves (castling checked in full) into moves[:, 3]."""
    board = state[HEADER : HEADER + 64]
    white = state[H_TO_PLAY] == 0
    off = 0 if white else 6
    ep = state[S_EP]
    n = 0
    for frm in range(64):
        code = board[frm]
        if code == 0 or (code <= 6) != white:
            continue
        kind = code - off
        rank, file = frm >> 3, frm & 7
        if kind == PAWN:
            up = 1 if white else -1
            r = rank + up
            if 0 <= r < 8:
                if board[r * 8 + file] == 0:
                    n = _pawn_moves(board, moves, n, frm, r * 8 + file)
                    start = 1 if white else 6
                    if rank == start and board[(r + up) * 8 + file] == 0:
                        n = _push(moves, n, frm, (r + up) * 8 + file, 0)
                for df in (-1, 1):
                    f = file + df
                    if 0 <= f < 8:
                        to = r * 8 + f
                        target = board[to]
                        if target != 0 and (target <= 6) != white:
                            n = _pawn_moves(board, moves, n, frm, to)
                        elif target == 0 and to == ep and rank == (4 if white else 3):
                            n = _push(moves, n, frm, to, 0)
        elif kind == KNIGHT or kind == KING:
            for k in range(8):
                if kind == KNIGHT:
                    r, f = rank + _KNIGHT_JUMPS[k, 0], file + _KNIGHT_JUMPS[k, 1]
                else:
                    r, f = rank + _KING_DIRS[k, 0], file + _KING_DIRS[k, 1]
                if _on_board(r, f):
                    target = board[r * 8 + f]
                    if target == 0 or (target <= 6) != white:
                        n = _push(moves, n, frm, r * 8 + f, 0)
        else:
            for k in range(8):
                diagonal = k % 2 == 1
                if (kind == ROOK and diagonal) or (kind == BISHOP and not diagonal):
                    continue
                dr, df = _KING_DIRS[k, 0], _KING_DIRS[k, 1]
                r, f = rank + dr, file + df
                while _on_board(r, f):
                    target = board[r * 8 + f]
                    if target != 0 and (target <= 6) == white:
                        break
                    n = _push(moves, n, frm, r * 8 + f, 0)
                    if target != 0:
                        break
                    r += dr
                    f += df
    # Castling: the king and rook stand on their squares while the right is kept.
    rights = state[S_CASTLING] >> (0 if white else 2)
    home = 4 if white else 60
    if rights & 3 and not _attacked(board, home, not white):
        if (rights & 1 and board[home + 1] == 0 and board[home + 2] == 0
                and not _attacked(board, home + 1, not white)
                and not _attacked(board, home + 2, not white)):  # fmt: skip
            n = _push(moves, n, home, home + 2, 0)
        if (rights & 2 and board[home - 1] == 0 and board[home - 2] == 0
                and board[home - 3] == 0
                and not _attacked(board, home - 1, not white)
                and not _attacked(board, home - 2, not white)):  # fmt: skip
            n = _push(moves, n, home, home - 2, 0)
    return n


@njit(cache=True)
def _legal_moves(state: np.ndarray, moves: np.ndarray) -> int:
    """The mover's legal moves into moves[:n] as (from, to, promotion); return n."""
    n = _pseudo_legal(state, moves)
    board = state[HEADER : HEADER + 64]
    white = state[H_TO_PLAY] == 0
    king = _king_square(board, white)
    scratch = np.empty(64, dtype=np.int64)
    kept = 0
    for i in range(n):
        frm, to, promo = moves[i, 0], moves[i, 1], moves[i, 2]
        scratch[:] = board
        _apply(scratch, frm, to, promo, state[S_EP])
        if not _attacked(scratch, to if frm == king else king, not white):
            moves[kept, 0], moves[kept, 1], moves[kept, 2] = frm, to, promo
            kept += 1
    return kept


@njit(cache=True)
def _encode(frm: int, to: int, promo: int, white: bool) -> int:
    """AlphaZero's action of the move (module docstring), from the mover's side."""
    if not white:
        frm, to = frm ^ 56, to ^ 56
    dr = (to >> 3) - (frm >> 3)
    df = (to & 7) - (frm & 7)
    if promo == KNIGHT or promo == BISHOP or promo == ROOK:
        plane = 64 + 3 * (promo - KNIGHT) + df + 1
    elif abs(dr) * abs(df) == 2:
        plane = _KNIGHT_PLANE[dr + 2, df + 2]
    else:
        distance = max(abs(dr), abs(df))
        plane = _DIR_INDEX[np.sign(dr) + 1, np.sign(df) + 1] * 7 + distance - 1
    return plane * 64 + (7 - (frm >> 3)) * 8 + (frm & 7)


@njit(cache=True)
def _new_moves() -> np.ndarray:
    return np.empty((MAX_MOVES_IN_POSITION, 3), dtype=np.int64)


@njit(cache=True)
def _has_legal_en_passant(state: np.ndarray, moves: np.ndarray, n: int) -> bool:
    ep = state[S_EP]
    if ep < 0:
        return False
    pawn = PAWN if state[H_TO_PLAY] == 0 else PAWN + 6
    for i in range(n):
        if (
            moves[i, 1] == ep
            and state[HEADER + moves[i, 0]] == pawn
            and ((moves[i, 0] & 7) != (ep & 7))
        ):
            return True
    return False


@njit(cache=True)
def _insufficient(board: np.ndarray, white: bool) -> bool:
    """python-chess's ``has_insufficient_material``: ``white``'s side can never mate."""
    mine = 0
    knights = 0
    bishops = 0
    heavy = 0  # the side's pawns, rooks, queens
    their_minor = 0  # the opponent's pawns, knights, bishops, rooks
    any_pawn_or_knight = False
    light = False
    dark = False
    for sq in range(64):
        code = board[sq]
        if code == 0:
            continue
        kind = code - 6 if code > 6 else code
        if kind == PAWN or kind == KNIGHT:
            any_pawn_or_knight = True
        if kind == BISHOP:
            if ((sq >> 3) + (sq & 7)) % 2 == 0:
                dark = True
            else:
                light = True
        if (code <= 6) == white:
            mine += 1
            if kind == PAWN or kind == ROOK or kind == QUEEN:
                heavy += 1
            elif kind == KNIGHT:
                knights += 1
            elif kind == BISHOP:
                bishops += 1
        elif kind != KING and kind != QUEEN:
            their_minor += 1
    if heavy:
        return False
    if knights:
        return mine <= 2 and their_minor == 0
    if bishops:
        return (not dark or not light) and not any_pawn_or_knight
    return True


@njit(cache=True)
def _position_hash(state: np.ndarray, ep_legal: bool) -> int:
    """Zobrist hash of the position for repetitions (FIDE: en passant only when legal)."""
    h = Z_CASTLING[state[S_CASTLING]]
    for sq in range(64):
        h ^= Z_SQUARES[sq, state[HEADER + sq]]
    if state[H_TO_PLAY] == 1:
        h ^= Z_BLACK
    if ep_legal:
        h ^= Z_EP[state[S_EP] & 7]
    return h


@njit(cache=True)
def _record_and_judge(state: np.ndarray, irreversible: bool) -> None:
    """Append the current position's hash to the history (restarting it after an
    irreversible move) and set the winner and end reason."""
    moves = _new_moves()
    n = _legal_moves(state, moves)
    h = _position_hash(state, _has_legal_en_passant(state, moves, n))
    count = 1 if irreversible else min(state[S_NHIST] + 1, MAX_HISTORY)
    if not irreversible and state[S_NHIST] == MAX_HISTORY:
        state[HIST0 : HIST0 + MAX_HISTORY - 1] = state[HIST0 + 1 : HIST0 + MAX_HISTORY]
    state[S_NHIST] = count
    state[HIST0 + count - 1] = h
    board = state[HEADER : HEADER + 64]
    white = state[H_TO_PLAY] == 0
    reason = ONGOING_REASON
    if n == 0:
        check = _attacked(board, _king_square(board, white), not white)
        reason = CHECKMATE if check else STALEMATE
    elif _insufficient(board, True) and _insufficient(board, False):
        reason = INSUFFICIENT
    elif _repetitions(state) >= 3:
        reason = THREEFOLD
    elif state[S_HALFMOVE] >= 100:
        reason = FIFTY_MOVES
    elif state[S_CAP] > 0 and state[H_PLY] >= state[S_CAP]:
        reason = MOVE_CAP
    lead = _settled_lead(state) if reason == MOVE_CAP and state[S_MATERIAL_CAP] else 0
    if lead != 0:
        reason = MATERIAL
    state[S_END] = reason
    if reason == ONGOING_REASON:
        state[H_WINNER] = ONGOING
    elif reason == CHECKMATE:
        state[H_WINNER] = 1 - state[H_TO_PLAY]  # the side that just moved
    elif reason == MATERIAL:
        state[H_WINNER] = 0 if lead > 0 else 1
    else:
        state[H_WINNER] = DRAW


_PIECE_VALUES = np.array([0, 1, 3, 3, 5, 9, 0], dtype=np.int64)  # by kind, PAWN..KING


@njit(cache=True)
def _material_lead(board: np.ndarray) -> int:
    """White's material minus Black's (pawn 1, knight and bishop 3, rook 5, queen 9)."""
    lead = 0
    for sq in range(64):
        code = board[sq]
        if code != 0:
            lead += _PIECE_VALUES[code] if code <= 6 else -_PIECE_VALUES[code - 6]
    return lead


QUIESCENCE_PLIES = 8


@njit(cache=True)
def _settled_lead(state: np.ndarray) -> int:
    """White's material lead once the pending captures are resolved (module docstring)."""
    lead = _quiescence(state, QUIESCENCE_PLIES)
    return lead if state[H_TO_PLAY] == 0 else -lead


@njit(cache=True, inline="always")
def _mover_lead(state: np.ndarray) -> int:
    lead = _material_lead(state[HEADER : HEADER + 64])
    return lead if state[H_TO_PLAY] == 0 else -lead


@njit(cache=True, inline="always")
def _is_capture(state: np.ndarray, frm: int, to: int, promo: int) -> bool:
    """A capture, en passant or promotion: a move that changes the material."""
    code = state[HEADER + frm]
    pawn = code == PAWN or code == PAWN + 6
    return state[HEADER + to] != 0 or promo != 0 or (pawn and to == state[S_EP])


@njit(cache=True)
def _quiescence(root: np.ndarray, plies: int) -> int:
    """The mover's material lead under a capture-only alpha-beta (negamax) search: at
    each node the mover may stand pat or capture, for at most ``plies`` plies. Checks
    and mates are not searched: this settles material, not the game. Iterative, with
    one preallocated frame per ply (Numba's cached functions cannot recurse safely)."""
    states = np.empty((plies + 1, root.shape[0]), dtype=np.int64)  # [ply, state]
    moves = np.empty((plies + 1, MAX_MOVES_IN_POSITION, 3), dtype=np.int64)  # [ply, i, 3]
    count = np.zeros(plies + 1, dtype=np.int64)  # [ply] legal moves generated
    index = np.zeros(plies + 1, dtype=np.int64)  # [ply] next move to try
    alpha = np.empty(plies + 1, dtype=np.int64)  # [ply]
    beta = np.empty(plies + 1, dtype=np.int64)  # [ply]
    states[0] = root
    alpha[0], beta[0] = -1000, 1000
    d = 0
    opening = True  # node d was just reached: stand pat or generate its moves
    while True:
        result = 0
        resolved = False
        if opening:
            stand = _mover_lead(states[d])
            if d == plies or stand >= beta[d]:
                result, resolved = stand, True
            else:
                alpha[d] = max(alpha[d], stand)
                count[d] = _legal_moves(states[d], moves[d])
                index[d] = 0
        if not resolved:
            # The next capture of node d, or node d is done.
            opening = False
            while index[d] < count[d]:
                i = index[d]
                index[d] += 1
                frm, to, promo = moves[d, i, 0], moves[d, i, 1], moves[d, i, 2]
                if _is_capture(states[d], frm, to, promo):
                    child = states[d + 1]
                    child[:] = states[d]
                    _apply(child[HEADER : HEADER + 64], frm, to, promo, states[d, S_EP])
                    child[H_TO_PLAY] = 1 - child[H_TO_PLAY]
                    child[S_EP] = -1
                    alpha[d + 1], beta[d + 1] = -beta[d], -alpha[d]
                    d += 1
                    opening = True
                    break
            if opening:
                continue
            result, resolved = alpha[d], True
        # Hand node d's value up until a node still has captures to try.
        while True:
            if d == 0:
                return result
            d -= 1
            score = -result
            if score >= beta[d]:
                result = score  # a cutoff: node d is done too
                continue
            alpha[d] = max(alpha[d], score)
            break
        opening = False


@njit(cache=True)
def _repetitions(state: np.ndarray) -> int:
    n = state[S_NHIST]
    current = state[HIST0 + n - 1]
    count = 0
    for k in range(n):
        if state[HIST0 + k] == current:
            count += 1
    return count


# ---- the kernel interface (sim.board.base) ---------------------------------------------
@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    return NUM_ACTIONS


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    out[:NUM_ACTIONS] = False
    if state[H_WINNER] != ONGOING:
        return 0
    moves = _new_moves()
    n = _legal_moves(state, moves)
    white = state[H_TO_PLAY] == 0
    for i in range(n):
        out[_encode(moves[i, 0], moves[i, 1], moves[i, 2], white)] = True
    return n


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    if state[H_WINNER] != ONGOING:
        return False
    moves = _new_moves()
    n = _legal_moves(state, moves)
    white = state[H_TO_PLAY] == 0
    for i in range(n):
        if _encode(moves[i, 0], moves[i, 1], moves[i, 2], white) == action:
            return True
    return False


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    """Play the legal ``action`` on ``state`` in place (as every game's kernel, it trusts
    the caller: :meth:`Chess.apply` checks legality first)."""
    board = state[HEADER : HEADER + 64]
    white = state[H_TO_PLAY] == 0
    # Decode the action (module docstring) back to squares, un-mirroring Black's view.
    plane, cell = action // 64, action % 64
    frm = (7 - cell // 8) * 8 + cell % 8
    to = frm + DELTA[plane, 0] * 8 + DELTA[plane, 1]
    promo = DELTA[plane, 2]
    if not white:
        frm, to = frm ^ 56, to ^ 56
    last_rank = (to >> 3) == 0 or (to >> 3) == 7
    if promo == 0 and last_rank and (board[frm] == PAWN or board[frm] == PAWN + 6):
        promo = QUEEN
    kind = board[frm] if white else board[frm] - 6
    irreversible = kind == PAWN or board[to] != 0
    rights = state[S_CASTLING] & ~(_CORNER_BITS[frm] | _CORNER_BITS[to])
    if kind == KING:
        rights &= ~(3 if white else 12)
    state[S_CASTLING] = rights
    ep = state[S_EP]
    state[S_EP] = -1
    if kind == PAWN and abs(to - frm) == 16:
        state[S_EP] = (frm + to) // 2
    _apply(board, frm, to, promo, ep)
    state[S_HALFMOVE] = 0 if irreversible else state[S_HALFMOVE] + 1
    if not white:
        state[S_FULLMOVE] += 1
    state[H_TO_PLAY] = 1 - state[H_TO_PLAY]
    state[H_PLY] += 1
    _record_and_judge(state, irreversible)


@njit(cache=True)
def repetitions(state: np.ndarray) -> int:
    """How often the current position has occurred (1 the first time)."""
    return _repetitions(state)


@njit(cache=True)
def observation_of(state: np.ndarray, out: np.ndarray, me: int) -> None:
    """The planes of the module docstring from player ``me``'s view."""
    out[:] = 0.0
    mine, theirs = (1, 7) if me == 0 else (7, 1)
    for sq in range(64):
        code = state[HEADER + sq]
        if code == 0:
            continue
        rank, file = sq >> 3, sq & 7
        row = 7 - rank if me == 0 else rank  # the mover's view: the far rank is row 0
        if mine <= code < mine + 6:
            out[code - mine, row, file] = 1.0
        else:
            out[6 + code - theirs, row, file] = 1.0
    if _repetitions(state) >= 2:
        out[12] = 1.0
    if me == 0:
        out[13] = 1.0
    rights = state[S_CASTLING]
    own, other = (rights & 3, rights >> 2) if me == 0 else (rights >> 2, rights & 3)
    out[14] = own & 1
    out[15] = (own >> 1) & 1
    out[16] = other & 1
    out[17] = (other >> 1) & 1
    out[18] = min(state[S_HALFMOVE], 100) / 100.0
    ep = state[S_EP]
    if ep >= 0:
        rank, file = ep >> 3, ep & 7
        out[19, 7 - rank if me == 0 else rank, file] = 1.0


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    observation_of(state, out, state[H_TO_PLAY])


@njit(cache=True)
def board_view(state: np.ndarray) -> np.ndarray:
    """int8[8, 8], row 0 = rank 8: 0 empty, 1 a White piece, 2 a Black piece."""
    out = np.zeros((8, 8), dtype=np.int8)
    for sq in range(64):
        code = state[HEADER + sq]
        if code != 0:
            out[7 - (sq >> 3), sq & 7] = 1 if code <= 6 else 2
    return out


# ---- state <-> python-chess (FEN, notation) ------------------------------------------
def _check_state(state: np.ndarray) -> None:
    if state.shape != (STATE_SIZE,) or state[H_GAME] != CHESS:
        raise ValueError(
            f"chess: not a chess state (expected int64[{STATE_SIZE}] with game id {CHESS}, "
            f"got shape {state.shape})"
        )


def _to_board(state: np.ndarray) -> pychess.Board:
    """The python-chess board of ``state`` (no move stack)."""
    _check_state(state)
    codes = state[HEADER : HEADER + 64]
    board = pychess.Board.empty()
    masks = [int(_BITS[codes == k].sum()) for k in range(13)]
    board.pawns = masks[1] | masks[7]
    board.knights = masks[2] | masks[8]
    board.bishops = masks[3] | masks[9]
    board.rooks = masks[4] | masks[10]
    board.queens = masks[5] | masks[11]
    board.kings = masks[6] | masks[12]
    white = masks[1] | masks[2] | masks[3] | masks[4] | masks[5] | masks[6]
    black = masks[7] | masks[8] | masks[9] | masks[10] | masks[11] | masks[12]
    board.occupied_co[pychess.WHITE] = white
    board.occupied_co[pychess.BLACK] = black
    board.occupied = white | black
    board.turn = pychess.WHITE if state[H_TO_PLAY] == 0 else pychess.BLACK
    rights = 0
    for bit, rook in CASTLING_BITS:
        if state[S_CASTLING] & bit:
            rights |= pychess.BB_SQUARES[rook]
    board.castling_rights = rights
    board.ep_square = None if state[S_EP] < 0 else int(state[S_EP])
    board.halfmove_clock = int(state[S_HALFMOVE])
    board.fullmove_number = int(state[S_FULLMOVE])
    return board


def _codes_of(board: pychess.Board) -> np.ndarray:
    codes = np.zeros(64, dtype=np.int64)
    for color, offset in ((pychess.WHITE, 0), (pychess.BLACK, 6)):
        for piece in range(1, 7):
            for sq in pychess.scan_forward(board.pieces_mask(piece, color)):
                codes[sq] = piece + offset
    return codes


def _castling_of(board: pychess.Board) -> int:
    rights = board.clean_castling_rights()
    return sum(bit for bit, rook in CASTLING_BITS if rights & pychess.BB_SQUARES[rook])


def _write_position(state: np.ndarray, board: pychess.Board) -> np.ndarray:
    """Store ``board``'s position in ``state`` (history untouched); return its codes."""
    codes = _codes_of(board)
    state[HEADER : HEADER + 64] = codes
    state[H_TO_PLAY] = 0 if board.turn == pychess.WHITE else 1
    state[S_CASTLING] = _castling_of(board)
    state[S_EP] = -1 if board.ep_square is None else board.ep_square
    state[S_HALFMOVE] = board.halfmove_clock
    state[S_FULLMOVE] = board.fullmove_number
    return codes


def state_from_board(
    board: pychess.Board, max_moves: int = 0, material_cap: bool = False
) -> np.ndarray:
    """A state holding ``board``'s position (its move stack is ignored: the history
    starts here), judged at once (a mate or a dead position is already over)."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[H_GAME] = CHESS
    state[H_SIZE] = SIZE
    state[S_CAP] = max_moves
    state[S_MATERIAL_CAP] = int(bool(material_cap))
    _write_position(state, board)
    _record_and_judge(state, True)
    return state


# ---- move encoding --------------------------------------------------------------------
def encode_move(move: pychess.Move, white: bool) -> int:
    """The action of ``move`` for the mover (``white`` or not); ValueError if none fits."""
    frm, to = move.from_square, move.to_square
    if not white:  # mirror ranks: the mover always plays "north"
        frm, to = frm ^ 56, to ^ 56
    dr = (to >> 3) - (frm >> 3)
    df = (to & 7) - (frm & 7)
    promo = move.promotion if move.promotion in UNDERPROMOTIONS else 0
    if promo:
        plane = PLANE_OF.get((1, df, promo))
    else:
        plane = PLANE_OF.get((dr, df, 0))
    if plane is None or move.drop:
        raise ValueError(f"chess: move {move.uci()} has no AlphaZero encoding")
    return plane * 64 + (7 - (frm >> 3)) * 8 + (frm & 7)


def decode_action(action: int, white: bool, board: pychess.Board | None = None) -> pychess.Move:
    """The move of ``action`` for the mover (``white``), or ValueError if it leaves the board.

    With ``board``, a pawn reaching the last rank by a queen-like move promotes to a
    queen; without, no promotion is added.
    """
    a = int(action)
    if not 0 <= a < NUM_ACTIONS:
        raise ValueError(f"chess: action {a} is out of range 0..{NUM_ACTIONS - 1}")
    plane, cell = divmod(a, 64)
    row, col = divmod(cell, 8)
    rank, file = 7 - row, col
    dr, df, promo = (int(x) for x in DELTA[plane])
    to_rank, to_file = rank + dr, file + df
    if not (0 <= to_rank < 8 and 0 <= to_file < 8):
        raise ValueError(f"chess: action {a} moves off the board")
    frm, to = rank * 8 + file, to_rank * 8 + to_file
    if promo and rank != 6:
        raise ValueError(f"chess: action {a} underpromotes from a square not on the 7th rank")
    if not white:
        frm, to = frm ^ 56, to ^ 56
    if (
        not promo
        and board is not None
        and to_rank == 7
        and board.piece_type_at(frm) == pychess.PAWN
        and board.color_at(frm) == board.turn
    ):
        promo = pychess.QUEEN
    return pychess.Move(frm, to, promotion=promo or None)


def new_state(size: int = SIZE, max_moves: int = 0, material_cap: bool = False) -> np.ndarray:
    """The start position; ``max_moves > 0`` caps the game at that many plies (decided
    on material with ``material_cap``)."""
    if size != SIZE:
        raise ValueError(f"chess: the board is 8x8, got size {size!r}")
    return state_from_board(pychess.Board(), max_moves, material_cap)


def piece_view(state: np.ndarray) -> np.ndarray:
    """int8[8, 8], row 0 = rank 8: the piece codes (0 empty, 1..6 White, 7..12 Black)."""
    return state[HEADER : HEADER + 64].reshape(8, 8)[::-1].astype(np.int8)


def perft(game: Chess, state: np.ndarray, depth: int) -> int:
    """Leaves of the move tree ``depth`` plies deep, through this module's state path
    (legal mask and play).

    A finished position has no moves, so it adds no leaves below it: right for mates
    and stalemates; with the automatic draws, a tree that reaches a repetition or a dead
    position would count fewer leaves than the published numbers (which know no such
    draws), but the standard test positions do not get there at the usual depths.
    """
    if depth == 0:
        return 1
    legal = game.legal_actions(state)
    if depth == 1:
        return len(legal)
    total = 0
    for a in legal:
        child = state.copy()
        play(child, int(a))
        total += perft(game, child, depth - 1) if child[H_WINNER] == ONGOING else 0
    return total


# ---- the game ---------------------------------------------------------------------------
class Chess(BoardGame):
    """Chess with automatic draws (see the module docstring), AlphaZero encodings.

    Actions are mover-relative (8x8x73 planes); text is UCI, and SAN is read too.
    Methods that turn an action into a move need the state (whose turn, which piece);
    :meth:`action_to_str` without one reads the action from White's side.
    """

    name = "chess"
    player_symbols = ("W", "B")  # White, Black
    rules = sys.modules[__name__]
    actions_are_points = False  # an action is a move (from, to), not a point of the board

    def __init__(self, max_moves: int | None = None, material_cap: bool = False) -> None:
        if max_moves is not None and not (is_int(max_moves) and 1 <= max_moves <= MAX_MOVES_LIMIT):
            raise ValueError(
                f"chess: max_moves must be an int from 1 to {MAX_MOVES_LIMIT} or None, "
                f"got {max_moves!r}"
            )
        if material_cap not in (True, False, 0, 1):
            raise ValueError(f"chess: material_cap must be a bool (or 0/1), got {material_cap!r}")
        if material_cap and max_moves is None:
            raise ValueError("chess: material_cap decides the move cap; give max_moves too")
        self.max_moves = None if max_moves is None else int(max_moves)
        self.material_cap = bool(material_cap)
        super().__init__(
            size=SIZE, board_shape=(SIZE, SIZE), num_actions=NUM_ACTIONS, num_planes=NUM_PLANES
        )

    def __repr__(self) -> str:
        return f"Chess(max_moves={self.max_moves}, material_cap={self.material_cap})"

    # ---- state -------------------------------------------------------------
    def initial_state(self) -> np.ndarray:
        return new_state(SIZE, self.max_moves or 0, self.material_cap)

    def legal_mask(self, state: np.ndarray) -> np.ndarray:
        _check_state(np.asarray(state))  # the kernels would read another game's array
        return super().legal_mask(state)

    def from_fen(self, fen: str) -> np.ndarray:
        """A state holding the position of ``fen`` (ValueError for a bad or illegal FEN)."""
        try:
            board = pychess.Board(fen)
        except ValueError as e:
            raise ValueError(f"chess: bad FEN {fen!r}: {e}") from None
        status = board.status()
        if status != pychess.STATUS_VALID:
            raise ValueError(f"chess: FEN {fen!r} is not a legal position ({status!r})")
        return state_from_board(board, self.max_moves or 0, self.material_cap)

    def to_board(self, state: np.ndarray) -> pychess.Board:
        """A python-chess board of ``state``'s position (a fresh copy, no move stack)."""
        return _to_board(np.asarray(state)).copy(stack=False)

    def fen(self, state: np.ndarray) -> str:
        return _to_board(np.asarray(state)).fen()

    def end_reason(self, state: np.ndarray) -> str | None:
        """Why the game ended ("checkmate", "threefold repetition" ...), None if it goes on."""
        return END_REASONS.get(int(state[S_END]))

    def repetitions(self, state: np.ndarray) -> int:
        return repetitions(state)

    def halfmove_clock(self, state: np.ndarray) -> int:
        return int(state[S_HALFMOVE])

    def observation(self, state: np.ndarray, player: int | None = None) -> np.ndarray:
        # No null move (with_mover): the planes are computed from either side directly.
        out = np.zeros(self.obs_shape, dtype=np.float32)
        observation_of(state, out, self.to_play(state) if player is None else int(player))
        return out

    def pieces(self, state: np.ndarray) -> np.ndarray:
        """int8[8, 8] piece codes, row 0 = rank 8 (0 empty, 1..6 White PNBRQK, 7..12 Black)."""
        return piece_view(state)

    def symmetries(self, planes: np.ndarray, policy: np.ndarray) -> list[tuple]:
        """Only the identity: castling and pawn direction break the board's symmetries."""
        return [(planes, policy)]

    # ---- moves -------------------------------------------------------------
    def move_of(self, state: np.ndarray, action: int) -> pychess.Move:
        """The python-chess move of a legal ``action`` (ValueError otherwise)."""
        a = self.check_action(state, action)
        board = _to_board(state)
        return decode_action(a, board.turn == pychess.WHITE, board)

    def action_of(self, state: np.ndarray, move: pychess.Move | str) -> int:
        """The action of ``move`` (a Move, UCI or SAN) in ``state``; ValueError if illegal."""
        return self.str_to_action(move.uci() if isinstance(move, pychess.Move) else move, state)

    def check_action(self, state: np.ndarray, action: object) -> int:
        a = to_int(action)
        if a is None:
            move, reason = repr(action), f"must be an int action, got {type(action).__name__}"
        else:
            move = self._describe(a, state)
            if self.is_terminal(state):
                reason = "played after the game ended"
            elif not 0 <= a < NUM_ACTIONS:
                reason = f"out of range 0..{NUM_ACTIONS - 1}"
            elif not is_legal(state, a):
                reason = self.illegal_reason(state, a)
            else:
                return a
        legal = ", ".join(self.action_to_str(b, state) for b in self.legal_actions(state))
        raise ValueError(
            f"chess: illegal move {move} [{reason}]; legal moves are: {legal or 'none'}"
        )

    def illegal_reason(self, state: np.ndarray, action: int) -> str:
        board = _to_board(state)
        try:
            move = decode_action(action, board.turn == pychess.WHITE, board)
        except ValueError as e:
            return str(e).removeprefix("chess: ")
        if board.piece_at(move.from_square) is None:
            return f"no piece on {pychess.square_name(move.from_square)}"
        if board.color_at(move.from_square) != board.turn:
            return f"the piece on {pychess.square_name(move.from_square)} is the opponent's"
        if board.is_pseudo_legal(move):
            return "it leaves the king in check"
        return "the piece cannot move so"

    def _describe(self, action: int, state: np.ndarray | None = None) -> str:
        try:
            return f"{self.action_to_str(action, state)!r} (action {action})"
        except ValueError:
            return f"action {action}"

    # ---- notation ----------------------------------------------------------
    def action_to_str(self, action: int, state: np.ndarray | None = None) -> str:
        """UCI text of ``action``, played in ``state`` (default: White to move in a
        position where no promotion is implied)."""
        if state is None:
            return decode_action(action, True).uci()
        board = _to_board(state)
        return decode_action(action, board.turn == pychess.WHITE, board).uci()

    def str_to_action(self, text: str, state: np.ndarray | None = None) -> int:
        """The action of UCI or SAN ``text`` in ``state`` (default: the start position)."""
        if state is None:
            state = self.initial_state()
        board = _to_board(state)
        t = text.strip()
        move = None
        if re.fullmatch(r"[a-h][1-8][a-h][1-8][nbrqNBRQ]?", t):
            move = pychess.Move.from_uci(t.lower())
        else:
            try:
                move = board.parse_san(t)
            except ValueError:
                pass
        if move is None:
            raise ValueError(
                f"chess: cannot read move {text!r}: expected UCI (e2e4, e7e8q) or SAN (Nf3)"
            )
        if not board.is_legal(move):
            legal = ", ".join(m.uci() for m in board.generate_legal_moves()) or "none"
            raise ValueError(f"chess: illegal move {text!r}; legal moves are: {legal}")
        return encode_move(move, board.turn == pychess.WHITE)

    def _replay(self, text: str) -> tuple[list[int], np.ndarray]:
        state = self.initial_state()
        actions = []
        for i, token in enumerate(self.split_moves(text)):
            try:
                if self.is_terminal(state):
                    raise ValueError("the game is over")
                a = self.str_to_action(token, state)
                state = self.apply(state, a)
            except ValueError as e:
                raise ValueError(f"chess: bad move #{i + 1} {token!r} in {text!r}: {e}") from None
            actions.append(a)
        return actions, state

    def format_moves(self, actions: Sequence[int]) -> str:
        """UCI text of ``actions`` played from the start position."""
        state = self.initial_state()
        words = []
        for a in actions:
            words.append(self.action_to_str(int(a), state))
            state = self.apply(state, int(a))
        return " ".join(words)

    def split_moves(self, text: str) -> list[str]:
        """Tokens of a move list; move numbers ("1.", "12...") are skipped."""
        return [
            t for t in re.split(r"[\s,;]+", text.strip()) if t and not re.fullmatch(r"\d+\.+", t)
        ]

    # ---- text --------------------------------------------------------------
    def render_text(self, state: np.ndarray) -> str:
        codes = piece_view(state)
        lines = ["   a b c d e f g h"]
        for r in range(8):
            lines.append(f"{8 - r:>2} " + " ".join(PIECE_LETTERS[int(v)] for v in codes[r]))
        lines.append(self.status_line(state))
        return "\n".join(lines)

    def status_line(self, state: np.ndarray) -> str:
        side = ("White", "Black")
        if not self.is_terminal(state):
            check = " (check)" if _to_board(state).is_check() else ""
            return f"{side[self.to_play(state)]} to move{check}, move {int(state[S_FULLMOVE])}"
        reason = self.end_reason(state)
        w = self.winner(state)
        if w is None:
            return f"draw by {reason}"
        return f"{side[w]} wins by {reason}"

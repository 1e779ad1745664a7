"""Chess, with rules from python-chess (the ``chess`` package) and AlphaZero's encodings.

``Chess(max_moves=None)``; ``make_game("chess")``.  player_0 is White and moves first,
player_1 is Black.

**Not Numba.**  Unlike the other games here, the rules are Python: python-chess
generates the moves.  This module still offers the kernel names of
:mod:`sim.board.base` (``new_state``, ``legal_mask_into``, ``play`` ...) as plain
Python functions, so the envs, the match runner and any code that calls
``game.rules.play(state, action)`` work unchanged; the Numba searches
(:mod:`sim.board.kernels`, :mod:`sim.search.mcts`) cannot step a chess state, and
:attr:`Chess.numba_rules` is False to say so.

Rules are FIDE's, with the draws that a player could claim made automatic (as in pgx
and OpenSpiel), so that a game always ends by itself.  After each move, in this order:

* **checkmate**: the side that moved wins (even on the fiftieth move);
* **stalemate**: draw;
* **insufficient material** (python-chess's test: neither side can ever mate): draw;
* **threefold repetition**: the position (pieces, side to move, castling rights and an
  en passant capture that is actually legal) has occurred three times: draw;
* **fifty-move rule**: 100 plies without a capture or a pawn move: draw;
* the optional **move cap** ``max_moves`` (plies, for short training games): draw.

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
    state[76 + k], k < K: Zobrist hashes of the positions since the last capture or pawn
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
from collections import OrderedDict
from collections.abc import Sequence
from typing import ClassVar

import chess as pychess
import numpy as np

from sim.board.base import (
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

CHESS = 5  # game id (state[H_GAME]); not in base.GAME_IDS: no Numba kernel knows it
SIZE = 8
NUM_PLANES = 20
NUM_ACTIONS = 73 * 64
S_CASTLING, S_EP, S_HALFMOVE = 5, 6, 7
S_FULLMOVE, S_END, S_CAP, S_NHIST = 72, 73, 74, 75
HIST0 = 76
MAX_HISTORY = 101  # positions since the last capture or pawn move, the current included
STATE_SIZE = HIST0 + MAX_HISTORY
MAX_MOVES_LIMIT = 100_000

# state[S_END]
ONGOING_REASON, CHECKMATE, STALEMATE, INSUFFICIENT, FIFTY_MOVES, THREEFOLD, MOVE_CAP = range(7)
END_REASONS = {
    CHECKMATE: "checkmate",
    STALEMATE: "stalemate",
    INSUFFICIENT: "insufficient material",
    FIFTY_MOVES: "fifty-move rule",
    THREEFOLD: "threefold repetition",
    MOVE_CAP: "move cap",
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
_SQUARE_RANGE = np.arange(64)
_BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))


# ---- state <-> python-chess ---------------------------------------------------------
class _BoardCache:
    """Recently converted states: the envs ask for a state's legal moves, legality and
    observation several times per move, and each conversion costs tens of microseconds.

    Entries are keyed by the state's bytes and hold a python-chess board and its legal
    moves; callers never mutate a cached board (they copy before pushing)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self.entries: OrderedDict[bytes, tuple[pychess.Board, dict[int, pychess.Move]]] = (
            OrderedDict()
        )

    def get(self, state: np.ndarray) -> tuple[pychess.Board, dict[int, pychess.Move]]:
        key = state.tobytes()
        hit = self.entries.get(key)
        if hit is not None:
            self.entries.move_to_end(key)
            return hit
        board = _to_board(state)
        return self.put(key, board, _legal_moves(board))

    def put(
        self, key: bytes, board: pychess.Board, moves: dict[int, pychess.Move]
    ) -> tuple[pychess.Board, dict[int, pychess.Move]]:
        self.entries[key] = (board, moves)
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return board, moves


def _legal_moves(board: pychess.Board) -> dict[int, pychess.Move]:
    """action -> move for every legal move of ``board``'s mover."""
    white = board.turn == pychess.WHITE
    return {encode_move(m, white): m for m in board.generate_legal_moves()}


_CACHE = _BoardCache()


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


def _hash(codes: np.ndarray, board: pychess.Board, castling: int) -> int:
    """Zobrist hash of the position for repetitions (FIDE: ep only when it is legal)."""
    h = np.bitwise_xor.reduce(Z_SQUARES[_SQUARE_RANGE, codes]) ^ Z_CASTLING[castling]
    if board.turn == pychess.BLACK:
        h ^= Z_BLACK
    if board.ep_square is not None and board.has_legal_en_passant():
        h ^= Z_EP[pychess.square_file(board.ep_square)]
    return int(h)


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


def _judge(state: np.ndarray, board: pychess.Board) -> None:
    """Set the winner and end reason of ``state`` (whose position is ``board``), and
    cache the position's legal moves: the next caller will want them."""
    moves = _legal_moves(board)
    reason = ONGOING_REASON
    if not moves:
        reason = CHECKMATE if board.is_check() else STALEMATE
    elif board.is_insufficient_material():
        reason = INSUFFICIENT
    else:
        n = int(state[S_NHIST])
        current = state[HIST0 + n - 1]
        if int(np.count_nonzero(state[HIST0 : HIST0 + n] == current)) >= 3:
            reason = THREEFOLD
        elif state[S_HALFMOVE] >= 100:
            reason = FIFTY_MOVES
        elif state[S_CAP] > 0 and state[H_PLY] >= state[S_CAP]:
            reason = MOVE_CAP
    state[S_END] = reason
    if reason == ONGOING_REASON:
        state[H_WINNER] = ONGOING
    elif reason == CHECKMATE:
        state[H_WINNER] = 1 - state[H_TO_PLAY]  # the side that just moved
    else:
        state[H_WINNER] = DRAW
    _CACHE.put(state.tobytes(), board, moves)


def state_from_board(board: pychess.Board, max_moves: int = 0) -> np.ndarray:
    """A state holding ``board``'s position (its move stack is ignored: the history
    starts here), judged at once (a mate or a dead position is already over)."""
    state = np.zeros(STATE_SIZE, dtype=np.int64)
    state[H_GAME] = CHESS
    state[H_SIZE] = SIZE
    state[S_CAP] = max_moves
    codes = _write_position(state, board)
    state[S_NHIST] = 1
    state[HIST0] = _hash(codes, board, int(state[S_CASTLING]))
    _judge(state, board)
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


# ---- the kernel interface, in Python ----------------------------------------------------
def new_state(size: int = SIZE, max_moves: int = 0) -> np.ndarray:
    """The start position; ``max_moves > 0`` caps the game at that many plies."""
    if size != SIZE:
        raise ValueError(f"chess: the board is 8x8, got size {size!r}")
    return state_from_board(pychess.Board(), max_moves)


def num_actions(state: np.ndarray) -> int:
    return NUM_ACTIONS


def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    out[:NUM_ACTIONS] = False
    if state[H_WINNER] != ONGOING:
        return 0
    _, moves = _CACHE.get(state)
    keys = list(moves)
    out[keys] = True
    return len(keys)


def is_legal(state: np.ndarray, action: int) -> bool:
    if state[H_WINNER] != ONGOING:
        return False
    return int(action) in _CACHE.get(state)[1]


def play(state: np.ndarray, action: int) -> None:
    """Play the legal ``action`` on ``state`` in place (ValueError if it is not legal)."""
    board, moves = _CACHE.get(state)
    move = moves.get(int(action)) if state[H_WINNER] == ONGOING else None
    if move is None:
        raise ValueError(f"chess: action {action} is not legal here")
    irreversible = board.is_zeroing(move)
    board = board.copy(stack=False)
    board.push(move)
    codes = _write_position(state, board)
    h = _hash(codes, board, int(state[S_CASTLING]))
    n = 1 if irreversible else min(int(state[S_NHIST]) + 1, MAX_HISTORY)
    if n == MAX_HISTORY and not irreversible and state[S_NHIST] == MAX_HISTORY:
        state[HIST0 : HIST0 + MAX_HISTORY - 1] = state[HIST0 + 1 : HIST0 + MAX_HISTORY]
    state[S_NHIST] = n
    state[HIST0 + n - 1] = h
    state[H_PLY] += 1
    _judge(state, board)


def repetitions(state: np.ndarray) -> int:
    """How often the current position has occurred (1 the first time)."""
    n = int(state[S_NHIST])
    return int(np.count_nonzero(state[HIST0 : HIST0 + n] == state[HIST0 + n - 1]))


def observation_into(state: np.ndarray, out: np.ndarray, player: int | None = None) -> None:
    """The planes of the module docstring from ``player``'s view (default: the mover)."""
    me = int(state[H_TO_PLAY]) if player is None else int(player)
    out[...] = 0.0
    board = state[HEADER : HEADER + 64].reshape(8, 8)  # [rank, file]
    # Mover's view: White sees rank 8 at row 0 (flipud), Black sees rank 1 at row 0.
    view = board[::-1] if me == 0 else board
    mine, theirs = (1, 7) if me == 0 else (7, 1)
    for k in range(6):
        out[k] = view == mine + k
        out[6 + k] = view == theirs + k
    if repetitions(state) >= 2:
        out[12] = 1.0
    if me == 0:
        out[13] = 1.0
    rights = int(state[S_CASTLING])
    own, other = (rights & 3, rights >> 2) if me == 0 else (rights >> 2, rights & 3)
    out[14] = own & 1
    out[15] = (own >> 1) & 1
    out[16] = other & 1
    out[17] = (other >> 1) & 1
    out[18] = min(int(state[S_HALFMOVE]), 100) / 100.0
    ep = int(state[S_EP])
    if ep >= 0:
        rank, file = divmod(ep, 8)
        out[19, 7 - rank if me == 0 else rank, file] = 1.0


def board_view(state: np.ndarray) -> np.ndarray:
    """int8[8, 8], row 0 = rank 8: 0 empty, 1 a White piece, 2 a Black piece."""
    codes = state[HEADER : HEADER + 64].reshape(8, 8)[::-1]
    return np.where(codes == 0, 0, np.where(codes <= 6, 1, 2)).astype(np.int8)


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
    numba_rules: ClassVar[bool] = False  # rules are Python: the Numba searches cannot run

    def __init__(self, max_moves: int | None = None) -> None:
        if max_moves is not None and not (is_int(max_moves) and 1 <= max_moves <= MAX_MOVES_LIMIT):
            raise ValueError(
                f"chess: max_moves must be an int from 1 to {MAX_MOVES_LIMIT} or None, "
                f"got {max_moves!r}"
            )
        self.max_moves = None if max_moves is None else int(max_moves)
        super().__init__(
            size=SIZE, board_shape=(SIZE, SIZE), num_actions=NUM_ACTIONS, num_planes=NUM_PLANES
        )

    def __repr__(self) -> str:
        return f"Chess(max_moves={self.max_moves})"

    # ---- state -------------------------------------------------------------
    def initial_state(self) -> np.ndarray:
        return new_state(SIZE, self.max_moves or 0)

    def from_fen(self, fen: str) -> np.ndarray:
        """A state holding the position of ``fen`` (ValueError for a bad or illegal FEN)."""
        try:
            board = pychess.Board(fen)
        except ValueError as e:
            raise ValueError(f"chess: bad FEN {fen!r}: {e}") from None
        status = board.status()
        if status != pychess.STATUS_VALID:
            raise ValueError(f"chess: FEN {fen!r} is not a legal position ({status!r})")
        return state_from_board(board, self.max_moves or 0)

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
        observation_into(state, out, player)
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
        return _CACHE.get(state)[1][a]

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
        board = _CACHE.get(state)[0]
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
        board = _CACHE.get(state)[0]
        return decode_action(action, board.turn == pychess.WHITE, board).uci()

    def str_to_action(self, text: str, state: np.ndarray | None = None) -> int:
        """The action of UCI or SAN ``text`` in ``state`` (default: the start position)."""
        if state is None:
            state = self.initial_state()
        board = _CACHE.get(state)[0]
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
            check = " (check)" if _CACHE.get(state)[0].is_check() else ""
            return f"{side[self.to_play(state)]} to move{check}, move {int(state[S_FULLMOVE])}"
        reason = self.end_reason(state)
        w = self.winner(state)
        if w is None:
            return f"draw by {reason}"
        return f"{side[w]} wins by {reason}"

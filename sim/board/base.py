"""The interface every board game in :mod:`sim.board` implements.

Rules are pure and pgx-style: a game state is a flat ``np.int64`` array, cheap to
copy, and every rule is a Numba kernel that reads (or, for :func:`play`, updates in
place) such an array.  A search can hold thousands of states as rows of one 2-D array.

State layout shared by all games (the rest is the game's own)::

    state[H_GAME]    game id (GAME_IDS below), so kernels can dispatch on the state alone
    state[H_TO_PLAY] player to move: 0 (``player_0``, moves first) or 1
    state[H_WINNER]  ONGOING, 0 or 1 (that player won) or DRAW
    state[H_PLY]     moves played so far, passes included
    state[H_SIZE]    board side (the game's size option)
    state[5:8]       game-specific header fields
    state[8:]        game-specific board data

Each game module provides these ``@njit(cache=True)`` kernels::

    new_state(size) -> int64[:]                  initial position
    num_actions(state) -> int                    size of the action space
    legal_mask_into(state, out: bool[:]) -> int  fill out[:num_actions]; return the count
    is_legal(state, action) -> bool
    play(state, action) -> None                  in place; the move must be legal
    observation_into(state, out: float32[C,H,W]) planes from the mover's view
    board_view(state) -> int8[H, W]              0 empty, 1 player_0's stone, 2 player_1's

and a :class:`BoardGame` subclass (``rules = sys.modules[__name__]``) that adds
validation, notation, symmetries and text.  Games that store a cell grid share their
common kernels through :mod:`sim.board.grid`.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from types import ModuleType
from typing import ClassVar

import numpy as np

H_GAME, H_TO_PLAY, H_WINNER, H_PLY, H_SIZE = 0, 1, 2, 3, 4
HEADER = 8
ONGOING, DRAW = -1, 2

CONNECT4, TICTACTOE, OTHELLO, GOMOKU, GO, CHESS = 0, 1, 2, 3, 4, 5
GAME_IDS = {
    "connect4": CONNECT4,
    "tictactoe": TICTACTOE,
    "othello": OTHELLO,
    "gomoku": GOMOKU,
    "go": GO,
    "chess": CHESS,
}

Symmetry = tuple[np.ndarray, np.ndarray]


def to_int(value: object) -> int | None:
    """``value`` as an int if it is integer-like, else None.

    Integer-like is what ``operator.index`` takes: Python and NumPy integers, and 0-d
    integer arrays or tensors (what SB3's ``model.predict`` returns for one observation).
    Bools are not integers here, nor are floats, strings or 1-element arrays.
    """
    if isinstance(value, (bool, np.bool_)) or getattr(value, "dtype", None) == np.bool_:
        return None
    try:
        return operator.index(value)
    except TypeError:
        return None


def require_known_game(state: np.ndarray, who: str) -> None:
    """Raise ValueError unless ``state`` carries the id of a game here (GAME_IDS).

    The kernels dispatch on ``state[H_GAME]`` without bounds checks, so an array of
    anything else must never reach them.
    """
    game_id = int(np.asarray(state)[H_GAME])
    if game_id not in GAME_IDS.values():
        raise ValueError(f"{who}: game id {game_id} is none of {GAME_IDS}")


def is_int(value: object) -> bool:
    """True for an integer-like value (see :func:`to_int`)."""
    return to_int(value) is not None


class BoardGame:
    """Python face of a game: validation, notation, symmetries, text.

    Subclasses set the class attributes, ``rules`` (the module holding the game's
    kernels) among them; methods here never mutate a state they are given.
    """

    name: ClassVar[str]
    player_symbols: ClassVar[tuple[str, str]] = ("X", "O")
    # The game's module: its kernels (see the module docstring) are rules.play etc.
    rules: ClassVar[ModuleType]
    # Notation of a point: column label, then row number counted from the bottom, or
    # from the top if rows_from_top; notation_note tells the reader about it in errors.
    rows_from_top: ClassVar[bool] = False
    notation_note: ClassVar[str] = ""
    # False where an action is not a board point (chess: a move from one square to another).
    actions_are_points: ClassVar[bool] = True

    def __init__(
        self, size: int, board_shape: tuple[int, int], num_actions: int, num_planes: int
    ) -> None:
        self.size = size
        self.board_shape = board_shape
        self.num_actions = num_actions
        self.obs_shape = (num_planes, *board_shape)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"

    # ---- state -------------------------------------------------------------
    def initial_state(self) -> np.ndarray:
        return self.rules.new_state(self.size)

    def legal_mask(self, state: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.num_actions, dtype=np.bool_)
        if state[H_WINNER] == ONGOING:
            self.rules.legal_mask_into(state, mask)
        return mask

    def legal_actions(self, state: np.ndarray) -> np.ndarray:
        return np.flatnonzero(self.legal_mask(state))

    def check_action(self, state: np.ndarray, action: object) -> int:
        """Return ``action`` as an int, or raise ValueError naming it, why, and the legal moves."""
        a = to_int(action)
        if a is None:
            move = repr(action)
            reason = f"must be an int action, got {type(action).__name__}"
        else:
            move = self._describe(a)
            if self.is_terminal(state):
                reason = "played after the game ended"
            elif not 0 <= a < self.num_actions:
                reason = f"out of range 0..{self.num_actions - 1}"
            elif not self.rules.is_legal(state, a):
                reason = self.illegal_reason(state, a)
            else:
                return a
        legal = ", ".join(self.action_to_str(b) for b in self.legal_actions(state)) or "none"
        raise ValueError(f"{self.name}: illegal move {move} [{reason}]; legal moves are: {legal}")

    def _check_board(self, board: np.ndarray, to_play: int) -> np.ndarray:
        """``board`` as an array, once it is H x W of 0/1/2 and ``to_play`` is 0 or 1.

        For the games' ``state_from_board``; raises ValueError naming what is wrong.
        """
        b = np.asarray(board)
        h, w = self.board_shape
        if b.shape != (h, w) or not np.isin(b, (0, 1, 2)).all():
            raise ValueError(f"{self.name}: board must be {h}x{w} with values 0, 1, 2")
        if isinstance(to_play, bool) or to_play not in (0, 1):
            raise ValueError(f"{self.name}: to_play must be 0 or 1, got {to_play!r}")
        return b

    def illegal_reason(self, state: np.ndarray, action: int) -> str:
        """Why an in-range ``action`` is illegal in the ongoing ``state`` (for error messages)."""
        return "the point is occupied"

    def apply(self, state: np.ndarray, action: int) -> np.ndarray:
        """A new state with ``action`` played; ``state`` is left unchanged."""
        a = self.check_action(state, action)
        new = state.copy()
        self.rules.play(new, a)
        return new

    def is_terminal(self, state: np.ndarray) -> bool:
        return bool(state[H_WINNER] != ONGOING)

    def winner(self, state: np.ndarray) -> int | None:
        """0 or 1 for the winning player, None for a draw or a game still going."""
        w = int(state[H_WINNER])
        return w if w in (0, 1) else None

    def returns(self, state: np.ndarray) -> tuple[float, float]:
        """Final rewards (player_0, player_1): +1 win, -1 loss, 0 draw or unfinished."""
        w = self.winner(state)
        if w is None:
            return (0.0, 0.0)
        return (1.0, -1.0) if w == 0 else (-1.0, 1.0)

    def to_play(self, state: np.ndarray) -> int:
        return int(state[H_TO_PLAY])

    def ply(self, state: np.ndarray) -> int:
        return int(state[H_PLY])

    def with_mover(self, state: np.ndarray, player: int) -> np.ndarray:
        """``state`` as if ``player`` were to move (a copy when it is the other's turn).

        A null move: observations and threat checks need the non-mover's view.
        """
        if int(state[H_TO_PLAY]) == player:
            return state
        flipped = state.copy()
        flipped[H_TO_PLAY] = player
        return flipped

    def observation(self, state: np.ndarray, player: int | None = None) -> np.ndarray:
        """Planes (float32) from the view of ``player``, by default the player to move."""
        if player is not None:
            state = self.with_mover(state, player)
        out = np.zeros(self.obs_shape, dtype=np.float32)
        self.rules.observation_into(state, out)
        return out

    def board(self, state: np.ndarray) -> np.ndarray:
        """``int8[H, W]``: 0 empty, 1 a stone of player_0, 2 a stone of player_1."""
        return self.rules.board_view(state)

    # ---- symmetries --------------------------------------------------------
    def symmetries(self, planes: np.ndarray, policy: np.ndarray) -> list[Symmetry]:
        """All (planes, policy) pairs equivalent under the board's symmetries.

        Default: the 8 symmetries of the square, policy over the H*W points plus any
        trailing non-board actions (pass), which stay put.
        """
        h, w = self.board_shape
        out = []
        board_pol = policy[: h * w].reshape(h, w)
        for k in range(4):
            for flip in (False, True):
                p = np.rot90(planes, k, axes=(-2, -1))
                q = np.rot90(board_pol, k)
                if flip:
                    p, q = np.flip(p, -1), np.flip(q, -1)
                pol = np.concatenate([q.reshape(-1), policy[h * w :]])
                out.append((np.ascontiguousarray(p), pol))
        return out

    # ---- notation ----------------------------------------------------------
    # A point is its column label and row label ("a1"); see column_labels and
    # row_label.  Text is read in either case.  An action past the H*W points is "pass".
    def action_to_str(self, action: int) -> str:
        h, w = self.board_shape
        a = int(action)
        if a == h * w and self._has_pass():
            return "pass"
        if not 0 <= a < h * w:
            raise ValueError(f"{self.name}: action {a} is out of range 0..{self.num_actions - 1}")
        r, c = divmod(a, w)
        return f"{self.column_labels()[c]}{self.row_label(r)}"

    def str_to_action(self, text: str) -> int:
        h, w = self.board_shape
        t = text.strip().lower()
        if t == "pass" and self._has_pass():
            return h * w
        m = re.fullmatch(r"([a-z])(\d{1,2})", t)
        cols = [label.lower() for label in self.column_labels()]
        if not m or m.group(1) not in cols or not 1 <= int(m.group(2)) <= h:
            labels = self.column_labels()
            note = f" ({self.notation_note})" if self.notation_note else ""
            raise ValueError(
                f"{self.name}: cannot read move {text!r}: expected a point "
                f"{labels[0]}1..{labels[-1]}{h}{note}" + (" or 'pass'" if self._has_pass() else "")
            )
        number = int(m.group(2))
        row = number - 1 if self.rows_from_top else h - number
        return row * w + cols.index(m.group(1))

    def _has_pass(self) -> bool:
        """True if the game has a pass action (the one after the H*W points)."""
        h, w = self.board_shape
        return self.num_actions > h * w

    def _describe(self, action: int) -> str:
        try:
            return f"{self.action_to_str(action)!r} (action {action})"
        except (ValueError, IndexError, KeyError):
            return f"action {action}"

    def split_moves(self, text: str) -> list[str]:
        """Tokens of a move list: separated by spaces or commas."""
        return [t for t in re.split(r"[\s,;]+", text.strip()) if t]

    def _replay(self, text: str) -> tuple[list[int], np.ndarray]:
        """The actions of a move list and the state they lead to."""
        state = self.initial_state()
        actions = []
        for i, token in enumerate(self.split_moves(text)):
            try:
                a = self.str_to_action(token)
                state = self.apply(state, a)
            except ValueError as e:
                raise ValueError(
                    f"{self.name}: bad move #{i + 1} {token!r} in {text!r}: {e}"
                ) from None
            actions.append(a)
        return actions, state

    def parse_moves(self, text: str) -> list[int]:
        """Actions from a move list; raises ValueError naming a bad or illegal token."""
        return self._replay(text)[0]

    def format_moves(self, actions: Sequence[int]) -> str:
        return " ".join(self.action_to_str(int(a)) for a in actions)

    def from_moves(self, text: str) -> np.ndarray:
        """The state after a move list (see :meth:`parse_moves`)."""
        return self._replay(text)[1]

    # ---- text --------------------------------------------------------------
    def render_text(self, state: np.ndarray) -> str:
        """The board as text, with coordinates and whose turn it is (or the result)."""
        board = self.board(state)
        h, w = board.shape
        cols = self.column_labels()
        glyph = {0: ".", 1: self.player_symbols[0], 2: self.player_symbols[1]}
        lines = ["   " + " ".join(cols)]
        for r in range(h):
            label = self.row_label(r)
            lines.append(f"{label:>2} " + " ".join(glyph[int(v)] for v in board[r]))
        lines.append(self.status_line(state))
        return "\n".join(lines)

    def column_labels(self) -> list[str]:
        return [chr(ord("a") + c) for c in range(self.board_shape[1])]

    def row_label(self, row: int) -> str:
        """Label of board row ``row`` (0 = top): rows count up from the bottom (the
        bottom row is "1"), or down from the top if ``rows_from_top``."""
        return str(row + 1 if self.rows_from_top else self.board_shape[0] - row)

    def status_line(self, state: np.ndarray) -> str:
        if not self.is_terminal(state):
            p = self.to_play(state)
            return f"player_{p} ({self.player_symbols[p]}) to move"
        w = self.winner(state)
        return "draw" if w is None else f"player_{w} ({self.player_symbols[w]}) wins"

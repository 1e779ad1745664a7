"""Connect Four rules against a pure-Python model: wins in every direction, no false fours
across the bitboard's column boundaries, the draw, orientation, the null-move view,
notation and bad input."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.board import make_game
from sim.board.connect4 import Connect4
from sim.board.connect4_solver import SolverBudgetExceeded, solve

ROWS, COLS = 6, 7
DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "/": (-1, 1), "\\": (1, 1)}


# ---- a pure-Python model -----------------------------------------------------------
def fours(board: np.ndarray) -> set[tuple[int, str]]:
    """(player stone 1/2, direction) of every four in a row on ``board`` (row 0 the top)."""
    found = set()
    for r in range(ROWS):
        for c in range(COLS):
            stone = int(board[r][c])
            if not stone:
                continue
            for name, (dr, dc) in DIRECTIONS.items():
                cells = [(r + k * dr, c + k * dc) for k in range(4)]
                if all(0 <= y < ROWS and 0 <= x < COLS and board[y][x] == stone for y, x in cells):
                    found.add((stone, name))
    return found


def picture(text: str) -> np.ndarray:
    """A board drawn as 6 lines of 7 characters, top row first: X player_0, O player_1."""
    rows = text.strip().splitlines()
    return np.array([[".XO".index(ch) for ch in row] for row in rows], dtype=np.int8)


class Reference:
    """Connect Four by the book: columns fill from the bottom, four in a row wins."""

    def __init__(self) -> None:
        self.board = np.zeros((ROWS, COLS), dtype=np.int8)
        self.to_play = 0
        self.winner: int | None = None
        self.over = False

    def legal(self) -> list[int]:
        return [] if self.over else [c for c in range(COLS) if self.board[0, c] == 0]

    def play(self, col: int) -> None:
        row = max(r for r in range(ROWS) if self.board[r, col] == 0)  # the lowest empty cell
        self.board[row, col] = self.to_play + 1
        if any(stone == self.to_play + 1 for stone, _ in fours(self.board)):
            self.winner, self.over = self.to_play, True
        elif (self.board != 0).all():
            self.over = True
        self.to_play = 1 - self.to_play


@pytest.fixture(scope="module")
def game() -> Connect4:
    return make_game("connect4")


# ---- wins ---------------------------------------------------------------------------
# (moves, the final board, winner, direction of the four). The last move makes the four;
# the lines touch every edge: the bottom and top rows, the first and last columns.
WINS = [
    ("4425371", "....... ....... ....... ....... ...O... XXXXO.O", 0, "horizontal"),
    (
        "477655665777574545646644",
        "...OOOO ...XOXO ...OXXX ...XXOO ...XOXX ...XXOO",
        1,
        "horizontal",
    ),
    ("465566353344", "....... ....... ....... ..OOOO. ..XXOX. ..XXXO.", 1, "horizontal"),
    ("777572767", "......X ......X ......X ......X ......O .O..OOX", 0, "vertical"),
    ("51412161", "....... ....... O...... O...... O...... OX.XXX.", 1, "vertical"),
    ("12243334464", "....... ....... ...X... ..XX... .XOO... XOXO.O.", 0, "/"),
    ("422553544335445", "....... ...OX.. ...XO.. ..XXX.. .XOOX.. .OOXO..", 0, "/"),
    ("457454557676676677", "......O .....OX ....OXO ...OXXX ...OXOX ...XOOX", 1, "/"),
    ("4124412313233221171", "X...... XX..... OOX.... XXOX... OXOO... OXOX..O", 0, "\\"),
    ("4766445455", "....... ....... ...O... ...OO.. ...XXO. ...XXXO", 1, "\\"),
]


@pytest.mark.parametrize("moves, board, winner, direction", WINS)
def test_four_in_a_row_wins_in_every_direction(game, moves, board, winner, direction):
    expected = picture(board.replace(" ", "\n"))
    assert fours(expected) == {(winner + 1, direction)}  # the case is what it says
    before = game.from_moves(moves[:-1])
    assert not game.is_terminal(before) and game.to_play(before) == winner
    final = game.apply(before, int(moves[-1]) - 1)
    np.testing.assert_array_equal(game.board(final), expected)
    assert game.is_terminal(final) and game.winner(final) == winner
    assert game.returns(final) == ((1.0, -1.0) if winner == 0 else (-1.0, 1.0))
    assert not game.legal_mask(final).any()
    assert game.status_line(final) == f"player_{winner} ({'XO'[winner]}) wins"


# Four stones of one player that a bitboard without the spare top bit per column (or a
# row-major board without padding) would read as a line; the last move completes them.
WRAPS = [
    # rows 4-6 of column 3 and the bottom of column 4
    ("433337363", "..X.... ..X.... ..X.... ..O.... ..X.... ..OX.OO"),
    # rows 4-6 of column 6 and the bottom of column 7, for O
    ("6666162617", ".....O. .....O. .....O. .....X. X....O. XX...XO"),
    # a / line of three ending at the top of column 4, and the bottom of column 6
    ("62243324243333444", "..OX... ..XO... .XOX... .XXO... .XOO... .OXO.X."),
    # a \ line of three ending at the bottom of column 4, and the top of column 4
    ("43344422244", "...X... ...O... ...O... .X.X... .OXO... .XOX..."),
    # the last three of the bottom row and the first cell of the row above
    ("6112765", "....... ....... ....... ....... X....O. OO..XXX"),
]


@pytest.mark.parametrize("moves, board", WRAPS)
def test_no_four_wraps_across_columns_or_rows(game, moves, board):
    expected = picture(board.replace(" ", "\n"))
    assert not fours(expected)
    state = game.from_moves(moves)
    np.testing.assert_array_equal(game.board(state), expected)
    assert not game.is_terminal(state) and game.winner(state) is None
    not_full = [c for c in range(COLS) if expected[0, c] == 0]
    assert game.legal_actions(state).tolist() == not_full


# A whole game without a four: the 42nd stone fills the board.
DRAWN_GAME = "257771314744647214154617633623313656555222"


def test_the_42nd_stone_draws(game):
    state = game.initial_state()
    for ply, ch in enumerate(DRAWN_GAME):
        assert not game.is_terminal(state), ply
        state = game.apply(state, int(ch) - 1)
        assert not fours(game.board(state)), ply  # no four at any point: the model agrees
    assert (game.board(state) != 0).all() and game.ply(state) == 42
    assert game.is_terminal(state) and game.winner(state) is None
    assert game.returns(state) == (0.0, 0.0) and game.status_line(state) == "draw"
    assert not game.legal_mask(state).any()
    with pytest.raises(ValueError, match="after the game ended.*legal moves are: none"):
        game.apply(state, 0)


@pytest.mark.parametrize("seed", range(6))
def test_random_games_match_the_reference(game, seed):
    rng = np.random.default_rng(seed)
    for _ in range(8):
        ref, state = Reference(), game.initial_state()
        while True:
            np.testing.assert_array_equal(game.board(state), ref.board)
            assert game.legal_actions(state).tolist() == ref.legal()
            assert game.is_terminal(state) == ref.over
            assert game.winner(state) == ref.winner
            if ref.over:
                break
            assert game.to_play(state) == ref.to_play
            col = int(rng.choice(ref.legal()))
            state = game.apply(state, col)
            ref.play(col)


# ---- views ---------------------------------------------------------------------------
def test_board_and_observation_have_row_0_at_the_top(game):
    state = game.from_moves("44")  # X at the bottom of column 4, O on top of it
    board = game.board(state)
    assert board.shape == (6, 7) and board.dtype == np.int8
    assert board[5, 3] == 1 and board[4, 3] == 2 and (board != 0).sum() == 2
    state = game.apply(state, 0)  # X in column 1: O to move
    obs = game.observation(state)
    assert obs.shape == (2, 6, 7) and obs.dtype == np.float32
    np.testing.assert_array_equal(obs[0], game.board(state) == 2)  # the mover's (O's) stones
    np.testing.assert_array_equal(obs[1], game.board(state) == 1)
    assert obs[1, 5, 0] == obs[1, 5, 3] == obs[0, 4, 3] == 1


def test_with_mover_is_the_null_move_view(game):
    # X has three in column 1, O two in column 2; O to move.
    state = game.from_moves("12121")
    snapshot = state.copy()
    assert game.with_mover(state, 1) is state
    flipped = game.with_mover(state, 0)
    np.testing.assert_array_equal(state, snapshot)
    assert game.to_play(flipped) == 0
    np.testing.assert_array_equal(game.board(flipped), game.board(state))
    obs = game.observation(flipped)
    np.testing.assert_array_equal(obs[0], game.board(state) == 1)  # now X's view
    np.testing.assert_array_equal(obs, game.observation(state, player=0))
    np.testing.assert_array_equal(game.observation(state, player=1), game.observation(state))
    # The threat shows in X's view: column 1 wins for X, not for O.
    assert game.winner(game.apply(flipped, 0)) == 0
    assert game.winner(game.apply(state, 0)) is None
    np.testing.assert_array_equal(game.with_mover(flipped, 1), state)


# ---- notation ------------------------------------------------------------------------
def test_columns_are_the_digits_1_to_7(game):
    assert [game.action_to_str(a) for a in range(7)] == list("1234567")
    assert [game.str_to_action(d) for d in "1234567"] == list(range(7))
    assert game.parse_moves("4453") == [3, 3, 4, 2]
    assert game.parse_moves(" 4 4,5;3 ") == [3, 3, 4, 2]
    assert game.format_moves([3, 3, 4, 2]) == "4453"
    assert game.format_moves(np.array([0, 6])) == "17"
    np.testing.assert_array_equal(game.from_moves("4453"), game.apply(game.from_moves("445"), 2))
    for bad in (-1, 7):
        with pytest.raises(ValueError, match=str(bad)):
            game.action_to_str(bad)


@pytest.mark.parametrize(
    "text, bad",
    [("44a3", "'a'"), ("448", "'8'"), ("0", "'0'"), ("4-4", "'-'"), ("44.", "'.'")],
)
def test_malformed_move_strings_name_the_bad_character(game, text, bad):
    with pytest.raises(ValueError, match=re.escape(bad)):
        game.parse_moves(text)
    with pytest.raises(ValueError, match=re.escape(bad)):
        game.from_moves(text)


def test_move_into_a_full_column_is_named(game):
    with pytest.raises(ValueError, match=r"#7 '1'.*column is full.*legal moves are: 2, 3"):
        game.parse_moves("1111111")


# ---- actions of other types ------------------------------------------------------------
@pytest.mark.parametrize(
    "action", [np.array(3), np.int64(3), np.int32(3), np.uint8(3), np.array(3, dtype=np.int16)]
)
def test_integer_like_actions_are_accepted(game, action):
    state = game.from_moves("12")
    snapshot = state.copy()
    np.testing.assert_array_equal(game.apply(state, action), game.apply(state, 3))
    np.testing.assert_array_equal(state, snapshot)


@pytest.mark.parametrize(
    "action",
    [True, False, np.True_, np.array(True), 3.0, np.float64(3.0), "4", np.array([3]), None],
    ids=repr,
)
def test_other_action_types_raise_naming_the_move_and_the_legal_ones(game, action):
    state = game.from_moves("1111112")  # column 1 full
    snapshot = state.copy()
    with pytest.raises(ValueError) as err:
        game.apply(state, action)
    message = str(err.value)
    assert repr(action) in message and "legal moves are: 2, 3, 4, 5, 6, 7" in message
    np.testing.assert_array_equal(state, snapshot)


# ---- the solver's node budget ------------------------------------------------------------
@pytest.mark.parametrize("max_nodes", [1.5, "10", True, -1, 10.0])
def test_solver_rejects_a_budget_that_is_not_a_count(max_nodes):
    with pytest.raises(ValueError, match="max_nodes"):
        solve("44", max_nodes=max_nodes)


@pytest.mark.parametrize("max_nodes", [10, np.int64(10)])
def test_solver_takes_an_integer_budget(max_nodes):
    with pytest.raises(SolverBudgetExceeded):
        solve("44", max_nodes=max_nodes)

"""Tic-Tac-Toe rules against a pure-Python model: every line wins for either player, the
draw, illegal moves, other action types, options, random games."""

from __future__ import annotations

import re
from itertools import combinations

import numpy as np
import pytest

from sim.board import make_game
from sim.board.tictactoe import TicTacToe

# Cells are numbered row by row from the top; the 8 lines, from their coordinates.
ROWS = [[3 * r + c for c in range(3)] for r in range(3)]
COLUMNS = [[3 * r + c for r in range(3)] for c in range(3)]
DIAGONALS = [[0, 4, 8], [2, 4, 6]]
LINES = ROWS + COLUMNS + DIAGONALS


def cell_name(cell: int) -> str:
    """Column letter, then row counted from the bottom: cell 0 (top left) is a3."""
    r, c = divmod(cell, 3)
    return "abc"[c] + str(3 - r)


def line_owner(board: list[int]) -> int | None:
    """The stone (1 or 2) that fills a line of ``board`` (9 cells), if any."""
    for line in LINES:
        stones = {board[i] for i in line}
        if len(stones) == 1 and stones != {0}:
            return stones.pop()
    return None


@pytest.fixture(scope="module")
def game() -> TicTacToe:
    return make_game("tictactoe")


def play(game: TicTacToe, cells: list[int]) -> np.ndarray:
    state = game.initial_state()
    for cell in cells:
        state = game.apply(state, cell)
    return state


# ---- results -------------------------------------------------------------------------
def winning_sequence(line: list[int], winner: int) -> list[int]:
    """Moves in which ``winner`` (0 or 1) takes ``line`` with its last move, the other
    player's stones sitting off the line and never forming one."""
    others = [c for c in range(9) if c not in line]
    for filler in combinations(others, 3 if winner == 1 else 2):
        if sorted(filler) not in LINES:
            break
    if winner == 0:  # X: line, O, line, O, line
        return [line[0], filler[0], line[1], filler[1], line[2]]
    return [filler[0], line[0], filler[1], line[1], filler[2], line[2]]


@pytest.mark.parametrize("winner", [0, 1])
@pytest.mark.parametrize("line", LINES, ids=[str(line) for line in LINES])
def test_every_line_wins_for_either_player(game, line, winner):
    moves = winning_sequence(line, winner)
    before = play(game, moves[:-1])
    assert not game.is_terminal(before) and game.to_play(before) == winner
    final = game.apply(before, moves[-1])
    board = game.board(final).reshape(-1)
    assert line_owner(board.tolist()) == winner + 1
    assert all(board[i] == winner + 1 for i in line)
    assert game.is_terminal(final) and game.winner(final) == winner
    assert game.returns(final) == ((1.0, -1.0) if winner == 0 else (-1.0, 1.0))
    assert not game.legal_mask(final).any()


# X O X / X O O / O X X: a full board without a line.
DRAW = [0, 1, 2, 4, 3, 5, 7, 6, 8]


def test_a_full_board_without_a_line_is_a_draw(game):
    state = game.initial_state()
    for ply, cell in enumerate(DRAW):
        assert not game.is_terminal(state), ply
        state = game.apply(state, cell)
    board = game.board(state)
    np.testing.assert_array_equal(board, [[1, 2, 1], [1, 2, 2], [2, 1, 1]])
    assert line_owner(board.reshape(-1).tolist()) is None
    assert game.is_terminal(state) and game.winner(state) is None
    assert game.returns(state) == (0.0, 0.0) and game.status_line(state) == "draw"


# ---- illegal moves -----------------------------------------------------------------------
def legal_list(message: str) -> list[str]:
    return message.split("legal moves are: ")[1].split(", ")


@pytest.mark.parametrize(
    "bad, named",
    [(4, "'b2' (action 4)"), (0, "'a3' (action 0)"), (9, "action 9"), (-1, "action -1")],
)
def test_illegal_moves_name_the_move_and_the_legal_ones(game, bad, named):
    state = play(game, [4, 0])  # X in the centre, O in the top-left corner
    snapshot = state.copy()
    with pytest.raises(ValueError, match=re.escape(named)) as err:
        game.apply(state, bad)
    expected = [cell_name(c) for c in range(9) if c not in (0, 4)]
    assert legal_list(str(err.value)) == expected
    np.testing.assert_array_equal(state, snapshot)


def test_a_move_after_the_end_is_refused(game):
    final = play(game, winning_sequence(ROWS[0], 0))
    snapshot = final.copy()
    with pytest.raises(ValueError, match=r"after the game ended.*legal moves are: none"):
        game.apply(final, 8)
    np.testing.assert_array_equal(final, snapshot)


@pytest.mark.parametrize(
    "action", [np.array(8), np.int64(8), np.int8(8), np.array(8, dtype=np.uint16)], ids=repr
)
def test_integer_like_actions_are_accepted(game, action):
    state = play(game, [4])
    np.testing.assert_array_equal(game.apply(state, action), game.apply(state, 8))


@pytest.mark.parametrize(
    "action",
    [True, np.False_, np.array(True), 8.0, np.float32(8), "8", "c1", np.array([8]), None],
    ids=repr,
)
def test_other_action_types_name_the_move_and_the_legal_ones(game, action):
    state = play(game, [4])
    snapshot = state.copy()
    with pytest.raises(ValueError) as err:
        game.apply(state, action)
    assert repr(action) in str(err.value)
    assert legal_list(str(err.value)) == [cell_name(c) for c in range(9) if c != 4]
    np.testing.assert_array_equal(state, snapshot)


def test_options_are_refused_by_name():
    with pytest.raises(ValueError, match="size"):
        make_game("tictactoe", size=4)
    with pytest.raises(ValueError, match="komi"):
        make_game("tictactoe", komi=1)


def test_notation_counts_rows_from_the_bottom(game):
    assert [game.action_to_str(c) for c in range(9)] == [cell_name(c) for c in range(9)]
    assert game.parse_moves("b2 A3, c1") == [4, 0, 8]
    assert game.format_moves([4, 0, 8]) == "b2 a3 c1"
    for bad in ("d1", "a4", "a0", "b", "22"):
        with pytest.raises(ValueError, match=re.escape(repr(bad))):
            game.parse_moves(f"b2 {bad}")


# ---- random games ----------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
def test_random_games_match_the_reference(game, seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        board, state, mover = [0] * 9, game.initial_state(), 0
        while True:
            owner = line_owner(board)
            over = owner is not None or 0 not in board
            np.testing.assert_array_equal(game.board(state).reshape(-1), board)
            assert game.is_terminal(state) == over
            assert game.winner(state) == (None if owner is None else owner - 1)
            legal = [] if over else [c for c in range(9) if board[c] == 0]
            assert game.legal_actions(state).tolist() == legal
            if over:
                break
            assert game.to_play(state) == mover
            cell = int(rng.choice(legal))
            state = game.apply(state, cell)
            board[cell] = mover + 1
            mover = 1 - mover

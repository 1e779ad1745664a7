"""Free-style Gomoku rules: five or more in a row wins, a full board without one draws."""

from __future__ import annotations

import numpy as np
import pytest

from sim.board import make_game
from sim.board.base import GOMOKU, H_GAME, H_PLY, H_SIZE, H_TO_PLAY, H_WINNER, ONGOING
from sim.board.gomoku import S_LAST_LINE, S_LAST_MOVE, Gomoku

DIRECTIONS = {"horizontal": (0, 1), "vertical": (1, 0), "diagonal": (1, 1), "antidiagonal": (1, -1)}


def has_five(board: np.ndarray, stone: int) -> bool:
    """Brute force over every window of five on the board, independent of the kernel."""
    b = board == stone
    n = b.shape[0]
    for dr, dc in DIRECTIONS.values():
        rows, cols = n - 4 * abs(dr), n - 4 * abs(dc)
        window = np.ones((rows, cols), dtype=bool)
        for k in range(5):
            r0 = k * dr + (4 if dr < 0 else 0)
            c0 = k * dc + (4 if dc < 0 else 0)
            window &= b[r0 : r0 + rows, c0 : c0 + cols]
        if window.any():
            return True
    return False


def play_points(
    game: Gomoku, black: list[tuple[int, int]], white: list[tuple[int, int]]
) -> list[np.ndarray]:
    """Every state from the start, Black and White alternating over the given (row, col)."""
    assert len(white) in (len(black), len(black) - 1)
    n = game.size
    order = [p for pair in zip(black, white, strict=False) for p in pair]
    if len(black) > len(white):
        order.append(black[-1])
    states = [game.initial_state()]
    for r, c in order:
        states.append(game.apply(states[-1], r * n + c))
    return states


def play_diagram(
    game: Gomoku, rows: list[str], last: tuple[int, int] | None = None
) -> list[np.ndarray]:
    """Play the stones of a diagram (top row first, X Black, O White), ``last`` placed last."""
    black = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "X"]
    white = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch == "O"]
    for stones in (black, white):
        if last in stones:
            stones.remove(last)
            stones.append(last)
    return play_points(game, black, white)


def filler(game: Gomoku, avoid: list[tuple[int, int]], count: int) -> list[tuple[int, int]]:
    """``count`` points off ``avoid``, no two adjacent, so they can never make a line."""
    n = game.size
    spots = [(r, c) for r in range(0, n, 2) for c in range(0, n, 3) if (r, c) not in avoid]
    assert len(spots) >= count
    return spots[:count]


# ---- winning lines -----------------------------------------------------------

# (name, size, first point of the five, direction): centre, edges and all four corners.
LINES = [
    ("centre horizontal", 15, (7, 5), "horizontal"),
    ("centre vertical", 15, (5, 7), "vertical"),
    ("centre diagonal", 15, (5, 5), "diagonal"),
    ("centre antidiagonal", 15, (5, 9), "antidiagonal"),
    ("top edge from top-left corner", 15, (0, 0), "horizontal"),
    ("bottom edge into bottom-right corner", 15, (14, 10), "horizontal"),
    ("left edge from top-left corner", 15, (0, 0), "vertical"),
    ("right edge into bottom-right corner", 15, (10, 14), "vertical"),
    ("main diagonal from top-left corner", 15, (0, 0), "diagonal"),
    ("diagonal into bottom-right corner", 15, (10, 10), "diagonal"),
    ("antidiagonal from top-right corner", 15, (0, 14), "antidiagonal"),
    ("antidiagonal into bottom-left corner", 15, (10, 4), "antidiagonal"),
    ("right edge mid-board", 15, (4, 14), "vertical"),
    ("bottom edge mid-board", 15, (14, 3), "horizontal"),
    ("5x5 full row", 5, (2, 0), "horizontal"),
    ("5x5 full column", 5, (0, 4), "vertical"),
    ("5x5 corner-to-corner diagonal", 5, (0, 0), "diagonal"),
    ("5x5 corner-to-corner antidiagonal", 5, (0, 4), "antidiagonal"),
    ("19x19 far corner", 19, (18, 14), "horizontal"),
]


@pytest.mark.parametrize("last_index", [0, 2, 4], ids=["end-first", "middle", "end-last"])
@pytest.mark.parametrize(
    ("size", "start", "direction"), [line[1:] for line in LINES], ids=[line[0] for line in LINES]
)
def test_five_in_a_row_wins(size, start, direction, last_index):
    game = Gomoku(size=size)
    dr, dc = DIRECTIONS[direction]
    five = [(start[0] + k * dr, start[1] + k * dc) for k in range(5)]
    assert all(0 <= r < size and 0 <= c < size for r, c in five)
    # The stone at last_index comes last, so the count must reach both ways from it.
    black = [p for i, p in enumerate(five) if i != last_index] + [five[last_index]]
    white = filler(game, five, 4)
    *history, before, after = play_points(game, black, white)

    assert not game.is_terminal(before)
    assert not has_five(game.board(before), 1)
    assert game.is_terminal(after)
    assert game.winner(after) == 0
    assert game.returns(after) == (1.0, -1.0)
    assert has_five(game.board(after), 1)
    assert after[S_LAST_LINE] == 5
    assert not game.legal_mask(after).any()
    assert game.status_line(after) == "player_0 (X) wins"


@pytest.mark.parametrize("direction", list(DIRECTIONS))
def test_white_wins_too(direction):
    game = Gomoku(size=9)
    dr, dc = DIRECTIONS[direction]
    five = [(2 + k * dr, 4 + k * dc) for k in range(5)]
    black = filler(game, five, 5)
    *_, before, after = play_points(game, black, five)
    assert game.to_play(before) == 1 and not game.is_terminal(before)
    assert game.winner(after) == 1
    assert game.returns(after) == (-1.0, 1.0)


# ---- what is and is not five -------------------------------------------------


@pytest.mark.parametrize("direction", list(DIRECTIONS))
def test_four_is_not_a_win(direction):
    game = Gomoku(size=9)
    dr, dc = DIRECTIONS[direction]
    four = [(2 + k * dr, 4 + k * dc) for k in range(4)]
    final = play_points(game, four, filler(game, four, 3))[-1]
    assert final[S_LAST_LINE] == 4
    assert not game.is_terminal(final)
    assert game.to_play(final) == 1
    assert int(game.legal_mask(final).sum()) == 81 - 7


@pytest.mark.parametrize(
    ("row", "fill", "line"),
    [
        ("XX.XXX", 2, 6),  # broken five X X . X X X: an overline once filled
        ("XX.XX.", 2, 5),  # broken four: exactly five once filled
        ("X.XXX.", 1, 5),
        ("XXXX.XX", 4, 7),  # seven in a row
    ],
)
def test_broken_lines_win_only_when_filled(row, fill, line):
    game = Gomoku(size=11)
    cols = [c + 2 for c, ch in enumerate(row) if ch == "X"]
    black = [(5, c) for c in cols] + [(5, fill + 2)]
    white = filler(game, black, len(black) - 1)
    states = play_points(game, black, white)
    assert all(not game.is_terminal(s) for s in states[:-1])
    assert game.winner(states[-1]) == 0
    assert states[-1][S_LAST_LINE] == line


def test_overline_of_six_wins_on_every_axis():
    for dr, dc in DIRECTIONS.values():
        game = Gomoku(size=15)
        six = [(4 + k * dr, 7 + k * dc) for k in range(6)]
        black = six[:2] + six[3:] + [six[2]]  # 2 + 3, then the gap
        states = play_points(game, black, filler(game, six, 5))
        assert not game.is_terminal(states[-2])
        assert game.winner(states[-1]) == 0
        assert states[-1][S_LAST_LINE] == 6


def test_blocked_five_is_not_a_win():
    game = Gomoku(size=9)
    final = play_diagram(
        game,
        [
            "XXXXOX...",
            ".........",
            "O.O......",
            "O...O....",
            ".........",
            ".........",
            ".........",
            ".........",
            ".........",
        ],
    )[-1]
    assert not game.is_terminal(final)


@pytest.mark.parametrize(
    ("first", "step"), [(5, 1), (5, 10), (1, 8)], ids=["row end", "diagonal", "antidiagonal"]
)
def test_lines_do_not_wrap_round_the_board(first, step):
    """Five actions ``step`` apart that run off one side and on at the other are no line."""
    game = Gomoku(size=9)
    points = [divmod(first + k * step, 9) for k in range(5)]
    final = play_points(game, points, filler(game, points, 4))[-1]
    assert not has_five(game.board(final), 1)
    assert not game.is_terminal(final)


def test_five_for_the_other_colour_does_not_count():
    game = Gomoku(size=9)
    # Black's stone in the middle of White's four does not join them.
    final = play_diagram(
        game,
        [
            "OOXOO....",
            ".........",
            "X.X.X....",
            ".........",
            ".........",
            ".........",
            ".........",
            ".........",
            "X........",
        ],
        last=(0, 2),
    )[-1]
    assert not game.is_terminal(final)


# ---- draws -------------------------------------------------------------------

DRAWN_5X5 = [
    "XXOOX",
    "OOXXO",
    "XXOOX",
    "OOXXO",
    "XXOOX",
]


def test_full_board_without_five_is_a_draw():
    game = Gomoku(size=5)
    states = play_diagram(game, DRAWN_5X5)
    final = states[-1]
    assert len(states) == 26
    assert all(not game.is_terminal(s) for s in states[:-1])
    assert not has_five(game.board(final), 1) and not has_five(game.board(final), 2)
    assert game.is_terminal(final)
    assert final[H_WINNER] != ONGOING and game.winner(final) is None
    assert game.returns(final) == (0.0, 0.0)
    assert game.status_line(final) == "draw"
    assert not game.legal_mask(final).any()


def test_five_on_the_last_empty_point_wins_rather_than_draws():
    game = Gomoku(size=5)
    final = play_diagram(
        game,
        [
            "XXOOX",
            "OOXOX",
            "XXOOX",
            "OOOXX",
            "XXOOX",
        ],
        last=(2, 4),
    )[-1]
    assert final[H_PLY] == 25
    assert game.winner(final) == 0


# ---- illegal input -----------------------------------------------------------


def test_illegal_moves_raise_and_leave_the_state_unchanged():
    game = Gomoku()
    state = game.from_moves("h8 h9")
    snapshot = state.copy()
    cases = [
        (game.str_to_action("h8"), "'h8'", "occupied"),
        (game.str_to_action("h9"), "'h9'", "occupied"),
        (-1, "action -1", "out of range"),
        (225, "action 225", "out of range"),
        (10**9, f"action {10**9}", "out of range"),
        (np.int64(225), "action 225", "out of range"),
        (1.0, "1.0", "float"),
        ("h7", "'h7'", "str"),
        (None, "None", "NoneType"),
        (True, "True", "bool"),
        (np.float32(3), "3.0", "float32"),
    ]
    for move, named, why in cases:
        with pytest.raises(ValueError, match="gomoku") as err:
            game.apply(state, move)
        assert named in str(err.value) and why in str(err.value), str(err.value)[:200]
        np.testing.assert_array_equal(state, snapshot)


def test_no_move_after_the_end():
    game = Gomoku(size=9)
    final = play_diagram(game, ["XXXXX....", "OOOO....."], last=(0, 4))[-1]
    assert game.winner(final) == 0
    snapshot = final.copy()
    for move in (game.str_to_action("a1"), 40):
        with pytest.raises(ValueError, match="after the game ended") as err:
            game.apply(final, move)
        assert game.action_to_str(move) in str(err.value)
    np.testing.assert_array_equal(final, snapshot)


def test_bad_move_text_is_named():
    game = Gomoku()
    for text in ("h8 h8", "h8 z3", "h8 h16", "h8 p1", "h8 a0"):
        bad = text.split()[1]
        with pytest.raises(ValueError, match=f"#2 '{bad}'"):
            game.parse_moves(text)


@pytest.mark.parametrize("size", [4, 20, 0, -15, 15.0, "15", True, None])
def test_size_is_validated(size):
    with pytest.raises(ValueError, match="size"):
        Gomoku(size=size)
    with pytest.raises(ValueError, match="size"):
        make_game("gomoku", size=size)


@pytest.mark.parametrize("size", [5, 9, 15, 19, np.int64(7)])
def test_sizes_in_range(size):
    game = make_game("gomoku", size=size)
    n = int(size)
    state = game.initial_state()
    assert game.size == n and type(game.size) is int
    assert game.num_actions == n * n and game.board_shape == (n, n)
    assert game.obs_shape == (3, n, n)
    assert state.dtype == np.int64 and state.shape == (8 + n * n,)
    assert state[H_GAME] == GOMOKU and state[H_SIZE] == n and state[H_TO_PLAY] == 0
    assert state[H_WINNER] == ONGOING and state[H_PLY] == 0
    assert game.last_move(state) is None
    assert game.legal_mask(state).all()


def test_default_is_15x15():
    game = make_game("gomoku")
    assert game.size == 15 and game.num_actions == 225 and repr(game) == "Gomoku(size=15)"


# ---- notation, views, observation -------------------------------------------


def test_notation():
    game = Gomoku()
    assert game.str_to_action("h8") == 7 * 15 + 7  # the centre
    assert game.str_to_action("a1") == 14 * 15  # bottom-left
    assert game.str_to_action("o15") == 14  # top-right
    assert game.str_to_action("A15") == 0
    assert [game.str_to_action(game.action_to_str(a)) for a in range(225)] == list(range(225))
    moves = "h8 i9 g7 a1 o15"
    assert game.format_moves(game.parse_moves(moves)) == moves
    assert Gomoku(size=19).action_to_str(0) == "a19"


def test_state_board_and_header():
    game = Gomoku()
    s = game.from_moves("h8 a1 o15")
    board = game.board(s)
    assert board.dtype == np.int8 and board.shape == (15, 15)
    assert board[7, 7] == 1 and board[14, 0] == 2 and board[0, 14] == 1
    assert int((board != 0).sum()) == 3
    np.testing.assert_array_equal(s[8:], board.reshape(-1))
    assert game.to_play(s) == 1 and game.ply(s) == 3
    assert game.last_move(s) == 14 and s[S_LAST_MOVE] == 14


def test_observation_is_from_the_movers_view():
    game = Gomoku(size=9)
    h = game.str_to_action
    obs = game.observation(game.initial_state())
    assert obs.shape == (3, 9, 9) and obs.dtype == np.float32 and not obs.any()

    one = game.from_moves("e5")  # White to move: Black's stone is the opponent's
    obs = game.observation(one)
    assert not obs[0].any()
    assert np.flatnonzero(obs[1]).tolist() == [h("e5")]
    assert np.flatnonzero(obs[2]).tolist() == [h("e5")]

    two = game.from_moves("e5 a1")  # Black to move again
    obs = game.observation(two)
    assert np.flatnonzero(obs[0]).tolist() == [h("e5")]
    assert np.flatnonzero(obs[1]).tolist() == [h("a1")]
    assert np.flatnonzero(obs[2]).tolist() == [h("a1")]


# ---- random play -------------------------------------------------------------


@pytest.mark.parametrize(("size", "seed"), [(5, 0), (5, 1), (6, 2), (9, 3), (15, 4), (19, 5)])
def test_random_playouts_end_and_agree_with_brute_force(size, seed):
    game = Gomoku(size=size)
    rng = np.random.default_rng(seed)
    state = game.initial_state()
    for ply in range(size * size):
        if game.is_terminal(state):
            break
        legal = game.legal_actions(state)
        assert len(legal) == size * size - ply
        state = game.apply(state, int(rng.choice(legal)))
        board = game.board(state)
        if not game.is_terminal(state):
            assert not has_five(board, 1) and not has_five(board, 2)
    assert game.is_terminal(state)
    board = game.board(state)
    winner = game.winner(state)
    if winner is None:
        assert (board != 0).all()
        assert not has_five(board, 1) and not has_five(board, 2)
    else:
        assert winner == 1 - game.to_play(state)  # the last mover
        assert has_five(board, winner + 1) and not has_five(board, 2 - winner)
        assert board.reshape(-1)[game.last_move(state)] == winner + 1

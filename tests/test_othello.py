"""Othello rules against published perft counts, published games and a plain reference."""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim.board import make_game
from sim.board.base import DRAW, H_PLY, H_TO_PLAY, H_WINNER, HEADER, ONGOING
from sim.board.othello import S_PASSES, Othello, new_state, perft

GAME = Othello()

# Aart Bik, "Perft for Reversi" (aartbik.com/MISC/reversi.html), from the 8x8 start;
# passes start to count at depth 9.
PUBLISHED_PERFT = {
    1: 4,
    2: 12,
    3: 56,
    4: 244,
    5: 1396,
    6: 8200,
    7: 55092,
    8: 390216,
    9: 3005288,
    10: 24571284,
}

# ---- a deliberately plain reference implementation (independent of the kernels) ----
DIRECTIONS = [(dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1) if (dr, dc) != (0, 0)]


def ref_flips(board: np.ndarray, r: int, c: int, me: int) -> list[tuple[int, int]]:
    n = board.shape[0]
    if board[r, c]:
        return []
    flips = []
    for dr, dc in DIRECTIONS:
        line, rr, cc = [], r + dr, c + dc
        while 0 <= rr < n and 0 <= cc < n and board[rr, cc] == 3 - me:
            line.append((rr, cc))
            rr, cc = rr + dr, cc + dc
        if line and 0 <= rr < n and 0 <= cc < n and board[rr, cc] == me:
            flips += line
    return flips


def ref_placements(board: np.ndarray, me: int) -> list[int]:
    n = board.shape[0]
    return [r * n + c for r in range(n) for c in range(n) if ref_flips(board, r, c, me)]


def ref_perft(board: np.ndarray, me: int, depth: int) -> int:
    """Bik's counting: a forced pass is a move; a finished game is one leaf."""
    if depth == 0:
        return 1
    moves = ref_placements(board, me)
    if not moves:
        if not ref_placements(board, 3 - me):
            return 1
        return ref_perft(board, 3 - me, depth - 1)
    total = 0
    n = board.shape[0]
    for cell in moves:
        r, c = divmod(cell, n)
        child = board.copy()
        for fr, fc in ref_flips(board, r, c, me):
            child[fr, fc] = me
        child[r, c] = me
        total += ref_perft(child, 3 - me, depth - 1)
    return total


def replay_case_coded(game: Othello, text: str) -> tuple[np.ndarray, int]:
    """Replay moves whose case gives the colour (upper Black, lower White); passes implied."""
    state, passes = game.initial_state(), 0
    for token in re.findall(r"[a-hA-H]\d", text):
        if game.to_play(state) != (0 if token[0].isupper() else 1):
            state = game.apply(state, game.num_actions - 1)  # raises unless forced
            passes += 1
        state = game.apply(state, game.str_to_action(token))
    return state, passes


# ---- start position, options, notation ----------------------------------------------
def test_start_position_and_first_moves() -> None:
    s = GAME.initial_state()
    board = GAME.board(s)
    d4, e4, d5, e5 = (3, 3), (3, 4), (4, 3), (4, 4)
    assert board[d4] == 2 and board[e5] == 2 and board[e4] == 1 and board[d5] == 1
    assert (board != 0).sum() == 4 and GAME.to_play(s) == 0
    assert GAME.num_actions == 65 and GAME.obs_shape == (3, 8, 8)
    assert sorted(GAME.action_to_str(a) for a in GAME.legal_actions(s)) == ["c4", "d3", "e6", "f5"]
    assert GAME.stone_counts(s) == (2, 2)


def test_sizes_and_registry() -> None:
    g6 = make_game("othello", size=6)
    assert isinstance(g6, Othello) and g6.num_actions == 37 and g6.obs_shape == (3, 6, 6)
    assert sorted(g6.action_to_str(a) for a in g6.legal_actions(g6.initial_state())) == [
        "b3",
        "c2",
        "d5",
        "e4",
    ]
    assert make_game("othello").size == 8
    for bad in (5, 2, 18, 0, True, 8.0, "8"):
        with pytest.raises(ValueError, match="size"):
            Othello(size=bad)
    with pytest.raises(ValueError):
        new_state(7)


def test_notation_round_trip_and_orientation() -> None:
    for a in range(GAME.num_actions):
        assert GAME.str_to_action(GAME.action_to_str(a)) == a
    assert GAME.str_to_action("a1") == 0 and GAME.str_to_action("H8") == 63
    assert GAME.str_to_action("d3") == 2 * 8 + 3 and GAME.str_to_action("pass") == 64
    for bad in ("i1", "a9", "a0", "pas", "", "d"):
        with pytest.raises(ValueError, match="cannot read move"):
            GAME.str_to_action(bad)
    with pytest.raises(ValueError, match="out of range"):
        GAME.action_to_str(65)


def test_split_moves_spaced_and_concatenated() -> None:
    expected = GAME.parse_moves("f5 d6 c3 d3 c4")
    assert GAME.parse_moves("f5d6c3d3c4") == expected
    assert GAME.parse_moves("F5D6C3D3C4") == expected
    assert GAME.parse_moves(" F5, d6;C3  d3 c4\n") == expected
    with pytest.raises(ValueError, match=r"bad move #3 'x9'"):
        GAME.parse_moves("f5d6x9")
    with pytest.raises(ValueError, match=r"bad move #2 'f5'"):
        GAME.parse_moves("f5f5")


def test_render_text_rows_from_top() -> None:
    lines = GAME.render_text(GAME.initial_state()).splitlines()
    assert lines[0].split() == list("abcdefgh")
    assert lines[1].split()[0] == "1" and lines[8].split()[0] == "8"
    assert lines[4].split() == ["4", ".", ".", ".", "O", "X", ".", ".", "."]
    assert "player_0 (X) to move" in lines[-1] and "X 2 - O 2" in lines[-1]


# ---- perft -----------------------------------------------------------------------------
def test_perft_8x8_published_to_depth_9() -> None:
    s = GAME.initial_state()
    for depth in range(1, 10):
        assert perft(s, depth) == PUBLISHED_PERFT[depth], depth


@pytest.mark.slow
def test_perft_8x8_published_depth_10() -> None:
    assert perft(GAME.initial_state(), 10) == PUBLISHED_PERFT[10]


@pytest.mark.parametrize("size, depth", [(4, 9), (6, 5), (10, 4)])
def test_perft_other_sizes_match_reference(size: int, depth: int) -> None:
    # No independent published 6x6 numbers were found; compare with the plain reference.
    s = new_state(size)
    board = Othello(size).board(s).astype(np.int64)
    assert perft(s, depth) == ref_perft(board, 1, depth)


# ---- published games -------------------------------------------------------------------
def test_takizawa_perfect_game_is_a_32_32_draw() -> None:
    # Optimal line from Takizawa, "Othello is solved" (arXiv:2310.19387), run together.
    record = (
        "F5D6C3D3C4F4F6F3E6E7D7C5B6D8C6C7D2B5A5A6A7G5E3B4C8G6G4C2E8D1F7E2G3H4F1E1"
        "F2G1B1F8G8B3H3B2H5B7A3A4A1A2C1H2H1G2B8A8G7H8H7H6"
    )
    actions = GAME.parse_moves(record)
    assert len(actions) == 60
    s = GAME.from_moves(record)
    assert s[H_WINNER] == DRAW and GAME.winner(s) is None and GAME.returns(s) == (0.0, 0.0)
    assert GAME.stone_counts(s) == (32, 32) and (GAME.board(s) != 0).all()
    assert GAME.format_moves(actions) == " ".join(re.findall("..", record.lower()))


def test_wipeout_game_with_23_forced_passes() -> None:
    # Warren D. Smith, math-fun list: White wins "64-0" (empties go to the winner),
    # Black passing 23 times; upper case Black, lower case White.
    record = (
        "F5d6C4g5D7c7H5d8B8b7B6a7b5A6a5b4B3c6E8f8C8a8e7a4b2A2c2D2d1e2F2c5c3a1a3e6d3f6"
        "F7f1g2H2e3F4b1g1c1e1g8g7f3h1h3h4h6"
    )
    s, passes = replay_case_coded(GAME, record)
    assert passes == 23
    assert GAME.winner(s) == 1 and GAME.stone_counts(s) == (0, 59)
    assert s[H_PLY] == 55 + 23


def test_eleven_move_game_ends_with_both_sides_stuck() -> None:
    # Also from Smith's post: the game ends after 11 moves, Black 14 - White 1.
    s = GAME.from_moves("f5 f4 c3 e6 f7 g6 g4 e8 g8 g5 h5")
    expected = [
        "........",
        "........",
        "..X.....",
        "...XXXX.",
        "...XXXXX",
        "....X.X.",
        ".....X..",
        "....O.X.",
    ]
    glyph = {0: ".", 1: "X", 2: "O"}
    assert ["".join(glyph[int(v)] for v in row) for row in GAME.board(s)] == expected
    assert GAME.is_terminal(s) and GAME.winner(s) == 0 and GAME.stone_counts(s) == (14, 1)
    assert not GAME.legal_mask(s).any()
    before = s.copy()
    for move in ("a1", "pass"):
        with pytest.raises(ValueError, match="after the game ended"):
            GAME.apply(s, GAME.str_to_action(move))
    assert np.array_equal(s, before)


def test_feinstein_perfect_6x6_game_white_wins_20_16() -> None:
    # Feinstein's 1993 6x6 solution, shifted from columns b-g / rows 2-7 to a-f / 1-6;
    # Black's one pass (before move 31) is implied by the published numbering.
    g6 = Othello(size=6)
    s = g6.from_moves(
        "c2 b4 c5 d2 e4 e3 d1 c1 b1 d5 d6 f4 b3 b2 f3 f2 e2 b6 a4 c6 a6 a2 b5 "
        "a5 e6 e5 a3 a1 f5 f6 pass e1 f1"
    )
    assert g6.winner(s) == 1 and g6.stone_counts(s) == (16, 20)


# ---- move rules ----------------------------------------------------------------------
def test_flips_in_each_direction() -> None:
    n, centre = 8, (3, 3)
    for dr, dc in DIRECTIONS:
        board = np.zeros((n, n), dtype=np.int64)
        ray = [(centre[0] + k * dr, centre[1] + k * dc) for k in (1, 2, 3)]
        board[ray[0]] = board[ray[1]] = 2
        board[ray[2]] = 1
        board[7, 7 if (dr, dc) != (1, 1) else 0] = 2  # an unbracketed stone stays white
        s = GAME.state_from_board(board, to_play=0)
        assert GAME.legal_actions(s).tolist() == [centre[0] * n + centre[1]], (dr, dc)
        after = GAME.apply(s, centre[0] * n + centre[1])
        expected = board.copy()
        expected[centre] = expected[ray[0]] = expected[ray[1]] = 1
        assert np.array_equal(GAME.board(after), expected), (dr, dc)
        assert GAME.stone_counts(after) == (4, 1)


def test_all_eight_lines_flip_at_once() -> None:
    board = np.zeros((8, 8), dtype=np.int64)
    for dr, dc in DIRECTIONS:
        board[3 + dr, 3 + dc] = board[3 + 2 * dr, 3 + 2 * dc] = 2
        board[3 + 3 * dr, 3 + 3 * dc] = 1
    board[7, 7] = 2  # beyond the black cap on the diagonal: not bracketed
    s = GAME.apply(GAME.state_from_board(board, 0), GAME.str_to_action("d4"))
    assert GAME.stone_counts(s) == (8 + 16 + 1, 1) and GAME.board(s)[7, 7] == 2
    # White's lone corner stone brackets nothing and nothing can bracket it: game over.
    assert GAME.is_terminal(s) and GAME.winner(s) == 0


def test_illegal_moves_raise_and_leave_state_unchanged() -> None:
    s = GAME.initial_state()
    before = s.copy()
    cases = [
        (GAME.str_to_action("d4"), "'d4'.*occupied"),
        (GAME.str_to_action("a1"), "'a1'.*flips no stones"),
        (GAME.str_to_action("pass"), "'pass'.*no placement"),
        (-1, "action -1"),
        (65, "action 65"),
        (3.0, "must be an int"),
        (True, "int"),
    ]
    for action, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            GAME.apply(s, action)
        assert np.array_equal(s, before)
    assert not any(GAME.rules.is_legal(s, a) for a in (-1, 65, 1000))


def test_forced_pass_then_game_over() -> None:
    # White (to move) cannot bracket Black's corner stone; Black can play d1.
    board = np.zeros((8, 8), dtype=np.int64)
    board[0, 0], board[0, 1], board[0, 2] = 1, 2, 2
    s = GAME.state_from_board(board, to_play=1)
    assert GAME.legal_actions(s).tolist() == [64]
    assert not GAME.observation(s)[2].any()
    s = GAME.apply(s, 64)
    assert s[S_PASSES] == 1 and GAME.to_play(s) == 0
    assert [GAME.action_to_str(a) for a in GAME.legal_actions(s)] == ["d1"]
    with pytest.raises(ValueError, match="'pass'"):
        GAME.apply(s, 64)
    s = GAME.apply(s, GAME.str_to_action("d1"))
    assert s[S_PASSES] == 0 and GAME.is_terminal(s) and GAME.winner(s) == 0
    assert GAME.returns(s) == (1.0, -1.0) and GAME.stone_counts(s) == (4, 0)


def test_state_from_board_scores_finished_positions() -> None:
    full = np.ones((6, 6), dtype=np.int64)
    full[:3] = 2
    s = Othello(6).state_from_board(full)
    assert s[H_WINNER] == DRAW
    with pytest.raises(ValueError):
        GAME.state_from_board(np.full((8, 8), 3))
    with pytest.raises(ValueError):
        GAME.state_from_board(np.zeros((6, 6)))


# ---- random play ---------------------------------------------------------------------
@pytest.mark.parametrize("size, games", [(4, 100), (6, 60), (8, 50), (10, 4)])
def test_random_games_match_reference_and_score_consistently(size: int, games: int) -> None:
    game = Othello(size)
    rng = np.random.default_rng(size)
    cells = size * size
    for _ in range(games):
        s = game.initial_state()
        last_was_pass = False
        for _ in range(3 * cells):  # far above any real game length
            if game.is_terminal(s):
                break
            board = game.board(s).astype(np.int64)
            me = game.to_play(s) + 1
            expected = ref_placements(board, me) or [cells]
            legal = game.legal_actions(s).tolist()
            assert legal == expected
            assert np.array_equal(
                np.flatnonzero(game.observation(s)[2]), [a for a in expected if a < cells]
            )
            action = int(rng.choice(legal))
            assert not (last_was_pass and action == cells), "two passes in a row"
            last_was_pass = action == cells
            s = game.apply(s, action)
            if action < cells:
                r, c = divmod(action, size)
                for fr, fc in ref_flips(board, r, c, me):
                    board[fr, fc] = me
                board[r, c] = me
            assert np.array_equal(game.board(s), board)
        assert game.is_terminal(s)
        board = game.board(s)
        x, o = int((board == 1).sum()), int((board == 2).sum())
        assert game.stone_counts(s) == (x, o)
        assert game.winner(s) == (0 if x > o else 1 if o > x else None)
        assert not ref_placements(board.astype(np.int64), 1)
        assert not ref_placements(board.astype(np.int64), 2)


def test_observation_is_from_the_movers_view() -> None:
    s = GAME.apply(GAME.initial_state(), GAME.str_to_action("d3"))
    obs = GAME.observation(s)
    board = GAME.board(s)
    assert obs.dtype == np.float32 and s[H_TO_PLAY] == 1
    assert np.array_equal(obs[0], board == 2) and np.array_equal(obs[1], board == 1)
    legal = GAME.legal_mask(s)
    assert np.array_equal(obs[2].reshape(-1), legal[:64])


def test_symmetries_keep_legal_moves_consistent() -> None:
    rng = np.random.default_rng(7)
    s = GAME.initial_state()
    for _ in range(12):
        s = GAME.apply(s, int(rng.choice(GAME.legal_actions(s))))
    assert s[H_WINNER] == ONGOING
    policy = GAME.legal_mask(s).astype(np.float32)
    pairs = GAME.symmetries(GAME.observation(s), policy)
    assert len(pairs) == 8
    seen = set()
    for planes, pol in pairs:
        mover = GAME.to_play(s) + 1
        board = np.where(planes[0] > 0, mover, np.where(planes[1] > 0, 3 - mover, 0))
        t = GAME.state_from_board(board, to_play=GAME.to_play(s))
        # The transformed policy is the legal mask of the transformed position ...
        assert np.array_equal(GAME.legal_mask(t), pol.astype(bool))
        # ... and the transformed planes are that position's observation.
        assert np.array_equal(GAME.observation(t), planes)
        seen.add(planes.tobytes())
    assert len(seen) > 1
    # A pass stays a pass under every symmetry.
    board = np.zeros((8, 8), dtype=np.int64)
    board[0, 0], board[0, 1], board[0, 2] = 1, 2, 2
    forced = GAME.state_from_board(board, to_play=1)
    for _, pol in GAME.symmetries(GAME.observation(forced), GAME.legal_mask(forced)):
        assert pol[64] and pol.sum() == 1


def test_kernel_state_layout() -> None:
    s = GAME.apply(GAME.initial_state(), GAME.str_to_action("f5"))
    assert s.dtype == np.int64 and s.shape == (HEADER + 64,)
    assert np.array_equal(s[HEADER:].reshape(8, 8), GAME.board(s))
    assert s[H_PLY] == 1 and GAME.stone_counts(s) == (4, 1)

"""The Connect Four solver against Pascal Pons' published benchmark scores and hand-made
positions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.board.connect4 import Connect4, alignment
from sim.board.connect4_solver import (
    INVALID,
    SolverBudgetExceeded,
    analyze,
    clear_table,
    last_node_count,
    solve,
    solve_many,
    solve_state,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "connect4"
# A whole game that ends in a draw (found by random play avoiding fours): the last
# stone goes in column 2, and neither side can get four with the last two stones.
DRAWN_GAME = "257771314744647214154617633623313656555222"


def load(name: str) -> tuple[list[str], np.ndarray]:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"Pons' test set {path} not found (expected ../shared beside the checkout)")
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    return [r[0] for r in rows], np.array([int(r[1]) for r in rows])


@pytest.fixture(autouse=True)
def fresh_table():
    clear_table()


@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1"])
def test_every_benchmark_position_scores_exactly(name):
    moves, expected = load(name)
    assert len(moves) == 1000
    scores = solve_many(moves)
    wrong = [(m, int(s), int(e)) for m, s, e in zip(moves, scores, expected, strict=True) if s != e]
    assert not wrong, f"{len(wrong)} wrong, e.g. {wrong[:3]}"


@pytest.mark.parametrize("name", ["Test_L3_R1", "Test_L2_R1"])
def test_weak_mode_gives_the_sign_of_the_score(name):
    moves, expected = load(name)
    assert (solve_many(moves, weak=True) == np.sign(expected)).all()
    for m, e in zip(moves[:50], expected[:50], strict=True):
        assert solve(m, weak=True) == np.sign(e)


def test_single_solve_calls_match_the_data_with_and_without_clearing():
    moves, expected = load("Test_L2_R1")
    for i, (m, e) in enumerate(zip(moves[:100], expected[:100], strict=True)):
        if i % 2:
            clear_table()
        assert solve(m) == e, m


def test_analyze_agrees_with_solve_column_by_column():
    game = Connect4()
    for name in ("Test_L3_R1", "Test_L2_R1"):
        moves, expected = load(name)
        for m, e in zip(moves[:40], expected[:40], strict=True):
            scores = analyze(m)
            assert scores.shape == (7,)
            assert scores.max() == e, m
            legal = game.legal_mask(game.from_moves(m))
            assert ((scores == INVALID) == ~legal).all()
            for col in np.flatnonzero(legal):
                child = m + str(col + 1)
                try:
                    expected_child = -solve(child)
                except ValueError as err:  # the move wins at once, or fills the board
                    expected_child = (43 - len(m)) // 2 if "won" in str(err) else 0
                assert scores[col] == expected_child, (m, col)
            assert (np.sign(analyze(m, weak=True)[legal]) == np.sign(scores[legal])).all()


def test_state_entry_points_match_the_move_string_and_leave_the_state_alone():
    game = Connect4()
    moves, expected = load("Test_L2_R1")
    for m, e in zip(moves[:20], expected[:20], strict=True):
        state = game.from_moves(m)
        before = state.copy()
        assert solve_state(state) == e
        assert (analyze(state) == analyze(m)).all()
        assert (state == before).all()


def test_hand_checkable_positions():
    # First player stacks column 1 three times: playing it again wins with 4 stones.
    assert solve("121212") == (43 - 6) // 2 == 18
    # 1, 2, 3 and 6 on the bottom row: column 4 wins with the 5th stone.
    assert solve("67112233") == (43 - 8) // 2 == 17
    assert solve("67112233", weak=True) == 1
    # Columns 3, 4 each hold a stone of both: playing 5 makes an open three on the
    # bottom row, a double threat, so the mover wins with its 4th stone...
    assert solve("3344") == 18
    # ...and after it every reply loses to the 4th stone.
    assert solve("33445") == -18
    assert (analyze("33445") == -18).all()
    assert solve("33445", weak=True) == -1
    # Near the end of a drawn game only column 2 is left and no four is possible.
    final = Connect4().from_moves(DRAWN_GAME)
    assert not alignment(final[5]) and not alignment(final[5] ^ final[6])
    assert solve(DRAWN_GAME[:-1]) == 0
    assert solve(DRAWN_GAME[:-2]) == 0
    expected = np.full(7, INVALID)
    expected[1] = 0
    assert (analyze(DRAWN_GAME[:-1]) == expected).all()


@pytest.mark.parametrize(
    "bad, words",
    [
        ("128", "'8'"),
        ("0", "'0'"),
        ("12a4", "'a'"),
        ("4 4", "' '"),
        ("1111111", "full column"),
        ("1212121", "already won"),
        ("121212134", "#8 '3'"),
        (DRAWN_GAME, "board is full"),
    ],
)
def test_malformed_move_strings_raise_value_error_naming_the_problem(bad, words):
    with pytest.raises(ValueError, match="connect4 solver") as err:
        solve(bad)
    assert words in str(err.value)
    with pytest.raises(ValueError):
        analyze(bad)


def test_bad_states_raise_value_error():
    game = Connect4()
    over = game.from_moves("1212121")
    with pytest.raises(ValueError, match="over"):
        solve_state(over)
    with pytest.raises(ValueError, match="game id"):
        solve_state(np.array([1, 0, -1, 0, 3, 0, 0, 0], dtype=np.int64))
    broken = game.from_moves("44")
    broken[3] = 5  # ply count no longer matches the stones
    with pytest.raises(ValueError, match="inconsistent"):
        solve_state(broken)


def test_node_budget_raises_and_leaves_the_table_sound():
    with pytest.raises(SolverBudgetExceeded):
        solve("", max_nodes=1000)
    assert last_node_count() == 1001
    with pytest.raises(SolverBudgetExceeded):
        analyze("44", max_nodes=500)
    moves, expected = load("Test_L2_R1")
    assert (solve_many(moves[:200], clear_between=False) == expected[:200]).all()
    assert solve(moves[0], max_nodes=10**7) == expected[0]


def test_table_persists_between_calls_until_cleared():
    moves, _ = load("Test_L2_R1")
    solve(moves[1])
    first = last_node_count()
    solve(moves[1])
    again = last_node_count()
    clear_table()
    solve(moves[1])
    assert again < first == last_node_count()

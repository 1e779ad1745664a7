"""selfplay/: matches, backends, Wilson intervals, ratings and the Connect Four mistake rate."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest

from selfplay import (
    BuiltinPlayer,
    FunctionPlayer,
    IllegalMoveError,
    PlayerBase,
    ProcessBackend,
    RatingTable,
    SerialBackend,
    count_mistakes,
    make_positions,
    mistake_rate,
    play_game,
    play_match,
    read_positions,
    wilson_interval,
)
from selfplay.mistakes import plies_left
from sim.board import make_game
from sim.board.connect4_solver import solve

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "connect4"
L3 = DATA / "Test_L3_R1"
L2 = DATA / "Test_L2_R1"
needs_data = pytest.mark.skipif(not L3.is_file(), reason=f"shared data absent: {L3} not found")

TICTACTOE = make_game("tictactoe")
CONNECT4 = make_game("connect4")
RNG = np.random.default_rng(0)  # for deterministic players that ignore it


# Module-level so that they pickle by reference for the process pool.
def lowest_legal(state: np.ndarray, rng: np.random.Generator) -> int:
    return int(np.flatnonzero(TICTACTOE.legal_mask(state))[0])


def highest_legal(state: np.ndarray, rng: np.random.Generator) -> int:
    return int(np.flatnonzero(TICTACTOE.legal_mask(state))[-1])


def first_column(state: np.ndarray, rng: np.random.Generator) -> int:
    return int(np.flatnonzero(CONNECT4.legal_mask(state))[0])


# ---- Wilson interval --------------------------------------------------------------------
def wilson_by_quadratic(successes: float, n: int, z: float) -> tuple[float, float]:
    """The Wilson bounds as the roots p of (phat - p)^2 = z^2 p (1 - p) / n."""
    phat = successes / n
    k = z * z / n
    roots = np.roots([1 + k, -(2 * phat + k), phat * phat]).real
    return float(roots.min()), float(roots.max())


@pytest.mark.parametrize(
    "successes, n, known",
    [(0, 10, (0.0, 0.2775)), (5, 10, (0.2366, 0.7634)), (10, 10, (0.7225, 1.0))],
)
def test_wilson_interval_against_quadratic_and_known_values(successes, n, known):
    z = statistics.NormalDist().inv_cdf(0.975)
    lo, hi = wilson_interval(successes, n)
    exp_lo, exp_hi = wilson_by_quadratic(successes, n, z)
    assert lo == pytest.approx(exp_lo, abs=1e-9) and hi == pytest.approx(exp_hi, abs=1e-9)
    assert lo == pytest.approx(known[0], abs=1e-4) and hi == pytest.approx(known[1], abs=1e-4)


def test_wilson_interval_fractional_and_bad_input():
    z = statistics.NormalDist().inv_cdf(0.975)
    lo, hi = wilson_interval(7.5, 20)  # 7 wins and a draw counted as half
    assert (lo, hi) == pytest.approx(wilson_by_quadratic(7.5, 20, z), abs=1e-9)
    for bad in [(1, 0), (11, 10), (-1, 10)]:
        with pytest.raises(ValueError):
            wilson_interval(*bad)


# ---- games and matches ------------------------------------------------------------------
def test_first_mover_wins_between_lowest_and_highest_and_sides_swap():
    # lowest plays 0, 1, 2 (top row), highest 8, 7, 6 (bottom row): the first mover
    # completes its row at ply 5, whoever it is.
    low, high = FunctionPlayer("low", lowest_legal), FunctionPlayer("high", highest_legal)
    rec = play_game(TICTACTOE, (low, high), np.random.default_rng(0))
    assert rec.actions == (0, 8, 1, 7, 2) and rec.winner == 0 and rec.length == 5
    assert rec.players == ("low", "high") and rec.returns == (1.0, -1.0)

    swapped = play_match(TICTACTOE, low, high, games=4, seed=3)
    assert swapped.seats == (0, 1, 0, 1)
    assert (swapped.wins, swapped.draws, swapped.losses) == (2, 0, 2)
    assert [r.players for r in swapped.records] == [("low", "high"), ("high", "low")] * 2
    assert swapped.score == 0.5

    fixed = play_match(TICTACTOE, low, high, games=4, seed=3, swap_sides=False)
    assert fixed.seats == (0, 0, 0, 0) and (fixed.wins, fixed.losses) == (4, 0)
    assert fixed.interval == wilson_interval(4, 4)


def test_match_is_deterministic_per_seed_and_seeds_differ():
    a = BuiltinPlayer("random", TICTACTOE, label="r1")
    b = BuiltinPlayer("random", TICTACTOE, label="r2")
    first = play_match(TICTACTOE, a, b, games=12, seed=7)
    again = play_match(TICTACTOE, a, b, games=12, seed=7)
    other = play_match(TICTACTOE, a, b, games=12, seed=8)
    assert first == again
    assert [r.actions for r in first.records] != [r.actions for r in other.records]
    assert first.wins + first.draws + first.losses == 12
    # Game i draws from the i-th child of SeedSequence(seed), a playing seat 0 when i is even.
    children = np.random.SeedSequence(7).spawn(12)
    for i in (0, 5, 11):
        seats = (a, b) if i % 2 == 0 else (b, a)
        alone = play_game(TICTACTOE, seats, np.random.default_rng(children[i]))
        assert alone == first.records[i]
    assert first.score == (first.wins + first.draws / 2) / 12


def test_process_backend_matches_serial():
    greedy = BuiltinPlayer("greedy", TICTACTOE)
    rand = BuiltinPlayer("random", TICTACTOE)
    serial = play_match(TICTACTOE, greedy, rand, games=10, seed=11, backend=SerialBackend())
    with ProcessBackend(workers=2) as pool:
        parallel = play_match(TICTACTOE, greedy, rand, games=10, seed=11, backend=pool)
    assert parallel == serial


def test_illegal_move_names_the_player_and_seat():
    stubborn = FunctionPlayer("stubborn", lambda s, r: 0)  # plays cell 0 every time
    rand = BuiltinPlayer("random", TICTACTOE)
    with pytest.raises(IllegalMoveError, match="'stubborn' \\(seat 0\\).*ply 2") as info:
        play_game(TICTACTOE, (stubborn, rand), np.random.default_rng(0))
    assert (info.value.player, info.value.seat, info.value.ply) == ("stubborn", 0, 2)
    with pytest.raises(IllegalMoveError, match="'stubborn' \\(seat 1\\)") as info:
        play_game(TICTACTOE, (FunctionPlayer("low", lowest_legal), stubborn), RNG)
    assert info.value.ply == 1  # lowest took cell 0 first
    wordy = FunctionPlayer("wordy", lambda s, r: "a1")
    with pytest.raises(IllegalMoveError, match="'wordy'.*must be an int"):
        play_game(TICTACTOE, (wordy, rand), np.random.default_rng(0))


def test_hooks_reset_and_observe_every_move_once():
    class Follower(PlayerBase):
        def __init__(self) -> None:
            self.name, self.resets, self.seen = "follower", 0, []

        def act(self, state, rng):
            move = lowest_legal(state, rng)
            state[:] = 0  # scribbling on its copy must not disturb the game
            return move

        def reset(self):
            self.resets += 1
            self.seen = []

        def observe(self, state, action):
            self.seen.append((TICTACTOE.ply(state), action))

    f = Follower()
    record = play_game(TICTACTOE, (f, FunctionPlayer("high", highest_legal)), RNG)
    assert record.actions == (0, 8, 1, 7, 2)
    assert f.resets == 1 and f.seen == list(enumerate(record.actions))
    # One object in both seats: each hook fires once per event.
    selfgame = play_game(TICTACTOE, (f, f), RNG)
    assert f.resets == 2 and f.seen == list(enumerate(selfgame.actions))


# ---- ratings ----------------------------------------------------------------------------
def test_ratings_winner_rises_and_references_stay_frozen():
    table = RatingTable(reference=["random"])
    prior = table.rating("random")
    for _ in range(15):
        table.record("strong", "weak")
        table.record("strong", "random")
        table.record("random", "weak")
    strong, weak, rand = table.rating("strong"), table.rating("weak"), table.rating("random")
    assert strong.ordinal > rand.ordinal > weak.ordinal
    assert strong.mu > 25.0 > weak.mu
    assert (rand.mu, rand.sigma) == (prior.mu, prior.sigma)  # frozen anchor
    assert (rand.wins, rand.losses, rand.games, rand.reference) == (15, 15, 30, True)
    assert [r.name for r in table.table()] == ["strong", "random", "weak"]
    assert "random *" in str(table)


def test_ratings_draws_freeze_and_round_trip():
    table = RatingTable()
    table.record("a", "b", draw=True)
    a, b = table.rating("a"), table.rating("b")
    assert a.mu == pytest.approx(25.0) and b.mu == pytest.approx(25.0)
    assert a.sigma < 25.0 / 3 and a.draws == b.draws == 1
    table.freeze("a")
    before = table.rating("a")
    table.record("b", "a")
    assert (table.rating("a").mu, table.rating("a").sigma) == (before.mu, before.sigma)
    assert table.rating("b").mu > 25.0
    copy = RatingTable.from_dict(table.to_dict())
    assert copy.table() == table.table()
    with pytest.raises(ValueError, match="itself"):
        table.record("a", "a")
    with pytest.raises(ValueError, match="unknown player"):
        table.rating("nobody")


def test_record_match_counts_every_game():
    low, high = FunctionPlayer("low", lowest_legal), FunctionPlayer("high", highest_legal)
    table = RatingTable()
    table.record_match(play_match(TICTACTOE, low, high, games=6, seed=0, swap_sides=False))
    assert (table.rating("low").wins, table.rating("high").losses) == (6, 6)
    assert table.rating("low").ordinal > table.rating("high").ordinal


# ---- Connect Four mistake rate ----------------------------------------------------------
def independent_mistakes(path: Path, limit: int, choose) -> list[int]:
    """Mistake lines recomputed with solve() on move strings, not analyze()."""
    lines = []
    for number, text in enumerate(path.read_text().splitlines()[:limit], start=1):
        moves, score = text.split()
        col = choose(CONNECT4.from_moves(moves), RNG)
        child = CONNECT4.from_moves(moves + str(col + 1))
        if CONNECT4.is_terminal(child):
            value = 0 if CONNECT4.winner(child) is None else 1  # the mover just won or drew
        else:
            value = -int(np.sign(solve(moves + str(col + 1), weak=True)))
        if value < int(np.sign(int(score))):
            lines.append(number)
    return lines


@needs_data
def test_solver_player_makes_no_mistakes():
    report = mistake_rate(BuiltinPlayer("solver", CONNECT4), L3, limit=50)
    assert (report.positions, report.mistakes, report.rate) == (50, 0, 0.0)
    assert report.interval == wilson_interval(0, 50)


@needs_data
def test_first_column_player_mistakes_match_recount():
    report = mistake_rate(first_column, L3, limit=50)  # a bare policy function
    expected = independent_mistakes(L3, 50, first_column)
    assert report.mistakes > 0
    assert list(report.mistake_lines) == expected
    assert report.rate == len(expected) / 50 and report.player == "first_column"
    assert report.to_dict()["mistakes"] == len(expected)


def test_position_file_errors(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(FileNotFoundError, match=str(missing)):
        read_positions(missing)
    good = "2252576253462244111563365343671351441 -1\n"
    cases = {
        "4453\n": "line 2: expected 'MOVES SCORE'",
        "4453 x\n": "line 2: the score 'x'",
        "4483 0\n": "line 2: .*column digit",
        "1111111 0\n": "line 2: .*full",
        "1212121 0\n": "line 2: the game is already over",
        "12121212 0\n": "line 2: .*after the game ended",
    }
    for bad, message in cases.items():
        path = tmp_path / "bad"
        path.write_text(good + bad)
        with pytest.raises(ValueError, match=message):
            read_positions(path)
    path = tmp_path / "ok"
    path.write_text(good + "\n" + good.replace(" -1", " 5"))
    assert [p.line for p in read_positions(path)] == [1, 3]
    assert len(read_positions(path, limit=1)) == 1
    # The solver says the second position is lost for the mover, not won: rejected.
    with pytest.raises(ValueError, match="line 3: the file's score 5 disagrees"):
        mistake_rate(first_column, path)
    positions = read_positions(path, limit=1)
    full = int(np.flatnonzero(~CONNECT4.legal_mask(positions[0].state))[0])
    with pytest.raises(ValueError, match="line 1: 'p' chose full column"):
        count_mistakes(positions, [full], player="p")


@needs_data
def test_pons_middle_game_set_fits_plies_left():
    """Under perfect play Test_L2_R1 positions end within 14 plies (a draw or a
    last-stone win after 28), Test_L3_R1 ones within 13; and some take that long."""
    for path, most in ((L2, 14), (L3, 13)):
        left = [plies_left(len(p.moves), p.score) for p in read_positions(path)]
        assert min(left) >= 1 and max(left) == most, path.name


def test_made_positions_are_exact_and_like_pons_middle_game(tmp_path):
    lines = make_positions(40, seed=3, exclude=["4"])
    assert lines == make_positions(40, seed=3, exclude=["4"])  # deterministic
    moves = [line.split()[0] for line in lines]
    assert len(set(moves)) == 40
    for line in lines[:10]:
        m, score = line.split()
        n, score = len(m), int(score)
        assert 15 <= n <= 28 and score == solve(m)
        assert score != (43 - n) // 2 and plies_left(n, score) <= 14
    path = tmp_path / "val"
    path.write_text("\n".join(lines) + "\n")
    assert len(read_positions(path)) == 40  # the reader takes them
    with pytest.raises(ValueError, match="max_left"):
        make_positions(5, max_left=0)

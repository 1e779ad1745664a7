"""Go rules: captures, suicide, ko and positional superko, passes, Tromp-Taylor scoring.

Positions are worked out by hand; random games are checked move by move against a
deliberately plain reference below, which compares whole boards (no hashing) for superko.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.board import make_game
from sim.board.base import DRAW, H_PLY, H_SIZE, H_TO_PLAY, H_WINNER, HEADER, ONGOING
from sim.board.go import (
    S_HASH,
    SUICIDE,
    SUPERKO,
    Go,
    _label_groups,
    _play_outcome,
    board_hash,
    legal_mask_into,
    move_status,
    new_state,
    play,
    score,
)

GAME = Go()
GLYPH = {".": 0, "X": 1, "O": 2}


def picture(rows: str) -> np.ndarray:
    """A board from rows of ``. X O`` (row 0 at the top), spaces ignored."""
    lines = [line.replace(" ", "") for line in rows.strip().splitlines()]
    return np.array([[GLYPH[ch] for ch in line] for line in lines], dtype=np.int64)


def play_moves(game: Go, text: str, state: np.ndarray | None = None) -> np.ndarray:
    state = game.initial_state() if state is None else state
    for token in game.split_moves(text):
        state = game.apply(state, game.str_to_action(token))
    return state


def at(game: Go, state: np.ndarray, point: str) -> int:
    """0, 1 (Black) or 2 (White) on GTP ``point``."""
    return int(game.board(state).reshape(-1)[game.str_to_action(point)])


# ---- a plain reference: tuples for boards, sets for groups ---------------------------
def ref_neighbors(n: int, p: int) -> list[int]:
    r, c = divmod(p, n)
    return [
        rr * n + cc
        for rr, cc in ((r - 1, c), (r + 1, c), (r, c - 1), (r, c + 1))
        if 0 <= rr < n and 0 <= cc < n
    ]


def ref_group(board: list[int], n: int, p: int) -> tuple[set[int], set[int]]:
    colour, stones, libs, todo = board[p], {p}, set(), [p]
    while todo:
        q = todo.pop()
        for r in ref_neighbors(n, q):
            if board[r] == 0:
                libs.add(r)
            elif board[r] == colour and r not in stones:
                stones.add(r)
                todo.append(r)
    return stones, libs


def ref_play(board: tuple[int, ...], n: int, p: int, colour: int) -> tuple[int, ...] | None:
    """The board after ``colour`` plays on empty ``p``, or None for suicide."""
    b = list(board)
    b[p] = colour
    for q in ref_neighbors(n, p):
        if b[q] == 3 - colour:
            stones, libs = ref_group(b, n, q)
            if not libs:
                for s in stones:
                    b[s] = 0
    return tuple(b) if ref_group(b, n, p)[1] else None


def ref_legal(board: tuple[int, ...], n: int, colour: int, seen: set) -> set[int]:
    legal = {n * n}
    for p in range(n * n):
        if board[p] == 0:
            after = ref_play(board, n, p, colour)
            if after is not None and after not in seen:
                legal.add(p)
    return legal


def ref_area(board: tuple[int, ...], n: int) -> tuple[int, int]:
    counts = [0, 0, 0]
    seen: set[int] = set()
    for p in range(n * n):
        if board[p]:
            counts[board[p]] += 1
        elif p not in seen:
            region, reach, todo = {p}, set(), [p]
            while todo:
                q = todo.pop()
                for r in ref_neighbors(n, q):
                    if board[r]:
                        reach.add(board[r])
                    elif r not in region:
                        region.add(r)
                        todo.append(r)
            seen |= region
            if len(reach) == 1:
                counts[reach.pop()] += len(region)
    return counts[1], counts[2]


# ---- options and notation ------------------------------------------------------------
def test_registry_defaults_and_options() -> None:
    g = make_game("go")
    assert isinstance(g, Go) and g.size == 9 and g.komi == 7.5 and g.max_moves == 243
    assert g.num_actions == 82 and g.obs_shape == (5, 9, 9)
    s = g.initial_state()
    assert s.shape == (HEADER + 81 + 244,) and s[H_WINNER] == ONGOING and s[H_TO_PLAY] == 0
    assert g.legal_mask(s).all()
    g5 = make_game("go", size=5, komi=0, max_moves=10)
    assert g5.num_actions == 26 and g5.komi == 0.0 and g5.max_moves == 10
    for kwargs in (
        {"size": 1},
        {"size": 20},
        {"size": 9.0},
        {"size": True},
        {"komi": 7.25},
        {"komi": "7.5"},
        {"komi": float("nan")},
        {"max_moves": 0},
        {"max_moves": 2.5},
    ):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            Go(**kwargs)
    with pytest.raises(ValueError, match="size"):
        new_state(20)


def test_gtp_notation_skips_i_and_counts_rows_from_the_bottom() -> None:
    assert GAME.column_labels() == list("ABCDEFGHJ")
    assert GAME.str_to_action("A1") == 72 and GAME.str_to_action("a1") == 72
    assert GAME.str_to_action("J9") == 8 and GAME.str_to_action("j1") == 80
    assert GAME.str_to_action("E5") == 40 and GAME.str_to_action("PASS") == 81
    assert GAME.action_to_str(81) == "pass" and GAME.action_to_str(0) == "A9"
    for a in range(GAME.num_actions):
        assert GAME.str_to_action(GAME.action_to_str(a)) == a
    assert Go(size=19).str_to_action("T19") == 18
    for bad in ("I5", "K1", "A10", "A0", "", "pas", "5E"):
        with pytest.raises(ValueError, match="cannot read move"):
            GAME.str_to_action(bad)
    with pytest.raises(ValueError, match="out of range"):
        GAME.action_to_str(82)
    lines = GAME.render_text(play_moves(GAME, "E5 D4")).splitlines()
    assert lines[0].split() == list("ABCDEFGHJ")
    assert lines[5].split() == ["5", ".", ".", ".", ".", "X", ".", ".", ".", "."]
    assert lines[6].split() == ["4", ".", ".", ".", "O", ".", ".", ".", ".", "."]


# ---- captures ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "moves, victim",
    [
        ("D5 E5 F5 pass E4 pass E6", "E5"),  # middle: four liberties filled
        ("A4 A5 A6 pass B5", "A5"),  # edge: three
        ("A2 A1 B1", "A1"),  # corner: two
    ],
)
def test_single_stone_capture(moves: str, victim: str) -> None:
    before = play_moves(GAME, moves.rsplit(" ", 1)[0])
    assert at(GAME, before, victim) == 2
    s = play_moves(GAME, moves)
    assert at(GAME, s, victim) == 0 and int((GAME.board(s) == 2).sum()) == 0
    assert s[S_HASH] == board_hash(s) and GAME.area(s) == (81, 0)
    # The emptied point is surrounded by Black: White may not play there.
    assert s[H_TO_PLAY] == 1 and move_status(s, GAME.str_to_action(victim)) == SUICIDE


def test_capturing_a_two_stone_group_and_a_chain_along_the_edge() -> None:
    s = play_moves(GAME, "D5 E5 D4 E4 F5 pass F4 pass E6 pass E3")
    assert at(GAME, s, "E5") == 0 and at(GAME, s, "E4") == 0
    assert GAME.area(s) == (81, 0)  # six stones; every empty point reaches only Black
    # Three White stones on the bottom edge, taken together by the last Black stone.
    s = play_moves(GAME, "B2 C1 C2 D1 D2 E1 E2 pass B1 pass F1")
    assert all(at(GAME, s, p) == 0 for p in ("C1", "D1", "E1"))
    assert s[S_HASH] == board_hash(s)


# ---- suicide -------------------------------------------------------------------------
def test_single_stone_suicide_is_illegal() -> None:
    s = play_moves(GAME, "D5 pass F5 pass E4 pass E6")
    e5 = GAME.str_to_action("E5")
    assert not GAME.legal_mask(s)[e5] and move_status(s, e5) == SUICIDE
    corner = play_moves(GAME, "A2 pass B1")
    assert move_status(corner, GAME.str_to_action("A1")) == SUICIDE
    # Black itself may fill its own eye: the stone joins groups with liberties.
    assert GAME.legal_mask(play_moves(GAME, "pass", s))[e5]


def test_multi_stone_suicide_is_illegal() -> None:
    s = play_moves(GAME, "D5 pass D4 pass F5 pass F4 pass E6 pass E3 E5 pass")
    e4 = GAME.str_to_action("E4")
    assert s[H_TO_PLAY] == 1 and move_status(s, e4) == SUICIDE
    assert not GAME.legal_mask(s)[e4]
    with pytest.raises(ValueError, match=r"'E4'.*suicide"):
        GAME.apply(s, e4)


def test_suicide_looking_play_that_captures_is_legal() -> None:
    b = picture("""
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        . . . . . . . . .
        X . . . . . . . .
        O X . . . . . . .
        . O X . . . . . .
    """)
    s = GAME.state_from_board(b, to_play=0)
    a1 = GAME.str_to_action("A1")
    assert GAME.legal_mask(s)[a1]  # A1 touches only White stones, but both groups fall
    s = GAME.apply(s, a1)
    assert at(GAME, s, "A2") == 0 and at(GAME, s, "B1") == 0 and at(GAME, s, "A1") == 1
    # For White, A1 captures nothing: plain suicide.
    assert move_status(GAME.state_from_board(b, to_play=1), a1) == SUICIDE


# ---- ko and superko --------------------------------------------------------------------
KO = "C5 E6 D6 F5 D4 E4 pass D5 E5"  # Black E5 takes the White stone on D5


def test_simple_ko_recapture_waits_for_an_exchange() -> None:
    s = play_moves(GAME, KO)
    assert at(GAME, s, "D5") == 0 and at(GAME, s, "E5") == 1
    d5 = GAME.str_to_action("D5")
    assert s[H_TO_PLAY] == 1 and move_status(s, d5) == SUPERKO
    assert not GAME.legal_mask(s)[d5] and GAME.observation(s)[4].reshape(-1)[d5] == 0
    before = s.copy()
    with pytest.raises(ValueError, match=r"illegal move 'D5'.*superko"):
        GAME.apply(s, d5)
    assert np.array_equal(s, before)
    # A ko threat and its answer change the board: the recapture is new, hence legal.
    s = play_moves(GAME, "J9 J1", s)
    assert GAME.legal_mask(s)[d5]
    s = GAME.apply(s, d5)
    assert at(GAME, s, "E5") == 0 and at(GAME, s, "D5") == 2
    # And Black may not take straight back either.
    assert move_status(s, GAME.str_to_action("E5")) == SUPERKO


def test_triple_ko_cycle_is_stopped_by_superko_only() -> None:
    # Three kos: Black can take at C8 and C4, White at G8.  Each side takes one ko
    # per move; the sixth capture would recreate the first board.  No capture in the
    # cycle retakes the point just taken from, so simple ko would allow all six.
    start = GAME.state_from_board(
        picture("""
        . X O . . . X O .
        X O . O . X . X O
        . X O . . . X O .
        . . . . . . . . .
        . X O . . . . . .
        X O . O . . . . .
        . X O . . . . . .
        . . . . . . . . .
        . . . . . . . . .
    """),
        to_play=0,
    )
    s = play_moves(GAME, "C8 G8 C4 B8 H8", start)
    # Five plays, each capturing one stone: the stone count is unchanged.
    assert (GAME.board(s) != 0).sum() == (GAME.board(start) != 0).sum()
    b4 = GAME.str_to_action("B4")
    assert move_status(s, b4) == SUPERKO and not GAME.legal_mask(s)[b4]
    # The board B4 would make is exactly the start.
    after = ref_play(tuple(GAME.board(s).reshape(-1)), 9, b4, 2)
    assert after == tuple(GAME.board(start).reshape(-1))
    # One move earlier nothing repeated: every step of the cycle was legal.
    assert GAME.winner(s) is None and s[H_PLY] == 5


# ---- passes, move cap, scoring -----------------------------------------------------------
def test_two_passes_end_the_game() -> None:
    s = GAME.apply(GAME.initial_state(), 81)
    assert not GAME.is_terminal(s) and GAME.passes(s) == 1
    s = play_moves(GAME, "E5 pass", s)  # White's play resets the count
    assert not GAME.is_terminal(s) and GAME.passes(s) == 1
    s = GAME.apply(s, 81)
    assert GAME.is_terminal(s) and GAME.winner(s) == 1 and GAME.returns(s) == (-1.0, 1.0)
    assert GAME.score(s) == -81 - 7.5 and not GAME.legal_mask(s).any()
    with pytest.raises(ValueError, match="after the game ended"):
        GAME.apply(s, 81)
    empty = play_moves(GAME, "pass pass")
    assert GAME.winner(empty) == 1 and GAME.score(empty) == -7.5 and GAME.area(empty) == (0, 0)


def test_move_cap_scores_the_board_as_it_stands() -> None:
    g = Go(max_moves=3)
    s = play_moves(g, "E5 pass")
    assert not g.is_terminal(s)
    s = play_moves(g, "D4", s)
    assert g.is_terminal(s) and g.winner(s) == 0 and g.score(s) == 81 - 7.5
    assert s.shape == (HEADER + 81 + 4,)


SPLIT = """
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
    . . . X O . . . .
"""
DAME = SPLIT.replace("X O .", "X . O")
DEAD_STONE = """
    . . . X . O . . .
    . . . X . O . . .
    . . . X . O . . .
    . . . X . O . . .
    . . . X . O . . .
    . . . X . O . . .
    . . . X . O . . .
    . . . X . O . . .
    O . . X . O . . .
"""


@pytest.mark.parametrize(
    "rows, komi, black, white, winner",
    [
        (SPLIT, 7.5, 36, 45, 1),  # 36 - 45 - 7.5 = -16.5
        (SPLIT.replace("X O", "O X"), 7.5, 45, 36, 0),  # mirrored: 45 - 36 - 7.5 = +1.5
        (DAME, 7.5, 36, 36, 1),  # column E touches both: nobody's
        (DAME, 0, 36, 36, DRAW),  # integer komi, equal areas: a draw
        (DEAD_STONE, 7.5, 9, 37, 1),  # a White stone on A1 spoils Black's area
    ],
)
def test_tromp_taylor_scores_by_hand(
    rows: str, komi: float, black: int, white: int, winner: int
) -> None:
    g = Go(komi=komi)
    board = picture(rows)
    s = g.state_from_board(board)
    assert g.area(s) == (black, white) and ref_area(tuple(board.reshape(-1)), 9) == (black, white)
    assert g.score(s) == score(s) == black - white - komi
    s = play_moves(g, "pass pass", s)
    assert s[H_WINNER] == winner and g.score(s) == black - white - komi


def test_area_of_a_lone_stone_and_of_dame_between_stones() -> None:
    s = play_moves(GAME, "E5")
    assert GAME.area(s) == (81, 0)  # the one empty region reaches only Black
    s = play_moves(GAME, "D4", s)
    assert GAME.area(s) == (1, 1)  # now it reaches both: nobody's


# ---- illegal input -------------------------------------------------------------------
@pytest.mark.parametrize(
    "action, message",
    [
        (40, r"'E5'.*occupied"),
        (82, "action 82"),
        (-1, "action -1"),
        ("E5", "must be an int"),
        (1.0, "must be an int"),
    ],
)
def test_illegal_moves_raise_and_leave_the_state_alone(action: object, message: str) -> None:
    s = play_moves(GAME, "E5")
    before = s.copy()
    with pytest.raises(ValueError, match=message):
        GAME.apply(s, action)
    assert np.array_equal(s, before)
    with pytest.raises(ValueError, match=r"bad move #2 'e5'"):
        GAME.parse_moves("E5 e5")


def test_state_from_board_rejects_bad_boards() -> None:
    with pytest.raises(ValueError, match="without liberties"):
        GAME.state_from_board(picture("O X . . . . . . .\n" + "X . . . . . . . .\n" * 8))
    with pytest.raises(ValueError, match="9x9"):
        GAME.state_from_board(np.zeros((5, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="to_play"):
        GAME.state_from_board(np.zeros((9, 9), dtype=np.int64), to_play=2)


# ---- observation and symmetries ----------------------------------------------------------
def test_observation_planes_from_the_movers_view() -> None:
    s = play_moves(GAME, "E5 D4")
    obs = GAME.observation(s)  # Black to move
    e5, d4 = (4, 4), (5, 3)
    assert obs[0][e5] == 1 and obs[1][d4] == 1 and obs[2].sum() == 79 and obs[3].all()
    assert obs[4].sum() == 79 and obs[4][e5] == 0
    obs = GAME.observation(GAME.apply(s, 81))  # White to move
    assert obs[0][d4] == 1 and obs[1][e5] == 1 and not obs[3].any()
    syms = GAME.symmetries(obs, np.arange(82, dtype=np.float32))
    assert len(syms) == 8 and all(pol[81] == 81 for _, pol in syms)


# ---- random games against the reference ------------------------------------------------
def check_predicted_hashes(state: np.ndarray, board: tuple[int, ...], colour: int) -> None:
    """The legal-mask kernel's hash of each play's result equals the result's own hash."""
    n = int(state[H_SIZE])
    nn = n * n
    work = np.empty(5 * nn, dtype=np.int64)
    gid, glibs, ghash = work[:nn], work[nn : 2 * nn], work[2 * nn : 3 * nn]
    _label_groups(state, n, gid, glibs, ghash, work[3 * nn : 4 * nn], work[4 * nn :])
    scratch = state.copy()
    for p in range(nn):
        if board[p] == 0:
            alive, predicted = _play_outcome(state, n, p, colour, gid, glibs, ghash)
            after = ref_play(board, n, p, colour)
            assert alive == (after is not None)
            if after is not None:
                scratch[HEADER : HEADER + nn] = after
                assert predicted == board_hash(scratch)


@pytest.mark.parametrize("size, games", [(5, 16), (9, 6)])
def test_random_games_match_the_reference_and_terminate(size: int, games: int) -> None:
    g = Go(size=size)
    rng = np.random.default_rng(size)
    superko_bans = 0
    for _ in range(games):
        s = g.initial_state()
        board = (0,) * (size * size)
        seen = {board}
        while not g.is_terminal(s):
            assert s[H_PLY] < g.max_moves
            colour = int(s[H_TO_PLAY]) + 1
            legal = ref_legal(board, size, colour, seen)
            assert set(g.legal_actions(s).tolist()) == legal
            superko_bans += sum(
                1
                for p in range(size * size)
                if board[p] == 0 and p not in legal and ref_play(board, size, p, colour)
            )
            if size == 5:
                check_predicted_hashes(s, board, colour)
            # Favour plays over passes so that games last and fill the board.
            plays = sorted(legal - {size * size})
            a = int(rng.choice(plays)) if plays and rng.random() < 0.97 else size * size
            s = g.apply(s, a)
            if a != size * size:
                board = ref_play(board, size, a, colour)
                seen.add(board)
            assert tuple(g.board(s).reshape(-1)) == board and s[S_HASH] == board_hash(s)
        black, white = ref_area(board, size)
        assert g.area(s) == (black, white) and g.score(s) == black - white - 7.5
        assert g.winner(s) == (0 if black - white > 7.5 else 1)
    assert superko_bans > 0  # the games did exercise superko


def test_uniform_random_playouts_end_within_the_move_cap() -> None:
    # Straight on the kernels, as a search would call them; pass is one of the choices.
    g = Go(size=7, max_moves=60)
    rng = np.random.default_rng(7)
    mask = np.zeros(g.num_actions, dtype=np.bool_)
    lengths = []
    for _ in range(100):
        s = g.initial_state()
        while s[H_WINNER] == ONGOING:
            assert s[H_PLY] < 60
            legal_mask_into(s, mask)
            play(s, int(rng.choice(np.flatnonzero(mask))))
        assert s[S_HASH] == board_hash(s)
        margin = g.score(s)
        assert s[H_WINNER] == (0 if margin > 0 else 1)
        lengths.append(int(s[H_PLY]))
    assert max(lengths) == 60 and min(lengths) < 60  # both endings happen

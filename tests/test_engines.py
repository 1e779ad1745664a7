"""GTP and UCI engine bridges (selfplay/engines.py), our engines (scripts/gtp.py and
scripts/uci.py), scripted transcripts, fake engines that fail on purpose, and full games
against GNU Go and Stockfish when they are installed."""

from __future__ import annotations

import io
import pickle
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from selfplay.engines import (
    EngineCrashed,
    EngineIllegalMove,
    EngineNotFound,
    EngineProtocolError,
    EngineResigned,
    EngineTimeout,
    GTPEngine,
    UCIEngine,
    engine_ladder,
    find_engine,
    gnugo,
    stockfish,
)
from selfplay.match import GameRecord, MatchResult, final_margins, forfeits, play_game, play_match
from selfplay.player import BuiltinPlayer, PlayerBase
from sim.board import make_game

ROOT = Path(__file__).resolve().parents[1]
GNUGO = find_engine("gnugo")
STOCKFISH = find_engine("stockfish")
# Our engine scripts import numpy, numba and the rules before they answer: on a loaded
# 2-core machine that took over the engines' default 10 s handshake limit.
SCRIPT_START_TIMEOUT = 60.0
needs_gnugo = pytest.mark.skipif(GNUGO is None, reason="GNU Go is not installed (apt gnugo)")
needs_stockfish = pytest.mark.skipif(
    STOCKFISH is None, reason="Stockfish is not installed (apt stockfish)"
)

# A GTP engine for tests: plays the first empty point of a 9x9 board (A9, B9, ...,
# skipping points it has seen played), logs every command, and misbehaves on demand.
FAKE_GTP = textwrap.dedent(
    """
    import sys, time
    mode, log = sys.argv[1], open(sys.argv[2], "a")
    cols = "ABCDEFGHJ"
    taken = set()
    genmoves = 0
    for line in sys.stdin:
        cmd = line.split()
        if not cmd:
            continue
        log.write(line); log.flush()
        name = cmd[0]
        if name == "quit":
            print("=\\n", flush=True); break
        if name == "clear_board":
            taken.clear()
        if name == "play":
            if mode == "refuse":
                print("? illegal move\\n", flush=True); continue
            taken.add(cmd[2].upper())
        if name == "genmove":
            genmoves += 1
            if mode == "garbage":
                print("hello there\\n", flush=True); continue
            if mode == "badvertex":
                print("= Z99\\n", flush=True); continue
            if mode == "hang":
                time.sleep(60)
            if mode == "crash" or (mode == "crash2" and genmoves == 2):
                sys.stderr.write("fake engine: segfault\\n"); sys.exit(3)
            if mode == "resign":
                print("= resign\\n", flush=True); continue
            if mode == "illegal":
                print("= A9\\n", flush=True); continue
            move = next(c + str(r) for r in range(9, 0, -1) for c in cols
                        if c + str(r) not in taken)
            taken.add(move)
            print("= " + move + "\\n", flush=True); continue
        if name == "protocol_version":
            print("= 2\\n", flush=True); continue
        print("=\\n", flush=True)
    """
)

# A UCI engine for tests: answers the first legal move from python-chess.
FAKE_UCI = textwrap.dedent(
    """
    import sys, time
    import chess
    mode, log = sys.argv[1], open(sys.argv[2], "a")
    board = chess.Board()
    for line in sys.stdin:
        log.write(line); log.flush()
        cmd = line.split()
        if not cmd:
            continue
        if cmd[0] == "uci":
            print("id name fake")
            print("option name Skill Level type spin default 20 min 0 max 20")
            print("uciok", flush=True)
        elif cmd[0] == "isready":
            print("readyok", flush=True)
        elif cmd[0] == "position":
            board = chess.Board()
            if "moves" in cmd:
                for m in cmd[cmd.index("moves") + 1:]:
                    board.push_uci(m)
        elif cmd[0] == "go":
            if mode == "hang":
                time.sleep(60)
            if mode == "crash":
                sys.exit(5)
            print("info depth 1 score cp 0")
            if mode == "garbage":
                print("bestmove xyzzy", flush=True)
            elif mode == "illegal":
                print("bestmove e2e5", flush=True)
            else:
                print("bestmove " + next(iter(board.legal_moves)).uci(), flush=True)
        elif cmd[0] == "quit":
            break
    """
)


@pytest.fixture
def fake_gtp(tmp_path):
    script = tmp_path / "fake_gtp.py"
    script.write_text(FAKE_GTP)
    log = tmp_path / "gtp.log"

    def make(mode: str = "ok", **kwargs) -> GTPEngine:
        argv = [sys.executable, str(script), mode, str(log)]
        return GTPEngine(argv, make_game("go"), name=f"fake-{mode}", **kwargs)

    make.log = log
    return make


@pytest.fixture
def fake_uci(tmp_path):
    script = tmp_path / "fake_uci.py"
    script.write_text(FAKE_UCI)
    log = tmp_path / "uci.log"

    def make(mode: str = "ok", **kwargs) -> UCIEngine:
        argv = [sys.executable, str(script), mode, str(log)]
        return UCIEngine(argv, make_game("chess"), name=f"fake-{mode}", **kwargs)

    make.log = log
    return make


GO = make_game("go", max_moves=6)


# ---- GTP bridge -----------------------------------------------------------------------
def test_gtp_transcript_of_a_short_game(fake_gtp):
    with fake_gtp() as engine:
        record = play_game(GO, [BuiltinPlayer("random", GO), engine], np.random.default_rng(0))
    assert record.length == 6 and not engine.running
    sent = fake_gtp.log.read_text().splitlines()
    plays = [line for line in sent if line.startswith(("play", "genmove"))]
    assert sent[:4] == ["protocol_version", "boardsize 9", "komi 7.5", "clear_board"]
    ours = [GO.action_to_str(a) for a in record.actions[0::2]]
    assert plays == [
        f"play b {ours[0]}", "genmove w", f"play b {ours[1]}", "genmove w",
        f"play b {ours[2]}", "genmove w",
    ]  # fmt: skip
    # The fake engine's rule: the first point from A9 along the rows not yet played.
    taken, expected = set(), []
    for i, a in enumerate(record.actions):
        if i % 2:
            move = next(p for p in (GO.action_to_str(b) for b in range(81)) if p not in taken)
            expected.append(move)
        taken.add(GO.action_to_str(a))
    assert [GO.action_to_str(a) for a in record.actions[1::2]] == expected
    assert sent[-1] == "quit"


@pytest.mark.parametrize(
    "mode, error, words",
    [
        ("garbage", EngineProtocolError, "hello there"),
        ("badvertex", EngineProtocolError, "Z99"),
        ("crash", EngineCrashed, "code 3"),
        ("resign", EngineResigned, "resigned"),
        ("refuse", EngineProtocolError, "refused 'play b"),
    ],
)
def test_gtp_failures_are_named_errors(fake_gtp, mode, error, words):
    engine = fake_gtp(mode)
    with engine:
        engine.reset()
        state = GO.initial_state()
        if mode == "refuse":
            engine.observe(state, 0)
            state = GO.apply(state, 0)
        with pytest.raises(error, match=words) as info:
            engine.act(state, np.random.default_rng(0))
    assert "fake-" + mode in str(info.value)
    if mode == "crash":
        assert "segfault" in str(info.value)  # the engine's last stderr line


def test_gtp_timeout_kills_and_the_next_game_restarts(fake_gtp):
    engine = fake_gtp("hang", move_timeout=0.5)
    engine.reset()
    with pytest.raises(EngineTimeout, match=r"no answer to 'genmove b' within 0.5 s"):
        engine.act(GO.initial_state(), np.random.default_rng(0))
    assert not engine.running
    engine.reset()  # a fresh process
    assert engine.running
    engine.close()
    engine.close()  # twice is fine
    assert not engine.running


def test_gtp_illegal_engine_move(fake_gtp):
    with fake_gtp("illegal") as engine:
        engine.reset()
        state = GO.initial_state()
        engine.observe(state, 0)  # our A9: the engine answers A9 again
        state = GO.apply(state, 0)
        with pytest.raises(EngineIllegalMove, match="occupied"):
            engine.act(state, np.random.default_rng(0))


def test_gtp_engine_is_set_up_again_when_the_game_disagrees(fake_gtp):
    """A move other than the engine's own (a runner overriding it) means a fresh board:
    clear_board, then every move of the game."""
    with fake_gtp() as engine:
        engine.reset()
        state = GO.initial_state()
        assert GO.action_to_str(engine.act(state, np.random.default_rng(0))) == "A9"
        for a in (1, 2):  # B9 was played instead of A9, then White's C9
            engine.observe(state, a)
            state = GO.apply(state, a)
        engine.act(state, np.random.default_rng(0))
    sent = fake_gtp.log.read_text().splitlines()
    assert sent[-6:] == ["genmove b", "clear_board", "play b B9", "play w C9", "genmove b", "quit"]


def test_gtp_engine_must_observe_the_game(fake_gtp):
    with fake_gtp() as engine:
        engine.reset()
        with pytest.raises(ValueError, match="observe"):
            engine.act(GO.apply(GO.initial_state(), 0), np.random.default_rng(0))


def test_final_margins_are_scored_from_the_players_view():
    game = make_game("go", size=3, komi=0.5)
    center_then_passes = (4, 9, 9)  # Black owns all 9 points: 9 - 0 - 0.5 komi
    played = GameRecord(("a", "b"), center_then_passes, 0, (1.0, -1.0))
    as_white = GameRecord(("b", "a"), center_then_passes, 0, (1.0, -1.0))
    forfeited = GameRecord(("a", "b"), (4,), 1, (-1.0, 1.0), forfeit="a: timeout")
    result = MatchResult("a", "b", 3, 1, 0, 2, 0, (0, 1, 0), (played, as_white, forfeited))
    assert final_margins(game, result) == [8.5, -8.5]
    with pytest.raises(ValueError, match="keeps no score"):
        final_margins(make_game("connect4"), result)


class FirstLegalBatched(PlayerBase):
    """A batched player (``act_batch``), like AlphaZero's: play_match would play it in
    lockstep, where engines see no moves."""

    name = "first-legal"

    def act(self, state, rng):
        return int(np.flatnonzero(GO.legal_mask(state))[0])

    def act_batch(self, states, rng):
        return [self.act(s, rng) for s in states]


def test_engine_ladder_feeds_the_engines_every_move_beside_a_batched_player(fake_gtp):
    results = engine_ladder(GO, FirstLegalBatched(), [fake_gtp(), fake_gtp()], 2, seed=0)
    assert [r.games for r in results] == [2, 2]
    assert not any(forfeits(r) for r in results), [forfeits(r) for r in results]


def test_forfeits_are_recorded_and_the_match_goes_on(fake_gtp):
    """The engine dies in its second move of each game: it forfeits every game, is
    restarted for the next one, and the match completes."""
    engine = fake_gtp("crash2")
    result = play_match(GO, BuiltinPlayer("random", GO), engine, games=3, seed=1)
    engine.close()
    assert (result.wins, result.draws, result.losses) == (3, 0, 0)
    reasons = forfeits(result)
    assert len(reasons) == 3 and all("fake-crash2" in r and "exited" in r for r in reasons)
    assert all(r.forfeit for r in result.records)
    assert [r.length for r in result.records] == [3, 2, 3]  # the moves before the failure


def test_missing_binary_and_bad_options():
    with pytest.raises(EngineNotFound, match="no-such-engine-xyz.*not found"):
        GTPEngine(["no-such-engine-xyz"], GO)
    with pytest.raises(ValueError, match="plays go"):
        GTPEngine([sys.executable], make_game("chess"))
    with pytest.raises(ValueError, match="level"):
        gnugo(GO, level=11)
    with pytest.raises(ValueError, match="skill"):
        stockfish(make_game("chess"), skill=21)
    with pytest.raises(ValueError, match="move_timeout"):
        GTPEngine([sys.executable], GO, move_timeout=0)


def test_engine_pickles_as_its_settings(fake_gtp):
    with fake_gtp() as engine:
        engine.reset()
        copy = pickle.loads(pickle.dumps(engine))
        assert copy.running is False and engine.running
        copy.reset()  # starts its own process
        assert copy.running
        copy.close()


# ---- UCI bridge -----------------------------------------------------------------------
CHESS = make_game("chess", max_moves=6)


def test_uci_transcript_and_options(fake_uci):
    with fake_uci(options={"Skill Level": 3}, nodes=50) as engine:
        record = play_game(
            CHESS, [engine, BuiltinPlayer("random", CHESS)], np.random.default_rng(0)
        )
    assert record.length == 6
    sent = fake_uci.log.read_text().splitlines()
    assert sent[:5] == [
        "uci",
        "setoption name Skill Level value 3",
        "isready",
        "ucinewgame",
        "isready",
    ]
    positions = [s for s in sent if s.startswith("position")]
    assert positions[0] == "position startpos"
    assert positions[1] == "position startpos moves " + CHESS.format_moves(record.actions[:2])
    assert sent.count("go nodes 50") == 3


@pytest.mark.parametrize(
    "mode, error, words",
    [
        ("garbage", EngineProtocolError, "xyzzy"),
        ("illegal", EngineIllegalMove, "e2e5"),
        ("crash", EngineCrashed, "code 5"),
    ],
)
def test_uci_failures_are_named_errors(fake_uci, mode, error, words):
    with fake_uci(mode) as engine:
        engine.reset()
        with pytest.raises(error, match=words):
            engine.act(CHESS.initial_state(), np.random.default_rng(0))


def test_uci_timeout_and_unknown_option(fake_uci):
    engine = fake_uci("hang", move_timeout=0.5)
    engine.reset()
    with pytest.raises(EngineTimeout, match="go movetime 1000"):
        engine.act(CHESS.initial_state(), np.random.default_rng(0))
    engine.close()
    with pytest.raises(EngineProtocolError, match="no option 'Contempt'"):
        fake_uci(options={"Contempt": 5}).start()


def test_uci_without_move_history_sends_the_fen(fake_uci):
    """The lockstep runner calls no observe: the engine gets the position as a FEN."""
    with fake_uci() as engine:
        engine.reset()
        state = CHESS.from_moves("e4 e5")
        action = engine.act(state, np.random.default_rng(0))
        assert CHESS.legal_mask(state)[action]
    assert f"position fen {CHESS.fen(state)}" in fake_uci.log.read_text().splitlines()


# ---- our engines: scripts/gtp.py and scripts/uci.py ---------------------------------------
def run_gtp(lines: str) -> str:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import gtp
    finally:
        sys.path.pop(0)
    make, fixed, label = gtp.player_factory(gtp.Args(player="random"))
    server = gtp.GTPServer(make, 9, 7.5, 0, "simarena-random", fixed)
    out = io.StringIO()
    gtp.serve(server, io.StringIO(lines), out)
    return out.getvalue()


def test_gtp_script_transcript():
    out = run_gtp(
        "1 protocol_version\nname\nboardsize 9\nkomi 6.5\nplay b e5\nplay b d4\n"
        "play w e5\nknown_command genmove\nknown_command fly\nboardsize 25\n"
        "final_score\nundo\nfinal_score\n# a comment\nbogus\nquit\n"
    )
    assert out == (
        "=1 2\n\n= simarena-random\n\n=\n\n=\n\n=\n\n"
        "? illegal move: moves must alternate (it is the other colour's turn)\n\n"
        "? illegal move: go: illegal move 'E5' (action 40) [the point is occupied]\n\n"
        "= true\n\n= false\n\n? unacceptable size\n\n"
        "= B+74.5\n\n=\n\n= W+6.5\n\n? unknown command\n\n=\n\n"
    )


def test_gtp_script_genmove_plays_legal_moves():
    out = run_gtp("boardsize 9\n" + "genmove b\ngenmove w\n" * 5 + "showboard\nquit\n")
    moves = [line[2:] for line in out.split("\n\n") if line.startswith("= ") and len(line) <= 5]
    assert len(moves) == 10
    game = make_game("go")
    game.from_moves(" ".join(moves))  # all legal, alternating


def uci_session(lines: str, player: str = "random") -> list[str]:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import uci
    finally:
        sys.path.pop(0)
    bot, label = uci.make_player(uci.Args(player=player))
    server = uci.UCIServer(bot, seed=0, name=f"simarena-{label}")
    out = io.StringIO()
    server.serve(io.StringIO(lines), out)
    return out.getvalue().splitlines()


def test_uci_script_transcript():
    out = uci_session(
        "uci\nisready\nucinewgame\nposition startpos moves e2e4 e7e5 g1f3\ngo nodes 5\n"
        "position fen 7k/8/6K1/8/8/8/8/R7 w - - 0 1\ngo infinite\nstop\n"
        "position startpos moves e2e5\nfoo\nposition fen 7k/6Q1/6K1/8/8/8/8/8 b - - 0 1\n"
        "go\nquit\n",
        player="greedy",
    )
    assert out[:4] == ["id name simarena-greedy", "id author simarena", "uciok", "readyok"]
    black = out[4].split()
    assert black[0] == "bestmove"
    make_game("chess").from_moves("e2e4 e7e5 g1f3 " + black[1])  # legal for Black
    assert out[5] == "bestmove a1a8"  # greedy mates in one
    assert out[6].startswith("info string error: chess: illegal move 'e2e5'")
    assert out[7] == "info string unknown command: foo"
    assert out[8] == "bestmove (none)"  # Black is mated: no move


@pytest.fixture(scope="module")
def chess_run(tmp_path_factory) -> Path:
    """A chess run trained for one iteration (AlphaZero self-play on the Numba rules)."""
    pytest.importorskip("torch")
    from agents.alphazero.config import AlphaZeroConfig, SearchConfig
    from agents.alphazero.train import Trainer

    run_dir = tmp_path_factory.mktemp("chess") / "run"
    config = AlphaZeroConfig(
        game="chess", game_options={"max_moves": 16}, blocks=1, channels=8, parallel_games=4,
        steps_per_iteration=2, search=SearchConfig(simulations=8, fast_simulations=4),
        min_replay=8, batch_size=8, replay_size=500, max_iterations=1, eval_every_minutes=0,
        threads=1, workers=0, run_dir=str(run_dir),
    )  # fmt: skip
    assert Trainer(config).run()["iterations"] == 1
    return run_dir


def test_uci_script_searches_with_a_chess_checkpoint(chess_run):
    """uci.py serves a chess checkpoint with search; bad --sims and unknown players are
    one-line errors."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import uci
    finally:
        sys.path.pop(0)
    player, label = uci.make_player(uci.Args(player=str(chess_run), sims=16))
    assert label == "alphazero" and player.simulations == 16
    server = uci.UCIServer(player, seed=0, name="t")
    out = io.StringIO()
    server.serve(io.StringIO("position startpos moves e2e4\ngo nodes 16\nquit\n"), out)
    answer = out.getvalue().split()
    assert answer[0] == "bestmove"
    make_game("chess").from_moves("e2e4 " + answer[1])  # legal for Black
    with pytest.raises(ValueError, match="--sims must be >= 0"):
        uci.make_player(uci.Args(player="mcts", sims=-1))
    assert uci.main(["nonexistent-bot"]) == 2


# ---- real engines ---------------------------------------------------------------------------
@needs_gnugo
def test_our_gtp_engine_plays_a_full_game_against_gnugo():
    game = make_game("go", max_moves=120)
    ours = GTPEngine(
        [sys.executable, str(ROOT / "scripts" / "gtp.py"), "random"],
        game,
        name="ours",
        start_timeout=SCRIPT_START_TIMEOUT,
    )
    with ours, gnugo(game, level=1) as bot:
        result = play_match(game, ours, bot, games=1, seed=0)
    record = result.records[0]
    assert not forfeits(result), forfeits(result)
    assert game.is_terminal(game.from_moves(game.format_moves(record.actions)))
    assert result.losses == 1  # GNU Go beats random play
    assert final_margins(game, result)[0] < 0


@needs_stockfish
def test_our_uci_engine_plays_a_full_game_against_stockfish():
    game = make_game("chess", max_moves=120)
    ours = UCIEngine(
        [sys.executable, str(ROOT / "scripts" / "uci.py"), "random"],
        game,
        name="ours",
        start_timeout=SCRIPT_START_TIMEOUT,
    )
    with ours, stockfish(game, skill=0, nodes=200) as bot:
        result = play_match(game, ours, bot, games=1, seed=0)
    record = result.records[0]
    assert not forfeits(result), forfeits(result)
    end = game.from_moves(game.format_moves(record.actions))
    assert game.is_terminal(end) and result.wins == 0  # random play never beats it


@needs_stockfish
def test_evaluate_places_a_chess_checkpoint_on_the_stockfish_ladder(chess_run):
    import json
    import subprocess

    def evaluate(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, str(ROOT / "scripts" / "evaluate.py"), str(chess_run), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)

    ladder = ["--stockfish-skills", "0", "--stockfish-nodes", "50", "--stockfish-games", "2"]
    done = evaluate(*ladder, "--sims", "4", "--threads", "1", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)["stockfish"]["stockfish-skill0-n50"]
    assert report["games"] == 2 and not report["forfeits"]
    assert sum(report["end_reasons"].values()) == 2 and report["mean_length"] > 0
    for args, words in [
        (["--stockfish-skills", "0", "--stockfish-games", "0"], "--stockfish-games must be"),
        (["--stockfish-skills", "0", "--stockfish-nodes", "0"], "--stockfish-nodes must be"),
        (["--gnugo-levels", "1"], "--gnugo-levels plays Go"),
    ]:
        done = evaluate(*args)
        assert done.returncode == 2 and words in done.stderr, done.stderr

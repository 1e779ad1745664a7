"""Chess (sim/board/chess.py, envs/board/chess_v0.py): perft through our state path,
the move encoding, automatic draws, observations, envs and pictures."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import chess as pychess  # noqa: E402
import gymnasium  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import envs  # noqa: E402, F401  (registers the ids)
from envs.board import AEC_ENVS  # noqa: E402
from sim.board import make_game  # noqa: E402
from sim.board.chess import (  # noqa: E402
    HIST0,
    NUM_ACTIONS,
    S_NHIST,
    decode_action,
    encode_move,
    perft,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore:Observation is not a NumPy array"),
    pytest.mark.filterwarnings("ignore:Observation numpy array is all zeros"),
    pytest.mark.filterwarnings("ignore:Observation space for each agent probably"),
    pytest.mark.filterwarnings("ignore:The old environment creation API:DeprecationWarning"),
]

GAME = make_game("chess")
START = pychess.STARTING_FEN
KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"
POSITION3 = "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - 0 1"
POSITION4 = "r3k2r/Pppp1ppp/1b3nbN/nP6/BBP1P3/q4N2/Pp1P2PP/R2Q1RK1 w kq - 0 1"
POSITION5 = "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8"
POSITION6 = "r4rk1/1pp1qppp/p1np1n2/2b1p1B1/2B1P1b1/P1NP1N2/1PP1QPPP/R4RK1 w - - 0 10"


# ---- perft ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fen, counts",
    [
        (START, [20, 400, 8902]),
        (KIWIPETE, [48, 2039, 97862]),  # castling, en passant, promotions, pins
        (POSITION3, [14, 191, 2812, 43238]),  # en passant discovered checks
        (POSITION4, [6, 264, 9467]),  # underpromotions with check
        (POSITION5, [44, 1486, 62379]),
        (POSITION6, [46, 2079, 89890]),
    ],
    ids=["start", "kiwipete", "position3", "position4", "position5", "position6"],
)
def test_perft_through_our_state(fen, counts):
    state = GAME.from_fen(fen)
    for depth, expected in enumerate(counts, start=1):
        assert perft(GAME, state, depth) == expected, (fen, depth)


def test_perft_through_apply_and_legal_actions():
    """The same count by the public path (check_action, copies) rather than the kernels."""

    def count(state, depth):
        if depth == 0:
            return 1
        return sum(count(GAME.apply(state, int(a)), depth - 1) for a in GAME.legal_actions(state))

    assert count(GAME.initial_state(), 2) == 400
    assert count(GAME.from_fen(KIWIPETE), 1) == 48


# ---- move encoding ----------------------------------------------------------------------
def random_positions(games: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(games):
        state = GAME.initial_state()
        while not GAME.is_terminal(state):
            yield state
            state = GAME.apply(state, int(rng.choice(GAME.legal_actions(state))))


def test_encoding_round_trips_for_every_legal_move_of_random_positions():
    positions = 0
    for state in random_positions(games=4, seed=0):
        board = GAME.to_board(state)
        white = board.turn == pychess.WHITE
        legal = GAME.legal_actions(state)
        moves = list(board.legal_moves)
        assert len(legal) == len(moves)
        encoded = sorted(encode_move(m, white) for m in moves)
        assert encoded == legal.tolist()  # one action per move, all distinct
        for move in moves:
            a = encode_move(move, white)
            assert 0 <= a < NUM_ACTIONS
            assert decode_action(a, white, board) == move
            assert GAME.action_to_str(a, state) == move.uci()
            assert GAME.str_to_action(move.uci(), state) == a
            assert GAME.str_to_action(board.san(move), state) == a
        positions += 1
    assert positions > 300


def test_encoding_is_from_the_movers_side():
    e4 = GAME.str_to_action("e2e4")
    assert e4 == 1 * 64 + 6 * 8 + 4  # plane "north, 2", from row 6 (rank 2), column e
    after = GAME.apply(GAME.initial_state(), e4)
    assert GAME.str_to_action("e7e5", after) == e4  # Black's mirror image
    assert GAME.action_to_str(e4, after) == "e7e5"


def test_underpromotions_and_castling():
    state = GAME.from_fen("4k3/P7/8/8/8/8/8/R3K2R w KQ - 0 1")
    texts = {GAME.action_to_str(int(a), state) for a in GAME.legal_actions(state)}
    assert {"a7a8q", "a7a8r", "a7a8b", "a7a8n", "e1g1", "e1c1"} <= texts
    planes = {t: GAME.str_to_action(t, state) // 64 for t in ("a7a8n", "a7a8b", "a7a8r")}
    assert planes == {"a7a8n": 65, "a7a8b": 68, "a7a8r": 71}  # straight ahead
    assert GAME.str_to_action("a7a8q", state) // 64 == 0  # a queen-like move north
    assert GAME.str_to_action("e1g1", state) // 64 == 2 * 7 + 1  # the king two squares east
    castled = GAME.apply(state, GAME.str_to_action("e1g1", state))
    assert GAME.to_board(castled).piece_at(pychess.F1) == pychess.Piece.from_symbol("R")
    # Black's g2 pawn takes on h1: files are not mirrored, so it captures toward the h-file.
    black = GAME.from_fen("4k3/8/8/8/8/8/6p1/4K2R b K - 0 1")
    assert GAME.str_to_action("g2h1n", black) // 64 == 64 + 2  # knight, toward the h-file
    assert GAME.str_to_action("g2g1r", black) // 64 == 64 + 3 * 2 + 1  # rook, straight


def expected_end(board: pychess.Board) -> str | None:
    """Our end reason for python-chess's ``board`` (its move stack holds the game)."""
    if board.is_checkmate():
        return "checkmate"
    if board.is_stalemate():
        return "stalemate"
    if board.is_insufficient_material():
        return "insufficient material"
    if board.is_repetition(3):
        return "threefold repetition"
    if board.halfmove_clock >= 100:
        return "fifty-move rule"
    return None


def test_kernels_follow_python_chess_through_random_games():
    """The Numba rules against python-chess pushing the same moves: at every ply the
    position (castling, en passant, clocks), the legal moves and the end reason."""
    rng = np.random.default_rng(3)
    reasons = set()
    for _ in range(12):
        state, board = GAME.initial_state(), pychess.Board()
        while True:
            assert GAME.fen(state) == board.fen()
            assert GAME.end_reason(state) == expected_end(board), board.fen()
            if GAME.is_terminal(state):
                break
            white = board.turn == pychess.WHITE
            expected = sorted(encode_move(m, white) for m in board.legal_moves)
            assert GAME.legal_actions(state).tolist() == expected, board.fen()
            a = int(rng.choice(expected))
            board.push(GAME.move_of(state, a))
            state = GAME.apply(state, a)
        reasons.add(GAME.end_reason(state))
    assert len(reasons) >= 2  # random games end in several ways


# ---- endings --------------------------------------------------------------------------------
def test_threefold_repetition_draws():
    dance = "Nf3 Nf6 Ng1 Ng8 Nf3 Nf6 Ng1"
    state = GAME.from_moves(dance)
    assert not GAME.is_terminal(state) and GAME.repetitions(state) == 2
    assert GAME.observation(state)[12].all()  # "seen before" plane
    last = GAME.apply(state, GAME.str_to_action("Ng8", state))
    assert GAME.end_reason(last) == "threefold repetition" and GAME.winner(last) is None
    assert GAME.returns(last) == (0.0, 0.0)


def test_repetition_needs_the_same_castling_rights():
    # After Ke1/Ke8 the kings are home, as after e4 e5, but without castling rights.
    state = GAME.from_moves("e4 e5 Ke2 Ke7 Ke1 Ke8")
    assert GAME.repetitions(state) == 1
    state = GAME.from_moves("e4 e5 Ke2 Ke7 Ke1 Ke8 Ke2 Ke7 Ke1 Ke8")
    assert not GAME.is_terminal(state) and GAME.repetitions(state) == 2
    state = GAME.apply(state, GAME.str_to_action("Ke2", state))
    state = GAME.apply(state, GAME.str_to_action("Ke7", state))  # e2/e7 a third time
    assert GAME.end_reason(state) == "threefold repetition"


def test_en_passant_counts_for_repetition_only_when_legal():
    after_e4 = GAME.from_moves("e4")  # e3 is the ep square, but no Black pawn can take
    same = GAME.from_fen("rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1")
    assert after_e4[HIST0] == same[HIST0] and after_e4[S_NHIST] == 1
    real = GAME.from_fen("4k3/8/8/8/3p4/8/4P3/4K3 w - - 0 1")
    real = GAME.apply(real, GAME.str_to_action("e2e4", real))
    plain = GAME.from_fen("4k3/8/8/8/3pP3/8/8/4K3 b - - 0 1")
    assert real[HIST0 + real[S_NHIST] - 1] != plain[HIST0]


def test_fifty_move_rule_and_mate_on_the_last_move():
    quiet = GAME.from_fen("8/8/8/8/8/4k3/8/R3K3 w - - 99 80")
    assert not GAME.is_terminal(quiet)
    drawn = GAME.apply(quiet, GAME.str_to_action("Ra2", quiet))
    assert GAME.end_reason(drawn) == "fifty-move rule" and GAME.winner(drawn) is None
    mate = GAME.from_fen("7k/8/6K1/8/8/8/8/R7 w - - 99 80")
    won = GAME.apply(mate, GAME.str_to_action("Ra8", mate))
    assert GAME.end_reason(won) == "checkmate" and GAME.winner(won) == 0
    pawn = GAME.from_fen("8/8/8/8/8/4k3/P7/4K3 w - - 99 80")
    going = GAME.apply(pawn, GAME.str_to_action("a3", pawn))  # a pawn move resets the clock
    assert not GAME.is_terminal(going) and GAME.halfmove_clock(going) == 0


@pytest.mark.parametrize(
    "start, moves, reason, winner",
    [
        (START, "f3 e5 g4 Qh4", "checkmate", 1),
        ("7k/5Q2/6K1/8/8/8/8/8 w - - 0 1", "Qf8", "checkmate", 0),
        ("7k/8/6Q1/8/8/8/8/K7 w - - 0 1", "Qf7", "stalemate", None),
        ("7k/8/8/8/8/8/6r1/7K w - - 0 1", "Kxg2", "insufficient material", None),
    ],
)
def test_endings(start, moves, reason, winner):
    state = GAME.from_fen(start)
    for token in moves.split():
        state = GAME.apply(state, GAME.str_to_action(token, state))
    assert GAME.end_reason(state) == reason and GAME.winner(state) == winner
    assert not GAME.legal_mask(state).any()


def test_move_cap_draws():
    game = make_game("chess", max_moves=4)
    state = game.from_moves("e4 e5 Nf3 Nc6")
    assert game.end_reason(state) == "move cap" and game.is_terminal(state)
    assert "draw by move cap" in game.render_text(state)


@pytest.mark.parametrize(
    ("fen", "lead"),
    [
        ("4k3/8/8/3p4/4P3/8/8/4K3 w - - 0 1", 1),  # exd5 wins a pawn
        ("4k3/8/4p3/3p4/8/8/8/3QK3 w - - 0 1", 7),  # Qxd5 exd5 would lose the queen: stop
        ("4k3/8/8/3r4/8/8/8/3QK3 w - - 0 1", 9),  # Qxd5 takes a hanging rook
        ("4k3/8/4p3/3n4/2P5/8/8/4K3 w - - 0 1", -1),  # cxd5 exd5: the knight for a pawn
        ("4k3/8/8/8/3q4/8/8/3R3K b - - 0 1", -9),  # Black to move takes the rook
    ],
)
def test_settled_lead_plays_out_pending_captures(fen, lead):
    from sim.board.chess import _material_lead, _settled_lead

    state = GAME.from_fen(fen)
    assert _settled_lead(state) == lead, (_material_lead(state[8:72]), fen)


def test_material_cap_decides_the_capped_game_on_material():
    game = make_game("chess", max_moves=4, material_cap=True)
    even = game.from_moves("e4 e5 Nf3 Nc6")
    assert game.end_reason(even) == "move cap" and game.winner(even) is None
    black_ahead = game.from_moves("e4 d5 a3 dxe4")  # a pawn up for Black, safe at the cap
    assert game.end_reason(black_ahead) == "material at the move cap"
    assert game.winner(black_ahead) == 1 and game.returns(black_ahead) == (-1.0, 1.0)
    # The last mover's capture does not count when it can be taken back: Nxe4 evens it.
    retaken = game.from_moves("e4 d5 Nc3 dxe4")
    assert game.end_reason(retaken) == "move cap" and game.winner(retaken) is None
    longer = make_game("chess", max_moves=6, material_cap=True)
    assert not longer.is_terminal(longer.from_moves("e4 d5 Nc3 dxe4"))
    with pytest.raises(ValueError, match="give max_moves"):
        make_game("chess", material_cap=True)
    with pytest.raises(ValueError, match="material_cap must be"):
        make_game("chess", max_moves=4, material_cap="yes")


# ---- bad input ---------------------------------------------------------------------------------
def test_bad_moves_are_value_errors_naming_them_and_state_is_unchanged():
    state = GAME.initial_state()
    before = state.copy()
    for bad, words in [
        (0, "moves off the board"),
        (NUM_ACTIONS, "out of range"),
        (1.0, "must be an int"),
        (GAME.str_to_action("e2e3") + 64 * 2, "cannot move so"),  # e2 "north 3"
    ]:
        with pytest.raises(ValueError, match=words) as err:
            GAME.apply(state, bad)
        assert "legal moves are: a2a3" in str(err.value)
        np.testing.assert_array_equal(state, before)
    with pytest.raises(ValueError, match="illegal move 'e2e5'"):
        GAME.str_to_action("e2e5")
    with pytest.raises(ValueError, match="cannot read move 'Zz9'"):
        GAME.from_moves("e4 Zz9")
    with pytest.raises(ValueError, match="bad FEN"):
        GAME.from_fen("not a fen")
    with pytest.raises(ValueError, match="not a legal position"):
        GAME.from_fen("8/8/8/8/8/8/8/8 w - - 0 1")
    with pytest.raises(ValueError, match="max_moves"):
        make_game("chess", max_moves=0)
    with pytest.raises(ValueError, match="size"):
        make_game("chess", size=9)
    with pytest.raises(ValueError, match="not a chess state"):
        GAME.legal_mask(make_game("go").initial_state())


# ---- observations ------------------------------------------------------------------------------
def test_observation_planes_from_each_side():
    state = GAME.from_moves("e4")  # Black to move; ep square e3
    white, black = GAME.observation(state, 0), GAME.observation(state, 1)
    assert white.shape == black.shape == (20, 8, 8) and white.dtype == np.float32
    assert white[0, 4, 4] == 1 and white[0, 6].sum() == 7  # e4 pawn; rank 2 less e2
    assert black[0, 6].sum() == 8  # Black's pawns on its second rank, mirrored
    assert black[6, 3, 4] == 1  # White's e4 pawn seen from Black's side: rank 4 -> row 3
    assert white[13].all() and not black[13].any()
    assert white[14:18].all() and black[14:18].all()
    assert black[19, 2, 4] == 1 and black[19].sum() == 1  # e3, rank 3 -> row 2 for Black
    np.testing.assert_array_equal(GAME.observation(state), black)  # default: the mover
    assert GAME.symmetries(black, np.ones(NUM_ACTIONS))[0][0] is black


# ---- envs and pictures ---------------------------------------------------------------
def test_aec_env_plays_and_renders():
    from pettingzoo.test import api_test, seed_test

    api_test(AEC_ENVS["chess_v0"].env(max_moves=60), num_cycles=200)
    seed_test(lambda: AEC_ENVS["chess_v0"].env(max_moves=40))
    env = AEC_ENVS["chess_v0"].env(render_mode="rgb_array")
    env.reset(seed=0)
    blank = env.render()
    env.step(GAME.str_to_action("e2e4"))
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.shape[0] % 16 == 0 and frame.shape[1] % 16 == 0
    assert (frame != blank).any()
    ansi = AEC_ENVS["chess_v0"].env(render_mode="ansi")
    ansi.reset()
    assert ansi.render().splitlines()[1] == " 8 r n b q k b n r"


def test_gym_env_checks_and_plays_every_opponent():
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make("simarena/Chess-v0", illegal_move="lose", max_moves=40)
    check_env(env.unwrapped)
    obs, info = env.reset(seed=0)
    assert obs.shape == (20, 8, 8) and info["action_mask"].sum() == 20
    mcts = gymnasium.make("simarena/Chess-v0", opponent="mcts", max_moves=20)
    obs, info = mcts.reset(seed=0)
    first = int(np.flatnonzero(info["action_mask"])[0])
    obs, reward, terminated, truncated, info = mcts.step(first)
    assert info["action_mask"].any() and not terminated
    with pytest.raises(ValueError, match="size"):
        gymnasium.make("simarena/Chess-v0", size=9)


def test_alphazero_player_plays_chess_with_and_without_search():
    """What scripts/uci.py serves for a checkpoint: the network, searched or raw."""
    torch = pytest.importorskip("torch")
    from agents.alphazero.network import NetworkConfig, PolicyValueNet
    from agents.alphazero.player import AlphaZeroPlayer

    torch.manual_seed(0)
    net = PolicyValueNet(NetworkConfig(GAME.obs_shape, GAME.num_actions, blocks=1, channels=8))
    rng = np.random.default_rng(0)
    for simulations in (0, 16):
        player = AlphaZeroPlayer(GAME, net, simulations=simulations)
        state = GAME.initial_state()
        for _ in range(4):
            state = GAME.apply(state, player.act(state, rng))
        assert GAME.ply(state) == 4


@pytest.mark.parametrize(
    "fen, best",
    [
        ("6k1/5ppp/8/8/8/8/8/R5K1 w - - 0 1", {"a1a8"}),  # back-rank mate in one
        # mate in two with a quiet first move (the three that force it, python-chess)
        ("7k/8/5K2/8/8/8/8/1Q6 w - - 0 1", {"f6g6", "b1b7", "b1g1"}),
    ],
)
def test_mcts_finds_the_forced_mate(fen, best):
    """OpenSpiel's check of a search: on solved positions it must find the forced win."""
    from sim.search.mcts import rollout_search

    state = GAME.from_fen(fen)
    visits = rollout_search(state, 400, 0)
    assert GAME.action_to_str(int(np.argmax(visits)), state) in best

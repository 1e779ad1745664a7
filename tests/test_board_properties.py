"""Properties every board game must keep, checked on random games (hypothesis picks the seeds)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.board import GAMES, make_game
from sim.board.base import H_TO_PLAY, BoardGame

# (name, options) of every game and size the suite ships.
CONFIGS = [
    ("connect4", {}),
    ("tictactoe", {}),
    ("othello", {}),
    ("othello", {"size": 6}),
    ("gomoku", {"size": 9}),
    ("go", {"size": 9}),
    ("go", {"size": 5}),
]
IDS = [name + "".join(f"-{k}{v}" for k, v in opts.items()) for name, opts in CONFIGS]

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FEW = settings(max_examples=8, deadline=None, database=None)
SOME = settings(max_examples=16, deadline=None, database=None)


# Module scope: hypothesis refuses function-scoped fixtures under @given.
@pytest.fixture(scope="module", params=CONFIGS, ids=IDS)
def config(request) -> tuple[str, dict]:
    return request.param


@pytest.fixture(scope="module")
def game(config) -> BoardGame:
    name, options = config
    return make_game(name, **options)


def move_bound(game: BoardGame) -> int:
    """Most plies a game can last, from its rules."""
    h, w = game.board_shape
    if game.name == "othello":
        # Every ply either places a stone or passes, and two passes never follow each other.
        return 2 * (h * w - 4)
    if game.name == "go":
        # Superko alone makes Go finite but not short: it ends on its own move cap.
        return game.max_moves
    return h * w  # one stone per ply, never removed: connect4, tictactoe, gomoku


def random_game(game: BoardGame, seed: int) -> tuple[list[int], list[np.ndarray]]:
    """Uniformly random legal moves to the end: the actions and every state, start included."""
    rng = np.random.default_rng(seed)
    state = game.initial_state()
    states, actions = [state], []
    bound = move_bound(game)
    while not game.is_terminal(state):
        assert len(actions) < bound, f"{game!r} still going after {bound} plies"
        a = int(rng.choice(game.legal_actions(state)))
        state = game.apply(state, a)
        actions.append(a)
        states.append(state)
    return actions, states


def some_state(game: BoardGame, seed: int) -> np.ndarray:
    """A state drawn from a random game, the start and the end included."""
    _, states = random_game(game, seed)
    return states[np.random.default_rng(seed + 1).integers(len(states))]


# ---- play --------------------------------------------------------------------


@SOME
@given(seed=SEEDS)
def test_random_play_ends_within_the_move_bound(game, seed):
    actions, states = random_game(game, seed)
    assert len(actions) <= move_bound(game)
    assert [game.ply(s) for s in states] == list(range(len(states)))
    # The kernel itself offers nothing once the game is over (searches call it directly).
    dirty = np.ones(game.num_actions, dtype=np.bool_)
    assert game.rules.legal_mask_into(states[-1], dirty) == 0
    assert not dirty.any()


@FEW
@given(seed=SEEDS)
def test_apply_never_mutates_its_input(game, seed):
    actions, states = random_game(game, seed)
    for state, a, after in zip(states[:-1], actions, states[1:], strict=True):
        before = state.copy()
        again = game.apply(state, a)
        np.testing.assert_array_equal(state, before)
        np.testing.assert_array_equal(again, after)
        assert again is not state


@FEW
@given(seed=SEEDS)
def test_to_play_alternates(game, seed):
    _, states = random_game(game, seed)
    assert game.to_play(states[0]) == 0
    for prev, nxt in zip(states, states[1:], strict=False):
        if not game.is_terminal(nxt):
            assert game.to_play(nxt) == 1 - game.to_play(prev)


@SOME
@given(seed=SEEDS)
def test_final_returns_are_zero_sum(game, seed):
    _, states = random_game(game, seed)
    final = states[-1]
    r0, r1 = game.returns(final)
    assert r0 + r1 == 0 and r0 in (-1.0, 0.0, 1.0)
    w = game.winner(final)
    assert (r0, r1) == {None: (0.0, 0.0), 0: (1.0, -1.0), 1: (-1.0, 1.0)}[w]
    for s in states[:-1]:
        assert game.returns(s) == (0.0, 0.0) and game.winner(s) is None


@FEW
@given(seed=SEEDS)
def test_same_seed_same_game(config, game, seed):
    actions_a, states_a = random_game(game, seed)
    actions_b, states_b = random_game(make_game(config[0], **config[1]), seed)
    assert actions_a == actions_b
    for a, b in zip(states_a, states_b, strict=True):
        np.testing.assert_array_equal(a, b)


# ---- legality ----------------------------------------------------------------


@SOME
@given(seed=SEEDS)
def test_legal_mask_is_exactly_the_moves_apply_accepts(game, seed):
    state = some_state(game, seed)
    snapshot = state.copy()
    mask = game.legal_mask(state)
    assert mask.dtype == np.bool_ and mask.shape == (game.num_actions,)
    np.testing.assert_array_equal(game.legal_actions(state), np.flatnonzero(mask))
    if not game.is_terminal(state):
        assert mask.any()
        # The kernel writes every entry, whatever the buffer held, and counts them.
        dirty = np.ones(game.num_actions, dtype=np.bool_)
        assert game.rules.legal_mask_into(state, dirty) == mask.sum()
        np.testing.assert_array_equal(dirty, mask)
    is_legal = game.rules.is_legal
    assert not is_legal(state, -1) and not is_legal(state, game.num_actions)
    for a in range(game.num_actions):
        assert is_legal(state, a) == mask[a]
        if mask[a]:
            child = game.apply(state, a)
            assert game.ply(child) == game.ply(state) + 1
        else:
            with pytest.raises(ValueError, match=game.name):
                game.apply(state, a)
        np.testing.assert_array_equal(state, snapshot)


@SOME
@given(
    seed=SEEDS,
    junk=st.one_of(
        st.integers(max_value=-1),
        st.integers(min_value=10_000),
        st.floats(allow_nan=True),
        st.text(max_size=3),
        st.none(),
        st.booleans(),
    ),
)
def test_illegal_moves_raise_and_change_nothing(game, seed, junk):
    state = some_state(game, seed)
    snapshot = state.copy()
    with pytest.raises(ValueError, match=game.name):
        game.apply(state, junk)
    np.testing.assert_array_equal(state, snapshot)
    # Out of range, including ints too big for the int64 kernels.
    for bad in (-1, game.num_actions, 2**63, -(2**63) - 1, 10**30):
        with pytest.raises(ValueError, match=game.name):
            game.apply(state, bad)
        np.testing.assert_array_equal(state, snapshot)


# ---- notation ----------------------------------------------------------------


@SOME
@given(seed=SEEDS)
def test_move_text_round_trips(game, seed):
    actions, states = random_game(game, seed)
    text = game.format_moves(actions)
    assert game.parse_moves(text) == actions
    np.testing.assert_array_equal(game.from_moves(text), states[-1])
    for a in range(game.num_actions):
        assert game.str_to_action(game.action_to_str(a)) == a


# ---- views -------------------------------------------------------------------


@FEW
@given(seed=SEEDS)
def test_observation_and_board_are_well_formed(game, seed):
    _, states = random_game(game, seed)
    for s in states:
        obs = game.observation(s)
        assert obs.shape == game.obs_shape and obs.dtype == np.float32
        assert obs.min() >= 0.0 and obs.max() <= 1.0
        board = game.board(s)
        assert board.shape == game.board_shape
        assert set(np.unique(board)) <= {0, 1, 2}
        # Planes 0 and 1 are the mover's stones and the opponent's.
        mover = int(s[H_TO_PLAY]) + 1
        np.testing.assert_array_equal(obs[0], board == mover)
        np.testing.assert_array_equal(obs[1], board == 3 - mover)


@FEW
@given(seed=SEEDS)
def test_symmetries_permute_policy_and_keep_plane_shape(game, seed):
    state = some_state(game, seed)
    planes = game.observation(state)
    policy = np.random.default_rng(seed).permutation(game.num_actions).astype(np.float32)
    syms = game.symmetries(planes, policy)
    assert len(syms) == (2 if game.name == "connect4" else 8)
    h, w = game.board_shape
    for p, q in syms:
        assert p.shape == planes.shape
        assert q.shape == policy.shape
        np.testing.assert_array_equal(np.sort(q), np.sort(policy))
        # Each plane is rearranged, never altered: the same multiset of values.
        for c in range(planes.shape[0]):
            np.testing.assert_array_equal(np.sort(p[c], axis=None), np.sort(planes[c], axis=None))
        if game.num_actions > h * w:
            np.testing.assert_array_equal(q[h * w :], policy[h * w :])  # pass stays put
    assert len({q.tobytes() for _, q in syms}) == len(syms)  # all distinct
    assert any(np.array_equal(p, planes) and np.array_equal(q, policy) for p, q in syms)


def test_symmetries_move_planes_and_policy_together(game):
    """A plane labelling each point with its action must still agree with the policy."""
    h, w = game.board_shape
    if game.name == "connect4":
        # Actions are columns: label every point with its column.
        labels = np.broadcast_to(np.arange(w, dtype=np.float32), (h, w))
    else:
        labels = np.arange(h * w, dtype=np.float32).reshape(h, w)
    planes = np.stack([labels, -labels])
    policy = np.arange(game.num_actions, dtype=np.float32)
    for p, q in game.symmetries(planes, policy):
        if game.name == "connect4":
            for r in range(h):
                np.testing.assert_array_equal(p[0, r], q)
        else:
            np.testing.assert_array_equal(p[0].reshape(-1), q[: h * w])
        np.testing.assert_array_equal(p[1], -p[0])


# ---- registry ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["nope", "", "Connect4", "go9x9"])
def test_unknown_game_is_refused(name):
    with pytest.raises(ValueError, match="unknown game"):
        make_game(name)


def test_every_registered_game_is_covered():
    # Chess has its own tests against python-chess (tests/test_chess.py).
    assert {name for name, _ in CONFIGS} == set(GAMES) - {"chess"}

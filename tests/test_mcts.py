"""MCTS (sim.search): forced wins and blocks on solved positions (OpenSpiel style), PUCT
visit shares, batched search with virtual loss, MCTS-solver, tree reuse, determinism."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from sim.board import kernels, make_game
from sim.board.base import CONNECT4, H_PLY, H_TO_PLAY, H_WINNER, ONGOING
from sim.search.mcts import ROLLOUT, UNIFORM, BatchedMCTS, rollout_search

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "connect4"


def best(state, simulations=3000, seed=0):
    return int(np.argmax(rollout_search(state, simulations, seed)))


# ---- evaluators ---------------------------------------------------------------------
def uniform_evaluator(obs: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Uniform priors, value 0: PUCT then spreads visits by the priors alone."""
    return np.ones(legal.shape, np.float32), np.zeros(len(obs), np.float32)


TTT_LINES = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)]


@functools.cache
def ttt_value(mine: int, theirs: int) -> int:
    """Exact tic-tac-toe value for the player to move (cells as bits), by plain negamax."""
    if any(all(theirs >> c & 1 for c in line) for line in TTT_LINES):
        return -1
    empty = [c for c in range(9) if not (mine | theirs) >> c & 1]
    if not empty:
        return 0
    return max(-ttt_value(theirs, mine | 1 << c) for c in empty)


def ttt_exact_evaluator(obs, legal):
    """A perfect tic-tac-toe evaluator: exact values, uniform priors (planes: mover, other)."""
    weights = 1 << np.arange(9)
    values = [
        ttt_value(int(o[0].reshape(-1) @ weights), int(o[1].reshape(-1) @ weights)) for o in obs
    ]
    return np.ones(legal.shape, np.float32), np.array(values, np.float32)


def connect4_state_from_planes(planes: np.ndarray) -> np.ndarray:
    """The Connect Four state whose observation is ``planes`` (mover's stones, other's)."""
    position = mask = 0
    for col in range(7):
        for row in range(6):
            bit = 1 << (col * 7 + row)
            if planes[0, 5 - row, col]:
                position |= bit
                mask |= bit
            elif planes[1, 5 - row, col]:
                mask |= bit
    ply = bin(mask).count("1")
    return np.array([CONNECT4, ply % 2, ONGOING, ply, 7, position, mask, 0], np.int64)


def connect4_solver_evaluator(obs, legal):
    """Exact Connect Four values (the solver, win/draw/loss), uniform priors."""
    from sim.board.connect4_solver import solve_state

    values = [solve_state(connect4_state_from_planes(o), weak=True) for o in obs]
    return np.ones(legal.shape, np.float32), np.array(values, np.float32)


def check_tree(mcts: BatchedMCTS, b: int) -> None:
    """Structural invariants of game ``b``'s tree: links, states, movers, visit sums."""
    t = mcts.tree
    size = int(t.size[b])
    assert t.parent[b, 0] == -1 and not t.virtual[b, :size].any()
    for node in range(1, size):
        up, a = t.parent[b, node], t.action_in[b, node]
        assert 0 <= up < node and t.children[b, up, a] == node
        replay = t.states[b, up].copy()
        kernels.play(replay, a)
        assert np.array_equal(replay, t.states[b, node])
        assert t.mover[b, node] == t.states[b, up, H_TO_PLAY]
    for node in range(size):
        kids = t.children[b, node][t.children[b, node] >= 0]
        assert (kids < size).all()
        # Every visit but the node's own evaluation went on to a child.
        if t.expanded[b, node] and not t.proven[b, node]:
            assert t.visits[b, node] == 1 + t.visits[b, kids].sum()


def mcts_for(game, batch=1, capacity=4000, **options) -> BatchedMCTS:
    return BatchedMCTS.for_game(game, batch, capacity, **options)


# ---- rollout_search (the envs' "mcts" opponent) -----------------------------------------
def test_tictactoe_takes_win_in_one():
    g = make_game("tictactoe")
    # X: a3 b3, O: a1 b1 ; X to move wins at c3.
    s = g.from_moves("a3 a1 b3 b1")
    assert g.action_to_str(best(s)) == "c3"


def test_tictactoe_blocks_win_in_one():
    g = make_game("tictactoe")
    # X a3, O b2, X c1, O a2: O threatens c2, which X must take.
    s = g.from_moves("a3 b2 c1 a2")
    assert g.action_to_str(best(s)) == "c2"


def test_tictactoe_perfect_play_draws():
    """Both sides searching: tic-tac-toe is a draw under perfect play."""
    g = make_game("tictactoe")
    s = g.initial_state()
    for i in range(9):
        if g.is_terminal(s):
            break
        s = g.apply(s, best(s, simulations=4000, seed=i))
    assert g.is_terminal(s) and g.winner(s) is None


def test_connect4_win_in_one_and_forced_block():
    g = make_game("connect4")
    # X has 3 in the bottom row (cols 4,5,6); wins at 3 or 7.
    assert best(g.from_moves("445566")) in (2, 6)
    # X: 1,1,1 stacked in column 1 (moves 1 2 1 2 1 ... O must block column 1).
    assert best(g.from_moves("12121")) == 0


def test_connect4_forced_win_in_two():
    """X to move: playing column 3 makes two threats (cols 2 and 6), a forced win."""
    g = make_game("connect4")
    s = g.from_moves("4455")  # X: d1 e1, O: d2 e2; X plays c1 or f1 -> open three, wins.
    a = best(s, simulations=20000)
    assert a in (2, 5), a


def test_deterministic_for_seed_and_pure():
    g = make_game("connect4")
    s = g.from_moves("4433")
    before = s.copy()
    a = rollout_search(s, 500, seed=7)
    b = rollout_search(s, 500, seed=7)
    assert np.array_equal(a, b)
    assert np.array_equal(s, before)
    assert a.sum() == 500
    # Illegal actions never get visits.
    full = g.from_moves("444444")
    counts = rollout_search(full, 300, seed=1)
    assert counts[3] == 0 and counts.sum() == 300


def test_bad_input():
    g = make_game("tictactoe")
    with pytest.raises(ValueError, match="over"):
        rollout_search(g.from_moves("a1 a2 b1 b2 c1"), 10, 0)
    with pytest.raises(ValueError, match="simulations"):
        rollout_search(g.initial_state(), 0, 0)


def test_connect4_finds_the_forced_wins_of_pons_end_game_set():
    """Every won end-game position (Test_L3_R1, first 300 lines) whose win needs at most
    4 more stones of the winner: the most visited move must keep the win (by the solver)."""
    path = SHARED / "Test_L3_R1"
    if not path.exists():
        pytest.skip(f"{path} is absent (CI has ../shared beside the checkout)")
    from sim.board.connect4_solver import analyze

    g = make_game("connect4")
    checked = 0
    for line in path.read_text().splitlines()[:300]:
        moves, score = line.split()
        stones_to_win = (43 - len(moves)) // 2 - int(score) + 1
        if int(score) <= 0 or stones_to_win > 4:
            continue
        action = best(g.from_moves(moves), simulations=3000)
        assert analyze(moves)[action] > 0, f"{moves}: {action + 1} throws the win away"
        checked += 1
    assert checked >= 50


# ---- PUCT visit shares -------------------------------------------------------------------
def test_uniform_evaluator_spreads_visits_evenly_on_the_empty_board():
    """Equal priors, value 0 everywhere (no game ends within reach of 70 simulations):
    PUCT must visit the 7 columns equally, whatever the batching."""
    g = make_game("connect4")
    for leaves in (1, 5, 7):
        m = mcts_for(g, batch=3, capacity=100, c_puct=1.5)
        m.reset(np.stack([g.initial_state()] * 3))
        result = m.search(uniform_evaluator, 70, leaves_per_step=leaves)
        assert (result.visits == 10).all(), (leaves, result.visits)
        assert np.allclose(result.values, 0.0)
        check_tree(m, 2)


def test_visits_follow_the_priors_when_values_are_equal():
    """With Q = 0 PUCT picks argmax P(a) / (1 + N(a)) each time, so at the end every
    visited a and every b have P(a) / N(a) >= P(b) / (1 + N(b)), a greedy allocation."""
    g = make_game("connect4")
    priors = np.array([0.4, 0.2, 0.1, 0.1, 0.1, 0.05, 0.05], np.float32)

    def skewed(obs, legal):
        return np.tile(priors, (len(obs), 1)), np.zeros(len(obs), np.float32)

    m = mcts_for(g, capacity=400)
    m.reset(g.initial_state()[None])
    n = m.search(skewed, 300).visits[0]
    assert n.sum() == 300
    for a in range(7):
        for b in range(7):
            if n[a] > 0:
                assert priors[a] / n[a] >= priors[b] / (1 + n[b]) - 1e-9
    # And the priors the tree kept are the evaluator's, renormalized over legal moves.
    assert np.allclose(m.tree.prior[0, 0], priors / priors.sum())


def test_illegal_actions_get_no_prior_and_no_visit():
    g = make_game("connect4")
    s = g.from_moves("444444")  # column 4 full
    m = mcts_for(g)
    m.reset(s[None])
    visits = m.search(uniform_evaluator, 200).visits[0]
    assert visits[3] == 0 and visits.sum() == 200
    assert m.tree.prior[0, 0, 3] == 0 and np.isclose(m.tree.prior[0, 0].sum(), 1.0)


def test_values_are_taken_from_the_view_of_the_player_to_move_at_the_leaf():
    """An evaluator saying "player_0 is winning" at every leaf (it reads the mover off the
    stone count): the root value is +1 for player_0 to move, -1 for player_1 to move."""
    g = make_game("connect4")

    def player0_wins(obs, legal):
        stones = obs.sum(axis=(1, 2, 3))
        to_play = stones.astype(int) % 2
        return np.ones(legal.shape, np.float32), np.where(to_play == 0, 1.0, -1.0)

    m = mcts_for(g, batch=2)
    m.reset(np.stack([g.from_moves("44"), g.from_moves("445")]))
    values = m.search(player0_wins, 100).values
    assert np.allclose(values, [1.0, -1.0])


def test_the_evaluator_gets_the_leaf_observations_and_legal_masks():
    g = make_game("othello", size=6)
    seen = []

    def recorder(obs, legal):
        seen.append((obs.copy(), legal.copy()))
        return uniform_evaluator(obs, legal)

    s = g.initial_state()
    m = mcts_for(g, capacity=100)
    m.reset(s[None])
    m.search(recorder, 20)
    obs, legal = seen[0]  # the first call evaluates the root
    assert np.array_equal(obs[0], g.observation(s)) and np.array_equal(legal[0], g.legal_mask(s))


# ---- forced wins and blocks with a search and an evaluator -------------------------------
@pytest.mark.parametrize("evaluator", ["rollouts", "exact"])
def test_tictactoe_wins_and_blocks(evaluator):
    g = make_game("tictactoe")
    positions = {"a3 a1 b3 b1": {"c3"}, "a3 b2 c1 a2": {"c2"}, "b2 a1 c3 a3": {"a2"}}
    m = mcts_for(g, batch=len(positions), capacity=1000)
    m.reset(np.stack([g.from_moves(p) for p in positions]))
    if evaluator == "rollouts":
        m.search_builtin(600, evaluator=ROLLOUT)
    else:
        m.search(ttt_exact_evaluator, 300, leaves_per_step=4)
    for b, (moves, answers) in enumerate(positions.items()):
        assert g.action_to_str(int(m.select_actions()[b])) in answers, moves
        assert g.action_to_str(int(np.argmax(m.result().visits[b]))) in answers, moves


def connect4_wins_from_pons(count: int, max_stones: int) -> list[str]:
    path = SHARED / "Test_L3_R1"
    if not path.exists():
        pytest.skip(f"{path} is absent (CI has ../shared beside the checkout)")
    out = []
    for line in path.read_text().splitlines():
        moves, score = line.split()
        if int(score) > 0 and (43 - len(moves)) // 2 - int(score) + 1 <= max_stones:
            out.append(moves)
        if len(out) == count:
            break
    return out


def test_connect4_wins_with_the_solver_as_evaluator():
    """A perfect value function: the most visited move keeps the win."""
    from sim.board.connect4_solver import analyze

    g = make_game("connect4")
    positions = connect4_wins_from_pons(8, max_stones=6)
    m = mcts_for(g, batch=len(positions), capacity=300)
    m.reset(np.stack([g.from_moves(p) for p in positions]))
    m.search(connect4_solver_evaluator, 200, leaves_per_step=4)
    for moves, action in zip(positions, m.select_actions(), strict=True):
        assert analyze(moves)[action] > 0, moves


def test_batched_virtual_loss_search_agrees_with_sequential_search():
    """On won end-game positions, 8 leaves per step under virtual loss find a winning
    move as the sequential search does (the same move where only one wins)."""
    from sim.board.connect4_solver import analyze

    g = make_game("connect4")
    positions = connect4_wins_from_pons(40, max_stones=4)
    states = np.stack([g.from_moves(p) for p in positions])
    moves = {}
    for leaves in (0, 8):
        m = mcts_for(g, batch=len(positions), capacity=2001, c_puct=1.4, fpu=np.inf, seed=3)
        m.reset(states)
        m.search_builtin(2000, leaves_per_step=leaves, evaluator=ROLLOUT)
        moves[leaves] = np.argmax(m.result().visits, axis=1)
        check_tree(m, 0)
    for p, seq, batched in zip(positions, moves[0], moves[8], strict=True):
        scores = analyze(p)
        assert scores[seq] > 0 and scores[batched] > 0, p
        if (scores > 0).sum() == 1:
            assert seq == batched, p


def test_virtual_loss_sends_the_leaves_of_a_step_apart():
    g = make_game("connect4")
    calls = []

    def recorder(obs, legal):
        calls.append(obs.copy())
        return uniform_evaluator(obs, legal)

    m = mcts_for(g, capacity=200)
    m.reset(g.initial_state()[None])
    m.search(recorder, 64, leaves_per_step=8)
    assert len(calls[1]) == 7  # the root's 7 children, then the 8th path collides
    for obs in calls[1:]:
        flat = obs.reshape(len(obs), -1)
        assert len(np.unique(flat, axis=0)) == len(flat)  # no leaf evaluated twice
    check_tree(m, 0)


# ---- MCTS-solver -----------------------------------------------------------------------
def test_solver_proves_a_win_in_one_and_plays_it():
    g = make_game("tictactoe")
    m = mcts_for(g, capacity=200)
    m.reset(g.from_moves("a3 a1 b3 b1")[None])
    result = m.search(uniform_evaluator, 100)
    c3 = g.str_to_action("c3")
    assert m.proven()[0, c3] == 1 and result.values[0] == 1.0
    assert m.select_actions(temperature=1.0)[0] == c3


def test_solver_proves_a_connect4_win_in_two_and_the_loss_behind_it():
    g = make_game("connect4")
    m = mcts_for(g, batch=2, capacity=3000, c_puct=1.4, fpu=np.inf)
    # X to move wins with column 3 or 6; after "44553" O faces two threats and loses.
    m.reset(np.stack([g.from_moves("4455"), g.from_moves("44553")]))
    result = m.search_builtin(2000, evaluator=ROLLOUT)
    proven = m.proven()
    assert set(np.flatnonzero(proven[0] == 1)) <= {2, 5} and (proven[0] == 1).any()
    assert result.values[0] == 1.0 and m.select_actions()[0] in (2, 5)
    assert (proven[1] == -1).all() and result.values[1] == -1.0


def test_solver_scores_a_forced_draw_as_zero():
    g = make_game("tictactoe")
    s = g.from_moves("a3 b3 b1 a1 c3 c1")  # three empty cells, every line of play draws
    m = mcts_for(g, capacity=200)
    m.reset(s[None])
    result = m.search(uniform_evaluator, 100)
    assert result.values[0] == 0.0 and (m.proven()[0][g.legal_mask(s)] == 0).all()
    assert m.tree.proven[0, 0]


def test_solver_avoids_a_move_proven_to_lose():
    """O to move must block c2: every other move loses at once, and is never played."""
    g = make_game("tictactoe")
    s = g.from_moves("c1 b2 c3")  # X threatens c2
    m = mcts_for(g, capacity=300)
    m.reset(s[None])
    m.search(uniform_evaluator, 200)
    proven = m.proven()[0]
    c2 = g.str_to_action("c2")
    assert (proven[np.flatnonzero(g.legal_mask(s))] != 1).all()
    assert (np.delete(proven, c2)[np.delete(g.legal_mask(s), c2)] == -1).sum() >= 3
    for seed in range(5):
        rng = np.random.default_rng(seed)
        assert m.select_actions(temperature=1.0, rng=rng)[0] == c2


# ---- tree reuse, noise, determinism, capacity -------------------------------------------------
def test_advance_keeps_the_subtree_and_its_visits():
    g = make_game("connect4")
    m = mcts_for(g, batch=2, capacity=2000)
    m.reset(np.stack([g.initial_state(), g.from_moves("44")]))
    m.search(uniform_evaluator, 400)
    child = int(m.tree.children[0, 0, 3])
    child_visits = int(m.tree.visits[0, child])
    grandchildren = m.tree.children[0, child]
    expected = np.where(grandchildren >= 0, m.tree.visits[0, np.maximum(grandchildren, 0)], 0)
    m.advance(0, 3)
    assert m.tree.visits[0, 0] == child_visits
    assert np.array_equal(m.result().visits[0], expected)
    assert np.array_equal(m.root_states()[0], g.from_moves("4"))
    check_tree(m, 0)
    check_tree(m, 1)  # the other game is untouched
    # Searching on adds exactly the new simulations to the kept visits.
    m.search(uniform_evaluator, 100)
    assert m.result().visits[0].sum() == expected.sum() + 100
    check_tree(m, 0)


def test_advance_to_an_unexplored_move_gives_a_lone_root():
    g = make_game("tictactoe")
    s = g.from_moves("a3 a1 b3 b1")
    m = mcts_for(g, capacity=50)
    m.reset(s[None])
    m.search(uniform_evaluator, 1)
    unexplored = [a for a in g.legal_actions(s) if m.tree.children[0, 0, a] < 0]
    m.advance(0, unexplored[0])
    assert m.tree.size[0] == 1 and not m.tree.expanded[0, 0]
    assert np.array_equal(m.root_states()[0], g.apply(s, unexplored[0]))
    with pytest.raises(ValueError, match="illegal"):
        m.advance(0, g.str_to_action("a1"))  # taken
    m.search(uniform_evaluator, 5)
    check_tree(m, 0)


def test_search_skips_finished_games():
    g = make_game("tictactoe")
    m = mcts_for(g, batch=2, capacity=50)
    m.reset(np.stack([g.from_moves("a1 a2 b1 b2 c1"), g.initial_state()]))
    result = m.search(uniform_evaluator, 20)
    assert result.visits[0].sum() == 0 and result.values[0] == -1.0  # X won; O to move
    assert result.visits[1].sum() == 20
    assert m.select_actions()[0] == -1


def test_dirichlet_noise_is_seeded_and_keeps_priors_on_legal_moves():
    g = make_game("connect4")
    s = g.from_moves("444444")

    def root_priors(seed):
        m = mcts_for(g, capacity=100, dirichlet_fraction=0.25, dirichlet_alpha=0.5, seed=seed)
        m.reset(s[None])
        m.search(uniform_evaluator, 10)
        return m.tree.prior[0, 0].copy()

    p = root_priors(1)
    assert np.isclose(p.sum(), 1.0) and p[3] == 0 and not np.allclose(p[p > 0], 1 / 6)
    assert np.array_equal(p, root_priors(1)) and not np.array_equal(p, root_priors(2))


def test_search_is_deterministic_and_leaves_inputs_alone():
    g = make_game("connect4")
    states = np.stack([g.from_moves("4433"), g.from_moves("1")])
    before = states.copy()

    def run(seed):
        m = mcts_for(g, batch=2, capacity=600, dirichlet_fraction=0.25, seed=seed)
        m.reset(states)
        m.search_builtin(300, leaves_per_step=4, evaluator=ROLLOUT)
        return m.result().visits

    assert np.array_equal(run(5), run(5)) and not np.array_equal(run(5), run(6))
    assert np.array_equal(states, before)


def test_capacity_is_checked_and_a_full_reused_tree_restarts():
    g = make_game("connect4")
    m = mcts_for(g, capacity=150)
    with pytest.raises(ValueError, match="reset"):
        m.search(uniform_evaluator, 10)
    m.reset(g.initial_state()[None])
    with pytest.raises(ValueError, match="capacity"):
        m.search(uniform_evaluator, 150)
    m.search(uniform_evaluator, 100)
    m.search(uniform_evaluator, 100)  # 201 nodes would not fit: the tree restarts
    assert m.restarts == 1 and m.result().visits[0].sum() == 100
    check_tree(m, 0)


def test_a_failing_evaluator_leaves_a_usable_tree():
    g = make_game("connect4")
    m = mcts_for(g, capacity=300)
    m.reset(g.initial_state()[None])
    m.search(uniform_evaluator, 20)

    def wrong_shape(obs, legal):
        return np.ones((len(obs), 3), np.float32), np.zeros(len(obs), np.float32)

    with pytest.raises(ValueError, match="priors of shape"):
        m.search(wrong_shape, 20, leaves_per_step=4)
    m.search(uniform_evaluator, 50)
    assert m.result().visits[0].sum() >= 70
    check_tree(m, 0)


def test_temperature_policy():
    g = make_game("connect4")
    m = mcts_for(g, capacity=100)
    m.reset(g.initial_state()[None])
    m.search(uniform_evaluator, 70)
    assert np.allclose(m.policy(1.0), 1 / 7) and np.allclose(m.policy(0.0), 1 / 7)
    m.advance(0, 3)
    m.search(uniform_evaluator, 30)
    visits = m.result().visits[0]
    assert np.allclose(m.policy(1.0)[0], visits / visits.sum())
    assert np.allclose(m.policy(0.5)[0], visits**2 / (visits**2).sum())


@pytest.mark.parametrize(
    ("name", "options"), [("othello", {"size": 6}), ("gomoku", {"size": 9}), ("go", {"size": 9})]
)
def test_other_games(name, options):
    """Passes (Othello, Go), big action spaces (Gomoku): legal visits only, sound trees."""
    g = make_game(name, **options)
    m = mcts_for(g, batch=2, capacity=400)
    m.reset(np.stack([g.initial_state()] * 2))
    visits = m.search(uniform_evaluator, 200, leaves_per_step=4).visits
    legal = g.legal_mask(g.initial_state())
    assert (visits[:, ~legal] == 0).all() and (visits.sum(axis=1) == 200).all()
    m.search_builtin(100, evaluator=UNIFORM)
    check_tree(m, 1)
    assert m.tree.states[0, 0, H_WINNER] == ONGOING and m.tree.states[0, 0, H_PLY] == 0


# ---- Gumbel root selection ---------------------------------------------------------------
@pytest.mark.parametrize("leaves", [1, 4])
def test_gumbel_sequential_halving_splits_the_budget_by_phases(leaves):
    """32 simulations over 7 considered actions: ceil(log2 7) = 3 phases; 1 visit each,
    then 2 each for the best 4, then the remaining 17 round-robin over the best 2."""
    g = make_game("connect4")
    m = mcts_for(g, batch=2, capacity=100, seed=4)
    m.reset(np.stack([g.initial_state(), g.from_moves("4")]))
    result = m.search_gumbel(uniform_evaluator, 32, leaves_per_step=leaves)
    for b in range(2):
        assert sorted(result.visits[b], reverse=True) == [12, 11, 3, 3, 1, 1, 1]
        # Equal values: the halving keeps the best Gumbel draws; the winner is the first.
        assert result.visits[b, result.actions[b]] == 12
        assert np.isclose(result.policy[b].sum(), 1.0)
    check_tree(m, 0)


def test_gumbel_considers_only_the_top_actions_and_is_seeded():
    g = make_game("connect4")

    def run(seed):
        m = mcts_for(g, capacity=100, seed=seed)
        m.reset(g.initial_state()[None])
        return m.search_gumbel(uniform_evaluator, 16, max_considered=4)

    first = run(1)
    assert sorted(first.visits[0], reverse=True) == [6, 6, 2, 2, 0, 0, 0]
    assert np.array_equal(first.visits, run(1).visits)
    assert any(not np.array_equal(first.visits, run(seed).visits) for seed in (2, 3, 4))


def test_gumbel_wins_and_blocks_on_a_small_budget():
    g = make_game("tictactoe")
    positions = {"a3 a1 b3 b1": "c3", "a3 b2 c1 a2": "c2", "b2 a1 c3 a3": "a2"}
    m = mcts_for(g, batch=len(positions), capacity=50, seed=0)
    m.reset(np.stack([g.from_moves(p) for p in positions]))
    result = m.search_gumbel(ttt_exact_evaluator, 8)
    for b, (moves, answer) in enumerate(positions.items()):
        assert g.action_to_str(int(result.actions[b])) == answer, moves
        legal = g.legal_mask(g.from_moves(moves))
        assert result.policy[b][~legal].sum() == 0
        assert np.argmax(result.policy[b]) == g.str_to_action(answer), moves


def test_greedy_choice_skips_the_most_visited_move_once_it_is_proven_lost():
    """The search may pour visits into a move before proving it lost; at temperature 0
    the most visited of the other moves is played."""
    g = make_game("tictactoe")
    s = g.from_moves("c1 b2 c3")  # O must block c2; every other move loses
    a1 = g.str_to_action("a1")

    def fond_of_a1(obs, legal):  # a prior that wants a1 and a value that likes it
        priors = np.where(legal, 0.01, 0.0).astype(np.float32)
        priors[:, a1] = np.where(legal[:, a1], 10.0, 0.0)
        return priors, np.zeros(len(obs), np.float32)

    m = mcts_for(g, capacity=300)
    m.reset(s[None])
    for _ in range(50):  # one simulation at a time, until a1 is proven lost
        m.search(fond_of_a1, 1)
        if m.proven()[0, a1] == -1:
            break
    visits, proven = m.result().visits[0], m.proven()[0]
    assert proven[a1] == -1 and visits[a1] == visits.max() > 0
    others = np.where(g.legal_mask(s) & (proven != -1), visits, -1)
    chosen = m.select_actions(temperature=0.0)[0]
    assert chosen != a1 and others[chosen] == others.max() >= 0

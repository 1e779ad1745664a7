"""Monte Carlo tree search over pure game states, in Numba.

One search serves every game of :mod:`sim.board` (it steps states through
:mod:`sim.board.kernels`) and is agnostic of the evaluator: a leaf is valued here by a
random rollout, and the tree keeps priors per edge so that a network can supply them.

The tree is a set of preallocated arrays (mctx style); node 0 is the root and every
simulation adds at most one node, so ``capacity = simulations + 1`` always suffices::

    states     int64[N, S]    game state at each node
    parent     int32[N]       parent node, -1 at the root
    children   int32[N, A]    child reached by each action, -1 while unexplored
    prior      float32[N, A]  prior of each action; 0 for illegal ones
    visits     int32[N]       simulations that passed through the node
    value_sum  float64[N]     summed values, from the view of the player who moved into it
    mover      int8[N]        that player (0 or 1); the root's is the opponent of its mover
    expanded   bool[N]        priors set (legal moves known)

Values are +1 win, -1 loss, 0 draw. Selection is UCB1 over child values (unvisited
children first, in random order) with exploration constant ``c_uct``; a terminal node
is scored exactly on every visit.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.board import kernels
from sim.board.base import DRAW, H_TO_PLAY, H_WINNER, ONGOING


@njit(cache=True)
def _value_for(winner: int, player: int) -> float:
    if winner == DRAW or winner == ONGOING:
        return 0.0
    return 1.0 if winner == player else -1.0


@njit(cache=True)
def _expand(states, prior, expanded, node, mask) -> int:
    """Set uniform priors over the legal actions of ``node``; return how many there are."""
    n = kernels.legal_mask_into(states[node], mask)
    for a in range(mask.shape[0]):
        prior[node, a] = (1.0 / n) if mask[a] else 0.0
    expanded[node] = True
    return n


@njit(cache=True)
def _select_ucb(children, prior, visits, value_sum, node, c_uct) -> int:
    """UCB1 over the legal actions of ``node``: an unexplored one first (random), else max UCB."""
    num_actions = prior.shape[1]
    unexplored = 0
    for a in range(num_actions):
        if prior[node, a] > 0.0 and children[node, a] < 0:
            unexplored += 1
    if unexplored > 0:
        k = np.random.randint(unexplored)
        for a in range(num_actions):
            if prior[node, a] > 0.0 and children[node, a] < 0:
                if k == 0:
                    return a
                k -= 1
    log_n = math.log(max(visits[node], 1))
    best, best_score = -1, -np.inf
    for a in range(num_actions):
        if prior[node, a] > 0.0:
            c = children[node, a]
            score = value_sum[c] / visits[c] + c_uct * math.sqrt(log_n / visits[c])
            if score > best_score:
                best, best_score = a, score
    return best


@njit(cache=True)
def rollout_search_kernel(
    root_state: np.ndarray, simulations: int, seed: int, c_uct: float
) -> np.ndarray:
    np.random.seed(seed)
    num_actions = kernels.num_actions(root_state)
    capacity = simulations + 1
    states = np.empty((capacity, root_state.shape[0]), dtype=np.int64)
    parent = np.full(capacity, -1, dtype=np.int32)
    children = np.full((capacity, num_actions), -1, dtype=np.int32)
    prior = np.zeros((capacity, num_actions), dtype=np.float32)
    visits = np.zeros(capacity, dtype=np.int32)
    value_sum = np.zeros(capacity, dtype=np.float64)
    mover = np.zeros(capacity, dtype=np.int8)
    expanded = np.zeros(capacity, dtype=np.bool_)
    mask = np.zeros(num_actions, dtype=np.bool_)
    scratch = np.empty_like(root_state)

    states[0] = root_state
    mover[0] = 1 - root_state[H_TO_PLAY]
    size = 1
    for _ in range(simulations):
        node = 0
        # Selection: descend until a terminal node or a new child.
        while True:
            if states[node, H_WINNER] != ONGOING:
                winner = states[node, H_WINNER]
                break
            if not expanded[node]:
                _expand(states, prior, expanded, node, mask)
            a = _select_ucb(children, prior, visits, value_sum, node, c_uct)
            child = children[node, a]
            if child < 0:
                # Expansion: one new node per simulation, valued by a random rollout.
                child = size
                size += 1
                states[child] = states[node]
                kernels.play(states[child], a)
                parent[child] = node
                mover[child] = states[node, H_TO_PLAY]
                children[node, a] = child
                scratch[:] = states[child]
                winner = kernels.random_playout(scratch, 100_000)
                node = child
                break
            node = child
        # Backup along the path; each node keeps the value for the player who moved into it.
        while node >= 0:
            visits[node] += 1
            value_sum[node] += _value_for(winner, mover[node])
            node = parent[node]

    counts = np.zeros(num_actions, dtype=np.float64)
    for a in range(num_actions):
        c = children[0, a]
        if c >= 0:
            counts[a] = visits[c]
    return counts


def rollout_search(
    state: np.ndarray, simulations: int, seed: int, c_uct: float = 1.4
) -> np.ndarray:
    """Visit counts per action after ``simulations`` UCT simulations with random rollouts.

    ``state`` is any :mod:`sim.board` state whose game is not over; it is not modified.
    The search is deterministic for a given ``seed``.
    """
    if state[H_WINNER] != ONGOING:
        raise ValueError("rollout_search: the game is already over")
    if simulations < 1:
        raise ValueError(f"rollout_search: simulations must be >= 1, got {simulations}")
    return rollout_search_kernel(
        np.ascontiguousarray(state, dtype=np.int64),
        int(simulations),
        int(seed) & 0x7FFFFFFF,
        float(c_uct),
    )

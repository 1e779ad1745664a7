"""A batch of search trees as preallocated arrays, and the Numba phases that grow them.

One tree per game of a batch of ``B`` concurrent games, each with room for ``N`` nodes
(mctx style: no per-node objects, no recursion). Node 0 of each tree is its root; a
simulation adds at most one node, and :func:`advance` compacts the kept subtree back to
the front, so a tree of capacity ``N`` always has room for ``N - size`` simulations.

The evaluator (a network, a rollout, anything) is not called from here: a Numba
function cannot take it as an argument and still be cached. A search is a loop of
phases driven by the caller (:mod:`sim.search.mcts`)::

    select_leaves  descend every tree (K paths per game, diverging by virtual loss),
                   create one new node per path, write the leaves' observations and
                   legal masks into row buffers; terminal and proven nodes are backed
                   up at once with their exact value
    (evaluate)     priors and values of those rows, in one batch, by the caller
    expand_backup  set the leaves' priors (legal-masked, renormalized), back up the
                   values, remove the virtual losses

Conventions:

* Values are +1 (win), -1 (loss), 0 (draw), and a node stores them **from the view of
  its mover**, the player who moved into it (``mover``; for the root, the opponent of the
  player to move). Movers are read from the states, never assumed to alternate.
* Selection is PUCT (AlphaZero): ``Q(a) + c_puct * P(a) * sqrt(N) / (1 + N(a))`` with
  ``N`` the parent's visits and ``Q`` from the view of the player to move; an unvisited
  child scores the first-play-urgency value ``fpu`` (or, relative, the parent's ``Q``
  minus ``fpu``). In-flight simulations count as visits that lost ``virtual_loss``.
* MCTS-solver: a terminal node is proven at creation. A node is proven a win for the
  player to move there when one child is a proven win for that player (the child's
  mover), and proven at the best child's value once every legal child is proven.
  Selection takes a child proven to win, avoids children proven to lose, and stops at a
  proven node, backing up its exact value.
* A root schedule can fix the root action of each path in turn (Gumbel sequential
  halving, driven from :meth:`sim.search.mcts.BatchedMCTS.search_gumbel`).
* Hot kernels take the Tree once and read its arrays into locals. Inside their loops,
  an array handed to a helper (``inline="always"`` included) or a view of a row
  (``states[b, node]``, ``prior[b, node, :]``) costs atomic reference-count updates that
  Numba does not prune in a function this size: once they were two thirds of a
  simulation's time. So the descent, node creation and backup are written out in
  :func:`select_leaves`, rows are copied element by element, and a move is played on a
  scratch state. Connect Four's rules (a few bit operations) are called directly, where
  they are inlined; the switchboard (:mod:`sim.board.kernels`) serves the other games.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.board import connect4, kernels
from sim.board.base import (
    CONNECT4,
    DRAW,
    H_GAME,
    H_TO_PLAY,
    H_WINNER,
    ONGOING,
)

# What a path of select_leaves ended at.
LEAF, DONE, COLLISION = 0, 1, 2
# Who evaluates the leaves: the caller (between select_leaves and expand_backup), or
# select_leaves itself with uniform priors and value 0, or with a random rollout's value.
EXTERNAL, UNIFORM, ROLLOUT = -1, 0, 1
# Moves after which a rollout gives up (a guard against a rules bug, not a game rule).
MAX_ROLLOUT_MOVES = 100_000


class Tree(NamedTuple):
    """The arrays of ``B`` trees of ``N`` nodes, ``A`` actions, game states of ``S`` ints.

    A NamedTuple of arrays, so Numba kernels take it as one cached argument.
    """

    states: np.ndarray  # int64[B, N, S]     game state at each node
    parent: np.ndarray  # int32[B, N]        parent node, -1 at the root
    action_in: np.ndarray  # int32[B, N]     action that led from the parent, -1 at the root
    children: np.ndarray  # int32[B, N, A]   child reached by each action, -1 until created
    prior: np.ndarray  # float32[B, N, A]    prior of each action, 0 for illegal ones
    legal: np.ndarray  # bool[B, N, A]       legal actions (set when the node is created)
    num_legal: np.ndarray  # int32[B, N]     how many actions are legal (0 when terminal)
    visits: np.ndarray  # int32[B, N]        finished simulations through the node
    virtual: np.ndarray  # int32[B, N]       simulations in flight through it (virtual loss)
    value_sum: np.ndarray  # float64[B, N]   sum of backed-up values, from the mover's view
    mover: np.ndarray  # int8[B, N]          player who moved into the node
    expanded: np.ndarray  # bool[B, N]       priors set (the node was evaluated)
    proven: np.ndarray  # bool[B, N]         exact value known (terminal or solved)
    proven_value: np.ndarray  # int8[B, N]   that value (+1, 0, -1) from the mover's view
    size: np.ndarray  # int32[B]             nodes in use; node 0 is the root
    root_noised: np.ndarray  # bool[B]       Dirichlet noise already mixed into root priors


@njit(cache=True)
def allocate(batch: int, capacity: int, state_size: int, num_actions: int) -> Tree:
    """Empty trees (every game's root must then be set with :func:`set_root`)."""
    return Tree(
        np.zeros((batch, capacity, state_size), dtype=np.int64),
        np.full((batch, capacity), -1, dtype=np.int32),
        np.full((batch, capacity), -1, dtype=np.int32),
        np.full((batch, capacity, num_actions), -1, dtype=np.int32),
        np.zeros((batch, capacity, num_actions), dtype=np.float32),
        np.zeros((batch, capacity, num_actions), dtype=np.bool_),
        np.zeros((batch, capacity), dtype=np.int32),
        np.zeros((batch, capacity), dtype=np.int32),
        np.zeros((batch, capacity), dtype=np.int32),
        np.zeros((batch, capacity), dtype=np.float64),
        np.zeros((batch, capacity), dtype=np.int8),
        np.zeros((batch, capacity), dtype=np.bool_),
        np.zeros((batch, capacity), dtype=np.bool_),
        np.zeros((batch, capacity), dtype=np.int8),
        np.zeros(batch, dtype=np.int32),
        np.zeros(batch, dtype=np.bool_),
    )


@njit(cache=True, inline="always")
def value_of_winner(winner: int, player: int) -> int:
    """+1 if ``player`` won, -1 if the other did, 0 for a draw (or a game still going)."""
    if winner == DRAW or winner == ONGOING:
        return 0
    return 1 if winner == player else -1


# ---- node creation -----------------------------------------------------------------
@njit(cache=True)
def set_root(tree: Tree, b: int, state: np.ndarray) -> None:
    """Make game ``b``'s tree a lone root at ``state`` (its previous nodes are dropped)."""
    tree.states[b, 0, :] = state
    tree.parent[b, 0] = -1
    tree.action_in[b, 0] = -1
    tree.size[b] = 0
    _new_node(tree.states, tree.children, tree.prior, tree.legal, tree.num_legal, tree.visits,
              tree.virtual, tree.value_sum, tree.mover, tree.expanded, tree.proven,
              tree.proven_value, b, 0, 1 - state[H_TO_PLAY])  # fmt: skip
    tree.size[b] = 1
    tree.root_noised[b] = False


@njit(cache=True)
def _new_node(
    states, children, prior, legal, num_legal, visits, virtual, value_sum, mover, expanded,
    proven, proven_value, b, node, node_mover,
):  # fmt: skip
    """Clear the statistics of a fresh node whose state is in place; prove it if terminal.

    For roots; :func:`select_leaves` writes the same out for the nodes it creates."""
    for a in range(children.shape[2]):
        children[b, node, a] = -1
        prior[b, node, a] = 0.0
    visits[b, node] = 0
    virtual[b, node] = 0
    value_sum[b, node] = 0.0
    mover[b, node] = node_mover
    expanded[b, node] = False
    winner = states[b, node, H_WINNER]
    if winner != ONGOING:
        for a in range(legal.shape[2]):
            legal[b, node, a] = False
        num_legal[b, node] = 0
        proven[b, node] = True
        proven_value[b, node] = value_of_winner(winner, node_mover)
    else:
        num_legal[b, node] = kernels.legal_mask_into(states[b, node], legal[b, node])
        proven[b, node] = False
        proven_value[b, node] = 0


# ---- selection ---------------------------------------------------------------------
@njit(cache=True)
def _try_prove(states, children, num_legal, mover, proven, proven_value, b, node) -> bool:
    """Prove ``node`` from its children if they allow it; True if it is now proven."""
    to_play = states[b, node, H_TO_PLAY]
    best, proven_children = -2, 0
    for a in range(children.shape[2]):
        c = children[b, node, a]
        if c >= 0 and proven[b, c]:
            v = proven_value[b, c]  # from to_play's view: to_play moved into c
            proven_children += 1
            if v > best:
                best = v
            if v > 0:
                break
    if best > 0 or proven_children == num_legal[b, node]:
        proven[b, node] = True
        proven_value[b, node] = best if mover[b, node] == to_play else -best
        return True
    return False


@njit(cache=True)
def random_action(state: np.ndarray, mask: np.ndarray) -> int:
    """A uniformly random legal action of an ongoing ``state`` (Numba's generator).

    Draws from all actions until one is legal, a few times, then from the legal mask:
    either way uniform over the legal actions, and one legality test is much cheaper
    than a whole mask on big boards (Gomoku, Go) and still cheaper on Connect Four.
    """
    num_actions = mask.shape[0]
    for _ in range(4):
        a = np.random.randint(num_actions)
        if kernels.is_legal(state, a):
            return a
    return kernels.random_legal_action(state, mask)


@njit(cache=True)
def rollout_value(state: np.ndarray, scratch: np.ndarray, mask: np.ndarray) -> float:
    """Random playout from ``state`` (copied to ``scratch``): value for the player to move.

    ``mask`` (bool[A]) is scratch space."""
    scratch[:] = state
    return value_of_winner(playout(scratch, mask), state[H_TO_PLAY])


@njit(cache=True)
def playout(state: np.ndarray, mask: np.ndarray) -> int:
    """Random moves on ``state`` in place until the game ends; returns the winner.

    ``mask`` (bool[A]) is scratch space. For Connect Four the moves are drawn as by
    :func:`random_action` (the same draws), written out with the game's rules called
    directly: no switchboard calls, no reference counts (see select_leaves)."""
    if state[H_GAME] != CONNECT4:
        for _ in range(MAX_ROLLOUT_MOVES):
            if state[H_WINNER] != ONGOING:
                break
            kernels.play(state, random_action(state, mask))
        return state[H_WINNER]
    num_actions = mask.shape[0]
    for _ in range(MAX_ROLLOUT_MOVES):
        if state[H_WINNER] != ONGOING:
            break
        action = -1
        for _ in range(4):
            a = np.random.randint(num_actions)
            if connect4.is_legal(state, a):
                action = a
                break
        if action < 0:  # as kernels.random_legal_action
            k = np.random.randint(connect4.legal_mask_into(state, mask))
            for a in range(num_actions):
                if mask[a]:
                    if k == 0:
                        action = a
                        break
                    k -= 1
        connect4.play(state, action)
    return state[H_WINNER]


@njit(cache=True)
def select_leaves(
    tree: Tree,
    remaining: np.ndarray,
    leaves_per_game: int,
    c_puct: float,
    fpu: float,
    fpu_relative: bool,
    virtual_loss: float,
    write_observations: bool,
    builtin_evaluator: int,
    leaf_game: np.ndarray,
    leaf_node: np.ndarray,
    obs_out: np.ndarray,
    mask_out: np.ndarray,
    collision_game: np.ndarray,
    collision_node: np.ndarray,
    root_schedule: np.ndarray,
    schedule_pos: np.ndarray,
    schedule_end: np.ndarray,
) -> tuple[int, int]:
    """Descend up to ``leaves_per_game`` paths in each game with ``remaining[b] > 0``.

    Every node on a path gets a virtual loss. A path ends at a node not yet evaluated (a
    leaf: the new node it created, or one a failed evaluation left behind), or at a
    terminal or proven node, backed up here at once with its exact value; a path that
    runs into a leaf another path is evaluating is a collision.

    ``remaining``: int64[B], simulations left per game, decremented by every path that
    is not a collision. Leaves go to rows ``0..M-1`` of ``leaf_game``/``leaf_node``
    (int32[B*K]), ``mask_out`` (bool[B*K, A]) and, if ``write_observations``,
    ``obs_out`` (float32[B*K, C, H, W]); collisions to ``collision_game``/
    ``collision_node`` (int32[B*K]). Returns (M, collisions).

    ``root_schedule`` (int32[B, L]): while ``schedule_pos[b] < schedule_end[b]``
    (int64[B]), game ``b``'s paths take the root action ``root_schedule[b, pos]`` in turn
    instead of PUCT's (Gumbel sequential halving); a collided path gives its turn back.
    """
    states, parent, action_in, children = tree.states, tree.parent, tree.action_in, tree.children
    prior, legal, num_legal, visits = tree.prior, tree.legal, tree.num_legal, tree.visits
    virtual, value_sum, mover, expanded = tree.virtual, tree.value_sum, tree.mover, tree.expanded
    proven, proven_value, size = tree.proven, tree.proven_value, tree.size
    capacity, state_size, num_actions = states.shape[1], states.shape[2], prior.shape[2]
    scratch = np.empty(state_size, dtype=np.int64)
    rollout_mask = np.empty(num_actions, dtype=np.bool_)
    new_state = np.empty(state_size, dtype=np.int64)
    new_legal = np.empty(num_actions, dtype=np.bool_)
    num_leaves = 0
    num_collisions = 0
    for b in range(size.shape[0]):
        for _ in range(leaves_per_game):
            if remaining[b] <= 0:
                break
            node = 0
            virtual[b, 0] += 1
            kind = LEAF
            forced = False
            while True:
                if not expanded[b, node]:
                    # Ours to evaluate, unless another path already waits on it.
                    if virtual[b, node] > 1:
                        kind = COLLISION
                    break
                to_play = states[b, node, H_TO_PLAY]
                if node == 0 and schedule_pos[b] < schedule_end[b]:
                    action = root_schedule[b, schedule_pos[b]]
                    schedule_pos[b] += 1
                    forced = True
                else:
                    # PUCT over the legal actions; Q from the view of the player to move,
                    # the mover of every child. A proven win is taken, proven losses last.
                    sqrt_n = math.sqrt(visits[b, node] + virtual[b, node])
                    unvisited_q = fpu
                    if fpu_relative and visits[b, node] > 0:
                        q = value_sum[b, node] / visits[b, node]
                        unvisited_q = (q if mover[b, node] == to_play else -q) - fpu
                    action, best_score, fallback = -1, -np.inf, -1
                    for a in range(num_actions):
                        if not legal[b, node, a]:
                            continue
                        c = children[b, node, a]
                        # Unvisited: n = 0, so the division by 1 + n is skipped (exact).
                        score = unvisited_q + c_puct * prior[b, node, a] * sqrt_n
                        if c >= 0:
                            if proven[b, c]:
                                if proven_value[b, c] > 0:
                                    action = a
                                    break
                                if proven_value[b, c] < 0:
                                    if fallback < 0:
                                        fallback = a
                                    continue
                            n = visits[b, c] + virtual[b, c]
                            if n > 0:
                                q = (value_sum[b, c] - virtual_loss * virtual[b, c]) / n
                                score = q + c_puct * prior[b, node, a] * sqrt_n / (1 + n)
                        if score > best_score:
                            action, best_score = a, score
                    if action < 0:
                        action = fallback
                child = children[b, node, action]
                created = child < 0
                if created:
                    child = size[b]
                    if child >= capacity:
                        raise RuntimeError("MCTS tree full: the caller must leave room")
                    size[b] = child + 1
                    # As _new_node, written out. The move is played on a scratch state and
                    # copied in: a view of the tree's row costs reference counts. Connect
                    # Four's rules (a few bit operations) are called directly, where they
                    # are inlined; the switchboard's call costs more than they do.
                    for k in range(state_size):
                        new_state[k] = states[b, node, k]
                    connect_four = new_state[H_GAME] == CONNECT4
                    if connect_four:
                        connect4.play(new_state, action)
                    else:
                        kernels.play(new_state, action)
                    winner = new_state[H_WINNER]
                    child_legal = 0
                    if winner == ONGOING:
                        if connect_four:
                            child_legal = connect4.legal_mask_into(new_state, new_legal)
                        else:
                            child_legal = kernels.legal_mask_into(new_state, new_legal)
                    for k in range(state_size):
                        states[b, child, k] = new_state[k]
                    for a in range(num_actions):
                        children[b, child, a] = -1
                        prior[b, child, a] = 0.0
                        legal[b, child, a] = new_legal[a] if winner == ONGOING else False
                    num_legal[b, child] = child_legal
                    visits[b, child] = 0
                    virtual[b, child] = 0
                    value_sum[b, child] = 0.0
                    mover[b, child] = to_play
                    expanded[b, child] = False
                    proven[b, child] = winner != ONGOING
                    proven_value[b, child] = value_of_winner(winner, to_play)
                    parent[b, child] = node
                    action_in[b, child] = action
                    children[b, node, action] = child
                virtual[b, child] += 1
                node = child
                if proven[b, node]:
                    kind = DONE
                    break
                if created:
                    break
            if kind == COLLISION:
                if forced:
                    schedule_pos[b] -= 1
                collision_game[num_collisions] = b
                collision_node[num_collisions] = node
                num_collisions += 1
                continue
            remaining[b] -= 1
            if kind == DONE:
                # Back up the exact value; a new terminal node may prove its ancestors.
                value_p0 = proven_value[b, node] if mover[b, node] == 0 else -proven_value[b, node]
                prove = created
                while node >= 0:
                    virtual[b, node] -= 1
                    visits[b, node] += 1
                    value_sum[b, node] += value_p0 if mover[b, node] == 0 else -value_p0
                    up = parent[b, node]
                    if prove and up >= 0 and not proven[b, up]:
                        prove = _try_prove(
                            states, children, num_legal, mover, proven, proven_value, b, up
                        )
                    else:
                        prove = False
                    node = up
                continue
            if builtin_evaluator != EXTERNAL:
                value = 0.0
                if builtin_evaluator == ROLLOUT:
                    for k in range(state_size):  # no view of the tree's row (see above)
                        scratch[k] = states[b, node, k]
                    winner = playout(scratch, rollout_mask)
                    value = value_of_winner(winner, states[b, node, H_TO_PLAY])
                # Uniform priors and the backup, as expand_backup (written out).
                for a in range(num_actions):
                    prior[b, node, a] = 1.0 / num_legal[b, node] if legal[b, node, a] else 0.0
                expanded[b, node] = True
                value_p0 = value if states[b, node, H_TO_PLAY] == 0 else -value
                while node >= 0:
                    virtual[b, node] -= 1
                    visits[b, node] += 1
                    value_sum[b, node] += value_p0 if mover[b, node] == 0 else -value_p0
                    node = parent[b, node]
                continue
            leaf_game[num_leaves] = b
            leaf_node[num_leaves] = node
            for a in range(num_actions):
                mask_out[num_leaves, a] = legal[b, node, a]
            if write_observations:
                obs_out[num_leaves] = 0.0
                kernels.observation_into(states[b, node], obs_out[num_leaves])
            num_leaves += 1
    return num_leaves, num_collisions


@njit(cache=True)
def expand_backup(
    tree: Tree,
    leaf_game: np.ndarray,
    leaf_node: np.ndarray,
    num_leaves: int,
    priors: np.ndarray,
    values: np.ndarray,
    collision_game: np.ndarray,
    collision_node: np.ndarray,
    num_collisions: int,
) -> None:
    """Expand leaf rows ``0..num_leaves-1`` with ``priors`` (float32[M, A], masked to the
    legal actions and renormalized; uniform if none is positive), back up ``values``
    (float32[M], from the view of the player to move at each leaf), and remove the
    virtual losses of every path of the last :func:`select_leaves`."""
    states, parent, prior, legal = tree.states, tree.parent, tree.prior, tree.legal
    num_legal, visits, virtual = tree.num_legal, tree.visits, tree.virtual
    value_sum, mover, expanded = tree.value_sum, tree.mover, tree.expanded
    num_actions = prior.shape[2]
    for i in range(num_leaves):
        b, node = leaf_game[i], leaf_node[i]
        total = 0.0
        for a in range(num_actions):
            p = priors[i, a]
            if legal[b, node, a] and p > 0.0:  # NaN fails the test too
                total += p
        uniform = not (0.0 < total < np.inf)
        for a in range(num_actions):
            if not legal[b, node, a]:
                prior[b, node, a] = 0.0
            elif uniform:
                prior[b, node, a] = 1.0 / num_legal[b, node]
            else:
                p = priors[i, a]
                prior[b, node, a] = p / total if p > 0.0 else 0.0
        expanded[b, node] = True
        value = values[i]
        value_p0 = value if states[b, node, H_TO_PLAY] == 0 else -value
        while node >= 0:
            virtual[b, node] -= 1
            visits[b, node] += 1
            value_sum[b, node] += value_p0 if mover[b, node] == 0 else -value_p0
            node = parent[b, node]
    for j in range(num_collisions):
        b, node = collision_game[j], collision_node[j]
        while node >= 0:
            virtual[b, node] -= 1
            node = parent[b, node]


# ---- root ------------------------------------------------------------------------
@njit(cache=True)
def add_root_noise(tree: Tree, seed: int, alpha: float, fraction: float) -> None:
    """Mix Dirichlet(``alpha``) noise into the priors of every expanded, not yet noised root
    (weight ``fraction``), over its legal actions; seeds Numba's generator with ``seed``."""
    np.random.seed(seed)
    num_actions = tree.prior.shape[2]
    noise = np.zeros(num_actions)
    for b in range(tree.size.shape[0]):
        if tree.root_noised[b] or not tree.expanded[b, 0] or tree.num_legal[b, 0] == 0:
            continue
        total = 0.0
        for a in range(num_actions):
            if tree.legal[b, 0, a]:
                noise[a] = np.random.gamma(alpha, 1.0)
                total += noise[a]
        if total <= 0.0:  # every draw underflowed (tiny alpha): fall back to uniform
            total = tree.num_legal[b, 0]
            for a in range(num_actions):
                noise[a] = 1.0 if tree.legal[b, 0, a] else 0.0
        for a in range(num_actions):
            if tree.legal[b, 0, a]:
                tree.prior[b, 0, a] = (1.0 - fraction) * tree.prior[b, 0, a] + fraction * (
                    noise[a] / total
                )
        tree.root_noised[b] = True


@njit(cache=True)
def root_visits_into(tree: Tree, out: np.ndarray) -> None:
    """``out`` (float[B, A]): finished visits of each root child (0 if never created)."""
    for b in range(tree.size.shape[0]):
        for a in range(tree.children.shape[2]):
            c = tree.children[b, 0, a]
            out[b, a] = tree.visits[b, c] if c >= 0 else 0


@njit(cache=True)
def root_values_into(tree: Tree, out: np.ndarray) -> None:
    """``out`` (float[B]): each root's value for the player to move there: the exact value
    if proven, else the mean backed-up value (0 before any visit)."""
    for b in range(tree.size.shape[0]):
        to_play = tree.states[b, 0, H_TO_PLAY]
        sign = 1.0 if tree.mover[b, 0] == to_play else -1.0
        if tree.proven[b, 0]:
            out[b] = sign * tree.proven_value[b, 0]
        elif tree.visits[b, 0] > 0:
            out[b] = sign * tree.value_sum[b, 0] / tree.visits[b, 0]
        else:
            out[b] = 0.0


@njit(cache=True)
def root_proven_into(tree: Tree, out: np.ndarray) -> None:
    """``out`` (int8[B, A]): each root child's proven value for the player to move at the
    root (+1 win, 0 draw, -1 loss), or -2 where unproven or not created."""
    for b in range(tree.size.shape[0]):
        for a in range(tree.children.shape[2]):
            c = tree.children[b, 0, a]
            out[b, a] = tree.proven_value[b, c] if c >= 0 and tree.proven[b, c] else -2


# ---- tree reuse ----------------------------------------------------------------------
@njit(cache=True)
def advance(tree: Tree, b: int, action: int) -> int:
    """Make the child of game ``b``'s root by ``action`` the new root, keeping its subtree.

    The subtree is copied to the front of the arrays in creation order (the new root
    becomes node 0) and the rest is freed. A child never created becomes a lone
    root. The action must be legal at the root. Returns the new tree size.
    """
    old_root_child = tree.children[b, 0, action]
    if old_root_child < 0:
        state = tree.states[b, 0].copy()
        kernels.play(state, action)
        set_root(tree, b, state)
        return 1
    size = tree.size[b]
    # Mark the subtree, then number its nodes in increasing old index: a node is created
    # after its parent, so the new root (the oldest) becomes node 0, and every node moves
    # to an index at most its old one, into a slot whose old node was already moved.
    new_index = np.full(size, -1, dtype=np.int32)
    stack = np.empty(size, dtype=np.int32)
    stack[0] = old_root_child
    new_index[old_root_child] = 0
    top = 1
    while top > 0:
        top -= 1
        old = stack[top]
        for a in range(tree.children.shape[2]):
            c = tree.children[b, old, a]
            if c >= 0:
                new_index[c] = 0
                stack[top] = c
                top += 1
    count = 0
    for old in range(old_root_child, size):
        if new_index[old] >= 0:
            new_index[old] = count
            count += 1
    for old in range(old_root_child, size):
        i = new_index[old]
        if i < 0:
            continue
        if old != i:
            tree.states[b, i, :] = tree.states[b, old, :]
            tree.prior[b, i, :] = tree.prior[b, old, :]
            tree.legal[b, i, :] = tree.legal[b, old, :]
            tree.num_legal[b, i] = tree.num_legal[b, old]
            tree.visits[b, i] = tree.visits[b, old]
            tree.virtual[b, i] = tree.virtual[b, old]
            tree.value_sum[b, i] = tree.value_sum[b, old]
            tree.mover[b, i] = tree.mover[b, old]
            tree.expanded[b, i] = tree.expanded[b, old]
            tree.proven[b, i] = tree.proven[b, old]
            tree.proven_value[b, i] = tree.proven_value[b, old]
            tree.action_in[b, i] = tree.action_in[b, old]
        for a in range(tree.children.shape[2]):
            c = tree.children[b, old, a]
            tree.children[b, i, a] = new_index[c] if c >= 0 else -1
        p = tree.parent[b, old]
        tree.parent[b, i] = new_index[p] if i > 0 else -1
    tree.action_in[b, 0] = -1
    tree.size[b] = count
    tree.root_noised[b] = False
    return count

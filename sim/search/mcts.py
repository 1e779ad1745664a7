"""Monte Carlo tree search over pure game states: batched, evaluator-agnostic, in Numba.

One search serves every game of :mod:`sim.board` (states step through
:mod:`sim.board.kernels`) and every evaluator: the tree and its phases are in
:mod:`sim.search.tree` (PUCT, virtual loss, Dirichlet noise, MCTS-solver, tree reuse).
Here are the loops that drive them:

* :class:`BatchedMCTS`: ``B`` concurrent games, one tree each; a Python evaluator (a
  network) is called once per step on the leaves of all games together.
* :func:`search_builtin`: the same loop inside Numba with a built-in evaluator, random
  rollouts (:data:`ROLLOUT`) or a zero-cost one (:data:`UNIFORM`, uniform priors and
  value 0, for benchmarks and tests).
* :func:`rollout_search`: one game, uniform priors and random-rollout values, every
  child tried once before any is tried twice (UCT-like); the envs' "mcts" opponent.

:meth:`BatchedMCTS.search_gumbel` replaces PUCT at the roots by Gumbel AlphaZero's
sequential halving (for small simulation budgets). Playout-cap randomization belongs to
the self-play loop: it only varies ``simulations`` from move to move.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numba import njit

from sim.board import kernels
from sim.board.base import H_WINNER, ONGOING, BoardGame, require_known_game
from sim.search import tree as T

UNIFORM, ROLLOUT = T.UNIFORM, T.ROLLOUT

Evaluator = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@njit(cache=True)
def search_builtin(
    tree: T.Tree,
    active: np.ndarray,
    simulations: int,
    leaves_per_game: int,
    c_puct: float,
    fpu: float,
    fpu_relative: bool,
    virtual_loss: float,
    evaluator: int,
    seed: int,
    noise_alpha: float,
    noise_fraction: float,
) -> None:
    """Run ``simulations`` simulations in every game with ``active[b]`` (bool[B]) with a
    built-in evaluator: UNIFORM (uniform priors, value 0) or ROLLOUT (uniform priors, a
    random playout's value). Roots not yet evaluated are evaluated first (not counted).

    ``leaves_per_game`` 0: sequential search, each leaf evaluated as soon as it is
    reached. K > 0: the batched loop of :class:`BatchedMCTS` (K leaves per game collected
    under virtual loss, then evaluated, then backed up), for measuring it without a
    Python evaluator. The caller checks that the trees have room.
    """
    np.random.seed(seed)
    batch = tree.size.shape[0]
    num_actions = tree.prior.shape[2]
    rows = batch * max(leaves_per_game, 1)
    leaf_game = np.zeros(rows, dtype=np.int32)
    leaf_node = np.zeros(rows, dtype=np.int32)
    collision_game = np.zeros(rows, dtype=np.int32)
    collision_node = np.zeros(rows, dtype=np.int32)
    masks = np.zeros((rows, num_actions), dtype=np.bool_)
    priors = np.ones((rows, num_actions), dtype=np.float32)
    values = np.zeros(rows, dtype=np.float32)
    no_obs = np.zeros((1, 1, 1, 1), dtype=np.float32)
    scratch = np.zeros(tree.states.shape[2], dtype=np.int64)
    mask = np.zeros(num_actions, dtype=np.bool_)
    remaining = np.zeros(batch, dtype=np.int64)
    no_schedule = np.zeros((batch, 1), dtype=np.int32)
    schedule_pos = np.zeros(batch, dtype=np.int64)  # = its end: no scheduled root actions
    for b in range(batch):
        remaining[b] = 1 if active[b] and not tree.expanded[b, 0] else 0
    for phase in range(2):
        if leaves_per_game == 0:
            T.select_leaves(
                tree, remaining, max(simulations, 1), c_puct, fpu, fpu_relative, virtual_loss,
                False, evaluator, leaf_game, leaf_node, no_obs, masks, collision_game,
                collision_node, no_schedule, schedule_pos, schedule_pos,
            )  # fmt: skip
        while remaining.sum() > 0:
            m, c = T.select_leaves(
                tree, remaining, leaves_per_game, c_puct, fpu, fpu_relative, virtual_loss,
                False, T.EXTERNAL, leaf_game, leaf_node, no_obs, masks, collision_game,
                collision_node, no_schedule, schedule_pos, schedule_pos,
            )  # fmt: skip
            for i in range(m):
                if evaluator == ROLLOUT:
                    state = tree.states[leaf_game[i], leaf_node[i]]
                    values[i] = T.rollout_value(state, scratch, mask)
            T.expand_backup(
                tree, leaf_game, leaf_node, m, priors, values, collision_game, collision_node, c
            )
        if phase == 0:
            if noise_fraction > 0.0:
                noise_seed = np.random.randint(0, 2**31 - 1)
                T.add_root_noise(tree, noise_seed, noise_alpha, noise_fraction)
            for b in range(batch):
                remaining[b] = simulations if active[b] else 0


@njit(cache=True)
def _rollout_search_kernel(
    root_state: np.ndarray, simulations: int, seed: int, c_uct: float
) -> np.ndarray:
    num_actions = kernels.num_actions(root_state)
    tree = T.allocate(1, simulations + 1, root_state.shape[0], num_actions)
    T.set_root(tree, 0, root_state)
    active = np.ones(1, dtype=np.bool_)
    # fpu = +inf: every legal child is tried once before any is tried twice (as UCB1).
    search_builtin(tree, active, simulations, 0, c_uct, np.inf, False, 1.0, ROLLOUT, seed, 0.3, 0.0)
    counts = np.zeros((1, num_actions), dtype=np.float64)
    T.root_visits_into(tree, counts)
    return counts[0]


def rollout_search(
    state: np.ndarray, simulations: int, seed: int, c_uct: float = 1.4
) -> np.ndarray:
    """Visit counts per action (float64[A], summing to ``simulations``) of a search with
    uniform priors, random-rollout values and exploration constant ``c_uct`` (as PUCT's
    ``c_puct``); unvisited children are tried first; MCTS-solver included.

    ``state`` is any :mod:`sim.board` state whose game is not over; it is not modified.
    The search is deterministic for a given ``seed``.
    """
    require_known_game(state, "rollout_search")
    if state[H_WINNER] != ONGOING:
        raise ValueError("rollout_search: the game is already over")
    if simulations < 1:
        raise ValueError(f"rollout_search: simulations must be >= 1, got {simulations}")
    return _rollout_search_kernel(
        np.ascontiguousarray(state, dtype=np.int64),
        int(simulations),
        int(seed) & 0x7FFFFFFF,
        float(c_uct),
    )


def _visit_policy(visits: np.ndarray, temperature: float) -> np.ndarray:
    """float64[A]: ``visits`` raised to ``1 / temperature`` and normalized (uniform over
    the most visited at temperature 0); all zeros when nothing was visited."""
    out = np.zeros(len(visits))
    if visits.max() <= 0:
        return out
    if temperature <= 0:
        out[visits == visits.max()] = 1.0
    else:
        out = (visits / visits.max()) ** (1.0 / temperature)
    return out / out.sum()


class SearchResult(NamedTuple):
    """What :meth:`BatchedMCTS.search` returns."""

    visits: np.ndarray  # float64[B, A]  visits of each root child (reused ones included)
    values: np.ndarray  # float64[B]     root value for the player to move (exact if proven)


class GumbelResult(NamedTuple):
    """What :meth:`BatchedMCTS.search_gumbel` returns."""

    visits: np.ndarray  # float64[B, A]  visits of each root child
    values: np.ndarray  # float64[B]     root value for the player to move
    actions: np.ndarray  # int64[B]      the action to play, -1 for a finished game
    policy: np.ndarray  # float64[B, A]  improved policy (training target), 0 when illegal


class BatchedMCTS:
    """PUCT search in ``batch`` concurrent games, one tree each, evaluated in batches.

    ``reset(states)`` sets the roots; ``search(evaluate, simulations)`` grows every tree by
    ``simulations`` simulations, calling ``evaluate(obs, legal)`` once per step on the
    leaves of all games (up to ``leaves_per_step`` per game, kept apart by virtual loss);
    ``advance(b, action)`` moves game ``b``'s root to a child, keeping its subtree.

    ``evaluate(obs: float32[M, C, H, W], legal: bool[M, A]) -> (priors[M, A], values[M])``
    gets the leaves' observation planes (from the view of the player to move there) and
    legal masks; priors need not be normalized (they are masked and renormalized),
    values are from the view of the player to move at each leaf, in [-1, 1].

    Each tree holds ``capacity`` nodes; a simulation adds at most one. When a kept
    subtree leaves too little room for the next search, that game's tree is restarted
    from its root (counted in ``restarts``); a capacity below ``simulations + 1`` raises.
    Games whose root is over are skipped (zero visits, their exact value).
    Memory: about ``batch * capacity * (8 * state_size + 9 * num_actions + 32)`` bytes.
    """

    def __init__(
        self,
        state_size: int,
        num_actions: int,
        obs_shape: tuple[int, int, int],
        batch: int,
        capacity: int,
        c_puct: float = 1.25,
        fpu: float = 0.0,
        fpu_relative: bool = False,
        virtual_loss: float = 1.0,
        dirichlet_alpha: float = 0.3,
        dirichlet_fraction: float = 0.0,
        seed: int = 0,
    ) -> None:
        """``fpu``: value of an unvisited child (``fpu_relative``: the parent's value minus
        ``fpu``); ``virtual_loss``: value an in-flight simulation counts as having lost;
        ``dirichlet_fraction`` > 0 mixes Dirichlet(``dirichlet_alpha``) noise into each
        root's priors once per root (self-play); ``seed`` makes the noise reproducible."""
        for name, v in (("batch", batch), ("capacity", capacity), ("num_actions", num_actions)):
            if int(v) < 1:
                raise ValueError(f"BatchedMCTS: {name} must be >= 1, got {v}")
        if capacity < 2:
            raise ValueError(f"BatchedMCTS: capacity must be >= 2, got {capacity}")
        if not 0.0 <= dirichlet_fraction <= 1.0 or dirichlet_alpha <= 0.0:
            raise ValueError(
                "BatchedMCTS: dirichlet_fraction must be in [0, 1] and dirichlet_alpha > 0"
            )
        self.batch, self.capacity, self.num_actions = int(batch), int(capacity), int(num_actions)
        self.state_size = int(state_size)
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.c_puct, self.fpu, self.fpu_relative = float(c_puct), float(fpu), bool(fpu_relative)
        self.virtual_loss = float(virtual_loss)
        self.dirichlet_alpha = float(dirichlet_alpha)
        self.dirichlet_fraction = float(dirichlet_fraction)
        self.rng = np.random.default_rng(seed)
        self.tree = T.allocate(self.batch, self.capacity, self.state_size, self.num_actions)
        self.restarts = 0
        self._has_roots = False
        self._buffers_for = 0

    @classmethod
    def for_game(cls, game: BoardGame, batch: int, capacity: int, **options) -> BatchedMCTS:
        """A search sized for ``game`` (state size, actions, observation planes)."""
        size = len(game.initial_state())
        return cls(size, game.num_actions, game.obs_shape, batch, capacity, **options)

    # ---- roots ---------------------------------------------------------------
    def reset(self, states: np.ndarray) -> None:
        """New roots: ``states`` is int64[B, S], one game state per game (not modified)."""
        states = np.asarray(states)
        if states.shape != (self.batch, self.state_size):
            raise ValueError(
                f"BatchedMCTS.reset: states must have shape {(self.batch, self.state_size)}, "
                f"got {states.shape}"
            )
        for b in range(self.batch):
            self.set_root(b, states[b])
        self._has_roots = True

    def set_root(self, b: int, state: np.ndarray) -> None:
        """Restart game ``b``'s tree at ``state`` (e.g. a new game in its slot)."""
        if not 0 <= b < self.batch:
            raise ValueError(f"BatchedMCTS: game index {b} is out of range 0..{self.batch - 1}")
        state = np.ascontiguousarray(state, dtype=np.int64)
        if state.shape != (self.state_size,):
            raise ValueError(f"BatchedMCTS: a state must have {self.state_size} ints")
        T.set_root(self.tree, b, state)

    def advance(self, b: int, action: int) -> None:
        """Play ``action`` at game ``b``'s root; its subtree becomes the new tree."""
        if not 0 <= b < self.batch:
            raise ValueError(f"BatchedMCTS: game index {b} is out of range 0..{self.batch - 1}")
        a = int(action)
        if not (0 <= a < self.num_actions and self.tree.legal[b, 0, a]):
            raise ValueError(f"BatchedMCTS.advance: action {action} is illegal in game {b}")
        T.advance(self.tree, b, a)

    def root_states(self) -> np.ndarray:
        """int64[B, S]: a copy of every game's root state."""
        return self.tree.states[:, 0].copy()

    # ---- search ------------------------------------------------------------------
    def _prepare(self, simulations: int, leaves_per_step: int) -> np.ndarray:
        """Check the arguments, make room in every tree; the games to search (bool[B])."""
        if not self._has_roots:
            raise ValueError("BatchedMCTS: call reset(states) before searching")
        if int(simulations) < 1 or int(leaves_per_step) < 1:
            raise ValueError("BatchedMCTS: simulations and leaves_per_step must be >= 1")
        if simulations + 1 > self.capacity:
            raise ValueError(
                f"BatchedMCTS: capacity {self.capacity} is too small for {simulations} "
                f"simulations (needs at least {simulations + 1})"
            )
        tree = self.tree
        active = tree.states[:, 0, H_WINNER] == ONGOING
        for b in np.flatnonzero(active & (tree.size + simulations > self.capacity)):
            T.set_root(tree, int(b), tree.states[b, 0].copy())
            self.restarts += 1
        return active

    def _buffers(self, rows: int) -> None:
        if self._buffers_for != rows:
            self._leaf_game = np.zeros(rows, dtype=np.int32)
            self._leaf_node = np.zeros(rows, dtype=np.int32)
            self._collision_game = np.zeros(rows, dtype=np.int32)
            self._collision_node = np.zeros(rows, dtype=np.int32)
            self._obs = np.zeros((rows, *self.obs_shape), dtype=np.float32)
            self._masks = np.zeros((rows, self.num_actions), dtype=np.bool_)
            self._buffers_for = rows
        self._no_schedule()

    def _no_schedule(self) -> None:
        self._schedule = np.zeros((self.batch, 1), dtype=np.int32)
        self._schedule_pos = np.zeros(self.batch, dtype=np.int64)
        self._schedule_end = np.zeros(self.batch, dtype=np.int64)

    def _run(self, evaluate: Evaluator, remaining: np.ndarray, leaves: int) -> None:
        """Select / evaluate / expand-backup rounds until no game has simulations left."""
        while remaining.any():
            self._step(evaluate, remaining, leaves)

    def _step(self, evaluate: Evaluator, remaining: np.ndarray, leaves: int) -> None:
        """One select / evaluate / expand-backup round."""
        m, c = T.select_leaves(
            self.tree, remaining, leaves, self.c_puct, self.fpu, self.fpu_relative,
            self.virtual_loss, True, T.EXTERNAL, self._leaf_game, self._leaf_node, self._obs,
            self._masks, self._collision_game, self._collision_node, self._schedule,
            self._schedule_pos, self._schedule_end,
        )  # fmt: skip
        priors = np.zeros((0, self.num_actions), dtype=np.float32)
        values = np.zeros(0, dtype=np.float32)
        if m:
            priors, values = evaluate(self._obs[:m], self._masks[:m])
            priors = np.ascontiguousarray(priors, dtype=np.float32)
            values = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
            if priors.shape != (m, self.num_actions) or values.shape != (m,):
                raise ValueError(
                    f"BatchedMCTS: evaluate must return priors of shape {(m, self.num_actions)} "
                    f"and values of shape {(m,)}, got {priors.shape} and {values.shape}"
                )
            if not np.isfinite(values).all():
                raise ValueError("BatchedMCTS: evaluate returned a non-finite value")
        T.expand_backup(
            self.tree, self._leaf_game, self._leaf_node, m, priors, values,
            self._collision_game, self._collision_node, c,
        )  # fmt: skip

    def search(
        self, evaluate: Evaluator, simulations: int, leaves_per_step: int = 1
    ) -> SearchResult:
        """Add ``simulations`` simulations to every unfinished game's tree.

        Roots not yet evaluated are evaluated first (one extra call, not counted), then
        Dirichlet noise is mixed in (if configured), then each step evaluates up to
        ``leaves_per_step`` leaves per game in one ``evaluate`` call.
        """
        active = self._prepare(simulations, leaves_per_step)
        self._buffers(self.batch * leaves_per_step)
        remaining = (active & ~self.tree.expanded[:, 0]).astype(np.int64)
        try:
            self._run(evaluate, remaining, 1)
            self._add_noise()
            remaining = np.where(active, simulations, 0).astype(np.int64)
            self._run(evaluate, remaining, leaves_per_step)
        except BaseException:
            # A failed evaluation leaves paths in flight: drop their virtual losses (their
            # leaves stay unevaluated and will be picked again).
            self.tree.virtual[:] = 0
            raise
        return self.result()

    def search_gumbel(
        self,
        evaluate: Evaluator,
        simulations: int,
        leaves_per_step: int = 1,
        max_considered: int = 16,
        c_visit: float = 50.0,
        c_scale: float = 1.0,
    ) -> GumbelResult:
        """Gumbel AlphaZero root selection (Danihelka et al. 2022), for small budgets.

        At each root, the top ``max_considered`` actions by Gumbel noise plus prior logits
        are considered; sequential halving splits the ``simulations`` over
        ``ceil(log2(m))`` phases, giving the candidates equal visits in each phase and
        keeping the better half by ``gumbel + logits + sigma(q)``, with
        ``sigma(q) = (c_visit + max N) * c_scale * q`` and ``q`` the completed Q (the
        mixed value for unvisited actions) rescaled to [0, 1]. Below the root, PUCT as
        in :meth:`search`. No Dirichlet noise: the Gumbel draw explores. Returns the
        visits, root values, the chosen actions (a proven win if any) and the improved
        policy ``softmax(logits + sigma(completed q))``, the training target.
        """
        active = self._prepare(simulations, leaves_per_step)
        if max_considered < 1:
            raise ValueError(f"BatchedMCTS: max_considered must be >= 1, got {max_considered}")
        self._buffers(self.batch * leaves_per_step)
        tree = self.tree
        try:
            self._run(evaluate, (active & ~tree.expanded[:, 0]).astype(np.int64), 1)
            raw_value = self.result().values
            legal = tree.legal[:, 0] & active[:, None]
            with np.errstate(divide="ignore"):
                logits = np.where(legal, np.log(tree.prior[:, 0].astype(np.float64)), -np.inf)
            noisy = np.where(legal, self.rng.gumbel(size=logits.shape) + logits, -np.inf)
            considered = np.minimum(max_considered, legal.sum(axis=1))
            phases = np.maximum(1, np.ceil(np.log2(np.maximum(considered, 1)))).astype(int)
            candidates = [
                np.argsort(-noisy[b], kind="stable")[: considered[b]] for b in range(self.batch)
            ]
            left = np.where(active, simulations, 0)
            self._schedule = np.zeros((self.batch, max(simulations, 1)), dtype=np.int32)
            for phase in range(int(phases.max(initial=0))):
                ends = np.zeros(self.batch, dtype=np.int64)
                for b in np.flatnonzero(active & (phase < phases)):
                    k = len(candidates[b])
                    if phase == phases[b] - 1:
                        count = left[b]
                    else:
                        count = min(left[b], max(1, simulations // phases[b] // k) * k)
                    self._schedule[b, :count] = np.resize(candidates[b], count)
                    ends[b] = count
                    left[b] -= count
                self._schedule_pos = np.zeros(self.batch, dtype=np.int64)
                self._schedule_end = ends
                self._run(evaluate, ends.copy(), leaves_per_step)
                sigma_q = self._sigma_completed_q(raw_value, c_visit, c_scale)
                for b in np.flatnonzero(active & (phase < phases - 1)):
                    score = (noisy[b] + sigma_q[b])[candidates[b]]
                    keep = -(-len(candidates[b]) // 2)
                    candidates[b] = candidates[b][np.argsort(-score, kind="stable")[:keep]]
        except BaseException:
            self.tree.virtual[:] = 0
            raise
        finally:
            self._no_schedule()
        sigma_q = self._sigma_completed_q(raw_value, c_visit, c_scale)
        proven = self.proven()
        actions = np.full(self.batch, -1, dtype=np.int64)
        policy = np.zeros((self.batch, self.num_actions))
        for b in np.flatnonzero(active):
            wins = np.flatnonzero(proven[b] == 1)
            final = noisy[b] + sigma_q[b]
            actions[b] = wins[0] if len(wins) else candidates[b][np.argmax(final[candidates[b]])]
            improved = np.where(legal[b], logits[b] + sigma_q[b], -np.inf)
            improved = np.exp(improved - improved.max())
            policy[b] = improved / improved.sum()
        visits, values = self.result()
        return GumbelResult(visits, values, actions, policy)

    def _sigma_completed_q(
        self, raw_value: np.ndarray, c_visit: float, c_scale: float
    ) -> np.ndarray:
        """float64[B, A]: sigma of the completed, [0, 1]-rescaled Q of the root actions
        (Q for the player to move; the mixed value estimate for unvisited actions)."""
        tree = self.tree
        children = tree.children[:, 0]
        rows = np.arange(self.batch)[:, None]
        child = np.maximum(children, 0)
        visits = np.where(children >= 0, tree.visits[rows, child], 0).astype(np.float64)
        visited = visits > 0
        q = np.where(visited, tree.value_sum[rows, child] / np.maximum(visits, 1), 0.0)
        prior = tree.prior[:, 0].astype(np.float64)
        total = visits.sum(axis=1)
        prior_visited = (prior * visited).sum(axis=1)
        weighted_q = (prior * q * visited).sum(axis=1) / np.maximum(prior_visited, 1e-12)
        mixed = (raw_value + total * weighted_q) / (1.0 + total)
        completed = np.where(visited, q, mixed[:, None])
        legal = tree.legal[:, 0]
        low = np.where(legal, completed, np.inf).min(axis=1, initial=np.inf)[:, None]
        high = np.where(legal, completed, -np.inf).max(axis=1, initial=-np.inf)[:, None]
        spread = np.where(np.isfinite(high - low), high - low, 0.0)
        rescaled = np.where(legal, (completed - np.where(np.isfinite(low), low, 0.0)), 0.0)
        rescaled = rescaled / np.maximum(spread, 1e-8)
        return (c_visit + visits.max(axis=1, initial=0.0))[:, None] * c_scale * rescaled

    def search_builtin(
        self, simulations: int, leaves_per_step: int = 0, evaluator: int = ROLLOUT
    ) -> SearchResult:
        """As :meth:`search` with an evaluator inside Numba: ROLLOUT (uniform priors, one
        random playout per leaf) or UNIFORM (uniform priors, value 0). With
        ``leaves_per_step`` 0 each game's search is sequential (no virtual loss)."""
        active = self._prepare(simulations, max(leaves_per_step, 1))
        seed = int(self.rng.integers(2**31 - 1))
        search_builtin(
            self.tree, active, int(simulations), int(leaves_per_step), self.c_puct, self.fpu,
            self.fpu_relative, self.virtual_loss, evaluator, seed, self.dirichlet_alpha,
            self.dirichlet_fraction,
        )  # fmt: skip
        return self.result()

    def _add_noise(self) -> None:
        if self.dirichlet_fraction > 0.0:
            seed = int(self.rng.integers(2**31 - 1))
            T.add_root_noise(self.tree, seed, self.dirichlet_alpha, self.dirichlet_fraction)

    # ---- results -------------------------------------------------------------
    def result(self) -> SearchResult:
        """The visits of every root's children and the root values, as they stand."""
        visits = np.zeros((self.batch, self.num_actions), dtype=np.float64)
        values = np.zeros(self.batch, dtype=np.float64)
        T.root_visits_into(self.tree, visits)
        T.root_values_into(self.tree, values)
        return SearchResult(visits, values)

    def proven(self) -> np.ndarray:
        """int8[B, A]: each root child's proven value for the player to move (+1 win, 0 draw,
        -1 loss), -2 where not proven."""
        out = np.zeros((self.batch, self.num_actions), dtype=np.int8)
        T.root_proven_into(self.tree, out)
        return out

    def policy(self, temperature: float = 1.0) -> np.ndarray:
        """float64[B, A]: visit counts raised to ``1 / temperature``, normalized; at
        temperature 0, uniform over the most visited actions. All zeros for a game with
        no visits (finished)."""
        visits = self.result().visits
        return np.stack([_visit_policy(v, temperature) for v in visits])

    def select_actions(
        self, temperature: float = 0.0, rng: np.random.Generator | None = None
    ) -> np.ndarray:
        """int64[B]: a move per game: a proven win if there is one (the most visited),
        else one drawn as :meth:`policy` draws, but over the moves not proven lost
        (while any is left: the most visited move may be one the search proved lost
        late); -1 for a finished game."""
        rng = self.rng if rng is None else rng
        proven = self.proven()
        visits = self.result().visits
        actions = np.full(self.batch, -1, dtype=np.int64)
        for b in range(self.batch):
            legal = self.tree.legal[b, 0]
            if not legal.any():
                continue
            wins = proven[b] == 1
            if wins.any():
                actions[b] = int(np.argmax(np.where(wins, visits[b], -1.0)))
                continue
            allowed = legal & (proven[b] != -1)
            if not allowed.any():
                allowed = legal
            p = _visit_policy(np.where(allowed, visits[b], 0.0), temperature)
            if p.sum() <= 0:  # nothing visited: any allowed move
                p = allowed.astype(np.float64)
            actions[b] = int(rng.choice(self.num_actions, p=p / p.sum()))
        return actions

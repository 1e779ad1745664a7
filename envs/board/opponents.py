"""Built-in opponents for the board game envs.

An opponent is a callable ``opponent(state, rng) -> action`` that returns a legal action
for the player to move in ``state``; all its randomness comes from ``rng``, so a seeded
generator makes it deterministic. Build one with :func:`make_opponent`::

    random   uniform over the legal actions
    greedy   wins in one if it can, else blocks the opponent's win in one, else random
    mcts     random-rollout UCT search (``simulations``, ``c_uct``), most visited move
    solver   Connect Four only: a best column by the perfect solver
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Protocol

import numpy as np

from sim.board import BoardGame
from sim.board.base import H_TO_PLAY, H_WINNER, is_int

# A seed for the Numba search, drawn from the caller's generator.
_SEED_BOUND = 2**31 - 1


class Opponent(Protocol):
    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int: ...


def _pick(candidates: np.ndarray, rng: np.random.Generator) -> int:
    """One of ``candidates`` uniformly; no draw from ``rng`` when there is a single one."""
    if len(candidates) == 1:
        return int(candidates[0])
    return int(candidates[rng.integers(len(candidates))])


def _legal_or_fail(game: BoardGame, state: np.ndarray) -> np.ndarray:
    legal = game.legal_actions(state)
    if len(legal) == 0:
        raise ValueError(f"{game.name}: the opponent cannot move: the game is over")
    return legal


class RandomOpponent:
    """Uniform over the legal actions."""

    def __init__(self, game: BoardGame) -> None:
        self.game = game

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int:
        return _pick(_legal_or_fail(self.game, state), rng)


def winning_moves(game: BoardGame, state: np.ndarray) -> np.ndarray:
    """The legal actions after which the game is over and won by the player to move."""
    mover = int(state[H_TO_PLAY])
    wins = []
    child = np.empty_like(state)
    for a in game.legal_actions(state):
        child[:] = state
        game.rules.play(child, int(a))
        if child[H_WINNER] == mover:
            wins.append(int(a))
    return np.array(wins, dtype=np.int64)


class GreedyOpponent:
    """Win in one if possible, else block a win in one, else a random legal move.

    Blocking means playing the point the opponent would win with if it were their turn
    (for Connect Four a column, elsewhere a point on the board), when that is legal. A
    pass never blocks: when the opponent would win by passing (Go, after their pass),
    passing too would hand them the game.
    """

    def __init__(self, game: BoardGame) -> None:
        self.game = game

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int:
        legal = _legal_or_fail(self.game, state)
        wins = winning_moves(self.game, state)
        if len(wins):
            return _pick(wins, rng)
        if not self.game.actions_are_points:
            # Chess: a move is not a point, so the opponent's winning move cannot be taken.
            return _pick(legal, rng)
        other = 1 - int(state[H_TO_PLAY])
        threats = winning_moves(self.game, self.game.with_mover(state, other))
        board_points = self.game.board_shape[0] * self.game.board_shape[1]
        blocks = np.intersect1d(threats[threats < board_points], legal)
        if len(blocks):
            return _pick(blocks, rng)
        return _pick(legal, rng)


class MCTSOpponent:
    """The most visited move of a random-rollout UCT search; ties broken by ``rng``."""

    def __init__(self, game: BoardGame, simulations: int = 200, c_uct: float = 1.4) -> None:
        if not is_int(simulations) or simulations < 1:
            raise ValueError(f"mcts opponent: simulations must be an int >= 1, got {simulations!r}")
        from sim.search.mcts import rollout_search

        self.game = game
        self.simulations = int(simulations)
        self.c_uct = float(c_uct)
        self._search = rollout_search

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int:
        legal = _legal_or_fail(self.game, state)
        if len(legal) == 1:
            return int(legal[0])
        seed = int(rng.integers(_SEED_BOUND))
        visits = self._search(state, self.simulations, seed, self.c_uct)
        legal_visits = visits[legal]
        return _pick(legal[legal_visits == legal_visits.max()], rng)


class SolverOpponent:
    """Connect Four: a column with the best exact score, random among equals.

    The solver is slow in the opening: past ``max_nodes`` searched nodes (about a
    second per million) it gives up and the move comes from an MCTS opponent
    (``simulations``, ``c_uct``) instead. ``max_nodes=None`` waits for the solver;
    ``weak=True`` only tells wins, draws and losses apart (faster).
    """

    def __init__(
        self,
        game: BoardGame,
        weak: bool = False,
        max_nodes: int | None = 1_000_000,
        simulations: int = 200,
        c_uct: float = 1.4,
    ) -> None:
        if game.name != "connect4":
            raise ValueError(f"the solver opponent plays only connect4, not {game.name}")
        if max_nodes is not None and (not is_int(max_nodes) or max_nodes < 1):
            raise ValueError(
                f"solver opponent: max_nodes must be an int >= 1 or None, got {max_nodes!r}"
            )
        self.game = game
        self.weak = bool(weak)
        self.max_nodes = max_nodes
        self.fallback = MCTSOpponent(game, simulations=simulations, c_uct=c_uct)

    def __call__(self, state: np.ndarray, rng: np.random.Generator) -> int:
        legal = _legal_or_fail(self.game, state)
        if len(legal) == 1:
            return int(legal[0])
        # Imported here: the solver's compile and table are paid only by those who use it.
        from sim.board.connect4_solver import SolverBudgetExceeded, analyze

        try:
            scores = analyze(state, weak=self.weak, max_nodes=self.max_nodes)
        except SolverBudgetExceeded:
            return self.fallback(state, rng)
        legal_scores = np.asarray(scores)[legal]
        return _pick(legal[legal_scores == legal_scores.max()], rng)


OPPONENTS: dict[str, Callable[..., Opponent]] = {
    "random": RandomOpponent,
    "greedy": GreedyOpponent,
    "mcts": MCTSOpponent,
    "solver": SolverOpponent,
}


def make_opponent(name: str, game: BoardGame, **kwargs) -> Opponent:
    """The built-in opponent called ``name`` for ``game``; ``kwargs`` are its options."""
    try:
        cls = OPPONENTS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown opponent {name!r}; choose one of {sorted(OPPONENTS)}") from None
    try:
        inspect.signature(cls).bind(game, **kwargs)
    except TypeError as e:
        raise ValueError(f"bad options {kwargs} for the {name!r} opponent: {e}") from None
    return cls(game, **kwargs)

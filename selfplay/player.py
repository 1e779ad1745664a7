"""The player protocol: what the match runner, the ratings and the mistake benchmark play.

A player has a ``name`` and picks a move with ``act(state, rng)``: ``state`` is a game
state of :mod:`sim.board` (a copy: the player may keep or change it) and all randomness
comes from ``rng``, so a seeded generator makes a game reproducible.  Two hooks are
optional, and the runner calls them only when the player has them:

- ``reset()`` before each game: a player that keeps a search tree forgets it here;
- ``observe(state, action)`` after each move of the game, both sides' moves, with the
  state before the move: a tree-reusing player follows the game with it.

A player may also offer ``act_batch(states, rng) -> actions`` (``states`` int64[N, S],
one move per row): a network player answers many positions with one forward, and the
lockstep match runner and the mistake benchmark then hand it every position at once.

:class:`PlayerBase` gives both as no-ops.  Adapters: :class:`BuiltinPlayer` (the
built-in opponents of :mod:`envs.board.opponents`) and :class:`FunctionPlayer` (any
``fn(state, rng) -> action``).  Players sent to a process pool must be picklable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

from envs.board.opponents import make_opponent
from sim.board import BoardGame


@runtime_checkable
class Player(Protocol):
    """Anything with a ``name`` and ``act``; ``reset``/``observe`` are optional hooks."""

    name: str

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int: ...


class PlayerBase:
    """Base class with the optional hooks as no-ops; subclasses set ``name`` and ``act``."""

    name: str = "player"

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int:
        raise NotImplementedError

    def reset(self) -> None:
        """A new game starts: forget anything kept from the last one."""

    def observe(self, state: np.ndarray, action: int) -> None:
        """``action`` was played (by either side) in ``state``, the position before it."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def is_batched(player: object) -> bool:
    """Whether ``player`` chooses moves for many positions at once (``act_batch``)."""
    return callable(getattr(player, "act_batch", None))


def follows_moves(player: object) -> bool:
    """Whether ``player`` keeps its own picture of one game, built from ``observe`` calls
    (an external engine), so it can only play games one at a time."""
    return bool(getattr(player, "follows_moves", False))


def reset_player(player: Player) -> None:
    """Call ``player.reset()`` if the player has it."""
    hook = getattr(player, "reset", None)
    if hook is not None:
        hook()


def observe_move(player: Player, state: np.ndarray, action: int) -> None:
    """Call ``player.observe(state, action)`` if the player has it."""
    hook = getattr(player, "observe", None)
    if hook is not None:
        hook(state, action)


def as_player(obj: Player | Callable[[np.ndarray, np.random.Generator], int]) -> Player:
    """``obj`` if it is a player, a :class:`FunctionPlayer` if it is a bare callable."""
    if isinstance(obj, Player):
        return obj
    if callable(obj):
        return FunctionPlayer(getattr(obj, "__name__", type(obj).__name__), obj)
    raise ValueError(f"expected a player (name, act) or a callable, got {type(obj).__name__}")


class FunctionPlayer(PlayerBase):
    """A player from ``fn(state, rng) -> action`` (picklable if ``fn`` is)."""

    def __init__(self, name: str, fn: Callable[[np.ndarray, np.random.Generator], int]) -> None:
        if not callable(fn):
            raise ValueError(f"FunctionPlayer {name!r}: fn must be callable, got {fn!r}")
        self.name = str(name)
        self.fn = fn

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int:
        return self.fn(state, rng)


class BuiltinPlayer(PlayerBase):
    """A built-in opponent (``random``, ``greedy``, ``mcts``, ``solver``) as a player.

    ``options`` go to :func:`envs.board.opponents.make_opponent` (``simulations=`` for
    mcts, ...).  The name is ``label`` if given, else the kind with its options, e.g.
    ``"mcts(simulations=50)"``.  It pickles as (kind, game, options) and is rebuilt on
    the other side, so no compiled search object travels to a worker.
    """

    def __init__(
        self, kind: str, game: BoardGame, *, label: str | None = None, **options: Any
    ) -> None:
        self.kind = kind
        self.game = game
        self.options = dict(options)
        self.opponent = make_opponent(kind, game, **options)
        if label is None:
            opts = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
            label = f"{kind}({opts})" if opts else kind
        self.name = label

    def act(self, state: np.ndarray, rng: np.random.Generator) -> int:
        return self.opponent(state, rng)

    def __getstate__(self) -> dict[str, Any]:
        return {"kind": self.kind, "game": self.game, "options": self.options, "name": self.name}

    def __setstate__(self, data: dict[str, Any]) -> None:
        self.__init__(data["kind"], data["game"], label=data["name"], **data["options"])

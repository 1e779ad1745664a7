"""Pure, Numba-compiled rules of the board games (see :mod:`sim.board.base`)."""

from __future__ import annotations

import importlib
import inspect

from sim.board.base import BoardGame

# name -> (module, class); modules load on first use so one game's compile cost
# is paid only by those who play it.
GAMES: dict[str, tuple[str, str]] = {
    "connect4": ("sim.board.connect4", "Connect4"),
    "tictactoe": ("sim.board.tictactoe", "TicTacToe"),
    "othello": ("sim.board.othello", "Othello"),
    "gomoku": ("sim.board.gomoku", "Gomoku"),
    "go": ("sim.board.go", "Go"),
    "chess": ("sim.board.chess", "Chess"),
}


def make_game(name: str, **kwargs) -> BoardGame:
    """The game called ``name`` (one of :data:`GAMES`), with its options, e.g. ``size=6``."""
    try:
        module, cls = GAMES[name]
    except KeyError:
        raise ValueError(f"unknown game {name!r}; choose one of {sorted(GAMES)}") from None
    game_class = getattr(importlib.import_module(module), cls)
    options = inspect.signature(game_class).parameters
    unknown = sorted(set(kwargs) - set(options))
    if unknown:
        raise ValueError(
            f"{name} has no option(s) {unknown}; its options are: {sorted(options) or 'none'}"
        )
    return game_class(**kwargs)


__all__ = ["GAMES", "BoardGame", "make_game"]

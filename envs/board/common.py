"""Pieces shared by the AEC and the single-agent board game envs: game lookup, the
rendering."""

from __future__ import annotations

import numpy as np

from sim.board import BoardGame, make_game

RENDER_MODES = ["human", "rgb_array", "ansi"]
ILLEGAL_MOVE_MODES = ("raise", "lose")


def resolve_game(game: str | BoardGame, **game_kwargs) -> BoardGame:
    """``game`` itself, or the game of that name built with ``game_kwargs``."""
    if isinstance(game, BoardGame):
        if game_kwargs:
            raise ValueError(
                f"game options {sorted(game_kwargs)} given with a ready-made "
                f"game {game!r}; pass the game's name instead"
            )
        return game
    if not isinstance(game, str):
        raise ValueError(f"game must be a game name or a BoardGame, got {type(game).__name__}")
    return make_game(game, **game_kwargs)


def check_choice(what: str, value: object, choices) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {value!r}")


def int8_mask(game: BoardGame, state: np.ndarray) -> np.ndarray:
    """The mover's legal actions as 0/1 int8 (all zero once the game is over)."""
    return game.legal_mask(state).astype(np.int8)


class BoardRendering:
    """Render a state as ``rgb_array`` (a frame), ``human`` (a window) or ``ansi`` (text).

    The renderer and the window (and pygame with them) load on first use only.
    """

    def __init__(self, game: BoardGame, render_mode: str | None, fps: float) -> None:
        if render_mode is not None:
            check_choice("render_mode", render_mode, RENDER_MODES)
        self.game = game
        self.render_mode = render_mode
        self.fps = fps
        self._renderer = None
        self._window = None

    def render(self, state: np.ndarray, last_action: int | None) -> np.ndarray | str | None:
        if self.render_mode is None:
            return None
        if self.render_mode == "ansi":
            return self.game.render_text(state)
        if self._renderer is None:
            from sim.board.render import BoardRenderer

            self._renderer = BoardRenderer(self.game)
        frame = self._renderer.draw(state, last_action=last_action)
        if self.render_mode == "rgb_array":
            return frame
        if self._window is None:
            from sim.board.render import BoardWindow

            self._window = BoardWindow(title=f"simarena: {self.game.name}")
        self._window.show(frame, self.fps)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

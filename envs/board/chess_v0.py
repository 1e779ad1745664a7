"""Chess (PettingZoo AEC), its pictures, and the single-agent ``simarena/Chess-v0``.

## Description

Chess under FIDE rules (Numba kernels checked against python-chess), with the draws
a player could claim made automatic (threefold repetition, the fifty-move rule) besides
stalemate and insufficient material, so every game ends by itself. ``player_0`` is White and moves
first. Rules, state, encodings: :mod:`sim.board.chess`.

## Action Space

``Discrete(4672)``: AlphaZero's 8x8x73 move planes from the mover's side
(``plane * 64 + row * 8 + col`` of the from-square; queen-like moves, knight moves,
underpromotions). Most actions are illegal in any position; use the mask.

## Observation Space

A dict: ``"observation"`` is ``Box(0, 1, (20, 8, 8), float32)``, the planes of
:func:`sim.board.chess.observation_of` (the observer's six piece types, the
opponent's, a repetition plane, colour, four castling planes, the halfmove clock / 100,
the en passant square), computed from the observing agent's side (mirrored top to
bottom for Black) whether or not it is its turn; ``"action_mask"`` is
``Box(0, 1, (4672,), int8)``, the legal moves of the agent to move and all zero for the
other agent.

## Rewards

+1 to the winner and -1 to the loser on the mating move; 0 otherwise and for a draw.

## Episode End

Termination by checkmate, stalemate, insufficient material, threefold repetition, the
fifty-move rule, or the optional move cap. No truncation.

## Arguments

``chess_v0.env(render_mode=None, illegal_move="raise", max_moves=None)``

* ``render_mode``: ``"human"`` (a window), ``"rgb_array"`` (a frame) or ``"ansi"`` (text).
* ``illegal_move``: ``"raise"`` (default) raises ValueError naming the move and the legal
  ones, leaving the env unchanged; ``"lose"`` ends the game with -1 for the offender (and
  0 for the other), as PettingZoo's ``TerminateIllegalWrapper`` does.
* ``max_moves``: a cap in plies after which the game is drawn; None (default) for none.

``simarena/Chess-v0`` (:func:`gym_env`) is :class:`envs.board.gym_env.BoardGameEnv` on
chess with this module's pictures; its opponents are ``"random"``, ``"greedy"`` (mate
in one when it can) and ``"mcts"`` (random-rollout UCT on the same kernels).

## Version History

* v0: Initial version (the rules moved from python-chess calls to Numba kernels with
  the same states, actions and observations).
"""

from __future__ import annotations

import numpy as np
from gymnasium.utils import EzPickle
from pettingzoo import AECEnv

from envs.board.aec import BoardGameAECEnv, wrap
from envs.board.common import BoardRendering
from envs.board.gym_env import BoardGameEnv
from sim.board import BoardGame


class raw_env(BoardGameAECEnv):
    metadata = {**BoardGameAECEnv.metadata, "name": "chess_v0", "render_fps": 2}

    def __init__(
        self,
        render_mode: str | None = None,
        illegal_move: str = "raise",
        max_moves: int | None = None,
    ) -> None:
        super().__init__(
            "chess", render_mode=render_mode, illegal_move=illegal_move, max_moves=max_moves
        )
        EzPickle.__init__(
            self, render_mode=render_mode, illegal_move=illegal_move, max_moves=max_moves
        )
        self._rendering = ChessRendering(self.game, render_mode, self.metadata["render_fps"])


def env(**kwargs) -> AECEnv:
    """The wrapped env; see the module docstring for the arguments."""
    return wrap(raw_env(**kwargs))


def gym_env(opponent: str = "random", **kwargs) -> BoardGameEnv:
    """``simarena/Chess-v0``: one side of chess against a built-in opponent."""
    env = BoardGameEnv("chess", opponent=opponent, **kwargs)
    env._rendering = ChessRendering(env.game, env.render_mode, env.metadata["render_fps"])
    return env


# ---- pictures ---------------------------------------------------------------------------
LIGHT, DARK = (240, 217, 181), (181, 136, 99)
BACKGROUND, STATUS_BAR, TEXT = (48, 46, 43), (36, 34, 32), (232, 230, 226)
LAST_MOVE = (205, 210, 106)
CHECK = (220, 60, 50)
PIECE_FILL = ((248, 246, 240), (30, 30, 30))  # White, Black
PIECE_EDGE = ((40, 40, 40), (200, 200, 200))
FRAME_MULTIPLE = 16


class ChessRenderer:
    """Draws chess states as ``uint8[H, W, 3]`` RGB frames with pygame, headless.

    The board is seen from White's side (rank 8 at the top), with file and rank labels;
    each piece is a disc in its side's colour carrying the piece's letter (K Q R B N P),
    drawn with pygame primitives and pygame's own font so frames are the same on every
    machine. The last move's squares are tinted, a king in check is marked, and the
    status bar says whose turn it is or how the game ended.
    """

    def __init__(self, game: BoardGame, cell_px: int = 64) -> None:
        import os

        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        if isinstance(cell_px, bool) or not isinstance(cell_px, (int, np.integer)) or cell_px < 16:
            raise ValueError(f"cell_px must be an int >= 16, got {cell_px!r}")
        if game.name != "chess":
            raise ValueError(f"ChessRenderer draws chess, not {game.name!r}")
        self.pg = pygame
        self.game = game
        self.cell = cell = int(cell_px)
        self.margin = max(22, round(cell * 0.5))
        self.status_height = max(28, round(cell * 0.6))
        board = 8 * cell
        self.width = _round_up(board + 2 * self.margin)
        self.height = _round_up(board + 2 * self.margin + self.status_height)
        self.x0 = (self.width - board) // 2
        self.y0 = self.margin
        if not pygame.font.get_init():
            pygame.font.init()
        self._label_font = pygame.font.Font(None, max(14, round(self.margin * 0.75)))
        self._piece_font = pygame.font.Font(None, round(cell * 0.62))
        self._status_font = pygame.font.Font(None, max(14, round(self.status_height * 0.62)))
        self._surface = pygame.Surface((self.width, self.height))

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def square_rect(self, row: int, col: int):
        """The pixel rectangle of board cell (row, col), row 0 = rank 8."""
        return self.pg.Rect(
            self.x0 + col * self.cell, self.y0 + row * self.cell, self.cell, self.cell
        )

    def draw(self, state: np.ndarray, last_action: int | None = None) -> np.ndarray:
        pg, cell, surf = self.pg, self.cell, self._surface
        from sim.board import chess as rules

        pieces = self.game.pieces(state)
        surf.fill(BACKGROUND)
        marked = set()
        if last_action is not None and self.game.ply(state) > 0:
            # The last mover is the side not to move now.
            move = rules.decode_action(int(last_action), self.game.to_play(state) == 1)
            marked = {move.from_square, move.to_square}
        board = self.game.to_board(state)
        check = board.king(board.turn) if board.is_check() else None
        for row in range(8):
            for col in range(8):
                square = (7 - row) * 8 + col
                color = LIGHT if (row + col) % 2 == 0 else DARK
                if square in marked:
                    color = _blend(color, LAST_MOVE, 0.6)
                if square == check:
                    color = _blend(color, CHECK, 0.7)
                rect = self.square_rect(row, col)
                surf.fill(color, rect)
                code = int(pieces[row, col])
                if code:
                    self._draw_piece(rect.center, code)
        for i in range(8):
            file_label = self._label_font.render("abcdefgh"[i], True, TEXT)
            x = self.x0 + i * cell + cell // 2
            surf.blit(
                file_label, file_label.get_rect(center=(x, self.y0 + 8 * cell + self.margin // 2))
            )
            rank_label = self._label_font.render(str(8 - i), True, TEXT)
            y = self.y0 + i * cell + cell // 2
            surf.blit(rank_label, rank_label.get_rect(center=(self.x0 - self.margin // 2, y)))
        status = pg.Rect(0, self.height - self.status_height, self.width, self.status_height)
        surf.fill(STATUS_BAR, status)
        text = self.game.status_line(state)
        if marked:
            text += f"   last: {move.uci()}"
        img = self._status_font.render(text, True, TEXT)
        surf.blit(img, img.get_rect(midleft=(self.margin // 2, status.centery)))
        rgb = pg.image.tobytes(surf, "RGB")
        return np.frombuffer(rgb, dtype=np.uint8).reshape(self.height, self.width, 3).copy()

    def _draw_piece(self, center: tuple[int, int], code: int) -> None:
        import pygame.gfxdraw

        side = 0 if code <= 6 else 1
        x, y = center
        radius = round(self.cell * 0.38)
        pygame.gfxdraw.filled_circle(self._surface, x, y, radius, PIECE_FILL[side])
        pygame.gfxdraw.aacircle(self._surface, x, y, radius, PIECE_EDGE[side])
        pygame.gfxdraw.aacircle(self._surface, x, y, radius - 1, PIECE_EDGE[side])
        letter = "PNBRQK"[(code - 1) % 6]
        img = self._piece_font.render(letter, True, PIECE_EDGE[side])
        self._surface.blit(img, img.get_rect(center=(x, y + 1)))


class ChessRendering(BoardRendering):
    """:class:`BoardRendering` with the :class:`ChessRenderer` (the generic one draws
    stones, not pieces)."""

    def render(self, state: np.ndarray, last_action: int | None) -> np.ndarray | str | None:
        if self._renderer is None and self.render_mode in ("rgb_array", "human"):
            self._renderer = ChessRenderer(self.game)
        return super().render(state, last_action)


def _round_up(n: int) -> int:
    return -(-n // FRAME_MULTIPLE) * FRAME_MULTIPLE


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore

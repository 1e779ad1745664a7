"""Pictures of board games with pygame: offscreen frames, a window for humans, recordings.

:class:`BoardRenderer` draws any :class:`~sim.board.base.BoardGame` state to an
``uint8[height, width, 3]`` RGB array on an offscreen surface, so it works headless
(``SDL_VIDEODRIVER=dummy``) and needs no display at all.  The picture is::

    +--------------------------------------+
    |      column labels (top margin)      |
    | row  +------------------------+      |
    | lab. |  board: H x W cells of |      |
    |      |  cell_px pixels each   |      |
    |      +------------------------+      |
    | status line            [pass]        |   status bar
    +--------------------------------------+

Both sides are rounded up to a multiple of 16 (what video encoders want).  Every point
(Go, Gomoku) or square (the others) owns one ``cell_px`` square cell; Go and Gomoku
draw their grid lines through the cell centres.

An optional :class:`Overlay` draws a search's view of the position over the board: a
translucent marker per action scaled by its policy share, the visit counts as small
numbers and the root value in the status bar.

:class:`BoardWindow` shows frames in a pygame window and waits for a mouse move;
:class:`MatchRecorder` / :func:`record_match` write frames to ``.mp4`` or ``.gif``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame  # noqa: E402
import pygame.gfxdraw  # noqa: E402

from sim.board.base import BoardGame  # noqa: E402

Color = tuple[int, int, int]
FRAME_MULTIPLE = 16
RECORD_FORMATS = (".mp4", ".gif")


@dataclass(frozen=True)
class _Style:
    background: Color  # margins and status bar
    board: Color
    line: Color
    text: Color
    status_bar: Color
    stones: tuple[Color, Color]  # player_0, player_1
    stone_edges: tuple[Color, Color]
    marker: Color  # last-move mark
    analysis: Color = (30, 200, 110)  # overlay markers (policy shares)


_WOOD = _Style(
    background=(206, 164, 86),
    board=(222, 184, 106),
    line=(40, 28, 16),
    text=(50, 34, 18),
    status_bar=(186, 146, 74),
    stones=((24, 24, 24), (242, 242, 236)),
    stone_edges=((0, 0, 0), (90, 90, 90)),
    marker=(214, 40, 40),
    analysis=(0, 110, 255),
)
STYLES: dict[str, _Style] = {
    "connect4": _Style(
        background=(232, 236, 244),
        board=(22, 82, 200),
        line=(12, 52, 140),
        text=(30, 40, 70),
        status_bar=(208, 214, 228),
        stones=((220, 38, 38), (248, 208, 36)),
        stone_edges=((150, 20, 20), (190, 150, 10)),
        marker=(255, 255, 255),
        analysis=(40, 220, 120),
    ),
    "tictactoe": _Style(
        background=(244, 244, 240),
        board=(252, 252, 250),
        line=(40, 40, 40),
        text=(50, 50, 50),
        status_bar=(222, 222, 216),
        stones=((210, 50, 50), (40, 90, 200)),
        stone_edges=((210, 50, 50), (40, 90, 200)),
        marker=(255, 238, 160),
        analysis=(30, 170, 90),
    ),
    "othello": _Style(
        background=(28, 74, 44),
        board=(0, 130, 70),
        line=(0, 62, 30),
        text=(226, 236, 226),
        status_bar=(20, 56, 32),
        stones=((22, 22, 22), (244, 244, 244)),
        stone_edges=((0, 0, 0), (120, 120, 120)),
        marker=(220, 40, 40),
        analysis=(255, 130, 0),
    ),
    "gomoku": _WOOD,
    "go": _WOOD,
}


@dataclass(frozen=True)
class Overlay:
    """A search's view of a position, drawn over the board by :meth:`BoardRenderer.draw`.

    ``policy``: ``float[num_actions]`` non-negative shares (a network's priors); each
    action's translucent marker is scaled by its share relative to the largest one, so
    the favourite is always plainly visible (Connect Four: a bar up the column; pass:
    a tint of the pass button; otherwise a disc on the point).
    ``visits``: ``float[num_actions]`` visit counts, written on every visited action
    (Connect Four: below the column; pass: above the pass button).
    ``value``: the root value in [-1, 1] from the view of ``player`` (status bar).
    Any part may be None.
    """

    policy: np.ndarray | None = None
    visits: np.ndarray | None = None
    value: float | None = None
    player: int | None = None


MIN_SHARE = 0.02  # policy shares below this fraction of the largest get no marker


def _count_text(n: float) -> str:
    """A visit count in at most 4 characters: 7, 812, 1.2k, 35k, 1.2M."""
    n = int(round(n))
    if n < 1000:
        return str(n)
    if n < 10_000:
        return f"{n / 1000:.1f}k"
    if n < 1_000_000:
        return f"{n // 1000}k"
    return f"{n / 1e6:.1f}M"


def _shares(policy: np.ndarray | None) -> np.ndarray | None:
    """``policy`` as fractions of its largest entry (None when there is nothing to draw)."""
    if policy is None or not policy.max() > 0:
        return None
    return policy / policy.max()


def _blend(a: Color, b: Color, t: float) -> Color:
    """``a`` moved a fraction ``t`` of the way to ``b``."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b, strict=True))  # type: ignore


def _round_up(n: int, multiple: int = FRAME_MULTIPLE) -> int:
    return -(-n // multiple) * multiple


def star_points(n: int, sides: bool) -> list[tuple[int, int]]:
    """Hoshi of an ``n``-line board: corners (and centre); ``sides`` adds the side points."""
    if n < 7:
        return []
    edge = 3 if n >= 13 else 2
    lines = [edge, n - 1 - edge]
    points = [(r, c) for r in lines for c in lines]
    if n % 2:
        mid = n // 2
        points.append((mid, mid))
        if sides and n >= 15:
            points += [(mid, edge), (mid, n - 1 - edge), (edge, mid), (n - 1 - edge, mid)]
    return points


class BoardRenderer:
    """Draws states of ``game`` as RGB arrays; maps pixels back to actions.

    ``cell_px`` is the side of one cell (a square, or the spacing of Go's lines).
    ``width`` and ``height`` are the picture's size, both multiples of 16.
    """

    def __init__(self, game: BoardGame, cell_px: int = 64) -> None:
        if isinstance(cell_px, bool) or not isinstance(cell_px, (int, np.integer)) or cell_px < 16:
            raise ValueError(f"cell_px must be an int >= 16, got {cell_px!r}")
        if game.name not in STYLES:
            raise ValueError(f"no picture style for game {game.name!r}; known: {sorted(STYLES)}")
        self.game = game
        self.style = STYLES[game.name]
        self.cell = cell = int(cell_px)
        self.rows, self.cols = game.board_shape
        self.num_points = self.rows * self.cols
        # Actions past the points: "pass" (Othello, Go); Connect Four has columns only.
        self.pass_action = self.num_points if game.num_actions > self.num_points else None
        self.margin = max(22, round(cell * 0.55))
        self.status_height = max(28, round(cell * 0.6))
        board_w, board_h = self.cols * cell, self.rows * cell
        # Wide enough for the status line on small boards such as Tic-Tac-Toe.
        self.width = _round_up(max(board_w + 2 * self.margin, 320))
        self.height = _round_up(board_h + 2 * self.margin + self.status_height)
        self.status_height = self.height - board_h - 2 * self.margin
        self.x0 = (self.width - board_w) // 2  # board's top-left corner
        self.y0 = self.margin
        self.board_rect = pygame.Rect(self.x0, self.y0, board_w, board_h)
        self.status_rect = pygame.Rect(
            0, self.height - self.status_height, self.width, self.status_height
        )
        if self.pass_action is not None:
            bw, bh = max(64, round(self.status_height * 2.4)), round(self.status_height * 0.7)
            self.pass_rect: pygame.Rect | None = pygame.Rect(
                self.width - bw - self.margin // 2, self.status_rect.centery - bh // 2, bw, bh
            )
        else:
            self.pass_rect = None
        if not pygame.font.get_init():
            pygame.font.init()
        self._label_font = pygame.font.Font(None, max(14, round(self.margin * 0.7)))
        self._status_sizes = [s for s in range(max(14, round(self.status_height * 0.62)), 9, -2)]
        self._fonts: dict[int, pygame.font.Font] = {}
        self._surface = pygame.Surface((self.width, self.height))
        self._layer = pygame.Surface((self.width, self.height), pygame.SRCALPHA)  # overlay
        self._background = self._draw_background()

    # ---- geometry ------------------------------------------------------------
    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the picture in pixels."""
        return self.width, self.height

    def cell_center(self, row: int, col: int) -> tuple[int, int]:
        """Pixel (x, y) at the centre of cell (row, col), row 0 at the top."""
        return (
            self.x0 + col * self.cell + self.cell // 2,
            self.y0 + row * self.cell + self.cell // 2,
        )

    def action_center(self, action: int, state: np.ndarray | None = None) -> tuple[int, int]:
        """A pixel that :meth:`action_at` maps to ``action`` (the pass button for pass).

        For Connect Four this is the cell where a disc dropped in the column lands in
        ``state`` (the top cell when the column is full or no state is given).
        """
        a = int(action)
        if self.pass_action is not None and a == self.pass_action:
            assert self.pass_rect is not None
            return self.pass_rect.center
        if self.game.name == "connect4":
            if not 0 <= a < self.cols:
                raise ValueError(f"connect4: no column {a}")
            row = 0
            if state is not None:
                empty = np.flatnonzero(self.game.board(state)[:, a] == 0)
                row = int(empty[-1]) if len(empty) else 0
            return self.cell_center(row, a)
        if not 0 <= a < self.num_points:
            raise ValueError(f"{self.game.name}: action {a} is not on the board")
        return self.cell_center(*divmod(a, self.cols))

    def action_at(self, x: int, y: int, state: np.ndarray | None = None) -> int | None:
        """The action under pixel (x, y), or None if the pixel is on no action.

        Connect Four: the column under x, anywhere from the top edge to the board's
        bottom.  Others: the point whose cell holds the pixel (its nearest point), or
        pass on the pass button.  Legality is not checked.
        """
        if self.pass_rect is not None and self.pass_rect.collidepoint(x, y):
            return self.pass_action
        col = math.floor((x - self.x0) / self.cell)
        row = math.floor((y - self.y0) / self.cell)
        if not 0 <= col < self.cols:
            return None
        if self.game.name == "connect4":
            return col if y < self.board_rect.bottom + self.cell // 8 else None
        if not 0 <= row < self.rows:
            return None
        return row * self.cols + col

    # ---- drawing -------------------------------------------------------------
    def draw(
        self,
        state: np.ndarray,
        last_action: int | None = None,
        show_legal: bool = False,
        overlay: Overlay | None = None,
    ) -> np.ndarray:
        """The picture of ``state`` as ``uint8[height, width, 3]``.

        ``last_action`` is marked on the board (or named in the status bar for a pass);
        ``show_legal`` dots the legal moves of the player to move; ``overlay`` draws a
        search's policy, visit counts and value on top (see :class:`Overlay`).
        """
        board = self.game.board(state)
        if board.shape != (self.rows, self.cols):
            raise ValueError(
                f"{self.game.name}: state's board is {board.shape}, "
                f"expected {(self.rows, self.cols)}"
            )
        if overlay is not None:
            overlay = self._check_overlay(overlay)
        surf = self._surface
        surf.blit(self._background, (0, 0))
        legal = self.game.legal_mask(state) if show_legal else None
        mover = self.game.to_play(state)
        draw_stones = {"connect4": self._draw_connect4, "tictactoe": self._draw_tictactoe}.get(
            self.game.name, self._draw_stones
        )
        # Connect Four's bars go under the discs, which stay readable; elsewhere a
        # marker only covers a stone on the move just played (others were illegal).
        under = self.game.name == "connect4"
        if under and overlay is not None and overlay.policy is not None:
            self._draw_policy(surf, overlay.policy)
        draw_stones(surf, board, last_action, legal, mover)
        self._draw_status(surf, state, last_action, legal, overlay)
        if overlay is not None:
            if not under and overlay.policy is not None:
                self._draw_policy(surf, overlay.policy)
            if overlay.visits is not None:
                self._draw_visits(surf, overlay.visits)
        rgb = pygame.image.tobytes(surf, "RGB")
        return np.frombuffer(rgb, dtype=np.uint8).reshape(self.height, self.width, 3).copy()

    def _check_overlay(self, overlay: Overlay) -> Overlay:
        """``overlay`` with float arrays, or ValueError naming what is wrong."""
        if not isinstance(overlay, Overlay):
            raise ValueError(f"overlay must be an Overlay, got {type(overlay).__name__}")
        arrays = {}
        for name in ("policy", "visits"):
            values = getattr(overlay, name)
            if values is None:
                arrays[name] = None
                continue
            values = np.asarray(values, dtype=np.float64)
            if values.shape != (self.game.num_actions,):
                raise ValueError(
                    f"overlay {name} must have shape ({self.game.num_actions},) for "
                    f"{self.game.name}, got {values.shape}"
                )
            if not np.isfinite(values).all() or (values < 0).any():
                raise ValueError(f"overlay {name} must be finite and >= 0")
            arrays[name] = values
        value = overlay.value
        if value is not None and not math.isfinite(value):
            raise ValueError(f"overlay value must be finite, got {value!r}")
        if overlay.player not in (None, 0, 1):
            raise ValueError(f"overlay player must be 0, 1 or None, got {overlay.player!r}")
        return Overlay(arrays["policy"], arrays["visits"], value, overlay.player)

    def _draw_policy(self, surf: pygame.Surface, policy: np.ndarray) -> None:
        """Translucent markers sized (and shaded) by each point's share of the largest
        (pass is drawn in the pass button by :meth:`_draw_status`)."""
        share = _shares(policy)
        if share is None:
            return
        cell, color, layer = self.cell, self.style.analysis, self._layer
        layer.fill((0, 0, 0, 0))
        for a in np.flatnonzero(share[: self.num_points] >= MIN_SHARE):
            s = float(share[a])
            rgba = (*color, round(70 + 150 * s))  # stronger as well as bigger
            if self.game.name == "connect4":  # a bar up the column, from the bottom
                h = max(2, round(s * self.board_rect.height))
                x = self.x0 + int(a) * cell + cell // 8
                layer.fill(rgba, pygame.Rect(x, self.board_rect.bottom - h, cell - cell // 4, h))
            else:
                x, y = self.cell_center(*divmod(int(a), self.cols))
                radius = max(2, round(cell * 0.46 * math.sqrt(s)))
                pygame.gfxdraw.filled_circle(layer, x, y, radius, rgba)
        surf.blit(layer, (0, 0))

    def _draw_visits(self, surf: pygame.Surface, visits: np.ndarray) -> None:
        """Each visited action's count in white on a small dark tag (Connect Four: under
        the column; pass: above the pass button; otherwise on the point)."""
        cell, layer = self.cell, self._layer
        connect4 = self.game.name == "connect4"
        font = self._font(max(11, round(cell * (0.5 if connect4 else 0.42))))
        below = (self.board_rect.bottom + self.status_rect.top) // 2 + max(2, cell // 20)
        layer.fill((0, 0, 0, 0))
        tags = []
        for a in np.flatnonzero(visits >= 0.5):
            img = font.render(_count_text(visits[a]), True, (255, 255, 255))
            if a == self.pass_action:
                assert self.pass_rect is not None
                rect = img.get_rect(midbottom=(self.pass_rect.centerx, self.pass_rect.top - 3))
            elif connect4:
                rect = img.get_rect(center=(self.cell_center(0, int(a))[0], below))
            else:
                rect = img.get_rect(center=self.cell_center(*divmod(int(a), self.cols)))
            pygame.draw.rect(layer, (0, 0, 0, 160), rect.inflate(4, 0), border_radius=3)
            tags.append((img, rect))
        surf.blit(layer, (0, 0))
        for img, rect in tags:
            surf.blit(img, rect)

    def _font(self, size: int) -> pygame.font.Font:
        if size not in self._fonts:
            self._fonts[size] = pygame.font.Font(None, size)
        return self._fonts[size]

    def _disc(
        self,
        surf: pygame.Surface,
        center: tuple[int, int],
        radius: int,
        fill: Color,
        edge: Color | None = None,
    ) -> None:
        x, y = center
        pygame.gfxdraw.filled_circle(surf, x, y, radius, fill)
        pygame.gfxdraw.aacircle(surf, x, y, radius, edge or fill)

    def _draw_background(self) -> pygame.Surface:
        """Everything that does not depend on the state: board, grid, labels."""
        st, cell = self.style, self.cell
        surf = pygame.Surface((self.width, self.height))
        surf.fill(st.background)
        surf.fill(st.status_bar, self.status_rect)
        name = self.game.name
        if name == "connect4":
            rim = max(4, cell // 10)
            pygame.draw.rect(
                surf, st.board, self.board_rect.inflate(2 * rim, 2 * rim), border_radius=rim * 2
            )
            for r in range(self.rows):
                for c in range(self.cols):
                    self._disc(
                        surf, self.cell_center(r, c), round(cell * 0.4), st.background, st.line
                    )
        elif name == "tictactoe":
            surf.fill(st.board, self.board_rect)
        elif name == "othello":
            surf.fill(st.board, self.board_rect)
            width = max(1, cell // 32)
            for i in range(self.rows + 1):
                y = self.y0 + i * cell
                pygame.draw.line(surf, st.line, (self.x0, y), (self.board_rect.right, y), width)
            for j in range(self.cols + 1):
                x = self.x0 + j * cell
                pygame.draw.line(surf, st.line, (x, self.y0), (x, self.board_rect.bottom), width)
            if self.rows >= 8:
                for r in (2, self.rows - 2):
                    for c in (2, self.cols - 2):
                        x, y = self.x0 + c * cell, self.y0 + r * cell
                        self._disc(surf, (x, y), max(2, cell // 14), st.line)
        else:  # go, gomoku: lines through the cell centres on a wooden board
            surf.fill(st.board, self.board_rect.inflate(cell // 3, cell // 3))
            left, top = self.cell_center(0, 0)
            right, bottom = self.cell_center(self.rows - 1, self.cols - 1)
            width = max(1, cell // 40)
            for r in range(self.rows):
                y = top + r * cell
                pygame.draw.line(surf, st.line, (left, y), (right, y), width)
            for c in range(self.cols):
                x = left + c * cell
                pygame.draw.line(surf, st.line, (x, top), (x, bottom), width)
            pygame.draw.rect(
                surf, st.line, pygame.Rect(left, top, right - left + 1, bottom - top + 1), width + 1
            )
            for r, c in star_points(self.rows, sides=name == "go"):
                self._disc(surf, self.cell_center(r, c), max(2, cell // 12), st.line)
        self._draw_labels(surf)
        return surf

    def _draw_labels(self, surf: pygame.Surface) -> None:
        font, color = self._label_font, self.style.text
        for c, label in enumerate(self.game.column_labels()):
            img = font.render(label, True, color)
            x, _ = self.cell_center(0, c)
            surf.blit(img, img.get_rect(center=(x, self.y0 // 2)))
        for r in range(self.rows):
            img = font.render(self.game.row_label(r), True, color)
            _, y = self.cell_center(r, 0)
            surf.blit(img, img.get_rect(center=(self.x0 - self.margin // 2, y)))

    def _draw_connect4(
        self,
        surf: pygame.Surface,
        board: np.ndarray,
        last: int | None,
        legal: np.ndarray | None,
        mover: int,
    ) -> None:
        st, cell = self.style, self.cell
        radius = round(cell * 0.4)
        for r, c in zip(*np.nonzero(board), strict=True):
            p = int(board[r, c]) - 1
            self._disc(surf, self.cell_center(r, c), radius, st.stones[p], st.stone_edges[p])
            self._disc(
                surf, self.cell_center(r, c), round(radius * 0.72), st.stones[p], st.stone_edges[p]
            )
        if last is not None and 0 <= last < self.cols and board[:, last].any():
            row = int(np.flatnonzero(board[:, last])[0])  # the top disc of the column
            x, y = self.cell_center(row, last)
            pygame.draw.circle(surf, st.marker, (x, y), round(radius * 0.35))
        if legal is not None:
            ghost = _blend(st.stones[mover], st.background, 0.6)
            for c in np.flatnonzero(legal[: self.cols]):
                empty = np.flatnonzero(board[:, c] == 0)
                self._disc(
                    surf, self.cell_center(int(empty[-1]), int(c)), round(radius * 0.5), ghost
                )

    def _draw_tictactoe(
        self,
        surf: pygame.Surface,
        board: np.ndarray,
        last: int | None,
        legal: np.ndarray | None,
        mover: int,
    ) -> None:
        st, cell = self.style, self.cell
        if last is not None and 0 <= last < self.num_points:
            r, c = divmod(int(last), self.cols)
            surf.fill(st.marker, pygame.Rect(self.x0 + c * cell, self.y0 + r * cell, cell, cell))
        width = max(2, cell // 24)
        for i in range(1, self.rows):
            y = self.y0 + i * cell
            pygame.draw.line(surf, st.line, (self.x0, y), (self.board_rect.right - 1, y), width)
        for j in range(1, self.cols):
            x = self.x0 + j * cell
            pygame.draw.line(surf, st.line, (x, self.y0), (x, self.board_rect.bottom - 1), width)
        stroke, arm = max(3, cell // 10), round(cell * 0.3)
        for r, c in zip(*np.nonzero(board), strict=True):
            x, y = self.cell_center(r, c)
            if board[r, c] == 1:  # X
                for dx in (-arm, arm):
                    pygame.draw.line(
                        surf, st.stones[0], (x - dx, y - arm), (x + dx, y + arm), stroke
                    )
            else:  # O
                pygame.draw.circle(surf, st.stones[1], (x, y), arm + stroke // 2, stroke)
        if legal is not None:
            dot = _blend(st.stones[mover], st.board, 0.5)
            for a in np.flatnonzero(legal[: self.num_points]):
                self._disc(
                    surf, self.cell_center(*divmod(int(a), self.cols)), max(2, cell // 16), dot
                )

    def _draw_stones(
        self,
        surf: pygame.Surface,
        board: np.ndarray,
        last: int | None,
        legal: np.ndarray | None,
        mover: int,
    ) -> None:
        """Othello discs and Go/Gomoku stones: player_0 black, player_1 white."""
        st, cell = self.style, self.cell
        radius = round(cell * (0.42 if self.game.name == "othello" else 0.47))
        for r, c in zip(*np.nonzero(board), strict=True):
            p = int(board[r, c]) - 1
            self._disc(surf, self.cell_center(r, c), radius, st.stones[p], st.stone_edges[p])
        if last is not None and 0 <= last < self.num_points:
            self._disc(
                surf, self.cell_center(*divmod(int(last), self.cols)), max(3, cell // 9), st.marker
            )
        if legal is not None:
            # Othello: a ghost disc; Go/Gomoku (nearly every point legal): a faint dot.
            othello = self.game.name == "othello"
            hint = _blend(st.stones[mover], st.board, 0.55 if othello else 0.5)
            hint_radius = round(cell * 0.17) if othello else max(2, cell // 14)
            for a in np.flatnonzero(legal[: self.num_points]):
                self._disc(surf, self.cell_center(*divmod(int(a), self.cols)), hint_radius, hint)

    def _draw_status(
        self,
        surf: pygame.Surface,
        state: np.ndarray,
        last: int | None,
        legal: np.ndarray | None,
        overlay: Overlay | None = None,
    ) -> None:
        st = self.style
        text = self.game.status_line(state)
        if last is not None:
            try:
                text += f"   last: {self.game.action_to_str(int(last))}"
            except ValueError:
                pass
        if overlay is not None and overlay.value is not None:
            who = "" if overlay.player is None else f" for player_{overlay.player}"
            text += f"   value {overlay.value:+.2f}{who}"
        right = self.pass_rect.left - 8 if self.pass_rect is not None else self.width
        room = right - self.margin // 2 - 4
        for size in self._status_sizes:  # the largest font that fits
            img = self._font(size).render(text, True, st.text)
            if img.get_width() <= room:
                break
        surf.blit(
            img,
            img.get_rect(midleft=(self.margin // 2, self.status_rect.centery)),
            area=pygame.Rect(0, 0, room, img.get_height()),
        )
        if self.pass_rect is not None:
            mask = legal if legal is not None else self.game.legal_mask(state)
            can_pass = bool(mask[self.pass_action])
            face = _blend(st.status_bar, (255, 255, 255), 0.75 if can_pass else 0.2)
            ink = st.text if can_pass else _blend(st.text, st.status_bar, 0.6)
            pygame.draw.rect(surf, face, self.pass_rect, border_radius=6)
            share = _shares(overlay.policy) if overlay is not None else None
            if share is not None and share[self.pass_action] >= MIN_SHARE:
                # pass's policy marker: a translucent bar from the left, under the label
                s = float(share[self.pass_action])
                bar = self.pass_rect.copy()
                bar.width = max(4, round(s * bar.width))
                layer = self._layer
                layer.fill((0, 0, 0, 0))
                rgba = (*st.analysis, round(70 + 150 * s))
                pygame.draw.rect(layer, rgba, bar, border_radius=6)
                surf.blit(layer, bar.topleft, area=bar)
            pygame.draw.rect(surf, ink, self.pass_rect, 2, border_radius=6)
            img = self._font(self._status_sizes[0]).render("pass (P)", True, ink)
            surf.blit(img, img.get_rect(center=self.pass_rect.center))


# ---- window ------------------------------------------------------------------
class WindowClosed(SystemExit):
    """The user closed the board window (or pressed Esc/Q); exits quietly if not caught."""

    def __init__(self) -> None:
        super().__init__(0)

    def __str__(self) -> str:
        return "the board window was closed"


class BoardWindow:
    """A pygame window that shows frames and takes mouse moves (``render_mode="human"``)."""

    def __init__(self, title: str = "simarena") -> None:
        self.title = title
        self._screen: pygame.Surface | None = None
        self._last_show = -math.inf

    @property
    def is_open(self) -> bool:
        return self._screen is not None

    def show(self, frame: np.ndarray, fps: float | None = None) -> None:
        """Display ``frame`` (``uint8[H, W, 3]``); with ``fps``, no sooner than 1/fps
        seconds after the previous frame (so the time spent thinking counts)."""
        frame = np.asarray(frame)
        if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
            raise ValueError(f"frame must be uint8[H, W, 3], got {frame.dtype}{frame.shape}")
        h, w = frame.shape[:2]
        if self._screen is None or self._screen.get_size() != (w, h):
            if not pygame.display.get_init():
                pygame.display.init()
            pygame.display.set_caption(self.title)
            self._screen = pygame.display.set_mode((w, h))
        if fps:
            self.pause(self._last_show + 1.0 / fps - time.monotonic())
        self._pump()
        image = pygame.image.frombuffer(np.ascontiguousarray(frame).tobytes(), (w, h), "RGB")
        self._screen.blit(image, (0, 0))
        pygame.display.flip()
        self._last_show = time.monotonic()

    def pause(self, seconds: float) -> None:
        """Wait ``seconds`` while keeping the window responsive."""
        end = time.monotonic() + seconds
        while True:
            self._pump()
            left = end - time.monotonic()
            if left <= 0:
                return
            time.sleep(min(left, 0.02))

    def wait_click(self, renderer: BoardRenderer, state: np.ndarray) -> int:
        """Block until the human clicks a legal move (or presses P when pass is legal).

        Raises :class:`WindowClosed` when the window is closed, ValueError when the
        game is over.
        """
        if self._screen is None:
            raise RuntimeError("show a frame before waiting for a click")
        legal = renderer.game.legal_mask(state)
        if not legal.any():
            raise ValueError(f"{renderer.game.name}: no legal move to wait for: the game is over")
        pass_action = renderer.pass_action
        while True:
            for event in pygame.event.get():
                self._check_close(event)
                if event.type == pygame.KEYDOWN and event.key == pygame.K_p:
                    if pass_action is not None and legal[pass_action]:
                        return pass_action
                elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
                    a = renderer.action_at(*event.pos, state)
                    if a is not None and legal[a]:
                        return a
            time.sleep(0.01)

    def close(self) -> None:
        if self._screen is not None:
            pygame.display.quit()
            self._screen = None

    def _pump(self) -> None:
        for event in pygame.event.get((pygame.QUIT, pygame.KEYDOWN)):
            self._check_close(event)

    @staticmethod
    def _check_close(event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT or (
            event.type == pygame.KEYDOWN and event.key in (pygame.K_ESCAPE, pygame.K_q)
        ):
            raise WindowClosed()


# ---- recording -----------------------------------------------------------------
def check_record_path(path: str | os.PathLike) -> Path:
    """``path`` as a Path if a recording can be written there, else ValueError saying why.

    Missing folders are created (``runs/...`` does not exist in a fresh clone).
    """
    p = Path(path)
    if p.suffix.lower() not in RECORD_FORMATS:
        raise ValueError(
            f"cannot record to {str(p)!r}: the extension must be one of {', '.join(RECORD_FORMATS)}"
        )
    parent = p.parent if str(p.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ValueError(
            f"cannot record to {str(p)!r}: cannot create {str(parent)!r}: {e}"
        ) from None
    if p.is_dir() or not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise ValueError(f"cannot record to {str(p)!r}: not writable")
    return p


class MatchRecorder:
    """Writes frames one by one to ``.mp4`` (H.264 via imageio-ffmpeg) or ``.gif``.

    Use as a context manager, or call :meth:`close`; frames must all have one size.
    """

    def __init__(self, path: str | os.PathLike, fps: float) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        import imageio.v2 as iio2
        import imageio.v3 as iio3

        self.path = check_record_path(path)
        self.fps = float(fps)
        self.frames = 0
        if self.path.suffix.lower() == ".mp4":
            self._writer = iio2.get_writer(
                self.path,
                format="FFMPEG",
                mode="I",
                fps=self.fps,
                codec="libx264",
                pixelformat="yuv420p",
                macro_block_size=FRAME_MULTIPLE,
            )
            self._append = self._writer.append_data
        else:  # GIF through Pillow (duration in ms); it keeps frames until close
            self._writer = iio3.imopen(self.path, "w", plugin="pillow")
            self._append = lambda f: self._writer.write(
                f, is_batch=False, duration=round(1000 / self.fps), loop=0
            )

    def append(self, frame: np.ndarray) -> None:
        self._append(np.asarray(frame, dtype=np.uint8))
        self.frames += 1

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> MatchRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def record_match(frames: Iterable[np.ndarray], path: str | os.PathLike, fps: float) -> int:
    """Write ``frames`` to ``path`` (``.mp4`` or ``.gif``) at ``fps``; return how many."""
    with MatchRecorder(path, fps) as rec:
        for frame in frames:
            rec.append(frame)
        return rec.frames

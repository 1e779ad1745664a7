"""Pygame rendering of FogArena (spectator view, or one team's view with its fog) and
replay playback.

A frame shows the map (walls, bushes, river of floor), structures and units with health
bars, heroes with their role letter, level and an ability-cooldown bar; a side panel
with the score (kills, structure health, tick), every hero's health and cooldown, and a
minimap. In a team's view, cells that team does not see are darkened, enemies out of
sight are not drawn, and the panel shows only what that team knows (as its observations
do): enemy heroes out of sight show their role and, when dead, the respawn timer (deaths
are public), not their health, level or cooldown; enemy structure health is as last seen.

:class:`RenderMixin` gives the envs their ``render`` and ``close``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from sim.arena.batch import ArenaBatch
from sim.arena.config import (
    F_ABL_CD,
    F_ALIVE,
    F_HP,
    F_KIND,
    F_LEVEL,
    F_MAXHP,
    F_RESPAWN,
    F_ROLE,
    F_TEAM,
    F_X,
    F_Y,
    G_KILLS,
    G_TICK,
    G_WINNER,
    KIND_CORE,
    KIND_CREEP,
    KIND_HERO,
    M_HP,
    MAX_TEAM,
    NUM_HEROES,
    NUM_UNITS,
    ROLE_NAMES,
    ROLE_STATS,
    S_ABL_CD,
    STRUCT0,
    STRUCTS_PER_TEAM,
    TERRAIN_BUSH,
    TERRAIN_WALL,
)
from sim.arena.kernels import team_visible_cells
from sim.arena.mapgen import ArenaMap
from sim.arena.replay import ReplayError, replay_batch

TEAM_COLORS = ((70, 150, 255), (235, 80, 70))
FLOOR, WALL, BUSH = (92, 88, 70), (38, 40, 44), (44, 110, 52)
PANEL = 230


class ArenaRenderer:
    """Draws frames (``draw``) and shows them in a window (``show``)."""

    def __init__(self, arena_map: ArenaMap, cell: int = 14) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        pygame.font.init()
        self.map = arena_map
        self.cell = cell
        s = arena_map.size
        self.width = s * cell + PANEL
        self.height = max(s * cell, 520)
        colors = np.zeros((s, s, 3), dtype=np.uint8)
        colors[:] = FLOOR
        colors[arena_map.terrain == TERRAIN_WALL] = WALL
        colors[arena_map.terrain == TERRAIN_BUSH] = BUSH
        self.colors = colors
        self.font = pygame.font.Font(None, 18)
        self.small = pygame.font.Font(None, 14)
        self.cells = np.zeros((s, s), dtype=np.uint8)
        self.window = None
        self.clock = None

    # ---- drawing ------------------------------------------------------------------
    def draw(self, batch: ArenaBatch, arena: int = 0, team: int | None = None) -> np.ndarray:
        """One frame (H, W, 3) uint8 of ``arena``: spectator (``team=None``) or a team's
        fogged view."""
        pg = self.pygame
        c = self.cell
        s = self.map.size
        ui = batch.ui[arena]
        rgb = self.colors
        if team is not None:
            team_visible_cells(batch.ui, batch.gi, arena, team, self.map.terrain,
                               self.map.bush_id, batch.params, self.cells)  # fmt: skip
            shade = np.where(self.cells[..., None] == 1, 1.0, 0.4)
            rgb = (rgb * shade).astype(np.uint8)
        big = np.repeat(np.repeat(rgb, c, axis=0), c, axis=1)
        surface = pg.Surface((self.width, self.height))
        surface.fill((24, 24, 28))
        surface.blit(pg.surfarray.make_surface(big.transpose(1, 0, 2)), (0, 0))
        shown = np.ones(NUM_UNITS, dtype=bool)
        if team is not None:
            shown = (ui[:, F_TEAM] == team) | (batch.vis[arena, team] == 1)
        for u in range(NUM_UNITS - 1, -1, -1):  # creeps first, heroes on top
            if ui[u, F_ALIVE] == 0 or not shown[u]:
                continue
            x = ui[u, F_X] * c + c // 2
            y = ui[u, F_Y] * c + c // 2
            color = TEAM_COLORS[ui[u, F_TEAM]]
            kind = ui[u, F_KIND]
            if kind == KIND_HERO:
                pg.draw.circle(surface, color, (x, y), c * 0.6)
                pg.draw.circle(surface, (250, 250, 250), (x, y), c * 0.6, 1)
                letter = ROLE_NAMES[ui[u, F_ROLE]][0].upper()
                surface.blit(self.small.render(letter, True, (0, 0, 0)), (x - 3, y - 4))
                cd = ui[u, F_ABL_CD] / ROLE_STATS[ui[u, F_ROLE], S_ABL_CD]
                self._bar(surface, x - c // 2, y + c // 2 + 1, c, 2, 1 - cd, (180, 120, 255))
            elif kind == KIND_CREEP:
                pg.draw.circle(surface, color, (x, y), c * 0.3)
            else:
                half = c * (0.8 if kind == KIND_CORE else 0.6)
                rect = pg.Rect(x - half, y - half, 2 * half, 2 * half)
                pg.draw.rect(surface, color, rect)
                pg.draw.rect(surface, (20, 20, 20), rect, 2)
            frac = ui[u, F_HP] / max(1, ui[u, F_MAXHP])
            self._bar(surface, x - c // 2, y - c // 2 - 4, c, 3, frac, (80, 220, 90))
        self._panel(surface, batch, arena, team, s * c)
        return pg.surfarray.array3d(surface).transpose(1, 0, 2).copy()

    def _bar(self, surface, x, y, w, h, frac, color) -> None:
        pg = self.pygame
        pg.draw.rect(surface, (30, 30, 30), (x, y, w, h))
        pg.draw.rect(surface, color, (x, y, max(0, round(w * min(1.0, frac))), h))

    def _panel(self, surface, batch: ArenaBatch, arena: int, team: int | None, x0: int) -> None:
        pg = self.pygame
        ui = batch.ui[arena]
        gi = batch.gi[arena]
        y = 8

        def text(msg, color=(230, 230, 230), dy=16):
            nonlocal y
            surface.blit(self.font.render(msg, True, color), (x0 + 10, y))
            y += dy

        view = "spectator" if team is None else f"team {team} view"
        text(f"FogArena  tick {gi[G_TICK]}  ({view})")
        vis = batch.vis[arena]
        mem = batch.mem[arena]

        def known(u: int) -> bool:
            return team is None or ui[u, F_TEAM] == team or vis[team, u] == 1

        for t in range(2):
            hp = 0
            for k in range(STRUCTS_PER_TEAM):
                u = STRUCT0 + t * STRUCTS_PER_TEAM + k
                if ui[u, F_ALIVE] == 1:  # standing or fallen is public
                    hp += max(0, ui[u, F_HP] if known(u) else mem[team, u, M_HP])
            text(f"team {t}: kills {gi[G_KILLS + t]}  structures {hp}", TEAM_COLORS[t])
        if gi[G_WINNER] >= 0:
            msg = "draw" if gi[G_WINNER] == 2 else f"team {gi[G_WINNER]} wins"
            text(msg, (250, 220, 90))
        y += 4
        for h in range(NUM_HEROES):
            if batch.ui[arena, h, F_MAXHP] == 0:
                continue
            t = h // MAX_TEAM
            role = ROLE_NAMES[ui[h, F_ROLE]]
            if not ui[h, F_ALIVE]:
                state = f"dead {ui[h, F_RESPAWN]}"
            elif known(h):
                state = f"L{ui[h, F_LEVEL]}"
            else:
                state = "unseen"
            text(f"{t}.{h % MAX_TEAM} {role:<7} {state}", TEAM_COLORS[t], dy=11)
            if not known(h) or not ui[h, F_ALIVE]:
                y += 7
                continue
            self._bar(surface, x0 + 10, y, 100, 3, ui[h, F_HP] / max(1, ui[h, F_MAXHP]),
                      (80, 220, 90))  # fmt: skip
            cd = ui[h, F_ABL_CD] / ROLE_STATS[ui[h, F_ROLE], S_ABL_CD]
            self._bar(surface, x0 + 115, y, 60, 3, 1 - cd, (180, 120, 255))
            y += 7
        # minimap
        s = self.map.size
        scale = 3
        mini = np.repeat(np.repeat(self.colors, scale, 0), scale, 1).copy()
        for u in range(NUM_UNITS):
            if ui[u, F_ALIVE] == 0:
                continue
            if team is not None and ui[u, F_TEAM] != team and batch.vis[arena, team, u] == 0:
                continue
            mx, my = ui[u, F_X] * scale, ui[u, F_Y] * scale
            mini[my : my + scale, mx : mx + scale] = TEAM_COLORS[ui[u, F_TEAM]]
        y0 = self.height - s * scale - 8
        surface.blit(pg.surfarray.make_surface(mini.transpose(1, 0, 2)), (x0 + 10, y0))

    # ---- window ---------------------------------------------------------------------
    def show(self, frame: np.ndarray, fps: float) -> None:
        pg = self.pygame
        if self.window is None:
            pg.display.init()
            self.window = pg.display.set_mode((frame.shape[1], frame.shape[0]))
            pg.display.set_caption("simarena: FogArena")
            self.clock = pg.time.Clock()
        pg.event.pump()
        self.window.blit(pg.surfarray.make_surface(frame.transpose(1, 0, 2)), (0, 0))
        pg.display.flip()
        if fps > 0:
            self.clock.tick(fps)

    def close(self) -> None:
        if self.window is not None:
            self.pygame.display.quit()
            self.window = None


def play_replay(
    path: str | Path,
    speed: float = 1.0,
    team: int | None = None,
    record: str | Path | None = None,
    display: bool = True,
    max_frames: int | None = None,
    base_fps: float = 20.0,
) -> dict:
    """Play a replay file back (a window at ``base_fps * speed`` frames per second).

    ``team``: None for the spectator view, 0 or 1 for that team's fogged view;
    ``record``: also write a video there (imageio); ``display=False`` draws without a
    window (as fast as it goes). Raises :class:`~sim.arena.replay.ReplayError` for a
    missing or malformed file. Returns ``{"frames", "winner", "hash_ok", "seconds"}``.
    """
    if not isinstance(speed, int | float) or speed <= 0:
        raise ValueError(f"speed must be a positive number, got {speed!r}")
    if team not in (None, 0, 1):
        raise ValueError(f"team must be None (spectator), 0 or 1, got {team!r}")
    batch, actions, final_hash = replay_batch(path)
    renderer = ArenaRenderer(batch.map)
    writer = None
    if record is not None:
        import imageio.v2 as imageio

        Path(record).parent.mkdir(parents=True, exist_ok=True)
        writer = imageio.get_writer(str(record), fps=base_fps * speed, macro_block_size=1)
    frames = 0
    start = time.perf_counter()
    try:
        for t in range(len(actions) + 1):
            frame = renderer.draw(batch, team=team)
            frames += 1
            if writer is not None:
                writer.append_data(frame)
            if display:
                renderer.show(frame, base_fps * speed)
            if max_frames is not None and frames >= max_frames:
                break
            if t < len(actions):
                batch.step(actions[t][None], check=False)
    finally:
        if writer is not None:
            writer.close()
        renderer.close()
    seconds = time.perf_counter() - start
    done_all = max_frames is None or frames == len(actions) + 1
    hash_ok = (not final_hash or batch.state_hash(0) == final_hash) if done_all else None
    if hash_ok is False:
        raise ReplayError(
            f"replay {str(path)!r} diverged: its final state hash does not match "
            "(recorded with other rules?)"
        )
    return {
        "frames": frames,
        "winner": int(batch.winner[0]),
        "hash_ok": hash_ok,
        "seconds": seconds,
    }


class RenderMixin:
    """``render`` and ``close`` of the FogArena envs (they hold ``core``, ``render_mode``,
    ``render_team``, ``metadata["render_fps"]`` and ``_renderer``)."""

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            from gymnasium import logger

            logger.warn("You are calling render method without specifying any render mode.")
            return None
        if self._renderer is None:
            self._renderer = ArenaRenderer(self.core.batch.map)
        frame = self._renderer.draw(self.core.batch, team=self.render_team)
        if self.render_mode == "rgb_array":
            return frame
        self._renderer.show(frame, self.metadata["render_fps"])
        return None

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

"""The bird's-eye view of the driving env's ``render``: the ground map round the ego
(heading up) with every object box, beside the camera views, and a pygame window for
``render_mode="human"``.
"""

from __future__ import annotations

import os

import numpy as np

from sim.driving.scene import KERB, LANE_MARKING, OBSTACLE, PEDESTRIAN, ROAD, TERRAIN, VEHICLE
from sim.driving.world import EGO_ID, World

GROUND_COLORS = np.zeros((256, 3), np.uint8)
GROUND_COLORS[TERRAIN] = (70, 120, 60)
GROUND_COLORS[ROAD] = (85, 85, 90)
GROUND_COLORS[LANE_MARKING] = (235, 235, 235)
GROUND_COLORS[KERB] = (190, 160, 120)
OBJECT_COLORS = {VEHICLE: (40, 110, 230), PEDESTRIAN: (250, 200, 40), OBSTACLE: (240, 110, 20)}
EGO_COLOR = (230, 40, 40)


def birdseye(world: World, size: int = 256, extent: float = 60.0, ego_row: float = 0.65):
    """uint8 (size, size, 3): ``extent`` metres across, the ego at ``ego_row`` of the
    height, heading up."""
    mpp = extent / size
    x, y, yaw = world.ego_pose
    idx = np.arange(size)
    fwd = (ego_row * size - (idx[:, None] + 0.5)) * mpp  # rows: forward distance
    left = (size / 2 - (idx[None, :] + 0.5)) * mpp  # cols: left distance
    c, s = np.cos(yaw), np.sin(yaw)
    wx = x + c * fwd - s * left
    wy = y + s * fwd + c * left
    g = world.ground
    col = np.floor((wx - g.origin[0]) / g.cell).astype(np.int64)
    row = np.floor((wy - g.origin[1]) / g.cell).astype(np.int64)
    rows, cols = g.ground.shape
    inside = (row >= 0) & (row < rows) & (col >= 0) & (col < cols)
    cls = np.full((size, size), TERRAIN, np.uint8)
    cls[inside] = g.ground[row[inside], col[inside]]
    img = GROUND_COLORS[cls]
    objs = world.objects(include_ego=True)
    for box, k, inst in zip(objs.boxes, objs.classes, objs.instances, strict=True):
        bx, by, _, length, width, _, byaw = (float(v) for v in box)
        # pixel window round the box, then an exact inside test in the box frame
        r = 0.5 * np.hypot(length, width)
        rel_f = c * (bx - x) + s * (by - y)
        rel_l = -s * (bx - x) + c * (by - y)
        r0 = int(max(0, (ego_row * size - (rel_f + r) / mpp)))
        r1 = int(min(size, (ego_row * size - (rel_f - r) / mpp) + 1))
        c0 = int(max(0, (size / 2 - (rel_l + r) / mpp)))
        c1 = int(min(size, (size / 2 - (rel_l - r) / mpp) + 1))
        if r0 >= r1 or c0 >= c1:
            continue
        px = wx[r0:r1, c0:c1] - bx
        py = wy[r0:r1, c0:c1] - by
        cb, sb = np.cos(byaw), np.sin(byaw)
        lx = cb * px + sb * py
        ly = -sb * px + cb * py
        mask = (np.abs(lx) <= length / 2) & (np.abs(ly) <= width / 2)
        color = EGO_COLOR if inst == EGO_ID else OBJECT_COLORS.get(int(k), (200, 200, 200))
        img[r0:r1, c0:c1][mask] = color
        # a darker front quarter shows the heading
        front = mask & (lx > length / 4)
        img[r0:r1, c0:c1][front] = (np.array(color) * 0.6).astype(np.uint8)
    return img


def _upscale(img: np.ndarray, height: int) -> np.ndarray:
    """Nearest-neighbour resize of (h, w, 3) to ``height`` rows (width in proportion)."""
    h, w = img.shape[:2]
    width = max(1, round(w * height / h))
    ri = (np.arange(height) * h // height).clip(0, h - 1)
    ci = (np.arange(width) * w // width).clip(0, w - 1)
    return img[ri][:, ci]


def compose(view: np.ndarray, cameras: list[np.ndarray], columns: int = 3) -> np.ndarray:
    """The bird's-eye view with the camera images in a grid to its right."""
    if not cameras:
        return view
    size = view.shape[0]
    n = len(cameras)
    cols = min(columns, n)
    grid_rows = (n + cols - 1) // cols
    cell_h = size // grid_rows
    tiles = [_upscale(c, cell_h) for c in cameras]
    tw = max(t.shape[1] for t in tiles)
    panel = np.zeros((size, cols * tw + 4, 3), np.uint8)
    for i, t in enumerate(tiles):
        r, q = divmod(i, cols)
        panel[r * cell_h : r * cell_h + t.shape[0], 4 + q * tw : 4 + q * tw + t.shape[1]] = t
    return np.concatenate([view, panel], axis=1)


class Window:
    """A pygame window that shows RGB frames."""

    def __init__(self, title: str, fps: int) -> None:
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import pygame

        self.pygame = pygame
        self.title = title
        self.fps = fps
        self.screen = None
        self.clock = None

    def show(self, frame: np.ndarray) -> None:
        pg = self.pygame
        if self.screen is None:
            pg.display.init()
            pg.display.set_caption(self.title)
            self.screen = pg.display.set_mode((frame.shape[1], frame.shape[0]))
            self.clock = pg.time.Clock()
        pg.event.pump()
        self.screen.blit(pg.surfarray.make_surface(frame.transpose(1, 0, 2)), (0, 0))
        pg.display.flip()
        self.clock.tick(self.fps)

    def close(self) -> None:
        if self.screen is not None:
            self.pygame.display.quit()
            self.screen = None

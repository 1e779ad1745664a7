"""The FogArena map: a point-symmetric square with three lanes, jungle walls, a river,
bushes, two bases, and a navigation table (next step from any cell towards any cell).

Team 0's base is the bottom-left corner, team 1's the top-right one; cell ``(x, y)``
mirrors to ``(S-1-x, S-1-y)``, so the two sides are the same map. Lanes: ``top`` runs
up the left edge and along the top edge, ``mid`` along the anti-diagonal, ``bot`` along
the bottom and right edges (team 1's top lane is team 0's bot lane, as in Dota).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from sim.arena.config import (
    DIR_DX,
    DIR_DY,
    MAX_TEAM,
    NUM_LANES,
    STRUCTS_PER_TEAM,
    TERRAIN_BUSH,
    TERRAIN_FLOOR,
    TERRAIN_WALL,
)

MAX_WAYPOINTS = 20  # a 64-cell map's bent lanes need 18
# The direction opposite d (d = 1..8 clockwise from north; 0 stays 0): the point mirror
# of a step, and the step back.
OPPOSITE = np.array([0, 5, 6, 7, 8, 1, 2, 3, 4], dtype=np.uint8)


@dataclass(frozen=True)
class ArenaMap:
    """Static map arrays (shared by every arena of a batch).

    Attributes:
        size: side in cells.
        terrain: (size, size) uint8, indexed ``[y, x]``: floor, wall or bush.
        bush_id: (size, size) int32, the bush patch of a cell (-1 outside bushes).
        structures: (2, 5, 2) int32 ``(x, y)`` of each team's top, mid, bot tower, base
            tower and core.
        spawns: (2, MAX_TEAM, 2) int32 hero (re)spawn cells by the core.
        creep_spawns: (2, 3, 2) int32 where each lane's creeps appear.
        waypoints: (2, 3, MAX_WAYPOINTS, 2) int32 the path of each team's lane creeps;
            ``num_waypoints[team, lane]`` are used. Team 1's are the point mirror of
            team 0's, exactly.
        nav: (2, size*size, size*size) uint8, ``nav[team, target, cell]`` the move
            direction (1..8) of a shortest path from cell to target for that team's
            units; 0 at the target or when it cannot be reached. Shortest paths tie
            often; team 1's table is the point mirror of team 0's, so that the two sides
            walk mirrored paths and neither gains from how ties are broken.
    """

    size: int
    terrain: np.ndarray
    bush_id: np.ndarray
    structures: np.ndarray
    spawns: np.ndarray
    creep_spawns: np.ndarray
    waypoints: np.ndarray
    num_waypoints: np.ndarray
    nav: np.ndarray

    def kernel_arrays(self) -> tuple:
        """The arrays the tick kernel takes, as one tuple (see :mod:`sim.arena.kernels`)."""
        return (
            self.terrain, self.bush_id, self.nav, self.spawns, self.creep_spawns,
            self.waypoints, self.num_waypoints,
        )  # fmt: skip


def _segment_distance(px: np.ndarray, py: np.ndarray, a, b) -> np.ndarray:
    ax, ay = a
    bx, by = b
    dx, dy = bx - ax, by - ay
    t = ((px - ax) * dx + (py - ay) * dy) / float(dx * dx + dy * dy)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _lane_polylines(s: int) -> list[list[tuple[int, int]]]:
    """Team 0's lanes, from its core to the enemy core."""
    c, f = 3, s - 4
    return [[(c, f), (c, c), (f, c)], [(c, f), (f, c)], [(c, f), (f, f), (f, c)]]


def _mirror(p: tuple[int, int], s: int) -> tuple[int, int]:
    return (s - 1 - p[0], s - 1 - p[1])


def _terrain(s: int) -> np.ndarray:
    ys, xs = np.mgrid[0:s, 0:s].astype(np.float64)
    floor = np.zeros((s, s), dtype=bool)
    for line in _lane_polylines(s):
        for a, b in zip(line[:-1], line[1:], strict=True):
            floor |= _segment_distance(xs, ys, a, b) <= 1.5
    floor |= (xs <= 8) & (ys >= s - 9)  # bases
    floor |= (xs >= s - 9) & (ys <= 8)
    floor |= np.abs(xs - ys) <= 1.0  # the river, corner to corner through the middle
    q, h = s // 4, s // 2
    for cx, cy in ((q, h), (h, q)):  # jungle clearings and their corridors
        floor |= np.hypot(xs - cx, ys - cy) <= 2.5
    floor |= (np.abs(ys - h) <= 0.5) & (xs >= 3) & (xs <= h)
    floor |= (np.abs(xs - h) <= 0.5) & (ys >= 3) & (ys <= h)
    floor |= floor[::-1, ::-1]  # the union with its point mirror is symmetric
    terrain = np.where(floor, TERRAIN_FLOOR, TERRAIN_WALL).astype(np.uint8)
    # Bushes (x0, y0, w, h), team 0's half; mirrored below.
    patches = [
        (1, h - 1, 2, 3),  # beside the top lane, halfway
        (q - 1, q + 2, 2, 2),  # river, near the top bend
        (h - 3, h - 1, 2, 2),  # river, beside mid
        (q - 1, h - 3, 2, 2),  # jungle clearing
        (h + 2, s - 3, 3, 2),  # beside the bot lane, halfway
        (int(s * 0.3) - 2, s - 1 - int(s * 0.3) - 2, 2, 2),  # by the mid tower
    ]
    for x0, y0, w, hh in patches:
        for y in range(y0, y0 + hh):
            for x in range(x0, x0 + w):
                if terrain[y, x] == TERRAIN_FLOOR:
                    terrain[y, x] = TERRAIN_BUSH
                    my, mx = s - 1 - y, s - 1 - x
                    if terrain[my, mx] == TERRAIN_FLOOR:
                        terrain[my, mx] = TERRAIN_BUSH
    terrain[0, :] = terrain[-1, :] = terrain[:, 0] = terrain[:, -1] = TERRAIN_WALL
    return terrain


def _bush_ids(terrain: np.ndarray) -> np.ndarray:
    s = terrain.shape[0]
    ids = np.full((s, s), -1, dtype=np.int32)
    nxt = 0
    for y in range(s):
        for x in range(s):
            if terrain[y, x] != TERRAIN_BUSH or ids[y, x] >= 0:
                continue
            stack = [(x, y)]
            ids[y, x] = nxt
            while stack:
                cx, cy = stack.pop()
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    nx, ny = cx + dx, cy + dy
                    if terrain[ny, nx] == TERRAIN_BUSH and ids[ny, nx] < 0:
                        ids[ny, nx] = nxt
                        stack.append((nx, ny))
            nxt += 1
    return ids


@njit(cache=True)
def passable(terrain: np.ndarray, x: int, y: int, d: int) -> bool:
    """Whether a unit at (x, y) may step in direction d (no wall, no corner cutting)."""
    if d == 0:
        return True
    s = terrain.shape[0]
    nx = x + DIR_DX[d]
    ny = y + DIR_DY[d]
    if nx < 0 or ny < 0 or nx >= s or ny >= s or terrain[ny, nx] == TERRAIN_WALL:
        return False
    if DIR_DX[d] != 0 and DIR_DY[d] != 0:
        if terrain[y, nx] == TERRAIN_WALL or terrain[ny, x] == TERRAIN_WALL:
            return False
    return True


@njit(cache=True)
def _build_nav(terrain: np.ndarray) -> np.ndarray:
    s = terrain.shape[0]
    n = s * s
    nav = np.zeros((n, n), dtype=np.uint8)
    seen = np.zeros(n, dtype=np.int32)
    queue = np.empty(n, dtype=np.int32)
    stamp = 0
    opposite = OPPOSITE
    for t in range(n):
        tx, ty = t % s, t // s
        if terrain[ty, tx] == TERRAIN_WALL:
            continue
        stamp += 1
        seen[t] = stamp
        head, tail = 0, 1
        queue[0] = t
        while head < tail:
            u = queue[head]
            head += 1
            ux, uy = u % s, u // s
            for d in range(1, 9):
                if not passable(terrain, ux, uy, d):
                    continue
                v = (uy + DIR_DY[d]) * s + ux + DIR_DX[d]
                if seen[v] == stamp:
                    continue
                seen[v] = stamp
                nav[t, v] = opposite[d]  # from v, step back towards u
                queue[tail] = v
                tail += 1
    return nav


def _resample(line: list[tuple[int, int]], step: float = 6.0) -> list[tuple[int, int]]:
    """Points every ``step`` cells along a polyline (its corners kept), start excluded."""
    out: list[tuple[int, int]] = []
    for a, b in zip(line[:-1], line[1:], strict=True):
        length = float(np.hypot(b[0] - a[0], b[1] - a[1]))
        k = max(1, int(length // step))
        for i in range(1, k + 1):
            t = i / k
            out.append((round(a[0] + t * (b[0] - a[0])), round(a[1] + t * (b[1] - a[1]))))
    return out


@lru_cache(maxsize=4)
def build_map(size: int = 40) -> ArenaMap:
    """The map of side ``size`` (cached: every batch of that size shares it)."""
    s = size
    terrain = _terrain(s)
    bush = _bush_ids(terrain)
    c, f = 3, s - 4
    structs0 = [
        (c, int(s * 0.62)),  # top tower
        (int(s * 0.30), s - 1 - int(s * 0.30)),  # mid tower
        (int(s * 0.38), f),  # bot tower
        (c + 3, f - 3),  # base tower
        (c, f),  # core
    ]
    structures = np.zeros((2, STRUCTS_PER_TEAM, 2), dtype=np.int32)
    spawns = np.zeros((2, MAX_TEAM, 2), dtype=np.int32)
    spawn0 = [(c - 1, f + 1), (c, f + 1), (c + 1, f + 1), (c - 1, f - 1), (c + 1, f - 1)]
    creep0 = [(c, f - 4), (c + 3, f - 3), (c + 4, f)]
    creep_spawns = np.zeros((2, NUM_LANES, 2), dtype=np.int32)
    waypoints = np.zeros((2, NUM_LANES, MAX_WAYPOINTS, 2), dtype=np.int32)
    num_waypoints = np.zeros((2, NUM_LANES), dtype=np.int32)
    for i, p in enumerate(structs0):
        structures[0, i] = p
        structures[1, i] = _mirror(p, s)
    for i, p in enumerate(spawn0):
        spawns[0, i] = p
        spawns[1, i] = _mirror(p, s)
    for lane, line in enumerate(_lane_polylines(s)):
        creep_spawns[0, lane] = creep0[lane]
        creep_spawns[1, lane] = _mirror(creep0[lane], s)
        pts = _resample(line)
        if len(pts) > MAX_WAYPOINTS:
            raise AssertionError("lane too long for MAX_WAYPOINTS")
        num_waypoints[:, lane] = len(pts)
        for k, p in enumerate(pts):
            waypoints[0, lane, k] = p
        # Team 1 walks the mirrored lane (its own top lane is team 0's bot lane), point
        # for point: resampling the mirrored line would round halves the other way.
        for k, p in enumerate(pts):
            waypoints[1, lane, k] = _mirror(p, s)
    for arr in (structures, spawns, creep_spawns):
        for team, idx in np.ndindex(arr.shape[:2]):
            x, y = arr[team, idx]
            if terrain[y, x] == TERRAIN_WALL:
                raise AssertionError(f"map {s}: a fixed point {x, y} lies in a wall")
    for a in (terrain, bush, structures, spawns, creep_spawns, waypoints, num_waypoints):
        a.setflags(write=False)
    nav0 = _build_nav(terrain)
    # Cell index c = y * s + x mirrors to s * s - 1 - c, and a step to its opposite.
    nav = np.stack([nav0, OPPOSITE[nav0[::-1, ::-1]]])
    nav.setflags(write=False)
    return ArenaMap(
        s, terrain, bush, structures, spawns, creep_spawns, waypoints, num_waypoints, nav
    )

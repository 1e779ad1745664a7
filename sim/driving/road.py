"""Procedural roads: a seeded curvy multi-lane centreline, Frenet coordinates along it,
and its rasterization into a :class:`~sim.driving.scene.GroundMap`.

The route is one road whose lanes all run in the direction of travel (lane 0 rightmost,
lateral offset ``d`` positive to the left of the centreline, arc length ``s`` from its
start). Its curvature is piecewise constant with smoothed transitions (a clothoid-like
profile), its heading kept within ``max_heading`` of the start. Optional cross streets
(straight two-lane roads across the route) add junctions to the ground map.

Cross-section of a road of half width ``hw = lanes * lane_width / 2``::

    |d| <= hw               ROAD, with dashed lane separators and solid edge lines
    hw < |d| <= hw + shoulder   KERB (kerb or shoulder)
    beyond                  TERRAIN

Where two road surfaces overlap (a junction) the cell is plain ROAD (no markings).
Rasterization visits only the cells of each centreline segment's strip, so its cost
follows the road's area, not the map's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from sim.driving.scene import KERB, LANE_MARKING, ROAD, TERRAIN, GroundMap
from sim.driving.world_config import WorldConfig

MARK_WIDTH = 0.15  # lane marking line width
EDGE_INSET = 0.3  # edge line centre inside the road edge
DASH_LENGTH = 3.0
DASH_PERIOD = 9.0
CROSS_LANE_WIDTH = 3.0
MAP_MARGIN = 6.0  # terrain around the outermost kerb


@dataclass(frozen=True)
class Road:
    """A sampled centreline (every ``ds`` metres) with its lane layout."""

    xs: np.ndarray  # float64[n] centreline x
    ys: np.ndarray  # float64[n]
    hs: np.ndarray  # float64[n] heading (continuous, not wrapped)
    ks: np.ndarray  # float64[n] curvature
    ds: float
    lanes: int
    lane_width: float
    shoulder: float
    cross: np.ndarray  # float64[J, 4] cross streets: x0, y0, x1, y1 (centreline ends)

    @property
    def length(self) -> float:
        return self.ds * (len(self.xs) - 1)

    @property
    def half_width(self) -> float:
        return self.lanes * self.lane_width / 2

    def lane_center(self, lane: int) -> float:
        return (lane - (self.lanes - 1) / 2) * self.lane_width

    def pose_at(self, s: float, d: float = 0.0) -> tuple[float, float, float]:
        """World (x, y, heading) of Frenet point (s, d)."""
        return frenet_to_world(self.xs, self.ys, self.hs, self.ds, s, d)

    def project(self, x: float, y: float) -> tuple[float, float]:
        """Frenet (s, d) of world point (x, y) (global search)."""
        s, d, _ = project(self.xs, self.ys, self.ds, x, y, 0, len(self.xs))
        return s, d

    def curvature_at(self, s: float) -> float:
        return float(curvature_at(self.ks, self.ds, s))

    def edges(self) -> tuple[np.ndarray, np.ndarray]:
        """The left and right road edges (|d| = half width) as (n, 2) polylines."""
        nx, ny = -np.sin(self.hs), np.cos(self.hs)
        hw = self.half_width
        left = np.stack([self.xs + hw * nx, self.ys + hw * ny], axis=1)
        right = np.stack([self.xs - hw * nx, self.ys - hw * ny], axis=1)
        return left, right


# ---- generation --------------------------------------------------------------------
def generate_road(config: WorldConfig, rng: np.random.Generator) -> Road:
    """A seeded route road for ``config`` (curvature profile, then cross streets)."""
    ds = config.ds
    n = int(math.ceil(config.road_length / ds)) + 1
    k = np.zeros(n)
    heading = 0.0
    i = 0
    while i < n:
        seg = max(1, int(rng.uniform(30.0, 110.0) / ds))
        kt = 0.0
        if config.curvature > 0 and rng.random() > 0.35:
            kt = rng.uniform(0.3, 1.0) * config.curvature * (1 if rng.random() < 0.5 else -1)
            m = min(seg, n - i)
            if abs(heading + kt * m * ds) > config.max_heading:
                kt = -kt
                if abs(heading + kt * m * ds) > config.max_heading:
                    kt = 0.0
        m = min(seg, n - i)
        k[i : i + m] = kt
        heading += kt * m * ds
        i += m
    # Box-smooth the steps into ramps: curvature changes over ~20 m, as on a real road.
    w = max(1, int(round(20.0 / ds)))
    if w > 1 and n > w:
        pad = np.concatenate([np.full(w, k[0]), k, np.full(w, k[-1])])
        k = np.convolve(pad, np.ones(w) / w, mode="same")[w:-w]
    h = np.concatenate([[0.0], np.cumsum((k[1:] + k[:-1]) * 0.5 * ds)])
    c, s = np.cos(h), np.sin(h)
    xs = np.concatenate([[0.0], np.cumsum((c[1:] + c[:-1]) * 0.5 * ds)])
    ys = np.concatenate([[0.0], np.cumsum((s[1:] + s[:-1]) * 0.5 * ds)])
    cross = np.zeros((config.junctions, 4))
    if config.junctions:
        lo, hi = min(60.0, 0.3 * config.road_length), config.road_length - 30.0
        centers = np.sort(rng.uniform(lo, max(lo, hi), config.junctions))
        reach = config.lanes * config.lane_width / 2 + config.shoulder_width + 30.0
        for j, sc in enumerate(centers):
            x, y, hd = frenet_to_world(xs, ys, h, ds, sc, 0.0)
            nx, ny = -math.sin(hd), math.cos(hd)
            cross[j] = (x - reach * nx, y - reach * ny, x + reach * nx, y + reach * ny)
    return Road(
        xs=xs,
        ys=ys,
        hs=h,
        ks=k,
        ds=ds,
        lanes=config.lanes,
        lane_width=config.lane_width,
        shoulder=config.shoulder_width,
        cross=cross,
    )


# ---- Frenet kernels ----------------------------------------------------------------
@njit(cache=True)
def frenet_to_world(xs, ys, hs, ds, s, d):
    """(x, y, heading) of arc length ``s`` and lateral offset ``d`` (linear beyond the
    ends)."""
    n = xs.shape[0]
    f = s / ds
    i = int(math.floor(f))
    if i < 0:
        i = 0
    if i > n - 2:
        i = n - 2
    t = f - i
    th = min(max(t, 0.0), 1.0)
    h = hs[i] + th * (hs[i + 1] - hs[i])
    x = xs[i] + t * (xs[i + 1] - xs[i]) - d * math.sin(h)
    y = ys[i] + t * (ys[i + 1] - ys[i]) + d * math.cos(h)
    return x, y, h


@njit(cache=True)
def project(xs, ys, ds, px, py, lo, hi):
    """Frenet (s, d, segment) of (px, py) searching segments ``lo..hi`` (clamped); the
    ends extend straight, so points beyond them get s < 0 or s > length."""
    n = xs.shape[0]
    if lo < 0:
        lo = 0
    if hi > n - 2:
        hi = n - 2
    best = np.inf
    bs = 0.0
    bd = 0.0
    bi = lo
    for i in range(lo, hi + 1):
        ax = xs[i]
        ay = ys[i]
        ex = xs[i + 1] - ax
        ey = ys[i + 1] - ay
        el = math.sqrt(ex * ex + ey * ey)
        t = ((px - ax) * ex + (py - ay) * ey) / (el * el)
        tc = t
        if tc < 0.0 and i > 0:
            tc = 0.0
        if tc > 1.0 and i < n - 2:
            tc = 1.0
        qx = ax + tc * ex
        qy = ay + tc * ey
        dist2 = (px - qx) ** 2 + (py - qy) ** 2
        if dist2 < best:
            best = dist2
            bi = i
            bs = (i + tc) * ds
            cross = ex * (py - ay) - ey * (px - ax)
            bd = math.sqrt(dist2) if cross >= 0 else -math.sqrt(dist2)
    return bs, bd, bi


@njit(cache=True)
def curvature_at(ks, ds, s):
    n = ks.shape[0]
    i = int(s / ds) if s > 0 else 0
    if i > n - 1:
        i = n - 1
    return ks[i]


# ---- rasterization -----------------------------------------------------------------
@njit(cache=True)
def _span(k, m, lo, hi, x0, x1):
    """Narrow [x0, x1] to the x with lo <= k * x + m <= hi."""
    if abs(k) < 1e-12:
        if m < lo or m > hi:
            return 1.0, 0.0  # empty
        return x0, x1
    a = (lo - m) / k
    b = (hi - m) / k
    return max(x0, min(a, b)), min(x1, max(a, b))


@njit(cache=True)
def _segment_cols(ax, ay, ux, uy, el, reach, ext, ox, cell, py, cols):
    """Columns [ca, cb) of row centre ``py`` within ``reach`` across and ``-ext..el+ext``
    along the segment from (ax, ay) with unit direction (ux, uy)."""
    xa, xb = _span(-uy, (py - ay) * ux + ax * uy, -reach, reach, -1e18, 1e18)
    xa, xb = _span(ux, (py - ay) * uy - ax * ux, -ext, el + ext, xa, xb)
    if xa > xb:
        return 0, 0
    ca = max(0, int(math.floor((xa - ox) / cell - 0.5)))
    cb = min(cols, int(math.floor((xb - ox) / cell - 0.5)) + 2)
    return ca, cb


@njit(cache=True)
def _nearest_field(xs, ys, reach, ext, ox, oy, cell, lo, hi, best, bd, bs):
    """Per cell near polyline (xs, ys): squared distance, side (+-1, NaN past a square
    end) and arc length of its nearest point within ``reach``. Each segment visits only
    the cells of its strip (``ext`` metres longer at both ends, enough to fill the
    wedges at the joints); ``lo[r]..hi[r]`` gets each row's span of visited columns."""
    rows, cols = best.shape
    n = xs.shape[0]
    for r in range(rows):
        lo[r] = cols
        hi[r] = 0
    pad = reach + ext
    for sweep in range(2):  # first the spans (to reset only those cells), then the field
        if sweep == 1:
            for r in range(rows):
                for c in range(lo[r], hi[r]):
                    best[r, c] = np.inf
        s0 = 0.0
        for i in range(n - 1):
            ax = xs[i]
            ay = ys[i]
            ex = xs[i + 1] - ax
            ey = ys[i + 1] - ay
            el = math.sqrt(ex * ex + ey * ey)
            ux = ex / el
            uy = ey / el
            ra = max(0, int(math.floor((min(ay, ay + ey) - pad - oy) / cell)))
            rb = min(rows, int(math.floor((max(ay, ay + ey) + pad - oy) / cell)) + 1)
            for r in range(ra, rb):
                py = oy + (r + 0.5) * cell
                ca, cb = _segment_cols(ax, ay, ux, uy, el, reach, ext, ox, cell, py, cols)
                if ca >= cb:
                    continue
                if sweep == 0:
                    lo[r] = min(lo[r], ca)
                    hi[r] = max(hi[r], cb)
                    continue
                for c in range(ca, cb):
                    px = ox + (c + 0.5) * cell
                    t = ((px - ax) * ex + (py - ay) * ey) / (el * el)
                    beyond = False  # past a square end: never classified
                    if t < 0.0:
                        beyond = i == 0
                        t = 0.0
                    elif t > 1.0:
                        beyond = i == n - 2
                        t = 1.0
                    dist2 = (px - ax - t * ex) ** 2 + (py - ay - t * ey) ** 2
                    if dist2 < best[r, c]:
                        best[r, c] = dist2
                        if beyond:
                            bd[r, c] = np.nan
                        else:
                            cr = ex * (py - ay) - ey * (px - ax)
                            bd[r, c] = 1.0 if cr >= 0 else -1.0
                        bs[r, c] = s0 + t * el
            s0 += el


@njit(cache=True)
def _paint(best, bd, bs, lo, hi, hw, shoulder, lanes, lane_width, solid_center, out):
    """Classify one road's cells and merge them into ``out``: its surface over terrain
    or kerb; where two road surfaces meet, plain ROAD (no markings in a junction); its
    kerb only over terrain."""
    half = MARK_WIDTH / 2
    outer2 = (hw + shoulder) ** 2
    for r in range(best.shape[0]):
        for c in range(lo[r], hi[r]):
            if best[r, c] > outer2 or np.isnan(bd[r, c]):
                continue
            dist = math.sqrt(best[r, c])
            old = out[r, c]
            if dist > hw:
                if old == TERRAIN:
                    out[r, c] = KERB
                continue
            if old == ROAD or old == LANE_MARKING:
                out[r, c] = ROAD
                continue
            cls = ROAD
            if abs(dist - (hw - EDGE_INSET)) < half:
                cls = LANE_MARKING
            else:
                d = dist * bd[r, c]
                for k in range(1, lanes):
                    if abs(d - (-hw + k * lane_width)) < half:
                        if solid_center or (bs[r, c] % DASH_PERIOD) < DASH_LENGTH:
                            cls = LANE_MARKING
            out[r, c] = cls


def rasterize(road: Road, cell: float) -> GroundMap:
    """The ground map of ``road`` and its cross streets at ``cell`` metres per cell."""
    reach = road.half_width + road.shoulder
    cross_reach = CROSS_LANE_WIDTH + road.shoulder
    pts_x = [road.xs.min() - reach, road.xs.max() + reach]
    pts_y = [road.ys.min() - reach, road.ys.max() + reach]
    for x0, y0, x1, y1 in road.cross:
        pts_x += [min(x0, x1) - cross_reach, max(x0, x1) + cross_reach]
        pts_y += [min(y0, y1) - cross_reach, max(y0, y1) + cross_reach]
    ox = min(pts_x) - MAP_MARGIN
    oy = min(pts_y) - MAP_MARGIN
    cols = int(math.ceil((max(pts_x) + MAP_MARGIN - ox) / cell))
    rows = int(math.ceil((max(pts_y) + MAP_MARGIN - oy) / cell))
    # Only the cells near a road are ever written, so these need no initialisation.
    best = np.empty((rows, cols), np.float32)
    bd = np.empty((rows, cols), np.float32)
    bs = np.empty((rows, cols), np.float32)
    lo = np.empty(rows, np.int64)
    hi = np.empty(rows, np.int64)
    out = np.full((rows, cols), TERRAIN, np.uint8)
    # Joint wedges on the outside of a bend are reach * turn wide.
    turn = float(np.abs(np.diff(road.hs)).max()) if len(road.hs) > 1 else 0.0
    _nearest_field(road.xs, road.ys, reach, reach * turn + 2 * cell, ox, oy, cell, lo, hi,
                   best, bd, bs)  # fmt: skip
    _paint(best, bd, bs, lo, hi, road.half_width, road.shoulder, road.lanes, road.lane_width,
           False, out)  # fmt: skip
    for x0, y0, x1, y1 in road.cross:
        xs = np.array([x0, x1])
        ys = np.array([y0, y1])
        _nearest_field(xs, ys, cross_reach, 2 * cell, ox, oy, cell, lo, hi, best, bd, bs)
        _paint(best, bd, bs, lo, hi, CROSS_LANE_WIDTH, road.shoulder, 2, CROSS_LANE_WIDTH,
               True, out)  # fmt: skip
    return GroundMap(ground=out, origin=(float(ox), float(oy)), cell=float(cell))

"""OpenCV's ``INTER_AREA`` downscaling of 8-bit gray frames, bit for bit, in Numba.

Gymnasium's ``AtariPreprocessing`` resizes with ``cv2.resize(..., INTER_AREA)`` and ale-py's
``AtariVectorEnv`` uses the same OpenCV routine (linked into its extension). OpenCV is a
large dependency we otherwise do not need, so this module reproduces its area resampling
exactly: the same weight tables (``computeResizeAreaTab``), the same float32 accumulation
order (``ResizeArea_Invoker``) and the same rounding (``saturate_cast``: nearest, ties to
even). Frames are therefore identical to both peers' (checked in tests and benchmarks).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit


@lru_cache(maxsize=16)
def area_table(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(destination index, source index, weight) triples of one axis, as OpenCV builds them."""
    if not 0 < dst <= src:
        raise ValueError(f"area resampling only shrinks: cannot map {src} pixels to {dst}")
    scale = 1.0 / (dst / src)  # OpenCV keeps 1 / inv_scale in double precision
    di: list[int] = []
    si: list[int] = []
    alpha: list[float] = []
    for d in range(dst):
        f1 = d * scale
        f2 = f1 + scale
        cell = min(scale, src - f1)
        s2 = min(math.floor(f2), src - 1)
        s1 = min(math.ceil(f1), s2)
        if s1 - f1 > 1e-3:
            di.append(d)
            si.append(s1 - 1)
            alpha.append((s1 - f1) / cell)
        for s in range(s1, s2):
            di.append(d)
            si.append(s)
            alpha.append(1.0 / cell)
        if f2 - s2 > 1e-3:
            di.append(d)
            si.append(s2)
            alpha.append(min(min(f2 - s2, 1.0), cell) / cell)
    return (
        np.array(di, np.int64),
        np.array(si, np.int64),
        np.array(alpha, np.float64).astype(np.float32),  # (float) cast of a double, as in C
    )


@njit(cache=True)
def _round_u8(v: np.float32) -> np.uint8:
    r = np.rint(v)
    if r < 0:
        return np.uint8(0)
    if r > 255:
        return np.uint8(255)
    return np.uint8(r)


@njit(cache=True)
def _resize_area(src, out, xdi, xsi, xal, ydi, ysi, yal):  # pragma: no cover - Numba
    width = out.shape[1]
    buf = np.zeros(width, np.float32)
    acc = np.zeros(width, np.float32)
    prev = ydi[0]
    for j in range(ydi.shape[0]):
        beta = yal[j]
        dy = ydi[j]
        sy = ysi[j]
        buf[:] = 0
        for k in range(xdi.shape[0]):
            buf[xdi[k]] += np.float32(src[sy, xsi[k]]) * xal[k]
        if dy != prev:
            for dx in range(width):
                out[prev, dx] = _round_u8(acc[dx])
                acc[dx] = beta * buf[dx]
            prev = dy
        else:
            for dx in range(width):
                acc[dx] += beta * buf[dx]
    for dx in range(width):
        out[prev, dx] = _round_u8(acc[dx])


def resize_area(frame: np.ndarray, height: int, width: int, out: np.ndarray | None = None):
    """``cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)`` for a 2-D uint8
    frame no larger than the source on either axis."""
    if frame.ndim != 2 or frame.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 frame, got {frame.dtype} {frame.shape}")
    if out is None:
        out = np.empty((height, width), np.uint8)
    _resize_area(
        frame, out, *area_table(frame.shape[1], width), *area_table(frame.shape[0], height)
    )
    return out

"""Procedural textures: cheap functions of a surface's 2-D coordinates (world metres on
the ground, face coordinates on boxes, cloud-plane coordinates in the sky), evaluated
per pixel inside the Numba rasterizer.

A material is one row of ``MAT_FIELDS`` floats. The training families (``TRAIN_FAMILIES``)
are the ones :func:`sim.driving.randomization.Randomization.full` draws; the held-out
families (``HELD_OUT_FAMILIES``) are used only by the canonical evaluation style.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Texture families. Training: drawn by full randomization.
FLAT, NOISE, STRIPES, CHECKS, GRADIENT = 0, 1, 2, 3, 4
# Held out for the canonical style: never drawn by full randomization.
GRAIN, GRASS, SKYGRAD = 5, 6, 7
TRAIN_FAMILIES = (FLAT, NOISE, STRIPES, CHECKS, GRADIENT)
HELD_OUT_FAMILIES = (GRAIN, GRASS, SKYGRAD)
FAMILY_NAMES = ("flat", "noise", "stripes", "checks", "gradient", "grain", "grass", "skygrad")

# Material row: family, colour A (rgb 0..1), colour B, frequency (cycles per unit),
# direction (cos, sin), phase, hash seed.
MAT_FIELDS = ("family", "ar", "ag", "ab", "br", "bg", "bb", "freq", "cos", "sin", "phase", "seed")
MAT_SIZE = len(MAT_FIELDS)


def material(
    family: int,
    a: tuple[float, float, float],
    b: tuple[float, float, float] | None = None,
    freq: float = 1.0,
    angle: float = 0.0,
    phase: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """One material row."""
    b = a if b is None else b
    return np.array(
        [family, *a, *b, freq, np.cos(angle), np.sin(angle), phase, seed], dtype=np.float64
    )


@njit(cache=True, inline="always")
def hash01(x: int, y: int, s: int) -> float:
    """A hash of three integers to [0, 1)."""
    h = (x * 374761393 + y * 668265263 + s * 982451653) & 0xFFFFFFFF
    h = ((h ^ (h >> 13)) * 1274126177) & 0xFFFFFFFF
    h = h ^ (h >> 16)
    return h * (1.0 / 4294967296.0)


@njit(cache=True, inline="always")
def value_noise(u: float, v: float, s: int) -> float:
    """Smooth value noise in [0, 1) with one lattice cell per unit."""
    fu = np.floor(u)
    fv = np.floor(v)
    iu = int(fu)
    iv = int(fv)
    tu = u - fu
    tv = v - fv
    tu = tu * tu * (3.0 - 2.0 * tu)
    tv = tv * tv * (3.0 - 2.0 * tv)
    a = hash01(iu, iv, s)
    b = hash01(iu + 1, iv, s)
    c = hash01(iu, iv + 1, s)
    d = hash01(iu + 1, iv + 1, s)
    return a + (b - a) * tu + (c - a) * tv + (a - b - c + d) * tu * tv


@njit(cache=True, inline="always")
def texture_mix(mats: np.ndarray, m: int, u: float, v: float) -> float:
    """The blend weight t in [0, 1] of colour B over colour A of material ``m`` at (u, v)."""
    fam = int(mats[m, 0])
    if fam == FLAT:
        return 0.0
    f = mats[m, 7]
    seed = int(mats[m, 11])
    if fam == NOISE:
        return value_noise(u * f, v * f, seed)
    cs = mats[m, 8]
    sn = mats[m, 9]
    s = (u * cs + v * sn) * f + mats[m, 10]
    if fam == STRIPES:
        return 1.0 if s - np.floor(s) < 0.5 else 0.0
    if fam == CHECKS:
        w = (v * cs - u * sn) * f
        return float((int(np.floor(s)) + int(np.floor(w))) & 1)
    if fam == GRADIENT:
        return abs(2.0 * (s - np.floor(s)) - 1.0)
    if fam == GRAIN:  # fine asphalt-like grain: smooth noise plus per-cell speckle
        uf = u * f
        vf = v * f
        return 0.6 * value_noise(uf, vf, seed) + 0.4 * hash01(
            int(np.floor(3.0 * uf)), int(np.floor(3.0 * vf)), seed + 1
        )
    if fam == GRASS:  # two octaves of noise
        return 0.65 * value_noise(u * f, v * f, seed) + 0.35 * value_noise(
            3.1 * u * f, 3.1 * v * f, seed + 7
        )
    return value_noise(u * f, v * f, seed)  # SKYGRAD: clouds (the gradient is the sky's)

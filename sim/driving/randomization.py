"""Domain randomization of the camera renderer, in the manner of Tobin et al. (2017) and
Tremblay et al. (2018): every aspect that should not matter to a perception model is a
knob of :class:`Randomization` that can be switched off alone, and resampled once per
episode or every frame.

Knobs group into the aspects they vary (``GROUPS``)::

    road         road_texture, marking_contrast  road, lane markings, kerbs
    terrain      terrain_texture                 terrain
    sky          sky_texture                     sky
    objects      object_texture                  pedestrians and static obstacles
    vehicles     vehicle_colors                  vehicle paint (one per instance)
    distractors  distractors, distractor_scale,  flying boxes of class "obstacle" in view
                 distractor_types
    camera       camera_position, camera_angle,  mount jitter of every camera
                 camera_fov
    lighting     lighting, num_lights,           ambient plus directional or point lights
                 point_light_prob                (Lambert shading)
    post         noise, blur, exposure           image noise, blur and exposure gain

An aspect whose knob is off takes the value of the base style (``base``): "plain" (flat
class colours, no shading: :meth:`Randomization.off`) or "canonical" (:data:`CANONICAL`,
the evaluation style: grey asphalt, white markings, green grass, blue sky with clouds
and a sun).

Held out from training: ``full()`` never draws the canonical style. Its ground and sky
use the texture families ``HELD_OUT_FAMILIES`` (grain, grass, sky gradient), which full
randomization never draws (it draws only ``TRAIN_FAMILIES``: flat, noise, stripes,
checks, gradient); and full randomization rejects any colour of road, lane marking,
kerb, terrain or sky within ``HELD_OUT_RADIUS`` (RGB distance, 0..1 units) of the
canonical colours of that class.

Held-out evaluation styles (``HELD_OUT_STYLES``, by name through
:func:`randomization_from`, each ``Randomization.off(base=name)``): further looks that
neither ``full()`` nor ``off()`` ever draws, for measuring what randomization buys::

    dusk       low orange sun (5 degrees up), dim violet ambient, orange-to-violet sky,
               dark blue-grey asphalt with yellow markings, dry olive grass
    overcast   no sun: bright grey ambient light only, grey sky, pale concrete road,
               dark wet-green grass
    snow       snow-covered terrain (grain), near-black wet asphalt, grey-white sky,
               cold low sun

Each is held out three ways: its road, terrain and sky use only ``HELD_OUT_FAMILIES``;
full randomization rejects colours within ``HELD_OUT_RADIUS`` of its palette (as for
the canonical one); and its lighting lies outside full randomization's range (full
randomization always has one light or more, ambient at most 0.6 and directional lights
10 degrees up or more: overcast has no light and ambient 0.8, dusk and snow a sun under
10 degrees).

The draws of each aspect come from their own generator, seeded from one draw of the
caller's generator per episode (and one per frame), so switching one knob changes that
aspect only, and the same caller seed gives the same frames.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from sim.driving.camera import Camera
from sim.driving.raster import MODE_FIXED, MODE_PALETTE, MODE_RANDOM
from sim.driving.scene import (
    KERB,
    LANE_MARKING,
    NUM_CLASSES,
    OBSTACLE,
    PEDESTRIAN,
    ROAD,
    SKY,
    TERRAIN,
    VEHICLE,
)
from sim.driving.textures import (
    FAMILY_NAMES,
    FLAT,
    GRAIN,
    GRASS,
    MAT_SIZE,
    SKYGRAD,
    TRAIN_FAMILIES,
    material,
)

__all__ = [
    "CANONICAL",
    "DISTRACTOR_TYPES",
    "GROUPS",
    "HELD_OUT_RADIUS",
    "HELD_OUT_STYLES",
    "Randomization",
    "Style",
    "randomization_from",
    "sample_style",
]

GROUPS = ("road", "terrain", "sky", "objects", "vehicles", "distractors", "camera", "lighting",
          "post")  # fmt: skip
DISTRACTOR_TYPES = ("cube", "plate", "rod")
HELD_OUT_RADIUS = 0.2
HELD_OUT_STYLES = ("dusk", "overcast", "snow")
BASES = ("plain", "canonical", *HELD_OUT_STYLES)


def _range(name: str, lo_hi: tuple, lo_bound: float, hi_bound: float = math.inf) -> None:
    if len(lo_hi) != 2 or not lo_bound <= lo_hi[0] <= lo_hi[1] <= hi_bound:
        raise ValueError(
            f"Randomization.{name} must be (lo, hi) with {lo_bound} <= lo <= hi <= {hi_bound},"
            f" got {lo_hi!r}"
        )


@dataclass(frozen=True)
class Randomization:
    """What the renderer randomizes. The defaults are full randomization; each knob can
    be switched off alone (False, 0, or an empty range), which fixes that aspect to the
    ``base`` style."""

    road_texture: bool = True
    """Random texture family and colours on road, lane markings and kerbs."""
    marking_contrast: float = 0.0
    """With ``road_texture``: lane-marking colours are at least this much brighter
    (luminance, 0..1 units) than both road colours, as paint on asphalt is; road colours
    are darkened where needed to leave room. 0: the colours are independent."""
    terrain_texture: bool = True
    """Random texture family and colours on the terrain."""
    sky_texture: bool = True
    """Random texture family and colours in the sky."""
    object_texture: bool = True
    """Random texture family and colours on pedestrians and static obstacles."""
    vehicle_colors: bool = True
    """Random paint per vehicle (windows stay dark glass)."""
    distractors: tuple[int, int] = (0, 8)
    """Number of flying distractors (boxes of class "obstacle" in view), drawn uniformly
    from [lo, hi]; (0, 0) switches them off. Their textures and colours are random."""
    distractor_scale: tuple[float, float] = (0.3, 2.5)
    """Size of a distractor's longest edge in metres."""
    distractor_types: tuple[str, ...] = DISTRACTOR_TYPES
    """Distractor shapes drawn from: cube, plate (thin slab), rod (long bar)."""
    camera_position: float = 0.15
    """Mount position jitter of every camera, metres (uniform +-, per axis); 0: off."""
    camera_angle: float = 0.04
    """Mount angle jitter (yaw, pitch, roll), radians (uniform +-); 0: off."""
    camera_fov: float = 6.0
    """Horizontal field-of-view jitter, degrees (uniform +-); 0: off."""
    lighting: bool = True
    """Random ambient light plus ``num_lights`` directional or point lights."""
    num_lights: tuple[int, int] = (1, 3)
    """Number of lights besides the ambient one, drawn uniformly from [lo, hi]."""
    point_light_prob: float = 0.4
    """Chance that a light is a point light (else directional, like the sun)."""
    noise: float = 0.04
    """Largest std of the per-pixel image noise (0..1 units); drawn from [0, noise]."""
    blur: float = 0.2
    """Largest weight of the 3-tap blur's side taps (0..1/3); drawn from [0, blur]."""
    exposure: tuple[float, float] = (0.7, 1.4)
    """Exposure gain range (log-uniform); (1, 1): off."""
    traffic: tuple[float, float] = (0.5, 1.5)
    """Traffic density factor range for the world's traffic (read by the env when it
    builds an episode, not by the renderer); (1, 1): off."""
    per_frame: tuple[str, ...] = ()
    """Aspects (names in ``GROUPS``) resampled every frame rather than every episode."""
    base: str = "plain"
    """Style of the aspects whose knob is off: "plain", "canonical" or a held-out style
    (``HELD_OUT_STYLES``)."""

    def __post_init__(self) -> None:
        for name in ("road_texture", "terrain_texture", "sky_texture", "object_texture",
                     "vehicle_colors", "lighting"):  # fmt: skip
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"Randomization.{name} must be a bool")
        _range("distractors", self.distractors, 0, 64)
        _range("distractor_scale", self.distractor_scale, 1e-3)
        _range("num_lights", self.num_lights, 1, 8)
        _range("exposure", self.exposure, 1e-3)
        _range("traffic", self.traffic, 0.0)
        bad = set(self.distractor_types) - set(DISTRACTOR_TYPES)
        if bad or not self.distractor_types:
            raise ValueError(
                f"Randomization.distractor_types: unknown or empty {sorted(bad)}; "
                f"choose from {list(DISTRACTOR_TYPES)}"
            )
        for name, hi in (("camera_position", 5.0), ("camera_angle", 1.0),
                         ("camera_fov", 60.0), ("point_light_prob", 1.0), ("noise", 0.5),
                         ("blur", 1 / 3), ("marking_contrast", 0.6)):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= hi:
                raise ValueError(f"Randomization.{name} must lie in [0, {hi:.4g}], got {value}")
        bad = set(self.per_frame) - set(GROUPS)
        if bad:
            raise ValueError(
                f"Randomization.per_frame: unknown aspect(s) {sorted(bad)}; choose from "
                f"{list(GROUPS)}"
            )
        if self.base not in BASES:
            raise ValueError(f"Randomization.base must be one of {list(BASES)}, got {self.base!r}")

    @staticmethod
    def full(**overrides: object) -> Randomization:
        """Every knob on (the defaults), with ``overrides`` applied."""
        return Randomization(**overrides)  # type: ignore[arg-type]

    @staticmethod
    def off(**overrides: object) -> Randomization:
        """Every knob off: the plain flat style, the same every episode."""
        off = dict(
            road_texture=False, terrain_texture=False, sky_texture=False,
            object_texture=False, vehicle_colors=False, distractors=(0, 0),
            camera_position=0.0, camera_angle=0.0, camera_fov=0.0, lighting=False,
            noise=0.0, blur=0.0, exposure=(1.0, 1.0), traffic=(1.0, 1.0),
        )  # fmt: skip
        off.update(overrides)
        return Randomization(**off)  # type: ignore[arg-type]

    def enabled(self, group: str) -> bool:
        """Whether the aspect ``group`` is randomized."""
        return {
            "road": self.road_texture,
            "terrain": self.terrain_texture,
            "sky": self.sky_texture,
            "objects": self.object_texture,
            "vehicles": self.vehicle_colors,
            "distractors": self.distractors[1] > 0,
            "camera": self.camera_position > 0 or self.camera_angle > 0 or self.camera_fov > 0,
            "lighting": self.lighting,
            "post": self.noise > 0 or self.blur > 0 or self.exposure != (1.0, 1.0),
        }[group]

    def sample_traffic(self, rng: np.random.Generator) -> float:
        """A traffic density factor for an episode (1 when the knob is off)."""
        lo, hi = self.traffic
        return float(lo if lo == hi else rng.uniform(lo, hi))


CANONICAL = Randomization.off(base="canonical")
"""The fixed evaluation style (see the module docstring); training never draws it."""

_NAMED = {"full": Randomization.full, "off": Randomization.off, "canonical": lambda: CANONICAL}
_NAMED.update({name: (lambda name=name: Randomization.off(base=name)) for name in HELD_OUT_STYLES})


def randomization_from(spec: str | Randomization) -> Randomization:
    """A :class:`Randomization` from "full", "off", "canonical", a held-out style name
    (``HELD_OUT_STYLES``) or an instance."""
    if isinstance(spec, Randomization):
        return spec
    if isinstance(spec, str) and spec in _NAMED:
        return _NAMED[spec]()
    raise ValueError(
        f"unknown randomization {spec!r}; use one of {list(_NAMED)} or a Randomization"
    )


# ---- base styles ---------------------------------------------------------------------

_PLAIN_COLOURS = {
    SKY: (0.55, 0.75, 0.95),
    TERRAIN: (0.35, 0.58, 0.30),
    ROAD: (0.36, 0.36, 0.38),
    LANE_MARKING: (0.95, 0.95, 0.95),
    KERB: (0.75, 0.68, 0.58),
    VEHICLE: (0.80, 0.15, 0.15),
    PEDESTRIAN: (0.95, 0.75, 0.20),
    OBSTACLE: (0.95, 0.50, 0.10),
}
_PLAIN_MATS = np.stack([material(FLAT, _PLAIN_COLOURS[c]) for c in range(NUM_CLASSES)])
_CANONICAL_MATS = _PLAIN_MATS.copy()
_CANONICAL_MATS[ROAD] = material(GRAIN, (0.30, 0.30, 0.32), (0.42, 0.42, 0.44), 5.0, seed=11)
_CANONICAL_MATS[LANE_MARKING] = material(GRAIN, (0.93, 0.93, 0.89), (0.80, 0.80, 0.77), 5.0,
                                         seed=12)  # fmt: skip
_CANONICAL_MATS[KERB] = material(GRAIN, (0.62, 0.60, 0.57), (0.74, 0.72, 0.68), 4.0, seed=13)
_CANONICAL_MATS[TERRAIN] = material(GRASS, (0.22, 0.42, 0.14), (0.36, 0.52, 0.20), 0.7, seed=14)
_CANONICAL_MATS[SKY] = material(SKYGRAD, (0.80, 0.88, 0.96), (0.28, 0.50, 0.86), 1.2, seed=15)
_CANONICAL_MATS[PEDESTRIAN] = material(FLAT, (0.20, 0.24, 0.42))
_CANONICAL_MATS[OBSTACLE] = material(FLAT, (0.96, 0.42, 0.08))
_HELD_OUT_CLASSES = (SKY, TERRAIN, ROAD, LANE_MARKING, KERB)


def _directional(azimuth_deg: float, elevation_deg: float, colour: tuple) -> np.ndarray:
    az, el = math.radians(azimuth_deg), math.radians(elevation_deg)
    d = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
    return np.array([[0.0, *d, *colour, 0.0]])


def _held_out_mats(spec: dict[int, np.ndarray]) -> np.ndarray:
    mats = _CANONICAL_MATS.copy()
    for cls, row in spec.items():
        mats[cls] = row
    return mats


# The held-out evaluation styles: (materials, ambient, lights); see the module docstring.
_HELD_OUT = {
    "dusk": (
        _held_out_mats(
            {
                ROAD: material(GRAIN, (0.17, 0.17, 0.24), (0.26, 0.25, 0.33), 5.0, seed=21),
                LANE_MARKING: material(GRAIN, (0.95, 0.78, 0.22), (0.82, 0.66, 0.18), 5.0, seed=22),
                KERB: material(GRAIN, (0.55, 0.30, 0.26), (0.66, 0.40, 0.34), 4.0, seed=23),
                TERRAIN: material(GRASS, (0.40, 0.38, 0.16), (0.55, 0.48, 0.22), 0.7, seed=24),
                SKY: material(SKYGRAD, (1.00, 0.62, 0.30), (0.30, 0.20, 0.52), 1.2, seed=25),
                PEDESTRIAN: material(FLAT, (0.10, 0.45, 0.40)),
                OBSTACLE: material(FLAT, (0.85, 0.85, 0.20)),
            }
        ),
        np.array([0.42, 0.34, 0.46]),
        _directional(-160.0, 5.0, (1.00, 0.55, 0.25)),
    ),
    "overcast": (
        _held_out_mats(
            {
                ROAD: material(GRAIN, (0.56, 0.55, 0.52), (0.66, 0.65, 0.62), 5.0, seed=31),
                LANE_MARKING: material(GRAIN, (0.98, 0.98, 0.92), (0.88, 0.88, 0.84), 5.0, seed=32),
                KERB: material(GRAIN, (0.40, 0.40, 0.42), (0.48, 0.48, 0.50), 4.0, seed=33),
                TERRAIN: material(GRASS, (0.12, 0.24, 0.12), (0.20, 0.30, 0.14), 0.7, seed=34),
                SKY: material(SKYGRAD, (0.84, 0.85, 0.87), (0.62, 0.64, 0.68), 1.2, seed=35),
                PEDESTRIAN: material(FLAT, (0.70, 0.15, 0.55)),
                OBSTACLE: material(FLAT, (0.20, 0.65, 0.85)),
            }
        ),
        np.array([0.80, 0.80, 0.82]),
        np.zeros((0, 8)),
    ),
    "snow": (
        _held_out_mats(
            {
                ROAD: material(GRAIN, (0.10, 0.10, 0.11), (0.18, 0.18, 0.20), 5.0, seed=41),
                LANE_MARKING: material(GRAIN, (0.90, 0.92, 0.98), (0.75, 0.78, 0.85), 5.0, seed=42),
                KERB: material(GRAIN, (0.30, 0.26, 0.22), (0.40, 0.35, 0.30), 4.0, seed=43),
                TERRAIN: material(GRAIN, (0.88, 0.90, 0.95), (0.97, 0.98, 1.00), 1.5, seed=44),
                SKY: material(SKYGRAD, (0.93, 0.93, 0.95), (0.70, 0.74, 0.80), 1.2, seed=45),
                PEDESTRIAN: material(FLAT, (0.15, 0.55, 0.20)),
                OBSTACLE: material(FLAT, (0.90, 0.10, 0.20)),
            }
        ),
        np.array([0.55, 0.58, 0.64]),
        _directional(60.0, 7.0, (0.75, 0.80, 0.95)),
    ),
}
_BASE_MATS = {"plain": _PLAIN_MATS, "canonical": _CANONICAL_MATS}
_BASE_MATS.update({name: mats for name, (mats, _, _) in _HELD_OUT.items()})
_CANONICAL_SUN = np.array(
    [[0.0, *(-0.45, 0.45, 0.77), 0.70, 0.67, 0.62, 0.0]]
)  # directional, from the north-west at 50 degrees elevation
_CANONICAL_SUN[0, 1:4] /= np.linalg.norm(_CANONICAL_SUN[0, 1:4])
_CANONICAL_AMBIENT = np.array([0.48, 0.50, 0.54])


@dataclass
class Style:
    """The sampled values the renderer's kernels read (see :mod:`sim.driving.raster`)."""

    mats: np.ndarray  # float64[8, MAT_SIZE] one material per class id
    dist_mats: np.ndarray  # float64[D, MAT_SIZE] one per distractor
    distractors: np.ndarray  # float64[D, 16]
    paint: np.ndarray  # float64[2] vehicle paint mode, salt
    ambient: np.ndarray  # float64[3]
    lights: np.ndarray  # float64[L, 8]
    jitter: np.ndarray  # float64[C, 7]
    post: np.ndarray  # float64[3] noise std, blur weight, exposure gain
    all_mats: np.ndarray = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self.combine()

    def combine(self) -> None:
        """Rebuild the material table the kernel reads (class rows, then distractors)."""
        self.all_mats = np.ascontiguousarray(np.concatenate([self.mats, self.dist_mats]))
        self.distractors[:, 15] = NUM_CLASSES + np.arange(len(self.distractors))

    def to_dict(self) -> dict:
        """The parameters as JSON-able lists (for dataset manifests)."""

        def mat(row: np.ndarray) -> dict:
            return {
                "family": FAMILY_NAMES[int(row[0])],
                "a": row[1:4].round(4).tolist(),
                "b": row[4:7].round(4).tolist(),
                "freq": round(float(row[7]), 4),
                "angle": round(float(math.atan2(row[9], row[8])), 4),
            }

        return {
            "materials": {
                name: mat(self.mats[i])
                for i, name in enumerate(
                    (
                        "sky",
                        "terrain",
                        "road",
                        "lane_marking",
                        "kerb",
                        "vehicle",
                        "pedestrian",
                        "obstacle",
                    )
                )  # fmt: skip
            },
            "vehicle_paint": ["fixed", "random", "palette"][int(self.paint[0])],
            "distractors": [
                {
                    "size": (2 * d[12:15]).round(3).tolist(),
                    "position": d[:3].round(3).tolist(),
                    **mat(m),
                }
                for d, m in zip(self.distractors, self.dist_mats, strict=True)
            ],  # fmt: skip
            "ambient": self.ambient.round(4).tolist(),
            "lights": [
                {
                    "kind": "point" if lt[0] > 0.5 else "directional",
                    "vector": lt[1:4].round(4).tolist(),
                    "colour": lt[4:7].round(4).tolist(),
                }
                for lt in self.lights
            ],  # fmt: skip
            "camera_jitter": self.jitter.round(5).tolist(),
            "noise": round(float(self.post[0]), 5),
            "blur": round(float(self.post[1]), 5),
            "exposure": round(float(self.post[2]), 5),
        }


# ---- sampling ------------------------------------------------------------------------


_LUMA = np.array([0.299, 0.587, 0.114])


def _into_luma(c: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """``c`` mixed towards white (luminance under ``lo``) or black (over ``hi``) until
    its luminance lies in [lo, hi]."""
    luma = float(_LUMA @ c)
    if luma < lo:
        return c + (lo - luma) / (1.0 - luma) * (1.0 - c)
    if luma > hi:
        return c * (hi / luma)
    return c


def _colour(
    rng: np.random.Generator, avoid: np.ndarray | None, luma: tuple[float, float] = (0.0, 1.0)
) -> np.ndarray:
    """A uniform random RGB colour, brought into the luminance range ``luma``, kept
    HELD_OUT_RADIUS away from every row of ``avoid`` (K, 3)."""
    for _ in range(256):
        c = _into_luma(rng.random(3), *luma)
        if avoid is None or np.linalg.norm(c - avoid, axis=1).min() >= HELD_OUT_RADIUS:
            return c
    # (practically unreachable) the colour farthest from those held out, of a few
    cands = np.array([_into_luma(c, *luma) for c in rng.random((64, 3))])
    return cands[np.linalg.norm(cands[:, None] - avoid[None], axis=2).min(1).argmax()]


def _random_material(
    rng: np.random.Generator,
    freq: tuple[float, float],
    avoid: np.ndarray | None,
    luma: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    fam = int(rng.choice(TRAIN_FAMILIES))
    a = _colour(rng, avoid, luma)
    b = _colour(rng, avoid, luma)
    f = math.exp(rng.uniform(math.log(freq[0]), math.log(freq[1])))
    return material(
        fam, tuple(a), tuple(b), f, rng.uniform(0, math.pi), rng.random(),
        int(rng.integers(1 << 20)),
    )  # fmt: skip


def _avoid(cls: int) -> np.ndarray:
    """The held-out colours of class ``cls``: both colours of the canonical and every
    held-out style's material."""
    rows = [_CANONICAL_MATS[cls]] + [mats[cls] for mats, _, _ in _HELD_OUT.values()]
    return np.concatenate([r[[1, 2, 3, 4, 5, 6]].reshape(2, 3) for r in rows])


def _rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3-D rotation."""
    q = rng.normal(size=4)
    w, x, y, z = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _distractors(
    r: Randomization, cams: list[Camera], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.integers(r.distractors[0], r.distractors[1] + 1))
    out = np.zeros((n, 16))
    mats = np.zeros((n, MAT_SIZE))
    for i in range(n):
        kind = r.distractor_types[int(rng.integers(len(r.distractor_types)))]
        s = rng.uniform(*r.distractor_scale)
        if kind == "cube":
            dims = s * rng.uniform(0.7, 1.0, 3)
        elif kind == "plate":
            dims = s * np.array([1.0, rng.uniform(0.4, 1.0), 0.06])
        else:
            dims = s * np.array([1.0, 0.12, 0.12])
        cam = cams[int(rng.integers(len(cams)))]
        if cam.topdown:  # anywhere in the picture, below the camera
            half = 0.5 * cam.extent
            x = cam.x + rng.uniform(-half, half)
            y = cam.y + rng.uniform(-half, half)
            z = rng.uniform(0.5, max(0.6, 0.5 * cam.z))
        else:  # inside the camera's view cone
            hfov = math.radians(cam.fov_deg) / 2
            vfov = math.atan(math.tan(hfov) * cam.height / cam.width)
            bearing = cam.yaw + rng.uniform(-0.9, 0.9) * hfov
            elev = -cam.pitch + rng.uniform(-0.8, 0.8) * vfov
            rng_m = rng.uniform(3.0, 25.0)
            x = cam.x + rng_m * math.cos(bearing)
            y = cam.y + rng_m * math.sin(bearing)
            z = cam.z + rng_m * math.tan(elev)
        z = max(z, 0.5 * float(dims.max()) + 0.05)  # float above the ground
        out[i, 0:3] = (x, y, z)
        out[i, 3:12] = _rotation(rng).ravel()
        out[i, 12:15] = dims / 2
        mats[i] = _random_material(rng, (0.5, 6.0), None)
    return out, mats


def _lights(r: Randomization, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    n = int(rng.integers(r.num_lights[0], r.num_lights[1] + 1))
    ambient = rng.uniform(0.15, 0.6) * rng.uniform(0.8, 1.0, 3)
    lights = np.zeros((n, 8))
    for i in range(n):
        colour = rng.uniform(0.3, 1.0) * rng.uniform(0.6, 1.0, 3)
        if rng.random() < r.point_light_prob:  # ego frame position, around the car
            bearing = rng.uniform(-math.pi, math.pi)
            dist = rng.uniform(2.0, 25.0)
            pos = (dist * math.cos(bearing), dist * math.sin(bearing), rng.uniform(1.0, 12.0))
            lights[i] = (1.0, *pos, *(1.5 * colour), rng.uniform(5.0, 30.0))
        else:
            az = rng.uniform(-math.pi, math.pi)
            el = rng.uniform(math.radians(10), math.radians(85))
            d = (math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el))
            lights[i] = (0.0, *d, *colour, 0.0)
    return ambient, lights


def sample_group(
    r: Randomization, group: str, style: Style, cams: list[Camera], rng: np.random.Generator
) -> None:
    """Resample one aspect of ``style`` in place (base values when its knob is off)."""
    canonical = r.base != "plain"  # the canonical look or a held-out one
    base = _BASE_MATS[r.base]
    on = r.enabled(group)
    if group in ("road", "terrain", "sky", "objects"):
        classes = {
            "road": (ROAD, LANE_MARKING, KERB),
            "terrain": (TERRAIN,),
            "sky": (SKY,),
            "objects": (PEDESTRIAN, OBSTACLE),
        }[group]
        freq = {"sky": (0.5, 8.0), "objects": (0.5, 6.0)}.get(group, (0.05, 4.0))
        for c in classes:
            avoid = _avoid(c) if c in _HELD_OUT_CLASSES else None
            luma = (0.0, 1.0)
            if group == "road" and r.marking_contrast > 0:
                # Road first (ROAD precedes LANE_MARKING): dark enough to leave room,
                # then markings brighter than both road colours by the contrast.
                if c == ROAD:
                    luma = (0.0, max(0.75 - r.marking_contrast, 0.05))
                elif c == LANE_MARKING:
                    road = max(float(_LUMA @ style.mats[ROAD, 1:4]),
                               float(_LUMA @ style.mats[ROAD, 4:7]))  # fmt: skip
                    luma = (min(road + r.marking_contrast, 1.0), 1.0)
            style.mats[c] = _random_material(rng, freq, avoid, luma) if on else base[c]
    elif group == "vehicles":
        if on:
            style.paint[:] = (MODE_RANDOM, int(rng.integers(1 << 30)))
        else:
            style.paint[:] = (MODE_PALETTE if canonical else MODE_FIXED, 0)
    elif group == "distractors":
        if on:
            style.distractors, style.dist_mats = _distractors(r, cams, rng)
        else:
            style.distractors, style.dist_mats = np.zeros((0, 16)), np.zeros((0, MAT_SIZE))
    elif group == "camera":
        u = rng.uniform(-1.0, 1.0, (len(cams), 7))
        scale = np.array([r.camera_position] * 3 + [r.camera_angle] * 3 + [r.camera_fov])
        style.jitter = u * scale
    elif group == "lighting":
        if on:
            style.ambient, style.lights = _lights(r, rng)
        elif r.base in _HELD_OUT:
            _, ambient, lights = _HELD_OUT[r.base]
            style.ambient, style.lights = ambient.copy(), lights.copy()
        elif canonical:
            style.ambient, style.lights = _CANONICAL_AMBIENT.copy(), _CANONICAL_SUN.copy()
        else:
            style.ambient, style.lights = np.ones(3), np.zeros((0, 8))
    elif group == "post":
        lo, hi = r.exposure
        gain = math.exp(rng.uniform(math.log(lo), math.log(hi))) if hi > lo else lo
        style.post = np.array([rng.uniform(0, r.noise), rng.uniform(0, r.blur), gain])
    else:
        raise ValueError(f"unknown aspect {group!r}; choose from {list(GROUPS)}")


def _group_rng(seed: int, group: str) -> np.random.Generator:
    return np.random.default_rng([seed, GROUPS.index(group)])


def sample_style(
    r: Randomization,
    cams: list[Camera],
    seed: int,
    style: Style | None = None,
    groups: tuple[str, ...] = GROUPS,
) -> Style:
    """Sample ``groups`` of a style from ``seed`` (each aspect from its own generator),
    into ``style`` or a new one."""
    if style is None:
        style = Style(
            _PLAIN_MATS.copy(), np.zeros((0, MAT_SIZE)), np.zeros((0, 16)), np.zeros(2),
            np.ones(3), np.zeros((0, 8)), np.zeros((len(cams), 7)), np.array([0.0, 0.0, 1.0]),
        )  # fmt: skip
    for g in groups:
        sample_group(r, g, style, cams, _group_rng(seed, g))
    style.combine()
    return style

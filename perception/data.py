"""Training frames: from the simulator on the fly, from dataset shards, or synthetic.

Every source is a pure function of a frame index: ``source.frame(k)`` returns the same
frame for the same ``k`` in any process. A training run reads indices ``step * batch ..``
in order, so a resumed run sees exactly the frames it would have seen, whatever the
number of DataLoader workers. Sources:

* :class:`SimSource`: renders the driving simulator (``sim.driving``) on the fly. Frames
  come in episodes: ``frames_per_episode`` consecutive indices share a world seeded by
  ``(seed, episode)``, ``steps_between`` world steps apart; a worker keeps the episode it
  is rendering, so reading indices in order costs one world step per frame.
* :class:`ShardSource`: frames saved by ``scripts/make_dataset.py`` (compressed ``.npz``
  shards and a JSON manifest), shuffled anew each pass by ``(seed, pass)``.
* :class:`SyntheticSource`: a tiny procedural road scene, for tests and smoke runs.

:class:`FrameDataset` adds photometric augmentation (keyed by the index too) and the
detector's targets; :func:`make_loader` wraps it in a DataLoader whose workers each get
their own seeds.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from perception.models import DET_CLASSES, center_targets
from sim.driving.scene import (
    CLASS_NAMES,
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

MAX_OBJECTS = 32
FRAME_KEYS = ("rgb", "labels", "boxes", "box_classes")


class DataError(ValueError):
    """A dataset shard or manifest is missing, empty, corrupt or inconsistent."""


class FrameSource(Protocol):
    """Anything with an image size that maps a frame index to a frame dict with
    ``rgb`` (H, W, 3) uint8, ``labels`` (H, W) uint8, ``boxes`` (N, 4) float32 xyxy
    pixels and ``box_classes`` (N,) uint8 simulator label ids."""

    image_size: tuple[int, int]

    def frame(self, index: int) -> dict[str, np.ndarray]: ...


def check_frame(frame: dict[str, np.ndarray], image_size: tuple[int, int]) -> None:
    """Raise DataError unless ``frame`` has the fields and shapes of a training frame."""
    h, w = image_size
    missing = [k for k in FRAME_KEYS if k not in frame]
    if missing:
        raise DataError(f"frame lacks {missing}")
    rgb, labels = frame["rgb"], frame["labels"]
    if rgb.shape != (h, w, 3) or rgb.dtype != np.uint8:
        raise DataError(f"frame rgb is {rgb.dtype}{rgb.shape}, expected uint8({h}, {w}, 3)")
    if labels.shape != (h, w):
        raise DataError(f"frame labels are {labels.shape}, expected ({h}, {w})")
    if labels.size and int(labels.max()) >= NUM_CLASSES:
        raise DataError(f"frame labels hold class id {int(labels.max())} >= {NUM_CLASSES}")
    if frame["boxes"].reshape(-1, 4).shape[0] != len(frame["box_classes"]):
        raise DataError("frame boxes and box_classes differ in length")


# ---- synthetic scenes (tests, smoke runs) ----------------------------------------------
class SyntheticSource:
    """Procedural road scenes: sky, terrain, a road with kerbs and dashed lane markings,
    boxy vehicles and pedestrians; colours drawn per frame (``style="random"``) or fixed
    (``"canonical"``). Cheap, deterministic per index, and learnable by a tiny net."""

    CANONICAL = {
        SKY: (140, 180, 230),
        TERRAIN: (70, 130, 60),
        ROAD: (90, 90, 95),
        LANE_MARKING: (240, 240, 240),
        KERB: (170, 160, 150),
        VEHICLE: (200, 40, 40),
        PEDESTRIAN: (240, 200, 40),
        OBSTACLE: (120, 80, 40),
    }

    def __init__(
        self, image_size: tuple[int, int] = (32, 32), seed: int = 0, style: str = "random"
    ):
        if style not in ("random", "canonical"):
            raise ValueError(
                f"SyntheticSource style must be 'random' or 'canonical', got {style!r}"
            )
        self.image_size = tuple(image_size)
        self.seed, self.style = seed, style

    def frame(self, index: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([self.seed, index, 7])
        h, w = self.image_size
        labels = np.full((h, w), TERRAIN, np.uint8)
        horizon = int(h * rng.uniform(0.3, 0.45))
        labels[:horizon] = SKY
        cx = w / 2 + rng.uniform(-0.15, 0.15) * w
        xs = np.arange(w)
        for y in range(horizon, h):
            t = (y - horizon + 1) / (h - horizon)
            half = t * w * 0.45
            inside = np.abs(xs - cx) <= half
            labels[y, inside] = ROAD
            labels[y, inside & (np.abs(xs - cx) > half * 0.85)] = KERB
            if (y // 2) % 2 == 0:
                labels[y, np.abs(xs - cx) <= max(0.5, half * 0.04)] = LANE_MARKING
        boxes, classes = [], []
        for _ in range(rng.integers(0, 4)):
            cls = VEHICLE if rng.random() < 0.7 else PEDESTRIAN
            y1 = int(rng.integers(horizon + 2, h))
            size = max(2, int((y1 - horizon) * (0.5 if cls == VEHICLE else 0.25)))
            bw = size if cls == VEHICLE else max(1, size // 2)
            x0 = int(np.clip(rng.normal(cx, w * 0.2) - bw / 2, 0, w - bw))
            y0 = max(horizon, y1 - size)
            labels[y0:y1, x0 : x0 + bw] = cls
            boxes.append((x0, y0, x0 + bw, y1))
            classes.append(cls)
        palette = dict(self.CANONICAL)
        if self.style == "random":
            palette = {c: tuple(rng.integers(0, 256, 3)) for c in palette}
        lut = np.array([palette[c] for c in range(NUM_CLASSES)], np.float32)
        rgb = lut[labels] + rng.normal(0, 6, (h, w, 3))
        rgb *= np.linspace(1.1, 0.9, h)[:, None, None]  # some shading, like a sun gradient
        return {
            "rgb": np.clip(rgb, 0, 255).astype(np.uint8),
            "labels": labels,
            "boxes": np.array(boxes, np.float32).reshape(-1, 4),
            "box_classes": np.array(classes, np.uint8),
        }


# ---- the driving simulator -------------------------------------------------------------
class SimSource:
    """Frames rendered by the driving simulator, on the fly.

    Arguments:
        image_size: (H, W) of each camera image.
        rig: a camera rig of ``sim.driving.camera.RIGS`` ("front", "surround", "topdown");
            each camera of a rig is one frame (multi-camera rigs interleave their views).
        randomization: "full", "off", "canonical", a held-out style name, or a
            ``sim.driving.randomization.Randomization`` object.
        seed: the frames are a function of (seed, index).
        frames_per_episode: consecutive frames (per camera) from one world.
        steps_between: world steps between two frames of an episode.
        world: keyword overrides of ``sim.driving.world_config.WorldConfig``.
    """

    def __init__(
        self,
        image_size: tuple[int, int] = (96, 96),
        rig: str = "front",
        randomization: Any = "full",
        seed: int = 0,
        frames_per_episode: int = 8,
        steps_between: int = 5,
        world: dict | None = None,
    ) -> None:
        from sim.driving.camera import RIGS

        if rig not in RIGS:
            raise ValueError(f"unknown camera rig {rig!r}; known: {sorted(RIGS)}")
        if frames_per_episode < 1 or steps_between < 0:
            raise ValueError("frames_per_episode must be >= 1 and steps_between >= 0")
        self.image_size = tuple(int(s) for s in image_size)
        self.rig, self.randomization = rig, randomization
        self.seed, self.frames_per_episode, self.steps_between = (
            seed,
            frames_per_episode,
            steps_between,
        )
        self.world_overrides = dict(world or {})
        self.cameras = len(RIGS[rig](*self.image_size))
        self._state: dict[str, Any] | None = None  # per process: the episode being rendered

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_state"] = None  # a worker builds its own world and renderer
        return state

    def _randomization(self):
        from sim.driving import randomization as R

        if isinstance(self.randomization, str):
            return R.randomization_from(self.randomization)
        return self.randomization

    def _new_episode(self, episode: int) -> dict[str, Any]:
        from sim.driving.camera import RIGS
        from sim.driving.render import Renderer
        from sim.driving.world import World, WorldConfig

        if self._state is None or "renderer" not in self._state:
            randomization = self._randomization()
            renderer = Renderer(RIGS[self.rig](*self.image_size), randomization)
        else:
            renderer = self._state["renderer"]
        randomization = renderer.randomization
        world_ss, render_ss, drive_ss = np.random.SeedSequence([self.seed, episode]).spawn(3)
        drive = np.random.default_rng(drive_ss)
        base = WorldConfig(**self.world_overrides)
        # Episodes start anywhere along the route and with the traffic density the
        # randomization draws (its "traffic" knob), so frames cover curves and crowds.
        overrides = {
            "traffic_density": base.traffic_density * randomization.sample_traffic(drive),
            "ego_start_s": float(
                drive.uniform(base.ego_start_s, max(base.ego_start_s, base.road_length * 0.6))
            ),
        }
        if "traffic_density" in self.world_overrides:
            overrides.pop("traffic_density")
        if "ego_start_s" in self.world_overrides:
            overrides.pop("ego_start_s")
        world = World(base.replace(**overrides), seed=int(world_ss.generate_state(1)[0]))
        return {
            "renderer": renderer,
            "world": world,
            "episode": episode,
            "t": -1,
            "rng": np.random.default_rng(render_ss),
            "drive": drive,
            "frames": None,
        }

    def frame(self, index: int) -> dict[str, np.ndarray]:
        state_index, camera = divmod(int(index), self.cameras)
        episode, t = divmod(state_index, self.frames_per_episode)
        s = self._state
        if s is None or "world" not in s or s["episode"] != episode or s["t"] > t:
            s = self._state = self._new_episode(episode)
        while s["t"] < t:
            if s["t"] >= 0:
                for _ in range(self.steps_between):
                    autopilot_step(s["world"], s["drive"])
            s["t"] += 1
            w = s["world"]
            s["frames"] = s["renderer"].render(
                w.ground,
                w.objects(include_ego=True),  # only the top-down camera can see the ego
                w.ego_pose,
                s["rng"],
                new_episode=s["t"] == 0,
            )
        f = s["frames"][camera]
        return {
            "rgb": np.asarray(f.rgb),
            "labels": np.asarray(f.labels),
            "boxes": np.asarray(f.boxes, np.float32).reshape(-1, 4),
            "box_classes": np.asarray(f.box_classes, np.uint8),
        }


def autopilot_step(world, rng: np.random.Generator, speed: float = 10.0) -> None:
    """One world step of a noisy lane keeper (data generation only): steer against the
    lane offset and heading error, hold about ``speed`` m/s, brake for what is ahead."""
    steer = -0.25 * world.lane_offset - 1.2 * world.heading_error + rng.normal(0, 0.05)
    ahead = float(world.lidar(8, 30.0)[0])  # beam 0 points straight ahead
    throttle = -1.0 if ahead < 6.0 + world.speed else 0.3 * (speed - world.speed)
    world.step(float(np.clip(steer, -1, 1)), float(np.clip(throttle, -1, 1)))


# ---- dataset shards --------------------------------------------------------------------
class ShardSource:
    """Frames from ``make_dataset.py`` shards, held in memory, reshuffled every pass.

    A shard is a compressed ``.npz`` with ``rgb`` (N, H, W, 3) uint8, ``labels`` (N, H, W)
    uint8, and the boxes of all its frames as flat arrays ``boxes`` (M, 4), ``box_classes``
    (M,) with ``box_offsets`` (N + 1,): frame i owns rows ``offsets[i]:offsets[i+1]``. A
    JSON manifest (``manifest.json`` in the folder) lists the shards under ``"shards"``.
    """

    def __init__(self, path: str | Path, seed: int = 0, shuffle: bool = True) -> None:
        path = Path(path)
        manifest = path / "manifest.json" if path.is_dir() else path
        if not manifest.is_file():
            raise DataError(f"no dataset manifest at {str(manifest)!r}")
        try:
            meta = json.loads(manifest.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise DataError(f"{str(manifest)!r} is not a readable JSON manifest: {e}") from None
        shards = meta.get("shards") if isinstance(meta, dict) else None
        if not shards:
            raise DataError(f"{str(manifest)!r} lists no shards")
        names = meta.get("label_names")
        if names is not None and tuple(names) != CLASS_NAMES:
            raise DataError(
                f"{str(manifest)!r} labels frames with classes {names}, but the simulator's "
                f"are {list(CLASS_NAMES)}"
            )
        self.meta = meta
        rgbs, labels, boxes, classes = [], [], [], []
        for entry in shards:
            name = entry if isinstance(entry, str) else entry.get("file") or entry.get("path")
            r, lab, b, c = _read_shard(manifest.parent / str(name))
            rgbs.append(r)
            labels.append(lab)
            boxes.extend(b)
            classes.extend(c)
        shapes = {r.shape[1:3] for r in rgbs}
        if len(shapes) != 1:
            raise DataError(f"shards of {str(manifest)!r} mix image sizes {sorted(shapes)}")
        self.rgb, self.labels = np.concatenate(rgbs), np.concatenate(labels)
        self.boxes, self.box_classes = boxes, classes
        self.image_size = tuple(int(s) for s in self.rgb.shape[1:3])
        self.seed, self.shuffle = seed, shuffle

    def __len__(self) -> int:
        return len(self.rgb)

    def frame(self, index: int) -> dict[str, np.ndarray]:
        n = len(self.rgb)
        epoch, i = divmod(index, n)
        if self.shuffle:
            i = int(np.random.default_rng([self.seed, epoch, 11]).permutation(n)[i])
        return {
            "rgb": self.rgb[i],
            "labels": self.labels[i],
            "boxes": self.boxes[i],
            "box_classes": self.box_classes[i],
        }


def _read_shard(path: Path) -> tuple[np.ndarray, np.ndarray, list, list]:
    if not path.is_file():
        raise DataError(f"dataset shard {str(path)!r} is missing")
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except Exception as e:  # zipfile, zlib and value errors all mean a damaged shard
        raise DataError(f"dataset shard {str(path)!r} is corrupt or unreadable: {e}") from None
    for key in ("rgb", "labels"):
        if key not in data:
            raise DataError(f"dataset shard {str(path)!r} has no {key!r} array")
    rgb, labels = data["rgb"], data["labels"]
    n = len(rgb)
    if n == 0:
        raise DataError(f"dataset shard {str(path)!r} is empty")
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8:
        raise DataError(f"shard {str(path)!r}: rgb is {rgb.dtype}{rgb.shape}, not uint8 (N,H,W,3)")
    if labels.shape != rgb.shape[:3]:
        raise DataError(f"shard {str(path)!r}: labels {labels.shape} do not match rgb {rgb.shape}")
    if int(labels.max()) >= NUM_CLASSES:
        raise DataError(f"shard {str(path)!r}: class id {int(labels.max())} >= {NUM_CLASSES}")
    boxes = data.get("boxes", np.zeros((0, 4), np.float32)).reshape(-1, 4).astype(np.float32)
    classes = data.get("box_classes", np.zeros(0, np.uint8)).astype(np.uint8)
    offsets = data.get("box_offsets", np.zeros(n + 1, np.int64)).astype(np.int64)
    if (
        len(offsets) != n + 1
        or offsets[0] != 0
        or offsets[-1] != len(boxes)
        or len(classes) != len(boxes)
    ):
        raise DataError(f"shard {str(path)!r}: box offsets do not match its {n} frames and boxes")
    if np.any(np.diff(offsets) < 0):
        raise DataError(f"shard {str(path)!r}: box offsets decrease")
    b = [boxes[offsets[i] : offsets[i + 1]] for i in range(n)]
    c = [classes[offsets[i] : offsets[i + 1]] for i in range(n)]
    return rgb, labels, b, c


def write_shard(path: str | Path, frames: Sequence[dict[str, np.ndarray]]) -> Path:
    """Save ``frames`` as one shard in the format :class:`ShardSource` reads (tests, tools)."""
    path = Path(path)
    counts = [len(f["box_classes"]) for f in frames]
    np.savez_compressed(
        path,
        rgb=np.stack([f["rgb"] for f in frames]),
        labels=np.stack([f["labels"] for f in frames]),
        boxes=np.concatenate([f["boxes"].reshape(-1, 4) for f in frames]).astype(np.float32),
        box_classes=np.concatenate([f["box_classes"] for f in frames]).astype(np.uint8),
        box_offsets=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    )
    return path


# ---- augmentation ----------------------------------------------------------------------
def augment(
    rgb: np.ndarray,
    labels: np.ndarray,
    boxes: np.ndarray,
    rng: np.random.Generator,
    *,
    flip: bool = True,
    jitter: float = 0.3,
    hue: float = 0.05,
    noise: float = 0.03,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Photometric jitter and a horizontal flip. Returns float32 (H, W, 3) in [0, 1], the
    labels and the boxes, flipped together. ``jitter`` bounds the brightness, contrast
    and saturation factors (1 +- jitter), ``hue`` the hue rotation (turns), ``noise`` the
    standard deviation of the added Gaussian noise."""
    img = rgb.astype(np.float32) / 255.0
    boxes = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
    if flip and rng.random() < 0.5:
        w = img.shape[1]
        img, labels = img[:, ::-1], labels[:, ::-1]
        boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
    if jitter > 0:
        b, c, s = rng.uniform(1 - jitter, 1 + jitter, 3)
        img = img * b
        gray = img @ np.array([0.299, 0.587, 0.114], np.float32)
        img = (img - gray.mean()) * c + gray.mean()
        gray = (img @ np.array([0.299, 0.587, 0.114], np.float32))[..., None]
        img = gray + (img - gray) * s
    if hue > 0:
        # Rotate the chroma plane of YIQ: a hue shift that leaves brightness alone.
        a = 2 * np.pi * rng.uniform(-hue, hue)
        to_yiq = np.array(
            [[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], np.float32
        )
        rot = np.array(
            [[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]], np.float32
        )
        m = np.linalg.inv(to_yiq) @ rot @ to_yiq
        img = img @ m.T.astype(np.float32)
    if noise > 0:
        img = img + rng.normal(0, rng.uniform(0, noise), img.shape).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32), np.ascontiguousarray(labels), boxes


def to_sample(
    frame: dict[str, np.ndarray],
    image: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    boxes: np.ndarray | None = None,
    det_classes: Sequence[int] = DET_CLASSES,
    min_box_height: float = 0.0,
) -> dict[str, torch.Tensor]:
    """A frame (optionally with augmented image/labels/boxes) as training tensors: image
    (3, H, W) float, labels (H, W) long, CenterNet targets and the boxes padded to
    ``MAX_OBJECTS`` with their count (for AP); boxes of other classes or shorter than
    ``min_box_height`` pixels are left out."""
    if image is None:
        image = frame["rgb"].astype(np.float32) / 255.0
    labels = frame["labels"] if labels is None else labels
    boxes = np.asarray(frame["boxes"] if boxes is None else boxes, np.float32).reshape(-1, 4)
    classes = np.asarray(frame["box_classes"], np.uint8)
    keep = np.isin(classes, det_classes) & (boxes[:, 3] - boxes[:, 1] >= min_box_height)
    boxes, classes = boxes[keep][:MAX_OBJECTS], classes[keep][:MAX_OBJECTS]
    h, w = labels.shape
    t = center_targets(boxes, classes, (h, w), det_classes, MAX_OBJECTS)
    padded = np.zeros((MAX_OBJECTS, 4), np.float32)
    padded[: len(boxes)] = boxes
    padded_cls = np.zeros(MAX_OBJECTS, np.int64)
    padded_cls[: len(classes)] = classes
    sample = {
        "image": torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1))),
        "labels": torch.from_numpy(np.ascontiguousarray(labels).astype(np.int64)),
        "boxes": torch.from_numpy(padded),
        "box_classes": torch.from_numpy(padded_cls),
        "num_boxes": torch.tensor(len(boxes)),
    }
    sample.update({f"det_{k}": torch.from_numpy(v) for k, v in t.items()})
    return sample


class FrameDataset(Dataset):
    """Training samples by index: ``source.frame(k)``, augmented with an RNG keyed by
    ``(seed, k)`` (so the same index gives the same sample anywhere)."""

    def __init__(
        self,
        source: FrameSource,
        seed: int = 0,
        augmentation: dict | None = None,
        det_classes: Sequence[int] = DET_CLASSES,
        min_box_height: float = 0.0,
    ) -> None:
        self.source, self.seed = source, seed
        self.augmentation = augmentation  # None: no augmentation; {}: defaults
        self.det_classes = tuple(det_classes)
        self.min_box_height = min_box_height

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        frame = self.source.frame(int(index))
        check_frame(frame, self.source.image_size)
        if self.augmentation is None:
            return to_sample(
                frame, det_classes=self.det_classes, min_box_height=self.min_box_height
            )
        rng = np.random.default_rng([self.seed, int(index), 3])
        image, labels, boxes = augment(
            frame["rgb"], frame["labels"], frame["boxes"], rng, **self.augmentation
        )
        return to_sample(frame, image, labels, boxes, self.det_classes, self.min_box_height)


class IndexRange(Sampler[int]):
    """Frame indices ``start, start + 1, ..., stop - 1``: a run's data order."""

    def __init__(self, start: int, stop: int) -> None:
        self.start, self.stop = start, stop

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return max(0, self.stop - self.start)


def _worker_init(worker_id: int) -> None:
    # Each worker: one thread (the main process trains), and its own global seeds for
    # anything outside the index-keyed generators (library code that draws globally).
    info = torch.utils.data.get_worker_info()
    torch.set_num_threads(1)
    seed = (info.seed if info is not None else worker_id) % 2**32
    np.random.seed(seed)  # noqa: NPY002 (seeding the legacy global generator on purpose)


def make_loader(
    dataset: FrameDataset, batch_size: int, start_step: int, stop_step: int, workers: int = 0
) -> DataLoader:
    """Batches ``start_step .. stop_step - 1`` of ``dataset`` in order. The workers'
    seeds come from a generator of their own (seeded by the dataset seed and the first
    step), so making a loader leaves torch's global RNG alone."""
    generator = torch.Generator().manual_seed(dataset.seed * 1_000_003 + start_step)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=IndexRange(start_step * batch_size, stop_step * batch_size),
        num_workers=workers,
        worker_init_fn=_worker_init if workers else None,
        persistent_workers=False,
        prefetch_factor=4 if workers else None,
        drop_last=True,
        generator=generator,
    )


def collect(source: FrameSource, indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
    """Frames ``indices`` of ``source`` (an evaluation set, held in memory)."""
    frames = []
    for k in indices:
        f = source.frame(int(k))
        check_frame(f, source.image_size)
        frames.append({key: np.array(f[key]) for key in FRAME_KEYS})
    return frames

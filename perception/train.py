"""Training loop for perception networks on simulator frames.

AdamW with a one-cycle learning-rate schedule, segmentation cross-entropy plus the
CenterNet detection loss, evaluation on the canonical style and on styles training
never draws (per-class IoU, mIoU, AP50), TensorBoard logs, a progress bar, and
checkpoints that resume exactly: weights, optimizer moments, scheduler, RNG states and
the step counter are saved, and the data order is a function of the step (see
:mod:`perception.data`), so N steps + save + resume + M steps equals N + M steps.

A run writes to ``runs/perception-<model>-<timestamp>/``: ``config.json``,
``checkpoint.safetensors`` (the training state), ``model.safetensors`` (the network
alone, for :func:`perception.load`), ``summary.json`` and ``tensorboard/``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F

from perception import checkpoint as ckpt
from perception.data import (
    FrameDataset,
    ShardSource,
    SimSource,
    SyntheticSource,
    collect,
    make_loader,
)
from perception.metrics import DetectionMetrics, SegmentationMetrics
from perception.models import (
    ModelConfig,
    build_model,
    count_parameters,
    detection_loss,
    soft_iou_loss,
)
from perception.predict import Perception
from sim.driving.scene import NUM_CLASSES

# Classes of the headline mIoU (drivable area, lane markings, vehicles).
HEADLINE_CLASSES = ("road", "lane_marking", "vehicle")
EVAL_SEED_OFFSET = 1_000_003  # evaluation worlds never share a seed with training ones


@dataclass
class PerceptionConfig:
    """Perception training: a segmentation and/or detection network on simulator frames."""

    model: Literal["deeplab", "unet"] = "deeplab"
    """network: 'deeplab' (dilated residual encoder + ASPP, <= 0.5M parameters) or 'unet'"""
    heads: Literal["seg", "det", "seg+det"] = "seg+det"
    """outputs: per-pixel classes ('seg'), vehicle/pedestrian boxes ('det'), or both on
    one backbone"""
    width: int = 16
    """channels of the first stage; later stages use multiples (16: about 0.33M
    parameters for deeplab with both heads)"""
    image_size: tuple[int, int] = (96, 96)
    """(height, width) of the camera images, multiples of 8"""
    full_resolution: bool = True
    """deeplab (unet is full-resolution already): correct the segmentation at full
    resolution from the raw pixels, for one-pixel structures (distant lane dashes,
    vehicles): lane IoU 0.66 -> 0.95 at the same step count, for about a fifth more
    time per step"""
    source: str = "sim"
    """training frames: 'sim' (rendered on the fly), 'synthetic' (toy scenes), or a folder
    of make_dataset.py shards"""
    rig: str = "front"
    """camera rig of the simulator: 'front', 'surround' (views are batched) or 'topdown'"""
    randomization: str = "full"
    """randomization of the training frames: 'full', 'off' (one plain style), or
    'full-<aspect>[-<aspect>...]' with those aspects switched off (road, terrain, sky,
    objects, vehicles, distractors, camera, lighting, post: the ablation)"""
    marking_contrast: float = 0.0
    """with road-texture randomization in the training frames: lane markings at least
    this much brighter (luminance, 0..1) than the road, as paint on asphalt is (0:
    independent colours; see sim.driving.randomization)"""
    eval_styles: tuple[str, ...] = ("canonical", "canonical+lighting", "canonical+post")
    """styles to evaluate on; 'canonical' (the fixed evaluation look: texture families and
    colours full randomization never draws), a held-out style ('dusk', 'overcast',
    'snow': other looks neither 'full' nor 'off' draws), 'canonical+<aspect>' (that look
    with one aspect randomized, e.g. lighting), or any training style"""
    eval_frames: int = 256
    """frames per evaluation style (boxes of 6 px and taller are few: about one vehicle
    in six frames at 96x96)"""
    steps: int = 3000
    """optimizer steps (the one-cycle schedule spans them)"""
    minutes: float | None = None
    """stop after this much wall time (the whole run, across resumes), saving first"""
    batch_size: int = 32
    """frames per step"""
    lr: float = 4e-3
    """peak learning rate of the one-cycle schedule"""
    pct_start: float = 0.25
    """fraction of the steps spent warming up to the peak learning rate"""
    weight_decay: float = 1e-4
    """AdamW weight decay"""
    det_weight: float = 1.0
    """weight of the detection loss beside the segmentation loss"""
    class_weights: Literal["balanced", "none"] = "balanced"
    """'balanced': weight the cross-entropy by 1/sqrt(class pixel frequency) measured on
    the first training frames (clipped to 10x), so thin lane markings and small vehicles
    count; 'none': plain cross-entropy"""
    iou_weight: float = 1.0
    """weight of the soft-IoU loss (``perception.models.soft_iou_loss``: every class
    counts alike, as in mIoU) added to the segmentation cross-entropy"""
    min_box_height: float = 6.0
    """boxes shorter than this many pixels are neither trained nor evaluated (KITTI
    ignores boxes under 25 px of 375; 6 px of 96 is the same share)"""
    augment: bool = True
    """photometric augmentation (brightness, contrast, saturation, hue, noise) and flips"""
    frames_per_episode: int = 16
    """consecutive frames drawn from one simulated world (building a world costs about
    as much as rendering ten frames)"""
    steps_between: int = 5
    """world steps between two frames of an episode"""
    workers: int = 1
    """DataLoader worker processes rendering frames (0: render in the training process)"""
    threads: int = 1
    """torch threads of the training process"""
    seed: int = 0
    """seed of the network initialization and of every frame"""
    eval_every: int = 1000
    """evaluate every this many steps (0: only at the end)"""
    checkpoint_every: int = 500
    """save the training state every this many steps (0: only at the end)"""
    run_dir: str | None = None
    """output folder (default runs/perception-<model>-<timestamp>)"""
    tensorboard: bool = True
    """write TensorBoard logs"""
    progress: bool = True
    """show a progress bar"""

    def __post_init__(self) -> None:
        self.image_size = tuple(int(s) for s in self.image_size)
        self.eval_styles = tuple(self.eval_styles)
        for name in ("steps", "batch_size", "threads", "eval_frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("workers", "eval_every", "checkpoint_every"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.iou_weight < 0:
            raise ValueError(f"iou_weight must be >= 0, got {self.iou_weight}")
        if not 0 < self.pct_start < 1:
            raise ValueError(f"pct_start must lie in (0, 1), got {self.pct_start}")
        if self.minutes is not None and self.minutes <= 0:
            raise ValueError(f"minutes must be positive, got {self.minutes}")

    def model_config(self) -> ModelConfig:
        heads = ("seg", "det") if self.heads == "seg+det" else (self.heads,)
        return ModelConfig(
            arch=self.model,
            heads=heads,
            width=self.width,
            image_size=self.image_size,
            min_box_height=self.min_box_height,
            # U-Net's segmentation is full-resolution already.
            full_resolution=self.full_resolution and self.model == "deeplab",
        )


# ---- frame sources -----------------------------------------------------------------------
def make_source(config: PerceptionConfig, style: str | None, seed: int):
    """The frames of ``style`` for ``config``: None means the training frames (from the
    configured source); an evaluation style renders from the simulator (or synthetic
    scenes when training is synthetic), whatever the training source."""
    training = style is None
    style = config.randomization if style is None else style
    if config.source == "synthetic":
        return SyntheticSource(
            config.image_size, seed, "canonical" if style in ("canonical", "off") else "random"
        )
    if config.source == "sim" or not training:
        randomization = sim_randomization(style)
        if training and config.marking_contrast and randomization.road_texture:
            randomization = replace(randomization, marking_contrast=config.marking_contrast)
        return SimSource(
            config.image_size,
            config.rig,
            randomization,
            seed,
            config.frames_per_episode,
            config.steps_between,
        )
    source = ShardSource(config.source, seed)
    if source.image_size != config.image_size:
        raise ValueError(
            f"the shards in {config.source!r} hold {source.image_size} images but "
            f"image_size is {config.image_size}"
        )
    return source


# The Randomization fields behind each aspect (sim.driving.randomization.GROUPS).
KNOBS: dict[str, tuple[str, ...]] = {
    "road": ("road_texture",),
    "terrain": ("terrain_texture",),
    "sky": ("sky_texture",),
    "objects": ("object_texture",),
    "vehicles": ("vehicle_colors",),
    "distractors": ("distractors",),
    "camera": ("camera_position", "camera_angle", "camera_fov"),
    "lighting": ("lighting",),
    "post": ("noise", "blur", "exposure"),
}


def sim_randomization(style: str):
    """A simulator randomization by name: 'full', 'off', 'canonical'; a held-out style
    ('dusk', 'overcast', 'snow': ``sim.driving.randomization.HELD_OUT_STYLES``, never
    drawn by 'full' or 'off'); 'full-<aspect>[-<aspect>...]' (full with those aspects of
    ``KNOBS`` switched off: the ablation); or '<canonical or held-out style>+<aspect>'
    (that style with those aspects randomized, e.g. 'canonical+lighting': held-out
    textures under random lights)."""
    from sim.driving import randomization as R

    for sep in ("-", "+"):
        head, _, rest = style.partition(sep)
        if rest and head in ("full", "canonical", *R.HELD_OUT_STYLES):
            aspects = rest.split(sep)
            bad = [a for a in aspects if a not in KNOBS]
            if bad:
                raise ValueError(
                    f"unknown randomization aspect {bad[0]!r} in {style!r}; known: {list(KNOBS)}"
                )
            knobs = [k for a in aspects for k in KNOBS[a]]
            off, full = R.Randomization.off(), R.Randomization.full()
            if sep == "-":
                return R.Randomization.full(**{k: getattr(off, k) for k in knobs})
            return R.Randomization.off(base=head, **{k: getattr(full, k) for k in knobs})
    return R.randomization_from(style)


# ---- state <-> tensors -------------------------------------------------------------------
def _optimizer_state(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for index, slots in sd["state"].items():
        for name, value in slots.items():
            if torch.is_tensor(value):
                tensors[f"optim/{index}/{name}"] = value
            else:
                scalars[f"{index}/{name}"] = value
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _load_optimizer(opt: torch.optim.Optimizer, tensors: dict, meta: dict) -> None:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim/"):
            index, name = key[len("optim/") :].split("/", 1)
            state.setdefault(int(index), {})[name] = value
    for key, value in meta["scalars"].items():
        index, name = key.split("/", 1)
        state.setdefault(int(index), {})[name] = value
    try:
        opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    except (ValueError, KeyError) as e:
        raise ckpt.CheckpointError(f"the checkpoint's optimizer state does not fit: {e}") from None


# ---- evaluation --------------------------------------------------------------------------
@torch.no_grad()
def evaluate(
    perception: Perception, frames: list[dict[str, np.ndarray]], batch_size: int = 64
) -> dict[str, float]:
    """Per-class IoU, mIoU (all classes and :data:`HEADLINE_CLASSES`) and AP50 of a
    model on held-in-memory frames (see :func:`perception.data.collect`)."""
    config = perception.config
    seg = SegmentationMetrics(config.class_names) if "seg" in config.heads else None
    det = DetectionMetrics(config.det_classes) if "det" in config.heads else None
    for i in range(0, len(frames), batch_size):
        chunk = frames[i : i + batch_size]
        pred = perception.predict(np.stack([f["rgb"] for f in chunk]))
        if seg is not None:
            seg.update(pred.labels, np.stack([f["labels"] for f in chunk]))
        if det is not None:
            targets = []
            for f in chunk:
                tall = f["boxes"][:, 3] - f["boxes"][:, 1] >= config.min_box_height
                keep = np.isin(f["box_classes"], config.det_classes) & tall
                targets.append({"boxes": f["boxes"][keep], "labels": f["box_classes"][keep]})
            preds = [
                {"boxes": b, "scores": s, "labels": c}
                for b, s, c in zip(pred.boxes, pred.scores, pred.box_classes, strict=False)
            ]
            det.update(preds, targets)
    out: dict[str, float] = {}
    if seg is not None:
        out.update(seg.compute())
        out["miou_headline"] = seg.miou(HEADLINE_CLASSES)
    if det is not None:
        out.update(det.compute())
    return out


def constant_baseline(frames: list[dict[str, np.ndarray]]) -> float:
    """mIoU of always predicting the most frequent class (the floor to beat)."""
    labels = np.stack([f["labels"] for f in frames])
    seg = SegmentationMetrics()
    seg.update(np.full_like(labels, np.bincount(labels.ravel()).argmax()), labels)
    return seg.miou()


def balanced_weights(source, frames: int = 64, clip: float = 10.0) -> torch.Tensor:
    """Cross-entropy class weights 1/sqrt(pixel frequency) over the first ``frames``
    frames of ``source``, scaled so the most common class weighs 1, clipped to ``clip``."""
    counts = np.zeros(NUM_CLASSES)
    for k in range(frames):
        counts += np.bincount(source.frame(k)["labels"].ravel(), minlength=NUM_CLASSES)
    freq = np.maximum(counts / counts.sum(), 1e-6)
    w = 1 / np.sqrt(freq)
    return torch.tensor(np.minimum(w / w.min(), clip), dtype=torch.float32)


# ---- the trainer -------------------------------------------------------------------------
class Trainer:
    """One perception training run (see the module docstring)."""

    def __init__(self, config: PerceptionConfig, run_dir: str | Path | None = None) -> None:
        self.config = config
        torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        # Channels-last convolutions train about a fifth faster on CPU (oneDNN).
        self.model = build_model(config.model_config()).to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        # torch's one-cycle needs a warm-up of two steps or more; tiny runs stretch it.
        total = max(config.steps, 8)
        self.scheduler = torch.optim.lr_scheduler.OneCycleLR(
            self.optimizer,
            max_lr=config.lr,
            total_steps=total,
            pct_start=min(max(config.pct_start, 2 / total), 0.9),
        )
        self.step = 0
        self.elapsed = 0.0  # seconds of training across resumes
        self.history: list[dict[str, Any]] = []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_dir = Path(run_dir or config.run_dir or f"runs/perception-{config.model}-{stamp}")
        augmentation = {} if config.augment else None
        source = make_source(config, None, config.seed)
        self.dataset = FrameDataset(
            source, config.seed, augmentation, min_box_height=config.min_box_height
        )
        self.class_weights = (
            balanced_weights(source) if config.class_weights == "balanced" else None
        )
        self._eval_sets: dict[str, list] | None = None
        self._writer = None

    # -- state ---------------------------------------------------------------------------
    def state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        tensors = ckpt.model_tensors(self.model)
        opt_tensors, opt_meta = _optimizer_state(self.optimizer)
        tensors.update(opt_tensors)
        tensors["rng/torch"] = torch.get_rng_state()
        meta = {
            "model": self.model.config.to_json(),
            "train_config": asdict(self.config),
            "optimizer": opt_meta,
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "elapsed": self.elapsed,
            "history": self.history,
        }
        return tensors, meta

    def save(self) -> Path:
        """Write the training state and the model file (atomically, each)."""
        tensors, meta = self.state()
        path = ckpt.save(self.run_dir / ckpt.STATE_FILE, tensors, meta)
        ckpt.save_model(self.run_dir / ckpt.MODEL_FILE, self.model, step=self.step)
        return path

    @classmethod
    def resume(cls, path: str | Path, **overrides: Any) -> Trainer:
        """Continue the run saved at ``path`` (its folder or checkpoint file); ``overrides``
        replace fields of its saved config (budget, workers, threads, evaluation...)."""
        path = Path(path)
        file = path / ckpt.STATE_FILE if path.is_dir() else path
        tensors, meta = ckpt.read(file)
        if "train_config" not in meta:
            raise ckpt.CheckpointError(f"{str(file)!r} is a model file, not a training checkpoint")
        # Runs saved before these options existed trained without them.
        saved = {"full_resolution": False, "iou_weight": 0.0, **meta["train_config"]}
        names = {f.name for f in fields(PerceptionConfig)}
        unknown = set(overrides) - names
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}")
        if "steps" in overrides and overrides["steps"] != saved["steps"]:
            raise ValueError("steps fixes the one-cycle schedule and cannot change on resume")
        config = PerceptionConfig(**{**saved, **overrides})
        trainer = cls(config, run_dir=file.parent)
        trainer.model.load_state_dict(ckpt.model_from(tensors, meta, repr(str(file))).state_dict())
        _load_optimizer(trainer.optimizer, tensors, meta["optimizer"])
        trainer.scheduler.load_state_dict(meta["scheduler"])
        torch.set_rng_state(tensors["rng/torch"])
        trainer.step, trainer.elapsed = int(meta["step"]), float(meta["elapsed"])
        trainer.history = list(meta.get("history", []))
        return trainer

    # -- training ------------------------------------------------------------------------
    def loss(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        out = self.model(batch["image"].contiguous(memory_format=torch.channels_last))
        total = torch.zeros(())
        parts: dict[str, float] = {}
        if "seg" in out:
            seg = F.cross_entropy(out["seg"], batch["labels"], weight=self.class_weights)
            total = total + seg
            parts["seg"] = seg.item()
            if self.config.iou_weight:
                iou = soft_iou_loss(out["seg"], batch["labels"])
                total = total + self.config.iou_weight * iou
                parts["seg_iou"] = iou.item()
        if "heatmap" in out:
            targets = {k[4:]: v for k, v in batch.items() if k.startswith("det_")}
            det, det_parts = detection_loss(out, targets)
            total = total + self.config.det_weight * det
            parts.update({f"det_{k}": v for k, v in det_parts.items()})
        parts["total"] = total.item()
        return total, parts

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, float]:
        self.model.train()
        loss, parts = self.loss(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        return parts

    def train(self, steps: int | None = None, deadline: float | None = None) -> dict[str, float]:
        """Run ``steps`` more steps (default: to the end of the schedule), evaluating and
        saving on the configured cadence; stop early at ``deadline`` (time.monotonic)."""
        c = self.config
        stop = c.steps if steps is None else min(c.steps, self.step + steps)
        loader = make_loader(self.dataset, c.batch_size, self.step, stop, c.workers)
        bar = None
        if c.progress:
            from tqdm import tqdm

            bar = tqdm(total=stop, initial=self.step, desc="perception", unit="step")
        parts: dict[str, float] = {}
        last = time.monotonic()
        for batch in loader:
            parts = self.train_step(batch)
            now = time.monotonic()
            self.elapsed += now - last
            last = now
            writer = self.writer()
            if writer is not None and self.step % 10 == 0:
                for k, v in parts.items():
                    writer.add_scalar(f"loss/{k}", v, self.step)
                writer.add_scalar("lr", self.scheduler.get_last_lr()[0], self.step)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{parts['total']:.3f}")
            if c.eval_every and self.step % c.eval_every == 0 and self.step < c.steps:
                self.evaluate()
            if c.checkpoint_every and self.step % c.checkpoint_every == 0:
                self.save()
            if deadline is not None and time.monotonic() >= deadline:
                break
        if bar is not None:
            bar.close()
        return parts

    def writer(self):
        if not self.config.tensorboard:
            return None
        if self._writer is None:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.run_dir / "tensorboard"))
        return self._writer

    # -- evaluation ----------------------------------------------------------------------
    def eval_sets(self) -> dict[str, list[dict[str, np.ndarray]]]:
        if self._eval_sets is None:
            c = self.config
            self._eval_sets = {}
            for i, style in enumerate(c.eval_styles):
                source = make_source(c, style, c.seed + EVAL_SEED_OFFSET + i)
                self._eval_sets[style] = collect(source, range(c.eval_frames))
        return self._eval_sets

    def evaluate(self) -> dict[str, Any]:
        # A low score threshold: AP ranks every detection, confident or not.
        perception = Perception(self.model, score_threshold=0.05)
        results: dict[str, Any] = {"step": self.step, "elapsed": self.elapsed}
        writer = self.writer()
        try:
            for style, frames in self.eval_sets().items():
                metrics = evaluate(perception, frames)
                results[style] = metrics
                if writer is not None:
                    for k, v in metrics.items():
                        if not math.isnan(v):
                            writer.add_scalar(f"eval-{style}/{k}", v, self.step)
        finally:
            self.model.train()
        self.history.append(results)
        return results

    def run(self) -> dict[str, Any]:
        """Train to the end of the schedule (or the minutes budget), evaluate, save, and
        return the summary (also written to ``summary.json``)."""
        c = self.config
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.json").write_text(json.dumps(asdict(c), indent=2))
        print(
            f"perception: writing to {self.run_dir} ({c.model}, "
            f"{count_parameters(self.model)} parameters)"
        )
        deadline = None
        if c.minutes is not None:
            deadline = time.monotonic() + max(0.0, c.minutes * 60 - self.elapsed)
        if self.step < c.steps and (deadline is None or time.monotonic() < deadline):
            self.train(deadline=deadline)
        final = self.evaluate()
        self.save()
        summary = {
            "run_dir": str(self.run_dir),
            "step": self.step,
            "steps": c.steps,
            "finished": self.step >= c.steps,
            "elapsed": self.elapsed,
            "parameters": count_parameters(self.model),
            "final": final,
            "history": self.history,
        }
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        if self._writer is not None:
            self._writer.flush()
        return summary


def format_results(results: dict[str, Any]) -> str:
    """One line per evaluation style: headline mIoU, mIoU, AP50."""
    lines = []
    for style, m in results.items():
        if not isinstance(m, dict):
            continue
        cells = [f"{k}={m[k]:.3f}" for k in ("miou_headline", "miou", "ap50") if k in m]
        lines.append(f"  {style:>12}: " + " ".join(cells))
    return "\n".join(lines)

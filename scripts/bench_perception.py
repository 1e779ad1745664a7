"""Perception benchmarks: inference frames per second at 96x96 on one core, and the
training benchmark of issue 8 (segmentation and detection trained within a wall-time
budget on randomized simulator frames, evaluated on styles training never draws).

Sections:

* ``inference``: frames/s of ``Perception.predict`` (network, arg-max labels and box
  decoding) at 96x96 on one thread, at batch 1 (one frame per call) and batch 16, for
  each network (deeplab with its full-resolution correction, unet; both heads; the
  defaults of ``train.py perception``) run three ways: the trained module as is,
  Perception's default inference copy (BatchNorm folded, channels-last) and that copy
  compiled by ``torch.compile`` (not with ``--quick``), with each one's ratio over the
  module. Weights do not change the cost, so the networks are freshly initialized.
  Warm-up first, then ``--repeats`` timed repeats (median, min, max), the
  configurations alternating in one process.
* ``train`` (only when ``--train-minutes`` is above 0, or with ``--quick``): two runs of
  ``scripts/train.py perception`` per seed with the same settings and budget, one on
  randomized frames (``--randomized``: "full-road" by default, full randomization but
  the road textures, the best row of the ablation in docs/BENCHMARKS.md; "full" for
  everything) and one on the plain non-randomized style ("off"), then
  both evaluated on the canonical style and on the held-out styles
  (``sim.driving.randomization.HELD_OUT_STYLES``: dusk, overcast, snow), none of which
  either run ever draws. Reported: the canonical headline mIoU (road, lane marking,
  vehicle), per-class IoU, vehicle AP50, each held-out style's headline mIoU, and the
  gain of randomized over non-randomized training on the held-out styles (mean headline
  mIoU, in points; per seed and the mean over ``--seeds``). The gain target of issue 8
  is 15 points or more.

The evaluation frames are rendered with the default world (default traffic, every
vehicle counted, however small) from seeds no training episode uses.

    python scripts/bench_perception.py --quick                  # under a minute
    python scripts/bench_perception.py --only inference         # inference only
    python scripts/bench_perception.py --train-minutes 15 --steps 700 --seeds 0 1 --reuse
    python scripts/bench_perception.py --json ...               # one JSON object

``--reuse`` evaluates the runs already in ``--run-root``
(``perception-<randomization>-<m>min-s<seed>``) when their saved settings match,
instead of training anew.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import contextlib
import json
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from benchkit import BenchConfig, log, run_sections, summary

HELD_OUT = ("dusk", "overcast", "snow")
MATCH = ("model", "heads", "width", "image_size", "steps", "batch_size", "lr", "seed",
         "randomization", "frames_per_episode", "steps_between", "class_weights",
         "full_resolution", "iou_weight", "marking_contrast")  # fmt: skip


@dataclass
class Config(BenchConfig):
    """Benchmarks of the perception networks (inference speed, training benchmark)."""

    only: tuple[str, ...] = ()
    """Run only these sections: inference, train (all when empty)."""
    models: tuple[str, ...] = ("deeplab", "unet")
    """Networks to time."""
    train_minutes: float = 0.0
    """Wall-time budget of each training run (0: no train section unless --quick)."""
    steps: int = 3000
    """Optimizer steps of each training run (the one-cycle schedule spans them)."""
    batch_size: int = 32
    """Frames per training step."""
    eval_frames: int = 256
    """Frames per evaluation style."""
    randomized: str = "full-road"
    """Randomization of the randomized run (``train.py perception --randomization``)."""
    seeds: tuple[int, ...] = (0,)
    """Seeds: each trains both runs; the gain is reported per seed and as the mean."""
    run_root: str = "runs"
    """Folder of the training runs (``perception-<randomization>-<minutes>min-s<seed>``)."""
    reuse: bool = False
    """Evaluate finished runs already in ``run_root`` (same settings) instead of training."""


# ---- inference ------------------------------------------------------------------------
# How Perception runs the network: the module as trained, its inference copy (BatchNorm
# folded, channels-last: the default), and that copy compiled by torch.compile.
VARIANTS = {
    "module": {"optimize": False},
    "inference_copy": {},
    "compiled": {"compile": True},
}


def bench_inference(cfg: Config) -> dict:
    import torch

    from perception.models import ModelConfig, build_model, count_parameters
    from perception.predict import Perception

    torch.set_num_threads(1)
    torch.manual_seed(0)
    frames = 32 if cfg.quick else 128
    repeats = 3 if cfg.quick else cfg.repeats
    # Compiling takes tens of seconds a network: not in the quick run.
    variants = [v for v in VARIANTS if not (cfg.quick and v == "compiled")]
    images = np.random.default_rng(0).integers(0, 256, (frames, 96, 96, 3), dtype=np.uint8)
    # The networks train.py perception trains by default (deeplab with its full-resolution
    # correction).
    models = {
        m: build_model(ModelConfig(arch=m, heads=("seg", "det"), full_resolution=m == "deeplab"))
        for m in cfg.models
    }
    nets = {(m, v): Perception(models[m], **VARIANTS[v]) for m in cfg.models for v in variants}
    configs = [(m, v, b) for m in cfg.models for v in variants for b in (1, 16)]
    samples: dict[tuple[str, str, int], list[float]] = {c: [] for c in configs}

    def timed(model: str, variant: str, batch: int) -> float:
        net = nets[(model, variant)]
        t0 = time.perf_counter()
        if batch == 1:
            for img in images:
                net.predict(img)
        else:
            for i in range(0, frames, batch):
                net.predict(images[i : i + batch])
        return frames / (time.perf_counter() - t0)

    for c in configs:  # warm-up (and the compiles)
        timed(*c)
    for _ in range(repeats):
        for c in configs:
            samples[c].append(timed(*c))
    out: dict = {"image": "96x96", "threads": 1, "frames_per_repeat": frames}
    for m in cfg.models:
        out[m] = {"parameters": count_parameters(models[m])}
        for v in variants:
            for b in (1, 16):
                out[m][f"{v}_batch{b}_frames_per_s"] = summary(samples[(m, v, b)])
        for v in variants[1:]:
            for b in (1, 16):
                pairs = zip(samples[(m, v, b)], samples[(m, "module", b)], strict=True)
                ratios = [a / e for a, e in pairs]
                out[m][f"{v}_over_module_batch{b}"] = summary(ratios)
        cells = ", ".join(
            f"{v} {statistics.median(samples[(m, v, 1)]):,.0f}/"
            f"{statistics.median(samples[(m, v, 16)]):,.0f}"
            for v in variants
        )
        log(
            cfg,
            f"inference {m} ({out[m]['parameters']:,} parameters), frames/s at batch 1/16 "
            f"(one thread, 96x96): {cells}",
        )
    return out


def _train_config(cfg: Config, randomization: str, run_dir: Path, minutes: float, seed: int):
    from perception.train import PerceptionConfig

    if cfg.quick:  # a smoke run: tiny budget, the same code path
        return PerceptionConfig(
            randomization=randomization, seed=seed, steps=12, batch_size=8, minutes=None,
            eval_styles=("canonical", *HELD_OUT), eval_frames=8, eval_every=0,
            checkpoint_every=0, workers=0, frames_per_episode=8, run_dir=str(run_dir),
            tensorboard=False, progress=False,
        )  # fmt: skip
    return PerceptionConfig(
        randomization=randomization, seed=seed, steps=cfg.steps, batch_size=cfg.batch_size,
        minutes=minutes, eval_styles=("canonical", *HELD_OUT), eval_frames=cfg.eval_frames,
        eval_every=0, checkpoint_every=300, workers=1, threads=1, run_dir=str(run_dir),
        tensorboard=False, progress=False,
    )  # fmt: skip


def _run(cfg: Config, randomization: str, root: Path, minutes: float, seed: int) -> dict:
    from dataclasses import asdict

    from perception.train import Trainer

    run_dir = root / f"perception-{randomization}-{minutes:g}min-s{seed}"
    config = _train_config(cfg, randomization, run_dir, minutes, seed)
    saved = run_dir / "config.json"
    trainer = None
    if cfg.reuse and (run_dir / "checkpoint.safetensors").is_file() and saved.is_file():
        old = json.loads(saved.read_text())
        new = json.loads(json.dumps(asdict(config)))
        if all(old.get(k) == new[k] for k in MATCH):
            log(cfg, f"train {randomization}: reusing {run_dir}")
            trainer = Trainer.resume(
                run_dir, minutes=config.minutes, eval_styles=config.eval_styles,
                eval_frames=config.eval_frames, tensorboard=False, progress=False,
            )  # fmt: skip
        else:
            diff = [k for k in MATCH if old.get(k) != new[k]]
            log(cfg, f"train {randomization}: {run_dir} differs in {diff}; training anew")
    if trainer is None:
        log(cfg, f"train {randomization}: training into {run_dir} ({minutes:g} min budget)")
        trainer = Trainer(config, run_dir)
    t0 = time.perf_counter()
    # The trainer prints progress lines; with --json stdout carries only the JSON.
    with contextlib.redirect_stdout(sys.stderr if cfg.json else sys.stdout):
        result = trainer.run()
    result["wall_s"] = time.perf_counter() - t0
    return result


def _headline(metrics: dict) -> dict:
    keep = ("miou_headline", "miou", "ap50/vehicle", "ap50")
    return {k: v for k, v in metrics.items() if k.startswith("iou/") or k in keep}


def bench_train(cfg: Config) -> dict:
    import torch

    if not cfg.quick and cfg.train_minutes <= 0:
        log(cfg, "train: skipped (give --train-minutes, e.g. 15)")
        return {"skipped": "no --train-minutes"}
    torch.set_num_threads(1)
    minutes = cfg.train_minutes if cfg.train_minutes > 0 else 15.0
    tmp = tempfile.TemporaryDirectory() if cfg.quick else None
    root = Path(tmp.name) if tmp else Path(cfg.run_root)
    rows = (cfg.randomized, "off")
    try:
        runs = {(r, seed): _run(cfg, r, root, minutes, seed) for seed in cfg.seeds for r in rows}
    finally:
        if tmp:
            tmp.cleanup()
    out: dict = {
        "budget_minutes": None if cfg.quick else minutes,  # quick: a 12-step smoke run
        "threads": "1 torch thread + 1 DataLoader worker rendering",
        "held_out_styles": list(HELD_OUT),
        "randomized": cfg.randomized,
        "seeds": list(cfg.seeds),
        "runs": {},
    }
    for (r, seed), s in runs.items():
        final = s["final"]
        held = {st: final[st]["miou_headline"] for st in HELD_OUT}
        out["runs"][f"{r}-s{seed}"] = {
            "run_dir": s["run_dir"] if not cfg.quick else None,
            "steps": s["step"],
            "finished": s["finished"],
            "train_s": s["elapsed"],
            "canonical": _headline(final["canonical"]),
            "held_out": {st: _headline(final[st]) for st in HELD_OUT},
            "held_out_miou_headline_mean": float(np.mean(list(held.values()))),
        }
        c = final["canonical"]
        log(
            cfg,
            f"train {r} seed {seed}: {s['step']} steps in {s['elapsed']:.0f} s; canonical "
            f"headline mIoU {c['miou_headline']:.3f} (road {c['iou/road']:.3f}, lane "
            f"{c['iou/lane_marking']:.3f}, vehicle {c['iou/vehicle']:.3f}), vehicle AP50 "
            f"{c.get('ap50/vehicle', float('nan')):.3f}; held-out headline mIoU "
            + ", ".join(f"{st} {v:.3f}" for st, v in held.items()),
        )
    runs_out = out["runs"]

    def gain(seed: int, key) -> float:
        a, b = runs_out[f"{cfg.randomized}-s{seed}"], runs_out[f"off-s{seed}"]
        return 100 * (key(a) - key(b))

    held_gains = [gain(s, lambda r: r["held_out_miou_headline_mean"]) for s in cfg.seeds]
    can_gains = [gain(s, lambda r: r["canonical"]["miou_headline"]) for s in cfg.seeds]
    out["gain_points_held_out_per_seed"] = held_gains
    out["gain_points_held_out"] = float(np.mean(held_gains))
    out["gain_points_canonical"] = float(np.mean(can_gains))
    log(
        cfg,
        f"train: {cfg.randomized} over non-randomized on held-out styles: "
        f"{out['gain_points_held_out']:+.1f} points (per seed "
        + ", ".join(f"{g:+.1f}" for g in held_gains)
        + f"; canonical {out['gain_points_canonical']:+.1f})",
    )
    return out


def main(cfg: Config) -> dict:
    warnings.simplefilter("ignore")
    import torch

    sections = {"inference": bench_inference, "train": bench_train}
    return run_sections(cfg, sections, torch=torch.__version__)


if __name__ == "__main__":
    main(tyro.cli(Config))

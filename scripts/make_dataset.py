"""Write randomized, labelled camera frames of the driving simulator to disk.

The dataset is a folder of compressed shards and a JSON manifest::

    manifest.json         config, label names, cameras, randomization, and the shards
    shard_00000.npz       rgb (N, H, W, 3) uint8, labels (N, H, W) uint8, depth (N, H, W)
                          float16 metres (inf: sky; beyond 65 km: 65000), instances
                          (N, H, W) int32 (with --instances), camera (N,) uint8 index into
                          the manifest's cameras, step (N,) int32 world step of the frame,
                          and the boxes of all frames as flat arrays boxes (M, 4) float32
                          x0 y0 x1 y1 pixels, box_classes (M,) uint8, box_instances (M,)
                          int32, box_visible (M,) float32, with box_offsets (N + 1,):
                          frame i owns rows offsets[i]:offsets[i+1]
    shard_00000.json      the randomization parameters of every episode of the shard

A frame is one camera's image (a multi-camera rig's views of one moment are consecutive
frames). Shard k is a pure function of (--seed, k): its episodes are worlds seeded from
them, driven by a noisy lane keeper, with --frame-skip world steps between frames and
the style resampled at each episode start. So several processes write disjoint shards,
and a rerun with the same settings skips the shards already written (each is written to
a temporary name and renamed into place, so an interrupted run leaves no partial shard).

    python scripts/make_dataset.py --out datasets/driving-96 --frames 20000 --workers 2
    python scripts/make_dataset.py --out datasets/surround --rig surround --frames 6000
    python scripts/make_dataset.py --backend ray --ray-address HEAD:6379 --workers 32 ...

Shards are written by the workers of a :mod:`selfplay.backends` backend (serial,
process or Ray); a shard whose worker dies is written again by another worker.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

FORMAT = "simarena-drive-shards/1"


@dataclass(frozen=True)
class Config:
    """Write N randomized labelled frames as compressed shards with a JSON manifest."""

    out: Path = Path("datasets/driving")
    """Output folder (created; an existing dataset there is resumed)."""
    frames: int = 10000
    """Frames to write in all (one frame = one camera image)."""
    shard_size: int = 500
    """Frames per shard (a multiple of the rig's cameras)."""
    workers: int = 2
    """Workers writing shards (processes, or Ray actors)."""
    backend: Literal["serial", "process", "ray"] = "process"
    """Where the workers run: this process, a local process pool, or Ray."""
    ray_address: str | None = None
    """Ray cluster to join (HOST:PORT; default: RAY_ADDRESS, else a local instance)."""
    rig: str = "front"
    """Camera rig: front, surround or topdown."""
    resolution: tuple[int, int] = (96, 96)
    """(height, width) of every camera image."""
    randomization: str = "full"
    """Randomization: full, off or canonical."""
    seed: int = 0
    """Dataset seed: shard k is a function of (seed, k)."""
    episode_frames: int = 50
    """Moments per episode (a new world and a new style after that many)."""
    frame_skip: int = 5
    """World steps between two moments of an episode."""
    instances: bool = False
    """Also store the instance-id images."""
    progress: bool = True
    """Show a progress bar (on stderr)."""

    def validate(self) -> None:
        from sim.driving.camera import RIGS
        from sim.driving.randomization import randomization_from

        if self.rig not in RIGS:
            raise ValueError(f"unknown rig {self.rig!r}; choose from {sorted(RIGS)}")
        randomization_from(self.randomization)
        cams = len(RIGS[self.rig](*self.resolution))
        for name in ("frames", "shard_size", "workers", "episode_frames"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1")
        if self.frame_skip < 0:
            raise ValueError("--frame-skip must be >= 0")
        if self.shard_size % cams:
            raise ValueError(
                f"--shard-size {self.shard_size} must be a multiple of the {cams} cameras of "
                f"rig {self.rig!r}"
            )

    def dataset_key(self) -> dict:
        """The settings that decide the frames (a resumed run must match them)."""
        d = dataclasses.asdict(self)
        for k in ("out", "frames", "workers", "progress", "backend", "ray_address"):
            d.pop(k)
        d["resolution"] = list(self.resolution)
        return d


def _shard_name(k: int) -> str:
    return f"shard_{k:05d}"


def _lane_keeper(world, rng: np.random.Generator) -> None:
    """One world step of a noisy lane keeper that holds about 10 m/s."""
    steer = -0.25 * world.lane_offset - 1.2 * world.heading_error + rng.normal(0, 0.05)
    throttle = 0.3 * (10.0 - world.speed)
    world.step(float(np.clip(steer, -1, 1)), float(np.clip(throttle, -1, 1)))


def make_shard(cfg: Config, k: int, frames: int) -> dict:
    """Render shard ``k`` (``frames`` frames) and write it; return its manifest entry."""
    from sim.driving.camera import RIGS
    from sim.driving.randomization import randomization_from
    from sim.driving.render import Renderer
    from sim.driving.world import World

    cams = RIGS[cfg.rig](*cfg.resolution)
    rz = randomization_from(cfg.randomization)
    renderer = Renderer(cams, rz)
    moments = frames // len(cams)
    world_ss, render_ss, drive_ss = np.random.SeedSequence([cfg.seed, k]).spawn(3)
    render_rng = np.random.default_rng(render_ss)
    drive = np.random.default_rng(drive_ss)
    world = None
    out: dict[str, list] = {key: [] for key in ("rgb", "labels", "depth", "instances", "camera",
                                                "step", "boxes", "box_classes",
                                                "box_instances", "box_visible")}  # fmt: skip
    counts, episodes = [], []
    for m in range(moments):
        t = m % cfg.episode_frames
        if world is None or t == 0 or world.collision or world.off_road or world.route_complete:
            wseed = int(world_ss.spawn(1)[0].generate_state(1)[0])
            traffic = rz.sample_traffic(drive)
            if world is None:
                world = World(seed=wseed)
            world.reset(seed=wseed, traffic_scale=traffic)
            new_episode = True
        else:
            for _ in range(cfg.frame_skip):
                _lane_keeper(world, drive)
            new_episode = False
        frames_now = renderer.render(
            world.ground, world.objects(include_ego=True), world.ego_pose, render_rng, new_episode
        )
        if new_episode or rz.per_frame:
            episodes.append({"first_frame": m * len(cams), "world_seed": wseed,
                             "traffic_scale": traffic,
                             "style": renderer.style.to_dict()})  # fmt: skip
        for i, f in enumerate(frames_now):
            out["rgb"].append(f.rgb)
            out["labels"].append(f.labels)
            out["depth"].append(np.minimum(f.depth, 65000.0).astype(np.float16))
            if cfg.instances:
                out["instances"].append(f.instances)
            out["camera"].append(i)
            out["step"].append(world.steps)
            out["boxes"].append(f.boxes)
            out["box_classes"].append(f.box_classes)
            out["box_instances"].append(f.box_instances)
            out["box_visible"].append(f.visible)
            counts.append(len(f.boxes))
    arrays = {
        "rgb": np.stack(out["rgb"]),
        "labels": np.stack(out["labels"]),
        "depth": np.stack(out["depth"]),
        "camera": np.array(out["camera"], np.uint8),
        "step": np.array(out["step"], np.int32),
        "boxes": np.concatenate(out["boxes"]).reshape(-1, 4).astype(np.float32),
        "box_classes": np.concatenate(out["box_classes"]).astype(np.uint8),
        "box_instances": np.concatenate(out["box_instances"]).astype(np.int32),
        "box_visible": np.concatenate(out["box_visible"]).astype(np.float32),
        "box_offsets": np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
    }
    if cfg.instances:
        arrays["instances"] = np.stack(out["instances"])
    name = _shard_name(k)
    # The parameters first, then the shard: a shard counts as written once both exist,
    # and each appears atomically under its final name.
    params = cfg.out / f"{name}.json"
    tmp = cfg.out / f"{name}.json.tmp"
    tmp.write_text(json.dumps({"shard": k, "frames": len(counts), "episodes": episodes}))
    os.replace(tmp, params)
    tmp_npz = cfg.out / f"{name}.tmp.npz"
    np.savez_compressed(tmp_npz, **arrays)
    os.replace(tmp_npz, cfg.out / f"{name}.npz")
    return _entry(k, len(counts))


def _entry(k: int, frames: int) -> dict:
    name = _shard_name(k)
    return {"file": f"{name}.npz", "params": f"{name}.json", "frames": frames}


def _plan(cfg: Config) -> list[tuple[int, int]]:
    """(shard index, frames) of every shard of the dataset."""
    n_full, rest = divmod(cfg.frames, cfg.shard_size)
    plan = [(k, cfg.shard_size) for k in range(n_full)]
    if rest:
        from sim.driving.camera import RIGS

        cams = len(RIGS[cfg.rig](*cfg.resolution))
        rest = max(cams, rest - rest % cams)
        plan.append((n_full, rest))
    return plan


def _written(cfg: Config, k: int, frames: int) -> bool:
    """Whether shard ``k`` is on disk with ``frames`` frames (a last shard written by a
    run that asked for fewer frames is rewritten)."""
    name = _shard_name(k)
    params = cfg.out / f"{name}.json"
    if not ((cfg.out / f"{name}.npz").is_file() and params.is_file()):
        return False
    try:
        return json.loads(params.read_text()).get("frames") == frames
    except (OSError, json.JSONDecodeError):
        return False


def _write_manifest(cfg: Config, done: dict[int, dict], complete: bool) -> None:
    from sim.driving.camera import RIGS
    from sim.driving.randomization import randomization_from
    from sim.driving.scene import CLASS_NAMES

    manifest = {
        "format": FORMAT,
        "config": cfg.dataset_key(),
        "label_names": list(CLASS_NAMES),
        "cameras": [dataclasses.asdict(c) for c in RIGS[cfg.rig](*cfg.resolution)],
        "randomization": dataclasses.asdict(randomization_from(cfg.randomization)),
        "frames": sum(e["frames"] for e in done.values()),
        "complete": complete,
        "shards": [done[k] for k in sorted(done)],
    }
    tmp = cfg.out / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, cfg.out / "manifest.json")


class ShardWriter:
    """A backend worker: holds nothing, writes the shards it is given."""

    def __init__(self, index: int, incarnation: int) -> None:
        self.index = index


def _write(worker: ShardWriter, cfg: Config, k: int, frames: int) -> dict:
    return {"k": k, **make_shard(cfg, k, frames)}


def _shards(cfg: Config, todo: list[tuple[Config, int, int]]):
    """Each shard's manifest entry as its worker finishes it (a lost shard is redone)."""
    from selfplay.backends import make_backend

    # One local worker, or one shard: a separate process would only add its start-up.
    if cfg.backend == "serial" or (cfg.backend == "process" and min(cfg.workers, len(todo)) <= 1):
        yield from (_write(None, *job) for job in todo)  # type: ignore[arg-type]
        return
    count = min(cfg.workers, len(todo))
    with make_backend(cfg.backend, count, cfg.ray_address) as backend:
        with backend.worker_pool(ShardWriter, count) as pool:
            jobs = {pool.submit(_write, *job): job for job in todo}
            for result in pool.results():
                if result.lost:  # shard k is a function of (seed, k): write it again
                    job = jobs.pop(result.ticket)
                    print(f"make_dataset: shard {job[1]} {result.reason}; writing it again",
                          file=sys.stderr)  # fmt: skip
                    jobs[pool.submit(_write, *job)] = job
                    continue
                yield result.value


def main(cfg: Config) -> dict:
    """Write the missing shards of the dataset; return the manifest's summary."""
    cfg.validate()
    cfg.out.mkdir(parents=True, exist_ok=True)
    manifest = cfg.out / "manifest.json"
    if manifest.is_file():
        old = json.loads(manifest.read_text())
        if old.get("config") != cfg.dataset_key():
            raise SystemExit(
                f"{manifest} was written with other settings {old.get('config')}; use another "
                "--out or the same settings to resume"
            )
    for leftover in cfg.out.glob("*.tmp*"):  # from an interrupted run
        leftover.unlink()
    plan = _plan(cfg)
    done = {k: _entry(k, n) for k, n in plan if _written(cfg, k, n)}
    todo = [(cfg, k, n) for k, n in plan if k not in done]
    _write_manifest(cfg, done, complete=not todo)
    total = sum(n for _, n in plan)
    bar = None
    if cfg.progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=total - sum(n for _, _, n in todo), unit="frame",
                   file=sys.stderr)  # fmt: skip
    try:
        for r in _shards(cfg, todo):
            k = r.pop("k")
            done[k] = r
            _write_manifest(cfg, done, complete=len(done) == len(plan))
            if bar is not None:
                bar.update(r["frames"])
    finally:
        if bar is not None:
            bar.close()
    summary = {"out": str(cfg.out), "frames": sum(e["frames"] for e in done.values()),
               "shards": len(done), "written_now": len(todo)}  # fmt: skip
    print(json.dumps(summary))
    return summary


if __name__ == "__main__":
    main(tyro.cli(Config))

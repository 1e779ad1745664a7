"""Driving simulator benchmarks: the camera renderer's randomized, labelled frames per
second on one core (front, surround and top-down rigs at 96x96 and 128x128), and the
world's physics steps per second without rendering.

Counting: a camera frame is one camera's RGB image with its labels, depth, instance ids
and boxes (the renderer always makes all of them); a rig frame is one frame of every
camera of the rig. Scenes are a recorded drive through the world (traffic, pedestrians,
obstacles moving), so the world's own step is not in the render timings; randomization
"full" resamples every aspect at each episode start, one episode every 100 frames (the
resampling is timed).

Measured as ``../shared/MEASURING.md`` asks: warm-up first (Numba kernels load from the
on-disk cache: compile time is out), at least 5 timed repeats with median, min and max,
the configurations alternating (A B C ... A B C ...) in one process, one thread::

    python scripts/bench_drive.py            # full run (about two minutes)
    python scripts/bench_drive.py --quick    # under a minute
    python scripts/bench_drive.py --json     # one JSON object on stdout

Peers: MetaDrive and highway-env are not installed here, so no peer figures are given.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import time
import warnings
from dataclasses import dataclass

import numpy as np
import tyro
from benchkit import BenchConfig, log, run_sections, summary


@dataclass
class Config(BenchConfig):
    """Benchmarks of the driving simulator (renderer, physics)."""

    only: tuple[str, ...] = ()
    """Run only these sections: render, physics (all when empty)."""
    rigs: tuple[str, ...] = ("front", "surround", "topdown")
    """Camera rigs to time."""
    resolutions: tuple[int, ...] = (96, 128)
    """Square image sizes to time."""
    randomization: str = "full"
    """Randomization of the render section: full, off or canonical."""
    episode_frames: int = 100
    """Frames per episode (the style is resampled at each episode start)."""


def _drive(steps: int, seed: int = 0):
    """A recorded drive: [(ground, objects with the ego, ego pose)] (as the env renders:
    the ego's box shows in the top-down view; the cameras mounted in it skip it)."""
    from sim.driving.world import World

    world = World(seed=seed)
    out = []
    for _ in range(steps):
        # a lane keeper, so the drive stays on the road
        steer = float(np.clip(-1.5 * world.heading_error - 0.3 * world.lane_offset, -1, 1))
        world.step(steer, 0.2)
        if world.off_road or world.collision or world.route_complete:
            world.reset(seed=seed + len(out))
        out.append((world.ground, world.objects(include_ego=True), world.ego_pose))
    return out


def bench_render(cfg: Config) -> dict:
    """Camera frames/s of each rig and resolution, the configurations alternating."""
    from sim.driving.camera import RIGS
    from sim.driving.randomization import randomization_from
    from sim.driving.render import Renderer

    frames = 200 if cfg.quick else 1000
    drive = _drive(min(frames, 400))
    rz = randomization_from(cfg.randomization)
    setups = [(rig, res) for res in cfg.resolutions for rig in cfg.rigs]
    renderers = {s: Renderer(RIGS[s[0]](s[1], s[1]), rz) for s in setups}

    def run(setup, n: int, rng: np.random.Generator) -> float:
        r = renderers[setup]
        t = time.perf_counter()
        for i in range(n):
            ground, objs, pose = drive[i % len(drive)]
            r.render(ground, objs, pose, rng, i % cfg.episode_frames == 0)
        return time.perf_counter() - t

    rng = np.random.default_rng(0)
    for s in setups:  # warm-up
        run(s, 20, rng)
    samples: dict = {s: [] for s in setups}
    for _ in range(cfg.repeats):
        for s in setups:
            samples[s].append(frames / run(s, frames, rng))
    out: dict = {
        "randomization": cfg.randomization,
        "frames_per_repeat": frames,
        "episode_frames": cfg.episode_frames,
        "counting": "camera frames: one camera's RGB + labels + depth + instances + boxes",
    }
    for (rig, res), rig_fps in samples.items():
        n_cams = len(renderers[(rig, res)].cameras)
        key = f"{rig}_{res}x{res}"
        out[key] = {
            "cameras": n_cams,
            "camera_frames_per_s": summary([f * n_cams for f in rig_fps]),
            "rig_frames_per_s": summary(rig_fps),
        }
        cam = out[key]["camera_frames_per_s"]
        log(
            cfg,
            f"render {key:>18} ({n_cams} cameras, {cfg.randomization}): "
            f"{cam['median']:8,.0f} camera frames/s (min {cam['min']:,.0f}, max "
            f"{cam['max']:,.0f}); {out[key]['rig_frames_per_s']['median']:,.0f} rig frames/s",
        )
    return out


def bench_physics(cfg: Config) -> dict:
    """World steps/s without rendering (traffic with IDM and MOBIL, pedestrians,
    collision checks, the done checks an env makes, and episode resets inside the timed
    loop, on a fixed map), bare and with the state vector, alternating; and the time of
    a reset that draws and rasterizes a new road."""
    from sim.driving.world import World

    steps = 2000 if cfg.quick else 10000
    world = World(seed=0, map_seed=0)
    rng = np.random.default_rng(0)
    # gentle random driving: episodes end by collision, leaving the road or completion
    actions = rng.uniform(-1, 1, (steps, 2)) * (0.05, 0.4) + (0.0, 0.2)

    def run(with_state: bool) -> tuple[float, int]:
        world.reset(seed=int(rng.integers(1 << 30)))
        resets = 0
        t = time.perf_counter()
        for i in range(steps):
            world.step(actions[i, 0], actions[i, 1])
            if with_state:
                world.state_vector()
            if world.collision or world.off_road or world.route_complete:
                world.reset(seed=i)
                resets += 1
        return time.perf_counter() - t, resets

    run(False)
    run(True)
    bare, state, resets = [], [], []
    for _ in range(cfg.repeats):
        dt, n = run(False)
        bare.append(steps / dt)
        resets.append(n)
        state.append(steps / run(True)[0])
    new_road = World(seed=0)
    times = []
    for i in range(3 if cfg.quick else 5):
        t = time.perf_counter()
        new_road.reset(seed=i)
        times.append(time.perf_counter() - t)
    out = {
        "steps_per_s": summary(bare),
        "with_state_vector_steps_per_s": summary(state),
        "steps_per_repeat": steps,
        "resets_per_repeat": float(np.median(resets)),
        "new_road_reset_ms": summary([1e3 * t for t in times]),
        "max_vehicles": world.config.max_vehicles,
    }
    log(cfg, f"physics: {out['steps_per_s']['median']:,.0f} steps/s bare, "
        f"{out['with_state_vector_steps_per_s']['median']:,.0f} with the state vector; "
        f"a new road's reset {out['new_road_reset_ms']['median']:.1f} ms")  # fmt: skip
    return out


def main(cfg: Config) -> dict:
    warnings.simplefilter("ignore")
    import numba

    sections = {"render": bench_render, "physics": bench_physics}
    peers = "highway-env and metadrive-simulator are not installed: no peer figures"
    return run_sections(cfg, sections, threads=1, numba=numba.__version__, peers=peers)


if __name__ == "__main__":
    main(tyro.cli(Config))

"""Driving simulator benchmarks: the camera renderer's randomized, labelled frames per
second on one core (front, surround and top-down rigs at 96x96 and 128x128), the
world's physics steps per second without rendering, and env steps per second with image
observations beside highway-env's (the peer).

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

Peer (section ``peer``): highway-env (``highway-v0``, its default 50 vehicles unless
``--peer-vehicles`` says otherwise; its step is dominated by their Python car
following, not its rendering), rendered headless
(SDL's dummy video driver, ``offscreen_rendering``), against ``simarena/Drive-v0`` with
``obs_mode="rgb_labels"``, the front camera and full randomization, at each resolution.
Both count env steps per second with an image each step: highway-env's
``GrayscaleObservation`` (one frame, no stack) and its RGB ``render()`` (``render_mode=
"rgb_array"``, screen W x H, beside a kinematics observation); ours RGB plus labels,
depth, instance ids and boxes. Both simulate 0.1 s per step (highway-env's simulation
and policy frequency set to 10 Hz; its default 15 Hz simulation at 1 Hz policy would
run 15 physics substeps per image), drive a lane-keeping ego (highway-env's IDLE meta
action; a lane keeper on ours), time the same number of steps per repeat, and reset
inside the timed loop whenever an episode ends (the resets per repeat are reported).
Render-only figures beside them: highway-env's observation render on a fixed scene
(``observe()``) and our renderer's front camera from the ``render`` section. MetaDrive
is not installed here.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless pygame (highway-env)
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import statistics
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
    """Run only these sections: render, physics, peer (all when empty)."""
    rigs: tuple[str, ...] = ("front", "surround", "topdown")
    """Camera rigs to time."""
    resolutions: tuple[int, ...] = (96, 128)
    """Square image sizes to time."""
    randomization: str = "full"
    """Randomization of the render section: full, off or canonical."""
    episode_frames: int = 100
    """Frames per episode (the style is resampled at each episode start)."""
    peer_steps: int = 0
    """Env steps per timed repeat in the peer section (0: 40 with --quick, else 200)."""
    peer_vehicles: int = 50
    """highway-env's vehicles_count (its default 50; Drive-v0's default traffic is about
    10 vehicles, 4 pedestrians and 2 obstacles on a 400 m, 3-lane road)."""


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


def _highway_env(kind: str, res: int, vehicles: int):
    """highway-v0 at 10 Hz with a ``res`` x ``res`` image per step: ``"gray"`` its
    GrayscaleObservation, ``"rgb"`` its rgb_array render."""
    import gymnasium
    import highway_env  # noqa: F401  (registers highway-v0)

    config: dict = {"simulation_frequency": 10, "policy_frequency": 10,
                    "offscreen_rendering": True, "vehicles_count": vehicles}  # fmt: skip
    if kind == "gray":
        config["observation"] = {"type": "GrayscaleObservation", "observation_shape": (res, res),
                                 "stack_size": 1, "weights": [0.2989, 0.5870, 0.1140]}  # fmt: skip
        return gymnasium.make("highway-v0", config=config)
    config.update(screen_width=res, screen_height=res)
    return gymnasium.make("highway-v0", config=config, render_mode="rgb_array")


def bench_peer(cfg: Config) -> dict:
    """Env steps/s with image observations: highway-env beside Drive-v0 (see the module
    docstring), the setups alternating; the ratios ours / theirs."""
    from importlib.metadata import PackageNotFoundError, version

    import gymnasium

    import envs  # noqa: F401  (registers simarena/Drive-v0)

    try:
        peer_version = version("highway-env")
    except PackageNotFoundError:
        log(cfg, "peer: highway-env is not installed (pip install highway-env); skipped")
        return {"skipped": "highway-env is not installed"}
    steps = cfg.peer_steps or (40 if cfg.quick else 200)
    envs_: dict = {}
    for res in cfg.resolutions:
        envs_[("highway_gray", res)] = _highway_env("gray", res, cfg.peer_vehicles)
        envs_[("highway_rgb", res)] = _highway_env("rgb", res, cfg.peer_vehicles)
        envs_[("ours", res)] = gymnasium.make(
            "simarena/Drive-v0", obs_mode="rgb_labels", camera="front",
            resolution=(res, res), randomization="full",
        )  # fmt: skip
    seeds = iter(range(1 << 30))

    def run(setup, n: int) -> tuple[float, int]:
        env = envs_[setup]
        ours = setup[0] == "ours"
        rgb = setup[0] == "highway_rgb"
        env.reset(seed=next(seeds))
        info = {"heading_error": 0.0, "lane_offset": 0.0}
        resets = 0
        t = time.perf_counter()
        for _ in range(n):
            if ours:
                steer = -1.5 * info["heading_error"] - 0.3 * info["lane_offset"]
                action = np.array([min(max(steer, -1.0), 1.0), 0.2], np.float32)
            else:
                action = 1  # IDLE: keep lane and speed
            _, _, terminated, truncated, info = env.step(action)
            if rgb:
                env.render()
            if terminated or truncated:
                _, info = env.reset(seed=next(seeds))
                resets += 1
        return time.perf_counter() - t, resets

    for s in envs_:  # warm-up (Numba cache load, pygame surfaces)
        run(s, 5)
    samples: dict = {s: [] for s in envs_}
    resets: dict = {s: [] for s in envs_}
    for _ in range(cfg.repeats):
        for s in envs_:
            dt, r = run(s, steps)
            samples[s].append(steps / dt)
            resets[s].append(r)
    # render only: highway-env's observation render on a fixed scene, and our renderer's
    # front camera over a recorded drive (as the render section times it), alternating
    from sim.driving.camera import RIGS
    from sim.driving.randomization import randomization_from
    from sim.driving.render import Renderer

    drive = _drive(steps)
    rng = np.random.default_rng(0)
    renderers = {res: Renderer(RIGS["front"](res, res), randomization_from("full"))
                 for res in cfg.resolutions}  # fmt: skip
    theirs_only: dict = {res: [] for res in cfg.resolutions}
    ours_only: dict = {res: [] for res in cfg.resolutions}
    for res in cfg.resolutions:
        for i, (ground, objs, pose) in enumerate(drive[:5]):  # warm-up
            renderers[res].render(ground, objs, pose, rng, i == 0)
    for _ in range(cfg.repeats):
        for res in cfg.resolutions:
            obs_type = envs_[("highway_gray", res)].unwrapped.observation_type
            t = time.perf_counter()
            for _ in range(steps):
                obs_type.observe()
            theirs_only[res].append(steps / (time.perf_counter() - t))
            t = time.perf_counter()
            for i, (ground, objs, pose) in enumerate(drive):
                renderers[res].render(ground, objs, pose, rng, i % cfg.episode_frames == 0)
            ours_only[res].append(steps / (time.perf_counter() - t))
    out: dict = {
        "peer": f"highway-env {peer_version} (highway-v0, {cfg.peer_vehicles} vehicles, "
        "10 Hz, headless)",
        "ours": "simarena/Drive-v0 rgb_labels, front camera, randomization full",
        "steps_per_repeat": steps,
        "counting": "env steps/s, one image per step, resets inside the timed loop",
    }
    for res in cfg.resolutions:
        key = f"{res}x{res}"
        ours = summary(samples[("ours", res)])
        gray = summary(samples[("highway_gray", res)])
        rgb = summary(samples[("highway_rgb", res)])
        out[key] = {
            "ours_rgb_labels_steps_per_s": ours,
            "highway_gray_steps_per_s": gray,
            "highway_rgb_steps_per_s": rgb,
            "highway_gray_render_only_frames_per_s": summary(theirs_only[res]),
            "ours_renderer_front_frames_per_s": summary(ours_only[res]),
            "resets_per_repeat": {s[0]: float(np.median(resets[s])) for s in envs_ if s[1] == res},
            "ratio_ours_over_highway_gray": ours["median"] / gray["median"],
            "ratio_ours_over_highway_rgb": ours["median"] / rgb["median"],
        }
        out[key]["ratio_renderer_over_highway_render_only"] = (
            out[key]["ours_renderer_front_frames_per_s"]["median"]
            / out[key]["highway_gray_render_only_frames_per_s"]["median"]
        )
        log(
            cfg,
            f"peer {key}: ours {ours['median']:,.0f} env steps/s (rgb+labels); highway-env "
            f"{gray['median']:,.0f} (grayscale obs), {rgb['median']:,.0f} (rgb render), "
            f"render only {statistics.median(theirs_only[res]):,.0f} frames/s (ours "
            f"{statistics.median(ours_only[res]):,.0f}); ours / highway gray "
            f"{out[key]['ratio_ours_over_highway_gray']:.1f}x",
        )
    for env in envs_.values():
        env.close()
    return out


def main(cfg: Config) -> dict:
    warnings.simplefilter("ignore")
    import numba

    sections = {"render": bench_render, "physics": bench_physics, "peer": bench_peer}
    peers = "highway-env (section peer); metadrive-simulator is not installed"
    return run_sections(cfg, sections, threads=1, numba=numba.__version__, peers=peers)


if __name__ == "__main__":
    main(tyro.cli(Config))

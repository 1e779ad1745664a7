"""DQN benchmarks: env throughput of our ALE pipeline, learning throughput against SB3's
DQN, and the memory of a 1M-transition Atari replay.

Measured as ``../shared/MEASURING.md`` asks: warm-up first, then timed repeats that
alternate ours and the peer (A B A B ...) in one process on one thread, median with min
and max; observations are checked identical before env timings, and the learners share
every hyperparameter and the network. Run with the other core idle::

    python scripts/bench_dqn.py            # full run (a few minutes, 7 GB of RAM)
    python scripts/bench_dqn.py --quick    # under a minute (a 100k replay)
    python scripts/bench_dqn.py --json     # figures as one JSON object on stdout
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

import numpy as np
import tyro
from benchkit import ROOT, BenchConfig, run_sections, summary
from benchkit import log as say

sys.path.insert(0, str(ROOT))


@dataclass
class Config(BenchConfig):
    """Benchmarks of the DQN stack (envs, learner, replay memory); --quick uses 3 repeats."""

    game: str = "ALE/Pong-v5"
    """ALE game of the env-throughput figures."""
    num_envs: int = 8
    """envs per vector env in the env-throughput figures."""
    only: tuple[str, ...] = ()
    """Run only these sections: env, learn, memory (all when empty)."""
    threads2: bool = False
    """Also time our ALE vector env on 2 worker threads (both cores; keep them idle)."""


# ---- env throughput ------------------------------------------------------------------
def bench_env(cfg: Config) -> dict:
    from envs.atari import make_atari

    n, steps = cfg.num_envs, (300 if cfg.quick else 2000)
    det = {"noop_max": 0, "repeat_action_probability": 0.0}

    def ours(overrides=None):
        return make_atari(cfg.game, "machado", True, n, num_threads=1, overrides=overrides)

    def sync(overrides=None):
        return make_atari(cfg.game, "machado", True, n, backend="sync", overrides=overrides)

    # Identical observations, rewards and ends under the same seeds and actions (the
    # deterministic variant: sticky actions draw from each side's own RNG stream).
    a, b = ours(det), sync(det)
    same = bool(np.array_equal(a.reset(seed=0)[0], b.reset(seed=0)[0]))
    rng = np.random.default_rng(0)
    for _ in range(500 if cfg.quick else 3000):
        act = rng.integers(a.single_action_space.n, size=n)
        ra, rb = a.step(act), b.step(act)
        same &= all(np.array_equal(x, y) for x, y in zip(ra[:4], rb[:4], strict=True))
    a.close()
    b.close()
    if not same:
        raise SystemExit("bench_dqn: observations of the two pipelines differ")

    def rate(env) -> float:
        env.reset(seed=1)
        acts = np.random.default_rng(2).integers(env.single_action_space.n, size=(steps, n))
        t = time.perf_counter()
        for act in acts:
            env.step(act)
        return steps * n / (time.perf_counter() - t)

    sides = {"ours": ours(), "sync": sync(), "emulator": Emulator(cfg.game, n)}
    if cfg.threads2:
        sides["ours_2_threads"] = make_atari(cfg.game, "machado", True, n, num_threads=2)
    for env in sides.values():
        env.reset(seed=0)  # warm-up: ROM load, Numba
        env.step(np.zeros(n, np.int64))
    samples: dict[str, list[float]] = {k: [] for k in sides}
    for _ in range(cfg.repeats):
        for name, env in sides.items():
            samples[name].append(rate(env))

    def ratio(a: str, b: str) -> dict:
        return summary([x / y for x, y in zip(samples[a], samples[b], strict=True)])

    out = {
        "game": cfg.game,
        "protocol": "machado",
        "num_envs": n,
        "steps_per_repeat": steps * n,
        "observations_identical": same,
        "ours_ale_vector_steps_per_s": summary(samples["ours"]),
        "gymnasium_sync_steps_per_s": summary(samples["sync"]),
        "ratio": ratio("ours", "sync"),
        "emulator_only_steps_per_s": summary(samples["emulator"]),
        "ceiling_ratio_emulator_over_sync": ratio("emulator", "sync"),
        "threads": 1,
    }
    if cfg.threads2:
        out["ours_2_threads_steps_per_s"] = summary(samples["ours_2_threads"])
        out["ratio_2_threads_over_sync"] = ratio("ours_2_threads", "sync")
    say(
        cfg,
        f"env: ours {out['ours_ale_vector_steps_per_s']['median']:.0f} steps/s, "
        f"SyncVectorEnv {out['gymnasium_sync_steps_per_s']['median']:.0f}: "
        f"{out['ratio']['median']:.2f}x (identical obs: {same}); emulation alone "
        f"{out['emulator_only_steps_per_s']['median']:.0f} "
        f"({out['ceiling_ratio_emulator_over_sync']['median']:.2f}x)"
        + (
            f"; ours on 2 threads {out['ours_2_threads_steps_per_s']['median']:.0f} "
            f"({out['ratio_2_threads_over_sync']['median']:.2f}x)"
            if cfg.threads2
            else ""
        ),
    )
    return out


class Emulator:
    """The floor of any one-thread pipeline: the ALE emulation alone, as the pipelines
    run it per agent step (4 frames, sticky actions 0.25, the two last screens read in
    gray), in a Python loop with no resize, stack or wrappers."""

    def __init__(self, game: str, n: int):
        import ale_py

        from envs.atari.factory import parse_game

        rom = ale_py.roms.get_rom_path(parse_game(game)[1])
        self.ales = []
        for i in range(n):
            ale = ale_py.ALEInterface()
            ale.setLoggerMode(ale_py.LoggerMode.Error)
            ale.setInt("random_seed", i)
            ale.setFloat("repeat_action_probability", 0.25)
            ale.loadROM(rom)
            self.ales.append(ale)
        self.actions = self.ales[0].getLegalActionSet()
        self.single_action_space = type("S", (), {"n": len(self.actions)})
        self.screens = [np.empty((210, 160), np.uint8) for _ in range(2)]

    def reset(self, seed: int | None = None) -> None:
        for ale in self.ales:
            ale.reset_game()

    def step(self, actions: np.ndarray) -> None:
        a, b = self.screens
        for ale, i in zip(self.ales, actions, strict=True):
            act = self.actions[i]
            ale.act(act)
            ale.act(act)
            ale.act(act)
            ale.getScreenGrayscale(a)
            ale.act(act)
            ale.getScreenGrayscale(b)
            if ale.game_over():
                ale.reset_game()


# ---- learning throughput -------------------------------------------------------------
HYPER = {
    "buffer_size": 100_000,
    "batch_size": 32,
    "lr": 2.5e-4,
    "adam_eps": 3.125e-4,
    "gamma": 0.99,
    "learning_starts": 1_000,
    "train_freq": 1,
    "target_update": 1_000,
    "eps_start": 1.0,
    "eps_end": 0.1,
    "exploration_steps": 100_000,
    "max_grad_norm": 10.0,
}


def bench_learn(cfg: Config) -> dict:
    import torch
    from stable_baselines3 import DQN
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
    from torch import nn

    from agents.dqn.config import DQNConfig
    from agents.dqn.train import Trainer
    from envs.atari import make_atari

    torch.set_num_threads(1)
    total = 1_000_000
    chunk = 300 if cfg.quick else 2000

    class MinAtarTorso(BaseFeaturesExtractor):  # the torso of our "minatar" network
        def __init__(self, space):
            super().__init__(space, 16 * 8 * 8)
            self.net = nn.Sequential(nn.Conv2d(space.shape[0], 16, 3), nn.ReLU(), nn.Flatten())

        def forward(self, x):
            return self.net(x)

    ours = Trainer(
        DQNConfig(
            env="minatar:breakout",
            network="minatar",
            dueling=False,
            double=False,
            n_step=1,
            total_steps=total,
            num_envs=1,
            eval_every=0,
            eval_episodes=0,
            progress=False,
            run_dir="/tmp/bench_dqn_unused",
            **HYPER,
        )
    )
    sb3 = DQN(
        "MlpPolicy",
        make_atari("minatar:breakout", training=True),
        learning_rate=HYPER["lr"],
        buffer_size=HYPER["buffer_size"],
        learning_starts=HYPER["learning_starts"],
        batch_size=HYPER["batch_size"],
        gamma=HYPER["gamma"],
        train_freq=HYPER["train_freq"],
        gradient_steps=1,
        target_update_interval=HYPER["target_update"],
        exploration_initial_eps=HYPER["eps_start"],
        exploration_final_eps=HYPER["eps_end"],
        exploration_fraction=HYPER["exploration_steps"] / total,
        max_grad_norm=HYPER["max_grad_norm"],
        policy_kwargs={
            "features_extractor_class": MinAtarTorso,
            "net_arch": [128],
            "normalize_images": False,
            "optimizer_kwargs": {"eps": HYPER["adam_eps"]},
        },
        seed=0,
        device="cpu",
    )

    # SB3 anneals epsilon over a fraction of the ``total_timesteps`` of each learn() call;
    # timing in chunks would restart that schedule. Both sides follow the same one: linear
    # over the agent steps taken, from eps_start to eps_end in exploration_steps.
    def sb3_epsilon(_progress_remaining: float) -> float:
        frac = min(1.0, sb3.num_timesteps / HYPER["exploration_steps"])
        return HYPER["eps_start"] + frac * (HYPER["eps_end"] - HYPER["eps_start"])

    sb3.exploration_schedule = sb3_epsilon
    n_ours = sum(p.numel() for p in ours.q.parameters())
    n_sb3 = sum(p.numel() for p in sb3.q_net.parameters())
    assert n_ours == n_sb3, (n_ours, n_sb3)

    def run_ours() -> float:
        goal = ours.step + chunk
        t = time.perf_counter()
        while ours.step < goal:
            ours.collect()
        return chunk / (time.perf_counter() - t)

    def run_sb3() -> float:
        t = time.perf_counter()
        sb3.learn(chunk, reset_num_timesteps=False)
        return chunk / (time.perf_counter() - t)

    # Warm-up past learning_starts so every timed step includes a gradient step.
    while ours.step < HYPER["learning_starts"] + 100:
        ours.collect()
    sb3.learn(HYPER["learning_starts"] + 100)
    samples = {"ours": [], "sb3": []}
    for _ in range(cfg.repeats):
        samples["ours"].append(run_ours())
        samples["sb3"].append(run_sb3())
    ratios = [o / s for o, s in zip(samples["ours"], samples["sb3"], strict=True)]
    out = {
        "env": "minatar:breakout",
        "hyperparameters": HYPER | {"n_step": 1, "double": False, "dueling": False},
        "network_parameters": n_ours,
        "steps_per_repeat": chunk,
        "ours_steps_per_s": summary(samples["ours"]),
        "sb3_steps_per_s": summary(samples["sb3"]),
        "ratio": summary(ratios),
        "epsilon_at_end": {"ours": ours.epsilon(), "sb3": sb3.exploration_rate},
        "steps_at_end": {"ours": ours.step, "sb3": sb3.num_timesteps},
        "threads": 1,
    }
    say(
        cfg,
        f"learn: ours {out['ours_steps_per_s']['median']:.0f} steps/s, SB3 "
        f"{out['sb3_steps_per_s']['median']:.0f}: {out['ratio']['median']:.2f}x",
    )
    return out


# ---- replay memory -------------------------------------------------------------------
def fill_replay(capacity: int) -> None:
    """Child process: allocate and fill a replay of ``capacity`` Atari frames, print RSS."""
    from agents.dqn.replay import FrameReplay

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    envs = 8
    replay = FrameReplay(capacity, (4, 84, 84), 4, num_envs=envs, n_step=3)
    rng = np.random.default_rng(0)
    obs = rng.integers(0, 256, size=(envs, 4, 84, 84), dtype=np.uint8)
    replay.start(np.arange(envs), obs)
    ids = np.arange(envs)
    steps = capacity // envs + 100  # wrap around once
    zeros = np.zeros(envs, np.bool_)
    for t in range(steps):
        obs[:, -1] = t % 251  # synthetic frames; every page gets written
        end = np.full(envs, t % 2000 == 1999)
        replay.add(ids, ids, np.ones(envs, np.float32), obs, zeros, end)
        if end[0]:
            replay.end_episode(ids)
            replay.start(ids, obs)
    replay.sample(32, rng)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    arrays = sum(getattr(replay, n).nbytes for n in replay.ARRAYS)
    print(
        json.dumps(
            {
                "peak_rss_kb": peak,
                "baseline_rss_kb": base,
                "array_bytes": arrays,
                "transitions": len(replay),
            }
        )
    )


def bench_memory(cfg: Config) -> dict:
    capacity = 100_000 if cfg.quick else 1_000_000
    t = time.perf_counter()
    res = subprocess.run(
        [sys.executable, __file__, "--fill-replay", str(capacity)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(res.stdout.strip().splitlines()[-1])
    out = {
        "capacity_frames": capacity,
        "transitions_sampleable": data["transitions"],
        "peak_rss_gb": data["peak_rss_kb"] * 1024 / 1e9,
        "rss_before_gb": data["baseline_rss_kb"] * 1024 / 1e9,
        "replay_arrays_gb": data["array_bytes"] / 1e9,
        "per_million_gb": data["array_bytes"] / 1e9 * 1e6 / capacity,
        "fill_seconds": time.perf_counter() - t,
    }
    say(
        cfg,
        f"memory: {capacity} frames -> peak RSS {out['peak_rss_gb']:.2f} GB "
        f"(arrays {out['replay_arrays_gb']:.2f} GB; {out['per_million_gb']:.2f} GB per 1M)",
    )
    return out


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--fill-replay":
        fill_replay(int(sys.argv[2]))
        return
    cfg = tyro.cli(Config, description=__doc__)
    if cfg.quick:
        cfg.repeats = min(cfg.repeats, 3)
    sections = {"env": bench_env, "learn": bench_learn, "memory": bench_memory}
    run_sections(cfg, sections, omp_num_threads=os.environ.get("OMP_NUM_THREADS"))


if __name__ == "__main__":
    main()

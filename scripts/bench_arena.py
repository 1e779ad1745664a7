"""FogArena benchmarks: the vectorized core, the PettingZoo env beside PettingZoo's
Knights-Archers-Zombies, replay playback, and the scripted-level ladder.

Measured as ``../shared/MEASURING.md`` asks: warm-up first (Numba kernels load from the
on-disk cache: compile time is out), at least 5 timed repeats with median, min and max;
the two envs alternate (A B A B ...) in one process; one thread. Run with the other
core idle::

    python scripts/bench_arena.py            # full run (a few minutes)
    python scripts/bench_arena.py --quick    # under a minute
    python scripts/bench_arena.py --json     # one JSON object on stdout
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from benchkit import BenchConfig, log, run_sections, summary

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Config(BenchConfig):
    """Benchmarks of FogArena (core, PettingZoo env, replay playback, ladder)."""

    only: tuple[str, ...] = ()
    """Run only these sections: core, env, replay, ladder (all when empty)."""
    arenas: int = 64
    """Arenas per core call."""


def bench_core(cfg: Config) -> dict:
    from sim.arena import ArenaBatch, ArenaConfig
    from sim.arena.config import NUM_UNITS

    batch = ArenaBatch(cfg.arenas, ArenaConfig(team_sizes=(5, 5), fog=True), seed=0)
    rng = np.random.default_rng(0)
    pool = []
    for _ in range(64):  # random moves and targets (impossible ones are no-ops)
        a = batch.noop_actions()
        a[..., 0] = rng.integers(0, 9, a.shape[:2])
        a[..., 1:] = rng.integers(-1, NUM_UNITS, a.shape[:2] + (2,))
        pool.append(a)
    steps = 200 if cfg.quick else 1000
    batch.step(pool[0])  # warm-up (kernels from the cache)
    samples = []
    for _ in range(cfg.repeats):
        batch.reset(int(rng.integers(1 << 30)))
        t = time.perf_counter()
        for i in range(steps):
            batch.step(pool[i % 64], check=False)
            if i % 100 == 99 and batch.done.any():  # keep every arena playing
                batch.reset(int(rng.integers(1 << 30)), arenas=np.flatnonzero(batch.done))
        dt = time.perf_counter() - t
        samples.append(steps * cfg.arenas * 10 / dt)
    out = {"agent_steps_per_s": summary(samples), "arenas": cfg.arenas, "steps": steps}
    log(cfg, f"core 5v5 fog: {out['agent_steps_per_s']['median']:,.0f} agent-steps/s")
    return out


def _run_parallel(env, steps: int, seed: int) -> float:
    """Agent-steps per second of a random-action loop (same loop for both envs)."""
    env.reset(seed=seed)
    for a in env.possible_agents:
        env.action_space(a).seed(seed)
    count = 0
    t = time.perf_counter()
    for _ in range(steps):
        if not env.agents:
            env.reset()
        actions = {a: env.action_space(a).sample() for a in env.agents}
        env.step(actions)
        count += len(actions)
    return count / (time.perf_counter() - t)


def bench_env(cfg: Config) -> dict:
    from pettingzoo.butterfly import knights_archers_zombies_v11

    from envs.arena import fogarena_v0

    ours = fogarena_v0.parallel_env(team_size=5)
    kaz = knights_archers_zombies_v11.parallel_env(obs_method="vector")
    steps = 300 if cfg.quick else 1500
    _run_parallel(ours, 50, 0)  # warm-up
    _run_parallel(kaz, 50, 0)
    a_s, b_s, ratios = [], [], []
    for r in range(cfg.repeats):
        a = _run_parallel(ours, steps, r)
        b = _run_parallel(kaz, steps, r)
        a_s.append(a)
        b_s.append(b)
        ratios.append(a / b)
    out = {
        "fogarena_agent_steps_per_s": summary(a_s),
        "kaz_agent_steps_per_s": summary(b_s),
        "ratio": summary(ratios),
        "steps": steps,
        "peer": "pettingzoo.butterfly.knights_archers_zombies_v11"
        '.parallel_env(obs_method="vector")',
    }
    log(
        cfg,
        f"env: fogarena {out['fogarena_agent_steps_per_s']['median']:,.0f}, KAZ "
        f"{out['kaz_agent_steps_per_s']['median']:,.0f} agent-steps/s, ratio "
        f"{out['ratio']['median']:.2f}x",
    )
    return out


def bench_replay(cfg: Config) -> dict:
    from envs.arena.render import play_replay
    from sim.arena import ArenaBatch, ArenaConfig, ScriptedTeams
    from sim.arena.replay import save_replay

    config = ArenaConfig(time_limit=600 if cfg.quick else 3000)
    batch = ArenaBatch(1, config, seed=3)
    teams = ScriptedTeams(batch, ("hard", "medium"))
    log_actions = []
    a = batch.noop_actions()
    while not batch.done[0]:
        teams.act(a)
        log_actions.append(a[0].copy())
        batch.step(a)
    samples = []
    with tempfile.TemporaryDirectory() as tmp:
        path = save_replay(Path(tmp) / "r.npz", config, 3, np.array(log_actions),
                           batch.state_hash(0))  # fmt: skip
        play_replay(path, display=False, max_frames=20)  # warm-up
        frames = 300 if cfg.quick else None
        for _ in range(cfg.repeats):
            res = play_replay(path, display=False, max_frames=frames)
            samples.append(res["frames"] / res["seconds"])
    out = {"frames_per_s": summary(samples), "ticks": len(log_actions), "view": "spectator"}
    log(cfg, f"replay playback: {out['frames_per_s']['median']:,.0f} frames/s (drawn, no window)")
    return out


def bench_ladder(cfg: Config) -> dict:
    from selfplay import wilson_interval
    from sim.arena import ArenaConfig, play_matches

    games = 40 if cfg.quick else 200
    out = {}
    for strong, weak in (("hard", "medium"), ("medium", "easy"), ("easy", "random")):
        t = time.perf_counter()
        first = play_matches((strong, weak), games // 2, ArenaConfig(), seed=1000)
        second = play_matches((weak, strong), games // 2, ArenaConfig(), seed=5000)
        wins = int(np.sum(first == 0) + np.sum(second == 1))
        draws = int(np.sum(first == 2) + np.sum(second == 2))
        low = wilson_interval(wins, games)[0]
        out[f"{strong}_vs_{weak}"] = {
            "games": games,
            "wins": wins,
            "draws": draws,
            "wilson_lower": low,
            "seconds": time.perf_counter() - t,
        }
        log(cfg, f"{strong} vs {weak}: {wins}/{games} wins, Wilson low {low:.3f}")
    return out


def main(cfg: Config) -> dict:
    warnings.simplefilter("ignore")
    import numba
    import pettingzoo

    sections = {"core": bench_core, "env": bench_env, "replay": bench_replay}
    sections["ladder"] = bench_ladder
    versions = {"numba": numba.__version__, "pettingzoo": pettingzoo.__version__}
    return run_sections(cfg, sections, threads=1, **versions)


if __name__ == "__main__":
    main(tyro.cli(Config))

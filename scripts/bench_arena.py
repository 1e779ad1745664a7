"""FogArena benchmarks: the vectorized core (bare, and with observations), the
PettingZoo env beside PettingZoo's Knights-Archers-Zombies (its default 4 agents, and 5
archers + 5 knights: 10 agents like a 5v5), replay playback, and the scripted ladder.

Counting: an agent-step is one agent acting in one step. The core counts the 10 heroes
of each arena still playing (finished arenas wait for their restart and are not
counted), and also reports live hero-steps (heroes alive); the env counts FogArena's
live heroes (dead ones stay in ``env.agents`` but do not act) and KAZ's agents (it
removes its dead). Resets are inside the timed loops for every env, the first included.

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


def _random_action_pool(batch, rng: np.random.Generator, size: int = 64) -> list[np.ndarray]:
    """Random moves and random target units (impossible ones are no-ops in the core)."""
    from sim.arena.config import NUM_UNITS

    pool = []
    for _ in range(size):
        a = batch.noop_actions()
        a[..., 0] = rng.integers(0, 9, a.shape[:2])
        a[..., 1:] = rng.integers(-1, NUM_UNITS, a.shape[:2] + (2,))
        pool.append(a)
    return pool


def _time_core(batch, pool, steps: int, rng, observer=None) -> tuple[float, float, float]:
    """(seconds, arena-steps of arenas still playing, live hero-steps) of ``steps`` ticks;
    finished arenas restart every 100 ticks (the restarts are timed too)."""
    from sim.arena.config import F_ALIVE, NUM_HEROES

    arenas = heroes = 0
    t = time.perf_counter()
    for i in range(steps):
        live = ~batch.done
        arenas += int(live.sum())
        heroes += int(batch.ui[live, :NUM_HEROES, F_ALIVE].sum())
        batch.step(pool[i % len(pool)], check=False)
        if observer is not None:
            observer.compute(batch)
        if i % 100 == 99 and batch.done.any():  # keep the arenas playing
            batch.reset(int(rng.integers(1 << 30)), arenas=np.flatnonzero(batch.done))
    return time.perf_counter() - t, arenas, heroes


def bench_core(cfg: Config) -> dict:
    """The bare core, then the core with every hero's observation and masks (as a
    batched trainer uses it), alternating A B A B."""
    from sim.arena import ArenaBatch, ArenaConfig, Observer
    from sim.arena.config import NUM_HEROES

    config = ArenaConfig(team_sizes=(5, 5), fog=True)
    batch = ArenaBatch(cfg.arenas, config, seed=0)
    observer = Observer(cfg.arenas, config.map_size)
    rng = np.random.default_rng(0)
    pool = _random_action_pool(batch, rng)
    steps = 200 if cfg.quick else 1000
    _time_core(batch, pool, 20, rng, observer)  # warm-up (kernels from the cache)
    core, live, with_obs = [], [], []
    for _ in range(cfg.repeats):
        for obs in (None, observer):
            batch.reset(int(rng.integers(1 << 30)))
            dt, arenas, heroes = _time_core(batch, pool, steps, rng, obs)
            if obs is None:
                core.append(arenas * NUM_HEROES / dt)
                live.append(heroes / dt)
            else:
                with_obs.append(arenas * NUM_HEROES / dt)
    out = {
        "agent_steps_per_s": summary(core),
        "live_hero_steps_per_s": summary(live),
        "with_observations_agent_steps_per_s": summary(with_obs),
        "arenas": cfg.arenas,
        "steps": steps,
        "counting": "agent-steps: 10 heroes per arena still playing, per tick; "
        "live hero-steps: heroes alive at the tick",
    }
    log(
        cfg,
        f"core 5v5 fog: {out['agent_steps_per_s']['median']:,.0f} agent-steps/s "
        f"({out['live_hero_steps_per_s']['median']:,.0f} live hero-steps/s); with "
        f"observations {out['with_observations_agent_steps_per_s']['median']:,.0f}",
    )
    return out


def _live_fogarena(env, agents) -> int:
    """Agents of FogArena that act this step: the heroes alive (dead ones stay in
    ``env.agents`` but their actions are ignored)."""
    from sim.arena.config import F_ALIVE

    ui = env.unwrapped.core.batch.ui[0]
    return sum(int(ui[env.unwrapped.hero_of[a], F_ALIVE]) for a in agents)


def _run_parallel(env, steps: int, seed: int, live=None) -> tuple[float, int]:
    """(agent-steps per second, resets) of a random-action loop, the same for every env.

    Resets are timed, the first one included; ``live(env, agents)`` counts the agents
    that act in a step (default: all those in ``env.agents``; KAZ removes its dead)."""
    for a in env.possible_agents:
        env.action_space(a).seed(seed)
    count = resets = 0
    t = time.perf_counter()
    env.reset(seed=seed)
    for _ in range(steps):
        if not env.agents:
            env.reset()
            resets += 1
        actions = {a: env.action_space(a).sample() for a in env.agents}
        count += len(actions) if live is None else live(env, actions)
        env.step(actions)
    return count / (time.perf_counter() - t), resets


def bench_env(cfg: Config) -> dict:
    from pettingzoo.butterfly import knights_archers_zombies_v11

    from envs.arena import fogarena_v0

    envs = {
        "fogarena": (fogarena_v0.parallel_env(team_size=5), _live_fogarena),
        "kaz": (knights_archers_zombies_v11.parallel_env(obs_method="vector"), None),
        "kaz10": (
            knights_archers_zombies_v11.parallel_env(
                obs_method="vector", num_archers=5, num_knights=5
            ),
            None,
        ),
    }
    steps = 300 if cfg.quick else 1500
    for env, live in envs.values():  # warm-up
        _run_parallel(env, 50, 0, live)
    rates: dict[str, list[float]] = {k: [] for k in envs}
    resets: dict[str, int] = dict.fromkeys(envs, 0)
    for r in range(cfg.repeats):  # A B C A B C ...
        for name, (env, live) in envs.items():
            rate, k = _run_parallel(env, steps, r, live)
            rates[name].append(rate)
            resets[name] += k
    ours = np.array(rates["fogarena"])
    out = {
        "fogarena_agent_steps_per_s": summary(rates["fogarena"]),
        "kaz_agent_steps_per_s": summary(rates["kaz"]),
        "kaz10_agent_steps_per_s": summary(rates["kaz10"]),
        "ratio": summary(list(ours / np.array(rates["kaz"]))),
        "ratio_kaz10": summary(list(ours / np.array(rates["kaz10"]))),
        "resets": resets,
        "steps": steps,
        "counting": "agent-steps: agents that act (FogArena: heroes alive; KAZ: its live "
        "agents); resets timed, the first included",
        "peer": "pettingzoo.butterfly.knights_archers_zombies_v11"
        '.parallel_env(obs_method="vector") (2 archers, 2 knights) and with '
        "num_archers=5, num_knights=5",
    }
    log(
        cfg,
        f"env: fogarena {out['fogarena_agent_steps_per_s']['median']:,.0f}, KAZ "
        f"{out['kaz_agent_steps_per_s']['median']:,.0f}, KAZ 5+5 "
        f"{out['kaz10_agent_steps_per_s']['median']:,.0f} agent-steps/s; ratios "
        f"{out['ratio']['median']:.2f}x, {out['ratio_kaz10']['median']:.2f}x; resets {resets}",
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

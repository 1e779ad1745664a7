"""Execution backends: AlphaZero self-play games per hour and PPO rollout agent-steps per
second on the serial, process and Ray backends (:mod:`selfplay.backends`), with 1 and 2
workers, and Ray's overhead against the process pool at equal workers.

What is timed is what the learner waits for: publishing the weights (once per round),
every worker's job, and the results coming back (samples, or rollouts with their
observations). Workers start and warm up (imports, Numba cache loads, a first round)
before the timed rounds; the backends' rounds alternate (serial, process, ray, serial,
...) so that the machine's load falls on all of them alike. "serial" runs its workers
one after another in this process: the 1-core baseline. Each worker uses one thread;
the learner does nothing else.

Workloads: self-play is Connect Four with a small tower (``--az-blocks``,
``--az-channels``), ``parallel_games`` games per worker and playout-cap randomization
as in training; rollouts are FogArena 5v5 against the scripted bots (``num_envs``
arenas per worker: the batch grows with the workers, as in training)::

    python scripts/bench_backends.py                 # full run (a few minutes)
    python scripts/bench_backends.py --quick         # under a minute
    python scripts/bench_backends.py --json          # one JSON object on stdout
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")

import time
import warnings
from dataclasses import dataclass

import tyro
from benchkit import BenchConfig, log, run_sections, summary

BACKENDS = ("serial", "process", "ray")


@dataclass
class Config(BenchConfig):
    """Self-play and rollout throughput of the execution backends."""

    only: tuple[str, ...] = ()
    """Run only these sections: selfplay, rollout (all when empty)."""
    backends: tuple[str, ...] = BACKENDS
    """Backends to measure."""
    workers: tuple[int, ...] = (1, 2)
    """Worker counts to measure."""
    az_blocks: int = 2
    """AlphaZero tower blocks."""
    az_channels: int = 32
    """AlphaZero tower channels."""
    parallel_games: int = 16
    """self-play games per worker."""
    az_steps: int = 20
    """moves per game per timed round."""
    num_envs: int = 16
    """FogArena arenas per rollout worker."""
    num_steps: int = 64
    """rollout steps per arena per timed round."""


_OPEN: dict = {}  # backend name -> backend, kept for the whole run (Ray starts once)


def _backend(name: str, workers: int):
    from selfplay.backends import make_backend

    if name not in _OPEN:
        _OPEN[name] = make_backend(name, workers)
    return _OPEN[name]


def _interleaved(cfg: Config, section: str, make, play, units: dict[str, float]) -> dict:
    """For each worker count: a pool per backend, all warmed up, then timed rounds with
    the backends alternating (A B C A B C ...), so that a change in the machine's load
    falls on all of them. ``play(pool)`` runs one round and returns its counts."""
    out: dict = {}
    for count in cfg.workers:
        pools = {name: make(_backend(name, max(cfg.workers)), count) for name in cfg.backends}
        try:
            for pool in pools.values():
                play(pool)  # warm-up: start-up, Numba loads, first searches
            rates: dict = {name: {k: [] for k in units} for name in pools}
            for _ in range(3 if cfg.quick else cfg.repeats):
                for name, pool in pools.items():
                    t = time.perf_counter()
                    counts = play(pool)
                    dt = time.perf_counter() - t
                    for k, scale in units.items():
                        rates[name][k].append(counts[k] * scale / dt)
        finally:
            for pool in pools.values():
                pool.close()
        for name in pools:
            out.setdefault(name, {})[str(count)] = {k: summary(v) for k, v in rates[name].items()}
            text = "  ".join(f"{summary(v)['median']:>10,.0f} {k}" for k, v in rates[name].items())
            log(cfg, f"{section:8s} {name:8s} {count} worker(s): {text}")
    return out


def bench_selfplay(cfg: Config) -> dict:
    import torch

    from agents.alphazero.config import AlphaZeroConfig, SearchConfig
    from agents.alphazero.network import PolicyValueNet
    from agents.alphazero.worker import SelfPlayWorkers, network_config
    from sim.board import make_game

    steps = max(4, cfg.az_steps // 2) if cfg.quick else cfg.az_steps
    config = AlphaZeroConfig(
        game="connect4", blocks=cfg.az_blocks, channels=cfg.az_channels,
        parallel_games=cfg.parallel_games,
        search=SearchConfig(simulations=32, fast_simulations=8, full_search_prob=0.25),
    )  # fmt: skip
    torch.manual_seed(0)
    net = PolicyValueNet(network_config(config, make_game("connect4")))
    weights = {k: v.detach().clone() for k, v in net.state_dict().items()}

    def play(workers: SelfPlayWorkers) -> dict:
        workers.start(weights, steps)
        _, stats = workers.collect()
        return {"games_per_hour": stats.games, "moves_per_s": stats.moves}

    def make(backend, count: int) -> SelfPlayWorkers:
        return SelfPlayWorkers(config, count, seed=1, backend=backend)

    out = _interleaved(cfg, "selfplay", make, play, {"games_per_hour": 3600, "moves_per_s": 1})
    out["workload"] = (f"connect4 {cfg.az_blocks}x{cfg.az_channels}, {cfg.parallel_games} "
                       f"games/worker, 32/8 sims, {steps} moves/round")  # fmt: skip
    out["ray_overhead"] = _overhead(out, cfg, "games_per_hour")
    return out


def bench_rollout(cfg: Config) -> dict:
    from agents.ppo.config import PPOConfig
    from agents.ppo.network import build_policy
    from agents.ppo.rollout import RolloutWorkers, build_sources
    from selfplay import SnapshotPool

    steps = max(8, cfg.num_steps // 2) if cfg.quick else cfg.num_steps
    config = PPOConfig(env="fogarena", num_envs=cfg.num_envs, num_steps=steps,
                       selfplay=False, threads=1)  # fmt: skip
    _, spec, _ = build_sources(config, lambda rng: "easy", None, 0)
    net = build_policy(spec)
    snapshots = SnapshotPool()

    def play(workers: RolloutWorkers) -> dict:
        _, _, agent_steps = workers.collect(net.state_dict(), snapshots, 0.3)
        return {"agent_steps_per_s": agent_steps}

    def make(backend, count: int) -> RolloutWorkers:
        return RolloutWorkers(config, count, seed=1, backend=backend)

    out = _interleaved(cfg, "rollout", make, play, {"agent_steps_per_s": 1})
    out["workload"] = (f"fogarena 5v5 vs scripted bots, {cfg.num_envs} arenas/worker, "
                       f"{steps} steps/round")  # fmt: skip
    out["ray_overhead"] = _overhead(out, cfg, "agent_steps_per_s")
    return out


def _overhead(out: dict, cfg: Config, key: str) -> dict:
    """Ray's throughput deficit against the process pool per worker count (0.05: 5%)."""
    res = {}
    for count in map(str, cfg.workers):
        try:
            ray = out["ray"][count][key]["median"]
            proc = out["process"][count][key]["median"]
        except KeyError:
            continue
        res[count] = 1.0 - ray / proc
        log(cfg, f"  ray overhead vs process, {count} worker(s): {100 * res[count]:+.1f}%")
    return res


def main(cfg: Config) -> dict:
    warnings.simplefilter("ignore")
    unknown = sorted(set(cfg.backends) - set(BACKENDS))
    if unknown:
        raise SystemExit(f"unknown backend(s) {unknown}; choose from {list(BACKENDS)}")
    versions = {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
    if "ray" in cfg.backends:
        import ray

        versions["ray"] = ray.__version__
    sections = {"selfplay": bench_selfplay, "rollout": bench_rollout}
    try:
        result = run_sections(cfg, sections, threads=1, **versions)
    finally:
        for backend in _OPEN.values():
            backend.close()
    log(cfg, f"load average (1 min) at the start {versions['load_average_1min']:.1f}, "
        f"at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    return result


if __name__ == "__main__":
    main(tyro.cli(Config))

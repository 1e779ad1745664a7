"""PPO training throughput, end to end, beside Stable-Baselines3's PPO.

Agent-steps per second (one agent-step = one hero acting for one tick) of whole PPO
iterations (rollout plus update) on ``simarena/FogArena-v0``, a learner team against
the scripted ``easy`` team, with matching settings on every side: the same env copies,
rollout length, epochs, minibatch size, learning rate, gamma, lambda, clip and
coefficients, the same torch threads (``--threads``: 1, or 2 for both cores). Sides,
alternated A B C A B C in one process after a warm-up (Numba kernels from the cache,
compile time out):

* ``sb3``: SB3 ``PPO("MultiInputPolicy")`` on a ``DummyVecEnv`` of the Gymnasium env
  (its MLP over the flattened observation, no action masks: the env makes a masked
  part a no-op); ``sb3_subproc``: the same on a ``SubprocVecEnv`` (one process per env
  copy: SB3's way to step envs on several cores);
* ``ours_gym``: our PPO on the same Gymnasium env objects (entity encoder, masks);
* ``ours_batched``: our PPO on the same game through the batched Numba core
  (``--env fogarena``), which is how it trains FogArena.

Ratios are ours / SB3, the median of the per-repeat ratios. Run with the other core
idle::

    python scripts/bench_ppo.py              # full run (a few minutes)
    python scripts/bench_ppo.py --quick      # under a minute
    python scripts/bench_ppo.py --json       # one JSON object on stdout
    python scripts/bench_ppo.py --threads 2 --sides sb3 sb3_subproc ours_batched  # 2 cores
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass

import tyro
from benchkit import BenchConfig, log, run_sections, summary


@dataclass
class Config(BenchConfig):
    """PPO training throughput beside SB3 on simarena/FogArena-v0."""

    only: tuple[str, ...] = ()
    """Run only these sections: throughput (all when empty)."""
    team_size: int = 2
    """heroes of the learner team (agent-steps per env step)."""
    num_envs: int = 8
    """env copies."""
    num_steps: int = 128
    """rollout length per env per update."""
    updates: int = 2
    """PPO iterations per timed repeat."""
    sides: tuple[str, ...] = ("sb3", "ours_gym", "ours_batched")
    """which sides to time: sb3, sb3_subproc, ours_gym, ours_batched."""
    threads: int = 1
    """torch threads of every side (2: both cores of this machine)."""


def _settings(cfg: Config) -> dict:
    return dict(lr=3e-4, gamma=0.995, gae_lambda=0.95, clip=0.2, ent=0.01, vf=0.5,
                epochs=4, minibatches=4, grad=0.5)  # fmt: skip


class Ours:
    def __init__(self, cfg: Config, batched: bool, tmp: str) -> None:
        from agents.ppo.config import PPOConfig
        from agents.ppo.train import Trainer

        s = _settings(cfg)
        common = dict(
            num_envs=cfg.num_envs, num_steps=cfg.num_steps, lr=s["lr"], gamma=s["gamma"],
            gae_lambda=s["gae_lambda"], clip_coef=s["clip"], ent_coef=s["ent"],
            vf_coef=s["vf"], update_epochs=s["epochs"], num_minibatches=s["minibatches"],
            max_grad_norm=s["grad"], anneal_lr=False, threads=cfg.threads, eval_every_minutes=0,
            run_dir=tmp, minutes=1e6,
        )  # fmt: skip
        if batched:
            config = PPOConfig(env="fogarena", team_sizes=(cfg.team_size,), selfplay=False,
                               scripted_levels=("easy",), **common)  # fmt: skip
        else:
            config = PPOConfig(env="simarena/FogArena-v0", env_options={
                "team_size": str(cfg.team_size), "opponent": "easy"}, **common)  # fmt: skip
        self.trainer = Trainer(config)

    def run(self, updates: int) -> int:
        before = self.trainer.agent_steps
        for _ in range(updates):
            self.trainer.iterate()
        return self.trainer.agent_steps - before


class SB3:
    def __init__(self, cfg: Config, subproc: bool = False) -> None:
        import gymnasium
        import torch
        from stable_baselines3 import PPO
        from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

        torch.set_num_threads(cfg.threads)
        s = _settings(cfg)
        n = cfg.num_envs

        def make(i):
            def env():
                import envs  # noqa: F401  (registers our ids, in SubprocVecEnv's workers too)

                return gymnasium.make(
                    "simarena/FogArena-v0", team_size=cfg.team_size, opponent="easy"
                )

            return env

        venv = (SubprocVecEnv if subproc else DummyVecEnv)([make(i) for i in range(n)])
        venv.seed(0)
        self.team = cfg.team_size
        self.model = PPO(
            "MultiInputPolicy", venv, n_steps=cfg.num_steps,
            batch_size=n * cfg.num_steps // s["minibatches"], n_epochs=s["epochs"],
            learning_rate=s["lr"], gamma=s["gamma"], gae_lambda=s["gae_lambda"],
            clip_range=s["clip"], ent_coef=s["ent"], vf_coef=s["vf"],
            max_grad_norm=s["grad"], seed=0, device="cpu", verbose=0,
        )  # fmt: skip
        self.per_update = n * cfg.num_steps

    def run(self, updates: int) -> int:
        self.model.learn(total_timesteps=updates * self.per_update, reset_num_timesteps=False)
        return updates * self.per_update * self.team


def bench_throughput(cfg: Config) -> dict:
    import torch

    torch.set_num_threads(cfg.threads)
    tmp = tempfile.mkdtemp(prefix="bench_ppo_")
    makers = {
        "sb3": lambda: SB3(cfg),
        "sb3_subproc": lambda: SB3(cfg, subproc=True),
        "ours_gym": lambda: Ours(cfg, False, f"{tmp}/gym"),
        "ours_batched": lambda: Ours(cfg, True, f"{tmp}/batched"),
    }
    unknown = sorted(set(cfg.sides) - set(makers))
    if unknown:
        raise SystemExit(f"unknown side(s) {unknown}; choose from {list(makers)}")
    sides = {name: makers[name]() for name in cfg.sides}
    for side in sides.values():  # warm-up: kernels, allocations, first update
        side.run(1)
    repeats = 1 if cfg.quick else cfg.repeats
    updates = 1 if cfg.quick else cfg.updates
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for r in range(repeats):
        for name, side in sides.items():
            t = time.perf_counter()
            steps = side.run(updates)
            rates[name].append(steps / (time.perf_counter() - t))
            log(cfg, f"repeat {r}: {name:>13} {rates[name][-1]:>10,.0f} agent-steps/s")
    out = {name: summary(v) for name, v in rates.items()}
    peers = [name for name in rates if name.startswith("sb3")]
    if peers:
        # against SB3's faster vector env in each repeat: the peer at its best
        best = [max(rates[p][r] for p in peers) for r in range(repeats)]
        for name in rates:
            if name not in peers:
                ratios = [a / b for a, b in zip(rates[name], best, strict=True)]
                out[f"ratio_{name}_vs_sb3"] = summary(ratios)
                log(cfg, f"{name} / sb3: {statistics.median(ratios):.2f}x")
    out["settings"] = {
        "env": "simarena/FogArena-v0", "opponent": "easy", "team_size": cfg.team_size,
        "num_envs": cfg.num_envs, "num_steps": cfg.num_steps, "updates_per_repeat": updates,
        **_settings(cfg), "torch_threads": cfg.threads,
    }  # fmt: skip
    return out


def main(cfg: Config) -> dict:
    warnings.simplefilter("ignore")
    import stable_baselines3
    import torch

    versions = {"torch": torch.__version__, "stable_baselines3": stable_baselines3.__version__}
    return run_sections(cfg, {"throughput": bench_throughput}, threads=cfg.threads, **versions)


if __name__ == "__main__":
    main(tyro.cli(Config))

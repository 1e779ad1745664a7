"""The PPO loop: rollouts from every source, GAE, PPO epochs, self-play pool, evaluation.

Each update collects ``num_steps`` steps from every source (FogArena: one batched arena
source per team size; a board game: many games at once; otherwise copies of a
Gymnasium env), computes advantages and runs PPO epochs over all of it. On FogArena and
board games the learner's opponents come from the snapshot pool
(:class:`selfplay.SnapshotPool`: latest policy 80%, past snapshots by quality 20%, or
by PFSP with ``main_sampling="pfsp"`` and for the league's exploiters) and from
scripted bots; a snapshot joins the pool every ``snapshot_every`` updates. Evaluations
play seeded matches against the frozen reference bots (win rate with a Wilson 95%
interval, openskill rating), on a wall-clock schedule that does not count as training
time. Checkpoints are atomic and resume exactly (weights, optimizer, RNGs, pool,
ratings, matches in progress) on CPU with the same ``threads``; Gymnasium envs restart
on resume (they cannot be saved).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.checkpoint import (
    load_module,
    load_optimizer,
    module_tensors,
    optimizer_state,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from agents.ppo import checkpoint as ckpt
from agents.ppo.actor import POLICY, Actor
from agents.ppo.arena import ArenaSource, EpisodeEnd, play_games
from agents.ppo.board import BoardSource, PPOBoardPlayer
from agents.ppo.config import PPOConfig
from agents.ppo.learner import Rollout, UpdateSettings, ppo_update
from agents.ppo.network import ActorCritic, PolicySpec, build_policy
from agents.ppo.rollout import (  # noqa: F401  (parse_options, architecture: re-exported)
    RolloutWorkers,
    architecture,
    build_sources,
    collect_segment,
    parse_options,
    pick_opponent,
)
from agents.runs import open_run
from selfplay import (
    BuiltinPlayer,
    MatchResult,
    RatingTable,
    SnapshotPool,
    match_result,
    play_match,
    reference_table,
)

CACHE_SIZE = 8  # frozen opponent networks kept built


def _initial_weights(path: str, spec: PolicySpec) -> dict[str, torch.Tensor]:
    """The weights of the policy at ``path``, checked against this run's layout and
    network shape (CheckpointError naming the difference)."""
    net, got, _ = ckpt.load_policy(path, expected=spec)
    diff = [f"{k}: {v!r} vs {getattr(spec, k)!r}" for k, v in vars(got).items()
            if k != "extra" and getattr(spec, k) != v]  # fmt: skip
    if diff:
        raise ckpt.CheckpointError(
            f"init_policy {path!r} has another network than this config builds "
            f"(policy file vs config: {', '.join(diff)})"
        )
    return net.state_dict()


def default_run_dir(config: PPOConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    env = config.env.replace("/", "-")
    return Path("runs") / f"ppo-{env}-{stamp}"


class Trainer:
    """One PPO run. ``Trainer(config).run()`` trains from scratch; ``Trainer.resume(path)``
    continues the run saved at ``path`` (a checkpoint file or its run folder)."""

    def __init__(self, config: PPOConfig, run_dir: str | Path | None = None) -> None:
        config.validate()
        self.config = c = config
        self.run_dir = Path(run_dir or c.run_dir or default_run_dir(c))
        # Before any weight is drawn: the orthogonal init's numbers depend on the threads.
        torch.set_num_threads(c.threads)
        torch.manual_seed(c.seed)
        self.rng = np.random.default_rng(c.seed)
        self.pool = SnapshotPool(c.pool_size, c.latest_fraction, c.quality_lr, c.main_sampling)
        self._cache: OrderedDict[int, Actor] = OrderedDict()
        # Weights of snapshots gone from the pool whose games a checkpoint caught mid-play.
        self._retired: dict[int, dict[str, torch.Tensor]] = {}
        self.sources, self.spec, game = build_sources(c, self._pick_opponent, self._policy, c.seed)
        if game is not None:
            self.game = game
        if c.arena and c.mirror_obs:  # in the spec: whoever plays the policy mirrors too
            self.spec = dataclasses.replace(self.spec, extra={**self.spec.extra, "mirror": True})
        self.net = build_policy(self.spec)
        if c.init_policy:
            self.net.load_state_dict(_initial_weights(c.init_policy, self.spec))
        # The anchor is the initial policy, rebuilt the same way on resume.
        self.anchor = None
        if c.anchor_coef > 0:
            self.anchor = copy.deepcopy(self.net).eval().requires_grad_(False)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=c.lr, eps=1e-5, fused=True)
        self.actor = Actor(self.net, "learner")
        self.update = 0
        self.agent_steps = 0
        self.elapsed = 0.0
        self.history: list[dict[str, Any]] = []
        self.ratings: RatingTable | None = None
        self.episodes: dict[str, list[float]] = {}  # opponent -> recent scores
        self.stage = 0  # the current level of the scripted curriculum (level_curriculum)
        self._start: float | None = None
        self.workers: RolloutWorkers | None = None  # rollout workers while run() runs
        # per source: current observation, starts and GRU state
        if c.league and c.selfplay and c.league_from:
            self._join_league(c.league_from)
        if c.league and c.selfplay:
            self.add_snapshot()  # the initial policy: the pool is never empty
        self.current: list[tuple[dict, np.ndarray, torch.Tensor]] = []
        for source in self.sources:
            if isinstance(source, ArenaSource):
                source.team_spirit = self.team_spirit()
            obs, starts = source.reset()
            self.current.append((obs, starts, self.net.initial_state(source.num_agents)))

    # ---- opponents ---------------------------------------------------------------------
    def _pick_opponent(self, rng: np.random.Generator) -> str:
        return pick_opponent(self.config, self.pool, rng, self.stage)

    def _promote(self) -> None:
        """Move the curriculum on while the current level's recent score passes."""
        c = self.config
        levels = c.scripted_pool
        while c.level_curriculum > 0 and self.stage < len(levels) - 1:
            scores = self.episodes.get(levels[self.stage], [])[-c.curriculum_games :]
            if len(scores) < c.curriculum_games or np.mean(scores) < c.level_curriculum:
                return
            self.stage += 1

    def _join_league(self, path: str) -> None:
        """Add the snapshots of another run's pool (their roles kept) as opponents."""
        tensors, meta = ckpt.read(path)
        if "pool" not in meta:
            raise ckpt.CheckpointError(f"{path!r} has no snapshot pool (a policy file?)")
        ckpt.check_layout(PolicySpec.from_json(meta["spec"]), self.spec, repr(str(path)))
        other = SnapshotPool.from_dict(meta["pool"], tensors, "pool")
        if not len(other):
            raise ValueError(f"the snapshot pool of {path!r} is empty")
        for snap in other.snapshots.values():
            self.pool.add(snap.weights, name=f"league/{snap.name}", step=snap.step,
                          role=snap.role, meta={"from": str(path)})  # fmt: skip

    def _policy(self, key: str) -> Actor:
        if key == "latest":
            return self.actor
        sid = int(key)
        if sid in self._cache:
            self._cache.move_to_end(sid)
            return self._cache[sid]
        if sid not in self.pool and sid in self._retired:
            weights = self._retired[sid]
        else:
            weights = self.pool[sid].weights  # a KeyError naming the pool's ids if absent
        net = copy.deepcopy(self.net)  # not build_policy: that would draw from torch's RNG
        net.load_state_dict(weights)
        actor = Actor(net.eval(), f"snapshot-{sid}")
        self._cache[sid] = actor
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return actor

    def _held_outside_pool(self) -> dict[int, Actor]:
        """The snapshots that games in progress still play but the pool has dropped."""
        held = [s.held.actors for s in self.sources if isinstance(s, ArenaSource | BoardSource)]
        return {
            int(key): actor
            for actors in held
            for key, actor in actors.items()
            if key != "latest" and int(key) not in self.pool
        }

    def add_snapshot(self) -> None:
        weights = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        self.pool.add(weights, name=f"step-{self.agent_steps}", step=self.agent_steps,
                      role=self.config.league_role)  # fmt: skip

    # ---- schedules ---------------------------------------------------------------------
    def progress(self) -> float:
        c = self.config
        if c.total_steps:
            return min(1.0, self.agent_steps / c.total_steps)
        return min(1.0, self.elapsed_seconds() / max(c.minutes * 60, 1e-9))

    def team_spirit(self) -> float:
        c = self.config
        if c.team_spirit_end < 0:
            return c.team_spirit
        return c.team_spirit + (c.team_spirit_end - c.team_spirit) * self.progress()

    def elapsed_seconds(self) -> float:
        running = 0.0 if self._start is None else time.perf_counter() - self._start
        return self.elapsed + running

    def _done(self) -> bool:
        c = self.config
        if c.max_updates and self.update >= c.max_updates:
            return True
        if c.total_steps and self.agent_steps >= c.total_steps:
            return True
        return self.elapsed_seconds() >= c.minutes * 60

    # ---- one update --------------------------------------------------------------------
    def collect(self, i: int) -> tuple[Rollout, list[EpisodeEnd]]:
        """``num_steps`` steps of source ``i`` with the current policy."""
        source = self.sources[i]
        rollout, ends, self.current[i] = collect_segment(
            self.actor, self.net, source, self.current[i], self.config
        )
        self.agent_steps += self.config.num_steps * source.num_agents
        return rollout, ends

    def _settings(self) -> UpdateSettings:
        c = self.config
        frac = 1.0 - self.progress()
        return UpdateSettings(
            clip=c.clip_coef * frac if c.anneal_clip else c.clip_coef,
            vf_coef=c.vf_coef, ent_coef=c.ent_coef, clip_vloss=c.clip_vloss,
            norm_adv=c.norm_adv, max_grad_norm=c.max_grad_norm, epochs=c.update_epochs,
            minibatches=c.num_minibatches, target_kl=c.target_kl, anchor_coef=c.anchor_coef,
            value_only=self.update < c.critic_warmup_updates,
        )  # fmt: skip

    def iterate(self) -> dict[str, Any]:
        c = self.config
        t0 = time.perf_counter()
        tau = self.team_spirit()
        for source in self.sources:
            if isinstance(source, ArenaSource):
                source.team_spirit = tau
        steps_before = self.agent_steps
        rollouts, ends = [], []
        if self.workers is not None:  # the workers step their own copies of the sources
            rollouts, ends, steps = self.workers.collect(
                self.net.state_dict(), self.pool, tau, self.stage
            )
            self.agent_steps += steps
        else:
            for i in range(len(self.sources)):
                r, e = self.collect(i)
                rollouts.append(r)
                ends.extend(e)
        t1 = time.perf_counter()
        if not rollouts:
            raise RuntimeError("ppo: every rollout worker was lost in this update")
        lr = c.lr * (1.0 - self.progress()) if c.anneal_lr else c.lr
        for group in self.optimizer.param_groups:
            group["lr"] = max(lr, 1e-8)
        settings = self._settings()
        metrics = ppo_update(self.net, self.optimizer, rollouts, settings, self.anchor)
        t2 = time.perf_counter()
        for end in ends:
            if end.opponent.startswith(POLICY) and end.opponent != "policy:latest":
                self.pool.report(int(end.opponent.split(":")[1]), end.score, c.league_role)
            self.episodes.setdefault(end.opponent if ":" not in end.opponent or
                                     end.opponent == "policy:latest" else "policy:past", []
                                     ).append(end.score)  # fmt: skip
        self._promote()
        self.update += 1
        if c.league and c.selfplay and self.update % c.snapshot_every == 0:
            self.add_snapshot()
        steps = self.agent_steps - steps_before
        metrics.update(
            lr=lr, clip=settings.clip, team_spirit=tau,
            agent_steps_per_s=steps / max(t2 - t0, 1e-9),
            rollout_steps_per_s=steps / max(t1 - t0, 1e-9),
            episodes=len(ends),
        )  # fmt: skip
        if ends:
            metrics["episode_return"] = float(np.mean([e.ret for e in ends]))
            metrics["episode_length"] = float(np.mean([e.length for e in ends]))
        return metrics

    # ---- the loop ----------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Train until the budget is spent; the final summary (also in summary.json)."""
        c = self.config
        torch.set_num_threads(c.threads)
        writer = open_run(self.run_dir, "ppo", c.to_json())
        self._start = time.perf_counter()
        last_save = self.elapsed_seconds()
        evaluating = c.league and c.eval_every_minutes > 0 and c.eval_games > 0
        last_eval = -np.inf if not self.history else self.elapsed_seconds()
        total = c.total_steps or None
        bar = tqdm(total=total, unit="step", desc="ppo", leave=False, initial=self.agent_steps)
        try:
            if c.rollout_workers:
                # Fresh worker seeds per session: a resumed run does not replay the same envs.
                seed = int(np.random.SeedSequence([c.seed, self.update]).generate_state(1)[0])
                self.workers = RolloutWorkers(c, c.rollout_workers, seed)
            while not self._done():
                if evaluating and self.elapsed_seconds() - last_eval >= c.eval_every_minutes * 60:
                    self.evaluate(writer)
                    last_eval = self.elapsed_seconds()
                before = self.agent_steps
                metrics = self.iterate()
                self._log(writer, metrics)
                bar.update(self.agent_steps - before)
                bar.set_postfix(self._postfix(metrics), refresh=False)
                if self.elapsed_seconds() - last_save >= c.checkpoint_every_minutes * 60:
                    self.save()
                    last_save = self.elapsed_seconds()
            if evaluating and (not self.history or self.history[-1]["update"] != self.update):
                self.evaluate(writer)
        except KeyboardInterrupt:
            print(f"\nppo: interrupted; saving {self.save()}")
            raise
        finally:
            bar.close()
            writer.close()
            if self.workers is not None:
                self.workers.close()
                self.workers = None
        path = self.save()
        summary = self.summary()
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"ppo: checkpoint {path}")
        return summary

    def _log(self, writer: SummaryWriter, metrics: dict[str, Any]) -> None:
        step = self.agent_steps
        for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac",
                    "explained_variance", "grad_norm", "lr", "clip"):  # fmt: skip
            writer.add_scalar(f"train/{key}", metrics[key], step)
        writer.add_scalar("train/team_spirit", metrics["team_spirit"], step)
        if self.config.level_curriculum > 0:
            writer.add_scalar("train/curriculum_stage", self.stage, step)
        writer.add_scalar("perf/agent_steps_per_s", metrics["agent_steps_per_s"], step)
        writer.add_scalar("perf/rollout_agent_steps_per_s", metrics["rollout_steps_per_s"], step)
        if "episode_return" in metrics:
            writer.add_scalar("rollout/episode_return", metrics["episode_return"], step)
            writer.add_scalar("rollout/episode_length", metrics["episode_length"], step)
        for opponent, scores in self.episodes.items():
            if scores:
                name = opponent.replace("policy:", "selfplay_")
                writer.add_scalar(f"rollout/score_vs/{name}", float(np.mean(scores[-100:])), step)
        if len(self.pool):
            q = [s.quality for s in self.pool.snapshots.values()]
            writer.add_scalar("pool/size", len(self.pool), step)
            writer.add_scalar("pool/quality_min", min(q), step)
        writer.add_scalar("time/minutes", self.elapsed_seconds() / 60, step)

    def _postfix(self, metrics: dict[str, Any]) -> dict[str, Any]:
        post = {
            "upd": self.update,
            **({"stage": self.stage} if self.config.level_curriculum > 0 else {}),
            "sps": round(metrics["agent_steps_per_s"]),
            "ent": round(metrics["entropy"], 2),
        }
        if "episode_return" in metrics:
            post["ret"] = round(metrics["episode_return"], 2)
        for opponent, scores in self.episodes.items():
            if scores and ":" not in opponent:
                post[opponent] = round(float(np.mean(scores[-50:])), 2)
        return post

    # ---- evaluation --------------------------------------------------------------------
    def frozen_actor(self, name: str) -> Actor:
        gen = torch.Generator().manual_seed(self.config.seed + 7)
        return Actor(copy.deepcopy(self.net).eval(), name, generator=gen)

    def calibrate(self) -> RatingTable:
        """The frozen reference pool: scripted levels rated against each other."""
        c = self.config
        levels = list(c.eval_pool)
        results = []
        for i, a in enumerate(levels):
            for b in levels[i + 1 :]:
                results.append(self._match(a, b, c.calibration_games, c.seed + 99))
        return reference_table(levels, results)

    def _match(self, a: Actor | str, b: str, games: int, seed: int) -> MatchResult:
        """Seeded games of ``a`` (a policy or a reference) against reference ``b``."""
        c = self.config
        name_a = a if isinstance(a, str) else a.name
        if c.board:
            pa = BuiltinPlayer(a, self.game) if isinstance(a, str) else PPOBoardPlayer(
                self.game, a.net, a.name)  # fmt: skip
            return play_match(self.game, pa, BuiltinPlayer(b, self.game), games, seed)
        w, seats = play_games(a, b, games, seed, c.team_sizes[0], **self._arena())
        return match_result(name_a, b, w, seats, seed)

    def _arena(self) -> dict[str, Any]:
        c = self.config
        return dict(time_limit=c.time_limit, map_size=c.map_size, fog=c.fog, memory=c.memory,
                    creeps=c.creeps)  # fmt: skip

    def evaluate(self, writer: SummaryWriter | None = None) -> dict[str, Any]:
        """Seeded matches of the current policy against each reference level (first
        team size), a rating, the network saved under networks/; appended to history."""
        c = self.config
        t0 = time.perf_counter()
        if self.ratings is None:
            self.ratings = self.calibrate()
        name = f"step-{self.agent_steps}"
        actor = self.frozen_actor(name)
        out: dict[str, Any] = {"name": name, "update": self.update, "agent_steps": self.agent_steps}
        out["matches"] = {}
        for level in c.eval_pool:
            result = self._match(actor, level, c.eval_games, c.seed + 10_000)
            out["matches"][level] = result.summary()
            self.ratings.record_match(result)
        r = self.ratings.rating(name)
        out["rating"] = {"mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal}
        if self._start is not None:  # evaluation is not training time
            self._start += time.perf_counter() - t0
        out["minutes"] = self.elapsed_seconds() / 60
        self.history.append(out)
        save_policy(self.run_dir / "networks" / f"{name}.safetensors", actor.net, self.spec, c,
                    {"evaluation": out})  # fmt: skip
        if writer is not None:
            step = self.agent_steps
            for level, m in out["matches"].items():
                writer.add_scalar(f"eval/win_rate/{level}", m["score"], step)
                writer.add_scalar(f"eval/wilson_low/{level}", m["interval"][0], step)
            writer.add_scalar("eval/rating_ordinal", r.ordinal, step)
            writer.add_scalar("eval/rating_mu", r.mu, step)
        return out

    # ---- checkpoints -------------------------------------------------------------------
    def save(self, path: Path | None = None) -> Path:
        """Write the whole run state atomically."""
        tensors = module_tensors("net", self.net)
        optim_tensors, optim_meta = optimizer_state("optim", self.optimizer)
        rng_tensors, rng_meta = rng_state(self.rng)
        tensors.update(optim_tensors, **rng_tensors)
        tensors.update(self.pool.weights("pool"))
        retired = self._held_outside_pool()
        for sid, actor in retired.items():
            tensors.update(module_tensors(f"retired/{sid}", actor.net))
        sources = []
        for i, source in enumerate(self.sources):
            obs, starts, state = self.current[i]
            tensors[f"src{i}/starts"] = torch.from_numpy(starts.copy())
            tensors[f"src{i}/state"] = state.clone()
            if isinstance(source, ArenaSource | BoardSource):
                t, m = source.state_dict(f"src{i}")
                tensors.update(t)
                sources.append(m)
            else:
                sources.append(None)
        meta: dict[str, Any] = {
            "agent": ckpt.AGENT,
            "env": self.config.env,
            "spec": self.spec.to_json(),
            "config": self.config.to_json(),
            "optimizer": optim_meta,
            "rng": rng_meta,
            "pool": self.pool.to_dict(),
            "retired": sorted(retired),
            "ratings": self.ratings.to_dict() if self.ratings else None,
            "history": self.history,
            "episodes": {k: v[-100:] for k, v in self.episodes.items()},
            "sources": sources,
            "counters": {
                "update": self.update,
                "agent_steps": self.agent_steps,
                "elapsed": self.elapsed_seconds(),
                "stage": self.stage,
            },
        }
        return save_checkpoint(path or self.run_dir / ckpt.CHECKPOINT, tensors, meta)

    @classmethod
    def resume(cls, path: str | Path, **overrides: Any) -> Trainer:
        """The run saved at ``path``; ``overrides`` replace config fields (the budget,
        evaluation and checkpoint settings, threads)."""
        path = ckpt.resolve(path)
        tensors, meta = ckpt.read(path)
        if "optimizer" not in meta:
            raise ckpt.CheckpointError(f"{str(path)!r} is a policy file, not a run checkpoint")
        config = PPOConfig.from_json({**meta["config"], **overrides})
        trainer = cls(config, run_dir=path.parent)
        ckpt.check_layout(PolicySpec.from_json(meta["spec"]), trainer.spec, repr(str(path)))
        load_module("net", trainer.net, tensors)
        load_optimizer("optim", trainer.optimizer, tensors, meta["optimizer"])
        restore_rng(tensors, meta["rng"], trainer.rng)
        trainer.pool = SnapshotPool.from_dict(meta["pool"], tensors, "pool")
        trainer.pool.main_sampling = config.main_sampling  # an override takes effect
        trainer._cache.clear()
        for sid in meta.get("retired", []):
            head = f"retired/{sid}/"
            trainer._retired[sid] = {
                k[len(head) :]: v for k, v in tensors.items() if k.startswith(head)
            }
        if meta.get("ratings"):
            trainer.ratings = RatingTable.from_dict(meta["ratings"])
        trainer.history = meta["history"]
        trainer.episodes = {k: list(v) for k, v in meta.get("episodes", {}).items()}
        counters = meta["counters"]
        trainer.update = counters["update"]
        trainer.agent_steps = counters["agent_steps"]
        trainer.elapsed = counters["elapsed"]
        trainer.stage = counters.get("stage", 0)
        for i, (source, smeta) in enumerate(zip(trainer.sources, meta["sources"], strict=True)):
            starts = tensors[f"src{i}/starts"].numpy().copy()
            state = tensors[f"src{i}/state"].clone()
            if isinstance(source, ArenaSource | BoardSource) and smeta is not None:
                source.load_state_dict(f"src{i}", tensors, smeta)
                obs = source.observe()
            else:  # Gymnasium envs cannot be saved: they restart
                obs, starts = source.reset()
                state = trainer.net.initial_state(source.num_agents)
            trainer.current[i] = (obs, starts, state)
        return trainer

    def summary(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "env": self.config.env,
            "updates": self.update,
            "agent_steps": self.agent_steps,
            "minutes": self.elapsed_seconds() / 60,
            "pool": len(self.pool),
            "history": self.history,
        }


def save_policy(
    path: str | Path, net: ActorCritic, spec: PolicySpec, config: PPOConfig, extra: dict
) -> Path:
    """A policy-only checkpoint (what evaluation and opponents load)."""
    meta = {"agent": ckpt.AGENT, "env": config.env, "spec": spec.to_json(),
            "config": config.to_json(), **extra}  # fmt: skip
    return save_checkpoint(path, module_tensors("net", net), meta)

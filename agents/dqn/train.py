"""The DQN training loop: vector-env collection into the frame replay, gradient steps,
target copies, periodic evaluation, TensorBoard, and exactly resumable checkpoints."""

from __future__ import annotations

import copy
import json
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_module,
    load_optimizer,
    module_tensors,
    optimizer_state,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from agents.dqn.config import DQNConfig, from_dict, resolve, to_dict
from agents.dqn.evaluation import evaluate
from agents.dqn.learner import Learner
from agents.dqn.network import QNetwork
from agents.dqn.replay import FrameReplay
from envs.atari import make_atari
from envs.atari.minatar import MinAtarVectorEnv

CHECKPOINT = "checkpoint.safetensors"
REPLAY = "replay.safetensors"
KIND = "dqn"


def default_run_dir(env: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", env).strip("-")
    return Path("runs") / f"dqn-{slug}-{time.strftime('%Y%m%d-%H%M%S')}"


class Trainer:
    """One DQN run. ``run()`` trains until ``total_steps`` (or ``minutes``) and returns a
    summary; :meth:`save` / :meth:`resume` continue it exactly on CPU."""

    def __init__(self, config: DQNConfig, run_dir: str | Path | None = None):
        c = resolve(config)
        self.config = c
        self.device = torch.device(c.device)
        torch.set_num_threads(c.threads)
        torch.manual_seed(c.seed)
        self.rng = np.random.default_rng(c.seed)
        self.envs = make_atari(c.env, c.protocol, training=True, num_envs=c.num_envs)
        self.protocol = self.envs.metadata["protocol"]
        space = self.envs.single_observation_space
        self.obs_shape = tuple(space.shape)
        self.num_actions = int(self.envs.single_action_space.n)
        scale = float(np.max(space.high))
        self.q = QNetwork(self.obs_shape, self.num_actions, c.network, c.dueling, scale)
        self.q.to(self.device)
        self.target = copy.deepcopy(self.q)
        self.target.requires_grad_(False)
        # fused: one kernel per step instead of ~10 small ops per parameter (CPU and CUDA).
        self.opt = torch.optim.Adam(self.q.parameters(), lr=c.lr, eps=c.adam_eps, fused=True)
        self.learner = Learner(self.q, self.target, self.opt, c.double, c.max_grad_norm)
        self.replay = FrameReplay(
            c.buffer_size,
            self.obs_shape,
            self.protocol["stack"],
            c.num_envs,
            c.n_step,
            c.gamma,
            c.prioritized,
            c.per_alpha,
        )
        self._batch = self.replay.batch_buffers(c.batch_size)
        self._batch_tensors = {
            k: torch.from_numpy(getattr(self._batch, k))
            for k in ("obs", "actions", "returns", "discounts", "next_obs", "weights")
        }
        self.run_dir = (
            Path(run_dir) if run_dir is not None else Path(c.run_dir or default_run_dir(c.env))
        )
        E = c.num_envs
        self.step = 0  # agent steps (transitions stored)
        self.updates = 0
        self.episodes = 0
        self.credit = 0  # agent steps not yet paid for by a gradient step
        self.next_target = c.target_update
        self.next_eval = c.eval_every or 0
        self.next_checkpoint = c.checkpoint_every
        self.learn_from = c.learning_starts  # raised on a resume without replay
        self.started = False
        self.obs = np.zeros((E, *self.obs_shape), np.uint8)
        self.pending = np.zeros(E, np.bool_)  # the next env step is that env's autoreset
        self._env_ids = np.arange(E)
        self.lives = np.zeros(E, np.int64)
        self.ep_return = np.zeros(E, np.float64)
        self.ep_length = np.zeros(E, np.int64)
        self.history: list[dict[str, Any]] = []
        self.recent: list[float] = []
        self.writer = None

    # ---- acting and learning -----------------------------------------------------------
    def epsilon(self) -> float:
        c = self.config
        frac = min(1.0, self.step / c.exploration_steps) if c.exploration_steps else 1.0
        return c.eps_start + frac * (c.eps_end - c.eps_start)

    def act(self, obs: np.ndarray) -> np.ndarray:
        E = len(obs)
        explore = self.rng.random(E) < self.epsilon()
        random_actions = self.rng.integers(self.num_actions, size=E)
        if explore.all():
            return random_actions
        with torch.inference_mode():
            greedy = self.learner.online(torch.from_numpy(obs).to(self.device)).argmax(1)
        return np.where(explore, random_actions, greedy.cpu().numpy())

    def update(self) -> None:
        c = self.config
        beta = c.per_beta + (1.0 - c.per_beta) * min(1.0, self.step / c.total_steps)
        b = self.replay.sample(c.batch_size, self.rng, beta, out=self._batch)
        t = self._batch_tensors  # views of the arrays just filled (on CPU: no copies)
        if self.device.type != "cpu":
            t = {k: v.to(self.device, non_blocking=True) for k, v in t.items()}
        with torch.no_grad():
            td = self.learner.step(
                t["obs"],
                t["actions"],
                t["returns"],
                t["discounts"],
                t["next_obs"],
                t["weights"] if c.prioritized else None,
            )
        if c.prioritized:
            self.replay.update_priorities(b.index, td.abs().cpu().numpy())
        self.updates += 1

    def collect(self) -> None:
        """One step of every env, written to the replay."""
        if not self.started:
            obs, info = self.envs.reset(seed=self.config.seed)
            self.obs[...] = obs
            self.replay.start(np.arange(len(obs)), obs)
            self.lives[...] = info.get("lives", 0)
            self.started = True
        actions = self.act(self.obs)
        obs, reward, terminated, truncated, info = self.envs.step(actions)
        lives = info.get("lives")
        ended = terminated | truncated
        pending = self.pending
        if pending.any():
            real = ~pending
            done = ended & real
        else:  # the usual step: every env made a transition (fewer small array ops)
            real, done = None, ended
        if self.protocol["life_loss"]:
            life = ~done & (lives < self.lives)
            if real is not None:
                life &= real
            term, stop = terminated | life, done | life
        else:
            term, stop = terminated, done
        if real is None:
            self.replay.add(self._env_ids, actions, reward, obs, term, stop)
            self.ep_return += reward
            self.ep_length += 1
            n = len(obs)
        else:
            idx = np.flatnonzero(real)
            self.replay.add(idx, actions[idx], reward[idx], obs[idx], term[idx], stop[idx])
            self.ep_return[idx] += reward[idx]
            self.ep_length[idx] += 1
            restarted = np.flatnonzero(pending)
            self.replay.start(restarted, obs[restarted])
            n = len(idx)
        if done.any():
            for i in np.flatnonzero(done):
                raw = self.ep_return[i]
                if "episode" in info and info.get("_episode", np.ones(len(obs), bool))[i]:
                    raw = float(info["episode"]["r"][i])  # unclipped (RecordEpisodeStatistics)
                self._log_episode(float(raw), int(self.ep_length[i]))
                self.ep_return[i] = 0.0
                self.ep_length[i] = 0
            self.replay.end_episode(np.flatnonzero(done))
        self.pending = done
        self.obs[...] = obs
        if lives is not None:
            self.lives[...] = lives
        self.step += n
        if self.step >= self.learn_from:
            self.credit += n
            while self.credit >= self.config.train_freq:
                self.update()
                self.credit -= self.config.train_freq
        while self.step >= self.next_target:
            self.target.load_state_dict(self.q.state_dict())
            self.next_target += self.config.target_update

    def _log_episode(self, ret: float, length: int) -> None:
        self.episodes += 1
        self.recent = (self.recent + [ret])[-100:]
        if self.writer is not None:
            self.writer.add_scalar("train/episode_return", ret, self.step)
            self.writer.add_scalar("train/episode_length", length, self.step)

    # ---- the run -----------------------------------------------------------------------
    def evaluate(self, episodes: int | None = None) -> dict[str, Any]:
        c = self.config
        result = evaluate(
            self.q,
            c.env,
            self.protocol["name"],
            c.eval_episodes if episodes is None else episodes,
            seed=c.seed + 1_000_003 + self.step,
            device=c.device,
        )
        result.update(step=self.step, frames=self.frames(), updates=self.updates)
        self.history.append(result)
        with open(self.run_dir / "eval.jsonl", "a") as f:
            f.write(json.dumps(result) + "\n")
        if self.writer is not None:
            self.writer.add_scalar("eval/mean_return", result["mean"], self.step)
        return result

    def frames(self) -> int:
        return self.step * int(self.protocol.get("frame_skip", 1))

    def run(self, stop_at: int | None = None) -> dict[str, Any]:
        """Train to ``total_steps`` (or ``stop_at`` agent steps, or the wall budget)."""
        from torch.utils.tensorboard import SummaryWriter
        from tqdm import tqdm

        c = self.config
        goal = c.total_steps if stop_at is None else min(stop_at, c.total_steps)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        print(f"dqn: writing to {self.run_dir} (protocol {self.protocol['name']})")
        self.writer = SummaryWriter(str(self.run_dir / "tb"), purge_step=self.step or None)
        start, start_step = time.monotonic(), self.step
        bar = tqdm(
            total=goal, initial=self.step, disable=not c.progress, unit="step", smoothing=0.05
        )
        last_log = self.step
        try:
            while self.step < goal:
                if c.minutes and time.monotonic() - start > 60 * c.minutes:
                    break
                before = self.step
                self.collect()
                bar.update(self.step - before)
                if self.step - last_log >= 1000:
                    last_log = self.step
                    rate = (self.step - start_step) / max(1e-9, time.monotonic() - start)
                    self.writer.add_scalar("train/epsilon", self.epsilon(), self.step)
                    self.writer.add_scalar("train/steps_per_s", rate, self.step)
                    if self.updates:
                        self.writer.add_scalar("train/loss", float(self.learner.loss()), self.step)
                    if self.recent:
                        bar.set_postfix(
                            ret=f"{np.mean(self.recent):.2f}", eps=f"{self.epsilon():.3f}"
                        )
                if c.eval_every and self.step >= self.next_eval:
                    self.next_eval += c.eval_every
                    if self.step < c.total_steps:  # the final one follows the loop
                        self.evaluate()
                if self.step >= self.next_checkpoint:
                    self.next_checkpoint += c.checkpoint_every
                    self.save()
        finally:
            bar.close()
        self.save()
        elapsed = time.monotonic() - start
        # The run's last evaluation: at its end, and where the wall budget stopped it
        # (scores after N minutes of training; a resumed run goes on from there).
        out_of_time = bool(c.minutes) and self.step < goal
        if c.eval_episodes and (self.step >= c.total_steps or out_of_time):
            self.evaluate()
        summary = {
            "run_dir": str(self.run_dir),
            "env": c.env,
            "protocol": self.protocol["name"],
            "steps": self.step,
            "frames": self.frames(),
            "updates": self.updates,
            "episodes": self.episodes,
            "steps_per_s": (self.step - start_step) / max(elapsed, 1e-9),
            "recent_return": float(np.mean(self.recent)) if self.recent else None,
            "eval": self.history[-1] if self.history else None,
        }
        with open(self.run_dir / "summary.json", "w") as f:
            json.dump(summary, f, indent=1)
        self.writer.close()
        self.writer = None
        print(f"dqn: wrote {self.run_dir / CHECKPOINT} and {self.run_dir / 'summary.json'}")
        return summary

    # ---- checkpoints -------------------------------------------------------------------
    def _env_state(self) -> list[dict[str, Any]] | None:
        """Exact state of the envs where they allow it (MinAtar, either vector env)."""
        import gymnasium

        envs = self.envs
        if isinstance(envs, MinAtarVectorEnv):
            return envs.get_state()
        if not isinstance(envs, gymnasium.vector.SyncVectorEnv):
            return None
        states = []
        for env in envs.envs:
            base = env.unwrapped
            if not hasattr(base, "get_state"):
                return None
            states.append(
                {"env": base.get_state(), "elapsed": int(getattr(env, "_elapsed_steps", 0) or 0)}
            )
        return states

    def _set_env_state(self, states: list[dict[str, Any]], pending: list[bool]) -> None:
        if isinstance(self.envs, MinAtarVectorEnv):
            self.envs.set_state(states, pending)
            return
        for env, s in zip(self.envs.envs, states, strict=True):
            env.unwrapped.set_state(s["env"])
            env._elapsed_steps = s["elapsed"]
        self.envs._autoreset_envs = np.array(pending, np.bool_)

    def save(self) -> Path:
        """Write the checkpoint (and with ``save_replay`` the replay first) atomically."""
        c = self.config
        self.run_dir.mkdir(parents=True, exist_ok=True)
        replay_file = None
        if c.save_replay:
            arrays, rmeta = self.replay.state()
            tensors = {
                f"replay/{k}": torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()
            }
            save_checkpoint(
                self.run_dir / REPLAY,
                tensors,
                {"kind": "dqn-replay", "replay": rmeta, "step": self.step},
            )
            replay_file = REPLAY
        tensors = module_tensors("q", self.q) | module_tensors("target", self.target)
        opt_tensors, opt_meta = optimizer_state("opt", self.opt)
        rng_tensors, rng_meta = rng_state(self.rng)
        tensors |= opt_tensors | rng_tensors
        tensors["collector/obs"] = torch.from_numpy(self.obs.copy())
        tensors["collector/ep_return"] = torch.from_numpy(self.ep_return.copy())
        tensors["collector/ep_length"] = torch.from_numpy(self.ep_length.copy())
        tensors["collector/lives"] = torch.from_numpy(self.lives.copy())
        meta = {
            "kind": KIND,
            "config": to_dict(c),
            "obs_shape": list(self.obs_shape),
            "num_actions": self.num_actions,
            "protocol": self.protocol,
            "counters": {
                "step": self.step,
                "updates": self.updates,
                "episodes": self.episodes,
                "credit": self.credit,
                "next_target": self.next_target,
                "next_eval": self.next_eval,
                "next_checkpoint": self.next_checkpoint,
                "learn_from": self.learn_from,
                "epsilon": self.epsilon(),
            },
            "started": self.started,
            "pending": self.pending.tolist(),
            "env_state": self._env_state() if self.started else None,
            "recent": self.recent,
            "optimizer": opt_meta,
            "rng": rng_meta,
            "replay_file": replay_file,
        }
        return save_checkpoint(self.run_dir / CHECKPOINT, tensors, meta)

    @classmethod
    def resume(cls, path: str | Path, **overrides: Any) -> Trainer:
        """The run saved at ``path`` (a checkpoint file or its run folder); ``overrides``
        replace config fields (budget, evaluation, checkpointing, progress)."""
        path = Path(path)
        file = path / CHECKPOINT if path.is_dir() else path
        tensors, meta = load_checkpoint(file)
        if meta.get("kind") != KIND:
            raise CheckpointError(f"{str(file)!r} is a {meta.get('kind')!r} checkpoint, not dqn")
        config = replace(from_dict(meta["config"]), **overrides)
        trainer = cls(config, run_dir=file.parent)
        trainer.check_fits(meta)
        load_module("q", trainer.q, tensors)
        load_module("target", trainer.target, tensors)
        load_optimizer("opt", trainer.opt, tensors, meta["optimizer"])
        restore_rng(tensors, meta["rng"], trainer.rng)
        k = meta["counters"]
        trainer.step, trainer.updates, trainer.episodes = k["step"], k["updates"], k["episodes"]
        trainer.credit, trainer.next_target = k["credit"], k["next_target"]
        trainer.next_eval, trainer.next_checkpoint = k["next_eval"], k["next_checkpoint"]
        trainer.learn_from = k["learn_from"]
        trainer.recent = list(meta["recent"])
        replay_ok = False
        if meta.get("replay_file"):
            rt, rmeta = load_checkpoint(file.parent / meta["replay_file"])
            if rmeta.get("step") == trainer.step:
                arrays = {n[len("replay/") :]: v.numpy() for n, v in rt.items()}
                trainer.replay.load_state(arrays, rmeta["replay"])
                replay_ok = True
            else:
                print(
                    f"dqn: {meta['replay_file']} is from step {rmeta.get('step')}, not "
                    f"{trainer.step}: starting with an empty replay"
                )
        if meta["started"] and meta["env_state"] is not None and replay_ok:
            trainer._set_env_state(meta["env_state"], meta["pending"])
            trainer.started = True
            trainer.obs[...] = tensors["collector/obs"].numpy()
            trainer.ep_return[...] = tensors["collector/ep_return"].numpy()
            trainer.ep_length[...] = tensors["collector/ep_length"].numpy()
            trainer.lives[...] = tensors["collector/lives"].numpy()
            trainer.pending[...] = meta["pending"]
        else:
            # Fresh episodes (an env whose state cannot be saved, or no replay to append
            # them to): the resumed run is a faithful continuation, not a bit-exact one.
            if not replay_ok:
                trainer.learn_from = trainer.step + trainer.config.learning_starts
            trainer.envs.reset(seed=trainer.config.seed + trainer.step)
            trainer.started = False
            trainer.config = replace(trainer.config, seed=trainer.config.seed + trainer.step)
        return trainer

    def check_fits(self, meta: dict[str, Any]) -> None:
        """CheckpointError unless the saved run's observation shape and action count match."""
        saved_shape, saved_n = tuple(meta["obs_shape"]), meta["num_actions"]
        if saved_shape != self.obs_shape or saved_n != self.num_actions:
            raise CheckpointError(
                f"the checkpoint is for observations {saved_shape} with {saved_n} actions, but "
                f"{self.config.env} ({self.protocol['name']}) has observations {self.obs_shape} "
                f"with {self.num_actions} actions"
            )


def load_q_network(path: str | Path, env: str | None = None, protocol: str | None = None):
    """The online Q-network of a checkpoint (for watching or evaluating), checked against
    ``env`` when given; returns (network, checkpoint metadata)."""
    path = Path(path)
    file = path / CHECKPOINT if path.is_dir() else path
    tensors, meta = load_checkpoint(file)
    if meta.get("kind") != KIND:
        raise CheckpointError(f"{str(file)!r} is a {meta.get('kind')!r} checkpoint, not dqn")
    c = resolve(from_dict(meta["config"]))
    obs_shape, n = tuple(meta["obs_shape"]), meta["num_actions"]
    if env is not None:
        e = make_atari(env, protocol or meta["protocol"]["name"])
        if tuple(e.observation_space.shape) != obs_shape or e.action_space.n != n:
            raise CheckpointError(
                f"the checkpoint is for observations {obs_shape} with {n} actions, but {env} "
                f"has observations {tuple(e.observation_space.shape)} with {e.action_space.n}"
            )
    scale = 255.0 if c.network == "nature" else 1.0
    q = QNetwork(obs_shape, n, c.network, c.dueling, scale)
    load_module("q", q, tensors)
    return q, meta

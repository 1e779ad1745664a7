"""Rollout collection: the sources of a run, one segment of steps, and rollout workers.

:func:`build_sources` makes a run's sources (FogArena arenas per team size, a board
game's games, or Gymnasium env copies); :func:`collect_segment` steps one source
``num_steps`` times with a policy and returns the :class:`Rollout` with its advantages.
The trainer uses both in its own process (``rollout_workers = 0``).

With ``rollout_workers = N`` the stepping moves to N :class:`RolloutWorker` s on an
execution backend (:mod:`selfplay.backends`: processes, Ray actors, or in-process for
debugging). Each worker holds its own copy of every source (``num_envs`` envs per
source: the batch grows with the workers, as RLlib's env runners do), a copy of the
policy and a mirror of the snapshot pool; :class:`RolloutWorkers` broadcasts the
weights once per update and the pool when it changes, and gathers the segments in
worker order, so that a run is the same on every backend. A worker that dies is
restarted (fresh envs); its segment is lost for that update, never half used.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from agents.ppo.actor import Actor, to_tensors
from agents.ppo.arena import ArenaSource, EpisodeEnd
from agents.ppo.board import BoardSource, board_game
from agents.ppo.config import PPOConfig
from agents.ppo.gym_source import GymSource
from agents.ppo.learner import Rollout
from agents.ppo.network import ActorCritic, PolicySpec, build_policy
from selfplay import LATEST, SnapshotPool

Source = ArenaSource | BoardSource | GymSource
Current = tuple[dict, np.ndarray, torch.Tensor]  # observation, episode starts, GRU state


def parse_options(options: dict[str, str]) -> dict[str, Any]:
    """Env options from the command line: Python literals where they parse."""
    import ast

    out = {}
    for k, v in options.items():
        try:
            out[k] = ast.literal_eval(v) if isinstance(v, str) else v
        except (ValueError, SyntaxError):
            out[k] = v
    return out


def architecture(config: PPOConfig) -> dict[str, Any]:
    keys = ("hidden", "embed", "attention_layers", "heads", "gru", "central_critic", "max_team")
    return {k: getattr(config, k) for k in keys}


def build_sources(
    c: PPOConfig,
    opponent_fn: Callable[[np.random.Generator], str],
    policy_fn: Callable[[str], Actor],
    seed: int,
) -> tuple[list[Source], PolicySpec, Any]:
    """The sources of a run seeded ``seed``, the policy layout they need, the board game
    (None off board games)."""
    from agents.ppo.arena import arena_spec, check_team_size
    from agents.ppo.board import board_spec

    sources: list[Source] = []
    game = None
    if c.arena:
        spec = arena_spec(**architecture(c))
        for i, size in enumerate(c.team_sizes):
            check_team_size(spec, size)
            sources.append(
                ArenaSource(
                    c.num_envs, size, opponent_fn, policy_fn,
                    time_limit=c.time_limit, map_size=c.map_size, fog=c.fog,
                    memory=c.memory, creeps=c.creeps, reward_weights=c.reward_weights,
                    zero_sum=c.zero_sum, seed=seed * 1000 + i,
                    push_shaping=c.push_shaping, gamma=c.gamma, mirror=c.mirror_obs,
                )
            )  # fmt: skip
    elif c.board:
        game = board_game(c.env, **parse_options(c.env_options))
        spec = board_spec(game, **architecture(c))
        sources.append(BoardSource(game, c.num_envs, opponent_fn, policy_fn, seed))
    else:
        source = GymSource(c.env, c.num_envs, seed, parse_options(c.env_options))
        spec = source.spec(**architecture(c))
        if source.mode == "arena":
            check_team_size(spec, source.team)
        sources.append(source)
    return sources, spec, game


CURRICULUM_CURRENT = 0.7  # share of scripted matches against the current curriculum level


def pick_opponent(
    c: PPOConfig, pool: SnapshotPool, rng: np.random.Generator, stage: int = 0
) -> str:
    """A new match's opponent: a scripted level, or ``policy:latest`` / ``policy:<id>``.

    With ``level_curriculum`` a scripted match is against level ``stage`` of the
    scripted pool (:data:`CURRICULUM_CURRENT` of the time) or an easier one.
    """
    if not c.selfplay or rng.random() < c.scripted_fraction:
        levels = c.scripted_pool
        # Drawn under the curriculum too: the random stream stays that of plain runs.
        opponent = str(levels[int(rng.integers(len(levels)))])
    else:
        snap = pool.sample(rng, role=c.league_role)
        return "policy:latest" if snap == LATEST else f"policy:{snap.id}"
    if c.level_curriculum > 0 and c.league:
        if stage == 0 or rng.random() < CURRICULUM_CURRENT:
            return str(c.scripted_pool[stage])
        return str(c.scripted_pool[int(rng.integers(stage))])
    return opponent


def collect_segment(
    actor: Actor, net: ActorCritic, source: Source, current: Current, c: PPOConfig
) -> tuple[Rollout, list[EpisodeEnd], Current]:
    """``c.num_steps`` steps of ``source`` from ``current`` with ``actor`` (whose network
    is ``net``); the rollout (advantages computed), the episodes that ended, the state
    to continue from."""
    obs, starts, state = current
    rollout = Rollout(c.num_steps, source.num_agents, source.team, state)
    ends: list[EpisodeEnd] = []
    for _ in range(c.num_steps):
        step = actor.step(obs, state, starts, source.team)
        rollout.add(obs, starts, step)
        out = source.step(step.actions)
        obs, rewards, starts, done = out[:4]
        if len(out) > 4:  # truncated episodes: bootstrap from the final observation
            for rows, final in out[4]:
                with torch.no_grad():
                    t = to_tensors(final)
                    _, v, _ = net(t, step.state[rows], torch.zeros(len(rows)), source.team)
                rewards[rows] += c.gamma * v.numpy()
        rollout.set_reward(rewards)
        state = step.state
        ends.extend(done)
    with torch.no_grad():
        last = actor.step(obs, state, starts, source.team)
    rollout.finish(last.values, starts, c.gamma, c.gae_lambda)
    return rollout, ends, (obs, starts, state)


# ---- workers -----------------------------------------------------------------------------
def _tensor(value: Any) -> torch.Tensor:
    """A tensor of its own from a tensor or an array (Ray's arrays are read-only views)."""
    return value.clone() if torch.is_tensor(value) else torch.from_numpy(np.array(value))


def worker_seed(seed: int, index: int, incarnation: int = 0) -> int:
    """Worker ``index``'s seed; a restarted worker (``incarnation`` > 0) draws anew."""
    return seed + 7919 * (index + 1) + 1_000_003 * incarnation


class RolloutWorker:
    """A worker's copies of the run's sources, its policy copy and pool mirror.

    Actions are sampled with the worker's own ``torch.Generator`` (and each pool
    snapshot with its own), so a worker's segments depend on its seed and the weights
    alone, whichever process it lives in.
    """

    def __init__(self, config_json: dict, seed: int, index: int, incarnation: int = 0) -> None:
        self.config = c = PPOConfig.from_json(config_json)
        self.seed = worker_seed(seed, index, incarnation)
        self.pool = SnapshotPool(c.pool_size, c.latest_fraction, c.quality_lr, c.main_sampling)
        self._pool_meta: dict | None = None
        self._snapshot_weights: dict[str, torch.Tensor] = {}
        self._cache: dict[int, Actor] = {}
        self.sources, self.spec, self.game = build_sources(
            c, self._pick_opponent, self._policy, self.seed
        )
        with torch.random.fork_rng():  # the initial weights are replaced by load_weights
            torch.manual_seed(self.seed)
            self.net = build_policy(self.spec).eval()
        generator = torch.Generator().manual_seed(self.seed)
        self.actor = Actor(self.net, "learner", generator=generator)
        self.loaded = False
        self.current: list[Current] = []
        self._started = False
        self.stage = 0  # the trainer's curriculum level, sent with each job

    # ---- broadcasts
    def load_weights(self, weights: dict[str, Any]) -> None:
        self.net.load_state_dict({k: _tensor(v) for k, v in weights.items()})
        self.loaded = True

    def load_snapshots(self, weights: dict[str, Any]) -> None:
        """Every pool snapshot's weights (``SnapshotPool.weights('pool')``)."""
        self._snapshot_weights = {k: _tensor(v) for k, v in weights.items()}
        self._rebuild_pool()

    def load_pool_meta(self, meta: dict) -> None:
        """The pool's settings, snapshots and qualities (``SnapshotPool.to_dict()``)."""
        self._pool_meta = meta
        self._rebuild_pool()

    def _rebuild_pool(self) -> None:
        if self._pool_meta is None:
            return
        ids = {int(s["id"]) for s in self._pool_meta["snapshots"] if s.get("has_weights")}
        have = {int(k.split("/")[1]) for k in self._snapshot_weights}
        if ids - have:
            return  # their weights come with the next broadcast of snapshots
        self.pool = SnapshotPool.from_dict(self._pool_meta, self._snapshot_weights, "pool")
        self._cache = {k: v for k, v in self._cache.items() if k in self.pool}

    # ---- opponents
    def _pick_opponent(self, rng: np.random.Generator) -> str:
        return pick_opponent(self.config, self.pool, rng, self.stage)

    def _policy(self, key: str) -> Actor:
        if key == "latest":
            return self.actor
        sid = int(key)
        if sid not in self._cache:
            net = copy.deepcopy(self.net)
            net.load_state_dict(self.pool[sid].weights)
            gen = torch.Generator().manual_seed(self.seed + 31 * (sid + 1))
            self._cache[sid] = Actor(net.eval(), f"snapshot-{sid}", generator=gen)
        return self._cache[sid]

    # ---- the job
    def collect(
        self, team_spirit: float, stage: int = 0
    ) -> list[tuple[Rollout, list[EpisodeEnd], int]]:
        """One segment per source: (rollout, episodes ended, agent steps); new matches
        pick their opponents at curriculum level ``stage``."""
        self.stage = int(stage)
        if not self.loaded:
            raise RuntimeError("rollout worker: no weights broadcast yet")
        if not self._started:  # the first opponents may come from the pool: start now
            for source in self.sources:
                if isinstance(source, ArenaSource):
                    source.team_spirit = team_spirit
                obs, starts = source.reset()
                self.current.append((obs, starts, self.net.initial_state(source.num_agents)))
            self._started = True
        out = []
        for i, source in enumerate(self.sources):
            if isinstance(source, ArenaSource):
                source.team_spirit = team_spirit
            rollout, ends, self.current[i] = collect_segment(
                self.actor, self.net, source, self.current[i], self.config
            )
            out.append((rollout, ends, self.config.num_steps * source.num_agents))
        return out


def make_rollout_worker(
    config_json: dict, seed: int, index: int, incarnation: int = 0
) -> RolloutWorker:
    """A pool's worker factory (module level, so that processes and Ray can send it)."""
    return RolloutWorker(config_json, seed, index, incarnation)


def collect_job(worker: RolloutWorker, team_spirit: float, stage: int = 0):
    return worker.collect(team_spirit, stage)


class RolloutWorkers:
    """``count`` rollout workers on ``config.backend`` (see the module docstring)."""

    def __init__(
        self, config: PPOConfig, count: int, seed: int, backend: str | Any | None = None
    ) -> None:
        """``backend``: a name (default ``config.backend``; its backend is closed with
        this), or a backend object the caller keeps and closes."""
        from selfplay.backends import make_backend

        self.config = config
        self._owns = backend is None or isinstance(backend, str)
        if self._owns:
            self.backend = make_backend(backend or config.backend, count, config.ray_address)
        else:
            self.backend = backend
        try:
            factory = functools.partial(make_rollout_worker, config.to_json(), seed)
            self.pool = self.backend.worker_pool(
                factory, count, threads=1, job_timeout=config.worker_timeout
            )
        except BaseException:
            if self._owns:
                self.backend.close()
            raise
        self._pool_ids: tuple[int, ...] | None = None
        self.lost = 0

    def collect(
        self,
        weights: dict[str, torch.Tensor],
        pool: SnapshotPool,
        team_spirit: float,
        stage: int = 0,
    ) -> tuple[list[Rollout], list[EpisodeEnd], int]:
        """A segment of every source from every worker (new matches at curriculum level
        ``stage``): rollouts and episode ends in worker order, and the agent steps."""
        self.pool.broadcast({k: v.detach().cpu().numpy() for k, v in weights.items()})
        ids = tuple(sorted(pool.snapshots))
        if ids != self._pool_ids:  # snapshot weights travel only when the pool changes
            self.pool.broadcast(
                {k: v.detach().cpu().numpy() for k, v in pool.weights("pool").items()},
                "snapshots",
            )
            self._pool_ids = ids
        self.pool.broadcast(pool.to_dict(), "pool_meta")
        tickets = [
            self.pool.submit(collect_job, team_spirit, stage, worker=i)
            for i in range(self.pool.count)
        ]
        rollouts, ends, steps = [], [], 0
        for result in self.pool.gather(tickets, timeout=self.config.worker_timeout):
            if result.lost:
                self.lost += 1
                continue
            for rollout, done, n in result.value:
                rollouts.append(rollout)
                ends.extend(done)
                steps += n
        return rollouts, ends, steps

    def close(self) -> None:
        try:
            self.pool.close()
        finally:
            if self._owns:
                self.backend.close()

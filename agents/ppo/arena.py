"""FogArena over the batched core: a learner team against scripted or policy teams.

:class:`ArenaSource` steps ``num_arenas`` matches in one call of the Numba core
(:class:`sim.arena.ArenaBatch`), builds the learner heroes' observations straight from
the :class:`sim.arena.Observer` arrays, and plays the other team with a scripted level
or a policy (a self-play opponent), chosen per match by an ``opponent_fn``. Finished
matches restart at once with fresh seeds from the source's generator.

:func:`play_games` plays N seeded evaluation matches between two sides (a policy or a
scripted level), sides alternating.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from agents.ppo.actor import POLICY, Actor, HeldPolicies
from agents.ppo.network import PolicySpec
from envs.arena.raw import DEFAULT_REWARD_WEIGHTS, NVEC, shaped_rewards
from sim.arena import ArenaBatch, ArenaConfig, Observer, ScriptedTeams
from sim.arena.config import (
    F_ALIVE,
    F_X,
    F_Y,
    MAX_TEAM,
    NUM_HEROES,
    NUM_MOVES,
    REWARD_COMPONENTS,
    ROLE_NAMES,
    STRUCT0,
    STRUCTS_PER_TEAM,
)
from sim.arena.mapgen import OPPOSITE
from sim.arena.observe import GRID_CHANNELS, GRID_SIZE, NUM_FEATURES, NUM_GLOBALS_OBS, NUM_SLOTS
from sim.arena.scripted import LEVELS

ENV_NAME = "fogarena"
Opponent = str  # a scripted level name, or "policy:<key>" for a policy opponent


def arena_spec(**arch: Any) -> PolicySpec:
    """The entity-policy spec of FogArena heroes (slots, grid, globals, 3 parts)."""
    return PolicySpec(
        kind="entity",
        nvec=tuple(int(k) for k in NVEC),
        num_slots=NUM_SLOTS,
        num_features=NUM_FEATURES,
        grid_shape=(len(GRID_CHANNELS), GRID_SIZE, GRID_SIZE),
        num_globals=NUM_GLOBALS_OBS,
        pointer_parts=(1, 2),
        num_roles=len(ROLE_NAMES),
        extra={"env": ENV_NAME},
        **arch,
    )


def check_team_size(spec: PolicySpec, team_size: int) -> None:
    if not 1 <= team_size <= MAX_TEAM:
        raise ValueError(f"FogArena teams have 1 to {MAX_TEAM} heroes, got {team_size}")
    if team_size > spec.max_team:
        raise ValueError(
            f"this policy encodes teams of at most {spec.max_team} heroes (max_team); "
            f"it cannot play a team of {team_size}"
        )


def hero_obs(
    obs: Observer,
    arenas: np.ndarray,
    heroes: np.ndarray,
    roles: np.ndarray,
    mirror: bool = False,
) -> dict[str, np.ndarray]:
    """Observations of heroes ``heroes[i]`` of arenas ``arenas[i]`` (the policy's keys).

    ``mirror``: team 1's heroes see the map through its point mirror (positions, offsets,
    the grid and the move mask), so that both teams see their base in the same corner and
    one behaviour serves both sides; their moves then go through :func:`mirror_moves`."""
    mask = np.concatenate(
        [obs.move_mask[arenas, heroes], obs.attack_mask[arenas, heroes],
         obs.ability_mask[arenas, heroes]], axis=1,
    )  # fmt: skip
    out = {
        "entities": obs.entities[arenas, heroes],
        "entity_mask": obs.entity_mask[arenas, heroes],
        "grid": obs.grid[arenas, heroes],
        "globals": obs.globals[arenas, heroes],
        "hero": (heroes % MAX_TEAM).astype(np.int64),
        "role": roles.astype(np.int64),
        "self_index": np.zeros(len(arenas), dtype=np.int64),
        "action_mask": mask,
    }
    flip = np.flatnonzero(heroes >= MAX_TEAM) if mirror else ()
    if len(flip):
        size = obs.team_cells.shape[-1]
        ent = out["entities"][flip]
        valid = out["entity_mask"][flip] == 1
        ent[..., 1:3] *= -1.0  # offsets (dx, dy)
        ent[..., 3:5] = np.where(valid[..., None], (size - 1) / size - ent[..., 3:5], 0.0)
        out["entities"][flip] = ent
        out["grid"][flip] = out["grid"][flip][:, :, ::-1, ::-1]
        out["action_mask"][flip, :NUM_MOVES] = mask[flip][:, OPPOSITE]
    return out


def mirror_moves(actions: np.ndarray, heroes: np.ndarray, mirror: bool = True) -> np.ndarray:
    """Slot actions of a policy that saw :func:`hero_obs` mirrored, as the core's: team
    1's moves turned back (targets are slots, the same in both frames)."""
    if not mirror:
        return actions
    out = np.array(actions, copy=True)
    flip = heroes >= MAX_TEAM
    out[flip, 0] = OPPOSITE[out[flip, 0]]
    return out


def policy_mirrors(player: Any) -> bool:
    """Whether a player holding a policy network (an :class:`Actor`, a viewer's policy)
    was trained on mirrored observations; scripted players are not."""
    net = getattr(player, "net", None)
    return bool(net is not None and net.spec.extra.get("mirror", False))


def reward_weight_vector(reward_weights: dict[str, float] | None) -> np.ndarray:
    weights = dict(DEFAULT_REWARD_WEIGHTS)
    if reward_weights:
        unknown = sorted(set(reward_weights) - set(REWARD_COMPONENTS))
        if unknown:
            raise ValueError(
                f"unknown reward components {unknown}; components are {list(REWARD_COMPONENTS)}"
            )
        weights.update(reward_weights)
    return np.array([weights[c] for c in REWARD_COMPONENTS], dtype=np.float64)


@dataclass
class EpisodeEnd:
    """A finished match from the learner's view: score 1 win, 0.5 draw, 0 loss."""

    opponent: Opponent
    score: float
    ret: float
    length: int
    team_size: int


class ArenaSource:
    """``num_arenas`` matches; the learner plays ``team_size`` heroes in each.

    The learner plays team ``i % 2`` in arena ``i`` when ``alternate_sides`` (only with
    equal team sizes), else team 0. ``opponent_fn(rng) -> Opponent`` picks each new
    match's opponent: a level of :data:`sim.arena.LEVELS`, or ``"policy:<key>"``, then
    played by ``policy_fn(key) -> Actor``. Agents are ordered arena-major (the heroes of
    one team are consecutive rows: ``team = team_size`` for the centralized critic).
    ``push_shaping`` adds a potential-based term (:meth:`potential`, discounted by
    ``gamma``) to the learner's rewards; ``mirror`` shows team 1 mirrored to every policy
    that plays here (:func:`hero_obs`). The trainer sets both (and ``team_spirit``).
    """

    def __init__(
        self,
        num_arenas: int,
        team_size: int,
        opponent_fn: Callable[[np.random.Generator], Opponent],
        policy_fn: Callable[[str], Actor] | None = None,
        opponent_size: int | None = None,
        time_limit: int = 3000,
        map_size: int = 40,
        fog: bool = True,
        memory: bool = True,
        creeps: bool = True,
        reward_weights: dict[str, float] | None = None,
        zero_sum: bool = True,
        alternate_sides: bool = True,
        seed: int = 0,
        push_shaping: float = 0.0,
        gamma: float = 0.995,
        mirror: bool = False,
    ) -> None:
        other = team_size if opponent_size is None else opponent_size
        self.sizes = (team_size, other)
        self.config = ArenaConfig(
            team_sizes=self.sizes, time_limit=time_limit, fog=fog, memory=memory,
            creeps=creeps, map_size=map_size,
        )  # fmt: skip
        self.num_arenas = int(num_arenas)
        self.team = int(team_size)
        self.num_agents = self.num_arenas * self.team
        self.alternate = bool(alternate_sides) and team_size == other
        self.opponent_fn = opponent_fn
        self.held = HeldPolicies(policy_fn)
        self.weights = reward_weight_vector(reward_weights)
        self.zero_sum = bool(zero_sum)
        self.team_spirit = 0.3
        # Potential-based push shaping (Ng et al. 1999): phi = -push * (distance to the
        # nearest standing enemy structure) / map size, reward += gamma phi' - phi.
        self.push = float(push_shaping)
        self.gamma = float(gamma)
        self.mirror = bool(mirror)  # policies see team 1 mirrored (hero_obs)
        self.rng = np.random.default_rng(seed)
        self.batch = ArenaBatch(self.num_arenas, self.config, seed=None)
        self.observer = Observer(self.num_arenas, self.config.map_size)
        self.side = (
            np.arange(self.num_arenas) % 2 if self.alternate else np.zeros(self.num_arenas, int)
        )
        arenas = np.repeat(np.arange(self.num_arenas), self.team)
        k = np.tile(np.arange(self.team), self.num_arenas)
        self.agent_arena = arenas
        self.agent_hero = self.side[arenas] * MAX_TEAM + k
        roles = self.batch.roles  # (2, MAX_TEAM)
        self.agent_role = roles[self.side[arenas], k]
        self.opp_size = other if not self.alternate else team_size
        ko = np.tile(np.arange(self.opp_size), self.num_arenas)
        self.opp_arena = np.repeat(np.arange(self.num_arenas), self.opp_size)
        self.opp_hero = (1 - self.side[self.opp_arena]) * MAX_TEAM + ko
        self.opp_role = roles[1 - self.side[self.opp_arena], ko]
        self.opponents: list[Opponent] = [""] * self.num_arenas
        self.opp_state: dict[str, torch.Tensor] = {}
        self.opp_starts = np.ones(len(self.opp_arena), dtype=np.float32)
        self.scripted: dict[str, ScriptedTeams] = {}
        self.ep_return = np.zeros(self.num_arenas)
        self.ep_length = np.zeros(self.num_arenas, dtype=np.int64)
        self.phi = np.zeros(self.num_agents)
        # Heroes a policy plays (the learner's, a policy opponent's): the only ones observed.
        self.observed = np.zeros((self.num_arenas, NUM_HEROES), dtype=np.uint8)
        self.observed[self.agent_arena, self.agent_hero] = 1

    # ---- matches ---------------------------------------------------------------------
    def _start(self, arenas: np.ndarray) -> None:
        seeds = self.rng.integers(0, 2**31 - 1, size=len(arenas))
        self.batch.reset([int(s) for s in seeds], arenas=arenas)
        for teams in self.scripted.values():
            teams.reseed(arenas)
        for a in arenas:
            opp = self.opponent_fn(self.rng)
            if opp not in LEVELS and not opp.startswith(POLICY):
                raise ValueError(f"opponent {opp!r} is neither a level {LEVELS} nor 'policy:KEY'")
            self.opponents[a] = opp
        self._hold_opponents()
        self._observe_policy_opponents(arenas)
        self.opp_starts[np.isin(self.opp_arena, arenas)] = 1.0
        self.ep_return[arenas] = 0.0
        self.ep_length[arenas] = 0

    def _hold_opponents(self) -> None:
        """Hold the policies the matches play; let go of the others (and their memories)."""
        self.held.keep(self.opponents)
        self.opp_state = {k: v for k, v in self.opp_state.items() if k in self.opponents}

    def _observe_policy_opponents(self, arenas: np.ndarray) -> None:
        """Observe the opponent heroes of ``arenas`` where a policy plays them."""
        rows = np.flatnonzero(np.isin(self.opp_arena, arenas))
        policy = [self.opponents[a].startswith(POLICY) for a in self.opp_arena[rows]]
        self.observed[self.opp_arena[rows], self.opp_hero[rows]] = policy

    def reset(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        self._start(np.arange(self.num_arenas))
        self.observer.compute(self.batch, self.observed)
        self.phi = self.potential()
        return self.observe(), np.ones(self.num_agents, dtype=np.float32)

    def potential(self) -> np.ndarray:
        """(num_agents,) push potential: minus ``push`` times each learner hero's
        Chebyshev distance (moves are 8-way) to the nearest standing enemy structure,
        over the map size (a dead hero waits at its spawn, so it counts from there)."""
        if self.push == 0.0:
            return np.zeros(self.num_agents)
        ui = self.batch.ui
        a = self.agent_arena
        enemy = 1 - self.side[a]
        units = STRUCT0 + enemy[:, None] * STRUCTS_PER_TEAM + np.arange(STRUCTS_PER_TEAM)
        dx = np.abs(ui[a[:, None], units, F_X] - ui[a, self.agent_hero, F_X][:, None])
        dy = np.abs(ui[a[:, None], units, F_Y] - ui[a, self.agent_hero, F_Y][:, None])
        d = np.where(ui[a[:, None], units, F_ALIVE] == 1, np.maximum(dx, dy), np.inf).min(1)
        d = np.where(np.isfinite(d), d, 0.0)  # no enemy structure left: the match is over
        return -self.push * d / self.config.map_size

    def observe(self) -> dict[str, np.ndarray]:
        return hero_obs(
            self.observer, self.agent_arena, self.agent_hero, self.agent_role, self.mirror
        )

    def _scripted(self, level: str) -> ScriptedTeams:
        if level not in self.scripted:
            self.scripted[level] = ScriptedTeams(self.batch, (level, level))
        return self.scripted[level]

    def step(
        self, actions: np.ndarray
    ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray, list[EpisodeEnd]]:
        """Learner actions (num_agents, 3) slot actions; returns the next observations,
        rewards (num_agents,), starts (1 where the next observation begins a match) and
        the matches that ended."""
        slot = np.zeros((self.num_arenas, NUM_HEROES, 3), dtype=np.int64)
        slot[self.agent_arena, self.agent_hero] = mirror_moves(
            actions, self.agent_hero, self.mirror
        )
        opponents = np.array(self.opponents)
        # Policy opponents, grouped by policy so each acts in one forward.
        for key in sorted({o for o in self.opponents if o.startswith(POLICY)}):
            rows = np.flatnonzero(opponents[self.opp_arena] == key)
            actor = self.held[key]
            heroes = self.opp_hero[rows]
            obs = hero_obs(
                self.observer, self.opp_arena[rows], heroes, self.opp_role[rows], self.mirror
            )
            state = self.opp_state.get(key)
            if state is None or state.shape[0] != len(self.opp_arena):
                state = actor.initial_state(len(self.opp_arena))
            st = actor.step(obs, state[rows], self.opp_starts[rows], self.opp_size)
            if st.state.shape[-1]:
                state[rows] = st.state
            self.opp_state[key] = state
            self.opp_starts[rows] = 0.0
            slot[self.opp_arena[rows], heroes] = mirror_moves(st.actions, heroes, self.mirror)
        unit = self.observer.to_unit_actions(slot)
        for level in sorted({o for o in self.opponents if o in LEVELS}):
            scripted = self._scripted(level).act(unit.copy())
            arenas = np.flatnonzero(opponents == level)
            for side in (0, 1):
                sel = arenas[self.side[arenas] == side]
                enemy = slice(MAX_TEAM, NUM_HEROES) if side == 0 else slice(0, MAX_TEAM)
                unit[sel, enemy] = scripted[sel, enemy]
        self.batch.step(unit, check=False)
        self.observer.compute(self.batch, self.observed)
        shaped = shaped_rewards(
            self.batch.comp, self.weights, self.config.team_sizes, self.team_spirit, self.zero_sum
        )
        rewards = shaped[self.agent_arena, self.agent_hero]
        if self.push:
            phi = self.potential()
            ended = self.batch.done[self.agent_arena]
            rewards = rewards + np.where(ended, 0.0, self.gamma * phi) - self.phi  # phi(end) = 0
            self.phi = phi
        rewards = rewards.astype(np.float32)
        team_reward = rewards.reshape(self.num_arenas, self.team).mean(1)
        self.ep_return += team_reward
        self.ep_length += 1
        done = self.batch.done
        ends: list[EpisodeEnd] = []
        starts = np.zeros(self.num_agents, dtype=np.float32)
        if done.any():
            finished = np.flatnonzero(done)
            winners = self.batch.winner
            for a in finished:
                w = winners[a]
                score = 0.5 if w == 2 else float(w == self.side[a])
                ends.append(
                    EpisodeEnd(self.opponents[a], score, float(self.ep_return[a]),
                               int(self.ep_length[a]), self.team)
                )  # fmt: skip
            self._start(finished)
            self.observer.compute(self.batch, self.observed)
            if self.push:
                self.phi = self.potential()
            starts[np.isin(self.agent_arena, finished)] = 1.0
        return self.observe(), rewards, starts, ends

    # ---- exact resume ------------------------------------------------------------------
    def state_dict(self, prefix: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """Everything that evolves: the matches, the bots' streams, the opponents."""
        tensors = {f"{prefix}/batch/{k}": _tensor(v) for k, v in self.batch.get_state().items()}
        for level, teams in self.scripted.items():
            tensors[f"{prefix}/scripted/{level}"] = _tensor(teams.rng)
        for key, state in self.opp_state.items():
            tensors[f"{prefix}/opp_state/{key}"] = state.clone()
        tensors[f"{prefix}/opp_starts"] = torch.from_numpy(self.opp_starts.copy())
        tensors[f"{prefix}/ep_return"] = torch.from_numpy(self.ep_return.copy())
        tensors[f"{prefix}/ep_length"] = torch.from_numpy(self.ep_length.copy())
        tensors[f"{prefix}/phi"] = torch.from_numpy(self.phi.copy())
        meta = {
            "opponents": list(self.opponents),
            "rng": self.rng.bit_generator.state,
            "scripted": sorted(self.scripted),
            "opp_state": sorted(self.opp_state),
            "team_spirit": self.team_spirit,
        }
        return tensors, meta

    def load_state_dict(self, prefix: str, tensors: dict, meta: dict[str, Any]) -> None:
        state = {
            k: _array(tensors[f"{prefix}/batch/{k}"], v.dtype)
            for k, v in self.batch.get_state().items()
        }
        self.batch.set_state(state)
        for level in meta["scripted"]:
            teams = self._scripted(level)
            teams.rng[...] = _array(tensors[f"{prefix}/scripted/{level}"], teams.rng.dtype)
        self.opp_state = {k: tensors[f"{prefix}/opp_state/{k}"].clone() for k in meta["opp_state"]}
        self.opp_starts[...] = tensors[f"{prefix}/opp_starts"].numpy()
        self.ep_return[...] = tensors[f"{prefix}/ep_return"].numpy()
        self.ep_length[...] = tensors[f"{prefix}/ep_length"].numpy()
        if f"{prefix}/phi" in tensors:  # checkpoints from before push shaping have none
            self.phi[...] = tensors[f"{prefix}/phi"].numpy()
        else:
            self.phi = self.potential()
        self.opponents = list(meta["opponents"])
        self._hold_opponents()
        self.rng.bit_generator.state = meta["rng"]
        self.team_spirit = float(meta["team_spirit"])
        self._observe_policy_opponents(np.arange(self.num_arenas))
        self.observer.compute(self.batch, self.observed)


def _tensor(a: np.ndarray) -> torch.Tensor:
    """A NumPy array as a tensor (uint64 as int64 bits: safetensors has no uint64)."""
    a = np.ascontiguousarray(a)
    if a.dtype == np.uint64:
        a = a.view(np.int64)
    return torch.from_numpy(a.copy())


def _array(t: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    return t.numpy().view(dtype)


Side = Actor | str  # a policy, or a scripted level


def play_games(
    a: Side,
    b: Side,
    games: int,
    seed: int,
    team_size: int = 5,
    opponent_size: int | None = None,
    batch_size: int = 64,
    **arena: Any,
) -> tuple[np.ndarray, np.ndarray]:
    """``games`` seeded matches of ``a`` against ``b``; returns (winners, seats of a).

    Match ``i`` uses seed ``seed + i``; ``a`` plays team ``i % 2`` (team 0 always when
    the team sizes differ: ``a`` has ``team_size`` heroes, ``b`` ``opponent_size``).
    Winners are 0, 1 (a team) or 2 (a draw). Policies act by sampling with their own
    generator, so the result is a function of the seed.
    """
    if games < 1:
        raise ValueError(f"games must be >= 1, got {games}")
    other = team_size if opponent_size is None else opponent_size
    for side in (a, b):
        if isinstance(side, str) and side not in LEVELS:
            raise ValueError(f"unknown scripted level {side!r}; choose one of {list(LEVELS)}")
        if isinstance(side, Actor):
            check_team_size(side.net.spec, max(team_size, other))
    winners, seats = [], []
    start = 0
    while start < games:
        k = min(batch_size, games - start)
        idx = np.arange(start, start + k)
        seat = idx % 2 if team_size == other else np.zeros(k, dtype=np.int64)
        w = _play_batch(a, b, seed + start, seat, (team_size, other), arena)
        winners.append(w)
        seats.append(seat)
        start += k
    return np.concatenate(winners), np.concatenate(seats)


def _play_batch(a: Side, b: Side, seed: int, seat: np.ndarray, sizes, arena: dict) -> np.ndarray:
    k = len(seat)
    config = ArenaConfig(team_sizes=sizes, **arena)  # a is team 0 when the sizes differ
    batch = ArenaBatch(k, config, seed=seed)
    observer = Observer(k, config.map_size)
    roles = batch.roles
    sides = [(a, seat, sizes[0]), (b, 1 - seat, sizes[1])]  # player, its team per arena, size
    scripted = {}
    for player, _, _ in sides:
        if isinstance(player, str) and player not in scripted:
            scripted[player] = ScriptedTeams(batch, (player, player))
    layout = []
    for player, team, n in sides:
        arenas = np.repeat(np.arange(k), n)
        idx = np.tile(np.arange(n), k)
        heroes = team[arenas] * MAX_TEAM + idx
        state = player.initial_state(len(arenas)) if isinstance(player, Actor) else None
        layout.append((arenas, heroes, roles[team[arenas], idx], state))
    observed = np.zeros((k, NUM_HEROES), dtype=np.uint8)  # the heroes policies play
    for (player, _, _), (arenas, heroes, _, _) in zip(sides, layout, strict=True):
        if isinstance(player, Actor):
            observed[arenas, heroes] = 1
    observer.compute(batch, observed)
    starts_first = True
    while not batch.done.all():
        slot = np.zeros((k, NUM_HEROES, 3), dtype=np.int64)
        for (player, _, n), (arenas, heroes, role, state) in zip(sides, layout, strict=True):
            if isinstance(player, Actor):
                mirror = policy_mirrors(player)
                obs = hero_obs(observer, arenas, heroes, role, mirror)
                starts = np.full(len(arenas), float(starts_first), dtype=np.float32)
                st = player.step(obs, state, starts, n)
                if st.state.shape[-1]:
                    state.copy_(st.state)
                slot[arenas, heroes] = mirror_moves(st.actions, heroes, mirror)
        unit = observer.to_unit_actions(slot)
        for player, team, _ in sides:
            if isinstance(player, str):
                full = scripted[player].act(unit.copy())
                for t in (0, 1):
                    sel = np.flatnonzero(team == t)
                    rows = slice(t * MAX_TEAM, (t + 1) * MAX_TEAM)
                    unit[sel, rows] = full[sel, rows]
        batch.step(unit, check=False)
        observer.compute(batch, observed)
        starts_first = False
    return batch.winner

"""The FogArena PettingZoo ``ParallelEnv`` (unwrapped); factories in :mod:`fogarena_v0`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle
from pettingzoo import ParallelEnv

from envs.arena.render import RenderMixin
from sim.arena.batch import ArenaBatch
from sim.arena.config import (
    MAX_TEAM,
    NUM_HEROES,
    NUM_MOVES,
    REWARD_COMPONENTS,
    ROLE_NAMES,
    ArenaConfig,
)
from sim.arena.observe import (
    GRID_CHANNELS,
    GRID_SIZE,
    NUM_FEATURES,
    NUM_GLOBALS_OBS,
    NUM_SLOTS,
    Observer,
)
from sim.arena.replay import save_replay

ILLEGAL_ACTION_MODES = ("lenient", "strict")
RENDER_MODES = ["human", "rgb_array"]
# OpenAI Five style weights of the raw per-tick amounts (hp of damage, counts, +-1 win).
DEFAULT_REWARD_WEIGHTS: dict[str, float] = {
    "damage": 0.002,
    "last_hit": 0.16,
    "kill": 1.0,
    "death": -1.0,
    "structure": 0.001,
    "win": 5.0,
}
ACTION_PARTS = ("move", "attack", "ability")
NVEC = np.array([NUM_MOVES, NUM_SLOTS + 1, NUM_SLOTS + 1], dtype=np.int64)


def agent_name(team: int, index: int) -> str:
    return f"team{team}_hero{index}"


def check_choice(what: str, value: object, choices) -> None:
    if value not in choices:
        raise ValueError(f"{what} must be one of {list(choices)}, got {value!r}")


def shaped_rewards(
    comp: np.ndarray, weights: np.ndarray, sizes: tuple[int, int], tau: float, zero_sum: bool
) -> np.ndarray:
    """Shaped rewards (..., NUM_HEROES) from raw components (..., NUM_HEROES, C).

    Each hero's weighted sum ``r_i`` is blended with its team's mean by the team spirit
    ``tau``: ``(1 - tau) r_i + tau mean_team(r)`` (a team's sum is unchanged). With
    ``zero_sum``, every hero of a team of ``n`` then has ``T / (2 n)`` subtracted, ``T``
    the sum over both teams: each team's total becomes half the difference of the two
    teams' totals, so the rewards sum to 0 whatever the team sizes, differences between
    heroes of a team are kept, and what is already zero-sum between equal teams (the win,
    a credited kill with its death) keeps its size instead of doubling. Slots of unused
    heroes get 0.
    """
    raw = comp.astype(np.float64) @ weights
    out = np.zeros_like(raw)
    sums = []
    for t in range(2):
        sl = slice(t * MAX_TEAM, t * MAX_TEAM + sizes[t])
        team_mean = raw[..., sl].mean(-1, keepdims=True)
        out[..., sl] = (1.0 - tau) * raw[..., sl] + tau * team_mean
        sums.append(out[..., sl].sum(-1, keepdims=True))
    if zero_sum:
        total = sums[0] + sums[1]
        for t in range(2):
            out[..., t * MAX_TEAM : t * MAX_TEAM + sizes[t]] -= total / (2 * sizes[t])
    return out


def observation_space() -> spaces.Dict:
    """One hero's observation space (the same for every agent)."""
    return spaces.Dict(
        {
            "observation": spaces.Dict(
                {
                    "entities": spaces.Box(-1.0, 1.0, (NUM_SLOTS, NUM_FEATURES), np.float32),
                    "entity_mask": spaces.Box(0, 1, (NUM_SLOTS,), np.int8),
                    "grid": spaces.Box(
                        0.0, 1.0, (len(GRID_CHANNELS), GRID_SIZE, GRID_SIZE), np.float32
                    ),
                    "globals": spaces.Box(0.0, 1.0, (NUM_GLOBALS_OBS,), np.float32),
                }
            ),
            "action_mask": spaces.Tuple(tuple(spaces.Box(0, 1, (int(k),), np.int8) for k in NVEC)),
        }
    )


class ArenaCore:
    """One FogArena match with observations, masks, shaped rewards and a replay log.

    Shared by the PettingZoo and the Gymnasium envs (they differ in who acts)."""

    def __init__(
        self,
        config: ArenaConfig,
        illegal_action: str,
        reward_weights: dict[str, float] | None,
        zero_sum: bool,
        team_spirit: float,
    ) -> None:
        check_choice("illegal_action", illegal_action, ILLEGAL_ACTION_MODES)
        weights = dict(DEFAULT_REWARD_WEIGHTS)
        if reward_weights is not None:
            unknown = sorted(set(reward_weights) - set(REWARD_COMPONENTS))
            if unknown:
                raise ValueError(
                    f"unknown reward components {unknown}; components are {list(REWARD_COMPONENTS)}"
                )
            weights.update({k: float(v) for k, v in reward_weights.items()})
        if not 0.0 <= float(team_spirit) <= 1.0:
            raise ValueError(f"team_spirit must be in [0, 1], got {team_spirit!r}")
        self.config = config
        self.illegal_action = illegal_action
        self.weights = np.array([weights[c] for c in REWARD_COMPONENTS], dtype=np.float64)
        self.reward_weights = weights
        self.zero_sum = bool(zero_sum)
        self.team_spirit = float(team_spirit)
        self.batch = ArenaBatch(1, config, seed=0)
        self.observer = Observer(1, config.map_size)
        self.heroes = [t * MAX_TEAM + i for t in range(2) for i in range(config.team_sizes[t])]
        self.log: list[np.ndarray] = []
        self.seed = 0

    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        self.batch.reset(self.seed)
        self.observer.compute(self.batch)
        self.log = []

    def masks(self, h: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        o = self.observer
        return o.move_mask[0, h], o.attack_mask[0, h], o.ability_mask[0, h]

    def check_action(self, who: str, h: int, action: Any) -> np.ndarray:
        """``action`` as int64 (3,), masked per the illegal-action mode, or ValueError."""
        a = np.asarray(action)
        if a.shape != (3,) or not (
            np.issubdtype(a.dtype, np.integer)
            or (np.issubdtype(a.dtype, np.floating) and np.all(a == np.round(a)))
        ):
            raise ValueError(
                f"action of {who} must be 3 integers (move, attack, ability), "
                f"got {action!r} (shape {a.shape}, dtype {a.dtype})"
            )
        a = a.astype(np.int64)
        if np.any(a < 0) or np.any(a >= NVEC):
            raise ValueError(
                f"action of {who} {a.tolist()} is out of range: parts take 0..{(NVEC - 1).tolist()}"
            )
        for part, mask in enumerate(self.masks(h)):
            if mask[a[part]] == 0:
                if self.illegal_action == "strict":
                    raise ValueError(
                        f"illegal {ACTION_PARTS[part]} {int(a[part])} for {who}; the mask "
                        f"allows {np.flatnonzero(mask).tolist()}"
                    )
                a[part] = 0  # lenient: that part becomes a no-op
        return a

    def advance(self, slot_actions: np.ndarray, unit_override: np.ndarray | None = None):
        """Step with checked slot actions (10, 3); rows of ``unit_override`` that are not
        None replace them in unit terms (scripted heroes). Returns shaped rewards (10,)."""
        unit = self.observer.to_unit_actions(slot_actions[None])
        if unit_override is not None:
            unit = unit_override[None].astype(np.int32)
        self.log.append(unit[0].copy())
        self.batch.step(unit, check=False)
        self.observer.compute(self.batch)
        return self.shaped_rewards()

    def shaped_rewards(self) -> np.ndarray:
        """This tick's shaped reward of every hero slot (NUM_HEROES,)."""
        return shaped_rewards(
            self.batch.comp[0], self.weights, self.config.team_sizes, self.team_spirit,
            self.zero_sum,
        )  # fmt: skip

    def save_replay(self, path: str | Path) -> Path:
        return save_replay(
            path, self.config, self.seed,
            np.array(self.log, dtype=np.int32).reshape(-1, NUM_HEROES, len(ACTION_PARTS)),
            self.batch.state_hash(0),
        )  # fmt: skip


class FogArenaParallelEnv(RenderMixin, ParallelEnv, EzPickle):
    """FogArena, both teams' heroes acting at once; see :mod:`envs.arena.fogarena_v0`."""

    metadata: dict[str, Any] = {
        "render_modes": RENDER_MODES,
        "name": "fogarena_v0",
        "is_parallelizable": True,
        "render_fps": 20,
    }

    def __init__(
        self,
        team_size: int = 5,
        enemy_team_size: int | None = None,
        roles: tuple | None = None,
        time_limit: int = 3000,
        fog: bool = True,
        memory: bool = True,
        creeps: bool = True,
        map_size: int = 40,
        illegal_action: str = "lenient",
        reward_weights: dict[str, float] | None = None,
        zero_sum: bool = True,
        team_spirit: float = 0.3,
        render_mode: str | None = None,
        render_team: int | None = None,
    ) -> None:
        EzPickle.__init__(
            self, team_size, enemy_team_size, roles, time_limit, fog, memory, creeps, map_size,
            illegal_action, reward_weights, zero_sum, team_spirit, render_mode, render_team,
        )  # fmt: skip
        if render_mode is not None:
            check_choice("render_mode", render_mode, RENDER_MODES)
        if render_team is not None and (isinstance(render_team, bool) or render_team not in (0, 1)):
            raise ValueError(f"render_team must be None (spectator), 0 or 1, got {render_team!r}")
        sizes = (team_size, team_size if enemy_team_size is None else enemy_team_size)
        config = ArenaConfig(
            team_sizes=sizes, roles=roles, time_limit=time_limit, fog=fog, memory=memory,
            creeps=creeps, map_size=map_size,
        )  # fmt: skip
        self.core = ArenaCore(config, illegal_action, reward_weights, zero_sum, team_spirit)
        self.config = self.core.config
        self.render_mode = render_mode
        self.render_team = render_team
        self.possible_agents = [
            agent_name(t, i) for t in range(2) for i in range(self.config.team_sizes[t])
        ]
        self.hero_of = dict(zip(self.possible_agents, self.core.heroes, strict=True))
        self.roles = {
            a: ROLE_NAMES[self.config.roles[h // MAX_TEAM][h % MAX_TEAM]]
            for a, h in self.hero_of.items()
        }
        self.agents = self.possible_agents[:]
        obs_space = observation_space()
        act_space = spaces.MultiDiscrete(NVEC)
        self.observation_spaces = dict.fromkeys(self.possible_agents, obs_space)
        self.action_spaces = dict.fromkeys(self.possible_agents, act_space)
        self._seed_rng = np.random.default_rng()
        self._renderer = None

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def _obs(self, agent: str) -> dict:
        h = self.hero_of[agent]
        o = self.core.observer
        return {
            "observation": {
                "entities": o.entities[0, h].copy(),
                "entity_mask": o.entity_mask[0, h].copy(),
                "grid": o.grid[0, h].copy(),
                "globals": o.globals[0, h].copy(),
            },
            "action_mask": (
                o.move_mask[0, h].copy(),
                o.attack_mask[0, h].copy(),
                o.ability_mask[0, h].copy(),
            ),
        }

    def reset(self, seed: int | None = None, options: dict | None = None):
        if seed is not None:
            self._seed_rng = np.random.default_rng(seed)
        self.core.reset(int(self._seed_rng.integers(1 << 31)))
        self.agents = self.possible_agents[:]
        obs = {a: self._obs(a) for a in self.agents}
        infos = {a: {} for a in self.agents}
        if self.render_mode == "human":
            self.render()
        return obs, infos

    def step(self, actions: dict[str, Any]):
        if not self.agents:
            raise RuntimeError("step() called on a finished match; call reset() first")
        if not isinstance(actions, dict):
            raise ValueError(f"actions must be a dict agent -> action, got {type(actions)}")
        unknown = [a for a in actions if a not in self.hero_of]
        if unknown:
            raise ValueError(f"unknown agent(s) {unknown}; agents are {self.possible_agents}")
        slot = np.zeros((NUM_HEROES, 3), dtype=np.int64)
        for agent, action in actions.items():  # validate all before changing anything
            slot[self.hero_of[agent]] = self.core.check_action(agent, self.hero_of[agent], action)
        shaped = self.core.advance(slot)
        done = bool(self.core.batch.done[0])
        rewards = {a: float(shaped[self.hero_of[a]]) for a in self.agents}
        terms = dict.fromkeys(self.agents, done)
        truncs = dict.fromkeys(self.agents, False)
        obs = {a: self._obs(a) for a in self.agents}
        if done:
            winner = int(self.core.batch.winner[0])
            infos = {a: {"winner": winner} for a in self.agents}
            self.agents = []
        else:
            infos = {a: {} for a in self.agents}
        if self.render_mode == "human":
            self.render()
        return obs, rewards, terms, truncs, infos

    # ---- extras ----------------------------------------------------------------------
    def state_hash(self) -> str:
        return self.core.batch.state_hash(0)

    def reward_components(self) -> dict[str, dict[str, float]]:
        """This step's raw reward amounts per agent, by component name."""
        comp = self.core.batch.comp[0]
        return {
            a: dict(zip(REWARD_COMPONENTS, map(float, comp[h]), strict=True))
            for a, h in self.hero_of.items()
        }

    def save_replay(self, path: str | Path) -> Path:
        """Write this match so far (seed and actions) as a replay file."""
        return self.core.save_replay(path)

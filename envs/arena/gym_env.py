"""``simarena/FogArena-v0``: one learner controls a whole FogArena team against a
scripted team."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.arena.raw import (
    NVEC,
    RENDER_MODES,
    ArenaCore,
    check_choice,
)
from envs.arena.render import RenderMixin
from sim.arena.config import MAX_TEAM, NUM_HEROES, ArenaConfig
from sim.arena.match import ScriptedTeams
from sim.arena.observe import GRID_CHANNELS, GRID_SIZE, NUM_FEATURES, NUM_GLOBALS_OBS, NUM_SLOTS
from sim.arena.scripted import LEVELS


class FogArenaEnv(RenderMixin, gymnasium.Env):
    """A whole FogArena team (1 to 5 heroes) against a scripted team.

    ## Description

    The match of :mod:`envs.arena.fogarena_v0` (same rules, fog, rewards) with the
    learner playing team ``learner_team`` and a built-in team of level ``opponent``
    (``"random"``, ``"easy"``, ``"medium"``, ``"hard"``: see :mod:`sim.arena.scripted`)
    the other. The scripted team sees only what its own team sees.

    ## Action Space

    ``MultiDiscrete([9, 33, 33] * team_size)``: per hero of the team, in order, move
    direction, attack target slot + 1 and ability target slot + 1 (0 = none), as in the
    PettingZoo env.

    ## Observation Space

    A flat dict (no nesting, so SB3 takes it): ``entities`` (team_size, 32, 26),
    ``entity_mask`` (team_size, 32) int8, ``grid`` (team_size, 4, 15, 15), ``globals``
    (team_size, 12), and ``action_mask`` (team_size * 75,) int8: each hero's move,
    attack and ability masks concatenated (the layout sb3-contrib's MaskablePPO expects
    for a MultiDiscrete space). :meth:`action_masks` returns it as bool.

    ## Rewards

    The mean over the team's heroes of the PettingZoo env's shaped reward (weights,
    ``zero_sum``: the team's share of half the difference of the teams' totals; team
    spirit does not change a team mean).

    ## Episode End

    Termination when a core falls or at ``time_limit`` (decided by structure health).
    No truncation. ``info["winner"]`` on the last step: 0, 1 or 2 (draw).

    ## Arguments

    ``team_size`` (1-5), ``opponent_size`` (default: the same), ``opponent`` level,
    ``learner_team`` (0 or 1), ``time_limit`` (3000), ``fog``, ``memory``, ``creeps``,
    ``illegal_action`` (``"lenient"``, the default: masked parts become no-ops;
    ``"strict"``: ValueError, env unchanged), ``reward_weights``, ``zero_sum`` (True),
    ``render_mode`` (``"human"``, ``"rgb_array"``), ``render_team`` (None = spectator, 0
    or 1: that team's fogged view).
    All randomness (the rules' and the scripted team's) follows ``reset(seed=...)``.

    ## Version History

    * v0: Initial version.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES, "render_fps": 20}

    def __init__(
        self,
        team_size: int = 5,
        opponent_size: int | None = None,
        opponent: str = "medium",
        learner_team: int = 0,
        time_limit: int = 3000,
        fog: bool = True,
        memory: bool = True,
        creeps: bool = True,
        illegal_action: str = "lenient",
        reward_weights: dict[str, float] | None = None,
        zero_sum: bool = True,
        render_mode: str | None = None,
        render_team: int | None = None,
    ) -> None:
        check_choice("opponent", opponent, LEVELS)
        check_choice("learner_team", learner_team, (0, 1))
        if render_mode is not None:
            check_choice("render_mode", render_mode, RENDER_MODES)
        if render_team is not None and (isinstance(render_team, bool) or render_team not in (0, 1)):
            raise ValueError(f"render_team must be None (spectator), 0 or 1, got {render_team!r}")
        other = team_size if opponent_size is None else opponent_size
        sizes = (team_size, other) if learner_team == 0 else (other, team_size)
        config = ArenaConfig(
            team_sizes=sizes, time_limit=time_limit, fog=fog, memory=memory, creeps=creeps
        )
        self.core = ArenaCore(config, illegal_action, reward_weights, zero_sum, 0.0)
        self.team = learner_team
        self.team_size = config.team_sizes[learner_team]
        self.heroes = [learner_team * MAX_TEAM + i for i in range(self.team_size)]
        self.opponent = opponent
        levels: list[str | None] = [None, None]
        levels[1 - learner_team] = opponent
        self.scripted = ScriptedTeams(self.core.batch, tuple(levels))
        self.render_mode = render_mode
        self.render_team = render_team
        n = self.team_size
        self.action_space = spaces.MultiDiscrete(np.tile(NVEC, n))
        self.observation_space = spaces.Dict(
            {
                "entities": spaces.Box(-1.0, 1.0, (n, NUM_SLOTS, NUM_FEATURES), np.float32),
                "entity_mask": spaces.Box(0, 1, (n, NUM_SLOTS), np.int8),
                "grid": spaces.Box(
                    0.0, 1.0, (n, len(GRID_CHANNELS), GRID_SIZE, GRID_SIZE), np.float32
                ),
                "globals": spaces.Box(0.0, 1.0, (n, NUM_GLOBALS_OBS), np.float32),
                "action_mask": spaces.Box(0, 1, (n * int(NVEC.sum()),), np.int8),
            }
        )
        self._renderer = None

    def _obs(self) -> dict[str, np.ndarray]:
        o = self.core.observer
        h = self.heroes
        masks = np.concatenate(
            [o.move_mask[0, h], o.attack_mask[0, h], o.ability_mask[0, h]], axis=1
        )
        return {
            "entities": o.entities[0, h],
            "entity_mask": o.entity_mask[0, h],
            "grid": o.grid[0, h],
            "globals": o.globals[0, h],
            "action_mask": masks.reshape(-1),
        }

    def action_masks(self) -> np.ndarray:
        return self._obs()["action_mask"].astype(bool)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.core.reset(int(self.np_random.integers(1 << 31)))
        self.scripted.reseed()
        obs = self._obs()
        if self.render_mode == "human":
            self.render()
        return obs, {"action_mask": obs["action_mask"]}

    def step(self, action):
        a = np.asarray(action)
        if a.shape != (3 * self.team_size,):
            raise ValueError(
                f"action must have shape ({3 * self.team_size},) (3 parts per hero), got {a.shape}"
            )
        if self.core.batch.done[0]:
            raise RuntimeError("step() called on a finished match; call reset() first")
        slot = np.zeros((NUM_HEROES, 3), dtype=np.int64)
        parts = a.reshape(self.team_size, 3)
        for i, h in enumerate(self.heroes):
            slot[h] = self.core.check_action(f"hero {i}", h, parts[i])
        unit = self.core.observer.to_unit_actions(slot[None])
        self.scripted.act(unit)
        shaped = self.core.advance(slot, unit_override=unit[0])
        reward = float(shaped[self.heroes].mean())
        terminated = bool(self.core.batch.done[0])
        obs = self._obs()
        info: dict[str, Any] = {"action_mask": obs["action_mask"]}
        if terminated:
            info["winner"] = int(self.core.batch.winner[0])
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, False, info

    def state_hash(self) -> str:
        return self.core.batch.state_hash(0)

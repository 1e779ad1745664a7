"""FogArena: a small team MOBA with fog of war (PettingZoo, parallel and AEC).

## Description

Two teams of 1 to 5 heroes (the sizes may differ) fight on a point-symmetric 40x40 map
with three lanes, jungle walls, a river and bushes. Each base has three lane towers, a
base tower and a core; creep waves (two melee, one ranged per lane) spawn every 250
ticks and walk their lane. Heroes have a role (tank, carry, support, mage, scout), one
ability with a cooldown (stun around itself, power shot, heal, area blast, flare of true
sight), levels from experience, and die and respawn. Vision: every unit sees within its
sight radius unless walls, or bushes other than its own, are in the way; a unit inside a
bush is seen only from inside that bush; **a team sees the union of what its heroes,
creeps, towers (and flare) see**, and every observation is built from that alone. Rules:
:mod:`sim.arena`.

## Agents

``team0_hero0 .. team0_hero{n0-1}, team1_hero0 ..``; ``env.unwrapped.roles`` gives
their roles (by default the first n of carry, tank, support, mage, scout).

**A dead hero stays in ``agents``** until the match ends (it is neither terminated nor
truncated): its observation has ``alive = 0`` in slot 0, with its respawn timer (the
ticks until it is back, over 200), placed at its spawn by the core; its action mask
allows only 0 in every part, any action it sends is ignored, and it keeps receiving its
(team-blended) reward. The observation after its last dead tick shows it alive at its
spawn with full hp, its masks open.

Units that fall in the same tick fall together (a mutual kill kills both); a hero
credited with a kill gets it even if it fell in that tick, experience goes only to
heroes still standing. Kill and last-hit credit go to the hero that dealt the unit the
most damage in the tick of its last hero damage.

## Action Space

``MultiDiscrete([9, 33, 33])``: move direction (0 stay, 1..8 clockwise from north),
attack target (0 none, else entity slot + 1), ability target (0 none, else slot + 1).
The ability is cast if possible, else the attack is made, else the move; an attack
order on a target in range holds position while the attack recharges.

``obs["action_mask"]`` is a tuple of three int8 masks, one per part, as
``MultiDiscrete.sample(mask=...)`` takes them. They are exact for the next step: the
tick's timers (cooldowns, stun, respawn) run down at the end of a step, before the
observation is made. ``illegal_action="lenient"`` (the
default, so that unmasked samplers such as PettingZoo's seed test run) turns each masked
part into 0, a no-op; ``"strict"`` raises ValueError naming the agent, the part and the
allowed values, and leaves the env unchanged.

## Observation Space

A dict ``{"observation": {...}, "action_mask": (move, attack, ability)}``:

* ``entities``: ``Box(-1, 1, (32, 26), float32)``, entity slots (self, 4 allies, 5
  enemy heroes, 8 nearest enemy creeps, 4 nearest allied creeps, 5 own and 5 enemy
  structures; see :mod:`sim.arena.observe`) with features such as relative and absolute
  position, hp fraction, kind, role, level, alive, respawn timer, cooldowns, stun,
  memory age, in-attack-range and ability-target flags;
* ``entity_mask``: ``Box(0, 1, (32,), int8)``, which slots hold an entity. Enemy heroes
  out of sight fill their slot only with ``memory=True``, at their last-seen place with
  ``visible = 0`` and the memory's age.

  **What an agent learns of enemies out of sight.** A remembered enemy hero shows what
  its team saw last: position, hp, max hp and level at that tick; its cooldowns and stun
  read 0 (unknown). Public at all times: roles (the rosters), deaths (an enemy hero's
  ``alive`` flag and respawn timer are live, as the kill counts reveal deaths anyway),
  and enemy structures' places and whether they stand; their hp is as last seen by the
  team (refreshed whenever seen, also with ``memory=False``). Nothing else of the enemy
  reaches an observation, nor the team view of the renderer;
* ``grid``: ``Box(0, 1, (4, 15, 15), float32)``, the 15x15 cells around the hero:
  wall, bush, seen by the team now (the fog), off the map;
* ``globals``: ``Box(0, 1, (12,), float32)``, time, team sizes, structure health,
  kills, next wave (ticks until the next creep wave over the wave period, capped at 1;
  1 when creeps are off), heroes alive, own level, fog on, own flare active.

## Rewards

A weighted sum of named per-tick components in the manner of OpenAI Five
(``reward_weights`` overrides :data:`DEFAULT_REWARD_WEIGHTS`): ``damage`` (hp dealt to
enemy heroes), ``last_hit`` (creeps), ``kill``, ``death``, ``structure`` (hp dealt to
towers and core), ``win`` (+1 / -1 at the end). Then the team spirit ``tau`` blends
each hero's reward with its team's mean, ``(1 - tau) r_i + tau mean_team(r)``. With
``zero_sum=True`` (the default) each hero of a team of ``n`` then has ``T / (2 n)``
subtracted, ``T`` the step's total over both teams: each team's total becomes half the
difference of the two teams' totals, so the rewards of a step sum to 0 for any team
sizes (2v3 included), differences between teammates are kept, and what is already
zero-sum between equal teams (the win, a credited kill against its death) keeps its
size rather than doubling. :func:`envs.arena.raw.shaped_rewards` computes it for a
batch.
``env.unwrapped.reward_components()`` gives this step's raw amounts.

## Episode End

Termination for every agent when a core falls, or at ``time_limit`` ticks (3000 by
default), where the team with more total structure hp wins (equal: a draw);
``infos[agent]["winner"]`` is 0, 1 or 2 (draw) on the last step. No truncation.

## Arguments

``fogarena_v0.parallel_env(team_size=5, enemy_team_size=None, roles=None,
time_limit=3000, fog=True, memory=True, creeps=True, map_size=40,
illegal_action="lenient", reward_weights=None, zero_sum=True, team_spirit=0.3,
render_mode=None, render_team=None)``; ``env(...)`` takes the same and returns the AEC
version (PettingZoo's ``parallel_to_aec``). ``render_mode``: ``"human"`` or
``"rgb_array"``; ``render_team``: None (spectator) or a team whose fogged view is shown.
``env.unwrapped.save_replay(path)`` writes the match so far (seed and actions);
:func:`envs.arena.render.play_replay` plays it back.

## Version History

* v0: Initial version (review fixes before any release: simultaneous deaths, mirrored
  navigation, no leaks through remembered enemies, zero-sum for unequal teams, exact
  masks; replay files are version 2).
"""

from __future__ import annotations

from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils import parallel_to_aec

from envs.arena.raw import DEFAULT_REWARD_WEIGHTS, FogArenaParallelEnv

raw_env = FogArenaParallelEnv


def parallel_env(team_size: int = 5, **kwargs) -> ParallelEnv:
    """The parallel env (unwrapped: the raw env validates every action itself)."""
    return FogArenaParallelEnv(team_size=team_size, **kwargs)


def env(**kwargs) -> AECEnv:
    """The AEC env, by PettingZoo's conversion (with its order-enforcing wrapper)."""
    return parallel_to_aec(parallel_env(**kwargs))


__all__ = ["DEFAULT_REWARD_WEIGHTS", "env", "parallel_env", "raw_env"]

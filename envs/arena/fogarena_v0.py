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
truncated): its observation has ``alive = 0`` in slot 0, with its respawn timer, placed
at its spawn by the core; its action mask allows only 0 in every part, any action it
sends is ignored, and it keeps receiving its (team-blended) reward.

## Action Space

``MultiDiscrete([9, 33, 33])``: move direction (0 stay, 1..8 clockwise from north),
attack target (0 none, else entity slot + 1), ability target (0 none, else slot + 1).
The ability is cast if possible, else the attack is made, else the move; an attack
order on a target in range holds position while the attack recharges.

``obs["action_mask"]`` is a tuple of three int8 masks, one per part, as
``MultiDiscrete.sample(mask=...)`` takes them. ``illegal_action="lenient"`` (the
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
  ``visible = 0`` and the memory's age;
* ``grid``: ``Box(0, 1, (4, 15, 15), float32)``, the 15x15 cells around the hero:
  wall, bush, seen by the team now (the fog), off the map;
* ``globals``: ``Box(0, 1, (12,), float32)``, time, team sizes, structure health,
  kills, next wave, heroes alive, own level, fog on, own flare active.

## Rewards

A weighted sum of named per-tick components in the manner of OpenAI Five
(``reward_weights`` overrides :data:`DEFAULT_REWARD_WEIGHTS`): ``damage`` (hp dealt to
enemy heroes), ``last_hit`` (creeps), ``kill``, ``death``, ``structure`` (hp dealt to
towers and core), ``win`` (+1 / -1 at the end). Then the team spirit ``tau`` blends
each hero's reward with its team's mean, ``(1 - tau) r_i + tau mean_team(r)``, and
with ``zero_sum=True`` each hero's reward has the enemy team's mean subtracted.
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

* v0: Initial version.
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

"""Per-hero observations of FogArena (Numba): entity slots, an egocentric grid, global
scalars, and per-part action masks, all from what the hero's team sees.

Entity slots (``NUM_SLOTS`` rows of ``NUM_FEATURES``), each with a validity bit:

====== ==================================================================
slots  content
====== ==================================================================
0      the hero itself (always valid, also while dead)
1-4    allied heroes, in team order without self (valid if in the team)
5-9    enemy heroes by their team index (valid while seen; with memory,
       also where last seen, marked not-visible with the memory's age)
10-17  the nearest enemy creeps the team sees
18-21  the nearest allied creeps
22-26  own structures (top, mid, bot tower, base tower, core) while standing
27-31  enemy structures while standing (hp as last seen)
====== ==================================================================

What a team does not see stays hidden. A remembered enemy hero (not seen now) shows
what was seen last: position, hp, max hp and level at that tick, with the memory's age;
its cooldowns and stun read 0 (unknown). Its role is public (team rosters are), and so
are deaths: its ``alive`` flag and respawn timer are live, as the kill counts in the
globals would reveal a death anyway. Enemy structures are public in place and in being
standing or fallen; their hp is as last seen (refreshed whenever seen, with or without
the ``memory`` option).

Masks and features are computed after the tick's timers have run down, so they describe
exactly what the next tick will allow (see :mod:`sim.arena.kernels`).

Attack and ability targets are slot numbers + 1 (0 is "none"); ``slot_unit`` maps slots
back to unit ids for the core.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.arena.config import (
    CREEP0,
    CREEPS_PER_TEAM,
    F_ABL_CD,
    F_ALIVE,
    F_ATK_CD,
    F_ATK_PERIOD,
    F_EXISTS,
    F_HP,
    F_KIND,
    F_LEVEL,
    F_MAXHP,
    F_MOVE_CD,
    F_RESPAWN,
    F_ROLE,
    F_STUN,
    F_TEAM,
    F_X,
    F_Y,
    G_KILLS,
    G_TICK,
    G_WARD_T,
    KIND_CORE,
    KIND_CREEP,
    KIND_HERO,
    KIND_TOWER,
    M_HP,
    M_LEVEL,
    M_MAXHP,
    M_TICK,
    M_X,
    M_Y,
    MAX_LEVEL,
    MAX_TEAM,
    NUM_HEROES,
    NUM_MOVES,
    P_CREEPS,
    P_FIRST_WAVE,
    P_FOG,
    P_MEMORY,
    P_SIZE0,
    P_TIME_LIMIT,
    P_WAVE_PERIOD,
    ROLE_STATS,
    S_ABL_CD,
    STRUCT0,
    STRUCTS_PER_TEAM,
    TERRAIN_BUSH,
    TERRAIN_WALL,
)
from sim.arena.kernels import hero_ability_ok, hero_attack_ok, team_visible_cells
from sim.arena.mapgen import passable

NUM_SLOTS = 32
SLOT_SELF, SLOT_ALLY, SLOT_ENEMY_HERO = 0, 1, 5
SLOT_ENEMY_CREEP, NUM_ENEMY_CREEP_SLOTS = 10, 8
SLOT_ALLY_CREEP, NUM_ALLY_CREEP_SLOTS = 18, 4
SLOT_OWN_STRUCT, SLOT_ENEMY_STRUCT = 22, 27
FEATURES = (
    "visible", "dx", "dy", "x", "y", "hp", "max_hp", "ally", "hero", "creep", "tower",
    "core", "tank", "carry", "support", "mage", "scout", "level", "alive", "respawn",
    "attack_cooldown", "ability_cooldown", "stunned", "memory_age", "in_attack_range",
    "ability_target",
)  # fmt: skip
NUM_FEATURES = len(FEATURES)
GRID_CHANNELS = ("wall", "bush", "visible", "off_map")
GRID_RADIUS = 7
GRID_SIZE = 2 * GRID_RADIUS + 1
GLOBALS = (
    "time", "own_team_size", "enemy_team_size", "own_structures", "enemy_structures",
    "own_kills", "enemy_kills", "next_wave", "own_alive", "level", "fog", "own_flare",
)  # fmt: skip
NUM_GLOBALS_OBS = len(GLOBALS)
MEMORY_HORIZON = 500.0
MAX_HP_NORM = 3000.0


@njit(cache=True)
def _fill_slot(
    ui: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    n: int,
    h: int,
    u: int,
    s: int,
    tick: int,
    size: int,
    ent: np.ndarray,
    emask: np.ndarray,
    slot_unit: np.ndarray,
    matk: np.ndarray,
    mabl: np.ndarray,
    can_act: bool,
) -> None:
    team = ui[n, h, F_TEAM]
    f = ent[n, h, s]
    visible = ui[n, u, F_TEAM] == team or vis[n, team, u] == 1
    if visible:
        x = ui[n, u, F_X]
        y = ui[n, u, F_Y]
        hp = ui[n, u, F_HP]
        maxhp = ui[n, u, F_MAXHP]
        level = ui[n, u, F_LEVEL]
        f[0] = 1.0
    else:  # remembered: as it was when last seen
        x = mem[n, team, u, M_X]
        y = mem[n, team, u, M_Y]
        hp = mem[n, team, u, M_HP]
        maxhp = mem[n, team, u, M_MAXHP]
        level = mem[n, team, u, M_LEVEL]
        f[23] = min(1.0, (tick - mem[n, team, u, M_TICK]) / MEMORY_HORIZON)
    emask[n, h, s] = 1
    slot_unit[n, h, s] = u
    f[1] = (x - ui[n, h, F_X]) / size
    f[2] = (y - ui[n, h, F_Y]) / size
    f[3] = x / size
    f[4] = y / size
    f[5] = max(0, hp) / maxhp if maxhp > 0 else 0.0
    f[6] = min(1.0, maxhp / MAX_HP_NORM)
    f[7] = 1.0 if ui[n, u, F_TEAM] == team else 0.0
    kind = ui[n, u, F_KIND]
    f[8] = 1.0 if kind == KIND_HERO else 0.0
    f[9] = 1.0 if kind == KIND_CREEP else 0.0
    f[10] = 1.0 if kind == KIND_TOWER else 0.0
    f[11] = 1.0 if kind == KIND_CORE else 0.0
    if kind == KIND_HERO:
        role = ui[n, u, F_ROLE]
        f[12 + role] = 1.0  # public
        f[17] = level / MAX_LEVEL
        if ui[n, u, F_ALIVE] == 0:  # deaths are public
            f[19] = min(1.0, ui[n, u, F_RESPAWN] / 200.0)
        if visible:
            f[21] = ui[n, u, F_ABL_CD] / ROLE_STATS[role, S_ABL_CD]
    f[18] = 1.0 if ui[n, u, F_ALIVE] == 1 else 0.0
    if visible:
        period = ui[n, u, F_ATK_PERIOD]
        f[20] = ui[n, u, F_ATK_CD] / period if period > 0 else 0.0
        f[22] = 1.0 if ui[n, u, F_STUN] > 0 else 0.0
    if can_act and hero_attack_ok(ui, vis, n, h, u):
        f[24] = 1.0
        matk[n, h, 1 + s] = 1
    if can_act and hero_ability_ok(ui, vis, n, h, u):
        f[25] = 1.0
        mabl[n, h, 1 + s] = 1


@njit(cache=True)
def _next_wave(tick: int, params: np.ndarray) -> float:
    """Ticks until the next creep wave spawns, over the wave period, at most 1 (1 also
    when creeps are off); 0 means the very next tick."""
    if params[P_CREEPS] == 0:
        return 1.0
    period = params[P_WAVE_PERIOD]
    first = params[P_FIRST_WAVE]
    if tick <= first:
        wait = first - tick
    else:
        wait = (period - (tick - first) % period) % period
    return min(1.0, wait / period)


@njit(cache=True)
def observe(
    ui: np.ndarray,
    gi: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    terrain: np.ndarray,
    bush: np.ndarray,
    params: np.ndarray,
    ent: np.ndarray,
    emask: np.ndarray,
    slot_unit: np.ndarray,
    grid: np.ndarray,
    glob: np.ndarray,
    mmove: np.ndarray,
    matk: np.ndarray,
    mabl: np.ndarray,
    tvis: np.ndarray,
    wanted: np.ndarray,
) -> None:
    """Fill the observations of the heroes ``wanted`` (num_arenas, NUM_HEROES) marks
    (arrays indexed [arena, hero, ...]; the rows of the others are left as they were).

    ``tvis`` is (num_arenas, 2, size, size) uint8: the cells each team sees (also what
    renders the fog), filled for the teams with a hero wanted in that arena."""
    size = terrain.shape[0]
    memory = params[P_MEMORY] == 1
    dist = np.empty(CREEPS_PER_TEAM, dtype=np.int64)
    order = np.empty(CREEPS_PER_TEAM, dtype=np.int64)
    for n in range(ui.shape[0]):
        tick = gi[n, G_TICK]
        for team in range(2):
            for i in range(MAX_TEAM):
                if wanted[n, team * MAX_TEAM + i] != 0:  # a team nobody observes: skip
                    team_visible_cells(ui, gi, n, team, terrain, bush, params, tvis[n, team])
                    break
        next_wave = _next_wave(tick, params)
        max_struct = np.zeros(2, dtype=np.float64)
        alive = np.zeros(2, dtype=np.int64)
        for team in range(2):
            for k in range(STRUCTS_PER_TEAM):
                u = STRUCT0 + team * STRUCTS_PER_TEAM + k
                max_struct[team] += ui[n, u, F_MAXHP]
            for i in range(MAX_TEAM):
                alive[team] += ui[n, team * MAX_TEAM + i, F_ALIVE]
        for h in range(NUM_HEROES):
            if wanted[n, h] == 0:
                continue
            # Only the rows filled here are cleared: a scripted team's heroes cost nothing.
            ent[n, h] = 0.0
            emask[n, h] = 0
            slot_unit[n, h] = -1
            grid[n, h] = 0.0
            glob[n, h] = 0.0
            mmove[n, h] = 0
            matk[n, h] = 0
            mabl[n, h] = 0
            if ui[n, h, F_EXISTS] == 0:
                continue
            team = ui[n, h, F_TEAM]
            enemy = 1 - team
            hx = ui[n, h, F_X]
            hy = ui[n, h, F_Y]
            can_act = ui[n, h, F_ALIVE] == 1 and ui[n, h, F_STUN] == 0
            mmove[n, h, 0] = 1
            matk[n, h, 0] = 1
            mabl[n, h, 0] = 1
            if can_act and ui[n, h, F_MOVE_CD] == 0:
                for d in range(1, NUM_MOVES):
                    if passable(terrain, hx, hy, d):
                        mmove[n, h, d] = 1
            # self and allies
            _fill_slot(ui, vis, mem, n, h, h, SLOT_SELF, tick, size, ent, emask, slot_unit,
                       matk, mabl, can_act)  # fmt: skip
            s = SLOT_ALLY
            for i in range(MAX_TEAM):
                v = team * MAX_TEAM + i
                if v == h:
                    continue
                if ui[n, v, F_EXISTS] == 1:
                    _fill_slot(ui, vis, mem, n, h, v, s, tick, size, ent, emask, slot_unit,
                               matk, mabl, can_act)  # fmt: skip
                s += 1
            # enemy heroes: seen now, or remembered
            for i in range(MAX_TEAM):
                v = enemy * MAX_TEAM + i
                if ui[n, v, F_EXISTS] == 0:
                    continue
                seen_now = ui[n, v, F_ALIVE] == 1 and vis[n, team, v] == 1
                if seen_now or (memory and mem[n, team, v, M_TICK] >= 0):
                    _fill_slot(ui, vis, mem, n, h, v, SLOT_ENEMY_HERO + i, tick, size, ent,
                               emask, slot_unit, matk, mabl, can_act)  # fmt: skip
            # creeps, nearest first (ties by unit id)
            for side in range(2):
                ct = enemy if side == 0 else team
                first = CREEP0 + ct * CREEPS_PER_TEAM
                m = 0
                for j in range(CREEPS_PER_TEAM):
                    v = first + j
                    if ui[n, v, F_ALIVE] == 1 and vis[n, team, v] == 1:
                        dx = ui[n, v, F_X] - hx
                        dy = ui[n, v, F_Y] - hy
                        dist[m] = (dx * dx + dy * dy) * 1024 + j
                        order[m] = v
                        m += 1
                idx = np.argsort(dist[:m])
                limit = NUM_ENEMY_CREEP_SLOTS if side == 0 else NUM_ALLY_CREEP_SLOTS
                base = SLOT_ENEMY_CREEP if side == 0 else SLOT_ALLY_CREEP
                for r in range(min(m, limit)):
                    _fill_slot(ui, vis, mem, n, h, order[idx[r]], base + r, tick, size, ent,
                               emask, slot_unit, matk, mabl, can_act)  # fmt: skip
            # structures
            for side in range(2):
                st = team if side == 0 else enemy
                base = SLOT_OWN_STRUCT if side == 0 else SLOT_ENEMY_STRUCT
                for k in range(STRUCTS_PER_TEAM):
                    v = STRUCT0 + st * STRUCTS_PER_TEAM + k
                    if ui[n, v, F_ALIVE] == 1:
                        _fill_slot(ui, vis, mem, n, h, v, base + k, tick, size, ent, emask,
                                   slot_unit, matk, mabl, can_act)  # fmt: skip
            # egocentric grid
            tv = tvis[n, team]
            for gy in range(GRID_SIZE):
                y = hy + gy - GRID_RADIUS
                for gx in range(GRID_SIZE):
                    x = hx + gx - GRID_RADIUS
                    if x < 0 or y < 0 or x >= size or y >= size:
                        grid[n, h, 3, gy, gx] = 1.0
                        grid[n, h, 0, gy, gx] = 1.0
                        continue
                    t = terrain[y, x]
                    if t == TERRAIN_WALL:
                        grid[n, h, 0, gy, gx] = 1.0
                    elif t == TERRAIN_BUSH:
                        grid[n, h, 1, gy, gx] = 1.0
                    grid[n, h, 2, gy, gx] = tv[y, x]
            # global scalars
            own = 0.0
            other = 0.0
            for k in range(STRUCTS_PER_TEAM):
                own += max(0, ui[n, STRUCT0 + team * STRUCTS_PER_TEAM + k, F_HP])
                v = STRUCT0 + enemy * STRUCTS_PER_TEAM + k
                if ui[n, v, F_ALIVE] == 1:
                    other += (
                        ui[n, v, F_HP] if vis[n, team, v] == 1 else max(0, mem[n, team, v, M_HP])
                    )
            g = glob[n, h]
            g[0] = min(1.0, tick / params[P_TIME_LIMIT])
            g[1] = params[P_SIZE0 + team] / MAX_TEAM
            g[2] = params[P_SIZE0 + enemy] / MAX_TEAM
            g[3] = own / max_struct[team]
            g[4] = other / max_struct[enemy]
            g[5] = min(1.0, gi[n, G_KILLS + team] / 50.0)
            g[6] = min(1.0, gi[n, G_KILLS + enemy] / 50.0)
            g[7] = next_wave
            g[8] = alive[team] / MAX_TEAM
            g[9] = ui[n, h, F_LEVEL] / MAX_LEVEL
            g[10] = 1.0 if params[P_FOG] == 1 else 0.0
            g[11] = 1.0 if gi[n, G_WARD_T + team] > 0 else 0.0


class Observer:
    """Preallocated observation arrays for a batch, refilled by :meth:`compute`."""

    def __init__(self, num_arenas: int, map_size: int) -> None:
        n, h = num_arenas, NUM_HEROES
        self.entities = np.zeros((n, h, NUM_SLOTS, NUM_FEATURES), dtype=np.float32)
        self.entity_mask = np.zeros((n, h, NUM_SLOTS), dtype=np.int8)
        self.slot_unit = np.full((n, h, NUM_SLOTS), -1, dtype=np.int32)
        self.grid = np.zeros((n, h, len(GRID_CHANNELS), GRID_SIZE, GRID_SIZE), dtype=np.float32)
        self.globals = np.zeros((n, h, NUM_GLOBALS_OBS), dtype=np.float32)
        self.move_mask = np.zeros((n, h, NUM_MOVES), dtype=np.int8)
        self.attack_mask = np.zeros((n, h, NUM_SLOTS + 1), dtype=np.int8)
        self.ability_mask = np.zeros((n, h, NUM_SLOTS + 1), dtype=np.int8)
        self.team_cells = np.zeros((n, 2, map_size, map_size), dtype=np.uint8)
        self._all = np.ones((n, h), dtype=np.uint8)

    def compute(self, batch, heroes: np.ndarray | None = None) -> None:
        """Observe the heroes of ``batch`` (an :class:`~sim.arena.batch.ArenaBatch`):
        all of them, or those ``heroes`` marks ((num_arenas, NUM_HEROES), nonzero =
        observe). The rows of the others, and ``team_cells`` of a team with no hero
        observed in an arena, keep stale values: a scripted team costs nothing."""
        if heroes is None:
            heroes = self._all
        elif heroes.shape != self._all.shape:
            raise ValueError(f"heroes must have shape {self._all.shape}, got {heroes.shape}")
        m = batch.map
        observe(
            batch.ui, batch.gi, batch.vis, batch.mem, m.terrain, m.bush_id, batch.params,
            self.entities, self.entity_mask, self.slot_unit, self.grid, self.globals,
            self.move_mask, self.attack_mask, self.ability_mask, self.team_cells,
            np.ascontiguousarray(heroes, dtype=np.uint8),
        )  # fmt: skip

    def to_unit_actions(self, slot_actions: np.ndarray) -> np.ndarray:
        """(arena, hero, 3) slot actions (move, attack slot+1, ability slot+1; 0 = none)
        as the core's unit actions (targets -1 for none or an empty slot)."""
        a = np.asarray(slot_actions)
        out = np.empty(a.shape, dtype=np.int32)
        out[..., 0] = a[..., 0]
        for part in (1, 2):
            slot = a[..., part].astype(np.int64) - 1
            unit = np.take_along_axis(self.slot_unit, np.maximum(slot, 0)[..., None], axis=2)
            out[..., part] = np.where(slot >= 0, unit[..., 0], -1)
        return out

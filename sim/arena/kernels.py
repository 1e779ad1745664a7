"""Numba kernels of FogArena: reset, one simultaneous tick, and team vision, for a batch.

A tick, for every arena of the batch not yet over:

1. the scouts' flares run down; a creep wave spawns on wave ticks;
2. every unit decides from the state at the start of the tick: towers and creeps by
   their fixed rules, heroes by their actions (ability first, else attack, else move);
   damage, heals and stuns are summed and applied together, and kill / last-hit credit
   goes to the hero that dealt a unit the most damage this tick (ties: the lower index,
   always a hero of one team), so the order in which units are visited gives no side an
   edge;
3. deaths in two passes: every unit at 0 hp or less dies first, then credit and
   experience go out, experience only to the heroes still alive, so a level-up cannot
   save a hero from a blow landed in the same tick and even trades stay even; respawn
   timers start; then the moves of the living;
4. timers run down (attack, ability, move, stun, respawn), and heroes whose respawn
   timer reaches 0 reappear by their core; running timers down at the end of the tick
   (not its start) means that what the observations and masks show after a tick is what
   the next tick acts on; a core that falls ends the match; at the time limit the larger
   total structure health wins;
5. team vision is recomputed (and the last-seen memory refreshed).

Actions here name units, not observation slots: ``actions[arena, hero] = (move, attack
target unit or -1, ability target unit or -1)``; an action that is not possible is a
no-op (the envs enforce masks and strictness above this).

The static map arrays travel as one tuple, :meth:`sim.arena.mapgen.ArenaMap.kernel_arrays`:
``(terrain, bush_id, nav, spawns, creep_spawns, waypoints, num_waypoints)``.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.arena.config import (
    C_DAMAGE,
    C_DEATH,
    C_KILL,
    C_LAST_HIT,
    C_STRUCTURE,
    C_WIN,
    CARRY,
    CORE_INDEX,
    CORE_STATS,
    CREEP0,
    CREEP_AGGRO,
    CREEP_STATS,
    CREEPS_PER_LANE,
    CREEPS_PER_TEAM,
    DIR_DX,
    DIR_DY,
    F_ABL_CD,
    F_ALIVE,
    F_ATK_CD,
    F_ATK_PERIOD,
    F_DAMAGE,
    F_EXISTS,
    F_HIT_TICK,
    F_HP,
    F_KIND,
    F_LANE,
    F_LAST_HERO,
    F_LEVEL,
    F_MAXHP,
    F_MOVE_CD,
    F_MOVE_PERIOD,
    F_RANGE,
    F_RESPAWN,
    F_ROLE,
    F_SIGHT,
    F_STUN,
    F_TEAM,
    F_WAYPOINT,
    F_X,
    F_XP,
    F_Y,
    FOUNTAIN_HEAL,
    FOUNTAIN_RADIUS,
    G_DONE,
    G_KILLS,
    G_TICK,
    G_WARD_T,
    G_WARD_X,
    G_WARD_Y,
    G_WINNER,
    KIND_CORE,
    KIND_CREEP,
    KIND_HERO,
    KIND_TOWER,
    LEVEL_GROWTH_PCT,
    M_HP,
    M_LEVEL,
    M_MAXHP,
    M_TICK,
    M_X,
    M_Y,
    MAGE,
    MAX_LEVEL,
    MAX_TEAM,
    NUM_HEROES,
    NUM_LANES,
    NUM_UNITS,
    P_CREEPS,
    P_FIRST_WAVE,
    P_FOG,
    P_MEMORY,
    P_TIME_LIMIT,
    P_WAVE_PERIOD,
    RESPAWN_BASE,
    RESPAWN_PER_LEVEL,
    ROLE_STATS,
    S_ABL_CD,
    S_ABL_POWER,
    S_ABL_RADIUS,
    S_ABL_RANGE,
    S_ATK,
    S_DMG,
    S_HP,
    S_MOVE,
    S_RANGE,
    S_SIGHT,
    SCOUT,
    STRUCT0,
    STRUCTS_PER_TEAM,
    SUPPORT,
    TANK,
    TANK_STUN_DAMAGE,
    TERRAIN_BUSH,
    TERRAIN_WALL,
    TOWER_STATS,
    XP_CREEP,
    XP_HERO,
    XP_RADIUS,
)
from sim.arena.mapgen import passable

KILL_CREDIT_TICKS = 50  # a hero's damage earns the kill if the victim dies this soon

# Rows of the per-arena work buffer ``work[row, unit]`` that a tick sums into.
W_DMG, W_HEAL, W_STUN, W_MOVE, W_DEAD = range(5)  # W_DEAD: the units that die, in order
W_HERO = 5  # rows W_HERO + h: damage hero h dealt the unit this tick (kill credit)
WORK_ROWS = W_HERO + NUM_HEROES


# ---- small helpers -----------------------------------------------------------------
@njit(cache=True, inline="always")
def within(d2: int, r: int) -> bool:
    """Cell offsets with squared length ``d2`` lie within radius ``r`` (see config)."""
    return d2 <= r * r + r


@njit(cache=True)
def rand_below(rng: np.ndarray, n: int, bound: int) -> int:
    """A draw from 0..bound-1 off arena ``n``'s xorshift64* stream."""
    x = rng[n]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    rng[n] = x
    r = (x * np.uint64(2685821657736338717)) >> np.uint64(33)
    return int(r % np.uint64(bound))


def seed_state(seed: int) -> np.uint64:
    """A non-zero xorshift state from any integer seed (splitmix64)."""
    z = (int(seed) + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return np.uint64(z or 1)


@njit(cache=True)
def scaled(base: int, level: int) -> int:
    return base * (100 + LEVEL_GROWTH_PCT * (level - 1)) // 100


@njit(cache=True)
def line_of_sight(
    terrain: np.ndarray, bush: np.ndarray, x0: int, y0: int, x1: int, y1: int, own_bush: int
) -> bool:
    """No wall, nor a bush other than the observer's own, strictly between the cells."""
    dx = abs(x1 - x0)
    dy = -abs(y1 - y0)
    sx = 1 if x0 < x1 else -1
    sy = 1 if y0 < y1 else -1
    err = dx + dy
    x, y = x0, y0
    while True:
        e2 = 2 * err
        if e2 >= dy:
            err += dy
            x += sx
        if e2 <= dx:
            err += dx
            y += sy
        if x == x1 and y == y1:
            return True
        t = terrain[y, x]
        if t == TERRAIN_WALL:
            return False
        if t == TERRAIN_BUSH and bush[y, x] != own_bush:
            return False


@njit(cache=True)
def sees(
    terrain: np.ndarray,
    bush: np.ndarray,
    ox: int,
    oy: int,
    sight: int,
    tx: int,
    ty: int,
) -> bool:
    """Whether a unit at (ox, oy) with that sight sees the cell (tx, ty)."""
    dx = tx - ox
    dy = ty - oy
    if not within(dx * dx + dy * dy, sight):
        return False
    own = bush[oy, ox]
    target_bush = bush[ty, tx]
    if target_bush >= 0 and target_bush != own:
        return False  # a bush hides what is inside from everyone outside it
    if abs(dx) <= 1 and abs(dy) <= 1:
        return True
    return line_of_sight(terrain, bush, ox, oy, tx, ty, own)


# ---- reset -------------------------------------------------------------------------
@njit(cache=True)
def _set_stats(ui: np.ndarray, n: int, u: int, stats: np.ndarray) -> None:
    ui[n, u, F_MAXHP] = stats[0]
    ui[n, u, F_HP] = stats[0]
    ui[n, u, F_DAMAGE] = stats[1]
    ui[n, u, F_RANGE] = stats[2]
    ui[n, u, F_SIGHT] = stats[3]
    ui[n, u, F_ATK_PERIOD] = stats[4]
    ui[n, u, F_MOVE_PERIOD] = stats[5]


@njit(cache=True)
def _apply_hero_level(ui: np.ndarray, n: int, h: int) -> None:
    role = ui[n, h, F_ROLE]
    level = ui[n, h, F_LEVEL]
    old_max = ui[n, h, F_MAXHP]
    new_max = scaled(ROLE_STATS[role, S_HP], level)
    ui[n, h, F_MAXHP] = new_max
    ui[n, h, F_DAMAGE] = scaled(ROLE_STATS[role, S_DMG], level)
    if ui[n, h, F_ALIVE] == 1:
        ui[n, h, F_HP] = min(new_max, ui[n, h, F_HP] + new_max - old_max)


@njit(cache=True)
def reset_arena(
    ui: np.ndarray,
    gi: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    comp: np.ndarray,
    n: int,
    roles: np.ndarray,
    structures: np.ndarray,
    spawns: np.ndarray,
) -> None:
    """Arena ``n`` at tick 0: heroes at their spawns, structures full, no creeps."""
    ui[n] = 0
    gi[n] = 0
    gi[n, G_WINNER] = -1
    comp[n] = 0
    mem[n] = -1
    vis[n] = 0
    for u in range(NUM_UNITS):
        ui[n, u, F_LAST_HERO] = -1
        ui[n, u, F_HIT_TICK] = -1000
        ui[n, u, F_TEAM] = 0 if u < MAX_TEAM or (STRUCT0 <= u < STRUCT0 + STRUCTS_PER_TEAM) else 1
        if u >= CREEP0:
            ui[n, u, F_TEAM] = 0 if u < CREEP0 + CREEPS_PER_TEAM else 1
            ui[n, u, F_KIND] = KIND_CREEP
    for team in range(2):
        for i in range(MAX_TEAM):
            h = team * MAX_TEAM + i
            ui[n, h, F_KIND] = KIND_HERO
            role = roles[team, i]
            if role < 0:
                continue
            ui[n, h, F_EXISTS] = 1
            ui[n, h, F_ALIVE] = 1
            ui[n, h, F_ROLE] = role
            ui[n, h, F_LEVEL] = 1
            ui[n, h, F_X] = spawns[team, i, 0]
            ui[n, h, F_Y] = spawns[team, i, 1]
            ui[n, h, F_MAXHP] = ROLE_STATS[role, S_HP]
            ui[n, h, F_HP] = ROLE_STATS[role, S_HP]
            ui[n, h, F_DAMAGE] = ROLE_STATS[role, S_DMG]
            ui[n, h, F_RANGE] = ROLE_STATS[role, S_RANGE]
            ui[n, h, F_SIGHT] = ROLE_STATS[role, S_SIGHT]
            ui[n, h, F_ATK_PERIOD] = ROLE_STATS[role, S_ATK]
            ui[n, h, F_MOVE_PERIOD] = ROLE_STATS[role, S_MOVE]
        for k in range(STRUCTS_PER_TEAM):
            u = STRUCT0 + team * STRUCTS_PER_TEAM + k
            ui[n, u, F_EXISTS] = 1
            ui[n, u, F_ALIVE] = 1
            ui[n, u, F_KIND] = KIND_CORE if k == CORE_INDEX else KIND_TOWER
            ui[n, u, F_ROLE] = k
            ui[n, u, F_X] = structures[team, k, 0]
            ui[n, u, F_Y] = structures[team, k, 1]
            _set_stats(ui, n, u, CORE_STATS if k == CORE_INDEX else TOWER_STATS)
            # The map is public: both teams know where every structure stands.
            for t in range(2):
                _remember(ui, mem, n, t, u, 0)


# ---- one tick ------------------------------------------------------------------------
@njit(cache=True)
def _remember(ui: np.ndarray, mem: np.ndarray, n: int, team: int, u: int, tick: int) -> None:
    """``team``'s memory of unit ``u``: as it is now, seen at ``tick``."""
    mem[n, team, u, M_X] = ui[n, u, F_X]
    mem[n, team, u, M_Y] = ui[n, u, F_Y]
    mem[n, team, u, M_TICK] = tick
    mem[n, team, u, M_HP] = ui[n, u, F_HP]
    mem[n, team, u, M_MAXHP] = ui[n, u, F_MAXHP]
    mem[n, team, u, M_LEVEL] = ui[n, u, F_LEVEL]


@njit(cache=True)
def _deal(
    ui: np.ndarray, comp: np.ndarray, work: np.ndarray, n: int, src: int, dst: int, amount: int
) -> None:
    work[W_DMG, dst] += amount
    if src < NUM_HEROES:
        work[W_HERO + src, dst] += amount
        kind = ui[n, dst, F_KIND]
        if kind == KIND_HERO:
            comp[n, src, C_DAMAGE] += amount
        elif kind == KIND_TOWER or kind == KIND_CORE:
            comp[n, src, C_STRUCTURE] += amount


@njit(cache=True)
def _roll(rng: np.ndarray, n: int, base: int) -> int:
    """Damage varies by +-10% (the only chance in the rules)."""
    return base * (90 + rand_below(rng, n, 21)) // 100


@njit(cache=True)
def _step_towards(nav: np.ndarray, size: int, x: int, y: int, tx: int, ty: int) -> int:
    return int(nav[ty * size + tx, y * size + x])


@njit(cache=True)
def _gain_xp(ui: np.ndarray, n: int, h: int, xp: int) -> None:
    ui[n, h, F_XP] += xp
    while ui[n, h, F_LEVEL] < MAX_LEVEL:
        need = 100 + 50 * (ui[n, h, F_LEVEL] - 1)
        if ui[n, h, F_XP] < need:
            break
        ui[n, h, F_XP] -= need
        ui[n, h, F_LEVEL] += 1
        _apply_hero_level(ui, n, h)


@njit(cache=True)
def _share_xp(ui: np.ndarray, n: int, team: int, x: int, y: int, xp: int, killer: int) -> None:
    """``xp`` split among ``team``'s live heroes near (x, y) (and the killer)."""
    count = 0
    for i in range(MAX_TEAM):
        h = team * MAX_TEAM + i
        if ui[n, h, F_ALIVE] == 1:
            dx = ui[n, h, F_X] - x
            dy = ui[n, h, F_Y] - y
            if within(dx * dx + dy * dy, XP_RADIUS) or h == killer:
                count += 1
    if count == 0:
        return
    share = xp // count
    for i in range(MAX_TEAM):
        h = team * MAX_TEAM + i
        if ui[n, h, F_ALIVE] == 1:
            dx = ui[n, h, F_X] - x
            dy = ui[n, h, F_Y] - y
            if within(dx * dx + dy * dy, XP_RADIUS) or h == killer:
                _gain_xp(ui, n, h, share)


@njit(cache=True)
def _spawn_wave(ui: np.ndarray, n: int, creep_spawns: np.ndarray) -> None:
    for team in range(2):
        for lane in range(NUM_LANES):
            first = CREEP0 + team * CREEPS_PER_TEAM + lane * CREEPS_PER_LANE
            placed = 0
            for u in range(first, first + CREEPS_PER_LANE):
                if placed == 3:
                    break
                if ui[n, u, F_EXISTS] == 1:
                    continue
                kind = 1 if placed == 2 else 0  # two melee, one ranged
                ui[n, u, F_EXISTS] = 1
                ui[n, u, F_ALIVE] = 1
                ui[n, u, F_ROLE] = kind
                ui[n, u, F_X] = creep_spawns[team, lane, 0]
                ui[n, u, F_Y] = creep_spawns[team, lane, 1]
                ui[n, u, F_LANE] = lane
                ui[n, u, F_WAYPOINT] = 0
                ui[n, u, F_ATK_CD] = 0
                ui[n, u, F_MOVE_CD] = 0
                ui[n, u, F_STUN] = 0
                ui[n, u, F_LAST_HERO] = -1
                ui[n, u, F_HIT_TICK] = -1000
                _set_stats(ui, n, u, CREEP_STATS[kind])
                placed += 1


@njit(cache=True)
def hero_attack_ok(ui: np.ndarray, vis: np.ndarray, n: int, h: int, v: int) -> bool:
    """Hero ``h`` may attack unit ``v`` (an enemy it sees, alive, within range)."""
    if v < 0 or v >= NUM_UNITS or ui[n, v, F_ALIVE] == 0:
        return False
    team = ui[n, h, F_TEAM]
    if ui[n, v, F_TEAM] == team or vis[n, team, v] == 0:
        return False
    dx = ui[n, v, F_X] - ui[n, h, F_X]
    dy = ui[n, v, F_Y] - ui[n, h, F_Y]
    return within(dx * dx + dy * dy, ui[n, h, F_RANGE])


@njit(cache=True)
def hero_ability_ok(ui: np.ndarray, vis: np.ndarray, n: int, h: int, v: int) -> bool:
    """Hero ``h`` may cast its ability on unit ``v`` now (cooldown, target, range)."""
    if ui[n, h, F_ABL_CD] > 0 or v < 0 or v >= NUM_UNITS or ui[n, v, F_ALIVE] == 0:
        return False
    role = ui[n, h, F_ROLE]
    team = ui[n, h, F_TEAM]
    if role == TANK or role == SCOUT:
        return v == h
    dx = ui[n, v, F_X] - ui[n, h, F_X]
    dy = ui[n, v, F_Y] - ui[n, h, F_Y]
    if not within(dx * dx + dy * dy, ROLE_STATS[role, S_ABL_RANGE]):
        return False
    if role == SUPPORT:
        return ui[n, v, F_KIND] == KIND_HERO and ui[n, v, F_TEAM] == team
    # carry, mage: a seen enemy (the carry's shot is for heroes and creeps only)
    if ui[n, v, F_TEAM] == team or vis[n, team, v] == 0:
        return False
    if role == CARRY:
        return ui[n, v, F_KIND] == KIND_HERO or ui[n, v, F_KIND] == KIND_CREEP
    return True


@njit(cache=True)
def _cast(
    ui: np.ndarray,
    gi: np.ndarray,
    comp: np.ndarray,
    work: np.ndarray,
    n: int,
    h: int,
    v: int,
) -> None:
    role = ui[n, h, F_ROLE]
    team = ui[n, h, F_TEAM]
    level = ui[n, h, F_LEVEL]
    power = scaled(ROLE_STATS[role, S_ABL_POWER], level)
    radius = ROLE_STATS[role, S_ABL_RADIUS]
    ui[n, h, F_ABL_CD] = ROLE_STATS[role, S_ABL_CD]
    if role == CARRY:
        _deal(ui, comp, work, n, h, v, power)
    elif role == SUPPORT:
        work[W_HEAL, v] += power
    elif role == SCOUT:
        gi[n, G_WARD_X + team] = ui[n, h, F_X]
        gi[n, G_WARD_Y + team] = ui[n, h, F_Y]
        gi[n, G_WARD_T + team] = ROLE_STATS[role, S_ABL_POWER]
    else:  # tank (around itself) and mage (around its target): heroes and creeps
        cx = ui[n, v, F_X]
        cy = ui[n, v, F_Y]
        for w in range(NUM_UNITS):
            if ui[n, w, F_ALIVE] == 0 or ui[n, w, F_TEAM] == team:
                continue
            kind = ui[n, w, F_KIND]
            if kind != KIND_HERO and kind != KIND_CREEP:
                continue
            dx = ui[n, w, F_X] - cx
            dy = ui[n, w, F_Y] - cy
            if not within(dx * dx + dy * dy, radius):
                continue
            if role == TANK:
                work[W_STUN, w] = max(work[W_STUN, w], power)
                _deal(ui, comp, work, n, h, w, TANK_STUN_DAMAGE)
            elif role == MAGE:
                _deal(ui, comp, work, n, h, w, power)


@njit(cache=True)
def _kill(
    ui: np.ndarray,
    gi: np.ndarray,
    comp: np.ndarray,
    n: int,
    u: int,
    tick: int,
    spawns: np.ndarray,
) -> None:
    """The consequences of unit ``u``'s death, once every unit that dies this tick has
    been marked dead (so experience reaches survivors only). A hero credited with the
    kill gets it even if it fell in the same tick."""
    kind = ui[n, u, F_KIND]
    team = ui[n, u, F_TEAM]
    enemy = 1 - team
    x = ui[n, u, F_X]
    y = ui[n, u, F_Y]
    hero = ui[n, u, F_LAST_HERO]
    if kind == KIND_HERO:
        comp[n, u, C_DEATH] += 1
        gi[n, G_KILLS + enemy] += 1
        killer = -1
        if hero >= 0 and tick - ui[n, u, F_HIT_TICK] <= KILL_CREDIT_TICKS:
            killer = hero
            comp[n, killer, C_KILL] += 1
        _share_xp(ui, n, enemy, x, y, XP_HERO + 20 * ui[n, u, F_LEVEL], killer)
        level = ui[n, u, F_LEVEL]
        ui[n, u, F_RESPAWN] = RESPAWN_BASE + RESPAWN_PER_LEVEL * level
        slot = u - team * MAX_TEAM
        ui[n, u, F_X] = spawns[team, slot, 0]  # a dead hero waits by its core
        ui[n, u, F_Y] = spawns[team, slot, 1]
        ui[n, u, F_LAST_HERO] = -1
    elif kind == KIND_CREEP:
        ui[n, u, F_EXISTS] = 0
        killer = -1
        if hero >= 0 and ui[n, u, F_HIT_TICK] == tick:
            killer = hero
            comp[n, killer, C_LAST_HIT] += 1
        _share_xp(ui, n, enemy, x, y, XP_CREEP, killer)
    else:
        ui[n, u, F_EXISTS] = 0
        for i in range(MAX_TEAM):  # a fallen structure teaches its attackers
            h = enemy * MAX_TEAM + i
            if ui[n, h, F_ALIVE] == 1:
                _gain_xp(ui, n, h, 100)


@njit(cache=True)
def _structure_health(ui: np.ndarray, n: int, team: int) -> int:
    total = 0
    for k in range(STRUCTS_PER_TEAM):
        total += max(0, ui[n, STRUCT0 + team * STRUCTS_PER_TEAM + k, F_HP])
    return total


@njit(cache=True)
def _finish(ui: np.ndarray, gi: np.ndarray, comp: np.ndarray, n: int, winner: int) -> None:
    gi[n, G_DONE] = 1
    gi[n, G_WINNER] = winner
    if winner == 2:
        return
    for h in range(NUM_HEROES):
        if ui[n, h, F_EXISTS] == 1:
            comp[n, h, C_WIN] += 1.0 if ui[n, h, F_TEAM] == winner else -1.0


@njit(cache=True)
def _respawn(ui: np.ndarray, n: int, h: int, spawns: np.ndarray) -> None:
    team = ui[n, h, F_TEAM]
    ui[n, h, F_ALIVE] = 1
    ui[n, h, F_HP] = ui[n, h, F_MAXHP]
    ui[n, h, F_X] = spawns[team, h - team * MAX_TEAM, 0]
    ui[n, h, F_Y] = spawns[team, h - team * MAX_TEAM, 1]
    ui[n, h, F_ATK_CD] = 0
    ui[n, h, F_ABL_CD] = 0
    ui[n, h, F_MOVE_CD] = 0
    ui[n, h, F_STUN] = 0
    ui[n, h, F_RESPAWN] = 0


@njit(cache=True)
def _nearest_target(
    ui: np.ndarray, vis: np.ndarray, n: int, u: int, radius: int, kinds_mask: int
) -> int:
    """The nearest live enemy the unit's team sees within ``radius`` whose kind bit is set
    in ``kinds_mask`` (ties: lowest unit index), or -1."""
    team = ui[n, u, F_TEAM]
    x = ui[n, u, F_X]
    y = ui[n, u, F_Y]
    best = -1
    best_d2 = 1 << 30
    for v in range(NUM_UNITS):
        if ui[n, v, F_ALIVE] == 0 or ui[n, v, F_TEAM] == team or vis[n, team, v] == 0:
            continue
        if (kinds_mask >> ui[n, v, F_KIND]) & 1 == 0:
            continue
        dx = ui[n, v, F_X] - x
        dy = ui[n, v, F_Y] - y
        d2 = dx * dx + dy * dy
        if d2 < best_d2 and within(d2, radius):
            best = v
            best_d2 = d2
    return best


@njit(cache=True)
def step_arena(
    ui: np.ndarray,
    gi: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    comp: np.ndarray,
    rng: np.ndarray,
    n: int,
    actions: np.ndarray,
    maps: tuple,
    params: np.ndarray,
    work: np.ndarray,
) -> None:
    """One tick of arena ``n``; ``work`` is a (WORK_ROWS, NUM_UNITS) int32 scratch."""
    comp[n] = 0
    if gi[n, G_DONE] == 1:
        return
    terrain, bush, nav, spawns, creep_spawns, waypoints, num_waypoints = maps
    size = terrain.shape[0]
    tick = gi[n, G_TICK]
    work[:, :] = 0

    # 1. flares, waves
    for team in range(2):
        if gi[n, G_WARD_T + team] > 0:
            gi[n, G_WARD_T + team] -= 1
    if params[P_CREEPS] == 1 and tick >= params[P_FIRST_WAVE]:
        if (tick - params[P_FIRST_WAVE]) % params[P_WAVE_PERIOD] == 0:
            _spawn_wave(ui, n, creep_spawns)

    # 2a. towers and creeps (all damage is summed in ``work`` and applied together, so
    # the order of these loops decides nothing)
    for u in range(STRUCT0, NUM_UNITS):
        if ui[n, u, F_ALIVE] == 0 or ui[n, u, F_STUN] > 0:
            continue
        kind = ui[n, u, F_KIND]
        if kind == KIND_CORE:
            continue
        x = ui[n, u, F_X]
        y = ui[n, u, F_Y]
        if kind == KIND_TOWER:
            v = _nearest_target(ui, vis, n, u, ui[n, u, F_RANGE], 1 << KIND_CREEP)
            if v < 0:
                v = _nearest_target(ui, vis, n, u, ui[n, u, F_RANGE], 1 << KIND_HERO)
            if v >= 0 and ui[n, u, F_ATK_CD] == 0:
                _deal(ui, comp, work, n, u, v, _roll(rng, n, ui[n, u, F_DAMAGE]))
                ui[n, u, F_ATK_CD] = ui[n, u, F_ATK_PERIOD]
            continue
        # a creep: fight what it sees nearby, else walk its lane
        team = ui[n, u, F_TEAM]
        v = _nearest_target(ui, vis, n, u, CREEP_AGGRO, 0xF)
        if v >= 0:
            dx = ui[n, v, F_X] - x
            dy = ui[n, v, F_Y] - y
            if within(dx * dx + dy * dy, ui[n, u, F_RANGE]):
                if ui[n, u, F_ATK_CD] == 0:
                    _deal(ui, comp, work, n, u, v, _roll(rng, n, ui[n, u, F_DAMAGE]))
                    ui[n, u, F_ATK_CD] = ui[n, u, F_ATK_PERIOD]
                continue
            if ui[n, u, F_MOVE_CD] == 0:
                work[W_MOVE, u] = _step_towards(nav[team], size, x, y, ui[n, v, F_X], ui[n, v, F_Y])
            continue
        lane = ui[n, u, F_LANE]
        k = ui[n, u, F_WAYPOINT]
        last = num_waypoints[team, lane] - 1
        wx = waypoints[team, lane, k, 0]
        wy = waypoints[team, lane, k, 1]
        if k < last and abs(wx - x) <= 1 and abs(wy - y) <= 1:
            k += 1
            ui[n, u, F_WAYPOINT] = k
            wx = waypoints[team, lane, k, 0]
            wy = waypoints[team, lane, k, 1]
        if ui[n, u, F_MOVE_CD] == 0:
            work[W_MOVE, u] = _step_towards(nav[team], size, x, y, wx, wy)

    # 2b. heroes: ability, else attack, else move
    for h in range(NUM_HEROES):
        if ui[n, h, F_ALIVE] == 0:
            continue
        team = ui[n, h, F_TEAM]
        core = STRUCT0 + team * STRUCTS_PER_TEAM + CORE_INDEX
        dx = ui[n, h, F_X] - ui[n, core, F_X]
        dy = ui[n, h, F_Y] - ui[n, core, F_Y]
        if within(dx * dx + dy * dy, FOUNTAIN_RADIUS):
            work[W_HEAL, h] += FOUNTAIN_HEAL
        if ui[n, h, F_STUN] > 0:
            continue
        mv = actions[n, h, 0]
        at = actions[n, h, 1]
        ab = actions[n, h, 2]
        if ab >= 0 and hero_ability_ok(ui, vis, n, h, ab):
            _cast(ui, gi, comp, work, n, h, ab)
            continue
        if at >= 0 and hero_attack_ok(ui, vis, n, h, at):
            if ui[n, h, F_ATK_CD] == 0:
                _deal(ui, comp, work, n, h, at, _roll(rng, n, ui[n, h, F_DAMAGE]))
                ui[n, h, F_ATK_CD] = ui[n, h, F_ATK_PERIOD]
            continue
        if 1 <= mv <= 8 and ui[n, h, F_MOVE_CD] == 0:
            work[W_MOVE, h] = mv

    # 3. damage, heals, stuns and credit together; then deaths (two passes); then the
    # moves of the living
    for u in range(NUM_UNITS):
        if ui[n, u, F_ALIVE] == 0:
            continue
        d = work[W_DMG, u]
        if d != 0 or work[W_HEAL, u] != 0:
            ui[n, u, F_HP] = min(ui[n, u, F_MAXHP], ui[n, u, F_HP] - d + work[W_HEAL, u])
        if work[W_STUN, u] > ui[n, u, F_STUN]:
            ui[n, u, F_STUN] = work[W_STUN, u]
        if d == 0:
            continue
        best = -1
        best_amount = 0
        for h in range(NUM_HEROES):  # strict >: ties go to the lower index
            if work[W_HERO + h, u] > best_amount:
                best = h
                best_amount = work[W_HERO + h, u]
        if best >= 0:
            ui[n, u, F_LAST_HERO] = best
            ui[n, u, F_HIT_TICK] = tick
    dead = work[W_DEAD]
    ndead = 0
    for u in range(NUM_UNITS):
        if ui[n, u, F_ALIVE] == 1 and ui[n, u, F_HP] <= 0:
            ui[n, u, F_ALIVE] = 0
            ui[n, u, F_HP] = 0
            ui[n, u, F_STUN] = 0
            dead[ndead] = u
            ndead += 1
    for k in range(ndead):
        _kill(ui, gi, comp, n, dead[k], tick, spawns)
    for u in range(NUM_UNITS):
        d = work[W_MOVE, u]
        if d == 0 or ui[n, u, F_ALIVE] == 0 or ui[n, u, F_STUN] > 0:
            continue
        x = ui[n, u, F_X]
        y = ui[n, u, F_Y]
        if passable(terrain, x, y, d):
            ui[n, u, F_X] = x + DIR_DX[d]
            ui[n, u, F_Y] = y + DIR_DY[d]
            ui[n, u, F_MOVE_CD] = ui[n, u, F_MOVE_PERIOD]

    # 4. timers (after the tick's actions: the state observed next is the one acted on),
    # respawns, the end, the clock
    for u in range(NUM_UNITS):
        if ui[n, u, F_EXISTS] == 0:
            continue
        for f in (F_ATK_CD, F_ABL_CD, F_MOVE_CD, F_STUN):
            if ui[n, u, f] > 0:
                ui[n, u, f] -= 1
        if u < NUM_HEROES and ui[n, u, F_ALIVE] == 0:
            ui[n, u, F_RESPAWN] -= 1
            if ui[n, u, F_RESPAWN] <= 0:
                _respawn(ui, n, u, spawns)
    core0 = ui[n, STRUCT0 + CORE_INDEX, F_ALIVE]
    core1 = ui[n, STRUCT0 + STRUCTS_PER_TEAM + CORE_INDEX, F_ALIVE]
    gi[n, G_TICK] = tick + 1
    if core0 == 0 or core1 == 0 or tick + 1 >= params[P_TIME_LIMIT]:
        h0 = _structure_health(ui, n, 0)
        h1 = _structure_health(ui, n, 1)
        if core0 == 0 and core1 == 1:
            winner = 1
        elif core1 == 0 and core0 == 1:
            winner = 0
        elif h0 > h1:
            winner = 0
        elif h1 > h0:
            winner = 1
        else:
            winner = 2
        _finish(ui, gi, comp, n, winner)

    # 5. vision
    update_vision(ui, gi, vis, mem, n, terrain, bush, params)


@njit(cache=True)
def update_vision(
    ui: np.ndarray,
    gi: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    n: int,
    terrain: np.ndarray,
    bush: np.ndarray,
    params: np.ndarray,
) -> None:
    """``vis[n, team, u]``: the team's heroes, creeps, towers or flare see unit ``u``.

    A seen enemy structure is always remembered (hp as last seen, whatever the
    ``memory`` option); other seen enemies only with ``memory``."""
    fog = params[P_FOG] == 1
    memory = params[P_MEMORY] == 1
    tick = gi[n, G_TICK]
    # The observers of each team, gathered once: x, y, sight.
    obs = np.empty((2, NUM_UNITS, 3), dtype=np.int32)
    count = np.zeros(2, dtype=np.int32)
    for u in range(NUM_UNITS):
        if ui[n, u, F_ALIVE] == 1:
            t = ui[n, u, F_TEAM]
            c = count[t]
            obs[t, c, 0] = ui[n, u, F_X]
            obs[t, c, 1] = ui[n, u, F_Y]
            obs[t, c, 2] = ui[n, u, F_SIGHT]
            count[t] = c + 1
    ward_radius = ROLE_STATS[SCOUT, S_ABL_RADIUS]
    for team in range(2):
        wt = gi[n, G_WARD_T + team]
        wx = gi[n, G_WARD_X + team]
        wy = gi[n, G_WARD_Y + team]
        for u in range(NUM_UNITS):
            if ui[n, u, F_ALIVE] == 0:
                vis[n, team, u] = 0
                continue
            if ui[n, u, F_TEAM] == team or not fog:
                vis[n, team, u] = 1
            else:
                x = ui[n, u, F_X]
                y = ui[n, u, F_Y]
                seen = False
                if wt > 0:
                    dx = x - wx
                    dy = y - wy
                    seen = within(dx * dx + dy * dy, ward_radius)  # true sight
                if not seen:
                    for c in range(count[team]):
                        if sees(
                            terrain, bush, obs[team, c, 0], obs[team, c, 1], obs[team, c, 2], x, y
                        ):
                            seen = True
                            break
                vis[n, team, u] = 1 if seen else 0
            if vis[n, team, u] == 1 and ui[n, u, F_TEAM] != team:
                kind = ui[n, u, F_KIND]
                if memory or kind == KIND_TOWER or kind == KIND_CORE:
                    _remember(ui, mem, n, team, u, tick)


@njit(cache=True)
def step_batch(
    ui: np.ndarray,
    gi: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    comp: np.ndarray,
    rng: np.ndarray,
    actions: np.ndarray,
    maps: tuple,
    params: np.ndarray,
) -> None:
    """One tick of every arena of the batch (finished arenas stay as they are)."""
    work = np.empty((WORK_ROWS, NUM_UNITS), dtype=np.int32)
    for n in range(ui.shape[0]):
        step_arena(ui, gi, vis, mem, comp, rng, n, actions, maps, params, work)


@njit(cache=True)
def team_visible_cells(
    ui: np.ndarray,
    gi: np.ndarray,
    n: int,
    team: int,
    terrain: np.ndarray,
    bush: np.ndarray,
    params: np.ndarray,
    out: np.ndarray,
) -> None:
    """``out[y, x] = 1`` where the team sees the cell (what its fog leaves open)."""
    size = terrain.shape[0]
    if params[P_FOG] == 0:
        out[:, :] = 1
        return
    out[:, :] = 0
    for u in range(NUM_UNITS):
        if ui[n, u, F_ALIVE] == 0 or ui[n, u, F_TEAM] != team:
            continue
        ox = ui[n, u, F_X]
        oy = ui[n, u, F_Y]
        r = ui[n, u, F_SIGHT]
        for y in range(max(0, oy - r), min(size, oy + r + 1)):
            for x in range(max(0, ox - r), min(size, ox + r + 1)):
                if out[y, x] == 0 and sees(terrain, bush, ox, oy, r, x, y):
                    out[y, x] = 1
    if gi[n, G_WARD_T + team] > 0:
        r = ROLE_STATS[SCOUT, S_ABL_RADIUS]
        wx = gi[n, G_WARD_X + team]
        wy = gi[n, G_WARD_Y + team]
        for y in range(max(0, wy - r), min(size, wy + r + 1)):
            for x in range(max(0, wx - r), min(size, wx + r + 1)):
                if within((x - wx) * (x - wx) + (y - wy) * (y - wy), r):
                    out[y, x] = 1

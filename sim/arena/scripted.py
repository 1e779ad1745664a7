"""Scripted FogArena teams (Numba), at four levels, seeing only what their team sees.

* ``random``: a uniformly random legal choice for each action part.
* ``easy``: each hero goes to the nearest enemy it sees and attacks it; with none in
  sight it walks to the enemy core.
* ``medium``: push the middle lane towards the next enemy structure, focus fire on the
  weakest enemy hero in sight (else the weakest enemy in range), retreat to the fountain
  when low and heal up there.
* ``hard``: as medium, and also group up before pushing, use abilities (stun when
  enemy heroes are close, power shot or blast on the focus target, heal the weakest
  ally, flare when no enemy hero is in sight), defend the base against enemies near it,
  and scout against fog by walking to where enemy heroes were last seen.

The bots draw from their own random stream (never the rules' one), so a match replays
exactly from its seed and the recorded actions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.arena.config import (
    BASE_TOWER_INDEX,
    CORE_INDEX,
    F_ABL_CD,
    F_ALIVE,
    F_EXISTS,
    F_HP,
    F_KIND,
    F_MAXHP,
    F_RANGE,
    F_ROLE,
    F_TEAM,
    F_X,
    F_Y,
    FOUNTAIN_RADIUS,
    G_DONE,
    G_TICK,
    G_WARD_T,
    KIND_CREEP,
    KIND_HERO,
    MAX_TEAM,
    NUM_MOVES,
    NUM_UNITS,
    ROLE_STATS,
    S_ABL_RADIUS,
    SCOUT,
    STRUCT0,
    STRUCTS_PER_TEAM,
    SUPPORT,
    TANK,
)
from sim.arena.kernels import hero_ability_ok, hero_attack_ok, rand_below, within
from sim.arena.mapgen import passable

LEVELS = ("random", "easy", "medium", "hard")
RANDOM, EASY, MEDIUM, HARD = range(4)


def level_id(level: str | int) -> int:
    """The index of a level name (ValueError for an unknown one)."""
    if isinstance(level, str) and level in LEVELS:
        return LEVELS.index(level)
    if isinstance(level, int | np.integer) and 0 <= level < len(LEVELS):
        return int(level)
    raise ValueError(f"unknown scripted level {level!r}; choose one of {list(LEVELS)}")


@njit(cache=True)
def _d2(ui: np.ndarray, n: int, a: int, b: int) -> int:
    dx = ui[n, a, F_X] - ui[n, b, F_X]
    dy = ui[n, a, F_Y] - ui[n, b, F_Y]
    return dx * dx + dy * dy


@njit(cache=True)
def _towards(nav: np.ndarray, size: int, ui: np.ndarray, n: int, h: int, tx: int, ty: int) -> int:
    return int(nav[ty * size + tx, ui[n, h, F_Y] * size + ui[n, h, F_X]])


@njit(cache=True)
def _random_hero(
    ui: np.ndarray, vis: np.ndarray, n: int, h: int, brng: np.ndarray, terrain: np.ndarray
) -> tuple[int, int, int]:
    legal = np.empty(NUM_UNITS + 1, dtype=np.int32)
    k = 0
    for d in range(NUM_MOVES):
        if passable(terrain, ui[n, h, F_X], ui[n, h, F_Y], d):
            legal[k] = d
            k += 1
    mv = legal[rand_below(brng, n, k)]
    legal[0] = -1
    k = 1
    for v in range(NUM_UNITS):
        if hero_attack_ok(ui, vis, n, h, v):
            legal[k] = v
            k += 1
    at = legal[rand_below(brng, n, k)]
    k = 1
    for v in range(NUM_UNITS):
        if hero_ability_ok(ui, vis, n, h, v):
            legal[k] = v
            k += 1
    ab = legal[rand_below(brng, n, k)]
    return mv, at, ab


@njit(cache=True)
def _weakest_in_range(ui: np.ndarray, vis: np.ndarray, n: int, h: int) -> int:
    """The enemy in attack range with the least hp, heroes before the rest."""
    best = -1
    best_key = 1 << 40
    for v in range(NUM_UNITS):
        if not hero_attack_ok(ui, vis, n, h, v):
            continue
        key = ui[n, v, F_HP] + (0 if ui[n, v, F_KIND] == KIND_HERO else 1 << 20)
        if key < best_key:
            best = v
            best_key = key
    return best


@njit(cache=True)
def _hard_ability(
    ui: np.ndarray, gi: np.ndarray, vis: np.ndarray, n: int, h: int, team: int, focus: int
) -> int:
    if ui[n, h, F_ABL_CD] > 0:
        return -1
    role = ui[n, h, F_ROLE]
    enemy = 1 - team
    if role == TANK:
        r = ROLE_STATS[TANK, S_ABL_RADIUS]
        for i in range(MAX_TEAM):
            v = enemy * MAX_TEAM + i
            if ui[n, v, F_ALIVE] == 1 and vis[n, team, v] == 1 and within(_d2(ui, n, h, v), r):
                return h
        return -1
    if role == SCOUT:
        if gi[n, G_WARD_T + team] > 0:
            return -1
        for i in range(MAX_TEAM):
            v = enemy * MAX_TEAM + i
            if ui[n, v, F_ALIVE] == 1 and vis[n, team, v] == 1:
                return -1
        return h
    if role == SUPPORT:
        best = -1
        best_frac = 60  # heal allies under 60% hp only
        for i in range(MAX_TEAM):
            v = team * MAX_TEAM + i
            if ui[n, v, F_ALIVE] == 0 or not hero_ability_ok(ui, vis, n, h, v):
                continue
            frac = 100 * ui[n, v, F_HP] // max(1, ui[n, v, F_MAXHP])
            if frac < best_frac:
                best = v
                best_frac = frac
        return best
    # carry and mage: the focus target, else an enemy hero in ability range
    if focus >= 0 and hero_ability_ok(ui, vis, n, h, focus):
        return focus
    for i in range(MAX_TEAM):
        v = enemy * MAX_TEAM + i
        if hero_ability_ok(ui, vis, n, h, v):
            return v
    return -1


@njit(cache=True)
def scripted_actions(
    ui: np.ndarray,
    gi: np.ndarray,
    vis: np.ndarray,
    mem: np.ndarray,
    team: int,
    level: int,
    brng: np.ndarray,
    nav: np.ndarray,
    terrain: np.ndarray,
    actions: np.ndarray,
) -> None:
    """Write ``team``'s hero actions (unit targets) into ``actions[:, heroes, :]``."""
    size = terrain.shape[0]
    enemy = 1 - team
    own_core = STRUCT0 + team * STRUCTS_PER_TEAM + CORE_INDEX
    own_base = STRUCT0 + team * STRUCTS_PER_TEAM + BASE_TOWER_INDEX
    for n in range(ui.shape[0]):
        for i in range(MAX_TEAM):
            h = team * MAX_TEAM + i
            actions[n, h, 0] = 0
            actions[n, h, 1] = -1
            actions[n, h, 2] = -1
        if gi[n, G_DONE] == 1:
            continue
        tick = gi[n, G_TICK]
        # Team-wide picks: focus target, base threat, objective, centroid.
        focus = -1
        for i in range(MAX_TEAM):
            v = enemy * MAX_TEAM + i
            if ui[n, v, F_ALIVE] == 1 and vis[n, team, v] == 1:
                if focus < 0 or ui[n, v, F_HP] < ui[n, focus, F_HP]:
                    focus = v
        threat = -1
        if level == 3:
            for v in range(NUM_UNITS):
                if ui[n, v, F_ALIVE] == 0 or ui[n, v, F_TEAM] != enemy or vis[n, team, v] == 0:
                    continue
                kind = ui[n, v, F_KIND]
                if kind != KIND_HERO and kind != KIND_CREEP:
                    continue
                near = within(_d2(ui, n, v, own_core), 9)
                if ui[n, own_base, F_ALIVE] == 1:
                    near = near or within(_d2(ui, n, v, own_base), 8)
                if near and (threat < 0 or _d2(ui, n, v, own_core) < _d2(ui, n, threat, own_core)):
                    threat = v
        objective = -1
        for k in (1, BASE_TOWER_INDEX, CORE_INDEX):  # mid tower, base tower, core
            s = STRUCT0 + enemy * STRUCTS_PER_TEAM + k
            if ui[n, s, F_ALIVE] == 1:
                objective = s
                break
        cx = 0
        cy = 0
        alive = 0
        for i in range(MAX_TEAM):
            v = team * MAX_TEAM + i
            if ui[n, v, F_ALIVE] == 1:
                cx += ui[n, v, F_X]
                cy += ui[n, v, F_Y]
                alive += 1
        grouped = True
        if alive > 0:
            cx //= alive
            cy //= alive
            for i in range(MAX_TEAM):
                v = team * MAX_TEAM + i
                if ui[n, v, F_ALIVE] == 1:
                    dx = ui[n, v, F_X] - cx
                    dy = ui[n, v, F_Y] - cy
                    if not within(dx * dx + dy * dy, 4):
                        grouped = False
        # The freshest last-seen enemy hero (hard teams hunt it when none is in sight).
        hunt = -1
        for i in range(MAX_TEAM):
            v = enemy * MAX_TEAM + i
            seen = mem[n, team, v, 2]
            if seen >= 0 and tick - seen < 120 and (hunt < 0 or seen > mem[n, team, hunt, 2]):
                hunt = v

        for i in range(MAX_TEAM):
            h = team * MAX_TEAM + i
            if ui[n, h, F_EXISTS] == 0 or ui[n, h, F_ALIVE] == 0:
                continue
            if level == 0:
                mv, at, ab = _random_hero(ui, vis, n, h, brng, terrain)
                actions[n, h, 0] = mv
                actions[n, h, 1] = at
                actions[n, h, 2] = ab
                continue
            if level == 1:
                best = -1
                for v in range(NUM_UNITS):
                    if ui[n, v, F_ALIVE] == 0 or ui[n, v, F_TEAM] != enemy:
                        continue
                    if vis[n, team, v] == 0:
                        continue
                    if best < 0 or _d2(ui, n, h, v) < _d2(ui, n, h, best):
                        best = v
                if best >= 0 and hero_attack_ok(ui, vis, n, h, best):
                    actions[n, h, 1] = best
                elif best >= 0:
                    actions[n, h, 0] = _towards(
                        nav, size, ui, n, h, ui[n, best, F_X], ui[n, best, F_Y]
                    )
                else:
                    enemy_core = STRUCT0 + enemy * STRUCTS_PER_TEAM + CORE_INDEX
                    actions[n, h, 0] = _towards(
                        nav, size, ui, n, h, ui[n, enemy_core, F_X], ui[n, enemy_core, F_Y]
                    )
                continue
            # medium and hard
            hp100 = 100 * ui[n, h, F_HP]
            maxhp = ui[n, h, F_MAXHP]
            at_fountain = within(_d2(ui, n, h, own_core), FOUNTAIN_RADIUS)
            low = 30 if level == 2 else 35
            if hp100 < low * maxhp or (at_fountain and hp100 < 90 * maxhp):
                actions[n, h, 0] = _towards(
                    nav, size, ui, n, h, ui[n, own_core, F_X], ui[n, own_core, F_Y]
                )
                if at_fountain:
                    actions[n, h, 0] = 0
                    actions[n, h, 1] = _weakest_in_range(ui, vis, n, h)
                continue
            if level == 3:
                actions[n, h, 2] = _hard_ability(ui, gi, vis, n, h, team, focus)
            if focus >= 0 and hero_attack_ok(ui, vis, n, h, focus):
                actions[n, h, 1] = focus
            else:
                actions[n, h, 1] = _weakest_in_range(ui, vis, n, h)
            if actions[n, h, 1] >= 0:
                continue  # attacking: no move needed this tick
            tx = -1
            ty = -1
            chase = ui[n, h, F_RANGE] + 4
            if level == 3 and threat >= 0:
                tx = ui[n, threat, F_X]
                ty = ui[n, threat, F_Y]
            elif focus >= 0 and within(_d2(ui, n, h, focus), chase):
                tx = ui[n, focus, F_X]
                ty = ui[n, focus, F_Y]
            elif level == 3 and not grouped:
                tx = cx
                ty = cy
            elif level == 3 and focus < 0 and hunt >= 0 and ui[n, h, F_ROLE] == SCOUT:
                tx = mem[n, team, hunt, 0]
                ty = mem[n, team, hunt, 1]
            elif objective >= 0:
                tx = ui[n, objective, F_X]
                ty = ui[n, objective, F_Y]
            if tx >= 0:
                d = _towards(nav, size, ui, n, h, tx, ty)
                if d == 0 and not (tx == ui[n, h, F_X] and ty == ui[n, h, F_Y]):
                    d = 1 + rand_below(brng, n, 8)  # unreachable cell: wander
                actions[n, h, 0] = d

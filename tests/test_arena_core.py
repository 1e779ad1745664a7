"""FogArena core: map, determinism, fog of war, deaths, the end of a match, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sim.arena import ArenaBatch, ArenaConfig, Observer, ScriptedTeams
from sim.arena.config import (
    C_KILL,
    F_ABL_CD,
    F_ALIVE,
    F_DAMAGE,
    F_HP,
    F_LEVEL,
    F_MAXHP,
    F_RESPAWN,
    F_SIGHT,
    F_STUN,
    F_X,
    F_XP,
    F_Y,
    G_TICK,
    G_WARD_T,
    MAX_TEAM,
    NUM_HEROES,
    NUM_UNITS,
    ROLE_STATS,
    S_ABL_CD,
    STRUCT0,
    STRUCTS_PER_TEAM,
    TERRAIN_BUSH,
    TERRAIN_FLOOR,
    TERRAIN_WALL,
    XP_HERO,
)
from sim.arena.kernels import line_of_sight, scaled, update_vision, within
from sim.arena.mapgen import MAX_WAYPOINTS, OPPOSITE, build_map
from sim.arena.observe import SLOT_ENEMY_HERO, SLOT_ENEMY_STRUCT

ENEMY0 = MAX_TEAM  # unit id of team 1's first hero


def random_actions(batch: ArenaBatch, rng: np.random.Generator) -> np.ndarray:
    a = batch.noop_actions()
    a[..., 0] = rng.integers(0, 9, a.shape[:2])
    a[..., 1:] = rng.integers(-1, NUM_UNITS, a.shape[:2] + (2,))
    return a


def test_map_is_point_symmetric_with_lanes_and_bushes():
    m = build_map(40)
    assert np.array_equal(m.terrain, m.terrain[::-1, ::-1])
    assert (m.terrain == TERRAIN_BUSH).any() and (m.terrain == TERRAIN_WALL).any()
    s = m.size
    assert np.array_equal(m.structures[1], s - 1 - m.structures[0])
    # every lane waypoint and the enemy core can be reached from the own core
    core = m.structures[0, 4]
    targets = [tuple(m.structures[1, 4])]
    for lane in range(3):
        targets += [tuple(p) for p in m.waypoints[0, lane, : m.num_waypoints[0, lane]]]
    for x, y in targets:
        assert m.nav[0, y * s + x, core[1] * s + core[0]] != 0


@pytest.mark.parametrize("size", [24, 41, 64])
def test_navigation_and_waypoints_are_mirror_fair(size):
    """Team 1 walks exactly the point mirror of what team 0 walks (no tie-break edge)."""
    m = build_map(size)
    n = size * size
    # nav[1][t, c] is the opposite step of nav[0] at the mirrored target and cell
    assert np.array_equal(m.nav[1], OPPOSITE[m.nav[0][::-1, ::-1]])
    rng = np.random.default_rng(size)
    for t, c in rng.integers(0, n, (200, 2)):
        assert m.nav[1, n - 1 - t, n - 1 - c] == OPPOSITE[m.nav[0, t, c]]
    assert np.array_equal(m.num_waypoints[0], m.num_waypoints[1])
    for lane in range(3):
        k = m.num_waypoints[0, lane]
        assert np.array_equal(m.waypoints[1, lane, :k], size - 1 - m.waypoints[0, lane, :k])
    assert np.array_equal(m.spawns[1], size - 1 - m.spawns[0])
    assert np.array_equal(m.creep_spawns[1], size - 1 - m.creep_spawns[0])


@pytest.mark.parametrize("size", [61, 63])
def test_large_maps_build_and_step(size):
    m = build_map(size)
    assert m.num_waypoints.max() <= MAX_WAYPOINTS
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), map_size=size, first_wave=0))
    for _ in range(3):
        b.step(b.noop_actions())
    assert b.tick[0] == 3


def test_mirrored_match_is_mirrored():
    """Easy against easy from mirrored starts walks mirrored paths (same policy on both
    sides, creeps off; 30 ticks end before any hero falls)."""
    b = ArenaBatch(1, ArenaConfig(team_sizes=(3, 3), creeps=False, time_limit=60))
    teams = ScriptedTeams(b, ("easy", "easy"))
    a = b.noop_actions()
    s = b.map.size
    for _ in range(30):
        teams.act(a)
        b.step(a)
        x0, y0 = b.ui[0, :3, F_X], b.ui[0, :3, F_Y]
        x1, y1 = b.ui[0, 5:8, F_X], b.ui[0, 5:8, F_Y]
        assert np.array_equal(x1, s - 1 - x0) and np.array_equal(y1, s - 1 - y0)


def test_same_seed_same_actions_same_state_and_seed_matters():
    cfg = ArenaConfig(time_limit=400)
    runs = []
    for seed in (5, 5, 6):
        b = ArenaBatch(3, cfg, seed=seed)
        rng = np.random.default_rng(0)
        for _ in range(250):
            b.step(random_actions(b, rng))
        runs.append((b.state_hash(), b.ui.copy(), b.comp.copy()))
    assert runs[0][0] == runs[1][0]
    assert np.array_equal(runs[0][1], runs[1][1])
    # the units themselves differ with the seed (not only the random stream in the hash)
    assert not np.array_equal(runs[0][1], runs[2][1])


def test_scripted_match_is_deterministic_and_ends_with_a_result():
    cfg = ArenaConfig(team_sizes=(3, 2), time_limit=3000)
    out = []
    for _ in range(2):
        b = ArenaBatch(2, cfg, seed=11)
        teams = ScriptedTeams(b, ("hard", "easy"))
        a = b.noop_actions()
        while not b.done.all():
            teams.act(a)
            b.step(a)
        out.append((b.state_hash(), b.winner.tolist(), b.tick.tolist()))
    assert out[0] == out[1]
    assert all(w in (0, 1, 2) for w in out[0][1])


def test_time_limit_decides_by_structure_health():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), time_limit=5, creeps=False))
    b.ui[0, STRUCT0 + STRUCTS_PER_TEAM, F_HP] -= 100  # team 1's top tower is damaged
    for _ in range(5):
        assert not b.done[0]
        b.step(b.noop_actions())
    assert b.done[0] and b.winner[0] == 0
    assert b.comp[0, 0, -1] == 1.0 and b.comp[0, ENEMY0, -1] == -1.0


def test_core_death_ends_the_match_and_frozen_after():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False))
    core1 = STRUCT0 + STRUCTS_PER_TEAM + 4
    b.ui[0, core1, F_HP] = -1  # the next tick resolves the death
    b.step(b.noop_actions())
    assert b.done[0] and b.winner[0] == 0
    h = b.state_hash()
    b.step(b.noop_actions())
    assert b.state_hash() == h


def test_dead_hero_respawns_after_its_timer():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False))
    b.ui[0, 0, F_HP] = -100  # beyond the fountain heal
    b.step(b.noop_actions())
    assert b.ui[0, 0, F_ALIVE] == 0
    timer = int(b.ui[0, 0, F_RESPAWN])  # ticks until it is back
    assert timer > 0
    obs = Observer(1, 40)
    obs.compute(b)
    # a dead hero: slot 0 valid with alive = 0, every mask only "none"
    assert obs.entity_mask[0, 0, 0] == 1 and obs.entities[0, 0, 0, 18] == 0
    assert obs.entities[0, 0, 0, 19] == pytest.approx(timer / 200)
    assert obs.move_mask[0, 0].tolist() == [1] + [0] * 8
    assert obs.attack_mask[0, 0].sum() == 1 and obs.ability_mask[0, 0].sum() == 1
    for _ in range(timer - 1):
        b.step(b.noop_actions())
    assert b.ui[0, 0, F_ALIVE] == 0
    b.step(b.noop_actions())
    assert b.ui[0, 0, F_ALIVE] == 1
    assert (b.ui[0, 0, F_X], b.ui[0, 0, F_Y]) == tuple(b.map.spawns[0, 0])
    assert b.ui[0, 0, F_HP] == b.ui[0, 0, F_MAXHP] == ROLE_STATS[1, 0]
    obs.compute(b)  # and its masks open at once
    assert obs.move_mask[0, 0].sum() > 1


# ---- fog of war ------------------------------------------------------------------
def _place(b: ArenaBatch, unit: int, xy) -> None:
    b.ui[0, unit, F_X], b.ui[0, unit, F_Y] = xy


def _blind_structures(b: ArenaBatch) -> None:
    """Structures see only their own cell, so that heroes alone decide these tests."""
    b.ui[0, STRUCT0 : STRUCT0 + 2 * STRUCTS_PER_TEAM, F_SIGHT] = 0


def _far_from_structures(m, xy, r=2) -> bool:
    d = np.abs(m.structures.reshape(-1, 2) - np.asarray(xy)).max(axis=1)
    return bool((d > r).all())


def _find_blocked_pair(m):
    """Two plain floor cells 3..5 apart with a wall between, away from all structures."""
    floor = np.argwhere(m.terrain == TERRAIN_FLOOR)
    for y0, x0 in floor:
        if not _far_from_structures(m, (x0, y0)):
            continue
        for dx, dy in ((4, 0), (0, 4), (3, 3), (5, 0), (0, 5)):
            x1, y1 = x0 + dx, y0 + dy
            if not (0 <= x1 < m.size and 0 <= y1 < m.size):
                continue
            if m.terrain[y1, x1] != TERRAIN_FLOOR or not _far_from_structures(m, (x1, y1)):
                continue
            if not line_of_sight(m.terrain, m.bush_id, x0, y0, x1, y1, -1):
                return (x0, y0), (x1, y1)
    raise AssertionError("no blocked pair on the map")


def _observe(b: ArenaBatch) -> Observer:
    m = b.map
    _blind_structures(b)
    update_vision(b.ui, b.gi, b.vis, b.mem, 0, m.terrain, m.bush_id, b.params)
    o = Observer(1, m.size)
    o.compute(b)
    return o


def test_enemy_behind_a_wall_is_absent_and_a_teammate_sight_is_shared():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(2, 1), creeps=False, memory=False))
    m = b.map
    a, e = _find_blocked_pair(m)
    _place(b, 0, a)
    _place(b, ENEMY0, e)
    _place(b, 1, m.spawns[0, 1])  # the teammate far away at home
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 0
    assert o.entity_mask[0, 0, SLOT_ENEMY_HERO] == 0
    assert o.entity_mask[0, 1, SLOT_ENEMY_HERO] == 0
    assert o.attack_mask[0, 0, 1 + SLOT_ENEMY_HERO] == 0
    # the teammate steps next to the enemy: both heroes now observe it
    _place(b, 1, (e[0], e[1]))
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 1
    for h in (0, 1):
        assert o.entity_mask[0, h, SLOT_ENEMY_HERO] == 1
        assert o.entities[0, h, SLOT_ENEMY_HERO, 0] == 1.0  # seen now


def test_enemy_in_a_bush_is_hidden_from_outside_and_seen_from_inside():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False, memory=False))
    m = b.map
    bushes = np.argwhere(m.terrain == TERRAIN_BUSH)
    for y, x in bushes:
        if not _far_from_structures(m, (x, y)):
            continue
        outside = [
            (x + dx, y + dy)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
            if m.terrain[y + dy, x + dx] == TERRAIN_FLOOR
        ]
        inside = [
            (x + dx, y + dy)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1))
            if m.bush_id[y + dy, x + dx] == m.bush_id[y, x]
        ]
        if outside and inside:
            break
    else:
        raise AssertionError("no suitable bush")
    _place(b, ENEMY0, (x, y))
    _place(b, 0, outside[0])  # adjacent, but outside the bush
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 0 and o.entity_mask[0, 0, SLOT_ENEMY_HERO] == 0
    assert b.vis[0, 1, 0] == 1  # the hero in the bush sees the one outside
    _place(b, 0, inside[0])  # inside the same bush
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 1 and o.entity_mask[0, 0, SLOT_ENEMY_HERO] == 1


def test_a_teammate_at_range_with_clear_sight_shares_what_it_sees():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(2, 1), creeps=False, memory=False))
    m = b.map
    a, e = _find_blocked_pair(m)
    # a plain floor cell 3..6 from the enemy with a clear line of sight to it
    for dx, dy in [(dx, dy) for dx in range(-6, 7) for dy in range(-6, 7)]:
        c = (e[0] + dx, e[1] + dy)
        if not (0 <= c[0] < m.size and 0 <= c[1] < m.size) or max(abs(dx), abs(dy)) < 3:
            continue
        if m.terrain[c[1], c[0]] != TERRAIN_FLOOR or not within(dx * dx + dy * dy, 6):
            continue
        if line_of_sight(m.terrain, m.bush_id, c[0], c[1], e[0], e[1], -1):
            break
    else:
        raise AssertionError("no cell in clear sight of the enemy")
    _place(b, 0, a)
    _place(b, ENEMY0, e)
    _place(b, 1, c)
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 1
    for h in (0, 1):
        assert o.entity_mask[0, h, SLOT_ENEMY_HERO] == 1
        assert o.entities[0, h, SLOT_ENEMY_HERO, 0] == 1.0


def _seen_then_hidden(memory: bool = True):
    """Team 0's hero sees the enemy at tick 0, then the enemy stands behind a wall."""
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False, memory=memory))
    a, e = _find_blocked_pair(b.map)
    _place(b, 0, a)
    _place(b, ENEMY0, (a[0], a[1]))  # seen at the hero's cell
    _observe(b)
    _place(b, ENEMY0, e)
    return b, a, e


def test_memory_keeps_last_seen_position_and_its_age():
    b, a, e = _seen_then_hidden()
    for _ in range(3):
        b.step(b.noop_actions())
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 0 and b.tick[0] == 3
    assert o.entity_mask[0, 0, SLOT_ENEMY_HERO] == 1
    f = o.entities[0, 0, SLOT_ENEMY_HERO]
    assert f[0] == 0.0  # remembered, not seen
    assert f[3] == pytest.approx(a[0] / 40) and f[4] == pytest.approx(a[1] / 40)
    assert f[23] == pytest.approx(3 / 500)  # seen 3 ticks ago


def test_remembered_enemy_hero_shows_nothing_live_but_its_death():
    b, a, e = _seen_then_hidden()
    before = _observe(b).entities[0, 0, SLOT_ENEMY_HERO].copy()
    # out of sight it levels up, is hurt, uses its ability: none of it may show
    b.ui[0, ENEMY0, F_LEVEL] = 5
    b.ui[0, ENEMY0, F_MAXHP] = 800
    b.ui[0, ENEMY0, F_HP] = 100
    b.ui[0, ENEMY0, F_ABL_CD] = 30
    b.ui[0, ENEMY0, F_STUN] = 3
    after = _observe(b).entities[0, 0, SLOT_ENEMY_HERO]
    assert np.array_equal(before, after)
    assert after[21] == 0.0 and after[20] == 0.0 and after[22] == 0.0  # unknown
    # deaths are public: alive and the respawn timer are live
    b.ui[0, ENEMY0, F_HP] = -500
    b.step(b.noop_actions())
    f = _observe(b).entities[0, 0, SLOT_ENEMY_HERO]
    assert f[18] == 0.0 and f[19] > 0.0
    assert f[3] == pytest.approx(a[0] / 40)  # still where last seen


@pytest.mark.parametrize("memory", [False, True])
def test_enemy_structure_health_is_as_last_seen(memory):
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False, memory=memory))
    tower = STRUCT0 + STRUCTS_PER_TEAM  # team 1's top tower
    tx, ty = b.map.structures[1, 0]
    b.ui[0, tower, F_HP] = 1000
    _place(b, 0, (tx, ty + 1))  # right next to it
    o = _observe(b)
    assert b.vis[0, 0, tower] == 1
    assert o.entities[0, 0, SLOT_ENEMY_STRUCT, 5] == pytest.approx(0.5)
    _place(b, 0, b.map.spawns[0, 0])  # home, far away
    b.ui[0, tower, F_HP] = 500  # hit while unseen
    o = _observe(b)
    assert b.vis[0, 0, tower] == 0
    assert o.entities[0, 0, SLOT_ENEMY_STRUCT, 5] == pytest.approx(0.5)  # not 1.0, not 0.25


def test_next_wave_global():
    cfg = ArenaConfig(team_sizes=(1, 1), first_wave=10, wave_period=250)
    b = ArenaBatch(1, cfg)
    o = Observer(1, 40)
    for tick, want in ((0, 10 / 250), (10, 0.0), (11, 249 / 250), (260, 0.0), (300, 210 / 250)):
        b.gi[0, G_TICK] = tick
        o.compute(b)
        assert o.globals[0, 0, 7] == pytest.approx(want), tick
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), first_wave=600, wave_period=100))
    o.compute(b)
    assert o.globals[0, 0, 7] == 1.0  # further than a period away
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False))
    o.compute(b)
    assert o.globals[0, 0, 7] == 1.0  # no waves at all


def test_fog_off_shows_everything():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False, fog=False))
    a, e = _find_blocked_pair(b.map)
    _place(b, 0, a)
    _place(b, ENEMY0, e)
    _observe(b)
    assert b.vis[0, 0, ENEMY0] == 1


# ---- combat: deaths, credit, experience, abilities, masks ------------------------------
def _open_block(m, w: int = 5):
    """The top-left cell of a w x w block of plain floor away from cores (no fountain)."""
    cores = m.structures[:, 4].reshape(-1, 2)
    for y in range(1, m.size - w):
        for x in range(1, m.size - w):
            if (m.terrain[y : y + w, x : x + w] != TERRAIN_FLOOR).any():
                continue
            if (np.abs(cores - (x + w // 2, y + w // 2)).max(axis=1) > w + 4).all():
                return x, y
    raise AssertionError("no open block")


def _arena(roles0, roles1, **kw) -> tuple[ArenaBatch, tuple[int, int]]:
    """A batch with these roles, no creeps, harmless structures, and an open block."""
    cfg = ArenaConfig(
        team_sizes=(len(roles0), len(roles1)), roles=(roles0, roles1), creeps=False, **kw
    )
    b = ArenaBatch(1, cfg)
    b.ui[0, STRUCT0 : STRUCT0 + 2 * STRUCTS_PER_TEAM, F_DAMAGE] = 0
    return b, _open_block(b.map)


@pytest.mark.parametrize("swap", [False, True])
def test_a_mutual_kill_kills_both_whichever_side(swap):
    b, (x, y) = _arena(("carry",), ("carry",))
    p, q = (x, y), (x + 1, y)
    if swap:
        p, q = q, p
    _place(b, 0, p)
    _place(b, ENEMY0, q)
    b.ui[0, [0, ENEMY0], F_HP] = 25  # a killing blow's experience would level up and heal
    _observe(b)
    a = b.noop_actions()
    a[0, 0, 1] = ENEMY0
    a[0, ENEMY0, 1] = 0
    b.step(a)
    assert b.ui[0, 0, F_ALIVE] == 0 and b.ui[0, ENEMY0, F_ALIVE] == 0
    # both landed the killing blow: both credited; neither, dead, gains experience
    assert b.comp[0, 0, C_KILL] == 1 and b.comp[0, ENEMY0, C_KILL] == 1
    assert b.ui[0, 0, F_XP] == 0 and b.ui[0, ENEMY0, F_XP] == 0
    assert b.ui[0, 0, F_RESPAWN] == b.ui[0, ENEMY0, F_RESPAWN]


def test_kill_credit_goes_to_the_hero_dealing_the_most_damage():
    b, (x, y) = _arena(("carry", "tank"), ("carry",))
    _place(b, ENEMY0, (x + 2, y))
    _place(b, 0, (x, y))  # carry, 54..66 damage
    _place(b, 1, (x + 3, y))  # tank, melee, 36..44 damage (the higher index)
    b.ui[0, ENEMY0, F_HP] = 50
    _observe(b)
    a = b.noop_actions()
    a[0, 0, 1] = ENEMY0
    a[0, 1, 1] = ENEMY0
    b.step(a)
    assert b.ui[0, 0, F_ALIVE] == 0 or b.ui[0, ENEMY0, F_ALIVE] == 0
    assert b.ui[0, ENEMY0, F_ALIVE] == 0
    assert b.comp[0, 0, C_KILL] == 1 and b.comp[0, 1, C_KILL] == 0


def test_a_kill_gives_experience_and_a_level():
    b, (x, y) = _arena(("carry",), ("carry",))
    _place(b, 0, (x, y))
    _place(b, ENEMY0, (x + 2, y))
    b.ui[0, ENEMY0, F_HP] = 10
    hp0 = int(b.ui[0, 0, F_HP]) - 50
    b.ui[0, 0, F_HP] = hp0
    _observe(b)
    a = b.noop_actions()
    a[0, 0, 1] = ENEMY0
    b.step(a)
    assert b.ui[0, ENEMY0, F_ALIVE] == 0
    gained = XP_HERO + 20  # the victim was level 1
    assert b.ui[0, 0, F_LEVEL] == 2 and b.ui[0, 0, F_XP] == gained - 100
    assert b.ui[0, 0, F_MAXHP] == scaled(550, 2) and b.ui[0, 0, F_DAMAGE] == scaled(60, 2)
    assert b.ui[0, 0, F_HP] == hp0 + scaled(550, 2) - 550  # a level-up heals the growth
    assert b.ui[0, ENEMY0, F_RESPAWN] == 40 + 8 * 1 - 1  # ticks until it is back


def _cast(b: ArenaBatch, hero: int, target: int) -> None:
    _observe(b)
    a = b.noop_actions()
    a[0, hero, 2] = target
    b.step(a)


def test_abilities_and_cooldowns():
    # carry: power shot
    b, (x, y) = _arena(("carry",), ("tank",))
    _place(b, 0, (x, y))
    _place(b, ENEMY0, (x + 4, y))
    hp = int(b.ui[0, ENEMY0, F_HP])
    _cast(b, 0, ENEMY0)
    assert b.ui[0, ENEMY0, F_HP] == hp - 180
    assert b.ui[0, 0, F_ABL_CD] == ROLE_STATS[1, S_ABL_CD] - 1
    # support: heal an ally
    b, (x, y) = _arena(("support", "carry"), ("tank",))
    _place(b, 0, (x, y))
    _place(b, 1, (x + 3, y))
    b.ui[0, 1, F_HP] = 100
    _cast(b, 0, 1)
    assert b.ui[0, 1, F_HP] == 300
    # tank: stun and hurt the enemies around it
    b, (x, y) = _arena(("tank",), ("carry", "mage"))
    _place(b, 0, (x + 2, y + 2))
    _place(b, ENEMY0, (x + 3, y + 3))
    _place(b, ENEMY0 + 1, (x, y))  # out of the radius
    _cast(b, 0, 0)
    assert b.ui[0, ENEMY0, F_STUN] == 12 - 1 and b.ui[0, ENEMY0, F_HP] == 550 - 30
    assert b.ui[0, ENEMY0 + 1, F_STUN] == 0 and b.ui[0, ENEMY0 + 1, F_HP] == 500
    # mage: a blast around its target
    b, (x, y) = _arena(("mage",), ("carry", "support"))
    _place(b, 0, (x, y))
    _place(b, ENEMY0, (x + 4, y))
    _place(b, ENEMY0 + 1, (x + 4, y + 2))
    _cast(b, 0, ENEMY0)
    assert b.ui[0, ENEMY0, F_HP] == 550 - 120 and b.ui[0, ENEMY0 + 1, F_HP] == 520 - 120
    # scout: a flare of true sight reveals an enemy in a bush
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), roles=(("scout",), ("carry",)), creeps=False))
    m = b.map
    bush = [(x, y) for y, x in np.argwhere(m.terrain == TERRAIN_BUSH)]
    floor = [(x, y) for y, x in np.argwhere(m.terrain == TERRAIN_FLOOR)]
    for e in bush:
        if not _far_from_structures(m, e, 7):
            continue
        near = [f for f in floor if 2 <= max(abs(f[0] - e[0]), abs(f[1] - e[1])) <= 4]
        if near:
            break
    _place(b, ENEMY0, e)
    _place(b, 0, near[0])
    b.ui[0, ENEMY0, F_DAMAGE] = 0
    _observe(b)
    assert b.vis[0, 0, ENEMY0] == 0  # hidden in its bush
    _cast(b, 0, 0)
    assert b.vis[0, 0, ENEMY0] == 1 and b.gi[0, G_WARD_T] == 45
    assert b.ui[0, 0, F_ABL_CD] == ROLE_STATS[4, S_ABL_CD] - 1


def test_masks_say_what_the_next_tick_allows():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), roles=(("tank",), ("carry",)), creeps=False))
    o = Observer(1, 40)
    o.compute(b)
    d = int(np.flatnonzero(o.move_mask[0, 0])[1])  # a legal step
    # an ability one tick from ready: masked, and the kernel does not cast it either
    b.ui[0, 0, F_ABL_CD] = 1
    o.compute(b)
    assert o.ability_mask[0, 0].tolist() == [1] + [0] * 32
    a = b.noop_actions()
    a[0, 0, 2] = 0  # the tank's stun, on itself
    b.step(a)
    assert b.ui[0, 0, F_ABL_CD] == 0  # not cast
    o.compute(b)
    assert o.ability_mask[0, 0, 1] == 1  # now ready, and cast
    b.step(a)
    assert b.ui[0, 0, F_ABL_CD] == ROLE_STATS[0, S_ABL_CD] - 1
    # stunned for one more tick: no move allowed, none made
    b.ui[0, 0, F_STUN] = 1
    o.compute(b)
    assert o.move_mask[0, 0].tolist() == [1] + [0] * 8
    xy = (int(b.ui[0, 0, F_X]), int(b.ui[0, 0, F_Y]))
    a = b.noop_actions()
    a[0, 0, 0] = d
    b.step(a)
    assert (int(b.ui[0, 0, F_X]), int(b.ui[0, 0, F_Y])) == xy
    o.compute(b)
    assert o.move_mask[0, 0, d] == 1


def test_every_ability_the_mask_allows_is_cast():
    b = ArenaBatch(2, ArenaConfig(time_limit=400), seed=3)
    o = Observer(2, 40)
    rng = np.random.default_rng(0)
    casts = 0
    for _ in range(300):
        o.compute(b)
        slot = np.zeros((2, 10, 3), dtype=np.int64)
        for part, mask in enumerate((o.move_mask, o.attack_mask, o.ability_mask)):
            for n in range(2):
                for h in range(10):
                    allowed = np.flatnonzero(mask[n, h])
                    slot[n, h, part] = allowed[rng.integers(len(allowed))]
        a = o.to_unit_actions(slot)
        b.step(a)
        for n in range(2):
            for h in range(10):
                if slot[n, h, 2] > 0:
                    role = b.roles[h // MAX_TEAM, h % MAX_TEAM]
                    assert b.ui[n, h, F_ABL_CD] == ROLE_STATS[role, S_ABL_CD] - 1
                    casts += 1
    assert casts > 20


# ---- bad input -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"team_sizes": (0, 5)}, "team_sizes"),
        ({"team_sizes": (6, 5)}, "team_sizes"),
        ({"time_limit": 0}, "time_limit"),
        ({"map_size": 10}, "map_size"),
        ({"team_sizes": (1, 1), "roles": (("wizard",), ("tank",))}, "unknown role"),
        ({"team_sizes": (2, 1), "roles": (("tank",), ("tank",))}, "2 heroes"),
        ({"team_sizes": (True, 1)}, "team_sizes"),
        ({"fog": "yes"}, "fog"),
        ({"memory": 1}, "memory"),
        ({"creeps": None}, "creeps"),
        ({"map_size": 65}, "map_size"),
    ],
)
def test_bad_config_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        ArenaConfig(**kwargs)


def test_bad_actions_error_and_leave_state_unchanged():
    b = ArenaBatch(2, ArenaConfig(team_sizes=(2, 2)))
    h = b.state_hash()
    with pytest.raises(ValueError, match="shape"):
        b.step(np.zeros((2, 10, 2), dtype=np.int32))
    bad = b.noop_actions()
    bad[0, 0, 0] = 9
    with pytest.raises(ValueError, match="move directions"):
        b.step(bad)
    bad = b.noop_actions()
    bad[1, 3, 1] = NUM_UNITS
    with pytest.raises(ValueError, match="target units"):
        b.step(bad)
    with pytest.raises(ValueError, match="integers"):
        b.step(b.noop_actions().astype(np.float32))
    assert b.state_hash() == h


@pytest.mark.parametrize("seed", [True, 1 << 63, -(1 << 63) - 1, 1.5, [1, 2, 3]])
def test_bad_seeds_error_and_leave_state_unchanged(seed):
    b = ArenaBatch(2, ArenaConfig(team_sizes=(1, 1)))
    h = b.state_hash()
    with pytest.raises(ValueError, match="seed"):
        b.reset(seed)
    assert b.state_hash() == h


def test_observing_a_subset_of_heroes_fills_their_rows_as_observing_all():
    config = ArenaConfig(team_sizes=(3, 2))
    b = ArenaBatch(3, config, seed=5)
    bots = ScriptedTeams(b, ("medium", "easy"))
    everyone, some = Observer(3, config.map_size), Observer(3, config.map_size)
    wanted = np.zeros((3, NUM_HEROES), dtype=np.uint8)
    wanted[0, :3] = 1
    wanted[1, 5:7] = 1
    wanted[2, [0, 6, 9]] = 1  # hero 9 does not exist in a 3 v 2 match: an empty row
    rows = wanted.astype(bool)
    for _ in range(60):
        everyone.compute(b)
        some.compute(b, wanted)
        for name in ("entities", "entity_mask", "slot_unit", "grid", "globals", "move_mask",
                     "attack_mask", "ability_mask"):  # fmt: skip
            np.testing.assert_array_equal(
                getattr(some, name)[rows], getattr(everyone, name)[rows], err_msg=name
            )
        seen = [(0, 0), (1, 1), (2, 0), (2, 1)]  # (arena, team) with a hero observed
        for n, team in seen:
            np.testing.assert_array_equal(some.team_cells[n, team], everyone.team_cells[n, team])
        b.step(bots.act(b.noop_actions()))
    with pytest.raises(ValueError, match="heroes must have shape"):
        some.compute(b, wanted[:2])

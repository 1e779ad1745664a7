"""FogArena core: map, determinism, fog of war, deaths, the end of a match, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from sim.arena import ArenaBatch, ArenaConfig, Observer, ScriptedTeams
from sim.arena.config import (
    F_ALIVE,
    F_HP,
    F_RESPAWN,
    F_SIGHT,
    F_X,
    F_Y,
    MAX_TEAM,
    NUM_UNITS,
    STRUCT0,
    STRUCTS_PER_TEAM,
    TERRAIN_BUSH,
    TERRAIN_FLOOR,
    TERRAIN_WALL,
)
from sim.arena.kernels import line_of_sight, update_vision
from sim.arena.mapgen import build_map
from sim.arena.observe import SLOT_ENEMY_HERO

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
        assert m.nav[y * s + x, core[1] * s + core[0]] != 0


def test_same_seed_same_actions_same_hash_and_seed_matters():
    cfg = ArenaConfig(time_limit=400)
    hashes = []
    for seed in (5, 5, 6):
        b = ArenaBatch(3, cfg, seed=seed)
        rng = np.random.default_rng(0)
        for _ in range(250):
            b.step(random_actions(b, rng))
        hashes.append(b.state_hash())
    assert hashes[0] == hashes[1]
    assert hashes[0] != hashes[2]


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
    timer = int(b.ui[0, 0, F_RESPAWN])
    assert timer > 0
    obs = Observer(1, 40)
    obs.compute(b)
    # a dead hero: slot 0 valid with alive = 0, every mask only "none"
    assert obs.entity_mask[0, 0, 0] == 1 and obs.entities[0, 0, 0, 18] == 0
    assert obs.move_mask[0, 0].tolist() == [1] + [0] * 8
    assert obs.attack_mask[0, 0].sum() == 1 and obs.ability_mask[0, 0].sum() == 1
    for _ in range(timer):
        b.step(b.noop_actions())
    assert b.ui[0, 0, F_ALIVE] == 1


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


def test_memory_keeps_last_seen_position():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False, memory=True))
    a, e = _find_blocked_pair(b.map)
    _place(b, 0, a)
    _place(b, ENEMY0, (a[0], a[1]))  # seen at the hero's cell
    _observe(b)
    _place(b, ENEMY0, e)
    o = _observe(b)
    assert b.vis[0, 0, ENEMY0] == 0
    assert o.entity_mask[0, 0, SLOT_ENEMY_HERO] == 1
    f = o.entities[0, 0, SLOT_ENEMY_HERO]
    assert f[0] == 0.0  # remembered, not seen
    assert f[3] == pytest.approx(a[0] / 40) and f[4] == pytest.approx(a[1] / 40)


def test_fog_off_shows_everything():
    b = ArenaBatch(1, ArenaConfig(team_sizes=(1, 1), creeps=False, fog=False))
    a, e = _find_blocked_pair(b.map)
    _place(b, 0, a)
    _place(b, ENEMY0, e)
    _observe(b)
    assert b.vis[0, 0, ENEMY0] == 1


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

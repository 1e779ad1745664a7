"""FogArena constants: unit layout, field indices, role and unit stats, and the config.

Every arena of a batch holds the same fixed unit table (``NUM_UNITS`` rows): hero slots
first (team 0 then team 1, ``MAX_TEAM`` each, unused slots never exist), then the
structures (per team: top, mid and bottom lane towers, the base tower, the core), then
the creep pool (``CREEPS_PER_TEAM`` per team). All fields are int32 so that a state is
exact, hashable and cheap to copy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

MAX_TEAM = 5
NUM_HEROES = 2 * MAX_TEAM
NUM_LANES = 3
STRUCTS_PER_TEAM = 5  # three lane towers, a base tower, the core
CREEPS_PER_LANE = 6  # pool per lane and team (a wave is 3: two melee, one ranged)
CREEPS_PER_TEAM = NUM_LANES * CREEPS_PER_LANE
STRUCT0 = NUM_HEROES
CREEP0 = STRUCT0 + 2 * STRUCTS_PER_TEAM
NUM_UNITS = CREEP0 + 2 * CREEPS_PER_TEAM
CORE_INDEX = STRUCTS_PER_TEAM - 1  # within a team's structures
BASE_TOWER_INDEX = 3

# ---- unit fields (ui[arena, unit, field]) ----------------------------------------
F_EXISTS = 0  # slot in use (a hero of the team, a standing structure or a live creep)
F_TEAM = 1
F_KIND = 2
F_ROLE = 3  # hero role, creep type (0 melee, 1 ranged), else 0
F_X = 4
F_Y = 5
F_HP = 6
F_MAXHP = 7
F_ALIVE = 8
F_DAMAGE = 9
F_RANGE = 10
F_SIGHT = 11
F_ATK_PERIOD = 12
F_MOVE_PERIOD = 13
F_ATK_CD = 14
F_ABL_CD = 15
F_MOVE_CD = 16
F_STUN = 17
F_RESPAWN = 18
F_LEVEL = 19
F_XP = 20
F_LANE = 21
F_WAYPOINT = 22
F_LAST_HERO = 23  # the last enemy hero that damaged this unit (kill / last-hit credit)
F_HIT_TICK = 24  # tick of that damage
NUM_FIELDS = 25

KIND_HERO, KIND_CREEP, KIND_TOWER, KIND_CORE = 0, 1, 2, 3

# ---- global fields (gi[arena, field]) --------------------------------------------
G_TICK = 0
G_DONE = 1
G_WINNER = 2  # -1 ongoing, 0 / 1 the winning team, 2 a draw
G_KILLS = 3  # 3, 4: hero kills per team
G_WARD_X = 5  # 5, 6: per team, the scout's flare
G_WARD_Y = 7
G_WARD_T = 9  # ticks left
NUM_GLOBALS = 11

# ---- last-seen memory (mem[arena, team, unit, field]) ------------------------------
# What a team knew of an enemy unit when it last saw it (tick -1: never seen). Enemy
# structures are refreshed whenever seen, with or without the ``memory`` option.
M_X, M_Y, M_TICK, M_HP, M_MAXHP, M_LEVEL = range(6)
NUM_MEM = 6

# ---- parameters (params[i], one int32 vector for the whole batch) ----------------
P_TIME_LIMIT = 0
P_WAVE_PERIOD = 1
P_FIRST_WAVE = 2
P_SIZE0 = 3
P_SIZE1 = 4
P_FOG = 5
P_MEMORY = 6
P_CREEPS = 7  # creep waves on (1) or off (0)
NUM_PARAMS = 8

# ---- roles -----------------------------------------------------------------------
TANK, CARRY, SUPPORT, MAGE, SCOUT = 0, 1, 2, 3, 4
ROLE_NAMES = ("tank", "carry", "support", "mage", "scout")
ABILITY_NAMES = ("stun", "power_shot", "heal", "blast", "flare")
# Role order of a team of n heroes (the first n): a 1v1 is carry against carry.
DEFAULT_ROLES = (CARRY, TANK, SUPPORT, MAGE, SCOUT)

# Role stats: max hp, damage, attack range, sight, attack period, move period, ability
# cooldown, ability range, ability power (stun ticks, damage, heal, damage, flare ticks),
# ability radius. Ranges are in cells; a cell at offset (dx, dy) is within r when
# dx*dx + dy*dy <= r*r + r (so melee range 1 reaches the diagonal).
S_HP, S_DMG, S_RANGE, S_SIGHT, S_ATK, S_MOVE, S_ABL_CD, S_ABL_RANGE, S_ABL_POWER, S_ABL_RADIUS = (
    range(10)
)
ROLE_STATS = np.array(
    [
        [900, 40, 1, 7, 4, 1, 60, 0, 12, 2],  # tank: melee, durable; stun around itself
        [550, 60, 4, 7, 3, 1, 40, 5, 180, 0],  # carry: ranged damage; power shot
        [520, 30, 3, 7, 4, 1, 45, 4, 200, 0],  # support: heal an ally (or itself)
        [500, 35, 4, 7, 4, 1, 50, 5, 120, 2],  # mage: area blast around a target
        [500, 45, 2, 10, 3, 1, 80, 0, 45, 7],  # scout: long sight; flare (true sight)
    ],
    dtype=np.int32,
)
# Creeps (melee, ranged), towers, core: hp, damage, range, sight, attack period, move period.
CREEP_STATS = np.array([[300, 18, 1, 5, 4, 2], [220, 24, 3, 5, 4, 2]], dtype=np.int32)
TOWER_STATS = np.array([2000, 90, 5, 7, 5, 0], dtype=np.int32)
CORE_STATS = np.array([3000, 0, 0, 5, 1, 0], dtype=np.int32)

MAX_LEVEL = 10
LEVEL_GROWTH_PCT = 8  # max hp and damage per level above 1
XP_CREEP = 40  # shared by the enemy heroes near a creep that dies
XP_HERO = 120  # plus 20 per level of the victim
XP_RADIUS = 8
RESPAWN_BASE = 40
RESPAWN_PER_LEVEL = 8
FOUNTAIN_RADIUS = 4
FOUNTAIN_HEAL = 25  # hp per tick near one's own core
CREEP_AGGRO = 5
TANK_STUN_DAMAGE = 30

# ---- reward components (comp[arena, hero, c], this step's raw amounts) -----------
C_DAMAGE, C_LAST_HIT, C_KILL, C_DEATH, C_STRUCTURE, C_WIN = range(6)
REWARD_COMPONENTS = ("damage", "last_hit", "kill", "death", "structure", "win")

# Move directions: 0 stays, 1..8 clockwise from north (y grows downwards).
DIR_DX = np.array([0, 0, 1, 1, 1, 0, -1, -1, -1], dtype=np.int32)
DIR_DY = np.array([0, -1, -1, 0, 1, 1, 1, 0, -1], dtype=np.int32)
NUM_MOVES = 9

TERRAIN_FLOOR, TERRAIN_WALL, TERRAIN_BUSH = 0, 1, 2


def _is_int(value: object) -> bool:
    """An integer that is not a bool (True would pass for 1 otherwise)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


@dataclass(frozen=True)
class ArenaConfig:
    """Options of a FogArena match (the same for every arena of a batch).

    Args:
        team_sizes: heroes per team, each 1 to 5; teams may differ.
        roles: the roles of each team (names or ids of ``ROLE_NAMES``), or None for the
            first ``n`` of carry, tank, support, mage, scout.
        time_limit: ticks before the match is decided by structure health (the issue's
            setting is at least 3000, the default; shorter ones serve quick tests).
        wave_period: ticks between creep waves; ``first_wave`` is the first one's tick.
        fog: team vision (False: every unit is seen by both teams).
        memory: observations keep the last-seen position of enemies out of sight.
        creeps: spawn creep waves.
        map_size: side of the square map in cells (24 to 64).
    """

    team_sizes: tuple[int, int] = (5, 5)
    roles: tuple[tuple, tuple] | None = None
    time_limit: int = 3000
    wave_period: int = 250
    first_wave: int = 10
    fog: bool = True
    memory: bool = True
    creeps: bool = True
    map_size: int = 40

    def __post_init__(self) -> None:
        sizes = tuple(self.team_sizes)
        if len(sizes) != 2 or any(not _is_int(n) or not 1 <= n <= MAX_TEAM for n in sizes):
            raise ValueError(f"team_sizes must be two integers from 1 to {MAX_TEAM}, got {sizes}")
        object.__setattr__(self, "team_sizes", (int(sizes[0]), int(sizes[1])))
        for name in ("time_limit", "wave_period"):
            value = getattr(self, name)
            if not _is_int(value) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not _is_int(self.first_wave) or self.first_wave < 0:
            raise ValueError(f"first_wave must be a non-negative integer, got {self.first_wave!r}")
        if not _is_int(self.map_size) or not 24 <= self.map_size <= 64:
            raise ValueError(f"map_size must be an integer from 24 to 64, got {self.map_size!r}")
        for name in ("fog", "memory", "creeps"):
            value = getattr(self, name)
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"{name} must be True or False, got {value!r}")
            object.__setattr__(self, name, bool(value))
        for name in ("time_limit", "wave_period", "first_wave", "map_size"):
            object.__setattr__(self, name, int(getattr(self, name)))
        object.__setattr__(self, "roles", self._resolve_roles())

    def _resolve_roles(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        if self.roles is None:
            return tuple(DEFAULT_ROLES[:n] for n in self.team_sizes)  # type: ignore[return-value]
        if len(self.roles) != 2:
            raise ValueError(f"roles must give two teams' roles, got {self.roles!r}")
        out = []
        for team, (names, n) in enumerate(zip(self.roles, self.team_sizes, strict=True)):
            if len(names) != n:
                raise ValueError(
                    f"team {team} has {n} heroes but {len(names)} roles were given: {names!r}"
                )
            ids = []
            for name in names:
                if isinstance(name, str) and name in ROLE_NAMES:
                    ids.append(ROLE_NAMES.index(name))
                elif _is_int(name) and 0 <= name < len(ROLE_NAMES):
                    ids.append(int(name))
                else:
                    raise ValueError(f"unknown role {name!r}; roles are {list(ROLE_NAMES)}")
            out.append(tuple(ids))
        return tuple(out)  # type: ignore[return-value]

    def params(self) -> np.ndarray:
        """The int32 parameter vector the kernels read."""
        p = np.zeros(NUM_PARAMS, dtype=np.int32)
        p[P_TIME_LIMIT] = self.time_limit
        p[P_WAVE_PERIOD] = self.wave_period
        p[P_FIRST_WAVE] = self.first_wave
        p[P_SIZE0], p[P_SIZE1] = self.team_sizes
        p[P_FOG] = int(self.fog)
        p[P_MEMORY] = int(self.memory)
        p[P_CREEPS] = int(self.creeps)
        return p

    def role_table(self) -> np.ndarray:
        """(2, MAX_TEAM) role of each hero slot (-1 where the slot is unused)."""
        table = np.full((2, MAX_TEAM), -1, dtype=np.int32)
        for team in range(2):
            table[team, : self.team_sizes[team]] = self.roles[team]
        return table

    def to_dict(self) -> dict:
        d = asdict(self)
        d["team_sizes"] = list(self.team_sizes)
        d["roles"] = [[ROLE_NAMES[r] for r in team] for team in self.roles]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ArenaConfig:
        known = {"team_sizes", "roles", "time_limit", "wave_period", "first_wave"}
        known |= {"fog", "memory", "creeps", "map_size"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown arena options {unknown}")
        kwargs = dict(d)
        if "team_sizes" in kwargs:
            kwargs["team_sizes"] = tuple(kwargs["team_sizes"])
        if kwargs.get("roles") is not None:
            kwargs["roles"] = tuple(tuple(r) for r in kwargs["roles"])
        return cls(**kwargs)

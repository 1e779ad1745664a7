"""``ArenaBatch``: many FogArena matches held in flat arrays and stepped in one call."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from sim.arena.config import (
    G_DONE,
    G_TICK,
    G_WINNER,
    NUM_FIELDS,
    NUM_GLOBALS,
    NUM_HEROES,
    NUM_MEM,
    NUM_MOVES,
    NUM_UNITS,
    REWARD_COMPONENTS,
    ArenaConfig,
)
from sim.arena.kernels import reset_arena, seed_state, step_batch, update_vision
from sim.arena.mapgen import ArenaMap, build_map

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
ACTION_PARTS = 3  # move direction, attack target unit (-1 none), ability target unit (-1)


class ArenaBatch:
    """``num_arenas`` FogArena matches with one config, stepped together.

    Arrays (all NumPy, first axis the arena): ``ui`` (units x fields, int32), ``gi``
    (globals, int32), ``vis`` (team x unit: seen now), ``mem`` (team x unit x (x, y,
    tick, hp, max hp, level) as last seen, fields ``M_*``), ``comp`` (hero x reward
    component, this tick's raw amounts), ``rng`` (the rules' random stream, one per
    arena). Field indices: :mod:`config`.

    Each arena is deterministic given its seed and actions: :meth:`state_hash` is equal
    for equal histories.
    """

    def __init__(
        self, num_arenas: int = 1, config: ArenaConfig | None = None, seed: int | None = 0
    ) -> None:
        if not isinstance(num_arenas, int | np.integer) or num_arenas < 1:
            raise ValueError(f"num_arenas must be a positive integer, got {num_arenas!r}")
        self.config = config if config is not None else ArenaConfig()
        if not isinstance(self.config, ArenaConfig):
            raise ValueError(f"config must be an ArenaConfig, got {type(config).__name__}")
        self.num_arenas = int(num_arenas)
        self.map: ArenaMap = build_map(self.config.map_size)
        self._map_arrays = self.map.kernel_arrays()
        self.params = self.config.params()
        self.roles = self.config.role_table()
        n = self.num_arenas
        self.ui = np.zeros((n, NUM_UNITS, NUM_FIELDS), dtype=np.int32)
        self.gi = np.zeros((n, NUM_GLOBALS), dtype=np.int32)
        self.vis = np.zeros((n, 2, NUM_UNITS), dtype=np.uint8)
        self.mem = np.zeros((n, 2, NUM_UNITS, NUM_MEM), dtype=np.int32)
        self.comp = np.zeros((n, NUM_HEROES, len(REWARD_COMPONENTS)), dtype=np.float32)
        self.rng = np.zeros(n, dtype=np.uint64)
        self.seeds = np.zeros(n, dtype=np.int64)
        self.reset(seed)

    # ---- lifecycle -------------------------------------------------------------------
    def reset(self, seed: int | Sequence[int] | None = None, arenas: Sequence[int] | None = None):
        """Restart the given arenas (all by default, else the listed indices).

        ``seed``: one int (the j-th restarted arena gets ``seed + j``: arena ``i`` gets
        ``seed + i`` only when all are restarted), one int per restarted arena, or None
        for fresh entropy. Seeds are integers in the int64 range (bools are refused)."""
        idx = np.arange(self.num_arenas) if arenas is None else np.asarray(arenas, dtype=np.int64)
        if idx.ndim != 1 or (idx.size and (idx.min() < 0 or idx.max() >= self.num_arenas)):
            raise ValueError(f"arenas must be indices below {self.num_arenas}, got {arenas!r}")
        if seed is None:
            seeds = np.random.SeedSequence().generate_state(len(idx), dtype=np.uint32)
            seeds = seeds.astype(np.int64)
        elif isinstance(seed, int | np.integer) and not isinstance(seed, bool | np.bool_):
            if not INT64_MIN <= int(seed) <= INT64_MAX - len(idx):
                raise ValueError(f"seed must fit in int64 (with one per arena), got {seed!r}")
            seeds = int(seed) + np.arange(len(idx), dtype=np.int64)
        else:
            raw = np.asarray(seed)
            if raw.dtype == bool or not np.issubdtype(raw.dtype, np.integer):
                raise ValueError(f"seeds must be integers, got {seed!r}")
            if raw.shape != idx.shape:
                raise ValueError(f"need {len(idx)} seeds, got shape {raw.shape}")
            if raw.size and (raw.min() < INT64_MIN or raw.max() > INT64_MAX):
                raise ValueError(f"seeds must fit in int64, got {seed!r}")
            seeds = raw.astype(np.int64)
        m = self.map
        for i, s in zip(idx.tolist(), seeds.tolist(), strict=True):
            self.seeds[i] = s
            self.rng[i] = seed_state(int(s))
            reset_arena(
                self.ui, self.gi, self.vis, self.mem, self.comp, i, self.roles, m.structures,
                m.spawns,
            )  # fmt: skip
            update_vision(self.ui, self.gi, self.vis, self.mem, i, m.terrain, m.bush_id,
                          self.params)  # fmt: skip

    def check_actions(self, actions: np.ndarray) -> np.ndarray:
        """``actions`` as int32 (num_arenas, 10, 3), or ValueError naming the problem."""
        a = np.asarray(actions)
        want = (self.num_arenas, NUM_HEROES, ACTION_PARTS)
        if a.shape != want:
            raise ValueError(f"actions must have shape {want} (arena, hero, part), got {a.shape}")
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"actions must be integers, got dtype {a.dtype}")
        if a.size:
            if a[..., 0].min() < 0 or a[..., 0].max() >= NUM_MOVES:
                raise ValueError(f"move directions must be 0..{NUM_MOVES - 1}")
            t = a[..., 1:]
            if t.min() < -1 or t.max() >= NUM_UNITS:
                raise ValueError(f"target units must be -1 (none) or 0..{NUM_UNITS - 1}")
        return np.ascontiguousarray(a, dtype=np.int32)

    def step(self, actions: np.ndarray, check: bool = True) -> None:
        """One tick of every arena (finished ones stay frozen until :meth:`reset`)."""
        a = self.check_actions(actions) if check else actions
        step_batch(
            self.ui, self.gi, self.vis, self.mem, self.comp, self.rng, a, self._map_arrays,
            self.params,
        )  # fmt: skip

    def noop_actions(self) -> np.ndarray:
        a = np.zeros((self.num_arenas, NUM_HEROES, ACTION_PARTS), dtype=np.int32)
        a[..., 1:] = -1
        return a

    # ---- views ---------------------------------------------------------------------------
    @property
    def done(self) -> np.ndarray:
        return self.gi[:, G_DONE] == 1

    @property
    def winner(self) -> np.ndarray:
        """-1 while playing, then 0 or 1 (the winning team) or 2 (a draw)."""
        return self.gi[:, G_WINNER].copy()

    @property
    def tick(self) -> np.ndarray:
        return self.gi[:, G_TICK].copy()

    # ---- state ---------------------------------------------------------------------------
    _ARRAYS = ("ui", "gi", "vis", "mem", "comp", "rng", "seeds")

    def get_state(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k).copy() for k in self._ARRAYS}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        for k in self._ARRAYS:
            if state[k].shape != getattr(self, k).shape:
                raise ValueError(f"state[{k!r}] has shape {state[k].shape}, not the batch's")
        for k in self._ARRAYS:
            getattr(self, k)[...] = state[k]

    def state_hash(self, arena: int | None = None) -> str:
        """SHA-256 of everything that evolves (one arena, or the whole batch)."""
        sel = slice(None) if arena is None else slice(arena, arena + 1)
        h = hashlib.sha256()
        for k in ("ui", "gi", "vis", "mem", "rng"):
            h.update(np.ascontiguousarray(getattr(self, k)[sel]).tobytes())
        return h.hexdigest()

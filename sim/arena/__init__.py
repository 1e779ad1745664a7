"""FogArena: a small team MOBA with fog of war, as a vectorized Numba core.

:class:`ArenaBatch` holds many matches and steps them in one call; :class:`Observer`
turns a batch into per-hero observations and action masks; :mod:`scripted` has the
built-in teams; :mod:`replay` the replay files.
"""

from __future__ import annotations

from sim.arena.batch import ArenaBatch
from sim.arena.config import ArenaConfig
from sim.arena.match import ScriptedTeams, play_matches
from sim.arena.observe import Observer
from sim.arena.scripted import LEVELS

__all__ = ["LEVELS", "ArenaBatch", "ArenaConfig", "Observer", "ScriptedTeams", "play_matches"]

"""FogArena envs: PettingZoo (:mod:`fogarena_v0`) and Gymnasium (``simarena/FogArena-v0``)."""

from __future__ import annotations

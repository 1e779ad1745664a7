"""Driving env: ``simarena/Drive-v0`` (:class:`DriveEnv`) over :mod:`sim.driving`."""

from __future__ import annotations

from envs.driving.env import DISCRETE_ACTIONS, OBS_MODES, DriveEnv

__all__ = ["DISCRETE_ACTIONS", "OBS_MODES", "DriveEnv"]

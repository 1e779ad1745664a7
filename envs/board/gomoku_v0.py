"""Gomoku (PettingZoo AEC).

## Description

Free-style Gomoku on a 15x15 board, or any size from 5 to 19: players place stones in
turn on empty points; five **or more** in a row wins, a full board without one is a
draw. ``player_0`` (Black) moves first. Rules: :mod:`sim.board.gomoku`.

## Action Space

``Discrete(size * size)``: point ``row * size + col`` (row 0 at the top). There is no
pass; an occupied point is illegal.

## Observation Space

A dict: ``"observation"`` is ``Box(0, 1, (3, size, size), float32)``, the planes of
:func:`sim.board.gomoku.observation_into` (the observing agent's stones, the opponent's,
the last move) computed from that agent's side whether or not it is its turn;
``"action_mask"`` is ``Box(0, 1, (size * size,), int8)``, the empty points for the agent
to move and all zero for the other agent.

## Rewards

+1 to the winner and -1 to the loser on the last move; 0 otherwise and for a draw.

## Episode End

Termination on five in a row or a full board. No truncation.

## Arguments

``gomoku_v0.env(render_mode=None, illegal_move="raise", size=15)``

* ``render_mode``: ``"human"`` (a window), ``"rgb_array"`` (a frame) or ``"ansi"`` (text).
* ``illegal_move``: ``"raise"`` (default) raises ValueError naming the move and the legal
  ones, leaving the env unchanged; ``"lose"`` ends the game with -1 for the offender (and
  0 for the other), as PettingZoo's ``TerminateIllegalWrapper`` does.
* ``size``: board side, 5 to 19.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

from gymnasium.utils import EzPickle
from pettingzoo import AECEnv

from envs.board.aec import BoardGameAECEnv, wrap


class raw_env(BoardGameAECEnv):
    metadata = {**BoardGameAECEnv.metadata, "name": "gomoku_v0", "render_fps": 4}

    def __init__(
        self, render_mode: str | None = None, illegal_move: str = "raise", size: int = 15
    ) -> None:
        super().__init__("gomoku", render_mode=render_mode, illegal_move=illegal_move, size=size)
        EzPickle.__init__(self, render_mode=render_mode, illegal_move=illegal_move, size=size)


def env(**kwargs) -> AECEnv:
    """The wrapped env; see the module docstring for the arguments."""
    return wrap(raw_env(**kwargs))

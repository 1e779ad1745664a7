"""Connect Four (PettingZoo AEC).

## Description

Two players drop stones into a standing 6x7 grid; a stone falls to the lowest empty
cell of its column. Four in a row (horizontally, vertically or diagonally) wins; a full
grid without one is a draw. ``player_0`` moves first. Rules: :mod:`sim.board.connect4`.

## Action Space

``Discrete(7)``: the column, 0 (left) to 6 (right). A full column is illegal.

## Observation Space

A dict: ``"observation"`` is ``Box(0, 1, (2, 6, 7), float32)``, plane 0 the observing
agent's stones and plane 1 the opponent's (row 0 at the top), computed from that agent's
side whether or not it is its turn; ``"action_mask"`` is ``Box(0, 1, (7,), int8)``, the
legal columns for the agent to move and all zero for the other agent.

## Rewards

+1 to the winner and -1 to the loser on the last move; 0 otherwise and for a draw.

## Episode End

Termination when a player connects four or the grid is full. No truncation.

## Arguments

``connect4_v0.env(render_mode=None, illegal_move="raise")``

* ``render_mode``: ``"human"`` (a window), ``"rgb_array"`` (a frame) or ``"ansi"`` (text).
* ``illegal_move``: ``"raise"`` (default) raises ValueError naming the move and the legal
  ones, leaving the env unchanged; ``"lose"`` ends the game with -1 for the offender (and
  0 for the other), as PettingZoo's ``TerminateIllegalWrapper`` does.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

from gymnasium.utils import EzPickle
from pettingzoo import AECEnv

from envs.board.aec import BoardGameAECEnv, wrap


class raw_env(BoardGameAECEnv):
    metadata = {**BoardGameAECEnv.metadata, "name": "connect4_v0", "render_fps": 2}

    def __init__(self, render_mode: str | None = None, illegal_move: str = "raise") -> None:
        super().__init__("connect4", render_mode=render_mode, illegal_move=illegal_move)
        EzPickle.__init__(self, render_mode=render_mode, illegal_move=illegal_move)


def env(**kwargs) -> AECEnv:
    """The wrapped env; see the module docstring for the arguments."""
    return wrap(raw_env(**kwargs))

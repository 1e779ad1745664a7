"""Tic-Tac-Toe (PettingZoo AEC).

## Description

Two players mark cells of a 3x3 grid in turn; three in a row (row, column or
diagonal) wins, a full grid without one is a draw. ``player_0`` (X) moves first.
Rules: :mod:`sim.board.tictactoe`.

## Action Space

``Discrete(9)``: the cell, row by row from the top-left (0) to the bottom-right (8).
An occupied cell is illegal.

## Observation Space

A dict: ``"observation"`` is ``Box(0, 1, (2, 3, 3), float32)``, plane 0 the observing
agent's marks and plane 1 the opponent's, computed from that agent's side whether or not
it is its turn; ``"action_mask"`` is ``Box(0, 1, (9,), int8)``, the empty cells for the
agent to move and all zero for the other agent.

## Rewards

+1 to the winner and -1 to the loser on the last move; 0 otherwise and for a draw.

## Episode End

Termination on three in a row or a full grid. No truncation.

## Arguments

``tictactoe_v0.env(render_mode=None, illegal_move="raise")``

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
    metadata = {**BoardGameAECEnv.metadata, "name": "tictactoe_v0", "render_fps": 1}

    def __init__(self, render_mode: str | None = None, illegal_move: str = "raise") -> None:
        super().__init__("tictactoe", render_mode=render_mode, illegal_move=illegal_move)
        EzPickle.__init__(self, render_mode=render_mode, illegal_move=illegal_move)


def env(**kwargs) -> AECEnv:
    """The wrapped env; see the module docstring for the arguments."""
    return wrap(raw_env(**kwargs))

"""Othello (PettingZoo AEC).

## Description

Othello (Reversi) on an 8x8 board, or any even size from 4 to 16. A placement must
bracket at least one line of opponent stones, which are all flipped. A player with no
placement must pass (then "pass" is the only legal move). The game ends as soon as
neither side can place; more stones wins. ``player_0`` (Black) moves first.
Rules: :mod:`sim.board.othello`.

## Action Space

``Discrete(size * size + 1)``: cell ``row * size + col`` (row 0 at the top), and the
last action ``size * size`` is "pass".

## Observation Space

A dict: ``"observation"`` is ``Box(0, 1, (3, size, size), float32)``: the observing
agent's stones, the opponent's stones, and the observing agent's legal placements, all
computed from that agent's side whether or not it is its turn (see
:func:`sim.board.othello.observation_into`); ``"action_mask"`` is
``Box(0, 1, (size * size + 1,), int8)``, the legal moves for the agent to move and all
zero for the other agent.

## Rewards

+1 to the winner and -1 to the loser on the last move; 0 otherwise and for a draw.

## Episode End

Termination when neither side can place. No truncation.

## Arguments

``othello_v0.env(render_mode=None, illegal_move="raise", size=8)``

* ``render_mode``: ``"human"`` (a window), ``"rgb_array"`` (a frame) or ``"ansi"`` (text).
* ``illegal_move``: ``"raise"`` (default) raises ValueError naming the move and the legal
  ones, leaving the env unchanged; ``"lose"`` ends the game with -1 for the offender (and
  0 for the other), as PettingZoo's ``TerminateIllegalWrapper`` does.
* ``size``: board side, even, 4 to 16.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

from gymnasium.utils import EzPickle
from pettingzoo import AECEnv

from envs.board.aec import BoardGameAECEnv, wrap


class raw_env(BoardGameAECEnv):
    metadata = {**BoardGameAECEnv.metadata, "name": "othello_v0", "render_fps": 2}

    def __init__(
        self, render_mode: str | None = None, illegal_move: str = "raise", size: int = 8
    ) -> None:
        super().__init__("othello", render_mode=render_mode, illegal_move=illegal_move, size=size)
        EzPickle.__init__(self, render_mode=render_mode, illegal_move=illegal_move, size=size)


def env(**kwargs) -> AECEnv:
    """The wrapped env; see the module docstring for the arguments."""
    return wrap(raw_env(**kwargs))

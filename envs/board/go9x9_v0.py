"""Go on a 9x9 board (PettingZoo AEC).

## Description

Go 9x9 with positional superko and Tromp-Taylor area scoring; komi (default 7.5) goes
to White; suicide is illegal. ``player_0`` (Black) moves first. The game ends after two
passes in a row or at the move cap. Rules: :mod:`sim.board.go`.

## Action Space

``Discrete(82)``: point ``row * 9 + col`` (row 0 at the top), and action 81 is "pass".
Occupied points, suicide and superko repetitions are illegal.

## Observation Space

A dict: ``"observation"`` is ``Box(0, 1, (5, 9, 9), float32)``, the planes of
:func:`sim.board.go.observation_into` (own stones, opponent's stones, empty points, all
ones if the observer is Black, the observer's legal plays) computed from the observing
agent's side whether or not it is its turn; ``"action_mask"`` is ``Box(0, 1, (82,), int8)``,
the legal moves for the agent to move and all zero for the other agent.

## Rewards

+1 to the winner and -1 to the loser on the last move (by area score with komi);
0 otherwise and for a draw.

## Episode End

Termination by two passes in a row or after ``max_moves`` moves, passes included (the
board is then scored as it stands). No truncation.

## Arguments

``go9x9_v0.env(render_mode=None, illegal_move="raise", komi=7.5, max_moves=None)``

* ``render_mode``: ``"human"`` (a window), ``"rgb_array"`` (a frame) or ``"ansi"`` (text).
* ``illegal_move``: ``"raise"`` (default) raises ValueError naming the move and the legal
  ones, leaving the env unchanged; ``"lose"`` ends the game with -1 for the offender (and
  0 for the other), as PettingZoo's ``TerminateIllegalWrapper`` does.
* ``komi``: points added to White's (``player_1``'s) score, a whole or half number.
* ``max_moves``: the move cap; None for the rules' default, 243.

## Version History

* v0: Initial version.
"""

from __future__ import annotations

from gymnasium.utils import EzPickle
from pettingzoo import AECEnv

from envs.board.aec import BoardGameAECEnv, wrap


class raw_env(BoardGameAECEnv):
    metadata = {**BoardGameAECEnv.metadata, "name": "go9x9_v0", "render_fps": 4}

    def __init__(
        self,
        render_mode: str | None = None,
        illegal_move: str = "raise",
        komi: float = 7.5,
        max_moves: int | None = None,
    ) -> None:
        super().__init__(
            "go",
            render_mode=render_mode,
            illegal_move=illegal_move,
            size=9,
            komi=komi,
            max_moves=max_moves,
        )
        EzPickle.__init__(
            self, render_mode=render_mode, illegal_move=illegal_move, komi=komi, max_moves=max_moves
        )


def env(**kwargs) -> AECEnv:
    """The wrapped env; see the module docstring for the arguments."""
    return wrap(raw_env(**kwargs))

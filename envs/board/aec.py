"""A PettingZoo AEC env over any :class:`sim.board.BoardGame` (classic-env conventions).

The per-game modules (``connect4_v0`` ...) subclass :class:`BoardGameAECEnv` with a
fixed game and name; :func:`wrap` stacks the usual PettingZoo wrappers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from envs.board.common import (
    ILLEGAL_MOVE_MODES,
    RENDER_MODES,
    BoardRendering,
    check_choice,
    int8_mask,
    resolve_game,
)
from sim.board import BoardGame

AGENTS = ["player_0", "player_1"]


class BoardGameAECEnv(AECEnv, EzPickle):
    """Two players, ``player_0`` (moves first) and ``player_1``, take turns on ``game``.

    Observations are ``{"observation": float32 planes, "action_mask": int8}``; planes are
    always from the observing agent's side (as if it were to move), the mask is that of
    the agent to move and all zero for the other one. Rewards are +1/-1 to the winner
    and loser on the last move, 0 for a draw.

    Args:
        game: a game name of :mod:`sim.board` or a ready :class:`BoardGame`.
        render_mode: ``"human"``, ``"rgb_array"``, ``"ansi"`` or None.
        illegal_move: ``"raise"`` (ValueError naming the move, env unchanged) or
            ``"lose"`` (the mover gets -1, the other 0, and the game ends).
        **game_kwargs: game options such as ``size`` or ``komi``.
    """

    metadata: dict[str, Any] = {
        "render_modes": RENDER_MODES,
        "name": "board_game_v0",
        "is_parallelizable": False,
        "render_fps": 2,
    }

    def __init__(
        self,
        game: str | BoardGame,
        render_mode: str | None = None,
        illegal_move: str = "raise",
        **game_kwargs,
    ) -> None:
        EzPickle.__init__(
            self, game, render_mode=render_mode, illegal_move=illegal_move, **game_kwargs
        )
        super().__init__()
        check_choice("illegal_move", illegal_move, ILLEGAL_MOVE_MODES)
        self.game = resolve_game(game, **game_kwargs)
        self.illegal_move = illegal_move
        self.render_mode = render_mode
        self._rendering = BoardRendering(self.game, render_mode, self.metadata["render_fps"])
        self.possible_agents = AGENTS[:]
        self.agents = AGENTS[:]
        n = self.game.num_actions
        self.action_spaces = {a: spaces.Discrete(n) for a in self.possible_agents}
        self.observation_spaces = {
            a: spaces.Dict(
                {
                    "observation": spaces.Box(0.0, 1.0, self.game.obs_shape, dtype=np.float32),
                    "action_mask": spaces.Box(0, 1, (n,), dtype=np.int8),
                }
            )
            for a in self.possible_agents
        }
        self.game_state = self.game.initial_state()
        self.last_action: int | None = None
        self.agent_selection = AGENTS[0]

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        player = self.possible_agents.index(agent)
        if agent == self.agent_selection:
            mask = int8_mask(self.game, self.game_state)
        else:
            mask = np.zeros(self.game.num_actions, dtype=np.int8)
        return {
            "observation": self.game.observation(self.game_state, player),
            "action_mask": mask,
        }

    def reset(self, seed: int | None = None, options: dict | None = None) -> None:
        # The game has no randomness; ``seed`` is accepted for the API.
        self.game_state = self.game.initial_state()
        self.last_action = None
        self.agents = self.possible_agents[:]
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: {} for a in self.agents}
        self.agent_selection = self.possible_agents[self.game.to_play(self.game_state)]
        if self.render_mode == "human":
            self.render()

    def step(self, action: int | None) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        try:
            action = self.game.check_action(self.game_state, action)
            illegal = False
        except ValueError:
            if self.illegal_move == "raise":
                raise  # before any change: the env stays as it was
            illegal = True
        self._cumulative_rewards[agent] = 0.0
        self.rewards = dict.fromkeys(self.agents, 0.0)
        if illegal:
            # PettingZoo's TerminateIllegalWrapper semantics: the offender alone pays.
            self.rewards[agent] = -1.0
            self.terminations = dict.fromkeys(self.agents, True)
            self._accumulate_rewards()
            return
        self.game.rules.play(self.game_state, action)
        self.last_action = action
        if self.game.is_terminal(self.game_state):
            returns = self.game.returns(self.game_state)
            for i, a in enumerate(self.possible_agents):
                self.rewards[a] = returns[i]
            self.terminations = dict.fromkeys(self.agents, True)
        self.agent_selection = self.possible_agents[self.game.to_play(self.game_state)]
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def render(self) -> np.ndarray | str | None:
        if self.render_mode is None:
            from gymnasium import logger

            logger.warn("You are calling render method without specifying any render mode.")
            return None
        return self._rendering.render(self.game_state, self.last_action)

    def close(self) -> None:
        self._rendering.close()


# Generic name, as in PettingZoo modules.
raw_env = BoardGameAECEnv


def wrap(env: BoardGameAECEnv) -> AECEnv:
    """The classic-env wrapper stack, less what the raw env already does better.

    The raw env validates every action itself (a ValueError naming the move and the
    legal ones, or PettingZoo's illegal-move-loses rule with ``illegal_move="lose"``), so
    ``AssertOutOfBoundsWrapper`` and ``TerminateIllegalWrapper`` would only add a layer of
    attribute forwarding to every call; the order checks stay.
    """
    return wrappers.OrderEnforcingWrapper(env)

"""Single-agent Gymnasium envs: play one side of a board game against a built-in opponent."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from envs.board.common import (
    ILLEGAL_MOVE_MODES,
    RENDER_MODES,
    BoardRendering,
    check_choice,
    resolve_game,
)
from envs.board.opponents import make_opponent
from sim.board import BoardGame


class BoardGameEnv(gymnasium.Env):
    """One side of a two-player board game; a built-in opponent plays the other.

    ## Description

    The agent plays ``agent_player`` (0 moves first) of ``game`` (Connect Four,
    Tic-Tac-Toe, Othello, Gomoku, Go: see :mod:`sim.board`); after each agent move the
    opponent replies until it is the agent's turn again or the game is over, so every
    observation is a position where the agent moves (or the final one).

    ## Action Space

    ``Discrete(game.num_actions)``, the game's actions. ``info["action_mask"]`` (int8)
    and :meth:`action_masks` (bool, for sb3-contrib's MaskablePPO) give the legal ones.

    ## Observation Space

    ``Box(0, 1, game.obs_shape, float32)``: the game's observation planes from the
    agent's side (plane 0 is the agent's stones in every game).

    ## Rewards

    +1 when the agent wins, -1 when it loses, 0 for a draw and on every other step.

    ## Episode End

    Termination when the game is over (or on an illegal move with
    ``illegal_move="lose"``). No truncation: every game here ends by its own rules.

    ## Arguments

    * ``game``: a game name (``"connect4"``, ``"tictactoe"``, ``"othello"``,
      ``"gomoku"``, ``"go"``) or a ready :class:`BoardGame`.
    * ``agent_player``: 0, 1, or ``"random"`` (a side drawn at each reset).
    * ``opponent``: ``"random"``, ``"greedy"``, ``"mcts"`` or (Connect Four) ``"solver"``;
      ``opponent_kwargs`` are its options, e.g. ``{"simulations": 400}``.
    * ``illegal_move``: ``"raise"`` (ValueError naming the move, env unchanged) or
      ``"lose"`` (the episode ends with -1).
    * ``render_mode``: ``"human"``, ``"rgb_array"``, ``"ansi"`` or None.
    * ``**game_kwargs``: game options, e.g. ``size=9`` (Othello, Gomoku), ``komi=6.5``.

    All randomness (the side, the opponent) comes from ``self.np_random``, seeded by
    ``reset(seed=...)``.

    ## Version History

    * v0: Initial version.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES, "render_fps": 4}

    def __init__(
        self,
        game: str | BoardGame,
        agent_player: int | str = 0,
        opponent: str = "random",
        opponent_kwargs: dict | None = None,
        illegal_move: str = "raise",
        render_mode: str | None = None,
        **game_kwargs,
    ) -> None:
        if isinstance(agent_player, bool) or agent_player not in (0, 1, "random"):
            raise ValueError(f"agent_player must be 0, 1 or 'random', got {agent_player!r}")
        check_choice("illegal_move", illegal_move, ILLEGAL_MOVE_MODES)
        self.game = resolve_game(game, **game_kwargs)
        self.opponent_name = opponent
        self.opponent = make_opponent(opponent, self.game, **(opponent_kwargs or {}))
        self.agent_player_option = agent_player
        self.agent_player = 0 if agent_player == "random" else int(agent_player)
        self.illegal_move = illegal_move
        self.render_mode = render_mode
        self._rendering = BoardRendering(self.game, render_mode, self.metadata["render_fps"])
        self.action_space = spaces.Discrete(self.game.num_actions)
        self.observation_space = spaces.Box(0.0, 1.0, self.game.obs_shape, dtype=np.float32)
        self.game_state = self.game.initial_state()
        self.last_action: int | None = None
        self._done = False

    # ---- helpers -------------------------------------------------------------
    def _obs(self) -> np.ndarray:
        return self.game.observation(self.game_state, self.agent_player)

    def _info(self) -> dict[str, Any]:
        return {"action_mask": self.action_masks().astype(np.int8)}

    def _reward(self) -> float:
        w = self.game.winner(self.game_state)
        if w is None:
            return 0.0
        return 1.0 if w == self.agent_player else -1.0

    def _play(self, action: int) -> None:
        self.game.rules.play(self.game_state, action)
        self.last_action = action

    def _opponent_moves(self) -> None:
        """Let the opponent play until it is the agent's turn or the game is over."""
        while (
            not self.game.is_terminal(self.game_state)
            and self.game.to_play(self.game_state) != self.agent_player
        ):
            action = int(self.opponent(self.game_state.copy(), self.np_random))
            self._play(self.game.check_action(self.game_state, action))

    # ---- API -----------------------------------------------------------------
    def action_masks(self) -> np.ndarray:
        """Legal actions as bools (sb3-contrib MaskablePPO convention)."""
        if self._done:
            return np.zeros(self.game.num_actions, dtype=np.bool_)
        return self.game.legal_mask(self.game_state)

    def reset(
        self, *, seed: int | None = None, options: dict | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if self.agent_player_option == "random":
            self.agent_player = int(self.np_random.integers(2))
        self.game_state = self.game.initial_state()
        self.last_action = None
        self._done = False
        self._opponent_moves()
        self._done = self.game.is_terminal(self.game_state)
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._info()

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if self._done:
            raise ValueError(
                f"{self.game.name}: step({action!r}) after the episode ended; call reset()"
            )
        try:
            action = self.game.check_action(self.game_state, action)
        except ValueError:
            if self.illegal_move == "raise":
                raise
            self._done = True
            return self._obs(), -1.0, True, False, self._info()
        before = (self.game_state.copy(), self.last_action)
        try:
            self._play(action)
            self._opponent_moves()
        except BaseException:
            # An opponent that fails (a custom one, an illegal reply) leaves no half-step.
            self.game_state, self.last_action = before
            raise
        self._done = self.game.is_terminal(self.game_state)
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._reward(), self._done, False, self._info()

    def render(self) -> np.ndarray | str | None:
        if self.render_mode is None:
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode. "
                "You can specify the render_mode at initialization, "
                f'e.g. gymnasium.make("{self.spec.id if self.spec else "..."}", '
                'render_mode="rgb_array")'
            )
            return None
        return self._rendering.render(self.game_state, self.last_action)

    def close(self) -> None:
        self._rendering.close()


def go9x9(**kwargs) -> BoardGameEnv:
    """``simarena/Go9x9-v0``: Go on the 9x9 board; the id fixes the size."""
    size = kwargs.pop("size", 9)
    if size != 9:
        raise ValueError(
            f"simarena/Go9x9-v0 is played on the 9x9 board, got size={size!r}; "
            "for other sizes use envs.board.gym_env.BoardGameEnv('go', size=...)"
        )
    return BoardGameEnv("go", size=9, **kwargs)

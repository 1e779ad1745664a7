"""Game-generic Numba kernels: dispatch on ``state[H_GAME]`` to the game's own rules.

Numba cannot cache a function that takes another jitted function as an argument or
closes over one (the cache key holds its address), so searches that must work for every
game call these switchboards instead. The branch is predictable; its cost is noise.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.board import chess, connect4, go, gomoku, othello, tictactoe
from sim.board.base import (
    CHESS,
    CONNECT4,
    GO,
    GOMOKU,
    H_GAME,
    H_TO_PLAY,
    H_WINNER,
    ONGOING,
    OTHELLO,
)


@njit(cache=True)
def num_actions(state: np.ndarray) -> int:
    g = state[H_GAME]
    if g == CONNECT4:
        return connect4.num_actions(state)
    if g == OTHELLO:
        return othello.num_actions(state)
    if g == GOMOKU:
        return gomoku.num_actions(state)
    if g == GO:
        return go.num_actions(state)
    if g == CHESS:
        return chess.num_actions(state)
    return tictactoe.num_actions(state)


@njit(cache=True)
def legal_mask_into(state: np.ndarray, out: np.ndarray) -> int:
    g = state[H_GAME]
    if g == CONNECT4:
        return connect4.legal_mask_into(state, out)
    if g == OTHELLO:
        return othello.legal_mask_into(state, out)
    if g == GOMOKU:
        return gomoku.legal_mask_into(state, out)
    if g == GO:
        return go.legal_mask_into(state, out)
    if g == CHESS:
        return chess.legal_mask_into(state, out)
    return tictactoe.legal_mask_into(state, out)


@njit(cache=True)
def play(state: np.ndarray, action: int) -> None:
    g = state[H_GAME]
    if g == CONNECT4:
        connect4.play(state, action)
    elif g == OTHELLO:
        othello.play(state, action)
    elif g == GOMOKU:
        gomoku.play(state, action)
    elif g == GO:
        go.play(state, action)
    elif g == CHESS:
        chess.play(state, action)
    else:
        tictactoe.play(state, action)


@njit(cache=True)
def observation_into(state: np.ndarray, out: np.ndarray) -> None:
    """The game's observation planes of ``state``."""
    g = state[H_GAME]
    if g == CONNECT4:
        connect4.observation_into(state, out)
    elif g == OTHELLO:
        othello.observation_into(state, out)
    elif g == GOMOKU:
        gomoku.observation_into(state, out)
    elif g == GO:
        go.observation_into(state, out)
    elif g == CHESS:
        chess.observation_into(state, out)
    else:
        tictactoe.observation_into(state, out)


@njit(cache=True)
def is_legal(state: np.ndarray, action: int) -> bool:
    """The game's legality test of ``action``."""
    g = state[H_GAME]
    if g == CONNECT4:
        return connect4.is_legal(state, action)
    if g == OTHELLO:
        return othello.is_legal(state, action)
    if g == GOMOKU:
        return gomoku.is_legal(state, action)
    if g == GO:
        return go.is_legal(state, action)
    if g == CHESS:
        return chess.is_legal(state, action)
    return tictactoe.is_legal(state, action)


@njit(cache=True)
def is_terminal(state: np.ndarray) -> bool:
    return state[H_WINNER] != ONGOING


@njit(cache=True)
def to_play(state: np.ndarray) -> int:
    return state[H_TO_PLAY]


@njit(cache=True)
def random_legal_action(state: np.ndarray, mask: np.ndarray) -> int:
    """A uniformly random legal action (Numba's global RNG); -1 if there is none."""
    n = legal_mask_into(state, mask)
    if n == 0:
        return -1
    k = np.random.randint(n)
    for a in range(mask.shape[0]):
        if mask[a]:
            if k == 0:
                return a
            k -= 1
    return -1


@njit(cache=True)
def random_playout(state: np.ndarray, max_moves: int) -> int:
    """Play random legal moves on ``state`` in place until the end; return the winner code.

    Games end by their own rules (every game here has a move cap); ``max_moves`` only
    guards against a rules bug turning into an endless loop.
    """
    mask = np.zeros(num_actions(state), dtype=np.bool_)
    for _ in range(max_moves):
        if state[H_WINNER] != ONGOING:
            break
        play(state, random_legal_action(state, mask))
    return state[H_WINNER]


@njit(cache=True)
def random_playouts(state: np.ndarray, games: int, seed: int) -> int:
    """Play ``games`` random games from ``state``; return the total number of moves."""
    np.random.seed(seed)
    mask = np.zeros(num_actions(state), dtype=np.bool_)
    scratch = state.copy()
    moves = 0
    for _ in range(games):
        scratch[:] = state
        while scratch[H_WINNER] == ONGOING:
            play(scratch, random_legal_action(scratch, mask))
            moves += 1
    return moves

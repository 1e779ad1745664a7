"""Game-generic evaluation: players, seeded matches, ratings and mistake rates.

Works with anything that follows the player protocol of :mod:`selfplay.player`; it
imports ``sim`` and ``envs`` but never ``agents``.
"""

from selfplay.match import (
    Backend,
    GameRecord,
    IllegalMoveError,
    MatchResult,
    ProcessBackend,
    SerialBackend,
    play_game,
    play_games_lockstep,
    play_match,
    wilson_interval,
)
from selfplay.mistakes import MistakeReport, count_mistakes, mistake_rate, read_positions
from selfplay.player import (
    BuiltinPlayer,
    FunctionPlayer,
    Player,
    PlayerBase,
    as_player,
    is_batched,
)
from selfplay.pool import (
    LATEST,
    EmptyPoolError,
    Snapshot,
    SnapshotPool,
    match_result,
    reference_table,
)
from selfplay.ratings import PlayerRating, RatingTable

__all__ = [
    "LATEST",
    "Backend",
    "BuiltinPlayer",
    "EmptyPoolError",
    "FunctionPlayer",
    "GameRecord",
    "IllegalMoveError",
    "MatchResult",
    "MistakeReport",
    "Player",
    "PlayerBase",
    "PlayerRating",
    "ProcessBackend",
    "RatingTable",
    "SerialBackend",
    "Snapshot",
    "SnapshotPool",
    "as_player",
    "count_mistakes",
    "is_batched",
    "match_result",
    "mistake_rate",
    "play_game",
    "play_games_lockstep",
    "play_match",
    "read_positions",
    "reference_table",
    "wilson_interval",
]

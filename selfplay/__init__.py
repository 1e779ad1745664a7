"""Game-generic evaluation: players, seeded matches, ratings and mistake rates; and the
execution backends (serial, process pool, Ray) that run games and stateful workers.

Works with anything that follows the player protocol of :mod:`selfplay.player`; it
imports ``sim`` and ``envs`` but never ``agents``.
"""

from selfplay.backends import (
    BACKENDS,
    Backend,
    BackendError,
    JobResult,
    PoolTimeout,
    ProcessBackend,
    RayBackend,
    SerialBackend,
    WorkerError,
    WorkerPool,
    make_backend,
)
from selfplay.match import (
    GameRecord,
    IllegalMoveError,
    MatchResult,
    PlayerFailure,
    forfeits,
    play_game,
    play_games_lockstep,
    play_match,
    wilson_interval,
)
from selfplay.mistakes import (
    MistakeReport,
    count_mistakes,
    make_positions,
    mistake_rate,
    read_positions,
)
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
    "BACKENDS",
    "LATEST",
    "Backend",
    "BackendError",
    "BuiltinPlayer",
    "EmptyPoolError",
    "FunctionPlayer",
    "GameRecord",
    "IllegalMoveError",
    "JobResult",
    "MatchResult",
    "MistakeReport",
    "Player",
    "PlayerFailure",
    "PlayerBase",
    "PlayerRating",
    "PoolTimeout",
    "ProcessBackend",
    "RayBackend",
    "RatingTable",
    "SerialBackend",
    "Snapshot",
    "SnapshotPool",
    "WorkerError",
    "WorkerPool",
    "as_player",
    "count_mistakes",
    "forfeits",
    "is_batched",
    "make_backend",
    "match_result",
    "make_positions",
    "mistake_rate",
    "play_game",
    "play_games_lockstep",
    "play_match",
    "read_positions",
    "reference_table",
    "wilson_interval",
]

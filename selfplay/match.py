"""Playing games and seeded matches between players, serially or on a process pool.

:func:`play_game` plays one game between two players (see :mod:`selfplay.player`);
:func:`play_match` plays N seeded games with sides alternated and reports the score of
the first player with a Wilson 95% interval.  Game ``i`` of a match draws all its
randomness from ``np.random.SeedSequence(seed, spawn_key=(i,))`` (the ``i``-th child of
``SeedSequence(seed).spawn``), so a match is the same for a seed whichever backend runs
it, provided each player's moves depend only on the state and the generator once it has
been ``reset()``.

Players that choose moves for many positions at once (``act_batch``, see
:mod:`selfplay.player`: a network that searches a batch of games in one forward) are
played by :func:`play_games_lockstep`: all games of a match advance together, and every
position where such a player is to move goes to it in one call.

Backends (:mod:`selfplay.backends`, re-exported here) run a list of jobs through a
picklable module-level function and return the results in job order:
:class:`SerialBackend` in this process, :class:`ProcessBackend` on a process pool,
:class:`RayBackend` on Ray tasks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from selfplay.backends import (  # noqa: F401  (re-exported: the names lived here)
    Backend,
    ProcessBackend,
    RayBackend,
    SerialBackend,
)
from selfplay.player import Player, follows_moves, is_batched, observe_move, reset_player
from sim.board import BoardGame
from sim.board.base import is_int

# z for a two-sided 95% interval: the 0.975 quantile of the standard normal.
Z95 = 1.959963984540054


class IllegalMoveError(ValueError):
    """A player chose an illegal move; ``player`` is its name, ``seat`` 0 or 1."""

    def __init__(self, message: str, player: str, seat: int, ply: int) -> None:
        super().__init__(message)
        self.player = player
        self.seat = seat
        self.ply = ply


def wilson_interval(successes: float, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / trials`` (95% by default).

    ``successes`` may be fractional (a draw counted as half a win): the interval then
    treats the score as a Bernoulli mean, which is conservative, since a game's score in
    {0, 1/2, 1} with mean p has variance at most p(1 - p).
    """
    if not is_int(trials) or trials < 1:
        raise ValueError(f"wilson_interval: trials must be an int >= 1, got {trials!r}")
    if not 0 <= successes <= trials:
        raise ValueError(f"wilson_interval: successes must be in 0..{trials}, got {successes!r}")
    n = int(trials)
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


class PlayerFailure(RuntimeError):
    """A player that cannot go on (an external engine that crashed, hung or answered
    garbage): :func:`play_game` scores the game as lost by that player's forfeit and the
    match goes on.  Any other exception from a player ends the match."""


@dataclass(frozen=True)
class GameRecord:
    """One finished game: ``players`` by seat (seat 0 moves first), ``winner`` a seat or
    None for a draw, ``returns`` per seat (+1 win, -1 loss, 0 draw); ``forfeit`` says who
    failed and how when the game was lost by a :class:`PlayerFailure` (``actions`` are
    then the moves played before it)."""

    players: tuple[str, str]
    actions: tuple[int, ...]
    winner: int | None
    returns: tuple[float, float]
    forfeit: str | None = None

    @property
    def length(self) -> int:
        return len(self.actions)


def play_game(game: BoardGame, players: Sequence[Player], rng: np.random.Generator) -> GameRecord:
    """Play one game from the initial position; ``players[0]`` moves first.

    Each player is reset before the game, gets a copy of the state to act on, and
    observes every move played.  A move that is not legal raises
    :class:`IllegalMoveError` (a ValueError) naming the player, its seat and the ply.
    A :class:`PlayerFailure` (from an engine's reset, move or observation) loses the
    game for the player whose turn it was (the record's ``forfeit`` says why).
    """
    if len(players) != 2:
        raise ValueError(f"play_game: expected 2 players, got {len(players)}")
    # One object playing both seats gets its hooks once per event, not twice.
    distinct = [players[0]] if players[0] is players[1] else list(players)
    names = (players[0].name, players[1].name)
    state = game.initial_state()
    actions: list[int] = []
    seat = 0
    try:
        for p in distinct:
            seat = list(players).index(p)  # whose failure a failed reset is
            reset_player(p)
        while not game.is_terminal(state):
            seat = game.to_play(state)
            player = players[seat]
            choice = player.act(state.copy(), rng)
            try:
                action = game.check_action(state, choice)
            except ValueError as e:
                ply = game.ply(state)
                raise IllegalMoveError(
                    f"player {player.name!r} (seat {seat}) made an illegal move at ply {ply}: {e}",
                    player.name,
                    seat,
                    ply,
                ) from None
            for p in distinct:
                observe_move(p, state.copy(), action)
            game.rules.play(state, action)
            actions.append(action)
    except PlayerFailure as e:
        winner = 1 - seat
        return GameRecord(
            players=names,
            actions=tuple(actions),
            winner=winner,
            returns=(1.0, -1.0) if winner == 0 else (-1.0, 1.0),
            forfeit=f"{names[seat]} (seat {seat}) forfeits at ply {len(actions)}: {e}",
        )
    return GameRecord(
        players=names,
        actions=tuple(actions),
        winner=game.winner(state),
        returns=game.returns(state),
    )


def play_games_lockstep(jobs: Sequence[GameJob]) -> list[GameRecord]:
    """Play all ``jobs`` (games of one board game) together, a move in each per round.

    In each round, the positions where a batched player is to move go to its
    ``act_batch(states, rng)`` in one call (its generator is that of the round's first
    such game); other players ``act`` game by game with each game's own generator.
    Players are reset once, before the games, and get no ``observe`` calls: a player
    that follows one game at a time through its hooks belongs to :func:`play_game`.
    Deterministic for the jobs' seeds.
    """
    if not jobs:
        return []
    game = jobs[0].game
    rngs = [game_rng(j.seed, j.index) for j in jobs]
    states = [game.initial_state() for _ in jobs]
    moves: list[list[int]] = [[] for _ in jobs]
    distinct = {id(p): p for j in jobs for p in j.players}
    for p in distinct.values():
        reset_player(p)
    while True:
        waiting: dict[int, list[int]] = {}  # id(player) -> games where it is to move
        for i, job in enumerate(jobs):
            if not game.is_terminal(states[i]):
                waiting.setdefault(id(job.players[game.to_play(states[i])]), []).append(i)
        if not waiting:
            break
        for key, games in waiting.items():
            player = distinct[key]
            if is_batched(player):
                batch = np.stack([states[i] for i in games])
                choices = list(player.act_batch(batch.copy(), rngs[games[0]]))
                if len(choices) != len(games):
                    raise ValueError(
                        f"player {player.name!r}: act_batch returned {len(choices)} moves "
                        f"for {len(games)} positions"
                    )
            else:
                choices = [player.act(states[i].copy(), rngs[i]) for i in games]
            for i, choice in zip(games, choices, strict=True):
                state = states[i]
                try:
                    action = game.check_action(state, choice)
                except ValueError as e:
                    seat, ply = game.to_play(state), game.ply(state)
                    raise IllegalMoveError(
                        f"player {player.name!r} (seat {seat}) made an illegal move at ply "
                        f"{ply} of game {jobs[i].index}: {e}",
                        player.name,
                        seat,
                        ply,
                    ) from None
                game.rules.play(state, action)
                moves[i].append(action)
    return [
        GameRecord(
            players=(job.players[0].name, job.players[1].name),
            actions=tuple(moves[i]),
            winner=game.winner(states[i]),
            returns=game.returns(states[i]),
        )
        for i, job in enumerate(jobs)
    ]


def game_rng(seed: int, index: int) -> np.random.Generator:
    """The generator of game ``index`` of a match seeded ``seed``."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


@dataclass(frozen=True)
class GameJob:
    """Game ``index`` of a match: the players by seat and the match seed."""

    game: BoardGame
    players: tuple[Player, Player]
    seed: int
    index: int


def run_game_job(job: GameJob) -> GameRecord:
    """Play one :class:`GameJob` (module level, so that a process pool can send it)."""
    return play_game(job.game, job.players, game_rng(job.seed, job.index))


@dataclass(frozen=True)
class MatchResult:
    """The result of :func:`play_match`, from the view of ``player`` (the first, ``a``).

    ``score = (wins + draws / 2) / games``; ``interval`` is its Wilson 95% interval with
    a draw counted as half a win (see :func:`wilson_interval`).  ``seats[i]`` is the
    seat ``a`` held in game ``i`` (0 moves first).
    """

    player: str
    opponent: str
    games: int
    wins: int
    draws: int
    losses: int
    seed: int
    seats: tuple[int, ...]
    records: tuple[GameRecord, ...]

    @property
    def score(self) -> float:
        return (self.wins + self.draws / 2) / self.games

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.wins + self.draws / 2, self.games)

    def summary(self) -> dict[str, Any]:
        """The numbers as a JSON-ready dict (no game records)."""
        lo, hi = self.interval
        return {
            "player": self.player,
            "opponent": self.opponent,
            "games": self.games,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
            "score": self.score,
            "interval": [lo, hi],
            "seed": self.seed,
        }

    def __str__(self) -> str:
        lo, hi = self.interval
        return (
            f"{self.player} vs {self.opponent}: +{self.wins} ={self.draws} -{self.losses} "
            f"in {self.games} games, score {self.score:.3f} (95% CI {lo:.3f}..{hi:.3f})"
        )


def play_match(
    game: BoardGame,
    a: Player,
    b: Player,
    games: int,
    seed: int,
    swap_sides: bool = True,
    backend: Backend | None = None,
) -> MatchResult:
    """Play ``games`` seeded games of ``a`` against ``b``; the result is ``a``'s.

    With ``swap_sides`` ``a`` moves first in the even games and second in the odd ones,
    else always first.  ``backend`` runs the games (serially by default); the result is
    the same for a seed on any backend (see the module docstring).  Without a backend,
    a match with a batched player is played in lockstep (:func:`play_games_lockstep`),
    unless the other follows the game move by move (an engine: :func:`follows_moves`).
    """
    if not is_int(games) or games < 1:
        raise ValueError(f"play_match: games must be an int >= 1, got {games!r}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"play_match: seed must be a non-negative int, got {seed!r}")
    seats = tuple(i % 2 if swap_sides else 0 for i in range(games))
    jobs = [
        GameJob(game, (a, b) if seat == 0 else (b, a), int(seed), i) for i, seat in enumerate(seats)
    ]
    lockstep = (is_batched(a) or is_batched(b)) and not (follows_moves(a) or follows_moves(b))
    if backend is None and lockstep:
        records = play_games_lockstep(jobs)
    else:
        records = (backend or SerialBackend()).map_games(run_game_job, jobs)
    wins = sum(r.winner == seat for r, seat in zip(records, seats, strict=True))
    draws = sum(r.winner is None for r in records)
    return MatchResult(
        player=a.name,
        opponent=b.name,
        games=int(games),
        wins=wins,
        draws=draws,
        losses=int(games) - wins - draws,
        seed=int(seed),
        seats=seats,
        records=tuple(records),
    )


def forfeits(result: MatchResult) -> list[str]:
    """Why each game of ``result`` lost by forfeit was forfeited (empty if none was)."""
    return [r.forfeit for r in result.records if r.forfeit]


def final_margins(game: BoardGame, result: MatchResult) -> list[float]:
    """The final score margin from ``result.player``'s view in each game of ``result``
    that was played out (forfeits left out), for games that keep a score (Go: area
    minus the opponent's area, komi included).  A margin shows progress where the win
    rate cannot: losing to GNU Go by 20 points instead of 80."""
    if not hasattr(game, "score"):
        raise ValueError(f"{game.name} keeps no score, only a winner")
    margins = []
    for seat, record in zip(result.seats, result.records, strict=True):
        if record.forfeit:
            continue
        state = game.initial_state()
        for action in record.actions:
            state = game.apply(state, action)
        black_lead = float(game.score(state))
        margins.append(black_lead if seat == 0 else -black_lead)
    return margins

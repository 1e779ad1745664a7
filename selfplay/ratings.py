"""openskill ratings of named players, with a frozen reference pool.

:class:`RatingTable` keeps one openskill rating (mu, sigma) per player name and updates
it game by game (wins, losses and draws).  Reference players (baselines such as random,
greedy or an MCTS budget) anchor the scale: their ratings are never updated, so ratings
measured at different times against the same pool stay comparable.  A pool can be
calibrated by recording games among its members first and then calling :meth:`freeze`.

The ordinal is openskill's conservative estimate ``mu - z * sigma`` (z = 3 by default);
tables are sorted by it, best first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from openskill.models import PlackettLuce

from selfplay.match import MatchResult


@dataclass(frozen=True)
class PlayerRating:
    """One row of a :class:`RatingTable`."""

    name: str
    mu: float
    sigma: float
    ordinal: float
    games: int
    wins: int
    draws: int
    losses: int
    reference: bool


@dataclass
class _Entry:
    rating: Any  # the model's rating object
    reference: bool = False
    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def games(self) -> int:
        return self.wins + self.draws + self.losses


class RatingTable:
    """Ratings of named players under an openskill ``model`` (Plackett-Luce by default).

    Players are added on their first game with the model's prior, or beforehand with
    :meth:`add` (a given mu/sigma, or as a reference).  ``reference`` names players that
    start frozen.  ``z`` sets the ordinal ``mu - z * sigma``.
    """

    def __init__(self, reference: Iterable[str] = (), model: Any = None, z: float = 3.0) -> None:
        self.model = model if model is not None else PlackettLuce()
        self.z = float(z)
        self._players: dict[str, _Entry] = {}
        for name in reference:
            self.add(name, reference=True)

    # ---- players -----------------------------------------------------------
    def add(
        self,
        name: str,
        mu: float | None = None,
        sigma: float | None = None,
        reference: bool = False,
    ) -> None:
        """Add ``name`` with the model's prior or the given ``mu``/``sigma``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"RatingTable: a player name must be a non-empty str, got {name!r}")
        if name in self._players:
            raise ValueError(f"RatingTable: player {name!r} is already in the table")
        if sigma is not None and not sigma > 0:
            raise ValueError(f"RatingTable: sigma must be > 0, got {sigma!r}")
        self._players[name] = _Entry(self.model.rating(mu=mu, sigma=sigma, name=name), reference)

    def freeze(self, *names: str) -> None:
        """Make ``names`` reference players: their ratings stop changing."""
        for name in names:
            self._entry(name).reference = True

    def __contains__(self, name: object) -> bool:
        return name in self._players

    def __len__(self) -> int:
        return len(self._players)

    def _entry(self, name: str) -> _Entry:
        try:
            return self._players[name]
        except KeyError:
            raise ValueError(
                f"RatingTable: unknown player {name!r}; known: {sorted(self._players)}"
            ) from None

    def _entry_or_new(self, name: str) -> _Entry:
        if name not in self._players:
            self.add(name)
        return self._players[name]

    # ---- results -----------------------------------------------------------
    def record(self, winner: str, loser: str, draw: bool = False) -> None:
        """One game: ``winner`` beat ``loser``, or with ``draw`` the two drew.

        Both ratings are updated from the ratings before the game, except those of
        reference players, which stay as they are (their win/draw/loss counts do count).
        """
        if winner == loser:
            raise ValueError(f"RatingTable: a player cannot play itself ({winner!r})")
        first, second = self._entry_or_new(winner), self._entry_or_new(loser)
        ranks = [1, 1] if draw else [1, 2]
        [[new_first], [new_second]] = self.model.rate(
            [[first.rating], [second.rating]], ranks=ranks
        )
        if not first.reference:
            first.rating = new_first
        if not second.reference:
            second.rating = new_second
        if draw:
            first.draws += 1
            second.draws += 1
        else:
            first.wins += 1
            second.losses += 1

    def record_match(self, result: MatchResult) -> None:
        """Every game of a :class:`~selfplay.match.MatchResult`, in the order played."""
        for record, seat in zip(result.records, result.seats, strict=True):
            if record.winner is None:
                self.record(result.player, result.opponent, draw=True)
            elif record.winner == seat:
                self.record(result.player, result.opponent)
            else:
                self.record(result.opponent, result.player)

    # ---- reports -----------------------------------------------------------
    def rating(self, name: str) -> PlayerRating:
        e = self._entry(name)
        r = e.rating
        return PlayerRating(
            name=name,
            mu=float(r.mu),
            sigma=float(r.sigma),
            ordinal=float(r.mu - self.z * r.sigma),
            games=e.games,
            wins=e.wins,
            draws=e.draws,
            losses=e.losses,
            reference=e.reference,
        )

    def table(self) -> list[PlayerRating]:
        """All players, highest ordinal first (ties by name)."""
        rows = [self.rating(name) for name in self._players]
        return sorted(rows, key=lambda r: (-r.ordinal, r.name))

    def __str__(self) -> str:
        lines = [f"{'player':<24} {'ordinal':>8} {'mu':>7} {'sigma':>6} {'W-D-L':>12}"]
        for r in self.table():
            name = r.name + (" *" if r.reference else "")
            wdl = f"{r.wins}-{r.draws}-{r.losses}"
            lines.append(f"{name:<24} {r.ordinal:8.2f} {r.mu:7.2f} {r.sigma:6.2f} {wdl:>12}")
        return "\n".join(lines)

    # ---- persistence -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready snapshot (the model's parameters are not included)."""
        return {
            "z": self.z,
            "players": [
                {
                    "name": name,
                    "mu": float(e.rating.mu),
                    "sigma": float(e.rating.sigma),
                    "reference": e.reference,
                    "wins": e.wins,
                    "draws": e.draws,
                    "losses": e.losses,
                }
                for name, e in self._players.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], model: Any = None) -> RatingTable:
        """The table saved by :meth:`to_dict` (under ``model``, Plackett-Luce by default)."""
        try:
            table = cls(model=model, z=data["z"])
            for p in data["players"]:
                table.add(p["name"], mu=p["mu"], sigma=p["sigma"], reference=p["reference"])
                e = table._players[p["name"]]
                e.wins, e.draws, e.losses = int(p["wins"]), int(p["draws"]), int(p["losses"])
        except (KeyError, TypeError) as e:
            raise ValueError(f"RatingTable.from_dict: malformed data ({e!r})") from None
        return table

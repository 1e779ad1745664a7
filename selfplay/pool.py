"""A pool of frozen policy snapshots, opponent sampling, league roles and reference ratings.

:class:`SnapshotPool` keeps frozen snapshots of a learner (their weights as an opaque
mapping of name to array or tensor, or a path, plus metadata) and picks opponents for
self-play the way OpenAI Five did: the latest policy ``latest_fraction`` of the time
(80%), otherwise a past snapshot drawn with probability ``softmax(quality)``. When the
learner beats snapshot ``i`` its quality falls by ``quality_lr / (N * p_i)`` (N past
snapshots, ``p_i`` its sampling probability), so snapshots that no longer put up a
fight are drawn less; a new snapshot enters with the highest quality in the pool.

A quality score only ever falls, so a snapshot beaten early keeps a low score even when
the learner drifts and starts losing to it again: self-play populations cycle.
``main_sampling="pfsp"`` makes a main agent draw its past opponents the way AlphaStar's
main agents did instead, by prioritized fictitious self-play on its current record
against each (below), and the pool then drops the snapshot it beats most reliably.

League roles (AlphaStar) are an option: snapshots carry a role, and
:meth:`SnapshotPool.sample` takes the role of the player asking. A ``main`` agent
samples as above; a ``main_exploiter`` plays the main agents' snapshots and a
``league_exploiter`` the whole pool, both by prioritized fictitious self-play (PFSP:
weight ``(1 - p)^2`` on a snapshot it beats with probability ``p``, so it trains on
what it cannot beat yet).

Ratings: :func:`reference_table` builds an openskill :class:`~selfplay.ratings.RatingTable`
whose reference players (random and scripted bots) played each other and were then
frozen, so ratings taken at different times stay on one scale; :func:`match_result`
turns N seeded games (winners and seats) into a :class:`~selfplay.match.MatchResult`
(score, Wilson 95% interval) that the table records.

This module is generic: it never imports ``agents``; weights are whatever the caller
stores (tensors of a state dict, NumPy arrays, or a checkpoint path).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from selfplay.match import GameRecord, MatchResult
from selfplay.ratings import RatingTable

ROLES = ("main", "main_exploiter", "league_exploiter")
MAIN_SAMPLING = ("quality", "pfsp")
LATEST = "latest"  # what sample() returns for "play the current policy"


class EmptyPoolError(ValueError):
    """An opponent was asked of a pool with no snapshot to offer."""


@dataclass
class Snapshot:
    """One frozen policy: ``weights`` (name -> array/tensor) or ``path``, metadata."""

    id: int
    name: str
    step: int
    role: str = "main"
    quality: float = 0.0
    weights: Mapping[str, Any] | None = None
    path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # role of the player that faced it -> [score of that player, games]
    results: dict[str, list[float]] = field(default_factory=dict)

    def games(self, role: str) -> float:
        """Games ``role`` players have played against this snapshot."""
        return self.results.get(role, (0.0, 0.0))[1]

    def win_rate(self, role: str) -> float:
        """Estimated probability that a ``role`` player beats this snapshot: its record
        with one win and one loss of prior (0.5 before any game), so that one game's
        result alone cannot drive a PFSP weight to 0 and freeze the estimate there."""
        score, games = self.results.get(role, (0.0, 0.0))
        return (score + 1.0) / (games + 2.0)

    def info(self) -> dict[str, Any]:
        """JSON-ready description (without the weights)."""
        return {
            "id": self.id, "name": self.name, "step": self.step, "role": self.role,
            "quality": self.quality, "path": self.path, "meta": self.meta,
            "results": self.results, "has_weights": self.weights is not None,
        }  # fmt: skip


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ValueError(f"unknown league role {role!r}; roles are {list(ROLES)}")


class SnapshotPool:
    """Frozen snapshots and OpenAI Five / league opponent sampling (module docstring).

    Args:
        max_size: snapshots kept; past it one goes (never the newest): the lowest-quality
            one, or under ``main_sampling="pfsp"`` the one main agents beat most (among
            those that have played main agents, if any have).
        latest_fraction: share of a main agent's games against the latest policy.
        quality_lr: step size of the quality update when a snapshot is beaten.
        main_sampling: how a main agent draws past snapshots: ``"quality"`` (OpenAI
            Five, ``softmax(quality)``) or ``"pfsp"`` (AlphaStar, ``(1 - p)^2``); with
            ``"pfsp"`` the pool, when full, drops the snapshot main agents beat most.
    """

    def __init__(
        self,
        max_size: int = 50,
        latest_fraction: float = 0.8,
        quality_lr: float = 0.01,
        main_sampling: str = "quality",
    ) -> None:
        if not isinstance(max_size, int) or max_size < 1:
            raise ValueError(f"max_size must be an int >= 1, got {max_size!r}")
        if not 0.0 <= latest_fraction <= 1.0:
            raise ValueError(f"latest_fraction must be in [0, 1], got {latest_fraction!r}")
        if not quality_lr >= 0:
            raise ValueError(f"quality_lr must be >= 0, got {quality_lr!r}")
        if main_sampling not in MAIN_SAMPLING:
            raise ValueError(
                f"unknown main_sampling {main_sampling!r}; choose from {list(MAIN_SAMPLING)}"
            )
        self.main_sampling = main_sampling
        self.max_size = max_size
        self.latest_fraction = float(latest_fraction)
        self.quality_lr = float(quality_lr)
        self.snapshots: dict[int, Snapshot] = {}
        self.next_id = 0

    # ---- contents ----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.snapshots)

    def __contains__(self, snapshot_id: object) -> bool:
        return snapshot_id in self.snapshots

    def __getitem__(self, snapshot_id: int) -> Snapshot:
        try:
            return self.snapshots[snapshot_id]
        except KeyError:
            raise KeyError(
                f"no snapshot {snapshot_id!r} in the pool; ids: {sorted(self.snapshots)}"
            ) from None

    def add(
        self,
        weights: Mapping[str, Any] | None = None,
        *,
        path: str | None = None,
        name: str | None = None,
        step: int = 0,
        role: str = "main",
        meta: dict[str, Any] | None = None,
    ) -> Snapshot:
        """Add a snapshot (``weights`` or a ``path``); it gets the pool's top quality."""
        _check_role(role)
        if weights is None and path is None:
            raise ValueError("a snapshot needs weights or a path")
        quality = max((s.quality for s in self.snapshots.values()), default=0.0)
        sid = self.next_id
        self.next_id += 1
        snap = Snapshot(
            id=sid, name=name or f"{role}-{step}", step=int(step), role=role, quality=quality,
            weights=dict(weights) if weights is not None else None, path=path,
            meta=dict(meta or {}),
        )  # fmt: skip
        self.snapshots[sid] = snap
        while len(self.snapshots) > self.max_size:
            old = [s for s in self.snapshots.values() if s.id != sid]
            if self.main_sampling == "pfsp":  # a snapshot is judged once it has played
                old = [s for s in old if s.games("main")] or old
                drop = max(old, key=lambda s: (s.win_rate("main"), -s.id))
            else:
                drop = min(old, key=lambda s: (s.quality, s.id))
            del self.snapshots[drop.id]
        return snap

    def latest(self, role: str | None = None) -> Snapshot:
        """The newest snapshot (of ``role`` if given); EmptyPoolError if none."""
        snaps = [s for s in self.snapshots.values() if role is None or s.role == role]
        if not snaps:
            raise EmptyPoolError(
                "the opponent pool is empty"
                + (f" of {role!r} snapshots" if role else "")
                + ": add a snapshot before sampling opponents"
            )
        return max(snaps, key=lambda s: s.id)

    # ---- sampling ----------------------------------------------------------------------
    def probabilities(self, role: str = "main") -> dict[int, float]:
        """Probability of each snapshot when a ``role`` player samples a past opponent."""
        _check_role(role)
        if role == "main" and self.main_sampling == "quality":
            snaps = list(self.snapshots.values())
            if not snaps:
                return {}
            q = np.array([s.quality for s in snaps])
            w = np.exp(q - q.max())
        else:
            snaps = [
                s for s in self.snapshots.values()
                if role != "main_exploiter" or s.role == "main"
            ]  # fmt: skip
            if not snaps:
                return {}
            w = np.array([(1.0 - s.win_rate(role)) ** 2 for s in snaps]) + 1e-6
        w = w / w.sum()
        return {s.id: float(p) for s, p in zip(snaps, w, strict=True)}

    def sample(self, rng: np.random.Generator, role: str = "main") -> Snapshot | str:
        """An opponent for a ``role`` player: :data:`LATEST` (the live policy; main
        agents only, with probability ``latest_fraction``) or a :class:`Snapshot`.
        EmptyPoolError when the pool has none to offer."""
        _check_role(role)
        probs = self.probabilities(role)
        if not probs:
            raise EmptyPoolError(
                f"the opponent pool has no snapshot for a {role!r} player to play: "
                "add one (e.g. the initial policy) before sampling"
            )
        if role == "main" and rng.random() < self.latest_fraction:
            return LATEST
        ids = list(probs)
        return self.snapshots[ids[int(rng.choice(len(ids), p=list(probs.values())))]]

    # ---- results -----------------------------------------------------------------------
    def report(self, snapshot_id: int, score: float, role: str = "main") -> None:
        """A ``role`` player scored ``score`` (1 win, 0.5 draw, 0 loss) against the
        snapshot; it enters the snapshot's record (what PFSP weighs). Under quality
        sampling a main agent's win also lowers the snapshot's quality (OpenAI Five)."""
        _check_role(role)
        if not 0.0 <= score <= 1.0:
            raise ValueError(f"score must be in [0, 1], got {score!r}")
        if snapshot_id not in self.snapshots:
            return  # dropped from the pool while the game was played
        snap = self.snapshots[snapshot_id]
        rec = snap.results.setdefault(role, [0.0, 0.0])
        rec[0] += score
        rec[1] += 1
        if role == "main" and score > 0 and self.main_sampling == "quality":
            p = self.probabilities("main")[snapshot_id]
            snap.quality -= self.quality_lr * score / (len(self.snapshots) * p)

    # ---- persistence -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Settings and snapshot descriptions (JSON-ready); weights go by :meth:`weights`."""
        return {
            "max_size": self.max_size,
            "latest_fraction": self.latest_fraction,
            "quality_lr": self.quality_lr,
            "main_sampling": self.main_sampling,
            "next_id": self.next_id,
            "snapshots": [s.info() for s in self.snapshots.values()],
        }

    def weights(self, prefix: str = "pool") -> dict[str, Any]:
        """Every snapshot's weights under ``{prefix}/{id}/{name}`` (for one file)."""
        out = {}
        for s in self.snapshots.values():
            for k, v in (s.weights or {}).items():
                out[f"{prefix}/{s.id}/{k}"] = v
        return out

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], weights: Mapping[str, Any] | None = None, prefix: str = "pool"
    ) -> SnapshotPool:
        """The pool saved by :meth:`to_dict` and :meth:`weights`."""
        try:
            pool = cls(
                data["max_size"], data["latest_fraction"], data["quality_lr"],
                data.get("main_sampling", "quality"),  # absent before PFSP main agents
            )  # fmt: skip
            pool.next_id = int(data["next_id"])
            for info in data["snapshots"]:
                sid = int(info["id"])
                head = f"{prefix}/{sid}/"
                w = None
                if info.get("has_weights"):
                    items = (weights or {}).items()
                    w = {k[len(head) :]: v for k, v in items if k.startswith(head)}
                    if not w:
                        raise ValueError(f"the weights of snapshot {sid} are missing")
                pool.snapshots[sid] = Snapshot(
                    id=sid, name=info["name"], step=int(info["step"]), role=info["role"],
                    quality=float(info["quality"]), weights=w, path=info.get("path"),
                    meta=dict(info.get("meta", {})),
                    results={k: list(v) for k, v in info.get("results", {}).items()},
                )  # fmt: skip
        except (KeyError, TypeError) as e:
            raise ValueError(f"SnapshotPool.from_dict: malformed data ({e!r})") from None
        return pool


# ---- ratings against a frozen reference pool -------------------------------------------
def match_result(
    player: str,
    opponent: str,
    winners: Sequence[int],
    seats: Sequence[int],
    seed: int = 0,
) -> MatchResult:
    """N games of ``player`` (seat ``seats[i]`` in game i) as a MatchResult; winners
    are a seat (0, 1) or 2 / None for a draw. Gives the score and Wilson interval."""
    if len(winners) != len(seats) or not len(winners):
        raise ValueError(f"need as many winners as seats (>0), got {len(winners)}, {len(seats)}")
    records, wins, draws = [], 0, 0
    for w, seat in zip(winners, seats, strict=True):
        w = None if w is None or int(w) == 2 else int(w)
        seat = int(seat)
        names = (player, opponent) if seat == 0 else (opponent, player)
        if w is None:
            draws += 1
            returns = (0.0, 0.0)
        else:
            wins += w == seat
            returns = (1.0, -1.0) if w == 0 else (-1.0, 1.0)
        records.append(GameRecord(names, (), w, returns))
    n = len(records)
    return MatchResult(
        player=player, opponent=opponent, games=n, wins=wins, draws=draws,
        losses=n - wins - draws, seed=int(seed), seats=tuple(int(s) for s in seats),
        records=tuple(records),
    )  # fmt: skip


def reference_table(
    names: Iterable[str], results: Iterable[MatchResult] = (), z: float = 3.0
) -> RatingTable:
    """A rating table of reference players that played each other (``results``) and were
    then frozen: their ratings anchor the scale and never move again."""
    names = list(names)
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"reference names must be distinct and non-empty, got {names}")
    table = RatingTable(z=z)
    for name in names:
        table.add(name)
    for result in results:
        for who in (result.player, result.opponent):
            if who not in names:
                raise ValueError(f"result of {who!r}, who is not a reference player {names}")
        table.record_match(result)
    table.freeze(*names)
    return table


def expected_score(table: RatingTable, a: str, b: str) -> float:
    """Probability that ``a`` beats ``b`` under the table's ratings (a logistic of the
    mu difference over the combined uncertainty, as openskill's predict_win)."""
    ra, rb = table.rating(a), table.rating(b)
    beta = getattr(table.model, "beta", 25.0 / 6.0)
    c = math.sqrt(2 * beta**2 + ra.sigma**2 + rb.sigma**2)
    return 1.0 / (1.0 + math.exp(-(ra.mu - rb.mu) / c))

"""Measuring an AlphaZero network: mistake rates on Pons position files, matches
against baselines, and openskill ratings across checkpoints.

Used by the training loop (periodic evaluations) and by ``scripts/evaluate.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from agents.alphazero.network import PolicyValueNet
from agents.alphazero.player import AlphaZeroPlayer
from selfplay import BuiltinPlayer, Player, RatingTable, mistake_rate, play_match
from sim.board import BoardGame

POSITION_FILES = ("Test_L3_R1", "Test_L2_R1")
OPENING_PLIES = 2  # plies a network plays by visit shares in evaluation matches


def position_files(folder: str | os.PathLike) -> list[Path]:
    """The shared Pons files found in ``folder`` (easy set first); [] if none."""
    folder = Path(folder)
    return [folder / name for name in POSITION_FILES if (folder / name).is_file()]


def baselines(game: BoardGame, rollouts: int) -> list[Player]:
    """The reference pool: random, greedy and pure MCTS with ``rollouts`` simulations."""
    return [
        BuiltinPlayer("random", game),
        BuiltinPlayer("greedy", game),
        BuiltinPlayer("mcts", game, simulations=rollouts, label=f"mcts({rollouts})"),
    ]


def calibrated_ratings(game: BoardGame, rollouts: int, games: int, seed: int) -> RatingTable:
    """A rating table whose reference pool has played itself (then frozen), so the
    baselines sit apart on the scale before any network is rated against them."""
    table = RatingTable()
    pool = baselines(game, rollouts)
    for i, a in enumerate(pool):
        for b in pool[i + 1 :]:
            table.record_match(play_match(game, a, b, games, seed))
    table.freeze(*(p.name for p in pool))
    return table


def mistake_rates(
    player: Player, files: list[Path], limit: int | None, seed: int = 0
) -> dict[str, dict[str, Any]]:
    """``{file name: MistakeReport.to_dict()}`` (without the list of mistaken lines)."""
    out = {}
    for path in files:
        report = mistake_rate(player, path, limit=limit, rng=seed).to_dict()
        report.pop("mistake_lines")
        out[path.name] = report
    return out


def play_baselines(
    game: BoardGame,
    player: Player,
    opponents: list[Player],
    games: int,
    seed: int,
    ratings: RatingTable | None = None,
) -> dict[str, dict[str, Any]]:
    """``{opponent: MatchResult.summary()}`` of ``player`` against each opponent (sides
    alternating), each result also recorded in ``ratings`` if given."""
    out = {}
    for opponent in opponents:
        result = play_match(game, player, opponent, games, seed)
        out[opponent.name] = result.summary()
        if ratings is not None:
            ratings.record_match(result)
    return out


def evaluate_network(
    game: BoardGame,
    net: PolicyValueNet,
    name: str,
    *,
    simulations: int,
    files: list[Path],
    positions: int | None,
    games: int,
    rollouts: int,
    seed: int,
    ratings: RatingTable | None = None,
    previous: tuple[str, PolicyValueNet] | None = None,
    c_puct: float = 1.5,
    fpu: float = 0.2,
) -> dict[str, Any]:
    """Mistake rates (with search on the first ``positions`` of each file, raw on all)
    on ``files``, matches against the baselines (and the ``previous`` named network),
    rating updates; a JSON-ready dict. In matches both networks play their first
    ``OPENING_PLIES`` plies in proportion to visits, so that games between
    deterministic searchers differ."""
    search = {"c_puct": c_puct, "fpu": fpu}
    searcher = AlphaZeroPlayer(game, net, simulations, name=name, **search)
    raw = AlphaZeroPlayer(game, net, 0, name=f"{name}-raw")
    out: dict[str, Any] = {"name": name, "simulations": simulations}
    if files:
        out["mistakes"] = mistake_rates(searcher, files, positions, seed)
        out["mistakes_raw"] = mistake_rates(raw, files, None, seed)
    player = AlphaZeroPlayer(
        game, net, simulations, name=name, opening_plies=OPENING_PLIES, **search
    )
    opponents = baselines(game, rollouts)
    if previous is not None:
        opponents.append(
            AlphaZeroPlayer(
                game,
                previous[1],
                simulations,
                name=previous[0],
                opening_plies=OPENING_PLIES,
                **search,
            )  # fmt: skip
        )
    out["matches"] = play_baselines(game, player, opponents, games, seed, ratings)
    if ratings is not None:
        r = ratings.rating(name)
        out["rating"] = {"mu": r.mu, "sigma": r.sigma, "ordinal": r.ordinal}
    return out

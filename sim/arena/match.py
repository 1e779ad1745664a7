"""Scripted-against-scripted matches over a batch (the ladder, benchmarks, replays)."""

from __future__ import annotations

import numpy as np

from sim.arena.batch import ArenaBatch
from sim.arena.config import ArenaConfig
from sim.arena.kernels import seed_state
from sim.arena.scripted import level_id, scripted_actions


class ScriptedTeams:
    """Both teams' scripted policies for a batch, each with its own random stream."""

    def __init__(self, batch: ArenaBatch, levels: tuple[str | int | None, str | int | None]):
        self.batch = batch
        self.levels = tuple(None if lv is None else level_id(lv) for lv in levels)
        self.rng = np.zeros((2, batch.num_arenas), dtype=np.uint64)
        self.reseed()

    def reseed(self, arenas: np.ndarray | None = None) -> None:
        """Bot streams follow the arenas' seeds (offset so they differ from the rules')."""
        idx = range(self.batch.num_arenas) if arenas is None else arenas
        for team in range(2):
            for i in idx:
                self.rng[team, i] = seed_state(int(self.batch.seeds[i]) * 2 + 1 + team + (1 << 40))

    def act(self, actions: np.ndarray) -> np.ndarray:
        """Fill the scripted teams' heroes in ``actions`` (num_arenas, NUM_HEROES, 3) in
        place (``scripted_actions`` writes only its team's rows; the others are kept)."""
        b = self.batch
        for team, level in enumerate(self.levels):
            if level is None:
                continue
            scripted_actions(
                b.ui, b.gi, b.vis, b.mem, team, level, self.rng[team], b.map.nav[team],
                b.map.terrain, actions,
            )  # fmt: skip
        return actions


def play_matches(
    levels: tuple[str, str],
    num_games: int,
    config: ArenaConfig | None = None,
    seed: int = 0,
    batch_size: int = 64,
) -> np.ndarray:
    """Winners (0, 1, 2 = draw) of ``num_games`` scripted matches, seeds ``seed...``."""
    winners = []
    start = 0
    while start < num_games:
        k = min(batch_size, num_games - start)
        batch = ArenaBatch(k, config, seed=seed + start)
        teams = ScriptedTeams(batch, levels)
        actions = batch.noop_actions()
        while not batch.done.all():
            teams.act(actions)
            batch.step(actions, check=False)
        winners.append(batch.winner)
        start += k
    return np.concatenate(winners)

"""Scripted FogArena teams form a ladder: hard > medium > easy > random.

Each pair plays 200 full 5v5 matches (time limit 3000), sides alternating (100 games
each way); the stronger level's win rate must have a Wilson 95% lower bound above 0.5.
Draws count as non-wins.
"""

from __future__ import annotations

import numpy as np
import pytest

from selfplay import wilson_interval
from sim.arena import ArenaConfig, play_matches

GAMES = 200


@pytest.mark.parametrize(
    "strong, weak", [("hard", "medium"), ("medium", "easy"), ("easy", "random")]
)
def test_ladder(strong, weak):
    cfg = ArenaConfig()
    half = GAMES // 2
    first = play_matches((strong, weak), half, cfg, seed=1000)
    second = play_matches((weak, strong), half, cfg, seed=5000)
    wins = int(np.sum(first == 0) + np.sum(second == 1))
    assert wilson_interval(wins, GAMES)[0] > 0.5, f"{strong} won {wins}/{GAMES} against {weak}"

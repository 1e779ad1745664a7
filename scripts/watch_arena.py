"""Watch FogArena: record a match between scripted teams, or play a replay back.

(The full viewer is ``scripts/watch.py simarena/FogArena-v0``: PPO heroes, a human hero,
the heads-up panel and the window controls; its ``--replay`` plays these files too.)

Examples::

    python scripts/watch_arena.py --team0 hard --team1 medium            # a window
    SDL_VIDEODRIVER=dummy python scripts/watch_arena.py --time-limit 600  # headless: video
    python scripts/watch_arena.py --replay runs/arena-.../match.npz --speed 4 --view 0

Headless (``SDL_VIDEODRIVER=dummy``, or ``--video``), frames go to an mp4 (imageio) under
``runs/arena-<timestamp>/``, beside the replay file of a recorded match; the script
prints where it wrote. Bad options or a missing or malformed replay file end it with a
one-line ``error: ...`` on stderr and exit status 2.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import tyro

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


@dataclass
class Config:
    """Record a scripted FogArena match, or play back a replay file."""

    replay: Path | None = None
    """Play this replay file back instead of recording a new match."""
    team0: str = "hard"
    """Level of team 0 (random, easy, medium, hard)."""
    team1: str = "medium"
    """Level of team 1."""
    team_size: int = 5
    """Heroes of team 0."""
    enemy_team_size: int | None = None
    """Heroes of team 1 (default: team_size)."""
    seed: int = 0
    time_limit: int = 3000
    """Ticks before structure health decides the match."""
    view: int | None = None
    """None: spectator; 0 or 1: that team's view with its fog."""
    speed: float = 1.0
    """Playback speed (1.0 = 20 ticks per second)."""
    video: bool = False
    """Write an mp4 even with a display."""
    max_frames: int | None = None
    """Stop after this many frames."""
    out: Path | None = None
    """Folder for the files (default: runs/arena-<timestamp>/)."""


def fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def main(cfg: Config) -> None:
    try:
        run(cfg)
    except ValueError as e:  # ReplayError included
        fail(str(e))


def run(cfg: Config) -> None:
    from envs.arena.render import play_replay
    from sim.arena import ArenaBatch, ArenaConfig, ScriptedTeams
    from sim.arena.replay import save_replay

    if cfg.view not in (None, 0, 1):
        raise ValueError(f"--view must be 0 or 1 (omit it for the spectator view), got {cfg.view}")
    if not cfg.speed > 0:
        raise ValueError(f"--speed must be a positive number, got {cfg.speed}")
    if cfg.max_frames is not None and cfg.max_frames < 1:
        raise ValueError(f"--max-frames must be at least 1, got {cfg.max_frames}")
    if cfg.replay is not None and not cfg.replay.is_file():
        raise ValueError(f"replay file {str(cfg.replay)!r} does not exist")
    headless = os.environ.get("SDL_VIDEODRIVER") == "dummy"
    out = cfg.out or ROOT / "runs" / f"arena-{time.strftime('%Y%m%d-%H%M%S')}"
    replay = cfg.replay
    if replay is None:
        sizes = (
            cfg.team_size,
            cfg.team_size if cfg.enemy_team_size is None else cfg.enemy_team_size,
        )
        config = ArenaConfig(team_sizes=sizes, time_limit=cfg.time_limit)
        batch = ArenaBatch(1, config, seed=cfg.seed)
        teams = ScriptedTeams(batch, (cfg.team0, cfg.team1))
        actions = []
        a = batch.noop_actions()
        while not batch.done[0]:
            teams.act(a)
            actions.append(a[0].copy())
            batch.step(a)
        replay = save_replay(out / "match.npz", config, cfg.seed, actions, batch.state_hash(0))
        w = int(batch.winner[0])
        result = "a draw" if w == 2 else f"team {w} ({(cfg.team0, cfg.team1)[w]}) wins"
        print(f"match: {cfg.team0} vs {cfg.team1}, {len(actions)} ticks, {result}")
        print(f"wrote replay {replay}")
    video = out / "match.mp4" if (headless or cfg.video) else None
    res = play_replay(
        replay, speed=cfg.speed, team=cfg.view, record=video, display=not headless,
        max_frames=cfg.max_frames,
    )  # fmt: skip
    print(f"played {res['frames']} frames in {res['seconds']:.1f} s")
    if video is not None:
        print(f"wrote video {video}")


if __name__ == "__main__":
    main(tyro.cli(Config))

"""Watch any simarena env and agent, play it yourself, or record it.

``watch.py ENV_ID`` with a player for each side or team: ``human``, a built-in bot by name,
or a checkpoint (file or run folder) of any of our agents, AlphaZero, DQN or PPO, told
apart by the checkpoint's metadata (``alphazero:PATH`` still works). Examples, from the
repository root:

    python scripts/watch.py simarena/Connect4-v0 --player0 human --player1 solver
    python scripts/watch.py simarena/Othello-v0 --player0 runs/az-othello --player1 mcts
    python scripts/watch.py simarena/FogArena-v0 --player0 hard --player1 medium --team 0
    python scripts/watch.py simarena/FogArena-v0 --player0 human --teammates hard
    python scripts/watch.py simarena/MinAtar-Breakout-v0 --player0 runs/dqn-minatar-breakout
    python scripts/watch.py simarena/Atari-Pong-v0 --player0 human
    python scripts/watch.py simarena/Drive-v0 --player0 human       # or lanekeep, a PPO run
    python scripts/watch.py simarena/Go9x9-v0 --record runs/go.mp4        # no window; .gif too
    python scripts/watch.py simarena/TicTacToe-v0 --episodes 20 --headless  # results table
    python scripts/watch.py --replay runs/arena-<stamp>/match.npz --speed 4 --team 0
    python scripts/watch.py --game connect4 --player0 alphazero:runs/x --player1 human

The panel beside the picture shows the score, the step, the frame rate and the agent's
view: policy and visit counts of the last AlphaZero move (also drawn over the board,
--no-overlay hides that), Q-values of a DQN, value and action probabilities of PPO.

Controls: space pause, . or right arrow one step, + / - faster / slower, r restart with a
new seed, q or Esc quit. Board games: click a point (Connect Four: a column), P passes.
FogArena: f cycles the view (spectator, team 0's fog, team 1's fog); a human hero walks
with W A S D or the arrows, attacks the enemy clicked, walks to the ground clicked, and
casts its ability on the unit right-clicked (E: on itself). Atari: arrows and F (fire).
Driving: up / down accelerate and brake, left / right steer (W A S D too).

``--record out.mp4`` (or ``.gif``) renders headless to a video; ``--headless`` plays
without a window and prints a results table; ``--replay FILE`` plays a FogArena replay
(``.npz``) or a board-game replay (``.json``, written by ``--save-replay``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/viewer

from viewer.core import (  # noqa: E402
    RunSettings,
    UsageError,
    Viewer,
    results_table,
)
from viewer.players import HUMAN  # noqa: E402

from sim.board import GAMES  # noqa: E402

GameName = Literal[tuple(GAMES)]  # type: ignore[valid-type]
ALPHAZERO = "alphazero:"
PROG = "watch.py"
DEFAULT_PLAYERS = {
    "board": ("mcts", "greedy"),
    "arena": ("hard", "medium"),
    "atari": ("random", None),
    "driving": ("lanekeep", None),
}


@dataclass
class Args:
    """Watch or play any simarena env with any of its players, or record it."""

    env: Annotated[str | None, tyro.conf.Positional] = None
    """env id, e.g. simarena/Connect4-v0, simarena/FogArena-v0, simarena/MinAtar-Breakout-v0,
    simarena/Atari-Pong-v0; default: the board game of --game"""
    game: GameName | None = None  # type: ignore[valid-type]
    """the board game to play when no env id is given (default connect4)"""
    game_size: int | None = None
    """board size for games that have one (othello, gomoku, go); default: the game's own"""
    player0: str | None = None
    """player_0 / team 0 / the only player: human, a bot (board: random, greedy, mcts,
    solver; FogArena: random, easy, medium, hard; Atari: random; driving: lanekeep, idle,
    random) or a checkpoint file or run folder of an AlphaZero, DQN or PPO agent
    (alphazero:PATH also works); default mcts (board), hard (FogArena), random (Atari),
    lanekeep (driving)"""
    player1: str | None = None
    """player_1 / team 1: as --player0; default greedy (board), medium (FogArena)"""
    simulations: int = 200
    """rollouts per move of an mcts player"""
    az_simulations: int = 800
    """search simulations per move of an alphazero player; 0 plays the raw network's choice"""
    overlay: bool = True
    """draw the last alphazero move's policy, visit counts and value over the board"""
    seed: int = 0
    """seed of episode 1 (episode k: seed + k - 1); r in the window draws a new one"""
    fps: float | None = None
    """steps shown (or recorded) per second; default: board 2, FogArena 20, Atari 15,
    driving 10"""
    speed: float = 1.0
    """multiplies --fps (replays: times real time)"""
    record: str | None = None
    """write the episodes to this .mp4 or .gif file instead of opening a window"""
    headless: bool = False
    """no window: play the episodes and print a results table"""
    episodes: int | None = None
    """episodes (games, matches) to play in a row; default 1"""
    games: int = 1
    """board games to play in a row (the same as --episodes)"""
    max_steps: int | None = None
    """end an episode after this many steps (moves, ticks, frames)"""
    cell_px: int | None = None
    """pixels per board cell; default: the board fits in about 640 pixels"""
    hold: float = 2.0
    """seconds the final position of each episode stays on screen (and in the recording)"""
    replay: str | None = None
    """play this replay back: a FogArena .npz, or a board-game .json from --save-replay"""
    screenshot: str | None = None
    """save the last frame (the end of the last episode, or step --max-steps) as a PNG"""
    save_replay: str | None = None
    """write each episode's replay here (board games .json, FogArena .npz; with several
    episodes the episode number is added to the name)"""
    team: int | None = None
    """FogArena: start in team 0's or team 1's fogged view; default: spectator (or the
    human's team)"""
    team_size: int = 5
    """FogArena: heroes of team 0"""
    enemy_team_size: int | None = None
    """FogArena: heroes of team 1 (default: --team-size)"""
    time_limit: int = 3000
    """FogArena: ticks before structure health decides the match"""
    teammates: str = "medium"
    """FogArena: who plays the human's teammates (a level or a PPO checkpoint)"""
    hero: int = 0
    """FogArena: which hero of its team the human controls"""
    protocol: str | None = None
    """Atari: evaluation protocol (machado, nature; MinAtar: minatar); default: the DQN
    checkpoint's, else the game's default"""
    epsilon: float | None = None
    """Atari: a DQN's random-action probability; default: the protocol's eval epsilon"""
    scale: int = 3
    """Atari/MinAtar: pixels per screen pixel (ALE screens use one less)"""
    perception: str | None = None
    """driving: a perception model (file or run folder) whose predicted segmentation of
    the front camera is shown beside the true labels"""


def env_family(env_id: str) -> tuple[str, dict]:
    """(family, registry kwargs) of a registered id; UsageError listing the ids otherwise."""
    import envs

    known = dict(envs.GYM_ENVS)
    if env_id not in known:
        raise UsageError(f"unknown env id {env_id!r}; registered ids: {', '.join(sorted(known))}")
    entry, kwargs = known[env_id]
    module = entry.split(":")[0]
    if entry.endswith(":go9x9"):
        return "board", {"game": "go", "size": 9}
    if module.startswith("envs.board") and "game" not in kwargs:  # e.g. envs.board.chess_v0
        name = module.rsplit(".", 1)[-1].removesuffix("_v0")
        if name in GAMES:
            return "board", {**kwargs, "game": name}
    for family in ("board", "arena", "atari", "driving"):
        if module.startswith(f"envs.{family}"):
            return family, dict(kwargs)
    raise UsageError(f"the viewer does not know the family of {env_id!r} ({entry})")


def check(args: Args) -> None:
    if args.episodes is not None and args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    if args.games < 1:
        raise UsageError(f"--games must be >= 1, got {args.games}")
    if args.fps is not None and not args.fps > 0:
        raise UsageError(f"--fps must be > 0, got {args.fps}")
    if not args.speed > 0:
        raise UsageError(f"--speed must be > 0, got {args.speed}")
    if args.hold < 0:
        raise UsageError(f"--hold must be >= 0, got {args.hold}")
    if args.simulations < 1:
        raise UsageError(f"--simulations must be >= 1, got {args.simulations}")
    if args.az_simulations < 0:
        raise UsageError(f"--az-simulations must be >= 0, got {args.az_simulations}")
    if args.screenshot is not None and Path(args.screenshot).suffix.lower() != ".png":
        raise UsageError(f"--screenshot must name a .png file, got {args.screenshot!r}")
    if args.max_steps is not None and args.max_steps < 1:
        raise UsageError(f"--max-steps must be >= 1, got {args.max_steps}")


def build_session(args: Args):
    """The session the arguments ask for (UsageError if they do not fit)."""
    check(args)
    if args.replay is not None:
        suffix = Path(args.replay).suffix.lower()
        if suffix == ".json":
            from viewer.board import BoardOptions, BoardSession, load_replay

            data = load_replay(args.replay)
            opts = BoardOptions(args.simulations, args.az_simulations, args.overlay, args.cell_px)
            names = tuple(data.get("players") or ("?", "?"))
            return BoardSession(data["game"], data["options"], names, opts, data["game"], data)
        from viewer.arena import ArenaSession

        return ArenaSession(("replay", "replay"), "FogArena replay", view=args.team,
                            replay=args.replay)  # fmt: skip
    if args.env is None:
        family, kwargs, label = "board", {"game": args.game or "connect4"}, args.game or "connect4"
    else:
        family, kwargs = env_family(args.env)
        label = args.env
        if family == "board" and args.game is not None and args.game != kwargs["game"]:
            raise UsageError(f"--game {args.game} does not match {args.env}; give one of them")
    defaults = DEFAULT_PLAYERS[family]
    if kwargs.get("game") == "chess":  # the mcts bot's Numba kernels cannot step chess
        defaults = ("random", "greedy")
    p0 = args.player0 if args.player0 is not None else defaults[0]
    p1 = args.player1 if args.player1 is not None else defaults[1]
    if args.perception is not None and family != "driving":
        raise UsageError("--perception is for the driving env (simarena/Drive-v0)")
    if family == "board":
        from viewer.board import BoardOptions, BoardSession

        options = {k: v for k, v in kwargs.items() if k != "game"}
        if args.game_size is not None:
            if "size" in options and options["size"] != args.game_size:
                raise UsageError(
                    f"{args.env} is played on size {options['size']}; drop --game-size"
                )
            options["size"] = args.game_size
        opts = BoardOptions(args.simulations, args.az_simulations, args.overlay, args.cell_px)
        return BoardSession(kwargs["game"], options, (p0, p1), opts, label)
    if family == "arena":
        from viewer.arena import ArenaSession

        return ArenaSession(
            (p0, p1), label, team_size=args.team_size, enemy_team_size=args.enemy_team_size,
            time_limit=args.time_limit, teammates=args.teammates, hero=args.hero,
            view=args.team, seed=args.seed,
        )  # fmt: skip
    if args.player1 is not None:
        raise UsageError(f"{label} has one player: drop --player1")
    if family == "atari":
        from viewer.atari import AtariSession

        return AtariSession(kwargs["game"], label, p0, args.protocol, args.epsilon, args.scale)
    from viewer.driving import DrivingSession

    return DrivingSession(args.env, label, p0, perception=args.perception)


def replay_path(base: str, index: int, episodes: int) -> Path:
    p = Path(base)
    return p if episodes == 1 else p.with_name(f"{p.stem}-{index + 1}{p.suffix}")


def run(args: Args) -> int:
    episodes = args.episodes if args.episodes is not None else args.games
    window = args.record is None and not args.headless
    session = build_session(args)
    human = (
        HUMAN in getattr(session, "players", ())  # board games
        or getattr(session, "human", None) is not None  # a FogArena hero
        or getattr(session, "player", None) == HUMAN  # Atari, driving
    )
    if args.save_replay is not None and not hasattr(session, "save_replay"):
        raise UsageError("--save-replay: replays are kept for board games and FogArena only")
    if human and not window:
        flag = "--record" if args.record is not None else "--headless"
        raise UsageError(f"a human player needs the window: drop {flag}")
    fps = (args.fps or session.fps) * args.speed
    recorder = None
    if args.record is not None:
        from sim.board.render import MatchRecorder

        try:
            recorder = MatchRecorder(args.record, fps)
        except ValueError as e:
            raise UsageError(str(e)) from None
    settings = RunSettings(episodes, args.seed, fps, args.hold, args.max_steps)
    viewer = Viewer(session, settings, recorder)

    def on_result(i: int, result: dict) -> None:
        for line in session.report(i, result):
            print(line)
        if args.save_replay is not None:
            path = session.save_replay(replay_path(args.save_replay, i, episodes))
            print(f"wrote replay {path}")

    viewer.on_result = on_result
    try:
        results = viewer.run_window() if window else viewer.run_headless()
    finally:
        if recorder is not None:
            recorder.close()
    for line in session.totals(results):
        print(line)
    if args.headless:
        print(results_table(results))
    if args.screenshot is not None:
        import imageio.v3 as iio

        shot = Path(args.screenshot)
        shot.parent.mkdir(parents=True, exist_ok=True)
        iio.imwrite(shot, viewer.frame())
        print(f"wrote {shot}")
    if recorder is not None:
        h, w = (viewer.last_frame.shape[:2] if viewer.last_frame is not None
                else viewer.frame().shape[:2])  # fmt: skip
        print(f"wrote {recorder.path} ({recorder.frames} frames, {w}x{h}, {fps:g} fps)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = tyro.cli(Args, args=argv, prog=PROG, description=__doc__)
    if args.record is not None or args.headless:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # offscreen only: no display needed
    try:
        return run(args)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())

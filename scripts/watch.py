"""Watch two players play a board game, or play one yourself with the mouse.

Players: the built-in opponents, human (the mouse), or alphazero:PATH, a trained
AlphaZero network (PATH: its checkpoint file or its run folder). Examples, from the
repository root:

    python scripts/watch.py --game othello --player0 mcts --player1 greedy
    python scripts/watch.py --game connect4 --player0 human --player1 solver
    python scripts/watch.py --player0 alphazero:runs/x --player1 human
    python scripts/watch.py --game go --record runs/go.mp4   # no window; .gif works too
    python scripts/watch.py --replay runs/arena-<stamp>/match.npz --speed 4 --team 0

Over the board goes what the last AlphaZero move considered (--no-overlay hides it):
the network's policy as translucent markers sized by each move's share, the search's
visit counts as numbers, and the root value in the status bar.

``--replay FILE`` plays a FogArena replay back instead (spectator view, or ``--team``'s
fogged view), at ``--speed`` times real time (20 ticks/s).

A human clicks a point (Connect Four: a column) and presses P (or clicks "pass") to
pass; Esc, Q or closing the window quits.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import tyro

from sim.board import GAMES, BoardGame, make_game

if TYPE_CHECKING:  # torch is imported only when an alphazero player plays
    from agents.alphazero.config import AlphaZeroConfig
    from agents.alphazero.network import PolicyValueNet
    from agents.alphazero.player import AlphaZeroPlayer
    from sim.board.render import Overlay

GameName = Literal[tuple(GAMES)]  # type: ignore[valid-type]
HUMAN = "human"
ALPHAZERO = "alphazero:"  # prefix of a checkpoint player: alphazero:PATH
PROG = "watch.py"


@dataclass
class Args:
    """Watch two players play a board game, or play one with the mouse."""

    game: GameName = "connect4"
    """the game to play"""
    game_size: int | None = None
    """board size for games that have one (othello, gomoku, go); default: the game's own"""
    player0: str = "mcts"
    """player_0 (moves first): random, greedy, mcts, solver (connect4), human, alphazero:PATH"""
    player1: str = "greedy"
    """player_1: as --player0"""
    simulations: int = 200
    """rollouts per move of an mcts player"""
    az_simulations: int = 800
    """search simulations per move of an alphazero player; 0 plays the raw network's choice"""
    overlay: bool = True
    """draw the last alphazero move's policy, visit counts and value over the board"""
    seed: int = 0
    """seed of the players' random generator"""
    fps: float = 2.0
    """moves shown (or recorded) per second"""
    record: str | None = None
    """write the match to this .mp4 or .gif file instead of opening a window"""
    games: int = 1
    """games to play in a row"""
    cell_px: int | None = None
    """pixels per board cell; default: the board fits in about 640 pixels"""
    hold: float = 2.0
    """seconds the final position of each game stays on screen (and in the recording)"""
    replay: str | None = None
    """play this FogArena replay file (.npz from scripts/watch_arena.py) instead of a game"""
    speed: float = 1.0
    """replay speed, times real time (20 ticks per second)"""
    team: int | None = None
    """replay from team 0's or team 1's fogged view; default: the spectator's"""


class UsageError(ValueError):
    """Bad command-line input: reported in one line, exit code 2."""


def auto_cell_px(game: BoardGame) -> int:
    return int(np.clip(round(640 / max(game.board_shape)), 24, 112))


def load_alphazero(spec: str, flag: str) -> tuple[PolicyValueNet, AlphaZeroConfig, Path]:
    """The network and run config of the checkpoint ``alphazero:PATH`` names."""
    from agents.alphazero.checkpoint import load_network, resolve
    from agents.checkpoint import CheckpointError

    text = spec[len(ALPHAZERO) :]
    if not text:
        raise UsageError(f"{flag}: {ALPHAZERO}PATH needs a checkpoint file or run folder")
    path = resolve(text)
    try:
        net, config, _ = load_network(path)
    except CheckpointError as e:
        raise UsageError(f"{flag}: {e}") from None
    return net, config, path


def build(args: Args):
    """The game, players, renderer and recorder the arguments ask for; UsageError if bad."""
    from sim.board.render import BoardRenderer, MatchRecorder

    if args.games < 1:
        raise UsageError(f"--games must be >= 1, got {args.games}")
    if not args.fps > 0:
        raise UsageError(f"--fps must be > 0, got {args.fps}")
    if args.hold < 0:
        raise UsageError(f"--hold must be >= 0, got {args.hold}")
    if args.simulations < 1:
        raise UsageError(f"--simulations must be >= 1, got {args.simulations}")
    if args.az_simulations < 0:
        raise UsageError(f"--az-simulations must be >= 0, got {args.az_simulations}")
    names = (args.player0, args.player1)
    if args.record is not None and HUMAN in names:
        raise UsageError("a human player needs the window: drop --record")
    networks = {}
    for i, name in enumerate(names):
        if name.startswith(ALPHAZERO):
            net, config, path = load_alphazero(name, f"--player{i}")
            if config.game != args.game:
                raise UsageError(
                    f"--player{i}: {str(path)!r} holds a {config.game} network but --game is "
                    f"{args.game}; add --game {config.game}"
                )
            networks[i] = net, config
    options = {} if args.game_size is None else {"size": args.game_size}
    if not options and networks:  # a network knows its board size (Go 9x9...)
        options = dict(next(iter(networks.values()))[1].game_options)
    try:
        game = make_game(args.game, **options)
    except TypeError:
        raise UsageError(f"{args.game} has no size option; drop --game-size") from None
    except ValueError as e:
        raise UsageError(str(e)) from None
    players = []
    for i, name in enumerate(names):
        if name == HUMAN:
            players.append(None)
            continue
        if i in networks:
            from agents.alphazero.player import AlphaZeroPlayer

            try:
                players.append(AlphaZeroPlayer(game, networks[i][0], args.az_simulations))
            except ValueError as e:  # e.g. a 9x9 network on a 19x19 board
                raise UsageError(f"--player{i}: {e}") from None
            continue
        from envs.board.opponents import make_opponent

        kwargs = {"simulations": args.simulations} if name == "mcts" else {}
        try:
            players.append(make_opponent(name, game, **kwargs))
        except ValueError as e:
            hint = f", or {HUMAN!r} to play with the mouse" if "unknown" in str(e) else ""
            raise UsageError(f"--player{i}: {e}{hint}") from None
    try:
        renderer = BoardRenderer(game, args.cell_px or auto_cell_px(game))
        recorder = MatchRecorder(args.record, args.fps) if args.record is not None else None
    except ValueError as e:
        raise UsageError(str(e)) from None
    return game, players, renderer, recorder


def play_game(
    game: BoardGame,
    players: list,
    names: tuple[str, str],
    renderer,
    rng: np.random.Generator,
    window,
    recorder,
    args: Args,
) -> tuple[np.ndarray, list]:
    """One game from the start; every position goes to the window and/or the recorder.

    With ``args.overlay``, each frame after an AlphaZero move shows that move's analysis
    (until the next AlphaZero move).
    """
    state, moves, last, overlay = game.initial_state(), [], None, None
    while True:
        over = game.is_terminal(state)
        mover = game.to_play(state)
        human_turn = not over and names[mover] == HUMAN
        frame = renderer.draw(state, last, show_legal=human_turn, overlay=overlay)
        if recorder is not None:
            recorder.append(frame)
        if window is not None:
            window.show(frame, args.fps)
        if over:
            break
        player = players[mover]
        if human_turn:
            action = window.wait_click(renderer, state)
        elif hasattr(player, "last_priors"):  # AlphaZero: keep what it considered
            action = int(player.act(state.copy(), rng))
            if args.overlay:
                overlay = analysis(player, mover)
        else:
            action = int(player(state.copy(), rng))
        state = game.apply(state, action)  # raises if a player returned an illegal move
        moves.append(action)
        last = action
    if recorder is not None:
        for _ in range(round(args.hold * args.fps)):
            recorder.append(frame)
    if window is not None:
        window.pause(args.hold)
    return state, moves


def analysis(player: AlphaZeroPlayer, mover: int) -> Overlay:
    """The overlay of an AlphaZero player's last move: priors, visits, root value."""
    from sim.board.render import Overlay

    visits = player.last_visits
    return Overlay(  # copies: the search may reuse its buffers for the next move
        np.array(player.last_priors),
        None if visits is None else np.array(visits),
        player.last_value,
        mover,
    )


def run(args: Args) -> int:
    game, players, renderer, recorder = build(args)
    names = (args.player0, args.player1)
    window = None
    if recorder is None:
        from sim.board.render import BoardWindow

        window = BoardWindow(
            f"simarena: {game.name}, {names[0]} (player_0) vs {names[1]} (player_1)"
        )
    rng = np.random.default_rng(args.seed)
    tally = {0: 0, 1: 0, None: 0}
    try:
        for i in range(args.games):
            state, moves = play_game(game, players, names, renderer, rng, window, recorder, args)
            winner = game.winner(state)
            tally[winner] += 1
            result = "draw" if winner is None else f"player_{winner} ({names[winner]}) wins"
            print(f"game {i + 1}: {result} after {len(moves)} moves [{game.status_line(state)}]")
            print(f"  moves: {game.format_moves(moves)}")
    finally:
        if window is not None:
            window.close()
        if recorder is not None:
            recorder.close()
    if args.games > 1:
        print(
            f"total: player_0 ({names[0]}) {tally[0]}, player_1 ({names[1]}) {tally[1]}, "
            f"draws {tally[None]}"
        )
    if recorder is not None:
        print(
            f"wrote {recorder.path} ({recorder.frames} frames, "
            f"{renderer.width}x{renderer.height}, {args.fps:g} fps)"
        )
    return 0


def run_replay(args: Args) -> int:
    """Play a FogArena replay back (window, or --record video)."""
    from envs.arena.render import play_replay
    from sim.arena.replay import ReplayError

    try:
        out = play_replay(
            args.replay, speed=args.speed, team=args.team, record=args.record,
            display=args.record is None,
        )  # fmt: skip
    except (ReplayError, ValueError) as e:
        raise UsageError(f"--replay: {e}") from None
    winner = {0: "team 0 wins", 1: "team 1 wins"}.get(out["winner"], "draw")
    print(f"replay {args.replay}: {out['frames']} frames, {winner}")
    if not out["hash_ok"]:
        print("warning: the replay diverged from the rules it was recorded with")
    if args.record is not None:
        print(f"wrote {args.record}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = tyro.cli(Args, args=argv, prog=PROG, description=__doc__)
    if args.record is not None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # offscreen only: no display needed
    from sim.board.render import WindowClosed

    try:
        return run_replay(args) if args.replay is not None else run(args)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    except WindowClosed:
        print("window closed")
        return 0


if __name__ == "__main__":
    sys.exit(main())

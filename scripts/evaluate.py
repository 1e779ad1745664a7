"""Evaluate an AlphaZero checkpoint (mistake rate on Pons position files, matches), or,
with ``ppo`` first, run a round-robin between PPO checkpoints and scripted bots.

Examples, from the repository root:

    python scripts/evaluate.py runs/alphazero-connect4-<stamp>/checkpoint.safetensors \\
        --positions ../shared/data/connect4/Test_L2_R1 --sims 800 --json
    python scripts/evaluate.py CHECKPOINT --positions FILE --sims 0      # the raw network
    python scripts/evaluate.py CHECKPOINT --games 40 --rollouts 1000    # vs the baselines
    python scripts/evaluate.py GO_RUN --gnugo-levels 1 5 10 --sims 200   # GNU Go ladder
    python scripts/evaluate.py CHESS_RUN --stockfish-skills 0 1 2 3 4 5 \
        --stockfish-nodes 1000 --sims 200                               # Stockfish ladder
    python scripts/evaluate.py ppo runs/ppo-fogarena-<stamp>/networks/*.safetensors \
        --bots medium hard --games 400                                  # a rating table
    python scripts/evaluate.py ppo runs/ppo-board:connect4-<stamp> --bots greedy \
        --alphazero runs/alphazero-connect4-<stamp> --games 40         # PPO vs AlphaZero

A move is a mistake when its exact outcome (win/draw/loss, from our solver) is worse
than the best move's. A run folder may be given for its latest checkpoint.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import tyro

PROG = "evaluate.py"


@dataclass
class Args:
    """Evaluate an AlphaZero checkpoint."""

    checkpoint: Annotated[str, tyro.conf.Positional]
    """an AlphaZero checkpoint file, or a run folder (its checkpoint.safetensors)"""
    positions: list[str] = field(default_factory=list)
    """Pons-format position files (Connect Four), e.g. ../shared/data/connect4/Test_L3_R1"""
    sims: int = 800
    """simulations per move; 0 plays the raw network's most probable move"""
    limit: int | None = None
    """use only the first K positions of each file"""
    games: int = 0
    """games against each baseline (random, greedy, pure MCTS), sides alternating, the
    network's first two plies drawn by visit shares; 0 plays none"""
    rollouts: int = 1000
    """simulations of the pure-MCTS baseline"""
    gnugo_levels: list[int] = field(default_factory=list)
    """Go: GNU Go levels (1..10) to play, --gnugo-games each (a rating ladder; needs gnugo)"""
    gnugo_games: int = 10
    """games against each GNU Go level, sides alternating"""
    stockfish_skills: list[int] = field(default_factory=list)
    """chess: Stockfish skill levels (0..20) to play, --stockfish-games each, under the full
    rules (no move cap, whatever the training games had; needs stockfish)"""
    stockfish_nodes: int = 1000
    """nodes Stockfish searches per move"""
    stockfish_games: int = 10
    """games against each Stockfish skill level, sides alternating"""
    seed: int = 0
    """seed of the search's random choices and of the matches"""
    threads: int = 2
    """torch threads"""
    json: bool = False
    """print the results as one JSON object on stdout"""


def evaluate(args: Args) -> dict:
    import torch

    from agents.alphazero import checkpoint as ckpt
    from agents.alphazero.evaluation import (
        OPENING_PLIES,
        baselines,
        mistake_rates,
        play_baselines,
    )
    from agents.alphazero.player import AlphaZeroPlayer
    from sim.board import make_game

    if args.sims < 0:
        raise ValueError(f"--sims must be >= 0, got {args.sims}")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}")
    if not (args.positions or args.games > 0 or args.gnugo_levels or args.stockfish_skills):
        raise ValueError(
            "nothing to do: give --positions FILE, --games N, --gnugo-levels L "
            "or --stockfish-skills S"
        )
    for p in args.positions:
        if not Path(p).is_file():
            raise ValueError(f"no position file at {p!r}")
    torch.set_num_threads(args.threads)
    path = ckpt.resolve(args.checkpoint)
    net, config, _ = ckpt.load_network(path)
    game = make_game(config.game, **config.game_options)
    if args.positions and game.name != "connect4":
        raise ValueError(f"position files are Connect Four positions; {path} plays {game.name}")
    search = {"c_puct": config.search.c_puct, "fpu": config.search.fpu}
    player = AlphaZeroPlayer(game, net, args.sims, **search)
    out: dict = {"checkpoint": str(path), "game": game.name, "simulations": args.sims}
    if args.positions:
        files = [Path(p) for p in args.positions]
        out["mistakes"] = mistake_rates(player, files, args.limit, args.seed)
    if args.games:
        player = AlphaZeroPlayer(game, net, args.sims, opening_plies=OPENING_PLIES, **search)
        opponents = baselines(game, args.rollouts)
        out["matches"] = play_baselines(game, player, opponents, args.games, args.seed)
    if args.gnugo_levels:
        from selfplay.engines import gnugo

        if game.name != "go":
            raise ValueError(f"--gnugo-levels plays Go; the checkpoint plays {game.name}")
        check_games(args.gnugo_games, "--gnugo-games")
        engines = [gnugo(game, level) for level in args.gnugo_levels]
        out["gnugo"] = ladder(args, game, net, search, engines, args.gnugo_games)
    if args.stockfish_skills:
        from selfplay.engines import stockfish

        if game.name != "chess":
            raise ValueError(f"--stockfish-skills plays chess; the checkpoint plays {game.name}")
        if args.stockfish_nodes < 1:
            raise ValueError(f"--stockfish-nodes must be >= 1, got {args.stockfish_nodes}")
        check_games(args.stockfish_games, "--stockfish-games")
        # Full rules against an engine, whatever cap the training games had.
        full = make_game("chess")
        engines = [stockfish(full, s, nodes=args.stockfish_nodes) for s in args.stockfish_skills]
        out["stockfish"] = ladder(args, full, net, search, engines, args.stockfish_games)
    return out


def check_games(games: int, flag: str) -> None:
    if games < 1:
        raise ValueError(f"{flag} must be >= 1, got {games}")


def ladder(args: Args, game, net, search: dict, engines: list, games: int) -> dict:
    """The checkpoint against each engine of a ladder (GNU Go levels, Stockfish skills):
    the score, forfeits (engine failures, listed per engine), the mean game length, and
    how games ended: the final area margins (Go, komi included) or the end reasons (chess)."""
    from collections import Counter

    import numpy as np

    from agents.alphazero.evaluation import OPENING_PLIES
    from agents.alphazero.player import AlphaZeroPlayer
    from selfplay.engines import engine_ladder
    from selfplay.match import final_margins, forfeits

    player = AlphaZeroPlayer(game, net, args.sims, opening_plies=OPENING_PLIES, **search)
    out = {}
    for r in engine_ladder(game, player, engines, games, args.seed):
        report = {
            **r.summary(),
            "forfeits": forfeits(r),
            "mean_length": float(np.mean([rec.length for rec in r.records])),
        }
        if hasattr(game, "score"):
            margins = final_margins(game, r)
            report["mean_margin"] = float(np.mean(margins)) if margins else None
            report["margins"] = margins
        if hasattr(game, "end_reason"):
            reasons = Counter()
            for record in r.records:
                state = game.initial_state()
                for action in record.actions:
                    state = game.apply(state, action)
                reasons[record.forfeit and "forfeit" or game.end_reason(state)] += 1
            report["end_reasons"] = dict(reasons)
        out[r.opponent] = report
    return out


def main_ppo(argv: list[str]) -> int:
    from agents.checkpoint import CheckpointError
    from agents.ppo.cli import EvalArgs, evaluate_ppo

    args = tyro.cli(EvalArgs, args=argv, prog=f"{PROG} ppo")
    try:
        return evaluate_ppo(args)
    except (ValueError, CheckpointError) as e:
        print(f"{PROG} ppo: error: {e}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ppo"]:
        return main_ppo(argv[1:])
    args = tyro.cli(Args, args=argv, prog=PROG, description=__doc__)
    from agents.checkpoint import CheckpointError

    try:
        out = evaluate(args)
    except (ValueError, CheckpointError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out))
        return 0
    for name, report in out.get("mistakes", {}).items():
        lo, hi = report["interval"]
        print(
            f"{name}: {report['mistakes']} mistakes in {report['positions']} positions = "
            f"{100 * report['mistake_rate']:.2f}% (95% CI {100 * lo:.2f}..{100 * hi:.2f}%)"
        )
    ladders = {**out.get("gnugo", {}), **out.get("stockfish", {})}
    for name, match in {**out.get("matches", {}), **ladders}.items():
        margin = match.get("mean_margin")
        print(
            f"vs {name}: +{match['wins']} ={match['draws']} -{match['losses']}, "
            f"score {match['score']:.3f}"
            + (f", mean final margin {margin:+.1f} points" if margin is not None else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

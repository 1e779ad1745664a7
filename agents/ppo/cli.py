"""Command-line entry points of PPO: ``train_ppo`` and ``evaluate_ppo`` (tyro dataclasses).

Examples (once wired into ``scripts/train.py`` / ``scripts/evaluate.py``)::

    train.py ppo --env fogarena --minutes 60                       # 5v5 self-play league
    train.py ppo --env fogarena --team-sizes 1 2 3 5 --gru         # mixed sizes, memory
    train.py ppo --env CartPole-v1 --num-envs 8 --minutes 2 --eval-every-minutes 0
    train.py ppo --resume runs/ppo-fogarena-<stamp> --minutes 120
    evaluate.py ppo runs/ppo-fogarena-<stamp>/networks/*.safetensors --bots random easy \\
        medium hard --games 100                                    # round-robin, ratings
    train.py ppo --env board:connect4 --num-envs 64 --minutes 30   # Connect Four self-play
"""

from __future__ import annotations

import itertools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import tyro

from agents.ppo.config import PPOConfig

# What a resumed run takes from the command line; everything else comes from its checkpoint.
RESUME_OVERRIDES = (
    "minutes",
    "total_steps",
    "max_updates",
    "threads",
    "eval_every_minutes",
    "eval_games",
    "checkpoint_every_minutes",
    "rollout_workers",
    "backend",
    "ray_address",
    "worker_timeout",
)


@dataclass
class PPOArgs(PPOConfig):
    """PPO: FogArena teams with a self-play league, or a single-agent Gymnasium env."""

    resume: str | None = None
    """continue the run saved in this checkpoint or run folder; it keeps its saved config
    except the budget (--minutes, --total-steps, --max-updates count the whole run),
    --threads and the evaluation and checkpoint settings given here"""
    json: bool = False
    """print the final summary as one JSON object on stdout"""


def train_ppo(args: PPOArgs, given: set[str] | None = None) -> int:
    """Train (or resume) a PPO run; 0 on success, 130 when interrupted. ``given``: the
    fields typed on the command line (see :func:`given_flags`); on resume only those of
    :data:`RESUME_OVERRIDES` replace the saved config (all of them when None)."""
    from agents.cli import start_or_resume
    from agents.ppo.train import Trainer

    trainer = start_or_resume(Trainer, PPOConfig, args, RESUME_OVERRIDES, given)
    if args.resume is not None:
        print(f"ppo: resuming {trainer.run_dir} at update {trainer.update}")
    try:
        summary = trainer.run()
    except KeyboardInterrupt:
        print(f"ppo: stopped; resume with --resume {trainer.run_dir}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary))
    else:
        for entry in summary["history"][-1:]:
            for level, m in entry["matches"].items():
                lo, hi = m["interval"]
                print(f"  vs {level}: score {m['score']:.3f} (95% CI {lo:.3f}..{hi:.3f})")
    return 0


@dataclass
class EvalArgs:
    """Round-robin between PPO checkpoints and scripted bots (FogArena or a board game,
    from the checkpoints); matches with Wilson 95% intervals and a rating table."""

    checkpoints: Annotated[list[str], tyro.conf.Positional] = field(default_factory=list)
    """PPO checkpoints or policy files (networks/step-N.safetensors), or run folders"""
    bots: list[str] = field(default_factory=list)
    """scripted players in the round-robin, the frozen reference pool (default: random
    easy medium hard on FogArena, random greedy on a board game)"""
    alphazero: list[str] = field(default_factory=list)
    """AlphaZero checkpoints (or run folders) of the same board game to add as players"""
    az_simulations: int = 64
    """simulations per move of the AlphaZero players"""
    games: int = 40
    """seeded games per pair (sides alternate)"""
    team_size: int = 5
    """heroes per team"""
    time_limit: int = 3000
    """ticks per match"""
    map_size: int = 40
    """map side"""
    fog: bool = True
    """fog of war"""
    greedy: bool = False
    """policies take their most probable action instead of sampling"""
    calibrate: bool = True
    """rate the bots against each other first, then freeze them (the reference scale)"""
    gauntlet: bool = False
    """the first checkpoint plays every other player and the others do not play each
    other (cutechess's gauntlet): whether one policy beats each earlier checkpoint, at a
    fraction of the round-robin's games"""
    seed: int = 0
    """seed of the matches"""
    threads: int = 2
    """torch threads"""
    json: bool = False
    """print the results as one JSON object on stdout"""


def evaluate_ppo(args: EvalArgs) -> int:
    """Play every pair, print each match (score, Wilson 95% interval) and the table."""
    import torch

    from agents.ppo import checkpoint as ckpt
    from agents.ppo.actor import Actor
    from agents.ppo.arena import arena_spec, check_team_size, play_games
    from agents.ppo.board import PPOBoardPlayer, board_game, board_spec
    from selfplay import BuiltinPlayer, RatingTable, match_result, play_match, reference_table
    from sim.arena.scripted import LEVELS

    if args.games < 1:
        raise ValueError(f"--games must be >= 1, got {args.games}")
    torch.set_num_threads(args.threads)
    env = "fogarena"
    if args.checkpoints:
        env = ckpt.read(args.checkpoints[0])[1].get("env", "fogarena")
    board = env.startswith("board:")
    game = board_game(env) if board else None
    known = ("random", "greedy", "mcts", "solver") if board else LEVELS
    bots = list(args.bots) or (["random", "greedy"] if board else list(LEVELS))
    for bot in bots:
        if bot not in known:
            raise ValueError(f"unknown bot {bot!r}; bots are {list(known)}")
    if args.alphazero and not board:
        raise ValueError("--alphazero players need a board game (PPO checkpoints of one)")
    if len(args.checkpoints) + len(bots) + len(args.alphazero) < 2:
        raise ValueError("a round-robin needs at least two players (checkpoints and bots)")
    if args.gauntlet and not args.checkpoints:
        raise ValueError("--gauntlet needs a checkpoint (the first one plays all the others)")
    expected = board_spec(game) if board else arena_spec()
    players: dict[str, object] = {}
    for i, path in enumerate(args.checkpoints):
        net, spec, _ = ckpt.load_policy(path, expected=expected)
        resolved = Path(ckpt.resolve(path))
        # a run folder's checkpoint is named by its run, as the AlphaZero players are
        name = resolved.parent.name if resolved.name == ckpt.CHECKPOINT else resolved.stem
        if name in players or name in bots:
            name = f"{name}#{i}"
        if board:
            players[name] = PPOBoardPlayer(game, net, name, greedy=args.greedy)
        else:
            check_team_size(spec, args.team_size)
            gen = torch.Generator().manual_seed(args.seed + i)
            players[name] = Actor(net, name, greedy=args.greedy, generator=gen)
    if args.alphazero:
        from agents.alphazero import checkpoint as az_ckpt
        from agents.alphazero.evaluation import OPENING_PLIES
        from agents.alphazero.player import AlphaZeroPlayer

        for path in args.alphazero:
            az_path = az_ckpt.resolve(path)
            net, config, _ = az_ckpt.load_network(az_path, game=game.name)
            label = az_path.parent.name if az_path.name == az_ckpt.CHECKPOINT else az_path.stem
            name = f"alphazero({args.az_simulations})-{label}"
            players[name] = AlphaZeroPlayer(
                game, net, args.az_simulations, c_puct=config.search.c_puct,
                fpu=config.search.fpu, name=name, opening_plies=OPENING_PLIES,
            )  # fmt: skip
    arena = dict(time_limit=args.time_limit, map_size=args.map_size, fog=args.fog)
    results = []

    def play(a: str, b: str):
        if board:
            result = play_match(game, players[a], players[b], args.games, args.seed)
        else:
            w, seats = play_games(players[a], players[b], args.games, args.seed,
                                  args.team_size, **arena)  # fmt: skip
            result = match_result(a, b, w, seats, args.seed)
        print(result, flush=True)
        return result

    for bot in bots:
        players[bot] = BuiltinPlayer(bot, game) if board else bot
    bot_results = []
    if args.calibrate and len(bots) > 1:
        bot_results = [play(a, b) for a, b in itertools.combinations(bots, 2)]
    table = reference_table(bots, bot_results) if bots else RatingTable()
    names = list(players)
    for a, b in itertools.combinations(names, 2):
        if a in bots and b in bots:
            continue
        if args.gauntlet and a != names[0]:
            continue
        result = play(a, b)
        table.record_match(result)
        results.append(result.summary())
    print(table)
    if args.json:
        rows = [vars(r) for r in table.table()]
        print(json.dumps({"matches": results + [r.summary() for r in bot_results],
                          "ratings": rows}))  # fmt: skip
    return 0

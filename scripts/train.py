"""Train an agent. Subcommands: ``alphazero`` (board games), ``dqn`` (Atari, MinAtar),
``ppo`` (FogArena teams with a self-play league; Gymnasium envs; Connect Four),
``perception`` (driving segmentation and detection on randomized simulator frames).

Examples, from the repository root:

    python scripts/train.py alphazero --game connect4                # about 2 hours, 2 cores
    python scripts/train.py alphazero --minutes 5 --eval-every-minutes 1
    python scripts/train.py alphazero --game othello --game-options size 6
    python scripts/train.py alphazero --resume runs/alphazero-connect4-<stamp>  --minutes 240
    python scripts/train.py alphazero --workers 2 --backend ray       # self-play on Ray actors
    python scripts/train.py alphazero --workers 64 --backend ray --ray-address HEAD:6379
    python scripts/train.py dqn --env minatar:breakout                # MinAtar preset
    python scripts/train.py dqn --env ALE/Pong-v5 --minutes 180       # machado protocol
    python scripts/train.py ppo --env fogarena --minutes 60
    python scripts/train.py ppo --env fogarena --rollout-workers 2 --backend ray
    python scripts/train.py perception --minutes 15                  # 2 cores
    tensorboard --logdir runs

Output (checkpoints, TensorBoard logs, summary.json) goes under
``runs/<agent>-<env>-<timestamp>/`` unless ``--run-dir`` says otherwise; each
subcommand's ``--help`` lists its settings.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

import tyro

from agents.alphazero.config import AlphaZeroConfig
from agents.checkpoint import CheckpointError
from agents.cli import given_flags, start_or_resume
from agents.dqn.cli import DQNArgs, train_dqn
from agents.ppo.cli import PPOArgs, train_ppo
from perception.cli import PerceptionArgs, train_perception
from selfplay.backends import BackendError, WorkerError

PROG = "train.py"

# What a resumed run takes from the command line; everything else comes from its checkpoint.
RESUME_OVERRIDES = (
    "minutes",
    "max_iterations",
    "workers",
    "backend",
    "ray_address",
    "worker_threads",
    "worker_timeout",
    "threads",
    "eval_every_minutes",
    "eval_positions",
    "eval_simulations",
    "eval_games",
    "checkpoint_every_minutes",
    "positions_dir",
)


@dataclass
class AlphaZeroArgs(AlphaZeroConfig):
    """AlphaZero on a board game: self-play with batched MCTS, training, evaluation."""

    resume: str | None = None
    """continue the run saved in this checkpoint or run folder; it keeps its saved config
    except what is given here of: the budget (--minutes, --max-iterations; minutes count
    the whole run), --workers, --backend, --ray-address, --threads, evaluation and
    checkpoint settings"""
    json: bool = False
    """print the final summary as one JSON object on stdout"""


def train_alphazero(args: AlphaZeroArgs, given: set[str] = frozenset()) -> int:
    from agents.alphazero.train import Trainer

    trainer = start_or_resume(Trainer, AlphaZeroConfig, args, RESUME_OVERRIDES, set(given))
    if args.resume is not None:
        print(f"alphazero: resuming {trainer.run_dir} at iteration {trainer.iteration}")
    try:
        summary = trainer.run()
    except KeyboardInterrupt:
        print(f"alphazero: resume with --resume {trainer.run_dir}", file=sys.stderr)
        return 130
    if summary["interrupted"]:
        print(f"alphazero: stopped; resume with --resume {trainer.run_dir}", file=sys.stderr)
    if args.json:
        print(json.dumps(summary))
    else:
        for entry in summary["history"][-1:]:
            for key in ("mistakes", "mistakes_raw"):
                for name, report in entry.get(key, {}).items():
                    print(f"  {key} {name}: {100 * report['mistake_rate']:.2f}%")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = tyro.extras.subcommand_cli_from_dict(
        {
            "alphazero": AlphaZeroArgs,
            "dqn": DQNArgs,
            "ppo": PPOArgs,
            "perception": PerceptionArgs,
        },
        args=argv,
        prog=PROG,
        description=__doc__,
    )
    if isinstance(args, DQNArgs):
        return train_dqn(args, given_flags(argv))
    # ---- perception (perception/cli.py handles its own errors) ----
    if isinstance(args, PerceptionArgs):
        return train_perception(args, given_flags(argv))
    if isinstance(args, PPOArgs):
        try:
            return train_ppo(args, given_flags(argv))
        except (ValueError, CheckpointError, BackendError, WorkerError) as e:
            print(f"{PROG} ppo: error: {e}", file=sys.stderr)
            return 2
    try:
        return train_alphazero(args, given_flags(argv))
    except (ValueError, CheckpointError, BackendError, WorkerError) as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

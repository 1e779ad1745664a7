"""Command-line entry of DQN: ``DQNArgs`` (tyro) and ``train_dqn`` (wired into
``scripts/train.py dqn``).

Examples, from the repository root:

    python scripts/train.py dqn --env minatar:breakout              # 5M steps, MinAtar preset
    python scripts/train.py dqn --env ALE/Pong-v5 --minutes 180     # machado protocol
    python scripts/train.py dqn --env ALE/Breakout-v5 --protocol nature
    python scripts/train.py dqn --resume runs/dqn-minatar-breakout-<stamp> --total-steps 6000000
    tensorboard --logdir runs
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields

from agents.checkpoint import CheckpointError
from agents.dqn.config import DQNConfig

# What a resumed run takes from the command line; everything else comes from its checkpoint.
RESUME_OVERRIDES = (
    "total_steps",
    "minutes",
    "eval_every",
    "eval_episodes",
    "checkpoint_every",
    "save_replay",
    "threads",
    "progress",
)


@dataclass
class DQNArgs(DQNConfig):
    """DQN from pixels on ALE and MinAtar games (Double, dueling, n-step, optional PER)."""

    resume: str | None = None
    """continue the run saved in this checkpoint or run folder; it keeps its saved config
    except --total-steps, --minutes, the evaluation and checkpoint settings, --threads
    and --progress given here (their defaults otherwise), and --save-replay and --device
    when typed (a run trained on a GPU can go on on a CPU, or back)"""
    json: bool = False
    """print the final summary as one JSON object on stdout"""


def train_dqn(args: DQNArgs, given: set[str] | None = None) -> int:
    """Run (or resume) the DQN run of ``args``; 0 on success, 130 when interrupted,
    2 on a bad setting or checkpoint. A resumed run moves to ``--device`` when it was
    typed (``given``: the fields typed on the command line), else keeps its own."""
    from agents.dqn.train import Trainer

    try:
        if args.resume is not None:
            overrides = {name: getattr(args, name) for name in RESUME_OVERRIDES}
            overrides = {k: v for k, v in overrides.items() if v is not None}
            if given is not None and "device" in given:  # a GPU run can go on on a CPU
                overrides["device"] = args.device
            if given is not None and "save_replay" not in given:
                # untyped, the run keeps saving its replay if it did: a checkpoint written
                # without it would resume with an empty replay
                overrides.pop("save_replay", None)
            trainer = Trainer.resume(args.resume, **overrides)
            print(f"dqn: resuming {trainer.run_dir} at step {trainer.step}")
        else:
            config = DQNConfig(**{f.name: getattr(args, f.name) for f in fields(DQNConfig)})
            trainer = Trainer(config)
    except (ValueError, CheckpointError) as e:
        print(f"train.py dqn: error: {e}", file=sys.stderr)
        return 2
    try:
        summary = trainer.run()
    except KeyboardInterrupt:
        trainer.save()
        print(f"dqn: stopped; resume with --resume {trainer.run_dir}", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary))
    else:
        ev = summary["eval"]
        if ev is not None:
            print(
                f"  eval ({ev['protocol']}, eps {ev['epsilon']}, {ev['episodes']} episodes): "
                f"{ev['mean']:.2f} [{ev['ci95'][0]:.2f}, {ev['ci95'][1]:.2f}]"
            )
    return 0


def main(argv: list[str] | None = None) -> int:
    import tyro

    return train_dqn(tyro.cli(DQNArgs, args=argv, prog="dqn"))


if __name__ == "__main__":
    sys.exit(main())

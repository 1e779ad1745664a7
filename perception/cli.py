"""Command-line entry point of perception training (``scripts/train.py perception``).

Examples, from the repository root::

    train.py perception --minutes 15                            # deeplab, seg + det
    train.py perception --model unet --heads seg --steps 2000
    train.py perception --randomization off                    # the non-randomized baseline
    train.py perception --randomization full-lighting          # one ablation row
    train.py perception --source datasets/driving-96 --workers 0   # make_dataset.py shards
    train.py perception --resume runs/perception-deeplab-<stamp> --minutes 30
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields

from perception.checkpoint import CheckpointError
from perception.data import DataError
from perception.train import PerceptionConfig, Trainer, format_results

# What a resumed run takes from the command line; everything else comes from its checkpoint.
RESUME_OVERRIDES = (
    "minutes",
    "workers",
    "threads",
    "eval_every",
    "eval_frames",
    "eval_styles",
    "checkpoint_every",
    "tensorboard",
    "progress",
)


@dataclass
class PerceptionArgs(PerceptionConfig):
    """Perception: segmentation and/or vehicle/pedestrian detection trained only on
    randomized simulator frames, evaluated on styles training never draws."""

    resume: str | None = None
    """continue the run saved in this run folder or checkpoint; it keeps its saved config
    except what is given here of: --minutes (counts the whole run), --workers, --threads,
    the evaluation and checkpoint settings"""
    json: bool = False
    """print the final summary as one JSON object on stdout"""


def train_perception(args: PerceptionArgs, given: set[str] | None = None) -> int:
    """Train (or resume) a perception run; 0 on success, 2 on bad input, 130 when
    interrupted. ``given``: the flags typed on the command line; on resume only those of
    :data:`RESUME_OVERRIDES` replace the saved config (all of them when None)."""
    try:
        if args.resume is not None:
            typed = set(RESUME_OVERRIDES) if given is None else set(given)
            overrides = {n: getattr(args, n) for n in RESUME_OVERRIDES if n in typed}
            trainer = Trainer.resume(args.resume, **overrides)
            print(f"perception: resuming {trainer.run_dir} at step {trainer.step}")
        else:
            config = PerceptionConfig(
                **{f.name: getattr(args, f.name) for f in fields(PerceptionConfig)}
            )
            trainer = Trainer(config)
    except (ValueError, CheckpointError, DataError) as e:
        print(f"train.py perception: error: {e}", file=sys.stderr)
        return 2
    try:
        summary = trainer.run()
    except KeyboardInterrupt:
        trainer.save()
        print(f"perception: stopped; resume with --resume {trainer.run_dir}", file=sys.stderr)
        return 130
    except (ValueError, DataError) as e:
        print(f"train.py perception: error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"perception: step {summary['step']}/{summary['steps']}, {summary['elapsed']:.0f} s")
        print(format_results(summary["final"]))
    return 0

"""Write a Connect Four position file in Pons' format (``MOVES SCORE`` per line).

Positions come from uniformly random play, keeping those that perfect play ends within
``--max-left`` plies, with no immediate win for the side to move; scores are exact (our
solver). The defaults draw a set like Pons' middle-game ``Test_L2_R1`` but disjoint from
the files given with ``--exclude``: a validation set on which to choose search settings
without touching the test sets.

    python scripts/make_positions.py --out runs/c4val/Val_L2 --count 2000 --seed 12345 \\
        --max-left 13 --exclude ../shared/data/connect4/Test_L2_R1
    python scripts/evaluate.py CHECKPOINT --positions runs/c4val/Val_L2 --sims 800
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import tyro


@dataclass
class Args:
    out: str
    """the file to write (its folder is created)."""
    count: int = 1000
    """positions to write."""
    plies: tuple[int, int] = (15, 28)
    """plies already played, lowest and highest."""
    max_left: int = 14
    """most plies perfect play may still take (Pons' Test_L2_R1: 14, Test_L3_R1: 13)."""
    seed: int = 0
    """seed of the random play."""
    exclude: list[str] = field(default_factory=list)
    """position files whose positions must not appear (the test sets)."""


def main(argv: list[str] | None = None) -> int:
    args = tyro.cli(Args, args=argv, description=__doc__)
    from selfplay.mistakes import make_positions, read_positions

    try:
        exclude = [p.moves for f in args.exclude for p in read_positions(f)]
        lines = make_positions(args.count, args.plies, args.max_left, args.seed, exclude)
    except (ValueError, FileNotFoundError) as e:
        print(f"make_positions.py: error: {e}", file=sys.stderr)
        return 2
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, out)
    print(f"make_positions.py: wrote {len(lines)} positions to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

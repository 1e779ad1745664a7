"""The randomization ablation: train once per row, each row switching one aspect of the
simulator's randomization off (Tremblay et al. 2018, table 3), plus full randomization
and none at all, and print an mIoU table over the evaluation styles.

    python -m perception.ablation --steps 1500 --minutes 14            # all rows
    python -m perception.ablation --aspects lighting road --steps 300  # some rows

Every row uses the same config, seed and budget; only ``randomization`` changes.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import tyro

from perception.train import KNOBS, PerceptionConfig, Trainer


def ablation_rows(aspects: tuple[str, ...] | None = None) -> list[str]:
    """Randomization names of the rows: full, one per aspect switched off, off."""
    aspects = tuple(KNOBS) if aspects is None else tuple(aspects)
    unknown = [a for a in aspects if a not in KNOBS]
    if unknown:
        raise ValueError(f"unknown randomization aspects {unknown}; known: {list(KNOBS)}")
    return ["full", *(f"full-{a}" for a in aspects), "off"]


def run_ablation(
    base: PerceptionConfig, aspects: tuple[str, ...] | None = None, root: str | Path | None = None
) -> list[dict[str, Any]]:
    """Train one run per row of :func:`ablation_rows` under ``root``; return the rows
    (randomization, final metrics per evaluation style, run folder)."""
    root = Path(root or f"runs/perception-ablation-{time.strftime('%Y%m%d-%H%M%S')}")
    rows = []
    for name in ablation_rows(aspects):
        config = replace(base, randomization=name, run_dir=str(root / name))
        summary = Trainer(config).run()
        rows.append({"randomization": name, "final": summary["final"], "run_dir": config.run_dir})
        (root / "ablation.json").write_text(json.dumps(rows, indent=2))
    return rows


def format_table(rows: list[dict[str, Any]], metric: str = "miou_headline") -> str:
    """A Markdown table: one row per randomization, one column per evaluation style, and
    the change against full randomization on the first style."""
    styles = [k for k, v in rows[0]["final"].items() if isinstance(v, dict)]
    full = next((r for r in rows if r["randomization"] == "full"), rows[0])

    def value(row: dict, style: str) -> float:
        return row["final"].get(style, {}).get(metric, math.nan)

    head = f"| training randomization | {' | '.join(styles)} | change vs full ({styles[0]}) |"
    lines = [head, "|" + "---|" * (len(styles) + 2)]
    for row in rows:
        cells = [f"{value(row, s):.3f}" for s in styles]
        delta = value(row, styles[0]) - value(full, styles[0])
        lines.append(f"| {row['randomization']} | {' | '.join(cells)} | {delta:+.3f} |")
    return "\n".join(lines)


@dataclass
class AblationArgs(PerceptionConfig):
    """Train once per randomization aspect switched off, and print the mIoU table."""

    aspects: tuple[str, ...] | None = None
    """aspects to switch off one at a time (default: all of road, terrain, sky, objects,
    vehicles, distractors, camera, lighting, post)"""
    root: str | None = None
    """folder of the runs (default runs/perception-ablation-<timestamp>)"""
    metric: str = "miou_headline"
    """metric of the table: miou_headline (road, lane marking, vehicle), miou or ap50"""


def main(argv: list[str] | None = None) -> int:
    args = tyro.cli(AblationArgs, args=argv, prog="python -m perception.ablation")
    base = PerceptionConfig(
        **{k: getattr(args, k) for k in PerceptionConfig.__dataclass_fields__ if k != "run_dir"}
    )
    try:
        rows = run_ablation(base, args.aspects, args.root)
    except ValueError as e:
        print(f"ablation: error: {e}", file=sys.stderr)
        return 2
    print(format_table(rows, args.metric))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What every ``scripts/bench_*.py`` shares: the common flags, the figures' summary, the
run's header, and the section loop (see ``../shared/MEASURING.md`` for the method).

A bench script subclasses :class:`BenchConfig` (adding ``only`` with its section names
and its own settings) and ends with ``run_sections(cfg, {"name": fn, ...})``.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class BenchConfig:
    quick: bool = False
    """Small workloads: the whole run takes under a minute."""
    json: bool = False
    """Print the figures as one JSON object on stdout (and nothing else there)."""
    repeats: int = 5
    """Timed repeats per figure (the median is reported)."""


def summary(samples: list[float]) -> dict[str, float]:
    """Median, min, max and count of timed repeats."""
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "repeats": len(samples),
    }


def fmt(samples: list[float]) -> str:
    return (
        f"{statistics.median(samples):>12,.0f} (min {min(samples):,.0f}, max {max(samples):,.0f})"
    )


def log(cfg: BenchConfig, *args: object) -> None:
    """Progress lines: stdout, or stderr when stdout carries the JSON."""
    print(*args, file=sys.stderr if cfg.json else sys.stdout, flush=True)


def header(cfg: BenchConfig, **extra: Any) -> dict[str, Any]:
    """The exact command, the commit and the versions a figure was measured with."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"],
        cwd=ROOT, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    script = Path(sys.argv[0]).resolve()
    try:
        script = script.relative_to(ROOT)
    except ValueError:
        pass
    return {
        "command": " ".join(["python", str(script), *sys.argv[1:]]),
        "commit": commit + ("+uncommitted" if dirty else ""),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "quick": cfg.quick,
        **extra,
    }


def run_sections(
    cfg: BenchConfig, sections: dict[str, Callable[[Any], dict]], **extra: Any
) -> dict[str, Any]:
    """Run the sections ``cfg.only`` names (all when empty), in order; print the JSON
    object with ``--json``; return it."""
    chosen = tuple(getattr(cfg, "only", ())) or tuple(sections)
    unknown = sorted(set(chosen) - set(sections))
    if unknown:
        raise SystemExit(f"unknown section(s) {unknown}; choose from {list(sections)}")
    result = header(cfg, **extra)
    for name in sections:
        if name in chosen:
            result[name] = sections[name](cfg)
    if cfg.json:
        print(json.dumps(result, indent=2))
    return result

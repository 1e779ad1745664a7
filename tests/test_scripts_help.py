"""Every entry point in scripts/ answers --help (the guide asks for it of each)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
LIBRARIES = {"benchkit.py"}  # imported by the bench scripts, not run
ENTRY_POINTS = sorted(p.name for p in SCRIPTS.glob("*.py") if p.name not in LIBRARIES)


def test_the_list_is_not_empty():
    assert {"train.py", "evaluate.py", "watch.py", "bench_board.py"} <= set(ENTRY_POINTS)


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_help(name):
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / name), "--help"],
        capture_output=True, text=True, timeout=180, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "usage" in done.stdout.lower(), done.stdout[:500]

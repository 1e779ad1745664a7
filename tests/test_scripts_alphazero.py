"""scripts/train.py alphazero and scripts/evaluate.py: tiny runs from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TINY = [
    "--blocks", "1", "--channels", "8", "--parallel-games", "4",
    "--steps-per-iteration", "12", "--search.simulations", "8",
    "--search.fast-simulations", "4", "--min-replay", "8", "--batch-size", "8",
    "--replay-size", "200", "--threads", "1", "--workers", "0",
]  # fmt: skip


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / script), *args],
        cwd=ROOT,
        env={**os.environ, "SDL_VIDEODRIVER": "dummy"},
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("az") / "run"
    done = run(
        "train.py", "alphazero", *TINY, "--max-iterations", "2",
        "--eval-every-minutes", "0", "--run-dir", str(run_dir), "--json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"writing to {run_dir}" in done.stdout
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["iterations"] == 2 and summary["selfplay"]["games"] > 0
    return run_dir


def test_help():
    for script, args in (("train.py", ["alphazero", "--help"]), ("evaluate.py", ["--help"])):
        done = run(script, *args)
        assert done.returncode == 0, done.stderr
        assert "--json" in done.stdout


def test_train_writes_a_run_and_resumes(trained):
    for name in ("checkpoint.safetensors", "config.json", "summary.json", "tensorboard"):
        assert (trained / name).exists(), name
    done = run("train.py", "alphazero", "--resume", str(trained), "--max-iterations", "3",
               "--eval-every-minutes", "0", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["iterations"] == 3


def test_evaluate_prints_mistake_rates_and_matches(trained, shared_dir):
    positions = shared_dir / "data" / "connect4" / "Test_L3_R1"
    done = run("evaluate.py", str(trained), "--positions", str(positions), "--sims", "8",
               "--limit", "10", "--games", "2", "--rollouts", "20", "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    report = out["mistakes"]["Test_L3_R1"]
    assert report["positions"] == 10 and 0 <= report["mistake_rate"] <= 1
    assert set(out["matches"]) == {"random", "greedy", "mcts(20)"}


@pytest.mark.parametrize(
    "script,args,message",
    [
        ("train.py", ["alphazero", "--game", "shogi", "--max-iterations", "1"], "unknown game"),
        ("train.py", ["alphazero", "--resume", "/nonexistent/run"], "no checkpoint"),
        ("evaluate.py", ["/nonexistent/ckpt", "--games", "1"], "no checkpoint"),
        ("evaluate.py", ["{run}", "--positions", "/nonexistent/file"], "no position file"),
        ("evaluate.py", ["{run}"], "nothing to do"),
    ],
)
def test_bad_input_is_one_clear_line(trained, script, args, message):
    done = run(script, *(a.format(run=trained) for a in args))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_refused_config_leaves_no_run_folder(tmp_path):
    run_dir = tmp_path / "run"
    done = run("train.py", "alphazero", "--game", "shogi", "--run-dir", str(run_dir))
    assert done.returncode == 2 and "unknown game" in done.stderr
    assert not run_dir.exists()


def test_make_positions_writes_a_file_the_evaluator_reads(tmp_path):
    out = tmp_path / "sets" / "val"
    done = run("make_positions.py", "--out", str(out), "--count", "5", "--seed", "1")
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and len(out.read_text().splitlines()) == 5
    done = run("make_positions.py", "--out", str(out), "--exclude", str(tmp_path / "nope"))
    assert done.returncode == 2 and "not found" in done.stderr
    assert run("make_positions.py", "--help").returncode == 0

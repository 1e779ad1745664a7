"""Board-game benchmarks: raw rules, our PettingZoo env against PettingZoo's own, the solver.

Each figure is measured as ``../shared/MEASURING.md`` asks: warm-up first (Numba
compile time is excluded: kernels are cached), then at least 5 timed repeats, median
with min and max; the two sides of a comparison alternate (A B A B ...) in one process,
on one thread. Run with the other core idle::

    python scripts/bench_board.py            # full run, a few minutes
    python scripts/bench_board.py --quick    # under a minute
    python scripts/bench_board.py --json     # figures as one JSON object on stdout
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from benchkit import BenchConfig, log, run_sections, summary

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "connect4"
# Pons' published mean times per position of his final C++ solver, in microseconds.
PONS_US = {"Test_L3_R1": 4.6, "Test_L2_R1": 37.0}


@dataclass
class Config(BenchConfig):
    """Benchmarks of the board games (rules, envs, solver)."""

    only: tuple[str, ...] = ()
    """Run only these sections: rules, chess, env, solver (all when empty)."""


# ---- raw rules ---------------------------------------------------------------
def bench_rules(cfg: Config) -> dict:
    from sim.board import kernels, make_game

    games = {
        "connect4": {},
        "tictactoe": {},
        "othello": {},
        "othello6": {"size": 6},
        "gomoku": {},
        "go9x9": {},
    }
    out = {}
    for label, kwargs in games.items():
        name = {"othello6": "othello", "go9x9": "go"}.get(label, label)
        game = make_game(name, **kwargs)
        state = game.initial_state()
        kernels.random_playouts(state, 2, 0)  # warm-up (compile or load from cache)
        # Size the workload to about 0.2 s (0.05 s quick) per repeat.
        probe = time.perf_counter()
        moves = kernels.random_playouts(state, 20, 1)
        per_game = (time.perf_counter() - probe) / 20
        games_n = max(5, int((0.05 if cfg.quick else 0.2) / max(per_game, 1e-7)))
        rates = []
        for r in range(cfg.repeats):
            t = time.perf_counter()
            moves = kernels.random_playouts(state, games_n, 100 + r)
            rates.append(moves / (time.perf_counter() - t))
        out[label] = {
            "moves_per_s": summary(rates),
            "games_per_repeat": games_n,
            "mean_game_length": moves / games_n,
        }
        log(
            cfg,
            f"rules {label:10s} {statistics.median(rates) / 1e6:8.2f} M moves/s "
            f"(min {min(rates) / 1e6:.2f}, max {max(rates) / 1e6:.2f})",
        )
    return out


# ---- chess: our Numba rules against python-chess -----------------------------
def python_chess_playouts(games: int, seed: int) -> int:
    """Random games with python-chess under our automatic draws (the peer's loop: legal
    moves, a uniform pick, push, the end test); returns the moves played."""
    import random

    import chess

    rng = random.Random(seed)
    moves = 0
    for _ in range(games):
        board = chess.Board()
        while True:
            legal = list(board.generate_legal_moves())
            if (
                not legal
                or board.is_insufficient_material()
                or board.halfmove_clock >= 100
                or board.is_repetition(3)
            ):
                break
            board.push(legal[rng.randrange(len(legal))])
            moves += 1
    return moves


def bench_chess(cfg: Config) -> dict:
    """Random chess games from the start: our kernels against python-chess, A B A B."""
    from sim.board import kernels, make_game

    state = make_game("chess").initial_state()
    kernels.random_playouts(state, 2, 0)  # warm-up (compile or load from cache)
    python_chess_playouts(1, 0)
    games = 2 if cfg.quick else 10
    rates: dict[str, list[float]] = {"simarena": [], "python-chess": []}
    for r in range(cfg.repeats):
        t = time.perf_counter()
        moves = kernels.random_playouts(state, games * 20, 100 + r)
        rates["simarena"].append(moves / (time.perf_counter() - t))
        t = time.perf_counter()
        peer_moves = python_chess_playouts(games, 100 + r)
        rates["python-chess"].append(peer_moves / (time.perf_counter() - t))
    ratios = [a / b for a, b in zip(rates["simarena"], rates["python-chess"], strict=True)]
    log(
        cfg,
        f"chess random playouts: ours {statistics.median(rates['simarena']):,.0f} moves/s, "
        f"python-chess {statistics.median(rates['python-chess']):,.0f} moves/s, "
        f"ratio {statistics.median(ratios):.1f}x",
    )
    return {
        "moves_per_s": {name: summary(v) for name, v in rates.items()},
        "ratio": summary(ratios),
        "games_per_repeat": {"simarena": games * 20, "python-chess": games},
    }


# ---- env against PettingZoo's connect_four_v3 --------------------------------
def aec_random_loop(env, episodes: int, seed: int) -> int:
    """The same loop for both envs: random legal moves, until every episode ends."""
    rng = np.random.default_rng(seed)
    steps = 0
    for ep in range(episodes):
        env.reset(seed=seed + ep)
        for _agent in env.agent_iter():
            obs, reward, termination, truncation, info = env.last()
            if termination or truncation:
                action = None
            else:
                legal = np.flatnonzero(obs["action_mask"])
                action = int(legal[rng.integers(len(legal))])
            env.step(action)
            steps += 1
    return steps


def bench_env(cfg: Config) -> dict:
    """Each factory's env (its own wrapper stack) and each bare ``raw_env``, A B A B."""
    from pettingzoo.classic import connect_four_v3

    from envs.board import connect4_v0

    pairs: dict[str, tuple[Callable, Callable]] = {
        "env()": (connect4_v0.env, connect_four_v3.env),
        "raw_env()": (connect4_v0.raw_env, connect_four_v3.raw_env),
    }
    episodes = 30 if cfg.quick else 200
    out: dict = {"episodes_per_repeat": episodes}
    for label, (make_ours, make_peer) in pairs.items():
        envs = {
            f"simarena connect4_v0.{label}": make_ours(),
            f"pettingzoo connect_four_v3.{label}": make_peer(),
        }
        for env in envs.values():
            aec_random_loop(env, 3, 0)  # warm-up
        rates: dict[str, list[float]] = {name: [] for name in envs}
        for r in range(cfg.repeats):
            for name, env in envs.items():  # alternate A B A B
                t = time.perf_counter()
                steps = aec_random_loop(env, episodes, 1000 * r)
                rates[name].append(steps / (time.perf_counter() - t))
        # The ratio of each A-B pair, then the median: robust to drift across the run.
        ours_rates, peer_rates = rates.values()
        ratios = [a / b for a, b in zip(ours_rates, peer_rates, strict=True)]
        for name, v in rates.items():
            log(
                cfg,
                f"env {name:36s} {statistics.median(v):10.0f} steps/s "
                f"(min {min(v):.0f}, max {max(v):.0f})",
            )
        log(
            cfg,
            f"env {label} ratio ours/pettingzoo: {statistics.median(ratios):.2f}x "
            f"(min {min(ratios):.2f}, max {max(ratios):.2f})",
        )
        out[label] = {
            "ratio": summary(ratios),
            **{name: {"steps_per_s": summary(v)} for name, v in rates.items()},
        }
    return out


# ---- solver ------------------------------------------------------------------
def bench_solver(cfg: Config) -> dict:
    from sim.board import connect4_solver

    out = {}
    for name, pons_us in PONS_US.items():
        path = SHARED / name
        if not path.exists():
            log(cfg, f"solver: {path} not found, skipped")
            continue
        lines = [ln.split() for ln in path.read_text().splitlines() if ln.strip()]
        if cfg.quick:
            lines = lines[:200]
        moves = [m for m, _ in lines]
        expected = np.array([int(s) for _, s in lines])
        connect4_solver.solve_many(moves[:5])  # warm-up
        times = []
        for _ in range(cfg.repeats):
            t = time.perf_counter()
            scores = connect4_solver.solve_many(moves)
            times.append((time.perf_counter() - t) / len(moves) * 1e6)
            if not np.array_equal(np.asarray(scores), expected):
                raise SystemExit(f"solver gave a wrong score on {name}")
        med = statistics.median(times)
        out[name] = {
            "us_per_position": summary(times),
            "positions": len(moves),
            "pons_cpp_us": pons_us,
            "ratio_to_pons": med / pons_us,
        }
        log(
            cfg,
            f"solver {name}: {med:8.1f} us/position (min {min(times):.1f}, "
            f"max {max(times):.1f}); Pons C++ {pons_us} us -> {med / pons_us:.2f}x",
        )
    out["harder"] = bench_solver_harder(cfg, connect4_solver)
    return out


def bench_solver_harder(cfg: Config, connect4_solver) -> dict:
    """Earlier positions, which Pons' sets leave out: the first 12 and 10 plies of the
    middle-game set's lines (no reference scores; one repeat, they take long)."""
    path = SHARED / "Test_L2_R1"
    if not path.exists():
        return {}
    lines = [ln.split()[0] for ln in path.read_text().splitlines() if ln.strip()]
    out = {}
    for plies in (12, 10):
        count = 10 if cfg.quick else 50
        prefixes = [m[:plies] for m in lines[:count]]
        t = time.perf_counter()
        _, nodes = connect4_solver.solve_many(prefixes, return_nodes=True)
        per_pos = (time.perf_counter() - t) / count
        out[f"L2 prefixes, {plies} plies"] = {
            "ms_per_position": per_pos * 1e3,
            "mean_nodes": float(np.mean(nodes)),
            "max_nodes": int(np.max(nodes)),
            "positions": count,
        }
        log(
            cfg,
            f"solver {plies}-ply prefixes of Test_L2_R1: {per_pos * 1e3:8.1f} ms/position, "
            f"{np.mean(nodes):,.0f} nodes mean ({count} positions, one repeat)",
        )
    return out


def main(cfg: Config) -> dict:
    return run_sections(
        cfg,
        {"rules": bench_rules, "chess": bench_chess, "env": bench_env, "solver": bench_solver},
        threads=1,
    )


if __name__ == "__main__":
    main(tyro.cli(Config))

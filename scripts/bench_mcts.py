"""MCTS benchmarks on Connect Four: the tree alone, UCT with random rollouts, self-play.

(a) ``tree``: simulations/s of :class:`sim.search.mcts.BatchedMCTS` with a zero-cost
    evaluator (uniform priors, value 0), evaluated inside Numba or by a trivial Python
    callable (the AlphaZero path: observations written, one call per step), beside a
    plain pure-Python PUCT search (dict children, the same ``sim.board`` rules through
    their Python face) on the same positions with the same formula, in the same run.
(b) ``rollout``: :func:`sim.search.mcts.rollout_search` (UCT-like, one random playout
    per leaf) simulations/s; OpenSpiel's C++ ``MCTSBot`` beside it only if ``import
    pyspiel`` works (``pip install open_spiel``; not a dependency), else marked skipped.

(c) ``selfplay``: AlphaZero self-play with the default network (``AlphaZeroConfig()``):
    64 concurrent games evaluated in one forward per step, against one game at a time
    (a forward per leaf), network evaluations/s and moves/s on ``--selfplay-threads``.

Measured as ``../shared/MEASURING.md`` asks: warm-up first (Numba compile time
excluded: kernels are cached), at least 5 timed repeats, median with min and max, the
two sides alternating (A B A B ...) in one process, one thread. Run with the other
core idle::

    python scripts/bench_mcts.py            # full run, about ten seconds
    python scripts/bench_mcts.py --quick    # a few seconds
    python scripts/bench_mcts.py --json     # figures as one JSON object on stdout
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tyro
from benchkit import BenchConfig, fmt, log, run_sections, summary

ROOT = Path(__file__).resolve().parents[1]
# Early Connect Four positions (Pons' notation): the empty board and two openings.
POSITIONS = ("", "44", "4453")


@dataclass
class Config(BenchConfig):
    """Benchmarks of the Numba MCTS (sim.search) on Connect Four."""

    only: tuple[str, ...] = ()
    """Run only these sections: tree, rollout, selfplay (all when empty)."""
    simulations: int = 800
    """Simulations per search in the tree section (AlphaZero's budget)."""
    batch: int = 64
    """Concurrent games of the batched search in the tree section."""
    c_puct: float = 1.25
    """PUCT constant of the tree section (both sides)."""
    selfplay_threads: int = 2
    """torch threads of the selfplay section (the default network on both cores)."""


# ---- the peer of (a): a plain pure-Python PUCT -------------------------------------
class PyNode:
    """A node of the pure-Python search: its state, the mover into it, statistics."""

    __slots__ = ("state", "mover", "prior", "children", "visits", "value_sum", "exact")

    def __init__(self, state: np.ndarray, mover: int) -> None:
        self.state = state
        self.mover = mover
        self.prior: dict[int, float] | None = None  # action -> prior once evaluated
        self.children: dict[int, PyNode] = {}
        self.visits = 0
        self.value_sum = 0.0
        self.exact: float | None = None  # the value for the mover if the game is over


def python_puct_search(game, root_state: np.ndarray, simulations: int, c_puct: float) -> PyNode:
    """AlphaZero PUCT with the zero-cost evaluator (uniform priors, value 0), unvisited
    children valued 0, ties to the lowest action: the formula of ``BatchedMCTS``. The rules
    are the same Numba kernels, called one at a time from Python."""
    rules = game.rules

    def evaluate(node: PyNode) -> float:
        legal = np.flatnonzero(game.legal_mask(node.state))
        node.prior = dict.fromkeys(legal.tolist(), 1.0 / len(legal))
        return 0.0

    def new_child(node: PyNode, action: int) -> PyNode:
        state = node.state.copy()
        rules.play(state, action)
        child = PyNode(state, int(node.state[1]))
        winner = int(state[2])
        if winner != -1:
            child.exact = 0.0 if winner == 2 else (1.0 if winner == child.mover else -1.0)
        node.children[action] = child
        return child

    root = PyNode(root_state.copy(), 1 - int(root_state[1]))
    evaluate(root)
    root.visits = 1
    for _ in range(simulations):
        node, path = root, [root]
        while True:
            sqrt_n = math.sqrt(node.visits)
            best, best_score = -1, -math.inf
            for action, prior in node.prior.items():
                child = node.children.get(action)
                n = child.visits if child else 0
                q = child.value_sum / n if n else 0.0
                score = q + c_puct * prior * sqrt_n / (1 + n)
                if score > best_score:
                    best, best_score = action, score
            child = node.children.get(best) or new_child(node, best)
            path.append(child)
            if child.exact is not None:
                value, player = child.exact, child.mover
                break
            if child.prior is None:
                value, player = evaluate(child), int(child.state[1])
                break
            node = child
        for n in path:  # each node keeps the value for the player who moved into it
            n.visits += 1
            n.value_sum += value if n.mover == player else -value
    return root


# ---- (a) tree only -----------------------------------------------------------------
def zero_cost(obs: np.ndarray, legal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.ones(legal.shape, np.float32), np.zeros(len(obs), np.float32)


def bench_tree(cfg: Config) -> dict:
    from sim.board import make_game
    from sim.search.mcts import UNIFORM, BatchedMCTS

    game = make_game("connect4")
    sims = 200 if cfg.quick else cfg.simulations
    batch = 16 if cfg.quick else cfg.batch
    roots = np.stack([game.from_moves(POSITIONS[b % len(POSITIONS)]) for b in range(batch)])
    searches = {}

    def ours(leaves: int | None) -> Callable[[], int]:
        mcts = BatchedMCTS.for_game(game, batch, sims + 1, c_puct=cfg.c_puct)

        def run() -> int:
            mcts.reset(roots)
            if leaves is None:
                mcts.search(zero_cost, sims)
            else:
                mcts.search_builtin(sims, leaves_per_step=leaves, evaluator=UNIFORM)
            return batch * sims

        return run

    # Numba's evaluator: each game searched to the end in turn (no virtual loss), or all
    # games stepped together as with a network; then the Python callable (observations
    # written, one call per step for all games).
    searches["numba evaluator, sequential"] = ours(0)
    searches["numba evaluator, batched (1 leaf/game/step)"] = ours(1)
    searches["python callable, batched (1 leaf/game/step)"] = ours(None)
    py_games = 1 if cfg.quick else 8

    def python_side() -> int:
        for b in range(py_games):
            python_puct_search(game, roots[b], sims, cfg.c_puct)
        return py_games * sims

    searches["pure-python PUCT"] = python_side

    # Same work: from each root, our two searches (the Python callable's and Numba's
    # sequential one) must agree, and give the pure-Python search's visit counts wherever
    # our MCTS-solver proved no node. The pure-Python search has no solver: once terminal
    # nodes are in reach, ours takes proven wins and avoids proven losses, and they part.
    checks: dict[str, dict] = {}
    for moves, root in zip(POSITIONS, roots, strict=False):
        py_root = python_puct_search(game, root, sims, cfg.c_puct)
        py_visits = [py_root.children[a].visits if a in py_root.children else 0 for a in range(7)]
        check = BatchedMCTS.for_game(game, 1, sims + 1, c_puct=cfg.c_puct)
        check.reset(root[None])
        called = check.search(zero_cost, sims).visits[0].astype(int).tolist()
        proven = int(check.tree.proven[0, : check.tree.size[0]].sum())
        check.reset(root[None])
        builtin = check.search_builtin(sims, leaves_per_step=0, evaluator=UNIFORM)
        checks[moves] = {
            "ours": called,
            "python": py_visits,
            "ours_agree": called == builtin.visits[0].astype(int).tolist(),
            "proven_nodes": proven,
            "identical": called == py_visits,
        }
        log(cfg, f"tree: position {moves!r}: visits ours {called}, pure-Python {py_visits}, "
                 f"nodes our solver proved {proven}")  # fmt: skip
    same = all(c["ours_agree"] for c in checks.values()) and all(
        c["identical"] for c in checks.values() if c["proven_nodes"] == 0
    )
    log(cfg, f"tree: visit counts identical to the pure-Python search where no node is "
             f"proven (and our two searches agree everywhere): {same}")  # fmt: skip

    for run in searches.values():
        run()  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in searches}
    for _ in range(cfg.repeats):
        for name, run in searches.items():  # alternate A B C D A B C D
            t = time.perf_counter()
            done = run()
            rates[name].append(done / (time.perf_counter() - t))
    peer = rates["pure-python PUCT"]
    out: dict = {
        "game": "connect4",
        "positions": list(POSITIONS),
        "simulations_per_search": sims,
        "batch": batch,
        "c_puct": cfg.c_puct,
        "visit_counts_identical_to_python": same,
        "visit_counts": checks,
    }
    for name, samples in rates.items():
        entry: dict = {"sims_per_s": summary(samples)}
        if samples is not peer:
            ratios = [a / b for a, b in zip(samples, peer, strict=True)]
            entry["ratio_to_python"] = summary(ratios)
            extra = f"  {statistics.median(ratios):7.1f}x python"
        else:
            extra = ""
        out[name] = entry
        log(cfg, f"tree {name:45s} {fmt(samples)} sims/s{extra}")
    return out


# ---- (b) UCT with random rollouts ------------------------------------------------------
def openspiel_side(sims: int) -> Callable[[], int] | None:
    """OpenSpiel's C++ ``MCTSBot`` (UCT, c = 1.4, one random rollout per leaf, solver on)
    on the same positions, or None when ``import pyspiel`` fails."""
    try:
        import pyspiel
    except ImportError:
        return None
    game = pyspiel.load_game("connect_four")
    evaluator = pyspiel.RandomRolloutEvaluator(1, 0)
    try:  # game, evaluator, uct_c, max_simulations, max_memory_mb, solve, seed, verbose
        bot = pyspiel.MCTSBot(game, evaluator, 1.4, sims, 1000, True, 0, False)
    except TypeError:  # older pyspiel: a player argument after the game
        bot = pyspiel.MCTSBot(game, 0, evaluator, 1.4, sims, 1000, True, 0, False)
    states = []
    for moves in POSITIONS:
        state = game.new_initial_state()
        for ch in moves:
            state.apply_action(int(ch) - 1)
        states.append(state)

    def run() -> int:
        for state in states:
            bot.mcts_search(state)
        return len(states) * sims

    return run


def bench_rollout(cfg: Config) -> dict:
    from sim.board import make_game
    from sim.search.mcts import rollout_search

    game = make_game("connect4")
    sims = 2000 if cfg.quick else 20000
    states = [game.from_moves(m) for m in POSITIONS]
    seed = [0]

    def ours() -> int:
        for state in states:
            seed[0] += 1
            rollout_search(state, sims, seed[0], 1.4)
        return len(states) * sims

    sides: dict[str, Callable[[], int]] = {"simarena rollout_search": ours}
    # ---- OpenSpiel: measured only if pyspiel imports ----
    peer = openspiel_side(sims)
    if peer is None:
        log(cfg, "rollout: OpenSpiel MCTSBot SKIPPED (pyspiel is not installed)")
    else:
        sides["openspiel MCTSBot (C++ game, Python search)"] = peer
    for run in sides.values():
        run()  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in sides}
    for _ in range(cfg.repeats):
        for name, run in sides.items():
            t = time.perf_counter()
            done = run()
            rates[name].append(done / (time.perf_counter() - t))
    out: dict = {
        "game": "connect4",
        "positions": list(POSITIONS),
        "simulations_per_search": sims,
        "c_uct": 1.4,
        "openspiel": "measured" if peer else "skipped: pyspiel not installed",
    }
    for name, samples in rates.items():
        out[name] = {"sims_per_s": summary(samples)}
        log(cfg, f"rollout {name:45s} {fmt(samples)} sims/s")
    if peer:
        ours_rates, peer_rates = rates.values()
        ratios = [a / b for a, b in zip(ours_rates, peer_rates, strict=True)]
        out["ratio_to_openspiel"] = summary(ratios)
        log(cfg, f"rollout ratio ours/openspiel: {statistics.median(ratios):.1f}x")
    return out


def bench_selfplay(cfg: Config) -> dict:
    """Self-play with the default network on ``selfplay_threads`` threads: B concurrent
    games whose leaves share one forward, against one game at a time (batch 1)."""
    import torch

    from agents.alphazero.config import AlphaZeroConfig
    from agents.alphazero.worker import SelfPlayWorker

    torch.set_num_threads(cfg.selfplay_threads)
    config = AlphaZeroConfig()
    steps = 2 if cfg.quick else 6
    batched = SelfPlayWorker(config, seed=0)
    single = SelfPlayWorker(AlphaZeroConfig(parallel_games=1), seed=0)
    single.load_weights(batched.net.state_dict())
    sides = {
        f"batched ({config.parallel_games} games)": (batched, steps),
        "one at a time": (single, steps * 4),
    }
    for worker, _ in sides.values():
        worker.play(1)  # warm-up (compiles, allocates)
    rates: dict[str, dict[str, list[float]]] = {
        name: {"moves_per_s": [], "positions_per_s": [], "evaluations_per_s": []} for name in sides
    }
    for _ in range(max(3, cfg.repeats // 2 if cfg.quick else cfg.repeats)):
        for name, (worker, n) in sides.items():
            _, stats = worker.play(n)
            rates[name]["moves_per_s"].append(stats.moves / stats.seconds)
            rates[name]["positions_per_s"].append(stats.positions / stats.seconds)
            rates[name]["evaluations_per_s"].append(stats.evaluations / stats.seconds)
    s = config.search
    out: dict = {
        "game": "connect4",
        "network": {"blocks": config.blocks, "channels": config.channels},
        "threads": cfg.selfplay_threads,
        "simulations": {"full": s.simulations, "fast": s.fast_simulations,
                        "full_prob": s.full_search_prob},
    }  # fmt: skip
    for name, figures in rates.items():
        out[name] = {k: summary(v) for k, v in figures.items()}
        log(cfg, f"selfplay {name:24s} {fmt(figures['evaluations_per_s'])} evals/s, "
                 f"{statistics.median(figures['moves_per_s']):,.1f} moves/s")  # fmt: skip
    a, b = (rates[name]["evaluations_per_s"] for name in sides)
    ratios = [x / y for x, y in zip(a, b, strict=True)]
    out["batching_speedup"] = summary(ratios)
    log(cfg, f"selfplay batched / one at a time: {statistics.median(ratios):.1f}x")
    return out


def main(cfg: Config) -> dict:
    sections = {"tree": bench_tree, "rollout": bench_rollout, "selfplay": bench_selfplay}
    return run_sections(cfg, sections, threads=1)


if __name__ == "__main__":
    main(tyro.cli(Config))

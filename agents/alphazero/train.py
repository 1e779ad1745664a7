"""The AlphaZero loop: self-play, replay, training and evaluation, until the budget ends.

Each iteration lets every concurrent self-play game make ``steps_per_iteration`` moves
(in this process, or in workers while the learner trains: processes, Ray actors on this
machine or a cluster, see :mod:`selfplay.backends`), adds the finished
games to the replay window, and trains so that each new position is sampled about
``sample_reuse`` times. Evaluations (mistake rates, matches against the baselines,
ratings) and checkpoints happen on a wall-clock schedule; a checkpoint is also written
at the end and after Ctrl-C, which stops the run at the end of the current iteration (a
second Ctrl-C stops at once, keeping the last checkpoint). In-process runs resume
exactly: the same weights as a run that never stopped.
"""

from __future__ import annotations

import contextlib
import copy
import json
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from agents.alphazero import checkpoint as ckpt
from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.evaluation import calibrated_ratings, evaluate_network, position_files
from agents.alphazero.learner import Learner
from agents.alphazero.replay import ReplayBuffer
from agents.alphazero.worker import PlayStats, SelfPlayWorker, SelfPlayWorkers, network_config
from agents.checkpoint import (
    load_module,
    load_optimizer,
    module_tensors,
    optimizer_state,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from agents.runs import open_run
from selfplay import RatingTable
from sim.board import make_game


def default_run_dir(config: AlphaZeroConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"alphazero-{config.game}-{stamp}"


class Trainer:
    """One AlphaZero run. ``Trainer(config).run()`` trains from scratch;
    ``Trainer.resume(path)`` continues the run saved at ``path`` (a checkpoint file or
    its run folder)."""

    def __init__(self, config: AlphaZeroConfig, run_dir: str | Path | None = None) -> None:
        config.validate()
        self.config = config
        self.game = make_game(config.game, **config.game_options)
        self.run_dir = Path(run_dir or config.run_dir or default_run_dir(config))
        torch.manual_seed(config.seed)
        self.net_config = network_config(config, self.game)
        self.learner = Learner(config, self.net_config)
        self.replay = ReplayBuffer(self.game, config.replay_size)
        self.rng = np.random.default_rng(config.seed + 2)  # training batches
        self.worker = SelfPlayWorker(config, config.seed) if config.workers == 0 else None
        self._sync_worker()
        self.iteration = 0
        self.elapsed = 0.0  # seconds of training before this process (resumed runs)
        self.totals = PlayStats()
        self.history: list[dict[str, Any]] = []
        self.ratings: RatingTable | None = None
        self.previous: tuple[str, Any] | None = None  # last evaluated network
        self._start: float | None = None  # perf_counter when run() began
        self._wall_start = 0.0
        self.stop_requested = False  # set by Ctrl-C: stop after the current iteration

    def _sync_worker(self) -> None:
        if self.worker is not None:
            self.worker.load_weights(self.learner.weights())

    # ---- checkpoints ------------------------------------------------------------------
    def save(self, path: Path | None = None) -> Path:
        """Write the whole run state atomically (replay and games in progress included)."""
        tensors = module_tensors("net", self.learner.net)
        optim_tensors, optim_meta = optimizer_state("optim", self.learner.optimizer)
        rng_tensors, rng_meta = rng_state(self.rng)
        replay_tensors, replay_meta = self.replay.state_dict()
        tensors.update(optim_tensors, **rng_tensors, **replay_tensors)
        meta: dict[str, Any] = {
            "agent": ckpt.AGENT,
            "game": self.game.name,
            "config": self.config.to_json(),
            "network": self.net_config.to_json(),
            "optimizer": optim_meta,
            "rng": rng_meta,
            "replay": replay_meta,
            "counters": {
                "iteration": self.iteration,
                "learner_steps": self.learner.steps,
                "elapsed": self.elapsed_seconds(),
                "totals": vars(self.totals),
            },
            "ratings": self.ratings.to_dict() if self.ratings else None,
            "history": self.history,
        }
        if self.worker is not None:
            worker_tensors, meta["worker"] = self.worker.state_dict()
            tensors.update(worker_tensors)
        return save_checkpoint(path or self.run_dir / ckpt.CHECKPOINT, tensors, meta)

    @classmethod
    def resume(cls, path: str | Path, **overrides: Any) -> Trainer:
        """The run saved at ``path``; ``overrides`` replace config fields (the budget:
        ``minutes``, ``max_iterations``; evaluation settings; ``workers``...)."""
        path, tensors, meta = ckpt.read_run(path)
        config = AlphaZeroConfig.from_json({**meta["config"], **overrides})
        trainer = cls(config, run_dir=path.parent)
        load_module("net", trainer.learner.net, tensors)
        load_optimizer("optim", trainer.learner.optimizer, tensors, meta["optimizer"])
        trainer._sync_worker()
        restore_rng(tensors, meta["rng"], trainer.rng)
        trainer.replay.load_state_dict(tensors, meta["replay"])
        counters = meta["counters"]
        trainer.iteration = counters["iteration"]
        trainer.learner.steps = counters["learner_steps"]
        trainer.elapsed = counters["elapsed"]
        trainer.totals = PlayStats(**counters["totals"])
        trainer.history = meta["history"]
        if meta.get("ratings"):
            trainer.ratings = RatingTable.from_dict(meta["ratings"])
        if trainer.worker is not None and "worker" in meta:
            trainer.worker.load_state_dict(tensors, meta["worker"])
        return trainer

    # ---- the loop ---------------------------------------------------------------------
    def elapsed_seconds(self) -> float:
        running = 0.0 if self._start is None else time.perf_counter() - self._start
        return self.elapsed + running

    def _done(self) -> bool:
        c = self.config
        if self.stop_requested:
            return True
        if c.max_iterations and self.iteration >= c.max_iterations:
            return True
        return self.elapsed_seconds() >= c.minutes * 60

    def _train(self, steps: int) -> list[dict[str, float]]:
        c = self.config
        metrics = []
        for _ in range(steps):
            batch = self.replay.sample(c.batch_size, self.rng, c.augment)
            metrics.append(self.learner.train_step(*batch))
        return metrics

    def _due_steps(self) -> int:
        """Training steps owed so that each position added is sampled ``sample_reuse``
        times on average (none before ``min_replay`` positions)."""
        if len(self.replay) < self.config.min_replay:
            return 0
        target = int(self.config.sample_reuse * self.replay.added / self.config.batch_size)
        return max(0, target - self.learner.steps)

    def run(self) -> dict[str, Any]:
        """Train until the budget is spent; the final summary (also in summary.json)."""
        c = self.config
        torch.set_num_threads(c.threads)
        writer = open_run(self.run_dir, "alphazero", c.to_json())
        # Fresh worker seeds per session: a resumed run does not replay the same streams.
        seed = int(np.random.SeedSequence([c.seed, self.iteration]).generate_state(1)[0])
        try:
            workers = SelfPlayWorkers(c, c.workers, seed) if c.workers else None
        except BaseException:  # no backend (Ray missing, cluster unreachable): no run
            writer.close()
            raise
        self._start = self._wall_start = time.perf_counter()
        last_eval = last_save = self.elapsed_seconds()
        evaluating = c.eval_every_minutes > 0
        if not self.history:
            last_eval = -np.inf  # evaluate the untrained network first: the curve's origin
        bar = tqdm(total=round(c.minutes * 60), unit="s", desc="alphazero", leave=False)
        bar.update(round(self.elapsed))
        try:
            with self._stop_on_interrupt():
                self._loop(writer, workers, bar, last_eval, last_save, evaluating)
        except KeyboardInterrupt:
            print(
                "\nalphazero: stopped at once; the last checkpoint stands "
                f"({self.run_dir / ckpt.CHECKPOINT})",
                file=sys.stderr,
            )
            raise
        finally:
            bar.close()
            writer.close()
            if workers is not None:
                workers.close()
        path = self.save()
        summary = self.summary()
        (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
        print(f"alphazero: checkpoint {path}")
        return summary

    @contextlib.contextmanager
    def _stop_on_interrupt(self):
        """While training, a first Ctrl-C asks the loop to stop after the current
        iteration (then the run is saved whole); a second one interrupts at once."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum, frame):
            if self.stop_requested:
                raise KeyboardInterrupt
            self.stop_requested = True
            print(
                "\nalphazero: stopping after this iteration (Ctrl-C again to stop now)",
                file=sys.stderr,
            )

        previous = signal.signal(signal.SIGINT, handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def _loop(
        self,
        writer: SummaryWriter,
        workers: SelfPlayWorkers | None,
        bar: tqdm,
        last_eval: float,
        last_save: float,
        evaluating: bool,
    ) -> None:
        c = self.config
        while not self._done():
            if evaluating and self.elapsed_seconds() - last_eval >= c.eval_every_minutes * 60:
                self.evaluate(writer)
                last_eval = self.elapsed_seconds()
            metrics = self._iterate(workers)
            self._log(writer, metrics)
            bar.n = min(bar.total, round(self.elapsed_seconds()))
            bar.set_postfix(self._postfix(metrics), refresh=True)
            if self.elapsed_seconds() - last_save >= c.checkpoint_every_minutes * 60:
                self.save()
                last_save = self.elapsed_seconds()
        if evaluating and not self.stop_requested:
            self.evaluate(writer)

    def _iterate(self, workers: SelfPlayWorkers | None) -> dict[str, Any]:
        c = self.config
        if workers is None:
            samples, stats = self.worker.play(c.steps_per_iteration)
            self.replay.add(samples)
            losses = self._train(self._due_steps())
            self._sync_worker()
        else:
            # Workers play with the current weights while the learner trains on what
            # the replay already holds.
            workers.start(self.learner.weights(), c.steps_per_iteration)
            losses = self._train(self._due_steps())
            samples, stats = workers.collect()
            self.replay.add(samples)
        self.iteration += 1
        self.totals.add(stats)
        return {"stats": stats, "losses": losses}

    def _log(self, writer: SummaryWriter, metrics: dict[str, Any]) -> None:
        step = self.learner.steps
        stats: PlayStats = metrics["stats"]
        if metrics["losses"]:
            for key in metrics["losses"][0]:
                values = [m[key] for m in metrics["losses"]]
                writer.add_scalar(f"train/{key}", float(np.nanmean(values)), step)
        seconds = max(stats.seconds, 1e-9)
        writer.add_scalar("selfplay/positions_per_s", stats.positions / seconds, step)
        writer.add_scalar("selfplay/moves_per_s", stats.moves / seconds, step)
        writer.add_scalar("selfplay/evaluations_per_s", stats.evaluations / seconds, step)
        writer.add_scalar("selfplay/games", self.totals.games, step)
        if self.totals.lost:
            writer.add_scalar("selfplay/lost_jobs", self.totals.lost, step)
        if stats.games:
            writer.add_scalar("selfplay/game_length", stats.game_length_sum / stats.games, step)
            writer.add_scalar("selfplay/draw_rate", stats.draws / stats.games, step)
        writer.add_scalar("replay/size", len(self.replay), step)
        writer.add_scalar("time/minutes", self.elapsed_seconds() / 60, step)

    def _postfix(self, metrics: dict[str, Any]) -> dict[str, Any]:
        stats = metrics["stats"]
        post: dict[str, Any] = {
            "games": self.totals.games,
            "steps": self.learner.steps,
            "evals/s": round(stats.evaluations / max(stats.seconds, 1e-9)),
        }
        if metrics["losses"]:
            post["loss"] = round(float(np.mean([m["loss"] for m in metrics["losses"]])), 3)
        if self.history and "mistakes" in self.history[-1]:
            post["mistakes"] = "/".join(
                f"{100 * r['mistake_rate']:.1f}%" for r in self.history[-1]["mistakes"].values()
            )
        return post

    def evaluate(self, writer: SummaryWriter | None = None) -> dict[str, Any]:
        """Evaluate the current network; appended to the history, logged, saved."""
        c = self.config
        if self.history and self.history[-1]["learner_steps"] == self.learner.steps:
            return self.history[-1]  # the same network: nothing new to measure
        eval_start = time.perf_counter()
        if self.ratings is None:
            self.ratings = calibrated_ratings(self.game, c.baseline_rollouts, c.eval_games, c.seed)
        net = copy.deepcopy(self.learner.net).eval()
        name = f"step-{self.learner.steps}"
        files = position_files(c.positions_dir) if c.game == "connect4" and c.positions_dir else []
        result = evaluate_network(
            self.game, net, name,
            simulations=c.eval_simulations, files=files, positions=c.eval_positions,
            games=c.eval_games, rollouts=c.baseline_rollouts, seed=c.seed,
            c_puct=c.search.c_puct, fpu=c.search.fpu,
            ratings=self.ratings, previous=self.previous,
        )  # fmt: skip
        # The evaluation's own time is not training time: leave it out of the curve.
        if self._start is not None:
            self._start += time.perf_counter() - eval_start
        result["minutes"] = self.elapsed_seconds() / 60
        result["learner_steps"] = self.learner.steps
        result["games"] = self.totals.games
        result["positions"] = self.totals.positions
        self.history.append(result)
        self.previous = (name, net)
        ckpt_dir = self.run_dir / "networks"
        save_checkpoint(
            ckpt_dir / f"{name}.safetensors",
            module_tensors("net", net),
            {
                "agent": ckpt.AGENT,
                "game": self.game.name,
                "config": c.to_json(),
                "network": self.net_config.to_json(),
                "evaluation": result,
            },
        )
        if writer is not None:
            step = self.learner.steps
            for key in ("mistakes", "mistakes_raw"):
                for file, report in result.get(key, {}).items():
                    writer.add_scalar(f"eval/{key}/{file}", report["mistake_rate"], step)
            for opponent, match in result["matches"].items():
                writer.add_scalar(f"eval/score_vs/{opponent}", match["score"], step)
            writer.add_scalar("eval/rating_ordinal", result["rating"]["ordinal"], step)
            writer.add_scalar("eval/rating_mu", result["rating"]["mu"], step)
        return result

    def summary(self) -> dict[str, Any]:
        return {
            "run_dir": str(self.run_dir),
            "game": self.game.name,
            "iterations": self.iteration,
            "learner_steps": self.learner.steps,
            "minutes": self.elapsed_seconds() / 60,
            "wall_minutes_this_session": (time.perf_counter() - self._wall_start) / 60
            if self._start is not None
            else 0.0,
            "interrupted": self.stop_requested,
            "selfplay": vars(self.totals),
            "history": self.history,
        }

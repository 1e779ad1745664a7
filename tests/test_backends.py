"""Execution backends: same results on every backend, faults, shutdown, bad input."""

from __future__ import annotations

import functools
import os
import signal
import sys
import time

import numpy as np
import pytest
import torch

from agents.alphazero.config import AlphaZeroConfig, SearchConfig
from agents.alphazero.network import PolicyValueNet
from agents.alphazero.worker import SelfPlayWorkers, network_config
from agents.ppo.config import PPOConfig
from agents.ppo.rollout import collect_job, make_rollout_worker
from agents.ppo.train import Trainer as PPOTrainer
from selfplay import BuiltinPlayer, play_match
from selfplay.backends import (
    BackendError,
    PoolTimeout,
    ProbeWorker,
    ProcessBackend,
    RayBackend,
    SerialBackend,
    WorkerError,
    _check_reachable,
    import_ray,
    make_backend,
    probe,
    probe_raise,
)
from sim.board import make_game

TICTACTOE = make_game("tictactoe")


# ---- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def ray_session():
    """One local Ray instance for the session: 2 CPUs, no dashboard, a small object
    store, token auth off (nothing written into HOME)."""
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        import ray
    except ImportError:
        pytest.skip("ray is not installed (pip install 'simarena[ray]')")
    ray.init(
        address="local",  # a new instance, even where `ray start` runs one
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=200 * 1024 * 1024,
        log_to_driver=False,
        logging_level="ERROR",
    )
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def process_backend():
    with ProcessBackend(workers=2) as backend:
        yield backend


def backend_named(name: str, ray_session=None):
    if name == "serial":
        return SerialBackend()
    if name == "process":
        return ProcessBackend(workers=2)
    return RayBackend(workers=2)


# ---- helpers -----------------------------------------------------------------------------
toy_factory = ProbeWorker  # factory(index, incarnation): reports where it runs
toy_state = probe
toy_raise = probe_raise


def children() -> set[int]:
    """Process ids whose parent is this process (from /proc)."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me and fields[0] != "Z":
                out.add(int(entry))
    return out


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---- the same results on every backend ----------------------------------------------------
def tiny_az(**overrides) -> AlphaZeroConfig:
    values = dict(
        game="tictactoe", blocks=1, channels=8, parallel_games=4, workers=2,
        search=SearchConfig(simulations=8, fast_simulations=4),
    )  # fmt: skip
    values.update(overrides)
    return AlphaZeroConfig(**values)


def az_weights(config: AlphaZeroConfig) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    net = PolicyValueNet(network_config(config, TICTACTOE))
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def tiny_ppo(**overrides) -> PPOConfig:
    values = dict(
        env="board:tictactoe", num_envs=4, num_steps=8, selfplay=True, scripted_fraction=0.3,
        snapshot_every=1, hidden=16, embed=8, heads=1, pool_size=4, total_steps=10_000,
        eval_every_minutes=0, threads=1,
    )  # fmt: skip
    values.update(overrides)
    return PPOConfig(**values)


def rollout_arrays(results) -> list[np.ndarray]:
    out = []
    for result in results:
        for rollout, _, _ in result.value:
            out += [v.numpy() for v in rollout.obs.values()]
            out += [rollout.actions.numpy(), rollout.log_probs.numpy(), rollout.advantages.numpy()]
    return out


def test_every_backend_gives_the_same_games_and_rollouts(ray_session):
    greedy, rand = BuiltinPlayer("greedy", TICTACTOE), BuiltinPlayer("random", TICTACTOE)
    config = tiny_az()
    weights = az_weights(config)
    ppo = tiny_ppo()
    learner = PPOTrainer(ppo, run_dir="unused")
    ppo_weights = {k: v.numpy() for k, v in learner.net.state_dict().items()}
    matches, games, rollouts = {}, {}, {}
    for name in ("serial", "process", "ray"):
        with backend_named(name, ray_session) as backend:
            if name != "process":  # the process pool's matches: tests/test_selfplay.py
                matches[name] = play_match(TICTACTOE, greedy, rand, 8, seed=3, backend=backend)
            workers = SelfPlayWorkers(config, 2, seed=5, backend=name)
            try:
                parts = []
                for _ in range(2):  # the second call continues the games of the first
                    workers.start(weights, 6)
                    parts.append(workers.collect())
            finally:
                workers.close()
            games[name] = parts
            factory = functools.partial(make_rollout_worker, ppo.to_json(), 9)
            with backend.worker_pool(factory, 2) as pool:
                pool.broadcast(ppo_weights)
                pool.broadcast(learner.pool.weights("pool"), "snapshots")
                pool.broadcast(learner.pool.to_dict(), "pool_meta")
                tickets = [pool.submit(collect_job, 0.3, worker=i) for i in (0, 1, 0)]
                rollouts[name] = rollout_arrays(pool.gather(tickets, timeout=120))
    assert matches["serial"] == matches["ray"]
    for name in ("process", "ray"):
        for (s, st), (o, ot) in zip(games["serial"], games[name], strict=True):
            assert st.games == ot.games > 0 and st.moves == ot.moves
            for a, b in ((s.obs, o.obs), (s.policy, o.policy), (s.value, o.value)):
                np.testing.assert_array_equal(a, b)
        assert len(rollouts[name]) == len(rollouts["serial"]) > 0
        for a, b in zip(rollouts["serial"], rollouts[name], strict=True):
            np.testing.assert_array_equal(a, b)


def test_ppo_runs_the_same_with_rollout_workers_on_ray_as_serially(tmp_path, ray_session):
    nets = {}
    for name in ("serial", "ray"):
        config = tiny_ppo(rollout_workers=2, backend=name, max_updates=2,
                          run_dir=str(tmp_path / name))  # fmt: skip
        trainer = PPOTrainer(config)
        trainer.run()
        assert trainer.agent_steps == 2 * 2 * 4 * 8  # updates x workers x envs x steps
        nets[name] = trainer.net.state_dict()
    for k, v in nets["serial"].items():
        torch.testing.assert_close(v, nets["ray"][k], rtol=0, atol=0, msg=k)


# ---- faults ------------------------------------------------------------------------------
def check_consistent(samples, stats) -> None:
    # positions of finished games only: those of unfinished ones stay with their worker
    assert len(samples.obs) == len(samples.policy) == len(samples.value) <= stats.positions
    np.testing.assert_allclose(samples.policy.sum(axis=1), 1.0, rtol=1e-5)
    assert np.abs(samples.value).max(initial=0.0) <= 1.0  # outcomes mixed with root values


@pytest.mark.parametrize("backend", ["process", "ray"])
def test_a_killed_worker_is_restarted_and_the_run_goes_on(backend, ray_session):
    config = tiny_az(backend=backend)
    weights = az_weights(config)
    workers = SelfPlayWorkers(config, 2, seed=1)
    try:
        workers.start(weights, 40)  # long enough to be killed mid-job
        time.sleep(0.5)
        if backend == "ray":
            ray_session.kill(workers.pool.actor(0))
        else:
            os.kill(workers.pool.pids()[0], signal.SIGKILL)
        samples, stats = workers.collect()
        assert stats.lost == 1 and workers.pool.restarts == 1
        check_consistent(samples, stats)
        workers.start(weights, 10)  # the restarted worker plays fresh games
        samples, stats = workers.collect()
        assert stats.lost == 0 and stats.games > 0
        check_consistent(samples, stats)
    finally:
        workers.close()


def test_a_job_past_its_timeout_is_lost_and_the_learner_never_waits_forever(ray_session):
    backend = RayBackend(workers=2)
    with backend.worker_pool(toy_factory, 1, job_timeout=1.0) as pool:
        pool.broadcast("w1")
        pool.gather([pool.submit(toy_state)], timeout=60)  # started: no start-up allowance
        slow = pool.submit(toy_state, 30.0)
        (result,) = pool.gather([slow], timeout=20)
        assert result.lost and "timed out" in result.reason and pool.restarts == 1
        quick = pool.submit(toy_state)  # the new incarnation gets the broadcast again
        (result,) = pool.gather([quick], timeout=20)
        assert result.value[:4] == (0, 1, "w1", 1)
    with backend.worker_pool(toy_factory, 1) as pool:
        pool.submit(toy_state, 30.0)
        with pytest.raises(PoolTimeout, match="no job finished within 0.5 s"):
            next(pool.results(timeout=0.5))


@pytest.mark.parametrize("backend", ["serial", "process", "ray"])
def test_a_worker_that_raises_is_named_with_its_exception(backend, ray_session):
    with backend_named(backend, ray_session) as b, b.worker_pool(toy_factory, 2) as pool:
        pool.submit(toy_state, worker=0)
        pool.submit(toy_raise, worker=1)
        with pytest.raises(WorkerError, match=r"worker 1 failed on job 1: ValueError: boom in 1"):
            pool.gather(timeout=60)


# ---- the pool's interface ----------------------------------------------------------------
def test_broadcasts_stream_and_order(ray_session):
    backend = RayBackend(workers=2)
    with backend.worker_pool(toy_factory, 2) as pool:
        pool.broadcast("old")
        pool.broadcast("new")  # a worker loads only the latest, once
        slow = pool.submit(toy_state, 1.5, worker=0)
        fast = pool.submit(toy_state, 0.0, worker=1)
        streamed = [r.ticket for r in pool.results(timeout=30)]
        assert streamed == [fast, slow]  # as they complete
        a, b = pool.gather([pool.submit(toy_state, worker=w) for w in (1, 0)], timeout=30)
        assert (a.worker, a.value[2], a.value[3]) == (1, "new", 1)
        assert (b.worker, b.value[2], b.value[3]) == (0, "new", 1)
        pool.broadcast(1, name="missing")
        pool.submit(toy_state, worker=0)
        with pytest.raises(WorkerError, match="ProbeWorker has no load_missing"):
            pool.gather(timeout=30)


def test_shutdown_leaves_no_processes(ray_session):
    before = children()
    backend = ProcessBackend(workers=2)
    pool = backend.worker_pool(toy_factory, 2)
    pids = pool.pids()
    assert set(pids) <= children() - before
    pool.gather([pool.submit(toy_state, worker=w) for w in (0, 1)], timeout=60)
    pool.close()
    backend.close()
    assert not set(pids) & children() and not any(alive(p) for p in pids)
    ray_backend = RayBackend(workers=2)
    pool = ray_backend.worker_pool(toy_factory, 2)
    pids = pool.pids()
    assert all(alive(p) for p in pids)
    ray_backend.close()  # stops its actors; Ray itself is the fixture's
    deadline = time.time() + 10
    while any(alive(p) for p in pids) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(alive(p) for p in pids)
    assert ray_session.is_initialized()


# ---- bad input ---------------------------------------------------------------------------
def test_bad_input_gives_clear_errors(monkeypatch):
    with pytest.raises(BackendError, match="unknown backend 'gpu'"):
        make_backend("gpu")
    with pytest.raises(BackendError, match="cannot reach the Ray cluster at '127.0.0.1:9'"):
        _check_reachable("127.0.0.1:9", seconds=1.0)
    with pytest.raises(BackendError, match="not host:port"):
        _check_reachable("nowhere")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    with pytest.raises(BackendError, match=r"needs Ray.*pip install 'simarena\[ray\]'"):
        import_ray()
    with pytest.raises(BackendError, match="needs Ray"):
        make_backend("ray")
    monkeypatch.undo()
    serial = SerialBackend()
    with pytest.raises(ValueError, match="count must be an int >= 1"):
        serial.worker_pool(toy_factory, 0)
    with pytest.raises(ValueError, match="job_timeout must be > 0"):
        serial.worker_pool(toy_factory, 1, job_timeout=0)
    pool = serial.worker_pool(toy_factory, 2)
    with pytest.raises(ValueError, match=r"worker must be in 0..1, got 5"):
        pool.submit(toy_state, worker=5)
    with pytest.raises(ValueError, match="broadcast name must be an identifier"):
        pool.broadcast(1, name="no good")
    pool.close()
    with pytest.raises(RuntimeError, match="closed"):
        pool.submit(toy_state)
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        tiny_az(backend="gpu").validate()
    with pytest.raises(ValueError, match="backend 'ray' needs workers >= 1"):
        tiny_az(backend="ray", workers=0).validate()
    with pytest.raises(ValueError, match="backend 'ray' needs rollout_workers >= 1"):
        tiny_ppo(backend="ray").validate()


def test_cli_reports_an_unreachable_cluster_and_writes_no_checkpoint(tmp_path, capsys, monkeypatch):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "train.py"
    spec = importlib.util.spec_from_file_location("train_script", path)
    script = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "train_script", script)
    spec.loader.exec_module(script)
    main = script.main
    run = tmp_path / "run"
    code = main(["alphazero", "--game", "tictactoe", "--blocks", "1", "--channels", "8",
                 "--workers", "1", "--backend", "ray", "--ray-address", "127.0.0.1:9",
                 "--max-iterations", "1", "--run-dir", str(run)])  # fmt: skip
    assert code == 2
    assert "cannot reach the Ray cluster at '127.0.0.1:9'" in capsys.readouterr().err
    assert not (run / "checkpoint.safetensors").exists()

"""AlphaZero: self-play samples, replay with symmetries, the loop, resume, evaluation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.alphazero import checkpoint as ckpt
from agents.alphazero.checkpoint import CHECKPOINT
from agents.alphazero.config import AlphaZeroConfig, SearchConfig
from agents.alphazero.network import NetworkConfig, PolicyValueNet
from agents.alphazero.player import AlphaZeroPlayer
from agents.alphazero.replay import ReplayBuffer
from agents.alphazero.train import Trainer
from agents.alphazero.worker import Samples, SelfPlayWorker
from agents.checkpoint import CheckpointError
from selfplay import BuiltinPlayer, mistake_rate, play_match
from sim.board import make_game


def tiny_config(tmp_path, **overrides) -> AlphaZeroConfig:
    values = dict(
        blocks=1,
        channels=16,
        parallel_games=8,
        steps_per_iteration=10,
        search=SearchConfig(simulations=16, fast_simulations=8, full_search_prob=0.5),
        min_replay=16,
        batch_size=16,
        replay_size=2000,
        sample_reuse=2.0,
        max_iterations=4,
        eval_every_minutes=0,
        threads=1,
        workers=0,
        run_dir=str(tmp_path / "run"),
    )
    values.update(overrides)
    return AlphaZeroConfig(**values)


def test_selfplay_samples_are_consistent(tmp_path):
    search = SearchConfig(simulations=16, full_search_prob=1.0)
    worker = SelfPlayWorker(tiny_config(tmp_path, search=search, value_q_weight=0.0), seed=3)
    samples, stats = worker.play(30)  # long enough for Connect Four games to finish
    game = worker.game
    assert stats.games > 0 and len(samples) > 0
    assert samples.obs.shape[1:] == game.obs_shape
    np.testing.assert_allclose(samples.policy.sum(1), 1.0, atol=1e-5)
    assert set(np.unique(samples.value)) <= {-1.0, 0.0, 1.0}
    # Every full search is a target: finished games' positions plus pending ones.
    pending = sum(len(r) for r in worker.records)
    assert len(samples) + pending == stats.positions == stats.moves
    # A network evaluation per simulation at most (proven/terminal leaves need none).
    assert 0 < stats.evaluations <= stats.moves * (16 + 1)


def test_value_targets_mix_the_outcome_with_the_root_value(tmp_path):
    """value_q_weight w: target = (1 - w) * outcome + w * the search's root value."""
    search = SearchConfig(simulations=16, full_search_prob=1.0)
    targets = {}
    for w in (0.0, 0.5, 1.0):
        worker = SelfPlayWorker(tiny_config(tmp_path, search=search, value_q_weight=w), seed=3)
        samples, stats = worker.play(30)
        assert stats.games > 0
        targets[w] = samples.value.astype(np.float64)
    z, q = targets[0.0], targets[1.0]  # same games: the weight changes no move
    assert set(np.unique(z)) <= {-1.0, 0.0, 1.0} and np.abs(q).max() <= 1.0
    assert not np.array_equal(z, q)
    np.testing.assert_allclose(targets[0.5], (z + q) / 2, atol=1e-6)


def test_selfplay_is_deterministic(tmp_path):
    config = tiny_config(tmp_path)
    runs = [SelfPlayWorker(config, seed=5).play(12)[0] for _ in range(2)]
    np.testing.assert_array_equal(runs[0].obs, runs[1].obs)
    np.testing.assert_array_equal(runs[0].policy, runs[1].policy)
    other = SelfPlayWorker(config, seed=6).play(12)[0]
    assert len(other) != len(runs[0]) or not np.array_equal(other.policy, runs[0].policy)


def test_gumbel_selfplay_targets_are_distributions(tmp_path):
    search = SearchConfig(simulations=8, full_search_prob=1.0, gumbel=True, gumbel_considered=4)
    worker = SelfPlayWorker(tiny_config(tmp_path, search=search), seed=0)
    samples, stats = worker.play(30)
    assert stats.games > 0
    np.testing.assert_allclose(samples.policy.sum(1), 1.0, atol=1e-5)


def test_replay_ring_keeps_the_newest_and_augments_by_symmetry():
    game = make_game("connect4")
    buffer = ReplayBuffer(game, capacity=5)

    def batch(start, n):
        obs = np.zeros((n, *game.obs_shape), np.float32)
        policy = np.zeros((n, game.num_actions), np.float32)
        for i in range(n):
            obs[i, 0, 0, 0] = start + i  # an id in a corner
            policy[i, 0] = 1.0
        return Samples(obs, policy, np.full(n, start, np.float32))

    buffer.add(batch(0, 3))
    buffer.add(batch(10, 4))
    assert len(buffer) == 5 and buffer.added == 7
    ids = sorted(buffer.obs[:, 0, 0, 0].astype(int).tolist())
    assert ids == [2, 10, 11, 12, 13]
    obs, policy, _ = buffer.sample(200, np.random.default_rng(0), augment=True)
    mirrored = obs[:, 0, 0, -1] > 0
    assert 0 < mirrored.sum() < 200  # both the identity and the mirror are drawn
    # The policy moves with the board: column 0's mass goes to column 6 when mirrored.
    assert (policy[mirrored, 6] == 1.0).all() and (policy[~mirrored, 0] == 1.0).all()
    tensors, meta = buffer.state_dict()
    copy = ReplayBuffer(game, capacity=5)
    copy.load_state_dict(tensors, meta)
    # The wrapped ring comes back slot for slot: the same draws sample the same positions.
    for restored in (copy, buffer):
        restored.add(batch(20, 2))
    a = buffer.sample(16, np.random.default_rng(7), augment=False)
    b = copy.sample(16, np.random.default_rng(7), augment=False)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y)
    with pytest.raises(ValueError, match="shape"):
        ReplayBuffer(make_game("tictactoe"), 5).load_state_dict(tensors, meta)


def test_resume_continues_identically(tmp_path):
    straight = Trainer(tiny_config(tmp_path / "a", max_iterations=4))
    straight.run()
    first = Trainer(tiny_config(tmp_path / "b", max_iterations=2))
    first.run()
    assert first.learner.steps > 0  # the resumed half trains from a trained state
    resumed = Trainer.resume(tmp_path / "b" / "run", max_iterations=4)
    resumed.run()
    assert resumed.learner.steps == straight.learner.steps
    for key, value in straight.learner.net.state_dict().items():
        torch.testing.assert_close(resumed.learner.net.state_dict()[key], value, msg=key)
    assert resumed.replay.added == straight.replay.added


def test_a_short_run_lowers_the_loss_and_beats_random(tmp_path):
    torch.manual_seed(0)
    config = tiny_config(
        tmp_path,
        blocks=2,
        channels=32,
        parallel_games=32,
        steps_per_iteration=8,
        search=SearchConfig(simulations=32, fast_simulations=8, full_search_prob=0.5),
        batch_size=64,
        min_replay=128,
        sample_reuse=4.0,
        max_iterations=12,
    )
    trainer = Trainer(config)
    losses = []
    trainer._train = _recording(trainer._train, losses)
    trainer.run()
    assert len(losses) > 20
    early, late = np.mean(losses[:5]), np.mean(losses[-5:])
    assert late < early - 0.1, (early, late)
    game = trainer.game
    player = AlphaZeroPlayer(game, trainer.learner.net, simulations=16)
    result = play_match(game, player, BuiltinPlayer("random", game), games=20, seed=1)
    assert result.interval[0] > 0.5, str(result)


def _recording(train, losses):
    def wrapped(steps):
        metrics = train(steps)
        losses.extend(m["loss"] for m in metrics)
        return metrics

    return wrapped


def test_checkpoint_errors_name_the_problem_and_overwrite_nothing(tmp_path):
    trainer = Trainer(tiny_config(tmp_path, max_iterations=1))
    trainer.run()
    path = tmp_path / "run" / CHECKPOINT
    net, config, _ = ckpt.load_network(path, game="connect4")
    assert config.game == "connect4" and net.config.num_actions == 7
    with pytest.raises(CheckpointError, match="connect4 network; it cannot play othello"):
        ckpt.load_network(path, game="othello")
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = broken.read_bytes()
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        Trainer.resume(broken)
    assert broken.read_bytes() == before
    with pytest.raises(CheckpointError, match="no checkpoint"):
        Trainer.resume(tmp_path / "nowhere")
    game = make_game("othello", size=6)
    with pytest.raises(ValueError, match="built for observations"):
        AlphaZeroPlayer(game, net)


def test_batched_player_in_matches_and_mistake_benchmark(shared_dir):
    game = make_game("connect4")
    net = PolicyValueNet(NetworkConfig(game.obs_shape, game.num_actions, 1, 8))
    player = AlphaZeroPlayer(game, net, simulations=8)
    first = play_match(game, player, BuiltinPlayer("greedy", game), games=6, seed=4)
    again = play_match(game, player, BuiltinPlayer("greedy", game), games=6, seed=4)
    assert [r.actions for r in first.records] == [r.actions for r in again.records]
    assert first.wins + first.draws + first.losses == 6
    path = shared_dir / "data" / "connect4" / "Test_L3_R1"
    batched = mistake_rate(player, path, limit=30)
    one_by_one = mistake_rate(_Unbatched(player), path, limit=30)
    assert batched.positions == 30 and batched.mistakes == one_by_one.mistakes


class _Unbatched:
    """The same player without act_batch (asked position by position)."""

    def __init__(self, player):
        self.player, self.name = player, player.name

    def act(self, state, rng):
        return self.player.act(state, rng)


def test_config_rejects_impossible_settings(tmp_path):
    with pytest.raises(ValueError, match="replay_size must be >= batch_size"):
        Trainer(tiny_config(tmp_path, replay_size=8, batch_size=32, min_replay=4))
    with pytest.raises(ValueError, match="unknown game"):
        Trainer(tiny_config(tmp_path, game="shogi"))
    with pytest.raises(ValueError, match="unknown AlphaZero config fields"):
        AlphaZeroConfig.from_json({"gmae": "connect4"})


def test_worker_processes_feed_the_learner(tmp_path):
    trainer = Trainer(tiny_config(tmp_path, workers=1, max_iterations=3))
    summary = trainer.run()
    assert summary["selfplay"]["games"] > 0 and trainer.learner.steps > 0


def test_ctrl_c_stops_after_the_iteration_and_saves_a_resumable_run(tmp_path):
    import os
    import signal
    import threading

    trainer = Trainer(tiny_config(tmp_path, max_iterations=10_000, minutes=5))
    timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        summary = trainer.run()
    finally:
        timer.cancel()
    assert summary["interrupted"] and 0 < summary["iterations"] < 10_000
    resumed = Trainer.resume(tmp_path / "run", max_iterations=summary["iterations"] + 1)
    assert resumed.iteration == summary["iterations"]
    assert resumed.replay.added == trainer.replay.added
    resumed.run()
    assert resumed.iteration == summary["iterations"] + 1


def test_resume_from_a_network_file_is_refused(tmp_path):
    trainer = Trainer(tiny_config(tmp_path, max_iterations=1, eval_every_minutes=0))
    trainer.run()
    trainer.save(tmp_path / "whole.safetensors")
    from agents.checkpoint import module_tensors, save_checkpoint

    net_only = save_checkpoint(
        tmp_path / "net.safetensors",
        module_tensors("net", trainer.learner.net),
        {"agent": "alphazero", "config": trainer.config.to_json(),
         "network": trainer.net_config.to_json()},
    )  # fmt: skip
    with pytest.raises(CheckpointError, match="holds a network only"):
        Trainer.resume(net_only)
    assert Trainer.resume(tmp_path / "whole.safetensors").iteration == 1

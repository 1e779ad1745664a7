"""Checkpoints: round trip of everything a run needs, atomic writes, clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.alphazero.network import NetworkConfig, PolicyValueNet
from agents.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_module,
    load_optimizer,
    module_tensors,
    optimizer_state,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from sim.board import make_game


def tiny_net(game="connect4", **kw) -> PolicyValueNet:
    g = make_game(game, **kw)
    return PolicyValueNet(NetworkConfig(g.obs_shape, g.num_actions, blocks=1, channels=8))


def train_a_step(net, opt):
    obs = torch.rand(4, *net.config.obs_shape)
    logits, value = net(obs)
    loss = logits.logsumexp(-1).mean() + value.pow(2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()


def save_run(path, net, opt, gen, step):
    tensors = module_tensors("net", net)
    opt_tensors, opt_meta = optimizer_state("opt", opt)
    rng_tensors, rng_meta = rng_state(gen)
    meta = {"step": step, "net": net.config.to_json(), "opt": opt_meta, "rng": rng_meta}
    return save_checkpoint(path, {**tensors, **opt_tensors, **rng_tensors}, meta)


def test_round_trip_resumes_identically(tmp_path):
    torch.manual_seed(0)
    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = np.random.default_rng(5)
    train_a_step(net, opt)
    path = save_run(tmp_path / "ckpt.safetensors", net, opt, gen, step=1)

    # Continue the original run...
    train_a_step(net, opt)
    expected = {k: v.clone() for k, v in net.state_dict().items()}
    expected_draw = gen.random()

    # ...and a run resumed from the checkpoint: same weights and draws after one step.
    tensors, meta = load_checkpoint(path)
    net2 = PolicyValueNet(NetworkConfig.from_json(meta["net"]))
    opt2 = torch.optim.Adam(net2.parameters(), lr=1e-3)
    load_module("net", net2, tensors)
    load_optimizer("opt", opt2, tensors, meta["opt"])
    gen2 = np.random.default_rng(0)
    restore_rng(tensors, meta["rng"], gen2)
    assert meta["step"] == 1
    train_a_step(net2, opt2)
    for k, v in net2.state_dict().items():
        assert torch.equal(v, expected[k]), k
    assert gen2.random() == expected_draw


def test_missing_corrupt_truncated_and_wrong_architecture(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "nope.safetensors")
    net = tiny_net()
    path = save_checkpoint(tmp_path / "a.safetensors", module_tensors("net", net), {"k": 1})
    data = path.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="corrupt or truncated"):
        load_checkpoint(tmp_path / "trunc.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(CheckpointError):
        load_checkpoint(tmp_path / "junk.safetensors")
    tensors, _ = load_checkpoint(path)
    with pytest.raises(CheckpointError, match="does not fit"):
        load_module("net", tiny_net("othello", size=6), tensors)


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "run.safetensors"
    save_checkpoint(path, {"x": torch.zeros(3)}, {"v": 1})

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("agents.checkpoint.save_file", boom)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, {"x": torch.ones(3)}, {"v": 2})
    tensors, meta = load_checkpoint(path)
    assert meta["v"] == 1 and torch.equal(tensors["x"], torch.zeros(3))
    assert [p.name for p in tmp_path.iterdir()] == ["run.safetensors"]  # no temp file left

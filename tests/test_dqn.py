"""DQN: it learns a MinAtar game, resumes bit-identically, SB3 trains on our envs, and
bad settings or checkpoints get clear errors."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
import torch

import envs  # noqa: F401 - registers simarena/ ids
from agents.checkpoint import CheckpointError
from agents.dqn.cli import DQNArgs, train_dqn
from agents.dqn.config import DQNConfig, resolve
from agents.dqn.evaluation import evaluate
from agents.dqn.network import QNetwork
from agents.dqn.train import Trainer, load_q_network


def tiny(tmp_path, **kw) -> DQNConfig:
    base = dict(
        env="minatar:breakout",
        total_steps=1000,
        learning_starts=200,
        exploration_steps=500,
        eps_end=0.05,
        target_update=200,
        lr=1e-3,
        buffer_size=5000,
        eval_every=0,
        eval_episodes=0,
        checkpoint_every=10**9,
        progress=False,
        run_dir=str(tmp_path / "run"),
    )
    return DQNConfig(**{**base, **kw})


def test_tiny_dqn_beats_random_on_minatar_breakout(tmp_path):
    c = tiny(tmp_path, total_steps=5000, buffer_size=20000, exploration_steps=2500)
    trainer = Trainer(c)
    summary = trainer.run()
    assert summary["steps"] == 5000 and summary["updates"] == 4801  # steps 200..5000
    learned = evaluate(trainer.q, c.env, None, 10, seed=99, epsilon=0.05)
    random = evaluate(trainer.q, c.env, None, 10, seed=99, epsilon=1.0)
    assert learned["protocol"] == "minatar"
    assert learned["mean"] >= 2.0 and learned["mean"] > random["mean"] + 1.0, (
        learned["mean"],
        random["mean"],
    )


def test_a_run_stopped_by_its_wall_budget_is_evaluated(tmp_path):
    # The Breakout protocol (scores after 10, 120, 240 minutes): stop by the clock, then
    # evaluate; a run stopped at an agent-step mark (stop_at) is not evaluated.
    c = tiny(tmp_path, total_steps=10**6, minutes=1e-4, eval_episodes=2)
    summary = Trainer(c).run()
    assert 0 < summary["steps"] < 10**6
    assert summary["eval"]["episodes"] == 2 and summary["eval"]["step"] == summary["steps"]
    assert (tmp_path / "run" / "eval.jsonl").read_text().count("\n") == 1
    again = tiny(tmp_path, eval_episodes=2, run_dir=str(tmp_path / "run2"))
    assert Trainer(again).run(stop_at=300)["eval"] is None


def state_of(trainer: Trainer) -> dict[str, np.ndarray]:
    out = {f"q/{k}": v.numpy().copy() for k, v in trainer.q.state_dict().items()}
    out |= {f"t/{k}": v.numpy().copy() for k, v in trainer.target.state_dict().items()}
    for i, s in trainer.opt.state_dict()["state"].items():
        out |= {f"opt/{i}/{k}": np.asarray(v).copy() for k, v in s.items()}
    arrays, _ = trainer.replay.state()
    out |= {f"replay/{k}": v.copy() for k, v in arrays.items() if k != "frames"}
    written = min(int(trainer.replay.head[0]), trainer.replay.slots)  # one env
    out["frames"] = trainer.replay.frames[:written].copy()
    out["obs"] = trainer.obs.copy()
    out["rng"] = np.asarray(trainer.rng.integers(1 << 62, size=4))
    return out


@pytest.mark.parametrize("prioritized", [False, True])
def test_resume_is_bit_identical(tmp_path, prioritized):
    torch.set_num_threads(1)
    kw = dict(total_steps=900, prioritized=prioritized, save_replay=True, n_step=3)
    straight = Trainer(tiny(tmp_path / "a", **kw))
    straight.run()
    first = Trainer(tiny(tmp_path / "b", **kw))
    first.run(stop_at=500)
    assert first.step == 500
    resumed = Trainer.resume(tmp_path / "b" / "run")
    assert resumed.step == 500 and resumed.started
    resumed.run()
    assert resumed.step == straight.step == 900
    assert resumed.updates == straight.updates and resumed.episodes == straight.episodes
    a, b = state_of(straight), state_of(resumed)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_sb3_dqn_trains_on_our_minatar_env():
    from stable_baselines3 import DQN

    env = gymnasium.make("simarena/MinAtar-Breakout-v0")
    model = DQN("MlpPolicy", env, learning_starts=100, buffer_size=1000, seed=0, device="cpu")
    model.learn(total_timesteps=300)
    obs, _ = env.reset(seed=0)
    assert env.action_space.contains(int(model.predict(obs, deterministic=True)[0]))


def test_network_shapes():
    for arch, shape, n in (("nature", (4, 84, 84), 18), ("minatar", (10, 10, 10), 6)):
        for dueling in (False, True):
            q = QNetwork(shape, n, arch, dueling)
            assert q(torch.zeros((3, *shape), dtype=torch.uint8)).shape == (3, n)


def test_bad_settings_and_checkpoints(tmp_path, capsys):
    with pytest.raises(ValueError, match="total_steps must be >= 1"):
        resolve(DQNConfig(total_steps=0))
    with pytest.raises(ValueError, match=r"unknown game id .*available: .*minatar:breakout"):
        resolve(DQNConfig(env="minatar:tetris"))
    with pytest.raises(ValueError, match="does not apply"):
        Trainer(tiny(tmp_path, protocol="nature"))
    assert train_dqn(DQNArgs(env="ALE/NoSuchGame-v5", progress=False)) == 2
    assert "unknown game id" in capsys.readouterr().err
    trainer = Trainer(tiny(tmp_path, total_steps=300))
    trainer.run()
    path = tmp_path / "run"
    q, meta = load_q_network(path, env="minatar:breakout")
    assert meta["protocol"]["name"] == "minatar"
    with pytest.raises(
        CheckpointError, match=r"observations \(4, 10, 10\) with 6 actions.*\(10, 10, 10\)"
    ):
        load_q_network(path, env="minatar:seaquest")
    other = Trainer(tiny(tmp_path / "o", env="minatar:seaquest"))
    with pytest.raises(CheckpointError, match="minatar:seaquest"):
        other.check_fits({"obs_shape": [4, 10, 10], "num_actions": 6})
    (path / "checkpoint.safetensors").write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="not a readable"):
        Trainer.resume(path)
    assert train_dqn(DQNArgs(resume=str(path), progress=False)) == 2


needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")


@pytest.mark.parametrize(
    ("arch", "shape", "dueling", "double", "weighted"),
    [
        ("minatar", (4, 10, 10), False, False, False),
        ("minatar", (4, 10, 10), True, True, True),
        ("nature", (4, 84, 84), True, False, False),
    ],
)
@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=needs_cuda)])
def test_hand_written_step_matches_autograd(
    arch, shape, dueling, double, weighted, device, monkeypatch
):
    """The Learner's forward, backward, clipping and Adam equal the autograd version
    (on a GPU too, where there is one)."""
    import copy

    import torch.nn.functional as F

    from agents.dqn.learner import Learner

    torch.manual_seed(0)
    if device == "cuda":  # full fp32 on both sides: TF32 would differ between the two
        monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
        monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    scale = 255.0 if arch == "nature" else 1.0
    high = 256 if arch == "nature" else 2
    q = QNetwork(shape, 6, arch, dueling, scale).to(device)
    target = copy.deepcopy(q).requires_grad_(False)
    with torch.no_grad():
        for p in target.parameters():
            p.add_(0.01 * torch.randn_like(p))
    ref_q = copy.deepcopy(q)
    opt = torch.optim.Adam(q.parameters(), lr=1e-3, eps=1e-4, fused=True)
    ref_opt = torch.optim.Adam(ref_q.parameters(), lr=1e-3, eps=1e-4, fused=True)
    learner = Learner(q, target, opt, double, max_grad_norm=0.5)
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        obs = torch.randint(0, high, (8, *shape), generator=g, dtype=torch.uint8)
        nxt = torch.randint(0, high, (8, *shape), generator=g, dtype=torch.uint8)
        actions = torch.randint(0, 6, (8,), generator=g)
        returns = torch.randn(8, generator=g)
        discounts = torch.rand(8, generator=g)
        weights = torch.rand(8, generator=g) if weighted else None
        obs, nxt, actions, returns, discounts = (
            t.to(device) for t in (obs, nxt, actions, returns, discounts)
        )
        weights = weights.to(device) if weighted else None
        with torch.no_grad():
            td = learner.step(obs, actions, returns, discounts, nxt, weights)
        # The autograd reference, as the Trainer computed it before.
        qa = ref_q(obs).gather(1, actions[:, None]).squeeze(1)
        with torch.no_grad():
            tq = target(nxt)
            if double:
                boot = tq.gather(1, ref_q(nxt).argmax(1, keepdim=True)).squeeze(1)
            else:
                boot = tq.max(1).values
            y = returns + discounts * boot
        loss = F.huber_loss(qa, y, reduction="none")
        loss = (loss * weights if weighted else loss).mean()
        ref_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ref_q.parameters(), 0.5)
        ref_opt.step()
        torch.testing.assert_close(td, (y - qa).detach(), rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(learner.loss(), loss.detach(), rtol=1e-5, atol=1e-6)
        for (name, a), b in zip(q.named_parameters(), ref_q.parameters(), strict=True):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_resume_moves_to_a_device_only_when_it_is_typed(monkeypatch):
    """A run trained on a GPU can go on on a CPU: --device typed with --resume wins,
    the saved device stays otherwise."""
    from agents.cli import given_flags
    from agents.dqn import train

    seen = []

    def fake_resume(path, **overrides):
        seen.append(overrides)
        raise CheckpointError("stop here")

    monkeypatch.setattr(train.Trainer, "resume", staticmethod(fake_resume))
    args = DQNArgs(resume="somewhere", device="cpu")
    assert train_dqn(args, given={"resume", "device"}) == 2
    assert train_dqn(args, given={"resume"}) == 2
    assert seen[0]["device"] == "cpu" and "device" not in seen[1]
    # --save-replay too: untyped, a run that saved its replay keeps saving it
    assert "save_replay" not in seen[1]
    assert train_dqn(DQNArgs(resume="x", save_replay=False), given={"resume", "save_replay"}) == 2
    assert seen[2]["save_replay"] is False
    given = given_flags(["--resume", "x", "--no-save-replay"])
    assert train_dqn(DQNArgs(resume="x", save_replay=False), given=given) == 2
    assert seen[3]["save_replay"] is False

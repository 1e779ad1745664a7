"""PPO: masked sampling, GAE, the entity encoder's symmetry, learning, resume, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.checkpoint import CheckpointError, module_tensors, save_checkpoint
from agents.ppo import checkpoint as ckpt
from agents.ppo.actor import Actor, to_tensors
from agents.ppo.arena import ArenaSource, arena_spec, hero_obs, play_games
from agents.ppo.config import PPOConfig
from agents.ppo.distributions import MaskedMultiCategorical
from agents.ppo.gae import compute_gae
from agents.ppo.gym_source import GymSource
from agents.ppo.network import build_policy
from agents.ppo.train import Trainer, save_policy
from selfplay import match_result
from sim.arena import ArenaBatch, ArenaConfig, Observer, ScriptedTeams

TINY_ARENA = dict(time_limit=100, map_size=24, creeps=False)


def arena_observation(team_size: int = 3, ticks: int = 40, seed: int = 0):
    """Observations of both teams' heroes after some scripted play (targets in range)."""
    config = ArenaConfig(team_sizes=(team_size, team_size), time_limit=500, map_size=24)
    batch = ArenaBatch(2, config, seed=seed)
    observer = Observer(2, config.map_size)
    teams = ScriptedTeams(batch, ("hard", "hard"))
    actions = batch.noop_actions()
    for _ in range(ticks):
        teams.act(actions)
        batch.step(actions, check=False)
    observer.compute(batch)
    arenas = np.repeat(np.arange(2), 2 * team_size)
    heroes = np.tile(np.r_[np.arange(team_size), 5 + np.arange(team_size)], 2)
    roles = batch.roles[heroes // 5, heroes % 5]
    return hero_obs(observer, arenas, heroes, roles)


def test_masked_actions_are_never_sampled():
    gen = torch.Generator().manual_seed(0)
    n, nvec = 512, (5, 7)
    masks = [torch.rand(n, k, generator=gen) < 0.4 for k in nvec]
    for m in masks:
        m[:, 0] |= ~m.any(dim=1)  # every row allows something
    logits = [torch.randn(n, k, generator=gen) * 5 for k in nvec]
    dist = MaskedMultiCategorical(logits, masks)
    for _ in range(20):
        a = dist.sample(gen)
        for part, m in enumerate(masks):
            assert m.gather(1, a[:, part : part + 1]).all()
    assert torch.isfinite(dist.entropy()).all() and torch.isfinite(dist.log_prob(a)).all()
    for p, m in zip(dist.probs(), masks, strict=True):
        assert (p[~m] == 0).all()
    bad = [torch.zeros(1, 3, dtype=torch.bool)]
    with pytest.raises(ValueError, match="allows no action"):
        MaskedMultiCategorical([torch.zeros(1, 3)], bad)


@pytest.mark.parametrize("fused", [False, True])
def test_policy_samples_only_legal_arena_actions(fused):
    obs = arena_observation()
    spec = arena_spec(attention_layers=0) if fused else arena_spec(attention_layers=1, gru=True)
    net = build_policy(spec)
    actor = Actor(net, generator=torch.Generator().manual_seed(1))
    assert (actor.fused is not None) == fused
    n = len(obs["hero"])
    state = actor.initial_state(n)
    mask = obs["action_mask"].astype(bool)
    offsets = np.cumsum([0, 9, 33])
    assert mask[:, offsets[1] + 1 :].any()  # some targets are in range
    for _ in range(30):
        step = actor.step(obs, state, np.ones(n, np.float32), team=3)
        for part in range(3):
            assert mask[np.arange(n), offsets[part] + step.actions[:, part]].all()


def test_fused_acting_matches_the_module_path():
    base = arena_observation()
    n = len(base["hero"])
    base["self_index"] = np.arange(n) % 3  # not always slot 0
    big = {k: np.concatenate([v] * 9) for k, v in base.items()}  # 162 rows: > one chunk
    flags = {**base, "entity_mask": base["entity_mask"] != 0,
             "action_mask": base["action_mask"] != 0}  # fmt: skip
    unmasked = {k: v for k, v in base.items() if k != "action_mask"}
    torch.manual_seed(0)
    net = build_policy(arena_spec(attention_layers=0))
    with torch.no_grad():  # move the heads off their near-zero initialisation
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    fast = Actor(net, generator=torch.Generator().manual_seed(3))
    slow = Actor(net, generator=torch.Generator().manual_seed(3))
    slow.fused = None
    assert fast.fused is not None

    def agree(greedy: bool = False) -> None:
        fast.greedy = slow.greedy = greedy
        for obs in (base, big, flags, unmasked):
            m = len(obs["hero"])
            a, b = (x.step(obs, x.initial_state(m), np.ones(m), 3) for x in (fast, slow))
            np.testing.assert_array_equal(a.actions, b.actions)
            np.testing.assert_array_equal(a.log_probs, b.log_probs)  # bit for bit
            np.testing.assert_array_equal(a.values, b.values)

    agree()
    agree(greedy=True)
    # new weights however they come: an optimizer step (fused Adam bumps no version
    # counter), load_state_dict in place or by assignment, a parameter's data replaced
    optimizer = torch.optim.Adam(net.parameters(), lr=0.05, fused=True)
    sum((p * p).sum() for p in net.parameters()).backward()
    optimizer.step()
    agree()
    net.load_state_dict(build_policy(arena_spec(attention_layers=0)).state_dict())
    agree()
    net.load_state_dict(build_policy(arena_spec(attention_layers=0)).state_dict(), assign=True)
    agree()
    net.core[0].weight.data = net.core[0].weight.data * 2.0
    agree()
    with pytest.raises(ValueError, match="team size limit"):
        fast.step({**base, "hero": np.full(n, 7)}, fast.initial_state(n), np.ones(n), 3)
    for x in (fast, slow):  # a negative id is no more valid than in nn.Embedding
        with pytest.raises(IndexError):
            x.step({**base, "role": np.full(n, -1)}, x.initial_state(n), np.ones(n), 3)
    blocked = base["action_mask"].copy()
    blocked[1, 9:42] = 0
    with pytest.raises(ValueError, match="part 1: a mask row allows no action"):
        fast.step({**base, "action_mask": blocked}, fast.initial_state(n), np.ones(n), 3)
    for spec in (arena_spec(attention_layers=1), arena_spec(attention_layers=0, gru=True),
                 arena_spec(attention_layers=0, central_critic=True)):  # fmt: skip
        assert Actor(build_policy(spec)).fused is None  # the module path acts for them


def test_gae_matches_a_hand_computation():
    g, lam = 0.9, 0.8
    r = torch.tensor([[1.0], [2.0], [3.0]])
    v = torch.tensor([[0.5], [1.0], [1.5]])
    starts = torch.tensor([[1.0], [0.0], [1.0]])  # step 2 begins a new episode
    last_v, last_start = torch.tensor([2.0]), torch.tensor([0.0])
    adv, ret = compute_gae(r, v, starts, last_v, last_start, g, lam)
    d2 = 3 + g * 2.0 - 1.5
    d1 = 2 - 1.0  # its episode ended: no bootstrap
    d0 = 1 + g * 1.0 - 0.5
    want = torch.tensor([[d0 + g * lam * d1], [d1], [d2]])
    torch.testing.assert_close(adv, want)
    torch.testing.assert_close(ret, want + v)


@pytest.mark.parametrize("attention", [0, 1])
def test_same_distribution_under_slot_permutation(attention):
    torch.manual_seed(0)
    obs = arena_observation()
    net = build_policy(arena_spec(attention_layers=attention, central_critic=True)).eval()
    n, slots = obs["entities"].shape[:2]
    perm = np.random.default_rng(0).permutation(slots)  # new slot j holds old slot perm[j]
    moved = dict(obs)
    moved["entities"] = obs["entities"][:, perm]
    moved["entity_mask"] = obs["entity_mask"][:, perm]
    moved["self_index"] = np.full(n, int(np.flatnonzero(perm == 0)[0]))
    mask = obs["action_mask"]
    parts = np.split(mask, [9, 42], axis=1)
    moved["action_mask"] = np.concatenate(
        [parts[0]] + [np.concatenate([p[:, :1], p[:, 1:][:, perm]], axis=1) for p in parts[1:]],
        axis=1,
    )
    with torch.no_grad():
        out = [net(to_tensors(o), net.initial_state(n), torch.ones(n), 3) for o in (obs, moved)]
    (la, va, _), (lb, vb, _) = out
    torch.testing.assert_close(va, vb, atol=1e-5, rtol=1e-5)
    from agents.ppo.actor import distribution

    pa = distribution(net, la, to_tensors(obs)).probs()
    pb = distribution(net, lb, to_tensors(moved)).probs()
    torch.testing.assert_close(pa[0], pb[0], atol=1e-6, rtol=1e-5)
    for part in (1, 2):
        torch.testing.assert_close(pa[part][:, 0], pb[part][:, 0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(pa[part][:, 1:][:, perm], pb[part][:, 1:], atol=1e-6, rtol=1e-5)


def tiny_config(tmp_path, **overrides) -> PPOConfig:
    values = dict(
        env="fogarena", team_sizes=(1,), num_envs=16, num_steps=64, hidden=64, embed=32,
        selfplay=False, scripted_levels=("random",), lr=1e-3, gamma=0.99,
        reward_weights={"death": 0.0}, eval_every_minutes=0, threads=1, minutes=10,
        run_dir=str(tmp_path / "run"), **TINY_ARENA,
    )  # fmt: skip
    values.update(overrides)
    return PPOConfig(**values)


def test_tiny_run_beats_the_random_team(tmp_path):
    config = tiny_config(tmp_path, total_steps=80 * 1024)
    trainer = Trainer(config)
    trainer.run()
    actor = Actor(trainer.net, "ppo", generator=torch.Generator().manual_seed(0))
    winners, seats = play_games(actor, "random", 40, seed=123, team_size=1, **TINY_ARENA)
    result = match_result("ppo", "random", winners, seats)
    assert result.interval[0] > 0.5, str(result)
    # the untrained policy does not: the run learned it
    fresh = Actor(build_policy(trainer.spec), "fresh", generator=torch.Generator().manual_seed(0))
    w0, s0 = play_games(fresh, "random", 40, seed=123, team_size=1, **TINY_ARENA)
    assert match_result("fresh", "random", w0, s0).score < result.score


def selfplay_config(tmp_path, **overrides) -> PPOConfig:
    values = dict(
        team_sizes=(2, 1), num_envs=4, num_steps=16, selfplay=True, scripted_fraction=0.5,
        scripted_levels=("random", "easy"), snapshot_every=1, gru=True, central_critic=True,
        total_steps=4 * 16 * 12,
    )  # fmt: skip
    values.update(overrides)
    return tiny_config(tmp_path, **values)


def test_resume_is_exact(tmp_path):
    whole = Trainer(selfplay_config(tmp_path / "a"))
    whole.run()
    first = Trainer(selfplay_config(tmp_path / "b", max_updates=2))
    first.run()
    second = Trainer.resume(first.run_dir, max_updates=0)
    assert second.update == 2 and len(second.pool) == 3
    second.run()
    assert second.update == whole.update == 4
    for (k, a), b in zip(whole.net.state_dict().items(), second.net.state_dict().values(),
                         strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    assert whole.pool.to_dict() == second.pool.to_dict()
    assert whole.agent_steps == second.agent_steps
    for sa, sb in zip(whole.sources, second.sources, strict=True):
        assert sa.batch.state_hash() == sb.batch.state_hash()


def test_pool_and_ratings_survive_resume(tmp_path):
    config = selfplay_config(tmp_path, max_updates=1, eval_games=2, eval_levels=("random", "easy"),
                             calibration_games=2, gru=False)  # fmt: skip
    trainer = Trainer(config)
    trainer.iterate()
    out = trainer.evaluate()
    assert set(out["matches"]) == {"random", "easy"} and "ordinal" in out["rating"]
    trainer.save()
    back = Trainer.resume(trainer.run_dir)
    assert back.ratings.to_dict() == trainer.ratings.to_dict()
    assert back.pool.to_dict() == trainer.pool.to_dict()
    assert back.history == trainer.history
    net, spec, meta = ckpt.load_policy(tmp_path / "run" / "networks" / f"{out['name']}.safetensors")
    assert spec == trainer.spec and meta["evaluation"]["name"] == out["name"]


def test_gymnasium_envs(tmp_path):
    arena = GymSource("simarena/FogArena-v0", 2, env_options={"team_size": 2, "time_limit": 20,
                                                              "opponent": "easy"})  # fmt: skip
    assert arena.mode == "arena" and arena.num_agents == 4
    assert arena.spec().layout() == arena_spec().layout()  # one policy plays both
    config = PPOConfig(env="simarena/FogArena-v0", env_options={"team_size": "2",
                       "time_limit": "20"}, num_envs=2, num_steps=16, max_updates=2,
                       hidden=32, embed=16, run_dir=str(tmp_path / "g"), threads=1)  # fmt: skip
    trainer = Trainer(config)
    trainer.run()
    assert trainer.agent_steps == 2 * 16 * 4
    cart = Trainer(PPOConfig(env="CartPole-v1", num_envs=2, num_steps=32, max_updates=2,
                             run_dir=str(tmp_path / "c"), threads=1))  # fmt: skip
    cart.run()
    assert cart.spec.kind == "mlp" and cart.agent_steps == 128
    # a uint8 (C, H, W) observation is an image: a CNN policy, stored as uint8
    pixels = Trainer(PPOConfig(env="simarena/MinAtar-Breakout-v0", num_envs=2, num_steps=16,
                               max_updates=2, hidden=32, run_dir=str(tmp_path / "m"),
                               threads=1))  # fmt: skip
    pixels.run()
    assert pixels.spec.kind == "cnn" and pixels.spec.image_shape[1:] == (10, 10)
    assert pixels.spec.image_scale == 1.0 and pixels.agent_steps == 64
    net, spec, _ = ckpt.load_policy(tmp_path / "m")
    assert spec == pixels.spec


def test_bad_inputs(tmp_path):
    cart = Trainer(PPOConfig(env="CartPole-v1", num_envs=1, num_steps=8, max_updates=1,
                             run_dir=str(tmp_path / "c"), threads=1))  # fmt: skip
    path = save_policy(tmp_path / "cart.safetensors", cart.net, cart.spec, cart.config, {})
    with pytest.raises(CheckpointError, match="another env or observation layout"):
        ckpt.load_policy(path, expected=arena_spec())
    with pytest.raises(CheckpointError, match="policy file"):
        Trainer.resume(path)
    other = save_checkpoint(tmp_path / "az.safetensors", module_tensors("net", cart.net),
                            {"agent": "alphazero"})  # fmt: skip
    with pytest.raises(CheckpointError, match="not 'ppo'"):
        ckpt.load_policy(other)
    with pytest.raises(ValueError, match="max_team"):
        PPOConfig(team_sizes=(3,), max_team=2).validate()
    small = Actor(build_policy(arena_spec(max_team=2)))
    with pytest.raises(ValueError, match="cannot play a team of 3"):
        play_games(small, "random", 2, 0, team_size=3, **TINY_ARENA)
    with pytest.raises(ValueError, match="Discrete and MultiDiscrete"):
        GymSource("Pendulum-v1", 1)
    with pytest.raises(ValueError, match="scripted level"):
        PPOConfig(scripted_levels=("expert",)).validate()
    with pytest.raises(ValueError, match="unknown reward components"):
        ArenaSource(1, 1, lambda rng: "random", reward_weights={"gold": 1.0})
    with pytest.raises(ValueError, match="unknown scripted level"):
        play_games("random", "expert", 2, 0)


def test_exploiter_trains_against_a_main_league(tmp_path):
    main = Trainer(selfplay_config(tmp_path / "main", max_updates=2, gru=False))
    main.run()
    config = selfplay_config(
        tmp_path / "x",
        max_updates=1,
        gru=False,
        scripted_fraction=0.0,
        league_role="main_exploiter",
        league_from=str(main.run_dir),
    )
    exploiter = Trainer(config)  # fmt: skip
    roles = [s.role for s in exploiter.pool.snapshots.values()]
    assert roles.count("main") == len(main.pool) and roles[-1] == "main_exploiter"
    picked = {exploiter._pick_opponent(np.random.default_rng(i)) for i in range(50)}
    mains = {f"policy:{s.id}" for s in exploiter.pool.snapshots.values() if s.role == "main"}
    assert picked <= mains  # never itself, never "latest"
    exploiter.run()
    with pytest.raises(ValueError, match="league_from"):
        PPOConfig(league_role="main_exploiter").validate()


def board_config(tmp_path, **overrides) -> PPOConfig:
    values = dict(
        env="board:connect4", num_envs=8, num_steps=16, hidden=32, selfplay=True,
        scripted_fraction=0.5, snapshot_every=1, eval_every_minutes=0, threads=1,
        run_dir=str(tmp_path / "run"), total_steps=4 * 8 * 16, eval_games=4,
        calibration_games=4,
    )  # fmt: skip
    values.update(overrides)
    return PPOConfig(**values)


def test_connect4_policy_meets_alphazero_in_the_round_robin(tmp_path, capsys):
    import json

    from agents.alphazero.config import AlphaZeroConfig
    from agents.alphazero.train import Trainer as AZTrainer
    from agents.ppo.cli import EvalArgs, evaluate_ppo

    ppo = Trainer(board_config(tmp_path, total_steps=8 * 16))
    ppo.run()
    az = AZTrainer(AlphaZeroConfig(blocks=1, channels=8, workers=0), run_dir=tmp_path / "az")
    az.save()
    args = EvalArgs(checkpoints=[str(ppo.run_dir)], bots=["greedy"], alphazero=[str(az.run_dir)],
                    az_simulations=8, games=2, threads=1, json=True)  # fmt: skip
    assert evaluate_ppo(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    pairs = {frozenset((m["player"], m["opponent"])) for m in out["matches"]}
    assert frozenset(("run", "alphazero(8)-az")) in pairs
    assert frozenset(("greedy", "alphazero(8)-az")) in pairs
    with pytest.raises(ValueError, match="need a board game"):
        evaluate_ppo(EvalArgs(bots=["easy", "medium"], alphazero=[str(az.run_dir)]))


def test_gauntlet_plays_only_the_first_checkpoints_pairs(tmp_path, capsys):
    import json

    from agents.ppo.cli import EvalArgs, evaluate_ppo

    ppo = Trainer(board_config(tmp_path, total_steps=8 * 16))
    ppo.run()
    run = str(ppo.run_dir)
    args = EvalArgs(checkpoints=[run, run], bots=["random", "greedy"], games=2, threads=1,
                    gauntlet=True, json=True)  # fmt: skip
    assert evaluate_ppo(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    pairs = {frozenset((m["player"], m["opponent"])) for m in out["matches"]}
    played = {p for p in pairs if p != frozenset(("random", "greedy"))}  # the calibration
    assert played == {frozenset(("run", other)) for other in ("run#1", "random", "greedy")}
    with pytest.raises(ValueError, match="--gauntlet needs a checkpoint"):
        evaluate_ppo(EvalArgs(bots=["easy", "medium"], gauntlet=True))


def test_connect4_selfplay_and_resume(tmp_path):
    whole = Trainer(board_config(tmp_path / "a"))
    whole.run()
    assert whole.spec.kind == "mlp" and len(whole.pool) == 5
    assert {"random", "greedy", "policy:latest"} & set(whole.episodes)
    first = Trainer(board_config(tmp_path / "b", max_updates=2))
    first.run()
    second = Trainer.resume(first.run_dir, max_updates=0)
    second.run()
    for a, b in zip(whole.net.state_dict().values(), second.net.state_dict().values(),
                    strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    out = second.evaluate()  # the existing match runner, Wilson interval, ratings
    assert set(out["matches"]) == {"random", "greedy"}
    assert out["matches"]["random"]["games"] == second.config.eval_games


def test_fine_tuning_from_a_policy_file(tmp_path):
    """init_policy starts from a policy file; the critic warm-up leaves the policy alone;
    the anchor term keeps the policy nearer its start; another network is refused."""
    base = dict(env="CartPole-v1", num_envs=2, num_steps=32, threads=1, lr=3e-3, ent_coef=0.0)
    start = Trainer(PPOConfig(**base, max_updates=1, run_dir=str(tmp_path / "s")))
    start.run()
    path = save_policy(tmp_path / "start.safetensors", start.net, start.spec, start.config, {})
    weights = {k: v.clone() for k, v in start.net.state_dict().items()}

    def tuned(**kw) -> Trainer:
        t = Trainer(PPOConfig(**base, init_policy=str(path), run_dir=str(tmp_path / "t"), **kw))
        for k, v in t.net.state_dict().items():
            torch.testing.assert_close(v, weights[k], rtol=0, atol=0)
        return t

    warm = tuned(critic_warmup_updates=2)
    warm.iterate()
    warm.iterate()
    changed = {k for k, v in warm.net.state_dict().items() if not torch.equal(v, weights[k])}
    assert changed and all(k.startswith("value_head.") for k in changed)
    warm.iterate()  # the warm-up is over: the policy moves
    assert not torch.equal(warm.net.state_dict()["body.0.weight"], weights["body.0.weight"])

    def drift(coef: float) -> float:
        t = tuned(anchor_coef=coef)
        for _ in range(6):
            m = t.iterate()
        assert ("anchor_kl" in m) and (m["anchor_kl"] > 0) == (coef > 0)
        return sum(float((v - weights[k]).norm()) for k, v in t.net.state_dict().items()
                   if not k.startswith("value_head."))  # fmt: skip

    assert drift(10.0) < drift(0.0)
    with pytest.raises(CheckpointError, match="another network.*hidden"):
        Trainer(PPOConfig(**base, hidden=16, init_policy=str(path), run_dir=str(tmp_path / "h")))
    with pytest.raises(ValueError, match="anchor_coef"):
        PPOConfig(anchor_coef=-1.0).validate()


def test_fused_slot_encoder_gradients():
    """The Deep Sets encoder's fused op and the pointer scores that hand it their
    gradient agree with finite differences (float64, more agents than one chunk)."""
    from agents.ppo.network import _CHUNK, _PointerScores, _SlotPool

    g = torch.Generator().manual_seed(0)
    n, s, f, d = _CHUNK + 3, 5, 3, 4
    ent = torch.randn(n, s, f, generator=g, dtype=torch.float64)
    valid = torch.rand(n, s, generator=g) < 0.7
    self_index = torch.randint(s, (n,), generator=g)
    valid[torch.arange(n), self_index] = True
    count = valid.sum(1, keepdim=True).double()
    weight = torch.randn(d, f + 1, generator=g, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(d, generator=g, dtype=torch.float64, requires_grad=True)
    q = torch.randn(n, 2, d, generator=g, dtype=torch.float64, requires_grad=True)

    def encoder(weight, bias, q):
        link: dict = {}
        tok, mean, mx, me = _SlotPool.apply(ent, valid, count, self_index, weight, bias, link)
        return mean, mx, me, _PointerScores.apply(tok, q, 0.5, link)

    assert torch.autograd.gradcheck(encoder, (weight, bias, q), eps=1e-6, atol=1e-5)
    # and the forward is the plain definition
    flag = torch.nn.functional.one_hot(self_index, s).double().unsqueeze(-1)
    tok = torch.relu(torch.cat([ent, flag], -1) @ weight.T + bias) * valid.unsqueeze(-1)
    mean, mx, me, scores = encoder(weight, bias, q)
    torch.testing.assert_close(mean, tok.sum(1) / count)
    torch.testing.assert_close(mx, tok.amax(1))
    torch.testing.assert_close(me, tok[torch.arange(n), self_index])
    torch.testing.assert_close(scores, 0.5 * tok @ q.transpose(1, 2))


def legal_random_actions(obs: dict, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random legal slot action per agent (each part from its mask)."""
    parts = np.split(obs["action_mask"].astype(bool), [9, 42], axis=1)
    return np.stack([(rng.random(p.shape) * p).argmax(1) for p in parts], axis=1)


def test_learner_rewards_and_scores_are_from_its_own_side():
    """The learner plays team 0 in even arenas and team 1 in odd ones: its win reward and
    its episode score agree on who won, on both sides, wins and losses alike."""
    win_only = {"damage": 0, "last_hit": 0, "kill": 0, "death": 0, "structure": 0, "win": 1}
    source = ArenaSource(4, 1, lambda rng: "random", time_limit=300, map_size=24,
                         reward_weights=win_only, zero_sum=False, seed=0)  # fmt: skip
    source.team_spirit = 0.0
    obs, _ = source.reset()
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(301):
        obs, rewards, starts, ends = source.step(legal_random_actions(obs, rng))
        finished = np.flatnonzero(starts)  # teams of 1: agent i plays in arena i
        assert len(finished) == len(ends)
        for arena, end in zip(finished, ends, strict=True):
            assert rewards[arena] == 2 * end.score - 1  # +1 won, -1 lost, 0 draw
            seen.add((int(source.side[arena]), end.score))
    assert {(0, 0.0), (1, 1.0)} <= seen  # a loss on one side, a win on the other


def test_push_shaping_is_a_potential_difference():
    """With gamma 1 the push shaping of a match sums to minus the starting potential
    (phi is 0 at the end), and it changes nothing else: the same matches are played."""
    kw = dict(time_limit=120, map_size=24, creeps=False, seed=3)
    plain = ArenaSource(2, 2, lambda rng: "easy", **kw)
    shaped = ArenaSource(2, 2, lambda rng: "easy", push_shaping=1.5, gamma=1.0, **kw)
    obs, _ = plain.reset()
    shaped.reset()
    phi0 = shaped.phi.copy()
    assert (phi0 < 0).all() and (plain.phi == 0).all()
    rng = np.random.default_rng(1)
    total = np.zeros(4)
    for _ in range(120):
        actions = legal_random_actions(obs, rng)
        obs, r0, s0, _ = plain.step(actions)
        _, r1, s1, _ = shaped.step(actions)
        total += r1 - r0
        np.testing.assert_array_equal(s0, s1)
    assert s0.all() and plain.batch.state_hash() == shaped.batch.state_hash()
    np.testing.assert_allclose(total, -phi0, atol=1e-5)


def test_level_curriculum_promotes_and_resumes(tmp_path):
    config = tiny_config(tmp_path, scripted_levels=("random", "easy", "medium"),
                         level_curriculum=0.8, curriculum_games=4, max_updates=1)  # fmt: skip
    trainer = Trainer(config)
    rng = np.random.default_rng(0)
    assert {trainer._pick_opponent(rng) for _ in range(20)} == {"random"}
    trainer.episodes["random"] = [1.0, 0.0, 1.0, 1.0]
    trainer._promote()
    assert trainer.stage == 0  # 0.75 < 0.8
    trainer.episodes["random"] += [1.0, 1.0]  # the last 4 all won
    trainer._promote()
    assert trainer.stage == 1
    picks = [trainer._pick_opponent(rng) for _ in range(200)]
    assert set(picks) == {"random", "easy"} and picks.count("easy") > picks.count("random")
    trainer.run()
    assert Trainer.resume(trainer.run_dir).stage == 1
    assert PPOConfig(level_curriculum=0.8).scripted_pool[0] == "random"
    with pytest.raises(ValueError, match="push_shaping"):
        PPOConfig(push_shaping=-1.0).validate()


def test_rollout_workers_follow_the_curriculum_mirror_and_shaping(tmp_path):
    """Workers build their sources with the run's shaping and mirroring, and pick new
    matches at the level the trainer sends with each job."""
    from agents.ppo.rollout import RolloutWorker

    config = tiny_config(tmp_path, scripted_levels=("random", "easy", "medium"),
                         level_curriculum=0.8, mirror_obs=True, push_shaping=1.5,
                         rollout_workers=1, backend="serial", max_updates=1,
                         time_limit=30)  # fmt: skip
    worker = RolloutWorker(config.to_json(), seed=0, index=0)
    (source,) = worker.sources
    assert source.mirror and source.push == 1.5 and source.gamma == config.gamma
    rng = np.random.default_rng(0)
    worker.stage = 2
    picks = [worker._pick_opponent(rng) for _ in range(200)]
    assert set(picks) == {"random", "easy", "medium"}
    assert picks.count("medium") > 100
    trainer = Trainer(config)
    trainer.stage = 1
    trainer.run()  # one update through a serial worker at stage 1
    assert trainer.agent_steps == config.num_envs * config.num_steps
    assert "easy" in trainer.episodes and set(trainer.episodes) <= {"random", "easy"}


def test_mirrored_observations_make_the_two_sides_alike():
    """The map is point-symmetric and so is the start: with ``mirror``, team 1's heroes
    see what team 0's see, and the same policy-frame moves keep it so."""
    from agents.ppo.arena import mirror_moves

    config = ArenaConfig(team_sizes=(3, 3), map_size=24, creeps=False)
    batch = ArenaBatch(1, config, seed=0)
    observer = Observer(1, config.map_size)
    observer.compute(batch)
    arenas, team0, team1 = np.zeros(3, np.int64), np.arange(3), 5 + np.arange(3)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = hero_obs(observer, arenas, team0, batch.roles[0, :3], mirror=True)
        b = hero_obs(observer, arenas, team1, batch.roles[1, :3], mirror=True)
        for key in a:
            np.testing.assert_allclose(a[key], b[key], atol=1e-6, err_msg=key)
        plain = hero_obs(observer, arenas, team1, batch.roles[1, :3])
        assert not np.allclose(plain["entities"], a["entities"])  # unmirrored, they differ
        moves = np.zeros((3, 3), np.int64)
        moves[:, 0] = rng.integers(0, 9, 3)
        slot = np.zeros((1, 10, 3), np.int64)
        slot[0, team0] = moves
        slot[0, team1] = mirror_moves(moves, team1)
        batch.step(observer.to_unit_actions(slot), check=False)
        observer.compute(batch)


@pytest.mark.parametrize("env", ["board:connect4", "fogarena"])
def test_games_outlive_their_opponent_snapshot(tmp_path, env):
    """A game against a snapshot the pool evicts mid-game is played out (the source
    holds the opponent), and a checkpoint taken meanwhile resumes exactly."""
    if env == "fogarena":
        make = lambda d, **o: selfplay_config(  # noqa: E731
            d, pool_size=2, latest_fraction=0.0, scripted_fraction=0.0, num_steps=4,
            total_steps=10**6, gru=False, **o)  # fmt: skip
    else:
        make = lambda d, **o: board_config(  # noqa: E731
            d, pool_size=2, latest_fraction=0.0, scripted_fraction=0.0, num_steps=2,
            total_steps=10**6, **o)  # fmt: skip
    whole = Trainer(make(tmp_path / "a", max_updates=8))
    whole.run()
    assert whole.update == 8 and len(whole.pool) == 2
    first = Trainer(make(tmp_path / "b", max_updates=3))
    first.run()
    playing = {o for s in first.sources for o in s.opponents if o.startswith("policy:")}
    assert any(int(o.split(":")[1]) not in first.pool for o in playing)  # evicted, still playing
    second = Trainer.resume(first.run_dir, max_updates=8)
    second.run()
    for (k, a), b in zip(whole.net.state_dict().items(), second.net.state_dict().values(),
                         strict=True):  # fmt: skip
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)

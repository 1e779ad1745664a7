"""Train the driving baseline: our PPO's MLP on ``simarena/Drive-v0``'s state vector with
discrete actions, warm-started by imitating the scripted driver
(:class:`evaluate_drive.ScriptedDriver`) with DAgger, then fine-tuned by PPO anchored to
the warm start, keeping the PPO-updated policy that drives best on validation seeds.

PPO from scratch learns to drive the route fast but, within minutes on two cores, not
the obstacle and traffic avoidance; a policy that starts as a copy of the rule-based
driver only has to learn what the rules get wrong. Plain PPO fine-tuning (lr 3e-5, clip
0.05) undid the warm start (validation 0.98 -> 0.8 in 9 minutes); with a critic warm-up
and a KL anchor it improves it. Measured on the 200 evaluation seeds (docs/BENCHMARKS.md):
scripted driver 96.5%, DAgger policy 96.0%, PPO from it (20 minutes, one core) 98.0%.

1. DAgger: the driver drives the first round; in later rounds the policy drives and the
   driver labels the states the policy reaches; the policy is refit on everything
   gathered, by cross-entropy weighted towards crash-prone states (something close
   ahead, and the last seconds before a failed episode), and its value head by
   regression on the discounted returns.
2. PPO (:class:`agents.ppo.train.Trainer`, updates driven from here): first
   ``critic_warmup_updates`` updates of the value head alone (its returns are the
   driver's, not the policy's), then clipped PPO with a small learning rate, ``target_kl``
   and ``anchor_coef`` x KL(warm start || policy) in the loss, so that noisy
   advantages cannot undo the warm start. Every ``validate_every`` updates the greedy
   policy drives ``validate_episodes`` validation episodes; the best PPO-updated policy
   is what the run folder's checkpoint holds at the end (``ppo_last.safetensors``: the
   last one; ``--keep-warm-start`` lets the warm start win too).

Camera-only driving: ``--view pixels|labels|segmentation`` trains the same way on
``perception/CameraDrive-v0`` (:mod:`perception.driving`): the policy, a CNN, sees only
the front camera (raw pixels, the true labels, or a frozen perception network's
segmentation: ``--perception RUN``), while the scripted driver that labels its states
still reads the world's state vector (privileged imitation, as in "Learning by
cheating"). Each round's env steps are logged and kept in ``summary.json`` (``dagger``),
so that views compare by the experience they need to reach a completion rate.

The result is an ordinary PPO run folder: ``scripts/evaluate_drive.py --checkpoint RUN``
evaluates it and ``scripts/train.py ppo --resume RUN`` continues it.

Example, from the repository root (the commands of the reported baseline)::

    python scripts/train_drive_baseline.py --dagger-minutes 18 --ppo-minutes 0
    python scripts/train_drive_baseline.py --run-dir runs/drive-dagger2 \
        --init runs/ppo-drive-baseline/warm_start.safetensors --workers 2 --threads 2 \
        --dagger-minutes 17.5 --dagger-rounds 60 --episodes-per-round 100 \
        --validate-episodes 150 --grad-steps 800 --bc-lr 3e-4 --ppo-minutes 0
    python scripts/train_drive_baseline.py --run-dir runs/drive-ppo2 \
        --init runs/drive-dagger2/checkpoint.safetensors --dagger-rounds 0 \
        --ppo-minutes 20 --lr 1e-4 --clip-coef 0.1 --anchor-coef 1.0 \
        --validate-episodes 100 --seed 1
    python scripts/evaluate_drive.py --checkpoint runs/drive-ppo2 --episodes 200

Seeds: imitation episodes are reset with ``5 * 10^8 + k``, validation episodes with
``7 * 10^8 + k`` and PPO's own training envs with ``seed + k``; evaluation defaults to
``10^9 + k``, so none of them meet.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import tyro

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate_drive import (  # noqa: E402
    DRIVING_IDS,
    ENV_ID,
    PolicyDriver,
    ScriptedDriver,
    evaluate_drive,
    expert_observation,
)

from sim.driving.world import STATE_DISTANCES, STATE_NEIGHBOURS  # noqa: E402

IMITATION_SEED = 5 * 10**8
VALIDATION_SEED = 7 * 10**8
# State-vector slots used to spot crash-prone states (see World.state_vector): the object
# slots, then the lane index and the own lane's (exists, gap ahead, ...).
FIRST_OBJECT = 6 + len(STATE_DISTANCES)
OWN_LEAD_GAP = FIRST_OBJECT + 5 * STATE_NEIGHBOURS + 2


@dataclass
class Args:
    """DAgger warm start from the scripted driver, then PPO, on Drive-v0 (state, discrete)."""

    run_dir: str = "runs/ppo-drive-baseline"
    """the PPO run folder (checkpoint.safetensors, config.json, tensorboard)"""
    dagger_minutes: float = 15.0
    """wall-clock budget of the imitation rounds (a round started is finished)"""
    dagger_rounds: int = 30
    """at most this many imitation rounds: the driver drives the first, the policy the
    next ones"""
    episodes_per_round: int = 60
    """episodes collected per round (twice as many in the first)"""
    grad_steps: int = 1500
    """gradient steps on the aggregated data after each round"""
    batch_size: int = 512
    """imitation minibatch"""
    bc_lr: float = 1e-3
    """imitation learning rate"""
    hard_weight: float = 3.0
    """extra loss weight of crash-prone states"""
    ppo_minutes: float = 8.0
    """PPO's wall-clock budget after the warm start (0: none)"""
    lr: float = 3e-5
    """PPO learning rate (small: fine-tuning)"""
    ent_coef: float = 0.0
    """PPO entropy bonus"""
    clip_coef: float = 0.05
    """PPO ratio clip"""
    target_kl: float = 0.01
    """PPO stops an update's epochs past this KL"""
    anchor_coef: float = 1.0
    """weight of KL(warm start || policy) in PPO's loss (0: none)"""
    critic_warmup_updates: int = 20
    """first PPO updates that fit the value head alone to the warm start's returns"""
    keep_warm_start: bool = False
    """keep the warm start when no PPO policy validates better (default: the run's
    checkpoint is the best validated policy that PPO updated)"""
    gamma: float = 0.995
    """discount (PPO and the value targets)"""
    num_envs: int = 8
    """PPO env copies"""
    num_steps: int = 256
    """PPO rollout length"""
    validate_every: int = 10
    """PPO updates between validations"""
    validate_episodes: int = 60
    """validation episodes (seeds 7 * 10^8 + k), also after each imitation round"""
    hidden: int = 512
    """width of the policy's layers"""
    seed: int = 0
    """seed of the PPO run and the network"""
    threads: int = 1
    """torch threads"""
    init: str | None = None
    """continue imitation from this policy (a run folder or a policy file of the same
    layout) instead of a fresh network"""
    workers: int = 1
    """processes driving the imitation and validation episodes (forked; 1: in-process)"""
    view: Literal["state", "pixels", "labels", "segmentation"] = "state"
    """what the policy sees: the state vector, or only the front camera
    (perception.driving): raw pixels, the true labels, or a frozen perception network's
    segmentation (--perception); camera views are pooled and stacked (a CNN policy)"""
    perception: str | None = None
    """the perception checkpoint (file or run folder) of --view segmentation"""
    camera_style: str = "canonical"
    """the camera's look for camera views (Drive-v0's randomization: 'canonical' is the
    perception benchmark's evaluation look, which perception training never draws;
    'full' draws a new look per episode)"""
    frame_stack: int = 2
    """camera views stacked into the policy's image"""
    pool: int = 4
    """camera pixels per policy cell along each axis"""
    max_samples: int | None = None
    """imitation samples kept, past which the oldest rounds but the driver's own first
    one are dropped (None: all for the state vector, 150,000 for camera views, whose
    samples are kilobytes each: 1.4 GB for the labels view)"""


def env_spec(args: Args) -> tuple[str, dict]:
    """The env id and options of ``args.view`` (what the PPO config records)."""
    if args.view == "state":
        return ENV_ID, {"action_type": "discrete", "obs_mode": "state"}
    options: dict = {"view": args.view, "frame_stack": args.frame_stack, "pool": args.pool,
                     "randomization": args.camera_style}  # fmt: skip
    if args.view == "segmentation":
        if args.perception is None:
            raise ValueError("--view segmentation needs --perception CHECKPOINT")
        options["perception"] = args.perception
    return DRIVING_IDS[1], options


def _hard(obs: np.ndarray) -> np.ndarray:
    """Crash-prone states: something within 15 m ahead in the own lane, or any object
    within 10 m."""
    near = np.zeros(len(obs), bool)
    for i in range(6):
        b = FIRST_OBJECT + 5 * i
        dist = np.hypot(obs[:, b], obs[:, b + 1]) * 60.0
        near |= (obs[:, b + 4] > 0.5) & (dist < 10.0)
    return near | (obs[:, OWN_LEAD_GAP] * 60.0 < 15.0)


def _collect(env, driver, policy, episodes: int, seed0: int, gamma: float, hard_weight: float):
    """Observations, the driver's actions, discounted returns and sample weights along
    ``episodes`` episodes driven by ``policy`` (None: the driver itself)."""
    import torch

    obs_l, act_l, ret_l, w_l = [], [], [], []
    done_ok = 0
    image = len(env.observation_space.shape) == 3
    for i in range(episodes):
        obs, _ = env.reset(seed=seed0 + i)
        driver.reset()
        rewards, ep_obs, ep_act, ep_state = [], [], [], []
        while True:
            state = expert_observation(env, obs)
            label = driver(state)
            x = np.asarray(obs) if image else np.asarray(obs, np.float32)
            ep_obs.append(x)
            ep_state.append(np.asarray(state, np.float32))
            ep_act.append(label)
            if policy is None:
                action = label
            else:
                with torch.no_grad():
                    logits = policy(torch.from_numpy(x)[None])
                action = int(logits.argmax())
            obs, r, term, trunc, info = env.step(action)
            rewards.append(r)
            if term or trunc:
                break
        ok = bool(info["route_complete"] and not info["collision"] and not info["off_road"])
        done_ok += ok
        x = np.stack(ep_obs)
        w = 1.0 + hard_weight * _hard(np.stack(ep_state))
        if not ok:  # the last 3 s before a crash, an exit or the time-out
            w[-30:] += hard_weight
        g, rets = 0.0, []
        for r in reversed(rewards):
            g = r + gamma * g
            rets.append(g)
        obs_l.append(x)
        act_l.append(np.array(ep_act, np.int64))
        ret_l.append(np.array(rets[::-1], np.float32))
        w_l.append(w.astype(np.float32))
    cat = np.concatenate
    return cat(obs_l), cat(act_l), cat(ret_l), cat(w_l), done_ok


def _validate(env, net, episodes: int, seed: int = VALIDATION_SEED) -> float:
    """Route completion without collision of the greedy policy on validation seeds."""
    net.eval()
    report = evaluate_drive(env, PolicyDriver(net, greedy=True), episodes, seed)
    return report.completion_rate


# What forked workers inherit: the net (weights are sent each task) and the settings.
_WORKER: dict = {}


def _work(task: tuple) -> tuple:
    """One worker's share of a round: ("collect", weights or None, seed0, episodes) or
    ("validate", weights, seed0, episodes)."""
    import gymnasium
    import torch

    torch.set_num_threads(1)
    kind, weights, seed0, n = task
    w = _WORKER
    if "env" not in w:
        w["env"] = gymnasium.make(w["env_id"], **w["env_options"])
        w["driver"] = ScriptedDriver(w["env"])
    net = w["net"]
    if weights is not None:
        net.load_state_dict(weights)
    net.eval()
    if kind == "validate":
        return (_validate(w["env"], net, n, seed0) * n,)
    return _collect(w["env"], w["driver"], None if weights is None else w["policy"], n, seed0,
                    w["gamma"], w["hard_weight"])  # fmt: skip


def _split(seed0: int, n: int, parts: int) -> list[tuple[int, int]]:
    """(seed0, episodes) chunks covering seeds seed0 .. seed0 + n - 1."""
    sizes = [n // parts + (i < n % parts) for i in range(parts)]
    return [(seed0 + sum(sizes[:i]), sizes[i]) for i in range(parts) if sizes[i]]


def warm_start(
    trainer, env, args: Args, log=print, history: list[dict] | None = None
) -> tuple[float, dict]:
    """DAgger into ``trainer.net`` (policy and value); the best scoring weights
    (validation plus the next round's own episodes) are left in the net. Returns
    (their score, state dict); ``history`` gets a row per round (env steps driven so
    far, validation)."""
    import torch
    import torch.nn.functional as F

    net = trainer.net
    opt = torch.optim.Adam(net.parameters(), lr=args.bc_lr)
    driver = ScriptedDriver(env)
    empty = torch.zeros(0)

    def forward(x):
        logits, value, _ = net({"x": x}, net.initial_state(len(x)), empty)
        return logits[0], value

    def policy(x):
        return forward(x)[0]

    data: list[tuple] = []
    gen = torch.Generator().manual_seed(args.seed)
    best: tuple[float, dict] = (-1.0, copy.deepcopy(net.state_dict()))
    start = time.perf_counter()
    seed0 = IMITATION_SEED
    pool = None
    if args.workers > 1:
        import multiprocessing as mp

        env_id, env_options = env_spec(args)
        _WORKER.update(net=copy.deepcopy(net), gamma=args.gamma, hard_weight=args.hard_weight,
                       env_id=env_id, env_options=env_options)  # fmt: skip
        _WORKER["policy"] = lambda x: _WORKER["net"]({"x": x}, _WORKER["net"].initial_state(
            len(x)), torch.zeros(0))[0][0]  # fmt: skip
        pool = mp.get_context("fork").Pool(args.workers)

    def weights():
        return {k: v.detach().clone() for k, v in net.state_dict().items()}

    def collect(use_policy: bool, n: int, seed: int):
        if pool is None:
            return _collect(env, driver, policy if use_policy else None, n, seed, args.gamma,
                            args.hard_weight)  # fmt: skip
        wts = weights() if use_policy else None
        parts = pool.map(_work, [("collect", wts, s, m) for s, m in _split(seed, n, args.workers)])
        cat = np.concatenate
        return (*(cat([p[i] for p in parts]) for i in range(4)), sum(p[4] for p in parts))

    def validate() -> float:
        if pool is None:
            return _validate(env, net, args.validate_episodes)
        chunks = _split(VALIDATION_SEED, args.validate_episodes, args.workers)
        parts = pool.map(_work, [("validate", weights(), s, m) for s, m in chunks])
        return sum(p[0] for p in parts) / args.validate_episodes

    # A candidate's score: its completions over the validation episodes plus, when the
    # policy drives the next round, over that round's episodes (fresh seeds it has not
    # been fitted on), so that one lucky validation draw weighs less.
    pending: tuple[float, int, dict] | None = None

    def consider(c: tuple[float, int, dict]) -> None:
        nonlocal best
        if c[0] / c[1] >= best[0]:
            best = (c[0] / c[1], c[2])

    cap = args.max_samples or (math.inf if args.view == "state" else 150_000)
    env_steps = 0  # imitation steps driven so far (what a budget of experience counts)
    history = [] if history is None else history
    if args.init is not None:
        v0 = validate()
        pending = (v0 * args.validate_episodes, args.validate_episodes,
                   copy.deepcopy(net.state_dict()))  # fmt: skip
        log(f"initial policy {args.init}: validation {v0:.3f}")
    for k in range(args.dagger_rounds):
        if k > 1 and time.perf_counter() - start > args.dagger_minutes * 60:
            break
        t = time.perf_counter()
        net.eval()
        n = args.episodes_per_round * (2 if k == 0 else 1)
        obs, act, ret, w, ok = collect(k > 0, n, seed0)
        seed0 += n
        env_steps += len(obs)
        if pending is not None:
            if k > 0:
                pending = (pending[0] + ok, pending[1] + n, pending[2])
            consider(pending)
            log(f"  the previous weights score {pending[0] / pending[1]:.3f} "
                f"over {pending[1]} episodes")  # fmt: skip
        data.append((obs, act, ret, w))
        while len(data) > 2 and sum(len(d[0]) for d in data) > cap:
            data.pop(1)
        x, a, r, wt = (torch.from_numpy(np.concatenate([d[i] for d in data])) for i in range(4))
        net.train()
        for _ in range(args.grad_steps):
            b = torch.randint(len(x), (args.batch_size,), generator=gen)
            logits, value = forward(x[b])
            ce = (F.cross_entropy(logits, a[b], reduction="none") * wt[b]).sum() / wt[b].sum()
            loss = ce + 0.002 * F.mse_loss(value, r[b])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
        net.eval()
        with torch.no_grad():
            recent = range(max(0, len(x) - 20000), len(x), 2048)
            hits = sum(int((policy(x[i : i + 2048]).argmax(-1) == a[i : i + 2048]).sum())
                       for i in recent)  # fmt: skip
            agree = hits / min(len(x), 20000)
        val = validate()
        minutes = (time.perf_counter() - start) / 60
        history.append({"round": k, "env_steps": env_steps, "samples": len(x),
                        "validation": val, "minutes": minutes})  # fmt: skip
        pending = (val * args.validate_episodes, args.validate_episodes,
                   copy.deepcopy(net.state_dict()))  # fmt: skip
        who = "driver" if k == 0 else "policy"
        log(f"dagger round {k}: {who} completed {ok}/{n}, {env_steps} env steps, {len(x)} "
            f"samples, agreement "
            f"{agree:.3f}, validation {val:.3f}, {time.perf_counter() - t:.0f} s")  # fmt: skip
    if pending is not None:
        consider(pending)
    if pool is not None:
        pool.close()
        pool.join()
    net.load_state_dict(best[1])
    return best


def fine_tune(trainer, env, args: Args, best: tuple[float, dict], log=print) -> tuple[float, dict]:
    """PPO updates for ``args.ppo_minutes``, validating every ``validate_every`` updates;
    the best validated weights (``best`` to start with, unless only PPO-updated policies
    count: ``keep_warm_start`` False) are left in the net."""
    from agents.runs import open_run

    if not args.keep_warm_start:
        best = (-1.0, best[1])
    writer = open_run(trainer.run_dir, "ppo", trainer.config.to_json())
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < args.ppo_minutes * 60:
            trainer.net.train()
            m = trainer.iterate()
            step = trainer.agent_steps
            for key in ("policy_loss", "value_loss", "entropy", "approx_kl", "clipfrac",
                        "anchor_kl", "explained_variance"):  # fmt: skip
                writer.add_scalar(f"train/{key}", m[key], step)
            if "episode_return" in m:
                writer.add_scalar("rollout/episode_return", m["episode_return"], step)
            warm = trainer.update <= args.critic_warmup_updates
            if trainer.update % args.validate_every == 0 and not warm:
                val = _validate(env, trainer.net, args.validate_episodes)
                writer.add_scalar("eval/validation_completion", val, step)
                log(f"ppo update {trainer.update}: {step} steps, kl {m['approx_kl']:.4f}, "
                    f"anchor kl {m['anchor_kl']:.4f}, value ev {m['explained_variance']:.2f}, "
                    f"return {m.get('episode_return', float('nan')):.1f}, validation "
                    f"{val:.3f}")  # fmt: skip
                if val >= best[0]:  # ties go to the policy PPO trained longer
                    best = (val, copy.deepcopy(trainer.net.state_dict()))
    finally:
        writer.close()
    log(f"last PPO policy: {trainer.save(trainer.run_dir / 'ppo_last.safetensors')}")
    trainer.net.load_state_dict(best[1])
    return best


def main(args: Args) -> dict:
    import gymnasium
    import torch

    import envs  # noqa: F401
    from agents.ppo.config import PPOConfig
    from agents.ppo.train import Trainer

    env_id, options = env_spec(args)
    config = PPOConfig(
        env=env_id, env_options=options, num_envs=args.num_envs, num_steps=args.num_steps,
        gamma=args.gamma, lr=args.lr, anneal_lr=False, ent_coef=args.ent_coef,
        clip_coef=args.clip_coef, target_kl=args.target_kl, anchor_coef=args.anchor_coef,
        critic_warmup_updates=args.critic_warmup_updates,
        minutes=args.dagger_minutes + args.ppo_minutes, eval_every_minutes=0.0,
        threads=args.threads, seed=args.seed, run_dir=args.run_dir, hidden=args.hidden,
    )  # fmt: skip
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    trainer = Trainer(config)
    if args.init is not None:
        from agents.ppo import checkpoint as ckpt

        init_net, _, _ = ckpt.load_policy(args.init)
        trainer.net.load_state_dict(init_net.state_dict())
    env = gymnasium.make(env_id, **options)
    trainer.run_dir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    history: list[dict] = []
    best = warm_start(trainer, env, args, history=history)
    warm_val = best[0]
    print(f"warm start: {(time.perf_counter() - t) / 60:.1f} min, validation {warm_val:.3f}")
    warm_path = trainer.save(trainer.run_dir / "warm_start.safetensors")
    print(f"warm-started policy: {warm_path}")
    # PPO's anchor is the warm start; the config names its file so that a resumed run
    # rebuilds the same anchor.
    trainer.config = dataclasses.replace(trainer.config, init_policy=str(warm_path))
    if args.anchor_coef > 0:
        trainer.anchor = copy.deepcopy(trainer.net).eval().requires_grad_(False)
    if args.ppo_minutes > 0:
        best = fine_tune(trainer, env, args, best)
    path = trainer.save()
    summary = {
        "agent_steps": trainer.agent_steps, "updates": trainer.update,
        "warm_start_validation": warm_val, "best_validation": best[0],
        "minutes": (time.perf_counter() - t) / 60, "view": args.view,
        "dagger_env_steps": history[-1]["env_steps"] if history else 0, "dagger": history,
    }  # fmt: skip
    (trainer.run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"ppo: {trainer.agent_steps} agent steps, {trainer.update} updates; best "
          f"validation {best[0]:.3f} (warm start {warm_val:.3f}); checkpoint {path}")  # fmt: skip
    return summary


if __name__ == "__main__":
    from agents.checkpoint import CheckpointError

    try:
        main(tyro.cli(Args, prog="train_drive_baseline.py"))
    except (ValueError, CheckpointError) as e:  # bad input: the message, not a traceback
        raise SystemExit(f"train_drive_baseline: {e}") from None

"""Rollout storage and the PPO update (clipped objective, GAE, value clipping).

A :class:`Rollout` holds T steps of N agents of one source. Agents come in teams of
``team`` consecutive rows; minibatches never split a team (the centralized critic
averages over it), and with a GRU they hold whole sequences from the stored initial
state, so the update recomputes exactly the probabilities the rollout sampled from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agents.ppo.actor import distribution
from agents.ppo.distributions import kl_divergence
from agents.ppo.gae import compute_gae
from agents.ppo.network import ActorCritic

_ALLOCATOR_TUNED = False


def keep_freed_memory() -> bool:
    """Have glibc's malloc keep freed memory for reuse (process-wide, once).

    An update allocates and frees tensors of several MB per minibatch; by default glibc
    hands such blocks back to the system, so every new one page-faults on first touch
    (about 1 ms per 5 MB here; keeping the memory made a FogArena PPO iteration about
    6% faster). Returns whether it applied (glibc only; elsewhere a no-op).
    """
    global _ALLOCATOR_TUNED
    if _ALLOCATOR_TUNED:
        return True
    _ALLOCATOR_TUNED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        m_trim_threshold, m_top_pad, m_mmap_threshold = -1, -2, -3
        ok = libc.mallopt(m_mmap_threshold, 32 << 20)  # glibc's largest allowed value
        ok &= libc.mallopt(m_trim_threshold, 512 << 20)
        ok &= libc.mallopt(m_top_pad, 64 << 20)
        return bool(ok)
    except (OSError, AttributeError):
        return False


class Rollout:
    """T steps of N agents (teams of ``team`` rows) from one source."""

    def __init__(self, T: int, N: int, team: int, state0: torch.Tensor) -> None:
        if N % team:
            raise ValueError(f"{N} agents do not split into teams of {team}")
        self.T, self.N, self.team = T, N, team
        self.obs: dict[str, torch.Tensor] = {}
        self.actions = torch.zeros(0)
        self.log_probs = torch.zeros(T, N)
        self.values = torch.zeros(T, N)
        self.rewards = torch.zeros(T, N)
        self.starts = torch.zeros(T, N)
        self.state0 = state0.clone()
        self.t = 0

    # Rollouts cross processes (rollout workers): NumPy arrays pickle several times
    # faster than tensors; the values are the same.
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        for k, v in state.items():
            if torch.is_tensor(v):
                state[k] = v.numpy()
        state["obs"] = {k: v.numpy() for k, v in self.obs.items()}
        return state

    def __setstate__(self, state: dict) -> None:
        def tensor(a: np.ndarray) -> torch.Tensor:  # Ray hands out read-only views
            return torch.from_numpy(a if a.flags.writeable else a.copy())

        for k, v in state.items():
            state[k] = tensor(v) if isinstance(v, np.ndarray) else v
        state["obs"] = {k: tensor(v) for k, v in state["obs"].items()}
        self.__dict__.update(state)

    def add(self, obs: dict[str, np.ndarray], starts: np.ndarray, step) -> None:
        t = self.t
        if not self.obs:
            for k, v in obs.items():
                self.obs[k] = torch.zeros((self.T, *v.shape), dtype=torch.from_numpy(v[:1]).dtype)
            self.actions = torch.zeros((self.T, *step.actions.shape), dtype=torch.long)
        for k, v in obs.items():
            self.obs[k][t] = torch.from_numpy(np.ascontiguousarray(v))
        self.actions[t] = torch.from_numpy(step.actions)
        self.log_probs[t] = torch.from_numpy(step.log_probs)
        self.values[t] = torch.from_numpy(step.values)
        self.starts[t] = torch.from_numpy(starts)

    def set_reward(self, rewards: np.ndarray) -> None:
        self.rewards[self.t] = torch.from_numpy(np.asarray(rewards, dtype=np.float32))
        self.t += 1

    def finish(self, last_value: np.ndarray, last_start: np.ndarray, gamma: float, lam: float):
        self.advantages, self.returns = compute_gae(
            self.rewards, self.values, self.starts, torch.from_numpy(last_value),
            torch.from_numpy(last_start), gamma, lam,
        )  # fmt: skip

    _FIELDS = ("actions", "log_probs", "values", "advantages", "returns", "starts")

    def minibatch_plan(self, count: int, recurrent: bool) -> list[torch.Tensor]:
        """The units of ``count`` minibatches in random order (torch's RNG): team
        indices with a GRU (whole sequences), else (time step, team) indices."""
        G = self.N // self.team
        order = torch.randperm(G if recurrent else self.T * G)
        return [c for c in torch.tensor_split(order, min(count, len(order))) if len(c)]

    def minibatch(
        self, units: torch.Tensor, recurrent: bool, out: dict[str, torch.Tensor] | None = None
    ) -> dict[str, torch.Tensor]:
        """One minibatch of :meth:`minibatch_plan` units. ``out`` (flat layout only) holds
        buffers reused from one minibatch to the next: a fresh multi-MB tensor per
        minibatch costs page faults."""
        T, K = self.T, self.team
        if recurrent:
            rows = (units[:, None] * K + torch.arange(K)).reshape(-1)
            mb = {f"obs/{k}": v[:, rows] for k, v in self.obs.items()}
            for name in self._FIELDS:
                mb[name] = getattr(self, name)[:, rows]
            mb["state0"] = self.state0[rows]
            return mb
        G = self.N // K
        n = len(units)
        sources = {f"obs/{k}": v for k, v in self.obs.items()}
        sources.update({name: getattr(self, name) for name in self._FIELDS})
        mb = {}
        for key, x in sources.items():
            rest = x.shape[2:]
            src = x.reshape(T * G, K, *rest)
            if out is None:
                mb[key] = src[units].reshape(n * K, *rest)
                continue
            buf = out.get(key)
            if buf is None or buf.dtype != x.dtype or buf.shape[1:] != rest or len(buf) < n * K:
                buf = out[key] = x.new_empty((n * K, *rest))
            dst = buf[: n * K].view(n, K, *rest)
            torch.index_select(src, 0, units, out=dst)
            mb[key] = buf[: n * K]
        return mb

    def minibatches(self, count: int, recurrent: bool) -> list[dict[str, torch.Tensor]]:
        """``count`` minibatches in random order (torch's RNG); teams kept whole."""
        return [self.minibatch(u, recurrent) for u in self.minibatch_plan(count, recurrent)]


@dataclass
class UpdateSettings:
    clip: float
    vf_coef: float
    ent_coef: float
    clip_vloss: bool
    norm_adv: bool
    max_grad_norm: float
    epochs: int
    minibatches: int
    target_kl: float = 0.0
    anchor_coef: float = 0.0  # weight of KL(anchor || policy)
    value_only: bool = False  # train the value head alone (critic warm-up)


def ppo_update(
    net: ActorCritic,
    optimizer: torch.optim.Optimizer,
    rollouts: list[Rollout],
    s: UpdateSettings,
    anchor: ActorCritic | None = None,
) -> dict[str, float]:
    """PPO epochs over ``rollouts``; mean metrics of the last epoch's minibatches.

    With ``anchor`` (a frozen policy of the same layout) and ``s.anchor_coef`` > 0 the
    loss adds ``anchor_coef`` x KL(anchor || policy) on the minibatch's states, which
    keeps a fine-tuned policy near its warm start (AlphaStar's KL to the supervised
    policy). ``s.value_only`` steps the value head's parameters alone.
    """
    keep_freed_memory()
    recurrent = net.spec.gru
    if s.anchor_coef > 0 and anchor is None:
        raise ValueError("anchor_coef > 0 needs an anchor policy")
    value_params = {id(p) for p in net.value_head.parameters()}
    stats: dict[str, list[float]] = {}
    buffers: dict[str, torch.Tensor] = {}  # minibatch buffers, reused
    for _epoch in range(s.epochs):
        plan = [(r, u) for r in rollouts for u in r.minibatch_plan(s.minibatches, recurrent)]
        order = torch.randperm(len(plan)).tolist()
        stats = {}
        for i in order:
            rollout, units = plan[i]
            team = rollout.team
            mb = rollout.minibatch(units, recurrent, None if recurrent else buffers)
            obs = {k[4:]: v for k, v in mb.items() if k.startswith("obs/")}
            use_anchor = s.anchor_coef > 0 and not s.value_only
            if recurrent:
                logits, new_values = net.forward_sequence(obs, mb["state0"], mb["starts"], team)
                if use_anchor:
                    with torch.no_grad():
                        anchor_logits, _ = anchor.forward_sequence(
                            obs, mb["state0"], mb["starts"], team
                        )
                flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in obs.items()}
                mbf = {k: v.reshape(-1, *v.shape[2:]) for k, v in mb.items() if "/" not in k}
            else:
                n = mb["starts"].shape[0]
                logits, new_values, _ = net(obs, net.initial_state(n), mb["starts"], team)
                if use_anchor:
                    with torch.no_grad():
                        anchor_logits, _, _ = anchor(
                            obs, anchor.initial_state(n), mb["starts"], team
                        )
                flat, mbf = obs, mb
            dist = distribution(net, logits, flat)
            new_logp = dist.log_prob(mbf["actions"])
            entropy = dist.entropy().mean()
            log_ratio = new_logp - mbf["log_probs"]
            ratio = log_ratio.exp()
            adv = mbf["advantages"]
            if s.norm_adv and adv.numel() > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            pg_loss = torch.max(-adv * ratio, -adv * ratio.clamp(1 - s.clip, 1 + s.clip)).mean()
            ret, old_v = mbf["returns"], mbf["values"]
            if s.clip_vloss:
                clipped = old_v + (new_values - old_v).clamp(-s.clip, s.clip)
                v_loss = 0.5 * torch.max((new_values - ret) ** 2, (clipped - ret) ** 2).mean()
            else:
                v_loss = 0.5 * ((new_values - ret) ** 2).mean()
            if s.value_only:
                loss = s.vf_coef * v_loss
            else:
                loss = pg_loss - s.ent_coef * entropy + s.vf_coef * v_loss
            anchor_kl = torch.zeros(())
            if use_anchor:
                anchor_kl = kl_divergence(distribution(anchor, anchor_logits, flat), dist).mean()
                loss = loss + s.anchor_coef * anchor_kl
            optimizer.zero_grad()
            loss.backward()
            if s.value_only:  # Adam skips parameters without a gradient
                for p in net.parameters():
                    if id(p) not in value_params:
                        p.grad = None
            grad_norm = nn.utils.clip_grad_norm_(net.parameters(), s.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                approx_kl = ((ratio - 1) - log_ratio).mean().item()
                clipfrac = ((ratio - 1.0).abs() > s.clip).float().mean().item()
            for key, value in (
                ("policy_loss", pg_loss.item()), ("value_loss", v_loss.item()),
                ("entropy", entropy.item()), ("approx_kl", approx_kl),
                ("clipfrac", clipfrac), ("grad_norm", float(grad_norm)),
                ("anchor_kl", anchor_kl.item()),
            ):  # fmt: skip
                stats.setdefault(key, []).append(value)
        if s.target_kl and np.mean(stats["approx_kl"]) > s.target_kl:
            break
    out = {k: float(np.mean(v)) for k, v in stats.items()}
    values = torch.cat([r.values.reshape(-1) for r in rollouts])
    returns = torch.cat([r.returns.reshape(-1) for r in rollouts])
    var = returns.var().item()
    residual = (returns - values).var().item()
    out["explained_variance"] = float("nan") if var == 0 else 1 - residual / var
    return out

"""Generalized advantage estimation (Schulman et al. 2016)."""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_value: torch.Tensor,
    last_done: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns of a rollout of T steps (time on the first axis).

    ``dones[t]`` is 1 where the observation of step t starts a new episode (the step
    before it ended one), so no value flows back across it; ``last_done`` says the same
    of the observation after the rollout, whose value is ``last_value``. Returns
    ``(advantages, returns = advantages + values)``.
    """
    T = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    for t in reversed(range(T)):
        if t == T - 1:
            next_nonterminal = 1.0 - last_done
            next_value = last_value
        else:
            next_nonterminal = 1.0 - dones[t + 1]
            next_value = values[t + 1]
        delta = rewards[t] + gamma * next_value * next_nonterminal - values[t]
        running = delta + gamma * lam * next_nonterminal * running
        adv[t] = running
    return adv, adv + values

"""Evaluation episodes: raw scores, whole games, the protocol's small epsilon."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from envs.atari import make_atari

# Student's t 97.5% quantiles for 1..30 degrees of freedom (beyond: normal).
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t975(df: int) -> float:
    return _T975[df - 1] if 1 <= df <= len(_T975) else 1.96


def evaluate(
    q: torch.nn.Module,
    env_id: str,
    protocol: str | None,
    episodes: int,
    seed: int,
    epsilon: float | None = None,
    device: str = "cpu",
    max_steps: int = 200_000,
) -> dict[str, Any]:
    """Play ``episodes`` evaluation episodes (their own env and RNG: training state is not
    touched) and return the protocol-stamped result: returns, mean, 95% t-interval."""
    env = make_atari(env_id, protocol, training=False)
    stamp = env.metadata["protocol"]
    eps = stamp["eval_epsilon"] if epsilon is None else epsilon
    rng = np.random.default_rng(seed)
    n = env.action_space.n
    returns, lengths = [], []
    q.eval()
    for ep in range(episodes):
        obs, _ = env.reset(seed=seed + ep)
        total, steps, done = 0.0, 0, False
        while not done and steps < max_steps:
            if rng.random() < eps:
                action = int(rng.integers(n))
            else:
                with torch.inference_mode():
                    x = torch.from_numpy(np.asarray(obs)[None]).to(device)
                    action = int(q(x).argmax(1).item())
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            steps += 1
            done = terminated or truncated
        returns.append(total)
        lengths.append(steps)
    q.train()
    env.close()
    mean = float(np.mean(returns)) if returns else math.nan
    half = 0.0
    if len(returns) > 1:
        sem = np.std(returns, ddof=1) / math.sqrt(len(returns))
        half = float(t975(len(returns) - 1) * sem)
    return {
        "protocol": stamp["name"],
        "protocol_settings": {k: v for k, v in stamp.items() if k != "training"},
        "epsilon": eps,
        "episodes": episodes,
        "returns": returns,
        "lengths": lengths,
        "mean": mean,
        "ci95": [mean - half, mean + half],
    }

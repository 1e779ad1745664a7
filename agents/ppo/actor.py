"""Acting with a policy: observations (NumPy) in, sampled actions out, no gradients."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from agents.ppo import fused
from agents.ppo.distributions import MaskedMultiCategorical
from agents.ppo.network import ActorCritic


def to_tensors(obs: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in obs.items()}


def distribution(net: ActorCritic, logits: list[torch.Tensor], obs: dict) -> MaskedMultiCategorical:
    return MaskedMultiCategorical(logits, obs.get("action_mask"))


@dataclass
class Step:
    """One step of N agents: actions (N, parts), their log-probabilities and values."""

    actions: np.ndarray
    log_probs: np.ndarray
    values: np.ndarray
    state: torch.Tensor


class Actor:
    """A frozen or live policy that acts for many agents at once.

    ``greedy`` takes each part's most probable allowed action instead of sampling.
    ``generator`` (a seeded ``torch.Generator``) makes sampling reproducible; without
    one the global torch RNG is used. A Deep Sets entity policy acts through
    :class:`agents.ppo.fused.FusedActing` (the same samples in a sixth of the ops).
    """

    def __init__(
        self,
        net: ActorCritic,
        name: str = "policy",
        greedy: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        self.net = net
        self.name = name
        self.greedy = greedy
        self.generator = generator
        self.fused = fused.FusedActing(net) if fused.supports(net) else None

    @property
    def state_size(self) -> int:
        return self.net.state_size

    def initial_state(self, n: int) -> torch.Tensor:
        return self.net.initial_state(n)

    @torch.no_grad()
    def step(
        self, obs: dict[str, np.ndarray], state: torch.Tensor, starts: np.ndarray, team: int = 1
    ) -> Step:
        if self.fused is not None:
            actions, log_probs, values = self.fused.act(obs, self.generator, self.greedy)
            return Step(actions=actions, log_probs=log_probs, values=values, state=state)
        t = to_tensors(obs)
        logits, value, state = self.net(t, state, torch.from_numpy(starts), team)
        dist = distribution(self.net, logits, t)
        actions = dist.mode() if self.greedy else dist.sample(self.generator)
        return Step(
            actions=actions.numpy(),
            log_probs=dist.log_prob(actions).numpy(),
            values=value.numpy(),
            state=state,
        )


POLICY = "policy:"  # an opponent played by a policy: "policy:<key>" (a pool id, "latest")


class HeldPolicies:
    """The policies that play the games in progress, looked up once when a game starts
    and held until no game uses them: a snapshot the pool evicts mid-game still plays
    its games out. ``policy_fn(key)`` looks a policy up."""

    def __init__(self, policy_fn: Callable[[str], Actor] | None) -> None:
        self.policy_fn = policy_fn
        self.actors: dict[str, Actor] = {}

    def keep(self, opponents: list[str]) -> None:
        """Hold the policies of ``opponents`` (the games' current ones), looking up those
        not held yet, and let go of the others."""
        keys = [o[len(POLICY) :] for o in opponents if o.startswith(POLICY)]
        for key in keys:
            if key not in self.actors:
                if self.policy_fn is None:
                    raise ValueError(f"opponent 'policy:{key}' needs a policy_fn")
                self.actors[key] = self.policy_fn(key)
        self.actors = {k: v for k, v in self.actors.items() if k in set(keys)}

    def __getitem__(self, opponent: str) -> Actor:
        return self.actors[opponent[len(POLICY) :]]

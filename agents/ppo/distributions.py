"""Masked categorical distributions over the parts of a MultiDiscrete action.

Masked actions get a logit of ``-inf`` in effect (the float minimum), so their
probability is exactly 0: they are never sampled and add nothing to the entropy.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

NEG = torch.finfo(torch.float32).min


def split_mask(mask: torch.Tensor, nvec: Sequence[int]) -> list[torch.Tensor]:
    """A flat (N, sum(nvec)) mask as one bool (N, k) mask per part."""
    return list(torch.split(mask.bool(), list(nvec), dim=-1))


class MaskedMultiCategorical:
    """Independent categoricals, one per action part, each with its own mask.

    ``logits``: one (N, k_i) tensor per part; ``masks``: one bool (N, k_i) per part or
    None (all allowed). A row whose mask allows nothing raises ValueError.
    """

    def __init__(
        self, logits: Sequence[torch.Tensor], masks: Sequence[torch.Tensor] | None = None
    ) -> None:
        self.masks = list(masks) if masks is not None else [None] * len(logits)
        self.log_probs = []
        for part, (lg, m) in enumerate(zip(logits, self.masks, strict=True)):
            if m is not None:
                if not bool(m.any(dim=-1).all()):
                    raise ValueError(f"action part {part}: a mask row allows no action")
                lg = lg.masked_fill(~m, NEG)
            self.log_probs.append(torch.log_softmax(lg.float(), dim=-1))

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """(N, parts) int64 actions (Gumbel-max, so a ``generator`` makes it reproducible)."""
        out = []
        for lp in self.log_probs:
            u = torch.rand(lp.shape, generator=generator).clamp_(1e-20, 1.0)
            gumbel = -torch.log(-torch.log(u))
            score = torch.where(lp > NEG / 2, lp + gumbel, torch.full_like(lp, NEG))
            out.append(score.argmax(dim=-1))
        return torch.stack(out, dim=-1)

    def mode(self) -> torch.Tensor:
        return torch.stack([lp.argmax(dim=-1) for lp in self.log_probs], dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Sum over parts of log pi(a_i) for (N, parts) actions."""
        total = torch.zeros(actions.shape[0])
        for i, lp in enumerate(self.log_probs):
            total = total + lp.gather(-1, actions[:, i : i + 1].long()).squeeze(-1)
        return total

    def entropy(self) -> torch.Tensor:
        """Sum over parts of each part's entropy (masked actions contribute 0)."""
        total = 0.0
        for lp in self.log_probs:
            p = lp.exp()
            total = total - torch.where(p > 0, p * lp, torch.zeros_like(p)).sum(-1)
        return total

    def probs(self) -> list[torch.Tensor]:
        return [lp.exp() for lp in self.log_probs]


def kl_divergence(p: MaskedMultiCategorical, q: MaskedMultiCategorical) -> torch.Tensor:
    """KL(p || q) per row, summed over the action parts; actions p never takes add 0."""
    total = 0.0
    for lp, lq in zip(p.log_probs, q.log_probs, strict=True):
        prob = lp.exp()
        total = total + torch.where(prob > 0, prob * (lp - lq), torch.zeros_like(prob)).sum(-1)
    return total

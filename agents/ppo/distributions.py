"""Masked categorical distributions over the parts of a MultiDiscrete action.

Masked actions get a logit of ``-inf`` in effect (the float minimum), so their
probability is exactly 0: they are never sampled and add nothing to the entropy.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.nn import functional as F

NEG = torch.finfo(torch.float32).min


def split_mask(mask: torch.Tensor, nvec: Sequence[int]) -> list[torch.Tensor]:
    """A flat (N, sum(nvec)) mask as one bool (N, k) mask per part."""
    return list(torch.split(mask.bool(), list(nvec), dim=-1))


class MaskedMultiCategorical:
    """Independent categoricals, one per action part, each with its own mask.

    ``logits``: one (N, k_i) tensor per part; ``masks``: one bool (N, k_i) per part or
    None (all allowed). A row whose mask allows nothing raises ValueError.

    The parts are held padded to one (N, parts, max k) tensor (padding masked), so each
    step is one op over all parts rather than one per part: acting for a few dozen
    agents is bound by the number of ops. ``logits``, ``log_probs`` and :meth:`probs`
    are per-part views.
    """

    def __init__(
        self, logits: Sequence[torch.Tensor], masks: Sequence[torch.Tensor] | None = None
    ) -> None:
        self.masks = list(masks) if masks is not None else [None] * len(logits)
        if len(self.masks) != len(logits):
            raise ValueError(f"{len(logits)} logit parts but {len(self.masks)} masks")
        self.sizes = [int(lg.shape[-1]) for lg in logits]
        k = max(self.sizes)
        padded, allowed = [], []
        for lg, m, size in zip(logits, self.masks, self.sizes, strict=True):
            lg = lg.float()
            m = torch.ones_like(lg, dtype=torch.bool) if m is None else m.bool()
            if size < k:
                lg = F.pad(lg, (0, k - size), value=NEG)
                m = F.pad(m, (0, k - size), value=False)
            padded.append(lg)
            allowed.append(m)
        allow = torch.stack(allowed, dim=1)
        ok = allow.any(dim=-1).all(dim=0)
        if not bool(ok.all()):
            part = int((~ok).nonzero()[0, 0])
            raise ValueError(f"action part {part}: a mask row allows no action")
        self._logits = torch.stack(padded, dim=1).masked_fill(~allow, NEG)
        self._log_probs = torch.log_softmax(self._logits, dim=-1)
        self.logits = self._split(self._logits)  # masked logits
        self.log_probs = self._split(self._log_probs)
        self._probs: torch.Tensor | None = None

    def _split(self, x: torch.Tensor) -> list[torch.Tensor]:
        return [x[:, i, :size] for i, size in enumerate(self.sizes)]

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """(N, parts) int64 actions (Gumbel-max, so a ``generator`` makes it reproducible)."""
        lp = self._log_probs
        u = torch.rand(lp.shape, generator=generator).clamp_(1e-20, 1.0)
        gumbel = -torch.log(-torch.log(u))
        score = torch.where(lp > NEG / 2, lp + gumbel, torch.full_like(lp, NEG))
        return score.argmax(dim=-1)

    def mode(self) -> torch.Tensor:
        return self._log_probs.argmax(dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        """Sum over parts of log pi(a_i) for (N, parts) actions."""
        picked = self._log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
        return picked.sum(-1)

    def _padded_probs(self) -> torch.Tensor:
        # softmax of the masked logits rather than exp(log_probs): exp of the masked
        # entries' huge negative log-probabilities takes CPUs' slow path (about 10x)
        if self._probs is None:
            self._probs = torch.softmax(self._logits, dim=-1)
        return self._probs

    def entropy(self) -> torch.Tensor:
        """Sum over parts of each part's entropy (masked actions contribute 0)."""
        p, lp = self._padded_probs(), self._log_probs
        return -torch.where(p > 0, p * lp, torch.zeros_like(p)).sum(-1).sum(-1)

    def probs(self) -> list[torch.Tensor]:
        return self._split(self._padded_probs())


def kl_divergence(p: MaskedMultiCategorical, q: MaskedMultiCategorical) -> torch.Tensor:
    """KL(p || q) per row, summed over the action parts; actions p never takes add 0."""
    if p.sizes != q.sizes:
        raise ValueError(f"action parts differ: {p.sizes} and {q.sizes}")
    prob, lp, lq = p._padded_probs(), p._log_probs, q._log_probs
    return torch.where(prob > 0, prob * (lp - lq), torch.zeros_like(prob)).sum(-1).sum(-1)

"""Masked categorical distributions over the parts of a MultiDiscrete action.

Masked actions get a logit of ``-inf`` in effect (the float minimum), so their
probability is exactly 0: they are never sampled and add nothing to the entropy.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

NEG = torch.finfo(torch.float32).min


@functools.cache
def _padded_positions(sizes: tuple[int, ...]) -> torch.Tensor:
    """Where each entry of the parts laid end to end goes in the (parts * max k) layout."""
    k = max(sizes)
    return torch.cat([torch.arange(size) + i * k for i, size in enumerate(sizes)])


class MaskedMultiCategorical:
    """Independent categoricals, one per action part, each with its own mask.

    ``logits``: one (N, k_i) tensor per part; ``masks``: one bool (N, k_i) per part, or
    the parts' masks laid end to end in one (N, sum k_i) tensor (an env's flat
    ``action_mask``), or None (all allowed). A row whose mask allows nothing raises
    ValueError.

    The parts are held padded to one (N, parts, max k) tensor (padding masked), so each
    step is one op over all parts rather than one per part: acting for a few dozen
    agents is bound by the number of ops. ``logits``, ``log_probs`` and :meth:`probs`
    are per-part views.
    """

    def __init__(
        self,
        logits: Sequence[torch.Tensor],
        masks: Sequence[torch.Tensor] | torch.Tensor | None = None,
    ) -> None:
        self.sizes = [int(lg.shape[-1]) for lg in logits]
        n, parts, k = int(logits[0].shape[0]), len(self.sizes), max(self.sizes)
        if isinstance(masks, torch.Tensor):
            if masks.shape[-1] != sum(self.sizes):
                raise ValueError(
                    f"a flat mask of {masks.shape[-1]} entries for parts of {self.sizes} "
                    f"({sum(self.sizes)} actions)"
                )
            flat_mask = masks.bool()
        elif masks is not None:
            if len(masks) != parts:
                raise ValueError(f"{parts} logit parts but {len(masks)} masks")
            flat_mask = torch.cat([m.bool() for m in masks], dim=-1)
        else:
            flat_mask = None
        # One scatter into the padded layout instead of a pad and a stack per part.
        where = _padded_positions(tuple(self.sizes))
        flat = torch.cat([lg.float() for lg in logits], dim=-1)
        padded = flat.new_full((n, parts * k), NEG).index_copy(1, where, flat)
        allow = torch.zeros(n, parts * k, dtype=torch.bool)
        if flat_mask is None:
            allow[:, where] = True
        else:
            allow.index_copy_(1, where, flat_mask)
        allow = allow.view(n, parts, k)
        ok = allow.any(dim=-1).all(dim=0)
        if not bool(ok.all()):
            part = int((~ok).nonzero()[0, 0])
            raise ValueError(f"action part {part}: a mask row allows no action")
        self._logits = torch.where(allow, padded.view(n, parts, k), NEG)
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
        # An allowed action's score is at least -log(k) - 3.8 (the Gumbel noise is at
        # least -log(-log(1e-20))); a masked one's stays near NEG: it never wins.
        return (lp - torch.log(-torch.log(u))).argmax(dim=-1)

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

"""Acting with a Deep Sets entity policy in few torch ops.

Acting for a few dozen agents is bound by the number of torch ops, not by arithmetic:
the module path (:meth:`EntityActorCritic.forward` and :class:`MaskedMultiCategorical`)
dispatches about 300 ops for 16 heroes, most of them the modules' and the distribution's
bookkeeping. :class:`FusedActing` computes the same logits, values, samples and
log-probabilities with the same arithmetic in about 50: the obs arrive as they are
(no dtype round trips), the Deep Sets tokens are built as :class:`_SlotPool` builds them
without the autograd node, and the padded (N, parts, max k) logits that
:class:`MaskedMultiCategorical` samples from are gathered by one ``index_select`` from
the heads' outputs, the pointer scores and a column of NEG (the flat action mask by
another), instead of a pad, scatter and split per part. Sampling draws the same Gumbel
noise from the same generator as :meth:`MaskedMultiCategorical.sample`, so both paths
pick the same actions.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from agents.ppo.distributions import NEG
from agents.ppo.network import ActorCritic, EntityActorCritic


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


def supports(net: ActorCritic) -> bool:
    """Whether :class:`FusedActing` can act for ``net``: the Deep Sets entity policy
    (exactly :class:`EntityActorCritic`, with pointer heads) without a GRU or a
    centralized critic: the FogArena default."""
    return (
        type(net) is EntityActorCritic
        and not net.blocks
        and net.gru is None
        and not net.spec.central_critic
        and bool(net.pointers)
    )


class FusedActing:
    """The acting path of a Deep Sets :class:`EntityActorCritic` (module docstring)."""

    def __init__(self, net: EntityActorCritic) -> None:
        if not supports(net):
            raise ValueError("FusedActing needs a Deep Sets EntityActorCritic with pointer "
                             "heads, without GRU or centralized critic")  # fmt: skip
        self.net = net
        spec = net.spec
        sizes = list(spec.nvec)
        self.parts, self.k = len(sizes), max(sizes)
        self.plain_parts = [i for i in range(self.parts) if i not in net.pointers]
        self.pointer_parts = sorted(net.pointers)
        s, p = spec.num_slots, len(self.pointer_parts)
        self.scale = spec.embed**-0.5
        # columns of the logits before padding: plain parts, then "none" of each pointer
        n_plain = sum(sizes[i] for i in self.plain_parts)
        self.n_logits = n_plain + p
        # padded position -> column of cat([logit columns, scores (S, P), NEG column])
        neg_col = self.n_logits + s * p
        src = torch.full((self.parts, self.k), neg_col, dtype=torch.long)
        # padded position -> entry of the flat action mask (padding: any entry, it is NEG)
        mask_src = torch.zeros((self.parts, self.k), dtype=torch.long)
        self.part_starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        off = 0
        for i in self.plain_parts:
            src[i, : sizes[i]] = torch.arange(off, off + sizes[i])
            off += sizes[i]
        for j, i in enumerate(self.pointer_parts):
            src[i, 0] = n_plain + j
            src[i, 1 : s + 1] = self.n_logits + torch.arange(s) * p + j
        for i, size in enumerate(sizes):
            mask_src[i, :size] = torch.arange(self.part_starts[i], self.part_starts[i] + size)
        self.src, self.mask_src = src.view(-1), mask_src.view(-1)
        self._rows: dict[int, torch.Tensor] = {}
        # The layers are looked up once, their parameters on every call (plain F.linear:
        # a module call costs a few microseconds more, and acting makes a dozen).
        self.token, self.grid = net.token[0], net.grid_net[1]
        self.core, self.value1, self.value2 = net.core[0], net.value_head[0], net.value_head[2]
        self.queries = [net.query[str(i)] for i in self.pointer_parts]
        self.columns = [net.plain_heads[str(i)] for i in self.plain_parts]
        self.columns += [net.none_logit[str(i)] for i in self.pointer_parts]

    def _arange(self, n: int) -> torch.Tensor:
        if n not in self._rows:
            self._rows[n] = torch.arange(n)
        return self._rows[n]

    @torch.no_grad()
    def act(
        self,
        obs: dict[str, np.ndarray],
        generator: torch.Generator | None = None,
        greedy: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(actions (N, parts), their log-probabilities (N,), values (N,)) for N agents."""
        # Parameters are read on every call: whatever replaced or rewrote them since, in
        # place or not (fused Adam bumps no version counter), is seen.
        net, spec = self.net, self.net.spec
        hero = np.asarray(obs["hero"])
        if hero.size and int(hero.max()) >= spec.max_team:
            raise ValueError(
                f"hero index {int(hero.max())} is beyond this policy's team size limit "
                f"{spec.max_team}"
            )
        ent = _tensor(obs["entities"]).float()
        n, s, f = ent.shape
        rows = self._arange(n)
        self_index = obs.get("self_index")
        si = (torch.zeros(n, dtype=torch.long) if self_index is None
              else _tensor(self_index).long())  # fmt: skip
        valid = _tensor(obs["entity_mask"]).ne(0).float()
        valid[rows, si] = 1.0  # the agent's own slot is always there
        # Deep Sets tokens: the same ops as _SlotPool.forward, so the same numbers
        token = self.token
        w_feat, w_self = token.weight[:, :f].t(), token.weight[:, f]
        tok = torch.addmm(token.bias, ent.reshape(n * s, f), w_feat).view(n, s, -1)
        tok.index_put_((rows, si), w_self, accumulate=True)
        tok.relu_().mul_(valid.unsqueeze(-1))
        mean = tok.sum(1) / valid.sum(1, keepdim=True).clamp_(min=1)
        grid = _tensor(obs["grid"]).float().view(n, -1)
        x = torch.cat(
            [
                tok[rows, si], mean, tok.amax(1),
                F.linear(grid, self.grid.weight, self.grid.bias).relu_(),
                _tensor(obs["globals"]).float(),
                F.embedding(_tensor(hero).long(), net.hero_embed.weight),
                F.embedding(_tensor(obs["role"]).long(), net.role_embed.weight),
            ],
            dim=1,
        )  # fmt: skip
        h = F.linear(x, self.core.weight, self.core.bias).relu_()
        v = F.linear(h, self.value1.weight, self.value1.bias).relu_()
        value = F.linear(v, self.value2.weight, self.value2.bias).view(n)
        q = torch.stack([F.linear(h, m.weight, m.bias) for m in self.queries], 1)
        scores = torch.bmm(tok, q.transpose(1, 2)).mul_(self.scale)  # (N, S, P)
        columns = [F.linear(h, m.weight, m.bias) for m in self.columns]
        neg = torch.full((n, 1), NEG)
        flat = torch.cat([*columns, scores.reshape(n, -1), neg], dim=1)
        logits = flat.index_select(1, self.src).view(n, self.parts, self.k)
        if obs.get("action_mask") is not None:  # absent: every action allowed
            mask = np.asarray(obs["action_mask"]) != 0
            allowed = np.logical_or.reduceat(mask, self.part_starts, axis=1)
            if not allowed.all():
                part = int(np.flatnonzero(~allowed.all(0))[0])
                raise ValueError(f"action part {part}: a mask row allows no action")
            blocked = ~torch.from_numpy(mask).index_select(1, self.mask_src)
            logits.masked_fill_(blocked.view(n, self.parts, self.k), NEG)
        lp = torch.log_softmax(logits, dim=-1)
        if greedy:
            actions = lp.argmax(dim=-1)
        else:  # MaskedMultiCategorical.sample's Gumbel-max, draw for draw
            u = torch.rand(lp.shape, generator=generator).clamp_(1e-20, 1.0)
            actions = (lp - torch.log(-torch.log(u))).argmax(dim=-1)
        log_probs = lp.gather(-1, actions.unsqueeze(-1)).view(n, -1).sum(-1)
        return actions.numpy(), log_probs.numpy(), value.numpy()

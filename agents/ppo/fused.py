"""Acting with a Deep Sets entity policy in few torch ops.

Acting for a few dozen agents is bound by the number of torch ops, not by arithmetic:
the module path (:meth:`EntityActorCritic.forward` and :class:`MaskedMultiCategorical`)
dispatches about 300 ops for 16 heroes, most of them the modules' and the distribution's
bookkeeping. :class:`FusedActing` computes the same logits, values, samples and
log-probabilities with the same arithmetic in about 50: the obs arrive as they are
(no dtype round trips), the Deep Sets tokens are built as :class:`_SlotPool` builds them
without the autograd node, and the padded (N, parts, max k) logits that
:class:`MaskedMultiCategorical` samples from are gathered by one ``index_select`` from
the heads' outputs, the pointer scores and a column of the masked value (the flat
action mask by another), instead of a pad, scatter and split per part.

It reads the parameters through views (no copies), so optimizer steps and
``load_state_dict``, which write them in place, are seen at once. Sampling draws the
same Gumbel noise from the same generator as :meth:`MaskedMultiCategorical.sample`, so
both paths pick the same actions.
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
    without a GRU or a centralized critic (the FogArena default)."""
    return (
        isinstance(net, EntityActorCritic)
        and not net.blocks
        and net.gru is None
        and not net.spec.central_critic
    )


class FusedActing:
    """The acting path of a Deep Sets :class:`EntityActorCritic` (module docstring)."""

    def __init__(self, net: EntityActorCritic) -> None:
        if not supports(net):
            raise ValueError("FusedActing needs a Deep Sets EntityActorCritic without GRU or "
                             "centralized critic")  # fmt: skip
        self.net = net
        self.params = list(net.parameters())
        self._ptrs: tuple[int, ...] | None = None
        spec = net.spec
        sizes = list(spec.nvec)
        self.parts, self.k = len(sizes), max(sizes)
        self.plain = [i for i in range(self.parts) if i not in net.pointers]
        self.pointers = sorted(net.pointers)
        s, p, d = spec.num_slots, len(self.pointers), spec.embed
        n_plain = sum(sizes[i] for i in self.plain)
        # columns of the logits before padding: plain parts, then "none" of each pointer
        self.n_logits = n_plain + p
        self.scale = d**-0.5
        # padded position -> column of cat([logit columns, scores (S, P), NEG column])
        neg_col = self.n_logits + s * p
        src = torch.full((self.parts, self.k), neg_col, dtype=torch.long)
        # padded position -> entry of the flat action mask (padding: any entry, it is NEG)
        mask_src = torch.zeros((self.parts, self.k), dtype=torch.long)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        off = 0
        for i in self.plain:
            src[i, : sizes[i]] = torch.arange(off, off + sizes[i])
            off += sizes[i]
        for j, i in enumerate(self.pointers):
            src[i, 0] = n_plain + j
            src[i, 1 : s + 1] = self.n_logits + torch.arange(s) * p + j
        for i, size in enumerate(sizes):
            mask_src[i, :size] = torch.arange(starts[i], starts[i] + size)
        self.src, self.mask_src = src.view(-1), mask_src.view(-1)
        self._rows: dict[int, torch.Tensor] = {}

    @torch.no_grad()
    def _refresh(self) -> None:
        """Views of the parameters in the layouts the ops take (no copies: optimizer
        steps write the parameters in place, and fused Adam bumps no version counter);
        rebuilt if a parameter's storage was replaced."""
        ptrs = tuple(p.data_ptr() for p in self.params)
        if ptrs == self._ptrs:
            return
        net, f = self.net, self.net.spec.num_features
        token = net.token[0]
        self.w_feat, self.w_self = token.weight[:, :f].t(), token.weight[:, f]
        self.b_tok = token.bias
        self.tables = (net.hero_embed.weight, net.role_embed.weight)
        self.linears = {
            name: (layer.weight, layer.bias)
            for name, layer in [("grid", net.grid_net[1]), ("core", net.core[0]),
                                ("value", net.value_head[0]), ("out", net.value_head[2])]
        }  # fmt: skip
        self.logit_layers = [net.plain_heads[str(i)] for i in self.plain]
        self.logit_layers += [net.none_logit[str(i)] for i in self.pointers]
        self.query_layers = [net.query[str(i)] for i in self.pointers]
        self._ptrs = ptrs

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
        self._refresh()
        spec = self.net.spec
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
        valid = _tensor(obs["entity_mask"]).to(torch.float32, copy=True)  # written below
        valid[rows, si] = 1.0  # the agent's own slot is always there
        # Deep Sets tokens: the same ops as _SlotPool.forward, so the same numbers
        lin = self.linears
        tok = torch.addmm(self.b_tok, ent.reshape(n * s, f), self.w_feat).view(n, s, -1)
        tok.index_put_((rows, si), self.w_self, accumulate=True)
        tok.relu_().mul_(valid.unsqueeze(-1))
        mean = tok.sum(1) / valid.sum(1, keepdim=True).clamp_(min=1)
        grid = _tensor(obs["grid"]).float().view(n, -1)
        hero_table, role_table = self.tables
        x = torch.cat(
            [
                tok[rows, si], mean, tok.amax(1), F.linear(grid, *lin["grid"]).relu_(),
                _tensor(obs["globals"]).float(),
                hero_table[_tensor(hero).long()],
                role_table[_tensor(obs["role"]).long()],
            ],
            dim=1,
        )  # fmt: skip
        h = F.linear(x, *lin["core"]).relu_()
        value = F.linear(F.linear(h, *lin["value"]).relu_(), *lin["out"]).view(n)
        q = torch.stack([F.linear(h, layer.weight, layer.bias) for layer in self.query_layers], 1)
        scores = torch.bmm(tok, q.transpose(1, 2)).mul_(self.scale)  # (N, S, P)
        logit_cols = [F.linear(h, layer.weight, layer.bias) for layer in self.logit_layers]
        neg = torch.full((n, 1), NEG)
        flat = torch.cat([*logit_cols, scores.reshape(n, -1), neg], dim=1)
        logits = flat.index_select(1, self.src).view(n, self.parts, self.k)
        mask = _tensor(obs["action_mask"])
        blocked = mask.index_select(1, self.mask_src).view(n, self.parts, self.k) == 0
        logits.masked_fill_(blocked, NEG)
        if not bool((logits > NEG).any(-1).all()):
            part = int((~(logits > NEG).any(-1)).any(0).nonzero()[0, 0])
            raise ValueError(f"action part {part}: a mask row allows no action")
        lp = torch.log_softmax(logits, dim=-1)
        if greedy:
            actions = lp.argmax(dim=-1)
        else:  # MaskedMultiCategorical.sample's Gumbel-max, draw for draw
            u = torch.rand(lp.shape, generator=generator).clamp_(1e-20, 1.0)
            actions = (lp - torch.log(-torch.log(u))).argmax(dim=-1)
        log_probs = lp.gather(-1, actions.unsqueeze(-1)).view(n, -1).sum(-1)
        return actions.numpy(), log_probs.numpy(), value.numpy()

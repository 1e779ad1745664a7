"""Actor-critic networks for PPO: an entity encoder for FogArena teams, an MLP otherwise.

:class:`EntityActorCritic` embeds each entity slot with one shared MLP, mixes the slots
with masked self-attention (no positional encoding) and pools them with a masked mean
and max, so permuting the slots permutes nothing but the target logits: the move
distribution is invariant and the attack and ability targets are chosen by pointer
heads (one logit per slot, from the slot's own embedding) that follow their entity.
Teammates share the parameters; a hero-id and a role embedding tell them apart. An
optional GRU gives memory under fog, and an optional centralized critic (MAPPO) gives
the value head the mean of the team's features.

Both networks take a dict of tensors with the agent on the first axis and an
``action_mask`` (N, sum(nvec)) and return one logit tensor per action part.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class PolicySpec:
    """Architecture and observation layout of a policy (saved in checkpoints)."""

    kind: str
    """"entity" (FogArena entity slots), "mlp" (a flat vector) or "cnn" (an image)."""
    nvec: tuple[int, ...]
    """sizes of the action parts of one agent."""
    obs_dim: int = 0
    """length of the flat observation (mlp)."""
    image_shape: tuple[int, ...] = ()
    """(channels, height, width) of the image observation, uint8 (cnn)."""
    image_scale: float = 1.0 / 255.0
    """factor from the image's uint8 values to the network's input (cnn)."""
    num_slots: int = 0
    """entity slots (entity)."""
    num_features: int = 0
    """features per entity slot (entity)."""
    grid_shape: tuple[int, ...] = ()
    """(channels, size, size) of the egocentric grid (entity)."""
    num_globals: int = 0
    """global scalars (entity)."""
    pointer_parts: tuple[int, ...] = ()
    """action parts that pick an entity slot (0 = none, else slot + 1) (entity)."""
    max_team: int = 5
    """largest team whose hero ids the policy can encode."""
    num_roles: int = 5
    """distinct roles of the role embedding."""
    hidden: int = 128
    """width of the core layers."""
    embed: int = 32
    """width of an entity embedding."""
    attention_layers: int = 1
    """self-attention blocks over the entity slots (0: pooling only, Deep Sets)."""
    heads: int = 4
    """attention heads."""
    gru: bool = False
    """a GRU memory after the core."""
    central_critic: bool = False
    """value from the agent's features and its team's mean features (MAPPO)."""
    extra: dict = field(default_factory=dict)
    """free-form layout notes (the env it was built for), compared on load."""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> PolicySpec:
        d = dict(data)
        for key in ("nvec", "grid_shape", "pointer_parts", "image_shape"):
            d[key] = tuple(d.get(key, ()))
        return cls(**d)

    def layout(self) -> dict:
        """What the env must match: kind, action parts and observation shapes."""
        keys = ("kind", "nvec", "obs_dim", "num_slots", "num_features", "grid_shape")
        more = ("num_globals", "pointer_parts", "image_shape", "image_scale")
        return {k: getattr(self, k) for k in (*keys, *more)}


def build_policy(spec: PolicySpec) -> ActorCritic:
    if spec.kind == "entity":
        return EntityActorCritic(spec)
    if spec.kind == "mlp":
        return MLPActorCritic(spec)
    if spec.kind == "cnn":
        return CNNActorCritic(spec)
    raise ValueError(f"unknown policy kind {spec.kind!r}; kinds are 'entity', 'mlp' and 'cnn'")


def _init(layer: nn.Module, gain: float = 2**0.5) -> nn.Module:
    if isinstance(layer, nn.Linear | nn.Conv2d):
        nn.init.orthogonal_(layer.weight, gain)
        nn.init.zeros_(layer.bias)
    return layer


class ActorCritic(nn.Module):
    """Common parts: the recurrent core and the value head.

    ``forward(obs, state, starts, team)`` acts for N agents at one time step;
    ``forward_sequence`` runs T steps (obs with a leading time axis) for training.
    ``starts`` (N,) is 1 where an episode begins (the GRU state is zeroed there).
    ``team`` groups consecutive rows into teams for the centralized critic.
    """

    spec: PolicySpec

    def _build_core(self, in_dim: int) -> None:
        s = self.spec
        self.core = nn.Sequential(_init(nn.Linear(in_dim, s.hidden)), nn.ReLU())
        self.gru = nn.GRUCell(s.hidden, s.hidden) if s.gru else None
        vin = 2 * s.hidden if s.central_critic else s.hidden
        self.value_head = nn.Sequential(
            _init(nn.Linear(vin, s.hidden)), nn.ReLU(), _init(nn.Linear(s.hidden, 1), 1.0)
        )

    @property
    def state_size(self) -> int:
        return self.spec.hidden if self.spec.gru else 0

    def initial_state(self, n: int) -> torch.Tensor:
        return torch.zeros(n, self.state_size)

    def encode(self, obs: dict[str, torch.Tensor]) -> tuple[torch.Tensor, object]:
        """(features (N, hidden), context for the heads)."""
        raise NotImplementedError

    def heads(self, h: torch.Tensor, ctx: object, obs: dict) -> list[torch.Tensor]:
        raise NotImplementedError

    def value(self, h: torch.Tensor, team: int) -> torch.Tensor:
        if self.spec.central_critic:
            n = h.shape[0]
            if n % team:
                raise ValueError(f"{n} agents do not split into teams of {team}")
            mean = h.view(n // team, team, -1).mean(1, keepdim=True).expand(-1, team, -1)
            h = torch.cat([h, mean.reshape(n, -1)], dim=-1)
        return self.value_head(h).squeeze(-1)

    def forward(
        self,
        obs: dict[str, torch.Tensor],
        state: torch.Tensor,
        starts: torch.Tensor,
        team: int = 1,
    ) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        x, ctx = self.encode(obs)
        h = self.core(x)
        if self.gru is not None:
            state = self.gru(h, state * (1.0 - starts.float()).unsqueeze(-1))
            h = state
        return self.heads(h, ctx, obs), self.value(h, team), state

    def forward_sequence(
        self,
        obs: dict[str, torch.Tensor],
        state: torch.Tensor,
        starts: torch.Tensor,
        team: int = 1,
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """T steps of N agents: obs (T, N, ...), state (N, H) before the first step,
        starts (T, N). Returns logits (T*N, k) per part and values (T*N,)."""
        T, N = starts.shape
        flat = {k: v.reshape(T * N, *v.shape[2:]) for k, v in obs.items()}
        x, ctx = self.encode(flat)
        h = self.core(x)
        if self.gru is not None:
            h = h.view(T, N, -1)
            outs = []
            for t in range(T):
                state = self.gru(h[t], state * (1.0 - starts[t].float()).unsqueeze(-1))
                outs.append(state)
            h = torch.stack(outs).reshape(T * N, -1)
        return self.heads(h, ctx, flat), self.value(h, team)


class MLPActorCritic(ActorCritic):
    """A flat observation ``obs["x"]`` (N, obs_dim) through a two-layer MLP."""

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__()
        self.spec = spec
        self.body = nn.Sequential(_init(nn.Linear(spec.obs_dim, spec.hidden)), nn.Tanh())
        self._build_core(spec.hidden)
        self.policy_head = _init(nn.Linear(spec.hidden, sum(spec.nvec)), 0.01)

    def encode(self, obs):
        return self.body(obs["x"].float()), None

    def heads(self, h, ctx, obs):
        return list(torch.split(self.policy_head(h), list(self.spec.nvec), dim=-1))


class CNNActorCritic(ActorCritic):
    """An image ``obs["x"]`` (N, C, H, W) uint8 through three convolutions (the Nature
    DQN's on images of 64 pixels and more; on smaller ones, stride 2 twice and padding,
    so that any size down to 1x1 fits) and a linear layer."""

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__()
        if len(spec.image_shape) != 3 or min(spec.image_shape) < 1:
            raise ValueError(f"a cnn policy needs image_shape (C, H, W), got {spec.image_shape}")
        self.spec = spec
        c, h, w = spec.image_shape
        # Stride 4 first on large images (Atari's 84x84), 2 on small ones (24x24 grids).
        first = 4 if min(h, w) >= 64 else 2
        self.body = nn.Sequential(
            _init(nn.Conv2d(c, 32, 5 if first == 2 else 8, first, padding=2 if first == 2 else 0)),
            nn.ReLU(),
            _init(nn.Conv2d(32, 64, 4 if first == 4 else 3, 2, padding=0 if first == 4 else 1)),
            nn.ReLU(),
            _init(nn.Conv2d(64, 64, 3, 1, padding=1 if first == 2 else 0)),
            nn.ReLU(),
            nn.Flatten(),
        )
        with torch.no_grad():
            n = self.body(torch.zeros(1, c, h, w)).shape[1]
        self.project = nn.Sequential(_init(nn.Linear(n, spec.hidden)), nn.ReLU())
        self._build_core(spec.hidden)
        self.policy_head = _init(nn.Linear(spec.hidden, sum(spec.nvec)), 0.01)

    def encode(self, obs):
        x = obs["x"]
        if x.shape[1:] != self.spec.image_shape:
            raise ValueError(
                f"this policy takes images {self.spec.image_shape}, got {tuple(x.shape[1:])}"
            )
        return self.project(self.body(x.float() * self.spec.image_scale)), None

    def heads(self, h, ctx, obs):
        return list(torch.split(self.policy_head(h), list(self.spec.nvec), dim=-1))


class AttentionBlock(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.norm1 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.norm2 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        y, _ = self.attn(x, x, x, key_padding_mask=pad, need_weights=False)
        x = self.norm1(x + y)
        return self.norm2(x + self.ff(x))


class EntityActorCritic(ActorCritic):
    """FogArena heroes: entity slots, grid, globals, hero id and role (see module doc).

    Observation keys: ``entities`` (N, S, F), ``entity_mask`` (N, S), ``grid``
    (N, C, G, G), ``globals`` (N, Gl), ``hero`` (N,) index in the team, ``role`` (N,),
    ``self_index`` (N,) the slot holding the agent itself, and ``action_mask``.
    """

    def __init__(self, spec: PolicySpec) -> None:
        super().__init__()
        self.spec = spec
        d = spec.embed
        # One layer per slot: the per-slot work is most of an agent-step's cost.
        self.token = nn.Sequential(_init(nn.Linear(spec.num_features + 1, d)), nn.ReLU())
        self.blocks = nn.ModuleList(
            AttentionBlock(d, spec.heads) for _ in range(spec.attention_layers)
        )
        # The binary grid through one linear layer: on CPU a small convolution costs
        # several times more per sample for no gain we could measure.
        self.grid_net = nn.Sequential(
            nn.Flatten(), _init(nn.Linear(int(np.prod(spec.grid_shape)), d)), nn.ReLU()
        )
        self.hero_embed = nn.Embedding(spec.max_team, 16)
        self.role_embed = nn.Embedding(spec.num_roles, 16)
        in_dim = 4 * d + spec.num_globals + 32  # self, mean, max, grid, globals, ids
        self._build_core(in_dim)
        nvec = spec.nvec
        self.pointers = set(spec.pointer_parts)
        self.plain_heads = nn.ModuleDict(
            {
                str(i): _init(nn.Linear(spec.hidden, k), 0.01)
                for i, k in enumerate(nvec)
                if i not in self.pointers
            }
        )
        self.query = nn.ModuleDict(
            {str(i): _init(nn.Linear(spec.hidden, d), 0.01) for i in self.pointers}
        )
        self.none_logit = nn.ModuleDict(
            {str(i): _init(nn.Linear(spec.hidden, 1), 0.01) for i in self.pointers}
        )
        for i in self.pointers:
            if nvec[i] != spec.num_slots + 1:
                raise ValueError(f"pointer part {i} must have num_slots + 1 actions")

    def encode(self, obs):
        ent = obs["entities"].float()
        n, s, _ = ent.shape
        valid = obs["entity_mask"].bool()
        self_index = obs.get("self_index")
        if self_index is None:
            self_index = torch.zeros(n, dtype=torch.long)
        self_index = self_index.long()
        rows = torch.arange(n)
        valid = valid.clone()
        valid[rows, self_index] = True  # the agent's own slot is always there
        if self.blocks:
            self_flag = F.one_hot(self_index, s).float()
            tok = self.token(torch.cat([ent, self_flag.unsqueeze(-1)], dim=-1))
            tok = tok * valid.unsqueeze(-1)
            for block in self.blocks:
                tok = block(tok, ~valid) * valid.unsqueeze(-1)
            mean = tok.sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
            mx = tok.masked_fill(~valid.unsqueeze(-1), -1e4).max(1).values
            me = tok[rows, self_index]
            link = None
        else:  # Deep Sets: one fused op (see _SlotPool)
            count = valid.sum(1, keepdim=True).clamp(min=1).float()
            lin = self.token[0]
            link = {}
            tok, mean, mx, me = _SlotPool.apply(
                ent, valid, count, self_index, lin.weight, lin.bias, link
            )
        hero = obs["hero"].long()
        if hero.numel() and int(hero.max()) >= self.spec.max_team:
            raise ValueError(
                f"hero index {int(hero.max())} is beyond this policy's team size limit "
                f"{self.spec.max_team}"
            )
        extras = torch.cat([self.hero_embed(hero), self.role_embed(obs["role"].long())], -1)
        grid = self.grid_net(obs["grid"].float())
        x = torch.cat([me, mean, mx, grid, obs["globals"].float(), extras], dim=-1)
        return x, (tok, valid, link)

    def heads(self, h, ctx, obs):
        tok, valid, link = ctx
        out: list[torch.Tensor | None] = [None] * len(self.spec.nvec)
        for i in range(len(self.spec.nvec)):
            if i not in self.pointers:
                out[i] = self.plain_heads[str(i)](h)
        if self.pointers:
            parts = sorted(self.pointers)
            # Every pointer head's query in one (N, P, d) tensor and one batched matmul:
            # each pass over tok's (N, S, d) costs more than the matmul itself.
            q = torch.stack([self.query[str(i)](h) for i in parts], dim=1)
            scale = tok.shape[-1] ** -0.5
            if link is None:
                scores = torch.bmm(tok, q.transpose(1, 2)) * scale
            else:
                scores = _PointerScores.apply(tok, q, scale, link)
            for j, i in enumerate(parts):
                out[i] = torch.cat([self.none_logit[str(i)](h), scores[..., j]], dim=-1)
        return out


class _SlotPool(torch.autograd.Function):
    """The Deep Sets slot encoder in one op, with a hand-written backward.

    ``tok = relu(ent @ W[:, :F].T + b + self_flag * W[:, F]) * valid`` (the token layer
    over each slot plus its "this is me" flag), and its masked mean, max and own-slot
    rows. The update is bound by passes over (N, S, d) tensors, so the backward sums
    the gradients of every use of ``tok`` into one buffer: the pointer heads' (handed
    over through ``link`` by :class:`_PointerScores`, which returns no gradient for
    ``tok`` itself), the mean's, the max's and the own slot's. The max's gradient goes
    to every slot equal to the max (``amax``; ``max(dim)`` with indices is slow on CPU):
    ties between positive features have probability zero, and the ReLU cuts the
    gradient of zero features.
    """

    @staticmethod
    def forward(ctx, ent, valid, count, self_index, weight, bias, link):
        n, s, f = ent.shape
        d = weight.shape[0]
        w_feat, w_self = weight[:, :f].t(), weight[:, f]
        tok = ent.new_empty(n, s, d)
        total = ent.new_empty(n, d)
        mx = ent.new_empty(n, d)
        for a in range(0, n, _CHUNK):  # chunks whose temporaries stay in the L2 cache
            b = min(a + _CHUNK, n)
            t = tok[a:b]
            torch.addmm(bias, ent[a:b].reshape(-1, f), w_feat, out=t.view(-1, d))
            t[torch.arange(b - a), self_index[a:b]] += w_self
            t.relu_().mul_(valid[a:b].unsqueeze(-1))
            torch.sum(t, 1, out=total[a:b])
            torch.amax(t, 1, out=mx[a:b])
        me = tok[torch.arange(n), self_index]
        ctx.save_for_backward(ent, tok, mx, count, self_index, weight)
        ctx.link = link
        ctx.set_materialize_grads(False)
        return tok, total / count, mx, me

    @staticmethod
    def backward(ctx, g_tok, g_mean, g_mx, g_me):
        ent, tok, mx, count, self_index, weight = ctx.saved_tensors
        n, s, f = ent.shape
        d = weight.shape[0]
        pointer = ctx.link.pop("pointer", None)
        base = (g_mean / count if g_mean is not None else tok.new_zeros(n, d)).unsqueeze(1)
        g_feat = weight.new_zeros(f, d)
        g_bias = weight.new_zeros(d)
        g_self = weight.new_empty(n, d)
        g_buf = tok.new_empty(min(n, _CHUNK), s, d)
        eq_buf = torch.empty_like(g_buf)
        for a in range(0, n, _CHUNK):
            b = min(a + _CHUNK, n)
            m = b - a
            g, t = g_buf[:m], tok[a:b]
            if pointer is not None:  # the pointer heads' gradient, added in the same pass
                g_scores, q, scale = pointer
                torch.baddbmm(base[a:b].expand(m, s, d), g_scores[a:b], q[a:b], alpha=scale,
                              out=g)  # fmt: skip
            else:
                g.copy_(base[a:b].expand(m, s, d))
            if g_tok is not None:
                g += g_tok[a:b]
            if g_mx is not None:
                # eq into a float tensor: several times faster on CPU than a bool mask
                torch.eq(t, mx[a:b].unsqueeze(1), out=eq_buf[:m])
                g.addcmul_(eq_buf[:m], g_mx[a:b].unsqueeze(1))
            rows = torch.arange(m)
            if g_me is not None:
                g[rows, self_index[a:b]] += g_me[a:b]
            # the ReLU's gradient (and the invalid slots', whose tok is 0), in place
            torch.ops.aten.threshold_backward.grad_input(g, t, 0.0, grad_input=g)
            g2 = g.view(m * s, d)
            g_feat.addmm_(ent[a:b].reshape(m * s, f).t(), g2)
            g_bias += g2.sum(0)
            g_self[a:b] = g[rows, self_index[a:b]]
        g_weight = torch.cat([g_feat.t(), g_self.sum(0).unsqueeze(1)], dim=1)
        return None, None, None, None, g_weight, g_bias, None


_CHUNK = 128  # agents per chunk of _SlotPool: 128 x 32 slots x 32 floats = 0.5 MB


class _PointerScores(torch.autograd.Function):
    """``scale * tok @ q.T`` per agent: (N, S, d) x (N, P, d) -> (N, S, P) scores.

    Its gradient for ``tok`` goes to :class:`_SlotPool` through ``link`` (which adds it
    into its own gradient buffer) instead of through autograd; ``tok`` must come from
    that op.
    """

    @staticmethod
    def forward(ctx, tok, q, scale, link):
        ctx.save_for_backward(tok, q)
        ctx.scale, ctx.link = scale, link
        return torch.bmm(tok, q.transpose(1, 2)).mul_(scale)

    @staticmethod
    def backward(ctx, g):
        tok, q = ctx.saved_tensors
        g = g.contiguous()
        ctx.link["pointer"] = (g, q, ctx.scale)
        g_q = torch.bmm(g.transpose(1, 2), tok).mul_(ctx.scale)
        return None, g_q, None, None

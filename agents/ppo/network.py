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
    """"entity" (FogArena entity slots) or "mlp" (a flat vector)."""
    nvec: tuple[int, ...]
    """sizes of the action parts of one agent."""
    obs_dim: int = 0
    """length of the flat observation (mlp)."""
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
        for key in ("nvec", "grid_shape", "pointer_parts"):
            d[key] = tuple(d.get(key, ()))
        return cls(**d)

    def layout(self) -> dict:
        """What the env must match: kind, action parts and observation shapes."""
        keys = ("kind", "nvec", "obs_dim", "num_slots", "num_features", "grid_shape")
        return {k: getattr(self, k) for k in (*keys, "num_globals", "pointer_parts")}


def build_policy(spec: PolicySpec) -> ActorCritic:
    if spec.kind == "entity":
        return EntityActorCritic(spec)
    if spec.kind == "mlp":
        return MLPActorCritic(spec)
    raise ValueError(f"unknown policy kind {spec.kind!r}; kinds are 'entity' and 'mlp'")


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
        self_flag = F.one_hot(self_index.long(), s).float()
        valid = valid | self_flag.bool()  # the agent's own slot is always there
        tok = self.token(torch.cat([ent, self_flag.unsqueeze(-1)], dim=-1))
        tok = tok * valid.unsqueeze(-1)
        for block in self.blocks:
            tok = block(tok, ~valid) * valid.unsqueeze(-1)
        mean = tok.sum(1) / valid.sum(1, keepdim=True).clamp(min=1)
        if self.blocks:
            mx = tok.masked_fill(~valid.unsqueeze(-1), -1e4).max(1).values
        else:  # ReLU features with empty slots zeroed: a plain max is the masked max
            mx = tok.max(1).values
        me = tok[torch.arange(n), self_index.long()]
        hero = obs["hero"].long()
        if hero.numel() and int(hero.max()) >= self.spec.max_team:
            raise ValueError(
                f"hero index {int(hero.max())} is beyond this policy's team size limit "
                f"{self.spec.max_team}"
            )
        extras = torch.cat([self.hero_embed(hero), self.role_embed(obs["role"].long())], -1)
        grid = self.grid_net(obs["grid"].float())
        x = torch.cat([me, mean, mx, grid, obs["globals"].float(), extras], dim=-1)
        return x, (tok, valid)

    def heads(self, h, ctx, obs):
        tok, valid = ctx
        out = []
        for i in range(len(self.spec.nvec)):
            if i in self.pointers:
                q = self.query[str(i)](h)
                # mul + sum: CPU batched matmuls of (1 x d) by (d x S) are slow
                scores = (tok * q.unsqueeze(1)).sum(-1) / tok.shape[-1] ** 0.5
                out.append(torch.cat([self.none_logit[str(i)](h), scores], dim=-1))
            else:
                out.append(self.plain_heads[str(i)](h))
        return out

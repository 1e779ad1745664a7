"""Player specs: ``human``, a built-in bot by name, or a checkpoint of one of our agents.

A checkpoint is a ``.safetensors`` file or a run folder (its ``checkpoint.safetensors``),
optionally prefixed ``alphazero:``, ``dqn:`` or ``ppo:``; without a prefix the agent is
read from the checkpoint's metadata (``agent`` for AlphaZero and PPO, ``kind`` for
DQN). Whether it fits the env is the session's check (:mod:`viewer.board` ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from viewer.core import UsageError

HUMAN = "human"
AGENTS = ("alphazero", "dqn", "ppo")
CHECKPOINT = "checkpoint.safetensors"


@dataclass
class Checkpoint:
    """A read checkpoint: its agent, file, metadata and tensors."""

    agent: str
    path: Path
    meta: dict[str, Any]
    tensors: dict[str, Any]

    @property
    def env(self) -> str:
        """The env the agent was trained on, as its config names it."""
        if self.agent == "alphazero":
            return f"board:{self.meta['config'].get('game', '?')}"
        if self.agent == "dqn":
            return str(self.meta["config"].get("env", "?"))
        return str(self.meta.get("env", "?"))


def is_checkpoint_spec(spec: str) -> bool:
    if any(spec.startswith(f"{a}:") for a in AGENTS):
        return True
    return "/" in spec or spec.endswith(".safetensors") or Path(spec).exists()


def short_name(spec: str) -> str:
    """A player spec as the panel shows it: a checkpoint by its run folder or file name."""
    if spec == HUMAN or not is_checkpoint_spec(spec):
        return spec
    prefix, text = "", spec
    for agent in AGENTS:
        if spec.startswith(f"{agent}:"):
            prefix, text = f"{agent}:", spec[len(agent) + 1 :]
    path = Path(text)
    if path.name == CHECKPOINT:
        path = path.parent
    return f"{prefix}{path.name}"


def read_checkpoint(spec: str, flag: str) -> Checkpoint:
    """The checkpoint a player spec names; UsageError saying what is wrong."""
    from agents.checkpoint import CheckpointError, load_checkpoint

    expected, text = None, spec
    for agent in AGENTS:
        if spec.startswith(f"{agent}:"):
            expected, text = agent, spec[len(agent) + 1 :]
    if not text:
        raise UsageError(f"{flag}: {expected}:PATH needs a checkpoint file or run folder")
    path = Path(text).expanduser()
    if path.is_dir():
        path = path / CHECKPOINT
    try:
        tensors, meta = load_checkpoint(path)
    except CheckpointError as e:
        raise UsageError(f"{flag}: {e}") from None
    agent = meta.get("agent") or meta.get("kind")
    if agent not in AGENTS:
        raise UsageError(
            f"{flag}: {str(path)!r} is a checkpoint of {agent!r}; the viewer plays "
            f"{', '.join(AGENTS)} checkpoints"
        )
    if expected is not None and agent != expected:
        raise UsageError(f"{flag}: {str(path)!r} is a {agent} checkpoint, not {expected}")
    return Checkpoint(agent, path, meta, tensors)


def refuse(ck: Checkpoint, flag: str, env_id: str, plays: str) -> UsageError:
    """The error for a checkpoint of an agent that does not play this env family."""
    return UsageError(
        f"{flag}: {str(ck.path)!r} holds a {ck.agent} agent trained on {ck.env}; "
        f"{env_id} needs {plays}"
    )


# ---- loading the networks -----------------------------------------------------------
def load_alphazero(ck: Checkpoint, flag: str):
    from agents.alphazero.checkpoint import load_network
    from agents.checkpoint import CheckpointError

    try:
        net, config, _ = load_network(ck.path)
    except CheckpointError as e:
        raise UsageError(f"{flag}: {e}") from None
    return net, config


def load_ppo(ck: Checkpoint, flag: str, expected):
    """The policy (eval mode) and spec; ``expected``: the env's PolicySpec layout."""
    from agents.checkpoint import CheckpointError
    from agents.ppo.checkpoint import load_policy

    try:
        net, spec, _ = load_policy(ck.path, expected)
    except CheckpointError as e:
        raise UsageError(f"{flag}: {e}") from None
    return net, spec


def load_dqn(ck: Checkpoint, flag: str):
    """The online Q-network of a DQN checkpoint (eval mode)."""
    from agents.checkpoint import CheckpointError
    from agents.dqn.train import load_q_network

    try:
        q, _ = load_q_network(ck.path)
    except (KeyError, TypeError) as e:
        raise UsageError(f"{flag}: {str(ck.path)!r} has unusable DQN metadata: {e}") from None
    except CheckpointError as e:
        raise UsageError(f"{flag}: {e}") from None
    return q.eval()


class PolicyView:
    """Acting with a PPO policy while keeping what it saw: action probabilities per part
    and the value of the last step (what the panel shows)."""

    def __init__(self, net, seed: int) -> None:
        import torch

        self.net = net
        self.generator = torch.Generator().manual_seed(seed)
        self.probs: list[np.ndarray] = []
        self.value = 0.0
        self.state = None

    def reset(self, seed: int, n: int) -> None:
        self.generator.manual_seed(seed)
        self.state = self.net.initial_state(n)
        self.first = True

    def act(self, obs: dict[str, np.ndarray], team: int = 1) -> np.ndarray:
        import torch

        from agents.ppo.actor import distribution, to_tensors

        n = len(next(iter(obs.values())))
        if self.state is None or self.state.shape[0] != n:
            self.reset(int(torch.randint(1 << 30, (1,), generator=self.generator)), n)
        starts = torch.full((n,), float(self.first))
        with torch.no_grad():
            t = to_tensors(obs)
            logits, value, self.state = self.net(t, self.state, starts, team)
            dist = distribution(self.net, logits, t)
            actions = dist.sample(self.generator)
        self.first = False
        self.probs = [p.numpy() for p in dist.probs()]
        self.value = value.numpy()
        return actions.numpy()

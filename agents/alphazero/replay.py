"""The replay window: the most recent self-play positions, sampled with board symmetries."""

from __future__ import annotations

import numpy as np
import torch

from agents.alphazero.worker import Samples
from sim.board import BoardGame


class ReplayBuffer:
    """A ring of the last ``capacity`` positions.

    Planes are kept as float16 (they are small integers, exact in half precision), which
    halves the memory of a window. :meth:`sample` draws uniformly and, with ``augment``,
    maps each drawn position through a random symmetry of the board (the game's
    ``symmetries``: 2 for Connect Four, 8 for square boards).
    """

    def __init__(self, game: BoardGame, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be >= 1, got {capacity}")
        self.game, self.capacity = game, int(capacity)
        self.obs = np.zeros((self.capacity, *game.obs_shape), dtype=np.float16)
        self.policy = np.zeros((self.capacity, game.num_actions), dtype=np.float32)
        self.value = np.zeros(self.capacity, dtype=np.float32)
        self.size = 0
        self.next = 0  # slot the next position goes to
        self.added = 0  # positions ever added

    def __len__(self) -> int:
        return self.size

    def add(self, samples: Samples) -> None:
        n = len(samples)
        if n == 0:
            return
        if samples.obs.shape[1:] != self.obs.shape[1:]:
            raise ValueError(
                f"ReplayBuffer: samples of shape {samples.obs.shape[1:]}, "
                f"expected {self.obs.shape[1:]}"
            )
        keep = min(n, self.capacity)
        slots = (self.next + np.arange(keep)) % self.capacity
        self.obs[slots] = samples.obs[n - keep :]
        self.policy[slots] = samples.policy[n - keep :]
        self.value[slots] = samples.value[n - keep :]
        self.next = int((self.next + keep) % self.capacity)
        self.size = min(self.capacity, self.size + keep)
        self.added += n

    def sample(
        self, batch: int, rng: np.random.Generator, augment: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(obs float32[B, C, H, W], policy float32[B, A], value float32[B]) as tensors."""
        if self.size == 0:
            raise ValueError("ReplayBuffer: cannot sample from an empty buffer")
        index = rng.integers(0, self.size, size=batch)
        obs = self.obs[index].astype(np.float32)
        policy = self.policy[index].copy()
        if augment:
            choice = rng.integers(0, 1 << 30, size=batch)
            for i in range(batch):
                options = self.game.symmetries(obs[i], policy[i])
                obs[i], policy[i] = options[choice[i] % len(options)]
        return torch.from_numpy(obs), torch.from_numpy(policy), torch.from_numpy(self.value[index])

    # ---- checkpointing ----------------------------------------------------------------
    def state_dict(self) -> tuple[dict[str, torch.Tensor], dict]:
        """The ring as it stands (slots, write position), so sampling resumes exactly."""
        tensors = {
            "replay/obs": torch.from_numpy(self.obs[: self.size].copy()),
            "replay/policy": torch.from_numpy(self.policy[: self.size].copy()),
            "replay/value": torch.from_numpy(self.value[: self.size].copy()),
        }
        return tensors, {"added": self.added, "next": self.next, "capacity": self.capacity}

    def load_state_dict(self, tensors: dict[str, torch.Tensor], meta: dict) -> None:
        obs = tensors["replay/obs"].numpy()
        if obs.shape[1:] != self.obs.shape[1:]:
            raise ValueError(
                f"the checkpoint's replay holds positions of shape {obs.shape[1:]}, "
                f"this game's are {self.obs.shape[1:]}"
            )
        if meta["capacity"] != self.capacity:
            raise ValueError(
                f"the checkpoint's replay window holds {meta['capacity']} positions, "
                f"this run's {self.capacity}"
            )
        n = len(obs)
        self.obs[:n] = obs
        self.policy[:n] = tensors["replay/policy"].numpy()
        self.value[:n] = tensors["replay/value"].numpy()
        self.size, self.next, self.added = n, int(meta["next"]), int(meta["added"])

"""Q-networks: the Nature CNN for 84x84 Atari stacks, MinAtar's small CNN for 10x10 grids,
each with a plain or dueling head."""

from __future__ import annotations

import torch
from torch import nn


class QNetwork(nn.Module):
    """Q-values of every action from a uint8 observation (scaled by ``1/scale`` inside)."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        num_actions: int,
        arch: str = "nature",
        dueling: bool = True,
        scale: float = 255.0,
    ):
        super().__init__()
        c, h, w = obs_shape
        if arch == "nature":
            self.torso = nn.Sequential(
                nn.Conv2d(c, 32, 8, stride=4),
                nn.ReLU(),
                nn.Conv2d(32, 64, 4, stride=2),
                nn.ReLU(),
                nn.Conv2d(64, 64, 3, stride=1),
                nn.ReLU(),
                nn.Flatten(),
            )
            hidden = 512
        elif arch == "minatar":
            self.torso = nn.Sequential(nn.Conv2d(c, 16, 3, stride=1), nn.ReLU(), nn.Flatten())
            hidden = 128
        else:
            raise ValueError(f"unknown network {arch!r}; use nature or minatar")
        with torch.no_grad():
            features = self.torso(torch.zeros(1, c, h, w)).shape[1]
        self.dueling = dueling
        self.hidden = hidden
        # The value and advantage streams' first layers share one matmul (two blocks of
        # one weight: the same function as separate streams, half the small-op overhead).
        self.fc = nn.Linear(features, 2 * hidden if dueling else hidden)
        self.advantage = nn.Linear(hidden, num_actions)
        self.value = nn.Linear(hidden, 1) if dueling else None
        self.inv_scale = 1.0 / scale

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc(self.torso(obs.float() * self.inv_scale)))
        if self.value is None:
            return self.advantage(h)
        adv = self.advantage(h[:, self.hidden :])
        return self.value(h[:, : self.hidden]) + adv - adv.mean(dim=1, keepdim=True)

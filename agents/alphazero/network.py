"""The AlphaZero policy-value network: a residual tower with a policy and a value head.

It fits any :mod:`sim.board` game from the game's observation planes (``obs_shape``)
and action count; actions past the board's points (a pass) come out of the policy
head's fully connected layer like every other action.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of :class:`PolicyValueNet` (saved in checkpoints to rebuild it)."""

    obs_shape: tuple[int, int, int]
    """(planes, height, width) of the game's observation."""
    num_actions: int
    """size of the game's action space."""
    blocks: int = 6
    """residual blocks in the tower."""
    channels: int = 64
    """convolution channels in the tower."""
    value_hidden: int = 64
    """width of the value head's hidden layer."""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> NetworkConfig:
        return cls(**{**data, "obs_shape": tuple(data["obs_shape"])})


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(x + y)


class PolicyValueNet(nn.Module):
    """``forward(obs[B, C, H, W]) -> (policy_logits[B, A], value[B] in [-1, 1])``.

    The value is from the view of the player to move, like the observation planes.
    """

    def __init__(self, config: NetworkConfig) -> None:
        super().__init__()
        self.config = config
        planes, height, width = config.obs_shape
        c = config.channels
        self.stem = nn.Sequential(
            nn.Conv2d(planes, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()
        )
        self.tower = nn.Sequential(*(ResidualBlock(c) for _ in range(config.blocks)))
        self.policy_head = nn.Sequential(
            nn.Conv2d(c, 2, 1, bias=False),
            nn.BatchNorm2d(2),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(2 * height * width, config.num_actions),
        )
        self.value_head = nn.Sequential(
            nn.Conv2d(c, 1, 1, bias=False),
            nn.BatchNorm2d(1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(height * width, config.value_hidden),
            nn.ReLU(),
            nn.Linear(config.value_hidden, 1),
            nn.Tanh(),
        )

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if obs.dim() != 4 or tuple(obs.shape[1:]) != self.config.obs_shape:
            raise ValueError(
                f"PolicyValueNet expects observations of shape (B, {self.config.obs_shape}), "
                f"got {tuple(obs.shape)}"
            )
        x = self.tower(self.stem(obs))
        return self.policy_head(x), self.value_head(x).squeeze(-1)

    @torch.no_grad()
    def evaluate(self, obs: np.ndarray, legal_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Priors (softmax over the legal actions) and values as NumPy, for the search."""
        was_training = self.training
        self.eval()
        logits, value = self(torch.as_tensor(obs, dtype=torch.float32))
        mask = torch.as_tensor(np.asarray(legal_mask, dtype=bool))
        logits = logits.masked_fill(~mask, float("-inf"))
        priors = torch.softmax(logits, dim=-1).nan_to_num(0.0)
        self.train(was_training)
        return priors.numpy(), value.numpy()

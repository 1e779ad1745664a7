"""The learner: the network, its optimizer, and one training step on replayed positions."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from agents.alphazero.config import AlphaZeroConfig
from agents.alphazero.network import NetworkConfig, PolicyValueNet


class Learner:
    """AdamW on ``cross-entropy(policy) + MSE(value)`` (AlphaZero's loss; the L2 term is
    AdamW's weight decay)."""

    def __init__(self, config: AlphaZeroConfig, net_config: NetworkConfig) -> None:
        self.net = PolicyValueNet(net_config)
        self.optimizer = torch.optim.AdamW(
            self.net.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.steps = 0

    def train_step(
        self, obs: torch.Tensor, policy: torch.Tensor, value: torch.Tensor
    ) -> dict[str, float]:
        """One gradient step; the losses and diagnostics of the batch."""
        self.net.train()
        logits, predicted = self.net(obs)
        log_p = F.log_softmax(logits, dim=-1)
        policy_loss = -(policy * log_p).sum(-1).mean()
        value_loss = F.mse_loss(predicted, value)
        loss = policy_loss + value_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.steps += 1
        with torch.no_grad():
            p = log_p.exp()
            entropy = -(p * log_p.clamp_min(-1e9)).sum(-1).mean()
            # Cross-entropy minus the target's entropy: how far the policy is from it.
            target_entropy = -(policy * policy.clamp_min(1e-12).log()).sum(-1).mean()
            decided = value != 0
            value_accuracy = (
                (predicted[decided].sign() == value[decided]).float().mean()
                if decided.any()
                else torch.tensor(float("nan"))
            )
        return {
            "loss": float(loss.detach()),
            "policy_loss": float(policy_loss.detach()),
            "value_loss": float(value_loss.detach()),
            "policy_kl": float(policy_loss.detach() - target_entropy),
            "policy_entropy": float(entropy),
            "value_accuracy": float(value_accuracy),
        }

    def weights(self) -> dict[str, torch.Tensor]:
        return {k: v.detach().clone() for k, v in self.net.state_dict().items()}

"""DQN from pixels: Double Q, dueling heads, n-step returns, optional prioritized replay,
over a frame-deduplicated replay memory; see :mod:`agents.dqn.train`."""

from agents.dqn.config import PRESETS, DQNConfig
from agents.dqn.replay import FrameReplay

__all__ = ["PRESETS", "DQNConfig", "FrameReplay"]

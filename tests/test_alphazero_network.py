"""The policy-value network fits every board game from its planes and action count."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agents.alphazero.network import NetworkConfig, PolicyValueNet
from sim.board import make_game

GAMES = [
    ("connect4", {}),
    ("tictactoe", {}),
    ("othello", {"size": 6}),
    ("gomoku", {"size": 9}),
    ("go", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), GAMES, ids=[g for g, _ in GAMES])
def test_shapes_and_masked_priors(name, kwargs):
    game = make_game(name, **kwargs)
    net = PolicyValueNet(NetworkConfig(game.obs_shape, game.num_actions, blocks=1, channels=8))
    state = game.initial_state()
    obs = np.stack([game.observation(state)] * 3)
    logits, value = net(torch.as_tensor(obs))
    assert logits.shape == (3, game.num_actions) and value.shape == (3,)
    assert torch.all(value.abs() <= 1)
    mask = np.stack([game.legal_mask(state)] * 3)
    priors, values = net.evaluate(obs, mask)
    assert priors.shape == (3, game.num_actions) and values.shape == (3,)
    np.testing.assert_allclose(priors.sum(-1), 1.0, rtol=1e-5)
    assert np.all(priors[~mask] == 0)


def test_wrong_observation_shape_is_named():
    net = PolicyValueNet(NetworkConfig((2, 6, 7), 7, blocks=1, channels=8))
    with pytest.raises(ValueError, match=r"\(2, 6, 7\)"):
        net(torch.zeros(1, 3, 6, 7))


def test_config_json_round_trip():
    cfg = NetworkConfig((5, 9, 9), 82, blocks=2, channels=16)
    assert NetworkConfig.from_json(cfg.to_json()) == cfg

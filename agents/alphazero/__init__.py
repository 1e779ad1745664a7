"""AlphaZero: self-play with a policy-value network and the MCTS of :mod:`sim.search`."""

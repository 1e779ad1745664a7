"""Search over pure game states: batched, evaluator-agnostic MCTS in Numba (see mcts)."""

"""A sum tree over a flat array of priorities (prioritized replay), Numba kernels."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _set(tree, leaves, index, values):  # pragma: no cover - Numba
    for i in range(index.shape[0]):
        node = leaves + index[i]
        delta = values[i] - tree[node]
        while node >= 1:
            tree[node] += delta
            node //= 2


@njit(cache=True)
def _find(tree, leaves, prefix, out):  # pragma: no cover - Numba
    for i in range(prefix.shape[0]):
        node = 1
        u = prefix[i]
        while node < leaves:
            left = 2 * node
            if u < tree[left] or tree[left + 1] <= 0.0:
                node = left
            else:
                u -= tree[left]
                node = left + 1
        out[i] = node - leaves


class SumTree:
    """Priorities of ``size`` items; sampling in proportion to them in O(log size)."""

    def __init__(self, size: int):
        self.size = size
        self.leaves = 1 << max(0, int(size - 1).bit_length())
        self.tree = np.zeros(2 * self.leaves, np.float64)

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def set(self, index: np.ndarray, values: np.ndarray) -> None:
        """Set the priorities of ``index`` (one at a time: repeated indices keep the last)."""
        _set(
            self.tree,
            self.leaves,
            np.ascontiguousarray(index, np.int64),
            np.ascontiguousarray(values, np.float64),
        )

    def get(self, index: np.ndarray) -> np.ndarray:
        return self.tree[self.leaves + np.asarray(index, np.int64)]

    def find(self, prefix: np.ndarray) -> np.ndarray:
        """Items whose cumulative-priority interval contains each prefix sum."""
        out = np.empty(len(prefix), np.int64)
        _find(self.tree, self.leaves, np.ascontiguousarray(prefix, np.float64), out)
        return np.minimum(out, self.size - 1)

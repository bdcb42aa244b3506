"""numpy's row sums computed down the columns of a transposed array, bit for bit.

``a.sum(axis=1)`` of a C-contiguous (n, k) float array with small k calls numpy's inner
loop once per row (slow when n is large: ~50 ns a row). :func:`colsum` takes the transposed
(k, n) layout and adds whole rows of it in exactly the order of numpy's pairwise summation
(``DOUBLE_pairwise_sum``: a plain loop below 8 terms, eight accumulators up to 128, halves
beyond), so ``colsum(a.T) == a.sum(axis=1)`` exactly while costing k vectorized additions.
``tests/unit/test_fast_path.py`` checks the identity for k = 1..300.
"""

from __future__ import annotations

import numpy as np


def colsum(at: np.ndarray) -> np.ndarray:
    """Sum of the rows of ``at`` (k, n): equal bit for bit to ``at.T.sum(axis=1)``."""
    return _pairwise(at, 0, at.shape[0])


def _pairwise(at: np.ndarray, start: int, n: int) -> np.ndarray:
    if n < 8:
        res = 0.0 + at[start] if n else np.zeros(at.shape[1:])
        for i in range(start + 1, start + n):
            res = res + at[i]
        return res
    if n <= 128:
        r = [at[start + j].copy() for j in range(8)]
        i = 8
        while i < n - n % 8:
            for j in range(8):
                r[j] += at[start + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for j in range(i, n):
            res += at[start + j]
        return res
    half = n // 2
    half -= half % 8
    return _pairwise(at, start, half) + _pairwise(at, start + half, n - half)

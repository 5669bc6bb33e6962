"""Least-squares non-decreasing fits of many short rows at once (compiled with numba).

Pool adjacent violators (Ayer et al. 1955; Best & Chakravarti 1990) on each run of each row:
a run starts at column 0 and wherever `starts` says, so one row can hold several independent
stretches (the months of a forecast between two falls of its mean).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def isotonic_runs(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The non-decreasing least-squares fit of each run of each row of x (m, h)."""
    m, h = x.shape
    out = np.empty_like(x)
    for i in prange(m):
        level = np.empty(h)
        weight = np.empty(h)
        first = np.empty(h, np.int64)
        j0 = 0
        while j0 < h:
            j1 = j0 + 1
            while j1 < h and not starts[i, j1]:
                j1 += 1
            k = -1
            for j in range(j0, j1):
                k += 1
                level[k] = x[i, j]
                weight[k] = 1.0
                first[k] = j
                while k > 0 and level[k - 1] > level[k]:  # pool the violating pair
                    w = weight[k - 1] + weight[k]
                    level[k - 1] = (level[k - 1] * weight[k - 1] + level[k] * weight[k]) / w
                    weight[k - 1] = w
                    k -= 1
            for b in range(k + 1):
                end = first[b + 1] if b < k else j1
                for j in range(first[b], end):
                    out[i, j] = level[b]
            j0 = j1
    return out

"""Interval-width calibration from backtests: stretch quantiles about the median."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS, QUANTILES
from models.metrics import score

# Widening only: the backtests of count series show under-dispersed candidates (flat
# Poisson or hurdle laws in a surge), while over-wide ones lose little CRPS.
WIDTH_GRID: tuple[float, ...] = (1.0, 1.25, 1.5, 2.0)
_MEDIAN = QUANTILES.index(0.5)


def stretch(frame: pd.DataFrame, factor: float) -> pd.DataFrame:
    """Return a copy of a forecast or backtest frame with quantiles stretched about the median.

    q' = median + factor * (q - median), then clipped at zero and rounded to whole counts.
    """
    if factor == 1.0:
        return frame
    q = np.column_stack([frame[c].to_numpy(dtype=float) for c in QUANTILE_COLUMNS])
    median = q[:, _MEDIAN : _MEDIAN + 1]
    stretched = np.floor(np.clip(median + factor * (q - median), 0.0, None) + 0.5)
    out = frame.copy()
    for j, col in enumerate(QUANTILE_COLUMNS):
        out[col] = stretched[:, j]
    return out


def choose_width(
    backtest: pd.DataFrame, grid: Sequence[float] = WIDTH_GRID, metric: str = "crps"
) -> float:
    """Return the factor of `grid` with the lowest backtest `metric` (the first on ties).

    A proper score (CRPS) rewards calibration and sharpness together, so the factor widens
    intervals only as far as the backtest misses justify.
    """
    best, best_value = 1.0, np.inf
    for factor in grid:
        value = score(stretch(backtest, factor), [metric])[metric]
        if value < best_value - 1e-12:
            best, best_value = factor, value
    return best

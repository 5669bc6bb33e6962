"""The naive peers the engine must beat, vectorized over a panel's series.

They are the same forecasts as the per-series `seasonal_naive` and `poisson_last` models in
`models.baselines` (a test holds them equal), computed for many series at once so the engine
and the accuracy benchmark can score every series against them at no real cost:

- seasonal naive: the same month last year, with the spread of the in-sample year-on-year
  changes;
- no change (`poisson_last`): the mean of the last three months, flat, with Poisson noise.
"""

from __future__ import annotations

import numpy as np

from models.base import QUANTILES
from models.distributions import poisson_quantiles

SEASON = 12
NO_CHANGE_WINDOW = 3
PEERS = ("seasonal_naive", "poisson_last")


def _count_grid(mean: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """As `models.base.forecast_frame`: clip at zero, whole counts, monotone levels."""
    q = np.floor(np.clip(q, 0.0, None) + 0.5)
    return np.clip(mean, 0.0, None), np.maximum.accumulate(q, axis=-1)


def seasonal_naive(y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Means (n, h) and quantiles (n, h, 7) from the history `y` (n, t), NaN = unknown."""
    n, t = y.shape
    last = y[:, t - SEASON :].copy()
    for i in range(SEASON):  # an unknown month takes the latest known same month
        gap = np.isnan(last[:, i])
        if gap.any():
            same = y[:, t - SEASON + i :: -SEASON]
            known = ~np.isnan(same)
            first = np.where(known.any(axis=1), known.argmax(axis=1), 0)
            fill = same[np.arange(n), first]
            fill = np.where(known.any(axis=1), fill, np.nanmean(last, axis=1))
            last[:, i] = np.where(gap, fill, last[:, i])
    last = np.where(np.isnan(last), np.nan_to_num(np.nanmean(y, axis=1))[:, None], last)
    diffs = y[:, SEASON:] - y[:, :-SEASON]
    with np.errstate(all="ignore"):
        if np.isnan(diffs).any():  # nanquantile loops over rows: only when it must
            spread = np.nanquantile(diffs, QUANTILES, axis=1).T  # (n, 7)
        else:
            spread = np.quantile(diffs, QUANTILES, axis=1).T
    spread = np.nan_to_num(spread)
    point = last[:, :h]
    return _count_grid(point, point[:, :, None] + spread[:, None, :])


def no_change(y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The mean of the last three observed months, flat, with Poisson quantiles."""
    if np.isnan(y[:, -NO_CHANGE_WINDOW:]).any():
        level = np.array([_recent_mean(row) for row in y])
    else:
        level = y[:, -NO_CHANGE_WINDOW:].mean(axis=1)
    # Means of three counts repeat a lot; and the quantile table's size follows the largest
    # mean, so small and large means are tabulated apart.
    values, inverse = np.unique(level, return_inverse=True)
    table = np.zeros((len(values), len(QUANTILES)))
    for lo, hi in ((0, 10), (10, 100), (100, 1000), (1000, np.inf)):
        part = (values >= lo) & (values < hi)
        if part.any():
            table[part] = poisson_quantiles(values[part])
    q = table[inverse]  # (n, 7)
    mean = np.repeat(level[:, None], h, axis=1)
    return mean, np.repeat(q[:, None, :], h, axis=1)


def _recent_mean(row: np.ndarray) -> float:
    observed = row[~np.isnan(row)]
    return float(observed[-NO_CHANGE_WINDOW:].mean()) if len(observed) else 0.0


def peer_forecasts(y: np.ndarray, h: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every peer's (means, quantiles) after the history `y`."""
    return {"seasonal_naive": seasonal_naive(y, h), "poisson_last": no_change(y, h)}

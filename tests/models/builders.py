"""Plain builders of small simulated monthly count series for the models tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.seasons import season_features


def month_index(n: int, start: str = "2013-01-01") -> pd.DatetimeIndex:
    """Return `n` month starts from `start`."""
    return pd.date_range(start, periods=n, freq="MS")


def make_counts(
    n: int = 60,
    mean: float = 4.0,
    *,
    seed: int = 0,
    rate_ratio: float = 1.0,
    alpha: float = 0.3,
    start: str = "2013-01-01",
) -> pd.Series:
    """Return NB2 counts with a rainy-season (June-September) rate ratio."""
    rng = np.random.default_rng(seed)
    idx = month_index(n, start)
    share = season_features(idx)["season_share"].to_numpy()
    mu = mean * rate_ratio**share
    size = 1.0 / alpha
    return pd.Series(rng.negative_binomial(size, size / (size + mu)).astype(float), index=idx)

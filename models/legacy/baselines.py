"""Baselines every candidate must beat: seasonal naive and a recent-mean Poisson."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.base import QUANTILES
from models.distributions import poisson_quantiles
from models.legacy.forecaster import Forecaster
from models.legacy.registry import register_model

SEASON = 12


@register_model
class SeasonalNaive(Forecaster):
    """Same month last year, with the spread of the in-sample year-on-year changes.

    Args:
        min_residuals: fewest year-on-year differences used for the spread; fewer and the
            series is refused (a spread from a handful of differences is noise).
    """

    alias = "seasonal_naive"
    min_obs = 2 * SEASON

    def __init__(self, min_residuals: int = SEASON):
        self.min_residuals = min_residuals

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        v = y.to_numpy()
        diffs = v[SEASON:] - v[:-SEASON]
        diffs = diffs[~np.isnan(diffs)]
        if len(diffs) < self.min_residuals:
            raise ValueError(
                f"only {len(diffs)} year-on-year differences, need {self.min_residuals}"
            )
        self.residual_quantiles_ = np.quantile(diffs, QUANTILES)
        self.base_ = _last_year(v)

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        point = self.base_[:h]
        q = point[:, None] + self.residual_quantiles_[None, :]
        return point, q

    def _fitted(self) -> np.ndarray:
        v = self.y_.to_numpy()
        return np.concatenate([np.full(SEASON, np.nan), v[:-SEASON]])

    def _summary(self) -> dict[str, Any]:
        return {
            "level": float(np.nanmean(self.base_)),
            "residual_quantiles": self.residual_quantiles_,
        }


def _last_year(v: np.ndarray) -> np.ndarray:
    """Return the last 12 months, each unknown month replaced by the latest known same month."""
    base = v[-SEASON:].copy()
    for i in np.flatnonzero(np.isnan(base)):
        same_month = v[len(v) - SEASON + i :: -SEASON]
        known = same_month[~np.isnan(same_month)]
        base[i] = known[0] if len(known) else np.nanmean(v[-SEASON:])
    return np.nan_to_num(base, nan=float(np.nanmean(v)))


@register_model
class PoissonLast(Forecaster):
    """Mean of the last `window` observed months, flat, with Poisson noise.

    Args:
        window: number of most recent observed months averaged (1 = last value).
    """

    alias = "poisson_last"
    min_obs = 1

    def __init__(self, window: int = 3):
        self.window = window

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        observed = y.dropna().to_numpy()
        self.level_ = float(observed[-self.window :].mean())

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        mean = np.full(h, self.level_)
        return mean, np.tile(poisson_quantiles(mean[:1]), (h, 1))

    def _fitted(self) -> np.ndarray:
        rolled = self.y_.rolling(self.window, min_periods=1).mean().shift(1)
        return rolled.to_numpy()

    def _summary(self) -> dict[str, Any]:
        return {"level": self.level_}

"""Quantile-averaging ensemble of other registered models."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS
from models.legacy.forecaster import Forecaster
from models.legacy.registry import get_model, model_class, register_model


def average_forecasts(frames: list[pd.DataFrame]) -> tuple[np.ndarray, np.ndarray]:
    """Average means and quantiles level by level (Vincentization) of aligned forecast frames.

    Quantile averaging keeps the members' shape and, unlike a mixture, does not widen the
    interval by the members' disagreement, which backtests on count series tend to reward.
    """
    mean = np.mean([f["mean"].to_numpy() for f in frames], axis=0)
    q = np.mean([f[list(QUANTILE_COLUMNS)].to_numpy() for f in frames], axis=0)
    return mean, q


@register_model
class Ensemble(Forecaster):
    """Equal-weight quantile average of member models; a member that fails is dropped.

    Selection builds this from the best backtested candidates; used alone it combines the
    fixed `members`.

    Args:
        members: aliases of the registered models to combine.
        seed: passed to members that take one.
    """

    alias = "ensemble"
    min_obs = 12
    uses_exog = True

    def __init__(self, members: tuple[str, ...] = ("negbin", "tsb", "ets"), seed: int = 0):
        self.members = tuple(members)
        self.seed = seed

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if self.alias in self.members:
            raise ValueError("an ensemble cannot contain itself")
        self.fitted_members_: dict[str, Forecaster] = {}
        self.dropped_: dict[str, str] = {}
        for alias in self.members:
            if int(y.notna().sum()) < model_class(alias).min_obs:
                self.dropped_[alias] = "too few observed months"
                continue
            try:
                self.fitted_members_[alias] = get_model(alias, seed=self.seed).fit(
                    y, X if self.exog_given_ else None
                )
            except Exception as exc:  # recorded in dropped_ and in summary(), never hidden
                self.dropped_[alias] = f"{type(exc).__name__}: {exc}"
        if not self.fitted_members_:
            raise RuntimeError(f"every ensemble member failed: {self.dropped_}")

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        xf = X_future if self.exog_given_ else None
        frames = [m.predict(h, xf) for m in self.fitted_members_.values()]
        return average_forecasts(frames)

    def _fitted(self) -> np.ndarray:
        stacked = np.array([m.fitted().to_numpy() for m in self.fitted_members_.values()])
        with warnings.catch_warnings():
            # Months no member fits (e.g. the first year of seasonal naive) stay NaN.
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(stacked, axis=0)

    def _summary(self) -> dict[str, Any]:
        return {
            "members": {a: m.summary() for a, m in self.fitted_members_.items()},
            "dropped_members": self.dropped_,
        }

"""Damped-trend exponential smoothing on log1p counts (statsmodels ExponentialSmoothing)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.holtwinters import ExponentialSmoothing

from models.distributions import log_gaussian_counts
from models.legacy.forecaster import Forecaster
from models.legacy.registry import register_model


@register_model
class ETS(Forecaster):
    """Level-only (or additive damped-trend) exponential smoothing of log1p(y).

    Counts are modelled on the log1p scale, where bursts are closer to Gaussian; intervals are
    analytic ETS(A,Ad,N) variances mapped back through expm1, then rounded to counts by the
    base class. Unknown months are interpolated on the log scale before fitting, because
    statsmodels' Holt-Winters cannot skip them.

    Args:
        trend: include a damped additive trend (a damped growth rate on the log scale); off
            by default because on the Sahel backtests it extrapolated surges.
        damping_bounds: bounds of the damping factor; the upper bound keeps a recent surge from
            being extrapolated as near-exponential growth over 12 months.
    """

    alias = "ets"
    min_obs = 12

    def __init__(self, trend: bool = False, damping_bounds: tuple[float, float] = (0.8, 0.95)):
        self.trend = trend
        self.damping_bounds = damping_bounds

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        z = np.log1p(y).interpolate(limit_direction="both").to_numpy()
        with warnings.catch_warnings():
            # Flat likelihood surfaces on short or quiet series are expected; the sanity
            # checks in selection judge the result instead.
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            model = ExponentialSmoothing(
                z,
                trend="add" if self.trend else None,
                damped_trend=self.trend,
                initialization_method="heuristic" if self.trend else "estimated",
                bounds={"damping_trend": self.damping_bounds} if self.trend else None,
            )
            res = model.fit(use_brute=False)
        params = res.params
        self.alpha_ = float(params["smoothing_level"])
        self.beta_ = float(params["smoothing_trend"]) if self.trend else 0.0
        self.phi_ = float(params["damping_trend"]) if self.trend else 0.0
        self.level_ = float(res.level[-1])
        self.slope_ = float(res.trend[-1]) if self.trend else 0.0
        n_params = 4 if self.trend else 2
        self.sigma_ = float(np.sqrt(res.sse / max(len(z) - n_params, 1)))
        self.fitted_log_ = np.asarray(res.fittedvalues, dtype=float)

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        steps = np.arange(1, h + 1)
        # phi_j = phi + phi^2 + ... + phi^j, the damped sum of future slopes.
        phi_sum = np.cumsum(self.phi_**steps) if self.trend else np.zeros(h)
        loc = self.level_ + phi_sum * self.slope_
        # Error-correction form: the j-step-ahead weight of a shock is alpha * (1 + beta * phi_j).
        c = self.alpha_ * (1.0 + self.beta_ * phi_sum)
        var = self.sigma_**2 * (1.0 + np.concatenate([[0.0], np.cumsum(c[:-1] ** 2)]))
        return log_gaussian_counts(loc, np.sqrt(var))

    def _fitted(self) -> np.ndarray:
        return np.clip(np.expm1(self.fitted_log_), 0.0, None)

    def _summary(self) -> dict[str, Any]:
        return {
            "level": float(np.expm1(self.level_)),
            "trend": {"log_slope_per_month": self.slope_, "damping": self.phi_},
            "smoothing": {"level": self.alpha_, "trend": self.beta_},
            "sigma_log1p": self.sigma_,
        }

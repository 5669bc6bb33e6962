"""SARIMAX on log1p counts with the rainy-season share as a regressor (statsmodels)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.tools.sm_exceptions import ConvergenceWarning, ValueWarning
from statsmodels.tsa.statespace.sarimax import SARIMAX

from models.base import Forecaster
from models.distributions import log_gaussian_counts
from models.registry import register_model


@register_model
class Sarimax(Forecaster):
    """ARIMA(p, d, q) on log1p(y) with `season_share` as exogenous regressor.

    The default (0, 1, 1) is a local level (exponential smoothing) plus a rainy-season
    shift; the Kalman filter skips unknown months natively. Intervals are the state-space
    forecast variances mapped through expm1. About 50 ms per fit, so not a default candidate.

    Args:
        order: the (p, d, q) order.
        maxiter: optimizer iterations; small because the likelihood is smooth and cheap fits
            matter more than the last digit.
    """

    alias = "sarimax"
    min_obs = 24
    uses_exog = True

    def __init__(self, order: tuple[int, int, int] = (0, 1, 1), maxiter: int = 50):
        self.order = order
        self.maxiter = maxiter

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        assert X is not None
        z = np.log1p(y.to_numpy())
        exog = X[["season_share"]].to_numpy()
        with warnings.catch_warnings():
            # Non-convergence and non-invertible starts on short count series are expected;
            # selection's sanity checks judge the forecast instead.
            for category in (ConvergenceWarning, ValueWarning, UserWarning, RuntimeWarning):
                warnings.simplefilter("ignore", category)
            model = SARIMAX(z, exog=exog, order=self.order, trend="n" if self.order[1] else "c")
            self.res_ = model.fit(disp=False, maxiter=self.maxiter)

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        assert X_future is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fc = self.res_.get_forecast(h, exog=X_future[["season_share"]].to_numpy())
        loc = np.asarray(fc.predicted_mean, dtype=float)
        scale = np.sqrt(np.asarray(fc.var_pred_mean, dtype=float))
        return log_gaussian_counts(loc, scale)

    def _fitted(self) -> np.ndarray:
        return np.clip(np.expm1(np.asarray(self.res_.fittedvalues, dtype=float)), 0.0, None)

    def _summary(self) -> dict[str, Any]:
        names = list(self.res_.model.param_names)
        params = dict(zip(names, np.asarray(self.res_.params).tolist(), strict=True))
        out: dict[str, Any] = {
            "level": float(np.expm1(self.res_.fittedvalues[-1])),
            "coefficients": params,
            "aic": float(self.res_.aic),
        }
        if "x1" in params:
            out["season"] = {"rainy_season_rate_ratio_log1p": float(np.exp(params["x1"]))}
        return out

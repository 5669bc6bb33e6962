"""Prophet on log1p counts with the rainy-season share as an extra regressor.

Named `prophet_model` rather than `prophet` so that it can never shadow the library itself.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd

from models.distributions import sample_quantiles
from models.legacy.forecaster import Forecaster
from models.legacy.registry import register_model

_NOISY_LOGGERS = ("cmdstanpy", "prophet", "prophet.plot", "prophet.models", "prophet.forecaster")


@contextlib.contextmanager
def quiet_prophet(seed: int) -> Iterator[None]:
    """Silence Prophet's and cmdstanpy's logs and warnings and seed its sampling, locally.

    Prophet draws its uncertainty samples from numpy's global generator; the global state is
    saved and restored so that seeding here leaks nowhere.
    """
    # "Importing plotly failed" is logged at ERROR on prophet's first import.
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    # cmdstanpy installs its own stderr handler (and resets its level to DEBUG) on first use
    # unless its logger already has a handler; a NullHandler stops that, and records still
    # reach whatever handlers the application configured on the root logger.
    cmdstan = logging.getLogger("cmdstanpy")
    if not any(isinstance(h, logging.NullHandler) for h in cmdstan.handlers):
        cmdstan.addHandler(logging.NullHandler())
    import prophet  # noqa: F401

    loggers = [logging.getLogger(name) for name in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    state = np.random.get_state()
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        np.random.seed(seed)
        with warnings.catch_warnings():
            # Prophet 1.x calls pandas APIs that pandas 3 deprecates.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", FutureWarning)
            yield
    finally:
        np.random.set_state(state)
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@register_model
class ProphetForecaster(Forecaster):
    """Prophet (MAP fit) on log1p(y) with a `season_share` regressor; count quantiles.

    Monthly data get a low-order yearly seasonality (one Fourier pair instead of Prophet's 10:
    twelve points a year cannot support more, and the rainy-season regressor carries the
    season's shape; orders 0-3 scored within 6% of each other on the Sahel backtests) and no
    weekly or daily terms. Posterior-predictive
    samples are mapped back through expm1, clipped at zero and summarised as quantiles that
    the base class rounds to counts. About 0.1-0.2 s per fit: not a default candidate.

    Args:
        yearly_order: Fourier order of the yearly seasonality (0 = none).
        growth: Prophet's trend, "linear" or "flat".
        changepoint_prior_scale: Prophet's trend flexibility.
        uncertainty_samples: predictive draws; 300 keeps the 2.5% and 97.5% quantiles stable
            at a fraction of the default 1000's cost.
        seed: seed of the predictive sampling (Prophet uses numpy's global generator).
    """

    alias = "prophet"
    min_obs = 24
    uses_exog = True

    def __init__(
        self,
        yearly_order: int = 1,
        changepoint_prior_scale: float = 0.05,
        uncertainty_samples: int = 300,
        seed: int = 0,
        growth: Literal["linear", "flat"] = "linear",
    ):
        self.yearly_order = yearly_order
        self.changepoint_prior_scale = changepoint_prior_scale
        self.uncertainty_samples = uncertainty_samples
        self.seed = seed
        self.growth = growth

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        assert X is not None
        with quiet_prophet(self.seed):
            from prophet import Prophet

            model = Prophet(
                growth=self.growth,
                yearly_seasonality=self.yearly_order if self.yearly_order else False,
                weekly_seasonality=False,
                daily_seasonality=False,
                changepoint_prior_scale=self.changepoint_prior_scale,
                mcmc_samples=0,
                uncertainty_samples=self.uncertainty_samples,
            )
            model.add_regressor("season_share", standardize=False)
            frame = pd.DataFrame(
                {
                    "ds": y.index,
                    "y": np.log1p(y.to_numpy()),
                    "season_share": X["season_share"].to_numpy(),
                }
            )
            self.model_ = model.fit(frame.dropna(subset=["y"]), seed=self.seed)

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        assert X_future is not None
        frame = pd.DataFrame(
            {"ds": X_future.index, "season_share": X_future["season_share"].to_numpy()}
        )
        with quiet_prophet(self.seed):
            draws = self.model_.predictive_samples(frame)["yhat"]
        return sample_quantiles(np.expm1(np.asarray(draws, dtype=float).T))

    def _fitted(self) -> np.ndarray:
        assert self.X_ is not None  # uses_exog: the base class always sets it
        frame = pd.DataFrame(
            {"ds": self.y_.index, "season_share": self.X_["season_share"].to_numpy()}
        )
        samples = self.model_.uncertainty_samples
        with quiet_prophet(self.seed):
            # Point fit only: sampling intervals for the history would cost a second pass.
            self.model_.uncertainty_samples = 0
            try:
                yhat = self.model_.predict(frame)["yhat"].to_numpy()
            finally:
                self.model_.uncertainty_samples = samples
        return np.clip(np.expm1(yhat), 0.0, None)

    def _summary(self) -> dict[str, Any]:
        params = self.model_.params
        beta = np.asarray(params["beta"]).ravel()
        # Column j of the feature matrix belongs to component c when this table says 1;
        # coefficients act on y / y_scale, so they are rescaled to log1p(count) units.
        components = self.model_.train_component_cols
        assert components is not None  # set by fit
        season_cols = components["season_share"].to_numpy() == 1
        season = float(beta[season_cols].sum() * self.model_.y_scale)
        return {
            "trend": {
                "k": float(np.asarray(params["k"]).ravel()[0]),
                "m": float(np.asarray(params["m"]).ravel()[0]),
                "n_changepoints": int(self.model_.n_changepoints),
            },
            "season": {
                "season_share_log1p": season,
                "rainy_season_rate_ratio_approx": float(np.exp(season)),
            },
            "sigma_obs": float(np.asarray(params["sigma_obs"]).ravel()[0]),
        }

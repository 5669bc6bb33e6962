"""The forecaster contract: fit a monthly count series, predict its mean and quantiles.

A forecast frame has one row per future month (index `month`, month starts) and columns
`mean` and QUANTILE_COLUMNS. Quantiles are whole counts, non-negative and monotone. For count
laws the models use *balanced* quantiles (`models.distributions.balanced_quantiles`): the
textbook quantile min{k: F(k) >= tau} moved by at most one count so that each tail holds as
close to tau as the jumps of the CDF allow. At the small means of conflict series the
textbook 80% interval covers 90-95% of outcomes; the balanced one covers about 80%.
"""

from __future__ import annotations

import abc
import inspect
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from models.base import FORECAST_COLUMNS, MAX_HORIZON, QUANTILES, future_index, to_jsonable
from models.seasons import season_features

# Bump when the layout of `summary()` or of the forecast frame changes; stored artifacts carry it.
FORMAT_VERSION = 1


class NotFittedError(RuntimeError):
    """Raised when `predict`, `fitted` or `summary` is called before `fit`."""


def validate_series(y: pd.Series) -> pd.Series:
    """Return `y` as float counts on a contiguous month-start index (freq MS), or raise ValueError.

    NaN marks an unknown month and is kept; negative or infinite values are refused because
    they cannot be event counts.
    """
    if not isinstance(y, pd.Series):
        raise TypeError(f"y must be a pandas Series, got {type(y).__name__}")
    idx = y.index
    if not isinstance(idx, pd.DatetimeIndex):
        raise TypeError("y must be indexed by a DatetimeIndex of month starts")
    if len(y) == 0:
        raise ValueError("y is empty")
    # Fast path: an MS-frequency index is contiguous month starts by construction, so only
    # the first stamp needs checking (selection validates hundreds of slices per series).
    if not (isinstance(idx.freq, pd.offsets.MonthBegin) and idx.freq.n == 1):
        if not (idx.day == 1).all() or (idx.normalize() != idx).any():
            raise ValueError("y's index must hold month starts (day 1, midnight)")
        months = idx.year * 12 + idx.month
        if len(y) > 1 and not (np.diff(months) == 1).all():
            raise ValueError("y's index must be contiguous monthly; put NaN in unknown months")
        idx = pd.DatetimeIndex(idx, freq="MS")
    elif idx[0] != idx[0].normalize():
        raise ValueError("y's index must hold month starts (day 1, midnight)")
    values = np.array(y, dtype=float)  # a copy: later edits of the caller's y change nothing
    finite = values[~np.isnan(values)]
    if np.isinf(finite).any() or (finite < 0).any():
        raise ValueError("y must hold non-negative finite counts (NaN for unknown months)")
    return pd.Series(values, index=idx, name=y.name, copy=False)


def check_horizon(h: int) -> int:
    """Return `h` if it is an int in 1..MAX_HORIZON, else raise ValueError."""
    if isinstance(h, bool) or not isinstance(h, int | np.integer) or not 1 <= h <= MAX_HORIZON:
        raise ValueError(f"h must be an integer from 1 to {MAX_HORIZON}, got {h!r}")
    return int(h)


def forecast_frame(
    index: pd.DatetimeIndex, mean: np.ndarray, quantiles: np.ndarray
) -> pd.DataFrame:
    """Build the forecast frame, making it count-consistent.

    Quantiles are clipped at zero, rounded to whole events (a count quantile is an integer)
    and made monotone across levels; the mean is clipped at zero. Non-finite values raise,
    because a silent NaN would later look like a forecast of "unknown".
    """
    mean = np.asarray(mean, dtype=float).reshape(len(index))
    q = np.asarray(quantiles, dtype=float).reshape(len(index), len(QUANTILES))
    if not (np.isfinite(mean).all() and np.isfinite(q).all()):
        raise FloatingPointError("forecast holds NaN or infinite values")
    q = np.floor(np.clip(q, 0.0, None) + 0.5)
    q = np.maximum.accumulate(q, axis=1)
    data = np.column_stack([np.clip(mean, 0.0, None), q])
    return pd.DataFrame(data, index=pd.DatetimeIndex(index, name="month"), columns=FORECAST_COLUMNS)


class Forecaster(abc.ABC):
    """Base class of every model: hyper-parameters in `__init__`, fitted state in `x_` attributes.

    Subclasses implement `_fit`, `_predict` and optionally `_fitted` and `_summary`; the base
    class validates inputs, handles the all-zero series and enforces the forecast frame.

    Exogenous input: `X` is an optional frame indexed like `y` with a `season_share` column
    (share of each month's days inside the rainy season, see `models.seasons`). When `X` is
    omitted the default Sahel calendar (June 1 - September 30) is used. Models that do not
    use the season ignore `X`.
    """

    alias: ClassVar[str] = ""
    # Observed (non-NaN) months a model needs; selection skips a candidate below it.
    min_obs: ClassVar[int] = 1
    uses_exog: ClassVar[bool] = False

    y_: pd.Series
    X_: pd.DataFrame | None
    all_zero_: bool

    def get_params(self) -> dict[str, Any]:
        """Return the hyper-parameters given to `__init__`."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def fit(self, y: pd.Series, X: pd.DataFrame | None = None) -> Self:
        """Fit the model to a monthly count series `y` (NaN = unknown month); return self."""
        y = validate_series(y)
        n_obs = int(y.notna().sum())
        if n_obs < self.min_obs:
            raise ValueError(f"{self.alias} needs >= {self.min_obs} observed months, got {n_obs}")
        self.y_ = y
        self.X_ = self._exog(y.index, X) if self.uses_exog else None
        self.exog_given_ = X is not None
        # An all-zero history carries no rate information; every model forecasts zeros for it
        # rather than fitting a likelihood whose optimum sits at minus infinity.
        self.all_zero_ = bool(np.nansum(y.to_numpy()) == 0)
        if not self.all_zero_:
            self._fit(y, self.X_)
        return self

    def predict(self, h: int, X_future: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecast the next `h` months (1..12): columns `mean` and QUANTILE_COLUMNS."""
        self._check_fitted()
        h = check_horizon(h)
        idx = future_index(self.y_.index, h)
        if self.all_zero_:
            return forecast_frame(idx, np.zeros(h), np.zeros((h, len(QUANTILES))))
        Xf = None
        if self.uses_exog:
            if X_future is None and self.exog_given_:
                raise ValueError(f"{self.alias} was fitted with X, so predict needs X_future")
            Xf = self._exog(idx, X_future)
        mean, q = self._predict(h, Xf)
        return forecast_frame(idx, mean, q)

    def fitted(self) -> pd.Series:
        """Return in-sample fitted means on y's index (NaN where the model has none)."""
        self._check_fitted()
        if self.all_zero_:
            return pd.Series(0.0, index=self.y_.index, name="fitted")
        values = np.asarray(self._fitted(), dtype=float).reshape(len(self.y_))
        return pd.Series(values, index=self.y_.index, name="fitted")

    def summary(self) -> dict[str, Any]:
        """Return a JSON-serializable description: alias, parameters, level, trend, season terms."""
        self._check_fitted()
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "alias": self.alias,
            "params": to_jsonable(self.get_params()),
            "n_months": len(self.y_),
            "n_observed": int(self.y_.notna().sum()),
            "last_month": self.y_.index[-1].strftime("%Y-%m"),
            "all_zero": self.all_zero_,
        }
        if not self.all_zero_:
            out.update(to_jsonable(self._summary()))
        return out

    @abc.abstractmethod
    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        """Estimate the model; `y` is validated and not all zero."""

    @abc.abstractmethod
    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        """Return the mean (h,) and quantiles (h, len(QUANTILES)) before count clean-up."""

    def _fitted(self) -> np.ndarray:
        return np.full(len(self.y_), np.nan)

    def _summary(self) -> dict[str, Any]:
        return {}

    def _check_fitted(self) -> None:
        if not hasattr(self, "y_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")

    @staticmethod
    def _exog(index: pd.DatetimeIndex, X: pd.DataFrame | None) -> pd.DataFrame:
        if X is None:
            return season_features(index)
        if "season_share" not in X.columns:
            raise ValueError("X needs a 'season_share' column")
        if X.index.equals(index):
            return X
        missing = index.difference(X.index)
        if len(missing):
            raise ValueError(f"X lacks {len(missing)} required months, first {missing[0]:%Y-%m}")
        return X.loc[index]

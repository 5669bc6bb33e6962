"""Rolling-origin backtests: refit at several origins, forecast 1..h months, keep the truth."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from models.base import FORECAST_COLUMNS
from models.legacy.forecaster import Forecaster, validate_series
from models.metrics import seasonal_naive_scale

BACKTEST_COLUMNS: tuple[str, ...] = ("origin", "month", "horizon", "y", *FORECAST_COLUMNS, "scale")


def backtest_origins(n: int, h: int, n_windows: int, step: int, min_train: int) -> list[int]:
    """Return the training lengths of the rolling origins, oldest first.

    The newest origin leaves exactly `h` months to score, older ones step back by `step`
    months; origins with fewer than `min_train` training months are dropped.
    """
    newest = n - h
    return sorted({newest - k * step for k in range(n_windows) if newest - k * step >= min_train})


def cross_validation(
    y: pd.Series,
    model_factory: Callable[[], Forecaster],
    *,
    h: int = 12,
    n_windows: int = 3,
    step: int = 6,
    X: pd.DataFrame | None = None,
    min_train: int = 12,
) -> pd.DataFrame:
    """Backtest a model over rolling origins and return the forecasts next to the truth.

    Args:
        y: monthly counts on a month-start index (NaN = unknown month).
        model_factory: returns a fresh unfitted model, e.g. `lambda: get_model("negbin")`.
        h: forecast horizon of every window (1..12); every horizon is scored.
        n_windows: number of origins.
        step: months between consecutive origins.
        X: optional exogenous frame covering y's months (sliced per window).
        min_train: fewest training months of an origin.

    Returns:
        A long frame with BACKTEST_COLUMNS: `origin` is the last training month, `month` the
        target month, `y` its observed value (NaN if unknown), `scale` the MASE scale of the
        training part. Empty if no origin fits. Exceptions from the model propagate.
    """
    y = validate_series(y)
    values = y.to_numpy()
    Xs = _aligned_exog(X, y) if X is not None else None
    origins, months, forecasts, truth, scales = [], [], [], [], []
    cuts = backtest_origins(len(y), h, n_windows, step, min_train)
    for cut in cuts:
        train = y.iloc[:cut]
        model = model_factory()
        if Xs is None:
            fc = model.fit(train).predict(h)
        else:
            fc = model.fit(train, Xs.iloc[:cut]).predict(h, Xs.iloc[cut : cut + h])
        origins.append(np.repeat(train.index[-1].to_datetime64(), h))
        months.append(fc.index.to_numpy())
        forecasts.append(fc.to_numpy())  # columns are FORECAST_COLUMNS by contract
        truth.append(values[cut : cut + h])
        scales.append(np.full(h, seasonal_naive_scale(train.to_numpy())))
    if not cuts:
        return pd.DataFrame(columns=list(BACKTEST_COLUMNS))
    frame = pd.DataFrame(np.vstack(forecasts), columns=list(FORECAST_COLUMNS))
    frame.insert(0, "origin", pd.DatetimeIndex(np.concatenate(origins)))
    frame.insert(1, "month", pd.DatetimeIndex(np.concatenate(months)))
    frame.insert(2, "horizon", np.tile(np.arange(1, h + 1), len(cuts)))
    frame.insert(3, "y", np.concatenate(truth))
    frame["scale"] = np.concatenate(scales)
    return frame


def _aligned_exog(X: pd.DataFrame, y: pd.Series) -> pd.DataFrame:
    """Return X from y's first month on, checking it covers y's months in order."""
    try:
        start = X.index.get_loc(y.index[0])
    except KeyError:
        raise ValueError(f"X lacks y's first month {y.index[0]:%Y-%m}") from None
    Xs = X.iloc[start:]
    if len(Xs) < len(y) or not Xs.index[: len(y)].equals(y.index):
        raise ValueError("X must cover y's months contiguously")
    return Xs

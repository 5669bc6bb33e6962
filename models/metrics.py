"""Forecast metrics on forecast frames, registered by name with a decorator."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS, QUANTILES

# A metric maps observed values y (n,), means (n,), quantiles (n, len(QUANTILES)) and MASE
# scales (n,) to one score per forecast point; scores are averaged over points.
MetricFn = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]

_METRICS: dict[str, MetricFn] = {}
_Q = np.asarray(QUANTILES)


def register_metric(name: str) -> Callable[[MetricFn], MetricFn]:
    """Decorator: register a point-wise metric under `name`."""

    def deco(fn: MetricFn) -> MetricFn:
        _METRICS[name] = fn
        return fn

    return deco


def available_metrics() -> list[str]:
    """Return the registered metric names."""
    return sorted(_METRICS)


def get_metric(name: str) -> MetricFn:
    """Return the metric registered under `name`."""
    try:
        return _METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {available_metrics()}") from None


def pinball(y: np.ndarray, q: np.ndarray, levels: np.ndarray = _Q) -> np.ndarray:
    """Return the quantile (pinball) loss per point and level, shape (n, len(levels))."""
    diff = y[:, None] - q
    return np.maximum(levels[None, :] * diff, (levels[None, :] - 1.0) * diff)


@register_metric("crps")
def crps(y: np.ndarray, mean: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """CRPS approximated by twice the mean pinball loss over the quantile grid.

    The grid is symmetric, so for a point forecast (all quantiles equal) this is exactly the
    absolute error, as the CRPS of a point mass is.
    """
    return 2.0 * pinball(y, q).mean(axis=1)


@register_metric("mae")
def mae(y: np.ndarray, mean: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Absolute error of the median (the point forecast that absolute error rewards)."""
    return np.abs(y - q[:, QUANTILES.index(0.5)])


@register_metric("mase")
def mase(y: np.ndarray, mean: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Absolute error of the median over the training series' seasonal-naive MAE."""
    return mae(y, mean, q, scale) / scale


def _coverage(y: np.ndarray, q: np.ndarray, lo: float, hi: float) -> np.ndarray:
    low, high = q[:, QUANTILES.index(lo)], q[:, QUANTILES.index(hi)]
    return ((y >= low) & (y <= high)).astype(float)


@register_metric("coverage_80")
def coverage_80(y: np.ndarray, mean: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """1 when q0.1 <= y <= q0.9 (bounds included: quantiles of counts are counts)."""
    return _coverage(y, q, 0.1, 0.9)


@register_metric("coverage_95")
def coverage_95(y: np.ndarray, mean: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """1 when q0.025 <= y <= q0.975."""
    return _coverage(y, q, 0.025, 0.975)


def seasonal_naive_scale(y: np.ndarray, season: int = 12) -> float:
    """Return the in-sample MAE of the seasonal naive forecast, the MASE denominator.

    Guard: when it is undefined or zero (short or constant series) fall back to the lag-1
    naive MAE, and when that is zero too, to 1 (MASE becomes the plain absolute error).
    """
    y = np.asarray(y, dtype=float)
    for lag in (season, 1):
        if len(y) > lag:
            d = np.abs(y[lag:] - y[:-lag])
            d = d[~np.isnan(d)]
            if len(d) and d.mean() > 0:
                return float(d.mean())
    return 1.0


def _arrays(frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Return y, mean, quantiles and scale of the rows of `frame` whose y is known."""
    y = frame["y"].to_numpy(dtype=float)
    known = ~np.isnan(y)
    mean = frame["mean"].to_numpy(dtype=float)[known]
    q = np.column_stack([frame[c].to_numpy(dtype=float) for c in QUANTILE_COLUMNS])[known]
    return y[known], mean, q, frame["scale"].to_numpy(dtype=float)[known], known


def point_scores(frame: pd.DataFrame, metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """Return one column per metric for each row of a backtest frame with a known `y`.

    `frame` needs columns y, mean, QUANTILE_COLUMNS and scale (see `models.legacy.evaluation`).
    """
    names = list(metrics) if metrics is not None else available_metrics()
    y, mean, q, scale, known = _arrays(frame)
    index = frame.index[known]
    return pd.DataFrame({n: get_metric(n)(y, mean, q, scale) for n in names}, index=index)


def score(frame: pd.DataFrame, metrics: Iterable[str] | None = None) -> dict[str, float]:
    """Return the mean of each metric over the rows of a backtest frame with a known `y`.

    NaN for every metric when no row has a known `y`.
    """
    names = list(metrics) if metrics is not None else available_metrics()
    y, mean, q, scale, _ = _arrays(frame)
    if len(y) == 0:
        return dict.fromkeys(names, float("nan"))
    return {n: float(np.mean(get_metric(n)(y, mean, q, scale))) for n in names}


def skill_scores(
    scores: dict[str, dict[str, float]], reference: str = "seasonal_naive", metric: str = "crps"
) -> dict[str, float]:
    """Return 1 - score / reference score per model (positive = better than the reference).

    Empty when the reference was not scored or scored zero (nothing to beat).
    """
    base = scores.get(reference, {}).get(metric)
    if base is None or not np.isfinite(base) or base <= 0:
        return {}
    return {name: 1.0 - s[metric] / base for name, s in scores.items()}

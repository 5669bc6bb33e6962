"""The forecasts' shared vocabulary: quantile levels and columns, the horizon, JSON-safe values.

A forecast has one row per future month and columns `mean` and QUANTILE_COLUMNS; the panel
engine (`models.panel`), the service and the benches all speak it.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

QUANTILES: tuple[float, ...] = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
QUANTILE_COLUMNS: tuple[str, ...] = tuple(f"q{q:g}" for q in QUANTILES)
FORECAST_COLUMNS: tuple[str, ...] = ("mean", *QUANTILE_COLUMNS)
MAX_HORIZON = 12


@functools.lru_cache(maxsize=4096)
def _future_index(last: pd.Timestamp, h: int) -> pd.DatetimeIndex:
    return pd.date_range(last + pd.offsets.MonthBegin(1), periods=h, freq="MS")


def future_index(index: pd.DatetimeIndex, h: int) -> pd.DatetimeIndex:
    """Return the `h` month starts following the last month of `index`."""
    # Cached: backtests ask for the same few origins once per candidate.
    return _future_index(index[-1], h)


def to_jsonable(value: Any) -> Any:
    """Convert numpy scalars, arrays and tuples so that `json.dumps` accepts the value."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, float | np.floating):
        f = float(value)
        return f if np.isfinite(f) else None
    return value

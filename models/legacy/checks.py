"""Sanity checks that turn a numerically valid but absurd forecast into a recorded failure."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import FORECAST_COLUMNS, QUANTILE_COLUMNS

# A forecast mean this many times the largest month ever seen is a diverged fit, not a
# warning: the largest jump in the Sahel data (JNIM, central Mali 2022) is about 10x.
ABSURD_FACTOR = 50.0


def forecast_problem(frame: pd.DataFrame, history_max: float | np.ndarray) -> str | None:
    """Return why a forecast frame is unusable, or None if it passes.

    Args:
        frame: forecast frame(s) with FORECAST_COLUMNS (extra columns are ignored).
        history_max: largest observed count of the training data (0 for an all-zero one),
            one value or one per row (backtests stack several origins).
    """
    missing = [c for c in FORECAST_COLUMNS if c not in frame.columns]
    if missing:
        return f"forecast lacks columns {missing}"
    # Column by column: selecting a list of columns costs ~50x more in pandas 3.
    q = np.column_stack([frame[c].to_numpy(dtype=float) for c in QUANTILE_COLUMNS])
    means = frame["mean"].to_numpy(dtype=float)
    if not (np.isfinite(q).all() and np.isfinite(means).all()):
        return "forecast holds NaN or infinite values"
    if (q < 0).any() or (means < 0).any():
        return "forecast holds negative values"
    if (np.diff(q, axis=1) < 0).any():
        return "forecast quantiles are not monotone"
    limits = ABSURD_FACTOR * np.maximum(history_max, 1.0)
    if (means > limits).any():
        worst = int(np.argmax(means / limits))
        return (
            f"absurd forecast: mean {means[worst]:.3g} > {ABSURD_FACTOR:g} x historical max "
            f"({np.broadcast_to(limits, means.shape)[worst] / ABSURD_FACTOR:g})"
        )
    return None

"""Interval-width calibration from backtests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS
from models.legacy.calibration import choose_width, stretch


def backtest(y: list[float], q: Sequence[float]) -> pd.DataFrame:
    out = pd.DataFrame([q] * len(y), columns=list(QUANTILE_COLUMNS))
    out.insert(0, "mean", out["q0.5"])
    out.insert(0, "y", y)
    out["scale"] = 1.0
    return out


def test_stretch_keeps_the_median_and_rounds() -> None:
    frame = backtest([3.0], [1, 2, 3, 4, 5, 6, 7])
    wide = stretch(frame, 1.5)
    assert wide["q0.5"].iloc[0] == 4
    np.testing.assert_array_equal(wide[list(QUANTILE_COLUMNS)].iloc[0], [0, 1, 3, 4, 6, 7, 9])
    assert stretch(frame, 1.0) is frame


def test_choose_width_widens_only_when_the_backtest_asks() -> None:
    narrow = [4, 4, 5, 5, 5, 6, 6]
    assert choose_width(backtest([5.0, 5.0, 4.0, 6.0], narrow)) == 1.0
    assert choose_width(backtest([0.0, 12.0, 1.0, 11.0], narrow)) > 1.0

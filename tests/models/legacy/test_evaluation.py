"""Rolling-origin backtests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS
from models.legacy.evaluation import BACKTEST_COLUMNS, backtest_origins, cross_validation
from models.legacy.registry import get_model
from models.seasons import season_features
from tests.models.builders import make_counts


def test_origins_step_back_from_the_newest() -> None:
    assert backtest_origins(60, 12, 3, 6, 12) == [36, 42, 48]
    assert backtest_origins(30, 12, 3, 6, 12) == [12, 18]
    assert backtest_origins(20, 12, 3, 6, 12) == []


def test_cross_validation_lines_forecasts_up_with_the_truth() -> None:
    y = make_counts(60, 3.0, seed=1)
    cv = cross_validation(y, lambda: get_model("poisson_last"), h=12, n_windows=3, step=6)
    assert list(cv.columns) == list(BACKTEST_COLUMNS)
    assert len(cv) == 36
    assert sorted(cv["origin"].unique()) == list(y.index[[35, 41, 47]])
    first = cv[cv["origin"] == y.index[35]]
    assert (first["horizon"] == np.arange(1, 13)).all()
    assert (first["month"].to_numpy() == y.index[36:48].to_numpy()).all()
    np.testing.assert_array_equal(first["y"], y.iloc[36:48])
    # poisson_last forecasts the mean of the 3 months before the origin
    assert first["mean"].iloc[0] == y.iloc[33:36].mean()
    assert (cv[list(QUANTILE_COLUMNS)].diff(axis=1).iloc[:, 1:] >= 0).all().all()


def test_cross_validation_passes_exogenous_slices() -> None:
    y = make_counts(48, 3.0, seed=2)
    months = y.index.append(pd.date_range("2017-01-01", periods=12, freq="MS"))
    X = season_features(months)
    cv = cross_validation(y, lambda: get_model("negbin"), h=6, n_windows=2, step=3, X=X)
    assert len(cv) == 12
    assert cv["scale"].gt(0).all()


def test_too_short_series_gives_an_empty_frame() -> None:
    cv = cross_validation(make_counts(15), lambda: get_model("poisson_last"), h=12)
    assert cv.empty
    assert list(cv.columns) == list(BACKTEST_COLUMNS)

"""Every registered model honours the Forecaster contract."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models.base import FORECAST_COLUMNS, QUANTILE_COLUMNS
from models.legacy.forecaster import FORMAT_VERSION, NotFittedError
from models.legacy.registry import available_models, get_model
from models.seasons import season_features
from tests.models.builders import make_counts, month_index

BUILTIN = (
    "ensemble",
    "ets",
    "negbin",
    "poisson_last",
    "prophet",
    "seasonal_naive",
    "tsb",
)


def test_every_builtin_model_is_registered() -> None:
    assert set(BUILTIN) <= set(available_models())


def check_frame(fc: pd.DataFrame, start: pd.Timestamp, h: int) -> None:
    assert list(fc.columns) == list(FORECAST_COLUMNS)
    assert len(fc) == h
    assert fc.index[0] == start
    assert (fc.index == pd.date_range(start, periods=h, freq="MS")).all()
    values = fc.to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    q = fc[list(QUANTILE_COLUMNS)].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all(), "quantiles must be monotone"
    assert (q == np.round(q)).all(), "count quantiles are whole numbers"


@pytest.mark.parametrize("alias", BUILTIN)
@pytest.mark.parametrize("h", [1, 12])
def test_contract(alias: str, h: int) -> None:
    y = make_counts(36, 3.0, seed=2)
    model = get_model(alias, seed=0)
    assert model.fit(y) is model
    fc = model.predict(h)
    check_frame(fc, pd.Timestamp("2016-01-01"), h)
    fitted = model.fitted()
    assert len(fitted) == len(y)
    assert fitted.index.equals(y.index)
    summary = model.summary()
    json.dumps(summary)
    assert summary["format_version"] == FORMAT_VERSION
    assert summary["alias"] == alias


@pytest.mark.parametrize("alias", BUILTIN)
def test_same_data_same_forecast(alias: str) -> None:
    y = make_counts(36, 3.0, seed=3)
    first = get_model(alias, seed=5).fit(y).predict(12)
    second = get_model(alias, seed=5).fit(y).predict(12)
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("alias", BUILTIN)
def test_all_zero_series_forecasts_zero(alias: str) -> None:
    y = pd.Series(0.0, index=month_index(30))
    fc = get_model(alias).fit(y).predict(6)
    assert (fc.to_numpy() == 0).all()
    assert get_model(alias).fit(y).summary()["all_zero"] is True


@pytest.mark.parametrize("alias", BUILTIN)
def test_unknown_months_are_accepted(alias: str) -> None:
    y = make_counts(40, 3.0, seed=4)
    y.iloc[[3, 4, 17, 39]] = np.nan  # including the last month
    fc = get_model(alias, seed=0).fit(y).predict(12)
    check_frame(fc, pd.Timestamp("2016-05-01"), 12)


@pytest.mark.parametrize("alias", ["negbin", "prophet", "ensemble"])
def test_exogenous_season_is_used_consistently(alias: str) -> None:
    y = make_counts(36, 3.0, seed=6)
    months = y.index.append(pd.date_range("2016-01-01", periods=12, freq="MS"))
    X = season_features(months, country="Burkina Faso", region="Sahel region")
    model = get_model(alias, seed=0).fit(y, X.iloc[:36])
    check_frame(model.predict(12, X.iloc[36:]), pd.Timestamp("2016-01-01"), 12)
    with pytest.raises(ValueError, match="X_future"):
        model.predict(12)


def test_predict_before_fit_raises() -> None:
    with pytest.raises(NotFittedError):
        get_model("tsb").predict(3)


@pytest.mark.parametrize("h", [0, 13, 2.0])
def test_horizon_outside_1_to_12_is_refused(h: object) -> None:
    model = get_model("poisson_last").fit(make_counts(24))
    with pytest.raises(ValueError, match="h must be"):
        model.predict(h)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (pd.Series([1.0, -2.0], index=month_index(2)), "non-negative"),
        (pd.Series([1.0, 2.0], index=pd.to_datetime(["2020-01-01", "2020-03-01"])), "contiguous"),
        (pd.Series([1.0, 2.0], index=pd.to_datetime(["2020-01-05", "2020-02-05"])), "month starts"),
    ],
)
def test_invalid_series_is_refused(y: pd.Series, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        get_model("poisson_last").fit(y)


def test_too_few_observed_months_is_refused() -> None:
    with pytest.raises(ValueError, match="needs >= 24"):
        get_model("seasonal_naive").fit(make_counts(20))

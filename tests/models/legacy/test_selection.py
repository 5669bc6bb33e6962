"""Per-series selection: ranking, recorded fallbacks, edge cases, reproducibility."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from models.base import QUANTILE_COLUMNS
from models.legacy.evaluation import BACKTEST_COLUMNS
from models.legacy.forecaster import Forecaster
from models.legacy.registry import DEFAULT_CANDIDATES, register_model, unregister_model
from models.legacy.selection import select_and_forecast
from models.legacy.selection_result import SelectionResult
from tests.models.builders import make_counts, month_index


class Broken(Forecaster):
    """Raises on every fit."""

    alias = "test_broken"

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        raise RuntimeError("deliberate failure")

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        raise AssertionError("never reached")


class Explosive(Forecaster):
    """Forecasts a million events a month."""

    alias = "test_explosive"

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        pass

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        return np.full(h, 1e6), np.full((h, len(QUANTILE_COLUMNS)), 1e6)


class NotANumber(Forecaster):
    """Forecasts NaN."""

    alias = "test_nan"

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        pass

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        return np.full(h, np.nan), np.full((h, len(QUANTILE_COLUMNS)), np.nan)


class Flaky(Forecaster):
    """A good backtest, then a failure on the full series (60 months or more)."""

    alias = "test_flaky"

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        if len(y) >= 60:
            raise RuntimeError("fails on the full series")
        self.level_ = float(y.iloc[-3:].mean())

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        return np.full(h, self.level_), np.tile(self.level_ * np.linspace(0.2, 2, 7), (h, 1))


TEST_MODELS = (Broken, Explosive, NotANumber, Flaky)


@pytest.fixture(autouse=True)
def test_models() -> Iterator[None]:
    for cls in TEST_MODELS:
        register_model(cls)
    yield
    for cls in TEST_MODELS:
        unregister_model(cls.alias)


def test_default_selection_backtests_every_candidate() -> None:
    result = select_and_forecast(make_counts(72, 4.0, seed=1), country="Burkina Faso")
    assert isinstance(result, SelectionResult)
    assert set(result.scores) == set(DEFAULT_CANDIDATES)
    assert result.failures == {}
    assert result.alias == result.ranking[0]
    assert set(result.timings) >= set(DEFAULT_CANDIDATES)
    for scores in result.scores.values():
        assert set(scores) >= {"crps", "mae", "mase", "coverage_80", "coverage_95"}
    assert len(result.forecast) == 12
    assert len(result.fitted) == 72
    assert result.summary["alias"] == result.alias
    assert result.skill["seasonal_naive"] == 0.0


def test_a_raising_candidate_is_recorded_not_swallowed() -> None:
    y = make_counts(60, 3.0, seed=2)
    result = select_and_forecast(y, candidates=["test_broken", "poisson_last"])
    assert result.alias == "poisson_last"
    assert "RuntimeError: deliberate failure" in result.failures["test_broken"]


@pytest.mark.parametrize(
    ("alias", "reason"),
    [("test_explosive", "absurd forecast"), ("test_nan", "NaN or infinite")],
)
def test_unusable_forecasts_are_rejected(alias: str, reason: str) -> None:
    result = select_and_forecast(make_counts(60, 3.0, seed=3), candidates=[alias, "tsb"])
    assert result.alias == "tsb"
    assert reason in result.failures[alias]


def test_a_final_fit_failure_falls_to_the_next_candidate() -> None:
    result = select_and_forecast(make_counts(60, 3.0, seed=4), candidates=["test_flaky"])
    assert result.ranking == ["test_flaky"]
    assert "final fit failed" in result.failures["test_flaky"]
    assert result.alias == "poisson_last"
    assert any("fell back to poisson_last" in note for note in result.notes)


def test_unknown_candidate_is_recorded() -> None:
    result = select_and_forecast(make_counts(48, seed=5), candidates=["nope", "tsb"])
    assert "unknown model" in result.failures["nope"]
    assert result.alias == "tsb"


def test_same_data_and_seed_give_identical_results() -> None:
    y = make_counts(60, 3.0, seed=6)
    first = select_and_forecast(y, seed=11)
    second = select_and_forecast(y, seed=11)
    pd.testing.assert_frame_equal(first.forecast, second.forecast)
    assert first.scores == second.scores
    assert first.alias == second.alias


@pytest.mark.slow
def test_prophet_and_ets_selection_is_reproducible() -> None:
    y = make_counts(48, 3.0, seed=7)
    runs = [
        select_and_forecast(y, candidates=["prophet", "ets"], seed=3, n_windows=2) for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].forecast, runs[1].forecast)
    assert runs[0].scores == runs[1].scores
    assert set(runs[0].scores) == {"prophet", "ets"}


def test_to_dict_is_json_serializable() -> None:
    result = select_and_forecast(make_counts(40, 2.0, seed=8))
    text = json.dumps(result.to_dict(include_backtest=True))
    data = json.loads(text)
    assert data["alias"] == result.alias
    assert data["forecast"][0]["month"] == "2016-05"
    assert set(data["forecast"][0]) == {"month", "mean", *QUANTILE_COLUMNS}
    assert data["format_version"] == 1


def test_backtest_forecasts_give_origin_month_truth_and_quantiles() -> None:
    y = make_counts(60, 3.0, seed=9)
    result = select_and_forecast(y, n_windows=3, step=6)
    bt = result.backtest_forecasts()
    assert list(bt.columns) == list(BACKTEST_COLUMNS)
    assert len(bt) == 3 * 12
    row = bt.iloc[0]
    assert row["y"] == y.loc[row["month"]]
    assert row["month"] == row["origin"] + pd.offsets.MonthBegin(int(row["horizon"]))
    assert set(result.backtest["alias"]) == set(result.scores)


# Edge cases: each gives a sane forecast or a recorded fallback, and the test says which.


def sane(result: SelectionResult) -> None:
    values = result.forecast.to_numpy()
    assert np.isfinite(values).all()
    assert (values >= 0).all()
    assert len(result.forecast) == 12


def test_all_zero_series_forecasts_zero() -> None:
    result = select_and_forecast(pd.Series(0.0, index=month_index(36)))
    sane(result)
    assert (result.forecast.to_numpy() == 0).all()
    assert result.alias in result.ranking


@pytest.mark.parametrize("n", [6, 13])
def test_very_short_series_fall_back_to_the_recent_mean(n: int) -> None:
    y = make_counts(n, 2.0, seed=10)
    result = select_and_forecast(y)
    sane(result)
    assert result.alias == "poisson_last"
    assert result.ranking == []
    assert any("too short to backtest" in note for note in result.notes)
    assert result.forecast["mean"].iloc[0] == pytest.approx(y.iloc[-3:].mean())


def test_series_shorter_than_two_years_skip_seasonal_naive() -> None:
    result = select_and_forecast(make_counts(20, 3.0, seed=11))
    sane(result)
    assert "skipped: needs 24 observed months" in result.failures["seasonal_naive"]
    assert result.alias in result.ranking


def test_unknown_months_are_tolerated() -> None:
    y = make_counts(60, 3.0, seed=12)
    y.iloc[[5, 6, 7, 20, 33, 58, 59]] = np.nan
    result = select_and_forecast(y)
    sane(result)
    assert result.failures == {}
    assert result.forecast.index[0] == pd.Timestamp("2018-01-01")


def test_one_giant_outlier_in_the_past_does_not_dominate() -> None:
    y = make_counts(120, 3.0, seed=13)
    y.iloc[60] = 500.0
    result = select_and_forecast(y)
    sane(result)
    assert result.forecast["q0.5"].max() <= 10


def test_a_giant_outlier_last_month_widens_but_stays_sane() -> None:
    y = make_counts(120, 3.0, seed=14)
    y.iloc[-1] = 500.0
    result = select_and_forecast(y)
    sane(result)
    assert result.forecast["q0.975"].iloc[0] > 20
    assert result.forecast["mean"].max() < 50 * 500


def test_a_structural_break_is_followed() -> None:
    before = make_counts(60, 1.0, seed=15)
    after = make_counts(24, 20.0, seed=16, start="2018-01-01")
    result = select_and_forecast(pd.concat([before, after]))
    sane(result)
    assert result.forecast["q0.5"].iloc[0] >= 10


def test_no_observed_month_is_refused() -> None:
    with pytest.raises(ValueError, match="no observed month"):
        select_and_forecast(pd.Series(np.nan, index=month_index(24)))


def test_default_selection_is_fast() -> None:
    batch = [make_counts(120, mean, seed=20 + i) for i, mean in enumerate([0.3, 2.0, 8.0])]
    select_and_forecast(batch[0])  # warm caches and imports
    start = time.process_time()
    for y in batch:
        select_and_forecast(y)
    # The budget is ~100 ms per series on one core (bench/accuracy.py measures it); this
    # only catches a 10x regression, as CPU time here includes spinning BLAS threads.
    assert (time.process_time() - start) / len(batch) < 1.0

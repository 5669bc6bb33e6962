"""What each candidate model is for, checked on small series."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from models.legacy.registry import get_model
from tests.models.builders import make_counts, month_index


def test_seasonal_naive_repeats_last_year() -> None:
    y = make_counts(36, 5.0, seed=1)
    fc = get_model("seasonal_naive").fit(y).predict(12)
    np.testing.assert_array_equal(fc["mean"], y.iloc[-12:])


def test_seasonal_naive_fills_an_unknown_month_from_the_year_before() -> None:
    y = make_counts(36, 5.0, seed=2)
    y.iloc[-12] = np.nan
    fc = get_model("seasonal_naive").fit(y).predict(1)
    assert fc["mean"].iloc[0] == y.iloc[-24]


def test_poisson_last_uses_the_recent_mean() -> None:
    y = pd.Series([0.0, 0, 0, 9, 3, 6], index=month_index(6))
    fc = get_model("poisson_last", window=3).fit(y).predict(2)
    assert (fc["mean"] == 6.0).all()
    assert fc["q0.5"].iloc[0] == 6.0


def test_tsb_tracks_event_probability_and_size() -> None:
    y = pd.Series(np.tile([0.0, 0, 0, 4], 12), index=month_index(48))
    model = get_model("tsb", alpha_prob=0.1, alpha_size=0.1).fit(y)
    summary = model.summary()
    assert summary["event_probability"] == pytest.approx(0.25, abs=0.08)
    assert summary["event_size"] == pytest.approx(4.0)
    hurdle = get_model("tsb", predictive="hurdle").fit(y).predict(3)
    assert (hurdle["q0.5"] == 0).all()  # three quiet months in four


def test_tsb_intervals_widen_with_the_horizon() -> None:
    y = make_counts(60, 3.0, seed=3, alpha=1.0)
    fc = get_model("tsb").fit(y).predict(12)
    width = fc["q0.975"] - fc["q0.025"]
    assert width.iloc[-1] >= width.iloc[0]


def test_negbin_recovers_a_strong_rainy_season_effect() -> None:
    y = make_counts(96, 6.0, seed=4, rate_ratio=0.3)
    model = get_model("negbin", half_life=None).fit(y)
    season = model.summary()["season"]
    assert 0.15 < season["rainy_season_rate_ratio"] < 0.6
    fc = model.predict(12)
    assert fc["mean"].iloc[6] < fc["mean"].iloc[0]  # July 2021 below January


def test_negbin_keeps_sparse_windows_simple() -> None:
    y = pd.Series(0.0, index=month_index(48))
    y.iloc[[10, 30, 45]] = 1.0
    summary = get_model("negbin", trend=True, fourier_k=1).fit(y).summary()
    assert summary["terms"] == ["const"]


def test_negbin_forecasts_zero_after_a_quiet_window() -> None:
    y = pd.Series(np.r_[np.full(20, 3.0), np.zeros(60)], index=month_index(80))
    model = get_model("negbin").fit(y)
    assert (model.predict(12).to_numpy() == 0).all()
    assert "no events" in model.summary()["note"]


def test_ets_trend_is_available() -> None:
    y = pd.Series(np.linspace(1, 30, 48).round(), index=month_index(48))
    flat = get_model("ets").fit(y).predict(12)["mean"]
    trending = get_model("ets", trend=True).fit(y).predict(12)["mean"]
    assert trending.iloc[-1] > flat.iloc[-1]


def test_ensemble_drops_and_records_a_member_that_cannot_fit() -> None:
    y = make_counts(18, 3.0, seed=5)
    model = get_model("ensemble", members=("seasonal_naive", "tsb", "poisson_last")).fit(y)
    summary = model.summary()
    assert set(summary["members"]) == {"tsb", "poisson_last"}
    assert "too few observed months" in summary["dropped_members"]["seasonal_naive"]


def test_ensemble_averages_member_quantiles() -> None:
    y = make_counts(36, 4.0, seed=6)
    a = get_model("tsb").fit(y).predict(3)
    b = get_model("poisson_last").fit(y).predict(3)
    both = get_model("ensemble", members=("tsb", "poisson_last")).fit(y).predict(3)
    expected = np.floor((a["q0.9"] + b["q0.9"]) / 2 + 0.5)
    np.testing.assert_array_equal(both["q0.9"], expected)


def test_prophet_is_quiet(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    y = make_counts(30, 3.0, seed=7)
    with caplog.at_level(logging.INFO):
        get_model("prophet").fit(y).predict(3)
    out, err = capfd.readouterr()
    assert "cmdstanpy" not in out + err
    assert not [r for r in caplog.records if r.name.startswith(("cmdstanpy", "prophet"))]


def test_prophet_seed_leaves_numpy_global_state_alone() -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    get_model("prophet", seed=9).fit(make_counts(30, 3.0, seed=8)).predict(2)
    assert np.random.random() == expected

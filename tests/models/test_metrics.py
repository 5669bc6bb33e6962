"""Metrics on hand-checkable cases."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pytest

import models.metrics as metrics_module
from models.base import QUANTILE_COLUMNS, QUANTILES
from models.metrics import (
    available_metrics,
    crps,
    get_metric,
    pinball,
    point_scores,
    register_metric,
    score,
    seasonal_naive_scale,
    skill_scores,
)


def frame(y: list[float], q: Sequence[Sequence[float]], scale: float = 1.0) -> pd.DataFrame:
    """A backtest-like frame with observed y and quantile rows q."""
    out = pd.DataFrame(q, columns=list(QUANTILE_COLUMNS))
    out.insert(0, "mean", out["q0.5"])
    out.insert(0, "y", y)
    out["scale"] = scale
    return out


def test_crps_of_a_point_mass_is_the_absolute_error() -> None:
    y = np.array([0.0, 3.0, 10.0])
    q = np.repeat(np.array([[2.0], [3.0], [4.0]]), len(QUANTILES), axis=1)
    np.testing.assert_allclose(crps(y, q[:, 0], q, np.ones(3)), [2.0, 0.0, 6.0])


def test_crps_rewards_a_sharper_correct_forecast() -> None:
    y = np.array([5.0])
    sharp = np.array([[4, 4, 5, 5, 5, 6, 6]], dtype=float)
    wide = np.array([[0, 1, 3, 5, 7, 9, 10]], dtype=float)
    assert crps(y, y, sharp, y)[0] < crps(y, y, wide, y)[0]


def test_pinball_by_hand() -> None:
    loss = pinball(np.array([10.0]), np.array([[8.0, 12.0]]), np.array([0.1, 0.9]))
    np.testing.assert_allclose(loss, [[0.2, 0.2]])


def test_coverage_counts_bounds_as_inside() -> None:
    q = [[0, 1, 2, 3, 4, 5, 6]] * 4
    f = frame([1.0, 5.0, 6.0, 0.0], q)
    s = score(f, ["coverage_80", "coverage_95"])
    assert s["coverage_80"] == pytest.approx(2 / 4)  # 1 and 5 are inside [1, 5]
    assert s["coverage_95"] == pytest.approx(1.0)  # all inside [0, 6]


def test_mae_and_mase_use_the_median_and_the_scale() -> None:
    f = frame([4.0, 0.0], [[0, 1, 2, 2, 3, 4, 5]] * 2, scale=2.0)
    s = score(f, ["mae", "mase"])
    assert s["mae"] == pytest.approx(2.0)
    assert s["mase"] == pytest.approx(1.0)


def test_unknown_months_are_not_scored() -> None:
    f = frame([np.nan, 2.0], [[2] * 7, [2] * 7])
    assert score(f, ["crps"])["crps"] == 0.0
    assert len(point_scores(f, ["crps"])) == 1
    assert np.isnan(score(frame([np.nan], [[1] * 7]), ["crps"])["crps"])


def test_seasonal_naive_scale_and_its_zero_guard() -> None:
    y = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 3, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    assert seasonal_naive_scale(y) == pytest.approx(2 / 12)  # |3 - 1| once in 12 pairs
    flat_seasons = np.tile(np.arange(12.0), 2)
    # Year-on-year differences are all zero: the lag-1 MAE (22 steps of 1, one of 11).
    assert seasonal_naive_scale(flat_seasons) == pytest.approx(33 / 23)
    assert seasonal_naive_scale(np.zeros(30)) == 1.0


def test_metrics_register_by_decorator(monkeypatch: pytest.MonkeyPatch) -> None:
    # A private copy of the registry: a metric left behind would change every later backtest
    # in this process (and make in-process results differ from other processes').
    monkeypatch.setattr(metrics_module, "_METRICS", dict(metrics_module._METRICS))

    @register_metric("test_bias")
    def bias(y: np.ndarray, mean: np.ndarray, q: np.ndarray, scale: np.ndarray) -> np.ndarray:
        return mean - y

    assert "test_bias" in available_metrics()
    assert get_metric("test_bias") is bias
    with pytest.raises(KeyError, match="unknown metric"):
        get_metric("nope")


def test_skill_is_relative_to_seasonal_naive() -> None:
    scores = {"seasonal_naive": {"crps": 2.0}, "negbin": {"crps": 1.5}}
    assert skill_scores(scores) == {"seasonal_naive": 0.0, "negbin": pytest.approx(0.25)}
    assert skill_scores({"negbin": {"crps": 1.5}}) == {}

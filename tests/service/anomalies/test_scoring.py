"""The arithmetic of anomalies: intervals, tail probabilities, severities, episodes, scores."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from models.base import QUANTILE_COLUMNS
from service.anomalies.scoring import (
    EpisodeState,
    assign_episodes,
    flag,
    interval_columns,
    score_rows,
    tail_probability,
)
from service.anomalies.severity import severity

GRID = [2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0]  # q0.025 .. q0.975 of a forecast with mean 6


def _frame(observed: list[int], grid: list[float] = GRID, mean: float = 6.0) -> pd.DataFrame:
    rows = [{"observed": o, "mean": mean, **dict(zip(QUANTILE_COLUMNS, grid, strict=True))}
            for o in observed]  # fmt: skip
    return pd.DataFrame(rows)


def test_interval_columns_follow_the_level() -> None:
    assert interval_columns(0.95) == ("q0.025", "q0.975")
    assert interval_columns(0.8) == ("q0.1", "q0.9")
    with pytest.raises(ValueError, match="level must be one of"):
        interval_columns(0.9)


def test_tail_probability_is_continuous_at_the_grid_edge_and_falls_beyond() -> None:
    at_edge = tail_probability(12, 6.0, GRID, "above")
    assert at_edge == pytest.approx(0.025)
    probs = [tail_probability(o, 6.0, GRID, "above") for o in (13, 16, 20, 40)]
    assert probs == sorted(probs, reverse=True)
    assert 0 < probs[-1] < 1e-4
    inside = tail_probability(9, 6.0, GRID, "above")
    assert 0.1 < inside < 0.25
    below = [tail_probability(o, 6.0, GRID, "below") for o in (1, 0)]
    assert 0 < below[1] < below[0] < 0.025


def test_a_zero_forecast_still_ranks_surprises() -> None:
    zeros = [0.0] * 7
    one, five = (tail_probability(o, 0.0, zeros, "above") for o in (1, 5))
    assert 0 < five < one < 0.025
    assert severity(five) == "high"


def test_severity_thresholds() -> None:
    assert [severity(p) for p in (0.02, 0.005, 0.0005)] == ["low", "medium", "high"]


def test_flag_above_and_below_only_when_the_lower_bound_is_positive() -> None:
    flagged = flag(_frame([13, 6, 1, 12, 2]), 0.95)
    assert flagged.index.tolist() == [0, 2]
    assert flagged["direction"].tolist() == ["above", "below"]
    assert flagged[["lower", "upper"]].iloc[0].tolist() == [2.0, 12.0]
    quiet = flag(_frame([0], grid=[0, 0, 1, 2, 3, 5, 7], mean=2.0), 0.95)
    assert quiet.empty
    assert flag(_frame([11]), 0.8)["direction"].tolist() == ["above"]


def test_scores_crps_and_interval_hits() -> None:
    scores = score_rows(_frame([6, 11, 13]))
    assert scores["in_95"].tolist() == [True, True, False]
    assert scores["in_80"].tolist() == [True, False, False]
    assert scores["crps"].iloc[0] < scores["crps"].iloc[1] < scores["crps"].iloc[2]


def _flags(rows: list[tuple[int, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        [(sid, dt.date.fromisoformat(m + "-01"), d, s) for sid, m, d, s in rows],
        columns=["series_id", "month", "direction", "severity"],
    )


def test_episodes_alert_once_then_only_on_escalation() -> None:
    out = assign_episodes(_flags([
        (1, "2023-07", "above", "medium"),
        (1, "2023-08", "above", "low"),      # same episode, milder: suppressed
        (1, "2023-09", "above", "high"),     # escalation: alerts again
        (1, "2023-10", "above", "high"),     # suppressed
        (1, "2023-11", "below", "low"),      # direction changed: a new episode
        (1, "2024-01", "below", "low"),      # a gap: a new episode
        (2, "2023-08", "above", "low"),      # another series
    ]), {})  # fmt: skip
    assert out["alert"].tolist() == [True, False, True, False, True, True, True]
    starts = [d.isoformat()[:7] for d in out["episode_start"]]
    assert starts == ["2023-07"] * 4 + ["2023-11", "2024-01", "2023-08"]


def test_an_episode_carries_on_from_stored_anomalies() -> None:
    prior = {(1, dt.date(2023, 7, 1)): EpisodeState("above", dt.date(2023, 6, 1), 2)}
    out = assign_episodes(_flags([(1, "2023-08", "above", "medium"),
                                  (1, "2023-09", "above", "high")]), prior)  # fmt: skip
    assert out["alert"].tolist() == [False, True]
    assert set(out["episode_start"]) == {dt.date(2023, 6, 1)}

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
from service.anomalies.severity import SEVERITY_RANK, Rules, severity

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
    # Evidence alone is not severity: five events after a zero forecast are one floor of size.
    assert severity(five, 5.0) == "low"
    assert severity(five, 40.0) == "high"


def test_the_tail_comes_from_the_runs_quantiles_alone() -> None:
    """Beyond the 97.5 % quantile the tail decays at the rate of the run's own 90 -> 97.5 %
    step: widening that step (a more uncertain run) makes the same count less surprising."""
    narrow = tail_probability(20, 6.0, GRID, "above")
    wide = tail_probability(20, 6.0, [2.0, 3.0, 4.0, 6.0, 8.0, 8.0, 12.0], "above")
    assert wide > narrow
    # The mean does not enter: only the published quantiles do.
    assert tail_probability(20, 1.0, GRID, "above") == narrow


def test_severity_orders_size_above_surprise() -> None:
    """+165 deaths over 33.5 expected outranks a two-event blip however unlikely the blip."""
    deaths = severity(1e-6, 198 - 33.5, "fatalities")
    blip = severity(1e-9, 2 - 0.1, "events")
    assert (deaths, blip) == ("high", "low")
    assert SEVERITY_RANK[deaths] > SEVERITY_RANK[blip]
    # Size needs evidence too: a large excess the run found plausible is not high.
    assert severity(0.02, 300.0, "fatalities") == "low"
    # A share of the country's total counts as size: 8 events are 80 % of a quiet country's 10.
    assert severity(1e-4, 8.0, "events") == "low"
    assert severity(1e-4, 8.0, "events", country_total=10.0) == "high"


def test_a_flag_needs_evidence_and_size() -> None:
    rules = Rules()
    assert rules.material("events", 14.0, 6.0, 1e-4)
    assert not rules.material("events", 2.0, 0.1, 1e-9)  # below the 5-event floor
    assert not rules.material("events", 6.0, 40.0, 1e-9)  # +15 %: below the share
    assert not rules.material("fatalities", 10.0, 2.0, 1e-9)  # below the 15-death floor
    assert not rules.material("events", 14.0, 6.0, 0.02)  # no evidence
    assert rules.material("events", 14.0, 6.0, 0.02, shift_probability=0.8)  # the shift's


def test_flag_above_and_below_only_when_material() -> None:
    frame = _frame([20, 6, 1, 13, 2]).assign(measure="events")
    flagged = flag(frame, 0.95)
    # 13 is outside the interval but only 1 in 80 (no evidence); 2 is on the lower bound.
    assert flagged.index.tolist() == [0, 2]
    assert flagged["direction"].tolist() == ["above", "below"]
    assert flagged[["lower", "upper"]].iloc[0].tolist() == [2.0, 12.0]
    assert flagged["excess"].tolist() == [14.0, 5.0]
    quiet = flag(_frame([0], grid=[0, 0, 1, 2, 3, 5, 7], mean=2.0).assign(measure="events"), 0.95)
    assert quiet.empty
    shifted = _frame([13]).assign(measure="events", p_shift_up=0.9, p_shift_down=0.0)
    assert flag(shifted, 0.95)["direction"].tolist() == ["above"]


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

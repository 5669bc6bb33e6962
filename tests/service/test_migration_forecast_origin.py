"""Migration 20261201_0010 fills the judging forecast's origin of anomalies already stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import text

from service import migrate
from service.db import make_engine

ROWS = """
INSERT INTO sources (id, name) VALUES (1, 'ucdp');
INSERT INTO series (id, key, level, source_id, country) VALUES (1, 'k', 'country', 1, 'Mali');
INSERT INTO runs (id, status, executor, params, data_signature, n_series, n_failed, started_at)
  VALUES (1, 'published', 'inline', '{}', 'x', 1, 0, '2023-01-09 03:00:00');
INSERT INTO run_series (run_id, series_id, status, trained_through, scores, failures, summary,
  seconds) VALUES (1, 1, 'ok', '2022-12-01', '{}', '{}', '{}', 0.1);
INSERT INTO backtest_forecasts (run_id, series_id, month, origin, horizon, observed, mean, q025,
  q100, q250, q500, q750, q900, q975, in_season)
  VALUES (1, 1, '2021-08-01', '2021-05-01', 3, 40, 5, 1, 2, 3, 5, 7, 9, 11, 1);
"""
ANOMALY = (
    "INSERT INTO anomalies (series_id, month, origin, run_id, horizon, observed, expected, "
    "lower, upper, level, direction, tail_probability, severity, in_season, episode_start, "
    "alert, status, created_at) VALUES (1, :month, :origin, 1, :h, 40, 5, 1, 11, 0.95, "
    "'above', 0.0001, 'high', 1, :month, 1, 'new', '2023-01-10 00:00:00')"
)


def test_stored_anomalies_get_their_forecast_origin(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0003")
    with engine.begin() as connection:
        for statement in ROWS.strip().split(";"):
            if statement.strip():
                connection.execute(text(statement))
        connection.execute(text(ANOMALY), {"month": "2023-02-01", "origin": "live", "h": 2})
        connection.execute(text(ANOMALY), {"month": "2021-08-01", "origin": "backtest", "h": 3})
    migrate.upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT origin, forecast_origin FROM anomalies")).all()
        found: dict[str, object] = dict(rows)
        kinds = set(connection.execute(text("SELECT kind FROM anomalies")).scalars())
    assert {k: dt.date.fromisoformat(str(v)) for k, v in found.items()} == {
        "live": dt.date(2022, 12, 1),  # the run's training data end
        "backtest": dt.date(2021, 5, 1),  # the backtest's origin
    }
    assert kinds == {"interval"}

"""`sahelcast detect`: score past runs and flag months outside the forecast issued before them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.cli.common import console, fail, require_db

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from service.config import Settings


def deliver_alerts_from_here() -> None:
    """Have this process deliver webhooks for the anomalies it finds (service.alerts.hooks).

    Registered by the commands that run detection, never on import, so importing the CLI
    does not make anything deliver.
    """
    from service.alerts.hooks import register

    register()


def detect() -> None:
    """Compare newly observed months with the forecasts issued before them; flag anomalies.

    Idempotent: run it after every ingest (the weekly job does). Months outside the interval
    of SAHELCAST_ANOMALY_LEVEL (default 95%) are flagged; consecutive ones in the same
    direction form an episode that alerts once (again only if it gets more severe).
    """
    from service.config import get_settings

    engine = require_db()
    run_detection(get_settings(), engine)


def run_detection(settings: Settings, engine: Engine) -> None:
    """Run detection as a recorded job, print what it found, and deliver alerts from here."""
    from service.jobs.runner import run_job
    from service.jobs.steps import detect_step  # it imports the forecasting stack

    deliver_alerts_from_here()
    result = run_job(engine, "detect", "cli", lambda: detect_step(engine, settings))
    if not result.ok:
        fail(f"detection failed (job {result.job_id}): {result.message}")
    console.print(result.message, highlight=False)
    _alerts(engine, result.details.get("alert_ids", []))


def _alerts(engine: Engine, ids: list[int]) -> None:
    if not ids:
        return
    from rich.table import Table

    from service.anomalies.repository import get_anomaly
    from service.db import session_scope

    table = Table(title=f"{len(ids)} new alerts")
    for column in ("month", "series", "observed", "expected range", "direction", "severity",
                   "season", "horizon", "forecast from"):  # fmt: skip
        table.add_column(column)
    with session_scope(engine) as session:
        for anomaly_id in ids[:30]:
            a = get_anomaly(session, anomaly_id)
            if a is None:
                continue
            table.add_row(f"{a.month:%Y-%m}", a.series_key, str(a.observed),
                          f"{a.lower:.0f}–{a.upper:.0f}",
                          "new series" if a.kind == "new" else a.direction, a.severity,
                          "rainy" if a.in_season else "dry", str(a.horizon),
                          f"{a.forecast_origin:%Y-%m}" if a.forecast_origin else "–")  # fmt: skip
    console.print(table)

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
    of SAHELCAST_ANOMALY_LEVEL (default 95%) are flagged. Flags of one tree (a country's
    regions and event types, or one actor's) in consecutive months form one escalation, named
    by its broadest flagged level: it alerts once, and again only when it escalates (more
    severe, a new region, a broader level). Prints one row per alert.
    """
    from service.config import get_settings

    engine = require_db()
    run_detection(get_settings(), engine)


def run_detection(settings: Settings, engine: Engine) -> None:
    """Run detection as a recorded job, print what it found, and deliver alerts from here."""
    from service.jobs.runner import run_job
    from service.jobs.steps import detect_step  # it imports the forecasting stack

    deliver_alerts_from_here()
    result = run_job(engine, settings, "detect", "cli", lambda: detect_step(engine, settings))
    if not result.ok:
        fail(f"detection failed (job {result.job_id}): {result.message}")
    console.print(result.message, highlight=False)
    _escalations(engine, result.details.get("alert_ids", []))


ALERT_COLUMNS = ("escalation", "months", "headline", "observed", "expected range", "direction",
                 "severity", "parts", "horizon", "forecast from")  # fmt: skip


def _escalations(engine: Engine, ids: list[int]) -> None:
    """One row per alert: the escalation it speaks for, its headline and every part. Long
    values fold onto more lines (the output module's tables); nothing is cut with "…"."""
    if not ids:
        return
    from service.anomalies.repository import get_anomaly
    from service.cli.output import Column, Format, emit
    from service.db import session_scope
    from service.escalations.headline import headline
    from service.escalations.repository import escalation_reads
    from service.measures import noun

    records = []
    with session_scope(engine) as session:
        for anomaly_id in ids:
            a = get_anomaly(session, anomaly_id)
            if a is None:
                continue
            found = escalation_reads(session, [a.escalation_id]) if a.escalation_id else []
            e = found[0] if found else None
            months = e.months if e else [a.month]
            span = f"{months[0]:%Y-%m}" + (f"–{months[-1]:%Y-%m}" if len(months) > 1 else "")
            parts = ", ".join(f"{p.series.level} {p.series.region or ''}".strip()
                              for p in e.parts) if e else ""  # fmt: skip
            records.append({
                "escalation": f"{e.id} (update {e.alerts})" if e and e.alerts > 1
                else str(e.id if e else "-"),
                "months": span, "headline": headline(e) if e else a.series_key,
                "observed": f"{a.observed} {noun(a.measure)}",
                "expected range": f"{a.lower:.0f}–{a.upper:.0f}",
                "direction": "new series" if a.kind == "new" else a.direction,
                "severity": e.severity if e else a.severity,
                "parts": f"{len(e.parts)}: {parts}" if e else "1", "horizon": str(a.horizon),
                "forecast from": f"{a.forecast_origin:%Y-%m}" if a.forecast_origin else "–",
            })  # fmt: skip
    title = f"{len(records)} new alerts (one per escalation that opened or escalated)"
    emit(records, [Column(name) for name in ALERT_COLUMNS], Format.table, title=title)

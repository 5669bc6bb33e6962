"""Writes of a training run: the run row, its results in batches, publication and retention.

Functions only flush; the caller (the run orchestrator) owns each transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import pandas as pd
from sqlalchemy import CursorResult, Table, and_, delete, exists, select, update
from sqlalchemy.orm import Session

from service.anomalies.orm import RunScore
from service.bulk import insert_frame
from service.ingest.orm import utcnow
from service.training.lock import Lease, LockLost
from service.training.orm import BacktestForecast, Forecast, Lock, Publication, Run, RunSeries
from service.training.work import finite_or_none

RUNNING, PUBLISHED, SUPERSEDED, FAILED = "running", "published", "superseded", "failed"
READABLE = (PUBLISHED, SUPERSEDED)


def published_run(session: Session) -> Run | None:
    """Return the run readers currently see, if any."""
    return session.scalar(select(Run).join(Publication, Publication.run_id == Run.id))


def create_run(
    session: Session, *, executor: str, params: dict[str, Any], signature: str, n_series: int
) -> Run:
    run = Run(status=RUNNING, executor=executor, params=params, data_signature=signature,
              n_series=n_series, n_failed=0)  # fmt: skip
    session.add(run)
    session.flush()
    return run


def abandon_orphans(session: Session) -> list[int]:
    """Mark runs left `running` by a dead process as failed and drop their partial forecasts.

    Only the lease holder calls this, so no live run can be among them.
    """
    ids = list(session.scalars(select(Run.id).where(Run.status == RUNNING)))
    if ids:
        session.execute(
            update(Run)
            .where(Run.id.in_(ids))
            .values(status=FAILED, finished_at=utcnow(),
                    message="abandoned: the training process stopped before finishing")
        )  # fmt: skip
        _drop_forecasts(session, ids)
    return ids


def fail_run(session: Session, run_id: int, message: str) -> None:
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=FAILED, finished_at=utcnow(), message=message[:4000])
    )
    _drop_forecasts(session, [run_id])


def _drop_forecasts(session: Session, run_ids: Sequence[int]) -> None:
    for table in (Forecast, BacktestForecast):
        session.execute(delete(table).where(table.run_id.in_(list(run_ids))))


def write_results(session: Session, run_id: int, results: Sequence[dict[str, Any]]) -> int:
    """Bulk-insert a batch of series results (run_series, forecasts, backtests); return failures."""
    if not results:
        return 0
    series_rows: list[dict[str, Any]] = []
    forecast_rows: list[dict[str, Any]] = []
    backtest_rows: list[dict[str, Any]] = []
    for r in results:
        season = r.get("season") or {}
        series_rows.append({
            "run_id": run_id, "series_id": r["series_id"], "status": r["status"],
            "model": r["model"], "trained_through": r["trained_through"],
            "scores": json.dumps(r["scores"]), "failures": json.dumps(r["failures"]),
            "summary": json.dumps(r["summary"]),
            "season_rate_ratio": finite_or_none(season.get("rate_ratio")),
            "season_ci_low": finite_or_none(season.get("ci_low")),
            "season_ci_high": finite_or_none(season.get("ci_high")),
            "season_p_value": finite_or_none(season.get("p_value")),
            "season_pooled": season.get("pooled") if season else None,
            "error": r["error"], "seconds": float(r["seconds"]),
        })  # fmt: skip
        ids = {"run_id": run_id, "series_id": r["series_id"]}
        forecast_rows.extend({**ids, **row} for row in r["forecast"])
        backtest_rows.extend({**ids, **row} for row in r["backtest"])
    insert_frame(session, cast(Table, RunSeries.__table__), pd.DataFrame(series_rows))
    insert_frame(session, cast(Table, Forecast.__table__), pd.DataFrame(forecast_rows))
    insert_frame(session, cast(Table, BacktestForecast.__table__), pd.DataFrame(backtest_rows))
    return sum(r["status"] == FAILED for r in results)


def publish(session: Session, run: Run, lease: Lease) -> None:
    """Make `run` the one readers see, in the caller's transaction.

    The lease is checked in the same transaction (a fencing check): a run whose lease lapsed
    and was taken over must not overwrite the newer holder's publication.
    """
    held = cast(CursorResult[Any], session.execute(
        update(Lock).where(Lock.name == lease.name, Lock.owner == lease.owner)
        .values(expires_at=lease.expires_at)
    ))  # fmt: skip
    if held.rowcount != 1:
        raise LockLost(f"run {run.id} lost its lease before publishing; not published")
    now = utcnow()
    session.execute(update(Run).where(Run.status == PUBLISHED).values(status=SUPERSEDED))
    pointer = session.get(Publication, 1)
    if pointer is None:
        session.add(Publication(id=1, run_id=run.id, published_at=now))
    else:
        pointer.run_id, pointer.published_at = run.id, now
    run.status, run.published_at, run.finished_at = PUBLISHED, now, run.finished_at or now
    session.flush()


def apply_retention(session: Session, keep: int) -> list[int]:
    """Trim runs older than the `keep` newest readable ones; return the trimmed run ids.

    Their backtests go, and so do forecasts already scored against what was observed. A
    forecast not yet scored stays until detection has scored it, so accuracy by horizon
    stays on record for every run.
    """
    readable = list(
        session.scalars(select(Run.id).where(Run.status.in_(READABLE)).order_by(Run.id.desc()))
    )
    published = published_run(session)
    old = [run_id for run_id in readable[keep:] if published is None or run_id != published.id]
    if not old:
        return []
    session.execute(delete(BacktestForecast).where(BacktestForecast.run_id.in_(old)))
    scored = exists().where(
        and_(RunScore.run_id == Forecast.run_id, RunScore.series_id == Forecast.series_id,
             RunScore.month == Forecast.month)
    )  # fmt: skip
    session.execute(delete(Forecast).where(Forecast.run_id.in_(old), scored))
    return old

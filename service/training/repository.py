"""Writes of a training run: the run row, its results in batches, publication and retention.

Functions only flush; the caller (the run orchestrator) owns each transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Table,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from service.anomalies.orm import RunScore
from service.bulk import insert_frame
from service.kit.lease import Lease, LockLost
from service.kit.orm import Lock
from service.kit.time import utcnow
from service.measures import EVENTS, MEASURES, PUBLICATION_IDS
from service.training.orm import (
    BacktestForecast,
    Forecast,
    Outlook,
    Publication,
    Run,
    RunSeries,
    SeriesState,
)
from service.training.work import PanelOutput

# What a run writes per series beside `run_series`, dropped with a failed run and carried by a
# scoped one.
SERIES_TABLES = (Forecast, BacktestForecast, Outlook, SeriesState)

RUNNING, PUBLISHED, SUPERSEDED, FAILED = "running", "published", "superseded", "failed"
READABLE = (PUBLISHED, SUPERSEDED)


def create_run(
    session: Session,
    *,
    measure: str = EVENTS,
    executor: str,
    params: dict[str, Any],
    signature: str,
    n_series: int,
) -> Run:
    run = Run(
        status=RUNNING,
        measure=measure,
        executor=executor,
        params=params,
        data_signature=signature,
        n_series=n_series,
        n_failed=0,
    )
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
            .values(
                status=FAILED,
                finished_at=utcnow(),
                message="abandoned: the training process stopped before finishing",
            )
        )
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
    for table in SERIES_TABLES:
        session.execute(delete(table).where(table.run_id.in_(list(run_ids))))


def write_results(session: Session, run_id: int, output: PanelOutput) -> int:
    """Bulk-insert a panel's series results, forecasts, outlooks and states; return failures."""
    if output.series.empty:
        return 0
    frames = (
        (RunSeries, output.series),
        (Forecast, output.forecast),
        (BacktestForecast, output.backtest),
        (Outlook, output.outlook),
        (SeriesState, output.states),
    )
    for table, rows in frames:
        if not rows.empty:
            insert_frame(session, cast(Table, table.__table__), rows.assign(run_id=run_id))
    return len(output.failed())


def record_calibration(session: Session, run_id: int, calibration: dict[str, Any]) -> None:
    """Keep the engine's horizon-wise calibration of each panel with the run."""
    session.execute(update(Run).where(Run.id == run_id).values(calibration=calibration))


def carry_over(session: Session, run_id: int, previous_run_id: int) -> int:
    """Copy the previous run's results for every series this run did not train; return how many.

    A scoped run replaces only its own series: the rest keep their latest forecasts, and the
    run that computed them stays named in `trained_in_run_id`.
    """
    fresh = select(RunSeries.series_id).where(RunSeries.run_id == run_id)
    for table in SERIES_TABLES:
        t = cast(Table, table.__table__)
        columns = [c.name for c in t.columns]
        source = select(
            *[literal(run_id).label("run_id") if c == "run_id" else t.c[c] for c in columns]
        ).where(t.c.run_id == previous_run_id, t.c.series_id.not_in(fresh))
        session.execute(insert(t).from_select(columns, source))
    t = cast(Table, RunSeries.__table__)
    columns = [c.name for c in t.columns]
    picked: list[ColumnElement[Any]] = []
    for c in columns:
        if c == "run_id":
            picked.append(literal(run_id).label("run_id"))
        elif c == "trained_in_run_id":
            picked.append(func.coalesce(t.c.trained_in_run_id, t.c.run_id).label(c))
        else:
            picked.append(t.c[c])
    source = select(*picked).where(t.c.run_id == previous_run_id, t.c.series_id.not_in(fresh))
    session.execute(insert(t).from_select(columns, source))
    # counted, not taken from rowcount: psycopg reports -1 for INSERT ... SELECT
    carried = select(func.count()).where(t.c.run_id == run_id, t.c.trained_in_run_id.is_not(None))
    return int(session.scalar(carried) or 0)


def publish(session: Session, run: Run, lease: Lease) -> None:
    """Make `run` the one readers see, in the caller's transaction.

    The lease is checked in the same transaction (a fencing check): a run whose lease lapsed
    and was taken over must not overwrite the newer holder's publication.
    """
    held = cast(
        CursorResult[Any],
        session.execute(
            update(Lock)
            .where(Lock.name == lease.name, Lock.owner == lease.owner)
            .values(expires_at=lease.expires_at)
        ),
    )
    if held.rowcount != 1:
        raise LockLost(f"run {run.id} lost its lease before publishing; not published")
    now = utcnow()
    session.execute(
        update(Run)
        .where(Run.status == PUBLISHED, Run.measure == run.measure)
        .values(status=SUPERSEDED)
    )
    pointer_id = PUBLICATION_IDS[run.measure]
    pointer = session.get(Publication, pointer_id)
    if pointer is None:
        session.add(Publication(id=pointer_id, run_id=run.id, published_at=now))
    else:
        pointer.run_id, pointer.published_at = run.id, now
    run.status, run.published_at, run.finished_at = PUBLISHED, now, run.finished_at or now
    session.flush()


def apply_retention(session: Session, keep: int) -> list[int]:
    """Trim runs older than the `keep` newest readable ones of each measure; return the trimmed
    run ids.

    Their backtests go, and so do forecasts already scored against what was observed. A
    forecast not yet scored stays until detection has scored it, so accuracy by horizon
    stays on record for every run.
    """
    published = set(session.scalars(select(Publication.run_id)))
    old: list[int] = []
    for measure in MEASURES:
        readable = list(
            session.scalars(
                select(Run.id)
                .where(Run.status.in_(READABLE), Run.measure == measure)
                .order_by(Run.id.desc())
            )
        )
        old += [run_id for run_id in readable[keep:] if run_id not in published]
    if not old:
        return []
    for table in (BacktestForecast, Outlook, SeriesState):
        session.execute(delete(table).where(table.run_id.in_(old)))
    scored = exists().where(
        and_(
            RunScore.run_id == Forecast.run_id,
            RunScore.series_id == Forecast.series_id,
            RunScore.month == Forecast.month,
        )
    )
    session.execute(delete(Forecast).where(Forecast.run_id.in_(old), scored))
    return old

"""Accuracy of past runs against what was later observed, per measure (from `run_scores`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.anomalies.repository import NOTHING_SCORED
from service.anomalies.schemas import Accuracy
from service.api.deps import ReadDep, SessionDep
from service.api.lookups import series_or_404
from service.api.params import MAX_ID, MeasureParam, SeriesRefParam
from service.api.problems import problems
from service.api.routes import V1
from service.api.schemas.runs import (
    AccuracyRead,
    AccuracyReportRead,
    HorizonAccuracy,
    LevelAccuracy,
    MeasureAccuracy,
    RunAccuracy,
)
from service.desk.trackrecord import MeasureRecord, live_by_measure

router = APIRouter(prefix=V1, tags=["accuracy"], responses=problems(401, 422))
RunFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this run.")]


def _fields(a: Accuracy) -> dict[str, Any]:
    return asdict(a)


def _read(records: dict[str, MeasureRecord], measure: str) -> AccuracyReportRead:
    chosen = records[measure]
    return AccuracyReportRead(
        measure=measure,
        overall=AccuracyRead(**_fields(chosen.overall)),
        by_horizon=[HorizonAccuracy(horizon=h, **_fields(a)) for h, a in chosen.by_horizon],
        by_run=[
            RunAccuracy(
                run_id=r.run_id, measure=measure, same_data_runs=list(r.runs), **_fields(r.accuracy)
            )
            for r in chosen.by_run
        ],  # fmt: skip
        by_level=[LevelAccuracy(level=lv, **_fields(a)) for lv, a in chosen.by_level],
        by_measure=[
            MeasureAccuracy(
                measure=m,
                overall=AccuracyRead(**_fields(rec.overall)),
                by_horizon=[HorizonAccuracy(horizon=h, **_fields(a)) for h, a in rec.by_horizon],
                by_level=[LevelAccuracy(level=lv, **_fields(a)) for lv, a in rec.by_level],
            )
            for m, rec in records.items()
        ],  # fmt: skip
        note=NOTHING_SCORED if chosen.overall.n == 0 else None,
    )


@router.get("/accuracy", summary="Accuracy of past runs, per measure")
def overall(
    session: SessionDep, _: ReadDep, run_id: RunFilter = None, measure: MeasureParam = "events"
) -> AccuracyReportRead:
    """Mean CRPS and 80 %/95 % interval coverage of `measure` (events unless asked), overall,
    by horizon, by run and by hierarchy level; `by_measure` gives events and deaths each on
    its own (a CRPS of deaths and one of events are never averaged together).

    Runs trained on the same data (a forced retrain) count once, as the latest of them; an
    empty report says why in `note`.
    """
    return _read(live_by_measure(session, run_id=run_id), measure)


@router.get(
    "/series/{ref}/accuracy",
    responses=problems(404),
    summary="Accuracy of past runs for one series, per measure",
)
def for_series(
    session: SessionDep,
    _: ReadDep,
    ref: SeriesRefParam,
    run_id: RunFilter = None,
    measure: MeasureParam = "events",
) -> AccuracyReportRead:
    series = series_or_404(session, ref)
    return _read(live_by_measure(session, run_id=run_id, series_id=series.id), measure)

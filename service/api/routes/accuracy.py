"""Accuracy of past runs against what was later observed (from `run_scores`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.anomalies.repository import accuracy_report
from service.anomalies.schemas import Accuracy, AccuracyReport
from service.api.deps import ReadDep, SessionDep
from service.api.lookups import series_or_404
from service.api.params import MAX_ID, SeriesRefParam
from service.api.problems import problems
from service.api.routes import V1
from service.api.schemas.runs import (
    AccuracyRead,
    AccuracyReportRead,
    HorizonAccuracy,
    RunAccuracy,
)

router = APIRouter(prefix=V1, tags=["accuracy"], responses=problems(401, 422))
RunFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this run.")]


def _read(report: AccuracyReport) -> AccuracyReportRead:
    def fields(a: Accuracy) -> dict[str, Any]:
        return asdict(a)

    return AccuracyReportRead(
        overall=AccuracyRead(**fields(report.overall)),
        by_horizon=[HorizonAccuracy(horizon=h, **fields(a)) for h, a in report.by_horizon],
        by_run=[
            RunAccuracy(run_id=r.run_id, same_data_runs=list(r.runs), **fields(r.accuracy))
            for r in report.by_run
        ],  # fmt: skip
        note=report.note,
    )


@router.get("/accuracy", summary="Accuracy of past runs")
def overall(session: SessionDep, _: ReadDep, run_id: RunFilter = None) -> AccuracyReportRead:
    """Mean CRPS and 80 %/95 % interval coverage, overall, by horizon and by run.

    Runs trained on the same data (a forced retrain) count once, as the latest of them; an
    empty report says why in `note`.
    """
    return _read(accuracy_report(session, run_id=run_id))


@router.get(
    "/series/{ref}/accuracy",
    responses=problems(404),
    summary="Accuracy of past runs for one series",
)
def for_series(
    session: SessionDep, _: ReadDep, ref: SeriesRefParam, run_id: RunFilter = None
) -> AccuracyReportRead:
    series = series_or_404(session, ref)
    return _read(accuracy_report(session, run_id=run_id, series_id=series.id))

"""Accuracy of past runs against what was later observed, per measure (from `run_scores`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import Query, Response

from service.anomalies.repository import NOTHING_SCORED
from service.anomalies.schemas import Accuracy
from service.api.deps import SessionDep
from service.api.formats import csv_response
from service.api.lookups import series_or_404
from service.api.params import MAX_ID, AsCsv, MeasureParam, SeriesRefParam
from service.api.routes import list_route, read_router
from service.api.schemas.runs import (
    AccuracyRead,
    AccuracyReportRead,
    HorizonAccuracy,
    LevelAccuracy,
    MeasureAccuracy,
    RunAccuracy,
)
from service.desk.trackrecord import MeasureRecord, live_by_measure

router = read_router("accuracy")
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
        ],
        by_level=[LevelAccuracy(level=lv, **_fields(a)) for lv, a in chosen.by_level],
        by_measure=[
            MeasureAccuracy(
                measure=m,
                overall=AccuracyRead(**_fields(rec.overall)),
                by_horizon=[HorizonAccuracy(horizon=h, **_fields(a)) for h, a in rec.by_horizon],
                by_level=[LevelAccuracy(level=lv, **_fields(a)) for lv, a in rec.by_level],
            )
            for m, rec in records.items()
        ],
        note=NOTHING_SCORED if chosen.overall.n == 0 else None,
    )


ACCURACY_COLUMNS = (
    "part",
    "measure",
    "horizon",
    "level",
    "run_id",
    "same_data_runs",
    "n",
    "crps",
    "coverage_80",
    "coverage_95",
)


def _scores(a: AccuracyRead) -> tuple[Any, ...]:
    return a.n, a.crps, a.coverage_80, a.coverage_95


def accuracy_rows(report: AccuracyReportRead) -> list[tuple[Any, ...]]:
    """The report as one CSV: per measure its `overall` row, a `horizon` row per horizon and a
    `level` row per hierarchy level, then a `run` row per run of the report's measure."""
    rows: list[tuple[Any, ...]] = []
    for m in report.by_measure:
        rows.append(("overall", m.measure, None, None, None, None, *_scores(m.overall)))
        rows += [
            ("horizon", m.measure, h.horizon, None, None, None, *_scores(h)) for h in m.by_horizon
        ]
        rows += [("level", m.measure, None, v.level, None, None, *_scores(v)) for v in m.by_level]
    for r in report.by_run:
        same = ";".join(map(str, r.same_data_runs))
        rows.append(("run", r.measure, None, None, r.run_id, same, *_scores(r)))
    return rows


def _answer(report: AccuracyReportRead, as_csv: bool, name: str) -> Response | AccuracyReportRead:
    if as_csv:
        return csv_response(ACCURACY_COLUMNS, accuracy_rows(report), f"{name}.csv")
    return report


@list_route(router, "/accuracy", AccuracyReportRead, "Accuracy of past runs, per measure")
def overall(
    session: SessionDep,
    as_csv: AsCsv,
    run_id: RunFilter = None,
    measure: MeasureParam = "events",
) -> Response | AccuracyReportRead:
    """Mean CRPS and 80 %/95 % interval coverage of `measure` (events unless asked), overall,
    by horizon, by run and by hierarchy level; `by_measure` gives events and deaths each on
    its own (a CRPS of deaths and one of events are never averaged together).

    Runs trained on the same data (a forced retrain) count once, as the latest of them; an
    empty report says why in `note`. `format=csv`: one row per measure's `overall`, per
    `horizon` and per `run` (`part` says which).
    """
    return _answer(_read(live_by_measure(session, run_id=run_id), measure), as_csv, "accuracy")


@list_route(
    router,
    "/series/{ref}/accuracy",
    AccuracyReportRead,
    "Accuracy of past runs for one series, per measure",
    404,
)
def for_series(
    session: SessionDep,
    ref: SeriesRefParam,
    as_csv: AsCsv,
    run_id: RunFilter = None,
    measure: MeasureParam = "events",
) -> Response | AccuracyReportRead:
    series = series_or_404(session, ref)
    report = _read(live_by_measure(session, run_id=run_id, series_id=series.id), measure)
    return _answer(report, as_csv, f"accuracy-{series.id}")

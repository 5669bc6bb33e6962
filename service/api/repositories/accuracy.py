"""How past runs fared once their months were observed: CRPS and interval coverage by horizon."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, cast, func, select
from sqlalchemy.orm import Session

from service.anomalies.orm import RunScore


@dataclass(frozen=True)
class Accuracy:
    """Scores over `n` forecast months: mean CRPS and the share inside the 80 % / 95 % intervals."""

    n: int
    crps: float | None
    coverage_80: float | None
    coverage_95: float | None


@dataclass(frozen=True)
class AccuracyReport:
    overall: Accuracy
    by_horizon: list[tuple[int, Accuracy]]
    by_run: list[tuple[int, Accuracy]]


def _measures() -> list[Any]:
    return [
        func.count(),
        func.avg(RunScore.crps),
        func.avg(cast(RunScore.in_80, Integer)),
        func.avg(cast(RunScore.in_95, Integer)),
    ]


def _accuracy(row: tuple[object, ...]) -> Accuracy:
    n, crps, c80, c95 = row
    as_float = [None if v is None else float(v) for v in (crps, c80, c95)]  # type: ignore[arg-type]
    return Accuracy(int(n or 0), *as_float)  # type: ignore[call-overload]


def accuracy_report(
    session: Session, *, run_id: int | None = None, series_id: int | None = None
) -> AccuracyReport:
    """Scores overall, by horizon and by run, optionally for one run and/or one series."""
    where = []
    if run_id is not None:
        where.append(RunScore.run_id == run_id)
    if series_id is not None:
        where.append(RunScore.series_id == series_id)
    overall = session.execute(select(*_measures()).where(*where)).one()
    horizons = session.execute(
        select(RunScore.horizon, *_measures())
        .where(*where)
        .group_by(RunScore.horizon)
        .order_by(RunScore.horizon)
    ).all()
    runs = session.execute(
        select(RunScore.run_id, *_measures())
        .where(*where)
        .group_by(RunScore.run_id)
        .order_by(RunScore.run_id)
    ).all()
    return AccuracyReport(
        overall=_accuracy(tuple(overall)),
        by_horizon=[(int(r[0]), _accuracy(tuple(r[1:]))) for r in horizons],
        by_run=[(int(r[0]), _accuracy(tuple(r[1:]))) for r in runs],
    )

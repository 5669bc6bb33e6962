"""A series' result in the published run: chosen model, fitted summary, rainy-season effect."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from service.training.orm import Publication, RunSeries

PUBLICATION_ID = 1  # the single pointer row (see service.training.repository.publish)


@dataclass(frozen=True)
class PublishedResult:
    run_id: int
    published_at: dt.datetime
    result: RunSeries | None


def published_result(session: Session, series_id: int) -> PublishedResult | None:
    """The series' `run_series` row in the published run (one statement); None if unpublished."""
    row = session.execute(
        select(Publication.run_id, Publication.published_at, RunSeries)
        .select_from(Publication)
        .outerjoin(
            RunSeries,
            and_(RunSeries.run_id == Publication.run_id, RunSeries.series_id == series_id),
        )
        .where(Publication.id == PUBLICATION_ID)
    ).first()
    return PublishedResult(row[0], row[1], row[2]) if row else None


def numeric_leaves(data: Any, prefix: str = "") -> dict[str, float]:
    """Flatten nested dicts to `a.b` keys, keeping only numbers (for score summaries)."""
    out: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            out.update(numeric_leaves(value, f"{prefix}{key}."))
    elif isinstance(data, int | float) and not isinstance(data, bool) and data == data:
        if abs(float(data)) != float("inf"):
            out[prefix.rstrip(".")] = float(data)
    return out

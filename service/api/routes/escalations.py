"""Escalations: the grouped view of anomalies (the flat view is /v1/anomalies)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Response

from service.anomalies.severity import Origin, Severity
from service.api.deps import SessionDep
from service.api.formats import records_csv
from service.api.lookups import found_or_404
from service.api.params import AsCsv, Id, IsoDate, PageDep, Text
from service.api.problems import problems
from service.api.routes import list_route, read_router
from service.api.schemas.escalations import EscalationPage, EscalationRead
from service.escalations.repository import (
    EscalationFilter,
    get_escalation,
    list_escalations,
)

router = read_router("anomalies")


def part_rows(e: EscalationRead) -> list[dict[str, Any]]:
    """An escalation as CSV records: one per series and measure it holds."""
    head = e.model_dump(mode="json", exclude={"parts"})
    if not e.parts:
        return [head]
    return [{**head, "part": p.model_dump(mode="json")} for p in e.parts]


@list_route(router, "/escalations", EscalationPage, "Escalations (anomalies grouped)")
def list_(
    session: SessionDep,
    page: PageDep,
    as_csv: AsCsv,
    origin: Annotated[
        Origin, Query(description="`live`; `backtest` (evaluation history) only when asked.")
    ] = "live",
    country: Annotated[Text | None, Query(max_length=120)] = None,
    actor: Annotated[Text | None, Query(max_length=255)] = None,
    since: Annotated[IsoDate | None, Query(description="Running on or after this month.")] = None,
    min_severity: Annotated[Severity | None, Query(description="At least this severity.")] = None,
) -> Response | EscalationPage:
    """Anomalies of one tree and consecutive months grouped into one escalation each, the
    latest first, with the series and months they are made of. `format=csv`: one row per
    escalation and part (`part_series_key`, `part_months` joined by `;`, …)."""
    filters = EscalationFilter(origin=origin, country=country, actor=actor, since=since,
                               min_severity=min_severity)  # fmt: skip
    rows, total = list_escalations(session, filters, limit=page.limit, offset=page.offset)
    reads = [EscalationRead.of(r) for r in rows]
    if as_csv:
        parts = [row for e in reads for row in part_rows(e)]
        return records_csv(parts, "escalations.csv", list(EscalationRead.model_fields))
    return EscalationPage.of(page, total, reads)


@router.get("/escalations/{escalation_id}", responses=problems(404), summary="One escalation")
def get_(session: SessionDep, escalation_id: Id) -> EscalationRead:
    read = found_or_404(get_escalation(session, escalation_id), "escalation", escalation_id)
    return EscalationRead.of(read)

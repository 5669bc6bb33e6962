"""Escalations: the grouped view of anomalies (the flat view is /v1/anomalies)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from service.anomalies.severity import Origin, Severity
from service.api.deps import ReadDep, SessionDep
from service.api.formats import CSV_RESPONSE, records_csv, wants_csv
from service.api.lookups import found_or_404
from service.api.params import FormatParam, Id, IsoDate, PageDep, Text
from service.api.problems import problems
from service.api.routes import V1
from service.api.schemas.escalations import EscalationPage, EscalationRead
from service.escalations.repository import (
    EscalationFilter,
    get_escalation,
    list_escalations,
)

router = APIRouter(prefix=V1, tags=["anomalies"], responses=problems(401, 422))


def part_rows(e: EscalationRead) -> list[dict[str, Any]]:
    """An escalation as CSV records: one per series and measure it holds."""
    head = e.model_dump(mode="json", exclude={"parts"})
    if not e.parts:
        return [head]
    return [{**head, "part": p.model_dump(mode="json")} for p in e.parts]


@router.get(
    "/escalations",
    response_model=EscalationPage,
    responses={200: CSV_RESPONSE},
    summary="Escalations (anomalies grouped)",
)
def list_(
    request: Request,
    session: SessionDep,
    _: ReadDep,
    page: PageDep,
    origin: Annotated[
        Origin, Query(description="`live`; `backtest` (evaluation history) only when asked.")
    ] = "live",
    country: Annotated[Text | None, Query(max_length=120)] = None,
    actor: Annotated[Text | None, Query(max_length=255)] = None,
    since: Annotated[IsoDate | None, Query(description="Running on or after this month.")] = None,
    min_severity: Annotated[Severity | None, Query(description="At least this severity.")] = None,
    format: FormatParam = None,
) -> Response | EscalationPage:
    """Anomalies of one tree and consecutive months grouped into one escalation each, the
    latest first, with the series and months they are made of. `format=csv`: one row per
    escalation and part (`part_series_key`, `part_months` joined by `;`, …)."""
    filters = EscalationFilter(origin=origin, country=country, actor=actor, since=since,
                               min_severity=min_severity)  # fmt: skip
    rows, total = list_escalations(session, filters, limit=page.limit, offset=page.offset)
    if wants_csv(request, format):
        reads = [EscalationRead.of(r) for r in rows]
        return records_csv([row for e in reads for row in part_rows(e)], "escalations.csv",
                           list(EscalationRead.model_fields))  # fmt: skip
    return EscalationPage(total=total, limit=page.limit, offset=page.offset,
                          items=[EscalationRead.of(r) for r in rows])  # fmt: skip


@router.get("/escalations/{escalation_id}", responses=problems(404), summary="One escalation")
def get_(session: SessionDep, _: ReadDep, escalation_id: Id) -> EscalationRead:
    read = found_or_404(get_escalation(session, escalation_id), "escalation", escalation_id)
    return EscalationRead.of(read)

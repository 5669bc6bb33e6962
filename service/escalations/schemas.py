"""Read models of escalations, shared by the API, the CLI and the alert payloads."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Self

from pydantic import BaseModel

from service.measures import MEASURES
from service.series.repository import SeriesLabel

if TYPE_CHECKING:
    from service.escalations.orm import Escalation


class EscalationPart(BaseModel):
    """One series and measure of an escalation, and its flagged months."""

    series: SeriesLabel
    measure: str  # events | fatalities
    months: list[dt.date]
    anomaly_ids: list[int]
    severity: str  # its worst month's
    observed: list[int]  # per month, as `months`
    expected: list[float]


class EscalationRead(BaseModel):
    """Flagged months of one tree that belong together, named by their broadest level."""

    id: int
    origin: str
    source: str
    country: str
    tree: str  # geography | actor
    actor: str | None
    direction: str
    first_month: dt.date
    last_month: dt.date
    headline_level: str
    headline_series_id: int
    severity: str
    alerts: int  # times it opened or escalated
    parts: list[EscalationPart]

    @property
    def headline(self) -> EscalationPart | None:
        return next((p for p in self.parts if p.series.id == self.headline_series_id), None)

    @property
    def months(self) -> list[dt.date]:
        return sorted({m for p in self.parts for m in p.months})

    @property
    def measures(self) -> list[str]:
        """What was flagged in it, events first."""
        return [m for m in MEASURES if any(p.measure == m for p in self.parts)]

    @classmethod
    def of(cls, e: Escalation, source: str, actor: str | None, parts: list[EscalationPart]) -> Self:
        return cls(
            id=e.id, origin=e.origin, source=source, country=e.country, tree=e.tree, actor=actor,
            direction=e.direction, first_month=e.first_month, last_month=e.last_month,
            headline_level=e.headline_level, headline_series_id=e.headline_series_id,
            severity=e.severity, alerts=e.alerts, parts=parts,
        )  # fmt: skip

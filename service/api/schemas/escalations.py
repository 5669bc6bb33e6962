"""Response schemas of escalations (anomalies of one tree and consecutive months, grouped)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from service.api.schemas.common import PageInfo
from service.escalations import schemas as domain
from service.escalations.headline import countries, headline
from service.series.repository import SeriesLabel


class EscalationPart(BaseModel):
    """One series and measure of an escalation, and its flagged months."""

    series: SeriesLabel
    measure: str = Field(description="`events` or `fatalities` (deaths).")
    months: list[dt.date]
    anomaly_ids: list[int]
    observed: list[int] = Field(description="Counts per month, in the order of `months`.")
    expected: list[float] = Field(description="Forecast means per month.")
    severity: str = Field(description="The worst of its months.")


class EscalationRead(BaseModel):
    """Flagged series-months of one tree (a source and country's geography, or one actor's
    series there) in consecutive months: one alert, named by its broadest significant level."""

    id: int
    headline: str = Field(
        description="What happened, e.g. 'JNIM in Mopti: 45 events vs 18 "
        "expected (+150 %), since May 2023' (a region only if it stays in it)."
    )
    origin: str = Field(description="`live` or `backtest`.")
    source: str
    country: str = Field(description="Where it started (an actor's crosses borders).")
    countries: list[str] = Field(description="Every country it reaches, its own first.")
    tree: str = Field(description="`geography` or `actor`.")
    actor: str | None
    direction: str
    first_month: dt.date
    last_month: dt.date
    months: list[dt.date]
    measures: list[str] = Field(description="What was flagged in it: `events`, `fatalities`.")
    headline_level: str = Field(description="The broadest level flagged (country > region > "
                                "region × event type; the same for an actor).")  # fmt: skip
    headline_series_id: int
    severity: str = Field(description="The worst of its parts.")
    alerts: int = Field(description="Times it opened or escalated; each was one alert.")
    parts: list[EscalationPart] = Field(description="Its series, broadest level first.")

    @classmethod
    def of(cls, read: domain.EscalationRead) -> EscalationRead:
        computed = ("parts", "headline", "countries")
        fields = {n: getattr(read, n) for n in cls.model_fields if n not in computed}
        parts = [
            EscalationPart(series=p.series, measure=p.measure, months=p.months,
                           anomaly_ids=p.anomaly_ids, observed=p.observed, expected=p.expected,
                           severity=p.severity)
            for p in read.parts
        ]  # fmt: skip
        return cls(parts=parts, headline=headline(read), countries=countries(read), **fields)


class EscalationPage(PageInfo):
    items: list[EscalationRead]

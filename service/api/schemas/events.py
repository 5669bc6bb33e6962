"""Response schemas of the drill-down: the events behind a series-month."""

from __future__ import annotations

import datetime as dt
from typing import Self

from pydantic import BaseModel, Field

from service.api.schemas.common import PageInfo
from service.ingest.repository import EventRow
from service.series.repository import SeriesLabel


class FoldedActorRead(BaseModel):
    name: str = Field(description="The canonical actor the event counts for, e.g. `JNIM`.")
    role: str = Field(description="The column it was named in: `actor1`, `assoc_actor_2`…")


class EventRead(BaseModel):
    """One stored event. Only what the deployment ingested and keeps is served."""

    id: int
    source: str
    source_event_id: str = Field(description="The event's id in its source's file.")
    event_date: dt.date
    country: str
    admin1: str = Field(description="The admin1 name as the source published it.")
    region: str = Field(description="The canonical region it folded into.")
    event_type: str
    sub_event_type: str
    actors_published: dict[str, str] = Field(
        description="Raw actor names by column (`actor1`, `assoc_actor_1`, …); empty ones left out."
    )
    actors_folded: list[FoldedActorRead] = Field(
        description="The canonical actors the event counts for, after alias folding."
    )
    fatalities: int
    actor_types: dict[str, str] = Field(
        description="The ACLED actor type of each side (`actor1` with its associated actors, "
        "`actor2` with theirs), where the source gave one, e.g. `Civilians`: a side of an "
        "unarmed type counts for no actor."
    )
    ambiguous: bool = Field(
        description="An armed side's attribution is ambiguous ('A and/or B'): the event "
        "counts for neither actor (the region's totals count it)."
    )

    @classmethod
    def of(cls, row: EventRow) -> Self:
        fields = {n: getattr(row, n) for n in cls.model_fields if n != "actors_folded"}
        folded = [FoldedActorRead(name=a.name, role=a.role) for a in row.actors_folded]
        return cls(actors_folded=folded, **fields)


class SeriesEventPage(PageInfo):
    """The events a series counted in one month: `total` equals the month's `events`."""

    series: SeriesLabel
    month: dt.date
    items: list[EventRead]

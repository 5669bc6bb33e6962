"""Response schemas of the series catalogue and histories."""

from __future__ import annotations

import datetime as dt
from dataclasses import fields
from typing import Annotated, Literal, Self

from pydantic import BaseModel, Field
from pydantic.dataclasses import dataclass

from service.api.schemas.common import PageInfo
from service.series.repository import SeriesInfo, SeriesLabel


@dataclass(frozen=True)
class SeriesRead(SeriesLabel):
    """A series with its coverage span and total events."""

    first_month: Annotated[dt.date | None, Field(description="First month the source covers.")]
    last_complete_month: Annotated[
        dt.date | None,
        Field(description="Last complete month: later months are unknown, not zero."),
    ]
    total_events: int
    ambiguous_events: Annotated[
        int,
        Field(
            description="Events naming this series' actor only in an ambiguous attribution "
            "('A and/or B'): they count for no actor, so the series may miss some of its "
            "events (0 for geography series)."
        ),
    ]

    @classmethod
    def of(cls, info: SeriesInfo) -> Self:
        return cls(**{f.name: getattr(info, f.name) for f in fields(cls)})


class SeriesPage(PageInfo):
    items: list[SeriesRead]


class MonthRead(BaseModel):
    """One month of a series. `zero` is a known zero; `unknown` months have no reliable count."""

    month: dt.date
    events: int | None
    fatalities: int | None
    status: Literal["observed", "zero", "unknown"]


class SeriesHistory(BaseModel):
    series: SeriesRead
    months: list[MonthRead]

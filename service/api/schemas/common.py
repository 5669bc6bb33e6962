"""Pieces shared by the API's response schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, Field

from service.series import repository


def as_utc(value: dt.datetime) -> dt.datetime:
    """The database keeps naive UTC times; the API says so (RFC 3339 with `Z`)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(as_utc)]


class SeriesLabel(BaseModel):
    """A series' identity and labels (`null` where a roll-up sums over that part).

    The response schema of the domain's `SeriesLabel` (service.series.repository).
    """

    id: int
    key: str
    level: str
    source: str
    country: str
    region: str | None
    actor: str | None
    event_type: str | None

    @classmethod
    def of(cls, label: repository.SeriesLabel) -> Self:
        return cls(**{name: getattr(label, name) for name in cls.model_fields})


class PageInfo(BaseModel):
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int

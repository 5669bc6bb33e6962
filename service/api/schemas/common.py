"""Pieces shared by the API's response schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, Protocol, Self

from pydantic import AfterValidator, BaseModel, Field


def as_utc(value: dt.datetime) -> dt.datetime:
    """The database keeps naive UTC times; the API says so (RFC 3339 with `Z`)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


UtcDateTime = Annotated[dt.datetime, AfterValidator(as_utc)]


class Window(Protocol):
    @property
    def limit(self) -> int: ...
    @property
    def offset(self) -> int: ...


class PageInfo(BaseModel):
    total: int = Field(description="Items matching the filters, over all pages.")
    limit: int
    offset: int

    @classmethod
    def of(cls, window: Window, total: int, items: Iterable[Any], **fields: Any) -> Self:
        """The page of `total` items that `window` (limit, offset) asked for."""
        page = {"total": total, "limit": window.limit, "offset": window.offset}
        return cls.model_validate({**page, "items": list(items), **fields})

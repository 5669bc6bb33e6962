"""Shared request parameters: text that databases accept, bounded ids, pagination, filters."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator, BeforeValidator, StringConstraints, WithJsonSchema

from service.api.formats import wants_csv
from service.ingest.sources import Source
from service.measures import Measure
from service.series.levels import Level
from service.series.repository import SeriesFilter

MAX_ID = 2**31 - 1  # PostgreSQL `integer`


def _storable(value: str) -> str:
    # NUL and lone surrogates cannot be stored or compared by PostgreSQL (or encoded as UTF-8).
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError("must be valid Unicode text") from error
    return value


def _iso_date(value: object) -> object:
    # Without this, pydantic would read "0" or "1700000000" as a Unix time.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


MONTH_PATTERN = r"^[1-9]\d{3}-(0[1-9]|1[0-2])$"


def _month(value: object) -> object:
    # A month is named as YYYY-MM; the first day stands for it, as in the tables.
    if isinstance(value, str):
        if not re.fullmatch(MONTH_PATTERN, value):
            raise ValueError("must be a month as YYYY-MM (year 1000 on, month 01-12)")
        return dt.date(int(value[:4]), int(value[5:]), 1)
    return value


# The pattern tells clients (and the schema fuzzer) what the validator enforces.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$"), AfterValidator(_storable)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]
# The schema names the pattern the validator enforces, so clients (and the fuzzer) send months.
Month = Annotated[
    dt.date,
    BeforeValidator(_month),
    WithJsonSchema({"type": "string", "pattern": MONTH_PATTERN, "example": "2022-09"}),
]
Name = Annotated[Text, StringConstraints(min_length=1, max_length=255)]
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="A numeric id.")]
SeriesRefParam = Annotated[
    Text,
    Path(
        min_length=1,
        max_length=600,
        description="A series id, or its key "
        "(`source|country|region|actor|event type`, `*` for a rolled-up part).",
    ),
]
Horizon = Annotated[int, Query(ge=1, le=12, description="Months ahead to return (1–12).")]


def _outlook_months(value: int) -> int:
    if value not in (3, 6, 12):
        raise ValueError("Input should be 3, 6 or 12")
    return value


OutlookMonths = Annotated[
    int,
    Query(description="How many months the outlook total sums: 3, 6 or 12."),
    AfterValidator(_outlook_months),
    WithJsonSchema({"type": "integer", "enum": [3, 6, 12]}),
]
Format = Literal["json", "csv"]
FormatParam = Annotated[
    Format | None,
    Query(description="`json` or `csv`; without it, `Accept: text/csv` asks for CSV."),
]


async def csv_asked(request: Request, format: FormatParam = None) -> bool:
    """Whether the client asks for CSV: `format=csv`, or an `Accept` preferring text/csv."""
    return wants_csv(request, format)


# A list endpoint's answer: CSV when asked (flat columns, see formats.py), else JSON.
AsCsv = Annotated[bool, Depends(csv_asked)]


@dataclass(frozen=True)
class Page:
    limit: int
    offset: int


async def page(
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.")] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> Page:
    return Page(limit, offset)


async def series_filter(
    country: Annotated[Name | None, Query(description="Country, e.g. `Mali`.")] = None,
    region: Annotated[Name | None, Query(description="Admin1 region, e.g. `Mopti`.")] = None,
    actor: Annotated[Name | None, Query(description="Canonical actor, e.g. `JNIM`.")] = None,
    event_type: Annotated[Name | None, Query(description="Event type, e.g. `Battles`.")] = None,
    level: Annotated[Level | None, Query(description="Roll-up level.")] = None,
    source: Annotated[Source | None, Query(description="Data source.")] = None,
) -> SeriesFilter:
    return SeriesFilter(source, country, region, actor, event_type, level)


PageDep = Annotated[Page, Depends(page)]
SeriesFilterDep = Annotated[SeriesFilter, Depends(series_filter)]
MeasureParam = Annotated[
    Measure,
    Query(description="What is counted: `events`, or the deaths reported in them (`fatalities`)."),
]

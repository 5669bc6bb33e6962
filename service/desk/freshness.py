"""How old each source's data are: a source is stale when its last complete month lies more
than two months before the last month that could be complete today.

The clock is given (never read here), so a page, the API and a test agree on "today".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.series.repository import CoverageRow, coverage_rows

STALE_AFTER_MONTHS = 2


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


@dataclass(frozen=True)
class Freshness:
    """One source and country: its last complete month and how many months it lags."""

    source: str
    country: str
    last_complete_month: dt.date
    months_behind: int  # whole months between it and the last month that could be complete
    stale: bool

    @property
    def message(self) -> str:
        return (
            f"{self.source.upper()} data for {self.country} end in "
            f"{self.last_complete_month:%B %Y}, {self.months_behind} months before the last "
            "complete month: forecasts and anomalies describe that time, not today."
        )


def assess(row: CoverageRow, today: dt.date) -> Freshness:
    """The freshness of one coverage row on `today`."""
    behind = month_index(today) - 1 - month_index(row.last_complete_month)
    behind = max(behind, 0)
    return Freshness(row.source, row.country, row.last_complete_month, behind,
                     behind > STALE_AFTER_MONTHS)  # fmt: skip


def freshness(session: Session, today: dt.date, country: str | None = None) -> list[Freshness]:
    """Every source and country's freshness on `today` (one country's if asked)."""
    rows = coverage_rows(session)
    if country:
        rows = [r for r in rows if r.country.casefold() == country.casefold()]
    return [assess(r, today) for r in rows]


def banner(stale: list[Freshness], today: dt.date) -> str:
    """One sentence for the stale sources, grouped by where their data end."""
    groups: dict[tuple[str, dt.date], list[str]] = {}
    for f in stale:
        groups.setdefault((f.source, f.last_complete_month), []).append(f.country)
    latest = dt.date(today.year, today.month, 1) - dt.timedelta(days=1)
    parts = [
        f"{source.upper()} data for {', '.join(countries)} end in {last:%B %Y}"
        for (source, last), countries in sorted(groups.items())
    ]
    return (f"{'; '.join(parts)}, more than {STALE_AFTER_MONTHS} months before the last complete "
            f"month ({latest:%B %Y}): the forecasts and anomalies shown describe that time, "
            "not today.")  # fmt: skip

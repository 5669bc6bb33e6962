"""The dashboard's events panel: the events behind one month of the shown series.

A month is chosen by a plain link (`/?series=ID&month=YYYY-MM#events`), from the months
strip, the chart's table or an anomaly row, so the panel works without any script. The
events come from the one drill-down read, `service.ingest.repository.series_events`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from service.ingest.repository import EventRow, series_events
from service.measures import EVENTS

PAGE = 50
MONTH = re.compile(r"^([1-9]\d{3})-(0[1-9]|1[0-2])$")


def parse_month(text: str | None) -> dt.date | None:
    """The month a `YYYY-MM` text names, or None when it names none."""
    found = MONTH.match(text or "")
    return dt.date(int(found.group(1)), int(found.group(2)), 1) if found else None


def month_link(series_id: int, month: dt.date, offset: int = 0, measure: str = EVENTS) -> str:
    """The dashboard address that opens the events panel on `month` of a series (the chart
    still showing `measure`)."""
    query: dict[str, object] = {"series": series_id, "month": f"{month:%Y-%m}"}
    if offset:
        query["offset"] = offset
    if measure != EVENTS:
        query["measure"] = measure
    return f"/?{urlencode(query)}#events"


def csv_link(series_id: int, month: dt.date) -> str:
    """The dashboard's CSV export of the whole month (the viewer's own key or public reads)."""
    return f"/web/events.csv?{urlencode({'series': series_id, 'month': f'{month:%Y-%m}'})}"


@dataclass
class EventsPanel:
    """One page of a series-month's events, with the links around it."""

    series_id: int
    month: dt.date | None
    asked: str  # what the address said, for the message when it is no month
    events: list[EventRow] = field(default_factory=list)
    total: int = 0
    offset: int = 0

    @property
    def csv(self) -> str:
        return csv_link(self.series_id, self.month) if self.month else ""

    @property
    def previous(self) -> str | None:
        if self.month is None or self.offset == 0:
            return None
        return month_link(self.series_id, self.month, max(0, self.offset - PAGE))

    @property
    def next(self) -> str | None:
        if self.month is None or self.offset + PAGE >= self.total:
            return None
        return month_link(self.series_id, self.month, self.offset + PAGE)


def load_panel(session: Session, series_id: int, asked: str, offset: int = 0) -> EventsPanel:
    """The panel of `asked` (YYYY-MM) for a series; an unreadable month gets an empty panel."""
    month = parse_month(asked)
    panel = EventsPanel(series_id, month, asked, offset=max(0, offset))
    if month is not None:
        panel.events, panel.total = series_events(
            session, series_id, month, limit=PAGE, offset=panel.offset
        )
    return panel

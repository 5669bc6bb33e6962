"""Rainy-season spans to shade on a chart, from the calendar the models use.

The web layer imports `models` for this calendar only, never to fit anything.
"""

from __future__ import annotations

import datetime as dt

from models.seasons import default_calendar

Span = tuple[dt.date, dt.date]  # [start, end): the day after the season's last day


def rainy_spans(country: str, region: str | None, first: dt.date, last: dt.date) -> list[Span]:
    """The rainy seasons of a place that overlap `first`..`last`, clipped to that range."""
    window = default_calendar().window(country, region)
    wraps = (window.end_month, window.end_day) < (window.start_month, window.start_day)
    spans: list[Span] = []
    for year in range(first.year - 1, last.year + 1):
        start = dt.date(year, window.start_month, window.start_day)
        end = dt.date(year + wraps, window.end_month, window.end_day) + dt.timedelta(days=1)
        lo, hi = max(start, first), min(end, last)
        if lo < hi:
            spans.append((lo, hi))
    return spans


def describe_window(country: str, region: str | None) -> str:
    """The calendar window of a place in words, e.g. '1 Jul – 15 Sep'."""
    w = default_calendar().window(country, region)
    start, end = dt.date(2001, w.start_month, w.start_day), dt.date(2001, w.end_month, w.end_day)
    return f"{start.day} {start:%b} – {end.day} {end:%b}"

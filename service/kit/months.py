"""Month arithmetic on first-of-month dates, the way series, forecasts and anomalies store them."""

from __future__ import annotations

import datetime as dt


def next_month(month: dt.date) -> dt.date:
    """The first day of the month after `month`."""
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: dt.date) -> dt.date:
    """The first day of the month before `month`."""
    return (month.replace(day=1) - dt.timedelta(days=1)).replace(day=1)

"""What time it is, as every table stores it: naive UTC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

# What time it is (naive UTC). Code that waits or expires takes one, so tests pass a fake clock.
Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)

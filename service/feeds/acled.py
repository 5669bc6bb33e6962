"""The ACLED API: event pages (`/api/acled/read`) and deletion pages (`/api/deleted/read`).

Pages are numbered from 1 and hold `limit` rows; a short page is the last one. The rows are in
`data`. A 401 in the middle of a fetch (a token revoked early) gets one fresh token and a retry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.feeds.acled_auth import AcledToken
from service.feeds.errors import FeedAuthError, FeedDataError
from service.feeds.http import FeedHTTP

EVENTS_PATH = "/api/acled/read"
DELETIONS_PATH = "/api/deleted/read"
PAGE_SIZE = 5000
MAX_PAGES = 10_000  # 50 million rows: a server that never sends a short page is broken

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class EventQuery:
    """One country's events between two dates, changed after `after` (unix seconds) if set."""

    country: str
    since: dt.date
    until: dt.date
    after: int | None = None

    def params(self) -> dict[str, str]:
        params = {"country": self.country, "event_date": f"{self.since}|{self.until}",
                  "event_date_where": "BETWEEN"}  # fmt: skip
        if self.after is not None:
            params |= {"timestamp": str(self.after), "timestamp_where": ">"}
        return params

    def describe(self) -> str:
        text = f"country={self.country}, event_date {self.since}..{self.until}"
        return text + (f", timestamp>{self.after}" if self.after is not None else "")


def event_pages(
    http: FeedHTTP, token: AcledToken, query: EventQuery, page_size: int = PAGE_SIZE
) -> Iterator[tuple[int, Rows]]:
    """Yield (page number, rows) of one event query."""
    yield from _pages(http, token, EVENTS_PATH, f"events of {query.country}", query.params(),
                      page_size)  # fmt: skip


def deletion_pages(
    http: FeedHTTP, token: AcledToken, after: int, page_size: int = PAGE_SIZE
) -> Iterator[tuple[int, Rows]]:
    """Yield (page number, rows) of the deletions recorded after `after` (unix seconds)."""
    params = {"deleted_timestamp": str(after), "deleted_timestamp_where": ">"}
    yield from _pages(http, token, DELETIONS_PATH, "deletions", params, page_size)


def _pages(
    http: FeedHTTP, token: AcledToken, path: str, what: str, params: dict[str, str],
    page_size: int,
) -> Iterator[tuple[int, Rows]]:  # fmt: skip
    previous: Rows | None = None
    for page in range(1, MAX_PAGES + 1):
        full = {"_format": "json", **params, "limit": str(page_size), "page": str(page)}
        label = f"{what}, page {page}"
        try:
            answer = http.get(path, what=label, params=full, headers=token.header())
        except FeedAuthError:
            token.invalidate()
            answer = http.get(path, what=label, params=full, headers=token.header())
        rows = _data(answer.body, label)
        if rows and rows == previous:
            raise FeedDataError(f"ACLED {label}: the same rows as page {page - 1}; "
                                "the API seems to ignore `page`")  # fmt: skip
        yield page, rows
        if len(rows) < page_size:
            return
        previous = rows
    raise FeedDataError(f"ACLED {what}: more than {MAX_PAGES} pages; giving up")


def _data(body: Any, label: str) -> Rows:
    if not isinstance(body, dict):
        raise FeedDataError(f"ACLED {label}: expected a JSON object with `data`, got "
                            f"{type(body).__name__}")  # fmt: skip
    data = body.get("data")
    if not isinstance(data, list):
        said = body.get("error") or body.get("message") or body.get("messages")
        raise FeedDataError(
            f"ACLED {label}: the answer has no `data` list"
            + (f" (the API says: {str(said)[:200]!r})" if said else "")
        )
    if not all(isinstance(row, dict) for row in data):
        raise FeedDataError(f"ACLED {label}: `data` holds something other than rows")
    return data

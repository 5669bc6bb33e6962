"""The ACLED API: event pages (`/api/acled/read`) and deletion pages (`/api/deleted/read`).

Pages are numbered from 1 and hold `limit` rows; a short page is the last one. The rows are in
`data`. A 401 in the middle of a fetch (a token revoked early) gets one fresh token and a retry.
A server that ignores `page` (the same page again, or pages cycling A, B, A, B) or never sends a
short page is stopped: by the repeat, or by the page budget (SAHELCAST_FEED_MAX_PAGES).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.feeds.acled_auth import AcledToken
from service.feeds.errors import FeedAuthError, FeedDataError
from service.feeds.http import FeedHTTP
from service.feeds.repeats import Repeats

EVENTS_PATH = "/api/acled/read"
DELETIONS_PATH = "/api/deleted/read"
PAGE_SIZE = 5000

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class EventQuery:
    """One country's events between two dates, changed after `after` (unix seconds) if set."""

    country: str
    since: dt.date
    until: dt.date
    after: int | None = None

    def params(self) -> dict[str, str]:
        params = {
            "country": self.country,
            "event_date": f"{self.since}|{self.until}",
            "event_date_where": "BETWEEN",
        }
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
    yield from _pages(
        http, token, EVENTS_PATH, f"events of {query.country}", query.params(), page_size
    )


def deletion_pages(
    http: FeedHTTP, token: AcledToken, after: int, page_size: int = PAGE_SIZE
) -> Iterator[tuple[int, Rows]]:
    """Yield (page number, rows) of the deletions recorded after `after` (unix seconds)."""
    params = {"deleted_timestamp": str(after), "deleted_timestamp_where": ">"}
    yield from _pages(http, token, DELETIONS_PATH, "deletions", params, page_size)


def _pages(
    http: FeedHTTP,
    token: AcledToken,
    path: str,
    what: str,
    params: dict[str, str],
    page_size: int,
) -> Iterator[tuple[int, Rows]]:
    repeats = Repeats("ACLED")
    limit = http.policy.max_pages
    for page in range(1, limit + 1):
        full = {"_format": "json", **params, "limit": str(page_size), "page": str(page)}
        label = f"{what}, page {page}"
        try:
            answer = http.get(path, what=label, params=full, headers=token.header())
        except FeedAuthError:
            token.invalidate()
            answer = http.get(path, what=label, params=full, headers=token.header())
        rows = _data(http, answer.body, label)
        repeats.check(rows, page, label)
        yield page, rows
        if len(rows) < page_size:
            return
    raise FeedDataError(
        f"ACLED {what}: more than {limit} pages (SAHELCAST_FEED_MAX_PAGES) without a last, "
        "short one; giving up, nothing was written"
    )


def _data(http: FeedHTTP, body: Any, label: str) -> Rows:
    if not isinstance(body, dict):
        raise FeedDataError(
            f"ACLED {label}: expected a JSON object with `data`, got {type(body).__name__}"
        )
    data = body.get("data")
    if not isinstance(data, list):
        said = body.get("error") or body.get("message") or body.get("messages")
        raise FeedDataError(
            f"ACLED {label}: the answer has no `data` list"
            + (f" (the API says: {http.excerpt(str(said)[:1000])})" if said else "")
        )
    if not all(isinstance(row, dict) for row in data):
        raise FeedDataError(f"ACLED {label}: `data` holds something other than rows")
    return data

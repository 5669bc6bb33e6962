"""The UCDP API: `/api/gedevents/{version}` pages, with the `x-ucdp-access-token` header.

Pages are numbered from 0; each answer carries `TotalCount`, `TotalPages`, `NextPageUrl` and
`Result`. `NextPageUrl` says whether and which page comes next, but the request is built here
against the configured host, so the token is never sent wherever a link points. The rows read
must add up to `TotalCount` (a release does not change while it is read), and the pages to
`TotalPages`: a `NextPageUrl` past them, more rows than counted, a page seen before or more pages
than SAHELCAST_FEED_MAX_PAGES stop the fetch (an endless pager).
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from service.feeds.errors import FeedDataError
from service.feeds.http import FeedHTTP
from service.feeds.repeats import Repeats
from service.kit.scrub import shown

PAGE_SIZE = 1000
KEYS = ("TotalCount", "TotalPages", "NextPageUrl", "Result")

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class GedQuery:
    version: str
    country: str
    code: int
    start: dt.date | None = None
    end: dt.date | None = None

    def params(self) -> dict[str, str]:
        params = {"Country": str(self.code)}
        if self.start is not None:
            params["StartDate"] = self.start.isoformat()
        if self.end is not None:
            params["EndDate"] = self.end.isoformat()
        return params

    def describe(self) -> str:
        dates = f", {self.start or ''}..{self.end or ''}" if self.start or self.end else ""
        return f"gedevents {self.version}, Country={self.code} ({self.country}){dates}"


def pages(
    http: FeedHTTP, token: str, query: GedQuery, page_size: int = PAGE_SIZE
) -> Iterator[tuple[int, Rows]]:
    """Yield (page number, rows) of one query, following NextPageUrl."""
    headers = {"x-ucdp-access-token": token} if token else {}
    path = f"/api/gedevents/{urllib.parse.quote(query.version)}"
    page, seen, total = 0, 0, None
    last_page = http.policy.max_pages - 1
    repeats = Repeats("UCDP")
    while True:
        label = f"gedevents {query.version} {query.country}, page {page}"
        params = {"pagesize": str(page_size), "page": str(page), **query.params()}
        body = http.get(path, what=label, params=params, headers=headers).body
        rows, count, pages_said, following = _parse(body, label, total)
        if total is None:
            total = count
            last_page = min(last_page, max(pages_said, 1) - 1, max(count - 1, 0) // page_size)
        seen += len(rows)
        if seen > total:
            raise FeedDataError(
                f"UCDP {label}: {seen} rows read but TotalCount says {total}; "
                "the API pages on past its count, nothing was written"
            )
        repeats.check(rows, page, label)
        yield page, rows
        if following is None:
            break
        if following != page + 1:
            raise FeedDataError(
                f"UCDP {label}: NextPageUrl points to page {following}, expected {page + 1}"
            )
        if following > last_page:
            raise FeedDataError(
                f"UCDP {label}: NextPageUrl points past the last page ({last_page}: TotalCount "
                f"{total}, TotalPages {pages_said}, SAHELCAST_FEED_MAX_PAGES "
                f"{http.policy.max_pages}); an endless pager, nothing was written"
            )
        page = following
    if seen != total:
        raise FeedDataError(
            f"UCDP gedevents {query.version} {query.country}: {seen} rows read but TotalCount "
            f"says {total}; the answer was cut short, fetch again"
        )


def _parse(body: Any, label: str, total: int | None) -> tuple[Rows, int, int, int | None]:
    if not isinstance(body, dict) or (missing := [k for k in KEYS if k not in body]):
        shown_keys = ", ".join(missing) if isinstance(body, dict) else "an object"
        raise FeedDataError(f"UCDP {label}: the answer lacks {shown_keys}")
    rows = body["Result"]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise FeedDataError(f"UCDP {label}: `Result` is not a list of rows")
    count, pages = body["TotalCount"], body["TotalPages"]
    if not _count(count) or (total is not None and count != total):
        raise FeedDataError(f"UCDP {label}: TotalCount {shown(count)} changed or is not a number")
    if not _count(pages):
        raise FeedDataError(f"UCDP {label}: TotalPages {shown(pages)} is not a number")
    return rows, count, pages, _next_page(body["NextPageUrl"], label)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _next_page(url: Any, label: str) -> int | None:
    if not url:
        return None
    if not isinstance(url, str):
        raise FeedDataError(f"UCDP {label}: NextPageUrl is not a link")
    values = urllib.parse.parse_qs(urllib.parse.urlsplit(url[:4000]).query).get("page", [])
    if len(values) != 1 or not values[0].isdigit() or len(values[0]) > 9:
        raise FeedDataError(f"UCDP {label}: NextPageUrl {shown(url, 200)} names no page")
    return int(values[0])

"""Plan and read an ACLED fetch: a backfill for a new country, then only what changed.

A country's watermark is the newest `timestamp` seen; the next call asks for events changed
after it (`timestamp > …`) within the dates first asked. ACLED's deletion list is global; it is
read from its own watermark or, the first time, from the oldest event held (an older deletion
cannot touch anything here: the sync ignores deletions older than the event's version).

No watermark moves past now: a row or a deletion stamped in the future (a `timestamp` of 2096)
would otherwise become the watermark, and every later update, stamped before it, would be
skipped for good. Such rows are left out with a warning; they are asked again next time.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
from sqlalchemy.orm import Session

from service.feeds import acled
from service.feeds.acled_auth import AcledToken
from service.feeds.fetched import Fetched, Mark, Span
from service.feeds.http import FeedHTTP
from service.feeds.repository import DELETIONS_SCOPE, oldest_timestamp, watermarks
from service.feeds.rows import check_page, check_scope
from service.ingest.readers.layout import FileKind

log = logging.getLogger(__name__)
ACLED_START = dt.date(1997, 1, 1)  # ACLED's African coverage begins in 1997


def plan(
    session: Session, countries: list[str], since: dt.date | None, today: dt.date, now: int
) -> tuple[list[acled.EventQuery], int | None]:
    """The event queries, and where the deletion list starts (None: no deletions to ask).

    A watermark past `now` (left by a version that trusted a row from the future) is read as
    `now`, so the updates it hid are asked for again."""
    marks = watermarks(session, "acled")
    queries = []
    for country in countries:
        mark = marks.get(country)
        earlier = (
            since is not None and mark is not None and mark.since is not None and since < mark.since
        )
        if mark is None or mark.last_timestamp is None or earlier:
            queries.append(acled.EventQuery(country, since or ACLED_START, today))
        else:
            start = mark.since or since or ACLED_START
            after = min(mark.last_timestamp, now)
            queries.append(acled.EventQuery(country, start, today, after=after))
    deletions = marks.get(DELETIONS_SCOPE)
    if deletions is not None and deletions.last_timestamp is not None:
        return queries, min(deletions.last_timestamp, now)
    oldest = oldest_timestamp(session, "acled")
    return queries, None if oldest is None else oldest - 1


def read(
    http: FeedHTTP,
    token: AcledToken,
    queries: list[acled.EventQuery],
    deletions_after: int | None,
    fetched: Fetched,
    latest: pd.Timestamp,
    now: int,
    page_size: int = acled.PAGE_SIZE,
) -> None:
    """Read every page into `fetched` (checked like a file), with the watermarks to move;
    `now` (unix seconds) is the latest a row's `timestamp` may be."""
    newest_seen = 0
    for query in queries:
        newest = query.after or 0
        rows_read = 0
        for page, rows in acled.event_pages(http, token, query, page_size):
            where = f"ACLED events of {query.country}, page {page}"
            chunk = check_page(rows, FileKind.ACLED_EVENTS, where, latest)
            check_scope(
                chunk, rows, FileKind.ACLED_EVENTS, where, query.country, query.since, query.until
            )
            chunk = _not_after(chunk, "source_timestamp", now, where, fetched)
            fetched.events.append(chunk)
            fetched.count(rows)
            rows_read += len(rows)
            if len(chunk):
                newest = max(newest, int(chunk["source_timestamp"].max()))
        fetched.quiet[query.country] = query.since
        if query.after is None:  # a backfill answers for every event of its dates
            fetched.whole.append(Span(query.country, query.since, query.until, rows_read))
        fetched.marks.append(Mark(query.country, {"since": query.since, "last_timestamp": newest}))
        newest_seen = max(newest_seen, newest)
    after = deletions_after
    if after is None:
        # Nothing was held before this fetch: its rows are current, so only deletions from
        # now on can matter; start the list at the newest version just read.
        if newest_seen:
            fetched.marks.append(Mark(DELETIONS_SCOPE, {"last_timestamp": newest_seen}))
        return
    fetched.deletions = []
    newest_deletion = min(after, now)
    for page, rows in acled.deletion_pages(http, token, after, page_size):
        where = f"ACLED deletions, page {page}"
        chunk = check_page(rows, FileKind.ACLED_DELETIONS, where, latest)
        chunk = _not_after(chunk, "deleted_timestamp", now, where, fetched)
        fetched.deletions.append(chunk)
        fetched.count(rows, deletions=True)
        if len(chunk):
            newest_deletion = max(newest_deletion, int(chunk["deleted_timestamp"].max()))
    fetched.marks.append(Mark(DELETIONS_SCOPE, {"last_timestamp": newest_deletion}))
    fetched.query["deletions_after"] = after


def _not_after(
    chunk: pd.DataFrame, column: str, now: int, where: str, fetched: Fetched
) -> pd.DataFrame:
    """The rows stamped no later than `now`; the others are left out with a warning."""
    if not len(chunk):
        return chunk
    future = chunk[column] > now
    if not future.any():
        return chunk
    latest = int(chunk.loc[future, column].max())
    when = dt.datetime.fromtimestamp(min(latest, 253402300799), dt.UTC)  # 9999-12-31 at most
    warning = (
        f"{where}: left out {int(future.sum())} row(s) stamped in the future ({column} up to "
        f"{latest}, {when:%Y-%m-%d %H:%M} UTC); the watermark stays at or before now and "
        "they are asked again next time"
    )
    log.warning("%s", warning)
    fetched.warnings.append(warning)
    return chunk[~future].reset_index(drop=True)

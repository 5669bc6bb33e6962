"""Plan and read a UCDP fetch: a GED release, or Candidate releases month by month.

A release never changes once published, so a country already fetched at a version is not asked
again. A GED release replaces everything it covers (Candidate events included); Candidate rows
dated inside a GED release already held are dropped. Without a named version the Candidate
releases after the last one fetched are read in turn until UCDP answers 404 (not out yet).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy.orm import Session

from service.feeds import ucdp
from service.feeds.countries import gw_code
from service.feeds.errors import FeedConfigError, FeedNotFound
from service.feeds.fetched import Fetched, Mark, Span
from service.feeds.http import FeedHTTP
from service.feeds.orm import FeedWatermark
from service.feeds.repository import watermarks
from service.feeds.rows import check_page, check_scope
from service.feeds.versions import GED_START, Version, first_candidate_after, parse_version
from service.ingest.readers.layout import FileKind

MAX_CANDIDATES = 36  # three years of monthly releases in one call at most


def read_ged(
    session: Session,
    http: FeedHTTP,
    token: str,
    version: Version,
    countries: list[str],
    since: dt.date | None,
    fetched: Fetched,
    latest: pd.Timestamp,
    page_size: int = ucdp.PAGE_SIZE,
) -> list[str]:
    """Read one GED release for the countries not yet at it; return the countries skipped."""
    marks = watermarks(session, "ucdp")
    start, end = since or GED_START, version.covers[1]
    skipped = []
    for country in countries:
        mark = marks.get(country)
        if mark is not None and mark.version:
            held = parse_version(mark.version, candidate=False)
            if held > version:
                raise FeedConfigError(
                    f"UCDP GED {held.name} is already held for {country}; "
                    f"fetching the older {version.name} would go back"
                )
            if held == version and (mark.since or GED_START) <= start:
                skipped.append(country)
                continue
        query = ucdp.GedQuery(version.name, country, gw_code(country), since)
        rows = _read(http, token, query, version, fetched, latest, page_size, drop_until=None)
        fetched.replace.append((country, start, end))
        fetched.whole.append(Span(country, start, end, rows))
        fetched.quiet[country] = start
        fetched.marks.append(
            Mark(country, {"version": version.name, "since": start, "covered_until": end})
        )
    return skipped


def read_candidates(
    session: Session,
    http: FeedHTTP,
    token: str,
    version: Version | None,
    countries: list[str],
    since: dt.date | None,
    today: dt.date,
    fetched: Fetched,
    latest: pd.Timestamp,
    page_size: int = ucdp.PAGE_SIZE,
) -> list[str]:
    """Read the named Candidate release, or every one published after those held."""
    marks, ged = watermarks(session, "ucdp-candidate"), watermarks(session, "ucdp")
    starts = {c: _first_needed(marks.get(c), ged.get(c), today) for c in countries}
    if version is not None:
        held = {c for c in countries if marks.get(c) and marks[c].version == version.name}
        todo = [version]
    else:
        held = set()
        todo = []
        current = min(starts.values())
        while current.covers[0] <= today and len(todo) < MAX_CANDIDATES:
            todo.append(current)
            current = current.next()
    versions_read = []
    for release in todo:
        needing = [c for c in countries if c not in held and (version or starts[c] <= release)]
        try:
            for country in needing:
                mark, cover = marks.get(country), ged.get(country)
                query = ucdp.GedQuery(release.name, country, gw_code(country), since)
                until = cover.covered_until if cover is not None else None
                _read(http, token, query, release, fetched, latest, page_size, until)
                fetched.quiet.setdefault(country, since or release.covers[0])
                fetched.marks.append(Mark(country, _candidate_mark(mark, release, since)))
        except FeedNotFound:
            if version is not None:
                raise
            break  # not published yet: the next call tries it again
        versions_read.append(release.name)
    fetched.query["versions"] = versions_read
    return [c for c in countries if c in held]


def _candidate_mark(
    mark: FeedWatermark | None, release: Version, since: dt.date | None
) -> dict[str, object]:
    """The newest release held, the first date asked and the last date covered."""
    held = _held(mark)
    newest = release if held is None or release.rank > held.rank else held
    first = since or release.covers[0]
    covered = release.covers[1]
    if mark is not None:
        first = min(first, mark.since or first)
        covered = max(covered, mark.covered_until or covered)
    return {"version": newest.name, "since": first, "covered_until": covered}


def _first_needed(mark: FeedWatermark | None, ged: FeedWatermark | None, today: dt.date) -> Version:
    """The first Candidate release a country lacks: after the last held, after its GED data,
    or else January of last year (GED releases lag by up to eighteen months)."""
    start = Version((today.year - 1) % 100, 0, 1)
    if ged is not None and ged.covered_until is not None:
        start = first_candidate_after(ged.covered_until)
    held = _held(mark)
    if held is not None and held.next() > start:
        start = held.next()
    return start


def _held(mark: FeedWatermark | None) -> Version | None:
    if mark is None or not mark.version:
        return None
    return parse_version(mark.version, candidate=True)


def _read(
    http: FeedHTTP,
    token: str,
    query: ucdp.GedQuery,
    version: Version,
    fetched: Fetched,
    latest: pd.Timestamp,
    page_size: int,
    drop_until: dt.date | None,
) -> int:
    """Read one query's pages into `fetched`; return the rows it gave."""
    rows_read = 0
    for page, rows in ucdp.pages(http, token, query, page_size):
        where = f"UCDP gedevents {version.name} {query.country}, page {page}"
        chunk = check_page(rows, FileKind.UCDP, where, latest)
        # A release holds events up to its last day (a Candidate one may hold late events of
        # earlier months), from the date asked for.
        check_scope(
            chunk, rows, FileKind.UCDP, where, query.country, query.start, version.covers[1]
        )
        # The newer publication wins when an event id comes back (see versions.Version.rank).
        chunk["source_timestamp"] = version.rank
        if drop_until is not None and len(chunk):
            chunk = chunk[chunk["event_date"] > pd.Timestamp(drop_until)]
        fetched.events.append(chunk)
        fetched.count(rows)
        rows_read += len(rows)
    return rows_read

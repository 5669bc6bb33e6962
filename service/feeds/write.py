"""Write a fetch in one transaction: replaced spans, events, deletions, record, watermarks.

The same sync as files (`service.ingest.sync`): alias folding, idempotence, newer versions
replacing older ones. Any error rolls everything back, watermarks included, so the next call
asks the same questions again.

A fetch is a transaction with a sanity check: an answer that would leave a country with fewer
events than it had by more than SAHELCAST_FEED_MAX_DELETE_SHARE (and more than a handful), or
that is empty for dates where events are held, is refused unless forced: an API answering
`{"TotalCount": 0, "Result": []}` by mistake must not wipe a country. A fetch that changes
nothing (no event, no watermark) writes nothing, not even its record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from service.config import Settings
from service.db import session_scope
from service.feeds.errors import FeedError
from service.feeds.fetched import Fetched, newest_versions
from service.feeds.repository import (
    held_between,
    held_by_country,
    record_fetch,
    save_watermark,
    would_move,
)
from service.ingest.normalize import Normalizer
from service.ingest.orm import IngestedFile, Source
from service.ingest.replace import replace_span
from service.ingest.sync import (
    IngestReport,
    get_or_create_source,
    start_record,
    sync_deletions,
    sync_events,
)
from service.series.aggregate import rebuild_series

# Losing this many events of a country or fewer is never refused by the share rule: a small
# country's data would otherwise trip it on any ordinary revision.
MIN_LOSS_CHECKED = 10


class FeedRefused(FeedError):
    """The answer failed the sanity check; nothing was written (`--force` writes it)."""


@dataclass
class FetchReport:
    """What one fetch read and changed; `reports` are shaped like those of `sahelcast ingest`."""

    feed: str
    fetch_id: int | None  # None: the fetch changed nothing and wrote nothing
    pages: int
    query: dict[str, Any]
    reports: list[IngestReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # countries with nothing new to ask
    warnings: list[str] = field(default_factory=list)  # rows left out (see acled_fetch)

    @property
    def changed(self) -> bool:
        return any(r.added or r.updated or r.deleted for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}


def write(engine: Engine, settings: Settings, fetched: Fetched, force: bool = False) -> FetchReport:
    """Sync `fetched` into the database in one transaction and record it; unless `force`,
    refuse an answer that fails the sanity check (FeedRefused, nothing written)."""
    events = newest_versions(fetched.events, "source_event_id", "source_timestamp")
    with session_scope(engine) as session:
        src = get_or_create_source(session, fetched.source)
        if not force:
            _refuse_empty(session, src, fetched)
        before = held_by_country(session, src.id)
        opened: list[IngestedFile] = []

        def events_record() -> IngestedFile:  # written at the first change only
            if not opened:
                opened.append(
                    start_record(
                        session,
                        src,
                        "events",
                        path=fetched.label,
                        sha256=fetched.events_tally.digest.hexdigest(),
                        size_bytes=fetched.events_tally.size,
                    )
                )
            return opened[0]

        replaced, replaced_in = 0, set()
        for country, start, end in fetched.replace:
            ids = events.loc[events["country"] == country, "source_event_id"] if len(events) else []
            n = replace_span(session, src, country, start, end, keep=set(ids))
            replaced += n
            if n:
                replaced_in.add(country)
                events_record()
        report = sync_events(
            session,
            [events] if len(events) else [],
            src,
            opened[0] if opened else events_record,
            normalizer=Normalizer.load(extra_dirs=settings.alias_dirs),
            actor_roles=settings.actor_roles,
            quiet=fetched.quiet,
            label=fetched.label,
            sha256=fetched.events_tally.digest.hexdigest(),
            armed=settings.armed_inter,
        )
        if replaced:
            rebuild_series(session, src, sorted(replaced_in))
            report.deleted += replaced
            opened[0].deleted = report.deleted
        reports = [report]
        deletions_file: list[IngestedFile] = []
        if fetched.deletions is not None:
            deletions = newest_versions(fetched.deletions, "source_event_id", "deleted_timestamp")
            tally = fetched.deletions_tally

            def deletions_record() -> IngestedFile:
                deletions_file.append(
                    start_record(
                        session,
                        src,
                        "deletions",
                        path=f"{fetched.label}; deletions",
                        sha256=tally.digest.hexdigest(),
                        size_bytes=tally.size,
                    )
                )
                return deletions_file[0]

            chunks = [deletions] if len(deletions) else []
            reports.append(
                sync_deletions(
                    session,
                    chunks,
                    src,
                    deletions_record,
                    label=f"{fetched.label}; deletions",
                    sha256=tally.digest.hexdigest(),
                )
            )
        if not force:
            _refuse_losses(fetched, before, held_by_country(session, src.id), settings)
        moved = [m for m in fetched.marks if would_move(session, fetched.feed, m.scope, m.values)]
        changed = any(r.added or r.updated or r.deleted for r in reports)
        if not changed and not moved:
            session.rollback()  # not even the source's row: a no-op leaves no trace
            return FetchReport(
                fetched.feed,
                None,
                fetched.pages,
                fetched.query,
                reports,
                warnings=list(fetched.warnings),
            )
        marks = {m.scope: _jsonable(m.values) for m in fetched.marks}
        fetch = record_fetch(
            session,
            feed=fetched.feed,
            source_id=src.id,
            query=_jsonable(fetched.query),
            events_file_id=opened[0].id if opened else None,
            deletions_file_id=deletions_file[0].id if deletions_file else None,
            pages=fetched.pages,
            rows_read=sum(r.rows_read for r in reports),
            added=report.added,
            updated=report.updated,
            unchanged=sum(r.unchanged for r in reports),
            deleted=sum(r.deleted for r in reports),
            watermark=marks,
        )
        for mark in fetched.marks:
            save_watermark(session, fetched.feed, mark.scope, fetch.id, **mark.values)
        fetch_id = fetch.id
    return FetchReport(
        fetched.feed,
        fetch_id,
        fetched.pages,
        fetched.query,
        reports,
        warnings=list(fetched.warnings),
    )


def _refuse_empty(session: Session, src: Source, fetched: Fetched) -> None:
    """An answer with no rows for dates where events are held is not trusted."""
    for span in fetched.whole:
        if span.rows:
            continue
        held = held_between(session, src.id, span.country, span.first, span.last)
        if held:
            raise FeedRefused(
                f"{fetched.label}: the API answered no events for {span.country} "
                f"{span.first}..{span.last}, where {held:,} are held; an empty answer where "
                "the last fetch was not is refused, nothing was written. Check the API; if it "
                "is right, fetch again with --force"
            )


def _refuse_losses(
    fetched: Fetched, before: dict[str, int], after: dict[str, int], settings: Settings
) -> None:
    """Refuse a write that leaves a country with too large a share of its events gone."""
    share = settings.feed_max_delete_share
    for country, held in sorted(before.items()):
        lost = held - after.get(country, 0)
        if lost > MIN_LOSS_CHECKED and lost > share * held:
            raise FeedRefused(
                f"{fetched.label}: this answer would leave {country} with {held - lost:,} of "
                f"its {held:,} {fetched.source} events ({lost / held:.0%} fewer), more than "
                f"SAHELCAST_FEED_MAX_DELETE_SHARE ({share:.0%}) gone; refused, nothing was "
                "written. If the source really withdrew them, fetch again with --force"
            )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dt.date):
            out[key] = value.isoformat()
        elif isinstance(value, dict):
            out[key] = _jsonable(value)
        elif isinstance(value, (list, tuple)):
            out[key] = [v.isoformat() if isinstance(v, dt.date) else v for v in value]
        else:
            out[key] = value
    return out

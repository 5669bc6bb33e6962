"""Write a fetch in one transaction: replaced spans, events, deletions, record, watermarks.

The same sync as files (`service.ingest.sync`): alias folding, idempotence, newer versions
replacing older ones. Any error rolls everything back, watermarks included, so the next call
asks the same questions again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.feeds.fetched import Fetched, newest_versions
from service.feeds.repository import record_fetch, save_watermark
from service.ingest.normalize import Normalizer
from service.ingest.replace import replace_span
from service.ingest.sync import (
    IngestReport,
    get_or_create_source,
    start_record,
    sync_deletions,
    sync_events,
)
from service.series.aggregate import rebuild_series


@dataclass
class FetchReport:
    """What one fetch read and changed; `reports` are shaped like those of `sahelcast ingest`."""

    feed: str
    fetch_id: int
    pages: int
    query: dict[str, Any]
    reports: list[IngestReport] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # countries with nothing new to ask

    @property
    def changed(self) -> bool:
        return any(r.added or r.updated or r.deleted for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "changed": self.changed}


def write(engine: Engine, settings: Settings, fetched: Fetched) -> FetchReport:
    """Sync `fetched` into the database in one transaction and record it."""
    events = newest_versions(fetched.events, "source_event_id", "source_timestamp")
    with session_scope(engine) as session:
        src = get_or_create_source(session, fetched.source)
        record = start_record(
            session, src, "events", path=fetched.label,
            sha256=fetched.events_tally.digest.hexdigest(), size_bytes=fetched.events_tally.size,
        )  # fmt: skip
        replaced, replaced_in = 0, set()
        for country, start, end in fetched.replace:
            ids = events.loc[events["country"] == country, "source_event_id"] if len(events) else []
            n = replace_span(session, src, country, start, end, keep=set(ids))
            replaced += n
            if n:
                replaced_in.add(country)
        report = sync_events(
            session, [events] if len(events) else [], src, record,
            normalizer=Normalizer.load(extra_dirs=settings.alias_dirs),
            actor_roles=settings.actor_roles, quiet=fetched.quiet,
        )  # fmt: skip
        if replaced:
            rebuild_series(session, src, sorted(replaced_in))
            report.deleted += replaced
            record.deleted = report.deleted
        reports = [report]
        deletions_file_id = None
        if fetched.deletions is not None:
            deletions = newest_versions(fetched.deletions, "source_event_id", "deleted_timestamp")
            tally = fetched.deletions_tally
            deletion_record = start_record(
                session, src, "deletions", path=f"{fetched.label}; deletions",
                sha256=tally.digest.hexdigest(), size_bytes=tally.size,
            )  # fmt: skip
            chunks = [deletions] if len(deletions) else []
            reports.append(sync_deletions(session, chunks, src, deletion_record))
            deletions_file_id = deletion_record.id
        marks = {m.scope: _jsonable(m.values) for m in fetched.marks}
        fetch = record_fetch(
            session, feed=fetched.feed, source_id=src.id, query=_jsonable(fetched.query),
            events_file_id=record.id, deletions_file_id=deletions_file_id, pages=fetched.pages,
            rows_read=sum(r.rows_read for r in reports), added=report.added,
            updated=report.updated, unchanged=sum(r.unchanged for r in reports),
            deleted=sum(r.deleted for r in reports), watermark=marks,
        )  # fmt: skip
        for mark in fetched.marks:
            save_watermark(session, fetched.feed, mark.scope, fetch.id, **mark.values)
        fetch_id = fetch.id
    return FetchReport(fetched.feed, fetch_id, fetched.pages, fetched.query, reports)


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

"""Idempotent sync of an event file into the database, inside the caller's transaction.

The same file twice changes nothing; an event whose `source_timestamp` is newer replaces its
older version; a deletion list removes events. The caller owns the transaction: on any error it
rolls back and the database is exactly as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.bulk import delete_in, insert_frame, read_frame
from service.ingest.coverage import update_coverage
from service.ingest.normalize import Normalizer
from service.ingest.orm import Event, EventActor, IngestedFile, Source, utcnow
from service.ingest.readers import Source as SourceName
from service.ingest.readers import detect_source, iter_deletions, iter_events
from service.ingest.registry import NameRegistry
from service.series.aggregate import rebuild_series

Progress = Callable[[int], None]
EVENT_COLUMNS_DB = [
    "id", "source_id", "source_event_id", "event_date", "month", "country", "region_id", "admin1",
    "event_type", "sub_event_type", "actor1", "assoc_actor_1", "actor2", "assoc_actor_2",
    "fatalities", "source_timestamp", "file_id",
]  # fmt: skip


@dataclass
class IngestReport:
    """What one ingest did; also written to `ingested_files`."""

    path: str
    source: str
    kind: str
    sha256: str
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    seconds: float = 0.0
    countries: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def get_or_create_source(session: Session, name: str) -> Source:
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name)
        session.add(source)
        session.flush()
    return source


def _start_file(session: Session, path: Path, source: Source, kind: str) -> IngestedFile:
    record = IngestedFile(
        source_id=source.id,
        kind=kind,
        path=str(path),
        sha256=file_sha256(path),
        size_bytes=path.stat().st_size,
        rows_read=0, added=0, updated=0, unchanged=0, deleted=0, rejected=0,
    )  # fmt: skip
    session.add(record)
    session.flush()  # takes the write lock before ids are allocated below
    return record


def _existing_events(session: Session, source_id: int) -> pd.DataFrame:
    events = Event.__table__.c
    query = select(
        events.source_event_id, events.id, events.source_timestamp.label("old_timestamp"),
        events.country.label("old_country"),
    ).where(events.source_id == source_id)  # fmt: skip
    frame = read_frame(session, query)
    return frame.astype({"id": "int64", "old_timestamp": "int64"})


def _next_event_id(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.max(Event.id), 0))) or 0) + 1


def ingest_events(
    session: Session,
    path: Path,
    *,
    source: SourceName | None = None,
    normalizer: Normalizer,
    actor_roles: Sequence[str],
    chunk_rows: int = 200_000,
    progress: Progress | None = None,
) -> IngestReport:
    """Sync the events of one ACLED or UCDP file into the database; see the module docstring."""
    started = time.perf_counter()
    source_name = source or detect_source(path)
    src = get_or_create_source(session, source_name)
    record = _start_file(session, path, src, "events")
    report = IngestReport(str(path), source_name, "events", record.sha256)
    existing = _existing_events(session, src.id)
    next_id = _next_event_id(session)
    names = NameRegistry(session, normalizer)
    touched: set[str] = set()
    dates: list[pd.DataFrame] = []

    def handle(chunk: pd.DataFrame) -> None:
        nonlocal next_id
        report.rows_read += len(chunk)
        dates.append(
            chunk.groupby("country", sort=False)["event_date"].agg(["min", "max"]).reset_index()
        )
        merged = chunk.merge(existing, on="source_event_id", how="left")
        is_new = merged["id"].isna()
        is_newer = ~is_new & (merged["source_timestamp"] > merged["old_timestamp"])
        report.unchanged += int((~is_new & ~is_newer).sum())
        new = merged[is_new].copy()
        newer = merged[is_newer].copy()
        if new.empty and newer.empty:
            return
        new["id"] = range(next_id, next_id + len(new))
        next_id += len(new)
        changed = pd.concat([new, newer], ignore_index=True)
        changed["id"] = changed["id"].astype("int64")
        touched.update(changed["country"].unique())
        touched.update(newer["old_country"].dropna().unique())
        rows = _event_rows(changed, src.id, record.id, names)
        if not newer.empty:
            ids = newer["id"].astype("int64").tolist()
            delete_in(session, EventActor.__table__, "event_id", ids)
            delete_in(session, Event.__table__, "id", ids)
        insert_frame(session, Event.__table__, rows)
        links = normalizer.event_actors(changed, roles=actor_roles)
        links = links.merge(changed[["source_event_id", "id"]], on="source_event_id")
        links["actor_id"] = names.actor_ids(links["actor"])
        names.record_actor_aliases(normalizer.actor_aliases(changed, roles=actor_roles))
        links = links.rename(columns={"id": "event_id"})
        insert_frame(session, EventActor.__table__, links[["event_id", "actor_id", "role"]])
        report.added += len(new)
        report.updated += len(newer)

    for chunk in iter_events(path, source=source_name, chunksize=chunk_rows):
        handle(chunk)
        if progress:
            progress(len(chunk))

    spans = pd.concat(dates) if dates else pd.DataFrame(columns=["country", "min", "max"])
    if touched:
        rebuild_series(session, src, sorted(touched))
    update_coverage(session, src, spans)
    report.countries = sorted(spans["country"].unique().tolist()) if len(spans) else []
    return _finish(record, report, started)


def ingest_deletions(
    session: Session, path: Path, *, source: str = "acled", progress: Progress | None = None
) -> IngestReport:
    """Remove the events named in an ACLED deletion list (`event_id_cnty, deleted_timestamp`)."""
    started = time.perf_counter()
    src = get_or_create_source(session, source)
    record = _start_file(session, path, src, "deletions")
    report = IngestReport(str(path), source, "deletions", record.sha256)
    existing = _existing_events(session, src.id)
    touched: set[str] = set()
    for chunk in iter_deletions(path):
        report.rows_read += len(chunk)
        hits = chunk.merge(existing, on="source_event_id")
        # A deletion older than the event's current version is stale: the event was re-added.
        hits = hits[hits["deleted_timestamp"] >= hits["old_timestamp"]]
        ids = hits["id"].astype("int64").tolist()
        delete_in(session, EventActor.__table__, "event_id", ids)
        delete_in(session, Event.__table__, "id", ids)
        existing = existing[~existing["id"].isin(ids)]
        touched.update(hits["old_country"].unique())
        report.deleted += len(ids)
        report.unchanged += len(chunk) - len(ids)
        if progress:
            progress(len(chunk))
    if touched:
        rebuild_series(session, src, sorted(touched))
    report.countries = sorted(touched)
    return _finish(record, report, started)


def _event_rows(
    changed: pd.DataFrame, source_id: int, file_id: int, names: NameRegistry
) -> pd.DataFrame:
    rows = changed.copy()
    rows["source_id"] = source_id
    rows["file_id"] = file_id
    rows["region_id"] = names.region_ids(rows["country"], rows["admin1"])
    rows["month"] = rows["event_date"].dt.to_period("M").dt.start_time.dt.strftime("%Y-%m-%d")
    rows["event_date"] = rows["event_date"].dt.strftime("%Y-%m-%d")
    return rows[EVENT_COLUMNS_DB]


def _finish(record: IngestedFile, report: IngestReport, started: float) -> IngestReport:
    report.seconds = round(time.perf_counter() - started, 3)
    for name in ("rows_read", "added", "updated", "unchanged", "deleted", "rejected"):
        setattr(record, name, getattr(report, name))
    record.finished_at = utcnow()
    return report

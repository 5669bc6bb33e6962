"""Idempotent sync of an event file into the database, inside the caller's transaction.

The same file twice changes nothing; an event whose `source_timestamp` is newer replaces its
older version; a deletion list removes events. The caller owns the transaction: on any error it
rolls back and the database is exactly as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Base
from service.ingest.coverage import update_coverage
from service.ingest.normalize import Normalizer
from service.ingest.orm import Event, IngestedFile, Source
from service.ingest.pipeline import Ahead, gc_paused
from service.ingest.readers import ReadLimits, detect_source, iter_deletions, iter_events
from service.ingest.readers import Source as SourceName
from service.ingest.screen import Screen, existing_events
from service.ingest.staging import stage
from service.ingest.writer import EventWriter, delete_events, prepare
from service.kit.time import utcnow
from service.series.aggregate import rebuild_series

Progress = Callable[[int], None]
RowT = TypeVar("RowT", bound=Base)


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
    # `unchanged`: every event was already there (or nothing to delete); nothing was written.
    status: str = "ingested"

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def get_or_create(session: Session, table: type[RowT], **key: object) -> RowT:
    """The row of `table` with these column values; added and flushed if there is none."""
    row = session.scalar(select(table).filter_by(**key))
    if row is None:
        row = table(**key)
        session.add(row)
        session.flush()
    return row


def get_or_create_source(session: Session, name: str) -> Source:
    return get_or_create(session, Source, name=name)


def _start_file(
    session: Session, path: Path, source: Source, kind: str, digest: str
) -> IngestedFile:
    return start_record(
        session, source, kind, path=str(path), sha256=digest, size_bytes=path.stat().st_size
    )


def start_record(
    session: Session, source: Source, kind: str, *, path: str, sha256: str, size_bytes: int
) -> IngestedFile:
    """Write the `ingested_files` row of one ingest (a file, or an API fetch) and flush it."""
    record = IngestedFile(
        source_id=source.id,
        kind=kind,
        path=path,
        sha256=sha256,
        size_bytes=size_bytes,
        rows_read=0,
        added=0,
        updated=0,
        unchanged=0,
        deleted=0,
        rejected=0,
    )
    session.add(record)
    session.flush()  # takes the write lock before ids are allocated below
    return record


# The record of an ingest: one already written (an API fetch always records itself), or how
# to write it at the first change (a file that changes nothing leaves no row).
RecordSource = IngestedFile | Callable[[], IngestedFile]


def _open_report(
    record: RecordSource, src: Source, kind: str, label: str | None, sha256: str | None
) -> tuple[IngestedFile | None, IngestReport]:
    """The record if it is already written (else None: written at the first change), and the
    report to fill, named by `label` and `sha256` or else by the record."""
    written = record if isinstance(record, IngestedFile) else None
    report = IngestReport(
        label or (written.path if written else ""),
        src.name,
        kind,
        sha256 or (written.sha256 if written else ""),
    )
    return written, report


def ingest_events(
    session: Session,
    path: Path,
    *,
    source: SourceName | None = None,
    normalizer: Normalizer,
    actor_roles: Sequence[str],
    chunk_rows: int = 100_000,
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
    armed: Sequence[int] | None = None,
) -> IngestReport:
    """Sync the events of one ACLED or UCDP file into the database; see the module docstring.

    The file is read and checked before the session writes anything (see `staging`); a file
    that adds or updates nothing writes nothing and is reported `unchanged`. The file whose
    ingest made the last change to the source's events is not read again (`last_change`).
    """
    started = time.perf_counter()
    source_name = source or detect_source(path)
    known = last_change(session, source_name, path)
    digest = file_sha256(path) if known is not None else None
    if known is not None and known.sha256 == digest:
        if progress:
            progress(known.rows_read)
        return _unchanged(_same_file(known, path, source_name), started)
    # Beside the parsing, two threads: one hashes the file (hashlib lets go of the GIL on large
    # blocks), one reads the stored events to screen it against (see `screen`).
    with ThreadPoolExecutor(max_workers=2) as helpers, gc_paused():
        hashed = helpers.submit(file_sha256, path) if digest is None else None
        screening = helpers.submit(Screen.load, session.get_bind(), source_name)
        chunks = iter_events(path, source=source_name, chunksize=chunk_rows, limits=limits)
        with stage(chunks, progress, keep=lambda c: screening.result().keep(c)) as staged:
            digest = hashed.result() if hashed is not None else digest
            screen = screening.result()
            assert digest is not None
            src = get_or_create_source(session, source_name)
            record = partial(_start_file, session, path, src, "events", digest)
            return sync_events(
                session,
                staged,
                src,
                record,
                normalizer=normalizer,
                actor_roles=actor_roles,
                label=str(path),
                sha256=digest,
                armed=armed,
                screened=screen,
            )


def last_change(session: Session, source: str, path: Path) -> IngestedFile | None:
    """The record of the last change to `source`'s events when it may be this very file: an
    events ingest of a file of `path`'s size (its hash says whether it is the same file).

    Every change to a source's events writes its `ingested_files` row, so when the last one
    is this file's, the stored events are what ingesting it left: the same file again would
    find every row unchanged, and it need not be read. A change since (another file, a fetch,
    a deletion list) means the file is screened row by row as usual.
    """
    with Session(session.get_bind()) as reading:  # a read of its own: no lock, none kept
        last = reading.scalars(
            select(IngestedFile)
            .join(Source, Source.id == IngestedFile.source_id)
            .where(Source.name == source)
            .order_by(IngestedFile.id.desc())
            .limit(1)
        ).first()
        if last is None or last.kind != "events" or last.finished_at is None:
            return None
        if last.rejected or last.size_bytes != path.stat().st_size:
            return None
        # The other way a stored event changes its screening: one kept without actor types
        # (before migration 20261207_0020) is updated by a file that gives them.
        events = Event.__table__.c
        untyped = reading.scalar(
            select(events.id)
            .where(
                events.source_id == last.source_id,
                events.inter1.is_(None),
                events.inter2.is_(None),
            )
            .limit(1)
        )
        if untyped is not None:
            return None
        reading.expunge(last)
        return last


def _same_file(known: IngestedFile, path: Path, source: str) -> IngestReport:
    """The report of re-ingesting the file `known` records: every row read, none changed."""
    return IngestReport(
        str(path),
        source,
        "events",
        known.sha256,
        rows_read=known.rows_read,
        unchanged=known.rows_read,
    )


def sync_events(
    session: Session,
    chunks: Iterable[pd.DataFrame],
    src: Source,
    record: RecordSource,
    *,
    normalizer: Normalizer,
    actor_roles: Sequence[str],
    quiet: Mapping[str, dt.date] | None = None,
    label: str | None = None,
    sha256: str | None = None,
    armed: Sequence[int] | None = None,
    screened: Screen | None = None,
) -> IngestReport:
    """Sync checked event chunks (the readers' frames): files and API fetches alike.

    `quiet` names countries that were asked for (with the first date asked) and may have no
    rows: the data's reach extends their coverage too, so a quiet month is a zero, not unknown.
    `armed` are the armed actor types (None: the settings' SAHELCAST_ARMED_INTER).
    `screened`: the chunks are the rows a `Screen` kept; it counted and dated the others.
    """
    if armed is None:
        from service.config import get_settings

        armed = get_settings().armed_inter
    started = time.perf_counter()
    written, report = _open_report(record, src, "events", label, sha256)
    dates: list[pd.DataFrame] = []
    if screened is not None:
        report.rows_read, report.unchanged = screened.rows_read, screened.unchanged
        dates = list(screened.dates)
    if screened is not None and screened.still_current(session):
        existing = screened.existing
    else:
        existing = existing_events(session, src.id)
    writer: EventWriter | None = None
    work = (prepare(c, existing, normalizer, actor_roles, armed) for c in chunks)
    # The next chunk is prepared in a thread while this one is written (pipeline.py).
    with gc_paused(), Ahead(work) as prepared:
        for item in prepared:
            if screened is None:
                report.rows_read += item.rows
                dates.append(item.dates)
            report.unchanged += item.unchanged
            if item.found is None:
                continue
            if writer is None:  # the first change: only now is the write lock taken
                opened = written if written is not None else record()  # type: ignore[operator]
                writer = EventWriter(session, src, opened, normalizer)
            writer.write(item, report)
    spans = pd.concat(dates) if dates else pd.DataFrame(columns=["country", "min", "max"])
    spans = _with_quiet(spans, quiet or {})
    if writer is None and written is None:
        return _unchanged(report, started)
    if writer is not None and writer.touched:
        rebuild_series(session, src, sorted(writer.touched), writer.counts)
    update_coverage(session, src, spans)
    report.countries = sorted(spans["country"].unique().tolist()) if len(spans) else []
    return _finish(writer.record if writer is not None else written, report, started)  # type: ignore[arg-type]


def ingest_deletions(
    session: Session,
    path: Path,
    *,
    source: str = "acled",
    progress: Progress | None = None,
    limits: ReadLimits | None = None,
) -> IngestReport:
    """Remove the events named in an ACLED deletion list (`event_id_cnty, deleted_timestamp`)."""
    digest = file_sha256(path)
    with stage(iter_deletions(path, limits=limits), progress) as staged:
        src = get_or_create_source(session, source)
        record = partial(_start_file, session, path, src, "deletions", digest)
        return sync_deletions(session, staged, src, record, label=str(path), sha256=digest)


def sync_deletions(
    session: Session,
    chunks: Iterable[pd.DataFrame],
    src: Source,
    record: RecordSource,
    *,
    label: str | None = None,
    sha256: str | None = None,
) -> IngestReport:
    """Apply checked deletion chunks (`source_event_id, deleted_timestamp`): files and fetches."""
    started = time.perf_counter()
    written, report = _open_report(record, src, "deletions", label, sha256)
    existing = existing_events(session, src.id)
    opened: IngestedFile | None = written
    touched: set[str] = set()
    for chunk in chunks:
        report.rows_read += len(chunk)
        hits = chunk.merge(existing, left_on="source_event_id", right_index=True)
        # A deletion older than the event's current version is stale: the event was re-added.
        hits = hits[hits["deleted_timestamp"] >= hits["old_timestamp"]]
        ids = hits["id"].astype("int64").tolist()
        report.deleted += len(ids)
        report.unchanged += len(chunk) - len(ids)
        if not ids:
            continue
        if opened is None:
            opened = record()  # type: ignore[operator]
        delete_events(session, ids)
        existing = existing[~existing["id"].isin(ids)]
        touched.update(hits["old_country"].unique())
    if opened is None:
        return _unchanged(report, started)
    if touched:
        rebuild_series(session, src, sorted(touched))
    report.countries = sorted(touched)
    return _finish(opened, report, started)


def _with_quiet(spans: pd.DataFrame, quiet: Mapping[str, dt.date]) -> pd.DataFrame:
    """Add a span reaching the data's last date for each asked-for country without rows."""
    missing = [c for c in quiet if c not in set(spans["country"])]
    if spans.empty or not missing:
        return spans
    reach = pd.Timestamp(spans["max"].max())
    extra = pd.DataFrame(
        {
            "country": missing,
            "min": [min(pd.Timestamp(quiet[c]), reach) for c in missing],
            "max": [reach] * len(missing),
        }
    )
    return pd.concat([spans, extra], ignore_index=True)


def _unchanged(report: IngestReport, started: float) -> IngestReport:
    """Nothing to add, update or delete: no `ingested_files` row, coverage untouched."""
    report.status = "unchanged"
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _finish(record: IngestedFile, report: IngestReport, started: float) -> IngestReport:
    report.seconds = round(time.perf_counter() - started, 3)
    for name in ("rows_read", "added", "updated", "unchanged", "deleted", "rejected"):
        setattr(record, name, getattr(report, name))
    record.finished_at = utcnow()
    return report

"""Streaming, validating readers: an ACLED or UCDP file in, canonical event chunks out.

Every problem raises `IngestError` naming the file, the physical line and the field, as soon as
the chunk holding it is read; the caller's transaction keeps anything from being half-written.
A file with a header but no rows (blank lines aside) is refused; chunks are never empty.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from service.ingest.errors import IngestError
from service.ingest.pipeline import Ahead
from service.ingest.readers import acled, ucdp
from service.ingest.readers.checks import Rows
from service.ingest.readers.dedupe import SeenIds
from service.ingest.readers.layout import (
    FileKind,
    Layout,
    Source,
    kind_of_header,
    locate,
    parse_header,
)
from service.ingest.readers.limits import ReadLimits
from service.ingest.readers.opening import open_records
from service.ingest.readers.parse import read_block, spill_row
from service.ingest.readers.records import RecordBlock, RecordSplitter
from service.ingest.readers.schema import DELETION_COLUMNS, EVENT_COLUMNS, FIELD_LIMITS

__all__ = [
    "DEFAULT_CHUNKSIZE",
    "DELETION_COLUMNS",
    "EVENT_COLUMNS",
    "FIELD_LIMITS",
    "FileKind",
    "IngestError",
    "ReadLimits",
    "Source",
    "detect_kind",
    "detect_source",
    "iter_deletions",
    "iter_events",
]

DEFAULT_CHUNKSIZE = 100_000

_Convert = Callable[[pd.DataFrame, Rows, Layout, pd.Timestamp], pd.DataFrame]
_CONVERTERS: dict[FileKind, _Convert] = {
    FileKind.ACLED_EVENTS: acled.events,
    FileKind.UCDP: ucdp.events,
    FileKind.ACLED_DELETIONS: acled.deletions,
}
_ID_FIELDS = {
    FileKind.ACLED_EVENTS: "event_id_cnty",
    FileKind.UCDP: "id",
    FileKind.ACLED_DELETIONS: "event_id_cnty",
}


def detect_kind(path: Path | str) -> FileKind:
    """Say from its header whether a file is ACLED events, an ACLED deletion list or UCDP GED."""
    path = Path(path)
    with open_records(path) as splitter:
        _, kind, _ = _header(splitter, path)
    return kind


def detect_source(path: Path | str) -> Source:
    """Say which provider a file comes from: `acled` or `ucdp`."""
    return detect_kind(path).source


def iter_events(
    path: Path | str,
    source: Source | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    limits: ReadLimits | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield checked chunks of at most `chunksize` events with the columns EVENT_COLUMNS.

    `source=None` detects the format from the header; given, the header must match it.
    """
    if source not in (None, "acled", "ucdp"):
        raise ValueError(f"source must be 'acled', 'ucdp' or None, not {source!r}")
    wanted = {FileKind.ACLED_EVENTS, FileKind.UCDP}
    if source is not None:
        wanted = {k for k in wanted if k.source == source}
    yield from _iter(Path(path), wanted, chunksize, limits)


def iter_deletions(
    path: Path | str, chunksize: int = DEFAULT_CHUNKSIZE, limits: ReadLimits | None = None
) -> Iterator[pd.DataFrame]:
    """Yield checked chunks of an ACLED deletion list with the columns DELETION_COLUMNS."""
    yield from _iter(Path(path), {FileKind.ACLED_DELETIONS}, chunksize, limits)


def _iter(
    path: Path, wanted: set[FileKind], chunksize: int, limits: ReadLimits | None
) -> Iterator[pd.DataFrame]:
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, not {chunksize}")
    latest = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize() + pd.Timedelta(days=1)
    with open_records(path, limits) as splitter:
        names, kind, line = _header(splitter, path)
        if kind not in wanted:
            raise _wrong_kind(path, line, kind, wanted)
        layout = locate(kind, names, path, line)
        convert = _CONVERTERS[kind]
        seen = SeenIds(_ID_FIELDS[kind])
        spill = spill_row(layout.width)
        block = splitter.take(chunksize, spill)
        if block is not None and _is_tag_row(block.record(0)):
            block = block.without_first() or splitter.take(chunksize, spill)
        if block is None:
            raise IngestError(
                path,
                line=line,
                problem="the file holds a header but no rows",
                hint="Expected at least one row under the header; check the export's filters",
            )
        # Splitting and tokenizing (which lets go of the GIL) run a block ahead, in a thread,
        # while this one checks the block before; errors still come in the file's order.
        producer = _parsed(block, splitter, chunksize, spill, layout, names, path)
        del block
        with Ahead(producer) as parsed:
            for lines, raw in parsed:
                rows = Rows(path, lines)
                chunk = convert(raw, rows, layout, latest)
                del raw
                seen.add(rows, chunk["source_event_id"])
                rows.raise_first()
                yield chunk
                del chunk


def _parsed(
    block: RecordBlock | None,
    splitter: RecordSplitter,
    chunksize: int,
    spill: bytes,
    layout: Layout,
    names: list[str],
    path: Path,
) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
    """Each block's physical lines and its parsed columns, from `block` on."""
    while block is not None:
        raw = read_block(block, layout, names, path)
        lines = block.lines
        del block  # the bytes of the chunk need not outlive its parsing
        yield lines, raw
        del raw
        block = splitter.take(chunksize, spill)


def _header(splitter: RecordSplitter, path: Path) -> tuple[list[str], FileKind, int]:
    block = splitter.take(1)
    if block is None:
        raise IngestError(
            path,
            problem="the file holds only blank lines",
            hint="Expected an ACLED export or a UCDP GED CSV with a header row",
        )
    line = int(block.lines[0])
    names = parse_header(block.record(0), path, line)
    return names, kind_of_header(names, path, line), line


def _is_tag_row(raw: bytes) -> bool:
    """HDX files put a row of #tags (`#event+code,#date+occurred,…`) under the header."""
    if not raw.lstrip().startswith(b"#"):
        return False
    fields = next(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")), [])
    tags = [f.strip() for f in fields if f.strip()]
    return bool(tags) and all(t.startswith("#") for t in tags)


def _wrong_kind(path: Path, line: int, kind: FileKind, wanted: set[FileKind]) -> IngestError:
    expected = " or ".join(sorted(k.label for k in wanted))
    hint = None
    if kind is FileKind.ACLED_DELETIONS:
        hint = "Ingest it as a deletion list"
    elif FileKind.ACLED_DELETIONS in wanted:
        hint = "Ingest it as events, not as a deletion list"
    return IngestError(
        path,
        line=line,
        problem=f"the header looks like {kind.label}",
        expected=expected,
        hint=hint,
    )

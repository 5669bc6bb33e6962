"""Open an input file: refuse what is plainly not CSV text early, unpack gzip transparently."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from service.ingest.errors import IngestError
from service.ingest.readers.limits import RATIO_GRACE_BYTES, ReadLimits
from service.ingest.readers.records import RecordSplitter

_GZIP = b"\x1f\x8b"
# What people actually hand over by mistake, by leading bytes.
_NOT_CSV = (
    (b"PK\x03\x04", "a ZIP archive (or an Excel workbook)", "Extract or export the CSV first"),
    (b"PK\x05\x06", "an empty ZIP archive", "Extract or export the CSV first"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook", "Export it as CSV (UTF-8)"),
    (b"\x89PNG", "a PNG image", "Check that the right file was given"),
    (b"%PDF", "a PDF document", "Check that the right file was given"),
    (b"\xff\xfe", "UTF-16 text", "Re-save it as CSV UTF-8"),
    (b"\xfe\xff", "UTF-16 text", "Re-save it as CSV UTF-8"),
)


@contextmanager
def open_records(path: Path, limits: ReadLimits | None = None) -> Iterator[RecordSplitter]:
    """Yield a record splitter over the file's text, gunzipped if it is gzip-compressed."""
    limits = limits or ReadLimits()
    try:
        raw: BinaryIO = path.open("rb")
    except FileNotFoundError:
        raise IngestError(path, problem="no such file") from None
    except IsADirectoryError:
        raise IngestError(path, problem="this is a directory, not a file") from None
    with raw:
        head = raw.read(4)
        raw.seek(0)
        if head.startswith(_GZIP):
            with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                read = _capped(_guarded(unpacked.read, path), path, limits, raw.tell)
                yield RecordSplitter(_sniffed(read, path), path, limits.max_records)
        else:
            read = _capped(raw.read, path, limits, None)
            yield RecordSplitter(_sniffed(read, path), path, limits.max_records)


def _capped(
    read: Callable[[int], bytes],
    path: Path,
    limits: ReadLimits,
    compressed_at: Callable[[], int] | None,
) -> Callable[[int], bytes]:
    """Count the text read; refuse past `max_bytes`, or past `max_ratio` for gzip input."""
    total = 0

    def capped_read(size: int) -> bytes:
        nonlocal total
        piece = read(size)
        total += len(piece)
        if total > limits.max_bytes:
            what = "unpacks to" if compressed_at is not None else "holds"
            raise IngestError(
                path,
                problem=f"the file {what} more than {limits.max_bytes >> 20:,} MiB of text",
                hint="Split it, or raise SAHELCAST_INGEST_MAX_MB if it is genuine",
            )
        if compressed_at is not None and total > RATIO_GRACE_BYTES:
            ratio = total / max(compressed_at(), 1)
            if ratio > limits.max_ratio:
                raise IngestError(
                    path,
                    problem=f"the gzip data unpacks more than {limits.max_ratio:g} times its "
                    "size, which no real event export does (a decompression bomb?)",
                    hint="Check the file; raise SAHELCAST_INGEST_MAX_RATIO if it is genuine",
                )
        return piece

    return capped_read


def _guarded(read: Callable[[int], bytes], path: Path) -> Callable[[int], bytes]:
    def guarded_read(size: int) -> bytes:
        try:
            return read(size)
        except (OSError, EOFError, zlib.error) as exc:
            raise IngestError(
                path,
                problem=f"the gzip data is corrupt or truncated ({exc})",
                hint="Download the file again",
            ) from None

    return guarded_read


def _sniffed(read: Callable[[int], bytes], path: Path) -> Callable[[int], bytes]:
    """Check the first bytes, then replay them ahead of the rest of the stream."""
    head = read(4096)
    if not head:
        raise IngestError(
            path,
            problem="the file is empty (0 bytes)",
            hint="Expected an ACLED export or a UCDP GED CSV with a header row",
        )
    if head.startswith(_GZIP):
        raise IngestError(path, problem="the data is gzip-compressed twice")
    for magic, what, hint in _NOT_CSV:
        if head.startswith(magic):
            raise IngestError(path, problem=f"this is {what}, not a CSV text file", hint=hint)
    replay = [head]

    def read_rest(size: int) -> bytes:
        return replay.pop() if replay else read(size)

    return read_rest

"""Cut a CSV byte stream into blocks of whole records, each with its physical line number.

pandas cannot say which physical line a row came from once quoted fields span several lines
(ACLED notes and UCDP source lists do), so record boundaries are found here with numpy: a
newline ends a record when an even number of double quotes precedes it. That holds for every
RFC 4180 file, where a literal quote inside a quoted field is written twice.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from service.ingest.errors import IngestError

READ_SIZE = 8 << 20
# No sane record comes near this; one that does is an unclosed quote swallowing the file.
MAX_RECORD_BYTES = 8 << 20

_QUOTE, _NEWLINE, _CR = 34, 10, 13


@dataclass(frozen=True)
class RecordBlock:
    """Whole records; blank lines are dropped from the arrays, as pandas skips them too.

    `data` may begin with `prefix` bytes that are not from the file (see RecordSplitter.take).
    """

    data: bytes
    starts: np.ndarray  # offset of each record in data
    ends: np.ndarray  # offset just past each record, line terminator excluded
    lines: np.ndarray  # 1-based physical line on which each record starts
    prefix: int = 0

    def __len__(self) -> int:
        return len(self.lines)

    def record(self, i: int) -> bytes:
        return self.data[int(self.starts[i]) : int(self.ends[i])]

    def without_first(self) -> RecordBlock | None:
        """The same block minus its first record (an HDX #tag row), or None if that was all."""
        if len(self) == 1:
            return None
        shift = int(self.starts[1]) - self.prefix
        data = self.data[: self.prefix] + self.data[int(self.starts[1]) :]
        return RecordBlock(
            data, self.starts[1:] - shift, self.ends[1:] - shift, self.lines[1:], self.prefix
        )


class RecordSplitter:
    """Reads a byte stream through `read(size)` and hands out blocks of at most n whole records."""

    def __init__(
        self, read: Callable[[int], bytes], path: Path, max_records: int | None = None
    ) -> None:
        self._read = read
        self._path = path
        self._max_records = max_records
        self._records = 0  # record ends scanned so far, blank lines included
        # Bytes read but not handed out yet; they start at a record boundary.
        self._pieces: list[bytes] = []
        self._pending = 0  # their total length
        self._bounds = np.empty(0, dtype=np.int64)  # offsets in them of record-ending "\n"
        self._bound_lines = np.empty(0, dtype=np.int64)  # physical line each of those ends
        self._line = 1  # physical line on which they start
        self._newlines = 0  # newlines scanned so far in the whole stream
        self._odd_quotes = False
        self._eof = False
        self._utf8 = codecs.getincrementaldecoder("utf-8")()

    def take(self, n: int, prefix: bytes = b"") -> RecordBlock | None:
        """Return the next block of 1..n records, or None at the end of the stream.

        `prefix` is put in front of the block's data in the same copy that assembles it.
        """
        while True:
            while len(self._bounds) < n and not self._eof:
                self._fill()
            k = min(n, len(self._bounds))
            if k == 0:
                return None
            block = self._cut(k, prefix)
            if len(block):  # a run of blank lines yields nothing: read on
                return block

    def _cut(self, k: int, prefix: bytes) -> RecordBlock:
        cut = min(int(self._bounds[k - 1]) + 1, self._pending)
        data = self._split_pieces(cut, prefix)
        starts = np.concatenate(([0], self._bounds[: k - 1] + 1)) + len(prefix)
        ends = self._bounds[:k] + len(prefix)
        lines = np.concatenate(([self._line], self._bound_lines[: k - 1] + 1))
        self._line = int(self._bound_lines[k - 1]) + 1
        self._bounds = self._bounds[k:] - cut
        self._bound_lines = self._bound_lines[k:]
        return _drop_blank(data, starts, ends, lines, len(prefix))

    def _fill(self) -> None:
        piece = self._read(READ_SIZE)
        if not piece:
            self._finish()
            return
        self._check_bytes(piece)
        arr = np.frombuffer(piece, dtype=np.uint8)
        quotes = np.flatnonzero(arr == _QUOTE)
        newlines = np.flatnonzero(arr == _NEWLINE)
        odd = (np.searchsorted(quotes, newlines) + self._odd_quotes) & 1
        ending = np.flatnonzero(odd == 0)
        self._bounds = np.concatenate((self._bounds, newlines[ending] + self._pending))
        self._bound_lines = np.concatenate((self._bound_lines, ending + self._newlines + 1))
        self._newlines += len(newlines)
        self._records += len(ending)
        if self._max_records is not None and self._records > self._max_records:
            raise IngestError(
                self._path,
                line=int(self._bound_lines[self._max_records - self._records]),
                problem=f"the file holds more than {self._max_records:,} records "
                "(blank lines count too)",
                hint="Split it, or raise SAHELCAST_INGEST_MAX_RECORDS if it is genuine",
            )
        self._odd_quotes = bool((len(quotes) + self._odd_quotes) & 1)
        self._pieces.append(piece)
        self._pending += len(piece)
        unfinished = self._pending - (int(self._bounds[-1]) + 1 if len(self._bounds) else 0)
        if unfinished > MAX_RECORD_BYTES:
            raise IngestError(
                self._path,
                line=self._unfinished_line(),
                problem=f"a record runs on for more than {MAX_RECORD_BYTES >> 20} MiB",
                hint="A quoted field is probably never closed; check the quotes on that line",
            )

    def _finish(self) -> None:
        self._eof = True
        try:
            self._utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            raise self._not_utf8(self._newlines + 1) from None
        last_end = int(self._bounds[-1]) + 1 if len(self._bounds) else 0
        if self._odd_quotes:
            raise IngestError(
                self._path,
                line=self._unfinished_line(),
                problem="a quoted field is never closed before the end of the file",
                hint="The file looks truncated; download or export it again",
            )
        if last_end < self._pending:  # a last record without a final newline
            self._bounds = np.append(self._bounds, self._pending)
            self._bound_lines = np.append(self._bound_lines, self._newlines + 1)

    def _split_pieces(self, cut: int, prefix: bytes) -> bytes:
        """Remove the first `cut` pending bytes and return them after `prefix`, in one copy."""
        head: list[bytes] = [prefix]
        size = 0
        while size < cut:
            piece = self._pieces.pop(0)
            if size + len(piece) > cut:
                keep = cut - size
                self._pieces.insert(0, piece[keep:])
                piece = piece[:keep]
            head.append(piece)
            size += len(piece)
        self._pending -= cut
        return b"".join(head)

    def _unfinished_line(self) -> int:
        return int(self._bound_lines[-1]) + 1 if len(self._bound_lines) else self._line

    def _check_bytes(self, piece: bytes) -> None:
        nul = piece.find(b"\x00")
        if nul >= 0:
            raise IngestError(
                self._path,
                line=self._newlines + piece.count(b"\n", 0, nul) + 1,
                problem="the file contains NUL bytes, so it is binary, not a CSV text file",
                hint="Check that the right file was given (not a spreadsheet or an archive)",
            )
        if piece.isascii() and not self._utf8.getstate()[0]:
            return
        try:
            self._utf8.decode(piece)
        except UnicodeDecodeError as exc:
            raise self._not_utf8(self._newlines + piece.count(b"\n", 0, exc.start) + 1) from None

    def _not_utf8(self, line: int) -> IngestError:
        return IngestError(
            self._path,
            line=line,
            problem="the bytes on this line are not valid UTF-8",
            hint="Re-save the file as UTF-8 (ACLED and UCDP exports are UTF-8; "
            "Excel may have re-encoded it)",
        )


def _drop_blank(
    data: bytes, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray, prefix: int
) -> RecordBlock:
    arr = np.frombuffer(data, dtype=np.uint8)
    # The newline itself is excluded already; a preceding "\r" belongs to the terminator too.
    has_cr = (ends > starts) & (arr[np.maximum(ends - 1, 0)] == _CR)
    ends = ends - has_cr
    keep = ends > starts
    if keep.all():
        return RecordBlock(data, starts, ends, lines, prefix)
    return RecordBlock(data, starts[keep], ends[keep], lines[keep], prefix)

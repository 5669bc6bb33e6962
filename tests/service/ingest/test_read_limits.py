"""Caps on one input file: unpacked size, gzip ratio, and records with blank lines counted."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from service.ingest.readers import IngestError, ReadLimits, iter_events
from service.ingest.readers.limits import RATIO_GRACE_BYTES
from tests.service.ingest.acled_rows import HEADER, event, write

HEADER_LINE = (",".join(HEADER) + "\n").encode()


def _gzip_stream(path: Path, head: bytes, filler: bytes, total: int) -> Path:
    """Write `head` then `total` bytes of `filler` as gzip, without holding them in memory."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
    block = filler * (1 << 20)
    with path.open("wb") as out:
        out.write(packer.compress(head))
        for _ in range(total // len(block)):
            out.write(packer.compress(block))
        out.write(packer.flush())
    return path


def test_a_gzip_bomb_of_newlines_is_refused_by_its_ratio(tmp_path: Path) -> None:
    bomb = _gzip_stream(tmp_path / "bomb.csv.gz", HEADER_LINE, b"\n", 64 << 20)
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(IngestError, match=r"bomb\.csv\.gz: .*unpacks more than 100 times"):
        list(iter_events(bomb))


def test_the_unpacked_size_is_capped(tmp_path: Path) -> None:
    rows = write(tmp_path / "rows.csv", [event(f"MLI{i}", "03 July 2022") for i in range(4000)])
    packed = tmp_path / "rows.csv.gz"
    packed.write_bytes(gzip.compress(rows.read_bytes()))
    limits = ReadLimits(max_bytes=1 << 20)
    assert rows.stat().st_size > 1 << 20
    for path, what in ((packed, "unpacks to"), (rows, "holds")):
        with pytest.raises(IngestError, match=f"the file {what} more than 1 MiB of text"):
            list(iter_events(path, limits=limits))
    assert sum(len(c) for c in iter_events(packed)) == 4000  # the defaults let it through


def test_a_genuine_file_with_a_high_ratio_can_be_allowed(tmp_path: Path) -> None:
    bomb = _gzip_stream(tmp_path / "blank.csv.gz", HEADER_LINE, b"\n", RATIO_GRACE_BYTES * 2)
    generous = ReadLimits(max_ratio=1e9, max_records=10)
    with pytest.raises(IngestError, match=r"line 11: .*more than 10 records \(blank lines count"):
        list(iter_events(bomb, limits=generous))


def test_blank_lines_count_toward_the_record_limit(tmp_path: Path) -> None:
    rows = [event(f"MLI{i}", "03 July 2022") for i in range(3)]
    path = write(tmp_path / "rows.csv", rows)
    assert sum(len(c) for c in iter_events(path, limits=ReadLimits(max_records=4))) == 3
    path.write_bytes(path.read_bytes() + b"\n" * 2)
    with pytest.raises(IngestError, match="line 5: the file holds more than 4 records"):
        list(iter_events(path, limits=ReadLimits(max_records=4)))

"""How much a reader will take from one file: decompressed bytes, compression ratio, records.

A few megabytes of gzip can unpack to gigabytes (a header and 2 GiB of newlines ran for minutes
and ended as a 0-row ingest), so the unpacked size and the ratio are capped, and blank lines
count as records so a file of nothing but line ends is stopped like any other oversized file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.config import Settings

# Only once this much is unpacked is the ratio judged: a short file's header alone can have a
# high ratio, a bomb's ratio is in the hundreds from its first megabytes.
RATIO_GRACE_BYTES = 8 << 20


@dataclass(frozen=True)
class ReadLimits:
    """Caps on one input file; the defaults match the settings' defaults."""

    max_bytes: int = 8192 << 20  # unpacked (or plain) text
    max_ratio: float = 100.0  # unpacked bytes per compressed byte
    max_records: int = 20_000_000  # records, blank lines included

    @classmethod
    def of(cls, settings: Settings) -> ReadLimits:
        """The limits set by `SAHELCAST_INGEST_MAX_MB`, `_MAX_RATIO` and `_MAX_RECORDS`."""
        return cls(
            max_bytes=settings.ingest_max_mb << 20,
            max_ratio=settings.ingest_max_ratio,
            max_records=settings.ingest_max_records,
        )

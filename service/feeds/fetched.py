"""Everything one fetch read, held until it is written in one transaction."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

Progress = Callable[[int, int], None]  # (pages read, rows read) so far


@dataclass
class Tally:
    """Size and sha256 of the rows read (their JSON), for the `ingested_files` record."""

    size: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    def add(self, rows: list[dict[str, Any]]) -> None:
        raw = json.dumps(rows, sort_keys=True, ensure_ascii=False).encode()
        self.size += len(raw)
        self.digest.update(raw)


@dataclass
class Mark:
    """A watermark to move once the fetch is written."""

    scope: str
    values: dict[str, Any]


@dataclass(frozen=True)
class Span:
    """A query that answers for every event of a country between two dates (a GED release, an
    ACLED backfill), and how many rows it gave: none where events are held is suspect."""

    country: str
    first: dt.date
    last: dt.date
    rows: int


@dataclass
class Fetched:
    """The checked frames of a fetch, what it asked, and where its watermarks go next."""

    feed: str  # acled | ucdp | ucdp-candidate
    source: str  # acled | ucdp
    label: str  # the `ingested_files.path` of the fetch (a description, not a file)
    query: dict[str, Any]
    events: list[pd.DataFrame] = field(default_factory=list)
    deletions: list[pd.DataFrame] | None = None  # None: not asked
    quiet: dict[str, dt.date] = field(default_factory=dict)  # asked-for countries, first date
    replace: list[tuple[str, dt.date, dt.date]] = field(default_factory=list)
    whole: list[Span] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # rows left out, said to the user
    pages: int = 0
    rows: int = 0
    events_tally: Tally = field(default_factory=Tally)
    deletions_tally: Tally = field(default_factory=Tally)
    progress: Progress | None = None

    def __post_init__(self) -> None:
        # Seeded, so no fetch shares a hash with a file (an empty one above all): the drop
        # folder skips a file whose hash was ingested before.
        for tally in (self.events_tally, self.deletions_tally):
            tally.digest.update(f"sahelcast {self.feed} API fetch\n".encode())

    def count(self, rows: list[dict[str, Any]], deletions: bool = False) -> None:
        """Account for one page read."""
        self.pages += 1
        self.rows += len(rows)
        (self.deletions_tally if deletions else self.events_tally).add(rows)
        if self.progress is not None:
            self.progress(self.pages, self.rows)


def newest_versions(chunks: list[pd.DataFrame], id_column: str, order: str) -> pd.DataFrame:
    """One frame with each id once, its newest version kept (pages of a live API can overlap)."""
    frames = [c for c in chunks if len(c)]
    if not frames:
        return pd.DataFrame()
    frame = pd.concat(frames, ignore_index=True)
    frame = frame.sort_values(order, kind="stable")
    return frame.drop_duplicates(id_column, keep="last").reset_index(drop=True)

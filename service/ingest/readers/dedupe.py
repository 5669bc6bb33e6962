"""Catch an event id that appears twice in one file, across chunks too, in flat-ish memory.

Each id seen is kept as a 64-bit hash and a line number (16 bytes per row, in two sorted numpy
arrays), not as a Python string (~100 bytes). Within a chunk a hash match is confirmed on the
strings; across chunks the strings are gone, so two different ids with the same 64-bit hash
would be reported as a duplicate (odds around n²/2⁶⁴: 1 in 10¹³ for a million rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from service.ingest.readers.checks import Rows


class SeenIds:
    """The ids of the chunks read so far."""

    def __init__(self, field: str) -> None:
        self._field = field
        self._hashes = np.empty(0, dtype=np.int64)  # sorted
        self._lines = np.empty(0, dtype=np.int64)  # line of each hash

    def add(self, rows: Rows, ids: pd.Series) -> None:
        """Report the first repeated id of this chunk to `rows`, then remember the chunk's ids."""
        values = ids.to_numpy()
        hashes = np.fromiter(map(hash, values), dtype=np.int64, count=len(values))
        order = np.argsort(hashes, kind="stable")
        ordered = hashes[order]
        pairs = np.flatnonzero(ordered[1:] == ordered[:-1])
        if len(pairs):
            earlier, later = order[pairs], order[pairs + 1]
            for k in np.argsort(later, kind="stable"):
                e, r = int(earlier[k]), int(later[k])
                if values[e] == values[r]:
                    self._report(rows, r, values[r], int(rows.lines[e]))
                    break
        if len(self._hashes):
            pos = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
            hits = np.flatnonzero(self._hashes[pos] == hashes)
            if len(hits):
                row = int(hits[0])
                self._report(rows, row, values[row], int(self._lines[pos[row]]))
        merged = np.concatenate((self._hashes, ordered))
        # Two sorted runs: the stable sort (timsort) merges them in linear time.
        by_hash = np.argsort(merged, kind="stable")
        self._hashes = merged[by_hash]
        self._lines = np.concatenate((self._lines, rows.lines[order]))[by_hash]

    def _report(self, rows: Rows, row: int, value: str, first_line: int) -> None:
        rows.report(
            row,
            field=self._field,
            problem=f"event id {value!r} already appeared on line {first_line}",
            hint="Each event must appear once per file; remove one of the two rows",
        )

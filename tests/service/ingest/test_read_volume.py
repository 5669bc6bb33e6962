"""Volume: a large file streams through in bounded chunks (the multi-GB case, scaled down)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.ingest.attribution import attribute
from service.ingest.normalize import Normalizer
from service.ingest.readers import iter_events
from tests.service.ingest.synthetic import write_acled


@pytest.mark.slow
def test_200k_rows_in_chunks_of_10k(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    write_acled(path, 200_000, multiline_every=997)
    normalizer = Normalizer.load()
    sizes, last_line, total_fatalities = [], 1, 0
    for chunk in iter_events(path, chunksize=10_000):
        sizes.append(len(chunk))
        lines = chunk["line"].to_numpy()
        assert lines[0] > last_line
        assert (np.diff(lines) >= 1).all()
        last_line = int(lines[-1])
        total_fatalities += int(chunk["fatalities"].sum())
        assert len(attribute(normalizer, chunk).links) >= len(chunk)
    assert max(sizes) <= 10_000
    assert sum(sizes) == 200_000
    # Every 997th event's notes span two lines: the physical line count shows it.
    assert last_line == 1 + 200_000 + len(range(0, 200_000, 997))
    assert total_fatalities > 0

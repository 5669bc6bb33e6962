"""Staged chunks: in memory up to a budget, pickled to a scratch folder beyond, in order."""

from __future__ import annotations

import pandas as pd

from service.ingest.staging import StagedChunks, stage


def _chunks(n: int) -> list[pd.DataFrame]:
    return [pd.DataFrame({"n": [2 * i, 2 * i + 1]}) for i in range(n)]


def test_chunks_beyond_the_budget_go_to_disk_and_come_back_in_order() -> None:
    staged = StagedChunks(memory_rows=3)
    for chunk in _chunks(4):
        staged.add(chunk)
    folder = staged._folder
    assert folder is not None
    assert len(list(folder.iterdir())) == 3  # the first chunk fits in memory, not the second
    assert [c["n"].tolist() for c in staged] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert list(folder.iterdir()) == []  # each is removed once taken
    staged.close()
    assert not folder.exists()


def test_a_small_file_never_touches_the_disk() -> None:
    with stage(_chunks(3), keep=lambda c: c[c["n"] % 2 == 0]) as staged:
        assert staged._folder is None
        assert staged.rows == 3
        assert [c["n"].tolist() for c in staged] == [[0], [2], [4]]

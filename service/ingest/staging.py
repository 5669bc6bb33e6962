"""Read and check a whole file before the database is touched, keeping its chunks on disk.

On SQLite one writer at a time holds the database: an ingest that parsed inside its write
transaction starved every short write (an acknowledgement got a 503 after 30 s, `keys create`
waited 17 s). So the slow part — unpacking, parsing, checking — happens first, with no lock;
the checked chunks are pickled to a temporary folder (memory stays flat) and the write
transaction only merges and inserts them. A bad file is refused before any lock is taken.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from service.tempfiles import scratch_prefix


class StagedChunks:
    """Checked chunks kept on disk until the write transaction reads them back, once."""

    def __init__(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix=scratch_prefix("stage")))
        self._paths: list[Path] = []
        self.rows = 0

    def add(self, chunk: pd.DataFrame) -> None:
        path = self._folder / f"{len(self._paths):06d}.pickle"
        with path.open("wb") as out:
            pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
        self._paths.append(path)
        self.rows += len(chunk)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for path in self._paths:
            with path.open("rb") as handle:
                chunk: pd.DataFrame = pickle.load(handle)  # noqa: S301 - our own file
            path.unlink()
            yield chunk

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)

    def __enter__(self) -> StagedChunks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stage(
    chunks: Iterable[pd.DataFrame],
    progress: Callable[[int], None] | None = None,
    keep: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
) -> StagedChunks:
    """Read every chunk (raising the file's first error) and keep them on disk.

    `keep` picks the rows worth keeping (see `screen`); a chunk left empty is not kept.
    """
    staged = StagedChunks()
    try:
        for chunk in chunks:
            kept = keep(chunk) if keep is not None else chunk
            if len(kept):
                staged.add(kept)
            if progress:
                progress(len(chunk))
    except BaseException:
        staged.close()
        raise
    return staged

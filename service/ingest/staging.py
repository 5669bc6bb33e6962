"""Read and check a whole file before the database is touched, keeping its chunks.

On SQLite one writer at a time holds the database: an ingest that parsed inside its write
transaction starved every short write (an acknowledgement got a 503 after 30 s, `keys create`
waited 17 s). So the slow part — unpacking, parsing, checking — happens first, with no lock,
and the write transaction only merges and inserts the checked chunks. A bad file is refused
before any lock is taken. The first MEMORY_ROWS rows stay in memory (about 200 MB at most);
beyond, chunks are pickled to a temporary folder, so memory stays flat on huge files.
"""

from __future__ import annotations

import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pandas as pd

from service.tempfiles import scratch_prefix

# A checked row takes ~170 bytes (its id, codes and pointers to shared names): a million rows
# in memory cost less than pickling them to disk and back (~2 s), and stay well within 1 GB.
MEMORY_ROWS = 1_000_000


class StagedChunks:
    """Checked chunks kept until the write transaction takes them, once, in order: in memory
    up to `memory_rows` rows, pickled to a temporary folder beyond."""

    def __init__(self, memory_rows: int = MEMORY_ROWS) -> None:
        self._memory_rows = memory_rows
        self._folder: Path | None = None
        self._items: list[pd.DataFrame | Path] = []
        self._in_memory = 0
        self.rows = 0

    def add(self, chunk: pd.DataFrame) -> None:
        self.rows += len(chunk)
        if self._in_memory + len(chunk) <= self._memory_rows:
            self._items.append(chunk)
            self._in_memory += len(chunk)
            return
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix=scratch_prefix("stage")))
        path = self._folder / f"{len(self._items):06d}.pickle"
        with path.open("wb") as out:
            pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)
        self._items.append(path)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        items, self._items = self._items, []  # each chunk is let go once it is taken
        while items:
            item = items.pop(0)
            if isinstance(item, Path):
                with item.open("rb") as handle:
                    chunk: pd.DataFrame = pickle.load(handle)  # noqa: S301 - our own file
                item.unlink()
                yield chunk
            else:
                yield item
            del item

    def close(self) -> None:
        self._items = []
        if self._folder is not None:
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
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:  # a reader stopped early lets go of its file (and its thread)
            close()
    return staged

"""Two cores for one ingest: run a stage of the work in a thread, one item ahead.

The heavy steps of an ingest let go of the GIL for much of their time — pandas' CSV tokenizer,
SQLite's inserts, hashing — so a thread that prepares the next item while the caller works on
the current one uses the second core. `ahead()` keeps the order and the errors of the plain
loop: a failure in the thread is raised where the caller would have met it, after the items
before it. Stopping early (an error, a break) stops the thread before anything it uses is
closed. `gc_paused()` spares bulk work the garbage collector's rescans.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


class Ahead(Generic[T]):
    """Iterate `items` in a worker thread, at most `depth` items ahead of the caller."""

    def __init__(self, items: Iterable[T], depth: int = 1) -> None:
        self._items = items
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sahelcast-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as error:  # noqa: BLE001 - handed to the caller, in order
            self._put(_Failure(error))
        finally:
            close = getattr(self._items, "close", None)
            if close is not None:  # a generator's `finally` runs in its own thread
                close()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self) -> Ahead[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[T]:
        try:
            while True:
                item = self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    raise item.error
                yield item  # type: ignore[misc]
        finally:
            self.close()

    def close(self) -> None:
        """Stop the thread and wait for it (it may be blocked handing over an item)."""
        self._stop.set()
        while self._thread.is_alive():
            try:
                self._queue.get(timeout=0.1)
            except queue.Empty:
                pass
        self._thread.join()


def ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """The items of `items`, produced in a thread one step ahead of the caller."""
    return iter(Ahead(items, depth))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector during bulk work (reference counting still frees
    everything without cycles): building millions of row tuples otherwise sets off
    collections that rescan every live object, about 10 times slower."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()

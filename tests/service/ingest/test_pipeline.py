"""`Ahead`: a stage in a thread keeps the plain loop's order, errors and clean-up."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from service.ingest.pipeline import Ahead, ahead, gc_paused


def _numbers(n: int, fail_at: int | None = None, closed: list[str] | None = None) -> Iterator[int]:
    try:
        for i in range(n):
            if i == fail_at:
                raise ValueError(f"bad item {i}")
            yield i
    finally:
        if closed is not None:
            closed.append(threading.current_thread().name)


def test_items_come_in_order() -> None:
    assert list(ahead(_numbers(50))) == list(range(50))


def test_an_error_comes_after_the_items_before_it() -> None:
    seen: list[int] = []
    with pytest.raises(ValueError, match="bad item 3"):
        seen.extend(ahead(_numbers(10, fail_at=3)))
    assert seen == [0, 1, 2]


def test_stopping_early_closes_the_producer_before_returning() -> None:
    closed: list[str] = []
    with Ahead(_numbers(1000, closed=closed)) as items:
        for item in items:
            if item == 2:
                break
    assert closed == ["sahelcast-ahead"]  # the producer's `finally` ran, in its own thread
    assert not any(t.name == "sahelcast-ahead" for t in threading.enumerate())


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

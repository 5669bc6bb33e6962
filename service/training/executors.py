"""Where the work function runs: in-process, a local process pool, or a Dask cluster.

All three take the same pure function and the same tasks and yield results as they finish.
At most a few tasks per worker are in flight, so neither inputs nor results pile up in memory
however many series a run has.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from itertools import islice
from typing import Any, Literal, Protocol, TypeVar

from service.training.orphans import watch_owner

T = TypeVar("T")
R = TypeVar("R")
ExecutorName = Literal["inline", "processes", "dask"]
EXECUTORS: tuple[str, ...] = ("inline", "processes", "dask")
# Tasks in flight per worker: enough to keep workers busy while results are written.
IN_FLIGHT_PER_WORKER = 4
BLAS_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

log = logging.getLogger(__name__)


class Executor(Protocol):
    name: str
    workers: int

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Apply `fn` to every task, yielding results in completion order."""
        ...

    def close(self) -> None: ...


def default_workers(workers: int) -> int:
    return workers if workers > 0 else (os.cpu_count() or 1)


class InlineExecutor:
    """Runs tasks one after the other in this process (tests, debugging, tiny runs)."""

    name = "inline"
    workers = 1

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        pass


class ProcessExecutor:
    """A pool of worker processes on this machine.

    Workers start with `forkserver`, not `fork`: the run's lease heartbeat is a thread, and
    forking a threaded process can copy a held lock into the child. Each worker uses one BLAS
    thread: the fits are small, and two workers with two BLAS threads each on two cores ran
    three times slower than one thread each.
    """

    name = "processes"

    def __init__(self, workers: int = 0) -> None:
        self.workers = default_workers(workers)
        # Read by the fork server when it starts (it loads numpy before forking workers).
        for variable in BLAS_THREAD_VARIABLES:
            os.environ.setdefault(variable, "1")
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["service.training.worker"])
        # Workers exit when this process dies, even by kill -9 (see orphans).
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=watch_owner,
            initargs=(os.getpid(),),
        )

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        pending: set[Future[R]] = set()
        source = iter(tasks)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        while True:
            for task in islice(source, limit - len(pending)):
                pending.add(self._pool.submit(fn, task))
            if not pending:
                return
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """A `dask.distributed` cluster: an existing scheduler at `address`, or a local one.

    Workers of a remote cluster import `service.training.work`, so they need the sahelcast
    package (and its model dependencies) installed in the same version.
    """

    name = "dask"

    def __init__(self, address: str = "", workers: int = 0) -> None:
        from distributed import Client, LocalCluster

        self._cluster: Any = None
        if address:
            self._client = Client(address)
        else:
            self._cluster = LocalCluster(
                n_workers=default_workers(workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            self._client = Client(self._cluster)
        info = self._client.scheduler_info()
        self.workers = max(1, sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()))

    def map_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        from distributed import as_completed

        source = iter(tasks)
        limit = self.workers * IN_FLIGHT_PER_WORKER
        # pure=False: identical inputs (two empty series) must still both be computed.
        first = [self._client.submit(fn, task, pure=False) for task in islice(source, limit)]
        if not first:
            return
        queue = as_completed(first)
        for future in queue:
            result = future.result()
            future.release()
            nxt = next(source, None)
            if nxt is not None:
                queue.add(self._client.submit(fn, nxt, pure=False))
            yield result

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(name: str, *, workers: int = 0, dask_address: str = "") -> Executor:
    """Build the executor called `name` (inline, processes or dask)."""
    if name == "inline":
        return InlineExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(dask_address, workers)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {name!r}")

"""Run orchestration: take the lease, fit every selected series, write as results arrive, publish.

This is a job boundary: it opens and commits its own transactions. The run row is committed
first (status `running`, invisible to readers), results are committed in batches, and the
publication pointer is switched in one final transaction, so a reader sees either the old
run or the complete new one, and a killed process leaves the old one served.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.migrate import require_current
from service.series.repository import SeriesFilter, SeriesInfo
from service.training import repository as repo
from service.training.data import coverage_text, data_signature, load_series, select_series
from service.training.executors import make_executor
from service.training.lock import TRAINING_LOCK, Heartbeat, Lease, acquire
from service.training.orm import Run
from service.training.work import HORIZON, GroupTask, SeriesInput, train_group

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]  # (series done, series total)


class NothingToTrain(RuntimeError):
    """No series matches the filters with enough events inside coverage."""


class StaleData(RuntimeError):
    """The data did not advance since the published run (retrain with force)."""


@dataclass(frozen=True)
class TrainRequest:
    """What to train and how; the CLI, the weekly job and the tests build one."""

    filters: SeriesFilter = SeriesFilter()
    min_events: int = 10
    candidates: tuple[str, ...] = ()
    executor: str = "processes"
    workers: int = 0
    dask_address: str = ""
    force: bool = False
    batch_size: int = 200
    # Extra keyword arguments for models.selection.select_and_forecast (n_windows, step, ...).
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TrainRequest:
        base = cls(
            min_events=settings.train_min_events,
            candidates=settings.train_candidates,
            executor=settings.train_executor,
            workers=settings.train_workers,
            dask_address=settings.dask_address,
            batch_size=settings.train_batch_size,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(base, **given)

    def selection_params(self) -> dict[str, Any]:
        """What decides the result (not how it is computed): part of the data signature."""
        return {
            "filters": dataclasses.asdict(self.filters),
            "min_events": self.min_events,
            "candidates": list(self.candidates),
            "horizon": HORIZON,
            "options": self.options,
        }


@dataclass
class TrainOutcome:
    run_id: int
    n_series: int
    n_failed: int
    seconds: float
    coverage: str
    failures: list[tuple[str, str]] = field(default_factory=list)  # (series key, error)
    abandoned: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def pooling_group(info: SeriesInfo) -> str:
    """The group whose rainy-season effects are pooled: the series' key without its region.

    An actor's series pool across the regions where it is active (per event type for the
    finest level); region totals pool across a country's regions.
    """
    if info.actor is not None:
        parts = [info.source, info.level, info.actor, info.event_type or "*"]
    elif info.level == "region":
        parts = [info.source, info.level, info.country]
    else:
        parts = [info.source, info.level]
    return "|".join(parts)


def train(
    engine: Engine,
    settings: Settings,
    request: TrainRequest,
    *,
    progress: Progress | None = None,
    on_started: Callable[[int], None] | None = None,
) -> TrainOutcome:
    """Train and publish one run; raise LockHeld, StaleData or NothingToTrain to refuse."""
    require_current(engine)
    started = time.perf_counter()
    lease = acquire(engine, TRAINING_LOCK, settings.lock_lease_seconds)
    try:
        with Heartbeat(lease) as heartbeat:
            with session_scope(engine) as session:
                abandoned = repo.abandon_orphans(session)
            run_id, infos = _start_run(engine, request)
            if on_started is not None:
                on_started(run_id)
            try:
                n_failed, failures = _fit_all(engine, request, run_id, infos, progress)
                heartbeat.check()
                _publish(engine, run_id, lease, n_failed, len(infos), settings.run_retention)
            except BaseException as error:
                with session_scope(engine) as session:
                    repo.fail_run(session, run_id, f"{type(error).__name__}: {error}")
                raise
    finally:
        lease.release()
    return TrainOutcome(run_id, len(infos), n_failed, time.perf_counter() - started,
                        coverage_text(infos), failures, abandoned)  # fmt: skip


def _start_run(engine: Engine, request: TrainRequest) -> tuple[int, list[SeriesInfo]]:
    with session_scope(engine) as session:
        infos = select_series(session, request.filters, request.min_events)
        if not infos:
            raise NothingToTrain(
                f"no series matches the filters with at least {request.min_events} events "
                "inside coverage (lower --min-events or widen the filters)"
            )
        params = request.selection_params()
        signature = data_signature(session, infos, params)
        current = repo.published_run(session)
        if current is not None and current.data_signature == signature and not request.force:
            raise StaleData(
                f"the data did not advance since run {current.id} (published "
                f"{current.published_at:%Y-%m-%d %H:%M} UTC): same coverage "
                f"({coverage_text(infos)}), same counts and same selection; "
                "nothing to retrain (use --force to train anyway)"
            )
        run = repo.create_run(
            session,
            executor=request.executor,
            params={**params, "workers": request.workers, "force": request.force},
            signature=signature,
            n_series=len(infos),
        )
        return run.id, infos


def _tasks(
    engine: Engine, request: TrainRequest, infos: Sequence[SeriesInfo]
) -> Iterator[GroupTask]:
    """Yield one task per pooling group, reading the series' data a batch at a time.

    Largest groups first: a big group started last would leave the other workers idle.
    """
    groups: dict[str, list[SeriesInfo]] = {}
    for info in infos:
        groups.setdefault(pooling_group(info), []).append(info)
    ordered = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    candidates = request.candidates or None
    batch: list[tuple[str, list[SeriesInfo]]] = []
    size = 0
    for item in [*ordered, None]:
        if item is not None:
            batch.append(item)
            size += len(item[1])
        if batch and (item is None or size >= request.batch_size):
            with session_scope(engine) as session:
                data = load_series(session, [i for _, members in batch for i in members])
            for group, members in batch:
                series = tuple(
                    SeriesInput(i.id, i.key, i.country, i.region,
                                data[i.id].index[0].date().isoformat(),
                                tuple(float(v) for v in data[i.id].to_numpy()))
                    for i in members
                )  # fmt: skip
                yield GroupTask(group, series, candidates, HORIZON, request.options)
            batch, size = [], 0


def _fit_all(
    engine: Engine,
    request: TrainRequest,
    run_id: int,
    infos: Sequence[SeriesInfo],
    progress: Progress | None,
) -> tuple[int, list[tuple[str, str]]]:
    keys = {info.id: info.key for info in infos}
    executor = make_executor(
        request.executor, workers=request.workers, dask_address=request.dask_address
    )
    n_failed, done, failures = 0, 0, []
    buffer: list[dict[str, Any]] = []
    try:
        for results in executor.map_unordered(train_group, _tasks(engine, request, infos)):
            buffer.extend(results)
            for r in results:
                if r["status"] == repo.FAILED:
                    failures.append((keys[r["series_id"]], r["error"]))
            if len(buffer) >= request.batch_size:
                n_failed += _write(engine, run_id, buffer)
                done += len(buffer)
                buffer = []
            if progress is not None:
                progress(done + len(buffer), len(infos))
        n_failed += _write(engine, run_id, buffer)
    finally:
        executor.close()
    return n_failed, failures


def _write(engine: Engine, run_id: int, results: list[dict[str, Any]]) -> int:
    if not results:
        return 0
    with session_scope(engine) as session:
        return repo.write_results(session, run_id, results)


def _publish(
    engine: Engine, run_id: int, lease: Lease, n_failed: int, n_series: int, retention: int
) -> None:
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.n_failed = n_failed
        if n_failed == n_series:
            raise RuntimeError(f"every one of the {n_series} series failed; run not published")
        repo.publish(session, run, lease)
        trimmed = repo.apply_retention(session, retention)
    log.info("published run %s (%s series, %s failed); trimmed runs %s",
             run_id, n_series, n_failed, trimmed)  # fmt: skip

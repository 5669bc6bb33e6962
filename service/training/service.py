"""Run orchestration: take the lease, fit every panel in scope, write as results arrive, publish.

This is a job boundary: it opens and commits its own transactions. The run row is committed
first (status `running`, invisible to readers), results are committed in batches, and the
publication pointer is switched in one final transaction, so a reader sees either the old
run or the complete new one, and a killed process leaves the old one served.

A scoped run (`--actor JNIM`, `--country Mali`) fits the whole panels its series belong to
(the engine needs every bottom series of a tree to sum it up) but replaces only the series in
its scope: before publishing, the published run's results for every other series are copied
into the new run, so the published state is always the latest forecast of each series.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from models.panel.engine import PanelConfig, config_dict
from service.config import Settings
from service.db import session_scope
from service.forecasts.repository import published_row
from service.kit.lease import TRAINING_LOCK, Heartbeat, Lease, acquire
from service.measures import EVENTS, MEASURES, Measure
from service.migrate import require_current
from service.series.repository import SeriesFilter, SeriesInfo
from service.training import repository as repo
from service.training.data import (
    Catalogue,
    coverage_text,
    data_signature,
    read_catalogue,
    select_series,
)
from service.training.executors import make_executor
from service.training.orm import Run
from service.training.panels import load_panel, panel_names
from service.training.work import PanelTask, train_panel

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
    min_events: int = 1
    executor: str = "processes"
    workers: int = 0
    dask_address: str = ""
    force: bool = False
    config: PanelConfig = field(default_factory=PanelConfig)
    measure: Measure = EVENTS  # what the run forecasts; each measure has its own runs

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TrainRequest:
        base = cls(
            min_events=settings.train_min_events,
            executor=settings.train_executor,
            workers=settings.train_workers,
            dask_address=settings.dask_address,
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        return dataclasses.replace(base, **given)

    def selection_params(self) -> dict[str, Any]:
        """What decides the result (not how it is computed): part of the data signature."""
        return {
            "filters": dataclasses.asdict(self.filters),
            "min_events": self.min_events,
            "engine": config_dict(self.config),
            "measure": self.measure,
        }

    def scope(self) -> dict[str, str]:
        """The filters that limit the run, e.g. {'actor': 'JNIM'}; empty for a full run."""
        return {k: v for k, v in dataclasses.asdict(self.filters).items() if v}


@dataclass
class TrainOutcome:
    run_id: int
    n_series: int
    n_failed: int
    seconds: float
    coverage: str
    failures: list[tuple[str, str]] = field(default_factory=list)  # (series key, error)
    abandoned: list[int] = field(default_factory=list)
    scope: dict[str, str] = field(default_factory=dict)  # the filters of a scoped run
    carried: int = 0  # series a scoped run kept from the run it replaced
    measure: str = EVENTS

    def describe(self) -> str:
        """One line for the CLI and the job record."""
        scope = ""
        if self.scope:
            what = ", ".join(f"{k}={v}" for k, v in sorted(self.scope.items()))
            scope = f" (scope {what}; {self.carried} other series kept their forecasts)"
        return (
            f"{self.measure} run {self.run_id} published{scope}: {self.n_series} series, "
            f"{self.n_failed} failed, {self.seconds:.1f} s ({self.coverage})"
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class MeasuresOutcome:
    """What one training call did for each measure: a published run, or why not."""

    outcomes: list[TrainOutcome] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # measure -> why it was not retrained

    def published(self) -> str:
        """The short line: 'published events run 3, fatalities run 4'."""
        return "published " + ", ".join(f"{o.measure} run {o.run_id}" for o in self.outcomes)

    def describe(self) -> str:
        lines = [o.describe() for o in self.outcomes]
        lines += [f"{measure} not retrained: {why}" for measure, why in self.skipped.items()]
        return "; ".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The job record: the first run's id, every run by measure, the first failures (every
        one is on its run_series row)."""
        return {
            "run_id": self.outcomes[0].run_id if self.outcomes else None,
            "run_ids": {o.measure: o.run_id for o in self.outcomes},
            "n_series": max((o.n_series for o in self.outcomes), default=0),
            "n_failed": sum(o.n_failed for o in self.outcomes),
            "seconds": round(sum(o.seconds for o in self.outcomes), 3),
            "failures": [f for o in self.outcomes for f in o.failures][:50],
            "abandoned": [a for o in self.outcomes for a in o.abandoned],
            "skipped": self.skipped,
            "runs": [
                {k: v for k, v in o.to_dict().items() if k != "failures"} for o in self.outcomes
            ],
        }


def train_measures(
    engine: Engine,
    settings: Settings,
    request: TrainRequest,
    measures: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
    on_started: Callable[[int], None] | None = None,
) -> MeasuresOutcome:
    """Train and publish one run per measure (default: SAHELCAST_TRAIN_MEASURES), in turn.

    A measure whose data did not advance is skipped and said so (after an upgrade the
    fatalities have no run yet while the events' is current); StaleData is raised only when
    every measure is current. LockHeld and NothingToTrain stop the whole call.
    """
    chosen = [m for m in MEASURES if m in (measures or settings.train_measures)]
    result = MeasuresOutcome()
    require_current(engine)
    with session_scope(engine) as session:  # the catalogue, read once for every measure
        catalogue = read_catalogue(session)
    for k, measure in enumerate(chosen):
        step = None if progress is None else _offset(progress, k, len(chosen))
        try:
            result.outcomes.append(
                train(
                    engine,
                    settings,
                    dataclasses.replace(request, measure=measure),
                    progress=step,
                    on_started=on_started,
                    catalogue=catalogue,
                )
            )
        except StaleData as why:
            result.skipped[measure] = str(why)
    if not result.outcomes:
        raise StaleData("; ".join(result.skipped.values()))
    return result


def _offset(progress: Progress, k: int, n: int) -> Progress:
    """Report measure k of n as one bar: each measure is an equal share of the work."""
    return lambda done, total: progress(k * total + done, n * total)


def train(
    engine: Engine,
    settings: Settings,
    request: TrainRequest,
    *,
    progress: Progress | None = None,
    on_started: Callable[[int], None] | None = None,
    catalogue: Catalogue | None = None,
) -> TrainOutcome:
    """Train and publish one run of `request.measure`; raise LockHeld, StaleData or
    NothingToTrain to refuse. `catalogue`: the series as the caller read them (else read here,
    once for the run)."""
    require_current(engine)
    started = time.perf_counter()
    lease = acquire(engine, TRAINING_LOCK, settings.lock_lease_seconds)
    try:
        with Heartbeat(lease) as heartbeat:
            with session_scope(engine) as session:
                abandoned = repo.abandon_orphans(session)
            run_id, infos, previous, catalogue = _start_run(engine, request, catalogue)
            if on_started is not None:
                on_started(run_id)
            try:
                n_failed, failures = _fit_all(engine, request, run_id, infos, catalogue, progress)
                heartbeat.check()
                carried = _publish(
                    engine,
                    run_id,
                    lease,
                    n_failed,
                    len(infos),
                    settings.run_retention,
                    previous if request.scope() else None,
                )
            except BaseException as error:
                with session_scope(engine) as session:
                    repo.fail_run(session, run_id, f"{type(error).__name__}: {error}")
                raise
    finally:
        lease.release()
    return TrainOutcome(
        run_id,
        len(infos),
        n_failed,
        time.perf_counter() - started,
        coverage_text(infos),
        failures,
        abandoned,
        request.scope(),
        carried,
        request.measure,
    )


def _start_run(
    engine: Engine, request: TrainRequest, catalogue: Catalogue | None
) -> tuple[int, list[SeriesInfo], int | None, Catalogue]:
    with session_scope(engine) as session:
        catalogue = catalogue or read_catalogue(session)
        infos = select_series(session, request.filters, request.min_events, catalogue)
        if not infos:
            raise NothingToTrain(
                f"no series matches the filters with at least {request.min_events} events "
                "inside coverage (lower --min-events or widen the filters)"
            )
        params = request.selection_params()
        signature = data_signature(session, infos, params, catalogue)
        current = published_row(session, request.measure)
        if current is not None and current.data_signature == signature and not request.force:
            raise StaleData(
                f"the data did not advance since run {current.id} ({request.measure}, published "
                f"{current.published_at:%Y-%m-%d %H:%M} UTC): same coverage "
                f"({coverage_text(infos)}), same counts and same selection; "
                "nothing to retrain (use --force to train anyway)"
            )
        run = repo.create_run(
            session,
            measure=request.measure,
            executor=request.executor,
            params={
                **params,
                "workers": request.workers,
                "force": request.force,
                "scope": request.scope(),
            },
            signature=signature,
            n_series=len(infos),
        )
        return run.id, infos, current.id if current is not None else None, catalogue


def _tasks(
    engine: Engine,
    request: TrainRequest,
    infos: Sequence[SeriesInfo],
    everything: Sequence[SeriesInfo],
) -> Iterator[PanelTask]:
    """Yield one task per panel (source x country) that holds a series in scope.

    Each panel is read whole, with every series of both trees, whatever the filters: the
    engine sums bottom series up the trees. The scope decides what is published.
    """
    scope = frozenset(i.id for i in infos)
    names = panel_names(infos)
    learned = _events_dynamics(engine) if request.measure != EVENTS else {}
    for name in names:
        with session_scope(engine) as session:
            panel = load_panel(session, name, everything, request.measure)
        if panel is not None:
            yield PanelTask(panel, scope, request.config, learned.get(name))


def _events_dynamics(engine: Engine) -> dict[str, Any]:
    """What the published events run learned per panel (dynamics and the key of the data
    they were learned from): both measures learn on the events, so the other measures take
    them when the data are the same, instead of learning them again."""
    with session_scope(engine) as session:
        run = published_row(session, EVENTS)
        calibration = (run.calibration if run is not None else None) or {}
    return {name: c for name, c in calibration.items() if isinstance(c, dict) and "fit_key" in c}


def _fit_all(
    engine: Engine,
    request: TrainRequest,
    run_id: int,
    infos: Sequence[SeriesInfo],
    catalogue: Catalogue,
    progress: Progress | None,
) -> tuple[int, list[tuple[str, str]]]:
    keys = {info.id: info.key for info in infos}
    everything = [i for i in catalogue.infos if i.last_complete_month is not None]
    country_of = pd.Series({i.id: i.country for i in everything}, dtype=object)
    executor = make_executor(
        request.executor, workers=request.workers, dask_address=request.dask_address
    )
    n_failed, done = 0, 0
    failures: list[tuple[str, str]] = []
    calibration: dict[str, Any] = {}
    try:
        for output in executor.map_unordered(
            train_panel, _tasks(engine, request, infos, everything)
        ):
            calibration.update(output.calibration)
            failed = output.failed()
            failures.extend(
                (keys[int(sid)], str(error))
                for sid, error in zip(failed["series_id"], failed["error"], strict=True)
            )
            # one transaction per country: bounded writes, and progress a reader can see
            for part in output.by_country(country_of):
                with session_scope(engine) as session:
                    n_failed += repo.write_results(session, run_id, part)
                done += len(part.series)
                if progress is not None:
                    progress(done, len(infos))
        with session_scope(engine) as session:
            repo.record_calibration(session, run_id, calibration)
    finally:
        executor.close()
    return n_failed, failures


def _publish(
    engine: Engine,
    run_id: int,
    lease: Lease,
    n_failed: int,
    n_series: int,
    retention: int,
    carry_from: int | None,
) -> int:
    with session_scope(engine) as session:
        run = session.get(Run, run_id)
        assert run is not None
        run.n_failed = n_failed
        if n_failed == n_series:
            raise RuntimeError(f"every one of the {n_series} series failed; run not published")
        if carry_from is not None:
            run.n_carried = repo.carry_over(session, run_id, carry_from)
        carried = run.n_carried or 0
        repo.publish(session, run, lease)
        trimmed = repo.apply_retention(session, retention)
    log.info(
        "published run %s (%s series, %s failed); trimmed runs %s",
        run_id,
        n_series,
        n_failed,
        trimmed,
    )
    return carried

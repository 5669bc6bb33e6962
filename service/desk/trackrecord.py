"""The track record, per measure (events and deaths never share a score):

- *live*: every published run's forecasts scored once their months were observed (the
  anomalies domain's `accuracy_report`, run by run, gathered by the run's measure), overall,
  by horizon, by run and by hierarchy level;
- *backtest*: the published run's own rolling-origin backtest, by hierarchy level, beside the
  naive peers the engine scored on the same months (seasonal naive; no change), and the
  coverage of its intervals by horizon and level.

No forecast is scored anew here: the CRPS are the ones the runs and detection stored, gathered
(means weighted by the months each covers); interval coverage by horizon is counted from the
run's stored backtest forecasts and what was observed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from service.anomalies.repository import accuracy_report
from service.anomalies.schemas import Accuracy, RunAccuracy
from service.forecasts.repository import get_run, published_run_id
from service.measures import MEASURES
from service.series.orm import Series
from service.training.orm import BacktestForecast, RunSeries

PEERS = ("seasonal_naive", "poisson_last")  # as the engine names its naive peers
PEER_LABELS = {"seasonal_naive": "seasonal naive", "poisson_last": "no change"}
LEVELS = ("country", "country_type", "region", "region_type", "actor_country",
          "actor_region", "actor_region_type")  # fmt: skip


@dataclass
class MeasureRecord:
    """The live accuracy of one measure: overall, by horizon, by run, by hierarchy level."""

    measure: str
    overall: Accuracy
    by_horizon: list[tuple[int, Accuracy]] = field(default_factory=list)
    by_run: list[RunAccuracy] = field(default_factory=list)
    by_level: list[tuple[str, Accuracy]] = field(default_factory=list)


def _level_rank(level: str) -> int:
    return LEVELS.index(level) if level in LEVELS else len(LEVELS)


def _combine(parts: list[Accuracy]) -> Accuracy:
    """Accuracies over disjoint months as one: means weighted by their months."""
    n = sum(p.n for p in parts)
    if n == 0:
        return Accuracy(0, None, None, None)

    def mean(name: str) -> float | None:
        scored = [(p.n, getattr(p, name)) for p in parts if getattr(p, name) is not None]
        weight = sum(k for k, _ in scored)
        return sum(k * v for k, v in scored) / weight if weight else None

    return Accuracy(n, mean("crps"), mean("coverage_80"), mean("coverage_95"))


def live_by_measure(
    session: Session, *, run_id: int | None = None, series_id: int | None = None
) -> dict[str, MeasureRecord]:
    """Each measure's live accuracy (every measure present, empty when nothing is scored)."""
    whole = accuracy_report(session, run_id=run_id, series_id=series_id)
    runs: dict[str, list[RunAccuracy]] = defaultdict(list)
    for r in whole.by_run:
        run = get_run(session, r.run_id)
        runs[run.measure if run else "events"].append(r)
    out: dict[str, MeasureRecord] = {}
    for measure in MEASURES:
        counted = runs.get(measure, [])
        horizons: dict[int, list[Accuracy]] = defaultdict(list)
        levels: dict[str, list[Accuracy]] = defaultdict(list)
        for r in counted:
            one = accuracy_report(session, run_id=r.run_id, series_id=series_id)
            for h, accuracy in one.by_horizon:
                horizons[h].append(accuracy)
            for level, accuracy in one.by_level:
                levels[level].append(accuracy)
        out[measure] = MeasureRecord(
            measure,
            _combine([r.accuracy for r in counted]),
            [(h, _combine(parts)) for h, parts in sorted(horizons.items())],
            counted,
            [(lv, _combine(levels[lv])) for lv in sorted(levels, key=_level_rank)],
        )
    return out


@dataclass(frozen=True)
class ModelScore:
    """Mean backtest scores of one model over the series of a level (weighted by months)."""

    model: str
    label: str
    crps: float | None
    coverage_80: float | None
    coverage_95: float | None
    months: int


@dataclass
class LevelRecord:
    level: str
    series: int
    engine: ModelScore
    peers: list[ModelScore]

    @property
    def skill(self) -> dict[str, float | None]:
        """1 - engine CRPS / peer CRPS, per peer: above 0, the engine did better."""
        out: dict[str, float | None] = {}
        for p in self.peers:
            ok = self.engine.crps is not None and p.crps
            out[p.model] = 1 - self.engine.crps / p.crps if ok else None  # type: ignore[operator]
        return out


@dataclass(frozen=True)
class HorizonCoverage:
    level: str
    horizon: int
    months: int
    coverage_80: float
    coverage_95: float


@dataclass
class BacktestRecord:
    measure: str
    run_id: int | None
    by_level: list[LevelRecord] = field(default_factory=list)
    by_horizon: list[HorizonCoverage] = field(default_factory=list)


def backtest_record(session: Session, measure: str) -> BacktestRecord:
    """The published run of `measure`: its backtest scores by level beside the naive peers',
    and its intervals' coverage by horizon and level."""
    run_id = published_run_id(session, measure)
    record = BacktestRecord(measure, run_id)
    if run_id is None:
        return record
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0] * 4))
    engines: dict[str, str] = {}
    counts: dict[str, int] = defaultdict(int)
    rows = session.execute(
        select(Series.level, RunSeries.model, RunSeries.scores)
        .join(Series, Series.id == RunSeries.series_id)
        .where(RunSeries.run_id == run_id)
    )
    for level, model, scores in rows:
        if not model or not isinstance(scores, dict) or not isinstance(scores.get(model), dict):
            continue
        counts[level] += 1
        engines.setdefault(level, model)
        for name in (model, *PEERS):
            s = scores.get(name)
            if not isinstance(s, dict) or s.get("crps") is None:
                continue
            n = float(s.get("n") or 1)
            acc = sums[level]["engine" if name == model else name]
            acc[0] += n
            acc[1] += n * float(s["crps"])
            acc[2] += n * float(s.get("coverage_80") or 0.0)
            acc[3] += n * float(s.get("coverage_95") or 0.0)

    def score(level: str, key: str, label: str) -> ModelScore:
        n, crps, c80, c95 = sums[level][key]
        if n == 0:
            return ModelScore(key, label, None, None, None, 0)
        return ModelScore(key, label, crps / n, c80 / n, c95 / n, int(n))

    for level in sorted(counts, key=lambda v: LEVELS.index(v) if v in LEVELS else 99):
        engine = score(level, "engine", f"engine ({engines[level]})")
        peers = [score(level, p, PEER_LABELS[p]) for p in PEERS]
        record.by_level.append(LevelRecord(level, counts[level], engine, peers))
    b = BacktestForecast
    inside_80 = case(((b.observed >= b.q100) & (b.observed <= b.q900), 1.0), else_=0.0)
    inside_95 = case(((b.observed >= b.q025) & (b.observed <= b.q975), 1.0), else_=0.0)
    cells = session.execute(
        select(Series.level, b.horizon, func.count(), func.avg(inside_80), func.avg(inside_95))
        .join(Series, Series.id == b.series_id)
        .where(b.run_id == run_id)
        .group_by(Series.level, b.horizon)
    )
    record.by_horizon = sorted(
        (HorizonCoverage(level, int(h), int(n), float(c80), float(c95))
         for level, h, n, c80, c95 in cells),
        key=lambda c: (LEVELS.index(c.level) if c.level in LEVELS else 99, c.horizon),
    )  # fmt: skip
    return record

"""Read training runs: status, timings, the models they chose, and their backtest summary."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.api.repositories.results import PUBLICATION_ID, numeric_leaves
from service.training.orm import Publication, Run, RunSeries


@dataclass
class RunDetail:
    run: Run
    published: bool
    models: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    fit_seconds: float = 0.0
    backtest: dict[str, float] = field(default_factory=dict)
    backtest_series: int = 0


def published_run_id(session: Session) -> int | None:
    return session.scalar(select(Publication.run_id).where(Publication.id == PUBLICATION_ID))


def list_runs(
    session: Session, *, status: str | None, limit: int, offset: int
) -> tuple[list[Run], int]:
    query = select(Run)
    if status:
        query = query.where(Run.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    runs = session.scalars(query.order_by(Run.id.desc()).limit(limit).offset(offset))
    return list(runs), int(total)


def run_detail(session: Session, run_id: int) -> RunDetail | None:
    """A run with its per-model and per-status counts and the mean of its backtest scores."""
    run = session.get(Run, run_id)
    if run is None:
        return None
    detail = RunDetail(run=run, published=published_run_id(session) == run_id)
    models: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    sums: dict[str, float] = defaultdict(float)
    counts: Counter[str] = Counter()
    rows = session.execute(
        select(RunSeries.model, RunSeries.status, RunSeries.seconds, RunSeries.scores).where(
            RunSeries.run_id == run_id
        )
    )
    for model, status, seconds, scores in rows:
        models[model or "none"] += 1
        statuses[status] += 1
        detail.fit_seconds += float(seconds or 0.0)
        leaves = numeric_leaves(scores or {})
        # The chosen model's own scores, under `chosen.` (scores are keyed by candidate).
        if model and isinstance((scores or {}).get(model), dict):
            leaves.update(numeric_leaves(scores[model], "chosen."))
        if leaves:
            detail.backtest_series += 1
        for key, value in leaves.items():
            sums[key] += value
            counts[key] += 1
    detail.models = dict(models.most_common())
    detail.statuses = dict(sorted(statuses.items()))
    detail.backtest = {key: sums[key] / counts[key] for key in sorted(sums)}
    return detail

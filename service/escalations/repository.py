"""Queries of escalations: the series' place in their tree, the running escalation of a tree, and
the reads the API, the CLI and the alerts use (escalations with their parts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.anomalies.severity import SEVERITY_RANK
from service.escalations.orm import Escalation
from service.escalations.schemas import EscalationPart, EscalationRead
from service.escalations.state import LEVEL_RANK, Key, SeriesTree, State
from service.ingest.orm import Actor, Source
from service.measures import MEASURES
from service.series.orm import Series
from service.series.repository import SeriesLabel, labelled


def series_trees(session: Session, ids: Iterable[int]) -> dict[int, SeriesTree]:
    wanted = sorted({int(i) for i in ids})
    out: dict[int, SeriesTree] = {}
    for start in range(0, len(wanted), 1000):
        rows = session.execute(
            select(Series.id, Series.level, Series.source_id, Series.country, Series.actor_id,
                   Series.region_id).where(Series.id.in_(wanted[start : start + 1000]))
        )  # fmt: skip
        out.update({row.id: SeriesTree(*row) for row in rows})
    return out


def _key_terms(key: Key) -> list[ColumnElement[bool]]:
    origin, source_id, country, tree, actor_id, direction = key
    actor = Escalation.actor_id.is_(None) if actor_id is None else Escalation.actor_id == actor_id
    terms = [Escalation.origin == origin, Escalation.source_id == source_id,
             Escalation.tree == tree, actor, Escalation.direction == direction]  # fmt: skip
    if country is not None:
        terms.append(Escalation.country == country)
    return terms


def adjacent_escalation(
    session: Session, key: Key, before: dt.date, after: dt.date
) -> Escalation | None:
    """The tree's latest escalation that touches the months `before`..`after` (a month joins
    the escalation that includes it or the month before or after it)."""
    return session.scalar(
        select(Escalation)
        .where(*_key_terms(key), Escalation.last_month >= before, Escalation.first_month <= after)
        .order_by(Escalation.last_month.desc(), Escalation.id.desc())
        .limit(1)
    )


def escalation_state(
    session: Session, escalation: Escalation, trees: dict[int, SeriesTree]
) -> State:
    """What an escalation's stored parts have shown (adds their series to `trees`)."""
    rows = session.execute(
        select(Anomaly.series_id, Anomaly.severity, Anomaly.measure)
        .where(Anomaly.escalation_id == escalation.id)
    ).all()  # fmt: skip
    missing = {sid for sid, _, _ in rows} - set(trees)
    trees.update(series_trees(session, missing))
    state = State()
    for series_id, severity, measure in rows:
        state.add(trees[series_id], severity, measure)
    return state


@dataclass(frozen=True)
class EscalationFilter:
    """Filters of `list_escalations` (None means any)."""

    origin: str | None = "live"  # backtest escalations are evaluation history: asked for
    country: str | None = None
    actor: str | None = None
    since: dt.date | None = None  # escalations still running on or after this month
    min_severity: str | None = None


def _terms(filters: EscalationFilter) -> list[ColumnElement[bool]]:
    terms: list[ColumnElement[bool]] = []
    if filters.origin:
        terms.append(Escalation.origin == filters.origin)
    if filters.country:
        # Its own country, or any country it reaches (an actor's escalation crosses borders).
        wanted = filters.country.casefold()
        reaches = (
            select(Anomaly.escalation_id).join(Series, Series.id == Anomaly.series_id)
            .where(func.lower(Series.country) == wanted)
        )  # fmt: skip
        terms.append(or_(func.lower(Escalation.country) == wanted, Escalation.id.in_(reaches)))
    if filters.actor:
        named = select(Actor.id).where(func.lower(Actor.name) == filters.actor.casefold())
        terms.append(Escalation.actor_id.in_(named))
    if filters.since:
        terms.append(Escalation.last_month >= filters.since)
    if filters.min_severity:
        from service.anomalies.severity import at_least

        terms.append(Escalation.severity.in_(at_least(filters.min_severity)))
    return terms


def list_escalations(
    session: Session, filters: EscalationFilter | None = None, *, limit: int = 100, offset: int = 0
) -> tuple[list[EscalationRead], int]:
    """One page of escalations, the latest first, with their parts; and the total."""
    query = select(Escalation.id).where(*_terms(filters or EscalationFilter()))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ids = list(session.scalars(
        query.order_by(Escalation.last_month.desc(), Escalation.id.desc())
        .limit(limit).offset(offset)))  # fmt: skip
    return escalation_reads(session, ids), int(total)


def get_escalation(session: Session, escalation_id: int) -> EscalationRead | None:
    found = escalation_reads(session, [escalation_id])
    return found[0] if found else None


def escalation_reads(session: Session, ids: Sequence[int]) -> list[EscalationRead]:
    """Escalations with their parts (series and months), in the order of `ids`."""
    if not ids:
        return []
    rows = session.execute(
        select(Escalation, Source.name, Actor.name)
        .join(Source, Source.id == Escalation.source_id)
        .outerjoin(Actor, Actor.id == Escalation.actor_id)
        .where(Escalation.id.in_(list(ids)))
    ).all()
    anomalies = session.execute(
        labelled().add_columns(Anomaly).join(Anomaly, Anomaly.series_id == Series.id)
        .where(Anomaly.escalation_id.in_(list(ids)))
        .order_by(Anomaly.month, Anomaly.series_id)
    ).all()  # fmt: skip
    parts: dict[int, dict[tuple[int, str], list[Any]]] = {}
    for row in anomalies:
        labels: list[Any] = list(row)
        anomaly: Anomaly = labels.pop()
        assert anomaly.escalation_id is not None
        by_series = parts.setdefault(anomaly.escalation_id, {})
        key = (anomaly.series_id, anomaly.measure)
        by_series.setdefault(key, [SeriesLabel(*labels)]).append(anomaly)
    reads = {
        e.id: EscalationRead.of(e, source, actor, _parts(parts.get(e.id, {})))
        for e, source, actor in rows
    }
    return [reads[i] for i in ids if i in reads]


def _parts(by_series: dict[tuple[int, str], list[Any]]) -> list[EscalationPart]:
    out = []
    for label, *anomalies in by_series.values():
        worst = max(anomalies, key=lambda a: SEVERITY_RANK[a.severity])
        out.append(EscalationPart(
            series=label, measure=worst.measure, months=[a.month for a in anomalies],
            anomaly_ids=[a.id for a in anomalies], severity=worst.severity,
            observed=[a.observed for a in anomalies], expected=[a.expected for a in anomalies],
        ))  # fmt: skip
    # Broadest level first, as the alert reads: country, then regions, then region × type;
    # events before deaths.
    out.sort(key=lambda p: (-LEVEL_RANK.get(p.series.level, 0), p.series.key,
                            MEASURES.index(p.measure)))  # fmt: skip
    return out

"""Group flagged series-months into escalations, so one surge seen at every level alerts once.

A surge in one region is flagged at its region × event type series, at the region and at the
country: three anomalies of one tree. Anomalies of one tree (a source and country's geography
series, or one actor's series there), one direction and consecutive (or equal) months form one
escalation. Its headline is the highest level where it is significant (country > region >
region × type). Exactly one of its anomalies carries the alert when it opens, and one more each
time it escalates: a worse severity, a region whose total is flagged for the first time in it,
a higher headline level, or a new measure (deaths flagged where events were, or the reverse).
Every other anomaly of the escalation is not alert-worthy, whatever its own series' episode says.
An actor's escalation is one across countries (its `country` is where it started). Backtest
escalations are evaluation history: they never alert and count no alerts.
Functions only flush.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.anomalies.severity import SEVERITY_ORDER, SEVERITY_RANK
from service.escalations import repository as repo
from service.escalations.orm import Escalation
from service.escalations.state import GEOGRAPHY, LEVEL_RANK, Key, SeriesTree, State, tree_of
from service.kit.months import next_month, previous_month
from service.kit.time import utcnow

LIVE = "live"


def _rank(anomaly: Anomaly, tree: SeriesTree) -> tuple[int, int, int]:
    """How well an anomaly speaks for its escalation: broadest level, then worst, then largest."""
    return (LEVEL_RANK.get(tree.level, 0), SEVERITY_RANK[anomaly.severity], anomaly.observed)


def group(session: Session, anomalies: Sequence[Anomaly]) -> list[Escalation]:
    """Put newly flagged `anomalies` into escalations (new or running) and set their `alert`:
    True on the one anomaly that opens or escalates an escalation (its latest such month when
    several months arrive together), else False.

    Returns the escalations that opened or escalated (each is one alert).
    """
    if not anomalies:
        return []
    trees = repo.series_trees(session, {a.series_id for a in anomalies})
    by_key: dict[Key, list[Anomaly]] = {}
    for anomaly in anomalies:
        t = trees[anomaly.series_id]
        # An actor's escalation crosses borders: one escalation, whatever countries it spans.
        country = t.country if tree_of(t) == GEOGRAPHY else None
        key = (anomaly.origin, t.source_id, country, tree_of(t), t.actor_id, anomaly.direction)
        by_key.setdefault(key, []).append(anomaly)
    raised: list[Escalation] = []
    for key, members in by_key.items():
        raised.extend(_group_tree(session, key, members, trees))
    session.flush()
    return raised


def _group_tree(
    session: Session, key: Key, members: list[Anomaly], trees: dict[int, SeriesTree]
) -> list[Escalation]:
    origin, source_id, country, tree, actor_id, direction = key
    months = sorted({a.month for a in members})
    current: Escalation | None = None
    state = State()
    raised: list[Escalation] = []
    # Months that arrive together (a catch-up ingest) escalate an escalation at most once: the
    # alert moves to its latest escalating month, and receivers get one message with all of it.
    carriers: dict[int, Anomaly] = {}
    for month in months:
        batch = [a for a in members if a.month == month]
        if current is None or not _adjacent(current, month):
            # Months may arrive out of order (the backtest scan goes through the series in
            # chunks): look for a stored escalation of the tree that this month touches.
            current = repo.adjacent_escalation(session, key, previous_month(month),
                                               next_month(month))  # fmt: skip
            state = repo.escalation_state(session, current, trees) if current else State()
        if current is None:
            current = Escalation(
                origin=origin, source_id=source_id, tree=tree,
                country=country or trees[batch[0].series_id].country,
                actor_id=actor_id, direction=direction, first_month=month, last_month=month,
                headline_level="", headline_series_id=batch[0].series_id, severity="low",
                parts=0, alerts=0,
            )  # fmt: skip
            session.add(current)
            session.flush()
            state = State()
        after = _absorb(current, state, batch, trees)
        for anomaly in batch:
            anomaly.alert = False
        if origin != LIVE:
            pass  # evaluation history: nothing is sent, nothing is counted as alerted
        elif state.beaten_by(after):
            carrier = max(batch, key=lambda a: _rank(a, trees[a.series_id]))
            carrier.alert = True
            earlier = carriers.get(current.id)
            if earlier is None:
                current.alerts += 1
                raised.append(current)
            else:
                earlier.alert = False
            carriers[current.id] = carrier
        state = after
    return raised


def _adjacent(escalation: Escalation, month: dt.date) -> bool:
    """Whether `month` is inside an escalation's span or next to it."""
    before, after = previous_month(month), next_month(month)
    return escalation.first_month <= after and escalation.last_month >= before


def _absorb(
    escalation: Escalation, state: State, batch: list[Anomaly], trees: dict[int, SeriesTree]
) -> State:
    """Add one month's anomalies to `escalation`; return its state with them."""
    after = state.copy()
    best = max(batch, key=lambda a: _rank(a, trees[a.series_id]))
    best_level = LEVEL_RANK.get(trees[best.series_id].level, 0)
    if best_level > after.headline or (
        best_level == after.headline and SEVERITY_RANK[best.severity] > after.severity
    ):
        escalation.headline_level = trees[best.series_id].level
        escalation.headline_series_id = best.series_id
    for anomaly in batch:
        anomaly.escalation_id = escalation.id
        after.add(trees[anomaly.series_id], anomaly.severity, anomaly.measure)
    escalation.severity = SEVERITY_ORDER[after.severity - 1]
    escalation.first_month = min(escalation.first_month, batch[0].month)
    escalation.last_month = max(escalation.last_month, batch[0].month)
    escalation.parts += len(batch)
    escalation.updated_at = utcnow()
    return after

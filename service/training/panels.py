"""Panels of series as the engine sees them: one per source and country, both trees in it.

A panel holds the bottom series of both trees (region x event type, actor x region x event
type) with their monthly counts inside coverage; the engine sums them up into every other
level, so a panel's roll-ups are never fitted on their own. Older databases without region x
event type series use the region totals as the geography tree's bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from models.panel.tree import ACTOR, GEOGRAPHY
from service.series.repository import SeriesInfo
from service.training.data import load_matrix

ACTOR_LEVELS = ("actor_region_type", "actor_region", "actor_country")
GEO_LEVELS = ("region_type", "region", "country")
NodeKey = tuple[str, str | None, str | None, str | None]  # level, actor, region, event type


@dataclass(frozen=True)
class PanelData:
    """One panel's input to the engine (small and picklable: it travels to workers)."""

    name: str  # source|country
    country: str
    labels: pd.DataFrame  # uid (series id), tree, actor, region, event_type
    y: np.ndarray  # (n_bottoms, n_months)
    start: str  # first month, YYYY-MM-DD
    series_ids: dict[NodeKey, int]  # every series of the panel by its node key


def node_key(level: str, actor: object, region: object, event_type: object) -> NodeKey:
    def clean(v: object) -> str | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    return (level, clean(actor), clean(region), clean(event_type))


def panel_names(infos: Sequence[SeriesInfo]) -> list[str]:
    return sorted({f"{i.source}|{i.country}" for i in infos})


def bottoms_of(infos: Sequence[SeriesInfo]) -> list[SeriesInfo]:
    """The bottom series of both trees among `infos` (one panel's series).

    Each tree (the geography, and each actor's) starts at its finest level present: region x
    event type where ingest made them, else region totals, else the country total.
    """
    chosen: list[SeriesInfo] = []
    trees: dict[str | None, list[SeriesInfo]] = {}
    for info in infos:
        trees.setdefault(info.actor, []).append(info)
    for actor, members in trees.items():
        order = ACTOR_LEVELS if actor else GEO_LEVELS
        for level in order:
            found = [i for i in members if i.level == level]
            if found:
                chosen.extend(found)
                break
    return sorted(chosen, key=lambda i: i.id)


def load_panel(
    session: Session, name: str, infos: Sequence[SeriesInfo], measure: str = "events"
) -> PanelData | None:
    """Read one panel's bottoms (their events or their fatalities); None when it has none with
    coverage."""
    members = [i for i in infos if f"{i.source}|{i.country}" == name]
    bottoms = [i for i in bottoms_of(members) if i.last_complete_month is not None]
    if not bottoms:
        return None
    months, y = load_matrix(session, bottoms, measure)
    start = months[0]
    labels = pd.DataFrame({
        "uid": [i.id for i in bottoms],
        "tree": [ACTOR if i.actor else GEOGRAPHY for i in bottoms],
        "actor": [i.actor for i in bottoms],
        "region": [i.region for i in bottoms],
        "event_type": [i.event_type for i in bottoms],
        "level": [i.level for i in bottoms],
    })  # fmt: skip
    ids = {node_key(i.level, i.actor, i.region, i.event_type): i.id for i in members}
    return PanelData(name, members[0].country, labels, y, start.date().isoformat(), ids)

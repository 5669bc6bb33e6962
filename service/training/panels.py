"""Panels of series as the engine sees them: one per source, every country in it.

A panel holds the bottom series of both trees of each country (region x event type, actor x
region x event type) with their monthly counts inside coverage; the engine sums them up into
every other level, so a panel's roll-ups are never fitted on their own. One panel holds all a
source's countries so that an actor active in several (JNIM in Mali and Burkina Faso) shares
its season effect and every level's dynamics are learned across countries; each country keeps
its own trees. Older databases without region x event type series use the region totals as
the geography tree's bottom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from models.panel.tree import ACTOR, GEOGRAPHY
from service.series.repository import SeriesInfo
from service.training.data import load_matrices

ACTOR_LEVELS = ("actor_region_type", "actor_region", "actor_country")
GEO_LEVELS = ("region_type", "region", "country")
# country, level, actor, region, event type
NodeKey = tuple[str, str, str | None, str | None, str | None]


@dataclass(frozen=True)
class PanelData:
    """One panel's input to the engine (small and picklable: it travels to workers)."""

    name: str  # the source
    labels: pd.DataFrame  # uid (series id), country, tree, actor, region, event_type, level
    y: np.ndarray  # events (n_bottoms, n_months)
    deaths: np.ndarray | None  # deaths, when the panel forecasts them
    start: str  # first month, YYYY-MM-DD
    series_ids: dict[NodeKey, int]  # every series of the panel by its node key

    @property
    def countries(self) -> list[str]:
        return sorted(self.labels["country"].unique())


def node_key(
    country: object, level: str, actor: object, region: object, event_type: object
) -> NodeKey:
    def clean(v: object) -> str | None:
        return None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    return (str(country), level, clean(actor), clean(region), clean(event_type))


def panel_names(infos: Sequence[SeriesInfo]) -> list[str]:
    """One panel per source."""
    return sorted({i.source for i in infos})


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
    """Read one source's bottoms in every country: their events, and their deaths when the
    panel forecasts deaths (events x deaths per event); None when it has none with coverage."""
    members = [i for i in infos if i.source == name]
    bottoms: list[SeriesInfo] = []
    for country in sorted({i.country for i in members}):
        in_country = [i for i in members if i.country == country]
        bottoms += [i for i in bottoms_of(in_country) if i.last_complete_month is not None]
    if not bottoms:
        return None
    wanted = ("events", "fatalities") if measure == "fatalities" else ("events",)
    months, values = load_matrices(session, bottoms, wanted)
    start = months[0]
    labels = pd.DataFrame(
        {
            "uid": [i.id for i in bottoms],
            "country": [i.country for i in bottoms],
            "tree": [ACTOR if i.actor else GEOGRAPHY for i in bottoms],
            "actor": [i.actor for i in bottoms],
            "region": [i.region for i in bottoms],
            "event_type": [i.event_type for i in bottoms],
            "level": [i.level for i in bottoms],
        }
    )
    ids = {node_key(i.country, i.level, i.actor, i.region, i.event_type): i.id for i in members}
    return PanelData(
        name, labels, values["events"], values.get("fatalities"), start.date().isoformat(), ids
    )

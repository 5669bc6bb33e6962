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
# What names a node of a panel: its country and level, and its labels (empty where it sums).
NODE_LABELS = ["country", "level", "actor", "region", "event_type"]


@dataclass(frozen=True)
class PanelData:
    """One panel's input to the engine (small and picklable: it travels to workers)."""

    name: str  # the source
    labels: pd.DataFrame  # uid (series id), country, tree, actor, region, event_type, level
    y: np.ndarray  # events (n_bottoms, n_months)
    deaths: np.ndarray | None  # deaths, when the panel forecasts them
    start: str  # first month, YYYY-MM-DD
    ids: pd.DataFrame  # every series of the panel: NODE_LABELS (None as "") and `series_id`

    @property
    def countries(self) -> list[str]:
        return sorted(self.labels["country"].unique())

    def series_of(self, nodes: pd.DataFrame) -> pd.Series:
        """The series id of each of the engine's nodes (-1 for none), in the nodes' order.

        A bottom's id travels through the engine with it (`uid`); a roll-up, which the engine
        makes, is found by its labels.
        """
        found = _blank(nodes[NODE_LABELS]).merge(self.ids, how="left", on=NODE_LABELS)
        uid = pd.to_numeric(nodes["uid"], errors="coerce").to_numpy()
        by_labels = found["series_id"].to_numpy(dtype=float)
        sid = np.where(np.isnan(uid), by_labels, uid)
        return pd.Series(np.nan_to_num(sid, nan=-1).astype(np.int64), index=nodes.index)


def _blank(labels: pd.DataFrame) -> pd.DataFrame:
    """Labels as text, a missing one as "" (None and NaN alike), so that frames join on them."""
    return labels.astype(object).where(labels.notna(), "").astype(str)


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
    ids = (
        _blank(
            pd.DataFrame(
                [(i.country, i.level, i.actor, i.region, i.event_type) for i in members],
                columns=NODE_LABELS,
            )
        )
        .assign(series_id=[i.id for i in members])
        .drop_duplicates(NODE_LABELS, keep="last")
    )
    return PanelData(
        name, labels, values["events"], values.get("fatalities"), start.date().isoformat(), ids
    )

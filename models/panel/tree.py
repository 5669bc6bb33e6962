"""The two additive trees of a panel (one source, one country) and their summing matrix.

Geography: region x event type -> region -> country (each event once), and beside that tree
country x event type, the sum of a country's region x event type bottoms of one event type
over its regions. The summing matrix is therefore a grouped structure, not a tree: a bottom
sums into its region and into its country x event type, both of which sum into the country.
Per actor: actor x region x event type -> actor x region -> actor x country (an event counts
once for each actor it involves, so the actor tree's country total is not the geography's).

Bottom series come in a frame with columns `uid, tree, actor, region, event_type` and
optionally `level` and `country` (a panel may hold several countries: each has its own
trees); the tree is "geography" (actor empty) or "actor". A bottom without an
event type is a region total (older databases have no region x event type series), one
without a region a country total: its tree starts at that level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

GEOGRAPHY, ACTOR = "geography", "actor"
BOTTOM_LEVEL = {GEOGRAPHY: "region_type", ACTOR: "actor_region_type"}
MIDDLE_LEVEL = {GEOGRAPHY: "region", ACTOR: "actor_region"}
TOP_LEVEL = {GEOGRAPHY: "country", ACTOR: "actor_country"}
# Grouped (not nested) levels: name -> the bottom level it sums, over regions, per event type.
CROSS_LEVEL = {GEOGRAPHY: "country_type"}
NODE_COLUMNS = ("country", "tree", "level", "actor", "region", "event_type")


@dataclass(frozen=True)
class Trees:
    """Every node of both trees, how bottoms sum into them, and the pooling groups."""

    nodes: pd.DataFrame  # NODE_COLUMNS + `bottom` (bottom index or -1) + `uid` for bottoms
    summing: sparse.csr_matrix  # (n_nodes, n_bottoms) 0/1
    middle: np.ndarray  # (n_bottoms,) middle group index (global across both trees)
    top_of_middle: np.ndarray  # (n_middle,) top group index
    middle_node: np.ndarray  # (n_middle,) node index of each middle group
    top_node: np.ndarray  # (n_top,) node index of each top group
    cross_node: np.ndarray  # node index of each country x event type (grouped, not nested)


DEPTH = {
    "region_type": 3,
    "actor_region_type": 3,
    "region": 2,
    "actor_region": 2,
    "country": 1,
    "actor_country": 1,
}


def bottom_level(tree: str, region: object, event_type: object) -> str:
    """The level of a bottom series from its labels (when the caller gives none)."""
    if _blank(region):
        return TOP_LEVEL[tree]
    return MIDDLE_LEVEL[tree] if _blank(event_type) else BOTTOM_LEVEL[tree]


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _members(group: np.ndarray, n: int) -> list[np.ndarray]:
    """The row indices of each group 0..n-1, ascending (one sort, not a scan per group)."""
    order = np.argsort(group, kind="stable")
    return np.split(order, np.cumsum(np.bincount(group, minlength=n))[:-1])


def build_trees(bottoms: pd.DataFrame) -> Trees:
    """Build the nodes of both trees from the bottom series' labels.

    A bottom may sit above the usual bottom level (a region total where no region x event
    type series exist, or an actor's country total): its tree then starts there.
    """
    b = bottoms.reset_index(drop=True)
    actor = b["actor"].where(b["tree"] == ACTOR, None)
    levels = (
        b["level"].tolist()
        if "level" in b
        else [
            bottom_level(t, r, e)
            for t, r, e in zip(b["tree"], b["region"], b["event_type"], strict=True)
        ]
    )
    depth = np.array([DEPTH[lv] for lv in levels])
    country = b["country"] if "country" in b else pd.Series([None] * len(b))
    place = country.fillna("").astype(str) + "|"
    top_key = place + np.where(b["tree"] == ACTOR, "A|" + actor.fillna("").astype(str), "G|")
    region = b["region"].where(depth >= 2, None).fillna("").astype(str)
    mid_key = top_key + "|" + region
    # a bottom at the top level is its own middle group (a group of one)
    mid_key = np.where(depth == 1, mid_key + "|#" + np.arange(len(b)).astype(str), mid_key)
    tops, top_idx = np.unique(top_key, return_inverse=True)
    mids, mid_idx = np.unique(mid_key, return_inverse=True)
    top_of_middle = np.zeros(len(mids), dtype=int)
    top_of_middle[mid_idx] = top_idx

    rows: list[dict[str, object]] = []
    members: list[np.ndarray] = []
    for i, r in enumerate(b.itertuples(index=False)):
        rows.append(
            {
                "country": country[i],
                "tree": r.tree,
                "level": levels[i],
                "actor": actor[i],
                "region": r.region if depth[i] >= 2 else None,
                "event_type": r.event_type if depth[i] == 3 else None,
                "bottom": i,
                "uid": r.uid,
            }
        )
        members.append(np.array([i]))
    middle_node = np.full(len(mids), -1)
    for m, idx in enumerate(_members(mid_idx, len(mids))):
        first = idx[0]
        tree = b.at[first, "tree"]
        if depth[first] < 3:
            middle_node[m] = first  # the bottom already is the middle (or top) series
            continue
        middle_node[m] = len(rows)
        rows.append(
            {
                "country": country[first],
                "tree": tree,
                "level": MIDDLE_LEVEL[tree],
                "actor": actor[first],
                "region": b.at[first, "region"],
                "event_type": None,
                "bottom": -1,
                "uid": None,
            }
        )
        members.append(idx)
    top_node = np.full(len(tops), -1)
    for g, idx in enumerate(_members(top_idx, len(tops))):
        tree = b.at[idx[0], "tree"]
        if (depth[idx] == 1).all():
            top_node[g] = idx[0]
            continue
        top_node[g] = len(rows)
        rows.append(
            {
                "country": country[idx[0]],
                "tree": tree,
                "level": TOP_LEVEL[tree],
                "actor": actor[idx[0]],
                "region": None,
                "event_type": None,
                "bottom": -1,
                "uid": None,
            }
        )
        members.append(idx[depth[idx] >= 2])
    cross_node = _cross_nodes(b, country, depth, rows, members)
    r_idx = np.concatenate([np.full(len(m), k) for k, m in enumerate(members)])
    c_idx = np.concatenate(members)
    summing = sparse.csr_matrix(
        (np.ones(len(r_idx), dtype=np.float32), (r_idx, c_idx)), shape=(len(rows), len(b))
    )
    return Trees(
        pd.DataFrame(rows), summing, mid_idx, top_of_middle, middle_node, top_node, cross_node
    )


def _cross_nodes(
    b: pd.DataFrame,
    country: pd.Series,
    depth: np.ndarray,
    rows: list[dict[str, object]],
    members: list[np.ndarray],
) -> np.ndarray:
    """Append a country x event type node per (country, event type) of the geography
    bottoms that have one (region x event type), summing them over regions; return their
    node indices. A country whose geography starts at region totals has none."""
    cross = np.flatnonzero((b["tree"] == GEOGRAPHY).to_numpy() & (depth == 3))
    if not len(cross):
        return np.zeros(0, dtype=int)
    key = (
        country.iloc[cross].fillna("").astype(str).to_numpy()
        + "|"
        + b["event_type"].iloc[cross].astype(str).to_numpy()
    )
    groups, group_idx = np.unique(key, return_inverse=True)
    out = np.zeros(len(groups), dtype=int)
    for g, idx in enumerate(_members(group_idx, len(groups))):
        first = cross[idx[0]]
        out[g] = len(rows)
        rows.append(
            {
                "country": country[first],
                "tree": GEOGRAPHY,
                "level": CROSS_LEVEL[GEOGRAPHY],
                "actor": None,
                "region": None,
                "event_type": b.at[first, "event_type"],
                "bottom": -1,
                "uid": None,
            }
        )
        members.append(cross[idx])
    return out

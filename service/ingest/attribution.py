"""Which armed actors an event counts for: ACLED's codebook semantics, per chunk of events.

An event has two sides: `actor1` with its associated actors (`assoc_actor_1`, a `; ` list) and
`actor2` with `assoc_actor_2`. Each side has an actor type (`inter1`, `inter2`; see
`actortypes`). Only a side of an armed type makes actor series; the names on the others (who
was hit: civilians with their labour group, pastoralists, ethnic group…; protesters; rioters)
stay on the event. When a file gives no type (older exports, empty fields), the *name rule*
decides: a side whose primary actor is ACLED's generic `Civilians (…)`, `Protesters (…)` or
`Rioters (…)` is not armed, any other side is. On every side, alias rows with `count=no` still
drop single names (women, an ethnic group…).

An ambiguous attribution ("A and/or B") counts for neither A nor B: the event keeps a flag and
the names are kept as *mentions*, so each actor series can say how many such events name it.
Work is done once per distinct (name, country, armed) triple, never per row in Python.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from service.ingest.actortypes import ARMED_DEFAULT, NOT_GIVEN
from service.ingest.normalize import ACTOR_ROLES, ACTOR_ROLES_DEFAULT, LIST_ROLES, Normalizer
from service.ingest.readers.checks import clean_name

EVENT_ACTOR_COLUMNS: tuple[str, ...] = ("source_event_id", "actor", "role")
SIDE_OF_ROLE = {
    "actor1": "inter1",
    "assoc_actor_1": "inter1",
    "actor2": "inter2",
    "assoc_actor_2": "inter2",
}
PRIMARY_OF_SIDE = {"inter1": "actor1", "inter2": "actor2"}
# The name rule for sides without a type: ACLED names these actors "Civilians (Mali)" etc.
NOT_ARMED_NAME = re.compile(r"(Civilians|Protesters|Rioters)( \(.*\))?", re.IGNORECASE)
# ACLED writes an attribution it cannot settle as "A and/or B".
AMBIGUOUS = re.compile(r"\s+and/or\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Pairs:
    """(event row, actor, role) triples as positions: rows of the chunk, codes into `actors`
    and into `roles` (no per-row strings: a million events make two million of them)."""

    rows: np.ndarray
    actors: np.ndarray
    roles: np.ndarray

    def frame(self, ids: np.ndarray, names: np.ndarray, roles: np.ndarray) -> pd.DataFrame:
        """The pairs with `ids[rows]`, `names[actors]` and `roles[roles]` (EVENT_ACTOR_COLUMNS)."""
        return pd.DataFrame(
            {
                "source_event_id": pd.Series(ids[self.rows], dtype="str"),
                "actor": pd.Series(names[self.actors], dtype="str"),
                "role": pd.Series(roles[self.roles], dtype="str"),
            }
        )


@dataclass
class Attribution:
    """The actors of a chunk's events: counted links, ambiguous mentions and a flag per row."""

    counted: Pairs  # the actors each event counts for
    mentioned: Pairs  # actors named only in "A and/or B"
    ambiguous: np.ndarray  # bool per chunk row: an armed side's attribution is ambiguous
    actors: np.ndarray  # canonical names, indexed by the pairs' actor codes
    roles: np.ndarray  # role names, indexed by the pairs' role codes
    ids: np.ndarray  # the chunk's source_event_id, by row
    aliases: dict[str, str] = field(default_factory=dict)  # counted raw name -> actor

    @property
    def links(self) -> pd.DataFrame:
        """The counted pairs as a frame (EVENT_ACTOR_COLUMNS)."""
        return self.counted.frame(self.ids, self.actors, self.roles)

    @property
    def mentions(self) -> pd.DataFrame:
        """The ambiguous mentions as a frame (EVENT_ACTOR_COLUMNS)."""
        return self.mentioned.frame(self.ids, self.actors, self.roles)


def check_roles(roles: Sequence[str]) -> None:
    unknown = [r for r in roles if r not in ACTOR_ROLES]
    if unknown or not roles:
        raise ValueError(f"actor roles must be among {ACTOR_ROLES}, got {tuple(roles)}")


def attribute(
    normalizer: Normalizer,
    chunk: pd.DataFrame,
    roles: Sequence[str] = ACTOR_ROLES_DEFAULT,
    armed: Sequence[int] = ARMED_DEFAULT,
) -> Attribution:
    """Attribute the events of `chunk` (reader columns; `inter1`/`inter2` optional) to actors.

    An actor named in several roles of one event keeps the first role in `roles` order.
    """
    check_roles(roles)
    armed_rows = {side: side_is_armed(chunk, side, armed) for side in PRIMARY_OF_SIDE}
    work = _Work(normalizer, _country(chunk))
    counted, mentioned = [], []
    for rank, role in enumerate(roles):
        found = work.role(chunk[role], armed_rows[SIDE_OF_ROLE[role]], role in LIST_ROLES)
        counted.append((*found[0], rank))
        mentioned.append((*found[1], rank))
    row, actor, rank_ = _first_per_event(counted, len(work.index))
    m_row, m_actor, m_rank = _first_per_event(mentioned, len(work.index))
    ambiguous = np.zeros(len(chunk), dtype=bool)
    ambiguous[m_row] = True
    # An actor an event also names plainly counts there; its mention would say nothing more.
    width = max(len(work.index), 1)
    keep = ~np.isin(m_row * width + m_actor, row * width + actor)
    return Attribution(
        counted=Pairs(row, actor, rank_),
        mentioned=Pairs(m_row[keep], m_actor[keep], m_rank[keep]),
        ambiguous=ambiguous,
        actors=np.asarray(list(work.index), dtype=object),
        roles=np.asarray(roles, dtype=object),
        ids=chunk["source_event_id"].to_numpy(dtype=object),
        aliases=work.aliases,
    )


def side_is_armed(chunk: pd.DataFrame, side: str, armed: Sequence[int]) -> np.ndarray:
    """Per row: is this side (`inter1` or `inter2`) armed, by its type or else the name rule."""
    n = len(chunk)
    types = chunk[side].to_numpy() if side in chunk else np.full(n, NOT_GIVEN, dtype=np.int8)
    by_type = np.isin(types, np.asarray(armed))
    given = types != NOT_GIVEN
    if given.all():
        return by_type
    codes, primaries = pd.factorize(chunk[PRIMARY_OF_SIDE[side]])
    by_name = np.fromiter(
        (NOT_ARMED_NAME.fullmatch(clean_name(str(p))) is None for p in primaries),
        dtype=bool,
        count=len(primaries),
    )
    return np.where(given, by_type, by_name[codes] if len(codes) else by_type)


class _Work:
    """Resolves each distinct (field value, country, armed) of a chunk once."""

    def __init__(self, normalizer: Normalizer, country: pd.Series) -> None:
        self.normalizer = normalizer
        self.country = country
        self.index: dict[str, int] = {}  # canonical actor -> code
        self.aliases: dict[str, str] = {}

    def role(
        self, values: pd.Series, armed: np.ndarray, is_list: bool
    ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """(row, actor code) pairs of one role column: counted ones, then mentions."""
        codes, keys = _triples(values, self.country, armed)
        per_key = [self._field(raw, c, ok, is_list) for raw, c, ok in keys]
        counted = _expand(codes, [k[0] for k in per_key])
        mentions = _expand(codes, [k[1] for k in per_key])
        return counted, mentions

    def _field(
        self, raw: str, country: str, armed: bool, is_list: bool
    ) -> tuple[list[int], list[int]]:
        counted: list[int] = []
        mentioned: list[int] = []
        if not armed:
            return counted, mentioned
        for name in _split(raw) if is_list else [raw]:
            parts = AMBIGUOUS.split(clean_name(name))
            target = mentioned if len(parts) > 1 else counted
            for part in parts:
                resolved = self.normalizer.actor(part, country)
                if not (resolved.counted and resolved.name):
                    continue
                code = self.index.setdefault(resolved.name, len(self.index))
                if code not in target:
                    target.append(code)
                if target is counted and part:
                    self.aliases.setdefault(clean_name(part), resolved.name)
        return counted, mentioned


def _triples(
    values: pd.Series, country: pd.Series, armed: np.ndarray
) -> tuple[np.ndarray, list[tuple[str, str, bool]]]:
    """Codes of each row's (value, country, armed) and the distinct triples."""
    v_codes, v_values = pd.factorize(values)
    c_codes, c_values = pd.factorize(country)
    n_c = max(len(c_values), 1)
    combined = (v_codes.astype(np.int64) * n_c + c_codes) * 2 + armed.astype(np.int64)
    codes, distinct = pd.factorize(combined)
    keys = [
        (str(v_values[p // 2 // n_c]), str(c_values[p // 2 % n_c]), bool(p % 2)) for p in distinct
    ]
    return codes, keys


def _expand(codes: np.ndarray, per_key: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Rows and actor codes from each distinct key's list of actor codes."""
    lengths = np.fromiter(map(len, per_key), dtype=np.int64, count=len(per_key))
    flat = np.fromiter((a for p in per_key for a in p), dtype=np.int64, count=int(lengths.sum()))
    offsets = np.cumsum(lengths) - lengths
    row_len = lengths[codes] if len(codes) else np.empty(0, dtype=np.int64)
    row = np.repeat(np.arange(len(codes)), row_len)
    within = np.arange(len(row)) - np.repeat(np.cumsum(row_len) - row_len, row_len)
    return row, flat[np.repeat(offsets[codes], row_len) + within]


def _first_per_event(
    parts: list[tuple[np.ndarray, np.ndarray, int]], n_actors: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Concatenate roles' (row, actor) pairs; keep each (row, actor) once, its first role."""
    row = np.concatenate([p[0] for p in parts])
    actor = np.concatenate([p[1] for p in parts])
    rank = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int64) for p in parts])
    order = np.lexsort((rank, row))  # stable: within a role, list order is kept
    row, actor, rank = row[order], actor[order], rank[order]
    first = ~pd.Series(row * max(n_actors, 1) + actor).duplicated().to_numpy()
    return row[first], actor[first], rank[first]


def _country(chunk: pd.DataFrame) -> pd.Series:
    if "country" in chunk:
        return chunk["country"]
    return pd.Series("", index=chunk.index, dtype="str")


def _split(value: str) -> list[str]:
    return [part for part in (clean_name(p) for p in value.split(";")) if part]

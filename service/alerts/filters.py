"""A subscription's filters checked against the catalogue, so a typo cannot silently never fire.

Each name filter (country, region, actor, event type) must name something the data holds: its
canonical name, or an alias folded into it (an actor's raw name, a region's spelling), matched
without regard to case. Known names are stored canonical; an unknown one raises `UnknownFilter`
naming the closest known names (the API answers 422, the CLI exits 2, both with them).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ingest.orm import Actor, ActorAlias, Region, RegionAlias
from service.series.orm import Series

NAMED = ("country", "region", "actor", "event_type")
LABELS = {"country": "country", "region": "region", "actor": "actor", "event_type": "event type"}


# A frozen dataclass with the name filters as fields (country, region, actor, event_type).
F = TypeVar("F")


class UnknownFilter(ValueError):
    """A filter names nothing in the catalogue."""

    def __init__(self, field: str, value: str, close: list[str]) -> None:
        self.field, self.value, self.close = field, value, close
        self.all: list[UnknownFilter] = [self]  # every unknown filter of the subscription
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        self.message = f"unknown {LABELS[field]} {value!r}{hint}"
        super().__init__(self.message)

    def __str__(self) -> str:
        return "; ".join(e.message for e in self.all)


@dataclass(frozen=True)
class _Names:
    """Known spellings (casefolded) to their canonical name."""

    spellings: dict[str, str]

    def resolve(self, field: str, value: str) -> str:
        found = self.spellings.get(value.casefold())
        if found is not None:
            return found
        raise UnknownFilter(field, value, close_matches(value, self.spellings))


def close_matches(value: str, spellings: dict[str, str], n: int = 5) -> list[str]:
    """The canonical names whose spellings are closest to `value` (a prefix counts as close)."""
    wanted = value.casefold()
    scored: dict[str, float] = {}
    for spelling, canonical in spellings.items():
        ratio = difflib.SequenceMatcher(None, wanted, spelling).ratio()
        if spelling.startswith(wanted) or wanted.startswith(spelling):
            ratio = max(ratio, 0.8)
        if ratio >= 0.6:
            scored[canonical] = max(scored.get(canonical, 0.0), ratio)
    return sorted(scored, key=lambda c: (-scored[c], c))[:n]


def _of(pairs: Iterable[tuple[str | None, str | None]]) -> _Names:
    return _Names({s.casefold(): c for s, c in pairs if s and c})


def _names(session: Session, field: str, country: str | None) -> _Names:
    if field == "country":
        rows = session.scalars(select(Series.country).distinct())
        return _of((c, c) for c in rows)
    if field == "event_type":
        rows = session.scalars(select(Series.event_type).where(Series.event_type.is_not(None))
                               .distinct())  # fmt: skip
        return _of((t, t) for t in rows)
    if field == "actor":
        canonical = session.scalars(select(Actor.name))
        aliases = session.execute(
            select(ActorAlias.alias, Actor.name).join(Actor, Actor.id == ActorAlias.actor_id)
        )
        return _of([*((n, n) for n in canonical), *aliases])
    where = [] if country is None else [Region.country == country]
    canonical = session.scalars(select(Region.name).where(*where))
    aliases = session.execute(
        select(RegionAlias.alias, Region.name)
        .join(Region, Region.id == RegionAlias.region_id).where(*where)
    )  # fmt: skip
    return _of([*((n, n) for n in canonical), *aliases])


def checked(session: Session, filters: F) -> F:
    """`filters` with each name filter resolved to its canonical name; raises `UnknownFilter`.

    A region is looked up in the filter's country when it has one (a region of another
    country would never fire either)."""
    out: Any = filters
    unknown: list[UnknownFilter] = []
    for field in NAMED:
        value = getattr(filters, field)
        if value is None:
            continue
        country = out.country if field == "region" else None
        try:
            resolved = _names(session, field, country).resolve(field, value)
        except UnknownFilter as error:
            unknown.append(error)
            continue
        out = replace(out, **{field: resolved})
    if unknown:  # all of them at once, the first carrying the others
        unknown[0].all = unknown
        raise unknown[0]
    result: F = out
    return result

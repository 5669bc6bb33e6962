"""The series a dashboard form names: country, region, actor, event type (blank = all).

Each select offers only what exists under the choices above it, so a form can always be
resolved; a combination with no series (say an actor with no events in the chosen region)
is widened, dropping the event type, then the actor, then the region, and the page says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from service.series.repository import SeriesLabel

FIELDS = ("source", "country", "region", "actor", "event_type")
WIDEN = ("event_type", "actor", "region")
LABELS = {"region": "region", "actor": "actor", "event_type": "event type"}


@dataclass(frozen=True)
class Choice:
    """What the form asked for (None = all)."""

    source: str | None = None
    country: str | None = None
    region: str | None = None
    actor: str | None = None
    event_type: str | None = None

    @classmethod
    def of(cls, series: SeriesLabel) -> Choice:
        return cls(*(getattr(series, name) for name in FIELDS))

    def without(self, name: str) -> Choice:
        return Choice(**{f: (None if f == name else getattr(self, f)) for f in FIELDS})


@dataclass
class Options:
    """The values each select offers under the current choice."""

    sources: list[str] = field(default_factory=list)
    countries: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)


@dataclass
class Resolved:
    choice: Choice
    series: SeriesLabel | None
    options: Options
    notice: str | None = None


def _matches(series: SeriesLabel, choice: Choice) -> bool:
    return all(getattr(series, f) == getattr(choice, f) for f in FIELDS)


def _distinct(values: Sequence[str | None]) -> list[str]:
    return sorted({v for v in values if v}, key=str.casefold)


def _pick(value: str | None, offered: list[str]) -> str | None:
    """The offered value equal to `value` ignoring case (forms and links may differ), or None."""
    if not value:
        return None
    folded = value.casefold()
    return next((v for v in offered if v.casefold() == folded), None)


def _busiest(values: Sequence[str]) -> str | None:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return max(sorted(counts), key=lambda v: counts[v]) if counts else None


def resolve(catalogue: Sequence[SeriesLabel], asked: Choice) -> Resolved:
    """The series of `asked` in `catalogue`, widened if none, and the options of each select."""
    sources = _distinct([s.source for s in catalogue])
    source = _pick(asked.source, sources) or (sources[0] if sources else None)
    pool = [s for s in catalogue if s.source == source]
    countries = _distinct([s.country for s in pool])
    country = _pick(asked.country, countries) or _busiest([s.country for s in pool])
    pool = [s for s in pool if s.country == country]
    choice = Choice(
        source,
        country,
        _pick(asked.region, _distinct([s.region for s in pool])),
        _pick(asked.actor, _distinct([s.actor for s in pool])),
        _pick(asked.event_type, _distinct([s.event_type for s in pool])),
    )
    unknown = [LABELS[n] for n in WIDEN[::-1] if getattr(asked, n) and not getattr(choice, n)]
    series, widened = None, choice
    for name in (None, *WIDEN):
        widened = widened.without(name) if name else widened
        series = next((s for s in pool if _matches(s, widened)), None)
        if series is not None:
            break
    final = Choice.of(series) if series is not None else Choice(source, country)
    dropped = [LABELS[n] for n in WIDEN[::-1] if getattr(choice, n) and not getattr(final, n)]
    notices = []
    if asked.source and _pick(asked.source, sources) is None:
        notices.append(f"No {asked.source} data here; showing {source} (held: "
                       f"{', '.join(sources)}).")  # fmt: skip
    if asked.country and country != _pick(asked.country, countries):
        notices.append(f"No {source} series for {asked.country}; showing {country} (held: "
                       f"{', '.join(countries)}).")  # fmt: skip
    if unknown:
        notices.append(f"No series has the chosen {' or '.join(unknown)} here; showing all "
                       "instead.")  # fmt: skip
    elif dropped:
        notices.append(f"No series for this combination; showing it without the "
                       f"{' and '.join(dropped)}.")  # fmt: skip
    notice = " ".join(notices) or None
    return Resolved(final, series, _options(pool, final, sources, countries), notice)


def _options(
    pool: Sequence[SeriesLabel], choice: Choice, sources: list[str], countries: list[str]
) -> Options:
    """Each select's values under the choices above it (the country's regions; the actors
    with a series in the chosen region, or country-wide; the event types of the chosen
    region, or of the whole country with none chosen, of its chosen actor or of all its
    actors)."""
    in_region = [s for s in pool if s.region == choice.region]
    of_actor = [s for s in in_region if s.actor == choice.actor]
    return Options(
        sources=sources,
        countries=countries,
        regions=_distinct([s.region for s in pool]),
        actors=_distinct([s.actor for s in in_region]),
        event_types=_distinct([s.event_type for s in of_actor]),
    )

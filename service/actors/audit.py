"""Find likely relabelings: one armed group coded under a new name, which would otherwise read
as the old name going quiet and the new one surging.

Example: in 2021 ACLED coded most JNIM activity in central Mali under actor1 "Katiba Macina",
with JNIM as its associated actor; from December 2021 actor1 is JNIM itself. Without an alias
folding Katiba Macina into JNIM, JNIM "surges" in 2022. Two signals, per source and country:

- *hand-over*: X's events as a primary actor stop (nothing for `quiet` months up to coverage)
  while Y's, in the regions X was active in during its last `window` months, rise after it by
  at least half of X's volume there, to at least twice their own level;
- *associate*: most of X's events as a primary actor name Y as an associated actor of X's own
  side (X is a unit or a label of Y).

Each finding carries its evidence (months and counts) and the alias-table line that folds X
into Y. Reads the stored events only; nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.bulk import read_frame
from service.ingest.orm import Actor, ActorAlias, Event, EventActor, Region, Source
from service.series.orm import Coverage

PRIMARY = ("actor1", "actor2")
SIDE = {"actor1": 1, "assoc_actor_1": 1, "actor2": 2, "assoc_actor_2": 2}


@dataclass(frozen=True)
class AuditSettings:
    """Thresholds of the audit (the CLI and the API expose them)."""

    min_events: int = 10  # X's events as a primary actor, at least
    window: int = 6  # months compared before and after X stops
    quiet: int = 3  # months without X up to the end of coverage, for X to have stopped
    share: float = 0.5  # of X's events naming Y as associate, for the associate signal


@dataclass(frozen=True)
class HandOver:
    """X's events stop after `last_month` while Y's rise in the same regions."""

    last_month: dt.date
    regions: list[str]
    old_before: dict[str, int]  # X per month, the `window` months up to `last_month`
    new_before: dict[str, int]  # Y per month, same months and regions
    new_after: dict[str, int]  # Y per month, the `window` months after


@dataclass(frozen=True)
class Associate:
    """Most of X's events (as primary actor) name Y as an associated actor of X's side."""

    events: int  # X's events naming Y
    of_events: int  # X's events as a primary actor
    first_month: dt.date
    last_month: dt.date
    regions: list[str]


@dataclass(frozen=True)
class Relabeling:
    """A likely relabeling of `old` into `new` in one source and country, with its evidence."""

    source: str
    country: str
    old: str
    new: str
    hand_over: HandOver | None
    associate: Associate | None
    alias_lines: list[str] = field(default_factory=list)

    @property
    def signals(self) -> list[str]:
        return [n for n, s in (("hand-over", self.hand_over), ("associate", self.associate)) if s]

    @property
    def summary(self) -> str:
        """The evidence in one or two sentences."""
        parts = []
        if self.hand_over is not None:
            h = self.hand_over
            after = sum(h.new_after.values()) / max(len(h.new_after), 1)
            before = sum(h.new_before.values()) / max(len(h.new_before), 1)
            old = sum(h.old_before.values()) / max(len(h.old_before), 1)
            parts.append(
                f"{self.old}'s events stop after {h.last_month:%Y-%m} ({old:.0f}/month before) "
                f"while {self.new}'s in {', '.join(h.regions)} go from {before:.0f} to "
                f"{after:.0f}/month"
            )
        if self.associate is not None:
            a = self.associate
            parts.append(
                f"{a.events} of {self.old}'s {a.of_events} events "
                f"({a.first_month:%Y-%m}..{a.last_month:%Y-%m}) name {self.new} as its "
                "associated actor"
            )
        return "; ".join(parts)


def _month_counts(counts: dict[str, int]) -> str:
    return ";".join(f"{month}:{count}" for month, count in counts.items())


AUDIT_ROW_COLUMNS = (
    "source",
    "country",
    "old",
    "new",
    "signals",
    "evidence",
    "hand_over_last_month",
    "hand_over_regions",
    "hand_over_old_before",
    "hand_over_new_before",
    "hand_over_new_after",
    "associate_events",
    "associate_of_events",
    "associate_first_month",
    "associate_last_month",
    "associate_regions",
    "alias_lines",
)


def audit_row(found: Relabeling) -> dict[str, object]:
    """A finding as one flat CSV row (`AUDIT_ROW_COLUMNS` for every finding; a month's counts
    as `month:count` joined by `;`): the CLI and the API write the same."""
    h, a = found.hand_over, found.associate
    values = (
        found.source,
        found.country,
        found.old,
        found.new,
        found.signals,
        found.summary,
        *(
            (
                h.last_month,
                h.regions,
                _month_counts(h.old_before),
                _month_counts(h.new_before),
                _month_counts(h.new_after),
            )
            if h
            else (None,) * 5
        ),
        *((a.events, a.of_events, a.first_month, a.last_month, a.regions) if a else (None,) * 5),
        found.alias_lines,
    )
    return dict(zip(AUDIT_ROW_COLUMNS, values, strict=True))


def audit_actors(
    session: Session,
    *,
    source: str | None = None,
    country: str | None = None,
    settings: AuditSettings = AuditSettings(),
) -> list[Relabeling]:
    """Likely relabelings among the stored events, strongest evidence first."""
    links = _links(session, source, country)
    if links.empty:
        return []
    ends = _coverage_ends(session)
    names = dict(session.execute(select(Actor.id, Actor.name)).all())
    regions = dict(session.execute(select(Region.id, Region.name)).all())
    raw = pd.DataFrame(
        session.execute(select(ActorAlias.actor_id, ActorAlias.alias)).all(),
        columns=["actor_id", "alias"],
    )
    found: list[Relabeling] = []
    for (src, place), frame in links.groupby(["source", "country"], sort=True):
        end = ends.get((src, place), frame["month"].max())
        hand_overs = _hand_overs(frame, pd.Timestamp(end), settings, regions)
        associates = _associates(frame, settings, regions)
        for old, new in sorted(set(hand_overs) | set(associates)):
            found.append(
                Relabeling(
                    source=str(src),
                    country=str(place),
                    old=names[old],
                    new=names[new],
                    hand_over=hand_overs.get((old, new)),
                    associate=associates.get((old, new)),
                    alias_lines=alias_lines(
                        sorted(raw.loc[raw["actor_id"] == old, "alias"]) or [names[old]],
                        names[new],
                    ),
                )
            )
    return sorted(found, key=lambda r: (-len(r.signals), r.source, r.country, r.old, r.new))


def alias_lines(patterns: list[str], actor: str) -> list[str]:
    """Rows of `actor_aliases.csv` that fold each raw name into `actor`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for pattern in patterns:
        writer.writerow([pattern, actor, "exact", "yes", ""])
    return out.getvalue().splitlines()


def _links(session: Session, source: str | None, country: str | None) -> pd.DataFrame:
    e, ea = Event.__table__.c, EventActor.__table__.c
    query = (
        select(
            Source.name.label("source"), e.country, e.region_id, e.month, e.id, ea.actor_id, ea.role
        )
        .join_from(EventActor.__table__, Event.__table__, ea.event_id == e.id)
        .join(Source.__table__, Source.id == e.source_id)
    )
    if source:
        query = query.where(Source.name == source)
    if country:
        query = query.where(func.lower(e.country) == country.lower())
    frame = read_frame(session, query)
    if not frame.empty:
        frame["month"] = pd.to_datetime(frame["month"])
    return frame


def _coverage_ends(session: Session) -> dict[tuple[str, str], dt.date]:
    rows = session.execute(
        select(Source.name, Coverage.country, Coverage.last_complete_month).join(
            Source, Source.id == Coverage.source_id
        )
    ).all()
    return {(s, c): m for s, c, m in rows}


def _hand_overs(
    links: pd.DataFrame, end: pd.Timestamp, settings: AuditSettings, regions: dict[int, str]
) -> dict[tuple[int, int], HandOver]:
    primary = links[links["role"].isin(PRIMARY)].drop_duplicates(["id", "actor_id"])
    totals = primary.groupby("actor_id").size()
    last = primary.groupby("actor_id")["month"].max()
    out: dict[tuple[int, int], HandOver] = {}
    for old in totals[totals >= settings.min_events].index:
        stop = last[old]
        if _months_between(stop, end) < settings.quiet:
            continue  # still active, or too recent to tell
        start = stop - pd.DateOffset(months=settings.window - 1)
        until = min(stop + pd.DateOffset(months=settings.window), end)
        recent = primary[(primary["actor_id"] == old) & primary["month"].between(start, stop)]
        places = set(recent["region_id"])
        local = primary[primary["region_id"].isin(places)]
        before = local[local["month"].between(start, stop)]
        after = local[(local["month"] > stop) & (local["month"] <= until)]
        old_volume = int((before["actor_id"] == old).sum())
        if old_volume < settings.min_events / 2:
            continue
        gained = (
            after.groupby("actor_id").size().sub(before.groupby("actor_id").size(), fill_value=0)
        )
        for new, gain in gained.drop(old, errors="ignore").sort_values(ascending=False).items():
            if gain < old_volume / 2:
                break  # sorted by gain: no later actor took enough of X's volume
            had = int((before["actor_id"] == new).sum())
            if int((after["actor_id"] == new).sum()) < 2 * max(had, 1):
                continue
            months_before = pd.date_range(start, stop, freq="MS")
            months_after = pd.date_range(stop + pd.DateOffset(months=1), until, freq="MS")
            out[(int(old), int(new))] = HandOver(
                last_month=stop.date(),
                regions=sorted(regions[r] for r in places),
                old_before=_per_month(recent, months_before),
                new_before=_per_month(before[before["actor_id"] == new], months_before),
                new_after=_per_month(after[after["actor_id"] == new], months_after),
            )
            break  # the one that took most of X's volume
    return out


def _associates(
    links: pd.DataFrame, settings: AuditSettings, regions: dict[int, str]
) -> dict[tuple[int, int], Associate]:
    links = links.assign(side=links["role"].map(SIDE))
    primary = links[links["role"].isin(PRIMARY)]
    assoc = links[~links["role"].isin(PRIMARY)]
    pairs = primary.merge(
        assoc[["id", "side", "actor_id"]], on=["id", "side"], suffixes=("", "_new")
    )
    pairs = pairs[pairs["actor_id"] != pairs["actor_id_new"]]
    totals = primary.groupby("actor_id")["id"].nunique()
    out: dict[tuple[int, int], Associate] = {}
    for (old, new), group in pairs.groupby(["actor_id", "actor_id_new"]):
        events, of_events = group["id"].nunique(), int(totals[old])
        if of_events < settings.min_events or events < settings.share * of_events:
            continue
        out[(int(old), int(new))] = Associate(
            events=int(events),
            of_events=of_events,
            first_month=group["month"].min().date(),
            last_month=group["month"].max().date(),
            regions=sorted({regions[r] for r in group["region_id"]}),
        )
    return out


def _per_month(rows: pd.DataFrame, months: pd.DatetimeIndex) -> dict[str, int]:
    counts = rows.groupby("month")["id"].nunique().reindex(months, fill_value=0)
    return {f"{m:%Y-%m}": int(n) for m, n in counts.items()}


def _months_between(a: pd.Timestamp, b: pd.Timestamp) -> int:
    return (b.year - a.year) * 12 + b.month - a.month

"""What an escalation has shown so far, and how a flagged month adds to it: the one definition
that grouping (a month arriving) and the repository (an escalation read back) both use."""

from __future__ import annotations

from dataclasses import dataclass, field

from service.anomalies.severity import SEVERITY_RANK

GEOGRAPHY, ACTOR = "geography", "actor"
# Higher is broader: the headline is the broadest level flagged.
# A country x event type sums a type over every region: broader than a region x event type,
# narrower than the country; it names no region, so it adds none to an escalation.
LEVEL_RANK = {"region_type": 1, "region": 2, "country_type": 2, "country": 3,
              "actor_region_type": 1, "actor_region": 2, "actor_country": 3}  # fmt: skip

# A region joins an escalation (and re-alerts it) when its total is flagged: one region × event
# type series out of dozens is flagged by chance most months, so it alone is not a new region.
REGION_RANK = 2

# origin, source, country (None for an actor: one escalation across borders), tree, actor, direction
Key = tuple[str, int, str | None, str, int | None, str]


@dataclass(frozen=True)
class SeriesTree:
    """Where a series sits: its tree (source, country, actor or none), level and region."""

    id: int
    level: str
    source_id: int
    country: str
    actor_id: int | None
    region_id: int | None


def tree_of(series: SeriesTree) -> str:
    return GEOGRAPHY if series.actor_id is None else ACTOR


@dataclass
class State:
    """What an escalation has shown so far: what a new month must beat to re-alert."""

    severity: int = 0
    headline: int = 0
    regions: set[int] = field(default_factory=set)
    measures: set[str] = field(default_factory=set)

    def add(self, series: SeriesTree, severity: str, measure: str) -> None:
        """Count one flagged series-month of the escalation."""
        level = LEVEL_RANK.get(series.level, 0)
        self.measures.add(measure)
        self.severity = max(self.severity, SEVERITY_RANK[severity])
        self.headline = max(self.headline, level)
        if series.region_id is not None and level >= REGION_RANK:
            self.regions.add(series.region_id)

    def copy(self) -> State:
        return State(self.severity, self.headline, set(self.regions), set(self.measures))

    def beaten_by(self, other: State) -> bool:
        return (
            other.severity > self.severity
            or other.headline > self.headline
            or bool(other.regions - self.regions)
            or bool(other.measures - self.measures)
        )

"""Response schemas of the actor audit and the catalogue statistics."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class HandOverRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    last_month: dt.date = Field(description="The old name's last month as a primary actor.")
    regions: list[str] = Field(description="Where it was active in its last months.")
    old_before: dict[str, int] = Field(description="Its events per month before it stopped.")
    new_before: dict[str, int] = Field(description="The new name's events there, same months.")
    new_after: dict[str, int] = Field(description="The new name's events there after.")


class AssociateRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    events: int = Field(description="The old name's events naming the new one as associate.")
    of_events: int = Field(description="The old name's events as a primary actor.")
    first_month: dt.date
    last_month: dt.date
    regions: list[str]


class RelabelingRead(BaseModel):
    """A likely relabeling, its evidence and the alias line that folds `old` into `new`."""

    model_config = ConfigDict(from_attributes=True)

    source: str
    country: str
    old: str
    new: str
    signals: list[str] = Field(description="`hand-over`, `associate` or both.")
    summary: str = Field(description="The evidence in words.")
    hand_over: HandOverRead | None
    associate: AssociateRead | None
    alias_lines: list[str] = Field(
        description="Lines to add to actor_aliases.csv in an alias folder "
        "(SAHELCAST_ALIAS_DIRS); then run `sahelcast actors refold`."
    )


class AuditRead(BaseModel):
    items: list[RelabelingRead]


class LevelCountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    level: str
    series: int
    with_events: int = Field(description="Series with at least one event (others keep history).")


class TypeCountRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    actor_type: str = Field(description="ACLED actor type, e.g. `Rebel groups`, or `not given`.")
    actors: int
    series: int


class SmallActorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    source: str
    country: str
    actor: str
    actor_type: str
    events: int


class CatalogueStatsRead(BaseModel):
    """What the series catalogue is made of."""

    model_config = ConfigDict(from_attributes=True)

    events: int
    ambiguous_events: int = Field(
        description="Events whose armed side is an ambiguous 'A and/or B': counted for no actor."
    )
    events_without_actor: int = Field(
        description="Events counted for no armed actor (geography series still count them)."
    )
    levels: list[LevelCountRead]
    actor_types: list[TypeCountRead]
    fewer_than: int
    small_actors: list[SmallActorRead] = Field(
        description="Actors with fewer than `fewer_than` events in a country."
    )

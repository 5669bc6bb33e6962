"""The roll-up levels of a series, finest first (no heavy imports: the CLI's choices use them)."""

from __future__ import annotations

from typing import Literal, get_args

Level = Literal[
    "actor_region_type",
    "actor_region",
    "actor_country",
    "region_type",
    "region",
    "country_type",  # country x event type: the region x event type series summed over regions
    "country",
]
LEVELS: tuple[Level, ...] = get_args(Level)

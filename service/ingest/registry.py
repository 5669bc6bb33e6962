"""Canonical actors and regions: resolve raw names to ids, creating rows and aliases as seen."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.ingest.normalize import Normalizer
from service.ingest.orm import Actor, ActorAlias, Region, RegionAlias


class NameRegistry:
    """Caches name → id for one ingest so each distinct name costs one query at most."""

    def __init__(self, session: Session, normalizer: Normalizer) -> None:
        self.session = session
        self.normalizer = normalizer
        self._actors = {a.name: a.id for a in session.scalars(select(Actor))}
        self._actor_aliases = set(session.scalars(select(ActorAlias.alias)))
        self._regions = {(r.country, r.name): r.id for r in session.scalars(select(Region))}
        self._region_aliases = {(a.country, a.alias) for a in session.scalars(select(RegionAlias))}

    def actor_id(self, name: str) -> int:
        if name not in self._actors:
            actor = Actor(name=name)
            self.session.add(actor)
            self.session.flush()
            self._actors[name] = actor.id
        return self._actors[name]

    def actor_ids(self, names: pd.Series) -> pd.Series:
        """Map canonical actor names to ids (creating actors as needed)."""
        mapping = {name: self.actor_id(name) for name in names.unique()}
        return names.map(mapping).astype("int64")

    def record_actor_aliases(self, raw_to_canonical: dict[str, str]) -> None:
        """Remember which raw names folded into which actor (shown by `sahelcast series actors`)."""
        for raw, canonical in raw_to_canonical.items():
            if raw and raw not in self._actor_aliases:
                self.session.add(ActorAlias(alias=raw[:500], actor_id=self.actor_id(canonical)))
                self._actor_aliases.add(raw)

    def region_ids(self, countries: pd.Series, admin1: pd.Series) -> pd.Series:
        """Map raw (country, admin1) pairs to canonical region ids, recording the aliases.

        Each distinct pair is resolved once; rows get their id through the pairs' codes.
        """
        country_codes, country_values = pd.factorize(countries)
        admin_codes, admin_values = pd.factorize(admin1)
        width = max(len(country_values), 1)
        codes, distinct = pd.factorize(admin_codes.astype(np.int64) * width + country_codes)
        pairs = pd.DataFrame(
            {
                "country": country_values[distinct % width] if len(distinct) else [],
                "admin1": admin_values[distinct // width] if len(distinct) else [],
            }
        )
        regions = self.normalizer.regions(pairs).to_numpy()
        ids = np.empty(len(pairs), dtype=np.int64)
        for i, (country, raw) in enumerate(zip(pairs["country"], pairs["admin1"], strict=True)):
            region_id = self._region_id(country, regions[i])
            if (country, raw) not in self._region_aliases:
                self.session.add(RegionAlias(country=country, alias=raw[:500], region_id=region_id))
                self._region_aliases.add((country, raw))
            ids[i] = region_id
        return pd.Series(ids[codes], index=countries.index, dtype="int64")

    def _region_id(self, country: str, name: str) -> int:
        key = (country, name)
        if key not in self._regions:
            region = Region(country=country, name=name)
            self.session.add(region)
            self.session.flush()
            self._regions[key] = region.id
        return self._regions[key]

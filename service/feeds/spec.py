"""Parse SAHELCAST_FEEDS: `acled:Mali,Niger;ucdp-candidate:Mali;ucdp@25.1:Niger`."""

from __future__ import annotations

from dataclasses import dataclass

FEED_NAMES = ("acled", "ucdp", "ucdp-candidate")


@dataclass(frozen=True)
class FeedSpec:
    """One feed of the weekly job: which source, which countries, and a pinned UCDP version."""

    name: str
    countries: tuple[str, ...]
    version: str | None = None

    @property
    def candidate(self) -> bool:
        return self.name == "ucdp-candidate"


def parse_feeds(text: str) -> list[FeedSpec]:
    """Split `name[@version]:Country,Country;…`; raise ValueError naming the bad part."""
    feeds: list[FeedSpec] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        head, colon, tail = part.partition(":")
        name, _, version = head.strip().partition("@")
        name, version = name.strip().lower(), version.strip()
        countries = tuple(c.strip() for c in tail.split(",") if c.strip())
        where = f"SAHELCAST_FEEDS part {part!r}"
        if name not in FEED_NAMES:
            raise ValueError(f"{where}: unknown feed {name!r}; expected one of {FEED_NAMES}")
        if not colon or not countries:
            raise ValueError(f"{where}: expected `{name}:Country,Country`")
        if name == "acled" and version:
            raise ValueError(f"{where}: ACLED has no versions; drop @{version}")
        if name == "ucdp" and not version:
            raise ValueError(f"{where}: name the GED release, e.g. `ucdp@25.1:{countries[0]}`")
        feeds.append(FeedSpec(name, countries, version or None))
    return feeds

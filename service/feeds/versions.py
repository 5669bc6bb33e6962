"""UCDP release versions: yearly GED `25.1` (1989 through 2024) and monthly Candidate `25.0.3`
(March 2025). The newer publication of an event wins, so each version gets a rank that the
sync compares as the event's `source_timestamp` (a GED file ingested from disk has 0)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

from service.feeds.errors import FeedConfigError

_GED = re.compile(r"(\d{2})\.(\d{1,2})")
_CANDIDATE = re.compile(r"(\d{2})\.0\.(\d{1,2})")
GED_START = dt.date(1989, 1, 1)


@dataclass(frozen=True, order=True)
class Version:
    year: int  # two digits, as in the name
    minor: int  # GED: the release of that year (1, sometimes 2); Candidate: 0
    month: int  # Candidate: the month covered; GED: 0

    @property
    def candidate(self) -> bool:
        return self.minor == 0

    @property
    def name(self) -> str:
        return f"{self.year:02d}.0.{self.month}" if self.candidate else f"{self.year}.{self.minor}"

    @property
    def rank(self) -> int:
        """GED 26.1 outranks every 25.0.x Candidate; later Candidates outrank earlier ones."""
        return self.year * 1000 + (self.month if self.candidate else 500 + self.minor)

    @property
    def covers(self) -> tuple[dt.date, dt.date]:
        """The event dates covered: GED 25.1 → 1989..2024, Candidate 25.0.3 → March 2025."""
        year = 2000 + self.year
        if not self.candidate:
            return GED_START, dt.date(year - 1, 12, 31)
        last = calendar.monthrange(year, self.month)[1]
        return dt.date(year, self.month, 1), dt.date(year, self.month, last)

    def next(self) -> Version:
        """The Candidate release after this one (January follows December)."""
        if self.month == 12:
            return Version(self.year + 1, 0, 1)
        return Version(self.year, 0, self.month + 1)


def parse_version(text: str, candidate: bool) -> Version:
    """Parse `25.1` (GED) or `25.0.3` (Candidate); say what was expected otherwise."""
    text = text.strip()
    if candidate:
        m = _CANDIDATE.fullmatch(text)
        if m and 1 <= int(m[2]) <= 12:
            return Version(int(m[1]), 0, int(m[2]))
        raise FeedConfigError(
            f"UCDP Candidate version {text!r}: expected YY.0.M, e.g. 25.0.3 (March 2025)"
        )
    m = _GED.fullmatch(text)
    if m and int(m[2]) >= 1:
        return Version(int(m[1]), int(m[2]), 0)
    hint = "; for a Candidate release add --candidate" if _CANDIDATE.fullmatch(text) else ""
    raise FeedConfigError(f"UCDP GED version {text!r}: expected YY.N, e.g. 25.1{hint}")


def first_candidate_after(day: dt.date) -> Version:
    """The Candidate release of the month after `day` (after a GED release's last day)."""
    following = day + dt.timedelta(days=1)
    return Version(following.year % 100, 0, following.month)

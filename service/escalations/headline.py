"""An escalation told in one line: who, where, how much against what was expected, since when.

    JNIM in Mopti: 45 events vs 18 expected (+150 %), since May 2023

Who is the escalation's actor ("All actors" for a geography escalation). Where is the headline
series' region when the escalation stays in that one region, else its country (or countries, for
an actor across borders) with the number of regions it reaches: a line never names a region the
escalation does not contain, nor one region for an escalation spanning several. The numbers are
the headline series' latest flagged month; its size is what the escalation is ranked by.
"""

from __future__ import annotations

from service.anomalies.severity import DEFAULT_RULES, SEVERITY_RANK, Rules, size_rank
from service.escalations.schemas import EscalationPart, EscalationRead
from service.measures import noun


def _regions(e: EscalationRead) -> list[tuple[str, str]]:
    return sorted({(p.series.country, p.series.region) for p in e.parts if p.series.region})


def countries(e: EscalationRead) -> list[str]:
    """The countries an escalation reaches, its own first."""
    others = sorted({p.series.country for p in e.parts} - {e.country})
    return [e.country, *others]


def where(e: EscalationRead) -> str:
    """The place an escalation is named by: one region only if it is the only one."""
    regions = _regions(e)
    if len(regions) == 1:
        return regions[0][1]
    names = " and ".join(countries(e))
    return f"{names} ({len(regions)} regions)" if regions else names


def _latest(part: EscalationPart) -> tuple[int, float]:
    return part.observed[-1], part.expected[-1]


def part_size(part: EscalationPart, direction: str, rules: Rules = DEFAULT_RULES) -> float:
    """The largest month of a part, in floors of its measure."""
    sign = 1.0 if direction == "above" else -1.0
    return max(
        (size_rank(part.measure, sign * (o - x), rules)
         for o, x in zip(part.observed, part.expected, strict=True)),
        default=0.0,
    )  # fmt: skip


def size(e: EscalationRead, rules: Rules = DEFAULT_RULES) -> tuple[int, float]:
    """What escalations are ranked by: severity, then the largest excess of any part (floors)."""
    largest = max((part_size(p, e.direction, rules) for p in e.parts), default=0.0)
    return SEVERITY_RANK.get(e.severity, 0), largest


def headline(e: EscalationRead) -> str:
    """One line, e.g. 'JNIM in Mopti: 45 events vs 18 expected (+150 %), since May 2023'."""
    who = e.actor or "All actors"
    part = e.headline or (e.parts[0] if e.parts else None)
    since = f"since {e.first_month:%B %Y}"
    if part is None:
        return f"{who} in {where(e)}, {since}"
    observed, expected = _latest(part)
    change = ""
    if expected > 0:
        change = f" ({(observed / expected - 1):+.0%})".replace("%", " %")
    return (
        f"{who} in {where(e)}: {observed} {noun(part.measure)} vs {expected:.0f} expected"
        f"{change}, {since}"
    )

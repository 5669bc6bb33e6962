"""The names an anomaly is described with (severity, direction, status, origin), the one order of
severities, and how evidence and size make a severity. No heavy imports, so the readers and the
CLI's choices can use them without loading the forecasting stack.

A flag is a *material change*: evidence (the published run's predictive tail probability, or the
engine's shift probability) **and** size (an excess over the expected value of at least a floor
of events or deaths and a share of the expected). Severity then grows with size, capped by the
evidence:

- size points: the excess in units of the measure's floor (`excess / floor`), or the excess as a
  share of the country's total that month, whichever says more (`share / 0.1`, so 10 % of a
  country's events or deaths counts as one floor);
- ``high``: at least 6 points and a tail probability below 1 in 1,000;
- ``medium``: at least 3 points and a tail probability below 1 in 100;
- ``low``: anything else that passed the gate.

So a two-event blip (below the 5-event floor: not even flagged; forced through, 0.4 points) is
low, and +165 deaths (11 floors of 15) with a tail probability of 1e-6 is high.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

Severity = Literal["low", "medium", "high"]
# Mildest first: the one order every reader, filter and alert rule uses.
SEVERITY_ORDER: tuple[Severity, ...] = get_args(Severity)
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITY_ORDER, start=1)}
Direction = Literal["above", "below"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
Status = Literal["new", "acknowledged"]
Origin = Literal["live", "backtest"]  # a published run's forecast, or its backtest
Kind = Literal["interval", "new"]  # outside the forecast interval, or a new series' appearance

# (severity, size points at least, tail probability below), worst first.
SEVERITIES: tuple[tuple[Severity, float, float], ...] = (
    ("high", 6.0, 0.001),
    ("medium", 3.0, 0.01),
)
# The share of the country's total that counts as one floor of size.
SHARE_POINT = 0.1


class RuleSettings(Protocol):
    """The settings a Rules is read from (`service.config.Settings` has them): named here so
    this module stays free of the service's imports."""

    anomaly_max_tail_probability: float
    anomaly_min_shift_probability: float
    anomaly_min_excess_events: float
    anomaly_min_excess_fatalities: float
    anomaly_min_excess_share_events: float
    anomaly_min_excess_share_fatalities: float


@dataclass(frozen=True)
class Rules:
    """What makes a flag material, per measure (settings `SAHELCAST_ANOMALY_*`)."""

    max_tail_probability: float = 0.01
    min_shift_probability: float = 0.5
    min_excess: tuple[tuple[str, float], ...] = (("events", 5.0), ("fatalities", 15.0))
    min_excess_share: tuple[tuple[str, float], ...] = (("events", 0.5), ("fatalities", 0.5))

    @classmethod
    def from_settings(cls, settings: RuleSettings) -> Rules:
        return cls(
            max_tail_probability=settings.anomaly_max_tail_probability,
            min_shift_probability=settings.anomaly_min_shift_probability,
            min_excess=(("events", settings.anomaly_min_excess_events),
                        ("fatalities", settings.anomaly_min_excess_fatalities)),
            min_excess_share=(("events", settings.anomaly_min_excess_share_events),
                              ("fatalities", settings.anomaly_min_excess_share_fatalities)),
        )  # fmt: skip

    def floor(self, measure: str) -> float:
        return dict(self.min_excess).get(measure, dict(self.min_excess)["events"])

    def share(self, measure: str) -> float:
        return dict(self.min_excess_share).get(measure, dict(self.min_excess_share)["events"])

    def material(
        self,
        measure: str,
        excess: float,
        expected: float,
        tail_probability: float,
        shift_probability: float | None = None,
    ) -> bool:
        """Evidence and size: the gate every flag passes (excess counted in the flag's
        direction, so a drop is a positive excess below the expected)."""
        evidence = tail_probability <= self.max_tail_probability or (
            shift_probability is not None and shift_probability >= self.min_shift_probability
        )
        size = excess >= self.floor(measure) and excess >= self.share(measure) * expected
        return evidence and size

    def points(self, measure: str, excess: float, country_total: float | None = None) -> float:
        """Size in floors of the measure, or in tenths of the country's total if more."""
        by_floor = max(excess, 0.0) / max(self.floor(measure), 1.0)
        by_share = 0.0
        if country_total is not None and country_total > 0:
            by_share = max(excess, 0.0) / country_total / SHARE_POINT
        return max(by_floor, by_share)


DEFAULT_RULES = Rules()


def severity(
    tail_probability: float,
    excess: float | None = None,
    measure: str = "events",
    country_total: float | None = None,
    rules: Rules = DEFAULT_RULES,
) -> Severity:
    """Severity from evidence and size (see the module's doc); without `excess`, evidence alone
    can only say `low`."""
    if excess is None:
        return "low"
    points = rules.points(measure, excess, country_total)
    for name, min_points, below in SEVERITIES:
        if points >= min_points and tail_probability < below:
            return name
    return "low"


def size_rank(measure: str, excess: float, rules: Rules = DEFAULT_RULES) -> float:
    """How large a flag is, comparable across measures (in floors): what lists sort by."""
    return rules.points(measure, excess)


def at_least(minimum: str) -> list[Severity]:
    """The severities at least as bad as `minimum`, mildest first."""
    return [s for s in SEVERITY_ORDER if SEVERITY_RANK[s] >= SEVERITY_RANK[minimum]]

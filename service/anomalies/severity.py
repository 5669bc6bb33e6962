"""The names an anomaly is described with (severity, direction, status, origin), the one order of
severities, and the tail probabilities that separate them. No heavy imports, so the readers and
the CLI's choices can use them without loading the forecasting stack."""

from __future__ import annotations

from typing import Literal, get_args

Severity = Literal["low", "medium", "high"]
# Mildest first: the one order every reader, filter and alert rule uses.
SEVERITY_ORDER: tuple[Severity, ...] = get_args(Severity)
SEVERITY_RANK: dict[str, int] = {name: rank for rank, name in enumerate(SEVERITY_ORDER, start=1)}
Direction = Literal["above", "below"]
DIRECTIONS: tuple[Direction, ...] = get_args(Direction)
Status = Literal["new", "acknowledged"]
Origin = Literal["live", "backtest"]  # a published run's forecast, or its backtest
Kind = Literal["interval", "new"]  # outside the forecast interval, or a new series' appearance

# Tail probability thresholds: below 1 in 1,000 is high, below 1 in 100 medium, else low.
SEVERITIES: tuple[tuple[Severity, float], ...] = (("high", 0.001), ("medium", 0.01), ("low", 1.0))


def severity(tail_probability: float) -> Severity:
    """Map a tail probability to low / medium / high."""
    for name, limit in SEVERITIES:
        if tail_probability < limit:
            return name
    return "low"


def at_least(minimum: str) -> list[Severity]:
    """The severities at least as bad as `minimum`, mildest first."""
    return [s for s in SEVERITY_ORDER if SEVERITY_RANK[s] >= SEVERITY_RANK[minimum]]

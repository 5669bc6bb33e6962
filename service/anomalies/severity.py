"""Severity names, their order, and the tail probabilities that separate them (no heavy imports,
so readers and the CLI can use them without loading the forecasting stack)."""

from __future__ import annotations

# Tail probability thresholds: below 1 in 1,000 is high, below 1 in 100 medium, else low.
SEVERITIES = (("high", 0.001), ("medium", 0.01), ("low", 1.0))
SEVERITY_RANK = {"low": 1, "medium": 2, "high": 3}


def severity(tail_probability: float) -> str:
    """Map a tail probability to low / medium / high."""
    for name, limit in SEVERITIES:
        if tail_probability < limit:
            return name
    return "low"

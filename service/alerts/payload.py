"""The JSON sent to webhooks: fields for machines and a `text` line for Slack-style hooks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from service.anomalies.orm import Anomaly
from service.series.repository import SeriesLabel

EMOJI = {"high": ":rotating_light:", "medium": ":warning:", "low": ":information_source:"}


@dataclass(frozen=True)
class AlertItem:
    """An alert-worthy anomaly with its series' labels."""

    anomaly: Anomaly
    series: SeriesLabel


def describe(series: SeriesLabel) -> str:
    who = series.actor or "All actors"
    where = f"{series.region}, {series.country}" if series.region else series.country
    what = f" ({series.event_type})" if series.event_type else ""
    return f"{who} in {where}{what}"


def judged_by(horizon: int, origin: dt.date | None) -> str:
    """How far ahead the judging forecast looked, e.g. ', forecast 3 months ahead from 2022-06'."""
    ahead = f"{horizon} month{'s' if horizon != 1 else ''} ahead"
    return f", forecast {ahead}" + (f" from {origin:%Y-%m}" if origin else "")


def anomaly_text(item: AlertItem) -> str:
    a = item.anomaly
    if a.kind == "new":
        return new_text(item)
    season = " (rainy season)" if a.in_season else ""
    return (
        f"{EMOJI.get(a.severity, '')} *{a.severity.upper()}* {describe(item.series)}: "
        f"{a.observed} events in {a.month:%Y-%m}{season}, {a.direction} the "
        f"{a.level:.0%} forecast interval {a.lower:.0f}–{a.upper:.0f} "
        f"(expected {a.expected:.1f}{judged_by(a.horizon, a.forecast_origin)}). "
        f"Series {item.series.key}"
    ).strip()


def new_text(item: AlertItem) -> str:
    """A series' first appearance: news, reported once (not a month-by-month flood)."""
    a, s = item.anomaly, item.series
    what = "New actor" if s.actor else "First events"
    return (
        f"{EMOJI.get(a.severity, '')} *NEW* {what}: {describe(s)}: {a.observed} events in "
        f"{a.month:%Y-%m}, none in the data the forecast saw"
        f"{' (through ' + format(a.forecast_origin, '%Y-%m') + ')' if a.forecast_origin else ''}. "
        f"Series {s.key}"
    ).strip()


def anomaly_payload(item: AlertItem, subscription_id: int, key: str) -> bytes:
    a, s = item.anomaly, item.series
    body: dict[str, Any] = {
        "type": "sahelcast.anomaly",
        "idempotency_key": key,
        "subscription_id": subscription_id,
        "text": anomaly_text(item),
        "anomaly": {
            "id": a.id,
            "month": a.month.isoformat(),
            "origin": a.origin,
            "kind": a.kind,
            "run_id": a.run_id,
            "horizon": a.horizon,
            "forecast_origin": a.forecast_origin.isoformat() if a.forecast_origin else None,
            "observed": a.observed,
            "expected": a.expected,
            "lower": a.lower,
            "upper": a.upper,
            "level": a.level,
            "direction": a.direction,
            "tail_probability": a.tail_probability,
            "severity": a.severity,
            "in_season": a.in_season,
            "episode_start": a.episode_start.isoformat(),
        },
        "series": {
            "id": s.id,
            "key": s.key,
            "level": s.level,
            "source": s.source,
            "country": s.country,
            "region": s.region,
            "actor": s.actor,
            "event_type": s.event_type,
        },
    }
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


def test_payload(subscription_id: int, name: str, key: str) -> bytes:
    body = {
        "type": "sahelcast.test",
        "idempotency_key": key,
        "subscription_id": subscription_id,
        "text": f":white_check_mark: sahelcast test delivery to subscription {name!r} "
        f"({subscription_id}): the webhook works.",
    }
    return json.dumps(body, separators=(",", ":")).encode("utf-8")

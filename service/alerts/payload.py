"""The JSON sent to webhooks: fields for machines and a `text` line for Slack-style hooks."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from service.alerts.mrkdwn import neutral
from service.anomalies.orm import Anomaly
from service.escalations.headline import countries, headline
from service.escalations.schemas import EscalationRead
from service.measures import EVENTS, link_query, noun
from service.series.repository import SeriesLabel

EMOJI = {"high": ":rotating_light:", "medium": ":warning:", "low": ":information_source:"}


@dataclass(frozen=True)
class AlertItem:
    """An alert-worthy anomaly with its series' labels and the escalation it speaks for."""

    anomaly: Anomaly
    series: SeriesLabel
    escalation: EscalationRead | None = None


def dashboard_link(public_url: str, series_id: int, measure: str = EVENTS) -> str:
    """The dashboard with this series (and measure) selected."""
    return f"{public_url.rstrip('/')}/?series={series_id}{link_query(measure)}"


def escalation_link(public_url: str, e: EscalationRead) -> str:
    """The dashboard opened on the escalation: its headline series, and all its flagged months."""
    return (
        f"{public_url.rstrip('/')}/?series={e.headline_series_id}&escalation={e.id}"
        f"{link_query(e.headline.measure if e.headline else EVENTS)}#anomalies"
    )


def escalation_text(e: EscalationRead) -> str:
    """One line naming the escalation's parts, for Slack-style hooks."""
    months = e.months
    span = f"{months[0]:%Y-%m}" if len(months) == 1 else f"{months[0]:%Y-%m}–{months[-1]:%Y-%m}"
    again = f", update {e.alerts}" if e.alerts > 1 else ""
    counted = " and ".join(noun(m) for m in e.measures)
    return (
        f"Escalation {e.id}{again}: significant up to {e.headline_level.replace('_', ' ')} level, "
        f"{len(e.parts)} series flagged in {span} ({counted})."
    )


def escalation_body(e: EscalationRead, public_url: str = "") -> dict[str, Any]:
    return {
        "id": e.id,
        "headline": headline(e),
        "link": escalation_link(public_url, e),
        "country": e.country,
        "countries": countries(e),
        "tree": e.tree,
        "actor": e.actor,
        "direction": e.direction,
        "headline_level": e.headline_level,
        "headline_series_id": e.headline_series_id,
        "severity": e.severity,
        "alerts": e.alerts,
        "months": [m.isoformat() for m in e.months],
        "measures": e.measures,
        "parts": [
            {
                "series_id": p.series.id,
                "measure": p.measure,
                "key": p.series.key,
                "level": p.series.level,
                "region": p.series.region,
                "event_type": p.series.event_type,
                "months": [m.isoformat() for m in p.months],
                "observed": p.observed,
                "expected": p.expected,
                "severity": p.severity,
            }
            for p in e.parts
        ],
    }


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
        f"{a.observed} {noun(a.measure)} in {a.month:%Y-%m}{season}, {a.direction} the "
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


def anomaly_payload(item: AlertItem, subscription_id: int, key: str, public_url: str = "") -> bytes:
    a, s, e = item.anomaly, item.series, item.escalation
    link = escalation_link(public_url, e) if e else dashboard_link(public_url, s.id, a.measure)
    if e is not None:  # the escalation's own line first: who, where, how much, since when
        mark = f"{EMOJI.get(e.severity, '')} *{e.severity.upper()}* "
        text = f"{mark}{headline(e)}. {escalation_text(e)} {link}"
    else:
        text = f"{anomaly_text(item)} {link}"
    body: dict[str, Any] = {
        "type": "sahelcast.anomaly",
        "idempotency_key": key,
        "subscription_id": subscription_id,
        "text": neutral(text),
        "link": link,
        "escalation": escalation_body(e, public_url) if e else None,
        "anomaly": {
            "id": a.id,
            "month": a.month.isoformat(),
            "origin": a.origin,
            "measure": a.measure,
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
        "series": s.labels(),
    }
    return json.dumps(body, separators=(",", ":"), allow_nan=False).encode("utf-8")


def test_payload(subscription_id: int, name: str, key: str) -> bytes:
    body = {
        "type": "sahelcast.test",
        "idempotency_key": key,
        "subscription_id": subscription_id,
        "text": neutral(
            f":white_check_mark: sahelcast test delivery to subscription {name!r} "
            f"({subscription_id}): the webhook works."
        ),
    }
    return json.dumps(body, separators=(",", ":")).encode("utf-8")

"""Webhook `text` is neutral Slack mrkdwn: a name from the data never pings a channel or hides
a link, yet reads as written once Slack shows it."""

from __future__ import annotations

import html
import json

from sqlalchemy import Engine

from service.config import Settings
from tests.service.alerts.alerting import alerting
from tests.service.alerts.conftest import deliver, reaching_the_hook
from tests.service.alerts.receiver import Receiver

HOSTILE = "<!channel> <https://evil.example/login|Open the sahelcast dashboard> & @here"


def test_an_actor_name_cannot_ping_a_channel_or_disguise_a_link(
    engine: Engine, settings: Settings, hook: Receiver
) -> None:
    local = reaching_the_hook(settings)
    alerting(engine, local, hook.url, 1, actor=HOSTILE)
    assert deliver(engine, local)["delivered"] == 1
    payload = json.loads(hook.requests[0].body)
    text = payload["text"]
    for markup in ("<!channel>", "<https://", "@here"):
        assert markup not in text
    assert "<" not in text
    assert ">" not in text
    # What Slack shows after decoding its three entities is the name as the data wrote it.
    assert HOSTILE.replace("@here", "@\u200bhere") in html.unescape(text)
    assert payload["series"]["actor"] == HOSTILE  # machine fields stay exact


def test_neutral_escapes_only_what_slack_reads() -> None:
    from service.alerts.mrkdwn import neutral

    assert neutral("A & B <x> @channel @Here @everyone x@channels") == (
        "A &amp; B &lt;x&gt; @\u200bchannel @\u200bHere @\u200beveryone x@channels"
    )
    assert neutral("*HIGH* JNIM in Mopti: 25 events") == "*HIGH* JNIM in Mopti: 25 events"

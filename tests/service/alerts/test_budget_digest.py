"""The alert budget and the weekly digest: the largest escalation of a country and month alerts,
the others wait for the digest; the digest is one signed message per subscription per week, to a
real local receiver, listing open escalations by size. A cross-border actor is one escalation."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine

from service.alerts.digest import deliver_digest
from service.alerts.service import SubscriptionSpec, subscribe
from service.alerts.signing import verify
from service.config import Settings
from service.db import session_scope
from service.escalations.budget import within_budget
from service.escalations.headline import headline
from service.escalations.repository import EscalationFilter, get_escalation, list_escalations
from service.escalations.service import group
from tests.service.alerts.conftest import deliver, reaching_the_hook
from tests.service.alerts.receiver import Receiver
from tests.service.api.builders import make_anomaly, make_key
from tests.service.api.conftest import make_client
from tests.service.builders import make_series

MAY, JUNE = dt.date(2023, 5, 1), dt.date(2023, 6, 1)
MONDAY = dt.datetime(2023, 7, 3, 9, 0)  # ISO week 2023-W27


@pytest.fixture
def local(settings: Settings) -> Settings:
    return reaching_the_hook(settings, alert_budget_per_country_month=1)


def _verified(request_body: bytes, headers: dict[str, str], secret: str) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    sent = int(lowered["x-sahelcast-timestamp"])  # no wall clock: the check is the HMAC
    return verify(secret, lowered["x-sahelcast-signature"], request_body, now=sent)


def test_the_largest_escalation_alerts_and_the_digest_lists_all_once_a_week(
    engine: Engine, local: Settings, hook: Receiver
) -> None:
    with session_scope(engine) as session:
        # Three escalations in Mali in June (three actors, three trees), of three sizes.
        sizes = {"JNIM": 45, "ISGS": 12, "Fishers": 9}
        made = {}
        for actor, observed in sizes.items():
            s = make_series(session, [3.0] * 12, country="Mali", region="Mopti", actor=actor,
                            start=dt.date(2022, 7, 1))  # fmt: skip
            made[actor] = make_anomaly(session, s, month=JUNE, observed=observed,
                                       severity="medium")  # fmt: skip
        group(session, list(made.values()))
        assert all(a.alert for a in made.values())  # each opens its escalation ...
        dropped = within_budget(session, list(made.values()), budget=1)
        # ... but only the largest alerts on its own: the rest wait for the digest.
        assert {a.id for a in dropped} == {made["ISGS"].id, made["Fishers"].id}
        assert [a.alert for a in made.values()] == [True, False, False]
        escalations = {a: get_escalation(session, m.escalation_id or 0) for a, m in made.items()}
        assert {a: e.alerts for a, e in escalations.items() if e} == {
            "JNIM": 1, "ISGS": 0, "Fishers": 0}  # fmt: skip
        # An earlier detection's alert counts against the same country and month.
        late = make_series(session, [3.0] * 12, country="Mali", region="Gao", actor="Wagner",
                           start=dt.date(2022, 7, 1))  # fmt: skip
        later = make_anomaly(session, late, month=JUNE, observed=90, severity="high")
        group(session, [later])
        assert within_budget(session, [later], budget=1) == [later]
        _, secret = subscribe(session, SubscriptionSpec(name="mali", url=hook.url,
                                                        country="Mali"), local)  # fmt: skip
    assert deliver(engine, local) == {"delivered": 1, "failed": 0, "deferred": 0}
    [alert] = hook.requests
    assert json.loads(alert.body)["escalation"]["actor"] == "JNIM"

    with session_scope(engine) as session:
        summary = deliver_digest(session, local, now=MONDAY, sleep=lambda _: None)
    assert (summary.delivered, summary.failed) == (1, 0)
    digest = hook.requests[-1]
    assert _verified(digest.body, digest.headers, secret)
    body = json.loads(digest.body)
    assert (body["type"], body["week"]) == ("sahelcast.digest", "2023-W27")
    # Every open escalation of the subscription, the largest first.
    assert [e["actor"] for e in body["escalations"]] == ["Wagner", "JNIM", "ISGS", "Fishers"]
    assert "Wagner in Gao: 90 events vs 6 expected" in body["text"]
    # Once a week: again this week sends nothing; next week it goes out again.
    with session_scope(engine) as session:
        again = deliver_digest(session, local, now=MONDAY + dt.timedelta(days=4))
    assert (again.delivered, len(hook.requests)) == (0, 2)
    with session_scope(engine) as session:
        deliver_digest(session, local, now=MONDAY + dt.timedelta(days=7), sleep=lambda _: None)
    assert len(hook.requests) == 3
    assert json.loads(hook.requests[-1].body)["week"] == "2023-W28"


def test_a_cross_border_actor_escalation_is_one_and_names_no_single_region(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        mali = make_series(session, [3.0] * 12, country="Mali", region="Mopti", actor="JNIM")
        burkina = make_series(session, [3.0] * 12, country="Burkina Faso", region="Sahel",
                              actor="JNIM")  # fmt: skip
        parts = [make_anomaly(session, mali, month=MAY, observed=31),
                 make_anomaly(session, burkina, month=JUNE, observed=45)]  # fmt: skip
        group(session, parts)
        assert parts[0].escalation_id == parts[1].escalation_id
        [one] = list_escalations(session, EscalationFilter(actor="JNIM"))[0]
        # Found by either country it reaches.
        for country in ("Mali", "Burkina Faso"):
            found = list_escalations(session, EscalationFilter(country=country))[0]
            assert [e.id for e in found] == [one.id]
        admin = make_key(session, "admin")
    with make_client(settings) as api:
        key = {"X-API-Key": admin}
        [read] = api.get("/v1/escalations?country=Burkina Faso", headers=key).json()["items"]
    assert read["countries"] == ["Mali", "Burkina Faso"]
    assert read["headline"] == headline(one)
    line = headline(one)
    assert line.startswith("JNIM in Mali and Burkina Faso (2 regions): ")
    assert "Mopti" not in line
    assert "Sahel" not in line
    assert line.endswith("since May 2023")


def test_a_headline_says_who_where_how_much_and_since_when(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        mopti = make_series(session, [3.0] * 12, country="Mali", region="Mopti", actor="JNIM")
        first = make_anomaly(session, mopti, month=MAY, observed=31)
        again = make_anomaly(session, mopti, month=JUNE, observed=45)
        again.expected = 18.0
        group(session, [first])
        group(session, [again])
        read = get_escalation(session, again.escalation_id or 0)
    assert read is not None
    assert headline(read) == "JNIM in Mopti: 45 events vs 18 expected (+150 %), since May 2023"

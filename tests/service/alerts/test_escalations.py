"""One alert per escalation: a surge flagged at every level of a tree groups into one escalation,
sends one webhook (to a real local receiver), and re-alerts only when it gets worse."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from service.alerts.service import SubscriptionSpec, subscribe
from service.anomalies.orm import Anomaly
from service.config import Settings
from service.db import session_scope
from service.escalations.orm import Escalation
from service.escalations.service import group
from service.series.orm import Series
from tests.service.alerts.conftest import deliver, reaching_the_hook
from tests.service.alerts.receiver import Receiver
from tests.service.api.builders import make_anomaly, make_key
from tests.service.api.conftest import make_client
from tests.service.builders import make_series

OCT = dt.date(2021, 10, 1)
NOV = dt.date(2021, 11, 1)
DEC = dt.date(2021, 12, 1)
FEB = dt.date(2022, 2, 1)
PUBLIC = "https://sahelcast.example.org"


@pytest.fixture
def local(settings: Settings) -> Settings:
    return reaching_the_hook(settings, public_url=PUBLIC + "/")


def _tree(session: Session) -> dict[str, Series]:
    """The geography tree of a region surge: region × type, region, country; plus a quiet
    region and an actor series (another tree)."""
    zeros = [0.0] * 12
    return {
        "type": make_series(session, zeros, region="Cascades", event_type="Battles"),
        "region": make_series(session, zeros, region="Cascades"),
        "country": make_series(session, zeros),
        "other": make_series(session, zeros, region="Nord"),
        "actor": make_series(session, zeros, region="Cascades", actor="JNIM"),
    }


def _flag(session: Session, series: list[Series], month: dt.date, severity: str) -> list[Anomaly]:
    made = [make_anomaly(session, s, month=month, severity=severity) for s in series]
    group(session, made)
    return made


def test_a_region_surge_at_every_level_is_one_escalation_and_one_webhook(
    engine: Engine, local: Settings, hook: Receiver
) -> None:
    with session_scope(engine) as session:
        tree = _tree(session)
        ids = {name: s.id for name, s in tree.items()}
        # A subscriber to the region hears of the surge though its headline is the country.
        subscribe(session, SubscriptionSpec(name="cascades", url=hook.url, region="cascades"),
                  local)  # fmt: skip
        made = _flag(session, [tree["type"], tree["region"], tree["country"]], OCT, "medium")
        assert [a.alert for a in made] == [False, False, True]  # the broadest level speaks
        assert len({a.escalation_id for a in made}) == 1

    assert deliver(engine, local) == {"delivered": 1, "failed": 0, "deferred": 0}
    [request] = hook.requests
    payload = json.loads(request.body)
    escalation = payload["escalation"]
    assert escalation["headline_level"] == "country"
    assert escalation["headline_series_id"] == ids["country"]
    assert escalation["months"] == ["2021-10-01"]
    assert escalation["severity"] == "medium"
    assert [p["series_id"] for p in escalation["parts"]] == [
        ids["country"],
        ids["region"],
        ids["type"],
    ]
    # The link opens the escalation (all its months), on its headline series.
    assert payload["link"] == (
        f"{PUBLIC}/?series={ids['country']}&escalation={escalation['id']}#anomalies"
    )
    assert "significant up to country level, 3 series flagged in 2021-10" in payload["text"]
    assert deliver(engine, local) == {"delivered": 0, "failed": 0, "deferred": 0}

    # November makes it worse (high): one re-alert for the same escalation.
    with session_scope(engine) as session:
        series = {s.id: s for s in session.scalars(select(Series))}
        worse = _flag(session, [series[ids["type"]], series[ids["country"]]], NOV, "high")
        assert [a.alert for a in worse] == [False, True]
    assert deliver(engine, local) == {"delivered": 1, "failed": 0, "deferred": 0}
    second = json.loads(hook.requests[1].body)["escalation"]
    assert second["id"] == escalation["id"]
    assert second["alerts"] == 2
    assert second["severity"] == "high"
    assert second["months"] == ["2021-10-01", "2021-11-01"]

    # December goes on no worse, in no new region and no broader level: no alert.
    with session_scope(engine) as session:
        series = {s.id: s for s in session.scalars(select(Series))}
        same = _flag(session, [series[ids["region"]]], DEC, "medium")
        assert [a.alert for a in same] == [False]
        assert same[0].escalation_id == escalation["id"]
    assert deliver(engine, local) == {"delivered": 0, "failed": 0, "deferred": 0}
    assert len(hook.requests) == 2

    # After a quiet month a new surge is a new escalation; another tree is its own.
    with session_scope(engine) as session:
        series = {s.id: s for s in session.scalars(select(Series))}
        later = _flag(session, [series[ids["country"]]], FEB, "low")
        actor = _flag(session, [series[ids["actor"]]], FEB, "low")
        assert later[0].alert
        assert actor[0].alert
        assert len({escalation["id"], later[0].escalation_id, actor[0].escalation_id}) == 3
        escalations = list(session.scalars(select(Escalation).order_by(Escalation.id)))
        assert [(e.tree, e.first_month, e.last_month, e.parts, e.alerts) for e in escalations] == [
            ("geography", OCT, DEC, 6, 2),
            ("geography", FEB, FEB, 1, 1),
            ("actor", FEB, FEB, 1, 1),
        ]


def test_a_new_region_flagged_in_total_re_alerts_an_escalation(engine: Engine) -> None:
    with session_scope(engine) as session:
        tree = _tree(session)
        nord_type = make_series(session, [0.0] * 12, region="Nord", event_type="Riots")
        first = _flag(session, [tree["region"], tree["country"]], OCT, "high")
        # One region × type series of Nord is flagged by chance as often as not: no re-alert.
        chance = _flag(session, [nord_type], NOV, "high")
        spread = _flag(session, [tree["other"]], DEC, "high")
        assert [a.alert for a in first] == [False, True]
        assert [a.alert for a in chance] == [False]
        assert spread[0].alert  # Nord's total joins: a new region, though no worse
        assert first[0].escalation_id == chance[0].escalation_id == spread[0].escalation_id


def test_the_grouped_view_lists_escalations_with_their_parts(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        tree = _tree(session)
        key = make_key(session, "read")
        _flag(session, [tree["type"], tree["region"], tree["country"]], OCT, "medium")
        _flag(session, [tree["actor"]], OCT, "low")
    with make_client(settings) as api:
        headers = {"X-API-Key": key}
        page: dict[str, Any] = api.get("/v1/escalations", headers=headers).json()
        assert page["total"] == 2
        geography = next(e for e in page["items"] if e["tree"] == "geography")
        assert geography["headline_level"] == "country"
        assert geography["months"] == ["2021-10-01"]
        assert [p["series"]["level"] for p in geography["parts"]] == [
            "country",
            "region",
            "region_type",
        ]
        actor = api.get("/v1/escalations", headers=headers, params={"actor": "jnim"}).json()
        assert [e["actor"] for e in actor["items"]] == ["JNIM"]
        one = api.get(f"/v1/escalations/{geography['id']}", headers=headers)
        assert one.json()["parts"] == geography["parts"]
        assert api.get("/v1/escalations/999999", headers=headers).status_code == 404
        flat = api.get("/v1/anomalies", headers=headers).json()["items"]
        assert {a["escalation_id"] for a in flat} == {e["id"] for e in page["items"]}


def test_months_that_arrive_together_alert_once_from_the_latest(engine: Engine) -> None:
    with session_scope(engine) as session:
        tree = _tree(session)
        made = [
            make_anomaly(session, tree["region"], month=OCT, severity="low"),
            make_anomaly(session, tree["country"], month=NOV, severity="high"),
        ]
        [escalation] = group(session, made)
        assert [a.alert for a in made] == [False, True]
        assert escalation.alerts == 1
        assert escalation.headline_level == "country"
        assert (escalation.first_month, escalation.last_month) == (OCT, NOV)


def test_a_subscriber_that_missed_a_step_gets_one_message_with_all_of_it(
    engine: Engine, local: Settings, hook: Receiver
) -> None:
    with session_scope(engine) as session:
        tree = _tree(session)
        subscribe(session, SubscriptionSpec(name="high", url=hook.url, min_severity="high"),
                  local)  # fmt: skip
        _flag(session, [tree["region"], tree["country"]], OCT, "medium")
    assert deliver(engine, local) == {"delivered": 0, "failed": 0, "deferred": 0}
    with session_scope(engine) as session:
        series = {s.id: s for s in session.scalars(select(Series))}
        _flag(session, [series[tree["country"].id]], NOV, "high")
    # The October step (medium) is superseded by November's: one webhook, both months in it.
    assert deliver(engine, local) == {"delivered": 1, "failed": 0, "deferred": 0}
    [request] = hook.requests
    assert json.loads(request.body)["escalation"]["months"] == ["2021-10-01", "2021-11-01"]


def test_months_out_of_order_join_the_escalation_they_touch(engine: Engine) -> None:
    with session_scope(engine) as session:
        tree = _tree(session)
        late = _flag(session, [tree["country"]], DEC, "low")
        early = _flag(session, [tree["region"]], dt.date(2021, 3, 1), "low")
        between = _flag(session, [tree["type"]], NOV, "low")
        assert early[0].escalation_id != late[0].escalation_id  # months apart: two
        assert between[0].escalation_id == late[0].escalation_id  # next to December: joins
        joined = session.get(Escalation, late[0].escalation_id)
        assert joined is not None
        assert (joined.first_month, joined.last_month) == (NOV, DEC)

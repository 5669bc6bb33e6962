"""Live is live: backtest flags are evaluation history. A live flag and its backtest twin never
show together unless asked for (repository, API, CLI, dashboard, escalations), a backtest
escalation never says it alerted, and acknowledging a flag is done once (its twin with it)."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine
from typer.testing import CliRunner

from service.anomalies.repository import list_anomalies
from service.anomalies.schemas import AnomalyFilter
from service.anomalies.service import acknowledge
from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.escalations.repository import EscalationFilter, list_escalations
from service.escalations.service import group
from tests.service.api.builders import make_anomaly, make_key
from tests.service.api.conftest import make_client
from tests.service.builders import make_series

MONTH = dt.date(2021, 10, 1)
runner = CliRunner(env={"COLUMNS": "200"})


def test_a_live_flag_and_its_backtest_twin_never_show_together_by_default(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        series = make_series(session, [3.0] * 12, region="Mopti", country="Mali", actor="JNIM")
        live = make_anomaly(session, series, month=MONTH, origin="live")
        twin = make_anomaly(session, series, month=MONTH, origin="backtest")
        group(session, [live])
        group(session, [twin])
        ids = {"live": live.id, "backtest": twin.id}
        admin = make_key(session, "admin")
    with session_scope(engine) as session:
        assert [a.id for a in list_anomalies(session)[0]] == [ids["live"]]
        asked = list_anomalies(session, AnomalyFilter(origin="backtest"))[0]
        assert [a.id for a in asked] == [ids["backtest"]]
        [escalation] = list_escalations(session)[0]
        assert escalation.origin == "live"
        assert escalation.alerts == 1
        [history] = list_escalations(session, EscalationFilter(origin="backtest"))[0]
        # Evaluation history: nothing was sent, so nothing says it was.
        assert (history.alerts, history.parts[0].anomaly_ids) == (0, [ids["backtest"]])
    key = {"X-API-Key": admin}
    with make_client(settings) as api:
        listed = api.get("/v1/anomalies", headers=key).json()
        assert [a["id"] for a in listed["items"]] == [ids["live"]]
        assert listed["total"] == 1
        asked_api = api.get("/v1/anomalies?origin=backtest", headers=key).json()
        assert [a["id"] for a in asked_api["items"]] == [ids["backtest"]]
        escalations = api.get("/v1/escalations", headers=key).json()["items"]
        assert [e["origin"] for e in escalations] == ["live"]
        result = runner.invoke(app, ["anomalies", "list", "-f", "json"])
        assert result.exit_code == 0, result.output
        assert [a["id"] for a in json.loads(result.output)] == [ids["live"]]
        # Acknowledged once: the twin goes with it, and again keeps the first time.
        assert api.post(f"/v1/anomalies/{ids['live']}/acknowledge", headers=key).status_code == 200
        with session_scope(engine) as session:
            both = list_anomalies(session, AnomalyFilter(origin=None))[0]
            assert {a.status for a in both} == {"acknowledged"}
            first = {a.id: a.acknowledged_at for a in both}
            again = acknowledge(session, ids["backtest"])
            assert again.acknowledged_at == first[ids["backtest"]]


def test_the_dashboard_lists_live_flags_unless_the_backtest_is_asked_for(
    engine: Engine, settings: Settings
) -> None:
    with session_scope(engine) as session:
        series = make_series(session, [3.0] * 12, region="Mopti", country="Mali", actor="JNIM")
        live = make_anomaly(session, series, month=MONTH, origin="live", observed=31)
        twin = make_anomaly(session, series, month=MONTH, origin="backtest", observed=29)
        group(session, [live])
        group(session, [twin])
        escalation_id = live.escalation_id
    with make_client(settings, public_read=True) as api:
        page = api.get(f"/?series={series.id}").text
        assert f'id="anomaly-{live.id}"' in page
        assert f'id="anomaly-{twin.id}"' not in page
        assert "Show backtest flags" in page
        # The escalation is told by its headline: who, where, how much, since when.
        assert "JNIM in Mopti: 31 events vs 6 expected (+400 %), since October 2021" in page
        asked = api.get(f"/?series={series.id}&origin=backtest").text
        assert f'id="anomaly-{twin.id}"' in asked
        assert f'id="anomaly-{live.id}"' not in asked
        assert "· alerted" not in asked  # a backtest flag never says it alerted
        # The escalation's link opens the escalation: all its flagged months.
        assert f"escalation={escalation_id}" in page
        opened = api.get(f"/?series={series.id}&escalation={escalation_id}").text
        assert f"The months of escalation #{escalation_id}" in opened
        assert f'id="anomaly-{live.id}"' in opened

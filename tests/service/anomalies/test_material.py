"""A flag is a material change judged by the published run's own distribution: +165 deaths is
high and leads the list; a two-event blip in a quiet series is not an alert at all; a flag's
interval and tail probability are the run's published quantiles'."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine, select

from models.base import QUANTILE_COLUMNS
from service.alerts.digest import open_escalations
from service.anomalies.detect import detect
from service.anomalies.orm import Anomaly
from service.anomalies.scoring import tail_probability
from service.anomalies.severity import SEVERITY_RANK, severity
from service.config import Settings
from service.db import session_scope
from service.series.orm import Coverage, Observation
from service.training.orm import QUANTILE_FIELDS, Forecast
from service.training.service import TrainRequest, train_measures
from tests.service.anomalies.test_fatalities import _deaths
from tests.service.builders import make_series, make_world

JAN = dt.date(2023, 1, 1)


def test_plus_165_deaths_outranks_a_two_event_blip(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        world = make_world(session, regions=("Nord", "Sahel", "Est"), base=6.0)
        _deaths(session, world)
        quiet = np.zeros(84)
        quiet[::9] = 1  # fishers in Est: an event now and then
        fishers = make_series(session, quiet, region="Est", actor="Fishers")
    outcome = train_measures(engine, train_settings, TrainRequest.from_settings(train_settings))
    runs = {o.measure: o.run_id for o in outcome.outcomes}
    nord = world[0]
    with session_scope(engine) as session:
        detect(session)  # the backtests, out of the way
        forecasts = {
            (m, s.id): session.get(Forecast, (run_id, s.id, JAN))
            for m, run_id in runs.items()
            for s in [*world, fishers]
        }
        for s in [*world, fishers]:
            events, deaths = (forecasts[(m, s.id)] for m in ("events", "fatalities"))
            assert events is not None
            assert deaths is not None
            counts = {"events": int(events.q500), "fatalities": int(deaths.q500)}
            if s.id == nord.id:  # a massacre: 165 deaths more than expected
                counts["fatalities"] = int(round(deaths.mean + 165))
            if s.id == fishers.id:  # a blip: two events more than expected, beyond the interval
                counts["events"] = max(int(events.q975) + 1, int(round(events.mean + 2)))
            session.add(Observation(series_id=s.id, month=JAN, **counts))
        coverage = session.scalar(select(Coverage))
        assert coverage is not None
        coverage.last_complete_month = JAN
    with session_scope(engine) as session:
        report = detect(session)
        live = session.scalars(select(Anomaly).where(Anomaly.origin == "live")).all()
        by = {(a.series_id, a.measure): a for a in live}
        massacre = by[(nord.id, "fatalities")]
        assert massacre.severity == "high"
        assert (fishers.id, "events") not in by  # below the size floor: no flag, no alert
        assert all(a.series_id != fishers.id for a in report.alerts)
        # Had it been flagged, it would rank below: severity is size and evidence.
        blip = severity(1e-9, 2.0, "events")
        assert SEVERITY_RANK[massacre.severity] > SEVERITY_RANK[blip]
        # The escalations' list leads with the massacre.
        first = open_escalations(session)[0]
        assert any(p.series.id == nord.id and p.measure == "fatalities" for p in first.parts)
        # One truth: the interval and tail probability are the published run's quantiles'.
        judged = forecasts[("fatalities", nord.id)]
        assert judged is not None
        grid = [getattr(judged, f) for f in QUANTILE_FIELDS]
        assert (massacre.lower, massacre.upper) == (judged.q025, judged.q975)
        assert massacre.expected == judged.mean
        assert massacre.tail_probability == tail_probability(
            massacre.observed, judged.mean, grid, "above"
        )
        assert len(grid) == len(QUANTILE_COLUMNS)

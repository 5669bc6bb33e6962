"""The desk's world: the web world (Burkina Faso) plus Mali and Niger, with the engine's
outlook totals, backtest forecasts of the last months, level states and an escalation.

Outlook intervals are deliberately unlike any sum of monthly intervals, so a page that showed
anything but the stored outlook would be caught. Like the other builders, this only flushes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly
from service.escalations.orm import Escalation
from service.series.orm import Series
from service.training.orm import BacktestForecast, Forecast, Outlook, Run, SeriesState
from tests.service.builders import make_series, month_after, seasonal_counts
from tests.service.web.builders import COUNTRY, MONTHS, WebWorld, _result, make_web_world

# Conflict data's names (as ingest folds them): Ménaka and Tombouctou included.
MALI = ("Bamako", "Gao", "Kayes", "Kidal", "Koulikoro", "Menaka", "Mopti", "Segou", "Sikasso",
        "Tombouctou")  # fmt: skip
NIGER = ("Agadez", "Diffa", "Dosso", "Maradi", "Niamey", "Tahoua", "Tillaberi", "Zinder")
LAST = dt.date(2022, 12, 1)
POLYGONS = {"Burkina Faso": 13, "Mali": 9, "Niger": 8}


@dataclass
class DeskWorld:
    web: WebWorld
    series: dict[str, Series] = field(default_factory=dict)  # every series by key
    outlook: dict[tuple[int, str], Outlook] = field(default_factory=dict)  # (series id, measure)
    escalation: Escalation | None = None

    def id(self, country: str, region: str | None = None, actor: str | None = None) -> int:
        key = "|".join(["ucdp", country, region or "*", actor or "*", "*"])
        return self.series[key].id


def make_desk_world(session: Session) -> DeskWorld:
    """The web world with its fatalities run, Mali and Niger regions and totals, JNIM in Mali
    too (an actor across two countries), outlooks of 3/6/12 months for every series of both
    runs, the last three months' backtest forecasts, a level shift up in Mali's Mopti, and an
    open escalation in Burkina Faso's Sahel."""
    web = make_web_world(session, fatalities=True)
    assert web.run is not None
    assert web.fatalities_run is not None
    world = DeskWorld(web, dict(web.series))
    counts: dict[str, np.ndarray] = {}
    specs: list[tuple[str, str | None, str | None, float]] = [("Mali", None, None, 30.0),
             ("Mali", None, "JNIM", 12.0), ("Niger", None, None, 6.0)]  # fmt: skip
    specs += [("Mali", r, None, 1.0 + i) for i, r in enumerate(MALI)]
    specs += [("Niger", r, None, 0.5 + i / 2) for i, r in enumerate(NIGER)]
    specs += [("Mali", "Mopti", "JNIM", 5.0)]
    for i, (country, region, actor, base) in enumerate(specs):
        y = seasonal_counts(MONTHS, base=base, rate_ratio=0.8, seed=100 + i)
        series = make_series(session, y, country=country, region=region, actor=actor)
        world.series[series.key] = series
        counts[series.key] = y
        _result(session, web.run, series, y, None, 0.8)
        _result(session, web.fatalities_run, series, 3 * y, None, 0.8)
    # Mopti's battles: a region × event type series (geography tree), no actor involved.
    y = seasonal_counts(MONTHS, base=3.0, rate_ratio=0.8, seed=99)
    battles = make_series(session, y, country="Mali", region="Mopti",
                          event_type="State-based conflict")  # fmt: skip
    world.series[battles.key] = battles
    _result(session, web.run, battles, y, None, 0.8)
    _result(session, web.fatalities_run, battles, 3 * y, None, 0.8)
    # ... and Mali's battles (country × event type): the same months, Mopti being their only
    # region with battles here
    country_battles = make_series(session, y, country="Mali", event_type="State-based conflict")
    world.series[country_battles.key] = country_battles
    _result(session, web.run, country_battles, y, None, 0.8)
    _result(session, web.fatalities_run, country_battles, 3 * y, None, 0.8)
    for run in (web.run, web.fatalities_run):
        _outlooks(session, world, run)
        _backtests(session, world, run)
    mopti = world.id("Mali", "Mopti")
    shift = SeriesState(run_id=web.run.id, series_id=mopti, month=month_after(LAST, -1),
                        level=9.0, p_shift_up=0.83, p_shift_down=0.01, p_outlier=0.02)  # fmt: skip
    session.add(shift)
    world.escalation = _escalation(session, world, web)
    session.flush()
    return world


def _outlooks(session: Session, world: DeskWorld, run: Run) -> None:
    """Every series' 3/6/12-month totals: mean the sum of its forecast means, and an 80 %
    interval of ±30 % of it (narrower than the monthly intervals summed)."""
    rows = session.execute(
        select(Forecast.series_id, Forecast.horizon, Forecast.mean).where(Forecast.run_id == run.id)
    ).all()
    for series in world.series.values():
        means = sorted((h, m) for sid, h, m in rows if sid == series.id)
        for months in (3, 6, 12):
            total = float(sum(m for h, m in means if h <= months))
            outlook = Outlook(run_id=run.id, series_id=series.id, months=months,
                              first_month=dt.date(2023, 1, 1), mean=total,
                              q025=float(np.floor(total * 0.6)), q100=float(np.floor(total * 0.7)),
                              q250=float(np.floor(total * 0.85)), q500=float(np.round(total)),
                              q750=float(np.ceil(total * 1.15)), q900=float(np.ceil(total * 1.3)),
                              q975=float(np.ceil(total * 1.5)))  # fmt: skip
            session.add(outlook)
            if months == 6:
                world.outlook[(series.id, run.measure)] = outlook
    session.flush()


def _backtests(session: Session, world: DeskWorld, run: Run) -> None:
    """The forecast of each of the last three months, from the month before it: 2.5 each."""
    for series in world.series.values():
        for back in range(3):
            month = month_after(LAST, -back)
            session.add(BacktestForecast(
                run_id=run.id, series_id=series.id, month=month, origin=month_after(month, -1),
                horizon=1, observed=0, mean=2.5, q025=0.0, q100=1.0, q250=1.0, q500=2.0,
                q750=3.0, q900=5.0, q975=6.0, in_season=False))  # fmt: skip
    session.flush()


def _escalation(session: Session, world: DeskWorld, web: WebWorld) -> Escalation:
    """Sahel's new anomaly of 2022, made an escalation running in November 2022."""
    sahel = web.id("Sahel")
    anomaly = session.scalar(select(Anomaly).where(Anomaly.series_id == sahel))
    assert anomaly is not None
    anomaly.month = month_after(LAST, -1)
    series = session.get(Series, sahel)
    assert series is not None
    escalation = Escalation(origin="live", source_id=series.source_id, country=COUNTRY,
                            tree="geography", actor_id=None, direction="above",
                            first_month=anomaly.month, last_month=anomaly.month,
                            headline_level="region", headline_series_id=sahel,
                            severity=anomaly.severity, parts=1, alerts=1)  # fmt: skip
    session.add(escalation)
    session.flush()
    anomaly.escalation_id = escalation.id
    session.flush()
    return escalation

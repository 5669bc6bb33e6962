"""What a candidate flag is judged with besides its forecast, read from the database: the
country's total that month, and the engine's shift probability from the latest readable run
that saw the month (more evidence: a flag the tail alone would not carry passes with it)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine

from models.base import QUANTILE_COLUMNS
from service.anomalies.context import with_context
from service.anomalies.scoring import flag
from service.db import session_scope
from service.training.orm import SeriesState
from tests.service.api.builders import make_run
from tests.service.builders import make_series

JULY = dt.date(2021, 7, 1)
GRID = [2.0, 3.0, 4.0, 6.0, 8.0, 10.0, 12.0]


def test_the_country_total_and_the_latest_runs_shift_probability(engine: Engine) -> None:
    with session_scope(engine) as session:
        start = dt.date(2021, 1, 1)
        series = make_series(session, [4, 5, 6, 5, 4, 6, 13], region="Nord", actor="JNIM",
                             start=start)  # fmt: skip
        make_series(session, [20, 22, 25, 21, 20, 23, 40], start=start)  # the country's total
        older, newer = make_run(session), make_run(session)
        fatalities = make_run(session, measure="fatalities")
        for run, p_up in ((older, 0.1), (newer, 0.8), (fatalities, 0.0)):
            session.add(SeriesState(run_id=run.id, series_id=series.id, month=JULY, level=5.0,
                                    p_shift_up=p_up, p_shift_down=0.0, p_outlier=0.1))  # fmt: skip
        session.flush()
        frame = pd.DataFrame([{
            "series_id": series.id, "month": JULY, "measure": "events", "observed": 13,
            "mean": 6.0, **dict(zip(QUANTILE_COLUMNS, GRID, strict=True)),
        }])  # fmt: skip
        judged = with_context(session, frame)
    assert judged["country_total"].tolist() == [40.0]
    assert judged["p_shift_up"].tolist() == [0.8]  # the latest events run's, not the deaths'
    # 13 against a 97.5 % quantile of 12 is 1 in 80: not evidence alone, with the shift it is.
    assert flag(frame, 0.95).empty
    assert flag(judged, 0.95)["direction"].tolist() == ["above"]

"""What a run trains on: the series selection, their data, and the data's fingerprint."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import Engine

from service.db import session_scope
from service.series.repository import SeriesFilter, get_series, training_series
from service.training.data import data_signature, load_series, select_series
from tests.service.builders import add_months, extend_series, make_series, month_after


def test_bulk_loader_matches_training_series(engine: Engine) -> None:
    with session_scope(engine) as session:
        dense = make_series(session, [3, 0, 0, 5, 1, 0], region="Sahel", actor="JNIM")
        sparse = make_series(session, [0, 0, 2, 0, 0, 0], region="Nord", actor="JNIM")
        # A partial month after coverage: its count must not be modelled.
        add_months(session, dense, [7], month_after(dt.date(2016, 1, 1), 6))
    with session_scope(engine) as session:
        infos = [info for s in (dense, sparse) if (info := get_series(session, s.id))]
        assert len(infos) == 2
        loaded = load_series(session, infos)
        for info in infos:
            expected = training_series(session, info)
            pd.testing.assert_series_equal(loaded[info.id], expected, check_names=False)
    assert loaded[dense.id].tolist() == [3, 0, 0, 5, 1, 0]


def test_selection_counts_events_inside_coverage_only(engine: Engine) -> None:
    with session_scope(engine) as session:
        busy = make_series(session, [5] * 24, region="Sahel", actor="JNIM")
        quiet = make_series(session, [1] + [0] * 23, region="Nord", actor="JNIM")
        add_months(session, quiet, [50], month_after(dt.date(2016, 1, 1), 24))  # beyond coverage
    with session_scope(engine) as session:
        chosen = select_series(session, SeriesFilter(), min_events=10)
        assert [s.id for s in chosen] == [busy.id]
        assert [s.id for s in select_series(session, SeriesFilter(region="Nord"), 1)] == [quiet.id]


def test_signature_moves_with_coverage_and_counts_not_otherwise(engine: Engine) -> None:
    with session_scope(engine) as session:
        series = make_series(session, [4] * 12 + [0] + [4] * 11, region="Sahel", actor="JNIM")

    def signature() -> str:
        with session_scope(engine) as session:
            infos = select_series(session, SeriesFilter(), 1)
            return data_signature(session, infos, {"candidates": []})

    first = signature()
    assert signature() == first
    with session_scope(engine) as session:
        add_months(session, session.merge(series), [3], dt.date(2017, 1, 1))  # a correction
    corrected = signature()
    assert corrected != first
    with session_scope(engine) as session:
        extend_series(session, session.merge(series), [2])
    assert signature() != corrected

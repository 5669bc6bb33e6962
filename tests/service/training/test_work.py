"""The work function's output frames: what goes from a worker to the database."""

from __future__ import annotations

import pandas as pd

from service.training.work import _iso_months


def test_month_columns_travel_as_iso_dates_stored_once_per_month() -> None:
    months = pd.Series(pd.to_datetime(["2022-06-01", "2022-07-01", None, "2022-06-01"]))
    out = pd.Series(_iso_months(months))
    assert out.dtype == "category"
    assert list(out.cat.categories) == ["2022-06-01", "2022-07-01"]  # each month once
    # the values the bulk writers send: ISO strings, and None where the month is unknown
    assert out.tolist()[:2] == ["2022-06-01", "2022-07-01"]
    assert out.tolist()[3] == "2022-06-01"
    assert out.isna().tolist() == [False, False, True, False]

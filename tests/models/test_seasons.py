"""Rainy-season calendars: lookup order, day shares, features."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.seasons import (
    RainyCalendar,
    SeasonWindow,
    fourier_terms,
    normalize_place,
    season_features,
)
from tests.models.builders import month_index

TABLE = pd.DataFrame(
    {
        "country": ["", "Mali", "Mali"],
        "region": ["", "", "Gao"],
        "start_month": [6, 6, 7],
        "start_day": [1, 15, 1],
        "end_month": [9, 9, 9],
        "end_day": [30, 15, 15],
    }
)


def test_region_overrides_country_overrides_default() -> None:
    cal = RainyCalendar(TABLE)
    assert cal.window("Mali", "Gao region") == SeasonWindow(7, 1, 9, 15)
    assert cal.window("Mali", "Kidal") == SeasonWindow(6, 15, 9, 15)
    assert cal.window("Niger", "Gao") == SeasonWindow(6, 1, 9, 30)
    assert cal.window() == SeasonWindow(6, 1, 9, 30)


def test_without_rows_the_sahel_default_applies() -> None:
    empty = TABLE.iloc[:0]
    assert RainyCalendar(empty).window("Chad") == SeasonWindow(6, 1, 9, 30)


def test_bundled_calendar_reads_the_csv() -> None:
    cal = RainyCalendar()
    assert cal.window("Burkina Faso", "Sahel region") == SeasonWindow(7, 1, 9, 15)
    assert cal.window("burkina faso", "Centre Nord region") == SeasonWindow(6, 15, 9, 30)
    assert cal.window("Burkina Faso", "Boucle du Mouhoun region") == SeasonWindow(6, 1, 9, 30)


def test_calendar_from_edited_csv(tmp_path: object) -> None:
    path = tmp_path / "seasons.csv"  # type: ignore[operator]
    TABLE.to_csv(path, index=False)
    assert RainyCalendar.from_csv(path).window("Mali", "Gao") == SeasonWindow(7, 1, 9, 15)


@pytest.mark.parametrize(
    ("name", "folded"),
    [("Centre-Nord region", "centre nord"), ("Ségou", "segou"), (None, ""), ("  Sahel ", "sahel")],
)
def test_place_names_are_folded(name: str | None, folded: str) -> None:
    assert normalize_place(name) == folded


def test_share_counts_the_days_in_season() -> None:
    window = SeasonWindow(6, 15, 9, 15)
    assert window.share(2021, 5) == 0.0
    assert window.share(2021, 6) == pytest.approx(16 / 30)
    assert window.share(2021, 7) == 1.0
    assert window.share(2021, 9) == pytest.approx(15 / 30)


def test_a_window_may_wrap_over_the_new_year() -> None:
    window = SeasonWindow(11, 16, 2, 14)
    assert window.share(2023, 11) == pytest.approx(15 / 30)
    assert window.share(2023, 12) == 1.0
    assert window.share(2024, 1) == 1.0
    assert window.share(2024, 2) == pytest.approx(14 / 29)
    assert window.share(2024, 3) == 0.0


def test_season_features_columns() -> None:
    idx = month_index(12, "2022-01-01")
    X = season_features(idx, country="Burkina Faso", region="Sahel region")
    assert list(X.columns) == ["season_share", "in_season", "season_x_trend"]
    np.testing.assert_allclose(X["season_share"], [0] * 6 + [1, 1, 0.5] + [0] * 3)
    np.testing.assert_array_equal(X["in_season"], [0] * 6 + [1, 1, 1] + [0] * 3)
    assert X["season_x_trend"].iloc[6] == pytest.approx(22.5)
    assert X["season_x_trend"].iloc[0] == 0.0


def test_features_of_separate_spans_line_up() -> None:
    idx = month_index(36)
    whole = season_features(idx)
    parts = pd.concat([season_features(idx[:20]), season_features(idx[20:])])
    pd.testing.assert_frame_equal(whole, parts)


def test_fourier_terms_follow_the_calendar_month() -> None:
    F = fourier_terms(month_index(24), k=2)
    assert list(F.columns) == ["sin1", "cos1", "sin2", "cos2"]
    np.testing.assert_allclose(F.iloc[:12].to_numpy(), F.iloc[12:].to_numpy(), atol=1e-12)
    assert F["cos1"].iloc[0] == pytest.approx(1.0)

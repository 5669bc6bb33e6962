"""Rainy-season calendars and the monthly features derived from them."""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
import functools
import unicodedata
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import numpy as np
import pandas as pd

# Trend features count years from a fixed epoch so that features built separately for the
# training months and for the forecast months line up.
TREND_EPOCH = pd.Timestamp("2000-01-01")
CALENDAR_COLUMNS = ("country", "region", "start_month", "start_day", "end_month", "end_day")


@dataclass(frozen=True)
class SeasonWindow:
    """A yearly window from (start_month, start_day) to (end_month, end_day), both inclusive.

    A window whose end precedes its start wraps over the new year.
    """

    start_month: int
    start_day: int
    end_month: int
    end_day: int

    def __post_init__(self) -> None:
        # A non-leap year: February 29 would make the window vanish three years in four.
        dt.date(2001, self.start_month, self.start_day)
        dt.date(2001, self.end_month, self.end_day)

    def share(self, year: int, month: int) -> float:
        """Return the share of the days of `year`-`month` that fall inside the window."""
        return _share(self, year, month)


SAHEL_DEFAULT = SeasonWindow(6, 1, 9, 30)


@functools.lru_cache(maxsize=65536)
def _share(window: SeasonWindow, year: int, month: int) -> float:
    first = dt.date(year, month, 1)
    last = dt.date(year, month, _calendar.monthrange(year, month)[1])
    inside = 0
    # A wrapping season that touches this month started either this year or the year before.
    for start_year in (year - 1, year):
        start = dt.date(start_year, window.start_month, window.start_day)
        end_year = start_year + (
            (window.end_month, window.end_day) < (window.start_month, window.start_day)
        )
        end = dt.date(end_year, window.end_month, window.end_day)
        lo, hi = max(first, start), min(last, end)
        inside += max(0, (hi - lo).days + 1)
    return inside / last.day


def normalize_place(name: str | None) -> str:
    """Fold a country or region name for matching: 'Centre-Nord region' -> 'centre nord'."""
    if name is None or (isinstance(name, float) and np.isnan(name)):
        return ""
    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in text.casefold()).split()
    return " ".join(w for w in words if w not in {"region", "province"})


class RainyCalendar:
    """Rainy-season windows by place: region override > country override > default.

    Args:
        table: rows with CALENDAR_COLUMNS; a blank region is the country's default and a
            blank country the global default. None loads the bundled
            `models/data/rainy_seasons.csv`.
        default: window used when no row matches (Sahel June 1 - September 30).
    """

    def __init__(self, table: pd.DataFrame | None = None, default: SeasonWindow = SAHEL_DEFAULT):
        if table is None:
            table = _read_table(resources.files("models") / "data" / "rainy_seasons.csv")
        missing = set(CALENDAR_COLUMNS) - set(table.columns)
        if missing:
            raise ValueError(f"calendar table lacks columns {sorted(missing)}")
        self.default = default
        self._windows: dict[tuple[str, str], SeasonWindow] = {}
        for row in table.itertuples(index=False):
            key = (normalize_place(row.country), normalize_place(row.region))
            self._windows[key] = SeasonWindow(
                int(row.start_month), int(row.start_day), int(row.end_month), int(row.end_day)
            )

    @classmethod
    def from_csv(cls, path: str | Path) -> RainyCalendar:
        """Load a calendar from a CSV file with CALENDAR_COLUMNS."""
        return cls(_read_table(path))

    def window(self, country: str | None = None, region: str | None = None) -> SeasonWindow:
        """Return the window for a place, falling back from region to country to default."""
        c, r = normalize_place(country), normalize_place(region)
        for key in ((c, r), (c, ""), ("", "")):
            if key in self._windows:
                return self._windows[key]
        return self.default

    def season_share(
        self, index: pd.DatetimeIndex, country: str | None = None, region: str | None = None
    ) -> np.ndarray:
        """Return, per month of `index`, the share of its days inside the rainy season."""
        window = self.window(country, region)
        return np.array([window.share(y, m) for y, m in zip(index.year, index.month, strict=True)])


def _read_table(path: str | Path | Traversable) -> pd.DataFrame:
    # keep_default_na=False: a blank region is "country default", not a missing value.
    options = {"dtype": {"country": str, "region": str}, "keep_default_na": False}
    if isinstance(path, str | Path):
        return pd.read_csv(path, **options)
    with resources.as_file(path) as file:
        return pd.read_csv(file, **options)


@functools.lru_cache(maxsize=1)
def default_calendar() -> RainyCalendar:
    """Return the bundled calendar (loaded once)."""
    return RainyCalendar()


def season_features(
    index: pd.DatetimeIndex,
    *,
    country: str | None = None,
    region: str | None = None,
    calendar: RainyCalendar | None = None,
) -> pd.DataFrame:
    """Return rainy-season features for the months of `index`.

    Columns:
        season_share: share of the month's days inside the rainy season (0..1).
        in_season: 1.0 when at least half of the month is in season, else 0.0.
        season_x_trend: season_share times years since TREND_EPOCH, so a model can let the
            rainy-season effect drift over time (2022 central Mali: lull turned into surge).
    """
    cal = calendar if calendar is not None else default_calendar()
    share = cal.season_share(index, country, region)
    years = (index.year - TREND_EPOCH.year) + (index.month - 1) / 12.0
    return pd.DataFrame(
        {
            "season_share": share,
            "in_season": (share >= 0.5).astype(float),
            "season_x_trend": share * np.asarray(years, dtype=float),
        },
        index=pd.DatetimeIndex(index, name="month"),
    )


def month_numbers(index: pd.DatetimeIndex) -> np.ndarray:
    """Return year * 12 + month - 1 for each month of a contiguous monthly index."""
    first = index[0]
    return first.year * 12 + first.month - 1 + np.arange(len(index))


def fourier_array(months: np.ndarray, k: int, period: float = 12.0) -> np.ndarray:
    """Return columns sin1, cos1, ..., sin_k, cos_k for month numbers (see month_numbers)."""
    # Reduce to the position in the cycle first: large angles lose float precision.
    phase = np.mod(np.asarray(months, dtype=float), period)
    angle = 2.0 * np.pi * np.outer(phase, np.arange(1, k + 1)) / period
    out = np.empty((len(angle), 2 * k))
    out[:, 0::2], out[:, 1::2] = np.sin(angle), np.cos(angle)
    return out


def fourier_terms(index: pd.DatetimeIndex, k: int = 2, period: float = 12.0) -> pd.DataFrame:
    """Return `k` sine/cosine pairs of the yearly cycle, phased on the calendar month."""
    months = np.asarray(index.year * 12 + index.month - 1, dtype=float)
    names = [f"{f}{j}" for j in range(1, k + 1) for f in ("sin", "cos")]
    data = fourier_array(months, k, period)
    return pd.DataFrame(data, index=pd.DatetimeIndex(index, name="month"), columns=names)

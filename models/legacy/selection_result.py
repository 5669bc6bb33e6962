"""The outcome of a per-series selection, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.base import to_jsonable
from models.legacy.evaluation import BACKTEST_COLUMNS
from models.legacy.forecaster import FORMAT_VERSION
from models.metrics import skill_scores


@dataclass
class SelectionResult:
    """The outcome of `select_and_forecast` for one series.

    Attributes:
        alias: the model that produced `forecast` (an ensemble's members are in `summary`).
        forecast: `horizon` rows indexed by month, columns `mean` and QUANTILE_COLUMNS.
        fitted: in-sample fitted means of the chosen model on y's index.
        scores: candidate -> metric -> mean over backtest points.
        failures: candidate -> why it was skipped or rejected (never silently dropped).
        summary: the chosen model's `summary()`.
        timings: candidate -> seconds spent on its backtest (and its final fit if chosen).
        notes: anything else a reader should know (fallbacks, ensemble members).
        ranking: successful candidates, best first.
        backtest_frames: candidate -> its backtest frame (BACKTEST_COLUMNS); see `backtest`.
        interval_width: factor by which the chosen model's quantiles were stretched about the
            median, chosen on its backtest CRPS (1.0 = unchanged; see `models.legacy.calibration`).
    """

    alias: str
    forecast: pd.DataFrame
    fitted: pd.Series
    scores: dict[str, dict[str, float]]
    failures: dict[str, str]
    summary: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    ranking: list[str] = field(default_factory=list)
    backtest_frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    interval_width: float = 1.0

    @property
    def backtest(self) -> pd.DataFrame:
        """Long frame, column `alias` plus BACKTEST_COLUMNS, of every scored candidate."""
        frames = [f.assign(alias=a) for a, f in self.backtest_frames.items()]
        if not frames:
            return empty_backtest()
        return pd.concat(frames, ignore_index=True)[["alias", *BACKTEST_COLUMNS]]

    @property
    def skill(self) -> dict[str, float]:
        """CRPS skill of each scored candidate relative to seasonal naive (if it was scored)."""
        return skill_scores(self.scores)

    def backtest_forecasts(self, alias: str | None = None) -> pd.DataFrame:
        """Return the per-origin backtest forecasts of `alias` (default: the chosen model).

        One row per origin and horizon: origin (last training month), month, horizon, y
        (observed), mean and QUANTILE_COLUMNS; this is what an anomaly scan of past months
        reads. Empty when the series was too short to backtest.
        """
        frame = self.backtest_frames.get(alias or self.alias)
        if frame is None:
            return pd.DataFrame(columns=list(BACKTEST_COLUMNS))
        return frame.reset_index(drop=True)

    def to_dict(self, include_backtest: bool = False) -> dict[str, Any]:
        """Return a JSON-serializable dict (months as 'YYYY-MM', NaN as None)."""
        out: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "alias": self.alias,
            "forecast": _records(self.forecast.reset_index()),
            "fitted": {m.strftime("%Y-%m"): v for m, v in self.fitted.items()},
            "scores": self.scores,
            "skill_vs_seasonal_naive": self.skill,
            "failures": self.failures,
            "summary": self.summary,
            "timings": self.timings,
            "notes": self.notes,
            "ranking": self.ranking,
            "interval_width": self.interval_width,
        }
        if include_backtest:
            out["backtest"] = _records(self.backtest)
        return to_jsonable(out)


def empty_backtest() -> pd.DataFrame:
    return pd.DataFrame(columns=["alias", *BACKTEST_COLUMNS])


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.copy()
    for col in ("month", "origin"):
        if col in out.columns:
            out[col] = pd.to_datetime(out[col]).dt.strftime("%Y-%m")
    return [
        {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in row.items()}
        for row in out.to_dict(orient="records")
    ]

"""The pure work function of a training run: a panel's data in, frames keyed by series id out.

Every executor (inline, process pool, Dask) calls `train_panel` and nothing else, so they are
interchangeable and give identical results: no database, no clock-dependent randomness, and a
seed derived from each panel's name. Work is split by panel, never by series: the engine fits
a panel's series together (vectorized), and its roll-ups are sums of its bottom series.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS, to_jsonable
from models.panel.engine import ENGINE, PanelConfig, PanelEngine, PanelResult
from service.training.orm import QUANTILE_FIELDS
from service.training.panels import PanelData

OK, FAILED = "ok", "failed"  # a series' status in a run

HORIZON = 12
# Forecast table columns, in the order of QUANTILE_COLUMNS (q0.025 -> q025, ...).


@dataclass(frozen=True)
class PanelTask:
    """One panel (a source and a country, both trees) and the engine's settings."""

    panel: PanelData
    scope: frozenset[int] | None  # series ids to publish; None = all of the panel
    config: PanelConfig = field(default_factory=PanelConfig)
    # the events run's learned dynamics of this panel ({"fit_key", "dynamics"}): a deaths run
    # of the same data takes them instead of learning them again (`PanelEngine.adopt`)
    learned: dict[str, Any] | None = None


@dataclass
class PanelOutput:
    """What a panel's fit writes, as frames keyed by series id: one `run_series` row per series
    in scope (`series`), and its forecast, backtest, outlook and state rows.

    Frames, not row dicts: a 10,000-series panel has hundreds of thousands of forecast rows,
    and they go to the database by bulk copy.
    """

    series: pd.DataFrame  # series_id + the `run_series` columns but run_id
    forecast: pd.DataFrame  # series_id + the `forecasts` columns
    backtest: pd.DataFrame  # series_id + the `backtest_forecasts` columns
    calibration: dict[str, Any] = field(default_factory=dict)
    outlook: pd.DataFrame = field(default_factory=pd.DataFrame)  # the `outlooks` columns
    states: pd.DataFrame = field(default_factory=pd.DataFrame)  # the `series_states` columns

    def failed(self) -> pd.DataFrame:
        """The series that failed, with their error."""
        return self.series.loc[self.series["status"] == FAILED, ["series_id", "error"]]

    def by_country(self, country_of: pd.Series) -> list[PanelOutput]:
        """The same output split by the country of each series (`country_of`: by series id),
        in country order."""
        country = self.series["series_id"].map(country_of)
        parts = []
        for name in sorted(country.unique()):
            ids = self.series.loc[country == name, "series_id"]

            def rows(frame: pd.DataFrame, ids: pd.Series = ids) -> pd.DataFrame:
                return frame[frame["series_id"].isin(ids)] if not frame.empty else frame

            parts.append(
                PanelOutput(
                    rows(self.series),
                    rows(self.forecast),
                    rows(self.backtest),
                    {},
                    rows(self.outlook),
                    rows(self.states),
                )
            )
        return parts


def train_panel(task: PanelTask) -> PanelOutput:
    """Fit a panel with the engine; return a result per series in scope and the forecasts.

    If the engine fails, every series of the panel in scope gets status `failed` and the
    error; the other panels carry on. Results hold only plain values, ready for the database.
    """
    start = time.perf_counter()
    p = task.panel
    months = pd.date_range(p.start, periods=p.y.shape[1], freq="MS")
    trained_through = months[-1].date().isoformat()
    try:
        engine = PanelEngine(
            p.labels, p.y, months, deaths=p.deaths, name=p.name, config=task.config
        )
        adopted = engine.adopt(task.learned)
        result = engine.run()
    except Exception as error:  # the panel fails, the run goes on
        ids = p.ids["series_id"]
        wanted = sorted(ids if task.scope is None else ids[ids.isin(task.scope)])
        failed = _series_frame(wanted, FAILED, trained_through, error=_describe(error))
        return PanelOutput(failed, pd.DataFrame(), pd.DataFrame())
    n_wanted = len(p.ids) if task.scope is None else int(p.ids["series_id"].isin(task.scope).sum())
    seconds = (time.perf_counter() - start) / max(n_wanted, 1)
    output = _output(task, result, trained_through, seconds)
    output.calibration[p.name]["dynamics_adopted"] = adopted
    return output


# run_series' season columns <- the engine's season columns
SEASON_COLUMNS = {
    "season_rate_ratio": "rate_ratio",
    "season_ci_low": "ci_low",
    "season_ci_high": "ci_high",
    "season_p_value": "p_value",
    "season_raw_rate_ratio": "raw_rate_ratio",
    "season_raw_ci_low": "raw_ci_low",
    "season_raw_ci_high": "raw_ci_high",
    "season_events_in": "events_in",
    "season_events_out": "events_out",
}
SEASON_MONTHS = {"season_months_in": "months_in", "season_months_out": "months_out"}


def _series_frame(
    series_ids: Sequence[int],
    status: str,
    trained_through: str,
    *,
    error: str | None = None,
    seconds: float = 0.0,
) -> pd.DataFrame:
    """`run_series` rows (but run_id) for `series_ids`: no scores, summary nor season yet."""
    n = len(series_ids)
    frame = pd.DataFrame(
        {
            "series_id": np.asarray(series_ids, dtype=np.int64),
            "status": status,
            "model": ENGINE if status == OK else None,
            "trained_through": trained_through,
            "scores": "{}",
            "failures": "{}",
            "summary": "{}",
        }
    )
    for column in SEASON_COLUMNS:
        frame[column] = np.full(n, np.nan)
    frame["season_pooled"] = None
    frame["season_status"] = None
    for column in (*SEASON_MONTHS, "trained_in_run_id"):
        # NULLs must not turn counts into floats
        frame[column] = pd.array([None] * n, dtype="Int64")
    frame["error"] = error
    frame["seconds"] = float(seconds)
    return frame


def _finite(values: pd.Series) -> np.ndarray:
    """Floats for the database: NaN (NULL) for NaN, inf or missing."""
    x = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return np.where(np.isfinite(x), x, np.nan)


def _json(values: Iterable[Any]) -> list[str]:
    return [json.dumps(to_jsonable(v)) for v in values]


def _output(
    task: PanelTask, result: PanelResult, trained_through: str, seconds: float
) -> PanelOutput:
    p = task.panel
    nodes = result.nodes
    sid = p.series_of(nodes)
    kept = sid >= 0 if task.scope is None else (sid >= 0) & sid.isin(task.scope)
    keep = sid[kept]  # series id by node
    n = keep.index.to_numpy()
    series = _series_frame(keep.to_numpy(), OK, trained_through, seconds=seconds)
    scores: dict[int, dict[str, Any]] = {}
    for row in result.scores.itertuples(index=False):
        scores.setdefault(int(row.node), {})[str(row.model)] = {
            "crps": row.crps,
            "coverage_80": row.coverage_80,
            "coverage_95": row.coverage_95,
            "n": int(row.n),
        }
    series["scores"] = _json(scores.get(int(k), {}) for k in n)
    summary = result.summary.set_index("node").loc[n]
    trees = nodes["tree"].to_numpy()[n]
    bottoms = nodes["bottom"].to_numpy()[n] >= 0
    series["summary"] = _json(
        {
            "engine": ENGINE,
            "panel": p.name,
            "tree": tree,
            "bottom": bool(bottom),
            **figures,
            "season_tau": result.tau.get(tree),
        }
        for tree, bottom, figures in zip(trees, bottoms, summary.to_dict("records"), strict=True)
    )
    season = result.season.set_index("node").loc[n]
    for column, name in SEASON_COLUMNS.items():
        series[column] = _finite(season[name])
    for column, name in SEASON_MONTHS.items():
        series[column] = pd.array(
            [None if np.isnan(v) else int(round(v)) for v in _finite(season[name])],
            dtype="Int64",
        )
    series["season_pooled"] = True
    series["season_status"] = season["status"].to_numpy()
    return PanelOutput(
        series,
        _table(result.forecast, keep, ["horizon"]),
        _table(result.backtest, keep, ["origin", "horizon", "observed"]),
        {
            p.name: to_jsonable(
                {**result.calibration, "dynamics": result.dynamics, "fit_key": result.fit_key}
            )
        },
        _keyed(result.outlook, keep, ["months", "first_month", "mean", *QUANTILE_COLUMNS]),
        _keyed(result.states, keep, ["month", "level", "p_shift_up", "p_shift_down", "p_outlier"]),
    )


def _keyed(frame: pd.DataFrame, keep: pd.Series, columns: list[str]) -> pd.DataFrame:
    """The engine's rows of the kept nodes keyed by series id, with the table's column names."""
    frame = frame[frame["node"].isin(keep.index)]
    out = pd.DataFrame({"series_id": frame["node"].map(keep).to_numpy()})
    names = dict(zip(QUANTILE_COLUMNS, QUANTILE_FIELDS, strict=True))
    for column in columns:
        values = frame[column]
        if column in ("month", "first_month"):
            out[column] = _iso_months(values)
        else:
            out[names.get(column, column)] = values.to_numpy()
    return out


def _table(frame: pd.DataFrame, keep: pd.Series, extra: list[str]) -> pd.DataFrame:
    """The engine's rows of the kept nodes as database columns (series_id, q025 ... q975)."""
    if frame.empty:
        return pd.DataFrame()
    frame = frame[frame["node"].isin(keep.index)]
    out = pd.DataFrame(
        {
            "series_id": frame["node"].map(keep).to_numpy(),
            "month": _iso_months(frame["month"]),
            "mean": frame["mean"].to_numpy(dtype=float),
        }
    )
    for column, field_name in zip(QUANTILE_COLUMNS, QUANTILE_FIELDS, strict=True):
        out[field_name] = frame[column].to_numpy(dtype=float)
    out["in_season"] = frame["in_season"].to_numpy(dtype=bool)
    for column in extra:
        values = frame[column]
        if column == "origin":
            out[column] = _iso_months(values)
        else:
            out[column] = values.to_numpy().round().astype(int)
    return out


def _iso_months(values: pd.Series) -> pd.Categorical:
    """ISO dates ("2022-06-01") as a categorical: a few dozen distinct months over millions of
    rows. As plain strings they cost about 60 bytes a row, held by the worker and again by the
    process that receives its output (at 100,000 series, hundreds of MB at the peak)."""
    codes, months = pd.factorize(pd.DatetimeIndex(values))
    return pd.Categorical.from_codes(
        codes, categories=pd.DatetimeIndex(months).strftime("%Y-%m-%d")
    )


def _describe(error: BaseException) -> str:
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return f"{type(error).__name__}: {error}{at}"

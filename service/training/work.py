"""The pure work function of a training run: a panel's data in, result dicts out.

Every executor (inline, process pool, Dask) calls `train_panel` and nothing else, so they are
interchangeable and give identical results: no database, no clock-dependent randomness, and a
seed derived from each panel's name. Work is split by panel, never by series: the engine fits
a panel's series together (vectorized), and its roll-ups are sums of its bottom series.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from models.base import QUANTILE_COLUMNS, to_jsonable
from models.panel.engine import ENGINE, PanelConfig, PanelEngine, PanelResult
from service.training.orm import QUANTILE_FIELDS
from service.training.panels import PanelData, node_key

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
    """What a panel's fit writes: one result per series, and its forecast rows as frames.

    Frames, not row dicts: a 10,000-series panel has hundreds of thousands of forecast rows,
    and they go to the database by bulk copy.
    """

    results: list[dict[str, Any]]
    forecast: pd.DataFrame  # series_id + the `forecasts` columns
    backtest: pd.DataFrame  # series_id + the `backtest_forecasts` columns
    calibration: dict[str, Any] = field(default_factory=dict)
    outlook: pd.DataFrame = field(default_factory=pd.DataFrame)  # the `outlooks` columns
    states: pd.DataFrame = field(default_factory=pd.DataFrame)  # the `series_states` columns

    def by_country(self, country_of: dict[int, str]) -> list[PanelOutput]:
        """The same output split by the country of each series, in country order."""
        countries = sorted({country_of[r["series_id"]] for r in self.results})
        parts = []
        for country in countries:
            ids = {r["series_id"] for r in self.results if country_of[r["series_id"]] == country}

            def rows(frame: pd.DataFrame, ids: set[int] = ids) -> pd.DataFrame:
                return frame[frame["series_id"].isin(ids)] if not frame.empty else frame

            parts.append(
                PanelOutput(
                    [r for r in self.results if r["series_id"] in ids],
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
    wanted = [sid for sid in p.series_ids.values() if task.scope is None or sid in task.scope]
    try:
        engine = PanelEngine(
            p.labels, p.y, months, deaths=p.deaths, name=p.name, config=task.config
        )
        adopted = engine.adopt(task.learned)
        result = engine.run()
    except Exception as error:  # the panel fails, the run goes on
        failed = [_failed(sid, trained_through, _describe(error)) for sid in sorted(wanted)]
        return PanelOutput(failed, pd.DataFrame(), pd.DataFrame())
    seconds = (time.perf_counter() - start) / max(len(wanted), 1)
    output = _output(task, result, trained_through, seconds)
    output.calibration[p.name]["dynamics_adopted"] = adopted
    return output


def _failed(series_id: int, trained_through: str, error: str) -> dict[str, Any]:
    return {
        "series_id": series_id,
        "status": "failed",
        "model": None,
        "trained_through": trained_through,
        "scores": {},
        "failures": {},
        "summary": {},
        "error": error,
        "season": None,
        "seconds": 0.0,
    }


def _output(
    task: PanelTask, result: PanelResult, trained_through: str, seconds: float
) -> PanelOutput:
    p = task.panel
    nodes = result.nodes
    node_ids = [
        p.series_ids.get(node_key(r.country, r.level, r.actor, r.region, r.event_type))
        for r in nodes.itertuples(index=False)
    ]
    keep = {
        n: sid
        for n, sid in enumerate(node_ids)
        if sid is not None and (task.scope is None or sid in task.scope)
    }
    scores: dict[int, dict[str, Any]] = {}
    for row in result.scores.itertuples(index=False):
        scores.setdefault(int(row.node), {})[str(row.model)] = {
            "crps": row.crps,
            "coverage_80": row.coverage_80,
            "coverage_95": row.coverage_95,
            "n": int(row.n),
        }
    season = result.season.set_index("node").to_dict("index")
    summary = result.summary.set_index("node").to_dict("index")
    node_rows = nodes.to_dict("records")
    out: list[dict[str, Any]] = []
    for n, sid in keep.items():
        s = season[n]
        node = node_rows[n]
        out.append(
            {
                "series_id": sid,
                "status": "ok",
                "model": ENGINE,
                "trained_through": trained_through,
                "scores": to_jsonable(scores.get(n, {})),
                "failures": {},
                "summary": to_jsonable(
                    {
                        "engine": ENGINE,
                        "panel": p.name,
                        "tree": node["tree"],
                        "bottom": bool(node["bottom"] >= 0),
                        **summary[n],
                        "season_tau": result.tau.get(node["tree"]),
                    }
                ),
                "error": None,
                "season": to_jsonable(
                    {
                        "rate_ratio": s["rate_ratio"],
                        "ci_low": s["ci_low"],
                        "ci_high": s["ci_high"],
                        "p_value": s["p_value"],
                        "pooled": True,
                        "status": s["status"],
                        "raw_rate_ratio": s["raw_rate_ratio"],
                        "raw_ci_low": s["raw_ci_low"],
                        "raw_ci_high": s["raw_ci_high"],
                        "events_in": s["events_in"],
                        "events_out": s["events_out"],
                        "months_in": s["months_in"],
                        "months_out": s["months_out"],
                    }
                ),
                "seconds": seconds,
            }
        )
    return PanelOutput(
        out,
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


def _keyed(frame: pd.DataFrame, keep: dict[int, int], columns: list[str]) -> pd.DataFrame:
    """The engine's rows of the kept nodes keyed by series id, with the table's column names."""
    frame = frame[frame["node"].isin(list(keep))]
    out = pd.DataFrame({"series_id": frame["node"].map(keep).to_numpy()})
    names = dict(zip(QUANTILE_COLUMNS, QUANTILE_FIELDS, strict=True))
    for column in columns:
        values = frame[column]
        if column in ("month", "first_month"):
            out[column] = pd.DatetimeIndex(values).strftime("%Y-%m-%d")
        else:
            out[names.get(column, column)] = values.to_numpy()
    return out


def _table(frame: pd.DataFrame, keep: dict[int, int], extra: list[str]) -> pd.DataFrame:
    """The engine's rows of the kept nodes as database columns (series_id, q025 ... q975)."""
    if frame.empty:
        return pd.DataFrame()
    frame = frame[frame["node"].isin(list(keep))]
    out = pd.DataFrame(
        {
            "series_id": frame["node"].map(keep).to_numpy(),
            "month": pd.DatetimeIndex(frame["month"]).strftime("%Y-%m-%d"),
            "mean": frame["mean"].to_numpy(dtype=float),
        }
    )
    for column, field_name in zip(QUANTILE_COLUMNS, QUANTILE_FIELDS, strict=True):
        out[field_name] = frame[column].to_numpy(dtype=float)
    out["in_season"] = frame["in_season"].to_numpy(dtype=bool)
    for column in extra:
        values = frame[column]
        if column == "origin":
            out[column] = pd.DatetimeIndex(values).strftime("%Y-%m-%d")
        else:
            out[column] = values.to_numpy().round().astype(int)
    return out


def _describe(error: BaseException) -> str:
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return f"{type(error).__name__}: {error}{at}"


def finite_or_none(value: Any) -> float | None:
    """A float for the database, or None for NaN/inf/missing."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None

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

from models.base import FORECAST_COLUMNS, QUANTILE_COLUMNS, to_jsonable
from models.panel.engine import ENGINE, PanelConfig, PanelEngine, PanelResult
from service.training.panels import PanelData, node_key

HORIZON = 12
# Forecast table columns, in the order of QUANTILE_COLUMNS (q0.025 -> q025, ...).
Q_FIELDS = tuple(f"q{round(float(c[1:]) * 1000):03d}" for c in QUANTILE_COLUMNS)


@dataclass(frozen=True)
class PanelTask:
    """One panel (a source and a country, both trees) and the engine's settings."""

    panel: PanelData
    scope: frozenset[int] | None  # series ids to publish; None = all of the panel
    config: PanelConfig = field(default_factory=PanelConfig)


def train_panel(task: PanelTask) -> list[dict[str, Any]]:
    """Fit a panel with the engine; return one result dict per series in scope.

    If the engine fails, every series of the panel in scope gets status `failed` and the
    error; the other panels carry on. The dicts hold only plain values, ready for the database.
    """
    start = time.perf_counter()
    p = task.panel
    months = pd.date_range(p.start, periods=p.y.shape[1], freq="MS")
    trained_through = months[-1].date().isoformat()
    wanted = [sid for sid in p.series_ids.values() if task.scope is None or sid in task.scope]
    try:
        engine = PanelEngine(p.labels, p.y, months, country=p.country, name=p.name,
                             config=task.config)  # fmt: skip
        result = engine.run()
    except Exception as error:  # the panel fails, the run goes on
        return [_failed(sid, trained_through, _describe(error)) for sid in sorted(wanted)]
    seconds = (time.perf_counter() - start) / max(len(wanted), 1)
    return _results(task, result, trained_through, seconds)


def _failed(series_id: int, trained_through: str, error: str) -> dict[str, Any]:
    return {"series_id": series_id, "status": "failed", "model": None,
            "trained_through": trained_through, "scores": {}, "failures": {}, "summary": {},
            "error": error, "forecast": [], "backtest": [], "season": None,
            "seconds": 0.0}  # fmt: skip


def _results(
    task: PanelTask, result: PanelResult, trained_through: str, seconds: float
) -> list[dict[str, Any]]:
    p = task.panel
    nodes = result.nodes
    node_ids = [
        p.series_ids.get(node_key(r.level, r.actor, r.region, r.event_type))
        for r in nodes.itertuples(index=False)
    ]
    keep = {n: sid for n, sid in enumerate(node_ids)
            if sid is not None and (task.scope is None or sid in task.scope)}  # fmt: skip
    forecasts = _rows_by_node(result.forecast, keep, backtest=False)
    backtests = _rows_by_node(result.backtest, keep, backtest=True)
    season = result.season.set_index("node")
    scores: dict[int, dict[str, Any]] = {}
    for row in result.scores.itertuples(index=False):
        scores.setdefault(int(row.node), {})[str(row.model)] = {
            "crps": row.crps, "coverage_80": row.coverage_80, "coverage_95": row.coverage_95,
            "n": int(row.n)}  # fmt: skip
    summary = result.summary.set_index("node")
    out: list[dict[str, Any]] = []
    for n, sid in keep.items():
        s = season.loc[n]
        node = nodes.iloc[n]
        out.append({
            "series_id": sid, "status": "ok", "model": ENGINE,
            "trained_through": trained_through,
            "scores": to_jsonable(scores.get(n, {})),
            "failures": {},
            "summary": to_jsonable({
                "engine": ENGINE, "panel": p.name, "tree": node["tree"],
                "bottom": bool(node["bottom"] >= 0), **summary.loc[n].to_dict(),
                "season_tau": result.tau.get(node["tree"]),
            }),
            "error": None,
            "forecast": forecasts.get(n, []),
            "backtest": backtests.get(n, []),
            "season": to_jsonable({
                "rate_ratio": s["rate_ratio"], "ci_low": s["ci_low"], "ci_high": s["ci_high"],
                "p_value": s["p_value"], "pooled": True, "status": s["status"],
                "raw_rate_ratio": s["raw_rate_ratio"], "raw_ci_low": s["raw_ci_low"],
                "raw_ci_high": s["raw_ci_high"], "events_in": s["events_in"],
                "events_out": s["events_out"], "months_in": s["months_in"],
                "months_out": s["months_out"],
            }),
            "seconds": seconds,
        })  # fmt: skip
    if out:  # the panel's calibration travels once, with its first series
        out[0]["calibration"] = {p.name: to_jsonable(result.calibration)}
    return out


def _rows_by_node(
    frame: pd.DataFrame, keep: dict[int, int], *, backtest: bool
) -> dict[int, list[dict[str, Any]]]:
    """Rows per node for the database: month as ISO text, database quantile names.

    Built from plain arrays: pandas row access would cost more than the fit.
    """
    if frame.empty:
        return {}
    frame = frame[frame["node"].isin(list(keep))]
    months = [m.date().isoformat() for m in pd.DatetimeIndex(frame["month"])]
    values = frame[list(FORECAST_COLUMNS)].to_numpy(dtype=float).tolist()
    nodes = frame["node"].to_numpy().tolist()
    horizons = frame["horizon"].to_numpy().tolist()
    season = frame["in_season"].to_numpy().tolist()
    extra: list[dict[str, Any]] = [{} for _ in nodes]
    if backtest:
        origins = [m.date().isoformat() for m in pd.DatetimeIndex(frame["origin"])]
        observed = frame["observed"].to_numpy().tolist()
        extra = [{"origin": o, "observed": int(round(y))}
                 for o, y in zip(origins, observed, strict=True)]  # fmt: skip
    out: dict[int, list[dict[str, Any]]] = {}
    for n, m, v, h, s, e in zip(nodes, months, values, horizons, season, extra, strict=True):
        out.setdefault(n, []).append({"month": m, "mean": v[0],
                                      **dict(zip(Q_FIELDS, v[1:], strict=True)),
                                      "in_season": bool(s), "horizon": int(h), **e})  # fmt: skip
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

"""Alerting benchmark: false alarms, surge recall and alerts per escalation on synthetic panels.

    .venv/bin/python bench/alerts.py [--seeds 3] [--countries 3] [--surge-share 0.15]

1. Synthetic 120-month bottom series (actor x region x event type; every combination of 4
   actors, 5 regions and 3 event types per country): stationary negative binomial counts with
   a rainy-season effect of either sign, levels of 3-15 events a month so that a surge is
   detectable at the bottom too. Every roll-up of both trees is the sum of its bottoms
   (bench/train.py writes them).
2. Surges are injected into 15 % of the bottoms (--surge-share) in the last 12 months: sizes
   2x-6x the expected level, 1-4 months long, a third of them starting in the rainy season
   (Jul-Sep). Everything else is a clean stretch. The roll-ups inherit the surges, diluted.
3. The first 108 months are written as the known data and trained with the real pipeline
   (service.training.service.train, inline executor, default settings otherwise). Then the
   last 12 months are appended as new data one month at a time (coverage extended), detection
   running after each as `sahelcast detect` would (service.anomalies.detect, grouping
   included); a second pass appends all 12 at once (a catch-up ingest).
4. Measured on the live anomalies at the 95 % level:
   - false_alarm_rate: share of clean series-months (no surge under the series that month)
     flagged, in either direction (nominal 0.05; target <= 0.05);
   - surge_recall: share of series-months whose surged mean is >= 3x their expected level
     that are flagged above (target >= 0.85); also by size and by level;
   - alerts_per_escalation: alerts (alert-worthy anomalies; one webhook each per matching
     subscription) per live escalation (target <= 1.5); and alerts per injected surge
     (a surge at a bottom series shows in two trees, geography and actor, so its floor is 2).

Writes bench/results/alerts.json and appends a dated line to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import train as train_bench  # noqa: E402 - bench/train.py: the roll-ups and the database writer
from record import record  # noqa: E402 - bench/record.py: results/alerts.json, RESULTS.md

MONTHS, HELD_OUT = train_bench.MONTHS, train_bench.HELD_OUT
START = train_bench.START
KNOWN = MONTHS - HELD_OUT
TARGETS = {"false_alarm_rate": 0.05, "surge_recall": 0.85, "alerts_per_escalation": 1.5}
COUNTRIES = ("Burkina Faso", "Mali", "Niger")
ACTORS = ("JNIM", "ISGS", "Koglweogo", "Military Forces")
EVENT_TYPES = ("Battles", "Violence against civilians", "Explosions/Remote violence")
SURGE_SHARE, SIZES, RAINY = 0.15, (2.0, 3.0, 4.0, 5.0, 6.0), (7, 8, 9)


def synthesize(
    countries: int, seed: int, surge_share: float = SURGE_SHARE
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Bottom metadata, clean means (n, MONTHS), surged means, and the injected surges."""
    from models.seasons import season_features

    rng = np.random.default_rng(seed)
    rows = [
        {"country": c, "region": r, "actor": a, "event_type": t}
        for c in COUNTRIES[:countries]
        for r in train_bench.PLACES[c][:5]
        for a in ACTORS
        for t in EVENT_TYPES
    ]
    meta = pd.DataFrame(rows)
    n = len(meta)
    index = pd.date_range(START, periods=MONTHS, freq="MS")
    share = np.stack([
        season_features(index, country=c, region=r)["season_share"].to_numpy()
        for c, r in zip(meta["country"], meta["region"], strict=True)
    ])  # fmt: skip
    base = rng.uniform(3.0, 15.0, n)
    log_rr = rng.normal(0.0, 0.4, n)
    clean = base[:, None] * np.exp(log_rr[:, None] * share)
    surged = clean.copy()
    surges = []
    calendar = index.month.to_numpy()
    rainy_starts = [m for m in range(KNOWN, MONTHS) if calendar[m] in RAINY]
    for i in rng.choice(n, size=int(surge_share * n), replace=False):
        length = int(rng.integers(1, 5))
        size = float(rng.choice(SIZES))
        if rng.random() < 1 / 3:
            start = int(rng.choice(rainy_starts))
        else:
            start = int(rng.integers(KNOWN, MONTHS - length + 1))
        stop = min(start + length, MONTHS)
        surged[i, start:stop] *= size
        surges.append({"bottom": int(i), "start": start, "stop": stop, "size": size,
                       "rainy": bool(calendar[start] in RAINY)})  # fmt: skip
    return meta, clean, surged, surges


def draw(means: np.ndarray, seed: int, alpha: float = 0.15) -> np.ndarray:
    """Negative binomial counts with these means (dispersion `alpha`)."""
    rng = np.random.default_rng(seed + 1)
    return rng.negative_binomial(1 / alpha, 1 / (1 + alpha * means)).astype(np.int64)


def append_new_months(url: str, counts: np.ndarray, first: int, stop: int) -> None:
    """Months first..stop-1 arrive: observations added, coverage moved to their end."""
    from sqlalchemy import update

    from service.bulk import insert_frame
    from service.db import make_engine, session_scope
    from service.series.orm import Coverage, Observation

    engine = make_engine(url)
    months = pd.date_range(START, periods=MONTHS, freq="MS").strftime("%Y-%m-%d")
    rows, cols = np.nonzero(counts[:, first:stop])
    cols = cols + first
    last = (START + pd.DateOffset(months=stop - 1)).date()
    with session_scope(engine) as session:
        insert_frame(session, Observation.__table__, pd.DataFrame({
            "series_id": rows + 1, "month": np.asarray(months)[cols],
            "events": counts[rows, cols], "fatalities": counts[rows, cols],
        }))  # fmt: skip
        session.execute(update(Coverage).values(
            last_complete_month=last,
            last_event_date=(pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()))  # fmt: skip
    engine.dispose()


def train_known(url: str) -> tuple[float, float]:
    from service.config import Settings
    from service.db import make_engine
    from service.training.service import TrainRequest, train

    settings = Settings(database_url=url, train_executor="inline")
    engine = make_engine(url)
    started = time.perf_counter()
    train(engine, settings, TrainRequest.from_settings(settings, min_events=1))
    trained = time.perf_counter() - started
    engine.dispose()
    return trained, settings.anomaly_level


def detect_now(url: str, level: float) -> float:
    """Run detection as `sahelcast detect` does; return its seconds."""
    from service.anomalies.detect import detect
    from service.db import make_engine, session_scope

    engine = make_engine(url)
    started = time.perf_counter()
    with session_scope(engine) as session:
        detect(session, level=level)
    engine.dispose()
    return time.perf_counter() - started


def live_anomalies(url: str) -> pd.DataFrame:
    from sqlalchemy import select

    from service.anomalies.orm import Anomaly
    from service.db import make_engine, session_scope

    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Anomaly.series_id, Anomaly.month, Anomaly.direction, Anomaly.alert,
                   Anomaly.escalation_id, Anomaly.horizon).where(Anomaly.origin == "live")
        ).all()  # fmt: skip
    engine.dispose()
    frame = pd.DataFrame(rows, columns=["series_id", "month", "direction", "alert",
                                        "escalation_id", "horizon"])  # fmt: skip
    return frame


def measure(
    all_meta: pd.DataFrame,
    clean: np.ndarray,
    surged: np.ndarray,
    surges: list[dict[str, Any]],
    anomalies: pd.DataFrame,
) -> dict[str, Any]:
    """The three figures (and their breakdowns) from the truth and the live anomalies."""
    month_index = {m.date(): i for i, m in enumerate(pd.date_range(START, periods=MONTHS,
                                                                  freq="MS"))}  # fmt: skip
    flagged = np.zeros(clean.shape, dtype=bool)
    above = np.zeros(clean.shape, dtype=bool)
    for sid, month, direction in zip(anomalies["series_id"], anomalies["month"],
                                     anomalies["direction"], strict=True):  # fmt: skip
        flagged[sid - 1, month_index[month]] = True
        above[sid - 1, month_index[month]] |= direction == "above"
    window = slice(KNOWN, MONTHS)
    ratio = surged[:, window] / clean[:, window]
    is_clean = np.isclose(ratio, 1.0)
    strong = ratio >= 3.0
    levels = all_meta["level"].to_numpy()
    recall_by_level = {
        lvl: float(above[:, window][strong & (levels[:, None] == lvl)].mean())
        for lvl in sorted(set(levels))
        if (strong & (levels[:, None] == lvl)).any()
    }
    # Per injected surge size, at the bottom series it was injected into.
    by_size: dict[str, list[bool]] = {}
    for s in surges:
        hit = above[s["bottom"], s["start"] : s["stop"]]
        by_size.setdefault(f"{s['size']:.0f}x", []).extend(hit.tolist())
    rainy = [bool(above[s["bottom"], m]) for s in surges if s["rainy"] and s["size"] >= 3
             for m in range(s["start"], s["stop"])]  # fmt: skip
    alerts = int(anomalies["alert"].sum())
    escalations = int(anomalies["escalation_id"].nunique())
    detected_surges = sum(bool(above[s["bottom"], s["start"] : s["stop"]].any()) for s in surges)
    return {
        "clean_flagged": int(flagged[:, window][is_clean].sum()),
        "clean_flagged_above": int(above[:, window][is_clean].sum()),
        "surge_flagged": int(above[:, window][strong].sum()),
        "false_alarm_rate": float(flagged[:, window][is_clean].mean()),
        "false_alarms_above": float(above[:, window][is_clean].mean()),
        "clean_series_months": int(is_clean.sum()),
        "surge_recall": float(above[:, window][strong].mean()),
        "surge_series_months": int(strong.sum()),
        "surge_recall_by_level": recall_by_level,
        "bottom_recall_by_size": {k: float(np.mean(v)) for k, v in sorted(by_size.items())},
        "rainy_season_recall_3x_plus": float(np.mean(rainy)) if rainy else None,
        "alerts": alerts,
        "escalations": escalations,
        "alerts_per_escalation": alerts / escalations if escalations else None,
        "anomalies": int(len(anomalies)),
        "anomalies_per_alert": len(anomalies) / alerts if alerts else None,
        "injected_surges": len(surges),
        "alerts_per_injected_surge": alerts / len(surges) if surges else None,
        "injected_surges_detected_at_bottom": detected_surges,
    }


def scenario(countries: int, seed: int, share: float, monthly: bool) -> dict[str, Any]:
    """One synthetic panel through training, the new months and detection; its counts."""
    meta, clean, surged, surges = synthesize(countries, seed, share)
    counts = draw(surged, seed)
    all_meta, all_counts = train_bench.with_rollups(meta, counts)
    # Roll-up means are the sums of their bottoms' (the same grouping as with_rollups).
    _, clean_all = train_bench.with_rollups(meta, clean)
    _, surged_all = train_bench.with_rollups(meta, surged)
    with tempfile.TemporaryDirectory(prefix="sahelcast-bench-alerts-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'alerts.db'}"
        train_bench.build_database(url, all_meta, all_counts)
        trained_s, level = train_known(url)
        detect_s = 0.0
        steps = [(m, m + 1) for m in range(KNOWN, MONTHS)] if monthly else [(KNOWN, MONTHS)]
        for first, stop in steps:
            append_new_months(url, all_counts, first, stop)
            detect_s += detect_now(url, level)
        anomalies = live_anomalies(url)
    figures = measure(all_meta, clean_all, surged_all, surges, anomalies)
    return {"series": len(all_meta), "level": level, "train_s": trained_s,
            "detect_s": detect_s, **figures}  # fmt: skip


SUMMED = ("clean_series_months", "clean_flagged", "clean_flagged_above", "surge_series_months",
          "surge_flagged", "alerts", "escalations", "anomalies", "injected_surges", "series",
          "train_s", "detect_s")  # fmt: skip


def pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the counts of several seeds into the three figures."""
    total = {k: sum(r[k] for r in runs) for k in SUMMED}
    return {
        "false_alarm_rate": total["clean_flagged"] / total["clean_series_months"],
        "false_alarms_above": total["clean_flagged_above"] / total["clean_series_months"],
        "surge_recall": total["surge_flagged"] / total["surge_series_months"],
        "alerts_per_escalation": total["alerts"] / max(total["escalations"], 1),
        "alerts_per_injected_surge": total["alerts"] / max(total["injected_surges"], 1),
        **{k: total[k] for k in SUMMED},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="Panels to pool (seeds 0..N-1).")
    parser.add_argument("--countries", type=int, default=3, choices=(1, 2, 3))
    parser.add_argument(
        "--surge-share",
        type=float,
        default=SURGE_SHARE,
        help="Share of bottom series given one surge in the new months.",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    seeds = range(args.seeds)
    monthly = [scenario(args.countries, s, args.surge_share, True) for s in seeds]
    batch = [scenario(args.countries, s, args.surge_share, False) for s in seeds]
    live, caught_up = pooled(monthly), pooled(batch)
    result = {
        "date": dt.date.today().isoformat(),
        "seeds": args.seeds,
        "countries": args.countries,
        "surge_share": args.surge_share,
        "new_months": HELD_OUT,
        "level": monthly[0]["level"],
        "mode": "detection after each new month (live); `batch` = the 12 months at once",
        **{k: v for k, v in live.items() if k not in ("train_s", "detect_s")},
        "batch": {
            k: caught_up[k]
            for k in (
                "false_alarm_rate",
                "surge_recall",
                "alerts",
                "escalations",
                "alerts_per_escalation",
            )
        },
        "per_seed": [
            {
                k: r[k]
                for k in (
                    "false_alarm_rate",
                    "surge_recall",
                    "alerts_per_escalation",
                    "surge_recall_by_level",
                    "bottom_recall_by_size",
                    "rainy_season_recall_3x_plus",
                    "series",
                )
            }
            for r in monthly
        ],  # fmt: skip
        "targets": TARGETS,
        "train_s": round(live["train_s"], 1),
        "detect_s": round(live["detect_s"], 1),
        "total_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2))
    line = (
        f"- {result['date']} alerts: {args.seeds} synthetic panels x {args.countries} countries "
        f"({live['series']} series, {live['injected_surges']} injected surges in a share of "
        f"{args.surge_share} of the bottoms), 12 new months detected one at a time: "
        f"false_alarm_rate "
        f"**{live['false_alarm_rate']:.3f}** (target <= 0.05; above only "
        f"{live['false_alarms_above']:.3f}), surge_recall **{live['surge_recall']:.3f}** over "
        f"{live['surge_series_months']} series-months >= 3x (target >= 0.85), "
        f"alerts_per_escalation **{live['alerts_per_escalation']:.2f}** (target <= 1.5; "
        f"{live['alerts']} alerts, {live['escalations']} escalations, {live['anomalies']} "
        f"anomalies; all 12 months at once: {caught_up['alerts_per_escalation']:.2f}); "
        f"{result['total_s']:.0f} s - `python bench/alerts.py --seeds {args.seeds} "
        f"--countries {args.countries} --surge-share {args.surge_share}`"
    )
    record("alerts", result, line)


if __name__ == "__main__":
    main()

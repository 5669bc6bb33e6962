"""Alerting benchmark: precision, surge recall, false alarms and alerts per country-month, for
events and for deaths, on three-country panels shaped like the bundled data.

    .venv/bin/python bench/alerts.py                        # report: seeds 0-2, with tuning
    .venv/bin/python bench/alerts.py --seeds 3 --first-seed 0 --tune-seeds 2 --tune-first 100

1. Panels shaped like the bundled UCDP files (service/data/demo/ucdp-ged-*.csv): per country,
   the real bottom series (side A x admin1 x type of violence) and their mean monthly events
   over 2016-2022 (most below one a month, countries 5-18 a month); a rainy-season effect of
   either sign; negative binomial counts; deaths per event drawn from the country's real
   `best_est` values (median 3-5, mean 8-12: a few massacres carry most deaths). 120 months;
   every roll-up of both trees (bench/train.py).
2. Surges at about 0.5 per country-month in the last 12 months: an actor in a region (all its
   event types) grows `size` times (3x-6x, 1-4 months; a quarter are lasting shifts to the
   end), counting a level of at least 3 events a month, so a surge of a quiet pair adds at
   least 6 events a month (what an analyst calls a surge). Deaths follow the events.
3. The first 108 months are trained with the real pipeline (both measures, inline executor);
   the last 12 arrive one month at a time, detection (with the default settings' rules and
   alert budget) after each, as the weekly job runs it.
4. Per measure, on the live flags:
   - alert_precision: share of alerts whose escalation holds a series-month under an injected
     surge (its series sums a surged bottom, its month is a surge month);
   - surge_recall: share of injected surges >= 3x for >= 2 months or >= 5x (for one month or
     more) with a flag above on a series holding them during the surge: the analyst sees it,
     as an alert or in the weekly digest's open escalations;
   - false_alarm_rate: share of clean series-months (no surge under them) flagged;
   - alerts_per_country_month, surges_per_country_month.

Thresholds are tuned apart from the report: `--tune-seeds` panels from `--tune-first` (default
100, 101) are run with a small grid of rules; the figures reported are of seeds `--first-seed`..
with the defaults of service/config.py. Writes bench/results/alerts.json and a RESULTS.md line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import train as train_bench  # noqa: E402 - bench/train.py: the roll-ups
from record import record  # noqa: E402 - bench/record.py: results/alerts.json, RESULTS.md

DEMO = sorted((ROOT / "service" / "data" / "demo").glob("ucdp-ged-*.csv"))
MONTHS, HELD_OUT = 120, 12
KNOWN = MONTHS - HELD_OUT
START = pd.Timestamp("2013-01-01")
TARGETS = {"alert_precision": 0.6, "surge_recall": 0.85, "false_alarm_rate": 0.05,
           "alerts_per_country_month": 1.0}  # fmt: skip
SURGES_PER_COUNTRY_MONTH, SIZES, MIN_LEVEL = 0.5, (3.0, 4.0, 5.0, 6.0), 3.0
TYPES = {1: "State-based", 2: "Non-state", 3: "One-sided"}
MEASURES = ("events", "fatalities")
# The grid tried on the tuning seeds (max tail probability, floor events, floor deaths, share).
GRID = [(0.01, 5.0, 15.0, 0.5), (0.003, 5.0, 15.0, 0.5), (0.01, 8.0, 25.0, 0.5),
        (0.01, 5.0, 15.0, 1.0)]  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """One country of the bundled data: its bottoms' labels and rates, its deaths per event."""

    country: str
    bottoms: pd.DataFrame  # actor, region, event_type, rate (events a month)
    deaths_per_event: np.ndarray


def shapes() -> list[Shape]:
    out = []
    for path in DEMO:
        d = pd.read_csv(path, usecols=["side_a", "adm_1", "type_of_violence", "date_start",
                                       "best_est", "country"], index_col=False)  # fmt: skip
        d["month"] = pd.to_datetime(d["date_start"], format="%m/%d/%Y %H:%M:%S").dt.to_period("M")
        d = d[(d["month"] >= pd.Period("2016-01", "M")) & d["adm_1"].notna()]
        d["adm_1"] = d["adm_1"].str.replace(r" (region|province|district)$", "", regex=True)
        months = d["month"].nunique()
        rates = (d.groupby(["side_a", "adm_1", "type_of_violence"]).size() / months).reset_index()
        rates.columns = ["actor", "region", "event_type", "rate"]
        rates["event_type"] = rates["event_type"].map(TYPES)
        out.append(Shape(str(d["country"].iloc[0]), rates, d["best_est"].to_numpy(float)))
    return out


def synthesize(
    seed: int, countries: list[Shape]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Bottom metadata, clean and surged means (n, MONTHS), deaths per event per bottom-month
    drawer input, and the injected surges."""
    from models.seasons import season_features

    rng = np.random.default_rng(seed)
    meta = pd.concat([s.bottoms.assign(country=s.country) for s in countries], ignore_index=True)
    n = len(meta)
    index = pd.date_range(START, periods=MONTHS, freq="MS")
    share = np.stack([
        season_features(index, country=c, region=None)["season_share"].to_numpy()
        for c in meta["country"]
    ])  # fmt: skip
    log_rr = rng.normal(0.0, 0.4, n)
    clean = meta["rate"].to_numpy()[:, None] * np.exp(log_rr[:, None] * share)
    surged = clean.copy()
    surges = []
    per_country = round(SURGES_PER_COUNTRY_MONTH * HELD_OUT)
    for country in meta["country"].unique():
        pairs = meta[meta["country"] == country].groupby(["actor", "region"])["rate"].sum()
        weights = np.sqrt(pairs.to_numpy())
        for _ in range(per_country):
            actor, region = pairs.index[rng.choice(len(pairs), p=weights / weights.sum())]
            rows = np.flatnonzero((meta["country"] == country) & (meta["actor"] == actor)
                                  & (meta["region"] == region))  # fmt: skip
            size = float(rng.choice(SIZES))
            shift = rng.random() < 0.25
            start = int(rng.integers(KNOWN, MONTHS))
            stop = MONTHS if shift else min(start + int(rng.integers(1, 5)), MONTHS)
            level = clean[rows, start:stop].sum(axis=0)
            added = (size - 1) * np.maximum(level, MIN_LEVEL)
            spread = clean[rows, start:stop] / np.maximum(level, 1e-9)
            spread[:, level <= 0] = 1.0 / len(rows)
            surged[rows, start:stop] += spread * added
            surges.append({"country": country, "actor": actor, "region": region,
                           "bottoms": rows.tolist(), "start": start, "stop": stop,
                           "size": size, "shift": bool(shift)})  # fmt: skip
    return meta.drop(columns="rate"), clean, surged, log_rr, surges


def draw(
    means: np.ndarray, meta: pd.DataFrame, countries: list[Shape], seed: int, alpha: float = 0.3
) -> tuple[np.ndarray, np.ndarray]:
    """Events (negative binomial) and their deaths (each event's drawn from the country's)."""
    rng = np.random.default_rng(seed + 1)
    events = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * means)).astype(np.int64)
    deaths = np.zeros_like(events)
    by_country = {s.country: s.deaths_per_event for s in countries}
    for country, pool in by_country.items():
        rows = np.flatnonzero(meta["country"].to_numpy() == country)
        block = events[rows].ravel()
        draws = rng.choice(pool, size=int(block.sum()))
        cell = np.repeat(np.arange(block.size), block)
        summed = np.bincount(cell, weights=draws, minlength=block.size)
        deaths[rows] = np.rint(summed).astype(np.int64).reshape(len(rows), -1)
    return events, deaths


def build_database(url: str, meta: pd.DataFrame, events: np.ndarray, deaths: np.ndarray) -> None:
    """Sources, regions, actors, series, the first 108 months and coverage through them."""
    places = meta[["country", "region"]].dropna().drop_duplicates()
    train_bench.write_database(url, "ucdp", list(places.itertuples(index=False, name=None)),
                               meta, events, deaths, START, KNOWN)  # fmt: skip


def append_month(url: str, events: np.ndarray, deaths: np.ndarray, month: int) -> None:
    """Month `month` arrives: its observations added, coverage moved to it."""
    from sqlalchemy import update

    from service.bulk import insert_frame
    from service.db import make_engine, session_scope
    from service.series.orm import Coverage, Observation

    engine = make_engine(url)
    last = (START + pd.DateOffset(months=month)).date()
    with session_scope(engine) as session:
        rows = train_bench.observation_rows(events, deaths, START, month, month + 1)
        insert_frame(session, Observation.__table__, rows)
        session.execute(update(Coverage).values(
            last_complete_month=last,
            last_event_date=(pd.Timestamp(last) + pd.offsets.MonthEnd(0)).date()))  # fmt: skip
    engine.dispose()


def train_known(url: str) -> float:
    from service.config import Settings
    from service.db import make_engine
    from service.training.service import TrainRequest, train_measures

    settings = Settings(database_url=url, train_executor="inline")
    engine = make_engine(url)
    started = time.perf_counter()
    train_measures(engine, settings, TrainRequest.from_settings(settings, min_events=1))
    engine.dispose()
    return time.perf_counter() - started


def rules_of(variant: tuple[float, float, float, float] | None) -> tuple[Any, int, float]:
    """The detection rules, budget and level: the defaults, or a tuning variant's."""
    from service.anomalies.severity import Rules
    from service.config import Settings

    settings = Settings()
    rules = Rules.from_settings(settings)
    if variant is not None:
        tail, floor_events, floor_deaths, share = variant
        rules = Rules(max_tail_probability=tail, min_shift_probability=rules.min_shift_probability,
                      min_excess=(("events", floor_events), ("fatalities", floor_deaths)),
                      min_excess_share=(("events", share), ("fatalities", share)))  # fmt: skip
    return rules, settings.alert_budget_per_country_month, settings.anomaly_level


def run_months(
    url: str, events: np.ndarray, deaths: np.ndarray, rules: Any, budget: int, level: float
) -> pd.DataFrame:
    """The 12 new months one at a time, detection after each; the live flags."""
    from sqlalchemy import select

    from service.anomalies.detect import detect
    from service.anomalies.orm import Anomaly
    from service.db import make_engine, session_scope

    for month in range(KNOWN, MONTHS):
        append_month(url, events, deaths, month)
        engine = make_engine(url)
        with session_scope(engine) as session:
            detect(session, level=level, rules=rules, budget=budget)
        engine.dispose()
    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Anomaly.series_id, Anomaly.month, Anomaly.measure, Anomaly.direction,
                   Anomaly.alert, Anomaly.escalation_id).where(Anomaly.origin == "live")
        ).all()  # fmt: skip
    engine.dispose()
    return pd.DataFrame(rows, columns=["series_id", "month", "measure", "direction", "alert",
                                       "escalation_id"])  # fmt: skip


def membership(all_meta: pd.DataFrame, n_bottoms: int) -> np.ndarray:
    """(series, bottom) -> whether the series sums that bottom (a bottom is its own)."""
    bottoms = all_meta.iloc[:n_bottoms]
    out = np.zeros((len(all_meta), n_bottoms), dtype=bool)
    for i, row in enumerate(all_meta.itertuples(index=False)):
        mask = bottoms["country"].to_numpy() == row.country
        for column in ("region", "actor", "event_type"):
            value = getattr(row, column)
            if value is not None:
                mask &= bottoms[column].to_numpy() == value
        out[i] = mask
    return out


def measure(
    flags: pd.DataFrame, covers: np.ndarray, surges: list[dict[str, Any]], countries: int
) -> dict[str, dict[str, Any]]:
    """The figures per measure from the truth (the surges) and the live flags."""
    month_index = {m.date(): i for i, m in enumerate(pd.date_range(START, periods=MONTHS,
                                                                  freq="MS"))}  # fmt: skip
    n_series = covers.shape[0]
    touched = np.zeros((n_series, MONTHS), dtype=bool)  # under a surge
    for s in surges:
        under = covers[:, s["bottoms"]].any(axis=1)
        touched[under, s["start"] : s["stop"]] = True
    window = slice(KNOWN, MONTHS)
    out: dict[str, dict[str, Any]] = {}
    for name in MEASURES:
        mine = flags[flags["measure"] == name]
        flagged = np.zeros((n_series, MONTHS), dtype=bool)
        above = np.zeros((n_series, MONTHS), dtype=bool)
        for sid, month, direction in zip(mine["series_id"], mine["month"], mine["direction"],
                                         strict=True):  # fmt: skip
            flagged[sid - 1, month_index[month]] = True
            above[sid - 1, month_index[month]] |= direction == "above"
        clean = ~touched[:, window]
        true_escalations = {
            e for sid, month, e in zip(flags["series_id"], flags["month"],
                                       flags["escalation_id"], strict=True)
            if e is not None and not pd.isna(e) and touched[sid - 1, month_index[month]]
        }  # fmt: skip
        alerts = mine[mine["alert"]]
        good = sum(e in true_escalations for e in alerts["escalation_id"])
        qualifying = [
            s for s in surges if s["size"] >= 5 or (s["size"] >= 3 and s["stop"] - s["start"] >= 2)
        ]
        found = 0
        for s in qualifying:
            under = covers[:, s["bottoms"]].any(axis=1)
            found += bool(above[under, s["start"] : s["stop"]].any())
        country_months = countries * HELD_OUT
        out[name] = {
            "alerts": len(alerts), "true_alerts": int(good),
            "alert_precision": good / len(alerts) if len(alerts) else None,
            "qualifying_surges": len(qualifying), "surges_found": found,
            "surge_recall": found / len(qualifying) if qualifying else None,
            "clean_series_months": int(clean.sum()),
            "clean_flagged": int(flagged[:, window][clean].sum()),
            "false_alarm_rate": float(flagged[:, window][clean].mean()),
            "flags": len(mine), "escalations": int(mine["escalation_id"].nunique()),
            "alerts_per_country_month": len(alerts) / country_months,
            "surges_per_country_month": len(surges) / country_months,
        }  # fmt: skip
    return out


def scenario(
    seed: int, countries: list[Shape], variants: list[Any], workdir: Path
) -> list[dict[str, dict[str, Any]]]:
    """One panel trained once, then the new months under each variant of the rules."""
    meta, clean, surged, _, surges = synthesize(seed, countries)
    events, deaths = draw(surged, meta, countries, seed)
    all_meta, all_events = train_bench.with_rollups(meta, events)
    _, all_deaths = train_bench.with_rollups(meta, deaths)
    covers = membership(all_meta, len(meta))
    trained = workdir / f"trained-{seed}.db"
    build_database(f"sqlite:///{trained}", all_meta, all_events, all_deaths)
    train_s = train_known(f"sqlite:///{trained}")
    results = []
    for i, variant in enumerate(variants):
        copy = workdir / f"run-{seed}-{i}.db"
        shutil.copy(trained, copy)
        rules, budget, level = rules_of(variant)
        flags = run_months(f"sqlite:///{copy}", all_events, all_deaths, rules, budget, level)
        figures = measure(flags, covers, surges, len(countries))
        figures["events"]["train_s"] = train_s
        figures["events"]["series"] = len(all_meta)
        results.append(figures)
    return results


SUMMED = ("alerts", "true_alerts", "qualifying_surges", "surges_found", "clean_series_months",
          "clean_flagged", "flags", "escalations")  # fmt: skip


def pooled(runs: list[dict[str, Any]], countries: int) -> dict[str, Any]:
    total = {k: sum(r[k] for r in runs) for k in SUMMED}
    country_months = countries * HELD_OUT * len(runs)
    surges = sum(r["surges_per_country_month"] for r in runs) / len(runs)
    return {
        "alert_precision": total["true_alerts"] / max(total["alerts"], 1),
        "surge_recall": total["surges_found"] / max(total["qualifying_surges"], 1),
        "false_alarm_rate": total["clean_flagged"] / max(total["clean_series_months"], 1),
        "alerts_per_country_month": total["alerts"] / country_months,
        "surges_per_country_month": surges,
        **total,
    }


def meets(figures: dict[str, Any]) -> bool:
    return all(
        figures[k] >= t if k in ("alert_precision", "surge_recall") else figures[k] <= t
        for k, t in TARGETS.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="Reported panels.")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--tune-seeds", type=int, default=2, help="Tuning panels (0: none).")
    parser.add_argument("--tune-first", type=int, default=100)
    parser.add_argument("--no-record", action="store_true", help="Print only (a trial run).")
    args = parser.parse_args()
    started = time.perf_counter()
    countries = shapes()
    tuning: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="sahelcast-bench-alerts-") as tmp:
        work = Path(tmp)
        if args.tune_seeds:
            per_seed = [
                scenario(s, countries, GRID, work)
                for s in range(args.tune_first, args.tune_first + args.tune_seeds)
            ]
            for i, variant in enumerate(GRID):
                figures = {m: pooled([r[i][m] for r in per_seed], len(countries))
                           for m in MEASURES}  # fmt: skip
                tuning.append({"max_tail_probability": variant[0], "min_excess_events": variant[1],
                               "min_excess_fatalities": variant[2],
                               "min_excess_share": variant[3],
                               "meets_targets": all(meets(f) for f in figures.values()),
                               **{m: {k: round(v, 4) for k, v in f.items()}
                                  for m, f in figures.items()}})  # fmt: skip
        seeds = range(args.first_seed, args.first_seed + args.seeds)
        reported = [scenario(s, countries, [None], work)[0] for s in seeds]
    figures = {m: pooled([r[m] for r in reported], len(countries)) for m in MEASURES}
    rules, budget, level = rules_of(None)
    result = {
        "date": dt.date.today().isoformat(),
        "panel": (
            "three countries shaped like the bundled UCDP files: their bottoms (side A x "
            "admin1 x type of violence) and rates, deaths per event from their best_est"
        ),
        "countries": [s.country for s in countries],
        "bottoms": int(sum(len(s.bottoms) for s in countries)),
        "series": reported[0]["events"]["series"],
        "seeds": list(seeds),
        "tuned_on_seeds": list(range(args.tune_first, args.tune_first + args.tune_seeds)),
        "mode": "12 new months, one at a time, detection after each (the weekly job's way)",
        "rules": {
            "level": level,
            "max_tail_probability": rules.max_tail_probability,
            "min_shift_probability": rules.min_shift_probability,
            "min_excess": dict(rules.min_excess),
            "min_excess_share": dict(rules.min_excess_share),
            "alert_budget_per_country_month": budget,
        },  # fmt: skip
        **figures["events"],
        "fatalities": figures["fatalities"],
        "per_seed": [
            {
                m: {
                    k: r[m][k]
                    for k in ("alert_precision", "surge_recall", "false_alarm_rate", "alerts")
                }
                for m in MEASURES
            }
            for r in reported
        ],  # fmt: skip
        "tuning": tuning,
        "targets": TARGETS,
        "train_s_per_panel": round(float(np.mean([r["events"]["train_s"] for r in reported])), 1),
        "total_s": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(result, indent=2, default=float))
    e, f = figures["events"], figures["fatalities"]
    line = (
        f"- {result['date']} alerts (issue 18): {args.seeds} panels (seeds {args.first_seed}-"
        f"{args.first_seed + args.seeds - 1}; rules tuned on seeds {args.tune_first}-"
        f"{args.tune_first + args.tune_seeds - 1}) x 3 countries shaped like the bundled UCDP "
        f"data ({result['series']} series), surges "
        f"{e['surges_per_country_month']:.2f} per country-month, 12 months one at a time. "
        f"Events: alert_precision **{e['alert_precision']:.2f}**, surge_recall "
        f"**{e['surge_recall']:.2f}**, false_alarm_rate **{e['false_alarm_rate']:.4f}**, "
        f"alerts_per_country_month **{e['alerts_per_country_month']:.2f}**; deaths: "
        f"**{f['alert_precision']:.2f}**, **{f['surge_recall']:.2f}**, "
        f"**{f['false_alarm_rate']:.4f}**, **{f['alerts_per_country_month']:.2f}** "
        f"(targets >= 0.6, >= 0.85, <= 0.05, <= 1.0); {result['total_s']:.0f} s - "
        f"`python bench/alerts.py --seeds {args.seeds} --first-seed {args.first_seed} "
        f"--tune-seeds {args.tune_seeds} --tune-first {args.tune_first}`"
    )
    if not args.no_record:
        record("alerts", json.loads(json.dumps(result, default=float)), line)


if __name__ == "__main__":
    main()

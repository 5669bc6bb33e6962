"""Shock benchmark: does one burst blow up the next forecast, and is a lasting shift followed?

    .venv/bin/python bench/shock.py            # writes results/shock.json and a RESULTS.md line
    .venv/bin/python bench/shock.py --seeds 0 1 --no-record

Synthetic panels shaped like the bundled UCDP data (three countries, an actor tree and a
geography tree each; bottom levels log-normal around 1.5 events a month, rainy-season effects
of either sign, negative-binomial noise, and the panel's own natural shifts and one-off
bursts at a few per cent of months). Into known busy bottom series (an expected level of at
least MIN_LEVEL events a month, where a doubling can be seen at all in two months) are injected:

- a one-month burst: the last month's mean times three;
- a lasting shift: the mean doubled for the last two months.

The engine is fitted twice, on the months before the last one and on all of them (the retrain
after the burst; for the shifts, two months in). Figures:

- `burst_q975_ratio`: the mean over bursts of (h=1 97.5 % quantile after the burst) / (the one
  before); `burst_q975_ratio_max` the worst;
- `shift_recovery`: share of shifts whose h=1 mean two months in is within 25 % of the new level;
- `shift_prob_lasting`: share of shifts with P(shift up in one of its two months) > 0.8;
- `shift_prob_burst`: share of bursts with P(shift up in the burst month) > 0.5, judged right
  after the burst (the stricter moment; `shift_prob_burst_month_after` one month later).

The `oracle_*` figures are the same measures from the engine's own filter run with the
parameters that generated the data (their season, step, shift and outlier rates, dispersion):
what a calibrated forecast can reach at all on these series. The oracle says how far a target is
attainable, the engine's figure how far it gets (an earlier version drew counts of dispersion
1/k = 0.25 with shifts in 1.5 % of months: there even the oracle gave no lasting shift a
probability above 0.8 after two months).

The headline world is the one the engine learns on the bundled UCDP events. `sensitivity`
repeats the measures in worlds that change one thing at a time (counts of dispersion 0.03
instead of 0.125; shocks only into series of 15 events a month or more; levels that shift in 2 %
of months instead of 9 %) and all three together: where the generating parameters reach a
target and the engine does not, the engine is at fault; where neither does, the world is.

The data are drawn from a process much like the engine's own model (a level that moves, shifts
and bursts, negative-binomial counts), which flatters it: these figures show that the machinery
does what it claims, not how it fares on real conflict data (bench/accuracy.py does that).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.record import record  # noqa: E402
from models.panel import dynamics as dynamics_mod  # noqa: E402
from models.panel.engine import PanelEngine, PanelResult  # noqa: E402
from models.seasons import season_features  # noqa: E402

COUNTRIES = {
    "Mali": ("Mopti", "Segou", "Gao", "Tombouctou", "Menaka", "Kidal", "Koulikoro", "Sikasso"),
    "Burkina Faso": ("Sahel", "Nord", "Est", "Centre-Nord", "Boucle du Mouhoun", "Centre-Est"),
    "Niger": ("Tillaberi", "Diffa", "Tahoua", "Maradi"),
}
TYPES = ("State-based conflict", "Non-state conflict", "One-sided violence")
ACTORS = ("JNIM", "Islamic State Sahel", "Government", "Militia A", "Militia B")
MONTHS = pd.date_range("2013-01-01", periods=110, freq="MS")
EXTENDED = pd.date_range(MONTHS[0], periods=len(MONTHS) + 1, freq="MS")  # and the month after
MIN_LEVEL = 5.0
# The generating process: what the engine learns on the bundled UCDP events (three countries,
# 2026-12-07, bottom level actor x region x type, rounded): small moves of sd 0.1 a month,
# a lasting shift in 9 % of months (Gamma(2) log size of mean 0.66, about x1.9, either way),
# one-off bursts in 2.4 % of months, negative-binomial counts of dispersion 1/k = 0.13.
NB_K = 8.0
STEP_SD, P_JUMP, JUMP, P_BURST = 0.1, 0.09, 0.66, 0.024


@dataclass(frozen=True)
class World:
    """What the synthetic panels are drawn from: count dispersion 1/k, how busy a series must
    be to be shocked, and how often levels shift by themselves."""

    nb_k: float = NB_K
    min_level: float = MIN_LEVEL
    p_jump: float = P_JUMP

    def oracle(self) -> dynamics_mod.Dynamics:
        """The engine's filter with the generating parameters (their outlier law is the
        engine's own)."""
        return dynamics_mod.Dynamics(
            step_sd=STEP_SD,
            p_shift=self.p_jump,
            shift_mean=JUMP,
            p_outlier=P_BURST,
            inv_k=1 / self.nb_k,
            revert=0.0,
        )

    def label(self) -> str:
        return f"1/k {1 / self.nb_k:.2f}, level >= {self.min_level:g}, shifts {self.p_jump:.0%}"


# The headline world is the real data's; the others change one thing at a time (and all three),
# to show where the targets become attainable at all and whether the engine follows the oracle.
SWEEP = (World(), World(nb_k=30.0), World(min_level=15.0), World(p_jump=0.02),
         World(nb_k=30.0, min_level=15.0, p_jump=0.02))  # fmt: skip
TARGETS = {"burst_q975_ratio": ("<=", 2.0), "shift_recovery": (">=", 0.8),
           "shift_prob_lasting": (">=", 0.85), "shift_prob_burst": ("<=", 0.15)}  # fmt: skip


def synthesize(seed: int, world: World) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Bottom series of both trees of the three countries: labels, expected counts and the
    season term on the log scale."""
    rng = np.random.default_rng(seed)
    t = len(EXTENDED)
    labels, means, seasons = [], [], []
    for country, regions in COUNTRIES.items():
        for tree in ("geography", "actor"):
            actors = ACTORS if tree == "actor" else (None,)
            for actor in actors:
                for region in regions:
                    if actor is not None and rng.random() < 0.4:
                        continue  # not every actor is everywhere
                    share = season_features(EXTENDED, country=country, region=region)
                    log_season = rng.normal(0, 0.4) * share["season_share"].to_numpy()
                    season = np.exp(log_season)
                    for etype in TYPES:
                        level = np.exp(rng.normal(np.log(1.5), 1.2))
                        log_path = np.log(level) + np.cumsum(rng.normal(0, STEP_SD, t))
                        jumps = rng.random(t) < world.p_jump
                        size = rng.gamma(2.0, JUMP / 2, t) * rng.choice([-1.0, 1.0], t)
                        log_path += np.cumsum(jumps * size)
                        log_path = np.clip(log_path, np.log(0.05), np.log(300.0))
                        mean = np.exp(log_path) * season
                        mean *= np.where(rng.random(t) < P_BURST, 3.0, 1.0)  # natural bursts
                        labels.append(
                            {"uid": len(labels), "country": country, "tree": tree,
                             "actor": actor, "region": region, "event_type": etype}
                        )  # fmt: skip
                        means.append(mean)
                        seasons.append(log_season)
    return pd.DataFrame(labels), np.array(means), np.array(seasons)


def counts(mean: np.ndarray, rng: np.random.Generator, k: float = NB_K) -> np.ndarray:
    return rng.negative_binomial(k, k / (k + mean)).astype(float)


def h1(result: PanelResult, bottom: np.ndarray, column: str) -> np.ndarray:
    """The h=1 forecast column of the given bottoms."""
    fc = result.forecast[result.forecast["horizon"] == 1].set_index("node")
    node_of = pd.Series(result.nodes.index, index=result.nodes["bottom"])
    return fc.loc[node_of.loc[bottom].to_numpy(), column].to_numpy()


def p_up(result: PanelResult, bottom: np.ndarray, months: list[pd.Timestamp]) -> np.ndarray:
    st = result.states
    node_of = pd.Series(result.nodes.index, index=result.nodes["bottom"])
    nodes = node_of.loc[bottom].to_numpy()
    part = st[st["node"].isin(nodes) & st["month"].isin(months)]
    return part.groupby("node")["p_shift_up"].sum().reindex(nodes).to_numpy()


def oracle_q975(y: np.ndarray, log_season: np.ndarray, oracle: dynamics_mod.Dynamics) -> np.ndarray:
    """The h=1 97.5 % quantile of the engine's filter with the generating parameters, after
    the months of y (N, T); log_season (N, T + 1) holds the next month's season."""
    t = y.shape[1]
    base = dynamics_mod.grid_base(y)
    at = dynamics_mod.run_filter(y, log_season[:, :t], base, oracle, keep=(t,)).at[t]
    k0, up, down = dynamics_mod.kernels(oracle)
    p = oracle.p_shift
    pred = at.astype(float) @ ((1 - p) * k0 + p / 2 * (up + down))  # (N, G)
    lev = np.exp(base[:, None] + dynamics_mod.grid_offsets()[None, :] + log_season[:, t, None])
    values = np.arange(0, int(4 * y.max()) + 200)
    out = np.empty(len(y))
    for i in range(len(y)):
        k, ko = 1 / oracle.inv_k, 1 / dynamics_mod.OUTLIER_INV_K
        mu = lev[i][:, None]
        mult = oracle.outlier_mult
        pmf = (1 - oracle.p_outlier) * stats.nbinom.pmf(values[None, :], k, k / (k + mu))
        pmf += oracle.p_outlier * stats.nbinom.pmf(values[None, :], ko, ko / (ko + mult * mu))
        cdf = np.cumsum(pred[i] @ pmf)
        out[i] = values[min(np.searchsorted(cdf, 0.975), len(values) - 1)]
    return out


def one_panel(seed: int, world: World) -> dict[str, Any]:
    rng = np.random.default_rng(1000 + seed)
    oracle_dyn = world.oracle()
    labels, extended, log_season = synthesize(seed, world)
    t = len(MONTHS)
    mean, after_month = extended[:, :t], extended[:, t]
    expected = mean[:, -3]  # the level just before the shocks
    busy = np.flatnonzero(expected >= world.min_level)
    rng.shuffle(busy)
    half = len(busy) // 2
    bursts, shifts = np.sort(busy[:half]), np.sort(busy[half:])
    shocked = mean.copy()
    shocked[bursts, -1] *= 3.0
    shocked[shifts, -2:] *= 2.0
    y = counts(shocked, rng, world.nb_k)
    started = time.perf_counter()
    before = PanelEngine(labels, y[:, : t - 1], MONTHS[: t - 1], name=f"shock{seed}").run()
    after = PanelEngine(labels, y, MONTHS, name=f"shock{seed}").run()
    # the month after: normal
    later_y = np.hstack([y, counts(after_month[:, None], rng, world.nb_k)])
    later = PanelEngine(labels, later_y, EXTENDED, name=f"shock{seed}").run()
    seconds = time.perf_counter() - started
    oracle = dynamics_mod.run_filter(
        y[shifts], log_season[shifts, :t], dynamics_mod.grid_base(y[shifts]), oracle_dyn, window=2
    )
    ratio = h1(after, bursts, "q0.975") / np.maximum(h1(before, bursts, "q0.975"), 1.0)
    oracle_ratio = oracle_q975(y[bursts], log_season[bursts], oracle_dyn) / np.maximum(
        oracle_q975(y[bursts, : t - 1], log_season[bursts], oracle_dyn), 1.0
    )
    new_level = 2.0 * after_month[shifts]  # the next month's mean, had the shift gone on
    recovered = np.abs(h1(after, shifts, "mean") - new_level) <= 0.25 * new_level
    return {
        "seed": seed,
        "bottoms": int(len(labels)),
        "bursts": int(len(bursts)),
        "shifts": int(len(shifts)),
        "burst_ratios": ratio.tolist(),
        "oracle_burst_ratios": oracle_ratio.tolist(),
        "shift_recovered": recovered.tolist(),
        "shift_p": p_up(after, shifts, list(MONTHS[-2:])).tolist(),
        "oracle_shift_p": oracle.p_up.sum(axis=1).tolist(),
        # the oracle's h=1 mean: its smoothed level, the next month's season, the outlier share
        "oracle_recovered": (
            np.abs(
                oracle.level[:, -1] * np.exp(log_season[shifts, t]) * oracle_dyn.burst_factor
                - new_level
            )
            <= 0.25 * new_level
        ).tolist(),
        "burst_p": p_up(after, bursts, [MONTHS[-1]]).tolist(),
        "burst_p_after": p_up(later, bursts, [MONTHS[-1]]).tolist(),
        "seconds": seconds,
        "dynamics": after.dynamics,
    }


def summarise(panels: list[dict[str, Any]]) -> dict[str, Any]:
    ratios = np.concatenate([p["burst_ratios"] for p in panels])
    shift_p = np.concatenate([p["shift_p"] for p in panels])
    burst_p = np.concatenate([p["burst_p"] for p in panels])
    oracle = np.concatenate([p["oracle_shift_p"] for p in panels])
    burst_after = np.concatenate([p["burst_p_after"] for p in panels])
    out = {
        "burst_q975_ratio": float(ratios.mean()),
        "burst_q975_ratio_median": float(np.median(ratios)),
        "burst_q975_ratio_max": float(ratios.max()),
        "oracle_burst_q975_ratio": float(
            np.mean(np.concatenate([p["oracle_burst_ratios"] for p in panels]))
        ),
        "shift_recovery": float(np.mean(np.concatenate([p["shift_recovered"] for p in panels]))),
        "oracle_shift_recovery": float(
            np.mean(np.concatenate([p["oracle_recovered"] for p in panels]))
        ),
        "shift_prob_lasting": float((shift_p > 0.8).mean()),
        "shift_prob_lasting_median": float(np.median(shift_p)),
        "oracle_shift_prob_lasting": float((oracle > 0.8).mean()),
        "oracle_shift_prob_lasting_median": float(np.median(oracle)),
        "shift_prob_burst": float((burst_p > 0.5).mean()),
        "shift_prob_burst_month_after": float((burst_after > 0.5).mean()),
        "bursts": int(len(ratios)),
        "shifts": int(len(shift_p)),
    }
    out["targets_met"] = {
        k: (out[k] <= v) if op == "<=" else (out[k] >= v) for k, (op, v) in TARGETS.items()
    }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--no-sweep", action="store_true", help="only the headline world (no sensitivity table)"
    )
    args = parser.parse_args()
    panels = [one_panel(seed, World()) for seed in args.seeds]
    sweep = []
    for world in () if args.no_sweep else SWEEP[1:]:
        figures = summarise([one_panel(seed, world) for seed in args.seeds])
        sweep.append({"world": world.label(), **asdict(world), **figures})
        print(world.label(), {k: round(v, 2) for k, v in figures.items() if isinstance(v, float)},
              file=sys.stderr, flush=True)  # fmt: skip
    result = {
        "date": dt.date.today().isoformat(),
        "command": "bench/shock.py --seeds " + " ".join(map(str, args.seeds)),
        "min_level": MIN_LEVEL,
        **summarise(panels),
        "panels": [{k: v for k, v in p.items() if not isinstance(v, list)} for p in panels],
        "world": World().label(),
        "sensitivity": sweep,
        "note": "synthetic panels drawn from a process much like the engine's own model: "
        "they show the machinery works, not its accuracy on real data",
    }
    show = {k: v for k, v in result.items() if k != "panels"}
    print(pd.Series(show).to_string())
    if not args.no_record:
        met = all(result["targets_met"].values())
        line = (f"- {result['date']} shock (bench/shock.py, seeds {args.seeds}, "
                f"{result['bursts']} bursts, {result['shifts']} shifts, level >= {MIN_LEVEL}): "
                f"burst_q975_ratio {result['burst_q975_ratio']:.2f} (max "
                f"{result['burst_q975_ratio_max']:.2f}; with the generating parameters "
                f"{result['oracle_burst_q975_ratio']:.2f}), shift_recovery "
                f"{result['shift_recovery']:.2f} (with the generating parameters "
                f"{result['oracle_shift_recovery']:.2f}), shift_prob_lasting "
                f"{result['shift_prob_lasting']:.2f} (with the generating parameters "
                f"{result['oracle_shift_prob_lasting']:.2f}), shift_prob_burst "
                f"{result['shift_prob_burst']:.2f} (a month later "
                f"{result['shift_prob_burst_month_after']:.2f}) "
                f"({'meets' if met else 'MISSES'} <=2.0 / >=0.8 / >=0.85 / <=0.15)")  # fmt: skip
        if sweep:
            line += "; engine / generating parameters in other worlds: " + "; ".join(
                f"{row['world']}: {row['burst_q975_ratio']:.2f} / "
                f"{row['oracle_burst_q975_ratio']:.2f}, {row['shift_recovery']:.2f} / "
                f"{row['oracle_shift_recovery']:.2f}, {row['shift_prob_lasting']:.2f} / "
                f"{row['oracle_shift_prob_lasting']:.2f}, {row['shift_prob_burst']:.2f}"
                for row in sweep
            )
        record("shock", result, line)


if __name__ == "__main__":
    main()

"""The panel engine: pooled season effects, coherent trees, calibrated quantiles, peers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.base import QUANTILE_COLUMNS
from models.legacy.registry import get_model
from models.panel.calibrate import Calibration
from models.panel.engine import PanelConfig, PanelEngine, PanelResult
from models.panel.peers import no_change, seasonal_naive
from models.panel.season import pool, raw_effects
from models.seasons import season_features

MONTHS = pd.date_range("2015-01-01", periods=96, freq="MS")
REGIONS = ("Mopti", "Segou", "Gao", "Tombouctou", "Menaka", "Kidal")
FAST = PanelConfig(n_samples=200, backtest_samples=100, backtest_origins=4)


def _share(region: str) -> np.ndarray:
    return season_features(MONTHS, country="Mali", region=region)["season_share"].to_numpy()


def simulate(
    log_rr: dict[str, float], base: float = 6.0, seed: int = 0, surge: str | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """One actor (two event types per region) plus the geography bottoms, NB counts."""
    rng = np.random.default_rng(seed)
    labels: list[dict[str, object]] = []
    rows: list[np.ndarray] = []
    for region, effect in log_rr.items():
        for etype in ("Battles", "Violence against civilians"):
            mean = base * np.exp(effect * _share(region))
            if surge == region:  # one rainy season surged five-fold
                mean = mean * np.where((MONTHS.year == 2019) & (_share(region) > 0.5), 5.0, 1.0)
            counts = rng.negative_binomial(5, 5 / (5 + mean)).astype(float)
            labels.append(
                {
                    "uid": len(labels),
                    "tree": "actor",
                    "actor": "JNIM",
                    "region": region,
                    "event_type": etype,
                }
            )
            rows.append(counts)
    actor_rows = np.array(rows)
    for k, region in enumerate(log_rr):
        for j, etype in enumerate(("Battles", "Violence against civilians")):
            labels.append(
                {
                    "uid": len(labels),
                    "tree": "geography",
                    "actor": None,
                    "region": region,
                    "event_type": etype,
                }
            )
            rows.append(actor_rows[2 * k + j])
    return pd.DataFrame(labels), np.array(rows)


def run(labels: pd.DataFrame, y: np.ndarray, config: PanelConfig = FAST) -> PanelResult:
    return PanelEngine(labels, y, MONTHS, country="Mali", name="test", config=config).run()


def test_between_region_variance_is_estimated_not_collapsed() -> None:
    truth = dict(zip(REGIONS, (-1.0, -0.6, 0.0, 0.3, 0.7, -0.2), strict=True))
    labels, y = simulate(truth, base=8.0, seed=3)
    result = run(labels, y)
    tau_middle = result.tau["actor"][1]
    assert tau_middle > 0.15  # the regions really differ by ~0.6 on the log scale
    nodes = result.nodes.join(result.season.set_index("node"))
    regions = nodes[nodes["level"] == "actor_region"].set_index("region")["rate_ratio"]
    assert regions.nunique() == len(REGIONS)  # not one pooled number for all
    # the ordering of the true effects survives pooling
    assert np.corrcoef(np.log(regions[list(truth)]), list(truth.values()))[0, 1] > 0.8


def test_one_surged_rainy_season_is_not_read_as_a_seasonal_rise() -> None:
    truth = dict.fromkeys(REGIONS, float(np.log(0.45)))
    labels, y = simulate(truth, base=6.0, seed=1, surge="Mopti")
    result = run(labels, y)
    nodes = result.nodes.join(result.season.set_index("node"))
    country = nodes[nodes["level"] == "actor_country"].iloc[0]
    assert country["rate_ratio"] < 0.7
    assert country["ci_high"] < 1.0
    mopti = nodes[(nodes["level"] == "actor_region") & (nodes["region"] == "Mopti")].iloc[0]
    assert mopti["rate_ratio"] < 1.0  # pulled back toward the actor's lull
    # and the forecast uses exactly that: a rainy month over a dry one
    fc = result.forecast[result.forecast["node"] == mopti.name].set_index("month")["mean"]
    assert fc[pd.Timestamp("2023-08-01")] / fc[pd.Timestamp("2023-02-01")] == pytest.approx(
        mopti["rate_ratio"], rel=1e-6
    )


def test_sparse_or_one_sided_series_say_insufficient_data_never_a_wild_number() -> None:
    labels, y = simulate(dict.fromkeys(REGIONS[:3], 0.0), base=5.0, seed=2)
    one_sided = np.zeros(len(MONTHS))
    one_sided[(_share("Kidal") == 0) & (np.arange(len(MONTHS)) % 7 == 0)] = 1.0  # dry only
    labels = pd.concat(
        [
            labels,
            pd.DataFrame(
                [
                    {
                        "uid": 99,
                        "tree": "actor",
                        "actor": "Koglweogo",
                        "region": "Kidal",
                        "event_type": "Battles",
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    y = np.vstack([y, one_sided])
    result = run(labels, y)
    season = result.nodes.join(result.season.set_index("node"))
    kog = season[season["actor"] == "Koglweogo"]
    assert kog["raw_rate_ratio"].isna().all()  # its own data cannot support a number
    assert set(kog["status"]) <= {"pooled", "insufficient_data"}
    shown = season[season["rate_ratio"].notna()]
    assert shown["ci_low"].notna().all()
    assert shown["ci_high"].notna().all()
    assert (shown["rate_ratio"].between(0.05, 20)).all()
    assert (shown["ci_low"] <= shown["rate_ratio"]).all()
    assert (shown["rate_ratio"] <= shown["ci_high"]).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_levels_add_up_and_every_quantile_set_holds_its_mean(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = {r: float(rng.normal(0, 0.5)) for r in REGIONS[: 2 + seed]}
    labels, y = simulate(truth, base=float(rng.uniform(0.3, 12)), seed=seed)
    result = run(labels, y)
    fc = result.forecast
    q = fc[list(QUANTILE_COLUMNS)].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (q[:, 0] <= fc["mean"].to_numpy()).all()
    assert (fc["mean"].to_numpy() <= q[:, -1]).all()
    means = fc.pivot_table(index="node", columns="horizon", values="mean").to_numpy()
    engine = PanelEngine(labels, y, MONTHS, country="Mali", name="test", config=FAST)
    bottoms = means[engine.trees.nodes["bottom"].to_numpy() >= 0]
    np.testing.assert_allclose(engine.trees.summing @ bottoms, means, rtol=1e-6)


def test_a_later_month_never_has_a_narrower_interval_without_a_season_reason() -> None:
    """Where the expected count does not fall from one month to the next (the dry months of
    a seasonal series), no upper quantile falls; where it does not rise, no lower quantile
    rises: the level is a random walk, so a later month is never known better. Sample noise
    and a new horizon band's calibration cell used to narrow them (53 of the 54 series of
    the bundled data with a mean of 3 or more)."""
    labels, y = simulate({"Mopti": -0.6, "Segou": 0.5, "Gao": -0.2}, base=9.0, seed=11)
    fc = run(labels, y).forecast.sort_values(["node", "horizon"])
    n = fc["node"].nunique()
    mean = fc["mean"].to_numpy().reshape(n, -1)
    q = fc[list(QUANTILE_COLUMNS)].to_numpy().reshape(n, mean.shape[1], -1)
    steady_or_up = mean[:, 1:] >= mean[:, :-1] * (1 - 1e-6)
    steady_or_down = mean[:, 1:] <= mean[:, :-1] * (1 + 1e-6)
    assert steady_or_up.all(axis=1).sum() < n  # seasonal: some means fall, some rise
    assert (steady_or_up & steady_or_down).sum() > n  # and some months keep their mean
    upper_falls = (np.diff(q[:, :, 4:], axis=1) < 0).any(axis=2)
    lower_rises = (np.diff(q[:, :, :3], axis=1) > 0).any(axis=2)
    assert not (upper_falls & steady_or_up).any()
    assert not (lower_rises & steady_or_down).any()


def test_same_data_same_forecast() -> None:
    labels, y = simulate(dict.fromkeys(REGIONS[:2], -0.3), seed=5)
    first, second = run(labels, y), run(labels, y)
    pd.testing.assert_frame_equal(first.forecast, second.forecast)
    pd.testing.assert_frame_equal(first.season, second.season)


def test_raw_effect_recovers_a_known_ratio() -> None:
    rng = np.random.default_rng(0)
    share = np.tile(_share("Mopti"), (200, 1))
    y = rng.poisson(4.0 * np.exp(np.log(0.5) * share))
    raw = raw_effects(y.astype(float), share, MONTHS.year.to_numpy())
    estimate = np.exp(raw.log_rr)
    inside = (np.exp(raw.log_rr - 1.96 * raw.se) <= 0.5) & (
        0.5 <= np.exp(raw.log_rr + 1.96 * raw.se)
    )
    assert np.median(estimate) == pytest.approx(0.5, rel=0.1)
    assert 0.88 <= inside.mean() <= 0.99  # the raw interval covers the truth as it should
    # pooled with no real between-series spread: shrunk together, intervals still honest
    post = pool(raw, np.zeros(200, dtype=int), np.zeros(1, dtype=int))
    assert post.tau[2] < 0.2
    covered = (post.series_mean - 1.96 * post.series_sd <= np.log(0.5)) & (
        np.log(0.5) <= post.series_mean + 1.96 * post.series_sd
    )
    assert covered.mean() >= 0.9


def test_calibration_widens_overconfident_forecasts_and_leaves_calibrated_ones() -> None:
    rng = np.random.default_rng(0)
    n = 6000
    band = rng.integers(0, 3, n)
    group = rng.integers(0, 2, n)
    mean = np.full(n, 20.0)
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    uniform = rng.uniform(size=n)
    names, bands = ("country", "region"), ("1-3", "4-6", "7-12")
    calibrated = Calibration.fit(uniform, uniform, group, band, mean, levels, names, bands)
    np.testing.assert_allclose(calibrated.table[:, :, 3], np.tile(levels, (2, 3, 1)), atol=0.03)
    # the country totals' outcomes fall in the tails far more often than forecast: widen those
    spread = np.where(group == 0, np.clip(0.5 + (uniform - 0.5) * 1.8, 0, 1), uniform)
    wide = Calibration.fit(spread, spread, group, band, mean, levels, names, bands)
    assert (wide.table[0, :, 3, 0] < 0.02).all()
    assert (wide.table[0, :, 3, -1] > 0.98).all()
    np.testing.assert_allclose(wide.table[1, :, 3], np.tile(levels, (3, 1)), atol=0.04)
    # the inverse map takes an adjusted level back to its nominal one
    adj = wide.adjusted(np.zeros(3, int), np.arange(3), np.full(3, 20.0))[:, 1]
    back = wide.calibrated_pit(adj, np.zeros(3, int), np.arange(3), np.full(3, 20.0))
    np.testing.assert_allclose(back, 0.1, atol=1e-9)


def test_a_sparse_series_over_wide_interval_narrows_at_the_top_never_at_zero() -> None:
    """Outcomes of quiet series (means below 2) that fall in the middle far more often than
    forecast: the upper levels come down toward what they did, the lower ones stay at most
    nominal, so zero stays inside a quiet series' interval."""
    rng = np.random.default_rng(3)
    n = 6000
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    zeros = np.zeros(n, int)
    narrow = 0.5 + (rng.uniform(size=n) - 0.5) * 0.6  # PIT values in [0.2, 0.8]
    for mean, sparse in ((np.full(n, 1.0), True), (np.full(n, 20.0), False)):
        cal = Calibration.fit(narrow, narrow, zeros, zeros, mean, levels, ("region",), ("1-3",))
        row = cal.adjusted(zeros[:1], zeros[:1], mean[:1])[0]
        assert row[-1] < 0.85  # the top comes down either way
        assert row[-2] < 0.8
        if sparse:
            np.testing.assert_allclose(row[:3], levels[:3])  # the bottom never rises
        else:
            assert row[0] > 0.15


def test_a_widen_only_level_keeps_its_intervals_when_its_backtests_say_narrow() -> None:
    """Backtest outcomes that fall in the middle far more often than forecast narrow an
    ordinary level's intervals; a level named widen-only keeps at least the nominal ones, and
    still widens when its outcomes fall in the tails."""
    rng = np.random.default_rng(6)
    n = 6000
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    group = rng.integers(0, 2, n)  # 0: country (widen-only), 1: region
    zeros, mean = np.zeros(n, int), np.full(n, 20.0)
    narrow = 0.5 + (rng.uniform(size=n) - 0.5) * 0.6
    names, bands = ("country", "region"), ("1-3",)
    cal = Calibration.fit(narrow, narrow, group, zeros, mean, levels, names, bands, ("country",))
    np.testing.assert_allclose(cal.table[0, 0, 3], levels)  # the country keeps nominal levels
    assert cal.table[1, 0, 3, -1] < 0.85  # the region narrows
    assert cal.table[1, 0, 3, 0] > 0.15
    wide = 0.5 + (rng.uniform(size=n) - 0.5) * 1.8
    cal = Calibration.fit(np.clip(wide, 0, 1), np.clip(wide, 0, 1), group, zeros, mean, levels,
                          names, bands, ("country",))  # fmt: skip
    assert cal.table[0, 0, 3, 0] < 0.02
    assert cal.table[0, 0, 3, -1] > 0.98


def test_a_calibrated_count_forecast_keeps_its_levels_and_its_quartiles_apart() -> None:
    from models.panel.calibrate import pit_pair, sample_quantiles

    rng = np.random.default_rng(5)
    n, s, k = 4000, 500, 4.0
    mean = rng.uniform(2.5, 6.0, n)  # a volume band of few events: many ties
    draws = rng.negative_binomial(k, k / (k + mean[:, None]), (n, s)).astype(float)
    outcome = rng.negative_binomial(k, k / (k + mean)).astype(float)  # from the forecast itself
    lo, hi = pit_pair(draws, outcome)
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    zeros = np.zeros(n, int)
    cal = Calibration.fit(lo, hi, zeros, zeros, mean, levels, ("region",), ("1-3",))
    # calibrated already: the map leaves every level where it was (no inward pull of the
    # quartiles that inclusive-coverage matching makes on counts)
    np.testing.assert_allclose(cal.table[0, 0, 2], levels, atol=0.03)
    q = sample_quantiles(np.sort(draws, axis=1), cal.adjusted(zeros, zeros, mean))
    assert (q[:, 2] < q[:, 3]).mean() > 0.6  # the lower quartile is mostly below the median


def test_vectorized_peers_equal_the_per_series_baselines() -> None:
    rng = np.random.default_rng(4)
    y = rng.poisson(rng.uniform(0.2, 15, (12, 1)), (12, 60)).astype(float)
    sn_mean, sn_q = seasonal_naive(y, 12)
    nc_mean, nc_q = no_change(y, 12)
    index = pd.date_range("2017-01-01", periods=60, freq="MS")
    for i in range(len(y)):
        series = pd.Series(y[i], index=index)
        own = get_model("seasonal_naive").fit(series).predict(12)
        np.testing.assert_allclose(sn_mean[i], own["mean"].to_numpy())
        np.testing.assert_allclose(sn_q[i], own[list(QUANTILE_COLUMNS)].to_numpy())
        last = get_model("poisson_last").fit(series).predict(12)
        np.testing.assert_allclose(nc_mean[i], last["mean"].to_numpy())
        np.testing.assert_allclose(nc_q[i], last[list(QUANTILE_COLUMNS)].to_numpy())


def _one_bottom(y: np.ndarray, actor: str = "JNIM", country: str = "Mali") -> pd.DataFrame:
    """One actor's bottoms, a region each (and two event types past six regions)."""
    types = ("Battles", "Violence against civilians")
    return pd.DataFrame(
        [
            {
                "uid": k,
                "country": country,
                "tree": "actor",
                "actor": actor,
                "region": REGIONS[k % 6],
                "event_type": types[k // 6],
            }
            for k in range(len(y))
        ]
    )


def test_outlook_totals_add_up_and_are_narrower_than_summed_months() -> None:
    labels, y = simulate(dict.fromkeys(REGIONS[:3], -0.4), base=6.0, seed=8)
    result = run(labels, y)
    fc, out = result.forecast, result.outlook
    for months in (3, 6, 12):
        part = out[out["months"] == months].set_index("node")
        summed = fc[fc["horizon"] <= months].groupby("node")["mean"].sum()
        np.testing.assert_allclose(part["mean"], summed.loc[part.index], rtol=1e-6)
        assert (part["q0.025"] <= part["mean"]).all()
        assert (part["mean"] <= part["q0.975"]).all()
    engine = PanelEngine(labels, y, MONTHS, country="Mali", name="test", config=FAST)
    six = out[out["months"] == 6].set_index("node").sort_index()
    bottoms = six[engine.trees.nodes["bottom"].to_numpy() >= 0]["mean"].to_numpy()
    np.testing.assert_allclose(engine.trees.summing @ bottoms, six["mean"], rtol=1e-6)
    # a total's 80 % interval is far narrower than the sum of the months' intervals
    country = int(result.nodes.index[result.nodes["level"] == "actor_country"][0])
    width = six.loc[country, "q0.9"] - six.loc[country, "q0.1"]
    months = fc[(fc["node"] == country) & (fc["horizon"] <= 6)]
    assert width < 0.8 * (months["q0.9"] - months["q0.1"]).sum()


def test_one_burst_moves_the_next_forecast_far_less_than_a_lasting_shift() -> None:
    rng = np.random.default_rng(11)
    y = rng.negative_binomial(8, 8 / (8 + 6.0), (12, len(MONTHS))).astype(float)
    burst, shift = y.copy(), y.copy()
    burst[0, -1] = 24.0  # one month at four times the level
    shift[0, -3:] = 24.0  # the same, three months running
    calm_run, burst_run, shift_run = (run(_one_bottom(v), v) for v in (y, burst, shift))

    def q975(result: PanelResult) -> float:
        fc = result.forecast
        node = result.nodes.index[result.nodes["bottom"] == 0][0]
        return float(fc[(fc["node"] == node) & (fc["horizon"] == 1)]["q0.975"].iloc[0])

    assert q975(calm_run) < q975(burst_run) < q975(shift_run)
    grown = q975(burst_run) - q975(calm_run)
    assert grown < 0.6 * (q975(shift_run) - q975(calm_run))
    states = burst_run.states
    last = states[(states["node"] == 0) & (states["month"] == MONTHS[-1])].iloc[0]
    assert last["p_outlier"] > last["p_shift_up"]


def test_a_lasting_shift_is_followed_and_shown() -> None:
    rng = np.random.default_rng(12)
    mean = np.where(np.arange(len(MONTHS)) >= len(MONTHS) - 4, 24.0, 8.0)
    y = rng.poisson(np.tile(mean, (3, 1))).astype(float)
    result = run(_one_bottom(y), y)
    states = result.states[result.states["node"] == 0].set_index("month")
    assert states["p_shift_up"].iloc[-4:].sum() > 0.8
    fc = result.forecast[(result.forecast["node"] == 0) & (result.forecast["horizon"] == 1)]
    assert float(fc["mean"].iloc[0]) > 16.0  # the forecast follows the new level


def test_deaths_are_events_times_deaths_per_event_and_a_massacre_is_an_outlier() -> None:
    rng = np.random.default_rng(13)
    events = rng.poisson(6.0, (3, len(MONTHS))).astype(float)
    deaths = rng.poisson(2.0 * events).astype(float)
    deaths[1, -3] += 250  # one massacre, three months ago
    result = PanelEngine(
        _one_bottom(events), events, MONTHS, deaths=deaths, name="test", config=FAST
    ).run()
    counted = PanelEngine(_one_bottom(events), events, MONTHS, name="test", config=FAST).run()
    fc = result.forecast[result.forecast["horizon"] == 1].set_index("node")
    events_fc = counted.forecast[counted.forecast["horizon"] == 1].set_index("node")
    bottoms = result.nodes.index[result.nodes["bottom"] >= 0]
    # about two deaths per event (the massacre tail, one in some 1,700 events, adds a little)
    per_event = (fc.loc[bottoms, "mean"] / events_fc.loc[bottoms, "mean"]).to_numpy()
    np.testing.assert_allclose(per_event, 2.0, rtol=0.25)
    # and the series that had the massacre expects hardly more per event than the others
    assert per_event[1] < 1.15 * max(per_event[0], per_event[2])
    # the massacre does not make a new level: its series' median is like the others'
    assert fc.loc[bottoms[1], "q0.5"] <= 1.5 * fc.loc[bottoms[0], "q0.5"]
    # and the upper bound stays within what history has shown
    assert (fc.loc[bottoms, "q0.975"] < deaths.max()).all()


def test_an_actor_in_two_countries_shares_its_season_effect() -> None:
    rng = np.random.default_rng(14)
    share = _share("Mopti")
    strong = rng.poisson(10.0 * np.exp(np.log(0.3) * share), (4, len(MONTHS))).astype(float)
    faint = rng.poisson(0.6 * np.exp(np.log(0.3) * share), (1, len(MONTHS))).astype(float)
    y = np.vstack([strong, faint])
    labels = pd.concat(
        [_one_bottom(strong), _one_bottom(faint, country="Burkina Faso")], ignore_index=True
    ).assign(uid=range(5))
    shared = PanelEngine(labels, y, MONTHS, name="test", config=FAST).run()
    alone = PanelEngine(
        labels.assign(actor=["JNIM"] * 4 + ["JNIM (BF)"]), y, MONTHS, name="test", config=FAST
    ).run()

    def faint_ratio(result: PanelResult) -> float:
        nodes = result.nodes.join(result.season.set_index("node"))
        return float(nodes[(nodes["bottom"] == 4)]["rate_ratio"].iloc[0])

    # the faint Burkina Faso series borrows the actor's strong lull from Mali
    assert faint_ratio(shared) < faint_ratio(alone)
    assert faint_ratio(shared) < 0.6
    # and each country keeps its own tree
    tops = shared.nodes[shared.nodes["level"] == "actor_country"]
    assert sorted(tops["country"]) == ["Burkina Faso", "Mali"]


def test_a_deaths_run_adopts_the_events_runs_dynamics_only_from_the_same_data() -> None:
    rng = np.random.default_rng(21)
    events = rng.poisson(6.0, (3, len(MONTHS))).astype(float)
    deaths = rng.poisson(2.0 * events).astype(float)
    labels = _one_bottom(events)
    counted = PanelEngine(labels, events, MONTHS, name="test", config=FAST).run()
    # roll-up levels are learned too, and handed on with the bottoms'
    assert {"actor_region_type", "actor_country"} <= set(counted.dynamics)
    learned = {"fit_key": counted.fit_key, "dynamics": counted.dynamics}

    def deaths_engine(y: np.ndarray) -> PanelEngine:
        return PanelEngine(labels, y, MONTHS, deaths=deaths, name="test", config=FAST)

    adopting = deaths_engine(events)
    assert adopting.adopt(learned)
    own = deaths_engine(events).run()
    taken = adopting.run()
    # the same forecast as learning them itself, to the last digit
    pd.testing.assert_frame_equal(taken.forecast, own.forecast)
    pd.testing.assert_frame_equal(taken.states, own.states)
    # other data (one month more events) or dynamics fixed already: nothing is taken
    changed = events.copy()
    changed[0, -1] += 1
    assert not deaths_engine(changed).adopt(learned)
    fixed = PanelEngine(labels, events, MONTHS, deaths=deaths, name="test",
                        config=PanelConfig(dynamics={"*": {"p_shift": 0.05}}))  # fmt: skip
    assert not fixed.adopt(learned)
    assert not deaths_engine(events).adopt(None)


def test_a_country_x_event_type_sums_its_regions_beside_the_tree() -> None:
    labels, y = simulate(dict.fromkeys(REGIONS[:3], 0.2), base=4.0, seed=7)
    engine = PanelEngine(labels, y, MONTHS, country="Mali", name="test", config=FAST)
    nodes = engine.trees.nodes
    summing = engine.trees.summing.toarray()
    geo = (nodes["tree"] == "geography").to_numpy()
    bottom = nodes["bottom"].to_numpy()
    cross = nodes.index[nodes["level"] == "country_type"].to_numpy()
    assert sorted(nodes.loc[cross, "event_type"]) == ["Battles", "Violence against civilians"]
    assert nodes.loc[cross, "region"].isna().all()
    for node in cross:  # exactly the geography bottoms of its type, over every region
        etype = nodes.at[node, "event_type"]
        members = bottom[geo & (bottom >= 0) & (nodes["event_type"] == etype).to_numpy()]
        assert sorted(np.flatnonzero(summing[node])) == sorted(members)
    # grouped, not nested: the country is the sum of its regions and of its event types alike
    country = nodes.index[nodes["level"] == "country"][0]
    regions = nodes.index[nodes["level"] == "region"]
    np.testing.assert_array_equal(summing[regions].sum(axis=0), summing[country])
    np.testing.assert_array_equal(summing[cross].sum(axis=0), summing[country])

    result = engine.run()
    means = result.forecast.pivot_table(index="node", columns="horizon", values="mean")
    for node in cross:
        parts = np.flatnonzero(summing[node])
        rows = nodes.index[np.isin(bottom, parts)]
        np.testing.assert_allclose(means.loc[node], means.loc[rows].sum(axis=0), rtol=1e-6)
    six = result.outlook[result.outlook["months"] == 6].set_index("node")
    np.testing.assert_allclose(
        six.loc[cross, "mean"].to_numpy(),
        [six.loc[nodes.index[np.isin(bottom, np.flatnonzero(summing[n]))], "mean"].sum()
         for n in cross],
        rtol=1e-6,
    )  # fmt: skip
    # its own calibration cell, states and dynamics, like every roll-up
    assert "country_type" in result.calibration["forecast"]["groups"]
    assert "country_type" in result.dynamics
    assert set(cross) <= set(result.states["node"])
    assert set(cross) <= set(result.season["node"])


def test_a_cell_weighs_its_distinct_series_not_its_outcomes() -> None:
    """The same too-narrow outcomes move a cell of two series' histories far less than a cell
    of three hundred series: repeated outcomes of one series are not independent evidence."""
    rng = np.random.default_rng(8)
    n = 6000
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    zeros, mean = np.zeros(n, int), np.full(n, 20.0)
    narrow = 0.5 + (rng.uniform(size=n) - 0.5) * 0.6
    few = Calibration.fit(narrow, narrow, zeros, zeros, mean, levels, ("region",), ("1-3",),
                          series=np.arange(n) % 2)  # fmt: skip
    many = Calibration.fit(narrow, narrow, zeros, zeros, mean, levels, ("region",), ("1-3",),
                           series=np.arange(n) % 300)  # fmt: skip
    assert many.table[0, 0, 3, -1] < 0.85  # three hundred series: the top comes down
    moved_few, moved_many = 0.975 - few.table[0, 0, 3, -1], 0.975 - many.table[0, 0, 3, -1]
    assert 0 < moved_few < 0.2 * moved_many  # two: it barely moves


def test_a_miss_that_comes_and_goes_across_origins_is_mostly_left_alone() -> None:
    """A level whose outcomes are too wide at some calibration origins and too narrow at others
    keeps nearly its nominal levels; one whose outcomes are too narrow at every origin, by the
    same average amount, is corrected."""
    rng = np.random.default_rng(9)
    n, k = 8000, 8
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    group = np.repeat([0, 1], n // 2)  # 0: steady miss, 1: a miss that changes sign
    origin = np.tile(np.repeat(np.arange(k), n // (2 * k)), 2)
    u = rng.uniform(size=n)
    steady = 0.5 + (u - 0.5) * 0.7
    swing = np.where(origin % 2 == 0, 0.5 + (u - 0.5) * 0.4, 0.5 + (u - 0.5) * 1.6)
    pit = np.clip(np.where(group == 0, steady, swing), 0.0, 1.0)
    zeros, mean = np.zeros(n, int), np.full(n, 20.0)
    names = ("region", "actor_region")
    cal = Calibration.fit(pit, pit, group, zeros, mean, levels, names, ("1-3",),
                          series=np.arange(n), origin=origin)  # fmt: skip
    assert cal.table[0, 0, 3, -1] < 0.9  # the steady miss: narrowed
    assert cal.table[0, 0, 3, 0] > 0.1
    # the swinging one: its pooled outcomes call for a change, its origins disagree
    pooled = np.quantile(pit[group == 1], levels)
    assert abs(pooled[-1] - 0.975) > 0.005
    assert abs(cal.table[1, 0, 3, -1] - 0.975) < 0.5 * abs(pooled[-1] - 0.975)
    # without origins, it would have been taken nearly in full
    blind = Calibration.fit(pit, pit, group, zeros, mean, levels, names, ("1-3",))
    assert abs(blind.table[1, 0, 3, -1] - pooled[-1]) < 0.01

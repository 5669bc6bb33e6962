"""Deaths as events x deaths per event, with a heavy tail of rare massacres.

A month's deaths in a bottom series, given its events E, are the sum of E events' deaths:
negative binomial with mean E * r and dispersion 1/(E * k_d) (the sum of E independent
NB(r, k_d) events), where r is the series' deaths per event. On top of that, each event is a
massacre with probability `p_massacre`, whose extra deaths are drawn from the excesses seen
in the history of the panel (pooled by tree). So a massacre month is an outlier of deaths,
not a new level; the tail of the forecast never reaches past what history has shown times
the events forecast; and expected deaths are expected events times a fixed number of deaths
per event, so their rainy-season ratio is the events'.

The deaths per event r of each series is its recent ordinary months' ratio (deaths capped at
CAP_PER_EVENT x the pooled rate per event, half-life HALF_LIFE months), shrunk toward the
pooled rate of its tree and event type with PRIOR_EVENTS events' weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

CAP_PER_EVENT = 4.0  # a month's deaths above cap x typical rate x events count as a massacre
MIN_CAP = 10.0  # ... and above this many deaths in all
HALF_LIFE = 36.0  # months: how fast deaths per event forget the past
PRIOR_EVENTS = 10.0  # weight of the pooled rate in each series' rate, in events


@dataclass(frozen=True)
class DeathsModel:
    """Deaths per event of every bottom series and the pooled tail (one panel)."""

    rate: np.ndarray  # (N,) deaths per event
    inv_kd: float  # per-event dispersion 1/k_d (pooled)
    p_massacre: float  # per event
    excess: np.ndarray  # pooled massacre excesses (deaths) to draw from
    excess_group: np.ndarray  # group index of each excess
    group: np.ndarray  # (N,) group of each bottom (its tree)

    def per_event(self) -> np.ndarray:
        """Expected deaths per event of each bottom: ordinary deaths plus the massacre tail."""
        mean_excess = np.array(
            [
                self.excess[self.excess_group == g].mean()
                if (self.excess_group == g).any()
                else (self.excess.mean() if len(self.excess) else 0.0)
                for g in range(int(self.group.max()) + 1)
            ]
        )
        return self.rate + self.p_massacre * mean_excess[self.group]

    def describe(self) -> dict[str, float]:
        return {
            "inv_kd": float(self.inv_kd),
            "p_massacre": float(self.p_massacre),
            "massacres_seen": int(len(self.excess)),
            "median_deaths_per_event": float(np.median(self.rate)) if len(self.rate) else 0.0,
        }


def fit_deaths(events: np.ndarray, deaths: np.ndarray, labels: pd.DataFrame) -> DeathsModel:
    """Fit the deaths model on the history (N, T) of events and deaths (NaN = unknown)."""
    known = np.isfinite(events) & np.isfinite(deaths)
    e = np.where(known, events, 0.0)
    d = np.where(known, deaths, 0.0)
    tree = labels["tree"].astype(str).to_numpy()
    etype = labels["event_type"].fillna("*").astype(str).to_numpy()
    pool_key = np.char.add(np.char.add(tree.astype(str), "|"), etype.astype(str))
    keys, pool = np.unique(pool_key, return_inverse=True)
    # the typical rate per (tree, event type): the median deaths per event of months with
    # events, which one massacre cannot move
    busy_rows, busy_cols = np.nonzero(e > 0)
    ratio = d[busy_rows, busy_cols] / e[busy_rows, busy_cols]
    raw_rate = np.array([np.median(ratio[pool[busy_rows] == k]) if (pool[busy_rows] == k).any()
                         else 0.0 for k in range(len(keys))])  # fmt: skip
    cap = np.maximum(CAP_PER_EVENT * raw_rate[pool][:, None] * e, MIN_CAP)
    capped = np.minimum(d, cap)
    pooled = np.bincount(pool, capped.sum(axis=1), len(keys)) / np.maximum(
        np.bincount(pool, e.sum(axis=1), len(keys)), 1.0
    )
    t_len = e.shape[1]
    w = 0.5 ** ((t_len - 1 - np.arange(t_len)) / HALF_LIFE)
    num = (capped * w).sum(axis=1) + PRIOR_EVENTS * pooled[pool]
    den = (e * w).sum(axis=1) + PRIOR_EVENTS
    rate = num / den
    # per-event dispersion by moments over months with events: Var = E r + E r^2 / k_d
    busy = e > 0
    r = rate[:, None]
    resid = np.where(busy, (capped - e * r) ** 2 - e * r, 0.0)
    scale = np.where(busy, e * r**2, 0.0)
    inv_kd = float(np.clip(resid.sum() / max(scale.sum(), 1e-9), 0.05, 20.0))
    massacre = busy & (d > cap)
    p_massacre = float((massacre.sum() + 0.5) / (e.sum() + 1.0))
    groups, group = np.unique(tree, return_inverse=True)
    rows, _ = np.nonzero(massacre)
    excess = np.round((d - cap)[massacre])
    return DeathsModel(rate, inv_kd, p_massacre, excess, group[rows], group)


def sample_deaths(
    model: DeathsModel, events: np.ndarray, rows: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Deaths for sampled events (n, h, S) of the bottoms `rows` (n,)."""
    r = model.rate[rows][:, None, None]
    shape = events * (1.0 / model.inv_kd)
    lam = np.zeros(events.shape, dtype=np.float32)
    busy = events > 0
    lam[busy] = (rng.standard_gamma(shape[busy]) * model.inv_kd).astype(np.float32)
    out = rng.poisson(lam * r).astype(np.float32)
    if len(model.excess):
        hits = rng.binomial(events.astype(np.int64), model.p_massacre)  # massacres per month
        where = hits > 0
        if where.any():
            grp = np.broadcast_to(model.group[rows][:, None, None], events.shape)[where]
            times = hits[where]
            draws = np.zeros(len(times), dtype=np.float32)
            for g in np.unique(grp):
                pool = model.excess[model.excess_group == g]
                if not len(pool):
                    pool = model.excess
                pick = grp == g
                for k in range(1, int(times[pick].max()) + 1):  # the k-th massacre of a month
                    more = pick & (times >= k)
                    draws[more] += rng.choice(pool, size=int(more.sum()))
            out[where] += draws
    return out

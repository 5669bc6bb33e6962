"""bench/accuracy.py's hold-out mode: the engine and its peers scored on files and origins
a user names (the figures the issue's hold-outs were measured in), run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
NIGER = ROOT / "service" / "data" / "demo" / "ucdp-ged-niger-2012-2022.csv"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "bench" / "accuracy.py"), *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


@pytest.mark.slow
def test_a_holdout_scores_the_named_files_at_the_named_origins(tmp_path: Path) -> None:
    out, dump = tmp_path / "holdout.json", tmp_path / "rows.pkl"
    done = run(
        "--data", NIGER, "--holdout", "2020-01", "--holdout", "2019-01", "--holdout", "2020-01",
        "--no-prophet", "--no-v2", "--out", out, "--dump", dump,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["countries"] == ["Niger"]
    assert result["holdout_origins"] == ["2019-01", "2020-01"]
    assert result["tuned_on_them"] is False
    rows = pd.read_pickle(dump)
    assert set(rows["origin"]) == {"2019-01", "2020-01"}
    # scored against what the file says happened: Niger's events in each forecast month
    # the web download's rows end in an empty 48th field: no index column
    raw = pd.read_csv(NIGER, usecols=["date_start"], index_col=False)
    month = pd.to_datetime(raw["date_start"], format="%m/%d/%Y %H:%M:%S").dt.to_period("M")
    per_month = month.value_counts()
    country = rows[(rows["model"] == "engine") & (rows["level"] == "country")]
    assert len(country) == 24  # two origins x twelve months
    for r in country.itertuples():
        scored = pd.Period(r.origin, "M") + (r.horizon - 1)
        assert r.y == per_month.get(scored, 0)
    # the peers are scored on exactly the engine's points, and the ratio is theirs
    engine = rows[rows["model"] == "engine"].set_index(["origin", "key", "horizon"]).sort_index()
    naive = rows[rows["model"] == "poisson_last"].set_index(["origin", "key", "horizon"])
    assert naive.sort_index().index.equals(engine.index)
    assert 0.0 < result["crps_ratio_vs_no_change"] < 2.0
    assert result["crps_ratio_vs_prophet_default"] is None  # not run, not invented
    assert set(result["coverage_by_level"]) >= {"country", "region", "actor_region_type"}


def test_an_origin_the_data_cannot_score_is_refused_with_the_range_it_can() -> None:
    done = run("--data", NIGER, "--holdout", "2030-01", "--no-prophet", "--no-v2")
    assert done.returncode == 2
    assert "2030-01" in done.stderr
    # Niger's first event is in June 2012: 24 months on, to the last month
    assert "2014-06 .. 2022-12" in done.stderr


def test_files_of_no_known_format_are_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "export.csv"
    bad.write_text("a,b\n1,2\n")
    done = run("--data", bad, "--holdout", "2020-01", "--no-prophet", "--no-v2")
    assert done.returncode == 2
    assert "export.csv, line 1" in done.stderr

"""Accuracy on the real national SCB occupation panel, with held-out years (issue 14).

Data: ``../shared/data/scb/employment_ssyk_age_sex_sweden_2014_2024.csv`` (employees by SSYK 4 ×
age band × sex, Sweden, 2014–2024). Only the SSYK 4 rows are read; the engine builds the code tree
4 → 3 → 2 → 1 → total and its crossings with the other keys itself.

Protocols (every choice is made on the training years only):

* ``2019``: train on 2014–2019, forecast 2020–2022 (h = 3). The 2019/2020 source change
  (RAMS → BAS) falls in the test years and cannot be adjusted from training data.
* ``2023``: train on 2014–2023 with ``breaks=[2023]`` (level shifts estimated from the training
  data), forecast 2024 (h = 1).

At each origin ``method="select"`` picks among ``SELECT_CANDIDATES`` by three rolling origins
inside the training years (MASE averaged per hierarchy level, then over levels); the chosen method
forecasts every series, which are reconciled non-negatively. Naive and drift are scored the same
way. Figures: MASE (per series × horizon, scale from the training years), direction accuracy over
the series × horizons whose actual value moved, 80/95 % coverage; overall and per level.

Run: ``python benchmarks/real_panel.py [--keys sex,ssyk] [--origins 2019 2023]``; writes
``benchmarks/results/real_panel_<keys>.csv``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos.hierarchy import backtest_keyed

DATA = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "scb"
    / "employment_ssyk_age_sex_sweden_2014_2024.csv"
)
OUT = Path(__file__).resolve().parent / "results"


def load(keys: list[str]) -> pd.DataFrame:
    """SSYK 4 rows summed to ``keys`` (``ssyk`` plus any of ``age``, ``sex``)."""
    raw = pd.read_csv(DATA, dtype={"ssyk_code": str})
    raw = raw[raw["level"] == "SSYK4"].rename(columns={"ssyk_code": "ssyk", "year": "ds"})
    return raw.groupby([*keys, "ds"], as_index=False)["count"].sum().rename(columns={"count": "y"})


def summary(detail: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    moved = detail["y"] != detail["last"]
    d = detail.assign(hit_moved=np.where(moved, detail["direction_hit"], np.nan))
    g = d.groupby(by)
    return pd.DataFrame(
        {
            "n": g.size(),
            "mase": g["ase"].mean(),
            "direction_moved": g["hit_moved"].mean(),
            "coverage80": g["in80"].mean(),
            "coverage95": g["in95"].mean(),
        }
    ).reset_index()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", default="sex,ssyk")
    ap.add_argument("--origins", type=int, nargs="+", default=[2019, 2023])
    args = ap.parse_args()
    keys = args.keys.split(",")
    panel = load(keys)
    rows = []
    for origin in args.origins:
        breaks = [2023] if origin >= 2023 else []
        horizon = 3 if origin == 2019 else 1
        t0 = time.perf_counter()
        detail = backtest_keyed(
            panel,
            keys,
            ssyk="ssyk",
            methods=["select"],
            horizon=horizon,
            origins=[origin],
            breaks=breaks,
        )
        secs = time.perf_counter() - t0
        overall = summary(detail, ["model"]).assign(level="all")
        per_level = summary(detail, ["model", "level"])
        res = pd.concat([overall, per_level], ignore_index=True)
        res.insert(0, "origin", origin)
        res["breaks"] = ",".join(map(str, breaks))
        res["seconds_total"] = round(secs, 1)
        rows.append(res)
        naive = float(overall.loc[overall["model"] == "naive", "mase"].iloc[0])
        print(f"\norigin {origin} (h={horizon}, breaks={breaks}), {secs:.0f} s")
        show = overall.assign(vs_naive=overall["mase"] / naive - 1)
        print(show.round(3).to_string(index=False))
        print(per_level.round(3).to_string(index=False))
    OUT.mkdir(exist_ok=True)
    out = pd.concat(rows, ignore_index=True)
    path = OUT / f"real_panel_{'_'.join(keys)}.csv"
    out.to_csv(path, index=False)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

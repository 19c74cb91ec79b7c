"""Accuracy on the real national SCB occupation panel, with held-out years (issue 14).

Data: ``../shared/data/scb/employment_ssyk_age_sex_sweden_2014_2024.csv`` (employees by SSYK 4 ×
age band × sex, Sweden, 2014–2024). Only the SSYK 4 rows are read; the engine builds the code tree
4 → 3 → 2 → 1 → total and its crossings with the other keys itself
(:func:`kompetensprognos.hierarchy.build_hierarchy`).

Protocols (every choice is made on the training years only):

* ``2019``: train on 2014–2019, forecast 2020–2022 (h = 3). The 2019/2020 source change
  (RAMS → BAS) falls in the test years and cannot be adjusted from training data.
* ``2023``: train on 2014–2023 with ``breaks=[2023]`` (level shifts estimated from the training
  data), forecast 2024 (h = 1).

Points first, intervals once. Every base model forecasts every series of the hierarchy from the
test origin (offset 0) and from ``--inner`` origins inside the training years (offsets 1..3,
horizons up to the offset); combinations are built from those forecasts, so a candidate costs
nothing beyond its components. Selection rules, all on the inner origins only:

* ``select``: one method for every series, the lowest MASE averaged per level then over levels
  (:func:`kompetensprognos.forecasting.select_method`);
* ``select_by_level``: per hierarchy level the method with the lowest MASE on that level
  (levels with fewer than ``MIN_GROUP_SERIES`` series use the overall choice)
  (:func:`kompetensprognos.forecasting.select_by_group`).

The chosen forecasts at offset 0 are reconciled (non-negative sparse MinTrace, as the engine does)
and scored on the test years: MASE (per series × horizon, scale = in-sample naive MAE of the
training years), direction accuracy over the series × horizons whose actual value moved. With
``--intervals`` the package path (``backtest_keyed`` with the ``select[relmae]`` choice and naive) runs once more
at each origin for the chosen method to measure 80/95 % coverage.

Run: ``python benchmarks/real_panel.py [--origins 2019 2023] [--intervals]``; writes
``benchmarks/results/real_panel_<keys>.csv`` (figures) and ``real_panel_<keys>_selection.csv``
(inner scores of every candidate per level).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos.evaluation import score_forecasts
from kompetensprognos.forecasting import (
    MIN_GROUP_SERIES,
    SELECT_CANDIDATES,
    candidate_rows,
    combine_rows,
    group_scores,
    select_by_group,
)
from kompetensprognos.hierarchy import (
    _adjust,
    _ids,
    backtest_keyed,
    build_hierarchy,
    reconcile,
    validate_keyed,
)

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


def scored_test(
    rows0: pd.DataFrame,
    point: np.ndarray,
    hier: object,
    actual: pd.Series,
    zero: np.ndarray,
    h: int,
) -> pd.DataFrame:
    """Reconcile offset-0 points over the hierarchy and score them against the actuals."""
    ids = hier.series["unique_id"].to_numpy()  # type: ignore[attr-defined]
    wide = (
        pd.DataFrame({"u": rows0["unique_id"], "j": rows0["horizon"], "f": np.maximum(point, 0)})
        .pivot(index="u", columns="j", values="f")
        .reindex(index=ids, columns=range(1, h + 1))
        .fillna(0.0)
        .to_numpy()
    )
    rec = reconcile(hier.S, wide, "mint_wls_struct", zero=zero)  # type: ignore[attr-defined]
    stats = rows0.drop_duplicates("unique_id").set_index("unique_id")[
        ["last", "scale", "scale2", "iscale", "cutoff"]
    ]
    out = pd.DataFrame(
        {"unique_id": np.repeat(ids, h), "horizon": np.tile(np.arange(1, h + 1), len(ids))}
    )
    out["forecast"] = rec.reshape(-1)
    out = out.join(stats, on="unique_id")
    out["ds"] = (out["cutoff"] + out["horizon"]).astype(int)
    out["y"] = actual.reindex(pd.MultiIndex.from_arrays([out["unique_id"], out["ds"]])).to_numpy()
    out["level"] = out["unique_id"].map(hier.series.set_index("unique_id")["level"])  # type: ignore[attr-defined]
    return score_forecasts(out, levels=[]).dropna(subset=["y"])


def summary(detail: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    moved = detail["y"] != detail["last"]
    d = detail.assign(hit_moved=np.where(moved, detail["direction_hit"], np.nan))
    g = d.groupby(by)
    cols = {
        "n": g.size(),
        "mase": g["ase"].mean(),
        "direction_moved": g["hit_moved"].mean(),
    }
    for c in ("in80", "in95"):
        if c in d:
            cols[c.replace("in", "coverage")] = g[c].mean()
    return pd.DataFrame(cols).reset_index()


def run_origin(
    data: pd.DataFrame,
    keys: list[str],
    origin: int,
    candidates: list[str],
    inner: int,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    breaks = [2023] if origin >= 2023 else []
    years = sorted(data["ds"].unique())
    h = min(3, int(max(years)) - origin)
    train = data[data["ds"] <= origin]
    adjusted, _ = _adjust(train, "ssyk", breaks)
    hier = build_hierarchy(adjusted, keys, ssyk="ssyk")
    panel = hier.aggregate(adjusted)
    level_of = hier.series.set_index("unique_id")["level"]
    known = data[np.isin(_ids(data, keys), hier.bottom["unique_id"])]
    actual = hier.aggregate(known).set_index(["unique_id", "ds"])["y"]
    peak = panel.groupby("unique_id")["y"].max()
    zero = (peak.reindex(hier.bottom["unique_id"]).fillna(0.0) <= 0).to_numpy()
    print(f"\norigin {origin}: {panel['unique_id'].nunique()} series, h={h}, breaks={breaks}")
    t0 = time.perf_counter()
    rows = candidate_rows(panel, candidates, h, range(0, inner + 1), parents=hier.parents)
    print(f"  base forecasts at {inner + 1} origins: {time.perf_counter() - t0:.0f} s", flush=True)
    inner_rows = rows[rows["offset"] > 0]
    rows0 = rows[rows["offset"] == 0].reset_index(drop=True)
    # inner scores of every candidate per level (the only input to the choices)
    scores = group_scores(inner_rows, candidates, level_of)
    results = []
    lv0 = rows0["unique_id"].map(level_of)
    chosen = {
        "naive": np.asarray(rows0["naive"], float),
        "drift": np.asarray(rows0["drift"], float),
    }
    picks = {}
    for crit in ("mase", "relmae"):
        overall, by_level = select_by_group(scores, min_series=MIN_GROUP_SERIES, criterion=crit)
        print(f"  [{crit}] select -> {overall}")
        print(
            f"  [{crit}] select_by_level -> " + "; ".join(f"{g}={m}" for g, m in by_level.items())
        )
        chosen[f"select[{crit}]:{overall}"] = combine_rows(rows0, overall)
        per = np.full(len(rows0), np.nan)
        for g, m in by_level.items():
            mask = (lv0 == g).to_numpy()
            per[mask] = combine_rows(rows0[mask], m)
        chosen[f"select_by_level[{crit}]"] = per
        picks[f"select[{crit}]"] = overall
        picks.update({f"level[{crit}]:{g}": m for g, m in by_level.items()})
    for c in candidates:
        if c not in ("naive", "drift"):
            chosen[f"cand:{c}"] = combine_rows(rows0, c)
    for name, point in chosen.items():
        det = scored_test(rows0, point, hier, actual, zero, h)
        s = summary(det.assign(model=name), ["model"]).assign(level="all")
        pl = summary(det.assign(model=name), ["model", "level"])
        results.append(pd.concat([s, pl], ignore_index=True))
    res = pd.concat(results, ignore_index=True)
    res.insert(0, "origin", origin)
    res["breaks"] = ",".join(map(str, breaks))
    scores.insert(0, "origin", origin)
    return res, scores, picks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", default="sex,ssyk")
    ap.add_argument("--origins", type=int, nargs="+", default=[2019, 2023])
    ap.add_argument("--inner", type=int, default=3)
    ap.add_argument("--intervals", action="store_true")
    args = ap.parse_args()
    keys = args.keys.split(",")
    data = validate_keyed(load(keys), keys, ssyk="ssyk")
    candidates = list(SELECT_CANDIDATES)
    all_res, all_scores, choices = [], [], {}
    for origin in args.origins:
        t0 = time.perf_counter()
        res, scores, choice = run_origin(data, keys, origin, candidates, args.inner)
        res["seconds_points"] = round(time.perf_counter() - t0, 1)
        all_res.append(res)
        all_scores.append(scores)
        choices[str(origin)] = choice
        if args.intervals:
            # the package path once, for the chosen method: calibrated intervals, reconciled
            chosen = choice["select[relmae]"]
            t1 = time.perf_counter()
            det = backtest_keyed(
                load(keys),
                keys,
                ssyk="ssyk",
                methods=[chosen, "naive"],
                horizon=3,
                origins=[origin],
                breaks=[2023] if origin >= 2023 else [],
                baselines=False,
            )
            iv = summary(det, ["model"]).assign(level="all", origin=origin)
            iv["model"] = "package:" + iv["model"]
            iv["seconds_points"] = round(time.perf_counter() - t1, 1)
            print(iv.round(3).to_string(index=False), flush=True)
            res = pd.concat([res, iv], ignore_index=True)
            all_res[-1] = res
        overall = res[res["level"] == "all"].copy()
        naive = float(overall.loc[overall["model"] == "naive", "mase"].iloc[0])
        overall["vs_naive"] = overall["mase"] / naive - 1
        print(overall.sort_values("mase").round(3).to_string(index=False), flush=True)
    OUT.mkdir(exist_ok=True)
    tag = "_".join(keys)
    out = pd.concat(all_res, ignore_index=True)
    out.to_csv(OUT / f"real_panel_{tag}.csv", index=False)
    pd.concat(all_scores, ignore_index=True).to_csv(
        OUT / f"real_panel_{tag}_selection.csv", index=False
    )
    (OUT / f"real_panel_{tag}_choices.json").write_text(json.dumps(choices, indent=1))
    print(f"\nwrote {OUT / f'real_panel_{tag}.csv'}")


if __name__ == "__main__":
    main()

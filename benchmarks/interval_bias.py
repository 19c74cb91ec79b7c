"""Why do the 80 % intervals over-cover on the real SCB panel? Candidate corrections, judged on
inner origins and selection sets only (issue 14, session 5).

The calibrated intervals of :class:`kompetensprognos.forecasting.Forecaster` covered 84.0 % / 97.1 %
of the real panel's 2020–2022 values (SSYK 4 × sex, 858 series, trained on 2014–2019, h = 3),
against 80.3 % / 95.4 % on M3. Four candidate causes, each tried as a change of the calibration:

* ``fit_scale`` — calibration errors scaled by each series' scale over the *whole* training data
  (the scale its interval uses) instead of the scale at the calibration origin (2–4 naive
  differences on these short series; a noisy denominator inflates the quantiles);
* ``plain_quantile`` — no finite-sample (conformal) correction of the quantile levels;
* ``per_level`` — keyed panels only: one set of quantiles per hierarchy level (aggregates are
  smoother than the bottom series), the pooled set where a level has < 30 errors per horizon;
* ``cal<k>`` — ``k`` calibration origins instead of the horizon.

The first three are computed from one fit (``Forecaster.calibration_errors_`` re-calibrated), the
last refits. Where a candidate is judged (nothing here looks at the real panel's test years):

* **selection sets** M1 yearly and Tourism yearly (official test years), whole and cut to the
  last 6 training years with h = 3 (the real panel's shape);
* **inner origins of the real panel**, inside its 2014–2019 training window: train 2014–2017,
  score 2018–2019 (h = 2); train 2014–2018, score 2019 (h = 1); flat (858 bottom series) and
  keyed (``sex,ssyk``, 1,902 series of 10 levels, unreconciled base intervals).

``--after`` adds the sets scored after the fact (M3 yearly; the real panel's 2020–2022), to
report before/after figures, never to choose.

Run: ``python benchmarks/interval_bias.py [--after]``; writes
``benchmarks/results/interval_bias.csv``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interval_speed import _fcomp
from real_panel import load as load_real_panel

from kompetensprognos.forecasting import (
    Forecaster,
    calibrate_intervals,
    origin_length_correction,
)
from kompetensprognos.hierarchy import build_hierarchy

OUT = Path(__file__).resolve().parent / "results"
METHODS = ("auto", "mean(naive,drift)")


def _cut(train: pd.DataFrame, test: pd.DataFrame, keep: int, h: int) -> tuple:
    tr = train.groupby("unique_id", group_keys=False).tail(keep).reset_index(drop=True)
    te = test.groupby("unique_id", group_keys=False).head(h).reset_index(drop=True)
    return tr, te


def _real(origin: int, h: int, keyed: bool) -> tuple:
    df = load_real_panel(["sex", "ssyk"])
    df["sex"], df["ssyk"] = df["sex"].astype(str), df["ssyk"].astype(str)
    train, full = df[df["ds"] <= origin], df[df["ds"] <= origin + h]
    if not keyed:
        flat = lambda d: pd.DataFrame(  # noqa: E731
            {"unique_id": d["sex"] + "/" + d["ssyk"], "ds": d["ds"], "y": d["y"].astype(float)}
        ).reset_index(drop=True)
        return flat(train), flat(full[full["ds"] > origin]), h, None, None
    hier = build_hierarchy(train, ["sex", "ssyk"], ssyk="ssyk")
    test = hier.aggregate(full)
    test = test[test["ds"] > origin]
    level = hier.series.set_index("unique_id")["level"]
    return hier.aggregate(train), test, h, level, hier.parents


def _plain(errors: pd.DataFrame, h: int, levels: tuple) -> pd.DataFrame:
    """calibrate_intervals without the finite-sample correction (plain empirical quantiles).

    Horizons calibrate_intervals extrapolates keep its extrapolation, rescaled by the plain /
    corrected ratio of the horizon they borrow from.
    """
    cal = calibrate_intervals(errors, h, levels).set_index(["level", "horizon"])
    by_h = {int(j): g["scaled_error"].to_numpy() for j, g in errors.groupby("horizon")}
    ratio = {}
    for (level, j), r in cal.iterrows():
        a = (1 - level / 100) / 2
        if r["source"] == "empirical":
            e = by_h[j]
            lo, hi = min(float(np.quantile(e, a)), 0.0), max(float(np.quantile(e, 1 - a)), 0.0)
            ratio[level] = (
                lo / r["q_lo"] if r["q_lo"] else 1.0,
                hi / r["q_hi"] if r["q_hi"] else 1.0,
            )
            cal.loc[(level, j), ["q_lo", "q_hi"]] = lo, hi
        elif level in ratio:
            cal.loc[(level, j), ["q_lo", "q_hi"]] = (
                r["q_lo"] * ratio[level][0],
                r["q_hi"] * ratio[level][1],
            )
    return cal.reset_index()


def _coverage(fc: pd.DataFrame, test: pd.DataFrame, cal: pd.DataFrame, f: Forecaster) -> dict:
    """Coverage of intervals rebuilt from ``cal`` (a frame with an optional ``group`` column)."""
    m = fc.merge(test, on=["unique_id", "ds"])
    last = f.panel_.groupby("unique_id")["ds"].max()
    hz = (m["ds"] - m["unique_id"].map(last)).to_numpy()
    scale = m["unique_id"].map(f.scale_).to_numpy()
    out = {}
    for level in (80, 95):
        c = cal[cal["level"] == level]
        if "group" in c:
            key = pd.MultiIndex.from_arrays([m["group"], hz])
            q = c.set_index(["group", "horizon"])
        else:
            key, q = pd.Index(hz), c.set_index("horizon")
        lo = np.maximum(m["forecast"] + q["q_lo"].reindex(key).to_numpy() * scale, 0.0)
        hi = m["forecast"] + q["q_hi"].reindex(key).to_numpy() * scale
        out[f"coverage{level}"] = round(100 * float(np.mean((m["y"] >= lo) & (m["y"] <= hi))), 1)
    return out


def _variants(name: str, train, test, h, groups, parents, method: str) -> list[dict]:
    kw = {"horizon": h, "method": method, "nonnegative": True}
    if groups is not None:
        kw.update(groups=groups, parents=parents)
    c0 = time.process_time()
    f = Forecaster(**kw).fit(train)
    cpu = time.process_time() - c0
    fc = f.point_.copy()
    if groups is not None:
        fc["group"] = fc["unique_id"].map(groups)
    n_err = f.calibration_["n_errors"].min()
    rows = []

    def row(variant: str, cal: pd.DataFrame, **extra: object) -> None:
        rows.append(
            {
                "set": name,
                "method": method,
                "variant": variant,
                **_coverage(fc, test, cal, f),
                "min_errors_per_horizon": int(n_err),
                **extra,
            }
        )

    row("now", f.calibration_, cpu_s=round(cpu, 1))
    rf = f.calibration_errors_
    corrected, _ = origin_length_correction(rf)
    row("plain_quantile", _plain(corrected, h, (80, 95)))
    refit = rf.assign(iscale=rf["unique_id"].map(f.scale_).to_numpy())
    refit["scaled_error"] = (refit["y"] - refit["forecast"]) / refit["iscale"]
    row("fit_scale", calibrate_intervals(origin_length_correction(refit)[0], h, (80, 95)))
    if groups is not None:
        corrected = corrected.assign(group=corrected["unique_id"].map(groups))
        parts = []
        for g in groups.unique():
            e = corrected[corrected["group"] == g]
            enough = len(e) and e.groupby("horizon").size().reindex(range(1, h + 1)).min() >= 30
            parts.append(calibrate_intervals(e if enough else corrected, h).assign(group=g))
        row("per_level", pd.concat(parts, ignore_index=True))
    else:
        for k in range(1, 4):
            g = Forecaster(**kw, calibration_origins=k).fit(train)
            if k != (f.calibration_origins or h):
                row(f"cal{k}", g.calibration_)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--after", action="store_true", help="also M3 and the real panel's test years")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    sets = {}
    for name in ("M1", "Tourism"):
        tr, te, h = _fcomp(name)
        sets[name.lower()] = (tr, te, h, None, None)
        sets[f"{name.lower()}_last6"] = (*_cut(tr, te, 6, 3), 3, None, None)
    for origin, h in ((2017, 2), (2018, 1)):
        sets[f"scb_inner_{origin}"] = _real(origin, h, keyed=False)
        sets[f"scb_keyed_inner_{origin}"] = _real(origin, h, keyed=True)
    if args.after:
        from m3_yearly import load_m3

        tr, te = load_m3()
        sets["m3 (after the fact)"] = (tr, te, 6, None, None)
        sets["m3_last6 (after the fact)"] = (*_cut(tr, te, 6, 3), 3, None, None)
        sets["scb_2019 (after the fact)"] = _real(2019, 3, keyed=False)
        sets["scb_keyed_2019 (after the fact)"] = _real(2019, 3, keyed=True)
    rows = []
    for name, (train, test, h, groups, parents) in sets.items():
        for method in METHODS:
            for r in _variants(name, train, test, h, groups, parents, method):
                r["load_average"] = round(os.getloadavg()[0], 1)
                print(r, flush=True)
                rows.append(r)
    OUT.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(OUT / "interval_bias.csv", index=False)
    print(f"wrote {OUT / 'interval_bias.csv'}")


if __name__ == "__main__":
    main()

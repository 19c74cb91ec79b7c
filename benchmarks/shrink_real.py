"""Real-data check of shrinking the recent past's change toward the total (issue 12).

The centred balance shrinks each occupation's observed employment change over the recent past
toward the growth rate of the total (:func:`kompetensprognos.recruitment.shrunk_change`): a
small cell's change is taken to be partly counting noise (variance ≈ ``E_start + E_end``). That
was chosen on synthetic data. Here it is tested on the real national SCB panel
(``../shared/data/scb/employment_ssyk_age_sex_sweden_2014_2024.csv``, employees by SSYK 4 ×
age band × sex, read with :func:`real_panel.load`): does a cell's shrunk change over one window
predict its change over the next window better than its own change or the total's?

Protocol (fixed before any result was seen; nothing is tuned):

* Pairs of adjacent windows inside one data basis (none crosses the 2019/2020 source change
  RAMS → BAS or the 2022/2023 break), window A predicting window B:

  - ``2014-16>16-18``: A 2014→2016 (2 years), B 2016→2018 (RAMS);
  - ``2015-17>17-19``: A 2015→2017 (2 years), B 2017→2019 (RAMS);
  - ``2014-17>17-19``: A 2014→2017 (3 years, the longest A inside RAMS; the balance's own
    window is the change 2015→2022, seven years), B 2017→2019 (RAMS);
  - ``2020-21>21-22``: A 2020→2021 (1 year), B 2021→2022 (BAS). A is the pandemic year's
    recovery, so this pair is reported but not pooled with the others.

  The three RAMS pairs are also pooled (``RAMS pairs pooled``; two of them share B, so this is
  a summary, not three independent tests).

* Panel levels: SSYK 4 × age band × sex (8,580 cells in the grid, about 7,600 of them employed
  at the start of A) and SSYK 4 × sex (858 cells). Every cell with employment > 0 at the start
  of A is scored; the size class is its employment at the start of A (``<100``, ``100-999``,
  ``>=1000``).
* Predictors of the cell's yearly change in B, each a yearly rate times the cell's level at
  the start of B (= the end of A):

  1. ``raw``: the cell's own rate in A, ``(E_A1 − E_A0) / (n_A E_A0)``;
  2. ``shrunk``: ``shrunk_change(E_A0, E_A1, n_A) / E_A0``, the package function applied to
     all cells of the panel level at once;
  3. ``total``: the rate of the sum of all cells of the panel level in A.

* Actual: ``(E_B1 − E_B0) / n_B``. Scores per size class and overall: the sum over cells of the
  absolute error of the yearly change (persons a year; ``err_*``), the same per cell
  (``mae_*``), and the mean absolute error of the rates weighted by the cell's size at the
  start of B (``rate_*``, percentage points a year; = ``err_*`` / employment at the start of B).
* Shrinkage weights (share of the cell's own rate, ``w`` in ``w·raw + (1−w)·total``) are read
  back from the package's output and summarised per size class (10th, 50th, 90th percentile);
  ``tau2`` is the between-cell variance implied by them.
* Diagnostic, in hindsight and not a predictor: ``persist``, the size-weighted least-squares
  slope of a cell's rate in B minus the total's rate in B on its rate in A minus the total's
  rate in A — the share of A's deviation from the total that carried over into B, to set
  beside the weight the function gave it (``w_p50``). ``disp``: the median of a cell's squared
  deviation from the total's rate in A over its Poisson variance (about 1 if the deviations
  were counting noise only).

Run: ``python benchmarks/shrink_real.py`` (a few seconds); prints the tables and writes
``benchmarks/results/shrink_real.csv`` (one row per panel level × pair × size class).

``--variant NOISE`` (added in session 6, after the fact) adds a fourth predictor:
``shrunk_change(..., noise=NOISE, path=A's yearly levels)`` (``BalanceParams.past_change_noise``),
with its errors, its ratio to the total's and its median weight (``w_var``) as extra columns,
and writes ``shrink_real_<NOISE>.csv``; the other columns are unchanged. A window A of fewer
than three yearly changes gives the data-based variants nothing to estimate from (they fall back
to Poisson's weights), so only ``2014-17>17-19`` and the pooled rows test them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_panel import DATA, load

from kompetensprognos.recruitment import shrunk_change

OUT = Path(__file__).resolve().parent / "results" / "shrink_real.csv"

# (name, A start, A end, B start, B end, pooled into the RAMS summary)
PAIRS: list[tuple[str, int, int, int, int, bool]] = [
    ("2014-16>16-18", 2014, 2016, 2016, 2018, True),
    ("2015-17>17-19", 2015, 2017, 2017, 2019, True),
    ("2014-17>17-19", 2014, 2017, 2017, 2019, True),
    ("2020-21>21-22", 2020, 2021, 2021, 2022, False),
]
LEVELS: dict[str, list[str]] = {"ssyk_age_sex": ["ssyk", "age", "sex"], "ssyk_sex": ["ssyk", "sex"]}
SIZE_EDGES = [0.0, 100.0, 1000.0, np.inf]  # employment at the start of A, left-closed
SIZE_LABELS = ["<100", "100-999", ">=1000"]
PREDICTORS = ["raw", "shrunk", "total"]


def wide(keys: list[str]) -> pd.DataFrame:
    """Employment per cell (rows) and year (columns), zeros where a cell has no employees."""
    data = load(keys)
    return data.pivot_table(index=keys, columns="ds", values="y", aggfunc="sum", fill_value=0)


def cells_for_pair(
    panel: pd.DataFrame, a0: int, a1: int, b0: int, b1: int, variant: str | None = None
) -> pd.DataFrame:
    """Per cell with employment at the start of A: predictors, actual change and weight (and
    the ``variant`` predictor with its weight ``w_var`` when given)."""
    e_a0 = panel[a0].to_numpy(float)
    e_a1 = panel[a1].to_numpy(float)
    n_a, n_b = a1 - a0, b1 - b0
    level_b0 = panel[b0].to_numpy(float)
    change_b = (panel[b1].to_numpy(float) - level_b0) / n_b
    shrunk = shrunk_change(e_a0, e_a1, n_a)  # the whole panel level at once, as the package does
    ok = e_a0 > 0
    raw_rate = np.where(ok, (e_a1 - e_a0) / (n_a * np.where(ok, e_a0, 1.0)), np.nan)
    shrunk_rate = np.where(ok, shrunk / np.where(ok, e_a0, 1.0), np.nan)
    total_rate = (e_a1.sum() - e_a0.sum()) / (n_a * e_a0.sum())
    # the function's own target (codes employed at the start) to read its weights back
    target = (e_a1[ok] - e_a0[ok]).sum() / (n_a * e_a0[ok].sum())
    gap = raw_rate - target
    weight = np.where(
        np.abs(gap) > 1e-12, (shrunk_rate - target) / np.where(gap == 0, 1, gap), np.nan
    )
    v = (e_a0 + e_a1) / (n_a * np.where(ok, e_a0, 1.0)) ** 2
    out = pd.DataFrame(
        {
            "size_a0": e_a0,
            "level_b0": level_b0,
            "actual": change_b,
            "raw": raw_rate * level_b0,
            "shrunk": shrunk_rate * level_b0,
            "total": total_rate * level_b0,
            "dev_a": raw_rate - total_rate,
            "dev_b": np.where(
                level_b0 > 0, change_b / np.where(level_b0 > 0, level_b0, 1.0), np.nan
            )
            - change_b.sum() / level_b0.sum(),
            "disp": gap**2 / v,
            "weight": weight,
            "tau2": np.where(weight < 1, weight * v / (1 - weight), np.nan),
        },
        index=panel.index,
    )[ok]
    if variant is not None:
        path = panel[list(range(a0, a1 + 1))].to_numpy(float).T  # [year, cell], A's years
        var = shrunk_change(e_a0, e_a1, n_a, noise=variant, path=path)  # type: ignore[arg-type]
        var_rate = np.where(ok, var / np.where(ok, e_a0, 1.0), np.nan)
        out["variant"] = (var_rate * level_b0)[ok]
        w_var = np.where(
            np.abs(gap) > 1e-12, (var_rate - target) / np.where(gap == 0, 1, gap), np.nan
        )
        out["w_var"] = w_var[ok]
    out["size_class"] = pd.cut(out["size_a0"], SIZE_EDGES, right=False, labels=SIZE_LABELS)
    return out


def summarise(cells: pd.DataFrame) -> pd.DataFrame:
    """Scores and weights per size class and over all cells."""
    rows = []
    groups = [(str(k), g) for k, g in cells.groupby("size_class", observed=True)]
    for name, g in [*groups, ("all", cells)]:
        row: dict[str, float | str] = {
            "size_class": name,
            "n_cells": len(g),
            "employed_a0": g["size_a0"].sum(),
            "employed_b0": g["level_b0"].sum(),
        }
        for p in [*PREDICTORS, *(["variant"] if "variant" in g else [])]:
            err = (g[p] - g["actual"]).abs()
            row[f"err_{p}"] = err.sum()
            row[f"mae_{p}"] = err.mean()
            row[f"rate_{p}"] = 100 * err.sum() / g["level_b0"].sum()
        w = g["weight"].dropna()
        row["w_p10"], row["w_p50"], row["w_p90"] = w.quantile([0.1, 0.5, 0.9]).to_numpy()
        row["tau2"] = g["tau2"].median()
        row["disp"] = g["disp"].median()
        if "w_var" in g:
            row["w_var"] = g["w_var"].median()
        d = g.dropna(subset=["dev_b"])
        row["persist"] = (d["size_a0"] * d["dev_a"] * d["dev_b"]).sum() / (
            d["size_a0"] * d["dev_a"] ** 2
        ).sum()
        rows.append(row)
    return pd.DataFrame(rows)


def show(table: pd.DataFrame) -> None:
    """Print one level × pair block: errors, shrunk/raw and shrunk/total ratios, weights."""
    t = table.copy()
    t["shrunk/raw"] = t["err_shrunk"] / t["err_raw"]
    t["shrunk/total"] = t["err_shrunk"] / t["err_total"]
    cols = [
        "level",
        "pair",
        "size_class",
        "n_cells",
        "employed_a0",
        *[f"err_{p}" for p in PREDICTORS],
        *[f"rate_{p}" for p in PREDICTORS],
        "shrunk/raw",
        "shrunk/total",
        "w_p10",
        "w_p50",
        "w_p90",
        "persist",
        "disp",
    ]
    fmt = {c: "{:,.0f}".format for c in ["employed_a0", *[f"err_{p}" for p in PREDICTORS]]}
    fmt |= {c: "{:.2f}".format for c in [f"rate_{p}" for p in PREDICTORS]}
    fmt |= {
        c: "{:.3f}".format
        for c in ["shrunk/raw", "shrunk/total", "w_p10", "w_p50", "w_p90", "persist"]
    }
    fmt["disp"] = "{:.1f}".format
    if "err_variant" in t:
        t["variant/total"] = t["err_variant"] / t["err_total"]
        cols += ["err_variant", "rate_variant", "variant/total", "w_var"]
        fmt |= {"err_variant": "{:,.0f}".format, "rate_variant": "{:.2f}".format}
        fmt |= {c: "{:.3f}".format for c in ["variant/total", "w_var"]}
    print(t[cols].to_string(index=False, formatters=fmt))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variant", choices=["poisson", "overdispersed", "persistence", "total"])
    variant = ap.parse_args().variant
    if not DATA.exists():
        print(f"skipped: {DATA} not found (the shared reference data are not checked out here)")
        return
    results = []
    for level, keys in LEVELS.items():
        panel = wide(keys)
        pooled = []
        for name, a0, a1, b0, b1, pool in PAIRS:
            cells = cells_for_pair(panel, a0, a1, b0, b1, variant)
            res = summarise(cells).assign(level=level, pair=name)
            results.append(res)
            if pool:
                pooled.append(cells)
        res = summarise(pd.concat(pooled)).assign(level=level, pair="RAMS pairs pooled")
        results.append(res)
    out = pd.concat(results, ignore_index=True)
    lead = ["level", "pair", "size_class"]
    out = out[lead + [c for c in out.columns if c not in lead]]
    pd.set_option("display.width", 250)
    for (_, _), block in out.groupby(["level", "pair"], sort=False):
        show(block)
        print()
    OUT.parent.mkdir(exist_ok=True)
    path = OUT if variant is None else OUT.with_name(f"shrink_real_{variant}.csv")
    out.to_csv(path, index=False, float_format="%.10g")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

"""Wall time and peak memory of the demand pipeline on the national-size synthetic panel.

    .venv/bin/python benchmarks/national_scale.py                 # 10/25/50/100 %, theta, auto subset
    .venv/bin/python benchmarks/national_scale.py --fractions 1.0 --chunk-size 4000
    .venv/bin/python benchmarks/national_scale.py --one 0.25      # one run, JSON on stdout

Each fraction runs in a fresh subprocess, so its peak resident set size (``resource.getrusage``,
whole process: interpreter, libraries and data) belongs to that run alone. Steps timed: panel
generation, break adjustment + hierarchy, forecasting (theta with 4 calibration origins, the
demand default), sparse non-negative MinTrace, and recruitment need (expansion + replacement with
the cohort model, 200 draws) for every county and Sweden. ``auto`` (the engine default) is timed
on a subset of series and extrapolated per 1,000 series.

Writes ``benchmarks/results/national_scale.json`` and ``docs/figures/scale_time_memory.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
FIGURES = ROOT / "docs" / "figures"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def run_one(fraction: float, chunk_size: int | None, need: bool, method: str) -> dict:
    """Generate, fit and (optionally) compute recruitment need at one fraction."""
    from kompetensprognos.demand import SWEDEN, DemandConfig, DemandModel
    from kompetensprognos.recruitment import recruitment_need
    from kompetensprognos.scale import national_panel

    rec: dict = {"fraction": fraction, "method": method, "chunk_size": chunk_size}
    rec["rss_after_imports_mb"] = round(_current_rss_mb(), 1)
    t0 = time.perf_counter()
    ds = national_panel(fraction)
    rec["seconds_generate"] = round(time.perf_counter() - t0, 2)
    rec["municipalities"] = int(ds.employment["region"].nunique())
    rec["rss_after_generate_mb"] = round(_current_rss_mb(), 1)
    cfg = DemandConfig(method=method, geography="sweden", chunk_size=chunk_size)
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    result = DemandModel(cfg).fit(ds)
    rec["seconds_fit"] = round(time.perf_counter() - t1, 2)
    rec["cpu_seconds_fit"] = round(time.process_time() - cpu1, 2)
    rec["fit_timings"] = {k: round(v, 2) for k, v in result.timings.items()}
    rec["series"] = int(result.hierarchy.S.shape[0])
    rec["bottom_series"] = int(result.hierarchy.S.shape[1])
    rec["S_nnz"] = int(result.hierarchy.S.nnz)
    rec["seconds_per_1000_series_forecast"] = round(
        1000 * result.timings["forecast"] / rec["series"], 3
    )
    rec["peak_rss_after_fit_mb"] = round(_rss_mb(), 1)
    if need:
        kinds = result.hierarchy.series.drop_duplicates("region")
        counties = kinds.loc[kinds["region_kind"].isin(["county", "country"]), "region"].tolist()
        t2 = time.perf_counter()
        rows = 0
        for region in counties:
            rows += len(recruitment_need(result, ds, region, n_sims=200))
        rec["recruitment_need_regions"] = len(counties)
        rec["seconds_recruitment_need"] = round(time.perf_counter() - t2, 2)
        rec["recruitment_need_rows"] = rows
        assert SWEDEN in counties
    rec["seconds_total"] = round(time.perf_counter() - t0, 2)
    rec["peak_rss_mb"] = round(_rss_mb(), 1)
    return rec


def time_auto(n_series: int) -> dict:
    """Seconds per 1,000 series for ``auto`` (and theta on the same series), with calibration."""
    import pandas as pd

    from kompetensprognos.forecasting import Forecaster
    from kompetensprognos.scale import national_panel

    e = national_panel(1.0, age_table=False).employment
    panel = pd.DataFrame(
        {"unique_id": e["region"] + "|" + e["ssyk"], "ds": e["year"], "y": e["employed"]}
    )
    ids = panel["unique_id"].drop_duplicates().sample(n_series, random_state=0)
    panel = panel[panel["unique_id"].isin(set(ids))]
    out = {"series": n_series, "horizon": 6, "calibration_origins": 4}
    for method in ("theta", "auto"):
        t = time.perf_counter()
        cpu = time.process_time()
        Forecaster(horizon=6, method=method, calibration_origins=4, nonnegative=True).fit(
            panel
        ).predict()
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        out[method] = {
            "seconds": round(wall, 2),
            "seconds_per_1000": round(1000 * wall / n_series, 2),
            "cpu_seconds_per_1000": round(1000 * cpu / n_series, 2),
        }
    return out


def _plot(runs: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = sorted(runs, key=lambda r: r["series"])
    x = [r["series"] / 1000 for r in runs]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("forecast", "forecasting"), ("reconcile", "MinTrace"), ("total", "fit")):
        a1.plot(x, [r["fit_timings"][key] for r in runs], marker="o", label=label)
    if all("seconds_recruitment_need" in r for r in runs):
        a1.plot(x, [r["seconds_recruitment_need"] for r in runs], marker="o",
                label="recruitment need (counties + Sweden)")  # fmt: skip
    a1.set_xlabel("series in the hierarchy (thousands)")
    a1.set_ylabel("seconds (wall)")
    a1.set_title("Time")
    a1.legend()
    a2.plot(x, [r["peak_rss_mb"] / 1024 for r in runs], marker="o", label="peak RSS")
    a2.axhline(24, color="grey", ls="--", label="machine (24 GB)")
    a2.set_xlabel("series in the hierarchy (thousands)")
    a2.set_ylabel("GB")
    a2.set_ylim(0, 25)
    a2.set_title("Peak memory")
    a2.legend()
    for r, xi in zip(runs, x, strict=True):
        a1.annotate(f"{r['fraction']:.0%}", (xi, r["fit_timings"]["total"]), fontsize=8)
    fig.suptitle("Demand model, national synthetic panel (theta, 2 cores)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fractions", type=float, nargs="+", default=[0.1, 0.25, 0.5, 1.0])
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--method", default="theta")
    parser.add_argument("--no-need", action="store_true", help="skip the recruitment need")
    parser.add_argument("--auto-series", type=int, default=1000)
    parser.add_argument("--one", type=float, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--auto-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="national_scale.json")
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(run_one(args.one, args.chunk_size, not args.no_need, args.method)))
        return
    if args.auto_only:
        print(json.dumps(time_auto(args.auto_series)))
        return
    runs = []
    for fraction in args.fractions:
        cmd = [sys.executable, __file__, "--one", str(fraction), "--method", args.method]
        if args.chunk_size:
            cmd += ["--chunk-size", str(args.chunk_size)]
        if args.no_need:
            cmd.append("--no-need")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
        print(json.dumps(runs[-1], indent=2), flush=True)
    record = {
        "machine": f"{platform.machine()}, {platform.python_version()}, 2 cores, 24 GB",
        "runs": runs,
    }
    if args.auto_series:
        cmd = [sys.executable, __file__, "--auto-only", "--auto-series", str(args.auto_series)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        record["auto_subset"] = json.loads(out.strip().splitlines()[-1])
        print(json.dumps(record["auto_subset"], indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / args.out).write_text(json.dumps(record, indent=2) + "\n")
    if len(runs) > 1:
        _plot(runs, FIGURES / "scale_time_memory.png")


if __name__ == "__main__":
    main()

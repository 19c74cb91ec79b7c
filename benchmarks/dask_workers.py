"""Forecasting step of the national hierarchy: in-process vs a Dask LocalCluster with 1 and 2 workers.

    .venv/bin/python benchmarks/dask_workers.py [--fraction 0.5] [--chunk-size 4000]

The panel is every series of the national region × SSYK hierarchy (``geography="sweden"``) of
:func:`kompetensprognos.scale.national_panel` at ``fraction``, forecast with theta, horizon 6
and 4 calibration origins (the demand defaults) by :func:`kompetensprognos.scale.fit_partitioned`.
Each configuration is timed from submission to the merged, calibrated forecasts; cluster start-up
is timed separately. Results are checked to be identical to the in-process run. Peak memory is the
peak RSS (``VmHWM``) of this process and of each worker process. The machine may be shared:
wall times are recorded with the 1-minute load average before each run.

Writes ``benchmarks/results/dask_workers.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos.demand import bottom_panel, build_hierarchy
from kompetensprognos.executors import DaskExecutor, LocalExecutor
from kompetensprognos.hierarchy import SEP
from kompetensprognos.scale import fit_partitioned, national_panel

RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = {"horizon": 6, "method": "theta", "calibration_origins": 4, "nonnegative": True}


def hierarchy_panel(fraction: float) -> pd.DataFrame:
    """Every series of the national hierarchy as a long ``unique_id, ds, y`` panel."""
    bottom = bottom_panel(national_panel(fraction, age_table=False))
    hier = build_hierarchy(bottom, geography="sweden")
    wide = (
        bottom.assign(unique_id=bottom["municipality"] + SEP + bottom["ssyk"])
        .pivot(index="unique_id", columns="year", values="employed")
        .reindex(hier.bottom["unique_id"])
    )
    values = np.asarray(hier.S @ wide.to_numpy())
    ids = hier.series["unique_id"].to_numpy()
    years = wide.columns.to_numpy()
    return pd.DataFrame(
        {
            "unique_id": np.repeat(ids, len(years)),
            "ds": np.tile(years, len(ids)),
            "y": values.reshape(-1),
        }
    )


def _worker_peak_mb() -> float:
    """Peak RSS of this process image (``VmHWM``; unlike ``ru_maxrss`` it is not inherited)."""
    with open("/proc/self/status") as fh:
        line = next(x for x in fh if x.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def _cpu_seconds() -> float:
    return time.process_time()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=0.5)
    parser.add_argument("--chunk-size", type=int, default=4000)
    args = parser.parse_args()
    panel = hierarchy_panel(args.fraction)
    n_series = panel["unique_id"].nunique()
    record: dict = {
        "machine": f"{platform.machine()}, {platform.python_version()}, 2 cores, 24 GB",
        "fraction": args.fraction,
        "series": int(n_series),
        "chunk_size": args.chunk_size,
        "settings": SETTINGS,
        "runs": [],
    }
    load = os.getloadavg()[0]
    t = time.perf_counter()
    cpu = time.process_time()
    reference = fit_partitioned(
        panel, chunk_size=args.chunk_size, executor=LocalExecutor(), **SETTINGS
    ).predict()
    wall = time.perf_counter() - t
    record["runs"].append(
        {
            "executor": "local (in-process, sequential)",
            "load_avg_1min_before": round(load, 2),
            "workers": 1,
            "seconds": round(wall, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
            "seconds_per_1000_series": round(1000 * wall / n_series, 3),
            "peak_rss_mb_driver": round(_worker_peak_mb(), 1),
        }
    )
    print(json.dumps(record["runs"][-1]), flush=True)
    for n_workers in (1, 2):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        with DaskExecutor(n_workers=n_workers, threads_per_worker=1, processes=True) as ex:
            ex.client.wait_for_workers(n_workers)
            startup = time.perf_counter() - t0
            t = time.perf_counter()
            cpu0 = ex.client.run(_cpu_seconds)
            fc = fit_partitioned(panel, chunk_size=args.chunk_size, executor=ex, **SETTINGS)
            out = fc.predict()
            wall = time.perf_counter() - t
            worker_peaks = ex.client.run(_worker_peak_mb)
            cpu1 = ex.client.run(_cpu_seconds)
        worker_cpu = sum(cpu1[w] - cpu0[w] for w in cpu1)
        identical = bool(out.equals(reference))
        record["runs"].append(
            {
                "executor": f"dask LocalCluster, {n_workers} worker process(es) × 1 thread",
                "workers": n_workers,
                "load_avg_1min_before": round(load, 2),
                "seconds_startup": round(startup, 2),
                "seconds": round(wall, 2),
                "seconds_per_1000_series": round(1000 * wall / n_series, 3),
                "peak_rss_mb_driver": round(_worker_peak_mb(), 1),
                "peak_rss_mb_workers": [round(v, 1) for v in worker_peaks.values()],
                "cpu_seconds_workers": round(worker_cpu, 2),
                "identical_to_local": identical,
            }
        )
        print(json.dumps(record["runs"][-1]), flush=True)
        if not identical:
            raise SystemExit("dask results differ from the in-process run")
    local = record["runs"][0]["seconds"]
    for r in record["runs"]:
        r["speedup_vs_local"] = round(local / r["seconds"], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "dask_workers.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Wall time and peak memory of the demand step for the five report regions (demo data).

    .venv/bin/python benchmarks/demand_timing.py [--no-backtest]

Writes ``benchmarks/results/demand_timing.json``. Peak memory is the process's maximum resident
set size (``resource.getrusage``), which includes the Python interpreter and libraries.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

from kompetensprognos import regions
from kompetensprognos.dataset import load_dataset
from kompetensprognos.params import Params
from kompetensprognos.pipeline import run

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-backtest", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    ds = load_dataset("demo")
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    params = {r: Params(region=r, backtest=not args.no_backtest) for r in regions.REGION_IDS}
    out = run(ds, params, stages=("demand",))
    result, tables = out.demand, out.tables
    t_demand = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "series": int(result.hierarchy.S.shape[0]),
        "bottom_series": int(result.hierarchy.S.shape[1]),
        "regions": list(tables),
        "backtest": not args.no_backtest,
        "seconds_load_demo": round(t_load, 2),
        "seconds_demand_step": round(t_demand, 2),
        "model_timings": {k: round(v, 2) for k, v in result.timings.items()},
        "peak_rss_mb": round(peak_mb, 1),
    }
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(exist_ok=True)
    name = "demand_timing_nobacktest.json" if args.no_backtest else "demand_timing.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

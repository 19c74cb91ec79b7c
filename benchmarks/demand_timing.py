"""Wall and CPU time, and peak memory, of the demand step for the five report regions (demo data).

    .venv/bin/python benchmarks/demand_timing.py [--no-backtest] [--model-only]

``--model-only`` times ``DemandModel().fit`` and ``backtest_demand`` (what the pipeline's
backtest runs) on their own; otherwise the pipeline's demand stage (fit, backtest, region
tables) is timed as a whole. CPU seconds of this process are printed beside wall seconds
because the machine is shared (wall time on a loaded machine says little). Writes
``benchmarks/results/demand_timing*.json``. Peak memory is the process's maximum resident set
size (``resource.getrusage``), which includes the Python interpreter and libraries.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time
from pathlib import Path

from kompetensprognos import regions
from kompetensprognos.dataset import load_dataset

RESULTS = Path(__file__).resolve().parent / "results"


def _timed(fn):  # type: ignore[no-untyped-def]
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, round(time.perf_counter() - t, 2), round(time.process_time() - c, 2)


def model_only(no_backtest: bool) -> dict[str, object]:
    """Time the demand model's fit and its backtest on their own."""
    import statsforecast.models  # noqa: F401  (imports are not the model's cost)

    from kompetensprognos.demand import DemandModel, backtest_demand, backtest_table

    ds = load_dataset("demo")
    result, wall, cpu = _timed(lambda: DemandModel().fit(ds))
    record: dict[str, object] = {
        "series": int(result.hierarchy.S.shape[0]),
        "bottom_series": int(result.hierarchy.S.shape[1]),
        "fit_wall_s": wall,
        "fit_cpu_s": cpu,
        "fit_timings_wall": {k: round(v, 2) for k, v in result.timings.items()},
    }
    if not no_backtest:
        detail, wall, cpu = _timed(lambda: backtest_demand(ds, regions_=regions.REGION_IDS))
        table = backtest_table(detail)
        ours = table[table["model"] == "kompetensprognos"]
        record |= {
            "backtest_wall_s": wall,
            "backtest_cpu_s": cpu,
            "backtest_mean": {
                k: round(float(ours[k].mean()), 4)
                for k in ("mase", "smape", "direction_accuracy", "coverage80", "coverage95")
            },
        }
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-backtest", action="store_true")
    parser.add_argument("--model-only", action="store_true")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    if args.model_only:
        record = model_only(args.no_backtest)
        name = "demand_timing_model.json"
    else:
        from kompetensprognos.params import Params
        from kompetensprognos.pipeline import run

        ds, t_load, _ = _timed(lambda: load_dataset("demo"))
        params = {r: Params(region=r, backtest=not args.no_backtest) for r in regions.REGION_IDS}
        out, wall, cpu = _timed(lambda: run(ds, params, stages=("demand",)))
        result, tables = out.demand, out.tables
        record = {
            "series": int(result.hierarchy.S.shape[0]),
            "bottom_series": int(result.hierarchy.S.shape[1]),
            "regions": list(tables),
            "backtest": not args.no_backtest,
            "seconds_load_demo": t_load,
            "seconds_demand_step": wall,
            "cpu_seconds_demand_step": cpu,
            "model_timings": {k: round(v, 2) for k, v in result.timings.items()},
        }
        name = "demand_timing_nobacktest.json" if args.no_backtest else "demand_timing.json"
    record = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "load_average_at_start": round(load, 2),
        **record,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

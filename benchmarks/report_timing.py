"""Wall time of the main job: all five regional reports from the demo data (``make report``).

    .venv/bin/python benchmarks/report_timing.py [--jobs 2] [--output DIR]

Runs the batch twice into the same output folder: first from scratch (``force=True``: nothing
reused), then again with nothing changed (finished tables and reports are reused). Prints and
writes ``benchmarks/results/report_timing.json`` with, per run, the wall time, the batch's own
stage timings (data, demand fit, backtest, graduates, region tables, notebooks) and the CPU
seconds of this process and its children (the kernels) — CPU time is what to compare when the
machine is shared, wall time is what a user waits.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

from kompetensprognos.batch import run_reports

RESULTS = Path(__file__).resolve().parent / "results"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _timed(out: Path, jobs: int, force: bool) -> dict:
    c0, t0 = _cpu(), time.perf_counter()
    result = run_reports(output=out, jobs=jobs, progress=False, force=force)
    wall = time.perf_counter() - t0
    return {
        "ok": result.ok,
        "seconds_wall": round(wall, 1),
        "seconds_cpu": round(_cpu() - c0, 1),
        "steps_seconds": {k: round(v, 1) for k, v in result.timings.items()},
        "seconds_per_notebook": {o.region: round(o.seconds, 1) for o in result.outcomes},
        "regions_reused": [o.region for o in result.outcomes if o.skipped],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    out = args.output or Path(tempfile.mkdtemp(prefix="kp-report-"))
    cold = _timed(out, args.jobs, force=True)
    warm = _timed(out, args.jobs, force=False)
    record = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}",
        "jobs": args.jobs,
        "cold": cold,
        "unchanged_rerun": warm,
        "rerun_over_cold_wall": round(warm["seconds_wall"] / cold["seconds_wall"], 3),
        "peak_rss_mb_parent": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "output": str(out),
    }
    print(json.dumps(record, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "report_timing.json").write_text(
        json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    )


if __name__ == "__main__":
    main()

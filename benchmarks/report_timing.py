"""Wall time of the main job: all five regional reports from the demo data (``make report``).

    .venv/bin/python benchmarks/report_timing.py [--jobs 2] [--output DIR]

Writes ``benchmarks/results/report_timing.json`` with the batch's own step timings (data,
tables incl. the demand fit and backtest, notebooks) and the peak memory of the parent process.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import tempfile
import time
from pathlib import Path

from kompetensprognos.batch import run_reports

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="default: a temporary folder")
    args = parser.parse_args()
    out = args.output or Path(tempfile.mkdtemp(prefix="kp-report-"))
    t0 = time.perf_counter()
    result = run_reports(output=out, jobs=args.jobs, progress=False)
    wall = time.perf_counter() - t0
    record = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, 2 cores",
        "regions": [o.region for o in result.outcomes],
        "ok": result.ok,
        "jobs": args.jobs,
        "seconds_total": round(wall, 1),
        "steps_seconds": {k: round(v, 1) for k, v in result.timings.items()},
        "seconds_per_notebook": {o.region: round(o.seconds, 1) for o in result.outcomes},
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

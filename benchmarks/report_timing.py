"""Wall time of the main job: all five regional reports from the demo data (``make report``).

    .venv/bin/python benchmarks/report_timing.py [--jobs 2] [--output DIR]

Runs the batch twice into the same output folder: first from scratch (``force=True``: nothing
reused), then again with nothing changed (finished tables and reports are reused). Prints and
writes ``benchmarks/results/report_timing.json`` with, per run, the wall time, the batch's own
stage timings (data, demand fit, backtest, graduates, region tables, notebooks) and the CPU
seconds of this process and its children (the kernels) — CPU time is what to compare when the
machine is shared, wall time is what a user waits.

With ``--timeline`` the cold run is sampled every half second (psutil): how many cores the job's
processes (this one, the backtest worker, the kernels, the workbook process) used in each
interval, and the machine's load, so one sees where a core idles. Written beside the record as
``report_timing_timeline.json`` (per-second samples and a summary by 5-second window).
With ``--label NAME`` the record is ``report_timing_NAME.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import tempfile
import threading
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


class _Timeline:
    """Cores used by this process and its descendants, sampled every ``step`` seconds."""

    def __init__(self, step: float = 0.5) -> None:
        import psutil

        self.psutil, self.step = psutil, step
        self.me = psutil.Process()
        self.samples: list[dict] = []
        self._stop = threading.Event()
        self._seen: dict[int, float] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _cpu(self) -> tuple[float, dict[str, int]]:
        total, kinds = 0.0, {}
        for proc in [self.me, *self.me.children(recursive=True)]:
            try:
                t = proc.cpu_times()
                used = t.user + t.system
                name = " ".join(proc.cmdline()[1:])
            except self.psutil.Error:
                continue
            prev = self._seen.get(proc.pid, 0.0)
            self._seen[proc.pid] = used
            if used - prev > 0.01:
                kind = "kernel" if "ipykernel" in name else "python"
                kinds[kind] = kinds.get(kind, 0) + 1
            total += used - prev
        return total, kinds

    def _run(self) -> None:
        t0 = time.perf_counter()
        self._cpu()
        while not self._stop.wait(self.step):
            used, kinds = self._cpu()
            self.samples.append(
                {
                    "t": round(time.perf_counter() - t0, 2),
                    "cores": round(used / self.step, 2),
                    "busy_processes": kinds,
                    "load": round(os.getloadavg()[0], 2),
                }
            )

    def __enter__(self) -> _Timeline:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self, window: float = 5.0) -> list[dict]:
        out: dict[int, list[dict]] = {}
        for s in self.samples:
            out.setdefault(int(s["t"] // window), []).append(s)
        return [
            {
                "from_s": k * window,
                "cores_used": round(sum(s["cores"] for s in v) / len(v), 2),
                "load": v[-1]["load"],
            }
            for k, v in sorted(out.items())
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--timeline", action="store_true", help="sample the cores used")
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    out = args.output or Path(tempfile.mkdtemp(prefix="kp-report-"))
    load0 = round(os.getloadavg()[0], 2)
    if args.timeline:
        with _Timeline() as timeline:
            cold = _timed(out, args.jobs, force=True)
    else:
        cold = _timed(out, args.jobs, force=True)
    warm = _timed(out, args.jobs, force=False)
    record = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average at the start {load0:.1f}, "
        f"at the end {os.getloadavg()[0]:.1f}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "jobs": args.jobs,
        "cold": cold,
        "unchanged_rerun": warm,
        "rerun_over_cold_wall": round(warm["seconds_wall"] / cold["seconds_wall"], 3),
        "peak_rss_mb_parent": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "output": str(out),
    }
    print(json.dumps(record, indent=2, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    name = f"report_timing_{args.label}" if args.label else "report_timing"
    (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    if args.timeline:
        steps = cold["steps_seconds"]
        trace = {
            "stages_seconds": steps,
            "by_5s": timeline.summary(),
            "samples": timeline.samples,
        }
        print(json.dumps(trace["by_5s"]))
        (RESULTS / f"{name}_timeline.json").write_text(json.dumps(trace, indent=1) + "\n")


if __name__ == "__main__":
    main()

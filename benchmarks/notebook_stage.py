"""Wall and CPU time of the main job's notebook stage alone: five reports on precomputed tables.

    .venv/bin/python benchmarks/notebook_stage.py --tables DIR [--jobs 2] [--table-seconds 0]

``--tables`` is the output folder of an earlier run (``make report`` or ``run_reports``): its
``<region>/tables`` are read back and handed to ``run_reports`` in place of the pipeline, which is
replaced by a stub that waits ``--table-seconds`` (0: the notebook stage starts at once, so
the kernels' start and imports are not hidden behind the table stage; e.g. 10: they are, as in a
real run where the tables take ~50 s). Everything after the tables runs as in a real run
(``force=True``): kernels, papermill, HTML, the Excel workbooks, landing page, manifest. Prints
and writes ``benchmarks/results/notebook_stage.json``: wall time of the notebook stage
(``timings["notebooks"]``) and of the run after the stub, and the CPU seconds of this process
and its children (kernels, the workbook process) over the run. CPU time is what to compare when
the machine is shared.
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

from kompetensprognos import batch, regions
from kompetensprognos.pipeline import PipelineResult
from kompetensprognos.report import read_tables

RESULTS = Path(__file__).resolve().parent / "results"


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--table-seconds", type=float, default=0.0)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    tables = {r: read_tables(args.tables / r / "tables") for r in regions.REGION_IDS}

    def stub(dataset, params, **_kwargs):
        time.sleep(args.table_seconds)
        return PipelineResult({r: tables[r] for r in params}, params, dataset.fingerprint())

    batch.run_pipeline = stub
    runs = []
    for i in range(args.repeat):
        out = Path(tempfile.mkdtemp(prefix="kp-nbstage-"))
        c0, t0 = _cpu(), time.perf_counter()
        result = batch.run_reports(output=out, jobs=args.jobs, progress=False, force=True)
        wall = time.perf_counter() - t0
        if not result.ok:
            raise SystemExit([batch.format_failure(o) for o in result.outcomes if not o.ok])
        t = result.timings
        run = {
            "notebooks_wall": round(t["notebooks"], 1),
            "after_tables_wall": round(wall - t.get("tables", 0.0) - t["load_data"], 1),
            "cpu": round(_cpu() - c0, 1),
            "per_notebook": {o.region: round(o.seconds, 1) for o in result.outcomes},
            "timings": {k: round(v, 2) for k, v in t.items()},
            "load_after": round(os.getloadavg()[0], 1),
        }
        runs.append(run)
        print(f"run {i}: {json.dumps(run)}", flush=True)
    record = {
        "code": batch._git_revision(),
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores",
        "jobs": args.jobs,
        "table_seconds": args.table_seconds,
        "runs": runs,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "notebook_stage.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Time one regional report notebook as the batch runs it: papermill execution and HTML.

    .venv/bin/python benchmarks/notebook_timing.py [--tables DIR] [--region skaraborg] [--repeat 2]

``--tables`` is a region's finished ``tables/`` folder (e.g. ``outputs/skaraborg/tables`` after
``make report``); without it the tables of ``--region`` are built first with ``run_reports``
(minutes). Each repeat executes ``notebooks/outlook.ipynb`` with papermill against those tables
(``batch._execute_region``, the batch's own code path, HTML included) and prints the wall time
per cell group from the durations papermill stores in the executed notebook — the first cell
(imports and loading the tables), the figure cells, the text and table cells, and what lies
outside the cells (kernel start, papermill, HTML) — with the CPU seconds of the kernel and of this
process. CPU time is what to compare on a shared machine. Writes
``benchmarks/results/notebook_timing.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from kompetensprognos import batch

RESULTS = Path(__file__).resolve().parent / "results"


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _tables(region: str) -> Path:
    out = Path(tempfile.mkdtemp(prefix="kp-nb-tables-"))
    result = batch.run_reports([region], output=out, progress=False)
    if not result.ok:
        raise SystemExit(f"building the tables failed: {result.outcomes[0].error}")
    return out / region / "tables"


def _one(region: str, tables: Path, notebook: Path) -> dict:
    stage = Path(tempfile.mkdtemp(prefix="kp-nb-"))
    shutil.copytree(tables, stage / region / "tables")
    k0, s0, t0 = _children_cpu(), time.process_time(), time.perf_counter()
    outcome = batch._execute_region(
        region, staging=stage, notebook=notebook, data="demo", timeout=600, kernel="python3"
    )
    wall = time.perf_counter() - t0
    kernel_cpu, own_cpu = _children_cpu() - k0, time.process_time() - s0
    if not outcome.ok:
        raise SystemExit(f"the notebook failed: {batch.format_failure(outcome)}")
    cells = json.loads((stage / region / "rapport.ipynb").read_text(encoding="utf-8"))["cells"]
    durations = [
        ("".join(c["source"]), c["metadata"].get("papermill", {}).get("duration") or 0.0)
        for c in cells
        if c["cell_type"] == "code"
    ]
    first = sum(d for src, d in durations if "import" in src)
    figures = sum(d for src, d in durations if "plots." in src)
    in_cells = sum(d for _, d in durations)
    shutil.rmtree(stage, ignore_errors=True)
    return {
        "seconds_wall": round(wall, 2),
        "first_cell": round(first, 2),
        "figures": round(figures, 2),
        "text_and_tables": round(in_cells - first - figures, 2),
        "outside_cells": round(wall - in_cells, 2),
        "cpu_kernel": round(kernel_cpu, 2),
        "cpu_this_process": round(own_cpu, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=Path, default=None)
    parser.add_argument("--region", default="skaraborg")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    tables = args.tables or _tables(args.region)
    notebook = batch.find_notebook()
    runs = []
    for i in range(args.repeat):
        run = _one(args.region, tables, notebook)
        runs.append(run)
        print(f"run {i}: " + ", ".join(f"{k} {v}" for k, v in run.items()), flush=True)
    record = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average at the end {os.getloadavg()[0]:.1f}",
        "region": args.region,
        "runs": runs,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "notebook_timing.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

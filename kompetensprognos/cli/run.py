"""``kompetensprognos run``: build every regional outlook report (the main job)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kompetensprognos import regions


def _run(args: argparse.Namespace) -> int:
    from kompetensprognos.batch import format_failure, run_reports

    progress = not args.quiet and sys.stderr.isatty()
    result = run_reports(
        args.regions,
        data=args.data,
        output=args.output,
        params_dir=args.params_dir,
        jobs=args.jobs,
        timeout=args.timeout,
        kernel=args.kernel,
        progress=progress,
        executor=args.executor,
        scheduler=args.scheduler,
        pdf=args.pdf,
    )
    for o in result.outcomes:
        if o.ok:
            pdf = " + rapport.pdf" if args.pdf else ""
            print(f"{o.region}: {args.output / o.region / 'rapport.html'}{pdf} ({o.seconds:.0f} s)")
        else:
            print(format_failure(o), file=sys.stderr)
    print(f"index: {args.output / 'index.html'}  (total {result.timings.get('total', 0):.0f} s)")
    return 0 if result.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``run`` command."""
    p = sub.add_parser(
        "run",
        help="Build the outlook report of every region (notebooks via papermill, HTML, tables).",
        description=(
            "Validate each region's params/<region>.yaml, fit the demand model once, execute "
            "notebooks/outlook.ipynb per region with papermill and write OUTPUT/<region>/"
            "rapport.html, rapport.ipynb, rapport.xlsx and tables/*.csv, plus OUTPUT/index.html "
            "and OUTPUT/manifest.json. A failing region is reported and leaves no folder behind; "
            "the exit code is then 1."
        ),
    )
    p.add_argument(
        "--regions", nargs="+", default=list(regions.REGION_IDS), choices=list(regions.ALL_REGION_IDS),
        metavar="REGION", help="region ids (default: the five report regions)",
    )  # fmt: skip
    p.add_argument("--data", default="demo", help="'demo' (default, synthetic) or a dataset folder")
    p.add_argument(
        "--output", type=Path, default=Path("outputs"), help="output folder (default: outputs)"
    )
    p.add_argument(
        "--params-dir",
        type=Path,
        default=Path("params"),
        help="folder of <region>.yaml (default: params)",
    )
    p.add_argument("--jobs", type=int, default=2, help="notebooks run in parallel (default 2)")
    p.add_argument(
        "--timeout", type=int, default=600, help="seconds a notebook cell may run (default 600)"
    )
    p.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
    p.add_argument(
        "--executor", choices=["local", "dask"], default="local",
        help="where notebooks and forecasting chunks run: this machine (default) or Dask workers",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", default=None, metavar="ADDRESS",
        help="Dask scheduler address (default with --executor dask: a LocalCluster of --jobs workers)",
    )  # fmt: skip
    p.add_argument(
        "--pdf", action="store_true",
        help="also print each report to rapport.pdf (A4) with headless Chromium; "
        "stops with a message saying how to install it when none is found",
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)

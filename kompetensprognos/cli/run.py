"""``kompetensprognos run``: build every regional outlook report (the main job)."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from kompetensprognos import regions


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM (``kill``, a job scheduler stopping the job) like Ctrl-C during a run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    from kompetensprognos.files import RunInterrupted

    try:
        with _sigterm_as_interrupt():
            return _run_reports(args)
    except RunInterrupted:
        print(
            f"interrupted after the reports were complete: {args.output} holds the new outputs",
            file=sys.stderr,
        )
        return 130
    except KeyboardInterrupt:
        print(
            f"interrupted: nothing in {args.output} was replaced — the previous outputs are "
            "intact (run again to build the reports)",
            file=sys.stderr,
        )
        return 130


def _run_reports(args: argparse.Namespace) -> int:
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
        force=args.force,
        pdf=args.pdf,
    )
    for o in result.outcomes:
        pdf = " + rapport.pdf" if args.pdf else ""
        if o.ok and o.skipped:
            print(f"{o.region}: {args.output / o.region / 'rapport.html'}{pdf} (oförändrad)")
        elif o.ok:
            print(f"{o.region}: {args.output / o.region / 'rapport.html'}{pdf} ({o.seconds:.0f} s)")
        else:
            print(format_failure(o), file=sys.stderr)
    ok = sum(o.ok for o in result.outcomes)
    stages = ", ".join(
        f"{k} {v:.0f} s"
        for k, v in result.timings.items()
        if k in ("load_data", "tables", "notebooks") and v >= 0.5
    )
    print(
        f"{ok} av {len(result.outcomes)} rapporter klara på {result.timings.get('total', 0):.0f} s"
        f"{f' ({stages})' if stages else ''}; översikt: {args.output / 'index.html'}"
    )
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
        "--force",
        action="store_true",
        help="recompute everything (default: reuse cached tables and reports whose data, "
        "parameters, code and notebook are unchanged)",
    )
    p.add_argument(
        "--pdf", action="store_true",
        help="also print each report to rapport.pdf (A4) with headless Chromium; "
        "stops with a message saying how to install it when none is found",
    )  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)

"""``kompetensprognos sweep``: one region under several scenarios, results side by side."""

from __future__ import annotations

import argparse
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from kompetensprognos.dataset import load_dataset
    from kompetensprognos.executors import get_executor
    from kompetensprognos.params import load_region_params
    from kompetensprognos.report import write_region
    from kompetensprognos.sweep import load_sweep, run_sweep, sweep_summary

    spec = load_sweep(args.sweep)
    base = load_region_params([spec.region], args.params_dir, data=args.data)[spec.region]
    dataset = load_dataset(base.data)
    kwargs = {"address": args.scheduler, "n_workers": args.jobs} if args.executor == "dask" else {}
    with get_executor(args.executor, **kwargs) as ex:
        long, wide = run_sweep(spec, dataset, base, executor=ex)
    out = args.output or Path("outputs") / f"sweep-{spec.region}"
    write_region(out, {"sweep": wide, "sweep_long": long}, params=base)
    for name, need in sweep_summary(long, (base.period_start, base.period_end)).items():
        print(f"  {name:<24} recruitment need {need:>12,.0f}")
    print(f"sweep of {len(spec.scenarios)} scenario(s) for {spec.region} written to {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``sweep`` command."""
    p = sub.add_parser(
        "sweep",
        help="Run one region under several named scenarios; results side by side.",
        description=(
            "Read a sweep YAML (region + named scenarios with demand adjustments and/or supply "
            "overrides, see docs/scale.md), compute each scenario from the same data and base "
            "parameters, and write OUTPUT/sweep.csv (one column per value and scenario) and "
            "OUTPUT/sweep_long.csv."
        ),
    )
    p.add_argument("sweep", type=Path, help="sweep YAML file")
    p.add_argument(
        "--data", default=None, help="'demo' or a dataset folder (default: from the params file)"
    )
    p.add_argument(
        "--params-dir", type=Path, default=Path("params"), help="base parameters (default: params)"
    )
    p.add_argument(
        "--output", type=Path, default=None, help="output folder (default: outputs/sweep-<region>)"
    )
    p.add_argument(
        "--executor", choices=["local", "dask"], default="local", help="where scenarios run"
    )
    p.add_argument("--scheduler", default=None, metavar="ADDRESS", help="Dask scheduler address")
    p.add_argument(
        "--jobs", type=int, default=2, help="workers of the local Dask cluster (default 2)"
    )
    p.set_defaults(func=_run)

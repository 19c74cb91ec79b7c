"""``kompetensprognos demand``: employment forecasts, recruitment need and backtests per region."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from kompetensprognos import regions
from kompetensprognos.config import DemandConfig


def _run(args: argparse.Namespace) -> int:
    from kompetensprognos.dataset import load_dataset
    from kompetensprognos.params import Params
    from kompetensprognos.pipeline import run
    from kompetensprognos.report import write_region

    t0 = time.perf_counter()
    dataset = load_dataset(args.data)
    config = DemandConfig(
        method=args.method,
        reconciliation=args.reconciliation,
        adjust_breaks=not args.no_break_adjustment,
        end_year=max(args.end, 2030),
    )
    params = {
        r: Params(
            region=r,
            data=args.data,
            period_start=args.start,
            period_end=args.end,
            demand=config,
            n_sims=args.sims,
            backtest=not args.no_backtest,
        )
        for r in args.regions
    }
    progress = not args.quiet and sys.stderr.isatty()
    result = run(dataset, params, stages=("demand",), progress=progress)
    for region, region_tables in result.tables.items():
        write_region(
            args.output / region / "tables",
            region_tables,
            params=params[region],
            manifest=dataset.manifest,
            fingerprint=result.fingerprint,
        )
    summary = {
        "dataset": dataset.manifest.name,
        "synthetic": dataset.manifest.synthetic,
        "fingerprint": result.fingerprint,
        "config": json.loads(config.model_dump_json()),
        "timings_seconds": {k: round(v, 2) for k, v in result.timings.items()}
        | {"all": round(time.perf_counter() - t0, 2)},
    }
    (args.output / "demand_manifest.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False) + "\n"
    )
    label = " (syntetiska demonstrationsdata)" if dataset.manifest.synthetic else ""
    print(f"demand tables for {len(result.tables)} region(s){label} written to {args.output}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``demand`` command."""
    p = sub.add_parser(
        "demand",
        help="Forecast employment, recruitment need and backtests per region.",
        description=(
            "Fit the regional demand model (break adjustment, forecasts for every region and "
            "occupation level, reconciliation) and write per region: employment_forecast.csv, "
            "recruitment_need.csv and backtest.csv under OUTPUT/<region>/tables/."
        ),
    )
    p.add_argument("--data", default="demo", help="'demo' (default) or a dataset folder")
    p.add_argument(
        "--regions", nargs="+", default=list(regions.REGION_IDS), choices=list(regions.ALL_REGION_IDS),
        metavar="REGION", help="region ids (default: the five report regions)",
    )  # fmt: skip
    p.add_argument(
        "--output", type=Path, default=Path("outputs"), help="output folder (default: outputs)"
    )
    p.add_argument(
        "--start", type=int, default=2023, help="first year of the outlook period (default 2023)"
    )
    p.add_argument(
        "--end", type=int, default=2030, help="last year of the outlook period (default 2030)"
    )
    p.add_argument(
        "--method",
        default=DemandConfig().method,
        help=f"forecasting method (default: {DemandConfig().method}, chosen by backtest on "
        "earlier origins), or 'select' / 'select_by_level' to choose on the data",
    )
    p.add_argument(
        "--reconciliation", default="mint_wls_struct",
        choices=["mint_wls_struct", "mint_ols", "bottom_up", "none"], help="reconciliation (default mint_wls_struct)",
    )  # fmt: skip
    p.add_argument(
        "--no-break-adjustment", action="store_true", help="do not adjust for series breaks"
    )
    p.add_argument(
        "--no-backtest", action="store_true", help="skip the rolling-origin backtest (faster)"
    )
    p.add_argument(
        "--sims", type=int, default=1000, help="simulation draws for intervals (default 1000)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_run)

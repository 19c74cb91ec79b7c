"""``kompetensprognos data fetch scb|yrkesbarometer`` and ``kompetensprognos data import``.

The heavy modules are imported inside the command functions, so ``--help`` stays fast.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from kompetensprognos.errors import KompetensprognosError

__all__ = ["register_data_commands"]


def _years(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r} is not a year range such as 2014-2024")
    first, last = int(m.group(1)), int(m.group(2) or m.group(1))
    if first > last:
        raise argparse.ArgumentTypeError(f"{text!r}: the first year is after the last")
    return first, last


def _fetch_scb(args: argparse.Namespace) -> int:
    from kompetensprognos.sources import scb

    client = scb.PxWebClient(**({"base_url": args.base_url} if args.base_url else {}))
    try:
        report = scb.fetch_scb(
            args.out,
            years=args.years,
            refresh=args.refresh,
            sources=args.only,
            client=client,
            cache_dir=args.cache,
            progress=not args.quiet,
        )
    finally:
        client.close()
    print(report.summary())
    return 0


def _fetch_yrkesbarometer(args: argparse.Namespace) -> int:
    import json

    from kompetensprognos.sources import arbetsformedlingen as af

    if args.file:
        try:
            records = json.loads(Path(args.file).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise KompetensprognosError(f"{args.file}: cannot read it as JSON ({exc})") from None
    else:
        records = af.fetch_yrkesbarometer(args.url)
    frame, unmapped = af.yrkesbarometer_frame(records)
    out = af.add_to_dataset(frame, args.out)
    print(f"wrote yrkesbarometer ({len(frame)} rows) to {out}")
    if unmapped:
        print(f"  {len(unmapped)} records not mapped:")
        for u in unmapped[:20]:
            print(f"    {u}")
        if len(unmapped) > 20:
            print(f"    ... and {len(unmapped) - 20} more")
    if not (Path(out) / "employment.csv").exists():
        print(
            f"  note: {out} has no employment table yet; add SCB data with "
            f"`kompetensprognos data fetch scb --out {out}`",
            file=sys.stderr,
        )
    return 0


def _import(args: argparse.Namespace) -> int:
    from kompetensprognos.sources import importers

    result = importers.import_files(args.kind, args.files)
    print(result.summary(limit=args.show))
    if args.dry_run:
        return 0
    tables = {k: v for k, v in result.tables.items() if len(v)}
    if not tables:
        raise KompetensprognosError(
            "no rows could be mapped — see the reasons above; nothing written"
        )
    names = ", ".join(str(Path(f).name) for f in args.files)
    out = importers.merge_into_dataset(
        tables,
        args.out,
        source=f"imported files ({args.kind})",
        note=f"{args.kind} imported from {names}.",
    )
    print(f"wrote {', '.join(tables)} to {out}")
    return 0


def register_data_commands(data_sub: argparse._SubParsersAction) -> None:
    """Add ``fetch`` (``scb`` / ``yrkesbarometer``) and ``import`` to ``kompetensprognos data``."""
    fetch = data_sub.add_parser(
        "fetch",
        help="Download real data (SCB, Arbetsförmedlingen) into a dataset folder.",
        description="Download real data into a dataset folder. Needs internet; offline, use --data demo.",
    )
    fetch.set_defaults(func=lambda args: fetch.print_help())
    fetch_sub = fetch.add_subparsers(dest="source", metavar="SOURCE")

    from kompetensprognos.sources.scb import SOURCES

    scb = fetch_sub.add_parser(
        "scb",
        help="SCB Statistikdatabasen (PxWebApi 2): employment, age structure, population, education.",
        description=(
            "Find the SCB tables (occupation register by municipality and SSYK 3, by age band; "
            "population and projection; YH graduates; education flows; occupation × education), "
            "download them within the API's limits and write a validated dataset folder. Raw answers "
            "are cached next to DIR (.DIR.scb-cache), so a re-run or an interrupted run does not "
            "download again. DIR is only written when every table validates."
        ),
        epilog="Example: kompetensprognos data fetch scb --out data/scb --years 2014-2024",
    )
    scb.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="dataset folder to write (replaced if it is one)",
    )
    scb.add_argument(
        "--years",
        type=_years,
        default=(2014, 2024),
        metavar="FIRST-LAST",
        help="observed years (default 2014-2024; projections follow the last year)",
    )
    scb.add_argument("--refresh", action="store_true", help="download again even when cached")
    scb.add_argument(
        "--only",
        nargs="+",
        choices=list(SOURCES),
        metavar="SOURCE",
        help=f"fetch only these sources: {', '.join(SOURCES)} (employment is always fetched)",
    )
    scb.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="cache folder (default .DIR.scb-cache next to --out)",
    )
    scb.add_argument(
        "--base-url",
        metavar="URL",
        help="PxWebApi 2 root (default https://statistikdatabasen.scb.se/api/v2)",
    )
    scb.add_argument("--quiet", action="store_true", help="no progress bar")
    scb.set_defaults(func=_fetch_scb)

    yb = fetch_sub.add_parser(
        "yrkesbarometer",
        help="Arbetsförmedlingen's yrkesbarometer (shortage/balance/surplus per occupation and county).",
        description=(
            "Download yrkesbarometer.json (CC0), map it to SSYK 4 and county and add it to DIR as "
            "the yrkesbarometer table (other tables in DIR are kept). Records that cannot be mapped "
            "are listed."
        ),
        epilog="Example: kompetensprognos data fetch yrkesbarometer --out data/scb",
    )
    yb.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="dataset folder to add the table to"
    )
    yb.add_argument(
        "--url",
        default="https://data.arbetsformedlingen.se/prognoser/yrkesbarometer.json",
        help="where to download from",
    )
    yb.add_argument(
        "--file",
        type=Path,
        metavar="JSON",
        help="use a saved yrkesbarometer.json instead of downloading",
    )
    yb.set_defaults(func=_fetch_yrkesbarometer)

    from kompetensprognos.sources.importers import KINDS

    imp = data_sub.add_parser(
        "import",
        help="Import hand-downloaded SCB (CSV/Excel/PX) or Skolverket files into a dataset folder.",
        description=(
            "Map files downloaded by hand onto a contract table and add it to DIR (other tables are "
            "kept). Rows that cannot be mapped (suppressed '..' cells, totals, non-municipality "
            "regions, aggregate programmes ...) are counted and listed, never dropped silently. Kinds: "
            + "; ".join(f"{k}: {v[2]}" for k, v in KINDS.items())
        ),
        epilog="Example: kompetensprognos data import scb-employment anstallda_2014_2024.csv --out data/mine",
    )
    imp.add_argument(
        "kind", choices=list(KINDS), metavar="KIND", help=f"one of: {', '.join(KINDS)}"
    )
    imp.add_argument(
        "files", nargs="+", type=Path, metavar="FILE", help="CSV, Excel (.xlsx) or PX files"
    )
    imp.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="dataset folder to write or add to"
    )
    imp.add_argument("--dry-run", action="store_true", help="only report what would be mapped")
    imp.add_argument(
        "--show", type=int, default=10, metavar="N", help="unmapped rows to list (default 10)"
    )
    imp.set_defaults(func=_import)

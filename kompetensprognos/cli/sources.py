"""``kompetensprognos data fetch scb|all|yrkesbarometer`` and ``kompetensprognos data import``.

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


def _scb_client(args: argparse.Namespace):
    from kompetensprognos.sources import scb

    if args.record and args.replay:
        raise KompetensprognosError("use either --record DIR or --replay DIR, not both")
    return scb.make_client(base_url=args.base_url, record=args.record, replay=args.replay)


def _print_plan(args: argparse.Namespace) -> int:
    from kompetensprognos.sources import scb

    client = _scb_client(args)
    try:
        plans = scb.plan_scb(client, years=args.years, sources=args.only)
        cfg = client.config
    finally:
        client.close()
    print(
        f"SCB plan for {args.years[0]}-{args.years[1]} ({client.base_url}; maxDataCells "
        f"{cfg.max_data_cells}, {cfg.max_calls_per_time_window} calls per {cfg.time_window:g} s; "
        f"{client.requests_sent} metadata/search requests, no data downloaded)"
    )
    for plan in plans:
        print()
        print(plan.describe())
    cells = sum(p.cells for p in plans)
    calls = sum(p.calls for p in plans)
    print(f"\ntotal: {cells:,} cells in {calls} data call(s)")
    return 0


def _fetch_scb(args: argparse.Namespace) -> int:
    if args.plan:
        return _print_plan(args)
    report = _run_scb(args, args.out)
    print(report.summary())
    return 0


def _run_scb(args: argparse.Namespace, out: Path):
    from kompetensprognos.sources import scb

    if out is None:
        raise KompetensprognosError("give the dataset folder with --out DIR (or use --plan)")
    client = _scb_client(args)
    try:
        return scb.fetch_scb(
            out,
            years=args.years,
            refresh=args.refresh or bool(args.record),  # a recording must see every answer
            sources=args.only,
            client=client,
            cache_dir=args.cache,
            use_cache=not args.replay,
            progress=not args.quiet,
        )
    finally:
        client.close()


def _fetch_all(args: argparse.Namespace) -> int:
    """SCB, then Arbetsförmedlingen's yrkesbarometer into the same folder; one summary."""
    from kompetensprognos.sources import arbetsformedlingen as af

    if args.plan:
        return _print_plan(args)
    report = _run_scb(args, args.out)
    print(report.summary())
    recorded = (
        Path(args.replay or args.record or ".") / "arbetsformedlingen" / "yrkesbarometer.json"
    )
    if args.af_file:
        records = _read_af_file(args.af_file)
        meta = af.RoundInfo(url=str(args.af_file), retrieved=af.today())
    elif args.replay:
        if not recorded.exists():
            print(f"  yrkesbarometer: not in {args.replay} (no {recorded.name}); not added")
            return 0
        doc = _read_af_file(recorded)
        info = doc["info"]
        records, meta = doc["records"], af.RoundInfo(**{**info, "rounds": tuple(info["rounds"])})
    else:
        records, meta = af.fetch_yrkesbarometer_with_info(args.af_url, progress=not args.quiet)
        if args.record:
            import json

            recorded.parent.mkdir(parents=True, exist_ok=True)
            recorded.write_text(
                json.dumps(
                    {"info": meta.as_dict(), "records": records},
                    ensure_ascii=False,
                ),
                encoding="utf-8",
            )
    frame, unmapped = af.yrkesbarometer_frame(records)
    af.add_to_dataset(frame, args.out, info=meta)
    rounds = ", ".join(sorted(frame["round"].dropna().unique())) or "?"
    print(
        f"  yrkesbarometer: {len(frame):,} rows, round {rounds}"
        + (f", {len(unmapped)} records not mapped" if unmapped else "")
    )
    print(f"dataset ready: {args.out} (provenance.json lists every table id and retrieval date)")
    return 0


def _read_af_file(path: Path) -> list:
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise KompetensprognosError(f"{path}: cannot read it as JSON ({exc})") from None


def _fetch_yrkesbarometer(args: argparse.Namespace) -> int:
    from kompetensprognos.sources import arbetsformedlingen as af

    if args.file:
        records = _read_af_file(args.file)
        info = af.RoundInfo(url=str(args.file), retrieved=af.today())
    else:
        records, info = af.fetch_yrkesbarometer_with_info(args.url)
    frame, unmapped = af.yrkesbarometer_frame(records)
    out = af.add_to_dataset(frame, args.out, info=info)
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


def _scb_options(p: argparse.ArgumentParser, sources: object) -> None:
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="dataset folder to write (replaced if it is one); not needed with --plan",
    )
    p.add_argument(
        "--years",
        type=_years,
        default=(2014, 2024),
        metavar="FIRST-LAST",
        help="observed years (default 2014-2024; projections follow the last year)",
    )
    p.add_argument(
        "--plan",
        action="store_true",
        help="resolve every source with metadata calls only and print table ids, years, "
        "variables, selections, cells and calls — nothing is downloaded or written",
    )
    p.add_argument("--refresh", action="store_true", help="download again even when cached")
    p.add_argument(
        "--only",
        nargs="+",
        choices=list(sources),  # type: ignore[call-overload]
        metavar="SOURCE",
        help=f"fetch only these sources: {', '.join(sources)} (employment is always fetched)",  # type: ignore[arg-type]
    )
    p.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="cache folder (default .DIR.scb-cache next to --out)",
    )
    p.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="save every raw answer with its request under DIR (a fixture set; implies --refresh)",
    )
    p.add_argument(
        "--replay",
        type=Path,
        metavar="DIR",
        help="answer every request from a folder written by --record; no network",
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="PxWebApi 2 root (default https://statistikdatabasen.scb.se/api/v2)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


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
            "population and projection; YH graduates; occupation × education; education flows and "
            "the regional matching indicators as raw tables), download them within the API's "
            "limits and write a validated dataset folder. Raw answers are cached next to DIR "
            "(.DIR.scb-cache), so a re-run or an interrupted run does not download again. DIR is "
            "only written when every table validates. Run with --plan first."
        ),
        epilog="Example: kompetensprognos data fetch scb --plan; "
        "kompetensprognos data fetch scb --out data/scb --years 2014-2024",
    )
    _scb_options(scb, SOURCES)
    scb.set_defaults(func=_fetch_scb)

    every = fetch_sub.add_parser(
        "all",
        help="SCB and Arbetsförmedlingen's yrkesbarometer into one dataset folder.",
        description=(
            "Everything `data fetch scb` does, then the yrkesbarometer (with its round) into the "
            "same folder; a progress bar per source and one summary at the end. provenance.json "
            "in DIR lists every table id with its retrieval date."
        ),
        epilog="Example: kompetensprognos data fetch all --out data/vg",
    )
    _scb_options(every, SOURCES)
    every.add_argument(
        "--af-url",
        default="https://data.arbetsformedlingen.se/prognoser/yrkesbarometer.json",
        help="where to download the yrkesbarometer from",
    )
    every.add_argument(
        "--af-file", type=Path, metavar="JSON", help="use a saved yrkesbarometer.json"
    )
    every.set_defaults(func=_fetch_all)

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

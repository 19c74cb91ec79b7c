"""``kompetensprognos data ...``: write the demo dataset, validate a dataset folder.

Connector commands (``fetch``, ``import``) are registered from :mod:`kompetensprognos.cli.sources`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _demo(args: argparse.Namespace) -> int:
    from kompetensprognos.dataset import write_dataset
    from kompetensprognos.synthetic import DEFAULT_SEED, generate_demo

    dataset = generate_demo(seed=DEFAULT_SEED if args.seed is None else args.seed)
    out = write_dataset(dataset, args.out, overwrite=args.force)
    print(f"wrote the synthetic demo dataset (syntetiska demonstrationsdata) to {out}")
    for name, table in dataset.tables().items():
        print(f"  {name + '.csv':<22} {len(table):>8,} rows  ({', '.join(table.columns)})")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from kompetensprognos.dataset import check_dataset

    found = check_dataset(args.directory)
    problems = found.problems
    for note in found.notes:  # accepted, but worth knowing (docs/data.md)
        print(f"note: {note}")
    if problems:
        n = len(problems)
        print(f"{args.directory}: {n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print(f"{args.directory}: valid dataset")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``data`` command group."""
    p = sub.add_parser(
        "data",
        help="Write the demo dataset, validate, fetch or import datasets.",
        description="Datasets are folders of CSV tables plus manifest.json (see docs/data.md).",
    )
    p.set_defaults(func=lambda args: p.print_help())
    data_sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")

    demo = data_sub.add_parser(
        "demo",
        help="Write the synthetic demo dataset as CSV files (shows the expected formats).",
        description=(
            "Generate the bundled synthetic dataset (50 municipalities, 2014-2024, population "
            "projected to 2035) and write it as a dataset folder. The data are synthetic — "
            "syntetiska demonstrationsdata — not real statistics."
        ),
    )
    demo.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to create")
    demo.add_argument(
        "--seed", type=int, default=None, help="random seed (default: the package's fixed seed)"
    )
    demo.add_argument("--force", action="store_true", help="replace DIR if it exists")
    demo.set_defaults(func=_demo)

    val = data_sub.add_parser(
        "validate",
        help="Check a dataset folder and report every problem at once.",
        description=(
            "Validate every table of a dataset folder against the data contracts. All problems are "
            "listed with file, column, line and value; the exit code is 1 when any is found."
        ),
    )
    val.add_argument("directory", type=Path, metavar="DIR", help="dataset folder")
    val.set_defaults(func=_validate)

    from kompetensprognos.cli import sources as _sources  # connector commands: fetch, import

    _sources.register_data_commands(data_sub)

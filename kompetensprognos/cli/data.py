"""``kompetensprognos data ...``: demo data, validation; connectors add ``fetch``/``import``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``data`` command group."""
    p = sub.add_parser("data", help="Write the demo dataset, validate, fetch or import datasets.")
    p.set_defaults(func=lambda args: p.print_help())
    data_sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    try:  # connector commands (fetch, import) live in their own module
        from kompetensprognos.cli import sources as _sources
    except ImportError:
        _sources = None
    if _sources is not None:
        _sources.register_data_commands(data_sub)

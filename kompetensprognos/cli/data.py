"""``kompetensprognos data ...``: demo data, validation (filled in below)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``data`` command group."""
    p = sub.add_parser("data", help="Write the demo dataset, validate or fetch datasets.")
    p.set_defaults(func=lambda args: p.print_help())

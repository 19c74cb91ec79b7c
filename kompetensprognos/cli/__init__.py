"""Command-line interface: ``kompetensprognos <command> ...``.

Each command group lives in its own module exposing ``register(subparsers)``; this module only
assembles them, so a new command never touches another command's code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from kompetensprognos import __version__
from kompetensprognos.cli import data as _data
from kompetensprognos.cli import demand as _demand
from kompetensprognos.cli import forecast as _forecast
from kompetensprognos.cli import run as _run
from kompetensprognos.cli import sweep as _sweep
from kompetensprognos.errors import KompetensprognosError

_COMMAND_MODULES = [_data, _forecast, _demand, _run, _sweep]


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="kompetensprognos",
        description=(
            "Regional competence-supply analysis for Västra Götaland: demo and real data, "
            "forecasts, backtests and the per-region outlook reports."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code.

    Errors the user can fix (:class:`~kompetensprognos.errors.KompetensprognosError`) are printed
    without a traceback and give exit code 2; anything else is a bug and propagates.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KompetensprognosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

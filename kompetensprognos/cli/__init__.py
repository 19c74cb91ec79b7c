"""Command-line interface: ``kompetensprognos <command> ...``.

Each command group lives in its own module exposing ``register(subparsers)``; this module only
assembles them, so a new command never touches another command's code.
"""

from __future__ import annotations

import argparse
import errno
import os
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

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


#: Exit codes: 0 done, 1 some regions failed / the dataset has problems, 2 an error the user
#: can fix (bad input, a path that cannot be written), 3 an unexpected error (a bug; see the log),
#: 130 interrupted.
EXIT_USER_ERROR, EXIT_BUG, EXIT_INTERRUPTED = 2, 3, 130
LOG_DIR_ENV = "KOMPETENSPROGNOS_LOG_DIR"

_OS_FIXES = {
    errno.ENOSPC: "the disk is full — free some space or write somewhere else",
    errno.EDQUOT: "the disk quota is used up — free some space or write somewhere else",
    errno.EACCES: "permission denied — check the path and its permissions",
    errno.EPERM: "operation not permitted — check the path and its permissions",
    errno.EROFS: "the file system is read-only — write somewhere else",
    errno.ENOENT: "no such file or folder — check the path",
    errno.EISDIR: "it is a folder, not a file — check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder — check the path",
}


def log_dir() -> Path:
    """Where full logs of unexpected errors go: ``$KOMPETENSPROGNOS_LOG_DIR`` or the temp folder."""
    return Path(os.environ.get(LOG_DIR_ENV) or Path(tempfile.gettempdir()) / "kompetensprognos")


def _write_log(exc: BaseException, argv: Sequence[str] | None) -> Path | None:
    try:
        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        path.write_text(
            f"kompetensprognos {__version__}, Python {platform.python_version()}, "
            f"{platform.platform()}\ncommand: kompetensprognos "
            f"{' '.join(sys.argv[1:] if argv is None else argv)}\n\n"
            + "".join(traceback.format_exception(exc)),
            encoding="utf-8",
        )
        return path
    except OSError:
        return None


def _os_message(exc: OSError) -> str:
    where = " → ".join(str(f) for f in (exc.filename, exc.filename2) if f)
    fix = _OS_FIXES.get(exc.errno or 0, exc.strerror or str(exc))
    return f"{where + ': ' if where else ''}{fix} ([Errno {exc.errno}] {exc.strerror})"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return the process exit code.

    No traceback reaches the user. Errors the user can fix
    (:class:`~kompetensprognos.errors.KompetensprognosError`) and failures of the file system
    (a full disk, a folder without write permission) are printed as one message, exit code 2.
    Anything else is a bug: a short message names the log file holding the full traceback
    (:func:`log_dir`), exit code 3. An interrupt gives exit code 130.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KompetensprognosError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:
        print(f"error: {_os_message(exc)}", file=sys.stderr)
        return EXIT_USER_ERROR
    except Exception as exc:
        log = _write_log(exc, argv)
        where = f"the full log is in {log}" if log else "no log could be written"
        print(
            f"error: unexpected {type(exc).__name__}: {str(exc)[:300]}\n"
            f"This is a bug or a case kompetensprognos does not handle yet; {where} — "
            "please attach it when you report the problem.",
            file=sys.stderr,
        )
        return EXIT_BUG


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

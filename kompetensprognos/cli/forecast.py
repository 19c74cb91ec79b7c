"""``kompetensprognos forecast`` and ``kompetensprognos backtest`` for any yearly panel."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.evaluation import backtest, summarise, to_backtest_table
from kompetensprognos.forecasting import Forecaster
from kompetensprognos.hierarchy import backtest_keyed, forecast_keyed, validate_keyed
from kompetensprognos.models import DEFAULT_METHOD, MODELS, parse_method
from kompetensprognos.panel import read_panel

__all__ = ["register", "write_csv_atomic"]

_METHODS_HELP = (
    f"'auto' (default: {DEFAULT_METHOD}), one of {', '.join(MODELS)}, or a combination "
    "such as 'median(ets,dotheta,ces,global)' or 'mean(ets,damped)'"
)
_INPUT_HELP = (
    "CSV with columns unique_id, ds, y: unique_id is read as text (leading zeros such as "
    "'0114' are kept), ds is an integer year, y a number. With --keys the key columns replace "
    "unique_id. Every series needs at least 3 consecutive years; all problems are reported at "
    "once."
)


def _parse_keys(args: argparse.Namespace) -> list[str] | None:
    if args.keys is None:
        if args.ssyk is not None or args.breaks or getattr(args, "all_levels", False):
            raise KompetensprognosError(
                "--ssyk, --break and --all-levels work on a keyed panel; add --keys "
                "(e.g. --keys region,ssyk) naming the key columns of the input"
            )
        return None
    keys = [k.strip() for k in args.keys.split(",") if k.strip()]
    if not keys:
        raise KompetensprognosError("--keys needs column names such as region,ssyk")
    return keys


def _read_keyed(path: str, keys: list[str], ssyk: str | None) -> pd.DataFrame:
    p = Path(path)
    if not p.is_file():
        raise KompetensprognosError(
            f"{p}: file not found; give a CSV with columns {', '.join(keys)}, ds, y"
        )
    try:
        raw = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise KompetensprognosError(f"{p}: not a readable CSV file ({exc})") from exc
    return validate_keyed(raw, keys, ssyk=ssyk, source=str(p), first_row=2)


def _run_forecast_keyed(args: argparse.Namespace, keys: list[str]) -> int:
    if args.parents is not None:
        raise KompetensprognosError(
            "--parents is not needed with --keys: each series' parent comes from the hierarchy"
        )
    data = _read_keyed(args.input, keys, args.ssyk)
    res = forecast_keyed(
        data,
        keys,
        ssyk=args.ssyk,
        horizon=args.horizon,
        method=args.method,
        levels=tuple(args.level),
        breaks=args.breaks,
        all_levels=args.all_levels,
        reconciliation=args.reconciliation,
        calibration_origins=args.calibration_origins,
        progress=_progress(args),
        validated=True,
    )
    write_csv_atomic(res.forecast, args.output)
    written = [str(args.output)]
    if args.breaks:
        bpath = Path(args.output).with_name(Path(args.output).stem + "_break_factors.csv")
        write_csv_atomic(res.break_factors, bpath)
        written.append(str(bpath))
    if not args.quiet:
        n = len(res.hierarchy.series)
        print(
            f"wrote {len(res.forecast)} rows to {', '.join(written)} ({n} series in the "
            f"hierarchy, {res.hierarchy.n_bottom} bottom; method {res.method}; reconciled "
            f"with {args.reconciliation})",
            file=sys.stderr,
        )
        for b, f in res.break_factors.groupby("break_year"):
            q = f["factor"].quantile([0.1, 0.5, 0.9]).round(3).tolist()
            print(
                f"break {b}: history before it scaled by factors (10/50/90 %) {q}",
                file=sys.stderr,
            )
    return 0


def write_csv_atomic(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a CSV via a temporary file in the same folder, then rename it into place.

    A crash or interrupt never leaves a half-written file at ``path``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table to write (without its index).
    path : str or pathlib.Path
        Destination; its folder is created if needed.

    Returns
    -------
    pathlib.Path
        The written path.

    Examples
    --------
    >>> write_csv_atomic(pd.DataFrame({"a": [1]}), "out/a.csv")  # doctest: +SKIP
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            frame.to_csv(fh, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _read_parents(path: str | None) -> Mapping[str, str] | None:
    if path is None:
        return None
    p = Path(path)
    if not p.is_file():
        raise KompetensprognosError(f"{p}: parents file not found")
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    if not {"unique_id", "parent"} <= set(raw.columns):
        raise KompetensprognosError(
            f"{p}: a parents file needs the columns unique_id and parent (found "
            f"{', '.join(raw.columns)})"
        )
    return dict(zip(raw["unique_id"], raw["parent"], strict=True))


def _check_common(args: argparse.Namespace) -> None:
    if args.horizon < 1:
        raise KompetensprognosError(f"--horizon must be at least 1 (got {args.horizon})")
    bad = [lv for lv in args.level if not 0 < lv < 100]
    if bad:
        raise KompetensprognosError(f"--level values must lie between 0 and 100 (got {bad})")


#: Methods that choose among the candidates on the data (only with --keys).
_SELECT = ("select", "select_by_level")


def _nonnegative(value: str) -> bool | None:
    return {"auto": None, "on": True, "off": False}[value]


def _run_forecast(args: argparse.Namespace) -> int:
    _check_common(args)
    keys = _parse_keys(args)
    selecting = args.method.strip().lower() in _SELECT
    if not selecting:
        parse_method(args.method)
    if keys is not None:
        return _run_forecast_keyed(args, keys)
    if selecting:
        raise KompetensprognosError(
            f"--method {args.method} needs --keys (it chooses on the hierarchy's levels)"
        )
    panel = read_panel(args.input)
    model = Forecaster(
        horizon=args.horizon,
        method=args.method,
        levels=tuple(args.level),
        nonnegative=_nonnegative(args.nonnegative),
        calibration_origins=args.calibration_origins,
        parents=_read_parents(args.parents),
        progress=_progress(args),
    ).fit(panel)
    out = model.predict()
    write_csv_atomic(out, args.output)
    if not args.quiet:
        n_series = out["unique_id"].nunique()
        print(
            f"wrote {len(out)} rows ({n_series} series × {args.horizon} years) to {args.output}",
            file=sys.stderr,
        )
        for name, ids in model.fallbacks_.items():
            shown = ", ".join(ids[:5]) + (f" (+{len(ids) - 5} more)" if len(ids) > 5 else "")
            print(
                f"note: {len(ids)} series too short for {name}, used the short-series "
                f"fallback (mean of naive and drift): {shown}",
                file=sys.stderr,
            )
    return 0


def _run_backtest_keyed(args: argparse.Namespace, keys: list[str]) -> int:
    data = _read_keyed(args.input, keys, args.ssyk)
    years = sorted(data["ds"].unique())
    last = int(years[-1])
    # origins leave the full horizon where the data allow it, at least one test year
    origins = [o for o in range(last - args.horizon - args.origins + 1, last) if o >= years[2]]
    origins = origins[: args.origins] if len(origins) >= args.origins else origins
    detail = backtest_keyed(
        data,
        keys,
        ssyk=args.ssyk,
        methods=args.method,
        horizon=args.horizon,
        origins=origins,
        levels=tuple(args.level),
        breaks=args.breaks,
        reconciliation=args.reconciliation,
        progress=_progress(args),
    )
    out = Path(args.output)
    levels = tuple(args.level)
    write_csv_atomic(
        summarise(detail, levels, by=("model", "level", "horizon")), out / "summary.csv"
    )
    overall = summarise(detail, levels, by=("model",))
    write_csv_atomic(overall, out / "overall.csv")
    write_csv_atomic(detail, out / "detail.csv")
    if not args.quiet:
        print(
            f"wrote summary.csv, overall.csv, detail.csv to {out} (origins "
            f"{', '.join(map(str, origins))})",
            file=sys.stderr,
        )
        cols = ["model", "mase", "smape", "direction_accuracy"] + [
            c for c in overall.columns if c.startswith("coverage")
        ]
        print(overall[cols].round(3).to_string(index=False), file=sys.stderr)
    return 0


def _run_backtest(args: argparse.Namespace) -> int:
    _check_common(args)
    keys = _parse_keys(args)
    for m in args.method:
        if m.strip().lower() not in _SELECT or keys is None:
            parse_method(m)
    if args.origins < 1:
        raise KompetensprognosError(f"--origins must be at least 1 (got {args.origins})")
    if keys is not None:
        return _run_backtest_keyed(args, keys)
    panel = read_panel(args.input)
    res = backtest(
        panel,
        args.method,
        h=args.horizon,
        n_origins=args.origins,
        levels=tuple(args.level),
        calibration_origins=args.calibration_origins,
        nonnegative=_nonnegative(args.nonnegative),
        parents=_read_parents(args.parents),
        progress=_progress(args),
    )
    out = Path(args.output)
    write_csv_atomic(res.summary, out / "summary.csv")
    write_csv_atomic(res.overall, out / "overall.csv")
    write_csv_atomic(res.detail, out / "detail.csv")
    written = ["summary.csv", "overall.csv", "detail.csv"]
    if args.region is not None:
        write_csv_atomic(to_backtest_table(res.summary, args.region), out / "backtest.csv")
        written.append("backtest.csv")
    if not args.quiet:
        print(f"wrote {', '.join(written)} to {out}", file=sys.stderr)
        cols = ["model", "mase", "smape", "direction_accuracy"] + [
            c for c in res.overall.columns if c.startswith("coverage")
        ]
        print(res.overall[cols].round(3).to_string(index=False), file=sys.stderr)
    return 0


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", "-i", required=True, metavar="CSV", help=_INPUT_HELP)
    p.add_argument(
        "--horizon",
        type=int,
        default=6,
        metavar="H",
        help="years ahead to forecast, 1..H (default: 6)",
    )
    p.add_argument(
        "--level",
        type=float,
        nargs="+",
        default=[80.0, 95.0],
        metavar="PCT",
        help="prediction-interval levels in percent (default: 80 95)",
    )
    p.add_argument(
        "--nonnegative",
        choices=["auto", "on", "off"],
        default="auto",
        help="clip forecasts and bounds at zero; 'auto' (default) clips when every "
        "value in the input is >= 0, as for employment counts",
    )
    p.add_argument(
        "--calibration-origins",
        type=int,
        default=None,
        metavar="N",
        help="earlier origins used to calibrate intervals (default: the horizon)",
    )
    p.add_argument(
        "--parents",
        metavar="CSV",
        help="optional CSV unique_id,parent mapping each series to a parent series "
        "(in the panel, or else the sum of its children) for method 'parent'",
    )
    p.add_argument(
        "--keys",
        metavar="COLS",
        help="comma-separated key columns of a cross-classified panel (e.g. region,ssyk) used "
        "instead of unique_id: every aggregate (each key, their crossings, the total) is "
        "forecast and the forecasts are reconciled non-negatively",
    )
    p.add_argument(
        "--ssyk",
        metavar="COL",
        help="key column holding SSYK codes (text, one level): also builds the code tree "
        "4 → 3 → 2 → 1 → total",
    )
    p.add_argument(
        "--break",
        dest="breaks",
        type=int,
        action="append",
        default=[],
        metavar="YEAR",
        help="first year on a new data basis (repeatable, e.g. --break 2023): level shifts are "
        "estimated from the data (per SSYK code with --ssyk) and history is rescaled to the "
        "latest basis before fitting",
    )
    p.add_argument(
        "--reconciliation",
        choices=["mint_wls_struct", "mint_ols", "bottom_up", "none"],
        default="mint_wls_struct",
        help="how keyed forecasts are made coherent (default: non-negative sparse MinTrace "
        "with structural weights)",
    )
    p.add_argument(
        "--quiet", "-q", action="store_true", help="no progress bar or summary on stderr"
    )


def register(sub: argparse._SubParsersAction) -> None:
    """Register the ``forecast`` and ``backtest`` commands."""
    p = sub.add_parser(
        "forecast",
        help="Forecast a yearly panel with calibrated prediction intervals.",
        description=(
            "Forecast every series of a yearly panel for horizons 1..H. Intervals are "
            "calibrated on the panel's own rolling-origin errors (not model-based), and "
            "forecasts of non-negative data never go below zero. Output columns: unique_id, ds, "
            "forecast, lo80, hi80, lo95, hi95 (one lo/hi pair per --level)."
        ),
        epilog="examples: kompetensprognos forecast --input panel.csv --horizon 6 "
        "--output forecasts.csv\n"
        "  kompetensprognos forecast --input regions.csv --keys region,ssyk --ssyk ssyk "
        "--break 2023 --all-levels --output forecasts.csv",
    )
    _add_common(p)
    p.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="CSV",
        help="where to write the forecasts (written atomically)",
    )
    p.add_argument(
        "--method",
        "-m",
        default="auto",
        help=_METHODS_HELP + "; with --keys also 'select' (one method chosen by rolling origins "
        "inside the data among the pooling candidates) and 'select_by_level' (one per level)",
    )
    p.add_argument(
        "--all-levels",
        action="store_true",
        help="with --keys: write every level of the hierarchy with a level column (default: "
        "the bottom level only)",
    )
    p.set_defaults(func=_run_forecast)

    b = sub.add_parser(
        "backtest",
        help="Rolling-origin backtest of forecasting methods against naive and drift.",
        description=(
            "Re-forecast the panel from earlier years and score the forecasts: MASE, sMAPE, "
            "RMSSE, direction of change, interval coverage and width, per model and horizon. "
            "Naive and drift baselines are always included. Writes summary.csv (model × "
            "horizon), overall.csv (per model), detail.csv (series × origin × horizon) and, "
            "with --region, backtest.csv for the regional reports."
        ),
        epilog="example: kompetensprognos backtest --input panel.csv --horizon 6 --output bt/",
    )
    _add_common(b)
    b.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="DIR",
        help="folder for the metric tables (created if needed)",
    )
    b.add_argument(
        "--method",
        "-m",
        nargs="+",
        default=["auto"],
        metavar="METHOD",
        help="methods to test: " + _METHODS_HELP,
    )
    b.add_argument(
        "--origins",
        type=int,
        default=3,
        metavar="N",
        help="origins at which the longest horizon is scored (default: 3)",
    )
    b.add_argument(
        "--region",
        default=None,
        help="also write backtest.csv with this value in its region column",
    )
    b.set_defaults(func=_run_backtest)

"""Reading and validating yearly panels in long format (``unique_id``, ``ds``, ``y``).

One module is shared by the forecasting API and the CLI so both reject the same inputs with the
same messages. Validation collects *every* problem before raising
:class:`~kompetensprognos.errors.DataValidationError`; nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos.errors import DataValidationError, KompetensprognosError, Problem

__all__ = ["DEFAULT_CHUNK_SIZE", "PANEL_COLUMNS", "read_panel", "split_panel", "validate_panel"]

DEFAULT_CHUNK_SIZE = 4000
"""Series per chunk when an executor is given without a chunk size."""

PANEL_COLUMNS: tuple[str, str, str] = ("unique_id", "ds", "y")
_MAX_SHOWN = 5


def _rows(mask: pd.Series | np.ndarray, row_numbers: np.ndarray) -> tuple[int, ...]:
    return tuple(int(r) for r in row_numbers[np.asarray(mask, dtype=bool)])


def _values(values: Iterable[object]) -> tuple[str, ...]:
    return tuple(str(v) for v in list(values)[:_MAX_SHOWN])


def _series_list(ids: Iterable[str]) -> str:
    ids = list(ids)
    shown = ", ".join(repr(i) for i in ids[:_MAX_SHOWN])
    return shown + (f" (+{len(ids) - _MAX_SHOWN} more)" if len(ids) > _MAX_SHOWN else "")


def validate_panel(
    df: pd.DataFrame,
    *,
    source: str = "panel",
    min_points: int = 3,
    first_row: int = 1,
) -> pd.DataFrame:
    """Check a long-format yearly panel and return a clean, sorted copy.

    Parameters
    ----------
    df : pandas.DataFrame
        Columns ``unique_id`` (series key, kept as text), ``ds`` (integer year) and ``y`` (value).
        Extra columns are ignored.
    source : str, default "panel"
        Name used in messages (the file name when read by :func:`read_panel`).
    min_points : int, default 3
        Fewest observations a series may have.
    first_row : int, default 1
        Number reported for the first data row: 1 for an in-memory frame (row positions
        counted from 1); :func:`read_panel` passes 2, the file line after the header.

    Returns
    -------
    pandas.DataFrame
        Columns ``unique_id`` (str), ``ds`` (int64), ``y`` (float64) sorted by series and year.

    Raises
    ------
    DataValidationError
        With one :class:`~kompetensprognos.errors.Problem` per failure: missing columns, empty
        keys, non-integer years, non-numeric/missing/infinite values, duplicate
        ``(unique_id, ds)`` pairs, gaps in the years of a series, too-short series.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"unique_id": ["0114"] * 3, "ds": [2022, 2023, 2024], "y": [5, 6, 7]})
    >>> validate_panel(raw).dtypes.tolist()
    [dtype('O'), dtype('int64'), dtype('float64')]
    """
    missing = [c for c in PANEL_COLUMNS if c not in df.columns]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    source,
                    None,
                    f"missing column(s) {', '.join(missing)}; a panel needs the columns "
                    "unique_id, ds (integer year) and y (numeric value)",
                    values=_values(df.columns),
                )
            ]
        )
    problems: list[Problem] = []
    rows = np.arange(first_row, first_row + len(df))
    raw = df.loc[:, list(PANEL_COLUMNS)].reset_index(drop=True)

    uid = raw["unique_id"].astype("string").str.strip()
    bad_uid = uid.isna() | (uid == "")
    if bad_uid.any():
        problems.append(
            Problem(
                source,
                "unique_id",
                "empty series key; give every row a unique_id",
                rows=_rows(bad_uid, rows),
            )
        )

    ds_num = pd.to_numeric(raw["ds"], errors="coerce")
    bad_ds = ds_num.isna() | ~np.isfinite(ds_num.astype(float)) | (ds_num.astype(float) % 1 != 0)
    if bad_ds.any():
        problems.append(
            Problem(
                source,
                "ds",
                "year is not a whole number; write years such as 2014",
                rows=_rows(bad_ds, rows),
                values=_values(raw.loc[bad_ds, "ds"]),
            )
        )

    y_num = pd.to_numeric(raw["y"], errors="coerce")
    y_missing = raw["y"].isna()
    if not pd.api.types.is_numeric_dtype(raw["y"]):  # numbers are never blank text
        y_missing = y_missing | (raw["y"].astype("string").str.strip() == "")
    y_text = y_num.isna() & ~y_missing
    if y_missing.any():
        problems.append(
            Problem(
                source,
                "y",
                "missing value; fill it in or remove the year from the series "
                "(gaps are not allowed either, so fix the source)",
                rows=_rows(y_missing, rows),
            )
        )
    if y_text.any():
        problems.append(
            Problem(
                source,
                "y",
                "value is not a number; use plain numbers with '.' as decimal "
                "point and no thousands separator",
                rows=_rows(y_text, rows),
                values=_values(raw.loc[y_text, "y"]),
            )
        )
    y_inf = y_num.notna() & ~np.isfinite(y_num.astype(float))
    if y_inf.any():
        problems.append(
            Problem(
                source,
                "y",
                "value is infinite",
                rows=_rows(y_inf, rows),
                values=_values(raw.loc[y_inf, "y"]),
            )
        )

    clean = pd.DataFrame({"unique_id": uid, "ds": ds_num, "y": y_num, "_row": rows})
    keyed = clean[~bad_uid & ~bad_ds]
    dup = keyed.duplicated(["unique_id", "ds"], keep=False)
    if dup.any():
        pairs = keyed.loc[dup, ["unique_id", "ds"]].drop_duplicates()
        problems.append(
            Problem(
                source,
                None,
                "duplicate (unique_id, ds) pairs; keep one row per series and year",
                rows=tuple(int(r) for r in keyed.loc[dup, "_row"]),
                values=_values(f"{u}/{int(d)}" for u, d in pairs.itertuples(index=False)),
            )
        )
    if len(keyed):
        g = keyed.drop_duplicates(["unique_id", "ds"]).groupby("unique_id", sort=True)["ds"]
        counts = g.size()
        span = g.max() - g.min() + 1
        gappy = counts.index[(span != counts).to_numpy()]
        for sid in gappy:
            years = set(keyed.loc[keyed["unique_id"] == sid, "ds"].astype(int))
            lo, hi = min(years), max(years)
            holes = [y for y in range(lo, hi + 1) if y not in years]
            problems.append(
                Problem(
                    source,
                    "ds",
                    f"series {sid!r} has gaps in its years (missing "
                    f"{', '.join(map(str, holes[:_MAX_SHOWN]))}"
                    f"{' …' if len(holes) > _MAX_SHOWN else ''}); "
                    "add the missing years — a forecast needs consecutive yearly values",
                )
            )
        short = counts[counts < min_points]
        if len(short):
            problems.append(
                Problem(
                    source,
                    "unique_id",
                    f"{len(short)} series have fewer than {min_points} "
                    f"points: {_series_list(short.index)} "
                    f"(points: {', '.join(str(int(n)) for n in short.to_numpy()[:_MAX_SHOWN])}); "
                    "add years or remove these series",
                )
            )
    if problems:
        raise DataValidationError(problems)
    out = clean.drop(columns="_row").astype({"unique_id": object, "ds": "int64", "y": "float64"})
    out["unique_id"] = out["unique_id"].astype(str)
    return out.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)


def read_panel(path: str | Path, *, min_points: int = 3) -> pd.DataFrame:
    """Read a panel CSV (``unique_id, ds, y``) and validate it.

    ``unique_id`` is read as text, so codes such as ``"0114"`` keep their leading zeros.

    Parameters
    ----------
    path : str or pathlib.Path
        CSV file with a header row.
    min_points : int, default 3
        Fewest observations a series may have.

    Returns
    -------
    pandas.DataFrame
        The validated panel (see :func:`validate_panel`).

    Raises
    ------
    KompetensprognosError
        If the file is missing or not readable as CSV.
    DataValidationError
        If any row or series fails validation (all problems listed).

    Examples
    --------
    >>> panel = read_panel("panel.csv")  # doctest: +SKIP
    """
    path = Path(path)
    if not path.is_file():
        raise KompetensprognosError(
            f"{path}: file not found; give a CSV with columns unique_id, ds, y"
        )
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise KompetensprognosError(f"{path}: not a readable CSV file ({exc})") from exc
    return validate_panel(raw, source=str(path), min_points=min_points, first_row=2)


def split_panel(
    df: pd.DataFrame, *, chunk_size: int | None = None, n_chunks: int | None = None
) -> list[pd.DataFrame]:
    """Split a panel into chunks of whole series, in sorted ``unique_id`` order.

    Parameters
    ----------
    df : pandas.DataFrame
        Long panel ``unique_id, ds, y``.
    chunk_size : int, optional
        Series per chunk (the last chunk may be smaller).
    n_chunks : int, optional
        Number of chunks of (nearly) equal size, used when ``chunk_size`` is not given. With
        neither, one chunk.

    Returns
    -------
    list[pandas.DataFrame]
        Validated, sorted sub-panels; concatenated they give the validated panel.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": list("aabbcc"), "ds": [1, 2] * 3, "y": range(6)})
    >>> [c["unique_id"].unique().tolist() for c in split_panel(df, chunk_size=2)]
    [['a', 'b'], ['c']]
    """
    return split_sorted(validate_panel(df, min_points=1), chunk_size, n_chunks)


def split_sorted(
    panel: pd.DataFrame, chunk_size: int | None, n_chunks: int | None
) -> list[pd.DataFrame]:
    """Split an already validated, sorted panel (see :func:`split_panel`)."""
    uid = panel["unique_id"].to_numpy()
    starts = np.flatnonzero(np.r_[True, uid[1:] != uid[:-1]])
    n_series = len(starts)
    if chunk_size is not None:
        if chunk_size < 1:
            raise KompetensprognosError(f"chunk_size must be at least 1 (got {chunk_size})")
        cuts = starts[::chunk_size]
    elif n_chunks is not None:
        if n_chunks < 1:
            raise KompetensprognosError(f"n_chunks must be at least 1 (got {n_chunks})")
        first = [int(p[0]) for p in np.array_split(np.arange(n_series), n_chunks) if len(p)]
        cuts = starts[first]
    else:
        cuts = starts[:1]
    bounds = [*cuts.tolist(), len(panel)]
    return [
        panel.iloc[a:b].reset_index(drop=True) for a, b in zip(bounds, bounds[1:], strict=False)
    ]

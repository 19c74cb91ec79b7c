"""Dataset folders: one CSV per contract table plus ``manifest.json``, read and written.

A dataset folder holds one CSV per table (``employment.csv``, ``employment_age.csv``,
``population.csv``, ``education_output.csv``, ``crosswalk.csv``, ``yrkesbarometer.csv``; only
``employment.csv`` is required) and ``manifest.json`` (source, vintage, known series breaks).
:func:`load_dataset` reads and validates everything and reports every problem at once;
:func:`write_dataset` writes atomically, so a failed write never leaves a folder that looks complete.
The in-memory :class:`Dataset` and its manifest live in :mod:`kompetensprognos.datamodel` and are
re-exported here.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from kompetensprognos.datamodel import (
    MANIFEST_FILE,
    SYNTHETIC_LABEL,
    Dataset,
    Manifest,
    SeriesBreak,
    break_notes,
    break_years,
    check_across,
)
from kompetensprognos.errors import DataValidationError, KompetensprognosError, Problem
from kompetensprognos.files import atomic_directory
from kompetensprognos.schemas import TABLES, table_notes, validate_table

__all__ = [
    "MANIFEST_FILE",
    "SYNTHETIC_LABEL",
    "Dataset",
    "DatasetCheck",
    "Manifest",
    "SeriesBreak",
    "check_dataset",
    "load_dataset",
    "read_manifest",
    "validate_dataset",
    "write_dataset",
]


@dataclass
class DatasetCheck:
    """What :func:`check_dataset` found: problems (the dataset is unusable) and notes (it is not).

    Attributes
    ----------
    problems : list[Problem]
        Every problem; the dataset is valid only when this is empty.
    notes : list[Problem]
        Things worth knowing that are accepted, e.g. fractional counts (see ``docs/data.md``).
    """

    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems


def read_manifest(directory: str | os.PathLike[str]) -> Manifest:
    """Read and validate ``manifest.json`` of a dataset folder."""
    path = Path(directory) / MANIFEST_FILE
    if not path.exists():
        raise DataValidationError(
            [
                Problem(
                    str(path),
                    None,
                    "missing manifest.json — every dataset folder needs one (see docs/data.md)",
                )
            ]
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataValidationError([Problem(str(path), None, _not_utf8(exc))]) from None
    except OSError as exc:
        raise DataValidationError(
            [Problem(str(path), None, f"cannot read the file: {exc.strerror}")]
        ) from None
    try:
        return Manifest.model_validate_json(text)
    except ValidationError as exc:
        raise DataValidationError(
            [
                Problem(str(path), ".".join(map(str, e["loc"])) or None, e["msg"])
                for e in exc.errors()
            ]
        ) from None


def _not_utf8(exc: UnicodeDecodeError) -> str:
    """Say that a file is not UTF-8, where, and how to fix it."""
    bad = exc.object[exc.start : exc.start + 1]
    guess = bad.decode("cp1252", errors="replace")
    return (
        f"the file is not UTF-8 (byte 0x{bad.hex()} at position {exc.start}, "
        f"{guess!r} in Windows-1252/Latin-1) — save it as UTF-8 "
        "(Excel: Save as → 'CSV UTF-8'; an editor: Save with encoding → UTF-8)"
    )


def _read_csv(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(str(path), None, _not_utf8(exc))]
    except pd.errors.EmptyDataError:
        return None, [
            Problem(
                str(path),
                None,
                "the file is empty (not even a header row) — write the header and the data, or "
                "delete the file if the dataset does not have this table",
            )
        ]
    except (pd.errors.ParserError, OSError) as exc:
        return None, [Problem(str(path), None, f"cannot read the file as a CSV table: {exc}")]
    if len(raw.columns) == 1 and ";" in str(raw.columns[0]):
        return None, [
            Problem(
                str(path),
                None,
                "the columns are separated by ';' — save the file comma-separated "
                "(Excel: Save as → 'CSV UTF-8 (comma delimited)')",
                values=(str(raw.columns[0])[:60],),
            )
        ]
    return raw, []


def _read_tables(
    directory: Path, manifest: Manifest | None = None
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    tables: dict[str, pd.DataFrame] = {}
    problems: list[Problem] = []
    known = {f"{n}.csv" for n in TABLES} | {MANIFEST_FILE}
    for extra in sorted(p.name for p in directory.iterdir() if p.is_file() and p.suffix == ".csv"):
        if extra not in known:
            problems.append(
                Problem(
                    str(directory / extra),
                    None,
                    f"unknown table file — expected one of {', '.join(sorted(known))}",
                )
            )
    for name, spec in TABLES.items():
        path = directory / f"{name}.csv"
        if not path.exists():
            if spec.required:
                problems.append(Problem(str(path), None, f"missing required table {name}.csv"))
            continue
        raw, p = _read_csv(path)
        problems += p
        if raw is None:
            continue
        typed, p = validate_table(
            raw, name, file=str(path), break_years=break_years(manifest, name)
        )
        problems += p
        tables[name] = typed
    if not problems and manifest is not None:
        across = check_across(tables, manifest, str(directory / MANIFEST_FILE))
        problems += [  # name the files as the user sees them
            replace(p, file=str(directory / p.file)) if p.file.endswith(".csv") else p
            for p in across
        ]
    return tables, problems


def validate_dataset(directory: str | os.PathLike[str]) -> list[Problem]:
    """Check a dataset folder and return every problem found (empty when it is valid).

    Examples
    --------
    >>> import tempfile
    >>> from kompetensprognos.synthetic import generate_demo
    >>> with tempfile.TemporaryDirectory() as d:  # doctest: +SKIP
    ...     _ = write_dataset(generate_demo(), d, overwrite=True)
    ...     validate_dataset(d)
    []
    """
    return check_dataset(directory).problems


def check_dataset(directory: str | os.PathLike[str]) -> DatasetCheck:
    """Check a dataset folder: every problem, plus notes on what is accepted but unusual.

    Returns
    -------
    DatasetCheck
        ``problems`` (empty when the dataset is valid) and ``notes`` (e.g. fractional counts).
    """
    directory = Path(directory)
    if not directory.is_dir():
        return DatasetCheck(
            [Problem(str(directory), None, "not a dataset folder (it does not exist or is a file)")]
        )
    problems: list[Problem] = []
    manifest = None
    try:
        manifest = read_manifest(directory)
    except DataValidationError as exc:
        problems += exc.problems
    tables, p = _read_tables(directory, manifest)
    problems += p
    notes = [] if problems or manifest is None else _notes(tables, manifest, directory)
    return DatasetCheck(problems, notes)


def _notes(tables: dict[str, pd.DataFrame], manifest: Manifest, directory: Path) -> list[Problem]:
    return break_notes(tables, manifest, str(directory / MANIFEST_FILE)) + [
        n
        for name, t in tables.items()
        for n in table_notes(t, name, file=str(directory / f"{name}.csv"))
    ]


def load_dataset(source: str | os.PathLike[str] | Dataset = "demo") -> Dataset:
    """Load and validate a dataset.

    Parameters
    ----------
    source : str, path or Dataset
        ``"demo"`` for the bundled synthetic dataset (generated in memory, deterministic), a
        dataset folder, or a :class:`Dataset` (returned as is).

    Returns
    -------
    Dataset

    Raises
    ------
    DataValidationError
        Listing every problem in every file, with file, column, line, value and the fix.

    Examples
    --------
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> ds.manifest.synthetic  # doctest: +SKIP
    True
    """
    if isinstance(source, Dataset):
        return source
    if str(source) == "demo":
        from kompetensprognos.synthetic import generate_demo

        return generate_demo()
    directory = Path(source)
    if not directory.is_dir():
        raise KompetensprognosError(
            f"dataset folder {directory} does not exist — give a folder written by "
            "`kompetensprognos data demo` / `data fetch`, or use 'demo'"
        )
    problems: list[Problem] = []
    manifest = None
    try:
        manifest = read_manifest(directory)
    except DataValidationError as exc:
        problems += exc.problems
    tables, p = _read_tables(directory, manifest)
    problems += p
    if problems or manifest is None:
        raise DataValidationError(problems)
    return Dataset(manifest=manifest, **tables)


def _whole_numbers_as_int(table: pd.DataFrame) -> pd.DataFrame:
    """Write counts such as 12.0 as 12 (nullable integers keep empty cells empty)."""
    out = table.copy()
    for col in out.select_dtypes("float").columns:
        values = out[col].dropna()
        if (values % 1 == 0).all():
            out[col] = out[col].astype("Int64")
    return out


def write_dataset(
    dataset: Dataset, directory: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write a dataset folder atomically: into a temporary sibling folder, then renamed.

    Parameters
    ----------
    dataset : Dataset
    directory : path
        Target folder. It must not exist unless ``overwrite`` is true.
    overwrite : bool
        Replace an existing folder (only after the new one is completely written).

    Returns
    -------
    pathlib.Path
        The folder written.
    """
    target = Path(directory)
    if target.exists() and not overwrite:
        raise KompetensprognosError(
            f"{target} already exists — pass overwrite=True (CLI: --force) to replace it"
        )
    with atomic_directory(target) as tmp:
        for name, table in dataset.tables().items():
            _whole_numbers_as_int(table).to_csv(
                tmp / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n"
            )
        (tmp / MANIFEST_FILE).write_text(
            json.dumps(dataset.manifest.model_dump(), ensure_ascii=False, indent=2) + "\n",
            encoding="utf-8",
        )
    return target

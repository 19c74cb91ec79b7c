"""Datasets: a folder of contract tables plus a manifest, loaded into one typed object.

A dataset folder holds one CSV per table (``employment.csv``, ``employment_age.csv``,
``population.csv``, ``education_output.csv``, ``crosswalk.csv``, ``yrkesbarometer.csv``; only
``employment.csv`` is required) and ``manifest.json`` (source, vintage, known series breaks).
:func:`load_dataset` reads and validates everything and reports every problem at once;
:func:`write_dataset` writes atomically, so a failed write never leaves a folder that looks complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kompetensprognos import __version__
from kompetensprognos.errors import DataValidationError, KompetensprognosError, Problem
from kompetensprognos.files import atomic_directory
from kompetensprognos.schemas import TABLES, validate_table

__all__ = [
    "MANIFEST_FILE",
    "Dataset",
    "Manifest",
    "SeriesBreak",
    "load_dataset",
    "read_manifest",
    "validate_dataset",
    "write_dataset",
]

MANIFEST_FILE = "manifest.json"
SYNTHETIC_LABEL = "syntetiska demonstrationsdata"


class SeriesBreak(BaseModel):
    """A known break in a source series, e.g. SCB's 2023 widening of the age range.

    Examples
    --------
    >>> SeriesBreak(year=2023, table="employment", description="age range 16-64 -> 16-69")
    SeriesBreak(year=2023, table='employment', description='age range 16-64 -> 16-69')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    year: int = Field(description="first year on the new basis")
    table: str = Field(description="contract table the break affects")
    description: str = ""


class Manifest(BaseModel):
    """Where a dataset comes from: source, vintage, breaks, and whether it is synthetic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    source: str
    vintage: str = Field(description="data vintage, e.g. the date the source was read")
    synthetic: bool = False
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    breaks: list[SeriesBreak] = Field(default_factory=list)
    notes: str = ""
    package_version: str = __version__

    @property
    def label(self) -> str:
        """A short Swedish label for reports: synthetic data are always named as such."""
        return SYNTHETIC_LABEL if self.synthetic else f"{self.source} ({self.vintage})"


@dataclass
class Dataset:
    """All contract tables of one dataset, validated and typed.

    Attributes
    ----------
    manifest : Manifest
    employment : pandas.DataFrame
        Always present.
    employment_age, population, education_output, crosswalk, yrkesbarometer : pandas.DataFrame | None
        ``None`` when the dataset does not have the table.
    population_education, education_flows, labour_status, graduate_destinations : pandas.DataFrame | None
        The education-group stock–flow tables of the supply model (``docs/supply.md``).
    crosswalk_entrants : pandas.DataFrame | None
        Education → occupation shares among *recent entrants* (the balance's crosswalk).
    imbalance_truth : pandas.DataFrame | None
        Synthetic data only: the generator's true openings and newcomers (for scoring calls).
    """

    manifest: Manifest
    employment: pd.DataFrame
    employment_age: pd.DataFrame | None = None
    population: pd.DataFrame | None = None
    education_output: pd.DataFrame | None = None
    crosswalk: pd.DataFrame | None = None
    yrkesbarometer: pd.DataFrame | None = None
    population_education: pd.DataFrame | None = None
    education_flows: pd.DataFrame | None = None
    labour_status: pd.DataFrame | None = None
    graduate_destinations: pd.DataFrame | None = None
    crosswalk_entrants: pd.DataFrame | None = None
    imbalance_truth: pd.DataFrame | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The tables that are present, by contract name."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name in TABLES and getattr(self, f.name) is not None
        }

    def require(self, name: str) -> pd.DataFrame:
        """Return table ``name`` or raise a clear error saying the dataset lacks it."""
        table = getattr(self, name, None)
        if table is None:
            raise KompetensprognosError(
                f"dataset '{self.manifest.name}' has no {name} table ({name}.csv); "
                "this step needs it — add the file or use --data demo"
            )
        return table

    def fingerprint(self) -> str:
        """A short SHA-256 over every table's content, for reproducibility stamps."""
        h = hashlib.sha256()
        for name, table in sorted(self.tables().items()):
            h.update(name.encode())
            cols = sorted(table.columns)
            ordered = table[cols].sort_values(cols[: min(len(cols), 6)], kind="stable")
            h.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
        return h.hexdigest()[:16]

    def validate(self) -> Dataset:
        """Re-validate every table (e.g. after editing one in a notebook); returns self."""
        problems: list[Problem] = []
        for name, table in self.tables().items():
            typed, p = validate_table(table, name)
            problems += p
            setattr(self, name, typed)
        if problems:
            raise DataValidationError(problems)
        return self


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
        return Manifest.model_validate_json(path.read_text(encoding="utf-8"))
    except ValidationError as exc:
        raise DataValidationError(
            [
                Problem(str(path), ".".join(map(str, e["loc"])) or None, e["msg"])
                for e in exc.errors()
            ]
        ) from None


def _read_tables(directory: Path) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
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
        try:
            raw = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8"
            )
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            problems.append(Problem(str(path), None, f"cannot read the file as UTF-8 CSV: {exc}"))
            continue
        typed, p = validate_table(raw, name, file=str(path))
        problems += p
        tables[name] = typed
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
    directory = Path(directory)
    if not directory.is_dir():
        return [
            Problem(str(directory), None, "not a dataset folder (it does not exist or is a file)")
        ]
    problems: list[Problem] = []
    try:
        read_manifest(directory)
    except DataValidationError as exc:
        problems += exc.problems
    _, p = _read_tables(directory)
    return problems + p


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
    tables, p = _read_tables(directory)
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

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
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from kompetensprognos import __version__, regions
from kompetensprognos.errors import DataValidationError, KompetensprognosError, Problem
from kompetensprognos.files import atomic_directory
from kompetensprognos.schemas import TABLES, table_notes, validate_table

__all__ = [
    "MANIFEST_FILE",
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
            typed, p = validate_table(table, name, break_years=_break_years(self.manifest, name))
            problems += p
            setattr(self, name, typed)
        if not problems:
            problems += _check_across(self.tables(), self.manifest, MANIFEST_FILE)
        if problems:
            raise DataValidationError(problems)
        return self


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


def _break_years(manifest: Manifest | None, table: str) -> list[int]:
    return sorted({b.year for b in manifest.breaks if b.table == table}) if manifest else []


def _check_breaks(tables: dict[str, pd.DataFrame], manifest: Manifest, file: str) -> list[Problem]:
    """Declared series breaks must name a table of the dataset and fall inside its years."""
    problems = []
    for i, b in enumerate(manifest.breaks):
        where = f"breaks.{i}"
        if b.table not in TABLES:
            problems.append(
                Problem(
                    file,
                    f"{where}.table",
                    f"unknown table {b.table!r} — use one of {', '.join(TABLES)}",
                    values=(b.table,),
                )
            )
            continue
        table = tables.get(b.table)
        if table is None or "year" not in table.columns or not len(table):
            continue  # a note, not a problem: see _break_notes
        years = pd.to_numeric(table["year"], errors="coerce").dropna()
        first, last = int(years.min()), int(years.max())
        if not first < b.year <= last:
            problems.append(
                Problem(
                    file,
                    f"{where}.year",
                    f"series break at {b.year} is outside the years of {b.table}.csv "
                    f"({first}–{last}) — a break is the first year on a new basis, so it must lie "
                    f"after {first} and no later than {last}; correct the year or remove the break",
                    values=(str(b.year),),
                )
            )
    return problems


def _break_notes(tables: dict[str, pd.DataFrame], manifest: Manifest, file: str) -> list[Problem]:
    """Breaks declared for a table the dataset does not have (harmless: nothing to adjust)."""
    return [
        Problem(
            file,
            f"breaks.{i}.table",
            f"break declared for {b.table}, but the dataset has no {b.table}.csv — it is ignored "
            "(remove it from the manifest, or add the table)",
            values=(b.table,),
        )
        for i, b in enumerate(manifest.breaks)
        if b.table in TABLES and b.table not in tables
    ]


def _population_totals(population: pd.DataFrame) -> pd.Series:
    """Population per (region, year), all ages and sexes, with region ids and counties added.

    An aggregate (``skaraborg``, county ``14``) is added only for years where every member
    municipality is present, so a partial table never understates a region's population.
    """
    pop = population.groupby(["region", "year"])["population"].sum()
    munis = pop[pop.index.get_level_values("region").map(regions.is_municipality)]
    extra = {}
    sweden = regions.municipalities("sweden")
    groups = {rid: set(regions.members(rid)) for rid in regions.ALL_REGION_IDS}
    groups |= {c: set(g["code"]) for c, g in sweden.groupby("county")}
    present = set(munis.index.get_level_values("region"))
    for rid, members in groups.items():
        if rid in pop.index.get_level_values("region") or not members <= present:
            continue
        sel = munis[munis.index.get_level_values("region").isin(members)]
        counts = sel.groupby("year").size()
        totals = sel.groupby("year").sum()[counts == len(members)]
        for year, total in totals.items():
            extra[(rid, year)] = total
    if extra:
        pop = pd.concat([pop, pd.Series(extra, dtype=float).rename_axis(["region", "year"])])
    return pop


def _check_across(tables: dict[str, pd.DataFrame], manifest: Manifest, file: str) -> list[Problem]:
    """Checks that need two tables or the manifest: break years, employed vs population."""
    problems = _check_breaks(tables, manifest, file)
    population = tables.get("population")
    if population is None:
        return problems
    totals = _population_totals(population).rename("region_population")
    for name in ("employment", "employment_age"):
        table = tables.get(name)
        if table is None:
            continue
        joined = table.join(totals, on=["region", "year"])
        over = joined["employed"] > joined["region_population"]
        if over.any():
            rows = joined.index[over]
            problems.append(
                Problem(
                    f"{name}.csv",
                    "employed",
                    "more employed in one cell than the region's whole population that year "
                    "(population.csv) — check the unit and the region codes of both files",
                    tuple(int(i) + 2 for i in rows),
                    tuple(
                        f"region={joined.at[i, 'region']}, year={joined.at[i, 'year']}: "
                        f"{joined.at[i, 'employed']:g} employed > "
                        f"{joined.at[i, 'region_population']:g} inhabitants"
                        for i in rows[:5]
                    ),
                )
            )
    return problems


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
            raw, name, file=str(path), break_years=_break_years(manifest, name)
        )
        problems += p
        tables[name] = typed
    if not problems and manifest is not None:
        across = _check_across(tables, manifest, str(directory / MANIFEST_FILE))
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
    return _break_notes(tables, manifest, str(directory / MANIFEST_FILE)) + [
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

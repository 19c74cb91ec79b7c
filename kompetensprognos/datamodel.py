"""The dataset in memory: contract tables plus a manifest, typed and validated together.

:class:`Dataset` holds one DataFrame per contract table (:data:`kompetensprognos.schemas.TABLES`)
and its :class:`Manifest` (source, vintage, known series breaks). The generator
(:mod:`kompetensprognos.synthetic`) and the connectors build one; :mod:`kompetensprognos.dataset`
reads and writes dataset folders. The checks across tables (break years inside a table's years,
no more employed than inhabitants) live here so that both paths apply the same rules.

Examples
--------
>>> SeriesBreak(year=2023, table="employment").year
2023
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from kompetensprognos import __version__, regions
from kompetensprognos.errors import DataValidationError, KompetensprognosError, Problem

# kompetensprognos.schemas (pandera, 0.8 s) is imported where it is used: reading a Manifest
# (every report kernel) needs none of it

__all__ = ["MANIFEST_FILE", "SYNTHETIC_LABEL", "Dataset", "Manifest", "SeriesBreak"]

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
        from kompetensprognos.schemas import TABLES

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
        from kompetensprognos.schemas import validate_table

        problems: list[Problem] = []
        for name, table in self.tables().items():
            typed, p = validate_table(table, name, break_years=break_years(self.manifest, name))
            problems += p
            setattr(self, name, typed)
        if not problems:
            problems += check_across(self.tables(), self.manifest, MANIFEST_FILE)
        if problems:
            raise DataValidationError(problems)
        return self


def break_years(manifest: Manifest | None, table: str) -> list[int]:
    return sorted({b.year for b in manifest.breaks if b.table == table}) if manifest else []


def _check_breaks(tables: dict[str, pd.DataFrame], manifest: Manifest, file: str) -> list[Problem]:
    """Declared series breaks must name a table of the dataset and fall inside its years."""
    from kompetensprognos.schemas import TABLES

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
            continue  # a note, not a problem: see break_notes
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


def break_notes(tables: dict[str, pd.DataFrame], manifest: Manifest, file: str) -> list[Problem]:
    """Breaks declared for a table the dataset does not have (harmless: nothing to adjust)."""
    from kompetensprognos.schemas import TABLES

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


def check_across(tables: dict[str, pd.DataFrame], manifest: Manifest, file: str) -> list[Problem]:
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

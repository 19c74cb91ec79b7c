"""Data contracts: the long-format input tables every model reads.

Each table is a pandera :class:`~pandera.api.pandas.model.DataFrameModel` (the machine-checked
contract) plus a :class:`TableSpec` saying which columns form the key, which hold codes and which
hold counts. :func:`validate_table` checks a table read from a file and returns *every* problem
with the file, column, line and value at fault and how to fix it; see ``docs/data.md``.

Conventions: codes are text with their leading zeros (``"0114"``, ``"2512"``, county ``"14"``);
years are integers; counts are non-negative floats (integers in the raw data).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from kompetensprognos import classifications, regions
from kompetensprognos.config import EDUCATION_TYPES
from kompetensprognos.errors import DataValidationError, Problem

__all__ = [
    "AGE_BANDS",
    "EDUCATION_TYPES",
    "SEXES",
    "TABLES",
    "EDUCATION_AGE_BANDS",
    "EDUCATION_LEVEL_TYPES",
    "FLOW_COLUMNS",
    "CrosswalkSchema",
    "EducationFlowsSchema",
    "GraduateDestinationsSchema",
    "ImbalanceTruthSchema",
    "LabourStatusSchema",
    "PopulationEducationSchema",
    "EducationOutputSchema",
    "EmploymentAgeSchema",
    "EmploymentSchema",
    "PLAUSIBILITY",
    "Plausibility",
    "PopulationSchema",
    "TableSpec",
    "YrkesbarometerSchema",
    "plausibility",
    "table_notes",
    "validate_table",
]

#: Age bands of the occupation register (16-64 until 2022, 16-69 from 2023).
AGE_BANDS: tuple[str, ...] = (
    "16-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64", "65-69",
)  # fmt: skip
SEXES: tuple[str, ...] = ("men", "women")
POPULATION_KINDS: tuple[str, ...] = ("observed", "projection")
BALANCE_STATUSES: tuple[str, ...] = ("brist", "balans", "överskott")
_YEAR = {"ge": 1960, "le": 2100}
#: Age bands of the education-group stock–flow tables (ages 16–74, as SCB's matching indicators).
EDUCATION_AGE_BANDS: tuple[str, ...] = (
    "16-19",
    "20-24",
    "25-34",
    "35-44",
    "45-54",
    "55-64",
    "65-74",
)
#: Education types of the stock–flow tables: the three of ``education_output`` plus
#: ``forgymnasial`` (compulsory school only; education code ``"0"``, SUN 2020 field *Allmän
#: utbildning*).
EDUCATION_LEVEL_TYPES: tuple[str, ...] = ("forgymnasial", *EDUCATION_TYPES)
#: Flow columns of ``education_flows`` (people during the year, 31 Dec to 31 Dec).
FLOW_COLUMNS: tuple[str, ...] = (
    "age_entries", "age_exits", "deaths", "graduates", "further_study", "in_movers", "out_movers",
)  # fmt: skip


class EmploymentSchema(pa.DataFrameModel):
    """Employees per municipality (workplace), occupation and year (SCB YREG58 / TAB4436)."""

    region: Series[str] = pa.Field(str_matches=r"^\d{4}$", description="municipality code")
    ssyk: Series[str] = pa.Field(str_matches=r"^\d{1,4}$", description="SSYK 2012 code")
    year: Series[int] = pa.Field(**_YEAR)
    employed: Series[float] = pa.Field(ge=0)
    sex: Optional[Series[str]] = pa.Field(isin=list(SEXES))  # noqa: UP045 - pandera needs Optional

    class Config:
        strict = True
        coerce = True


class EmploymentAgeSchema(pa.DataFrameModel):
    """Employees per region (any single level), occupation, age band and year (YREG51/57)."""

    region: Series[str] = pa.Field(description="municipality, county or region id")
    ssyk: Series[str] = pa.Field(str_matches=r"^\d{1,4}$")
    age: Series[str] = pa.Field(isin=list(AGE_BANDS))
    year: Series[int] = pa.Field(**_YEAR)
    employed: Series[float] = pa.Field(ge=0)
    sex: Optional[Series[str]] = pa.Field(isin=list(SEXES))  # noqa: UP045

    class Config:
        strict = True
        coerce = True


class PopulationSchema(pa.DataFrameModel):
    """Population per region, single year of age (100 = 100+), sex and year, 31 December."""

    region: Series[str]
    year: Series[int] = pa.Field(**_YEAR)
    age: Series[int] = pa.Field(ge=0, le=100)
    sex: Series[str] = pa.Field(isin=list(SEXES))
    population: Series[float] = pa.Field(ge=0)
    kind: Series[str] = pa.Field(isin=list(POPULATION_KINDS))

    class Config:
        strict = True
        coerce = True


class EducationOutputSchema(pa.DataFrameModel):
    """Graduates (and starters where known) per region, education and year."""

    region: Series[str]
    education: Series[str] = pa.Field(description="programme code (gymnasium) or SUN 2020 field")
    type: Series[str] = pa.Field(isin=list(EDUCATION_TYPES))
    year: Series[int] = pa.Field(**_YEAR)
    graduates: Series[float] = pa.Field(ge=0)
    starters: Optional[Series[float]] = pa.Field(ge=0, nullable=True)  # noqa: UP045

    class Config:
        strict = True
        coerce = True


class CrosswalkSchema(pa.DataFrameModel):
    """Share of people with an education who work in each occupation (sums to 1 per education)."""

    type: Series[str] = pa.Field(isin=list(EDUCATION_TYPES))
    education: Series[str]
    ssyk: Series[str] = pa.Field(str_matches=r"^\d{1,4}$")
    share: Series[float] = pa.Field(ge=0, le=1)

    class Config:
        strict = True
        coerce = True


class YrkesbarometerSchema(pa.DataFrameModel):
    """Arbetsförmedlingen's yrkesbarometer assessment per county and occupation."""

    region: Series[str] = pa.Field(str_matches=r"^\d{2}$", description="county code, 00 = Sweden")
    ssyk: Series[str] = pa.Field(str_matches=r"^\d{4}$")
    occupation: Series[str]
    status: Series[str] = pa.Field(isin=list(BALANCE_STATUSES))
    outlook: Series[str] = pa.Field(nullable=True)
    round: Series[str]

    class Config:
        strict = True
        coerce = True


# --- plausibility bounds ----------------------------------------------------------------------

#: More people than Sweden has (10.6 million in 2024, rounded up): no count cell can exceed it.
MAX_COUNT = 11_000_000.0


@dataclass(frozen=True)
class Plausibility:
    """Bounds a count must respect to be believable, per contract table (see ``docs/data.md``).

    Attributes
    ----------
    max_count : float
        Largest believable value of any count column (default: Sweden's population, rounded up).
    max_jump : float or None
        Largest believable year-on-year factor within one series, measured as
        ``(max(a, b) + jump_floor) / (min(a, b) + jump_floor)`` for consecutive years ``a, b``;
        ``None`` switches the check off. Jumps into a declared series-break year are allowed.
    jump_floor : float
        Added to both years so that small cells (3 → 40) are not flagged for Poisson noise.

    Examples
    --------
    >>> plausibility("employment").max_jump
    50.0
    >>> plausibility("a_new_contract").max_count == MAX_COUNT  # the default for any table
    True
    """

    max_count: float = MAX_COUNT
    max_jump: float | None = None
    jump_floor: float = 50.0


#: Per-contract bounds, keyed by contract name; contracts not listed get ``Plausibility()``.
#: The jump factors are far beyond anything SCB's occupation register shows: nationally, SSYK 1-4
#: by age and sex 2014-2024, the largest factor with floor 50 is 6.5 (2023, at the register's
#: break); a new workplace can still take a municipality's cell from 0 to about 2 450.
PLAUSIBILITY: dict[str, Plausibility] = {
    "employment": Plausibility(max_jump=50.0),
    "employment_age": Plausibility(max_jump=50.0),
    "population": Plausibility(max_jump=10.0),
}


def plausibility(name: str) -> Plausibility:
    """The plausibility bounds of contract ``name`` (the defaults when none are declared)."""
    return PLAUSIBILITY.get(name, Plausibility())


class PopulationEducationSchema(pa.DataFrameModel):
    """Population 16–74 per region, education group, age band and sex, 31 December.

    An education group is ``type/education``: a gymnasium programme, a YH or higher-education
    SUN 2020 field, or ``forgymnasial/0`` (compulsory school only).
    """

    region: Series[str]
    year: Series[int] = pa.Field(**_YEAR)
    sex: Series[str] = pa.Field(isin=list(SEXES))
    age: Series[str] = pa.Field(isin=list(EDUCATION_AGE_BANDS))
    type: Series[str] = pa.Field(isin=list(EDUCATION_LEVEL_TYPES))
    education: Series[str]
    population: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        coerce = True


class EducationFlowsSchema(pa.DataFrameModel):
    """Flows of the education-group stock (ages 16–74) per region, group, sex and year.

    ``P[t] = P[t-1] + age_entries - age_exits - deaths + graduates - further_study + in_movers -
    out_movers`` per region, group and sex (SCB's regional matching indicators, RegionInd19U3N).
    ``graduates`` are counted where the graduate lives after graduating; ``further_study`` are
    people who leave the group because they graduated into another one.
    """

    region: Series[str]
    year: Series[int] = pa.Field(**_YEAR)
    sex: Series[str] = pa.Field(isin=list(SEXES))
    type: Series[str] = pa.Field(isin=list(EDUCATION_LEVEL_TYPES))
    education: Series[str]
    age_entries: Series[float] = pa.Field(ge=0)
    age_exits: Series[float] = pa.Field(ge=0)
    deaths: Series[float] = pa.Field(ge=0)
    graduates: Series[float] = pa.Field(ge=0)
    further_study: Series[float] = pa.Field(ge=0)
    in_movers: Series[float] = pa.Field(ge=0)
    out_movers: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        coerce = True


class LabourStatusSchema(pa.DataFrameModel):
    """Employed, unemployed and outside the labour force per region (residence), education
    group, age band, sex and year (SCB RegionInd19U1aN1)."""

    region: Series[str]
    year: Series[int] = pa.Field(**_YEAR)
    sex: Series[str] = pa.Field(isin=list(SEXES))
    age: Series[str] = pa.Field(isin=list(EDUCATION_AGE_BANDS))
    type: Series[str] = pa.Field(isin=list(EDUCATION_LEVEL_TYPES))
    education: Series[str]
    employed: Series[float] = pa.Field(ge=0)
    unemployed: Series[float] = pa.Field(ge=0)
    outside: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        coerce = True


class GraduateDestinationsSchema(pa.DataFrameModel):
    """Graduates of a school region by where they live the year after (``destination``
    ``"00"``: outside the dataset's regions)."""

    origin: Series[str]
    type: Series[str] = pa.Field(isin=list(EDUCATION_TYPES))
    education: Series[str]
    destination: Series[str]
    year: Series[int] = pa.Field(**_YEAR)
    graduates: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        coerce = True


class ImbalanceTruthSchema(pa.DataFrameModel):
    """Synthetic data only: the generator's true openings and available newcomers per region,
    occupation and year (the truth the balance calls are scored against)."""

    region: Series[str]
    ssyk: Series[str] = pa.Field(str_matches=r"^\d{1,4}$")
    year: Series[int] = pa.Field(**_YEAR)
    openings: Series[float] = pa.Field(ge=0)
    newcomers: Series[float] = pa.Field(ge=0)

    class Config:
        strict = True
        coerce = True


# --- code checks -------------------------------------------------------------------------------

CodeCheck = Callable[[str], bool]


def _is_municipality_any(code: str) -> bool:
    return regions.is_municipality(code)


def _is_region_any(code: str) -> bool:
    """Municipality, county (2 digits), Sweden ``00`` or one of the package's region ids."""
    if code in regions.ALL_REGION_IDS or code == "00":
        return True
    if len(code) == 2 and code.isdigit():
        return code in set(regions.municipalities("sweden")["county"])
    return _is_municipality_any(code)


def _is_ssyk(code: str) -> bool:
    return classifications.is_ssyk(code) or code == classifications.UNKNOWN_SSYK


def _is_county(code: str) -> bool:
    return code == "00" or code in set(regions.municipalities("sweden")["county"])


@dataclass(frozen=True)
class CodeColumn:
    """A column holding classification codes, with what a valid code looks like."""

    name: str
    what: str  # e.g. "municipality code"
    example: str
    width: int | None  # fixed width for the leading-zero check, or None
    valid: CodeCheck


@dataclass(frozen=True)
class TableSpec:
    """What the validator needs to know about one contract table."""

    name: str
    schema: type[pa.DataFrameModel]
    keys: tuple[str, ...]
    codes: tuple[CodeColumn, ...] = ()
    counts: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()
    required: bool = False
    optional_columns: tuple[str, ...] = field(default=())

    @property
    def columns(self) -> list[str]:
        """All contract columns, required first."""
        return list(self.schema.to_schema().columns)

    @property
    def required_columns(self) -> list[str]:
        """Columns that must be present."""
        return [c for c in self.columns if c not in self.optional_columns]


_MUNI = CodeColumn("region", "municipality code", "1480", 4, _is_municipality_any)
_REGION = CodeColumn("region", "region code or id", "1480, 14 or fyrbodal", None, _is_region_any)
_SSYK = CodeColumn("ssyk", "SSYK 2012 code", "2512", None, _is_ssyk)
_COUNTY = CodeColumn("region", "county code", "14", 2, _is_county)
_SSYK4 = CodeColumn("ssyk", "4-digit SSYK 2012 code", "2512", 4, _is_ssyk)
_ORIGIN = CodeColumn("origin", "region code or id", "1480, 14 or fyrbodal", None, _is_region_any)
_DESTINATION = CodeColumn(
    "destination", "region code or id", "1480, 14 or fyrbodal", None, _is_region_any
)

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in [
        TableSpec(
            "employment",
            EmploymentSchema,
            keys=("region", "ssyk", "sex", "year"),
            codes=(_MUNI, _SSYK),
            counts=("employed",),
            numeric=("year",),
            required=True,
            optional_columns=("sex",),
        ),
        TableSpec(
            "employment_age",
            EmploymentAgeSchema,
            keys=("region", "ssyk", "age", "sex", "year"),
            codes=(_REGION, _SSYK),
            counts=("employed",),
            numeric=("year",),
            optional_columns=("sex",),
        ),
        TableSpec(
            "population",
            PopulationSchema,
            keys=("region", "age", "sex", "year"),
            codes=(_REGION,),
            counts=("population",),
            numeric=("year", "age"),
        ),
        TableSpec(
            "education_output",
            EducationOutputSchema,
            keys=("region", "type", "education", "year"),
            codes=(_REGION,),
            counts=("graduates", "starters"),
            numeric=("year",),
            optional_columns=("starters",),
        ),
        TableSpec(
            "crosswalk",
            CrosswalkSchema,
            keys=("type", "education", "ssyk"),
            codes=(_SSYK,),
            numeric=("share",),
        ),
        TableSpec(
            "yrkesbarometer",
            YrkesbarometerSchema,
            keys=("region", "ssyk"),
            codes=(_COUNTY, _SSYK4),
        ),
        TableSpec(
            "population_education",
            PopulationEducationSchema,
            keys=("region", "sex", "age", "type", "education", "year"),
            codes=(_REGION,),
            counts=("population",),
            numeric=("year",),
        ),
        TableSpec(
            "education_flows",
            EducationFlowsSchema,
            keys=("region", "sex", "type", "education", "year"),
            codes=(_REGION,),
            counts=FLOW_COLUMNS,
            numeric=("year",),
        ),
        TableSpec(
            "labour_status",
            LabourStatusSchema,
            keys=("region", "sex", "age", "type", "education", "year"),
            codes=(_REGION,),
            counts=("employed", "unemployed", "outside"),
            numeric=("year",),
        ),
        TableSpec(
            "graduate_destinations",
            GraduateDestinationsSchema,
            keys=("origin", "type", "education", "destination", "year"),
            codes=(_ORIGIN, _DESTINATION),
            counts=("graduates",),
            numeric=("year",),
        ),
        TableSpec(
            "crosswalk_entrants",
            CrosswalkSchema,
            keys=("type", "education", "ssyk"),
            codes=(_SSYK,),
            numeric=("share",),
        ),
        TableSpec(
            "imbalance_truth",
            ImbalanceTruthSchema,
            keys=("region", "ssyk", "year"),
            codes=(_REGION, _SSYK),
            counts=("openings", "newcomers"),
            numeric=("year",),
        ),
    ]
}

_FLOAT_CODE = re.compile(r"^\d+\.0+$")
_MAX_EXAMPLES = 5


def _lines(index: pd.Index | np.ndarray | list[int]) -> tuple[int, ...]:
    """Frame positions → line numbers in the CSV file (header is line 1)."""
    return tuple(int(i) + 2 for i in index)


def _check_codes(df: pd.DataFrame, col: CodeColumn, file: str) -> list[Problem]:
    values = df[col.name]
    problems: list[Problem] = []
    missing = values.isna() | (values.str.strip() == "")
    if missing.any():
        problems.append(
            Problem(
                file,
                col.name,
                "empty code — every row needs a " + col.what,
                _lines(df.index[missing]),
            )
        )
    present = values[~missing]
    uniq = pd.Series(present.unique())
    ok = uniq.map(col.valid)
    bad = set(uniq[~ok])
    if not bad:
        return problems
    width = col.width
    if width is None:  # SSYK codes have 1-4 digits: expect the width most valid codes have
        lengths = uniq[ok].str.len()
        width = int(lengths.mode().iloc[0]) if len(lengths) else None
    floats = {v for v in bad if _FLOAT_CODE.match(v)}
    if floats:
        sample = sorted(floats)[:_MAX_EXAMPLES]
        fixed = sample[0].split(".")[0]
        if width:
            fixed = fixed.zfill(width)
        rows = df.index[values.isin(floats)]
        problems.append(
            Problem(
                file,
                col.name,
                f"code written as a number (e.g. {sample[0]}) — codes must be text such as "
                f"'{fixed}': save the column as text, or read it with dtype=str",
                _lines(rows),
                tuple(sample),
            )
        )
    rest = bad - floats
    lost = {
        v for v in rest if v.isdigit() and width and len(v) < width and col.valid(v.zfill(width))
    }
    if lost:
        sample = sorted(lost)[:_MAX_EXAMPLES]
        problems.append(
            Problem(
                file,
                col.name,
                f"code lost its leading zero(s) (e.g. {sample[0]} should be "
                f"'{sample[0].zfill(width or 0)}') — keep the column as text",
                _lines(df.index[values.isin(lost)]),
                tuple(sample),
            )
        )
    unknown = rest - lost
    if unknown:
        sample = sorted(unknown)[:_MAX_EXAMPLES]
        problems.append(
            Problem(
                file,
                col.name,
                f"unknown {col.what} — use a valid code such as '{col.example}'",
                _lines(df.index[values.isin(unknown)]),
                tuple(sample),
            )
        )
    return problems


def _check_numeric(df: pd.DataFrame, column: str, file: str) -> tuple[pd.Series, list[Problem]]:
    raw = df[column]
    empty = raw.isna() | (raw.astype(str).str.strip() == "")
    num = pd.to_numeric(raw.where(~empty), errors="coerce")
    bad = num.isna() & ~empty
    problems = []
    if bad.any():
        sample = tuple(pd.unique(raw[bad].astype(str))[:_MAX_EXAMPLES])
        hint = (
            " (SCB writes '..' for suppressed cells: replace with 0 or remove the series)"
            if ".." in sample
            else ""
        )
        problems.append(
            Problem(file, column, "value is not a number" + hint, _lines(df.index[bad]), sample)
        )
    infinite = np.isinf(num)
    if infinite.any():
        problems.append(
            Problem(
                file,
                column,
                "value is not finite (infinity) — write the number itself, or 0 for a zero count",
                _lines(df.index[infinite]),
                tuple(pd.unique(raw[infinite].astype(str))[:_MAX_EXAMPLES]),
            )
        )
        num = num.where(~infinite)
    return num, problems


def _is_nullable(spec: TableSpec, column: str) -> bool:
    col = spec.schema.to_schema().columns.get(column)
    return bool(col is not None and col.nullable)


def _check_empty_cells(df: pd.DataFrame, spec: TableSpec, column: str, file: str) -> list[Problem]:
    """An empty cell in a column that needs a value (e.g. a count left blank)."""
    if _is_nullable(spec, column):
        return []
    empty = df[column].isna() | (df[column].astype(str).str.strip() == "")
    if not empty.any():
        return []
    return [
        Problem(
            file,
            column,
            "empty value — every row needs one (write 0 for a zero count, or remove the row)",
            _lines(df.index[empty]),
        )
    ]


def _series_label(keys: list[str], row: pd.Series) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys)


def _check_plausible(
    df: pd.DataFrame, spec: TableSpec, file: str, break_years: Sequence[int] = ()
) -> list[Problem]:
    """Counts above the contract's bound, and year-on-year jumps no real series shows."""
    bounds = plausibility(spec.name)
    problems: list[Problem] = []
    for col in spec.counts:
        if col not in df.columns:
            continue
        values = df[col]
        big = values > bounds.max_count
        if big.any():
            problems.append(
                Problem(
                    file,
                    col,
                    f"implausibly large count (above {bounds.max_count:,.0f}, more people than "
                    "Sweden has) — check the source and the unit (thousands? a stray digit?)",
                    _lines(df.index[big]),
                    tuple(f"{v:g}" for v in pd.unique(values[big])[:_MAX_EXAMPLES]),
                )
            )
    if bounds.max_jump is None or "year" not in df.columns or problems:
        return problems
    series = [k for k in spec.keys if k != "year" and k in df.columns]
    for col in spec.counts:
        if col not in df.columns or df[col].isna().any():
            continue
        ordered = df.sort_values([*series, "year"], kind="stable")
        group = ordered.groupby(series, sort=False) if series else None
        prev = group[col].shift() if group is not None else ordered[col].shift()
        prev_year = group["year"].shift() if group is not None else ordered["year"].shift()
        floor = bounds.jump_floor
        hi = np.maximum(ordered[col], prev)
        lo = np.minimum(ordered[col], prev)
        factor = (hi + floor) / (lo + floor)
        jump = (
            (factor > bounds.max_jump)
            & (prev_year == ordered["year"] - 1)
            & ~ordered["year"].isin(list(break_years))
        )
        if not jump.any():
            continue
        rows = ordered.index[jump]
        examples = tuple(
            f"{_series_label(series, ordered.loc[i])}: {prev.loc[i]:g} ({int(prev_year.loc[i])})"
            f" → {ordered.loc[i, col]:g} ({int(ordered.loc[i, 'year'])})"
            for i in rows[:_MAX_EXAMPLES]
        )
        problems.append(
            Problem(
                file,
                col,
                f"implausible jump from one year to the next (a factor above {bounds.max_jump:g}, "
                "which no real series shows) — check the source for a typo or a unit change; if "
                "the series changed basis that year, declare the break in manifest.json",
                _lines(rows),
                examples,
            )
        )
    return problems


def table_notes(df: pd.DataFrame, name: str, *, file: str | None = None) -> list[Problem]:
    """Things worth knowing about a *valid* table that are not errors (e.g. fractional counts).

    Fractional counts are accepted on purpose: weighted survey estimates, counts apportioned
    from one classification to another and projections are fractional, and every model treats
    counts as continuous. Register head counts are whole numbers, though, so a note says where
    fractions occur in case they were not expected.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"region": ["1480"], "ssyk": ["251"], "year": [2020], "employed": [2.5]})
    >>> print(table_notes(df, "employment")[0])  # doctest: +ELLIPSIS
    employment.csv, column `employed`, line 2: 1 fractional count(s) ... (values: '2.5')
    """
    spec = TABLES[name]
    file = file or f"{name}.csv"
    notes = []
    for col in spec.counts:
        if col not in df.columns:
            continue
        values = pd.to_numeric(df[col], errors="coerce")
        frac = (values % 1 != 0) & values.notna() & np.isfinite(values)
        if frac.any():
            notes.append(
                Problem(
                    file,
                    col,
                    f"{int(frac.sum())} fractional count(s) — accepted (weighted or apportioned "
                    "estimates); register head counts are whole numbers, so check the source if "
                    "you did not expect fractions",
                    _lines(df.index[frac]),
                    tuple(f"{v:g}" for v in pd.unique(values[frac])[:_MAX_EXAMPLES]),
                )
            )
    return notes


def _check_years(df: pd.DataFrame, spec: TableSpec, file: str) -> list[Problem]:
    """Years must run without gaps, in the table and within each series."""
    problems: list[Problem] = []
    years = np.sort(df["year"].dropna().unique().astype(int))
    if len(years) > 1:
        missing = sorted(set(range(years[0], years[-1] + 1)) - set(years))
        if missing:
            problems.append(
                Problem(
                    file,
                    "year",
                    f"the table has no rows for year(s) {', '.join(map(str, missing))} between "
                    f"{years[0]} and {years[-1]} — every year in the range is needed",
                )
            )
    series_keys = [k for k in spec.keys if k != "year" and k in df.columns]
    if spec.name == "population":
        series_keys = [k for k in series_keys if k != "kind"]
    if not series_keys or problems:
        return problems
    g = df.groupby(series_keys, sort=False)["year"]
    span = g.max() - g.min() + 1
    gaps = span[span != g.nunique()]
    if len(gaps):
        sample = [
            " / ".join(map(str, k if isinstance(k, tuple) else (k,)))
            for k in gaps.index[:_MAX_EXAMPLES]
        ]
        problems.append(
            Problem(
                file,
                "year",
                f"{len(gaps)} series ({', '.join(series_keys)}) skip a year inside their range — "
                "add the missing years (write 0 where the count was zero)",
                values=tuple(sample),
            )
        )
    return problems


def _check_single_level(df: pd.DataFrame, file: str) -> list[Problem]:
    """A table holds one SSYK level; the package builds the other levels itself."""
    codes = df["ssyk"].dropna()
    lengths = codes[codes != classifications.UNKNOWN_SSYK].str.len()
    counts = lengths.value_counts()
    if len(counts) <= 1:
        return []
    main = int(counts.index[0])
    odd = df.index[codes.index[(codes != classifications.UNKNOWN_SSYK) & (codes.str.len() != main)]]
    return [
        Problem(
            file,
            "ssyk",
            f"the table mixes SSYK levels ({', '.join(f'{n} rows at level {k}' for k, n in counts.items())}) — "
            f"keep one level (here SSYK {main}); totals at other levels are computed by the package",
            _lines(odd),
            tuple(pd.unique(df.loc[odd, "ssyk"])[:_MAX_EXAMPLES]),
        )
    ]


def _check_duplicates(df: pd.DataFrame, spec: TableSpec, file: str) -> list[Problem]:
    keys = [k for k in spec.keys if k in df.columns]
    dup = df.duplicated(keys, keep=False)
    if not dup.any():
        return []
    first = df.loc[dup, keys].iloc[0]
    example = ", ".join(f"{k}={first[k]}" for k in keys)
    return [
        Problem(
            file,
            None,
            f"{int(dup.sum())} rows repeat the key ({', '.join(keys)}), e.g. {example} — "
            "each key may appear once; remove or sum the duplicates",
            _lines(df.index[dup]),
        )
    ]


def _check_shares(df: pd.DataFrame, file: str, tol: float = 1e-3) -> list[Problem]:
    sums = df.groupby(["type", "education"])["share"].sum()
    off = sums[(sums - 1).abs() > tol]
    if off.empty:
        return []
    sample = tuple(f"{t}/{e}: {s:.4f}" for (t, e), s in off.head(_MAX_EXAMPLES).items())
    return [
        Problem(
            file,
            "share",
            f"shares of {len(off)} education(s) do not sum to 1 (tolerance {tol}) — "
            "normalise each education's shares",
            values=sample,
        )
    ]


def _schema_problems(exc: pa.errors.SchemaErrors, file: str) -> list[Problem]:
    problems = []
    fc = exc.failure_cases
    for (column, check), grp in fc.groupby(["column", "check"], dropna=False, sort=False):
        idx = pd.to_numeric(grp["index"], errors="coerce").dropna().astype(int)
        values = tuple(pd.unique(grp["failure_case"].astype(str))[:_MAX_EXAMPLES])
        col = None if pd.isna(column) else str(column)
        problems.append(Problem(file, col, f"fails check {check}", _lines(idx), values))
    return problems


def validate_table(
    df: pd.DataFrame, name: str, *, file: str | None = None, break_years: Sequence[int] = ()
) -> tuple[pd.DataFrame, list[Problem]]:
    """Check one table against its contract and return it typed, with every problem found.

    Parameters
    ----------
    df : pandas.DataFrame
        The table as read from its file, ideally with every column as text (``dtype=str``) so
        that codes written as numbers can be recognised.
    name : str
        The contract name, a key of :data:`TABLES` (``"employment"``, ``"crosswalk"``, ...).
    file : str, optional
        The file name used in messages; defaults to ``"<name>.csv"``.
    break_years : sequence of int, optional
        Declared series breaks of this table (first years on a new basis): a jump into one of
        these years is not reported as implausible.

    Returns
    -------
    tuple[pandas.DataFrame, list[Problem]]
        The typed table (codes as ``str``, years as ``int``, counts as ``float``) and the problems.
        The table is only trustworthy when the list is empty.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"region": ["1480"], "ssyk": ["2512.0"], "year": ["2020"], "employed": ["5"]})
    >>> _, problems = validate_table(raw, "employment")
    >>> print(problems[0])  # doctest: +ELLIPSIS
    employment.csv, column `ssyk`, line 2: code written as a number (e.g. 2512.0) ...
    """
    spec = TABLES[name]
    file = file or f"{name}.csv"
    problems: list[Problem] = []
    df = df.reset_index(drop=True)
    present = list(df.columns)
    missing = [c for c in spec.required_columns if c not in present]
    unknown = [c for c in present if c not in spec.columns]
    if missing:
        problems.append(
            Problem(
                file,
                None,
                f"missing column(s) {', '.join(missing)}; the contract is: {', '.join(spec.columns)}",
            )
        )
    if unknown:
        problems.append(
            Problem(
                file,
                None,
                f"unexpected column(s) {', '.join(unknown)} — remove or rename them; "
                f"the contract is: {', '.join(spec.columns)}",
            )
        )
    if missing:
        return df, problems
    if len(df) == 0:
        problems.append(
            Problem(
                file,
                None,
                "the table has a header but no data rows — fill it, or delete the file if the "
                "dataset does not have this table"
                + (" (employment.csv is required)" if spec.required else ""),
            )
        )
        return df, problems

    out = df.copy()
    numeric_cols = [c for c in (*spec.numeric, *spec.counts) if c in out.columns]
    for col in out.columns:
        if col not in numeric_cols:
            out[col] = out[col].astype("string").str.strip().astype(object)
    for code in spec.codes:
        problems += _check_codes(out, code, file)
    for col in numeric_cols:
        problems += _check_empty_cells(out, spec, col, file)
        out[col], p = _check_numeric(out, col, file)
        problems += p
    for col in spec.counts:
        if col in out.columns and (out[col] < 0).any():
            neg = out[col] < 0
            problems.append(
                Problem(
                    file,
                    col,
                    "negative count — counts must be 0 or more",
                    _lines(out.index[neg]),
                    tuple(out.loc[neg, col].astype(str).unique()[:_MAX_EXAMPLES]),
                )
            )
    if "year" in out.columns and out["year"].notna().all():
        frac = out["year"] % 1 != 0
        if frac.any():
            problems.append(
                Problem(file, "year", "year must be a whole number", _lines(out.index[frac]))
            )
        else:
            problems += _check_years(out, spec, file)
    if "ssyk" in out.columns and not any(p.column == "ssyk" for p in problems):
        problems += _check_single_level(out, file)
    problems += _check_duplicates(out, spec, file)
    if name in ("crosswalk", "crosswalk_entrants") and out["share"].notna().all():
        problems += _check_shares(out, file)
    if name == "population":
        problems += _check_population_kind(out, file)
    if name in ("education_output", "crosswalk", "crosswalk_entrants", "graduate_destinations"):
        problems += _check_education_codes(out, file)
    if name in ("population_education", "education_flows", "labour_status"):
        problems += _check_education_groups(out, file)
    if not problems:
        problems += _check_plausible(out, spec, file, break_years)

    if not problems:
        try:
            out = spec.schema.validate(out, lazy=True)
        except pa.errors.SchemaErrors as exc:
            problems += _schema_problems(exc, file)
        if "year" in out.columns:
            out["year"] = out["year"].astype(int)
    return out, problems


def _check_population_kind(df: pd.DataFrame, file: str) -> list[Problem]:
    kinds = df.groupby("year")["kind"].nunique()
    mixed = kinds[kinds > 1]
    problems = []
    if len(mixed):
        problems.append(
            Problem(
                file,
                "kind",
                "a year mixes observed and projection rows",
                values=tuple(map(str, mixed.index)),
            )
        )
    obs = df.loc[df["kind"] == "observed", "year"]
    proj = df.loc[df["kind"] == "projection", "year"]
    if len(obs) and len(proj) and proj.min() <= obs.max():
        problems.append(
            Problem(
                file,
                "kind",
                f"projection years must come after the last observed year ({obs.max()})",
            )
        )
    return problems


def _check_education_codes(df: pd.DataFrame, file: str) -> list[Problem]:
    programmes = set(classifications.programmes()["code"])
    fields = set(classifications.sun_fields()["code"])
    gym = df["type"] == "gymnasium"
    bad_gym = df.loc[gym & ~df["education"].isin(programmes), "education"]
    bad_sun = df.loc[
        ~gym & df["type"].isin(EDUCATION_TYPES) & ~df["education"].isin(fields), "education"
    ]
    problems = []
    if len(bad_gym):
        problems.append(
            Problem(
                file,
                "education",
                "unknown upper-secondary programme code — use Skolverket's codes such as 'VO' or 'NA'",
                _lines(bad_gym.index),
                tuple(pd.unique(bad_gym)[:_MAX_EXAMPLES]),
            )
        )
    if len(bad_sun):
        problems.append(
            Problem(
                file,
                "education",
                "unknown SUN 2020 field code for yh/higher — use a SUN 2020 field such as '72'",
                _lines(bad_sun.index),
                tuple(pd.unique(bad_sun)[:_MAX_EXAMPLES]),
            )
        )
    return problems


def _check_education_groups(df: pd.DataFrame, file: str) -> list[Problem]:
    """Education groups of the stock–flow tables: ``forgymnasial/0`` or a known code."""
    fg = df["type"] == "forgymnasial"
    problems = _check_education_codes(df[~fg], file)
    bad = df.loc[fg & (df["education"] != "0"), "education"]
    if len(bad):
        problems.append(
            Problem(
                file,
                "education",
                "type forgymnasial (compulsory school only) takes education code '0'",
                _lines(bad.index),
                tuple(pd.unique(bad)[:_MAX_EXAMPLES]),
            )
        )
    return problems


def check(df: pd.DataFrame, name: str, *, file: str | None = None) -> pd.DataFrame:
    """Validate a table and raise :class:`DataValidationError` listing every problem.

    Examples
    --------
    >>> import pandas as pd
    >>> ok = check(pd.DataFrame({"region": ["1480"], "ssyk": ["2512"], "year": [2020], "employed": [3]}),
    ...            "employment")
    >>> ok.dtypes["employed"]
    dtype('float64')
    """
    out, problems = validate_table(df, name, file=file)
    if problems:
        raise DataValidationError(problems)
    return out

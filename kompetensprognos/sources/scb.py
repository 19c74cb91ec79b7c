"""SCB tables → contract tables: a declarative mapping and ``data fetch scb``.

Each :class:`ScbSource` says which contract table an SCB table family feeds, how to *find* the
table (real ``TAB`` ids first; a ``/tables?query=`` search only as a fallback, with
``includeDiscontinued=true`` for sources that span several table generations), how to recognise
its variables (by code or label, e.g. ``Region``, ``Yrke2012``, ``Kon``), which values to select
and how to turn the answer into the contract. What is known about each table — and whether it was
checked against a real recorded answer or only against public code — is in :data:`KNOWN_TABLES`
and ``docs/data-sources.md``.

Occupation-register tables come in generations (``YREG58`` = TAB4396 2014–2018 on RAMS,
``YREG58N`` = TAB3119 2019–2021 on RAMS with a new population definition, ``YREG58BAS`` = TAB4434
2020– on BAS): for such *segmented* sources every candidate that passes the checks is used, each
year taken from the newest table that has it, and the switch years are recorded as series breaks
in the manifest together with the level shift measured in the overlap years. The 2023 widening of
the age range (16–64 → 16–69) is recorded too.

Sources whose contract does not exist yet (education flows, the regional matching indicators:
stock–flow by education group, labour status, commuting, YH admissions) are written as *raw long
tables* under ``raw/`` in the dataset folder (``contract=None``, ``raw_name=...``); pointing them
at a contract is a one-line change in :data:`SOURCES`.

Examples
--------
>>> from kompetensprognos.sources.scb import fetch_scb
>>> report = fetch_scb("data/scb-2025", years=(2014, 2024))  # doctest: +SKIP
>>> report.tables["employment"]  # doctest: +SKIP
'TAB4396 (2014-2018), TAB3119 (2019-2019), TAB4434 (2020-2024)'
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from kompetensprognos import classifications, regions
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.sources.pxweb import (
    ApiConfig,
    PxWebClient,
    PxWebError,
    PxWebUnreachableError,
    Query,
    ResponseCache,
    TableMetadata,
    Variable,
)

__all__ = [
    "KNOWN_TABLES",
    "RAW_COLUMNS",
    "RAW_TO_CONTRACT",
    "SOURCES",
    "FetchReport",
    "KnownTable",
    "ResolvedTable",
    "ScbSource",
    "SourcePlan",
    "build_dataset",
    "fetch_scb",
    "make_client",
    "plan_scb",
    "resolve",
]

Years = tuple[int, int]
Roles = dict[str, Variable]

# --- what is known about the tables ------------------------------------------------------------


@dataclass(frozen=True)
class KnownTable:
    """Facts about one v2 table id from public evidence (``../shared/reference`` note).

    Attributes
    ----------
    v1 : str
        Old (v1 API) matrix name, e.g. ``"YREG58BAS"``.
    register : str
        Register behind occupation statistics (``"RAMS"``, ``"BAS"``) or ``""``.
    note : str
        What it is / what differs.
    """

    v1: str
    register: str = ""
    note: str = ""


#: Real v2 ids seen in public code and recorded answers (see ``docs/data-sources.md``).
KNOWN_TABLES: dict[str, KnownTable] = {
    "TAB4396": KnownTable("YREG58", "RAMS", "employees 16-64, SSYK 3, 2014-2018"),
    "TAB3119": KnownTable(
        "YREG58N", "RAMS", "employees 16-64, SSYK 3, 2019-2021, new population definition"
    ),
    "TAB4434": KnownTable(
        "YREG58BAS", "BAS", "employees, SSYK 3, 2020-; ages 16-69 and imputed occupations 2023-"
    ),
    "TAB4436": KnownTable("YREG56BAS", "BAS", "employees by SSYK 3 and SNI 2007 (16 groups)"),
    "TAB638": KnownTable("BefolkningNy", "", "population 31 Dec 1968-2024"),
    "TAB5557": KnownTable("", "", "population 31 Dec 2025- (ages '100+1', total 'TotSA')"),
    "TAB6008": KnownTable("BefProgRegFakN", "", "official projection, 290 municipalities"),
    "TAB4446": KnownTable("", "", "employees by SSYK 4 x SUN 2020 field (1 digit) x age x sex"),
    "TAB6928": KnownTable("", "", "education flows per municipality by 4 level groups"),
}


def register_of(meta: TableMetadata) -> str:
    """``"RAMS"``, ``"BAS"`` or ``""`` for a table (known id first, then its label).

    Examples
    --------
    >>> from kompetensprognos.sources.pxweb import TableMetadata
    >>> register_of(TableMetadata("TAB3119", "x", ()))
    'RAMS'
    >>> register_of(TableMetadata("TAB9", "Anställda (BAS) efter region", ()))
    'BAS'
    """
    known = KNOWN_TABLES.get(meta.table_id.upper())
    if known and known.register:
        return known.register
    for reg in ("BAS", "RAMS"):
        if re.search(rf"\b{reg}\b", meta.label):
            return reg
    return ""


# --- recognising variables ---------------------------------------------------------------------

#: role -> regexes matched against a variable's code, then its label (case-insensitive)
ROLE_PATTERNS: dict[str, tuple[str, ...]] = {
    "region": (r"^region$", r"^region", r"region"),
    "ssyk": (r"^yrke", r"ssyk", r"yrke"),
    "sex": (r"^k[öo]n$",),
    "age": (r"^[åa]lder$", r"^[åa]lder", r"ålder"),
    "contents": (r"^contentscode$", r"tabellinneh"),
    "time": (r"^tid$", r"^år$"),
    "field": (r"inriktn", r"utbildningsomr", r"sun"),
    "level": (r"niv[åa]",),
    "education_group": (r"^utbildngrupp", r"utbildningsgrupp", r"utbildngrupp"),
}

_SEX = {"1": "men", "2": "women"}
#: an age band such as "16-24 år", "16–24 år" (en dash, as some v2 tables write) or "065-69"
_BAND = re.compile(r"(\d{1,3})\s*[-–—]\s*(\d{1,3})")
_TOTAL_LABEL = re.compile(
    r"^(totalt|samtliga|total|tot\b|båda könen|män och kvinnor|inrikes och utrikes födda)",
    re.IGNORECASE,
)
_TOTAL_CODE = re.compile(r"^(tot|totsa|t|samtl\w*|total\w*|tot\w*)$", re.IGNORECASE)
_PERIOD = re.compile(r"^(\d{4})(?:\s*[-–/]\s*(\d{4}))?$")


def find_roles(meta: TableMetadata, wanted: Sequence[str]) -> Roles:
    """Map role names to the table's variables (``time`` and ``contents`` by their JSON-stat role)."""
    found: Roles = {}
    for role in wanted:
        if role == "time" and meta.time_variable is not None:
            found[role] = meta.time_variable
            continue
        if role == "contents":
            var = next((v for v in meta.variables if v.contents), None)
            if var is not None:
                found[role] = var
                continue
        for pattern in ROLE_PATTERNS[role]:
            rx = re.compile(pattern, re.IGNORECASE)
            var = next(
                (
                    v
                    for v in meta.variables
                    if v not in found.values() and (rx.search(v.code) or rx.search(v.label))
                ),
                None,
            )
            if var is not None:
                found[role] = var
                break
    return found


def period_year(code: str) -> int | None:
    """The year a time code stands for: ``"2024"`` → 2024, a period ``"2023-2024"`` → its end.

    Examples
    --------
    >>> period_year("2023-2024"), period_year("2021"), period_year("2025M01")
    (2024, 2021, None)
    """
    m = _PERIOD.match(code.strip())
    if not m:
        return None
    return int(m.group(2) or m.group(1))


def _periods(var: Variable) -> dict[str, int]:
    return {c: y for c in var.values if (y := period_year(c)) is not None}


def _years_of(var: Variable) -> list[int]:
    return sorted(set(_periods(var).values()))


def _is_total(var: Variable, code: str) -> bool:
    return bool(_TOTAL_LABEL.match(var.label_of(code).strip()) or _TOTAL_CODE.match(code))


def _total_code(var: Variable) -> str | None:
    return next((c for c in var.values if _is_total(var, c)), None)


def _band(text: str) -> str | None:
    """Normalised age band ``"16-24"`` from a label such as ``"16–24 år"`` or ``"065-69"``.

    Examples
    --------
    >>> _band("16–24 år"), _band("065-69"), _band("totalt")
    ('16-24', '65-69', None)
    """
    m = _BAND.search(text)
    return f"{int(m.group(1)):02d}-{int(m.group(2)):02d}" if m else None


class SourceMappingError(KompetensprognosError):
    """A table was found but a variable does not have what the mapping expects."""


# --- the declarative mapping ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScbSource:
    """How one SCB table family becomes (part of) a contract table.

    Attributes
    ----------
    key : str
        Name of the source (``"employment"``, ``"population_projection"``, ...).
    contract : str or None
        Contract table it feeds; ``None`` for a raw long table (see ``raw_name``).
    title : str
        What it is, for messages and the manifest.
    hints : tuple[str, ...]
        Real v2 table ids to try first. Each is checked like any candidate.
    searches : tuple[str, ...]
        ``/tables?query=`` search strings, used only when the hints do not give a fitting table
        (or, for segmented sources, when a hint is missing or rejected).
    roles : tuple[str, ...]
        Roles the table must have (see :data:`ROLE_PATTERNS`).
    optional_roles : tuple[str, ...]
        Roles used when present.
    accept : callable
        ``accept(meta, roles) -> reason or None``: why a candidate does not fit.
    select : callable
        ``select(meta, roles, years) -> {variable code: [codes]}``; may raise
        :class:`SourceMappingError` naming the variable and what was expected.
    build : callable
        ``build(frame, meta, roles) -> (frame, notes)``; ``frame`` has one column per role
        (codes) plus ``<role>_label`` and ``value``; other variables keep their codes.
    segmented : bool
        Use every fitting table, each year from the newest table that has it.
    required : bool
        Fail the fetch when no table fits (otherwise the source is skipped, with the reason).
    raw_name : str
        File name (``raw/<raw_name>.csv``) for sources without a contract.
    evidence : str
        ``"recorded"`` (checked against a real recorded answer), ``"public code"`` (v2 id and
        variables seen in public code) or ``"v1 only"`` (v2 id unknown; variable codes from the
        v1 API, unverified).
    """

    key: str
    contract: str | None
    title: str
    hints: tuple[str, ...]
    searches: tuple[str, ...]
    roles: tuple[str, ...]
    accept: Callable[[TableMetadata, Roles], str | None]
    select: Callable[[TableMetadata, Roles, Years], dict[str, list[str]]]
    build: Callable[[pd.DataFrame, TableMetadata, Roles], tuple[pd.DataFrame, list[str]]]
    optional_roles: tuple[str, ...] = ()
    segmented: bool = False
    required: bool = False
    raw_name: str = ""
    evidence: str = "public code"

    @property
    def target(self) -> str:
        """Where the rows go: the contract name or ``raw/<raw_name>``."""
        return self.contract or f"raw/{self.raw_name or self.key}"


def _vg_municipalities() -> list[str]:
    return list(regions.municipalities("vg")["code"])


def _pick(var: Variable, wanted: Sequence[str]) -> list[str]:
    return [c for c in wanted if c in var.values]


def _contents(var: Variable, pattern: str) -> list[str]:
    rx = re.compile(pattern, re.IGNORECASE)
    hits = [c for c in var.values if rx.search(var.label_of(c))]
    return hits[:1] or list(var.values[:1])


def _years_in(var: Variable, years: Years) -> list[str]:
    return [c for c, y in _periods(var).items() if years[0] <= y <= years[1]]


def _ssyk_codes(var: Variable, level: int) -> list[str]:
    return [
        c
        for c in var.values
        if (len(c) == level and c.isdigit()) or c == classifications.UNKNOWN_SSYK
    ]


def _need(meta: TableMetadata, var: Variable, codes: list[str], expected: str) -> list[str]:
    """``codes`` or a :class:`SourceMappingError` naming the table, variable and expectation."""
    if not codes:
        shown = ", ".join(f"{c} ({var.label_of(c)})" for c in var.values[:6])
        raise SourceMappingError(
            f"table {meta.table_id}, variable {var.code} ({var.label}): expected {expected}; "
            f"it offers {shown}{' …' if len(var.values) > 6 else ''}"
        )
    return codes


def _select_totals(
    meta: TableMetadata, roles: Roles, sel: dict[str, list[str]], *, keep_all: bool = True
) -> dict[str, list[str]]:
    """Select the total of every other mandatory variable (eliminable ones are left out).

    A mandatory variable without a recognisable total (``Alder`` in TAB4446, ``InrikesUtrikes``
    in TAB6008 when the total has an unexpected label) is selected in full when ``keep_all`` is
    true — the builder then sums it or keeps it as a column — and is an error otherwise.
    """
    used = {v.code for v in roles.values()}
    for var in meta.variables:
        if var.code in used or var.code in sel or var.elimination:
            continue
        total = _total_code(var)
        if total is not None:
            sel[var.code] = [total]
        elif keep_all:
            sel[var.code] = list(var.values)
        else:
            _need(meta, var, [], "a total value (totalt / samtliga) or elimination")
    return sel


# employment (YREG58 family: TAB4396, TAB3119, TAB4434) ------------------------------------------


def _accept_employment(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_ssyk_codes(roles["ssyk"], 3)) < 50:
        return "occupation variable is not at SSYK 3"
    if not set(_vg_municipalities()) & set(roles["region"].values):
        return "no Västra Götaland municipalities"
    sni = meta.find(r"^sni", r"näringsgren")
    if sni is not None:
        return (
            f"broken down by industry ({sni.code}): the YREG56 family, not YREG58 "
            "(employees by municipality, SSYK 3 and sex)"
        )
    if meta.find(r"[åa]lder") is not None:
        return "is broken down by age"
    return None


def _select_employment(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    region, ssyk = roles["region"], roles["ssyk"]
    sel = {
        region.code: _need(
            meta, region, _pick(region, _vg_municipalities()), "Västra Götaland municipality codes"
        ),
        ssyk.code: _ssyk_codes(ssyk, 3),
        roles["contents"].code: _contents(roles["contents"], r"anställda|sysselsatta"),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "sex" in roles:
        sel[roles["sex"].code] = _need(
            meta, roles["sex"], _pick(roles["sex"], ["1", "2"]), "codes 1 (men) and 2 (women)"
        )
    return _select_totals(meta, roles, sel, keep_all=False)


def _build_employment(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    out = pd.DataFrame(
        {
            "region": frame["region"],
            "ssyk": frame["ssyk"],
            "year": frame["time"].map(period_year).astype(int),
            "employed": frame["value"],
        }
    )
    if "sex" in frame:
        out.insert(3, "sex", frame["sex"].map(_SEX))
    return _drop_missing(out, "employed", meta)


def _drop_missing(
    out: pd.DataFrame, column: str, meta: TableMetadata
) -> tuple[pd.DataFrame, list[str]]:
    missing = out[column].isna()
    notes = []
    if missing.any():
        sample = out.loc[missing].head(5).drop(columns=[column]).astype(str).agg("/".join, axis=1)
        notes.append(
            f"{meta.table_id}: {int(missing.sum())} suppressed or missing cells ('..') left out, "
            f"e.g. {', '.join(sample)}"
        )
    return out.loc[~missing].reset_index(drop=True), notes


# employment by age (YREG57 family, county level; v2 ids not known) -----------------------------

_AGE_BANDS = (
    "16-24",
    "25-29",
    "30-34",
    "35-39",
    "40-44",
    "45-49",
    "50-54",
    "55-59",
    "60-64",
    "65-69",
)


def _accept_employment_age(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_ssyk_codes(roles["ssyk"], 3)) < 50:
        return "occupation variable is not at SSYK 3"
    if "14" not in roles["region"].values:
        return "no county 14"
    if not any(_band(roles["age"].label_of(c)) in _AGE_BANDS for c in roles["age"].values):
        return "age variable has no bands such as 16-24 / 16–24"
    if meta.find(r"^sni", r"näringsgren") is not None:
        return "broken down by industry"
    return None


def _select_employment_age(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    age = roles["age"]
    sel = {
        roles["region"].code: ["14"],
        roles["ssyk"].code: _ssyk_codes(roles["ssyk"], 3),
        age.code: _band_codes(age),
        roles["contents"].code: _contents(roles["contents"], r"anställda|antal"),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "sex" in roles:
        sel[roles["sex"].code] = _need(
            meta, roles["sex"], _pick(roles["sex"], ["1", "2"]), "codes 1 (men) and 2 (women)"
        )
    return _select_totals(meta, roles, sel, keep_all=False)


def _band_codes(age: Variable) -> list[str]:
    """The codes of the age bands, one per band (a band repeated under another codelist's code
    is not taken twice).

    Examples
    --------
    >>> from kompetensprognos.sources.pxweb import Variable
    >>> v = Variable("Alder", "ålder", ("16-24", "25-29", "x"), {"x": "16–24 år"})
    >>> _band_codes(v)
    ['16-24', '25-29']
    """
    seen: dict[str, str] = {}
    for c in age.values:
        band = _band(age.label_of(c))
        if band in _AGE_BANDS and band not in seen:
            seen[band] = c
    return list(seen.values())


def _build_employment_age(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    out = pd.DataFrame(
        {
            "region": frame["region"],
            "ssyk": frame["ssyk"],
            "age": frame["age_label"].map(_band),
            "year": frame["time"].map(period_year).astype(int),
            "employed": frame["value"],
        }
    )
    if "sex" in frame:
        out.insert(4, "sex", frame["sex"].map(_SEX))
    return _drop_missing(out, "employed", meta)


# population (TAB638, TAB5557) and projection (TAB6008) -------------------------------------------

_AGE_CODE = re.compile(r"^(\d{1,3})(\+\d*)?$")  # "0".."99", "100+", "100+1" (TAB5557)


def _single_ages(var: Variable) -> dict[str, int]:
    """Single-year age codes → age (``"100+"`` and TAB5557's ``"100+1"`` → 100).

    Tables with several codelists repeat the open top class under different codes (TAB6471:
    ``100+``, ``100+5``, ``100+10``, all "100+ år"): only one of them is taken, ``100+`` or
    ``100+1`` first, so age 100 is not counted twice.

    Examples
    --------
    >>> from kompetensprognos.sources.pxweb import Variable
    >>> ages = _single_ages(Variable("Alder", "ålder", ("0", "1", "100+10", "100+", "100+5", "tot")))
    >>> ages
    {'0': 0, '1': 1, '100+': 100}
    """
    out: dict[str, int] = {}
    top: list[str] = []
    for c in var.values:
        m = _AGE_CODE.match(c)
        if not m or int(m.group(1)) > 100:
            continue
        if m.group(2) is None:
            out[c] = int(m.group(1))
        elif int(m.group(1)) == 100:
            top.append(c)
    if top and "100" not in out:
        best = min(top, key=lambda c: ({"100+": 0, "100+1": 1}.get(c, 2), top.index(c)))
        out[best] = 100
    return out


def _accept_population(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_single_ages(roles["age"])) < 90:
        return "age is not by single year"
    if not set(_vg_municipalities()) & set(roles["region"].values):
        return "no Västra Götaland municipalities"
    if re.search(r"framskriv|prognos", meta.label, re.IGNORECASE):
        return "is a projection"
    if re.search(r"per månad", meta.label, re.IGNORECASE):
        return "is monthly"
    if not any(
        re.search(r"folkmängd", roles["contents"].label_of(c), re.IGNORECASE)
        for c in roles["contents"].values
    ):
        return "has no population count (folkmängd)"
    return None


def _accept_projection(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_single_ages(roles["age"])) < 90:
        return "age is not by single year"
    if not set(_vg_municipalities()) & set(roles["region"].values):
        return "no Västra Götaland municipalities"
    if not re.search(r"framskriv|prognos", meta.label, re.IGNORECASE):
        return "is not a projection"
    return None


def _select_population(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    region, sex = roles["region"], roles["sex"]
    sel = {
        region.code: _need(
            meta, region, _pick(region, _vg_municipalities()), "Västra Götaland municipality codes"
        ),
        roles["age"].code: list(_single_ages(roles["age"])),
        sex.code: _need(meta, sex, _pick(sex, ["1", "2"]), "codes 1 (men) and 2 (women)"),
        roles["contents"].code: _contents(
            roles["contents"], r"^folkmängd|framskriven folkmängd|folkmängd"
        ),
        roles["time"].code: _years_in(roles["time"], years),
    }
    # InrikesUtrikes in TAB6008 cannot be eliminated: take its total ("inrikes och utrikes födda")
    return _select_totals(meta, roles, sel, keep_all=True)


def _select_projection(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    sel = _select_population(meta, roles, years)
    sel[roles["time"].code] = [c for c, y in _periods(roles["time"]).items() if y > years[1]]
    return sel


def _population_builder(
    kind: str,
) -> Callable[[pd.DataFrame, TableMetadata, Roles], tuple[pd.DataFrame, list[str]]]:
    def build(
        frame: pd.DataFrame, meta: TableMetadata, roles: Roles
    ) -> tuple[pd.DataFrame, list[str]]:
        ages = _single_ages(roles["age"])
        out = pd.DataFrame(
            {
                "region": frame["region"],
                "year": frame["time"].map(period_year).astype(int),
                "age": frame["age"].map(ages).astype(int),
                "sex": frame["sex"].map(_SEX),
                "population": frame["value"],
                "kind": kind,
            }
        )
        # a mandatory variable selected in full (no total) is summed
        out = out.groupby(["region", "year", "age", "sex", "kind"], as_index=False, dropna=False)[
            "population"
        ].sum(min_count=1)
        return _drop_missing(out, "population", meta)

    return build


# YH students and graduates (YHStudT1dN; v2 id not known) ---------------------------------------

#: Myndigheten för yrkeshögskolan's education areas → nearest SUN 2020 field (2 digits).
#: An approximation: YH areas are not SUN fields. Areas not listed are reported, not guessed.
YH_AREA_TO_SUN: dict[str, str] = {
    "data/it": "48",
    "ekonomi, administration och försäljning": "34",
    "friskvård och kroppsvård": "81",
    "hotell, restaurang och turism": "81",
    "hälso- och sjukvård samt socialt arbete": "72",
    "journalistik och information": "32",
    "juridik": "38",
    "kultur, media och design": "21",
    "lantbruk, djurvård, trädgård, skog och fiske": "62",
    "pedagogik och undervisning": "14",
    "samhällsbyggnad och byggteknik": "58",
    "säkerhetstjänster": "86",
    "teknik och tillverkning": "52",
    "transporttjänster": "84",
}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def _accept_yh(meta: TableMetadata, roles: Roles) -> str | None:
    if not re.search(
        r"yrkeshögskol|\(yh\)|yh",
        meta.label + " " + " ".join(v.label for v in meta.variables),
        re.IGNORECASE,
    ):
        return "not a YH table"
    if not any(
        re.search(r"examinerade", roles["contents"].label_of(c), re.IGNORECASE)
        for c in roles["contents"].values
    ):
        return "has no graduates (examinerade)"
    return None


def _yh_areas(var: Variable) -> list[str]:
    """The YH-area values of the field variable, each label once.

    The variable mixes YH areas and SUN groups and repeats labels ("Totalt" three times, "Teknik
    och tillverkning" as area and as SUN group): totals are dropped, and of values with the same
    label only the first is kept, so nothing is counted twice.
    """
    seen: set[str] = set()
    out = []
    for c in var.values:
        label = _norm(var.label_of(c))
        if _is_total(var, c) or label in seen:
            continue
        seen.add(label)
        out.append(c)
    return out


def _region_choice(var: Variable) -> list[str]:
    """VG municipalities when the table has them, else county 14, else Sweden (00)."""
    return _pick(var, _vg_municipalities()) or _pick(var, ["14"]) or _pick(var, ["00"])


def _select_yh(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    field_var = roles["field"]
    contents = roles["contents"]
    sel = {
        field_var.code: _yh_areas(field_var),
        contents.code: _need(
            meta,
            contents,
            [
                c
                for c in contents.values
                if re.search(r"examinerade|påbörjat", contents.label_of(c), re.IGNORECASE)
            ],
            "'Antal examinerade' (and 'Antal antagna som påbörjat studier')",
        ),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "region" in roles:
        sel[roles["region"].code] = _need(
            meta, roles["region"], _region_choice(roles["region"]), "county 14 or 00"
        )
    if "sex" in roles:
        total = _total_code(roles["sex"])
        if total:
            sel[roles["sex"].code] = [total]
    return _select_totals(meta, roles, sel, keep_all=False)


def _build_yh(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    measure = (
        frame["contents_label"]
        .str.contains("examinerade", case=False)
        .map({True: "graduates", False: "starters"})
    )
    area = frame["field_label"].map(_norm)
    sun = area.map(YH_AREA_TO_SUN)
    sun_groups = {_norm(n) for n in classifications.sun_fields()["name_sv"]}
    unmapped = frame.loc[sun.isna() & ~area.isin(sun_groups), "field_label"].unique()
    if len(unmapped):
        notes.append(
            f"{meta.table_id}: {int((sun.isna() & ~area.isin(sun_groups)).sum())} cells of YH "
            "areas without a SUN 2020 field left out: " + ", ".join(sorted(unmapped))
        )
    long = pd.DataFrame(
        {
            "region": frame["region"] if "region" in frame else "00",
            "education": sun,
            "year": frame["time"].map(period_year).astype(int),
            "measure": measure,
            "value": frame["value"],
        }
    )[sun.notna()]
    wide = long.pivot_table(
        index=["region", "education", "year"],
        columns="measure",
        values="value",
        aggfunc="sum",
        dropna=False,
    ).reset_index()
    wide.columns.name = None
    wide.insert(2, "type", "yh")
    if "starters" not in wide:
        wide["starters"] = float("nan")
    out = wide[["region", "education", "type", "year", "graduates", "starters"]]
    return _drop_missing(out, "graduates", meta)[0], notes


# crosswalk (TAB4446: occupation × SUN 2020 field, 1 digit, × age × sex, Sweden) -------------------


def _accept_crosswalk(meta: TableMetadata, roles: Roles) -> str | None:
    fields_known = set(classifications.sun_fields()["code"])
    if not set(roles["field"].values) & fields_known:
        return "education variable does not use SUN 2020 field codes"
    if len(_ssyk_codes(roles["ssyk"], 4)) < 100 and len(_ssyk_codes(roles["ssyk"], 3)) < 50:
        return "occupation variable is not at SSYK 3 or 4"
    return None


def _select_crosswalk(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    fields_known = set(classifications.sun_fields()["code"])
    ssyk = _ssyk_codes(roles["ssyk"], 4)
    if len(ssyk) < 100:
        ssyk = _ssyk_codes(roles["ssyk"], 3)
    periods = _years_in(roles["time"], years)
    latest = periods[-1:] or list(_periods(roles["time"]))[-1:]
    sel = {
        roles["ssyk"].code: ssyk,
        roles["field"].code: [c for c in roles["field"].values if c in fields_known],
        roles["contents"].code: list(roles["contents"].values[:1]),
        roles["time"].code: latest,
    }
    if "region" in roles:
        sel[roles["region"].code] = _pick(roles["region"], ["00"]) or _pick(roles["region"], ["14"])
    if "level" in roles:
        sel[roles["level"].code] = [
            c
            for c in roles["level"].values
            if re.search(r"eftergymnasial", roles["level"].label_of(c), re.IGNORECASE)
        ]
    # Alder (and Kon) in TAB4446 cannot be eliminated and have no total: all values, summed
    return _select_totals(meta, roles, sel, keep_all=True)


def _crosswalk_targets(digits: int) -> list[tuple[str, str, str]]:
    """``(type, education, source prefix)`` for every education the crosswalk must cover.

    yh and higher: every SUN 2020 field with 1 or 2 digits; gymnasium: every programme with a SUN
    field. Each takes the occupation distribution of the table's field with the same first
    ``digits`` digits (its broad field when the table is at 1 digit).
    """
    fields = classifications.sun_fields()
    codes = [c for c in fields["code"] if len(c) <= 2]
    out = [(t, c, c[:digits]) for t in ("yh", "higher") for c in codes]
    progs = classifications.programmes().dropna(subset=["sun_field"])
    out += [
        ("gymnasium", p, str(f).split(".")[0][:digits])
        for p, f in zip(progs["code"], progs["sun_field"], strict=True)
    ]
    return out


def _build_crosswalk(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    base = pd.DataFrame(
        {"field": frame["field"], "ssyk": frame["ssyk"], "n": frame["value"].fillna(0)}
    )
    if "level" in frame:  # a table by level: post-secondary < 3 years → yh, else higher
        short = frame["level_label"].str.contains(r"mindre än 3|kortare än 3", case=False)
        base["type"] = short.map({True: "yh", False: "higher"})
        counts = base.groupby(["type", "field", "ssyk"], as_index=False)["n"].sum()
        counts = counts.rename(columns={"field": "education"})
    else:
        by_field = base.groupby(["field", "ssyk"], as_index=False)["n"].sum()
        digits = int(by_field["field"].str.len().min())
        parts = []
        for etype, edu, prefix in _crosswalk_targets(digits):
            if len(prefix) < digits:
                sub = by_field[by_field["field"].str.startswith(prefix)]
            else:
                sub = by_field[by_field["field"] == prefix]
            if len(sub):
                parts.append(
                    sub.groupby("ssyk", as_index=False)["n"].sum().assign(type=etype, education=edu)
                )
        counts = pd.concat(parts, ignore_index=True)
        notes.append(
            f"{meta.table_id}: SUN fields at {digits} digit(s), not by level — each yh/higher field "
            "and each upper-secondary programme takes the occupation shares of its "
            f"{digits}-digit field (an approximation)"
        )
    totals = counts.groupby(["type", "education"])["n"].transform("sum")
    empty = counts.loc[totals == 0, ["type", "education"]].drop_duplicates()
    if len(empty):
        notes.append(
            f"{meta.table_id}: {len(empty)} education(s) with no employed people left out of the "
            "crosswalk: " + ", ".join(empty["type"] + "/" + empty["education"])
        )
    counts = counts[totals > 0].copy()
    counts["share"] = counts["n"] / totals[totals > 0]
    out = counts.loc[counts["share"] > 0, ["type", "education", "ssyk", "share"]].reset_index(
        drop=True
    )
    return out, notes


# raw long tables (education flows, regional matching indicators) --------------------------------

RAW_COLUMNS = (
    "table_id",
    "region",
    "period",
    "year",
    "education_group",
    "education_group_label",
    "sex",
    "measure",
    "measure_label",
    "value",
)


def _accept_raw(pattern: str) -> Callable[[TableMetadata, Roles], str | None]:
    def accept(meta: TableMetadata, roles: Roles) -> str | None:
        text = " ".join(
            [meta.label, *(roles["contents"].label_of(c) for c in roles["contents"].values)]
        )
        if not re.search(pattern, text, re.IGNORECASE):
            return f"neither title nor contents match /{pattern}/"
        if not _periods(roles["time"]):
            return "time variable has no years or periods such as 2023-2024"
        return None

    return accept


def _select_raw(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    sel: dict[str, list[str]] = {
        roles["contents"].code: list(roles["contents"].values),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "region" in roles:
        region = roles["region"]
        chosen = _pick(region, _vg_municipalities())
        if not chosen:  # labour-market regions (FA..) or counties only
            chosen = _pick(region, ["14"]) + [
                c for c in region.values if c.upper().startswith("FA")
            ]
        sel[region.code] = _need(
            meta,
            region,
            chosen or _pick(region, ["00"]),
            "VG municipalities, county 14 or FA regions",
        )
    if "education_group" in roles:
        sel[roles["education_group"].code] = list(roles["education_group"].values)
    if "sex" in roles:
        total = _total_code(roles["sex"])
        sel[roles["sex"].code] = [total] if total else list(roles["sex"].values)
    return _select_totals(meta, roles, sel, keep_all=True)


def _build_raw(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    def col(role: str, suffix: str = "") -> pd.Series:
        name = f"{role}{suffix}"
        return frame[name] if name in frame else pd.Series(pd.NA, index=frame.index, dtype=object)

    out = pd.DataFrame(
        {
            "table_id": meta.table_id,
            "region": col("region"),
            "period": frame["time"],
            "year": frame["time"].map(period_year).astype(int),
            "education_group": col("education_group"),
            "education_group_label": col("education_group", "_label"),
            "sex": col("sex"),
            "measure": frame["contents"],
            "measure_label": frame["contents_label"],
            "value": frame["value"],
        }
    )
    used = {v.code for v in roles.values()}
    for var in meta.variables:  # variables selected in full (no total) stay as columns
        if var.code not in used and var.code in frame:
            out.insert(len(out.columns) - 1, var.code.lower(), frame[var.code])
    notes = []
    missing = int(out["value"].isna().sum())
    if missing:
        notes.append(f"{meta.table_id}: {missing} suppressed or missing cells ('..') kept as empty")
    return out, notes


def _raw_source(
    key: str,
    title: str,
    *,
    hints: tuple[str, ...] = (),
    searches: tuple[str, ...],
    pattern: str,
    evidence: str,
    optional_roles: tuple[str, ...] = ("region", "sex"),
) -> ScbSource:
    return ScbSource(
        key=key,
        contract=None,
        raw_name=key,
        title=title,
        hints=hints,
        searches=searches,
        roles=("education_group", "contents", "time"),
        optional_roles=optional_roles,
        accept=_accept_raw(pattern),
        select=_select_raw,
        build=_build_raw,
        evidence=evidence,
    )


#: Wiring of raw tables to contracts: ``{source key: (contract name, convert)}`` where
#: ``convert(raw long frame) -> contract frame``. Empty until the contracts exist; e.g.
#: ``RAW_TO_CONTRACT["stock_flow"] = ("population_education", to_population_education)``.
#: The raw table is still written under ``raw/``; the converted rows join the contract table.
RAW_TO_CONTRACT: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = {}

SOURCES: dict[str, ScbSource] = {
    s.key: s
    for s in [
        ScbSource(
            key="employment",
            contract="employment",
            title="employees 16-64 (16-69 from 2023) by workplace municipality, SSYK 3 and sex",
            hints=("TAB4434", "TAB3119", "TAB4396"),
            searches=("anställda yrke 3-siffrig SSYK 2012 region kön",),
            roles=("region", "ssyk", "contents", "time"),
            optional_roles=("sex",),
            accept=_accept_employment,
            select=_select_employment,
            build=_build_employment,
            segmented=True,
            required=True,
        ),
        ScbSource(
            key="employment_age",
            contract="employment_age",
            title="employees by county, SSYK 3, age band and sex (YREG57 family)",
            hints=(),
            searches=("anställda yrke SSYK 2012 ålder kön region",),
            roles=("region", "ssyk", "age", "contents", "time"),
            optional_roles=("sex",),
            accept=_accept_employment_age,
            select=_select_employment_age,
            build=_build_employment_age,
            segmented=True,
            evidence="v1 only",
        ),
        ScbSource(
            key="population",
            contract="population",
            title="population 31 December by municipality, single year of age and sex",
            hints=("TAB638", "TAB5557"),
            searches=("folkmängden region civilstånd ålder kön",),
            roles=("region", "age", "sex", "contents", "time"),
            accept=_accept_population,
            select=_select_population,
            build=_population_builder("observed"),
            segmented=True,
        ),
        ScbSource(
            key="population_projection",
            contract="population",
            title="official population projection by municipality, age and sex",
            hints=("TAB6008",),
            searches=("framskriven folkmängd region ålder kön",),
            roles=("region", "age", "sex", "contents", "time"),
            accept=_accept_projection,
            select=_select_projection,
            build=_population_builder("projection"),
        ),
        ScbSource(
            key="yh_graduates",
            contract="education_output",
            title="YH starters and graduates by education area (YHStudT1dN)",
            hints=(),
            searches=("yrkeshögskolan studerande examinerade",),
            roles=("field", "contents", "time"),
            optional_roles=("region", "sex"),
            accept=_accept_yh,
            select=_select_yh,
            build=_build_yh,
            evidence="v1 only",
        ),
        ScbSource(
            key="crosswalk",
            contract="crosswalk",
            title="employees by occupation (SSYK 4) and SUN 2020 field → education-to-occupation shares",
            hints=("TAB4446",),
            searches=("anställda yrke SSYK 2012 utbildningsinriktning SUN 2020",),
            roles=("ssyk", "field", "contents", "time"),
            optional_roles=("region", "level"),
            accept=_accept_crosswalk,
            select=_select_crosswalk,
            build=_build_crosswalk,
        ),
        _raw_source(
            "education_flows",
            "education flows per municipality by education level group (TAB6928)",
            hints=("TAB6928",),
            searches=("utbildningsflöden kommun",),
            pattern=r"utbildningsflöd|examin|flöd",
            evidence="public code",
            optional_roles=("region",),
        ),
        _raw_source(
            "stock_flow",
            "population 18-64 year 1/2, age entries and exits, movers, graduates, further study "
            "by region and education group (RegionInd19U3N)",
            searches=("RegionInd19U3N", "matchningsindikatorer utbildningsgrupp"),
            pattern=r"åldersinträden|åldersutträden|inflyttare|vidareutbild",
            evidence="v1 only",
        ),
        _raw_source(
            "labour_status",
            "employed / registered unemployed / not in the labour force by region and education "
            "group (RegionInd19U1aN1)",
            searches=("RegionInd19U1aN1", "matchningsindikatorer utbildningsgrupp"),
            pattern=r"inskrivna arbetslösa|inte i arbetskraften",
            evidence="v1 only",
        ),
        _raw_source(
            "commuting",
            "in- and out-commuters, day and night population by region and education group "
            "(RegionInd19U2N1)",
            searches=("RegionInd19U2N1", "matchningsindikatorer utbildningsgrupp"),
            pattern=r"pendlare|dagbefolkning|nattbefolkning",
            evidence="v1 only",
        ),
        _raw_source(
            "yh_admissions",
            "admitted to YH by region and education group (RegionInd19U5aN)",
            searches=("RegionInd19U5aN", "matchningsindikatorer utbildningsgrupp"),
            pattern=r"antagna",
            evidence="v1 only",
        ),
    ]
}


# --- resolving tables ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedTable:
    """A table chosen for a source, with its variables by role and the years taken from it."""

    meta: TableMetadata
    roles: Roles
    years: tuple[int, ...]
    overlap: tuple[int, ...] = ()

    def describe(self) -> str:
        """E.g. ``TAB4434 (2020-2024)``."""
        span = f"{self.years[0]}-{self.years[-1]}" if self.years else "no years"
        return f"{self.meta.table_id} ({span})"


def resolve(
    client: PxWebClient,
    source: ScbSource,
    years: Years,
    *,
    max_candidates: int = 25,
) -> tuple[list[ResolvedTable], list[str]]:
    """Find the table(s) for a source: real ids first, then searches; check each candidate.

    The search runs only when the hints give no fitting table, or — for segmented sources — when a
    hint is missing or rejected; it includes discontinued tables for segmented sources (older
    generations are discontinued and hidden from a plain search).

    Returns
    -------
    tuple[list[ResolvedTable], list[str]]
        The tables to use (several for segmented sources) and why other candidates were rejected.
    """
    candidates: dict[str, TableMetadata] = {}
    rejected: list[str] = []
    fitting: list[tuple[TableMetadata, Roles, list[int]]] = []

    def consider(table_id: str) -> None:
        if table_id.upper() in candidates or len(candidates) >= max_candidates:
            return
        try:
            meta = client.metadata(table_id)
        except PxWebUnreachableError:
            raise
        except PxWebError as exc:
            if exc.status == 404:
                rejected.append(f"{table_id}: not found")
                return
            raise
        candidates[table_id.upper()] = meta
        roles = find_roles(meta, (*source.roles, *source.optional_roles))
        missing = [r for r in source.roles if r not in roles]
        reason = f"lacks {', '.join(missing)}" if missing else source.accept(meta, roles)
        if reason:
            rejected.append(f"{meta.table_id}: {reason}")
            return
        fitting.append((meta, roles, _years_of(roles["time"])))

    for hint in source.hints:
        consider(hint)
    need_search = not fitting or (source.segmented and len(fitting) < len(source.hints))
    if need_search:
        for query in source.searches:
            for info in client.search_tables(query, include_discontinued=source.segmented):
                if not info.discontinued or source.segmented:
                    consider(info.id)

    if source.key == "population_projection":
        chosen = sorted(fitting, key=lambda f: f[2][-1] if f[2] else 0, reverse=True)[:1]
        return [
            ResolvedTable(m, r, tuple(y for y in ys if y > years[1])) for m, r, ys in chosen
        ], rejected

    wanted = list(range(years[0], years[1] + 1))
    if not source.segmented:
        best = max(
            fitting,
            key=lambda f: (len(set(f[2]) & set(wanted)), f[2][-1] if f[2] else 0),
            default=None,
        )
        if best is None:
            return [], rejected
        return [ResolvedTable(best[0], best[1], tuple(y for y in best[2] if y in wanted))], rejected

    # segmented: newest table first; each year from the first table that has it
    fitting.sort(key=lambda f: (f[2][-1] if f[2] else 0, -(f[2][0] if f[2] else 0)), reverse=True)
    taken: set[int] = set()
    resolved: list[ResolvedTable] = []
    for meta, roles, table_years in fitting:
        own = tuple(y for y in table_years if y in wanted and y not in taken)
        if not own:
            continue
        taken.update(own)
        # years a newer table already covers: fetched too, to measure the level shift
        overlap = tuple(y for y in table_years if y in wanted and y in taken and y not in own)[:2]
        resolved.append(ResolvedTable(meta, roles, own, overlap))
    resolved.sort(key=lambda r: r.years[0])
    return resolved, rejected


# --- planning ------------------------------------------------------------------------------------


@dataclass
class SourcePlan:
    """What one source will fetch: tables, selections and calls (``data fetch scb --plan``)."""

    source: ScbSource
    tables: list[tuple[ResolvedTable, dict[str, list[str]], list[Query]]] = field(
        default_factory=list
    )
    skipped: str = ""
    rejected: list[str] = field(default_factory=list)

    @property
    def cells(self) -> int:
        """Cells over all calls."""
        return sum(q.cells for _, _, plan in self.tables for q in plan)

    @property
    def calls(self) -> int:
        """Data calls."""
        return sum(len(plan) for _, _, plan in self.tables)

    def describe(self) -> str:
        """Multi-line text: per table id, title, years, variables with selections, cells, calls."""
        s = self.source
        head = f"{s.key} → {s.target} ({'required' if s.required else 'optional'}; evidence: {s.evidence})"
        if self.skipped:
            lines = [head, f"  SKIPPED: {self.skipped}"]
            return "\n".join(lines)
        lines = [head]
        for table, sel, plan in self.tables:
            meta = table.meta
            span = _years_of(meta.time_variable) if meta.time_variable else []
            covers = f"{span[0]}-{span[-1]}" if span else "?"
            lines.append(f"  {meta.table_id}  {meta.label}")
            lines.append(
                f"    table covers {covers}; used for {_span(table.years)}"
                + (f"; overlap fetched {_span(table.overlap)}" if table.overlap else "")
            )
            for var in meta.variables:
                chosen = sel.get(var.code)
                if chosen is None:
                    what = "eliminated"
                else:
                    shown = ", ".join(chosen[:4]) + (" …" if len(chosen) > 4 else "")
                    what = f"{len(chosen)} of {len(var.values)}: {shown}"
                lines.append(f"    {var.code:<24} {var.label[:40]:<40} {what}")
            lines.append(f"    {sum(q.cells for q in plan):,} cells in {len(plan)} call(s)")
        for r in self.rejected:
            lines.append(f"  rejected {r}")
        return "\n".join(lines)


def _span(years: Sequence[int]) -> str:
    return f"{years[0]}-{years[-1]}" if years else "none"


def plan_scb(
    client: PxWebClient,
    *,
    years: Years = (2014, 2024),
    sources: Sequence[str] | None = None,
) -> list[SourcePlan]:
    """Resolve every source with metadata calls only and plan the data calls (nothing downloaded).

    An optional source that cannot be mapped is returned with ``skipped`` set; a required one
    raises :class:`KompetensprognosError` naming the table, the variable and what was expected.
    """
    keys = _source_keys(sources)
    client.config  # noqa: B018 - fail fast (and offline) before anything else
    plans = []
    for key in keys:
        source = SOURCES[key]
        plan = SourcePlan(source)
        try:
            resolved, plan.rejected = resolve(client, source, years)
            if not resolved:
                raise SourceMappingError(
                    "no SCB table fits"
                    + (f" (candidates: {'; '.join(plan.rejected)})" if plan.rejected else "")
                )
            for table in resolved:
                sel = source.select(table.meta, table.roles, years)
                time_code = table.roles["time"].code
                sel[time_code] = [
                    c
                    for c, y in _periods(table.roles["time"]).items()
                    if y in {*table.years, *table.overlap}
                ]
                if not sel[time_code]:
                    continue
                plan.tables.append((table, sel, client.plan(table.meta.table_id, sel)))
        except PxWebError as exc:
            # the table does not fit the query (400) or is gone (404): a mapping problem;
            # offline, rate limits, server failures and unusable answers stop the fetch
            if exc.status not in (400, 404) or isinstance(exc, PxWebUnreachableError):
                raise
            _skip_or_fail(source, plan, str(exc))
        except KompetensprognosError as exc:  # no table fits, a variable lacks what is expected
            _skip_or_fail(source, plan, str(exc))
        plans.append(plan)
    return plans


def _skip_or_fail(source: ScbSource, plan: SourcePlan, reason: str) -> None:
    if source.required:
        raise KompetensprognosError(
            f"SCB source '{source.key}' ({source.title}): {reason} — the mapping is in "
            "kompetensprognos/sources/scb.py (SOURCES); run `data fetch scb --plan` and attach "
            "its output to a bug report"
        )
    plan.skipped = reason
    plan.tables = []


def _source_keys(sources: Sequence[str] | None) -> list[str]:
    keys = list(dict.fromkeys(["employment", *sources])) if sources else list(SOURCES)
    unknown = [k for k in keys if k not in SOURCES]
    if unknown:
        raise KompetensprognosError(
            f"unknown SCB source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}"
        )
    return keys


# --- fetching ------------------------------------------------------------------------------------


@dataclass
class FetchReport:
    """What ``fetch_scb`` did: tables used per source, notes, breaks and where it wrote."""

    directory: Path | None = None
    tables: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    breaks: list[tuple[int, str, str]] = field(default_factory=list)
    queries: int = 0
    downloaded: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    years: dict[str, str] = field(default_factory=dict)
    provenance: list[dict[str, object]] = field(default_factory=list)

    def summary(self) -> str:
        """Human-readable summary for the CLI."""
        lines = [f"wrote {self.directory}" if self.directory else "nothing written"]
        lines += [f"  {k}: {v}" for k, v in self.tables.items()]
        lines += [f"  {k}: skipped — {v}" for k, v in self.skipped.items()]
        if self.rows:
            lines.append("  rows per table:")
            lines += [
                f"    {k:<28} {n:>9,}  years {self.years.get(k, '-')}" for k, n in self.rows.items()
            ]
        lines.append(
            f"  {self.queries} queries, {self.downloaded} downloaded, {self.queries - self.downloaded} from cache"
        )
        lines += [f"  break {y} ({t}): {d}" for y, t, d in self.breaks]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _frame_for(
    client: PxWebClient,
    plan: list[Query],
    roles: Roles,
    cache: ResponseCache | None,
    refresh: bool,
    bar: tqdm,
    report: FetchReport,
) -> pd.DataFrame:
    frames = []
    for query in plan:
        before = client.requests_sent
        frames.append(client.fetch_frame(query, cache=cache, refresh=refresh, labels=True))
        report.downloaded += int(client.requests_sent > before)
        bar.update(1)
    frame = pd.concat(frames, ignore_index=True)
    rename: dict[str, str] = {}
    for role, var in roles.items():
        if var.code in frame:
            rename[var.code] = role
            rename[f"{var.code}_label"] = f"{role}_label"
    return frame.rename(columns=rename)


def build_dataset(
    client: PxWebClient,
    *,
    years: Years = (2014, 2024),
    sources: Sequence[str] | None = None,
    cache: ResponseCache | None = None,
    refresh: bool = False,
    progress: bool = True,
) -> tuple[dict[str, pd.DataFrame], FetchReport]:
    """Resolve, download and map every source; return tables by target (not yet validated).

    Parameters
    ----------
    client : PxWebClient
    years : (int, int)
        First and last year of observed data; projections start after the last.
    sources : sequence of str, optional
        Keys of :data:`SOURCES` to fetch (default all; ``employment`` is always fetched, every
        dataset needs it).
    cache : ResponseCache, optional
    refresh : bool
        Download again even when cached.
    progress : bool
        Show one tqdm bar per source on stderr.

    Returns
    -------
    tuple[dict[str, pandas.DataFrame], FetchReport]
        Contract tables by contract name and raw tables as ``"raw/<name>"``.
    """
    report = FetchReport()
    plans = plan_scb(client, years=years, sources=sources)
    for plan in plans:
        key = plan.source.key
        if plan.skipped:
            report.skipped[key] = plan.skipped
        else:
            report.tables[key] = ", ".join(t.describe() for t, _, _ in plan.tables)
    report.queries = sum(p.calls for p in plans)
    retrieved = datetime.now(UTC).isoformat(timespec="seconds")

    built: dict[str, list[pd.DataFrame]] = {}
    overlap_totals: dict[tuple[str, int], dict[str, float]] = {}
    for plan in plans:
        source = plan.source
        if not plan.tables:
            continue
        parts: list[pd.DataFrame] = []
        entries: list[dict[str, object]] = []
        totals: dict[tuple[str, int], dict[str, float]] = {}
        with tqdm(
            total=plan.calls,
            desc=f"SCB {source.key}",
            unit="call",
            file=sys.stderr,
            disable=not progress,
        ) as bar:
            try:
                for table, _sel, queries in plan.tables:
                    frame = _frame_for(client, queries, table.roles, cache, refresh, bar, report)
                    try:
                        out, notes = source.build(frame, table.meta, table.roles)
                    except (KompetensprognosError, KeyError, ValueError, TypeError) as exc:
                        raise SourceMappingError(
                            f"table {table.meta.table_id}: the answer could not be mapped "
                            f"({type(exc).__name__}: {exc})"
                        ) from exc
                    report.notes += notes
                    if source.segmented and "year" in out:
                        count = _count_column(source.target)
                        for y, total in out.groupby("year")[count].sum().items():
                            totals.setdefault((source.key, int(y)), {})[table.meta.table_id] = (
                                float(total)
                            )
                        out = out[out["year"].isin(table.years)]
                    parts.append(out)
                    entries.append(
                        {
                            "source": source.key,
                            "target": source.target,
                            "table_id": table.meta.table_id,
                            "title": table.meta.label,
                            "updated": table.meta.updated,
                            "years": list(table.years),
                            "overlap_years": list(table.overlap),
                            "cells": sum(q.cells for q in queries),
                            "calls": len(queries),
                            "retrieved": retrieved,
                            "url": f"{client.base_url}/tables/{table.meta.table_id}",
                            "evidence": source.evidence,
                        }
                    )
            except SourceMappingError as exc:
                _skip_or_fail(source, plan, str(exc))  # raises for the required source
                report.skipped[source.key] = plan.skipped
                report.tables.pop(source.key, None)
                continue
        built.setdefault(source.target, []).extend(parts)
        report.provenance += entries
        for k, v in totals.items():
            overlap_totals.setdefault(k, {}).update(v)

    tables = {name: pd.concat(parts, ignore_index=True) for name, parts in built.items()}
    for key, (contract, convert) in RAW_TO_CONTRACT.items():
        raw = tables.get(SOURCES[key].target) if key in SOURCES else None
        if raw is not None and len(raw):
            converted = convert(raw)
            tables[contract] = pd.concat(
                [t for t in (tables.get(contract), converted) if t is not None], ignore_index=True
            )
    if "education_output" in tables:
        tables["education_output"], note = _spread_county_rows(
            tables["education_output"], tables.get("population")
        )
        report.notes += note
    report.breaks = _breaks(plans, overlap_totals, years)
    for name, table in tables.items():
        report.rows[name] = len(table)
        if "year" in table and len(table):
            report.years[name] = f"{int(table['year'].min())}-{int(table['year'].max())}"
    return tables, report


#: ages whose population share spreads county YH graduates over municipalities
YH_SPREAD_AGES = (20, 34)


def _spread_county_rows(
    edu: pd.DataFrame, population: pd.DataFrame | None
) -> tuple[pd.DataFrame, list[str]]:
    """Spread county-14 rows over VG municipalities by population aged 20-34 in each year.

    ``supply`` needs education output per municipality or subregion; YH tables have counties (or
    only Sweden). The spread is an approximation, written to the manifest notes.
    """
    notes: list[str] = []
    national = edu["region"] == "00"
    if national.any():  # supply cannot place Sweden-wide rows in a region
        notes.append(
            f"education_output: {int(national.sum())} YH rows are for Sweden (00) only — the "
            "table has no county 14 — and were left out"
        )
        edu = edu[~national].reset_index(drop=True)
    county = edu["region"] == "14"
    if not county.any():
        return edu, notes
    if population is None or population.empty:
        return edu, [
            *notes,
            "education_output: YH rows are for county 14 only and no population table was "
            "fetched to spread them over municipalities (add population to --only)",
        ]
    pop = population[
        (population["kind"] == "observed")
        & population["age"].between(*YH_SPREAD_AGES)
        & population["region"].isin([m for m in _vg_municipalities() if m.startswith("14")])
    ]
    by = pop.groupby(["year", "region"])["population"].sum()
    shares = (by / by.groupby("year").transform("sum")).rename("w").reset_index()
    years_known = sorted(shares["year"].unique())
    rows = edu[county].copy()
    # years without population (e.g. the newest) use the nearest year's shares
    rows["pop_year"] = rows["year"].map(
        lambda y: min(years_known, key=lambda k: (abs(k - y), -k)) if years_known else y
    )
    spread = rows.drop(columns="region").merge(
        shares.rename(columns={"year": "pop_year"}), on="pop_year"
    )
    for col in ("graduates", "starters"):
        if col in spread:
            spread[col] = spread[col] * spread["w"]
    spread = spread.drop(columns=["w", "pop_year"])[edu.columns]
    note = (
        "education_output: YH graduates and starters are published for county 14, spread over "
        f"its municipalities by population aged {YH_SPREAD_AGES[0]}-{YH_SPREAD_AGES[1]} "
        "(an approximation; Kungsbacka gets none)"
    )
    return pd.concat([edu[~county], spread], ignore_index=True), [*notes, note]


def _count_column(target: str) -> str:
    return {"employment": "employed", "employment_age": "employed", "population": "population"}.get(
        target, "value"
    )


def _breaks(
    plans: list[SourcePlan],
    totals: Mapping[tuple[str, int], Mapping[str, float]],
    years: Years,
) -> list[tuple[int, str, str]]:
    """Series breaks: every switch of source table, plus the 2023 age-range change."""
    out: list[tuple[int, str, str]] = []
    for plan in plans:
        source = plan.source
        if not source.segmented or not plan.tables:
            continue
        tables = sorted((t for t, _, _ in plan.tables), key=lambda t: t.years[0])
        for old, new in zip(tables, tables[1:], strict=False):
            year = new.years[0]
            text = f"source table changes from {old.meta.table_id} to {new.meta.table_id}"
            a, b = register_of(old.meta), register_of(new.meta)
            if a == "RAMS" and b == "RAMS":
                text += " (RAMS → RAMS: new population definition, e.g. YREG58 → YREG58N)"
            elif a == "RAMS" and b == "BAS":
                text += " (RAMS → BAS: the register behind the occupation statistics changed)"
            elif a or b:
                text += f" ({a or '?'} → {b or '?'})"
            ratios = []
            for y in old.overlap:
                pair = totals.get((source.key, y), {})
                x, z = pair.get(old.meta.table_id), pair.get(new.meta.table_id)
                if x and z:
                    ratios.append(f"{y}: {z / x:.3f}")
            if ratios:
                text += f"; level ratio new/old in overlap years {', '.join(ratios)}"
            out.append((year, source.target, text))
        if source.key in ("employment", "employment_age") and years[0] < 2023 <= years[1]:
            out.append(
                (
                    2023,
                    source.target,
                    "age range widened from 16-64 to 16-69 and model-imputed occupations added; "
                    "national employment by occupation +8.7 % 2022→2023 with no real change behind it",
                )
            )
    return sorted(out)


def _default_cache(out: Path) -> Path:
    return out.with_name(f".{out.name}.scb-cache")


def make_client(
    *,
    base_url: str | None = None,
    record: str | Path | None = None,
    replay: str | Path | None = None,
) -> PxWebClient:
    """A client for live use, recording (``--record DIR``) or offline replay (``--replay DIR``).

    Replay reads ``config.json`` from the folder (so queries split exactly as when recorded) and
    does not throttle.
    """
    from kompetensprognos.sources.recording import (
        RecordingTransport,
        ReplayTransport,
        recorded_config,
    )

    kwargs: dict[str, object] = {"base_url": base_url} if base_url else {}
    if replay is not None:
        doc = recorded_config(replay)
        if doc is None:
            raise KompetensprognosError(
                f"{replay}: no config.json — not a folder written by --record"
            )
        cfg = ApiConfig.from_json(doc)
        cfg = ApiConfig(**{**cfg.__dict__, "max_calls_per_time_window": 0})
        return PxWebClient(transport=ReplayTransport(replay), config=cfg, max_retries=0, **kwargs)  # type: ignore[arg-type]
    if record is not None:
        return PxWebClient(transport=RecordingTransport(record), **kwargs)  # type: ignore[arg-type]
    return PxWebClient(**kwargs)  # type: ignore[arg-type]


def fetch_scb(
    out: str | Path,
    *,
    years: Years = (2014, 2024),
    refresh: bool = False,
    sources: Sequence[str] | None = None,
    client: PxWebClient | None = None,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
    progress: bool = True,
    keep_cache: bool = True,
) -> FetchReport:
    """Download SCB tables into a validated dataset folder (``data fetch scb``).

    The folder is written only when every table validates, via a temporary sibling folder that is
    renamed at the end, so an interrupted or failed fetch never leaves a folder that looks
    complete. Raw answers are cached (``.<out>.scb-cache`` next to ``out`` by default): a re-run
    after an interruption continues where it stopped. Besides the contract tables the folder gets
    ``provenance.json`` (every table id, its years and retrieval time) and ``raw/`` (long tables
    of sources without a contract yet).

    Parameters
    ----------
    out : path
        Dataset folder to write. An existing dataset folder (with ``manifest.json``) is replaced;
        any other existing non-empty folder is refused.
    years : (int, int)
        Observed years to fetch.
    refresh : bool
        Ignore cached answers.
    sources : sequence of str, optional
        Subset of :data:`SOURCES`.
    client : PxWebClient, optional
        A configured client (tests pass one with a mock transport; see :func:`make_client`).
    cache_dir : path, optional
        Where to cache raw answers.
    use_cache : bool
        Cache answers at all (replay does not need to).
    progress : bool
        Progress bars on stderr.
    keep_cache : bool
        Keep the cache after success (so later runs are quick).

    Returns
    -------
    FetchReport

    Raises
    ------
    PxWebUnreachableError
        Offline or the host is down: nothing is written.
    DataValidationError
        The mapped tables break the contracts: nothing is written.

    Examples
    --------
    >>> fetch_scb("data/scb", years=(2014, 2024))  # doctest: +SKIP
    """
    from kompetensprognos.dataset import Dataset, Manifest, SeriesBreak, write_dataset
    from kompetensprognos.files import atomic_directory

    out = Path(out)
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists())
    ):
        raise KompetensprognosError(
            f"{out} exists and is not a dataset folder — choose a new folder for --out"
        )
    cache = ResponseCache(cache_dir or _default_cache(out)) if use_cache else None
    own_client = client is None
    client = client or PxWebClient()
    try:
        tables, report = build_dataset(
            client, years=years, sources=sources, cache=cache, refresh=refresh, progress=progress
        )
    finally:
        if own_client:
            client.close()
    raw = {k.removeprefix("raw/"): v for k, v in tables.items() if k.startswith("raw/")}
    contract_tables = {k: v for k, v in tables.items() if not k.startswith("raw/")}
    _drop_invalid_optional(contract_tables, report)
    today = date.today().isoformat()
    manifest = Manifest(
        name=out.name,
        source=f"SCB Statistikdatabasen (PxWebApi 2, {client.base_url})",
        vintage=today,
        synthetic=False,
        breaks=[SeriesBreak(year=y, table=t, description=d) for y, t, d in report.breaks],
        notes=_manifest_notes(report, client, years, today),
    )
    kept = out / "yrkesbarometer.csv"
    if kept.exists() and "yrkesbarometer" not in contract_tables:
        # added earlier by `data fetch yrkesbarometer`
        contract_tables["yrkesbarometer"] = pd.read_csv(
            kept, dtype=str, keep_default_na=False, na_values=[""]
        )
    kept_provenance = _read_provenance(out)
    dataset = Dataset(manifest=manifest, **contract_tables).validate()
    with atomic_directory(out) as tmp:
        write_dataset(dataset, tmp, overwrite=True)
        for name, table in raw.items():
            (tmp / "raw").mkdir(exist_ok=True)
            table.to_csv(
                tmp / "raw" / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n"
            )
        doc = {
            "scb": {
                "base_url": client.base_url,
                "licence": client.config.license or "CC0",
                "years": list(years),
                "tables": report.provenance,
                "skipped": report.skipped,
            }
        }
        if "arbetsformedlingen" in kept_provenance and "yrkesbarometer" in contract_tables:
            doc["arbetsformedlingen"] = kept_provenance["arbetsformedlingen"]
        write_provenance(tmp, doc)
    report.directory = out
    if cache is not None and not keep_cache:
        shutil.rmtree(cache.directory, ignore_errors=True)
    return report


def _drop_invalid_optional(tables: dict[str, pd.DataFrame], report: FetchReport) -> None:
    """Leave out (with the reason) optional contract tables that break their contract.

    ``employment`` is required: its problems stop the fetch when the dataset is validated.
    """
    from kompetensprognos.schemas import validate_table

    for name in [n for n in tables if n != "employment"]:
        _, problems = validate_table(tables[name], name)
        if not problems:
            continue
        reason = f"{name} does not meet its contract: " + "; ".join(str(p) for p in problems[:3])
        for key, source in SOURCES.items():
            if source.contract == name and key in report.tables:
                report.tables.pop(key)
                report.skipped[key] = reason
        report.provenance = [e for e in report.provenance if e["target"] != name]
        report.rows.pop(name, None)
        del tables[name]


PROVENANCE_FILE = "provenance.json"


def _read_provenance(directory: Path) -> dict[str, object]:
    path = directory / PROVENANCE_FILE
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def write_provenance(directory: str | Path, update: Mapping[str, object]) -> Path:
    """Merge ``update`` (per source: ``scb``, ``arbetsformedlingen``) into ``provenance.json``."""
    directory = Path(directory)
    doc = _read_provenance(directory)
    doc.update(update)
    path = directory / PROVENANCE_FILE
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def _manifest_notes(report: FetchReport, client: PxWebClient, years: Years, today: str) -> str:
    parts = [
        f"Observed years {years[0]}-{years[1]}. Licence: {client.config.license or 'CC0'}. "
        f"Tables retrieved {today} (ids, years and times in provenance.json)."
    ]
    parts += [f"{k}: {v}." for k, v in report.tables.items()]
    parts += [f"{k} skipped: {v}." for k, v in report.skipped.items()]
    parts += report.notes
    return " ".join(parts)

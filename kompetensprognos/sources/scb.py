"""SCB tables → contract tables: a declarative mapping and ``data fetch scb``.

Each :class:`ScbSource` says which contract table an SCB table family feeds, how to *find* the
table (hint ids first, then ``/tables?query=`` searches — SCB renames tables, so ids are not
hard-coded as truths), how to recognise its variables (by code or label, e.g. ``region``,
``Yrke2012``, ``Kon``), which values to select and how to turn the answer into the contract.

Occupation-register tables come in generations (``YREG58`` 2014–2018, ``YREG58N`` 2019–2021 on
RAMS, ``YREG58BAS`` 2020– on BAS): for such *segmented* sources every candidate that passes the
checks is used, each year taken from the newest table that has it, and the switch years are
recorded as series breaks in the manifest together with the level shift measured in the overlap
years. The 2023 widening of the age range (16–64 → 16–69) is recorded too.

Examples
--------
>>> from kompetensprognos.sources.scb import fetch_scb
>>> report = fetch_scb("data/scb-2025", years=(2014, 2024))  # doctest: +SKIP
>>> report.tables["employment"]  # doctest: +SKIP
'TAB4436 (2014-2018), ...'
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from kompetensprognos import classifications, regions
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.sources.pxweb import (
    PxWebClient,
    PxWebError,
    PxWebUnreachableError,
    Query,
    ResponseCache,
    TableMetadata,
    Variable,
)

__all__ = [
    "SOURCES",
    "FetchReport",
    "ResolvedTable",
    "ScbSource",
    "build_dataset",
    "fetch_scb",
    "resolve",
]

Years = tuple[int, int]
Roles = dict[str, Variable]

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
}

_SEX = {"1": "men", "2": "women"}
_BAND = re.compile(r"(\d{2})\s*-\s*(\d{2})")
_TOTAL = re.compile(r"^(totalt|samtliga|total|tot)\b", re.IGNORECASE)


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


def _years_of(var: Variable) -> list[int]:
    return sorted(int(c) for c in var.values if re.fullmatch(r"\d{4}", c))


def _total_code(var: Variable) -> str | None:
    return next((c for c in var.values if _TOTAL.match(var.label_of(c)) or _TOTAL.match(c)), None)


def _band(text: str) -> str | None:
    m = _BAND.search(text)
    return f"{m.group(1)}-{m.group(2)}" if m else None


# --- the declarative mapping ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScbSource:
    """How one SCB table family becomes (part of) a contract table.

    Attributes
    ----------
    key : str
        Name of the source (``"employment"``, ``"population_projection"``, ...).
    contract : str
        Contract table it feeds.
    title : str
        What it is, for messages and the manifest.
    hints : tuple[str, ...]
        Table ids or old matrix names to try first (they may be outdated: each is checked).
    searches : tuple[str, ...]
        ``/tables?query=`` search strings tried after the hints.
    roles : tuple[str, ...]
        Roles the table must have (see :data:`ROLE_PATTERNS`).
    optional_roles : tuple[str, ...]
        Roles used when present.
    accept : callable
        ``accept(meta, roles) -> reason or None``: why a candidate does not fit.
    select : callable
        ``select(meta, roles, years) -> {variable code: [codes]}``.
    build : callable
        ``build(frame, meta, roles) -> (contract frame, notes)``; ``frame`` has one column per
        role (codes) plus ``<role>_label`` and ``value``.
    segmented : bool
        Use every fitting table, each year from the newest table that has it.
    required : bool
        Fail the fetch when no table fits (otherwise the table is left out, with a note).
    """

    key: str
    contract: str
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


def _vg_municipalities() -> list[str]:
    return list(regions.municipalities("vg")["code"])


def _pick(var: Variable, wanted: Sequence[str]) -> list[str]:
    return [c for c in wanted if c in var.values]


def _contents(var: Variable, pattern: str) -> list[str]:
    rx = re.compile(pattern, re.IGNORECASE)
    hits = [c for c in var.values if rx.search(var.label_of(c))]
    return hits[:1] or list(var.values[:1])


def _years_in(var: Variable, years: Years) -> list[str]:
    return [str(y) for y in _years_of(var) if years[0] <= y <= years[1]]


def _ssyk_codes(var: Variable, level: int) -> list[str]:
    return [
        c
        for c in var.values
        if (len(c) == level and c.isdigit()) or c == classifications.UNKNOWN_SSYK
    ]


# employment (YREG58 family) ------------------------------------------------------------------


def _accept_employment(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_ssyk_codes(roles["ssyk"], 3)) < 50:
        return "occupation variable is not at SSYK 3"
    if not set(_vg_municipalities()) & set(roles["region"].values):
        return "no Västra Götaland municipalities"
    if meta.find(r"^sni", r"näringsgren") and not meta.find(r"^sni", r"näringsgren").elimination:
        return "has a mandatory industry variable"
    if meta.find(r"[åa]lder") is not None:
        return "is broken down by age"
    return None


def _select_employment(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    sel = {
        roles["region"].code: _pick(roles["region"], _vg_municipalities()),
        roles["ssyk"].code: _ssyk_codes(roles["ssyk"], 3),
        roles["contents"].code: _contents(roles["contents"], r"anställda|sysselsatta"),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "sex" in roles:
        sel[roles["sex"].code] = _pick(roles["sex"], ["1", "2"])
    return sel


def _build_employment(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    out = pd.DataFrame(
        {
            "region": frame["region"],
            "ssyk": frame["ssyk"],
            "year": frame["time"].astype(int),
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


# employment by age (YREG57 family, county level) -------------------------------------------------


def _accept_employment_age(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_ssyk_codes(roles["ssyk"], 3)) < 50:
        return "occupation variable is not at SSYK 3"
    if "14" not in roles["region"].values:
        return "no county 14"
    if not any(_band(roles["age"].label_of(c)) for c in roles["age"].values):
        return "age variable has no bands such as 16-24"
    return None


def _select_employment_age(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    age = roles["age"]
    sel = {
        roles["region"].code: ["14"],
        roles["ssyk"].code: _ssyk_codes(roles["ssyk"], 3),
        age.code: [c for c in age.values if _band(age.label_of(c)) in _AGE_BANDS],
        roles["contents"].code: _contents(roles["contents"], r"anställda|antal"),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "sex" in roles:
        sel[roles["sex"].code] = _pick(roles["sex"], ["1", "2"])
    return sel


def _build_employment_age(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    out = pd.DataFrame(
        {
            "region": frame["region"],
            "ssyk": frame["ssyk"],
            "age": frame["age_label"].map(_band),
            "year": frame["time"].astype(int),
            "employed": frame["value"],
        }
    )
    if "sex" in frame:
        out.insert(4, "sex", frame["sex"].map(_SEX))
    return _drop_missing(out, "employed", meta)


# population (TAB638) and projections (BefProgRegFakN) -------------------------------------------


def _single_ages(var: Variable) -> list[str]:
    return [c for c in var.values if re.fullmatch(r"\d{1,3}\+?", c) and int(c.rstrip("+")) <= 100]


def _accept_population(meta: TableMetadata, roles: Roles) -> str | None:
    if len(_single_ages(roles["age"])) < 90:
        return "age is not by single year"
    if not set(_vg_municipalities()) & set(roles["region"].values):
        return "no Västra Götaland municipalities"
    if re.search(r"framskriv|prognos", meta.label, re.IGNORECASE):
        return "is a projection"
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
    return {
        roles["region"].code: _pick(roles["region"], _vg_municipalities()),
        roles["age"].code: _single_ages(roles["age"]),
        roles["sex"].code: _pick(roles["sex"], ["1", "2"]),
        roles["contents"].code: _contents(
            roles["contents"], r"^folkmängd|framskriven folkmängd|folkmängd"
        ),
        roles["time"].code: _years_in(roles["time"], years),
    }


def _select_projection(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    sel = _select_population(meta, roles, years)
    sel[roles["time"].code] = [str(y) for y in _years_of(roles["time"]) if y > years[1]]
    return sel


def _population_builder(
    kind: str,
) -> Callable[[pd.DataFrame, TableMetadata, Roles], tuple[pd.DataFrame, list[str]]]:
    def build(
        frame: pd.DataFrame, meta: TableMetadata, roles: Roles
    ) -> tuple[pd.DataFrame, list[str]]:
        out = pd.DataFrame(
            {
                "region": frame["region"],
                "year": frame["time"].astype(int),
                "age": frame["age"].str.rstrip("+").astype(int),
                "sex": frame["sex"].map(_SEX),
                "population": frame["value"],
                "kind": kind,
            }
        )
        return _drop_missing(out, "population", meta)

    return build


# YH graduates (YHStudT1dN) ---------------------------------------------------------------------

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


def _select_totals(
    meta: TableMetadata, roles: Roles, sel: dict[str, list[str]]
) -> dict[str, list[str]]:
    """Select the total of every other mandatory variable (or leave eliminable ones out)."""
    used = {v.code for v in roles.values()}
    for var in meta.variables:
        if var.code in used or var.code in sel or var.elimination:
            continue
        total = _total_code(var)
        if total is None:
            raise KompetensprognosError(
                f"table {meta.table_id}: cannot tell the total of variable {var.code} ({var.label}); "
                "update the mapping in kompetensprognos/sources/scb.py"
            )
        sel[var.code] = [total]
    return sel


def _select_yh(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    field_var = roles["field"]
    contents = roles["contents"]
    sel = {
        field_var.code: [c for c in field_var.values if not _TOTAL.match(field_var.label_of(c))],
        contents.code: [
            c
            for c in contents.values
            if re.search(r"examinerade|påbörjat", contents.label_of(c), re.IGNORECASE)
        ],
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "region" in roles:
        sel[roles["region"].code] = _pick(roles["region"], ["14"]) or _pick(roles["region"], ["00"])
    if "sex" in roles:
        total = _total_code(roles["sex"])
        if total:
            sel[roles["sex"].code] = [total]
    return _select_totals(meta, roles, sel)


def _build_yh(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    measure = (
        frame["contents_label"]
        .str.contains("examinerade", case=False)
        .map({True: "graduates", False: "starters"})
    )
    area = frame["field_label"].str.strip().str.lower()
    sun = area.map(YH_AREA_TO_SUN)
    unmapped = sorted(frame.loc[sun.isna(), "field_label"].unique())
    if unmapped:
        notes.append(
            f"{meta.table_id}: {int(sun.isna().sum())} cells of YH areas without a SUN 2020 field left out: "
            + ", ".join(unmapped)
        )
    long = pd.DataFrame(
        {
            "region": frame["region"] if "region" in frame else "00",
            "education": sun,
            "year": frame["time"].astype(int),
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


# education flows per municipality (TAB6928) ---------------------------------------------------


def _accept_flows(meta: TableMetadata, roles: Roles) -> str | None:
    fields_known = set(classifications.sun_fields()["code"])
    if not set(roles["field"].values) & fields_known:
        return "education variable does not use SUN 2020 field codes"
    if not any(
        re.search(r"examin", roles["contents"].label_of(c), re.IGNORECASE)
        for c in roles["contents"].values
    ):
        return "has no graduates"
    if not set(_vg_municipalities()) & set(roles["region"].values):
        return "no Västra Götaland municipalities"
    return None


def _select_flows(meta: TableMetadata, roles: Roles, years: Years) -> dict[str, list[str]]:
    fields_known = set(classifications.sun_fields()["code"])
    sel = {
        roles["region"].code: _pick(roles["region"], _vg_municipalities()),
        roles["field"].code: [c for c in roles["field"].values if c in fields_known],
        roles["contents"].code: _contents(roles["contents"], r"examin"),
        roles["time"].code: _years_in(roles["time"], years),
    }
    if "level" in roles:
        sel[roles["level"].code] = [
            c
            for c in roles["level"].values
            if re.search(r"eftergymnasial", roles["level"].label_of(c), re.IGNORECASE)
        ]
    return _select_totals(meta, roles, sel)


def _build_flows(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    out = (
        pd.DataFrame(
            {
                "region": frame["region"],
                "education": frame["field"],
                "type": "higher",
                "year": frame["time"].astype(int),
                "graduates": frame["value"],
            }
        )
        .groupby(["region", "education", "type", "year"], as_index=False)["graduates"]
        .sum(min_count=1)
    )
    return _drop_missing(out, "graduates", meta)


# crosswalk (occupation × education) ----------------------------------------------------------


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
    latest = [y for y in _years_in(roles["time"], years)][-1:] or [
        str(_years_of(roles["time"])[-1])
    ]
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
    return _select_totals(meta, roles, sel)


def _build_crosswalk(
    frame: pd.DataFrame, meta: TableMetadata, roles: Roles
) -> tuple[pd.DataFrame, list[str]]:
    if "level" in frame:
        short = frame["level_label"].str.contains(r"mindre än 3|kortare än 3", case=False)
        etype = short.map({True: "yh", False: "higher"})
    else:
        etype = pd.Series("higher", index=frame.index)
    counts = (
        pd.DataFrame(
            {
                "type": etype,
                "education": frame["field"],
                "ssyk": frame["ssyk"],
                "n": frame["value"].fillna(0),
            }
        )
        .groupby(["type", "education", "ssyk"], as_index=False)["n"]
        .sum()
    )
    totals = counts.groupby(["type", "education"])["n"].transform("sum")
    empty = counts.loc[totals == 0, ["type", "education"]].drop_duplicates()
    notes = []
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

SOURCES: dict[str, ScbSource] = {
    s.key: s
    for s in [
        ScbSource(
            key="employment",
            contract="employment",
            title="employees 16-64 (16-69 from 2023) by workplace municipality, SSYK 3 and sex",
            hints=("TAB4436", "YREG58BAS", "YREG58N", "YREG58"),
            searches=("anställda yrke 3-siffrig SSYK 2012 region kön", "YREG58"),
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
            title="employees by county, SSYK 3, age band and sex",
            hints=("YREG57BAS", "YREG57N", "YREG57"),
            searches=("anställda yrke SSYK 2012 ålder kön region", "YREG57"),
            roles=("region", "ssyk", "age", "contents", "time"),
            optional_roles=("sex",),
            accept=_accept_employment_age,
            select=_select_employment_age,
            build=_build_employment_age,
            segmented=True,
        ),
        ScbSource(
            key="population",
            contract="population",
            title="population 31 December by municipality, single year of age and sex",
            hints=("TAB638",),
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
            hints=("BefProgRegFakN",),
            searches=("framskriven folkmängd region ålder kön", "befolkningsframskrivning region"),
            roles=("region", "age", "sex", "contents", "time"),
            accept=_accept_projection,
            select=_select_projection,
            build=_population_builder("projection"),
        ),
        ScbSource(
            key="yh_graduates",
            contract="education_output",
            title="YH starters and graduates by education area",
            hints=("YHStudT1dN",),
            searches=("yrkeshögskolan studerande examinerade utbildningsinriktning",),
            roles=("field", "contents", "time"),
            optional_roles=("region", "sex"),
            accept=_accept_yh,
            select=_select_yh,
            build=_build_yh,
        ),
        ScbSource(
            key="education_flows",
            contract="education_output",
            title="post-secondary graduates per municipality and SUN 2020 field (education flows)",
            hints=("TAB6928",),
            searches=("utbildningsflöden examinerade kommun",),
            roles=("region", "field", "contents", "time"),
            optional_roles=("level",),
            accept=_accept_flows,
            select=_select_flows,
            build=_build_flows,
        ),
        ScbSource(
            key="crosswalk",
            contract="crosswalk",
            title="employees by occupation and SUN 2020 field (education → occupation shares)",
            hints=("TAB4446",),
            searches=("anställda yrke SSYK 2012 utbildningsinriktning SUN 2020",),
            roles=("ssyk", "field", "contents", "time"),
            optional_roles=("region", "level"),
            accept=_accept_crosswalk,
            select=_select_crosswalk,
            build=_build_crosswalk,
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
        """E.g. ``TAB4436 (2020-2024)``."""
        span = f"{self.years[0]}-{self.years[-1]}" if self.years else "no years"
        return f"{self.meta.table_id} ({span})"


def resolve(
    client: PxWebClient,
    source: ScbSource,
    years: Years,
    *,
    max_candidates: int = 12,
) -> tuple[list[ResolvedTable], list[str]]:
    """Find the table(s) for a source: hint ids, then searches; check each candidate's variables.

    Returns
    -------
    tuple[list[ResolvedTable], list[str]]
        The tables to use (several for segmented sources) and why other candidates were rejected.
    """
    candidates: dict[str, TableMetadata] = {}
    rejected: list[str] = []

    def consider(table_id: str) -> None:
        if table_id.upper() in candidates or len(candidates) >= max_candidates:
            return
        try:
            candidates[table_id.upper()] = client.metadata(table_id)
        except PxWebUnreachableError:
            raise
        except PxWebError as exc:
            if exc.status == 404:
                rejected.append(f"{table_id}: not found")
            else:
                raise

    for hint in source.hints:
        consider(hint)
    for query in source.searches:
        for info in client.search_tables(query):
            if not info.discontinued or source.segmented:
                consider(info.id)

    fitting: list[tuple[TableMetadata, Roles, list[int]]] = []
    for meta in candidates.values():
        roles = find_roles(meta, (*source.roles, *source.optional_roles))
        missing = [r for r in source.roles if r not in roles]
        reason = f"lacks {', '.join(missing)}" if missing else source.accept(meta, roles)
        if reason:
            rejected.append(f"{meta.table_id}: {reason}")
            continue
        fitting.append((meta, roles, _years_of(roles["time"])))

    if source.key == "population_projection":
        chosen = sorted(fitting, key=lambda f: f[2][-1] if f[2] else 0, reverse=True)[:1]
        return [
            ResolvedTable(m, r, tuple(y for y in ys if y > years[1])) for m, r, ys in chosen
        ], rejected

    wanted = [y for y in range(years[0], years[1] + 1)]
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

    def summary(self) -> str:
        """Human-readable summary for the CLI."""
        lines = [f"wrote {self.directory}" if self.directory else "nothing written"]
        lines += [f"  {k}: {v}" for k, v in self.tables.items()]
        lines += [f"  {k}: skipped — {v}" for k, v in self.skipped.items()]
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
    meta: TableMetadata,
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
    """Resolve, download and map every source; return contract tables (not yet validated).

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
        Show a tqdm bar on stderr.

    Returns
    -------
    tuple[dict[str, pandas.DataFrame], FetchReport]
    """
    report = FetchReport()
    keys = list(dict.fromkeys(["employment", *sources])) if sources else list(SOURCES)
    unknown = [k for k in keys if k not in SOURCES]
    if unknown:
        raise KompetensprognosError(
            f"unknown SCB source(s) {', '.join(unknown)}; choose from {', '.join(SOURCES)}"
        )
    client.config  # noqa: B018 - fail fast (and offline) before anything else

    # plan everything first so the progress bar knows the total
    plans: list[tuple[ScbSource, ResolvedTable, list[Query]]] = []
    for key in keys:
        source = SOURCES[key]
        resolved, rejected = resolve(client, source, years)
        if not resolved:
            reason = "no SCB table fits" + (
                f" (candidates: {'; '.join(rejected)})" if rejected else ""
            )
            if source.required:
                raise KompetensprognosError(f"SCB source '{key}' ({source.title}): {reason}")
            report.skipped[key] = reason
            continue
        report.tables[key] = ", ".join(r.describe() for r in resolved)
        for table in resolved:
            sel = source.select(table.meta, table.roles, years)
            time_code = table.roles["time"].code
            sel[time_code] = [str(y) for y in sorted({*table.years, *table.overlap})]
            if not sel[time_code]:
                continue
            plans.append((source, table, client.plan(table.meta.table_id, sel)))

    report.queries = sum(len(p) for _, _, p in plans)
    built: dict[str, list[pd.DataFrame]] = {}
    overlap_totals: dict[tuple[str, int], dict[str, float]] = {}
    with tqdm(
        total=report.queries, desc="SCB", unit="query", file=sys.stderr, disable=not progress
    ) as bar:
        for source, table, plan in plans:
            frame = _frame_for(client, plan, table.roles, table.meta, cache, refresh, bar, report)
            out, notes = source.build(frame, table.meta, table.roles)
            report.notes += notes
            if source.segmented and "year" in out:
                count = _count_column(source.contract)
                for y, total in out.groupby("year")[count].sum().items():
                    overlap_totals.setdefault((source.key, int(y)), {})[table.meta.table_id] = (
                        float(total)
                    )
                out = out[out["year"].isin(table.years)]
            built.setdefault(source.contract, []).append(out)

    tables = {name: pd.concat(parts, ignore_index=True) for name, parts in built.items()}
    report.breaks = _breaks(plans, overlap_totals, years)
    return tables, report


def _count_column(contract: str) -> str:
    return {"employment": "employed", "employment_age": "employed", "population": "population"}.get(
        contract, "graduates"
    )


def _breaks(
    plans: list[tuple[ScbSource, ResolvedTable, list[Query]]],
    totals: Mapping[tuple[str, int], Mapping[str, float]],
    years: Years,
) -> list[tuple[int, str, str]]:
    """Series breaks: every switch of source table, plus the 2023 age-range change."""
    out: list[tuple[int, str, str]] = []
    by_source: dict[str, list[ResolvedTable]] = {}
    for source, table, _ in plans:
        if source.segmented:
            by_source.setdefault(source.key, []).append(table)
    for key, tables in by_source.items():
        contract = SOURCES[key].contract
        tables = sorted(tables, key=lambda t: t.years[0])
        for old, new in zip(tables, tables[1:], strict=False):
            year = new.years[0]
            text = f"source table changes from {old.meta.table_id} to {new.meta.table_id}"
            if key.startswith("employment") and year in (2019, 2020, 2021):
                text += " (RAMS → BAS: the register behind the occupation statistics changed)"
            ratios = []
            for y in old.overlap:
                pair = totals.get((key, y), {})
                a, b = pair.get(old.meta.table_id), pair.get(new.meta.table_id)
                if a and b:
                    ratios.append(f"{y}: {b / a:.3f}")
            if ratios:
                text += f"; level ratio new/old in overlap years {', '.join(ratios)}"
            out.append((year, contract, text))
    for key in ("employment", "employment_age"):
        if key in by_source and years[0] < 2023 <= years[1]:
            out.append(
                (
                    2023,
                    SOURCES[key].contract,
                    "age range widened from 16-64 to 16-69 and model-imputed occupations added; "
                    "national employment by occupation +8.7 % 2022→2023 with no real change behind it",
                )
            )
    return sorted(out)


def _default_cache(out: Path) -> Path:
    return out.with_name(f".{out.name}.scb-cache")


def fetch_scb(
    out: str | Path,
    *,
    years: Years = (2014, 2024),
    refresh: bool = False,
    sources: Sequence[str] | None = None,
    client: PxWebClient | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    keep_cache: bool = True,
) -> FetchReport:
    """Download SCB tables into a validated dataset folder (``data fetch scb``).

    The folder is written only when every table validates, via a temporary sibling folder that is
    renamed at the end, so an interrupted or failed fetch never leaves a folder that looks
    complete. Raw answers are cached (``.<out>.scb-cache`` next to ``out`` by default): a re-run
    after an interruption continues where it stopped.

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
        A configured client (tests pass one with a mock transport).
    cache_dir : path, optional
        Where to cache raw answers.
    progress : bool
        Progress bar on stderr.
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

    out = Path(out)
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / "manifest.json").exists())
    ):
        raise KompetensprognosError(
            f"{out} exists and is not a dataset folder — choose a new folder for --out"
        )
    cache = ResponseCache(cache_dir or _default_cache(out))
    own_client = client is None
    client = client or PxWebClient()
    try:
        tables, report = build_dataset(
            client, years=years, sources=sources, cache=cache, refresh=refresh, progress=progress
        )
    finally:
        if own_client:
            client.close()
    manifest = Manifest(
        name=out.name,
        source=f"SCB Statistikdatabasen (PxWebApi 2, {client.base_url})",
        vintage=date.today().isoformat(),
        synthetic=False,
        breaks=[SeriesBreak(year=y, table=t, description=d) for y, t, d in report.breaks],
        notes=_manifest_notes(report, client, years),
    )
    kept = out / "yrkesbarometer.csv"
    if (
        kept.exists() and "yrkesbarometer" not in tables
    ):  # added earlier by `data fetch yrkesbarometer`
        tables["yrkesbarometer"] = pd.read_csv(
            kept, dtype=str, keep_default_na=False, na_values=[""]
        )
    dataset = Dataset(manifest=manifest, **tables).validate()
    report.directory = write_dataset(dataset, out, overwrite=out.exists())
    if not keep_cache:
        shutil.rmtree(cache.directory, ignore_errors=True)
    return report


def _manifest_notes(report: FetchReport, client: PxWebClient, years: Years) -> str:
    parts = [f"Observed years {years[0]}-{years[1]}. Licence: {client.config.license or 'CC0'}."]
    parts += [f"{k}: {v}." for k, v in report.tables.items()]
    parts += [f"{k} skipped: {v}." for k, v in report.skipped.items()]
    parts += report.notes
    return " ".join(parts)

"""Import files analysts download by hand: SCB CSV / Excel / PX exports and Skolverket exports.

``import_files(kind, files)`` reads each file, finds its columns by their Swedish headers, maps the
rows onto a contract table and returns every row it could not map with the reason (suppressed
``..`` cells, totals, codes that are not municipalities, unknown programmes ...) — rows are never
dropped silently.

Kinds
-----
``scb-employment``       SCB occupation register: region × yrke (SSYK) × [kön] × år → ``employment``
``scb-employment-age``   region × yrke × ålder (band) × [kön] × år → ``employment_age``
``scb-population``       region × ålder (single years) × kön × år → ``population`` (observed)
``skolverket-gymnasium`` programme starters and % with diploma within 3 years per school
                         municipality and start year → ``education_output`` (type gymnasium)

Examples
--------
>>> result = import_files("scb-employment", ["anstallda_ssyk3.csv"])  # doctest: +SKIP
>>> result.tables["employment"].head()  # doctest: +SKIP
>>> print(result.summary())  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos import classifications, regions
from kompetensprognos.errors import DataValidationError, KompetensprognosError
from kompetensprognos.schemas import AGE_BANDS, TABLES, validate_table
from kompetensprognos.sources.px import read_px

__all__ = [
    "KINDS",
    "ImportResult",
    "UnmappedRow",
    "import_files",
    "merge_into_dataset",
    "read_any",
    "split_code",
]


@dataclass(frozen=True)
class UnmappedRow:
    """A source row that did not make it into a contract table, and why."""

    file: str
    line: int | None
    reason: str
    values: str = ""

    def __str__(self) -> str:
        where = f"{self.file}, line {self.line}" if self.line else self.file
        return f"{where}: {self.reason}" + (f" ({self.values})" if self.values else "")


@dataclass
class ImportResult:
    """Contract tables built from the files, plus every row that could not be mapped."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    unmapped: list[UnmappedRow] = field(default_factory=list)
    read: int = 0

    def summary(self, limit: int = 10) -> str:
        """Counts per table and per reason, with a few example rows."""
        lines = [f"read {self.read} rows"]
        lines += [f"  {name}: {len(t)} rows mapped" for name, t in self.tables.items()]
        if self.unmapped:
            lines.append(f"  {len(self.unmapped)} rows not mapped:")
            for reason, n in Counter(u.reason for u in self.unmapped).most_common():
                lines.append(f"    {n:>6} × {reason}")
            lines.append("  e.g.")
            lines += [f"    {u}" for u in self.unmapped[:limit]]
        return "\n".join(lines)


# --- reading any file into a raw long frame -----------------------------------------------------

_YEAR_HEADER = re.compile(
    r"(?:^|\s)((?:19|20)\d\d)$"
)  # "2014" or "Anställda 2014", not "SSYK 2012)"
_CODE_LABEL = re.compile(r"^\s*(\d{1,6})\s+(\S.*)$")


def split_code(text: object) -> tuple[str | None, str]:
    """Split SCB's ``"1480 Göteborg"`` into (``"1480"``, ``"Göteborg"``); no code → (None, text).

    Examples
    --------
    >>> split_code("2512 Mjukvaru- och systemutvecklare")
    ('2512', 'Mjukvaru- och systemutvecklare')
    >>> split_code("0114 Upplands Väsby")
    ('0114', 'Upplands Väsby')
    >>> split_code("totalt")
    (None, 'totalt')
    """
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text).strip()
    m = _CODE_LABEL.match(s)
    if m:
        return m.group(1), m.group(2).strip()
    if s.isdigit():
        return s, s
    return None, s


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1", errors="replace")  # pragma: no cover - latin-1 never fails


def _header_row(rows: list[list[str]]) -> int:
    """Index of the header: the first row followed by a row of the same width (skips titles)."""
    widths = [sum(1 for c in r if str(c).strip()) for r in rows]
    full = max(widths) if widths else 0
    for i, w in enumerate(widths[:-1]):
        if w >= 2 and w >= full - 1 and widths[i + 1] >= 2:
            return i
    return 0


def _read_csv(path: Path) -> tuple[pd.DataFrame, int]:
    text = _decode(path.read_bytes())
    sample = "\n".join(text.splitlines()[:20])
    counts = {d: sample.count(d) for d in (";", "\t", ",")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    head = _header_row([r for r in rows[:30]])
    header = [h.strip() for h in rows[head]]
    body = [
        r + [""] * (len(header) - len(r)) for r in rows[head + 1 :] if any(c.strip() for c in r)
    ]
    frame = pd.DataFrame([r[: len(header)] for r in body], columns=header, dtype=object)
    return frame, head + 2  # line number of the first data row


def _read_excel(path: Path) -> tuple[pd.DataFrame, int]:
    raw = pd.read_excel(path, header=None, dtype=object, sheet_name=0)
    rows = raw.fillna("").astype(str).values.tolist()
    head = _header_row(rows[:30])
    header = [str(h).strip() for h in rows[head]]
    body = raw.iloc[head + 1 :].copy()
    body.columns = header
    body = body.loc[:, [h for h in header if h]]
    body = body.dropna(how="all")
    return body.astype(object).where(body.notna(), ""), head + 2


def read_any(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, int]:
    """Read a CSV (``;``/``,``/tab, UTF-8 or latin-1, title lines skipped), Excel or PX file.

    Returns the raw frame (all text; PX files give code and ``_label`` columns) and the file line
    of its first row, for messages.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise KompetensprognosError(f"{path}: no such file")
    if suffix == ".px":
        px = read_px(path)
        frame = px.to_frame()
        frame["value"] = frame["value"].astype(object)
        if "marker" in frame:
            frame.loc[frame["marker"].notna(), "value"] = frame["marker"]
            frame = frame.drop(columns="marker")
        # PX: codes in the variable column, texts in <var>_label; present as "code label"
        for var in px.variables:
            if var in px.codes:
                frame[var] = (
                    frame[var] + " " + frame[f"{var}_label"].str.replace(r"^\d+\s+", "", regex=True)
                )
            frame = frame.drop(columns=f"{var}_label")
        return frame, 0
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return _read_excel(path)
    return _read_csv(path)


def _melt_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Wide SCB exports have one column per year (``2014`` or ``Anställda 2014``): make them long."""
    if any(_is_column(str(c), "year") for c in frame.columns):
        return frame
    year_cols = {c: _YEAR_HEADER.search(str(c)) for c in frame.columns if c != "_line"}
    year_cols = {c: m.group(1) for c, m in year_cols.items() if m}
    if not year_cols:
        return frame
    ids = [c for c in frame.columns if c not in year_cols]
    long = frame.melt(id_vars=ids, value_vars=list(year_cols), var_name="år", value_name="value")
    long["år"] = long["år"].map(year_cols)
    return long.sort_values(["_line", "år"], kind="stable").reset_index(drop=True)


_COLUMN_PATTERNS: dict[str, str] = {
    "region": r"^(region|kommun|län|lan|kommunkod)\b",
    "ssyk": r"^(yrke|ssyk)",
    "sex": r"^k[öo]n\b",
    "age": r"^[åa]lder",
    "year": r"^(år|ar|tid|year)$",
    "value": r"^(value|antal|anställda|folkmängd|värde)",
}


def _is_column(name: str, role: str) -> bool:
    return bool(re.search(_COLUMN_PATTERNS[role], name.strip(), re.IGNORECASE))


def _columns(frame: pd.DataFrame, roles: Sequence[str], file: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for role in roles:
        col = next(
            (
                c
                for c in frame.columns
                if c != "_line" and c not in found.values() and _is_column(str(c), role)
            ),
            None,
        )
        if col is None and role == "value":
            numeric_like = [c for c in frame.columns if c != "_line" and c not in found.values()]
            col = numeric_like[-1] if numeric_like else None
        if col is not None:
            found[role] = col
    return found


_SEX = {"män": "men", "man": "men", "1": "men", "kvinnor": "women", "kvinna": "women", "2": "women"}
_MISSING = {"..", "...", ".", "", ":", "nan", "None"}


def _number(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse SCB numbers ('1 234', '12,5', '-' = 0); return values and the missing markers."""
    text = (
        series.astype(str)
        .str.strip()
        .str.replace("\u00a0", "", regex=False)
        .str.replace(" ", "", regex=False)
    )
    text = text.str.replace(",", ".", regex=False).where(text != "-", "0")
    values = pd.to_numeric(text, errors="coerce")
    return values, series.astype(str).str.strip().where(values.isna())


# --- mapping to contracts ------------------------------------------------------------------------

Mapper = Callable[[pd.DataFrame, str, int, "ImportResult"], pd.DataFrame]


def _drop(
    result: ImportResult, frame: pd.DataFrame, mask: pd.Series, reason: str, file: str, first: int
) -> pd.DataFrame:
    """Move the rows under ``mask`` to ``result.unmapped`` with the reason; return the rest."""
    if mask.any():
        for i in frame.index[mask]:
            row = frame.loc[i]
            line = row.get("_line")
            values = " | ".join(str(v) for k, v in row.items() if k != "_line")
            result.unmapped.append(
                UnmappedRow(
                    file, None if line is None or pd.isna(line) else int(line), reason, values
                )
            )
    return frame.loc[~mask].copy()


def _common(
    frame: pd.DataFrame,
    roles: Sequence[str],
    optional: Sequence[str],
    file: str,
    first: int,
    result: ImportResult,
) -> pd.DataFrame:
    frame = _melt_years(frame)
    cols = _columns(frame, [*roles, *optional], file)
    missing = [r for r in roles if r not in cols]
    if missing:
        raise KompetensprognosError(
            f"{file}: cannot find column(s) for {', '.join(missing)} among {', '.join(map(str, frame.columns))} — "
            "export the table with Swedish headers (region, yrke, kön, ålder, år) or rename the columns"
        )
    out = pd.DataFrame({"_line": frame["_line"]}, index=frame.index)
    for role, col in cols.items():
        out[role] = frame[col]
    values, markers = _number(out["value"])
    out = _drop(
        result,
        out,
        values.isna() & markers.isin(_MISSING),
        "suppressed or missing value ('..')",
        file,
        first,
    )
    values = values.loc[out.index]
    out = _drop(result, out, values.isna(), "value is not a number", file, first)
    out["value"] = values.loc[out.index].astype(float)
    year = out["year"].astype(str).str.extract(r"((?:19|20)\d\d)")[0]
    out = _drop(result, out, year.isna(), "no year", file, first)
    out["year"] = year.loc[out.index].astype(int)
    return out


def _map_region(
    out: pd.DataFrame, file: str, first: int, result: ImportResult, level: str
) -> pd.DataFrame:
    code = out["region"].map(lambda v: split_code(v)[0])
    code = code.where(
        code.isna() | (code.str.len() != 3), code.str.zfill(4)
    )  # 114 → 0114 (lost zero)
    if level == "municipality":
        ok = code.map(lambda c: c is not None and regions.is_municipality(c))
        out = _drop(
            result, out, ~ok, "region is not a municipality (total, county or unknown)", file, first
        )
    else:
        ok = code.notna()
        out = _drop(result, out, ~ok, "region has no code", file, first)
    out["region"] = code.loc[out.index]
    return out


def _map_ssyk(out: pd.DataFrame, file: str, first: int, result: ImportResult) -> pd.DataFrame:
    def code_of(v: object) -> str | None:
        code, label = split_code(v)
        if code is None and re.search(r"okänt|okänd", label, re.IGNORECASE):
            return classifications.UNKNOWN_SSYK
        return code

    code = out["ssyk"].map(code_of)
    ok = code.map(
        lambda c: (
            c is not None and (classifications.is_ssyk(c) or c == classifications.UNKNOWN_SSYK)
        )
    )
    out = _drop(
        result, out, ~ok, "occupation is not an SSYK 2012 code (total or unknown)", file, first
    )
    out["ssyk"] = code.loc[out.index]
    return out


def _map_sex(
    out: pd.DataFrame, file: str, first: int, result: ImportResult, required: bool
) -> pd.DataFrame:
    if "sex" not in out:
        return out
    sex = out["sex"].map(
        lambda v: _SEX.get(str(split_code(v)[1]).strip().lower(), _SEX.get(str(v).strip()))
    )
    if required:
        out = _drop(
            result,
            out,
            sex.isna(),
            "sex is not men/women (total rows are not imported)",
            file,
            first,
        )
    else:
        total = sex.isna()
        if total.all():
            return out.drop(columns="sex")
        out = _drop(
            result, out, total, "sex total row (men and women are imported separately)", file, first
        )
    out["sex"] = sex.loc[out.index]
    return out


def _employment(frame: pd.DataFrame, file: str, first: int, result: ImportResult) -> pd.DataFrame:
    out = _common(frame, ["region", "ssyk", "year", "value"], ["sex"], file, first, result)
    out = _map_region(out, file, first, result, "municipality")
    out = _map_ssyk(out, file, first, result)
    out = _map_sex(out, file, first, result, required=False)
    cols = ["region", "ssyk", *(["sex"] if "sex" in out else []), "year", "value"]
    return out[cols].rename(columns={"value": "employed"})


def _band(text: object) -> str | None:
    m = re.search(r"(\d{2})\s*-\s*(\d{2})", str(text))
    return f"{m.group(1)}-{m.group(2)}" if m else None


def _employment_age(
    frame: pd.DataFrame, file: str, first: int, result: ImportResult
) -> pd.DataFrame:
    out = _common(frame, ["region", "ssyk", "age", "year", "value"], ["sex"], file, first, result)
    out = _map_region(out, file, first, result, "any")
    out = _map_ssyk(out, file, first, result)
    band = out["age"].map(_band)
    out = _drop(result, out, ~band.isin(AGE_BANDS), "age is not a band such as 16-24", file, first)
    out["age"] = band.loc[out.index]
    out = _map_sex(out, file, first, result, required=False)
    cols = ["region", "ssyk", "age", *(["sex"] if "sex" in out else []), "year", "value"]
    return out[cols].rename(columns={"value": "employed"})


def _population(frame: pd.DataFrame, file: str, first: int, result: ImportResult) -> pd.DataFrame:
    out = _common(frame, ["region", "age", "sex", "year", "value"], [], file, first, result)
    out = _map_region(out, file, first, result, "municipality")  # one level per table
    age = out["age"].astype(str).str.extract(r"^\s*(\d{1,3})\s*\+?\s*(?:år)?\s*$")[0]
    out = _drop(
        result,
        out,
        age.isna(),
        "age is not a single year (totals and bands are not imported)",
        file,
        first,
    )
    out["age"] = age.loc[out.index].astype(int).clip(upper=100)
    out = _map_sex(out, file, first, result, required=True)
    out["kind"] = "observed"
    return out[["region", "year", "age", "sex", "value", "kind"]].rename(
        columns={"value": "population"}
    )


_GYM_COLUMNS = {
    "programme": r"^(program|programme|gymnasieprogram)",
    "region": r"^(kommunkod|kommun-kod|skolkommun.*kod)",
    "start": r"^(startl[äa]s[åa]r|startår|läsår)",
    "organiser": r"^(huvudman|typ av huvudman)",
    "starters": r"^(totalt_antal|totalt antal|antal elever|nybörjare|starters)",
    "diploma3": r"^(examen_3ar|.*examen inom 3 år|.*examen.*3 år)",
}


def _gymnasium(frame: pd.DataFrame, file: str, first: int, result: ImportResult) -> pd.DataFrame:
    cols: dict[str, str] = {}
    for role, pattern in _GYM_COLUMNS.items():
        col = next(
            (c for c in frame.columns if re.search(pattern, str(c).strip(), re.IGNORECASE)), None
        )
        if col is not None:
            cols[role] = col
    missing = [r for r in ("programme", "region", "start", "starters", "diploma3") if r not in cols]
    if missing:
        raise KompetensprognosError(
            f"{file}: cannot find Skolverket column(s) for {', '.join(missing)} — expected e.g. "
            "program, kommunkod, startlasar, totalt_antal, examen_3ar"
        )
    out = pd.DataFrame(
        {"_line": frame["_line"], **{role: frame[col] for role, col in cols.items()}},
        index=frame.index,
    )
    if "organiser" in out:
        out = _drop(
            result,
            out,
            out["organiser"].astype(str).str.strip().str.lower() != "samtliga",
            "breakdown by organiser (only 'Samtliga' is imported)",
            file,
            first,
        )
    programmes = classifications.programmes()
    by_name = {n.lower(): c for n, c in zip(programmes["name_sv"], programmes["code"], strict=True)}
    by_name.update({c.lower(): c for c in programmes["code"]})
    code = out["programme"].astype(str).str.strip().str.lower().map(by_name)
    out = _drop(
        result,
        out,
        code.isna(),
        "programme is an aggregate or not a national programme",
        file,
        first,
    )
    out["education"] = code.loc[out.index]
    region = out["region"].astype(str).str.strip().str.zfill(4)
    ok = region.map(regions.is_municipality)
    out = _drop(result, out, ~ok, "school municipality code unknown", file, first)
    out["region"] = region.loc[out.index]
    starters, _ = _number(out["starters"])
    share, _ = _number(out["diploma3"])
    bad = starters.isna() | share.isna()
    out = _drop(result, out, bad, "starters or diploma share suppressed ('..')", file, first)
    start = out["start"].astype(str).str.extract(r"((?:19|20)\d\d)")[0].astype(int)
    return pd.DataFrame(
        {
            "region": out["region"],
            "education": out["education"],
            "type": "gymnasium",
            "year": start + 3,  # graduation year of a three-year programme
            "graduates": (starters.loc[out.index] * share.loc[out.index] / 100).round(1),
            "starters": starters.loc[out.index],
        }
    )


#: import kind → (contract table, mapper, help text)
KINDS: dict[str, tuple[str, Mapper, str]] = {
    "scb-employment": (
        "employment",
        _employment,
        "SCB employees by municipality, occupation (SSYK), [sex], year",
    ),
    "scb-employment-age": (
        "employment_age",
        _employment_age,
        "SCB employees by region, occupation, age band, [sex], year",
    ),
    "scb-population": (
        "population",
        _population,
        "SCB population by region, single year of age, sex, year",
    ),
    "skolverket-gymnasium": (
        "education_output",
        _gymnasium,
        "Skolverket starters and %% with diploma within 3 years per programme and school municipality",
    ),
}


def import_files(kind: str, files: Sequence[str | os.PathLike[str]]) -> ImportResult:
    """Read the files and map them onto the contract table of ``kind`` (see :data:`KINDS`).

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    files : sequence of paths
        CSV, Excel or PX files (mixed is fine).

    Returns
    -------
    ImportResult
        ``tables`` (one contract table, rows from all files) and ``unmapped``.

    Examples
    --------
    >>> result = import_files("scb-population", ["folkmangd.px"])  # doctest: +SKIP
    """
    if kind not in KINDS:
        raise KompetensprognosError(f"unknown import kind {kind!r}; choose from {', '.join(KINDS)}")
    contract, mapper, _ = KINDS[kind]
    result = ImportResult()
    parts = []
    for file in files:
        frame, first = read_any(file)
        frame = frame.reset_index(drop=True)
        frame.insert(0, "_line", [first + i if first else None for i in range(len(frame))])
        result.read += len(frame)
        parts.append(mapper(frame, str(file), first, result))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    keys = [k for k in TABLES[contract].keys if k in table.columns]
    dup = table.duplicated(keys, keep="first")
    if dup.any():
        for _, row in table[dup].iterrows():
            result.unmapped.append(
                UnmappedRow(
                    "(all files)",
                    None,
                    "same key appears twice; first kept",
                    " | ".join(map(str, row.tolist())),
                )
            )
        table = table[~dup].reset_index(drop=True)
    result.tables[contract] = table
    return result


def merge_into_dataset(
    tables: dict[str, pd.DataFrame],
    directory: str | os.PathLike[str],
    *,
    source: str,
    note: str = "",
) -> Path:
    """Write contract tables into a dataset folder, keeping the folder's other tables.

    A new folder gets a manifest naming ``source``. Tables are validated first: nothing is
    written when any breaks its contract. A folder without ``employment.csv`` is written but is a
    partial dataset (``data validate`` says so) until employment data is added.
    """
    from kompetensprognos.dataset import Dataset, Manifest, read_manifest, write_dataset

    directory = Path(directory)
    problems = []
    typed = {}
    for name, table in tables.items():
        typed[name], p = validate_table(table, name)
        problems += p
    if problems:
        raise DataValidationError(problems)
    if (directory / "manifest.json").exists():
        old = read_manifest(directory)
        manifest = old.model_copy(update={"notes": (old.notes + " " + note).strip()})
        existing = {
            p.stem: pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
            for p in directory.glob("*.csv")
            if p.stem in TABLES and p.stem not in typed
        }
    elif directory.exists() and any(directory.iterdir()):
        raise KompetensprognosError(
            f"{directory} exists and is not a dataset folder — choose another --out"
        )
    else:
        manifest = Manifest(
            name=directory.name, source=source, vintage=date.today().isoformat(), notes=note
        )
        existing = {}
    dataset = Dataset(manifest=manifest, **{"employment": None, **existing, **typed})  # type: ignore[arg-type]
    from kompetensprognos.files import atomic_directory

    with atomic_directory(directory) as tmp:
        write_dataset(dataset, tmp, overwrite=True)
        # keep what is not a contract table: provenance.json and raw/ (from `data fetch scb`)
        for extra in KEPT_EXTRAS:
            old_path = directory / extra
            if old_path.is_dir():
                shutil.copytree(old_path, tmp / extra)
            elif old_path.is_file():
                shutil.copy2(old_path, tmp / extra)
    return directory


#: files and folders of a dataset folder that are not contract tables but are kept on merge
KEPT_EXTRAS = ("provenance.json", "raw")

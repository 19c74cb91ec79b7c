"""The Swedish Excel workbook for analysts: ``rapport.xlsx`` per region.

:func:`write_workbook` writes one sheet per output table with Swedish headers, occupation and
education names beside their codes, frozen header rows, autofilters, number formats (whole
numbers for people, per cent for shares and probabilities) and column widths, after a first
sheet "Läs mig" with the region, period, definitions of every column, the parameters, the data
source and vintage and, for synthetic data, the warning.

The CSV tables keep the English column names (the machine-readable contract); the "Läs mig"
sheet names the CSV column beside each Swedish header.

Examples
--------
>>> import tempfile, openpyxl
>>> need = pd.DataFrame({"ssyk": ["total", "2221"], "expansion": [5.0, 3.0],
...     "replacement": [10.0, 6.0], "recruitment_need": [15.0, 9.0]})
>>> with tempfile.TemporaryDirectory() as d:
...     path = write_workbook(f"{d}/r.xlsx", {"recruitment_need": need}, region="skaraborg")
...     wb = openpyxl.load_workbook(path)
...     wb.sheetnames, [c.value for c in wb["Rekryteringsbehov"][1]][:3]
(['Läs mig', 'Rekryteringsbehov'], ['SSYK', 'Yrke', 'Expansionsbehov'])
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kompetensprognos import __version__, regions
from kompetensprognos.labels import (
    EXCEL_FORMATS,
    TABLE_LABELS,
    column_spec,
    education_name,
    occupation_name,
    sheet_name,
    value_of,
)

__all__ = ["README_SHEET", "swedish_table", "write_workbook"]

README_SHEET = "Läs mig"

_TABLE_TEXT = {
    "employment_forecast": "Sysselsatta per yrke och år: statistik (observed) och prognos "
    "(forecast) med osäkerhetsintervall.",
    "recruitment_need": "Rekryteringsbehov under perioden per yrke, uppdelat på expansions- och "
    "ersättningsbehov, med 80 % osäkerhetsintervall.",
    "backtest": "Hur träffsäker modellen har varit på tidigare år jämfört med enkla metoder.",
    "education_output": "Examinerade per utbildning och år: statistik och prognos.",
    "supply": "Nytillskott per yrke och år: nyutbildade som börjar arbeta i regionen.",
    "balance": "Balans per yrke: nytillskott jämfört med rekryteringsbehov, status och "
    "sannolikhet för brist.",
    "balance_education": "Balans per utbildning: behovet i de yrken utbildningen leder till "
    "jämfört med nytillskottet från den.",
    "notes": "Anmärkningar om avsnitt som inte kunde beräknas.",
}


def _plain(x: Any) -> Any:
    """A pydantic model or mapping as plain JSON-like data."""
    if x is None:
        return {}
    if hasattr(x, "model_dump_json"):
        return json.loads(x.model_dump_json())
    return dict(x)


def _flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            out.append((name, ", ".join(json.dumps(v, ensure_ascii=False) for v in value) or "–"))
        else:
            out.append((name, "–" if value is None else value))
    return out


def swedish_table(df: pd.DataFrame) -> pd.DataFrame:
    """A table with names inserted beside codes, ready to label (columns still English).

    ``occupation`` is inserted after ``ssyk`` and ``education_name`` after ``education``;
    code columns stay text.

    Examples
    --------
    >>> swedish_table(pd.DataFrame({"ssyk": ["2221"], "n": [1]})).columns.tolist()
    ['ssyk', 'occupation', 'n']
    """
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_bool_dtype(out[col]):  # Swedish words, not TRUE/FALSE or 1/0
            out[col] = out[col].map({True: "ja", False: "nej"})
    if "ssyk" in out.columns and "occupation" not in out.columns:
        codes = out["ssyk"].astype(str)
        names = {c: occupation_name(c, official=True) for c in codes.unique()}
        out.insert(out.columns.get_loc("ssyk") + 1, "occupation", codes.map(names))
    if "education" in out.columns and "education_name" not in out.columns:
        types = out["type"].astype(str) if "type" in out.columns else pd.Series("", index=out.index)
        pairs = list(zip(types, out["education"].astype(str), strict=True))
        names = {p: education_name(p[1], p[0]) for p in set(pairs)}
        out.insert(
            out.columns.get_loc("education") + 1,
            "education_name",
            [names[p] for p in pairs],
        )
    return out


def _readme_rows(
    tables: Mapping[str, pd.DataFrame],
    params: Any,
    manifest: Any,
    region: str | None,
    fingerprint: str | None,
    version: str,
) -> list[tuple[Any, ...]]:
    p = _plain(params)
    region = region or p.get("region")
    rows: list[tuple[Any, ...]] = []
    title = p.get("title") or (
        f"Kompetensprognos för {regions.region_name(region)}" if region else "Kompetensprognos"
    )
    rows.append((title,))
    rows.append(())
    if value_of(manifest, "synthetic", False):
        rows.append(
            (
                "⚠ SYNTETISKA DEMONSTRATIONSDATA: siffrorna är inte verklig statistik och får inte "
                "användas som underlag för beslut eller citeras som fakta om regionen.",
            )
        )
        rows.append(())
    if region:
        rows.append(("Region", regions.region_name(region), region))
    if p.get("period_start") and p.get("period_end"):
        rows.append(("Prognosperiod", f"{p['period_start']}–{p['period_end']}"))
    label = value_of(manifest, "label") or value_of(manifest, "name")
    if label:
        rows.append(("Data", label))
    if value_of(manifest, "source"):
        rows.append(("Källa", value_of(manifest, "source")))
    if value_of(manifest, "vintage"):
        rows.append(("Dataversion (vintage)", value_of(manifest, "vintage")))
    if fingerprint:
        rows.append(("Datafingeravtryck", fingerprint))
    rows.append(("Skapad", time.strftime("%Y-%m-%d %H:%M")))
    rows.append(("Programversion", f"kompetensprognos {version}"))
    rows.append(())
    rows.append(
        (
            "Om tabellerna",
            "Ett blad per tabell. Rubrikerna är på svenska; samma tabeller finns som CSV-filer "
            "i mappen tables/ med engelska kolumnnamn (det maskinläsbara formatet). Personer "
            "avrundas till heltal i visningen men är oavrundade i cellerna.",
        )
    )
    rows.append(())
    rows.append(("Blad", "Kolumn", "Kolumn i CSV", "Förklaring"))
    for name, df in tables.items():
        rows.append((sheet_name(name), "", f"tables/{name}.csv", _TABLE_TEXT.get(name, "")))
        for col in swedish_table(df.head(1)).columns:
            spec = column_spec(col, df[col].dtype if col in df.columns else None)
            csv = col if col in df.columns else "(namn från kod)"
            rows.append(("", spec.label, csv, spec.description))
    flat = _flatten(p)
    if flat:
        rows.append(())
        rows.append(("Parametrar", "Värde"))
        rows += [(k, v if isinstance(v, int | float | str) else str(v)) for k, v in flat]
    return rows


def write_workbook(
    path: str | os.PathLike[str],
    tables: Mapping[str, pd.DataFrame],
    params: Any = None,
    manifest: Any = None,
    *,
    region: str | None = None,
    fingerprint: str | None = None,
    version: str = __version__,
) -> Path:
    """Write a region's tables as a Swedish Excel workbook with a "Läs mig" sheet.

    Parameters
    ----------
    path : path
        The ``.xlsx`` file to write.
    tables : mapping of str to DataFrame
        The region's output tables (English columns, as in ``tables/*.csv``); one sheet each,
        named by :data:`kompetensprognos.labels.TABLE_LABELS`.
    params : Params or dict, optional
        The region's parameters (title, period and every value go on "Läs mig").
    manifest : Manifest or dict, optional
        The dataset manifest (``synthetic``, ``label``, ``source``, ``vintage``).
    region : str, optional
        Region id (default ``params.region``).
    fingerprint : str, optional
        Data fingerprint.
    version : str
        Package version.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = README_SHEET
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="E8E8E8")
    for row in _readme_rows(tables, params, manifest, region, fingerprint, version):
        ws.append(list(row))
    ws["A1"].font = Font(bold=True, size=14)
    for row in ws.iter_rows():
        first = row[0]
        if isinstance(first.value, str) and first.value.startswith("⚠"):
            first.font = Font(bold=True, color="9C2A00", size=12)
        if first.value in ("Blad", "Parametrar"):
            for c in row:
                c.font, c.fill = bold, header_fill
        elif first.value and row[0].row > 2 and len(row) > 2 and row[2].value:
            first.font = bold  # a sheet's own line
        for c in row:
            c.alignment = Alignment(wrap_text=True, vertical="top")
    for r in (1, 3):  # the title and the synthetic-data warning span the sheet's width
        if ws.cell(r, 1).value and not ws.cell(r, 2).value:
            ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=4)
            if r == 3:
                ws.row_dimensions[r].height = 36
    for col, width in zip("ABCD", (26, 34, 30, 80), strict=True):
        ws.column_dimensions[col].width = width

    for name, df in tables.items():
        out = swedish_table(df)
        sheet = wb.create_sheet(sheet_name(name))
        specs = [column_spec(c, out[c].dtype) for c in out.columns]
        sheet.append([s.label for s in specs])
        for c in sheet[1]:
            c.font, c.fill = bold, header_fill
            c.alignment = Alignment(wrap_text=True, vertical="bottom")
        for rec in out.itertuples(index=False, name=None):
            sheet.append([_cell(v) for v in rec])
        for j, spec in enumerate(specs, start=1):
            letter = get_column_letter(j)
            sheet.column_dimensions[letter].width = spec.width
            fmt = EXCEL_FORMATS.get(spec.kind)
            if (
                fmt
                and fmt != "@"
                and len(out)
                and not pd.api.types.is_bool_dtype(out.iloc[:, j - 1])
            ):
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = fmt
        # freeze the header row and the columns up to the first name column, so the name stays
        # in view when scrolling right
        names = [i for i, c in enumerate(out.columns) if c in ("occupation", "education_name")]
        sheet.freeze_panes = f"{get_column_letter(names[0] + 2)}2" if names else "A2"
        if len(out.columns):
            sheet.auto_filter.ref = (
                f"A1:{get_column_letter(len(out.columns))}{max(1, len(out) + 1)}"
            )
        sheet.row_dimensions[1].height = 32
    target = Path(path)
    wb.save(target)
    return target


def _cell(v: Any) -> Any:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(v, "item"):  # numpy scalar
        return v.item()
    return v


def sheet_names(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The sheet names :func:`write_workbook` would write, in order."""
    return [README_SHEET, *(TABLE_LABELS.get(n, n)[:31] for n in tables)]

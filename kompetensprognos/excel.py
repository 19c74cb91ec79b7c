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

import io
import json
import math
import os
import re
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kompetensprognos import __version__, regions
from kompetensprognos.labels import (
    EXCEL_FORMATS,
    TABLE_LABELS,
    VALUE_LABELS,
    column_spec,
    education_name,
    occupation_name,
    sheet_name,
    table_key,
    value_label,
    value_of,
)

__all__ = ["README_SHEET", "swedish_table", "write_workbook"]

README_SHEET = "Läs mig"

# What each table holds, by table key (labels.table_key: the graduates-only balance writes some
# tables under the same names with another meaning).
_TABLE_TEXT = {
    "employment_forecast": "Sysselsatta per yrke och år: statistik och prognos med "
    "osäkerhetsintervall.",
    "recruitment_need": "Rekryteringsbehov under prognosperioden per yrke: summan av varje års "
    "lediga jobb, med expansions- och ersättningsbehov och 80 % osäkerhetsintervall.",
    "backtest": "Hur träffsäker modellen har varit på tidigare år jämfört med enkla metoder.",
    "education_output": "Examinerade per utbildning och år: statistik och prognos.",
    "supply": "Nytillskott per yrke, väg in i yrket och år, under den senaste perioden och "
    "prognosperioden: gymnasieexaminerade, examinerade från YH och högskola, inflyttade, "
    "återinträdande, yrkesbytare och övriga vägar, med yrkets lediga jobb samma år.",
    "balance": "Balans per yrke: nytillskott från alla vägar jämfört med lediga jobb under "
    "prognosperioden, läst mot den senaste perioden, mot regionens övriga yrken och med "
    "utgångspunkt i dagens läge. Brist betyder att bristen väntas öka jämfört med den senaste "
    "perioden, överskott att nytillskotten väntas växa snabbare än de lediga jobben.",
    "balance_education": "Balans per utbildning: tillgången på arbetskraft med utbildningen "
    "(sysselsatta) jämfört med efterfrågan i de yrken den leder till, som förändring från "
    "basåret (sista året med statistik) till prognosperiodens slut.",
    "labour_supply": "Befolkning, arbetskraft och tillgång (sysselsatta) 16–74 år per "
    "utbildning och år: statistik och prognos med 80 % osäkerhetsintervall.",
    "supply_flows": "Befolkningen 16–74 år per utbildning och år med alla flöden: in- och "
    "utträden ur åldersspannet, döda, examinerade, vidareutbildning, in- och utflyttning.",
    "balance_backtest": "Bakåttest av bedömningarna: modellens status från tidigare prognosår "
    "jämförd med utfallet i de syntetiska data och med att föra dagens läge vidare oförändrat.",
    "graduates_supply": "Nytillskott per yrke och år: nyutbildade som väntas börja arbeta i "
    "regionen (den äldre metoden, som bara räknar nyutbildade).",
    "graduates_balance": "Balans per yrke (den äldre metoden): nyutbildade som börjar arbeta i "
    "regionen jämfört med rekryteringsbehovet, status och sannolikhet för brist.",
    "graduates_balance_education": "Balans per utbildning (den äldre metoden): behovet i de "
    "yrken utbildningen leder till jämfört med nytillskottet av nyutbildade från den.",
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
    code columns stay text; code values with a Swedish word (``channel``, ``kind``, ``type``:
    :data:`kompetensprognos.labels.VALUE_LABELS`) are shown in Swedish.

    Examples
    --------
    >>> swedish_table(pd.DataFrame({"ssyk": ["2221"], "n": [1]})).columns.tolist()
    ['ssyk', 'occupation', 'n']
    >>> swedish_table(pd.DataFrame({"channel": ["graduates"]}))["channel"].tolist()
    ['Gymnasieexaminerade']
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
    for col in VALUE_LABELS:  # after the names: education_name reads the type codes
        if col in out.columns:
            words = {v: value_label(col, v) for v in out[col].dropna().unique()}
            out[col] = out[col].map(words).where(out[col].notna(), out[col])
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
        key = table_key(name, df.columns)
        text = _TABLE_TEXT.get(key, _TABLE_TEXT.get(name, ""))
        rows.append((sheet_name(name), "", f"tables/{name}.csv", text))
        for col in swedish_table(df.head(1)).columns:
            spec = column_spec(col, df[col].dtype if col in df.columns else None, key)
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
    rest: list[tuple[Any, pd.DataFrame, list[int]]] = []  # sheets whose rows 3.. are streamed
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
        key = table_key(name, df.columns)
        specs = [column_spec(c, out[c].dtype, key) for c in out.columns]
        sheet.append([s.label for s in specs])
        for c in sheet[1]:
            c.font, c.fill = bold, header_fill
            c.alignment = Alignment(wrap_text=True, vertical="bottom")
        # openpyxl writes the header and the first row with their formats; the other rows are
        # streamed into the saved sheet with the first row's cell styles (_stream_rows)
        if len(out):
            sheet.append([_cell(v) for v in out.iloc[0]])
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
                sheet.cell(2, j).number_format = fmt
        if len(out) > 1:
            styles = [sheet.cell(2, j).style_id for j in range(1, len(out.columns) + 1)]
            rest.append((sheet, out.iloc[1:], styles))
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
    if not rest:
        wb.save(target)
        return target
    buf = io.BytesIO()
    wb.save(buf)
    _stream_rows(buf, target, {sheet.path.lstrip("/"): (df, styles) for sheet, df, styles in rest})
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


def _stream_rows(
    saved: io.BytesIO, target: Path, sheets: Mapping[str, tuple[pd.DataFrame, list[int]]]
) -> None:
    """Copy the workbook openpyxl saved to ``target``, appending the rows of ``sheets``.

    ``sheets`` maps a worksheet's part name (``xl/worksheets/sheet2.xml``) to the rows still to
    write (from sheet row 3 on) and each column's cell style (openpyxl's ``style_id`` of the
    first row). openpyxl spends about 30 µs on a cell (a ``Cell`` object, its style, an lxml
    element); a region's tables have some 170 000 cells, 5 s a workbook. Written here as text a
    column at a time, the same cells take a tenth of that.
    """
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename in sheets:
                df, styles = sheets[info.filename]
                xml = data.decode("utf-8")
                last = f"{_letter(len(df.columns))}{len(df) + 2}"
                xml = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>', xml)
                head, tail = xml.rsplit("</sheetData>", 1)
                data = (head + _rows_xml(df, styles, first_row=3) + "</sheetData>" + tail).encode()
            dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)


def _letter(j: int) -> str:
    """The column letter of 1-based column ``j`` ("A", ..., "Z", "AA", ...)."""
    out = ""
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _rows_xml(df: pd.DataFrame, styles: list[int], first_row: int) -> str:
    """SpreadsheetML ``<row>`` elements for ``df``, cells as openpyxl writes them.

    Numbers as values, text as inline strings (as openpyxl writes them); a missing or non-finite value keeps only its
    column's style (an empty cell), as openpyxl writes it.

    Examples
    --------
    >>> df = pd.DataFrame({"ssyk": ["2221", "A&B"], "n": [1.5, float("nan")], "k": [3, 4]})
    >>> xml = _rows_xml(df, [0, 5, 0], first_row=3)
    >>> print(xml.replace("<row", "\\n<row"))
    <BLANKLINE>
    <row r="3"><c r="A3" t="inlineStr"><is><t>2221</t></is></c><c r="B3" s="5"><v>1.5</v></c><c r="C3"><v>3</v></c></row>
    <row r="4"><c r="A4" t="inlineStr"><is><t>A&amp;B</t></is></c><c r="B4" s="5"/><c r="C4"><v>4</v></c></row>
    """
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.utils.exceptions import IllegalCharacterError

    rows = range(first_row, first_row + len(df))
    texts: dict[str, str] = {}

    def text(v: str) -> str:
        t = texts.get(v)
        if t is None:
            if ILLEGAL_CHARACTERS_RE.search(v):
                raise IllegalCharacterError(f"{v!r} cannot be used in worksheets.")
            esc = v.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            space = ' xml:space="preserve"' if esc != esc.strip() else ""
            t = texts[v] = f"<is><t{space}>{esc}</t></is>"
        return t

    def cell(ref: str, s: str, v: Any) -> str:
        v = _cell(v)
        if v is None or (isinstance(v, str) and not v):  # openpyxl reads "" back as empty
            return f'<c r="{ref}"{s}/>' if s else ""
        if isinstance(v, bool):
            return f'<c r="{ref}"{s} t="b"><v>{int(v)}</v></c>'
        if isinstance(v, int):
            return f'<c r="{ref}"{s}><v>{v}</v></c>'
        if isinstance(v, float):
            return f'<c r="{ref}"{s}><v>{v!r}</v></c>' if math.isfinite(v) else ""
        return f'<c r="{ref}"{s} t="inlineStr">{text(str(v))}</c>'

    columns = []
    for j, (name, style) in enumerate(zip(df.columns, styles, strict=True), start=1):
        letter, s = _letter(j), f' s="{style}"' if style else ""
        values = df[name].tolist()
        if pd.api.types.is_float_dtype(df[name]):
            cells = [
                f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>'
                if math.isfinite(v)
                else (f'<c r="{letter}{r}"{s}/>' if s else "")
                for r, v in zip(rows, values, strict=True)
            ]
        elif pd.api.types.is_integer_dtype(df[name]) and not df[name].hasnans:
            cells = [
                f'<c r="{letter}{r}"{s}><v>{v}</v></c>' for r, v in zip(rows, values, strict=True)
            ]
        else:
            cells = [cell(f"{letter}{r}", s, v) for r, v in zip(rows, values, strict=True)]
        columns.append(cells)
    return "".join(
        f'<row r="{r}">{"".join(cells)}</row>'
        for r, cells in zip(rows, zip(*columns, strict=True), strict=True)
    )


def sheet_names(tables: Mapping[str, pd.DataFrame]) -> list[str]:
    """The sheet names :func:`write_workbook` would write, in order."""
    return [README_SHEET, *(TABLE_LABELS.get(n, n)[:31] for n in tables)]

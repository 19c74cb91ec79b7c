"""The Swedish Excel workbook (rapport.xlsx)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from council_fixtures import pipeline_table_columns, region_tables

from kompetensprognos.balance import NEWCOMER_CHANNELS
from kompetensprognos.dataset import Manifest
from kompetensprognos.excel import README_SHEET, write_workbook
from kompetensprognos.labels import CHANNEL_LABELS, TABLE_LABELS, column_spec, table_key
from kompetensprognos.params import Params

SYNTHETIC = Manifest(name="demo", source="generator", vintage="2025-01", synthetic=True)


@pytest.fixture
def workbook(tmp_path: Path) -> openpyxl.Workbook:
    tables = region_tables()
    tables["notes"] = pd.DataFrame({"section": ["supply"], "message": ["Något saknas."]})
    params = Params.model_validate({"region": "skaraborg", "n_sims": 200})
    path = write_workbook(tmp_path / "rapport.xlsx", tables, params, SYNTHETIC, fingerprint="fp123")
    return openpyxl.load_workbook(path)


def _header(ws) -> list[str]:
    return [c.value for c in ws[1]]


def _column(ws, label: str) -> int:
    return _header(ws).index(label) + 1


def test_sheets_are_swedish_and_start_with_a_readme(workbook) -> None:
    assert workbook.sheetnames == [
        README_SHEET,
        "Sysselsättning",
        "Rekryteringsbehov",
        "Balans per yrke",
        "Balans per utbildning",
        "Anmärkningar",
    ]


def test_readme_explains_columns_period_parameters_and_the_synthetic_data(workbook) -> None:
    ws = workbook[README_SHEET]
    rows = [[c for c in r if c is not None] for r in ws.iter_rows(values_only=True)]
    text = "\n".join(" | ".join(map(str, r)) for r in rows)
    assert rows[0] == ["Kompetensprognos för Skaraborg"]
    assert "SYNTETISKA DEMONSTRATIONSDATA" in text
    assert "Prognosperiod | 2023–2030" in text
    assert "Dataversion (vintage) | 2025-01" in text and "fp123" in text
    # every Swedish header is explained next to its CSV column name
    assert "Sannolikhet för brist | p_shortage | Andel simulerade utfall" in text
    assert "Rekryteringsbehov, övre gräns (80 %) | recruitment_need_hi80" in text
    assert "tables/balance.csv" in text
    # the parameters, flattened
    assert "n_sims | 200" in text and any(r[:1] == ["demand.method"] for r in rows)


def test_tables_have_swedish_headers_names_beside_codes_and_formats(workbook) -> None:
    ws = workbook["Balans per yrke"]
    header = _header(ws)
    assert header[:3] == ["Region", "SSYK", "Yrke"]
    assert "Sannolikhet för brist" in header and "p_shortage" not in header
    codes = [ws.cell(r, 2).value for r in range(2, ws.max_row + 1)]
    names = [ws.cell(r, 3).value for r in range(2, ws.max_row + 1)]
    assert codes[:3] == ["total", "2", "5"] or "222" in codes
    assert all(isinstance(c, str) for c in codes)  # codes stay text
    assert names[codes.index("222")] == "Sjuksköterskor"
    assert names[codes.index("22")].startswith("Yrken med krav på fördjupad högskolekompetens")
    row = codes.index("222") + 2
    assert ws.cell(row, _column(ws, "Rekryteringsbehov")).number_format == "#,##0"
    assert ws.cell(row, _column(ws, "Sannolikhet för brist")).number_format == "0%"
    assert ws.cell(row, _column(ws, "Kvot nytillskott/behov")).number_format == "0.00"
    assert ws.cell(row, _column(ws, "Sannolikhet för brist")).value == pytest.approx(0.88)
    # frozen header row and name column, filters over the whole table, readable widths
    assert ws.freeze_panes == "D2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
    assert ws.column_dimensions["C"].width >= 40


def test_education_names_beside_codes(workbook) -> None:
    ws = workbook["Balans per utbildning"]
    header = _header(ws)
    assert header[:4] == ["Region", "Utbildningsform", "Utbildningskod", "Utbildning"]
    assert [ws.cell(r, 4).value for r in (2, 3)] == [
        "Vård- och omsorgsprogrammet",
        "Hälso- och sjukvård",
    ]


def test_unknown_columns_and_missing_values_do_not_break_the_workbook(tmp_path: Path) -> None:
    tables = {
        "balance": pd.DataFrame(
            {
                "ssyk": ["0110", "2221"],
                "newcomers_in_movers": [3.0, None],
                "openings": [10.0, 20.0],
                "brand_new_share": [0.5, 0.25],
                "surprise": ["a", "b"],
                "supply_covered": [True, False],
            }
        )
    }
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "x.xlsx", tables))
    ws = wb["Balans per yrke"]
    assert _header(ws) == [
        "SSYK",
        "Yrke",
        "Nytillskott: inflyttade",
        "Lediga jobb",
        "Brand new share",
        "Surprise",
        "Utbildning kopplad",
    ]
    assert [ws.cell(r, 7).value for r in (2, 3)] == ["ja", "nej"]
    assert ws.cell(2, 1).value == "0110" and ws.cell(2, 2).value == "Officerare"
    assert ws.cell(3, 3).value is None  # a missing value is an empty cell, not "nan"
    assert ws.cell(2, 5).number_format == "0%"
    assert "SYNTETISKA" not in str(list(wb[README_SHEET].values))


def test_every_row_holds_its_table_values_and_formats(tmp_path: Path) -> None:
    # rows after the first are written outside openpyxl (excel._rows_xml): same values, styles
    n = 40
    table = pd.DataFrame(
        {
            "ssyk": ["2221", "0110", "NA", "5"] * (n // 4),
            "openings": [float(i) + 0.123456789012345 for i in range(n)],
            "p_shortage": [None if i % 7 == 3 else i / n for i in range(n)],
            "year": list(range(2000, 2000 + n)),
            "surprise": ["a & <b>", " kant ", "", None] * (n // 4),
            "supply_covered": [True, False] * (n // 2),
        }
    )
    path = write_workbook(tmp_path / "x.xlsx", {"balance": table})
    ws = openpyxl.load_workbook(path)["Balans per yrke"]
    assert ws.max_row == n + 1 and ws.dimensions == "A1:G41"
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[0] for r in rows] == table["ssyk"].tolist()
    assert [r[2] for r in rows] == table["openings"].tolist()  # exact, as in the CSV
    assert [r[3] for r in rows] == [None if pd.isna(v) else v for v in table["p_shortage"]]
    assert [r[4] for r in rows] == table["year"].tolist()
    assert [r[5] for r in rows] == ["a & <b>", " kant ", None, None] * (n // 4)
    assert [r[6] for r in rows] == ["ja", "nej"] * (n // 2)
    col = _column(ws, "Sannolikhet för brist")
    assert {ws.cell(r, col).number_format for r in range(2, n + 2)} == {"0%"}
    assert {ws.cell(r, _column(ws, "Lediga jobb")).number_format for r in range(2, n + 2)} == {
        "#,##0"
    }


def test_channels_and_other_codes_read_in_swedish_in_the_workbook(tmp_path: Path) -> None:
    # the centred balance's supply table: one row per occupation, year and channel
    supply = pd.DataFrame(
        {
            "region": "skaraborg",
            "ssyk": "222",
            "year": 2024,
            "channel": list(NEWCOMER_CHANNELS) * 2,
            "newcomers": np.arange(2 * len(NEWCOMER_CHANNELS), dtype=float),
            "openings": 40.0,
        }
    )
    flows = pd.DataFrame(
        {"region": "skaraborg", "type": ["forgymnasial", "higher"], "education": ["0", "72"],
         "year": 2024, "population_start": 10.0, "population_end": 11.0,
         "kind": ["observed", "forecast"]}
    )  # fmt: skip
    path = write_workbook(tmp_path / "x.xlsx", {"supply": supply, "supply_flows": flows})
    wb = openpyxl.load_workbook(path)
    ws = wb[TABLE_LABELS["supply"]]
    assert _header(ws) == [
        "Region", "SSYK", "Yrke", "År", "Väg in i yrket", "Nytillskott", "Lediga jobb",
    ]  # fmt: skip
    col = _column(ws, "Väg in i yrket")
    shown = [ws.cell(r, col).value for r in range(2, ws.max_row + 1)]
    assert shown == [CHANNEL_LABELS[c] for c in NEWCOMER_CHANNELS] * 2
    assert supply["channel"].tolist() == list(NEWCOMER_CHANNELS) * 2  # the table keeps its codes
    ws = wb[TABLE_LABELS["supply_flows"]]
    assert [ws.cell(r, _column(ws, "Utbildningsform")).value for r in (2, 3)] == [
        "förgymnasial",
        "högskola",
    ]
    assert [ws.cell(r, _column(ws, "Utbildning")).value for r in (2, 3)] == [
        "Allmän utbildning",
        "Hälso- och sjukvård",
    ]
    assert [ws.cell(r, _column(ws, "Typ")).value for r in (2, 3)] == ["statistik", "prognos"]


def test_every_table_of_a_run_gets_swedish_sheets_headers_and_texts(tmp_path: Path) -> None:
    tables: dict[str, pd.DataFrame] = {}
    for (
        name,
        cols,
    ) in pipeline_table_columns():  # the last builder of each table name wins: one sheet each
        tables[name] = pd.DataFrame(
            {c: ["222" if c == "ssyk" else "x"] if c in ("ssyk", "region") else [1.0] for c in cols}
        )
    wb = openpyxl.load_workbook(write_workbook(tmp_path / "all.xlsx", tables))
    assert wb.sheetnames == [README_SHEET, *(TABLE_LABELS[n] for n in tables)]
    for name, df in tables.items():
        header = _header(wb[TABLE_LABELS[name]])
        key = table_key(name, df.columns)
        # a header built from the English name (title case) would show the fallback
        fallbacks = {c.replace("_", " ").capitalize() for c in df.columns} - {
            column_spec(c, table=key).label for c in df.columns
        }
        assert not fallbacks & set(header), (name, fallbacks & set(header))
    readme = list(wb[README_SHEET].iter_rows(values_only=True))
    sheet_rows = [r for r in readme if isinstance(r[2], str) and r[2].startswith("tables/")]
    assert len(sheet_rows) == len(tables) and all(r[3] for r in sheet_rows)

"""Import of hand-downloaded SCB (CSV/Excel/PX) and Skolverket files; the PX parser."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kompetensprognos.dataset import load_dataset, validate_dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.sources.importers import import_files, read_any, split_code
from kompetensprognos.sources.px import parse_px, read_px

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def _key(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["region", "ssyk", "sex", "year"]).reset_index(drop=True)


def test_split_code_keeps_leading_zeros():
    assert split_code("0114 Upplands Väsby") == ("0114", "Upplands Väsby")
    assert split_code("2512 Mjukvaru- och systemutvecklare") == (
        "2512",
        "Mjukvaru- och systemutvecklare",
    )
    assert split_code("totalt") == (None, "totalt")


def test_scb_csv_latin1_wide_with_title_lines():
    result = import_files("scb-employment", [FIXTURES / "scb_employment_latin1.csv"])
    emp = result.tables["employment"]
    assert set(emp["region"]) == {"1480", "0114"}  # leading zero kept, county row left out
    assert set(emp["ssyk"]) == {"2512", "0002"}
    row = emp[
        (emp.region == "1480") & (emp.ssyk == "2512") & (emp.sex == "women") & (emp.year == 2023)
    ]
    assert row["employed"].item() == 3010
    reasons = [u.reason for u in result.unmapped]
    assert reasons.count("region is not a municipality (total, county or unknown)") == 2
    assert reasons.count("occupation is not an SSYK 2012 code (total or unknown)") == 2
    suppressed = [u for u in result.unmapped if u.line == 6]
    assert suppressed and "suppressed" in suppressed[0].reason and "2023" in suppressed[0].values
    # every cell is accounted for: 8 data lines + the footnote line, × 2 years
    assert len(emp) + len(result.unmapped) == 2 * 9


def test_px_file_gives_the_same_numbers_as_the_csv():
    px = import_files("scb-employment", [FIXTURES / "scb_employment.px"]).tables["employment"]
    csv = import_files("scb-employment", [FIXTURES / "scb_employment_latin1.csv"]).tables[
        "employment"
    ]
    both = _key(px).merge(_key(csv), on=["region", "ssyk", "sex", "year"], suffixes=("_px", "_csv"))
    assert len(both) == len(csv)
    assert (both["employed_px"] == both["employed_csv"]).all()
    assert (
        px.loc[
            (px.region == "0114") & (px.ssyk == "0002") & (px.year == 2022) & (px.sex == "men"),
            "employed",
        ].item()
        == 0
    )


def test_px_parser_details():
    px = read_px(FIXTURES / "scb_employment.px")
    assert px.keywords["MATRIX"] == "YREG58BAS"
    assert px.keywords["NOTE"].endswith(
        "inte jämförbara med tidigare år."
    )  # continued string, latin-1
    assert px.codes["region"] == ["1480", "0114"]
    frame = px.to_frame()
    assert frame["marker"].tolist().count("..") == 2
    with pytest.raises(KompetensprognosError, match="DATA has 3 cells but the variables give 4"):
        parse_px(
            'STUB="a";HEADING="b";VALUES("a")="x","y";VALUES("b")="1","2";DATA=1 2 3;',
            name="cut.px",
        )
    with pytest.raises(KompetensprognosError, match="no DATA"):
        parse_px('TITLE="x";', name="empty.px")


def test_population_long_csv():
    result = import_files("scb-population", [FIXTURES / "scb_population_utf8.csv"])
    pop = result.tables["population"]
    assert sorted(pop["age"]) == [0, 0, 100]
    assert set(pop["kind"]) == {"observed"} and set(pop["region"]) == {"1480"}
    assert len(result.unmapped) == 3


def test_skolverket_gymnasium():
    result = import_files("skolverket-gymnasium", [FIXTURES / "skolverket_gymnasium.csv"])
    edu = result.tables["education_output"].set_index(["education", "year"])
    assert edu.loc[("VO", 2020), "graduates"] == pytest.approx(24.0)  # 40 starters × 60 %
    assert edu.loc[("VO", 2020), "starters"] == 40
    assert edu.loc[("NA", 2020), "graduates"] == pytest.approx(45.1)
    assert edu.loc[("VO", 2019), "graduates"] == pytest.approx(20.9)
    reasons = sorted(u.reason for u in result.unmapped)
    assert reasons == sorted(
        [
            "programme is an aggregate or not a national programme",  # Nationella program
            "programme is an aggregate or not a national programme",  # IB
            "breakdown by organiser (only 'Samtliga' is imported)",
            "starters or diploma share suppressed ('..')",
        ]
    )


def test_excel_with_title_rows(tmp_path):
    path = tmp_path / "export.xlsx"
    rows = [
        ["Folkmängden efter region, ålder, kön och år", None, None, None, None],
        [None, None, None, None, None],
        ["region", "ålder", "kön", "2023", "2024"],
        ["1480 Göteborg", "30 år", "män", 5000, 5100],
        ["1480 Göteborg", "30 år", "kvinnor", 4900, ".."],
    ]
    pd.DataFrame(rows).to_excel(path, header=False, index=False)
    frame, first = read_any(path)
    assert list(frame.columns[:3]) == ["region", "ålder", "kön"] and first == 4
    result = import_files("scb-population", [path])
    assert len(result.tables["population"]) == 3
    assert [u.line for u in result.unmapped] == [5]


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("kommun;antal\n1480 Göteborg;5\n", encoding="utf-8")
    with pytest.raises(KompetensprognosError, match="cannot find column.*ssyk"):
        import_files("scb-employment", [path])


def test_cli_import_writes_a_valid_dataset_and_lists_unmapped(tmp_path, capsys):
    from kompetensprognos.cli import main

    out = tmp_path / "ds"
    assert (
        main(
            [
                "data",
                "import",
                "scb-employment",
                str(FIXTURES / "scb_employment.px"),
                "--out",
                str(out),
                "--dry-run",
            ]
        )
        == 0
    )
    assert not out.exists()
    assert (
        main(
            [
                "data",
                "import",
                "scb-employment",
                str(FIXTURES / "scb_employment_latin1.csv"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "rows not mapped" in text and "region is not a municipality" in text
    assert validate_dataset(out) == []
    # a second import adds another table and keeps employment
    assert (
        main(
            [
                "data",
                "import",
                "skolverket-gymnasium",
                str(FIXTURES / "skolverket_gymnasium.csv"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    ds = load_dataset(out)
    assert len(ds.employment) == 11 and len(ds.education_output) == 3

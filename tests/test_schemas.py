"""Tests of the data contracts: every kind of bad input gets a clear, located message."""

from __future__ import annotations

import pandas as pd
import pytest

from kompetensprognos.errors import DataValidationError
from kompetensprognos.schemas import check, validate_table


def employment(**overrides: list) -> pd.DataFrame:
    base = {
        "region": ["1480", "1480", "0114", "0114"],
        "ssyk": ["251", "251", "251", "251"],
        "year": ["2020", "2021", "2020", "2021"],
        "employed": ["10", "12", "0", "1"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def messages(df: pd.DataFrame, name: str = "employment") -> list[str]:
    return [str(p) for p in validate_table(df, name)[1]]


def test_valid_table_is_typed_and_keeps_leading_zeros() -> None:
    out, problems = validate_table(employment(), "employment")
    assert problems == []
    assert out["region"].tolist() == ["1480", "1480", "0114", "0114"]
    assert out["year"].dtype == "int64"
    assert out["employed"].dtype == "float64"


def test_code_written_as_number_names_file_column_line_and_fix() -> None:
    (msg,) = messages(employment(ssyk=["251", "251.0", "251", "251"]))
    assert "employment.csv" in msg and "`ssyk`" in msg and "line 3" in msg
    assert "'251'" in msg and "text" in msg


def test_lost_leading_zero_is_recognised() -> None:
    (msg,) = messages(employment(region=["1480", "1480", "114", "114"]))
    assert "leading zero" in msg and "'0114'" in msg and "lines 4, 5" in msg


def test_unknown_codes_are_listed() -> None:
    msgs = messages(
        employment(region=["1480", "1480", "9999", "9999"], ssyk=["251", "251", "999", "999"])
    )
    assert any("unknown municipality code" in m and "'9999'" in m for m in msgs)
    assert any("unknown SSYK" in m and "'999'" in m for m in msgs)


def test_negative_count_and_non_numeric_value() -> None:
    msgs = messages(employment(employed=["10", "-1", "..", "1"]))
    assert any("negative count" in m and "line 3" in m for m in msgs)
    assert any("not a number" in m and "'..'" in m and "suppressed" in m for m in msgs)


def test_duplicate_keys_are_reported_with_both_lines() -> None:
    df = employment(year=["2020", "2020", "2020", "2021"])
    msgs = messages(df)
    assert any("repeat the key" in m and "lines 2, 3" in m for m in msgs)


def test_gap_in_a_series_and_in_the_table() -> None:
    series_gap = pd.DataFrame(
        {"region": ["1480"] * 2 + ["0114"] * 3, "ssyk": ["251"] * 5,
         "year": ["2020", "2022", "2020", "2021", "2022"], "employed": ["1"] * 5}
    )  # fmt: skip
    assert any("skip a year" in m and "1480 / 251" in m for m in messages(series_gap))
    table_gap = employment(year=["2020", "2022", "2020", "2022"])
    assert any("no rows for year(s) 2021" in m for m in messages(table_gap))


def test_mixed_ssyk_levels_rejected() -> None:
    msgs = messages(employment(ssyk=["251", "251", "25", "25"]))
    assert any("mixes SSYK levels" in m for m in msgs)


def test_missing_and_unexpected_columns() -> None:
    msgs = messages(employment().drop(columns="employed").assign(extra="x"))
    assert any("missing column(s) employed" in m for m in msgs)
    assert any("unexpected column(s) extra" in m for m in msgs)


def test_crosswalk_shares_must_sum_to_one() -> None:
    cw = pd.DataFrame(
        {"type": ["yh", "yh", "higher"], "education": ["48", "48", "72"],
         "ssyk": ["251", "351", "222"], "share": ["0.5", "0.4", "1"]}
    )  # fmt: skip
    (msg,) = messages(cw, "crosswalk")
    assert "do not sum to 1" in msg and "yh/48: 0.9000" in msg


def test_education_codes_checked_per_type() -> None:
    df = pd.DataFrame(
        {"region": ["fyrbodal"] * 3, "education": ["VO", "XX", "77"], "type": ["gymnasium", "gymnasium", "yh"],
         "year": ["2020"] * 3, "graduates": ["1", "2", "3"]}
    )  # fmt: skip
    msgs = messages(df, "education_output")
    assert any("programme code" in m and "'XX'" in m for m in msgs)
    assert any("SUN 2020" in m and "'77'" in m for m in msgs)


def test_every_problem_reported_at_once() -> None:
    bad = employment(
        region=["1480", "9999", "0114", "0114"],
        employed=["-1", "1", "1", "1"],
        ssyk=["251"] * 3 + ["251.0"],
    )
    with pytest.raises(DataValidationError) as info:
        check(bad, "employment", file="x.csv")
    assert len(info.value.problems) == 3
    assert str(info.value).startswith("3 problems found")

"""Tests for panel reading and validation."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kompetensprognos.errors import DataValidationError, KompetensprognosError
from kompetensprognos.panel import read_panel, validate_panel


def _panel(ids: list[str], years: list[object], ys: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": ids, "ds": years, "y": ys})


def test_valid_panel_is_typed_and_sorted() -> None:
    raw = _panel(
        ["b", "a", "a", "a", "b", "b"], [2015, 2016, 2014, 2015, 2014, 2016], [1, 2, 3, 4, 5, 6]
    )
    out = validate_panel(raw)
    assert out["unique_id"].tolist() == ["a"] * 3 + ["b"] * 3
    assert out["ds"].tolist() == [2014, 2015, 2016] * 2
    assert out["ds"].dtype == "int64" and out["y"].dtype == "float64"


def test_read_panel_keeps_leading_zeros(tmp_path: Path) -> None:
    p = tmp_path / "p.csv"
    p.write_text("unique_id,ds,y\n0114,2014,1\n0114,2015,2\n0114,2016,3\n")
    out = read_panel(p)
    assert out["unique_id"].unique().tolist() == ["0114"]


def test_all_problems_reported_at_once(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text(
        "unique_id,ds,y\n"
        "a,2014,1\na,2015,abc\na,2016,3\n"  # non-numeric y on line 3
        "b,2014,1\nb,2014,2\nb,2015,3\n"  # duplicate year
        "c,2014,1\nc,2016,2\nc,2017,3\n"  # gap 2015
        "d,2014,1\nd,2015,2\n"  # too short
    )
    with pytest.raises(DataValidationError) as info:
        read_panel(p)
    text = str(info.value)
    assert len(info.value.problems) == 4
    assert "'abc'" in text and "line 3" in text
    assert "b/2014" in text
    assert "series 'c'" in text and "missing 2015" in text
    assert "'d'" in text and "fewer than 3" in text


def test_missing_values_are_errors_not_dropped() -> None:
    raw = _panel(["a"] * 4, [2014, 2015, 2016, 2017], [1.0, None, 3.0, 4.0])
    with pytest.raises(DataValidationError, match="missing value"):
        validate_panel(raw)


def test_non_integer_years_and_missing_columns() -> None:
    with pytest.raises(DataValidationError, match="whole number"):
        validate_panel(_panel(["a"] * 3, [2014, 2015.5, 2016], [1, 2, 3]))
    with pytest.raises(DataValidationError, match="missing column"):
        validate_panel(pd.DataFrame({"unique_id": ["a"], "year": [2014], "y": [1]}))


def test_infinite_and_empty_keys() -> None:
    raw = _panel(["a", "a", "a", ""], [2014, 2015, 2016, 2014], [1, float("inf"), 3, 4])
    with pytest.raises(DataValidationError) as info:
        validate_panel(raw)
    text = str(info.value)
    assert "infinite" in text and "empty series key" in text


def test_missing_file() -> None:
    with pytest.raises(KompetensprognosError, match="not found"):
        read_panel("/nonexistent/panel.csv")

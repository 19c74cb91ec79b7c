"""The notebook API's table folder: what write_region writes, read_tables reads back."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kompetensprognos.report import read_tables, write_region


def test_tables_round_trip_keeps_codes_that_look_missing(tmp_path: Path) -> None:
    # "NA" is the education code of Naturvetenskapsprogrammet, not a missing value
    education = pd.DataFrame(
        {
            "education": ["NA", "EE", "0110"],
            "type": ["gymnasium"] * 3,
            "year": [2024, 2024, 2024],
            "graduates": [12.0, None, 3.0],
        }
    )
    write_region(tmp_path / "tables", {"education_output": education})
    back = read_tables(tmp_path / "tables")["education_output"]
    assert back["education"].tolist() == ["NA", "EE", "0110"]
    assert back["graduates"].isna().tolist() == [False, True, False]
    pd.testing.assert_frame_equal(back, education)

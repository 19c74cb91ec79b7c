"""Swedish labels for every column of every table the pipeline writes (kompetensprognos.labels).

The columns come from ``council_fixtures.pipeline_table_columns``: the column constants the
modules export, small calls of the balance builders and, for the tables only a fitted supply or
demand model writes, the header of a real run's CSV files.
"""

from __future__ import annotations

import pytest
from council_fixtures import centred_tables, graduates_only_tables, pipeline_table_columns

from kompetensprognos import excel, labels
from kompetensprognos.balance import NEWCOMER_CHANNELS
from kompetensprognos.labels import CHANNEL_LABELS, column_spec, is_known, table_key
from kompetensprognos.outputs import TABLE_NAMES


@pytest.fixture(scope="module")
def every_table() -> list[tuple[str, list[str]]]:
    return pipeline_table_columns()


def test_every_column_of_every_table_has_a_swedish_label(every_table) -> None:
    names = {name for name, _ in every_table}
    assert names == set(TABLE_NAMES)  # every table the pipeline writes is checked
    missing = [
        (name, col)
        for name, cols in every_table
        for col in cols
        if not is_known(col, table_key(name, cols))
        or not column_spec(col, table=table_key(name, cols)).description
    ]
    assert missing == []


def test_every_table_has_a_swedish_sheet_name_and_a_readme_text(every_table) -> None:
    assert set(labels.TABLE_LABELS) == set(TABLE_NAMES)
    sheets = [labels.sheet_name(t) for t in TABLE_NAMES]
    assert len(set(sheets)) == len(sheets) and all(len(s) <= 31 for s in sheets)
    keys = {table_key(name, cols) for name, cols in every_table}
    assert keys >= {"graduates_balance", "graduates_balance_education", "graduates_supply"}
    assert keys <= set(excel._TABLE_TEXT)


def test_the_two_balances_say_what_their_newcomers_are(every_table) -> None:
    centred = centred_tables()["balance"]
    old = graduates_only_tables()["balance"]
    assert table_key("balance", centred.columns) == "balance"
    assert table_key("balance", old.columns) == "graduates_balance"
    every = column_spec("new_entrants", table="balance").description
    assert "alla vägar" in every and "Nyutbildade" not in every
    assert "Nyutbildade" in column_spec("new_entrants", table="graduates_balance").description
    assert "Nyutbildade" in column_spec("new_entrants", table="graduates_supply").description
    # the stock balance per education group compares stocks, not newcomers with need
    stock = column_spec("new_entrants", table="balance_education")
    assert stock.label != "Nytillskott" and "Tillgång" in stock.label
    assert column_spec("period_start", table="balance_education").label == "Basår"


def test_descriptions_follow_the_current_model() -> None:
    assert "negativ när yrket krymper" in column_spec("expansion").description
    need = column_spec("recruitment_need").description
    assert "lediga jobb" in need and "aldrig under noll" in need and "om positivt" not in need
    assert column_spec("openings").label == "Lediga jobb"
    assert "syntetiska" in column_spec("truth_ratio").description
    assert "syntetiska" in column_spec("truth_status").description
    assert "senaste perioden" in column_spec("past_ratio").description
    for col in ("today_status", "today_ratio"):
        assert column_spec(col).label.startswith("Dagens läge")


def test_one_mapping_names_the_channels() -> None:
    from kompetensprognos.narrative import CHANNEL_NAMES

    assert tuple(CHANNEL_LABELS) == NEWCOMER_CHANNELS
    # the report's text names the channels as the workbook and the chart do
    assert CHANNEL_NAMES == CHANNEL_LABELS
    assert column_spec("newcomers_further_study_leavers").label == (
        "Nytillskott: examinerade från YH och högskola"
    )
    assert labels.VALUE_LABELS["channel"] is CHANNEL_LABELS

"""Tests for kompetensprognos.narrative: Swedish number formatting and report text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from test_plots import backtest, balance, employment_forecast, recruitment_need

from kompetensprognos import narrative
from kompetensprognos.classifications import ssyk_name
from kompetensprognos.dataset import Manifest, SeriesBreak
from kompetensprognos.narrative import NBSP, fmt_float, fmt_int, fmt_pct

MINUS = "\u2212"


def manifest(synthetic: bool) -> Manifest:
    return Manifest(
        name="demo",
        source="SCB" if not synthetic else "kompetensprognos.synthetic",
        vintage="2025-03-01",
        synthetic=synthetic,
        breaks=[SeriesBreak(year=2023, table="employment", description="16-64 -> 16-69")],
    )


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0, "0"),
        (999.4, "999"),
        (12300, f"12{NBSP}300"),
        (1234567.8, f"1{NBSP}234{NBSP}568"),
        (-1500, f"{MINUS}1{NBSP}500"),
        (np.int64(2500), f"2{NBSP}500"),
        (float("nan"), "–"),
        (None, "–"),
        (2.5, "2"),  # Python's round, as the batch summary
    ],
)
def test_fmt_int(x, expected):
    assert fmt_int(x) == expected


def test_fmt_pct_and_float():
    assert fmt_pct(0.123) == f"12{NBSP}%"
    assert fmt_pct(0.0456, 1) == f"4,6{NBSP}%"
    assert fmt_pct(0.05, sign=True) == f"+5{NBSP}%"
    assert fmt_pct(-0.05, sign=True) == f"{MINUS}5{NBSP}%"
    assert fmt_float(1234.56, 1) == f"1{NBSP}234,6"
    assert fmt_float(0.854, 2) == "0,85"


def test_fmt_prob_never_claims_certainty():
    assert narrative.fmt_prob(1.0) == f">99{NBSP}%"
    assert narrative.fmt_prob(0.0) == f"<1{NBSP}%"
    assert narrative.fmt_prob(0.5) == f"50{NBSP}%"


def test_occupation_label_shortens_long_names():
    assert narrative.occupation_label("5") == "Service, omsorg och försäljning"
    assert narrative.occupation_label("22") == "Specialister inom hälso- och sjukvård"
    assert narrative.occupation_label("total") == "Samtliga yrken"
    long = narrative.occupation_label("13", width=40)
    assert len(long) <= 40 and long.startswith("Chefer inom IT")
    assert narrative.occupation_label("2512", width=None) == ssyk_name("2512")


def test_banner_only_for_synthetic():
    text = narrative.synthetic_banner(manifest(True))
    assert "**⚠ Syntetiska demonstrationsdata**" in text
    assert "inte verklig statistik" in text
    assert narrative.synthetic_banner(manifest(False)) == ""


def test_summary_headline_numbers():
    ef, rn, bal = employment_forecast(), recruitment_need(), balance()
    text = narrative.summary("Skaraborg", ef, rn, bal, period=(2023, 2030))
    # computed independently of the module
    tot = ef[ef["ssyk"] == "total"]
    last_obs = tot[tot["kind"] == "observed"].sort_values("year").iloc[-1]
    end = tot[(tot["kind"] == "forecast") & (tot["year"] == 2030)].iloc[0]
    need = rn[rn["ssyk"] == "total"].iloc[0]
    finest = bal[bal["ssyk_level"] == bal["ssyk_level"].max()]
    n_brist = int((finest["status"] == "brist").sum())

    assert f"År {int(last_obs['year'])} var **{fmt_int(last_obs['employed'])}**" in text
    assert f"**{fmt_int(end['employed'])}** sysselsatta" in text
    assert f"{fmt_int(end['lo80'])}–{fmt_int(end['hi80'])}" in text
    assert f"**{fmt_int(round(float(need['recruitment_need'])))}**" in text
    assert fmt_int(need["expansion"]) in text and fmt_int(need["replacement"]) in text
    assert f"**{n_brist}** ha **brist**" in text
    assert "Skaraborg" in text
    # the top shortage occupation is named, with its probability
    assert ssyk_name("222") in text and f"90{NBSP}%" in text


def test_summary_shrinking_employment_and_missing_balance():
    rn = recruitment_need()
    rn.loc[rn["ssyk"] == "total", "expansion"] = -400.0
    rn.loc[rn["ssyk"] == "total", "replacement"] = 2800.0
    rn.loc[rn["ssyk"] == "total", "recruitment_need"] = 2400.0
    text = narrative.summary("Skaraborg", employment_forecast(), rn, None)
    assert "minska med 400" in text
    assert "hela behovet är ersättningsbehov" in text
    # the decline absorbs part of the leavers: the text must not say all of them are need
    assert f"omkring **{fmt_int(2400)}**" in text and "behöver inte alla ersättas" in text
    assert "kunde inte beräknas" in text


def test_centred_balance_reads_against_its_recent_past_in_summary_and_table():
    """A centred balance's status is not "graduates fall short of the need": the summary says
    what brist means against the recent past, and the ratio column says what it is read against."""
    centred = balance().assign(past_start=2016, past_end=2022)
    text = narrative.summary("Skaraborg", employment_forecast(), recruitment_need(), centred)
    assert "bristen väntas öka jämfört med 2016–2022" in text
    assert "nyutbildade som börjar arbeta" not in text
    old = narrative.summary("Skaraborg", employment_forecast(), recruitment_need(), balance())
    assert "nyutbildade som börjar arbeta i regionen räcker inte" in old
    table = narrative.shortage_table(centred)
    assert "Kvot mot 2016–2022" in table.columns and "Kvot" not in table.columns
    html = narrative.shortage_view(centred).to_html()
    assert "Kvot mot 2016–2022" in html and f"90{NBSP}%" in html and "0,43" in html


def test_shortage_table_swedish_columns_and_names():
    table = narrative.shortage_table(balance(), top=5)
    assert list(table.columns) == [
        "Yrke", "Rekryteringsbehov", "Nytillskott", "Kvot", "Status", "Sannolikhet för brist",
    ]  # fmt: skip
    assert table.index.name == "SSYK"
    assert list(table.index) == ["222", "532"]  # finest level, most likely shortage first
    assert table["Yrke"].iloc[0] == ssyk_name("222")
    assert table["Kvot"].iloc[0] == round(300 / 700, 2)
    assert table["Sannolikhet för brist"].iloc[0] == 90
    level2 = narrative.shortage_table(balance(), ssyk_level=2)
    assert level2.index[0] == "22"
    html = narrative.style_shortage_table(table).to_html()
    assert f"90{NBSP}%" in html and "0,43" in html


def test_method_text_stamp():
    params = {
        "region": "skaraborg",
        "period_start": 2023,
        "demand": {"method": "mean", "levels": [1, 2]},
    }
    text = narrative.method_text(manifest(False), params, "f1ng3rpr1nt", "1.2.3")
    assert "`kompetensprognos 1.2.3`" in text
    assert "`f1ng3rpr1nt`" in text
    assert "`region=skaraborg`" in text and "`demand.method=mean`" in text
    assert "`demand.levels=[1, 2]`" in text
    assert "2025-03-01" in text and "SCB" in text
    assert "2023" in text and "16-64 -> 16-69" in text  # series break
    assert "syntetiska" in narrative.method_text(manifest(True), {}, "x", "1").lower()
    # the need is the sum of yearly openings (BLS), not expansion + replacement
    assert "summan av varje års lediga jobb" in text and "aldrig negativt" in text
    assert "om det är positivt" not in text


def test_backtest_text_better_and_worse():
    good = narrative.backtest_text(backtest(ours=0.6))
    assert good.startswith("Vid prognoser tre år framåt")
    assert f"25{NBSP}% mindre" in good  # 1 - 0.6/0.8
    assert f"78{NBSP}%" in good  # interval coverage
    bad = narrative.backtest_text(backtest(ours=1.0))
    assert "**större**" in bad and "inte" in bad
    assert "naiv" in bad.lower()
    # a baseline that beats the model is named
    assert "konstant andel" in bad
    assert "inte prövats" in narrative.backtest_text(pd.DataFrame())

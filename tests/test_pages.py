"""Tests for kompetensprognos.pages: the report's figures as PNG, its HTML and the scored calls."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from council_fixtures import executed_notebook, region_tables
from matplotlib.figure import Figure
from PIL import Image

from kompetensprognos.pages import (
    CALL_COLUMNS,
    call_backtest_text,
    call_scores,
    compress_png,
    figure_png,
    is_palette_png,
    render_html,
)

NBSP = "\u00a0"


def calls(seed: int = 0, n: int = 60) -> pd.DataFrame:
    """A ``balance_backtest`` table as call_backtest writes it (two origins, SSYK 3 codes)."""
    rng = np.random.default_rng(seed)
    statuses = np.array(["brist", "balans", "överskott", "för litet underlag"])
    truth = rng.choice(statuses[:3], n)
    ours = np.where(rng.random(n) < 0.6, truth, rng.choice(statuses, n))
    return pd.DataFrame(
        {
            "region": "skaraborg",
            "origin": np.repeat([2018, 2019], n // 2),
            "ssyk": [f"{i:03d}" for i in range(n)],
            "status": ours,
            "p_shortage": np.clip((ours == "brist") * 0.7 + rng.random(n) * 0.3, 0, 1),
            "truth_ratio": rng.random(n) + 0.5,
            "truth_status": truth,
            "carry_status": rng.choice(statuses[:3], n),
            "old_status": rng.choice(statuses, n),
            "old_p_shortage": rng.random(n),
        }
    )


# --------------------------------------------------------------------------- scored calls
def test_call_scores_equal_the_call_backtest_scores() -> None:
    """The report's scores are those of the call backtest (one rule, balance_calls.score_calls)."""
    from kompetensprognos.balance_calls import score_calls

    c = calls()
    ours = call_scores(c).assign(origin=lambda d: d["origin"].replace("alla", "all"))
    ref = score_calls(c).assign(origin=lambda d: d["origin"].astype(str))
    merged = ours.merge(ref, on=["origin", "method"], suffixes=("", "_ref"))
    assert len(merged) == len(ref) == len(ours) == 9  # 3 methods x (2 origins + all)
    np.testing.assert_allclose(merged["balanced_accuracy"], merged["balanced_accuracy_ref"])
    np.testing.assert_allclose(merged["brier"], merged["brier_ref"])
    assert (merged["n"] == merged["n_ref"]).all()


def test_call_backtest_text_shows_both_scores_beside_carry_forward() -> None:
    text = call_backtest_text(calls())
    assert text.startswith("### Hur väl har tidigare bedömningar av balansen stämt?")
    assert "2018 och 2019" in text
    for words in ("Balanserad träffsäkerhet", "Brier-poäng", "Vår bedömning",
                  "Dagens läge fört vidare", "Tidigare metod", "Alla år"):  # fmt: skip
        assert words in text
    rows = [r for r in text.splitlines() if r.startswith("| 2018 |")]
    assert len(rows) == 3
    assert re.search(rf"\| \d+{NBSP}% \| 0,\d\d \|$", rows[0])  # Swedish percent and decimal comma
    # one closing sentence on what the comparison means
    assert text.rstrip().endswith(".") and "dagens läge vidare" in text.splitlines()[-1]


def test_call_backtest_text_says_which_method_won() -> None:
    c = calls()
    perfect = c.assign(status=c["truth_status"], p_shortage=(c["truth_status"] == "brist") * 1.0)
    assert "tillför något utöver dagens läge" in call_backtest_text(perfect)
    worst = c.assign(carry_status=c["truth_status"], status="brist", p_shortage=1.0)
    assert "ännu inte träffat bättre" in call_backtest_text(worst)


@pytest.mark.parametrize(
    "table",
    [None, pd.DataFrame(columns=list(CALL_COLUMNS))],
    ids=["missing", "empty"],
)
def test_call_backtest_text_without_a_table_is_one_swedish_sentence(table) -> None:
    text = call_backtest_text(table)
    assert text.startswith("*Bedömningarna har inte bakåttestats") and "|" not in text


def test_call_backtest_text_names_missing_columns_and_handles_no_assessed_calls() -> None:
    text = call_backtest_text(calls().drop(columns=["carry_status"]))
    assert "balance_backtest" in text and "carry_status" in text
    unassessed = calls().assign(truth_status="för litet underlag")
    assert "kan inte räknas ut" in call_backtest_text(unassessed)
    # without the old method's columns the table has two methods
    text = call_backtest_text(calls().drop(columns=["old_status", "old_p_shortage"]))
    assert "Tidigare metod" not in text and "Vår bedömning" in text


# --------------------------------------------------------------------------- figures as PNG
def test_figure_png_is_a_palette_png_at_the_figure_size() -> None:
    fig = Figure(figsize=(4, 2), dpi=50)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="#0072B2")
    png = figure_png(fig)
    img = Image.open(io.BytesIO(png))
    assert img.mode == "P" and img.size == (200, 100)
    assert is_palette_png(png)
    assert compress_png(png) is png  # already compressed: not quantised again
    # white background, the line's blue kept
    rgb = np.asarray(img.convert("RGB")).reshape(-1, 3)
    assert (rgb >= 250).all(axis=1).mean() > 0.5  # the octree palette may keep white as 254
    assert (np.abs(rgb.astype(int) - [0, 114, 178]).sum(axis=1) < 30).any()


def test_figure_png_flattens_a_transparent_figure_onto_white() -> None:
    fig = Figure(figsize=(1, 1), dpi=20, facecolor=(1, 1, 1, 0))
    img = Image.open(io.BytesIO(figure_png(fig))).convert("RGB")
    assert np.asarray(img).min() >= 250


# --------------------------------------------------------------------------- HTML
def test_render_html_keeps_swedish_text_alt_and_leaves_out_code(tmp_path: Path) -> None:
    nb = executed_notebook(tmp_path / "rapport.ipynb", region_tables())
    html = render_html(nb, tmp_path / "rapport.html").read_text(encoding="utf-8")
    assert "<title>Kompetensprognos för Skaraborg</title>" in html
    assert "Kompetensprognos för Skaraborg" in html.split("<body>")[1]  # not "f&#246;r"
    assert "&#246;" not in html and "&#182;" not in html
    assert "show(fig)" not in html and "Only for JupyterLab" not in html
    alts = re.findall(r'<img alt="([^"]*)" src="data:image/png;base64,([^"]+)"', html)
    assert [a for a, _ in alts] == [
        "Diagram: Sysselsättningsprognos. Sysselsatta totalt.",
        "Diagram: Från figurens titel.",
    ]
    assert all(is_palette_png(base64.b64decode(b)) for _, b in alts)
    # rendering twice (one exporter per thread, reused) gives the same page
    again = render_html(nb, tmp_path / "again.html").read_text(encoding="utf-8")
    assert again == html

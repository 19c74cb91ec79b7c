"""Tests for kompetensprognos.plots on tiny synthetic tables (Agg backend, no data files)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kompetensprognos import plots
from kompetensprognos.classifications import ssyk_name
from kompetensprognos.errors import KompetensprognosError

NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _texts(fig: Figure) -> str:
    """All text in a figure: titles, labels, tick labels, legends, annotations."""
    fig.canvas.draw()  # tick labels exist only after a draw
    parts = [t.get_text().replace("\n", " ") for t in fig.findobj(matplotlib.text.Text)]
    return "\n".join(p for p in parts if p)


def employment_forecast() -> pd.DataFrame:
    rows = []
    codes = {0: ["total"], 1: ["2", "5"], 2: ["22", "53"], 3: ["222", "532", "533", "221"]}
    base = {"total": 12000, "2": 5000, "5": 7000, "22": 5000, "53": 7000,
            "222": 3000, "221": 2000, "532": 4000, "533": 3000}  # fmt: skip
    for level, cs in codes.items():
        for c in cs:
            for year in range(2015, 2025):
                rows.append((c, level, year, base[c] * (1 + 0.01 * (year - 2015)), "observed"))
            for year in range(2025, 2031):
                v = base[c] * (1 + 0.01 * (year - 2015))
                rows.append((c, level, year, v, "forecast"))
    df = pd.DataFrame(rows, columns=["ssyk", "ssyk_level", "year", "employed", "kind"])
    df.insert(0, "region", "skaraborg")
    fc = df["kind"] == "forecast"
    for q, w in (("80", 0.05), ("95", 0.08)):
        df[f"lo{q}"] = np.where(fc, df["employed"] * (1 - w), np.nan)
        df[f"hi{q}"] = np.where(fc, df["employed"] * (1 + w), np.nan)
    return df


def recruitment_need() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "ssyk": ["total", "222", "532", "533", "221"],
            "ssyk_level": [0, 3, 3, 3, 3],
            "expansion": [900.0, 300.0, -50.0, 200.0, 100.0],
            "replacement": [2400.0, 700.0, 900.0, 500.0, 300.0],
        }
    )
    df.insert(0, "region", "skaraborg")
    df["period_start"], df["period_end"] = 2023, 2030
    df["recruitment_need"] = df["expansion"].clip(lower=0) + df["replacement"]
    df["recruitment_need_lo80"] = df["recruitment_need"] * 0.8
    df["recruitment_need_hi80"] = df["recruitment_need"] * 1.3
    return df


def education_output() -> pd.DataFrame:
    rows = []
    for edu, typ, size in (("VO", "gymnasium", 300), ("NA", "gymnasium", 500),
                           ("72", "yh", 120), ("72", "higher", 400), ("48", "higher", 200)):  # fmt: skip
        for year in range(2016, 2031):
            kind = "observed" if year <= 2024 else "forecast"
            g = size * (1 + 0.02 * (year - 2016))
            lo, hi = (g * 0.9, g * 1.1) if kind == "forecast" else (np.nan, np.nan)
            rows.append(("skaraborg", edu, typ, year, g, lo, hi, kind))
    cols = ["region", "education", "type", "year", "graduates", "graduates_lo80",
            "graduates_hi80", "kind"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def balance() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "ssyk": ["22", "53", "23", "71", "222", "532"],
            "ssyk_level": [2, 2, 2, 2, 3, 3],
            "recruitment_need": [1000.0, 1400.0, 500.0, 300.0, 700.0, 900.0],
            "new_entrants": [400.0, 1500.0, 900.0, np.nan, 300.0, 1000.0],
        }
    )
    df.insert(0, "region", "skaraborg")
    df["period_start"], df["period_end"] = 2023, 2030
    df["balance_ratio"] = df["new_entrants"] / df["recruitment_need"]
    df["gap"] = df["new_entrants"] - df["recruitment_need"]
    df["status"] = ["brist", "balans", "överskott", "för lite data", "brist", "balans"]
    df["p_shortage"] = [0.97, 0.4, 0.02, np.nan, 0.9, 0.3]
    return df


def backtest(ours: float = 0.6) -> pd.DataFrame:
    rows = []
    for h in (1, 2, 3):
        for model, m in (("kompetensprognos", ours), ("naive", 0.8), ("drift", 0.9),
                         ("constant_share", 0.85)):  # fmt: skip
            cov = 0.78 if model == "kompetensprognos" else np.nan
            rows.append(("skaraborg", model, h, m * h, 0.1, 0.6, cov, cov))
    cols = ["region", "model", "horizon", "mase", "smape", "direction_accuracy",
            "coverage80", "coverage95"]  # fmt: skip
    return pd.DataFrame(rows, columns=cols)


def test_employment_today_shows_names_and_swedish_labels():
    fig = plots.employment_today(employment_forecast(), top=3)
    assert isinstance(fig, Figure)
    text = _texts(fig)
    assert "Antal sysselsatta 2024" in text
    assert ssyk_name("532") in text  # largest SSYK 3 group, by name
    assert "221" not in text.split("\n")  # top=3 drops the smallest, and codes are not labels
    assert f"4{NBSP}" in text  # thousands separator in bar labels/ticks
    assert "2024.0" not in text


def test_fan_chart_panels_titles_and_legend():
    fig = plots.fan_chart(employment_forecast(), ssyk_level=1)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    text = _texts(fig)
    assert "Service, omsorg och försäljning" in text  # short SSYK 1 name
    assert "Prognos" in text and f"80{NBSP}% osäkerhetsintervall" in text
    assert "Sysselsatta" in text
    # vertical line at the last observed year
    xs = [ln.get_xdata()[0] for ax in visible for ln in ax.lines if ln.get_linestyle() == ":"]
    assert xs and all(x == 2024 for x in xs)
    # one panel per requested code, in order
    fig2 = plots.fan_chart(employment_forecast(), ssyk_level=2, codes=["53"])
    assert len([ax for ax in fig2.axes if ax.get_visible()]) == 1
    with pytest.raises(KompetensprognosError, match="99"):
        plots.fan_chart(employment_forecast(), ssyk_level=2, codes=["99"])


def test_series_break_is_marked():
    fig = plots.total_fan_chart(employment_forecast(), breaks=[2023])
    assert "Ändrad statistik (seriebrott)" in _texts(fig)
    xs = [ln.get_xdata()[0] for ln in fig.axes[0].lines if ln.get_linestyle() == "-."]
    assert xs == [2022.5]
    fig2 = plots.fan_chart(employment_forecast(), breaks=[2023, 1990])  # 1990 is out of range
    assert sum(ln.get_linestyle() == "-." for ax in fig2.axes for ln in ax.lines) == 2


def test_occupation_ticks_fit_two_lines():
    for code in ("11", "13", "2512", "962"):
        assert plots._occupation_tick(code).count("\n") <= 1


def test_total_fan_chart_uses_region_name():
    fig = plots.total_fan_chart(employment_forecast())
    text = _texts(fig)
    assert "Sysselsatta totalt i Skaraborg" in text
    assert "Antal sysselsatta" in text
    ax = fig.axes[0]
    _, ax2 = plt.subplots()
    assert plots.total_fan_chart(employment_forecast(), ax=ax2) is ax2.figure
    assert ax is not ax2


def test_recruitment_need_bars_stack_and_labels():
    fig = plots.recruitment_need_bars(recruitment_need(), top=3)
    text = _texts(fig)
    for label in ("Expansionsbehov", "Ersättningsbehov", "osäkerhetsintervall", "2023–2030"):
        assert label in text
    assert "Undersköterskor" in text  # 532: the largest need
    ax = fig.axes[0]
    widths = sorted(p.get_width() for p in ax.patches)
    assert 0.0 in widths  # negative expansion drawn as zero, not as a negative bar
    assert max(widths) == 900.0
    assert f"1{NBSP}000" in text


def test_education_output_chart_one_panel_per_type():
    fig = plots.education_output_chart(education_output())
    text = _texts(fig)
    for name in ("Gymnasieskolan", "Yrkeshögskolan", "Högskola och universitet"):
        assert name in text
    assert "Antal examinerade per år" in text
    assert len(fig.axes) == 3


def test_balance_heatmap_dot_chart():
    fig = plots.balance_heatmap(balance(), ssyk_level=2)
    text = _texts(fig)
    assert "Specialister inom hälso- och sjukvård" in text  # SSYK 22, short name
    assert "Brist" in text and "Överskott" in text and "för lite data" in text.lower()
    assert f"100{NBSP}%" in text
    assert "Nytillskott" in fig.axes[0].get_xlabel()
    assert plots.balance_chart is plots.balance_heatmap
    # a centred balance is read against its recent past, not as graduates ÷ need
    centred = plots.balance_heatmap(balance().assign(past_start=2016, past_end=2022), ssyk_level=2)
    ax = centred.axes[0]
    assert "2016–2022" in ax.get_title("left") and "nyutbildade" not in ax.get_title("left")
    assert "läget 2016–2022" in ax.get_xlabel() and "nyutbildade" not in ax.get_xlabel()
    assert ax.get_xlim() == pytest.approx((0.5, 2.0))


def test_balance_heatmap_falls_back_to_available_level():
    only3 = balance()
    only3 = only3[only3["ssyk_level"] == 3]
    text = _texts(plots.balance_heatmap(only3, ssyk_level=2))
    assert ssyk_name("222") in text
    # without a ssyk_level column the level is read from the code
    text = _texts(plots.balance_heatmap(balance().drop(columns=["ssyk_level"]), ssyk_level=3))
    assert ssyk_name("532") in text and "Specialister inom hälso" not in text


def test_backtest_chart_swedish_legend():
    fig = plots.backtest_chart(backtest())
    text = _texts(fig)
    for name in ("Vår modell", "Naiv", "Trend (drift)", "Konstant andel", "lägre är bättre"):
        assert name in text


def test_missing_column_names_the_table():
    with pytest.raises(KompetensprognosError, match="recruitment_need"):
        plots.recruitment_need_bars(recruitment_need().drop(columns=["replacement"]))


@pytest.mark.parametrize("scale", [0.01, 1.0, 20.0])
def test_fixed_grid_charts_keep_every_text_inside_the_canvas(scale):
    """fan_chart and education_output_chart use a fixed grid (no constrained layout): tick labels
    from "0" to "280 000", two-line panel titles, the legend and the title must stay on the page."""
    ef = employment_forecast()
    for c in ("employed", "lo80", "hi80", "lo95", "hi95"):
        ef[c] = ef[c] * scale
    eo = education_output()
    for c in ("graduates", "graduates_lo80", "graduates_hi80"):
        eo[c] = eo[c] * scale
    for fig in (
        plots.fan_chart(ef, ssyk_level=1, breaks=[2020, 2023]),
        plots.fan_chart(ef, ssyk_level=3),
        plots.education_output_chart(eo),
    ):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        page = fig.bbox
        # an axes' tight box holds its drawn tick labels, axis labels and (two-line) title
        boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
        boxes += [lg.get_window_extent(renderer) for lg in fig.legends]
        boxes += [fig._suptitle.get_window_extent(renderer)]
        for box in boxes:
            assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, (box, page)
            assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, (box, page)

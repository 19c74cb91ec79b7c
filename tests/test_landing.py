"""The landing page, the occupation table, the report HTML and the status palette."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from council_fixtures import executed_notebook, png_base64, region_tables

from kompetensprognos.dataset import Manifest
from kompetensprognos.headline import headline
from kompetensprognos.labels import STATUS_COLORS, STATUS_TINTS
from kompetensprognos.landing import headline_figures, write_landing_page
from kompetensprognos.narrative import fmt_int, fmt_prob
from kompetensprognos.pages import occupation_rows, occupation_table_html, render_html

SYNTHETIC = Manifest(name="demo", source="generator", vintage="2025-01", synthetic=True)
REAL = SYNTHETIC.model_copy(update={"synthetic": False, "name": "scb", "source": "SCB"})


def _external_refs(html: str) -> list[str]:
    """src/href values that would leave the page (anything but data:, #anchors and relative)."""
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', html)
    return [r for r in refs if re.match(r"^[a-z]+:", r) and not r.startswith("data:")]


# --------------------------------------------------------------------------- landing page
@pytest.fixture
def two_regions() -> dict[str, dict[str, pd.DataFrame]]:
    return {"skaraborg": region_tables("skaraborg"), "fyrbodal": region_tables("fyrbodal", 1.5)}


def test_headline_figures_follow_the_one_headline_rule(two_regions) -> None:
    for tables in two_regions.values():
        ours, rule = headline_figures(tables), headline(tables, (2023, 2030))
        for key in ("recruitment_need", "expansion", "replacement", "brist"):
            assert ours[key] == getattr(rule, key), key
        assert ours["assessed_of"] == 4  # the SSYK 3 rows
        assert ours["last_year"] == 2024 and ours["end_year"] == 2030


def test_landing_page_compares_regions_side_by_side(two_regions, tmp_path: Path) -> None:
    for region in two_regions:
        (tmp_path / region / "tables").mkdir(parents=True)
        for name in ("rapport.html", "rapport.xlsx"):
            (tmp_path / region / name).write_text("x", encoding="utf-8")
    (tmp_path / "skaraborg" / "rapport.pdf").write_bytes(b"%PDF-1.4")
    path = write_landing_page(tmp_path, two_regions, manifest=SYNTHETIC, fingerprint="abc123")
    html = path.read_text(encoding="utf-8")
    # headline figures of both regions, formatted the Swedish way
    for region, tables in two_regions.items():
        h = headline_figures(tables)
        assert fmt_int(h["recruitment_need"]) in html
        assert f"{h['brist']} av {h['assessed_of']}" in html
        assert f'href="{region}/rapport.html"' in html and f'href="{region}/rapport.xlsx"' in html
        assert f'href="{region}/tables/"' in html
    # links only to files that exist: the PDF only where one was printed
    assert 'href="skaraborg/rapport.pdf"' in html and 'href="fyrbodal/rapport.pdf"' not in html
    # the headers name the regions in the given order
    head = html[html.index("Regionerna sida vid sida") :]
    assert head.index(">Skaraborg<") < head.index(">Fyrbodal<")
    assert "Syntetiska demonstrationsdata" in html and "2025-01" in html and "abc123" in html
    assert _external_refs(html) == [] and "<script src" not in html


def test_status_matrix_has_a_cell_per_region_and_group_with_probability(
    two_regions, tmp_path: Path
) -> None:
    html = write_landing_page(tmp_path, two_regions).read_text(encoding="utf-8")
    matrix = html[html.index("Status per yrkesområde") : html.index("Samma yrke i alla regioner")]
    rows = re.findall(r'<tr class="l(\d)">(.*?)</tr>', matrix, flags=re.S)
    assert [lv for lv, _ in rows] == ["1", "2", "1", "2"]  # SSYK 1 with its SSYK 2 groups
    for _, row in rows:
        assert row.count("<td") == 2
    # status as a word and a colour class, the probability in the cell and on hover
    first = rows[0][1]
    assert 'class="st-brist"' in first and "Brist" in first
    assert fmt_prob(0.97) in first
    assert re.search(r'title="Skaraborg · [^"]*sannolikhet för brist', first)
    assert ">222<" not in matrix  # SSYK 3 is not in the matrix


def test_same_occupation_across_regions_ranks_by_probability(two_regions, tmp_path: Path) -> None:
    html = write_landing_page(tmp_path, two_regions, top=2).read_text(encoding="utf-8")
    same = html[html.index("Samma yrke i alla regioner") : html.index("<footer>")]
    codes = re.findall(r'<span class="code">(\d+)</span>', same)
    assert codes == ["222", "223"]  # highest mean probability of shortage first
    assert same.count(">behov ") == 4  # need shown for each region and occupation


def test_landing_page_without_balance_or_with_a_failed_region(tmp_path: Path) -> None:
    tables = region_tables()
    del tables["balance"]
    html = write_landing_page(
        tmp_path, {"skaraborg": tables}, manifest=REAL, failures={"fyrbodal": "cell 3: KeyError"}
    ).read_text(encoding="utf-8")
    assert "Balansen kunde inte beräknas" in html
    assert "misslyckades" in html and "cell 3: KeyError" in html
    assert "Syntetiska" not in html


# --------------------------------------------------------------------------- occupation table
def test_occupation_rows_use_the_columns_present() -> None:
    tables = region_tables()
    tables["balance"] = tables["balance"].assign(
        new_entrants_migration=1.0, new_entrants_migration_lo80=0.5
    )
    rows = occupation_rows(tables)
    assert len(rows) == 8 and "total" not in set(rows["ssyk"])
    assert rows.attrs["years"] == {"start": 2024, "end": 2030}
    assert "new_entrants_migration" in rows and "new_entrants_migration_lo80" not in rows
    # without balance: the status columns are simply left out
    del tables["balance"]
    rows = occupation_rows(tables)
    assert "status" not in rows and len(rows) == 8


def test_occupation_table_has_every_occupation_searchable() -> None:
    html = occupation_table_html(region_tables())
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    searches = re.findall(r'data-search="([^"]*)"', body)
    assert len(searches) == 8
    assert "222 sjuksköterskor" in searches
    assert 'type="search"' in html and "Sysselsatta 2024" in html and "Sysselsatta 2030" in html
    assert '<th scope="col" class="num" data-num>' in html  # numeric columns sort as numbers
    assert _external_refs(html) == []


# --------------------------------------------------------------------------- report HTML
def test_render_html_is_self_contained_small_and_accessible(tmp_path: Path) -> None:
    nb = executed_notebook(tmp_path / "rapport.ipynb", region_tables())
    html = render_html(nb, tmp_path / "rapport.html").read_text(encoding="utf-8")
    assert _external_refs(html) == []
    low = html.lower()
    assert "require.js" not in low and "mathjax" not in low and "<script src" not in low
    assert "Only for JupyterLab users" not in html  # remove_cell left out
    assert '<html lang="sv">' in html and "<title>Kompetensprognos för Skaraborg</title>" in html
    assert "@page{size:A4" in html and "break-before:page" in html and "break-inside:avoid" in html
    alts = re.findall(r'<img alt="([^"]+)"', html)
    # alt text from the output's metadata (report.show sets it), else from the section
    assert alts == [
        "Diagram: Sysselsättningsprognos. Sysselsatta totalt.",
        "Diagram: Från figurens titel.",
    ]
    # headings in order: h1, then h2 sections, no level skipped
    levels = [int(x) for x in re.findall(r"<h([1-6])[ >]", html)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:], strict=False))
    # figures are re-encoded as palette PNGs, smaller than matplotlib's RGBA output
    src = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert len(src) < len(png_base64())
    from PIL import Image

    assert Image.open(io.BytesIO(base64.b64decode(src))).mode == "P"


# --------------------------------------------------------------------------- palette
# Machado, Oliveira & Fernandes (2009) simulation matrices at full severity (linear RGB).
_CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip


def _linear(hex_colour: str) -> np.ndarray:
    c = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ np.clip(linear, 0, 1) / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _luminance(hex_colour: str) -> float:
    return float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(hex_colour))


@pytest.mark.parametrize("palette", ["colours", "tints"])
@pytest.mark.parametrize("vision", ["normal", *_CVD])
def test_status_colours_stay_apart_under_colour_vision_deficiency(
    vision: str, palette: str
) -> None:
    """Every pair of status colours differs by ΔE*ab ≥ 20 as seen with each deficiency.

    (The earlier bluish green for överskott failed this: ΔE 9.6 from the grey with deuteranopia.)
    """
    sim = np.eye(3) if vision == "normal" else np.array(_CVD[vision])
    colours = STATUS_COLORS if palette == "colours" else STATUS_TINTS
    labs = {s: _lab(sim @ _linear(c)) for s, c in colours.items()}
    names = list(labs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            delta = float(np.linalg.norm(labs[a] - labs[b]))
            assert delta >= 20, f"{palette} {a} vs {b} under {vision}: ΔE {delta:.1f}"


def test_status_tints_keep_dark_text_readable_and_match_the_charts() -> None:
    from kompetensprognos.plots import COLORS

    for status, tint in STATUS_TINTS.items():
        contrast = (_luminance(tint) + 0.05) / (_luminance("#1a1a1a") + 0.05)
        assert contrast >= 7, f"{status}: contrast {contrast:.1f} (WCAG AAA needs 7)"
    assert {s: COLORS[s] for s in STATUS_COLORS} == STATUS_COLORS


def test_report_show_attaches_alt_text_to_figures() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from kompetensprognos.report import show

    InteractiveShell.instance()
    fig, ax = plt.subplots()
    ax.plot([1, 2])
    ax.set_title("Sysselsatta i Skaraborg")
    ax.set_ylabel("Antal")
    with capture_output() as captured:
        show(fig)
    alt = captured.outputs[0].metadata["image/png"]["alt"]
    assert alt == "Diagram: Sysselsatta i Skaraborg. Lodrät axel: Antal."


def test_a_region_whose_pdf_failed_keeps_its_figures_and_links(tmp_path: Path) -> None:
    tables = region_tables()
    (tmp_path / "skaraborg").mkdir()
    (tmp_path / "skaraborg" / "rapport.html").write_text("x", encoding="utf-8")
    html = write_landing_page(
        tmp_path, {"skaraborg": tables}, failures={"skaraborg": "PDF: timed out"}
    ).read_text(encoding="utf-8")
    assert fmt_int(headline_figures(tables)["recruitment_need"]) in html
    assert 'href="skaraborg/rapport.html"' in html and "Rapporten misslyckades: PDF" in html

"""The landing page and a report in a real browser (headless Chromium from Debian's packages).

Skips when no browser is installed; CI (``.ci/run``) installs ``chromium`` first, so there it
always runs. Screenshots go to the test's temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from council_fixtures import executed_notebook, region_tables

from kompetensprognos.browser import INSTALL_HINT, BrowserPage, find_browser, print_pdf
from kompetensprognos.dataset import Manifest
from kompetensprognos.landing import write_landing_page
from kompetensprognos.pages import render_html

needs_browser = pytest.mark.skipif(
    find_browser() is None, reason=f"no headless browser found: {INSTALL_HINT}"
)

VISIBLE_ROWS = (
    "Array.from(document.querySelectorAll('[data-kp-occupations] tbody tr'))"
    ".filter(r => !r.hidden).map(r => r.cells[0].textContent + ' ' + r.cells[1].textContent)"
)


def _search(page: BrowserPage, text: str) -> list[str]:
    page.evaluate(
        "(() => { const i = document.querySelector('[data-kp-occupations] input[type=search]');"
        f" i.value = {text!r}; i.dispatchEvent(new Event('input', {{bubbles: true}})); }})()"
    )
    return page.evaluate(VISIBLE_ROWS)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An output folder: two regions' reports (rendered by render_html) and the landing page."""
    out = tmp_path_factory.mktemp("site")
    per_region = {"skaraborg": region_tables("skaraborg"), "fyrbodal": region_tables("fyrbodal", 2)}
    for region, tables in per_region.items():
        folder = out / region
        (folder / "tables").mkdir(parents=True)
        nb = executed_notebook(folder / "rapport.ipynb", tables)
        render_html(nb, folder / "rapport.html")
    manifest = Manifest(name="demo", source="generator", vintage="2025-01", synthetic=True)
    write_landing_page(out, per_region, manifest=manifest)
    return out


@pytest.fixture(scope="module")
def page() -> Iterator[BrowserPage]:
    with BrowserPage(width=1280, height=900) as p:
        yield p


def _fresh(page: BrowserPage) -> None:
    page.errors.clear()
    page.requests.clear()


def _only_local(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(("file://", "data:", "about:"))]


@needs_browser
def test_landing_page_renders_without_errors_or_network(site: Path, page: BrowserPage, tmp_path):
    _fresh(page)
    page.open(site / "index.html")
    assert page.errors == []
    assert _only_local(page.requests) == []
    assert page.evaluate("document.querySelectorAll('table.matrix td.st-brist').length") > 0
    assert page.evaluate("document.documentElement.lang") == "sv"
    shot = page.screenshot(tmp_path / "index.png", full_page=True)
    assert shot.stat().st_size > 10_000


@needs_browser
def test_search_box_filters_and_headers_sort_the_occupation_table(
    site: Path, page: BrowserPage, tmp_path: Path
) -> None:
    _fresh(page)
    page.open(site / "skaraborg" / "rapport.html")
    assert page.errors == [] and _only_local(page.requests) == []
    assert page.evaluate("document.querySelector('img').alt").startswith("Diagram: ")
    assert len(page.evaluate(VISIBLE_ROWS)) == 8

    hits = _search(page, "sjuksköt")
    assert hits and len(hits) < 8
    assert all("sjuksköt" in h.lower() for h in hits)
    assert page.evaluate("document.querySelector('[data-count]').textContent") == (
        f"Visar {len(hits)} av 8 yrken"
    )
    page.screenshot(tmp_path / "rapport_search.png")
    assert [h.split()[0] for h in _search(page, "532")] == ["532"]  # codes are searchable too
    assert len(_search(page, "")) == 8

    # the level filter
    page.evaluate(
        "(() => { const s = document.querySelector('[data-kp-occupations] select');"
        " s.value = '1'; s.dispatchEvent(new Event('change')); })()"
    )
    assert [h.split()[0] for h in page.evaluate(VISIBLE_ROWS)] == ["2", "5"]
    page.evaluate(
        "(() => { const s = document.querySelector('[data-kp-occupations] select');"
        " s.value = ''; s.dispatchEvent(new Event('change')); })()"
    )

    # sorting by a numeric column, ascending then descending
    col = page.evaluate(
        "Array.from(document.querySelectorAll('[data-kp-occupations] thead th'))"
        ".findIndex(th => th.textContent.trim() === 'Rekryteringsbehov')"
    )
    assert col > 0
    values = (
        "Array.from(document.querySelectorAll('[data-kp-occupations] tbody tr'))"
        f".map(r => parseFloat(r.cells[{col}].dataset.v))"
    )
    click = f"document.querySelectorAll('[data-kp-occupations] thead th button')[{col}].click()"
    page.evaluate(click)
    ascending = page.evaluate(values)
    assert ascending == sorted(ascending)
    page.evaluate(click)
    descending = page.evaluate(values)
    assert descending == sorted(ascending, reverse=True)
    assert page.errors == []
    page.screenshot(tmp_path / "rapport.png", full_page=True)


@needs_browser
def test_a_script_error_would_be_caught(page: BrowserPage, tmp_path: Path) -> None:
    """The check above is not vacuous: an error in a page's script is reported."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><p>x</p><script>notDefinedAnywhere()</script>", "utf-8")
    _fresh(page)
    page.open(bad)
    assert any("notDefinedAnywhere" in e for e in page.errors)


@needs_browser
def test_print_to_pdf_uses_the_print_layout(site: Path, tmp_path: Path) -> None:
    pdf = print_pdf(site / "skaraborg" / "rapport.html", tmp_path / "rapport.pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 5_000
    # A4 is 595 × 842 points
    import re

    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes and all(abs(float(w) - 595) < 1 and abs(float(h) - 842) < 1 for w, h in boxes)
    assert len(boxes) >= 2  # sections start on new pages


def test_run_pdf_without_a_browser_stops_first_and_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, fast_params_dir: Path, tmp_path: Path, capsys
) -> None:
    from kompetensprognos.cli import main

    monkeypatch.setenv("KOMPETENSPROGNOS_BROWSER", "")  # as on a machine without Chromium
    out = tmp_path / "out"
    code = main(
        [
            "run",
            "--regions",
            "skaraborg",
            "--params-dir",
            str(fast_params_dir),
            "--output",
            str(out),
            "--pdf",
        ]
    )
    assert code != 0
    err = capsys.readouterr().err
    assert "apt-get install chromium" in err and "KOMPETENSPROGNOS_BROWSER" in err
    assert not out.exists()  # nothing was started

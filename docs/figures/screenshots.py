"""Take the screenshots in docs/reports.md from a run's output folder (needs Chromium).

    python docs/figures/screenshots.py outputs [skaraborg]

The Excel picture needs LibreOffice (``soffice``) to render the workbook; it is skipped without.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from kompetensprognos.browser import BrowserPage

HERE = Path(__file__).resolve().parent


def _scroll_to(page: BrowserPage, selector: str, text: str = "") -> None:
    find = f"Array.from(document.querySelectorAll({selector!r})).find(e => e.textContent.includes({text!r}))"
    page.evaluate(f"(() => {{ {find}.scrollIntoView(); window.scrollBy(0, -10); }})()")


def main(output: Path, region: str) -> None:
    with BrowserPage(width=1280, height=900) as page:
        page.open(output / "index.html")
        page.screenshot(HERE / "landing_page.png")
        _scroll_to(page, "h2", "Status per yrkesområde")
        page.screenshot(HERE / "landing_matrix.png")

        page.open(output / region / "rapport.html")
        page.evaluate(
            "(() => { const i = document.querySelector('[data-kp-occupations] input');"
            " i.value = 'sjuksköt'; i.dispatchEvent(new Event('input')); })()"
        )
        _scroll_to(page, "h3", "Sök bland alla yrken")
        page.screenshot(HERE / "report_occupation_search.png")
        assert page.errors == [], page.errors

    with BrowserPage(width=794, height=1123) as page:  # A4 at 96 dpi, print stylesheet
        page.open(output / region / "rapport.html")
        page.send("Emulation.setEmulatedMedia", media="print")
        _scroll_to(page, "h2", "Rekryteringsbehov")
        page.screenshot(HERE / "report_print.png")

    soffice = shutil.which("soffice")
    if soffice is None:
        print("soffice not found: Excel picture skipped")
        return
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [soffice, "--headless", "--convert-to", "html", "--outdir", tmp,
             str(output / region / "rapport.xlsx")],
            check=True, capture_output=True,
        )  # fmt: skip
        html = Path(tmp) / "rapport.html"
        parts = []
        with BrowserPage(width=1280, height=420) as page:
            page.open(html)
            for name in ("Läs mig", "Balans per yrke"):
                _scroll_to(page, "h1", name)
                parts.append(page.screenshot(Path(tmp) / f"{len(parts)}.png"))
        images = [Image.open(p) for p in parts]
        out = Image.new("RGB", (1280, sum(i.height for i in images)), "white")
        y = 0
        for im in images:
            out.paste(im, (0, y))
            y += im.height
        out.save(HERE / "excel_workbook.png", optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else "skaraborg")

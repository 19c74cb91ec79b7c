"""Take the screenshots in docs/reports.md from a run's output folder (needs Chromium).

    python docs/figures/screenshots.py outputs [skaraborg]

The Excel picture needs LibreOffice (``soffice``) to render the workbook, the PDF pages
``pdftoppm`` (poppler-utils) and a ``rapport.pdf`` (``run --pdf``); each is skipped without.
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
        _scroll_to(page, "h2", "Balans mellan tillgång och behov")
        page.screenshot(HERE / "report_balance.png")
        _scroll_to(page, "h2, h3", "Hur väl har tidigare bedömningar")
        page.screenshot(HERE / "report_call_backtest.png")
        assert page.errors == [], page.errors

    pdf = output / region / "rapport.pdf"
    if pdf.exists() and shutil.which("pdftoppm"):  # poppler-utils
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), f"{tmp}/p"], check=True)
            pages = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("p-*.png"))]
        w, h, pad, cols = pages[0].width, pages[0].height, 10, 6
        rows = -(-len(pages) // cols)
        sheet = Image.new("RGB", (cols * (w + pad) + pad, rows * (h + pad) + pad), "#888888")
        for k, im in enumerate(pages):
            sheet.paste(im, (pad + (k % cols) * (w + pad), pad + (k // cols) * (h + pad)))
        sheet.quantize(256).convert("RGB").save(HERE / "report_pdf_pages.png", optimize=True)

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

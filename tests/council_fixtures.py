"""Small per-region output tables shaped like the pipeline's, for the council-output tests.

Codes, levels and columns mirror ``OUTPUT/<region>/tables/*.csv`` of a real run (SSYK levels 0–3,
statuses including "ingen utbildning kopplad"), kept tiny so the tests need no pipeline run.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from kompetensprognos.pages import occupation_table_html

# SSYK codes at levels 1, 2, 3 (real codes, so names resolve)
CODES = {
    1: ["2", "5"],
    2: ["22", "53"],
    3: ["222", "223", "532", "533"],
}
STATUS = {
    "2": "brist",
    "22": "brist",
    "222": "brist",
    "223": "balans",
    "5": "överskott",
    "53": "överskott",
    "532": "överskott",
    "533": "ingen utbildning kopplad",
}
P_SHORTAGE = {"2": 0.97, "22": 0.91, "222": 0.88, "223": 0.42, "5": 0.05, "53": 0.08, "532": 0.02}


def region_tables(region: str = "skaraborg", scale: float = 1.0) -> dict[str, pd.DataFrame]:
    """Output tables of one region: employment_forecast, recruitment_need, balance, education."""
    rows_ef, rows_need, rows_bal = [], [], []
    all_codes = ["total"] + [c for lv in (1, 2, 3) for c in CODES[lv]]
    for i, code in enumerate(all_codes):
        level = 0 if code == "total" else len(code)
        base = scale * (10000.0 if code == "total" else 4000.0 / level - 100 * i)
        for year in range(2020, 2025):
            rows_ef.append(
                (region, code, level, year, base + 10 * (year - 2020), None, None, "observed")
            )
        for year in range(2025, 2031):
            v = base * (1 + 0.01 * (year - 2024))
            rows_ef.append((region, code, level, year, v, 0.95 * v, 1.05 * v, "forecast"))
        need = base * 0.3
        rows_need.append(
            (region, code, level, 2023, 2030, need * 0.3, need * 0.7, need, 0.8 * need, 1.2 * need)
        )
        status = STATUS.get(code, "brist")
        p = P_SHORTAGE.get(code, 1.0 if code == "total" else None)
        entrants = need * (0.4 if status == "brist" else 1.0 if status == "balans" else 1.6)
        rows_bal.append(
            (region, code, 2023, 2030, need, entrants, entrants / need, status, p, level)
        )
    ef = pd.DataFrame(
        rows_ef,
        columns=["region", "ssyk", "ssyk_level", "year", "employed", "lo80", "hi80", "kind"],
    )
    need = pd.DataFrame(
        rows_need,
        columns=[
            "region", "ssyk", "ssyk_level", "period_start", "period_end", "expansion",
            "replacement", "recruitment_need", "recruitment_need_lo80", "recruitment_need_hi80",
        ],
    )  # fmt: skip
    bal = pd.DataFrame(
        rows_bal,
        columns=[
            "region", "ssyk", "period_start", "period_end", "recruitment_need", "new_entrants",
            "balance_ratio", "status", "p_shortage", "ssyk_level",
        ],
    )  # fmt: skip
    edu = pd.DataFrame(
        {
            "region": region,
            "type": ["gymnasium", "higher"],
            "education": ["VO", "72"],
            "period_start": 2023,
            "period_end": 2030,
            "recruitment_need": [500.0, 800.0],
            "new_entrants": [200.0, 300.0],
            "status": ["brist", "brist"],
            "p_shortage": [0.9, 0.8],
        }
    )
    return {
        "employment_forecast": ef,
        "recruitment_need": need,
        "balance": bal,
        "balance_education": edu,
    }


def png_base64(width: int = 600, height: int = 300) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width / 100, height / 100), dpi=100)
    ax.plot(np.arange(10), np.arange(10) ** 1.5, color="#0072B2")
    ax.fill_between(np.arange(10), np.arange(10), np.arange(10) * 2, alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def executed_notebook(path: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """An executed report notebook (outputs in place) without running a kernel."""
    out = nbformat.v4.new_output
    nb = nbformat.v4.new_notebook()
    note = nbformat.v4.new_markdown_cell("# Only for JupyterLab users")
    note.metadata["tags"] = ["remove_cell"]
    title = nbformat.v4.new_code_cell("show(title)")
    title.outputs = [
        out("display_data", data={"text/markdown": "# Kompetensprognos för Skaraborg"}),
        out("display_data", data={"text/markdown": "> **⚠ Syntetiska demonstrationsdata**"}),
    ]
    fig = nbformat.v4.new_code_cell("show(fig)")
    png = png_base64()
    fig.outputs = [
        out("display_data", data={"image/png": png, "text/plain": "<Figure>"}),
        out(
            "display_data",
            data={"image/png": png_base64(400), "text/plain": "<Figure>"},
            metadata={"image/png": {"alt": "Diagram: Från figurens titel."}},
        ),
    ]
    table = nbformat.v4.new_code_cell("show(table)")
    table.outputs = [
        out("display_data", data={"text/html": occupation_table_html(tables), "text/plain": ""})
    ]
    nb.cells = [
        note,
        title,
        nbformat.v4.new_markdown_cell("## Sysselsättningsprognos\n\nSysselsatta totalt."),
        fig,
        nbformat.v4.new_markdown_cell("## Balans"),
        table,
    ]
    nbformat.write(nb, path)
    return path

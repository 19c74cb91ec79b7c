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

from kompetensprognos.balance import (
    BALANCE_COLUMNS,
    EDUCATION_BALANCE_COLUMNS,
    NEWCOMER_CHANNELS,
    BalanceParams,
    centred_balance,
)
from kompetensprognos.demand import BACKTEST_COLUMNS
from kompetensprognos.graduates_balance import education_balance, occupation_balance
from kompetensprognos.pages import occupation_table_html
from kompetensprognos.recruitment import NEED_COLUMNS, openings_rule
from kompetensprognos.schemas import FLOW_COLUMNS

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


# The tables of a real run (``tables/*.csv`` of the demo, 2023–2030) that only a fitted supply
# or demand model writes: kept here as the contract, beside the builders called below.
REAL_RUN = {
    "employment_forecast": [
        "region", "ssyk", "ssyk_level", "year", "employed", "lo80", "hi80", "lo95", "hi95",
        "kind",
    ],
    "education_output": [
        "region", "education", "type", "year", "graduates", "graduates_lo80", "graduates_hi80",
        "kind",
    ],
    "balance_education": [
        "region", "type", "education", "period_start", "period_end", "labour_supply_start",
        "labour_supply_end", "demand_start", "demand_end", "recruitment_need", "new_entrants",
        "balance_ratio", "gap", "status", "p_shortage",
    ],
    "labour_supply": [
        "region", "type", "education", "year", "population", "labour_force", "labour_supply",
        "labour_supply_lo80", "labour_supply_hi80", "kind",
    ],
    "supply_flows": [
        "region", "type", "education", "year", "population_start", *FLOW_COLUMNS,
        "population_end", "kind",
    ],
    # balance_calls.call_backtest, with the optional comparisons
    "balance_backtest": [
        "region", "origin", "ssyk", "status", "p_shortage", "truth_ratio", "truth_status",
        "carry_status", "today_status", "today_p_shortage", "old_status", "old_p_shortage",
    ],
    # the graduates-only supply (supply.supply_table)
    "supply": ["region", "ssyk", "year", "new_entrants", "new_entrants_lo80", "new_entrants_hi80"],
    "notes": ["section", "message"],
}  # fmt: skip


def centred_tables() -> dict[str, pd.DataFrame]:
    """``balance`` and ``supply`` of the centred balance, built on three toy occupations."""
    years = np.arange(2016, 2027)
    rows = []
    for code in ("222", "532", "251"):
        for i, y in enumerate(years):
            rows.append({"ssyk": code, "year": int(y), "employed": 100.0 + 2 * i,
                         "employment_change": 2.0, "separations": 5.0,
                         "employed_lo80": np.nan if y <= 2020 else 95.0 + 2 * i,
                         "employed_hi80": np.nan if y <= 2020 else 105.0 + 2 * i})  # fmt: skip
    op = pd.DataFrame(rows)
    op["openings"] = openings_rule(op["employment_change"], op["separations"])
    arr = np.full((20, len(years), 3), 7.0)
    channels = {ch: arr for ch in NEWCOMER_CHANNELS[:4]}
    bal, sup = centred_balance(
        op, channels, years, ["222", "532", "251"], start=2021, end=2026, past=(2016, 2020),
        params=BalanceParams(changer_rate=0.0, residual_shrinkage=0.0, min_need=1.0),
    )  # fmt: skip
    # balance.region_balance adds the region and the period
    bal = bal.assign(region="skaraborg", period_start=2021, period_end=2026)
    return {"balance": bal, "supply": sup.assign(region="skaraborg")}


def graduates_only_tables() -> dict[str, pd.DataFrame]:
    """``balance`` and ``balance_education`` of the graduates-only balance (toy inputs)."""
    need = pd.DataFrame({"region": "skaraborg", "ssyk": ["222", "223"], "period_start": 2023,
                         "period_end": 2030, "recruitment_need": [100.0, 50.0]})  # fmt: skip
    sims = pd.DataFrame({"ssyk": ["222", "223"] * 2, "sim": [0, 0, 1, 1],
                         "recruitment_need": [90.0, 40, 110, 60]})  # fmt: skip
    sup = pd.DataFrame({"ssyk": ["222"], "new_entrants": [95.0]})
    ssims = pd.DataFrame({"ssyk": ["222", "222"], "sim": [0, 1], "new_entrants": [95.0, 95]})
    yb = pd.DataFrame({"region": "14", "ssyk": ["2221"], "status": ["brist"], "round": "2025-2"})
    bal = occupation_balance(need, sup, sims, ssims, yrkesbarometer=yb)
    ent = pd.DataFrame({"type": ["higher"], "education": ["72"], "new_entrants": [200.0]})
    cw = pd.DataFrame({"type": ["higher"], "education": ["72"], "ssyk": ["222"], "share": [1.0]})
    edu = education_balance(need, ent, cw, need.assign(sim=0), ent.assign(sim=0))
    return {"balance": bal, "balance_education": edu}


def pipeline_table_columns() -> list[tuple[str, list[str]]]:
    """``(table name, columns)`` of every table the pipeline can write, both balances included:
    the column constants the modules export, small calls of the balance builders and, for the
    tables only a fitted supply or demand model writes, the header of a real run."""
    out = [(name, list(cols)) for name, cols in REAL_RUN.items()]
    out += [(name, list(df.columns)) for name, df in centred_tables().items()]
    out += [(name, list(df.columns)) for name, df in graduates_only_tables().items()]
    out += [("recruitment_need", NEED_COLUMNS), ("backtest", BACKTEST_COLUMNS)]
    out += [("balance", BALANCE_COLUMNS), ("balance_education", EDUCATION_BALANCE_COLUMNS)]
    return out


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

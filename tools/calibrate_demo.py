"""Derive the demo generator's occupation parameters from public SCB statistics.

Reads ``../shared/data/scb/employment_ssyk_age_sex_sweden_2014_2024.csv`` (SCB YREG51 family,
CC0) and writes ``kompetensprognos/data/demo_calibration.csv``: one row per SSYK 3 group with
rounded *derived* parameters (national size share, yearly growth 2014–2022, share of women and
the age profile in 2022) and ``demo_municipalities.csv`` (population 2014, rounded to hundreds). The source table itself is not shipped. Run from the project root:

    .venv/bin/python tools/calibrate_demo.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "scb" / "employment_ssyk_age_sex_sweden_2014_2024.csv"
POPULATION = ROOT.parent / "shared" / "data" / "scb" / "population_vg_kungsbacka_2000_2019.csv"
TARGET = ROOT / "kompetensprognos" / "data" / "demo_calibration.csv"
TARGET_MUNI = ROOT / "kompetensprognos" / "data" / "demo_municipalities.csv"
BANDS = ["16-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64"]


def main() -> None:
    raw = pd.read_csv(SOURCE, dtype={"ssyk_code": str, "age": str})
    raw["age"] = raw["age"].str.lstrip("0")  # the source writes the oldest band as "065-69"
    d = raw[raw["level"] == "SSYK3"].rename(columns={"ssyk_code": "ssyk", "count": "n"})
    tot = d.groupby(["ssyk", "year"])["n"].sum().unstack("year")
    n2014, n2022 = tot[2014].clip(lower=1), tot[2022].clip(lower=1)
    growth = (n2022 / n2014) ** (1 / 8) - 1
    y22 = d[(d["year"] == 2022) & d["age"].isin(BANDS)]
    women = y22[y22["sex"] == "women"].groupby("ssyk")["n"].sum() / y22.groupby("ssyk")["n"].sum()
    ages = y22.groupby(["ssyk", "age"])["n"].sum().unstack("age")[BANDS]
    ages = ages.div(ages.sum(axis=1), axis=0)
    out = pd.DataFrame(
        {
            "ssyk": tot.index,
            "size_share": (n2022 / n2022.sum()).round(5).to_numpy(),
            "growth": growth.clip(-0.08, 0.12).round(4).to_numpy(),
            "women_share": women.reindex(tot.index).fillna(0.5).round(3).to_numpy(),
        }
    )
    for band in BANDS:
        out["age_" + band.replace("-", "_")] = (
            ages[band].reindex(tot.index).fillna(1 / 9).round(4).to_numpy()
        )
    out = out[~out["ssyk"].str.startswith("000")].sort_values("ssyk")
    assert np.isfinite(out.drop(columns="ssyk").to_numpy()).all()
    out.to_csv(TARGET, index=False)
    print(f"wrote {len(out)} occupations to {TARGET.relative_to(ROOT)}")

    pop = pd.read_csv(POPULATION, dtype={"kommunkod": str})
    pop = pop[pop["ar"] == 2014][["kommunkod", "folkmangd"]]
    muni = pd.DataFrame(
        {
            "code": pop["kommunkod"],
            "population_2014": (pop["folkmangd"] / 100).round().astype(int) * 100,
        }
    )
    muni.sort_values("code").to_csv(TARGET_MUNI, index=False)
    print(f"wrote {len(muni)} municipalities to {TARGET_MUNI.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

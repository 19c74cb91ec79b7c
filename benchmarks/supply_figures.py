"""Figures and backtest comparison for the supply step on the synthetic demo data.

Run from the project root::

    .venv/bin/python benchmarks/supply_figures.py

Writes ``docs/figures/supply_gymnasium.png``, ``supply_yh.png``, ``supply_higher.png`` (graduates
per subregion, observed and projected with 80 % intervals) and ``supply_occupations.png`` (new
entrants per SSYK 1 group, county), and prints the backtest tables quoted in
``docs/methods.md`` (section *Supply*): the chosen models against naive and drift, and the
YH/higher comparison with and without the 19–34 cohort driver.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from kompetensprognos import regions
from kompetensprognos.dataset import load_dataset
from kompetensprognos.education import (
    _score,
    backtest_graduates,
    project_graduates,
)
from kompetensprognos.evaluation import summarise
from kompetensprognos.supply import education_output_table, supply_table

OUT = Path(__file__).resolve().parents[1] / "docs" / "figures"
TITLES = {
    "gymnasium": "Gymnasieexaminerade",
    "yh": "YH-examinerade",
    "higher": "Högskoleexaminerade",
}


def _graduate_figure(tables: dict[str, pd.DataFrame], kind: str, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for region, t in tables.items():
        d = (
            t[t["type"] == kind]
            .groupby(["year", "kind"], as_index=False)[
                ["graduates", "graduates_lo80", "graduates_hi80"]
            ]
            .sum()
        )
        obs, fc = d[d["kind"] == "observed"], d[d["kind"] == "forecast"]
        (line,) = ax.plot(obs["year"], obs["graduates"], marker="o", ms=3,
                          label=regions.region_name(region))  # fmt: skip
        join = pd.concat([obs.tail(1), fc])
        ax.plot(join["year"], join["graduates"], ls="--", color=line.get_color())
        ax.fill_between(fc["year"], fc["graduates_lo80"], fc["graduates_hi80"],
                        color=line.get_color(), alpha=0.2)  # fmt: skip
    ax.set_title(f"{TITLES[kind]} per delregion, prognos med 80 % intervall (syntetiska data)")
    ax.set_ylabel("examinerade per år")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    ds = load_dataset("demo")
    proj = project_graduates(ds, 2030, n_sims=1000, seed=0)
    print("models chosen:", proj.models)
    print("common-factor correlation:", {k: round(v, 3) for k, v in proj.correlation.items()})
    tables = {
        r: education_output_table(ds, r, end_year=2030, projection=proj)
        for r in regions.SUBREGION_IDS
    }
    for kind in ("gymnasium", "yh", "higher"):
        _graduate_figure(tables, kind, OUT / f"supply_{kind}.png")

    s = supply_table(ds, "vastra-gotaland", level=1, end_year=2030, projection=proj)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for code, g in s.groupby("ssyk"):
        (line,) = ax.plot(g["year"], g["new_entrants"], label=f"SSYK {code}")
        ax.fill_between(g["year"], g["new_entrants_lo80"], g["new_entrants_hi80"],
                        color=line.get_color(), alpha=0.15)  # fmt: skip
    ax.set_title("Nytillträdande per yrkesområde, Västra Götalands län (syntetiska data)")
    ax.set_ylabel("personer per år")
    ax.legend(fontsize=8, ncol=2)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(OUT / "supply_occupations.png", dpi=110)
    plt.close(fig)

    pd.set_option("display.width", 160)
    bt = backtest_graduates(proj, "vastra-gotaland")
    cols = ["mase", "smape", "direction_accuracy", "coverage80", "coverage95"]
    print("\nBacktest, all subregion series, mean over horizons 1-6:")
    print(bt.groupby(["type", "model"])[cols].mean().round(3).to_string())
    print("\nMASE by horizon:")
    print(bt.pivot_table(index=["type", "model"], columns="horizon", values="mase").round(2))

    # YH/higher: with and without the 19-34 cohort driver, on common rows
    print("\nCohort driver comparison (MASE, all horizons):")
    for kind in ("yh", "higher"):
        rfs = {k.split("/", 1)[1]: v for k, v in proj.rolling.items() if k.startswith(kind + "/")}
        scored = _score(rfs, proj.h, proj.n_cal)
        print(kind, summarise(scored, by=("model",)).set_index("model")[["mase", "smape"]]
              .round(3).to_dict("index"))  # fmt: skip


if __name__ == "__main__":
    main()

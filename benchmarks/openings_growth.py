"""Why the balance calls miss (issue 12): openings and newcomers growth per occupation, ours
against the generator's truth, on development realisations only (seeds 1 and 2).

For each seed and origin every model is refitted on the data up to the origin
(:func:`kompetensprognos.balance_calls.fit_at_origin`, the call backtest's refit, ``--fast``
protocol); for each region and SSYK 3 occupation the balance's model alone (no centring, no
today's state) gives openings and newcomers per year in the past (2015–origin) and the outlook
(origin+1–2024), with its components (employment change, net separations, employment), and the
generator gives its true openings and newcomers with theirs (true employment change and exits,
read from the generator's employment truth). Printed: correlations across occupations (within
seed × origin) of the growth from past to outlook, and mean rates, with the recent past's change
as observed (``before``) and shrunk (``after``, ``BalanceParams.shrink_past_change``).

Saves ``benchmarks/results/openings_growth.csv`` (per setting, seed and origin) and
``openings_growth_regions.csv`` (per setting and region: how well our past growth rate tracks
the truth's past and outlook rates).

Run: ``PYTHONPATH=. python benchmarks/openings_growth.py [--seeds 1 2]``
"""

from __future__ import annotations

import argparse
import resource
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos import regions, synthetic
from kompetensprognos.balance import region_balance
from kompetensprognos.balance_calls import fit_at_origin
from kompetensprognos.config import BalanceParams
from kompetensprognos.demand import DemandConfig
from kompetensprognos.recruitment import openings

OUT = Path(__file__).parent / "results"


def truth_components(seed: int) -> pd.DataFrame:
    """True employment, its change and exits per region, SSYK 3 and year (the generator's
    internals: the same draws as ``generate_demo(seed)``)."""
    cfg = synthetic.DemoConfig(seed=seed)
    rng = np.random.default_rng(seed)
    muni = synthetic._municipalities()
    pop = synthetic._population(rng, muni)
    _, _, emp = synthetic._employment(rng, muni, pop, cfg)
    codes = synthetic._calibration()["ssyk"].to_numpy()
    years = np.arange(synthetic.FIRST_YEAR, synthetic.LAST_OBSERVED + 1)
    rows = []
    for region in regions.REGION_IDS:
        mask = np.isin(muni["code"].to_numpy(), regions.members(region))
        e, x = emp["employed"][:, mask].sum(axis=1), emp["exits"][:, mask].sum(axis=1)
        for i in range(1, len(years)):
            rows.append(pd.DataFrame({"region": region, "ssyk": codes, "year": years[i],
                                      "E": e[i], "dE": e[i] - e[i - 1], "exits": x[i]}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def cells(seed: int, origin: int, fitted: dict, truth: pd.DataFrame, shrink: bool) -> pd.DataFrame:
    last = int(truth["year"].max())
    past, out = (2015, origin), (origin + 1, last)
    bp = BalanceParams(today_weight=0.0, centre_outlook=False, shrink_past_change=shrink)
    ds, dem, sup, rates = (fitted[k] for k in ("dataset", "demand", "supply", "exit_rates"))
    frames = []
    for region in regions.REGION_IDS:
        bal = region_balance(sup, dem, ds, region, start=out[0], end=out[1], past=past,
                             balance_params=bp, n_sims=200, exit_rates=rates)["balance"]  # fmt: skip
        bal = bal[bal["ssyk_level"] == 3].set_index("ssyk")
        op = openings(dem, ds, region, past[0], out[1], rates=rates, windows=[past, out],
                      shrink=[past] if shrink else None)  # fmt: skip
        op = op[op["ssyk_level"] == 3]
        t = truth[truth["region"] == region]

        def mean(df: pd.DataFrame, w: tuple[int, int], cols: list[str]) -> pd.DataFrame:
            return df[df["year"].between(*w)].groupby("ssyk")[cols].mean()

        ours = ["employment_change", "separations", "employed"]
        theirs = ["openings", "newcomers", "dE", "exits", "E"]
        po, oo, tp, to = (
            mean(op, past, ours),
            mean(op, out, ours),
            mean(t, past, theirs),
            mean(t, out, theirs),
        )
        n_p, n_o = past[1] - past[0] + 1, out[1] - out[0] + 1
        df = pd.DataFrame({
            "o_open_p": bal["openings_past"] / n_p, "o_open_o": bal["recruitment_need"] / n_o,
            "o_new_p": bal["newcomers_past"] / n_p, "o_new_o": bal["new_entrants"] / n_o,
            "o_dE_p": po["employment_change"], "o_dE_o": oo["employment_change"],
            "o_sep_p": po["separations"], "o_sep_o": oo["separations"],
            "o_E_p": po["employed"], "o_E_o": oo["employed"],
            "t_open_p": tp["openings"], "t_open_o": to["openings"],
            "t_new_p": tp["newcomers"], "t_new_o": to["newcomers"],
            "t_dE_p": tp["dE"], "t_dE_o": to["dE"], "t_x_p": tp["exits"], "t_x_o": to["exits"],
            "t_E_p": tp["E"], "t_E_o": to["E"],
        })  # fmt: skip
        frames.append(df.reset_index().assign(seed=seed, origin=origin, region=region))
    return pd.concat(frames, ignore_index=True).assign(setting="after" if shrink else "before")


def summary(c: pd.DataFrame) -> pd.DataFrame:
    c = c[(c["t_open_p"] > 20) & (c["o_open_p"] > 20)].copy()
    for k in ("o", "t"):
        for w in ("p", "o"):
            c[f"{k}_g_{w}"] = c[f"{k}_dE_{w}"] / c[f"{k}_E_{w}"]
        c[f"{k}_open_growth"] = np.log(c[f"{k}_open_o"] / c[f"{k}_open_p"])
        c[f"{k}_new_growth"] = np.log(c[f"{k}_new_o"] / c[f"{k}_new_p"])
        c[f"{k}_ratio"] = c[f"{k}_new_growth"] - c[f"{k}_open_growth"]
    c["o_sep_rate_o"] = c["o_sep_o"] / c["o_E_o"]
    c["t_x_rate_o"] = c["t_x_o"] / c["t_E_o"]

    def one(g: pd.DataFrame) -> pd.Series:
        return pd.Series({
            "n": len(g),
            "corr_openings_growth": g["o_open_growth"].corr(g["t_open_growth"]),
            "corr_newcomers_growth": g["o_new_growth"].corr(g["t_new_growth"]),
            "corr_ratio": g["o_ratio"].corr(g["t_ratio"]),
            "corr_truth_ratio_vs_openings": g["t_ratio"].corr(g["t_open_growth"]),
            "corr_outlook_growth_rate": g["o_g_o"].corr(g["t_g_o"]),
            "corr_past_growth_rate": g["o_g_p"].corr(g["t_g_p"]),
            "corr_separation_rate": g["o_sep_rate_o"].corr(g["t_x_rate_o"]),
            "ours_openings_growth": g["o_open_growth"].mean(),
            "truth_openings_growth": g["t_open_growth"].mean(),
            "ours_growth_rate_past": g["o_g_p"].mean(), "ours_growth_rate_outlook": g["o_g_o"].mean(),
            "truth_growth_rate_past": g["t_g_p"].mean(), "truth_growth_rate_outlook": g["t_g_o"].mean(),
            "ours_openings_per_employed": (g["o_open_p"] / g["o_E_p"]).median(),
            "truth_openings_per_employed": (g["t_open_p"] / g["t_E_p"]).median(),
        })  # fmt: skip

    return c.groupby(["setting", "seed", "origin"]).apply(one, include_groups=False).reset_index()


def past_rates(c: pd.DataFrame) -> pd.DataFrame:
    """Per setting and region (seeds and origins pooled): correlation and root mean square error
    of our past growth rate against the truth's past rate, and correlation with its outlook rate."""
    c = c[(c["t_open_p"] > 20) & (c["o_open_p"] > 20)]
    ours, past = c["o_dE_p"] / c["o_E_p"], c["t_dE_p"] / c["t_E_p"]
    out = c["t_dE_o"] / c["t_E_o"]
    d = pd.DataFrame({"setting": c["setting"], "region": c["region"], "ours": ours,
                      "past": past, "out": out})  # fmt: skip
    return (
        d.groupby(["setting", "region"])
        .apply(
            lambda g: pd.Series(
                {
                    "corr_truth_past_rate": g["ours"].corr(g["past"]),
                    "rmse_truth_past_rate": float(np.sqrt(((g["ours"] - g["past"]) ** 2).mean())),
                    "corr_truth_outlook_rate": g["ours"].corr(g["out"]),
                }
            ),
            include_groups=False,
        )  # fmt: skip
        .reset_index()
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--origins", type=int, nargs="+", default=[2018, 2019])
    args = ap.parse_args()
    frames = []
    for seed in args.seeds:
        ds = synthetic.generate_demo(seed=seed)
        truth = ds.require("imbalance_truth").merge(
            truth_components(seed), on=["region", "ssyk", "year"]
        )
        for origin in args.origins:
            fitted = fit_at_origin(ds, origin, int(truth["year"].max()),
                                   demand_config=DemandConfig(calibration_origins=2), n_sims=200)  # fmt: skip
            for shrink in (False, True):
                frames.append(cells(seed, origin, fitted, truth, shrink))
    c = pd.concat(frames, ignore_index=True)
    s = summary(c)
    s.to_csv(OUT / "openings_growth.csv", index=False)
    by_region = past_rates(c)
    by_region.to_csv(OUT / "openings_growth_regions.csv", index=False)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(s.round(3).T.to_string())
        print(by_region.round(3).to_string(index=False))
    r = resource.getrusage(resource.RUSAGE_SELF)
    print(f"CPU s: {r.ru_utime + r.ru_stime:.1f}")


if __name__ == "__main__":
    main()

"""Evidence for the stock–flow supply and the centred balance (issues 11 and 12), on the demo.

Prints and saves under ``benchmarks/results/``:

* ``supply_balance_status.csv`` — status distribution per region (SSYK 3) for 2023–2030 and
  the centring median of the observed-years indicator (target 0.95–1.05);
* ``supply_balance_calls.csv`` / ``supply_balance_call_scores.csv`` — call backtest from
  origins 2018 and 2019 against the generator's imbalance truth: balanced accuracy and Brier
  score of ours (today's state carried forward by the models' relative growth), the model alone
  (``today_weight=0``), carry-forward and the old graduates-only method; the truth's own status
  distribution beside ours (also in ``supply_balance_status.csv``);
* ``supply_balance_call_scores_holdout.csv`` — the same scores on a second hold-out
  realisation of the generator (``--holdout-seed``, default 3; 0 skips it);
* ``supply_backtest.csv`` — labour supply by education group and region, origins 2017–2020,
  horizons 1–4: MAPE of the stock–flow model, naive (last value) and graduates-only
  (last value + entering graduates, nothing leaves);
* ``supply_closure.csv`` — newcomers of all channels against the generator's observed hires
  (openings) per SSYK 2 group in the recent past (target ±5 % on average), and the measured
  channels alone;
* ``supply_coherence.csv`` — largest relative gap between the four subregions' sum and
  ``delregionerna`` per table, and the county against its municipalities;
* ``supply_balance_timing.csv`` — seconds and peak RSS of each step.

Run: ``PYTHONPATH=. python benchmarks/supply_balance.py [--fast]`` (``--fast``: the default demand
method with two calibration origins for the backtest refits; the main fit always uses the
default). Figures are measured on a shared 2-core machine: timings are noisy.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos import regions
from kompetensprognos.balance import STATUSES, BalanceParams, balance_tables
from kompetensprognos.balance_calls import call_backtest, score_calls
from kompetensprognos.demand import DemandConfig
from kompetensprognos.education import project_graduates
from kompetensprognos.labour_supply import SupplyConfig, SupplyModel
from kompetensprognos.pipeline import fit_demand
from kompetensprognos.recruitment import recruitment_need
from kompetensprognos.replacement import dataset_exit_rates
from kompetensprognos.synthetic import generate_demo

OUT = Path(__file__).parent / "results"
TIMING: list[tuple[str, float, float]] = []


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(name: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = func(*args, **kwargs)
    TIMING.append((name, time.perf_counter() - t, _peak_mb()))
    print(f"  {name}: {TIMING[-1][1]:.1f} s, peak RSS {TIMING[-1][2]:.0f} MB", flush=True)
    return out


def supply_backtest(ds, origins=(2017, 2018, 2019, 2020), horizon=4) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Labour supply per region × education group: model vs naive vs graduates-only."""
    import dataclasses

    obs = ds.labour_status
    fl = ds.education_flows
    rows = []
    fast = dataclasses.replace(ds, education_output=None)  # graduates: recent mean (no leak)
    for origin in origins:
        end = origin + horizon
        res = SupplyModel(SupplyConfig(end_year=end, n_sims=20, until=origin)).fit(fast)
        for region in regions.REGION_IDS:
            members = regions.members(region)
            o = obs[obs["region"].isin(members)]
            truth = o.groupby(["type", "education", "year"])["employed"].sum()
            ls = res.labour_supply(region).set_index(["type", "education", "year"])["labour_supply"]
            last = truth.xs(origin, level="year")
            emp_share = (o[o["year"] == origin].groupby(["type", "education"])["employed"].sum()
                         / ds.population_education[ds.population_education["region"].isin(members)
                         & (ds.population_education["year"] == origin)]
                         .groupby(["type", "education"])["population"].sum())  # fmt: skip
            g = fl[fl["region"].isin(members) & (fl["year"] <= origin)]
            grads = g.groupby(["type", "education", "year"])["graduates"].sum()
            mean_grads = grads.groupby(["type", "education"]).apply(lambda s: s.tail(3).mean())
            for h in range(1, horizon + 1):
                y = origin + h
                t = truth.xs(y, level="year")
                model = ls.xs(y, level="year").reindex(t.index)
                naive = last.reindex(t.index)
                gonly = (last + h * mean_grads.reindex(last.index).fillna(0) * emp_share.reindex(last.index).fillna(0)).reindex(t.index)  # fmt: skip
                for name, pred in (("stock_flow", model), ("naive", naive), ("graduates_only", gonly)):  # fmt: skip
                    ok = t > 50
                    ape = (pred[ok] - t[ok]).abs() / t[ok]
                    rows.append((region, origin, h, name, float(ape.mean() * 100), int(ok.sum())))
    return pd.DataFrame(rows, columns=["region", "origin", "horizon", "method", "mape", "n"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--n-sims", type=int, default=1000)  # as the pipeline
    ap.add_argument("--skip-calls", action="store_true")
    ap.add_argument("--holdout-seed", type=int, default=3)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    ds = _timed("generate demo", generate_demo)
    dem, _ = _timed(
        "demand fit (default config)",
        fit_demand,
        ds,
        DemandConfig(),
        list(regions.REGION_IDS),
        backtest=False,
    )
    proj = _timed("graduate projection", project_graduates, ds, 2030, n_sims=200)
    sup = _timed("supply fit (5 regions, 50 municipalities)", SupplyModel(SupplyConfig(n_sims=200)).fit, ds, projection=proj)  # fmt: skip
    rates = dataset_exit_rates(ds)

    # status distribution and centring, per region
    status_rows, tables = [], {}
    for region in regions.REGION_IDS:
        _timed(f"need {region}", recruitment_need, dem, ds, region, 2023, 2030, args.n_sims, 0)
        t = _timed(
            f"balance {region}",
            balance_tables,
            sup, dem, ds, region,
            start=2023, end=2030, n_sims=args.n_sims, seed=0, exit_rates=rates,
        )  # fmt: skip
        tables[region] = t
        b3 = t["balance"][t["balance"]["ssyk_level"] == 3]
        counts = b3["status"].value_counts()
        assessed = b3[b3["status"].isin(["brist", "balans", "överskott"])]
        status_rows.append(
            {
                "region": region,
                **{s: int(counts.get(s, 0)) for s in ("brist", "balans", "överskott", "för litet underlag")},
                "largest_share": float(assessed["status"].value_counts(normalize=True).max()),
                "past_ratio_median": float(b3["past_ratio"].median()),
                "relative_ratio_median": float(b3["balance_ratio"].median()),
                "p_shortage_median": float(assessed["p_shortage"].median()),
            }
        )  # fmt: skip
    status = pd.DataFrame(status_rows)

    # coherence
    coh = []
    for name, value in (("labour_supply", "labour_supply"), ("supply_flows", "in_movers"),
                        ("newcomers", "newcomers")):  # fmt: skip

        def tot(region: str, name: str = name, value: str = value) -> pd.Series:
            t = getattr(sup, name)(region)
            keys = [c for c in ("type", "education", "ssyk", "channel", "year") if c in t.columns]
            return t.groupby(keys)[value].sum()

        subs = sum(tot(r) for r in regions.SUBREGION_IDS)
        whole = tot("delregionerna")
        county = tot("vastra-gotaland")
        munis = sum(tot(m) for m in regions.members("vastra-gotaland"))
        coh.append((name, float(((subs - whole).abs() / whole.abs().clip(lower=1)).max()),
                    float(((munis - county).abs() / county.abs().clip(lower=1)).max())))  # fmt: skip
    coh_df = pd.DataFrame(coh, columns=["table", "max_rel_gap_subregions", "max_rel_gap_county"])
    coh_df.to_csv(OUT / "supply_coherence.csv", index=False)
    print(coh_df.to_string(index=False))

    # closure against the generator's observed hires (recent past, SSYK 2)
    truth = ds.imbalance_truth
    clo = []
    for region, t in tables.items():
        b = t["supply"]
        past = b[b["year"].between(2016, 2022)]
        ours = past.groupby(past["ssyk"].str[:2])["newcomers"].sum()
        meas = past[past["channel"].isin(["graduates", "further_study_leavers", "in_movers",
                                           "re_entrants"])]  # fmt: skip
        meas = meas.groupby(meas["ssyk"].str[:2])["newcomers"].sum()
        tr = truth[(truth["region"] == region) & truth["year"].between(2016, 2022)]
        hires = tr.groupby(tr["ssyk"].str[:2])["openings"].sum()
        dev = (ours.reindex(hires.index) / hires - 1).dropna()
        devm = (meas.reindex(hires.index) / hires - 1).dropna()
        clo.append((region, float(dev.abs().mean() * 100), float(dev.mean() * 100),
                    float(devm.abs().mean() * 100)))  # fmt: skip
    clo_df = pd.DataFrame(clo, columns=["region", "mean_abs_dev_pct", "mean_dev_pct",
                                        "measured_only_mean_abs_dev_pct"])  # fmt: skip
    clo_df.to_csv(OUT / "supply_closure.csv", index=False)
    print(clo_df.round(1).to_string(index=False))

    # labour-supply backtest
    bt = _timed("supply backtest (4 origins)", supply_backtest, ds)
    bt.to_csv(OUT / "supply_backtest.csv", index=False)
    print(bt.groupby(["method", "horizon"])["mape"].mean().unstack().round(2).to_string())

    # call backtest: ours (today's state carried forward by the models' relative growth) and the
    # model alone (today_weight=0), on the demo and on a hold-out realisation of the generator
    if not args.skip_calls:
        cfg = DemandConfig(calibration_origins=2) if args.fast else None

        def scored(data, label: str) -> tuple[pd.DataFrame, pd.DataFrame]:  # type: ignore[no-untyped-def]
            calls = _timed(f"call backtest {label} (origins 2018, 2019)", call_backtest, data,
                           (2018, 2019), demand_config=cfg, n_sims=200)  # fmt: skip
            alone = _timed(f"call backtest {label}, model alone", call_backtest, data,
                           (2018, 2019), demand_config=cfg, n_sims=200, old_method=False,
                           with_today=False, balance_params=BalanceParams(today_weight=0.0))  # fmt: skip
            keys = ["region", "origin", "ssyk"]
            alone = alone[[*keys, "status", "p_shortage"]].rename(
                columns={"status": "model_alone_status", "p_shortage": "model_alone_p_shortage"}
            )
            calls = calls.merge(alone, on=keys, how="left")
            return calls, score_calls(calls)

        calls, scores = scored(ds, "demo")
        calls.to_csv(OUT / "supply_balance_calls.csv", index=False)
        scores.to_csv(OUT / "supply_balance_call_scores.csv", index=False)
        print(scores[scores["region"] == "all"].round(3).to_string(index=False))
        truth_dist = calls[calls["truth_status"].isin(STATUSES)].groupby("region")["truth_status"]
        truth_dist = truth_dist.value_counts(normalize=True).unstack()
        status["truth_largest_share"] = status["region"].map(truth_dist.max(axis=1))
        status["truth_balans_share"] = status["region"].map(truth_dist["balans"])
        if args.holdout_seed:
            _, hold = scored(generate_demo(seed=args.holdout_seed), f"seed {args.holdout_seed}")
            hold.assign(seed=args.holdout_seed).to_csv(
                OUT / "supply_balance_call_scores_holdout.csv", index=False
            )
            print(f"hold-out seed {args.holdout_seed}:")
            print(hold[hold["region"] == "all"].round(3).to_string(index=False))
        dist = pd.concat(
            {c: calls.groupby("region")[c].value_counts(normalize=True).unstack()
             for c in ("status", "today_status", "truth_status", "carry_status", "old_status")
             if c in calls},
            names=["method"],
        )  # fmt: skip
        dist.to_csv(OUT / "supply_balance_call_distribution.csv")
        print(dist.round(2).to_string())

    status.to_csv(OUT / "supply_balance_status.csv", index=False)
    print(status.round(3).to_string(index=False))
    pd.DataFrame(TIMING, columns=["step", "seconds", "peak_rss_mb"]).to_csv(
        OUT / "supply_balance_timing.csv", index=False
    )
    print("median region balance seconds:",
          np.median([s for n, s, _ in TIMING if n.startswith("balance ")]))  # fmt: skip
    print("region stage (need + balance, five regions) seconds:",
          sum(s for n, s, _ in TIMING if n.startswith(("balance ", "need "))))  # fmt: skip


if __name__ == "__main__":
    main()

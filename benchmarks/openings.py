"""Openings (BLS rule) against the old need rule on the demo, per report region.

Old rule (before this change, read from the main checkout): need = max(expansion over the period,
0) + replacement per row (the total row too, so declines offset growth there), and the simulated
paths clipped expansion at 0 path by path. New rule: need = sum over the years of
``max(ΔE_t + separations_t, 0)``, point = median of the same simulated paths.

For each region: SSYK 3 occupations, how many shrink over 2023–2030, the total need by both
rules, the gap between the simulated mean/median and the point need (old and new), and how many
balance statuses change (the balance as it is on this branch, same graduate projection).
Writes ``benchmarks/results/openings.json``.

    PYTHONPATH=. .venv/bin/python benchmarks/openings.py [--n-sims 500]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path

import pandas as pd

from kompetensprognos import graduates_balance as balance
from kompetensprognos import recruitment
from kompetensprognos.dataset import load_dataset
from kompetensprognos.demand import DemandModel
from kompetensprognos.education import project_graduates
from kompetensprognos.regions import REGION_IDS

RESULTS = Path(__file__).resolve().parent / "results"
OLD = Path("/work/main/kompetensprognos/recruitment.py")


def _old_module():
    """The recruitment module as it was before openings (main checkout), if present."""
    if not OLD.exists():
        return None
    spec = importlib.util.spec_from_file_location("old_recruitment", OLD)
    mod = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(mod)
    return mod


def _centre_gap(need: pd.DataFrame, sims: pd.DataFrame) -> dict[str, float]:
    lvl = need[need["ssyk_level"] == 3].set_index("ssyk")["recruitment_need"]
    s = sims[sims["ssyk_level"] == 3].groupby("ssyk")["recruitment_need"]
    tot = float(lvl.sum())
    return {
        "mean_vs_point_pct": round(100 * (float(s.mean().reindex(lvl.index).sum()) / tot - 1), 2),
        "median_vs_point_pct": round(
            100 * (float(s.median().reindex(lvl.index).sum()) / tot - 1), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-sims", type=int, default=500)
    args = parser.parse_args()
    n = args.n_sims
    t0 = time.perf_counter()
    ds = load_dataset("demo")
    result = DemandModel().fit(ds)
    proj = project_graduates(ds, 2030, n_sims=n, seed=0)
    print(f"fit + graduates {time.perf_counter() - t0:.0f}s", flush=True)
    old = _old_module()
    rows = []
    for region in REGION_IDS:
        new_need = recruitment.recruitment_need(result, ds, region, n_sims=n)
        new_sims = recruitment.simulate_need(result, ds, region, n_sims=n)
        op = recruitment.openings(result, ds, region)
        op3 = op[op["ssyk_level"] == 3]
        exp3 = new_need[new_need["ssyk_level"] == 3]
        row = {
            "region": region,
            "occupations": int(len(exp3)),
            "shrinking_over_period": int((exp3["expansion"] < 0).sum()),
            "with_a_year_of_decline": int(
                op3.groupby("ssyk")["employment_change"].min().lt(0).sum()
            ),
            "need_new_median_sum": round(float(exp3["recruitment_need"].sum())),
            "need_new_deterministic": round(float(op3["openings"].sum())),
            "new": _centre_gap(new_need, new_sims),
        }  # fmt: skip
        bal_new = balance.graduates_only_balance_tables(
            ds, region, result, need=new_need, projection=proj, n_sims=n
        )["balance"]
        if old is not None:
            old_need = old.recruitment_need(result, ds, region, n_sims=n)
            old_sims = old.simulate_need(result, ds, region, n_sims=n)
            o3 = old_need[old_need["ssyk_level"] == 3].set_index("ssyk")
            shrinking = o3.index[o3["expansion"] < 0]
            det = op3.groupby("ssyk")["openings"].sum()
            row["need_old_sum_ssyk3"] = round(float(o3["recruitment_need"].sum()))
            row["need_old_total_row"] = round(
                float(old_need.query("ssyk == 'total'")["recruitment_need"].iloc[0])
            )
            row["need_change_pct"] = round(
                100 * (row["need_new_deterministic"] / row["need_old_sum_ssyk3"] - 1), 2
            )
            row["shrinking_need_old"] = round(float(o3.loc[shrinking, "recruitment_need"].sum()))
            row["shrinking_need_new"] = round(float(det.reindex(shrinking).sum()))
            row["old"] = _centre_gap(old_need, old_sims)
            saved = balance.simulate_need
            balance.simulate_need = old.simulate_need
            try:
                bal_old = balance.graduates_only_balance_tables(
                    ds, region, result, need=old_need, projection=proj, n_sims=n
                )["balance"]
            finally:
                balance.simulate_need = saved
            m = bal_old.merge(bal_new, on="ssyk", suffixes=("_old", "_new"))
            row["status_changes"] = int((m["status_old"] != m["status_new"]).sum())
            row["status_old"] = bal_old["status"].value_counts().to_dict()
            agree_old = (bal_old["status"] == "brist") == (bal_old["p_shortage"] >= 0.5)
            row["status_p_agree_old"] = round(float(agree_old.mean()), 3)
        row["status_new"] = bal_new["status"].value_counts().to_dict()
        agree = (bal_new["status"] == "brist") == (bal_new["p_shortage"] >= 0.5)
        row["status_p_agree_new"] = round(float(agree.mean()), 3)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "openings.json"
    payload = {"n_sims": n, "seconds": round(time.perf_counter() - t0, 1), "regions": rows}
    out.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=int) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()

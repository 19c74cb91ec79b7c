"""Choose the demand model's forecasting method and reconciliation by backtest on the demo data.

Honest protocol (issue #12): the candidate is **chosen on earlier origins** (2017–2019, actuals
only up to 2020, the first scoring origin) and **scored on later origins** (2020–2023, actuals to
2024) that played no part in the choice. Every candidate's later-origin scores are printed too,
for comparison with the earlier, leaky run (choice and scores on the same origins 2020–2023,
break factors from all years), which is kept as ``demand_choice_before_leak_fix.json``.

Every occupation at SSYK 3 in the five report regions; the backtest is leak-free
(:func:`kompetensprognos.demand.backtest_demand`: break factors and data up to each origin only).
Writes ``benchmarks/results/demand_choice.json``; the summary goes into ``docs/methods.md``.

    PYTHONPATH=. .venv/bin/python benchmarks/demand_choice.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandConfig, backtest_demand
from kompetensprognos.evaluation import summarise
from kompetensprognos.synthetic import generate_demo

RESULTS = Path(__file__).resolve().parent / "results"
CHOICE_ORIGINS = [2017, 2018, 2019]
SCORE_ORIGINS = [2020, 2021, 2022, 2023]
CANDIDATES = [
    ("theta", "mint_wls_struct", True),
    ("theta", "bottom_up", True),
    ("theta", "none", True),
    ("damped", "mint_wls_struct", True),
    ("drift", "mint_wls_struct", True),
    ("theta", "mint_wls_struct", False),
]


def _label(method: str, rec: str, breaks: bool) -> str:
    return f"{method}+{rec}" + ("" if breaks else "+no_break_adjustment")


def _until(ds: Dataset, year: int) -> Dataset:
    """The dataset as it stood in ``year`` (employment only; all the demand backtest reads)."""
    e = ds.employment
    return Dataset(manifest=ds.manifest, employment=e[e["year"] <= year])


def _scores(ds: Dataset, cfg: DemandConfig, origins: list[int]) -> tuple[list[dict], float]:
    t0 = time.perf_counter()
    detail = backtest_demand(ds, config=cfg, origins=origins)
    seconds = time.perf_counter() - t0
    rows = []
    for rec in summarise(detail, by=("model",)).to_dict("records"):
        rows.append({k: (v if k == "model" else round(float(v), 4)) for k, v in rec.items()})
    return rows, round(seconds, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two candidates only")
    parser.add_argument(
        "--methods",
        nargs="+",
        help="compare these forecasting methods (MinTrace, break adjustment) instead of the list",
    )
    args = parser.parse_args()
    ds = generate_demo()
    candidates = CANDIDATES[:2] if args.quick else CANDIDATES
    if args.methods:
        candidates = [(m, "mint_wls_struct", True) for m in args.methods]
    early = _until(ds, SCORE_ORIGINS[0])
    choice, later = [], []
    for method, rec, breaks in candidates:
        cfg = DemandConfig(
            method=method, reconciliation=rec, adjust_breaks=breaks, calibration_origins=2
        )
        label = _label(method, rec, breaks)
        for origins, data, out in ((CHOICE_ORIGINS, early, choice), (SCORE_ORIGINS, ds, later)):
            rows, seconds = _scores(data, cfg, origins)
            for r in rows:
                name = r.pop("model")
                if name == "kompetensprognos":
                    out.append({"candidate": label, "seconds": seconds, **r})
                elif (method, rec, breaks) == candidates[0]:
                    out.append({"candidate": name, "seconds": seconds, **r})  # baselines once
        print(f"{label:45} done", flush=True)
    models = {_label(*c) for c in candidates}
    chosen = min((r for r in choice if r["candidate"] in models), key=lambda r: r["mase"])
    print(f"\nchosen on origins {CHOICE_ORIGINS} (actuals to {SCORE_ORIGINS[0]}): "
          f"{chosen['candidate']} (MASE {chosen['mase']:.3f})")  # fmt: skip
    for title, rows in (("choice origins", choice), ("scoring origins", later)):
        print(f"\n{title}\n{'candidate':45} {'MASE':>6} {'sMAPE':>6} {'dir':>5} {'cov80':>6}")
        for r in sorted(rows, key=lambda r: r["mase"]):
            print(f"{r['candidate']:45} {r['mase']:6.3f} {r['smape']:6.2f} "
                  f"{r['direction_accuracy']:5.2f} {r.get('coverage80', float('nan')):6.2f}")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    name = "demand_choice_methods" if args.methods else "demand_choice"
    out = RESULTS / (f"{name}_quick.json" if args.quick else f"{name}.json")
    payload = {
        "choice_origins": CHOICE_ORIGINS,
        "choice_actuals_until": SCORE_ORIGINS[0],
        "score_origins": SCORE_ORIGINS,
        "chosen": chosen["candidate"],
        "choice": sorted(choice, key=lambda r: r["mase"]),
        "scored_on_later_origins": sorted(later, key=lambda r: r["mase"]),
    }
    out.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()

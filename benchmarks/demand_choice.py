"""Choose the demand model's forecasting method and reconciliation by backtest on the demo data.

Runs the rolling-origin demand backtest (origins 2020-2023, every occupation at SSYK 3 in the five
report regions, scored on break-adjusted actuals) for each candidate and writes
``benchmarks/results/demand_choice.json``; the summary goes into ``docs/methods.md``.

    .venv/bin/python benchmarks/demand_choice.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from kompetensprognos.demand import DemandConfig, backtest_demand
from kompetensprognos.evaluation import summarise
from kompetensprognos.synthetic import generate_demo

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one origin, fewer candidates")
    args = parser.parse_args()
    ds = generate_demo()
    origins = [2022] if args.quick else [2020, 2021, 2022, 2023]
    candidates = [
        ("theta", "mint_wls_struct", True),
        ("theta", "bottom_up", True),
        ("theta", "none", True),
        ("damped", "mint_wls_struct", True),
        ("drift", "mint_wls_struct", True),
        ("theta", "mint_wls_struct", False),
    ]
    if args.quick:
        candidates = candidates[:2]
    rows = []
    for method, rec, breaks in candidates:
        cfg = DemandConfig(
            method=method, reconciliation=rec, adjust_breaks=breaks, calibration_origins=2
        )
        t0 = time.perf_counter()
        detail = backtest_demand(ds, config=cfg, origins=origins)
        seconds = time.perf_counter() - t0
        summary = summarise(detail, by=("model",))
        for rec_row in summary.to_dict("records"):
            name = rec_row.pop("model")
            if name != "kompetensprognos" and (method, rec, breaks) != candidates[0]:
                continue  # baselines once
            label = (
                f"{method}+{rec}" + ("" if breaks else "+no_break_adjustment")
                if name == "kompetensprognos"
                else name
            )
            rows.append(
                {
                    "candidate": label,
                    "seconds": round(seconds, 1),
                    **{k: round(float(v), 4) for k, v in rec_row.items()},
                }
            )
        print(f"{method:>7} {rec:>16} breaks={breaks!s:5} {seconds:6.1f}s", flush=True)
    rows.sort(key=lambda r: r["mase"])
    print(f"\n{'candidate':45} {'MASE':>6} {'sMAPE':>6} {'dir':>5} {'cov80':>6} {'cov95':>6}")
    for r in rows:
        print(f"{r['candidate']:45} {r['mase']:6.3f} {r['smape']:6.2f} {r['direction_accuracy']:5.2f} "
              f"{r.get('coverage80', float('nan')):6.2f} {r.get('coverage95', float('nan')):6.2f}")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("demand_choice_quick.json" if args.quick else "demand_choice.json")
    out.write_text(json.dumps({"origins": origins, "results": rows}, indent=2) + "\n")
    print(f"saved {out}")


if __name__ == "__main__":
    main()

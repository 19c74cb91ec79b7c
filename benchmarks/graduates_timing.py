"""Seconds of the graduate projection and the supply fit, before and after the #15 speed-up.

    .venv/bin/python benchmarks/graduates_timing.py [--before 81df1f0] [--repeat 2]

Runs, on the demo data and the pipeline's defaults (projection to 2030, 1,000 graduate paths,
seed 0; ``SupplyModel(SupplyConfig(end_year=2030))`` with that projection), the package as it is
and the package at git revision ``--before`` (extracted with ``git archive`` into a temporary
folder), each in its own process after importing statsforecast (an import the pipeline has
already paid for). Prints and writes ``benchmarks/results/graduates_timing.json``: wall and CPU
seconds (the fastest of ``--repeat`` runs), the load average around the runs (the machine is
shared: compare CPU seconds, and read wall seconds with the load beside them), and how far the
results moved — the chosen models, and the largest relative difference of the point forecasts,
the simulated paths and the supply arrays.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SUPPLY_ARRAYS = ("stock", "employed", "labour_force", "draws_employed", "draws_graduates",
                 "draws_in_movers", "draws_reentrants")  # fmt: skip


def _worker(out: str, repeat: int) -> None:
    """Time both steps with the package on ``sys.path`` and pickle plain results."""
    import statsforecast  # noqa: F401  (paid once per run by the pipeline's demand step)

    from kompetensprognos.education import project_graduates
    from kompetensprognos.labour_supply import SupplyConfig, SupplyModel
    from kompetensprognos.synthetic import generate_demo

    ds = generate_demo()
    times: dict[str, list[tuple[float, float]]] = {"graduates": [], "supply_fit": []}
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        proj = project_graduates(ds, 2030, n_sims=1000, seed=0)
        times["graduates"].append((time.perf_counter() - w, time.process_time() - c))
        w, c = time.perf_counter(), time.process_time()
        res = SupplyModel(SupplyConfig(end_year=2030, seed=0)).fit(ds, projection=proj)
        times["supply_fit"].append((time.perf_counter() - w, time.process_time() - c))
    fc = proj.forecast.sort_values(["region", "type", "education", "year"])
    plain = {
        "times": times,
        "models": dict(proj.models),
        "forecast": fc["graduates"].to_numpy(),
        "draws": proj.draws,
        "supply": {a: getattr(res, a) for a in SUPPLY_ARRAYS},
    }
    with open(out, "wb") as f:
        pickle.dump(plain, f)


def _run(src: Path, out: Path, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--worker", str(out), "--repeat", str(repeat)]
    subprocess.run(cmd, env=env, check=True, cwd=src)
    with open(out, "rb") as f:
        return pickle.load(f)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        return float("inf")
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-9), initial=0.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", default="81df1f0", help="git revision to compare with")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker(args.worker, args.repeat)
        return
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "before"
        old.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before,
                                  "kompetensprognos"], check=True, capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
        before = _run(old, Path(tmp) / "before.pkl", args.repeat)
        after = _run(ROOT, Path(tmp) / "after.pkl", args.repeat)
    load1 = os.getloadavg()

    def best(r: dict, step: str) -> dict[str, float]:
        wall, cpu = zip(*r["times"][step], strict=True)
        return {"wall_s": round(min(wall), 2), "cpu_s": round(min(cpu), 2)}

    out = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} ({os.cpu_count()} cores)",
        "load_average_before_after": [round(load0[0], 2), round(load1[0], 2)],
        "before_revision": args.before,
        "repeat": args.repeat,
        "seconds": {
            step: {"before": best(before, step), "after": best(after, step)}
            for step in ("graduates", "supply_fit")
        },
        "same_models": before["models"] == after["models"],
        "models": after["models"],
        "max_rel_diff": {
            "graduate_point_forecasts": _rel(before["forecast"], after["forecast"]),
            "graduate_paths": _rel(before["draws"], after["draws"]),
            **{f"supply_{a}": _rel(before["supply"][a], after["supply"][a]) for a in SUPPLY_ARRAYS},
        },
    }
    print(json.dumps(out, indent=2))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "graduates_timing.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""CPU seconds of the tables stage of the main job, stage by stage (issue #15).

    PYTHONPATH=. .venv/bin/python benchmarks/tables_timing.py [--label NAME] [--profile DIR]
        [--only STAGE ...] [--out FILE]

Runs the stages of :func:`kompetensprognos.pipeline.run` for the five demo regions one after the
other in this one process (``jobs=1``: no worker competes; BLAS on one thread as in the run) and records, per stage, the CPU
seconds of this process (``time.process_time``, all its threads) beside the wall time, plus a
digest of every table so two versions of the code can be compared for identical results.
CPU time is what to compare on a shared machine; the load average is recorded too.

Stages: ``demand_fit``, ``graduates`` + ``supply_fit`` + ``regions`` (the main-process chain),
``backtest`` (demand backtest, a worker in the main job) and ``call_backtest`` (a worker).
With ``--profile DIR`` each stage is also profiled (cProfile, ``DIR/<stage>.prof``).
Results go to ``benchmarks/results/tables_timing[_LABEL].json``.
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import json
import os
import time
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from kompetensprognos import pipeline
from kompetensprognos.dataset import load_dataset
from kompetensprognos.demand import DemandModel
from kompetensprognos.params import load_region_params
from kompetensprognos.regions import REGION_IDS

RESULTS = Path(__file__).resolve().parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def _digest(frames: dict) -> str:
    h = hashlib.sha256()
    for name in sorted(frames):
        df = frames[name]
        h.update(name.encode())
        h.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
        h.update(",".join(map(str, df.columns)).encode())
    return h.hexdigest()[:12]


class _Stage:
    def __init__(self, name: str, record: dict, profile: Path | None) -> None:
        self.name, self.record, self.profile = name, record, profile

    def __enter__(self) -> _Stage:
        self.prof = cProfile.Profile() if self.profile else None
        self.c0, self.t0 = time.process_time(), time.perf_counter()
        if self.prof:
            self.prof.enable()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.prof:
            self.prof.disable()
            self.profile.mkdir(parents=True, exist_ok=True)
            self.prof.dump_stats(self.profile / f"{self.name}.prof")
        self.record[self.name] = {
            "cpu": round(time.process_time() - self.c0, 2),
            "wall": round(time.perf_counter() - self.t0, 2),
        }
        print(f"{self.name:14s} cpu {self.record[self.name]['cpu']:7.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="")
    parser.add_argument("--profile", type=Path, default=None)
    parser.add_argument("--save", type=Path, default=None, help="pickle every table here")
    parser.add_argument(
        "--only", nargs="*", default=None, help="regions, backtest, call_backtest (default: all)"
    )
    args = parser.parse_args()
    only = set(args.only or ("regions", "backtest", "call_backtest"))

    threadpool_limits(1)  # as pipeline.run does (BLAS on one thread)
    dataset = load_dataset("demo")
    params = load_region_params(list(REGION_IDS), ROOT / "params", data="demo")
    config = pipeline.demand_config(params)
    stages: dict[str, dict] = {}
    digests: dict[str, str] = {}
    load0 = os.getloadavg()[0]

    with _Stage("demand_fit", stages, args.profile):
        result = DemandModel(config).fit(dataset)
    if "regions" in only:
        timings: dict[str, float] = {}
        with _Stage("tables_chain", stages, args.profile):
            tables = pipeline._region_tables(
                dataset, params, pipeline.STAGES, result, None, False, timings
            )
        stages["tables_chain"]["wall_by_step"] = {k: round(v, 2) for k, v in timings.items()}
        for region, tabs in tables.items():
            digests[f"tables/{region}"] = _digest(tabs)
    if "backtest" in only:
        with _Stage("backtest", stages, args.profile):
            bt, _ = pipeline._timed_backtest(dataset, config, list(params))
        digests["backtest"] = _digest({"backtest": bt})
    if "call_backtest" in only:
        with _Stage("call_backtest", stages, args.profile):
            calls, _ = pipeline._timed_calls(dataset, config, params)
        for region, c in calls.items():
            digests[f"calls/{region}"] = _digest({"calls": c})

    if args.save is not None:
        import pickle

        keep = {"tables": tables if "regions" in only else None}
        keep["backtest"] = bt if "backtest" in only else None
        keep["calls"] = calls if "call_backtest" in only else None
        args.save.write_bytes(pickle.dumps(keep))
    record = {
        "label": args.label,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_average_start_end": [round(load0, 2), round(os.getloadavg()[0], 2)],
        "cpu_count": os.cpu_count(),
        "stages": stages,
        "cpu_total": round(sum(s["cpu"] for s in stages.values()), 1),
        "digests": digests,
    }
    print(json.dumps(record, indent=2))
    RESULTS.mkdir(exist_ok=True)
    name = f"tables_timing_{args.label}.json" if args.label else "tables_timing.json"
    (RESULTS / name).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

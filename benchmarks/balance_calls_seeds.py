"""The call backtest (issue 12) on several realisations of the generator, before and after a
balance setting, with the same refits.

For each seed, :func:`kompetensprognos.balance_calls.call_backtest` (origins 2018 and 2019) is
run with the default ``BalanceParams`` and with ``--before`` settings (default: the recent
past's employment change taken as observed, ``shrink_past_change=False`` — the session-4
method), and both are scored beside carry-forward (balanced accuracy and Brier score of
``p_shortage``). Saves ``benchmarks/results/balance_calls_seeds.csv``.

Protocol: settings are chosen on seeds 1 and 2 only; the demo (``synthetic.DEFAULT_SEED``,
20241231, what the report shows) and seeds 0, 3 and 4 are hold-outs, run once. ``--fast`` is the protocol of ``supply_balance.py --fast`` (two calibration
origins, 200 paths).

Run: ``PYTHONPATH=. python benchmarks/balance_calls_seeds.py --fast`` (the demo, seeds 0, 3, 4);
``--settings`` picks named settings (:data:`SETTINGS`, e.g. the ``past_change_noise`` variants
``overdispersed persistence total``); each origin is refitted once per realisation and shared by
the settings.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import pandas as pd

from kompetensprognos import balance_calls
from kompetensprognos.balance_calls import call_backtest
from kompetensprognos.call_scores import score_calls
from kompetensprognos.config import BalanceParams
from kompetensprognos.demand import DemandConfig
from kompetensprognos.synthetic import DEFAULT_SEED, generate_demo

OUT = Path(__file__).parent / "results"


def _cpu() -> float:
    r = [resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(x.ru_utime + x.ru_stime for x in r)


#: Named balance settings (``--settings``); ``after`` is the default ``BalanceParams``.
SETTINGS = {
    "after": BalanceParams(),
    "before": BalanceParams(shrink_past_change=False),
    **{
        noise: BalanceParams(past_change_noise=noise)
        for noise in ("poisson", "overdispersed", "persistence", "total")
    },
}


def _shared_fits() -> None:
    """Fit each (dataset, origin) once for all settings: the settings change only the balance,
    so the refits are the same (``fit_at_origin`` is deterministic given its arguments)."""
    fit = balance_calls.fit_at_origin
    cache: dict[tuple, dict] = {}

    def cached(dataset, origin, *args, **kw):
        key = (id(dataset), origin, args, tuple(sorted((k, repr(v)) for k, v in kw.items())))
        if cache and next(iter(cache))[0] != id(dataset):
            cache.clear()  # a new realisation: keep only its fits
        if key not in cache:
            cache[key] = fit(dataset, origin, *args, **kw)
        return cache[key]

    balance_calls.fit_at_origin = cached


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[DEFAULT_SEED, 0, 3, 4])
    ap.add_argument("--fast", action="store_true")
    ap.add_argument("--origins", type=int, nargs="+", default=[2018, 2019])
    ap.add_argument("--out", default="balance_calls_seeds.csv")
    ap.add_argument("--settings", nargs="+", default=["after", "before"], choices=list(SETTINGS))
    args = ap.parse_args()
    _shared_fits()
    cfg = DemandConfig(calibration_origins=2) if args.fast else None
    n_sims = 200 if args.fast else 300
    settings = {name: SETTINGS[name] for name in args.settings}
    rows = []
    for seed in args.seeds:
        ds = generate_demo(seed=seed)
        for name, bp in settings.items():
            t, c = time.time(), _cpu()
            calls = call_backtest(ds, tuple(args.origins), demand_config=cfg, n_sims=n_sims,
                                  balance_params=bp, old_method=False, with_today=False)  # fmt: skip
            s = score_calls(calls, by=("origin",), methods=("centred", "carry_forward"))
            s = s.assign(seed=seed, setting=name, wall_s=time.time() - t, cpu_s=_cpu() - c)
            rows.append(s)
            print(s.round(3).to_string(index=False), flush=True)
    out = pd.concat(rows, ignore_index=True)
    out.to_csv(OUT / args.out, index=False)
    piv = out[out["origin"] == "all"].pivot_table(
        index="seed", columns=["setting", "method"], values=["balanced_accuracy", "brier"]
    )
    print(piv.round(3).to_string())


if __name__ == "__main__":
    main()

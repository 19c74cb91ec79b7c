"""Scored calls: the centred balance from earlier origins against a known imbalance truth.

:func:`call_backtest` refits every model on the data up to each origin (no later year leaks in,
:func:`truncate`), calls the outlook, and :func:`score_calls` gives balanced accuracy and the
Brier score of ``p_shortage`` beside *carry today's state forward* and the old graduates-only
method. :func:`truth_status` reads the synthetic generator's ``imbalance_truth`` with the same
bands. The scores follow the one rule of :mod:`kompetensprognos.call_scores`. See
``docs/balance.md``.

Examples
--------
>>> from kompetensprognos.balance_calls import call_backtest, score_calls
>>> callable(call_backtest) and callable(score_calls)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kompetensprognos import regions
from kompetensprognos.balance import (
    STATUS_TOO_SMALL,
    STATUSES,
    ratio_change,
    region_balance,
    todays_ratio,
)
from kompetensprognos.call_scores import score_calls as _score_calls
from kompetensprognos.config import BalanceParams
from kompetensprognos.dataset import Dataset
from kompetensprognos.graduates_balance import graduates_only_balance_tables

__all__ = ["call_backtest", "fit_at_origin", "score_calls", "truncate", "truth_status"]


def _band_status(rel: np.ndarray, params: BalanceParams) -> np.ndarray:
    return np.where(
        rel < params.shortage_below,
        "brist",
        np.where(rel > params.surplus_above, "överskott", "balans"),
    )


def truth_status(
    truth: pd.DataFrame,
    past: tuple[int, int],
    outlook: tuple[int, int],
    params: BalanceParams | None = None,
) -> pd.DataFrame:
    """The generator's own call: how its newcomers-to-openings ratio moves from ``past`` to
    ``outlook``, read with the same bands (``imbalance_truth`` of synthetic data).

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, truth_ratio, truth_status``.

    Examples
    --------
    >>> t = pd.DataFrame({"region": "r", "ssyk": "222", "year": [2016, 2017, 2020, 2021],
    ...                   "openings": [10.0, 10, 10, 10], "newcomers": [10.0, 10, 8, 8]})
    >>> truth_status(t, (2016, 2017), (2020, 2021))["truth_status"].tolist()
    ['brist']
    """
    params = params or BalanceParams()
    rel = ratio_change(truth, past, outlook)
    out = rel[["region", "ssyk", "ratio"]].rename(columns={"ratio": "truth_ratio"})
    out["truth_status"] = _band_status(out["truth_ratio"].to_numpy(float), params)
    out.loc[~np.isfinite(out["truth_ratio"]), "truth_status"] = STATUS_TOO_SMALL
    return out


def truncate(dataset: Dataset, origin: int) -> Dataset:
    """Every table as known at ``origin``: rows after it dropped; the population observed up to
    the origin and then shifted by cohort (no later observation leaks in).

    Examples
    --------
    >>> from kompetensprognos.synthetic import generate_demo
    >>> ds = truncate(generate_demo(), 2018)  # doctest: +SKIP
    >>> int(ds.employment["year"].max())  # doctest: +SKIP
    2018
    """
    from kompetensprognos.labour_supply import _truncate_for_graduates

    tables = {}
    for name, table in dataset.tables().items():
        if name == "imbalance_truth":
            continue
        if "year" in table.columns and name != "population":
            table = table[table["year"] <= origin]
        tables[name] = table
    if dataset.population is not None and dataset.education_output is not None:
        tables["population"] = _truncate_for_graduates(dataset, origin).population
    return Dataset(manifest=dataset.manifest, **tables)


def fit_at_origin(
    dataset: Dataset,
    origin: int,
    end: int,
    *,
    demand_config: Any = None,
    n_sims: int = 300,
    seed: int = 0,
) -> dict[str, Any]:
    """Every model of the balance refitted on the data up to ``origin`` (:func:`truncate`), with
    forecasts to ``end``: the one refit of :func:`call_backtest` (and of the benchmarks that
    study its calls).

    Returns
    -------
    dict
        ``dataset`` (truncated), ``demand``, ``projection`` (graduates), ``supply``,
        ``exit_rates``.
    """
    from kompetensprognos.demand import DemandConfig, DemandModel
    from kompetensprognos.education import project_graduates
    from kompetensprognos.labour_supply import SupplyConfig, SupplyModel
    from kompetensprognos.replacement import dataset_exit_rates

    ds = truncate(dataset, origin)
    cfg = demand_config or DemandConfig()
    cfg = cfg.model_copy(update={"end_year": max(cfg.end_year, end)})
    dem = DemandModel(cfg).fit(ds)
    proj = project_graduates(ds, end, n_sims=n_sims, seed=seed)
    # the supply model projects migration with its own rates: the cohort shift that stands in
    # for the population after the origin (no deaths, no migration) is no official projection,
    # and forcing the supply to it inflates in-movers at the origin
    known = ds.tables() | {"population": ds.population[ds.population["year"] <= origin]}
    sup = SupplyModel(SupplyConfig(end_year=end, n_sims=min(n_sims, 200), seed=seed)).fit(
        Dataset(manifest=ds.manifest, **known), projection=proj
    )
    return {"dataset": ds, "demand": dem, "projection": proj, "supply": sup,
            "exit_rates": dataset_exit_rates(ds)}  # fmt: skip


def call_backtest(
    dataset: Dataset,
    origins: tuple[int, ...] = (2018, 2019),
    *,
    region_ids: tuple[str, ...] = regions.REGION_IDS,
    demand_config: Any = None,
    balance_params: BalanceParams | None = None,
    n_sims: int = 300,
    seed: int = 0,
    first_year: int = 2015,
    old_method: bool = True,
    with_today: bool = True,
) -> pd.DataFrame:
    """Score the balance calls from earlier origins against the generator's imbalance truth.

    For each origin every model is refitted on the data up to the origin only (demand, exit
    rates, graduates, stock–flow supply; population observed to the origin, then shifted by
    cohort): the outlook is ``origin + 1`` .. the last observed year and the recent past
    ``first_year`` .. ``origin``. Our call starts from today's state at the origin as a ratio
    (the truth's last two years against the recent past, years up to the origin only:
    :func:`kompetensprognos.balance.ratio_change`) and carries it forward by the models'
    relative growth (``BalanceParams.today_weight``; 0 gives the model alone). Beside it:
    *carry forward* — today's status (the truth's ratio in the last two years against the
    earlier past, as a yrkesbarometer would know it) carried forward unchanged — and the old
    graduates-only method. With ``with_today`` the centred balance is also run with today's
    *status* anchoring its bands instead (as it uses Arbetsförmedlingen's yrkesbarometer, which
    gives statuses, not ratios): ``today_status``.

    Returns
    -------
    pandas.DataFrame
        ``region, origin, ssyk, status, p_shortage, truth_status, truth_ratio, carry_status``
        (+ ``today_status, today_p_shortage``; + ``old_status, old_p_shortage``) at SSYK 3.
    """
    truth = dataset.require("imbalance_truth")
    bp = balance_params or BalanceParams()
    last = int(truth["year"].max())
    rows = []
    for origin in origins:
        fitted = fit_at_origin(dataset, origin, last, demand_config=demand_config,
                               n_sims=n_sims, seed=seed)  # fmt: skip
        ds, dem, sup, rates = (fitted[k] for k in ("dataset", "demand", "supply", "exit_rates"))
        proj = fitted["projection"]
        ts = truth_status(truth, (first_year, origin), (origin + 1, last), bp)
        carry = truth_status(truth, (first_year, origin - 2), (origin - 1, origin), bp)
        for region in region_ids:
            today_r = todays_ratio(truth, region, (first_year, origin))  # years <= origin only
            bal = region_balance(
                sup, dem, ds, region, start=origin + 1, end=last, past=(first_year, origin),
                balance_params=bp, n_sims=n_sims, seed=seed, exit_rates=rates,
                today_ratio=today_r,
            )["balance"]  # fmt: skip
            b = bal[bal["ssyk_level"] == 3][["ssyk", "status", "p_shortage"]]
            b = b.merge(ts[ts["region"] == region].drop(columns="region"), on="ssyk", how="left")
            c = carry[carry["region"] == region][["ssyk", "truth_status"]]
            b = b.merge(c.rename(columns={"truth_status": "carry_status"}), on="ssyk", how="left")
            if with_today:  # the same knowledge of today as carry-forward, as the anchor
                known_today = c.set_index("ssyk")["truth_status"]
                known_today = known_today[known_today.isin(STATUSES)]
                anchored = region_balance(
                    sup, dem, ds, region, start=origin + 1, end=last, past=(first_year, origin),
                    balance_params=bp, n_sims=n_sims, seed=seed, exit_rates=rates,
                    today=known_today, today_ratio=pd.Series(dtype=float),
                )["balance"]  # fmt: skip
                a = anchored[anchored["ssyk_level"] == 3][["ssyk", "status", "p_shortage"]]
                a = a.rename(columns={"status": "today_status", "p_shortage": "today_p_shortage"})
                b = b.merge(a, on="ssyk", how="left")
            if old_method:
                old = graduates_only_balance_tables(
                    ds, region, dem, start=origin + 1, end=last, n_sims=n_sims, seed=seed,
                    projection=proj, tables=("balance",), rates=rates,
                )["balance"]  # fmt: skip
                old = old[old["ssyk"].str.len() == 3][["ssyk", "status", "p_shortage"]]
                old = old.rename(columns={"status": "old_status", "p_shortage": "old_p_shortage"})
                b = b.merge(old, on="ssyk", how="left")
            rows.append(b.assign(region=region, origin=origin))
    out = pd.concat(rows, ignore_index=True)
    front = ["region", "origin", "ssyk"]
    return out[front + [c for c in out.columns if c not in front]]


def score_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """Balanced accuracy and Brier score of each method's calls against the truth.

    Only occupations whose truth and call are both assessed (brist / balans / överskott) count.
    Balanced accuracy is the mean recall over the truth's classes; the Brier score compares
    ``p_shortage`` with ``truth == brist`` (carry-forward: 1 if today's status is brist, else 0).

    Examples
    --------
    >>> c = pd.DataFrame({"region": "r", "origin": 2018, "ssyk": ["1", "2"],
    ...     "status": ["brist", "balans"], "p_shortage": [0.8, 0.2],
    ...     "truth_status": ["brist", "balans"], "carry_status": ["balans", "balans"]})
    >>> s = score_calls(c).set_index(["region", "method"])
    >>> float(s.loc[("all", "centred"), "balanced_accuracy"]), float(s.loc[("all", "carry_forward"), "brier"])
    (1.0, 0.5)
    """
    return _score_calls(calls, by=("region", "origin"), total="all")

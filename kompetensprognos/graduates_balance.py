"""The graduates-only balance (the earlier method, kept for comparison and for datasets without
the stock–flow tables): new-entrant supply against recruitment need, per occupation and
education group.

For an outlook period ``start..end`` (default 2023–2030) and each occupation of a region:

* **recruitment_need** — expansion (if positive) + replacement over the period
  (:mod:`kompetensprognos.recruitment`);
* **new_entrants** — graduates who enter work and stay in the region, summed over the *same*
  years (observed graduates for the years before the first forecast year,
  :mod:`kompetensprognos.supply`);
* **balance_ratio** = new_entrants / recruitment_need, **gap** = new_entrants − recruitment_need;
* **status** — ``brist`` (ratio below :attr:`BalanceParams.shortage_below`, default 0.9),
  ``överskott`` (above :attr:`BalanceParams.surplus_above`, default 1.1), else ``balans``;
  ``för litet underlag`` when the need is below :attr:`BalanceParams.min_need` (default 10
  people over the period) and ``ingen utbildning kopplad`` when no education of the crosswalk
  leads to the occupation (its supply is then 0 by construction, not by measurement);
* **p_shortage** — P(new_entrants < recruitment_need), the share of simulated paths in which
  supply falls short: path ``s`` of :func:`~kompetensprognos.recruitment.simulate_need` is paired
  with path ``s`` of :func:`~kompetensprognos.supply.simulate_supply` (the two are independent
  simulations, so pairing by index is a valid joint draw).

The balance is computed at the finest SSYK level where supply exists (the crosswalk's level, or
the demand model's finest level if coarser) and summed to the coarser levels and the total:
needs and supplies are added and ratio, status and p_shortage recomputed from the summed paths.
Per education group, each occupation's need is allocated to the educations that feed it in
proportion to their share of its new entrants (:func:`education_balance`). Arbetsförmedlingen's
*yrkesbarometer*, when the dataset has it, is shown beside our status (:func:`af_assessment`).
The centred balance that replaces it is :mod:`kompetensprognos.balance`; see
``docs/balance.md``.

Examples
--------
>>> frame = pd.DataFrame({"ssyk": ["222", "532", "911"], "recruitment_need": [100.0, 100.0, 5.0],
...                       "new_entrants": [50.0, 100.0, 9.0]})
>>> classify(frame)["status"].tolist()
['brist', 'balans', 'för litet underlag']
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pandas as pd

from kompetensprognos import classifications, regions
from kompetensprognos.balance import (
    BALANCE_COLUMNS,
    EDUCATION_BALANCE_COLUMNS,
    STATUS_NOT_COVERED,
    STATUS_TOO_SMALL,
    STATUSES,
    af_assessment,
)
from kompetensprognos.config import BalanceParams
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandResult
from kompetensprognos.education import GraduateProjection, project_graduates
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.recruitment import recruitment_need, simulate_need
from kompetensprognos.supply import (
    SupplyParams,
    education_output_table,
    simulate_supply,
    supply_by_education_table,
    supply_table,
)

__all__ = [
    "classify",
    "education_balance",
    "graduates_only_balance_tables",
    "occupation_balance",
    "shortage_probability",
]


# --- arithmetic --------------------------------------------------------------------------------


def classify(frame: pd.DataFrame, params: BalanceParams | None = None) -> pd.DataFrame:
    """Add ``balance_ratio``, ``gap`` and ``status`` to a frame of need and supply.

    Parameters
    ----------
    frame : pandas.DataFrame
        With ``recruitment_need`` and ``new_entrants``; an optional boolean ``supply_covered``
        (False: no education leads to the row's occupation).
    params : BalanceParams, optional
        Thresholds (default ``BalanceParams()``).

    Returns
    -------
    pandas.DataFrame
        A copy with ``balance_ratio`` (NaN when the need is 0), ``gap`` and ``status``.

    Examples
    --------
    >>> f = pd.DataFrame({"recruitment_need": [100.0, 100.0, 100.0],
    ...                   "new_entrants": [89.0, 110.0, 111.0]})
    >>> classify(f)["status"].tolist()
    ['brist', 'balans', 'överskott']
    """
    params = params or BalanceParams()
    out = frame.copy()
    need = out["recruitment_need"].astype(float)
    supply = out["new_entrants"].astype(float)
    ratio = supply / need.where(need > 0)
    out["balance_ratio"] = ratio
    out["gap"] = supply - need
    status = np.select(
        [ratio < params.shortage_below, ratio > params.surplus_above], ["brist", "överskott"],
        "balans",
    )  # fmt: skip
    status = np.where(need < params.min_need, STATUS_TOO_SMALL, status)
    if "supply_covered" in out:
        covered = out["supply_covered"].astype(bool).to_numpy()
        status = np.where(~covered & (need >= params.min_need), STATUS_NOT_COVERED, status)
    out["status"] = status
    return out


def shortage_probability(need: np.ndarray, supply: np.ndarray) -> np.ndarray:
    """P(supply < need) per row, from paired simulated paths (last axis = path).

    Parameters
    ----------
    need, supply : numpy.ndarray
        Draws of the same shape ``(..., n_sims)``; path ``s`` of one is paired with path ``s``
        of the other.

    Returns
    -------
    numpy.ndarray
        Share of paths with supply strictly below need.

    Examples
    --------
    >>> shortage_probability(np.array([[10.0, 10.0, 10.0, 10.0]]), np.array([[5.0, 9, 11, 12]]))
    array([0.5])
    """
    need, supply = np.asarray(need, float), np.asarray(supply, float)
    if need.shape != supply.shape:
        raise KompetensprognosError(
            f"need draws {need.shape} and supply draws {supply.shape} differ in shape; "
            "simulate both with the same n_sims"
        )
    return (supply < need).mean(axis=-1)


def _matrix(
    sims: pd.DataFrame, keys: list[str], value: str, index: pd.Index, paths: pd.Index
) -> np.ndarray:
    """Draws as a ``(len(index), len(paths))`` matrix; rows missing from ``sims`` are 0."""
    extra = set(sims["sim"]) - set(paths)
    if extra:
        raise KompetensprognosError(
            f"supply has simulated paths {sorted(extra)[:3]}... that the need lacks "
            f"({len(paths)} paths); simulate need and supply with the same n_sims"
        )
    wide = sims.pivot_table(index=keys, columns="sim", values=value, aggfunc="sum")
    return wide.reindex(index=index, columns=paths).fillna(0.0).to_numpy(float)


def _paths(need_sims: pd.DataFrame, other: pd.DataFrame) -> pd.Index:
    """The simulated path numbers of the need; the supply must have the same number of paths."""
    paths = pd.Index(np.sort(need_sims["sim"].unique()), name="sim")
    n_other = other["sim"].nunique()
    if n_other and n_other != len(paths):
        raise KompetensprognosError(
            f"need has {len(paths)} simulated paths but supply {n_other}; "
            "use the same n_sims for both"
        )
    return paths


def _assess(
    frame: pd.DataFrame, need: np.ndarray, supply: np.ndarray, params: BalanceParams
) -> pd.DataFrame:
    out = classify(frame, params)
    p = shortage_probability(need, supply) if need.shape[1] else np.full(len(out), np.nan)
    out["p_shortage"] = np.where(out["status"].isin(STATUSES), p, np.nan)
    return out


# --- occupations -------------------------------------------------------------------------------


def occupation_balance(
    need: pd.DataFrame,
    supply: pd.DataFrame,
    need_sims: pd.DataFrame,
    supply_sims: pd.DataFrame,
    params: BalanceParams | None = None,
    *,
    yrkesbarometer: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Balance per occupation at one SSYK level, summed to the coarser levels and the total.

    Parameters
    ----------
    need : pandas.DataFrame
        ``region, ssyk, period_start, period_end, recruitment_need`` for the occupations of one
        SSYK level (the finest level with supply).
    supply : pandas.DataFrame
        ``ssyk, new_entrants`` summed over the same period, one row per occupation the
        crosswalk leads to (codes absent from ``need`` are left out).
    need_sims : pandas.DataFrame
        ``ssyk, sim, recruitment_need`` draws for the occupations of ``need``.
    supply_sims : pandas.DataFrame
        ``ssyk, sim, new_entrants`` draws summed over the period; same ``sim`` numbers.
    params : BalanceParams, optional
    yrkesbarometer : pandas.DataFrame, optional
        Arbetsförmedlingen's assessments (:func:`af_assessment` adds ``af_status, af_n``).

    Returns
    -------
    pandas.DataFrame
        :data:`BALANCE_COLUMNS` then ``ssyk_level, supply_covered, covered_share`` (share of the
        need in occupations the crosswalk covers) and, with ``yrkesbarometer``, ``af_status,
        af_n``; sorted by level (total first, level 0) and code.

    Examples
    --------
    >>> need = pd.DataFrame({"region": "skaraborg", "ssyk": ["222", "223"], "period_start": 2023,
    ...                      "period_end": 2030, "recruitment_need": [100.0, 50.0]})
    >>> sims = pd.DataFrame({"ssyk": ["222", "223"] * 2, "sim": [0, 0, 1, 1],
    ...                      "recruitment_need": [90.0, 40, 110, 60]})
    >>> sup = pd.DataFrame({"ssyk": ["222"], "new_entrants": [95.0]})
    >>> ssims = pd.DataFrame({"ssyk": ["222", "222"], "sim": [0, 1], "new_entrants": [95.0, 95]})
    >>> b = occupation_balance(need, sup, sims, ssims)
    >>> b[["ssyk", "new_entrants", "status"]].values.tolist()  # doctest: +NORMALIZE_WHITESPACE
    [['total', 95.0, 'brist'], ['2', 95.0, 'brist'], ['22', 95.0, 'brist'],
     ['222', 95.0, 'balans'], ['223', 0.0, 'ingen utbildning kopplad']]
    """
    params = params or BalanceParams()
    if need.empty:
        raise KompetensprognosError("the recruitment need table has no occupations")
    need = need.drop_duplicates("ssyk").reset_index(drop=True)
    codes = pd.Index(need["ssyk"].astype(str), name="ssyk")
    level = max(len(c) for c in codes if c != classifications.UNKNOWN_SSYK)
    region = need["region"].iloc[0]
    start, end = int(need["period_start"].iloc[0]), int(need["period_end"].iloc[0])
    point_need = need["recruitment_need"].to_numpy(float)
    covered = codes.isin(set(supply["ssyk"].astype(str)))
    point_supply = (
        supply.groupby(supply["ssyk"].astype(str))["new_entrants"].sum().reindex(codes).fillna(0.0)
    ).to_numpy(float)
    paths = _paths(need_sims, supply_sims)
    n_mat = _matrix(need_sims, ["ssyk"], "recruitment_need", codes, paths)
    s_mat = _matrix(supply_sims, ["ssyk"], "new_entrants", codes, paths)

    base = pd.DataFrame(
        {
            "ssyk": codes,
            "ssyk_level": level,
            "recruitment_need": point_need,
            "new_entrants": point_supply,
            "covered_need": np.where(covered, point_need, 0.0),
            "n_covered": covered.astype(int),
        }
    )
    frames, need_mats, supply_mats = [base], [n_mat], [s_mat]
    known = codes != classifications.UNKNOWN_SSYK  # outside the SSYK tree: only in the total
    for lvl in range(level - 1, -1, -1):
        groups = np.where(known, codes.str[:lvl], None) if lvl else np.full(len(codes), "total")
        keep = pd.notna(groups)
        g = pd.Series(groups[keep])
        sums = (
            base[keep]
            .groupby(g.to_numpy(), sort=True)[
                ["recruitment_need", "new_entrants", "covered_need", "n_covered"]
            ]
            .sum()
        )
        frames.append(sums.rename_axis("ssyk").reset_index().assign(ssyk_level=lvl))
        need_mats.append(pd.DataFrame(n_mat[keep]).groupby(g.to_numpy()).sum().loc[sums.index])
        supply_mats.append(pd.DataFrame(s_mat[keep]).groupby(g.to_numpy()).sum().loc[sums.index])
    out = pd.concat(frames, ignore_index=True)
    all_need = np.vstack([np.asarray(m, float) for m in need_mats])
    all_supply = np.vstack([np.asarray(m, float) for m in supply_mats])
    out["supply_covered"] = out["n_covered"] > 0
    need_total = out["recruitment_need"].where(out["recruitment_need"] > 0)
    out["covered_share"] = (out["covered_need"] / need_total).fillna(
        out["supply_covered"].astype(float)
    )
    out = _assess(out, all_need, all_supply, params)
    out["region"], out["period_start"], out["period_end"] = region, start, end
    extra = ["ssyk_level", "supply_covered", "covered_share"]
    if yrkesbarometer is not None:
        af = af_assessment(yrkesbarometer, out["ssyk"], params.af_region)
        out = out.merge(af, on="ssyk", how="left")
        out["af_n"] = out["af_n"].fillna(0).astype(int)
        extra += ["af_status", "af_n"]
    out = out[[*BALANCE_COLUMNS, *extra]]
    return out.sort_values(["ssyk_level", "ssyk"], kind="stable").reset_index(drop=True)


# --- education groups --------------------------------------------------------------------------


def _shares(crosswalk: pd.DataFrame, level: int) -> pd.DataFrame:
    """Crosswalk at ``level``, shares normalised to sum to 1 per education."""
    cw = crosswalk[["type", "education", "ssyk", "share"]].copy()
    cw["ssyk"] = classifications.ssyk_ancestors(cw["ssyk"].astype(str), level)
    cw = cw.groupby(["type", "education", "ssyk"], as_index=False)["share"].sum()
    total = cw.groupby(["type", "education"])["share"].transform("sum")
    cw["share"] = cw["share"] / total.where(total > 0)
    return cw.dropna(subset=["share"])


def education_balance(
    need: pd.DataFrame,
    entrants: pd.DataFrame,
    crosswalk: pd.DataFrame,
    need_sims: pd.DataFrame,
    entrant_sims: pd.DataFrame,
    params: BalanceParams | None = None,
) -> pd.DataFrame:
    """Balance per education: need allocated by each education's share of an occupation's supply.

    An occupation's recruitment need is split over the educations that lead to it in
    proportion to their new entrants into it over the period
    (``need[e] = Σ_o need[o] × entrants[e] share[e, o] / Σ_e' entrants[e'] share[e', o]``);
    it is compared with the education's new entrants into the occupations of ``need``
    (entrants into occupations outside the demand data, or of unknown occupation, cannot meet
    any of the need and are left out). The allocated needs sum to the need of the covered
    occupations; occupations no education leads to stay unallocated (see ``docs/balance.md``).

    Parameters
    ----------
    need : pandas.DataFrame
        ``region, ssyk, period_start, period_end, recruitment_need`` at one SSYK level.
    entrants : pandas.DataFrame
        ``type, education, new_entrants`` summed over the period (all of the education's new
        entrants, before the crosswalk).
    crosswalk : pandas.DataFrame
        ``type, education, ssyk, share`` at the level of ``need`` or finer.
    need_sims : pandas.DataFrame
        ``ssyk, sim, recruitment_need``.
    entrant_sims : pandas.DataFrame
        ``type, education, sim, new_entrants`` summed over the period.
    params : BalanceParams, optional

    Returns
    -------
    pandas.DataFrame
        :data:`EDUCATION_BALANCE_COLUMNS`.

    Examples
    --------
    >>> need = pd.DataFrame({"region": "fyrbodal", "ssyk": ["222"], "period_start": 2023,
    ...                      "period_end": 2030, "recruitment_need": [300.0]})
    >>> ent = pd.DataFrame({"type": ["higher", "yh"], "education": ["72", "72"],
    ...                     "new_entrants": [200.0, 100.0]})
    >>> cw = pd.DataFrame({"type": ["higher", "yh"], "education": ["72", "72"],
    ...                    "ssyk": ["222", "222"], "share": [1.0, 1.0]})
    >>> e = education_balance(need, ent, cw, need.assign(sim=0), ent.assign(sim=0))
    >>> e["recruitment_need"].tolist()
    [200.0, 100.0]
    """
    params = params or BalanceParams()
    need = need.drop_duplicates("ssyk").reset_index(drop=True)
    codes = pd.Index(need["ssyk"].astype(str), name="ssyk")
    level = max(len(c) for c in codes if c != classifications.UNKNOWN_SSYK)
    keys = ["type", "education"]
    edus = entrants[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    e_index = pd.MultiIndex.from_frame(edus)
    share = (
        _shares(crosswalk, level)
        .pivot_table(index=keys, columns="ssyk", values="share", aggfunc="sum")
        .reindex(index=e_index, columns=codes)
        .fillna(0.0)
        .to_numpy(float)
    )  # (e, o): share of education e's entrants working in occupation o
    point = entrants.groupby(keys)["new_entrants"].sum().reindex(e_index).fillna(0.0)
    flows = point.to_numpy(float)[:, None] * share  # (e, o) entrants over the period
    into = flows.sum(axis=0)
    weights = np.divide(flows, into, out=np.zeros_like(flows), where=into > 0)
    point_need = need["recruitment_need"].to_numpy(float)
    paths = _paths(need_sims, entrant_sims)
    n_mat = _matrix(need_sims, ["ssyk"], "recruitment_need", codes, paths)
    e_mat = _matrix(entrant_sims, keys, "new_entrants", e_index, paths)
    reached = share.sum(axis=1)  # share of the education's entrants in the occupations of need
    out = edus.assign(
        recruitment_need=weights @ point_need,
        new_entrants=flows.sum(axis=1),
    )
    out = _assess(out, weights @ n_mat, e_mat * reached[:, None], params)
    out["region"] = need["region"].iloc[0]
    out["period_start"] = int(need["period_start"].iloc[0])
    out["period_end"] = int(need["period_end"].iloc[0])
    return out[EDUCATION_BALANCE_COLUMNS]


# --- one region --------------------------------------------------------------------------------

_TABLES = ("balance", "balance_education", "supply", "supply_by_education", "education_output")


def _period_sum(frame: pd.DataFrame, keys: list[str], start: int, end: int) -> pd.DataFrame:
    """Sum ``new_entrants`` over ``start..end``; every year must be present."""
    missing = sorted(set(range(start, end + 1)) - set(frame["year"].unique().astype(int)))
    if missing:
        raise KompetensprognosError(
            f"new-entrant supply has no values for {', '.join(map(str, missing))} of the outlook "
            f"period {start}–{end}; education_output must cover the years from period_start "
            "(observed) or the projection must reach period_end"
        )
    sel = frame[(frame["year"] >= start) & (frame["year"] <= end)]
    return sel.groupby(keys, as_index=False)["new_entrants"].sum()


def graduates_only_balance_tables(
    dataset: Dataset,
    region: str,
    demand_result: DemandResult,
    *,
    start: int = 2023,
    end: int = 2030,
    supply_params: SupplyParams | None = None,
    balance_params: BalanceParams | None = None,
    n_sims: int = 1000,
    seed: int = 0,
    need: pd.DataFrame | None = None,
    projection: GraduateProjection | None = None,
    tables: Collection[str] | None = None,
    rates: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Supply and balance tables of one region, from a fitted demand model.

    Projects graduates once and derives every table from that projection; the simulated need
    (:func:`~kompetensprognos.recruitment.simulate_need`) and supply
    (:func:`~kompetensprognos.supply.simulate_supply`) use the same ``n_sims``, so their paths
    pair by index for the probability of shortage.

    Parameters
    ----------
    dataset : Dataset
        Needs ``employment_age``, ``education_output``, ``population`` and ``crosswalk``; an
        optional ``yrkesbarometer`` adds ``af_status, af_n`` to ``balance``.
    region : str
        Region id.
    demand_result : DemandResult
        The fitted demand model (fitted once for all regions).
    start, end : int
        Outlook period, inclusive (default 2023–2030).
    supply_params : SupplyParams, optional
    balance_params : BalanceParams, optional
    n_sims : int, default 1000
    seed : int, default 0
    need : pandas.DataFrame, optional
        The region's ``recruitment_need`` table if already computed (saves one simulation).
    projection : GraduateProjection, optional
        A graduate projection reaching ``end`` with ``n_sims`` paths, shared by all regions
        (:func:`~kompetensprognos.education.project_graduates` takes most of this function's
        time and does not depend on the region).
    tables : collection of str, optional
        Build only these of the tables below (default: all), e.g. ``("balance",)`` for a
        backtest that reads the calls only.
    rates : pandas.DataFrame, optional
        Exit rates (:func:`~kompetensprognos.replacement.dataset_exit_rates` of ``dataset``,
        the default); pass them once for many regions.

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``balance``, ``balance_education`` and the supply tables ``supply``,
        ``supply_by_education``, ``education_output`` (as :func:`supply.supply_tables` gives
        them: forecast years; the balance sums observed years too).

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> from kompetensprognos.demand import DemandModel
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> t = graduates_only_balance_tables(ds, "skaraborg", DemandModel().fit(ds))  # doctest: +SKIP
    >>> t["balance"]["status"].value_counts()  # doctest: +SKIP
    """
    regions.get_region(region)
    sp = supply_params or SupplyParams()
    bp = balance_params or BalanceParams()
    crosswalk = dataset.require("crosswalk")
    if projection is None:
        proj = project_graduates(dataset, end, n_sims=n_sims, seed=seed)
    elif projection.draws.shape[1] != n_sims or int(projection.years[-1]) < end:
        raise KompetensprognosError(
            f"the projection has {projection.draws.shape[1]} paths to {projection.years[-1]}; "
            f"balance_tables needs {n_sims} paths (n_sims) reaching {end}"
        )
    else:
        proj = projection
    kw = {"end_year": end, "projection": proj}
    want = set(_TABLES if tables is None else tables)
    builders = {
        "supply": supply_table,
        "supply_by_education": supply_by_education_table,
        "education_output": education_output_table,
    }
    out: dict[str, pd.DataFrame] = {
        name: build(dataset, region, sp, **kw)  # type: ignore[operator]
        for name, build in builders.items()
        if name in want
    }
    if not want & {"balance", "balance_education"}:
        return out

    nsims = simulate_need(demand_result, dataset, region, start, end, n_sims, seed, rates=rates)
    if need is None:  # the same paths: simulated once
        need = recruitment_need(
            demand_result, dataset, region, start, end, n_sims, seed, sims=nsims, rates=rates
        )
    cw_level = int(crosswalk["ssyk"].astype(str).str.len().max())
    level = min(cw_level, int(need["ssyk_level"].max()))
    need_l = need[need["ssyk_level"] == level]
    nsims_l = nsims[nsims["ssyk_level"] == level]

    kw_all = {**kw, "include_observed": True}
    if "balance" in want:
        occ = supply_table(dataset, region, sp, level=level, **kw_all)  # type: ignore[arg-type]
        occ_sims = simulate_supply(dataset, region, sp, level=level, **kw_all)  # type: ignore[arg-type]
        supply = _period_sum(occ, ["ssyk"], start, end)
        supply_sims = _period_sum(occ_sims, ["ssyk", "sim"], start, end)
        supply = supply[supply["ssyk"] != classifications.UNKNOWN_SSYK]
        out["balance"] = occupation_balance(
            need_l, supply, nsims_l, supply_sims, bp, yrkesbarometer=dataset.yrkesbarometer
        )
    if "balance_education" not in want:
        return out

    edu = supply_by_education_table(dataset, region, sp, **kw_all)  # type: ignore[arg-type]
    edu_sims = simulate_supply(dataset, region, sp, by="education", **kw_all)  # type: ignore[arg-type]
    keys = ["type", "education"]
    out["balance_education"] = education_balance(
        need_l,
        _period_sum(edu, keys, start, end),
        crosswalk,
        nsims_l,
        _period_sum(edu_sims, [*keys, "sim"], start, end),
        bp,
    )
    return out

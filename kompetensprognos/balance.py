"""Balance: new-entrant supply against recruitment need, per occupation and education group.

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
See ``docs/balance.md``.

Examples
--------
>>> frame = pd.DataFrame({"ssyk": ["222", "532", "911"], "recruitment_need": [100.0, 100.0, 5.0],
...                       "new_entrants": [50.0, 100.0, 9.0]})
>>> classify(frame)["status"].tolist()
['brist', 'balans', 'för litet underlag']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from kompetensprognos import classifications, regions
from kompetensprognos.config import BalanceParams
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandResult
from kompetensprognos.education import GraduateProjection, project_graduates
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.recruitment import (
    average_path,
    openings,
    openings_rule,
    recruitment_need,
    simulate_need,
)
from kompetensprognos.supply import (
    SupplyParams,
    education_output_table,
    simulate_supply,
    supply_by_education_table,
    supply_table,
)

__all__ = [
    "BALANCE_COLUMNS",
    "EDUCATION_BALANCE_COLUMNS",
    "STATUSES",
    "STATUS_NOT_COVERED",
    "STATUS_TOO_SMALL",
    "BalanceParams",
    "NEWCOMER_CHANNELS",
    "af_assessment",
    "balance_tables",
    "centred_balance",
    "education_stock_balance",
    "region_balance",
    "classify",
    "education_balance",
    "graduates_only_balance_tables",
    "occupation_balance",
    "shortage_probability",
]

#: Assessed statuses, in order from shortage to surplus.
STATUSES: tuple[str, ...] = ("brist", "balans", "överskott")
#: Status when the recruitment need is below ``min_need``: too small to assess.
STATUS_TOO_SMALL = "för litet underlag"
#: Status when no education of the crosswalk leads to the occupation (supply 0 by construction).
STATUS_NOT_COVERED = "ingen utbildning kopplad"

_VALUES = ["recruitment_need", "new_entrants", "balance_ratio", "gap", "status", "p_shortage"]
#: Columns of ``balance.csv`` (``ssyk_level, supply_covered, covered_share`` and, when the
#: dataset has a yrkesbarometer, ``af_status, af_n`` follow).
BALANCE_COLUMNS: list[str] = ["region", "ssyk", "period_start", "period_end", *_VALUES]
#: Columns of ``balance_education.csv``.
EDUCATION_BALANCE_COLUMNS: list[str] = [
    "region", "type", "education", "period_start", "period_end", *_VALUES,
]  # fmt: skip


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


# --- Arbetsförmedlingen ------------------------------------------------------------------------


def af_assessment(
    yrkesbarometer: pd.DataFrame, codes: pd.Series | list[str], county: str = regions.VG_COUNTY
) -> pd.DataFrame:
    """Arbetsförmedlingen's status mapped to our SSYK codes: the most common status among the
    SSYK 4 occupations of each code, for one county and the latest round.

    Parameters
    ----------
    yrkesbarometer : pandas.DataFrame
        The dataset's ``yrkesbarometer`` table (``region, ssyk, status, round``, ...).
    codes : sequence of str
        SSYK codes at any level (and ``"total"``).
    county : str, default "14"
        County code whose rows are used.

    Returns
    -------
    pandas.DataFrame
        ``ssyk, af_status, af_n``: ``af_n`` SSYK 4 codes of the group carry an assessment and
        ``af_status`` is the most common of their statuses; a tie (as many in brist as in
        balans, say) reads as ``balans``, the group being mixed. ``af_status`` is missing and
        ``af_n`` 0 where AF assesses none.

    Examples
    --------
    >>> yb = pd.DataFrame({"region": "14", "ssyk": ["2221", "2222", "2223"],
    ...                    "status": ["brist", "brist", "balans"], "round": "2025-2"})
    >>> af_assessment(yb, ["222", "2223", "3"]).values.tolist()
    [['222', 'brist', 3], ['2223', 'balans', 1], ['3', None, 0]]
    """
    codes = pd.Series(list(dict.fromkeys(str(c) for c in codes)), name="ssyk", dtype=object)
    yb = yrkesbarometer[yrkesbarometer["region"].astype(str) == county]
    if len(yb):
        yb = yb[yb["round"].astype(str) == yb["round"].astype(str).max()]
    yb = yb[yb["status"].isin(STATUSES)].drop_duplicates("ssyk")
    af4 = yb["ssyk"].astype(str).to_numpy()
    status = yb["status"].to_numpy()
    rows = []
    for code in codes:
        mask = np.ones(len(af4), bool) if code == "total" else np.char.startswith(
            af4.astype(str), code
        )  # fmt: skip
        if not mask.any():
            rows.append((code, None, 0))
            continue
        counts = pd.Series(status[mask]).value_counts()
        top = counts[counts == counts.max()].index
        rows.append((code, top[0] if len(top) == 1 else "balans", int(mask.sum())))
    return pd.DataFrame(rows, columns=["ssyk", "af_status", "af_n"])


# --- one region --------------------------------------------------------------------------------


def _period_sum(frame: pd.DataFrame, keys: list[str], start: int, end: int) -> pd.DataFrame:
    """Sum ``new_entrants`` over ``start..end``; every year must be present."""
    missing = sorted(set(range(start, end + 1)) - set(frame["year"].astype(int)))
    if missing:
        raise KompetensprognosError(
            f"new-entrant supply has no values for {', '.join(map(str, missing))} of the outlook "
            f"period {start}–{end}; education_output must cover the years from period_start "
            "(observed) or the projection must reach period_end"
        )
    sel = frame[(frame["year"] >= start) & (frame["year"] <= end)]
    return sel.groupby(keys, as_index=False)["new_entrants"].sum()


def balance_tables(*args: Any, **kwargs: Any) -> dict[str, pd.DataFrame]:
    """Balance tables of one region: the centred balance, or the old graduates-only one.

    ``balance_tables(supply_result, demand_result, dataset, region, *, start, end,
    balance_params, n_sims, seed, calls=None)`` — the centred balance
    (:func:`region_balance`; ``calls``, the call backtest of :func:`call_backtest`, is
    filtered to the region and returned as ``balance_backtest``).

    ``balance_tables(dataset, region, demand_result, ...)`` — the graduates-only balance of
    earlier versions (:func:`graduates_only_balance_tables`), kept as the comparison method
    and for datasets without the stock–flow tables.
    """
    if args and isinstance(args[0], Dataset):
        return graduates_only_balance_tables(*args, **kwargs)
    calls = kwargs.pop("calls", None)
    out = region_balance(*args, **kwargs)
    if calls is not None:
        region = args[3] if len(args) > 3 else kwargs["region"]
        out["balance_backtest"] = calls[calls["region"] == region].reset_index(drop=True)
    return out


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
    >>> t = balance_tables(ds, "skaraborg", DemandModel().fit(ds))  # doctest: +SKIP
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
    out: dict[str, pd.DataFrame] = {
        "supply": supply_table(dataset, region, sp, **kw),  # type: ignore[arg-type]
        "supply_by_education": supply_by_education_table(dataset, region, sp, **kw),  # type: ignore[arg-type]
        "education_output": education_output_table(dataset, region, sp, **kw),  # type: ignore[arg-type]
    }

    if need is None:
        need = recruitment_need(demand_result, dataset, region, start, end, n_sims, seed)
    nsims = simulate_need(demand_result, dataset, region, start, end, n_sims, seed)
    cw_level = int(crosswalk["ssyk"].astype(str).str.len().max())
    level = min(cw_level, int(need["ssyk_level"].max()))
    need_l = need[need["ssyk_level"] == level]
    nsims_l = nsims[nsims["ssyk_level"] == level]

    kw_all = {**kw, "include_observed": True}
    occ = supply_table(dataset, region, sp, level=level, **kw_all)  # type: ignore[arg-type]
    occ_sims = simulate_supply(dataset, region, sp, level=level, **kw_all)  # type: ignore[arg-type]
    supply = _period_sum(occ, ["ssyk"], start, end)
    supply_sims = _period_sum(occ_sims, ["ssyk", "sim"], start, end)
    supply = supply[supply["ssyk"] != classifications.UNKNOWN_SSYK]
    out["balance"] = occupation_balance(
        need_l, supply, nsims_l, supply_sims, bp, yrkesbarometer=dataset.yrkesbarometer
    )

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


# --- the centred balance: openings against newcomers from every channel ------------------------

#: Newcomer channels of the centred balance, in report order (the first four are measured by
#: the stock–flow supply; changers are an assumed rate; other channels are the residual).
NEWCOMER_CHANNELS: tuple[str, ...] = (
    "graduates", "further_study_leavers", "in_movers", "re_entrants", "occupation_changers",
    "other_channels",
)  # fmt: skip
_MEASURED = NEWCOMER_CHANNELS[:4]


def _draw_crosswalk(mat: np.ndarray, n: int, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Dirichlet draws of each row of ``mat`` (``[g, o]``): ``[n, g, o]`` with mean ``mat``."""
    a = mat[None] * alpha
    x = rng.gamma(np.where(a > 0, a, 1.0), 1.0, size=(n, *mat.shape)) * (a > 0)
    return x / np.maximum(x.sum(axis=2, keepdims=True), 1e-12)


def _level_sums(
    codes: list[str], arrays: dict[str, np.ndarray]
) -> tuple[list[str], list[int], dict[str, np.ndarray]]:
    """Add SSYK 2, 1 and total rows (last axis = occupation) to every array."""
    codes_idx = pd.Index(codes)
    known = codes_idx != classifications.UNKNOWN_SSYK
    out_codes, levels = list(codes), [3] * len(codes)
    parts = {k: [v] for k, v in arrays.items()}
    for lvl in (2, 1, 0):
        keys = np.where(known, codes_idx.str[:lvl], None) if lvl else np.where(known, "total", None)
        uniq = sorted({k for k in keys if k is not None})
        m = np.array([[k == u for k in keys] for u in uniq], dtype=float).T  # [o, u]
        out_codes += uniq
        levels += [lvl] * len(uniq)
        for k, v in arrays.items():
            parts[k].append(v @ m)
    return out_codes, levels, {k: np.concatenate(v, axis=-1) for k, v in parts.items()}


def _churn_rate(
    measured: np.ndarray,
    change: np.ndarray,
    net_sep: np.ndarray,
    e_prev: np.ndarray,
    in_past: np.ndarray,
    gross: bool = True,
) -> np.ndarray:
    """Yearly churn per path, ``[s, 1, 1]``: the gross separations of the recent past beyond the
    cohort model's net exits, as a share of employment, at the region's total.

    ``(Σ newcomers − Σ ΔE − Σ net exits) / Σ E_{t−1}`` over the past years and occupations,
    floored at 0 (``gross=False``: 0, the net convention).

    Examples
    --------
    >>> m = np.full((1, 1, 2), 12.0); d = np.full((1, 1, 2), 2.0); s = np.full((1, 1, 2), 2.0)
    >>> e = np.full((1, 1, 2), 100.0)
    >>> _churn_rate(m, d, s, e, np.array([True, True])).ravel().tolist()
    [0.08]
    """
    if not gross or not in_past.any():
        return np.zeros((measured.shape[0], 1, 1))
    past = (slice(None), slice(None), in_past)
    rest = measured[past].sum(axis=(1, 2)) - change[past].sum(axis=(1, 2))
    rest = rest - net_sep[past].sum(axis=(1, 2))
    rate = rest / np.maximum(e_prev[past].sum(axis=(1, 2)), 1e-9)
    return np.maximum(rate, 0.0)[:, None, None]


def _residual_rate(
    resid: np.ndarray,
    expo: np.ndarray,
    opened: np.ndarray,
    occ: list[str],
    params: BalanceParams,
) -> np.ndarray:
    """The "other channels" share of the measured channels per path and occupation ``[s, o]``,
    shrunk toward its SSYK 2 group and the group toward the region.

    ``resid`` = openings − measured newcomers over the recent past, ``expo`` the measured
    newcomers, ``opened`` the openings. With ``params.residual_shrinkage`` set, the weight of an
    occupation's own rate is ``expo / (expo + k)``; by default (``None``) it is empirical Bayes,
    as for the exit rates: sampling variance of the raw rate ``(openings + measured) / expo²``
    (Poisson counts on both sides), between-occupation variance by DerSimonian–Laird on the
    path means, weight ``tau² / (tau² + v)``.
    """
    from kompetensprognos.replacement import _between_variance

    grp = pd.Series(occ).str[:2].to_numpy()
    k = params.residual_shrinkage

    def shrink(r: np.ndarray, x: np.ndarray, o: np.ndarray, target: np.ndarray) -> np.ndarray:
        raw = r / np.maximum(x, 1e-9)
        if k is not None:
            w = x / (x + k) if k > 0 else (x > 0).astype(float)
            return w * raw + (1 - w) * target
        rm, xm, om = r.mean(axis=0), x.mean(axis=0), o.mean(axis=0)
        ok = xm > 0
        v = np.where(ok, (om + xm) / np.maximum(xm, 1e-9) ** 2, np.inf)
        raw_m = rm / np.maximum(xm, 1e-9)
        tau2 = _between_variance(((raw_m - target.mean(axis=0)) ** 2)[ok], v[ok])
        w = np.where(ok, tau2 / (tau2 + v), 0.0)[None]
        return w * np.where(x > 0, raw, 0.0) + (1 - w) * target

    total = resid.sum(axis=1, keepdims=True) / np.maximum(expo.sum(axis=1, keepdims=True), 1e-9)
    groups = np.unique(grp)
    g_r = np.stack([resid[:, grp == g].sum(axis=1) for g in groups], axis=1)
    g_x = np.stack([expo[:, grp == g].sum(axis=1) for g in groups], axis=1)
    g_o = np.stack([opened[:, grp == g].sum(axis=1) for g in groups], axis=1)
    g_rate = shrink(g_r, g_x, g_o, np.broadcast_to(total, g_r.shape))
    pos = np.searchsorted(groups, grp)
    rate = shrink(resid, expo, opened, g_rate[:, pos])
    return np.maximum(rate, -0.99)


def _anchored_bands(
    statuses: pd.Series, lower: float, upper: float
) -> tuple[np.ndarray, np.ndarray]:
    """Bands on the relative ratio given today's status (AF's yrkesbarometer where known):
    today's shortage persists unless newcomers grow faster than openings by more than the band
    (then balance); today's surplus likewise; unknown or balance → the plain bands."""
    lo = np.where(statuses == "brist", upper, np.where(statuses == "överskott", 0.0, lower))
    hi = np.where(statuses == "brist", np.inf, np.where(statuses == "överskott", lower, upper))
    return lo, hi


def centred_balance(
    openings: pd.DataFrame,
    channels: dict[str, np.ndarray],
    channel_years: np.ndarray,
    codes: list[str],
    *,
    start: int,
    end: int,
    past: tuple[int, int],
    params: BalanceParams,
    seed: int = 0,
    today: pd.Series | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The centred balance of one region from openings and newcomer paths.

    Parameters
    ----------
    openings : pandas.DataFrame
        :func:`kompetensprognos.recruitment.openings` rows (SSYK 3, ``bounds=True``) for
        ``past[0]..end``, windows ``past`` and ``start..end``.
    channels : dict[str, numpy.ndarray]
        Measured channels, each ``[sim, year, occupation]`` (occupations ``codes``, years
        ``channel_years``), crosswalk draws already applied.
    channel_years : numpy.ndarray
    codes : list[str]
        SSYK 3 codes of the channel arrays.
    start, end : int
        Outlook period.
    past : tuple[int, int]
        The recent past the indicator is centred on (e.g. 2016–2022).
    params : BalanceParams
    seed : int
    today : pandas.Series, optional
        Today's status per SSYK code (AF's yrkesbarometer), anchoring the bands.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        The balance per occupation (all levels) and newcomers per occupation, channel and year.
    """
    rng = np.random.default_rng(seed)
    n_s = next(iter(channels.values())).shape[0]
    occ = sorted(set(openings["ssyk"]))
    years_all = np.arange(past[0], end + 1)
    o = openings.set_index(["ssyk", "year"]).reindex(pd.MultiIndex.from_product([occ, years_all]))
    shape = (len(occ), len(years_all))
    e_now = np.nan_to_num(o["employed"].to_numpy(float).reshape(shape))
    d_pt = np.nan_to_num(o["employment_change"].to_numpy(float).reshape(shape))
    sep = o["separations"].fillna(0.0).to_numpy(float).reshape(shape)
    sd = (
        ((o["employed_hi80"] - o["employed_lo80"]) / (2 * 1.2816))
        .fillna(0.0)
        .to_numpy(float)
        .reshape(shape)
    )
    # paths: employment level shock (one per occupation and path, scaled by the forecast sd),
    # exit-rate factor, changer rate, crosswalk (already in channels)
    z = rng.standard_normal((n_s, len(occ), 1))
    exit_f = rng.lognormal(0.0, params.exit_rate_sd, (n_s, len(occ), 1))
    chg = params.changer_rate * rng.lognormal(0.0, 0.25, (n_s, len(occ), 1))
    e_path = np.maximum(e_now[None] + z * sd[None], 0.0)
    e_first = e_now[:, :1] - d_pt[:, :1]  # the year before the past window
    e_prev_path = np.concatenate([np.broadcast_to(e_first[None], (n_s, len(occ), 1)),
                                  e_path[:, :, :-1]], axis=2)  # fmt: skip
    # the change as in recruitment.openings (each window on its straight line), plus the
    # path's level shock moved the same way: the shock at a window's end spread over its years
    shock = np.concatenate([np.zeros((n_s, len(occ), 1)), z * sd[None]], axis=2)
    yrs = np.arange(past[0] - 1, end + 1)
    shock = np.swapaxes(average_path(np.swapaxes(shock, 1, 2), yrs, [past, (start, end)]), 1, 2)
    change = d_pt[None] + np.diff(shock, axis=2)
    in_past = (years_all >= past[0]) & (years_all <= past[1])
    # measured channels onto the openings' occupations and years
    cpos = {c: i for i, c in enumerate(codes)}
    ypos = {int(y): i for i, y in enumerate(channel_years)}
    idx_o = np.array([cpos.get(c, -1) for c in occ])
    meas = {}
    for ch in _MEASURED:
        arr = channels[ch]
        out = np.zeros((n_s, len(occ), len(years_all)))
        for j, y in enumerate(years_all):
            if int(y) in ypos:
                col = arr[:, ypos[int(y)], :]
                out[:, idx_o >= 0, j] = col[:, idx_o[idx_o >= 0]]
        meas[ch] = out
    changers = chg * e_prev_path
    measured = sum(meas.values()) + changers

    # gross separations (one convention with the gross newcomer channels): the cohort model's
    # net exits see only the leavers that age bands lose on balance; everyone else who leaves
    # an occupation (to another occupation, another region, out of work) and is replaced by a
    # newcomer of the same age is invisible in stock data. At the region's total over the
    # recent past every newcomer of the measured channels and every changer fills an opening,
    # so gross separations = newcomers − ΔE; the part the net exits do not cover is a churn
    # rate on employment, held at its recent-past level in the outlook (as exit rates are).
    net_sep = sep[None] * exit_f
    churn = _churn_rate(measured, change, net_sep, e_prev_path, in_past, params.gross_separations)
    open_s = openings_rule(change, net_sep + churn * e_prev_path)  # [s, o, t]

    # residual "other channels": what the recent past's openings show beyond the measured
    # channels, as a share of them (negative: part of the measured inflow does not land in the
    # occupation), per occupation, shrunk toward its SSYK 2 group and that toward the region;
    # projected as the same share of the measured channels
    resid = (open_s - measured)[:, :, in_past].sum(axis=2)  # [s, o]
    expo = measured[:, :, in_past].sum(axis=2)
    rate = _residual_rate(resid, expo, open_s[:, :, in_past].sum(axis=2), occ, params)
    other = rate[:, :, None] * measured
    new_s = np.maximum(measured + other, 0.0)

    # sums over the two windows, at every SSYK level
    out_win = (years_all >= start) & (years_all <= end)
    arrays = {
        "open_past": open_s[:, :, in_past].sum(axis=2),
        "open_out": open_s[:, :, out_win].sum(axis=2),
        "new_past": new_s[:, :, in_past].sum(axis=2),
        "new_out": new_s[:, :, out_win].sum(axis=2),
    }
    for ch, arr in {**meas, "occupation_changers": changers, "other_channels": other}.items():
        arrays[f"ch_{ch}"] = arr[:, :, out_win].sum(axis=2)
    all_codes, levels, sums = _level_sums(occ, arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        r_past = sums["new_past"] / sums["open_past"]
        r_out = sums["new_out"] / sums["open_out"]
        rel = r_out / r_past
    today_s = (today if today is not None else pd.Series(dtype=object)).reindex(all_codes)
    lo, hi = _anchored_bands(
        today_s.fillna("").to_numpy(), params.shortage_below, params.surplus_above
    )
    p_short = np.nanmean(np.where(np.isfinite(rel), rel < lo[None], np.nan), axis=0)
    p_surp = np.nanmean(np.where(np.isfinite(rel), rel > hi[None], np.nan), axis=0)
    status = np.where(p_short >= 0.5, "brist", np.where(p_surp >= 0.5, "överskott", "balans"))
    open_pt = np.median(sums["open_out"], axis=0)
    small = (open_pt < params.min_need) | ~np.isfinite(np.nanmedian(rel, axis=0))
    status = np.where(small, STATUS_TOO_SMALL, status)
    med = {k: np.median(v, axis=0) for k, v in sums.items()}
    bal = pd.DataFrame(
        {
            "ssyk": all_codes,
            "ssyk_level": levels,
            "past_start": past[0],
            "past_end": past[1],
            "openings_past": med["open_past"],
            "newcomers_past": med["new_past"],
            "past_ratio": np.nanmedian(r_past, axis=0),
            "recruitment_need": open_pt,
            "new_entrants": med["new_out"],
            "outlook_ratio": np.nanmedian(r_out, axis=0),
            "balance_ratio": np.nanmedian(rel, axis=0),
            "balance_ratio_lo80": np.nanquantile(rel, 0.1, axis=0),
            "balance_ratio_hi80": np.nanquantile(rel, 0.9, axis=0),
            "status": status,
            "p_shortage": np.where(small, np.nan, p_short),
            "p_surplus": np.where(small, np.nan, p_surp),
            "today_status": today_s.to_numpy(),
            **{f"newcomers_{ch}": med[f"ch_{ch}"] for ch in NEWCOMER_CHANNELS},
        }
    )
    bal["gap"] = bal["new_entrants"] - bal["recruitment_need"]
    bal["supply_covered"] = True
    bal["covered_share"] = 1.0
    order = {3: 3, 2: 2, 1: 1, 0: 0}
    bal = bal.sort_values(
        ["ssyk_level", "ssyk"],
        key=lambda s: s.map(order) if s.name == "ssyk_level" else s,
        kind="stable",
    )
    # newcomers per occupation, channel and year (point: median of paths)
    rows = []
    allch = {**meas, "occupation_changers": changers, "other_channels": other}
    for ch in NEWCOMER_CHANNELS:
        m = np.median(allch[ch], axis=0)  # [o, t]
        rows.append(pd.DataFrame({
            "ssyk": np.repeat(occ, len(years_all)), "year": np.tile(years_all, len(occ)),
            "channel": ch, "newcomers": m.reshape(-1)}))  # fmt: skip
    sup = pd.concat(rows, ignore_index=True)
    op = pd.DataFrame({"ssyk": np.repeat(occ, len(years_all)), "year": np.tile(years_all, len(occ)),
                       "openings": np.median(open_s, axis=0).reshape(-1)})  # fmt: skip
    sup = sup.merge(op, on=["ssyk", "year"], how="left")
    return bal.reset_index(drop=True), sup


def education_stock_balance(
    supply_result: Any,
    demand_result: DemandResult,
    dataset: Dataset,
    region: str,
    *,
    base_year: int,
    end: int,
    params: BalanceParams,
    seed: int = 0,
) -> pd.DataFrame:
    """Supply stock against demand stock per education group (the view SCB and Cedefop publish).

    Demand by education = employment per occupation × the occupation's education mix (the stock
    crosswalk weighted by each group's labour supply in ``base_year``, normalised per
    occupation). Both sides are compared as growth from ``base_year`` to ``end``:
    ``relative = (supply[end] / supply[base]) / (demand[end] / demand[base])``, read with the
    same bands and the same path rule as the occupations.
    """
    rng = np.random.default_rng(seed)
    groups = supply_result.groups
    ls = supply_result.labour_supply(region)
    sup = ls.pivot_table(index=["type", "education"], columns="year", values="labour_supply")
    key = pd.MultiIndex.from_frame(groups[["type", "education"]])
    sup = sup.reindex(key)
    cw = dataset.require("crosswalk")[["type", "education", "ssyk", "share"]].copy()
    cw["ssyk"] = classifications.ssyk_ancestors(cw["ssyk"].astype(str), 3)
    mat = cw.pivot_table(index=["type", "education"], columns="ssyk", values="share", aggfunc="sum")
    mat = mat.reindex(key).fillna(0.0)
    w = mat.to_numpy(float) * sup[base_year].to_numpy(float)[:, None]  # [g, o]
    mix = w / np.maximum(w.sum(axis=0, keepdims=True), 1e-12)  # education mix of occupation o
    path = demand_result.employment_path(region, level=3).set_index(["ssyk", "year"])
    codes = list(mat.columns)
    e0 = (
        path["employed"]
        .reindex(pd.MultiIndex.from_product([codes, [base_year]]))
        .fillna(0.0)
        .to_numpy()
    )
    e1 = path["employed"].reindex(pd.MultiIndex.from_product([codes, [end]])).fillna(0.0).to_numpy()
    sd = (
        path.get("hi80", pd.Series(dtype=float)) - path.get("lo80", pd.Series(dtype=float))
    ).reindex(pd.MultiIndex.from_product([codes, [end]])).fillna(0.0).to_numpy() / (2 * 1.2816)
    d_emp = supply_result._sum(supply_result.draws_employed, region, 2)  # [sim, t_fc, g]
    fc_years = supply_result.years[supply_result.years > supply_result.last_observed]
    n_s = d_emp.shape[0]
    s_end = (
        d_emp[:, list(fc_years).index(end)]
        if end in fc_years
        else np.broadcast_to(sup[end].to_numpy(float), (n_s, len(groups)))
    )
    e1_s = np.maximum(e1[None] + rng.standard_normal((n_s, len(codes))) * sd[None], 0.0)
    dem0 = mix @ e0
    dem1_s = e1_s @ mix.T
    s0 = sup[base_year].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (s_end / s0[None]) / (dem1_s / dem0[None])
    lo, hi = params.shortage_below, params.surplus_above
    fin = np.isfinite(rel)
    p_short = np.where(fin, rel < lo, np.nan)
    p_surp = np.where(fin, rel > hi, np.nan)
    with np.errstate(all="ignore"):
        p_short, p_surp = np.nanmean(p_short, axis=0), np.nanmean(p_surp, axis=0)
        med = np.nanmedian(rel, axis=0)
    status = np.where(p_short >= 0.5, "brist", np.where(p_surp >= 0.5, "överskott", "balans"))
    small = (dem0 < params.min_need) | ~np.isfinite(med)
    status = np.where(small, STATUS_TOO_SMALL, status)
    return pd.DataFrame(
        {
            "region": region,
            "type": groups["type"].to_numpy(),
            "education": groups["education"].to_numpy(),
            "period_start": base_year,
            "period_end": end,
            "labour_supply_start": s0,
            "labour_supply_end": np.median(s_end, axis=0),
            "demand_start": dem0,
            "demand_end": np.median(dem1_s, axis=0),
            "recruitment_need": np.median(dem1_s, axis=0),
            "new_entrants": np.median(s_end, axis=0),
            "balance_ratio": med,
            "gap": np.median(s_end, axis=0) - np.median(dem1_s, axis=0),
            "status": status,
            "p_shortage": np.where(small, np.nan, p_short),
        }
    )


def region_balance(
    supply_result: Any,
    demand_result: DemandResult,
    dataset: Dataset,
    region: str,
    *,
    start: int = 2023,
    end: int = 2030,
    past: tuple[int, int] | None = None,
    balance_params: BalanceParams | None = None,
    n_sims: int = 1000,
    seed: int = 0,
    exit_rates: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Centred balance tables of one region from a fitted supply and demand model.

    Parameters
    ----------
    supply_result : SupplyResult
        :meth:`kompetensprognos.labour_supply.SupplyModel.fit` output (fitted once).
    demand_result : DemandResult
    dataset : Dataset
    region : str
    start, end : int
        Outlook period (default 2023–2030).
    past : tuple[int, int], optional
        Recent past the indicator is centred on (default ``BalanceParams.past_start`` ..
        ``past_end``, clipped to the observed years).
    balance_params : BalanceParams, optional
    n_sims : int, default 1000
        Joint paths (supply paths are reused cyclically when the supply model has fewer).
    seed : int
    exit_rates : pandas.DataFrame, optional
        Cohort exit rates (default: estimated on the dataset; pass them once for many regions).

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``balance``, ``supply`` (newcomers per occupation, channel and year, with openings),
        ``balance_education``, ``labour_supply``, ``supply_flows``.
    """
    bp = balance_params or BalanceParams()
    last_obs = int(supply_result.last_observed)
    p0 = bp.past_start if past is None else past[0]
    p1 = min(bp.past_end if past is None else past[1], last_obs, start - 1)
    rng = np.random.default_rng(seed)
    op = openings(
        demand_result, dataset, region, p0, end, rates=exit_rates, windows=[(p0, p1), (start, end)],
        bounds=True,
    )  # fmt: skip
    op = op[op["ssyk_level"] == 3]
    _, mat = supply_result._cw_matrix(3)
    cw_s = _draw_crosswalk(mat, n_sims, bp.crosswalk_concentration, rng)
    codes, channels = supply_result.channel_occupations(region, 3, crosswalk_draws=cw_s)
    today = None
    if dataset.yrkesbarometer is not None:
        af = af_assessment(
            dataset.yrkesbarometer, sorted(set(op["ssyk"])) + ["total"], bp.af_region
        )
        today = af.set_index("ssyk")["af_status"]
    bal, sup = centred_balance(
        op, channels, supply_result.years, codes, start=start, end=end, past=(p0, p1),
        params=bp, seed=seed + 1, today=today,
    )  # fmt: skip
    bal.insert(0, "region", region)
    bal.insert(2, "period_start", start)
    bal.insert(3, "period_end", end)
    sup.insert(0, "region", region)
    out = {
        "balance": bal,
        "supply": sup,
        "balance_education": education_stock_balance(
            supply_result,
            demand_result,
            dataset,
            region,
            base_year=last_obs,
            end=end,
            params=bp,
            seed=seed + 2,
        ),  # fmt: skip
        "labour_supply": supply_result.labour_supply(region),
        "supply_flows": supply_result.supply_flows(region),
    }
    return out


# --- scored calls ----------------------------------------------------------------------------


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

    def window(a: int, b: int) -> pd.DataFrame:
        sel = truth[(truth["year"] >= a) & (truth["year"] <= b)]
        return sel.groupby(["region", "ssyk"])[["openings", "newcomers"]].sum()

    p, o = window(*past), window(*outlook)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (o["newcomers"] / o["openings"]) / (p["newcomers"] / p["openings"])
    out = rel.rename("truth_ratio").reset_index()
    out["truth_status"] = _band_status(out["truth_ratio"].to_numpy(float), params)
    out.loc[~np.isfinite(out["truth_ratio"]), "truth_status"] = STATUS_TOO_SMALL
    return out


def _truncate(dataset: Dataset, origin: int) -> Dataset:
    """Every table as known at ``origin``: rows after it dropped; the population observed up to
    the origin and then shifted by cohort (no later observation leaks in)."""
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
) -> pd.DataFrame:
    """Score the balance calls from earlier origins against the generator's imbalance truth.

    For each origin every model is refitted on the data up to the origin only (demand, exit
    rates, graduates, stock–flow supply; population observed to the origin, then shifted by
    cohort): the outlook is ``origin + 1`` .. the last observed year and the recent past
    ``first_year`` .. ``origin``. Beside our call: *carry forward* — today's state at the
    origin (the truth's ratio in the last two years against the earlier past, as a yrkesbarometer
    would know it) carried forward — and the old graduates-only method.

    Returns
    -------
    pandas.DataFrame
        ``region, origin, ssyk, status, p_shortage, truth_status, truth_ratio, carry_status,
        old_status, old_p_shortage`` at SSYK 3.
    """
    from kompetensprognos.demand import DemandConfig, DemandModel
    from kompetensprognos.education import project_graduates
    from kompetensprognos.labour_supply import SupplyConfig, SupplyModel
    from kompetensprognos.replacement import dataset_exit_rates

    truth = dataset.require("imbalance_truth")
    bp = balance_params or BalanceParams()
    last = int(truth["year"].max())
    rows = []
    for origin in origins:
        ds = _truncate(dataset, origin)
        cfg = demand_config or DemandConfig()
        cfg = cfg.model_copy(update={"end_year": max(cfg.end_year, last)})
        dem = DemandModel(cfg).fit(ds)
        proj = project_graduates(ds, last, n_sims=n_sims, seed=seed)
        # the supply model projects migration with its own rates: the cohort shift that stands
        # in for the population after the origin (no deaths, no migration) is no official
        # projection, and forcing the supply to it inflates in-movers at the origin
        known = ds.tables() | {"population": ds.population[ds.population["year"] <= origin]}
        sup = SupplyModel(SupplyConfig(end_year=last, n_sims=min(n_sims, 200), seed=seed)).fit(
            Dataset(manifest=ds.manifest, **known), projection=proj
        )
        rates = dataset_exit_rates(ds)
        ts = truth_status(truth, (first_year, origin), (origin + 1, last), bp)
        carry = truth_status(truth, (first_year, origin - 2), (origin - 1, origin), bp)
        for region in region_ids:
            bal = region_balance(
                sup, dem, ds, region, start=origin + 1, end=last, past=(first_year, origin),
                balance_params=bp, n_sims=n_sims, seed=seed, exit_rates=rates,
            )["balance"]  # fmt: skip
            b = bal[bal["ssyk_level"] == 3][["ssyk", "status", "p_shortage"]]
            b = b.merge(ts[ts["region"] == region].drop(columns="region"), on="ssyk", how="left")
            c = carry[carry["region"] == region][["ssyk", "truth_status"]]
            b = b.merge(c.rename(columns={"truth_status": "carry_status"}), on="ssyk", how="left")
            if old_method:
                old = graduates_only_balance_tables(
                    ds, region, dem, start=origin + 1, end=last, n_sims=n_sims, seed=seed,
                    projection=proj,
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
    methods = {"centred": ("status", "p_shortage"), "carry_forward": ("carry_status", None)}
    if "old_status" in calls:
        methods["graduates_only"] = ("old_status", "old_p_shortage")
    rows = []
    for (region, origin), grp in [*calls.groupby(["region", "origin"]), (("all", "all"), calls)]:
        for name, (scol, pcol) in methods.items():
            g = grp[grp["truth_status"].isin(STATUSES) & grp[scol].isin(STATUSES)]
            if g.empty:
                continue
            recalls = [
                (g.loc[g["truth_status"] == cls, scol] == cls).mean()
                for cls in STATUSES
                if (g["truth_status"] == cls).any()
            ]
            p = (
                (g[scol] == "brist").astype(float)
                if pcol is None
                else g[pcol].astype(float).fillna((g[scol] == "brist").astype(float))
            )
            brier = float(((p - (g["truth_status"] == "brist")) ** 2).mean())
            rows.append((region, origin, name, len(g), float(np.mean(recalls)), brier))
    return pd.DataFrame(
        rows, columns=["region", "origin", "method", "n", "balanced_accuracy", "brier"]
    )

"""The centred balance: openings against newcomers from every channel, read against the
recent past.

For each region and SSYK 3 occupation (summed to SSYK 2, 1 and the total):

* **openings** per year = ``max(ΔE + separations, 0)`` (BLS), the one rule of
  :func:`kompetensprognos.recruitment.openings`, with **gross** separations — the cohort model's
  net exits plus the churn the region's newcomers show in the recent past (one convention with
  the gross newcomer channels, :func:`_churn_rate`);
* **newcomers** from the stock–flow supply's channels (graduates, further-study leavers,
  in-movers, re-entrants), occupation changers and *other channels* (the recent past's
  residual, shrunk empirical-Bayes toward the SSYK 2 group and the region);
* ``past_ratio`` = newcomers / openings over the recent past (≈ 1: the centring) and
  ``balance_ratio`` = the outlook's ratio / ``past_ratio``;
* the outlook read against the region's median occupation (``BalanceParams.centre_outlook``)
  and, where today's state is known as a ratio, carried forward from it
  (``BalanceParams.today_weight``, :func:`ratio_change`);
* **status** and ``p_shortage`` from the same joint paths: ``brist`` ⇔ P(``balance_ratio`` <
  :attr:`BalanceParams.shortage_below`) ≥ 0.5, ``överskott`` ⇔ P(> ``surplus_above``) ≥ 0.5,
  else ``balans``; ``för litet underlag`` below ``min_need`` openings.

Per education group, :func:`education_stock_balance` compares supply and demand stocks.
Arbetsförmedlingen's yrkesbarometer (:func:`af_assessment`) anchors the bands where known.
The earlier graduates-only balance is :mod:`kompetensprognos.graduates_balance`; the scored
calls are :mod:`kompetensprognos.balance_calls`. See ``docs/balance.md``.

Examples
--------
>>> STATUSES
('brist', 'balans', 'överskott')
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from kompetensprognos import classifications, regions
from kompetensprognos.config import BalanceParams
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandResult
from kompetensprognos.recruitment import (
    average_path,
    openings,
    openings_rule,
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
    "ratio_change",
    "region_balance",
    "todays_ratio",
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
    nz = mat > 0
    x = np.zeros((n, *mat.shape))
    x[:, nz] = rng.gamma(mat[nz] * alpha, 1.0, size=(n, int(nz.sum())))  # only where shares are
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
        pos = {u: i for i, u in enumerate(uniq)}
        m = np.zeros((len(keys), len(uniq)))  # [o, u]
        for i, k in enumerate(keys):
            if k is not None:
                m[i, pos[k]] = 1.0
        out_codes += uniq
        levels += [lvl] * len(uniq)
        for k, v in arrays.items():
            parts[k].append(v @ m)
    return out_codes, levels, {k: np.concatenate(v, axis=-1) for k, v in parts.items()}


def _nan_quantile(x: np.ndarray, q: float) -> np.ndarray:
    """Quantile over axis 0 ignoring non-finite values (NaN where a column has none).

    One sort of the whole array instead of numpy's per-column ``nanquantile`` loop.

    Examples
    --------
    >>> _nan_quantile(np.array([[1.0, np.nan], [3.0, np.nan], [np.inf, np.nan]]), 0.5).tolist()
    [2.0, nan]
    """
    x = np.where(np.isfinite(x), x, np.inf)
    srt = np.sort(x, axis=0)
    n = np.isfinite(srt).sum(axis=0)
    pos = q * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    cols = np.arange(x.shape[1])
    with np.errstate(invalid="ignore"):
        val = srt[lo, cols] + (pos - lo) * (srt[hi, cols] - srt[lo, cols])
    return np.where(n > 0, val, np.nan)


def _path_median(x: np.ndarray) -> np.ndarray:
    """``np.median(x, axis=0)`` with the paths moved to the last, contiguous axis first (the
    same values; partitioning along a strided first axis is the slow part).

    Examples
    --------
    >>> x = np.arange(24.0).reshape(4, 3, 2)
    >>> bool((_path_median(x) == np.median(x, axis=0)).all())
    True
    """
    return np.median(np.ascontiguousarray(np.moveaxis(x, 0, -1)), axis=-1)


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


#: Fewest assessed SSYK 3 occupations for which the outlook is read against the region's median.
MIN_CENTRED = 10


def _centre_outlook(rel: np.ndarray, assessed: np.ndarray, on: bool) -> tuple[np.ndarray, float]:
    """The relative ratios ``[s, code]`` divided by the median over the ``assessed`` codes of
    each code's median ratio (one number per region, so every path moves alike and the status
    and ``p_shortage`` still come from the same paths); unchanged when ``on`` is False or fewer
    than :data:`MIN_CENTRED` codes are assessed.

    Examples
    --------
    >>> rel = np.array([[0.8, 1.0, 1.2] * 4, [1.0, 1.2, 1.4] * 4])
    >>> out, shift = _centre_outlook(rel, np.ones(12, bool), True)
    >>> round(shift, 2), out[:, 1].round(3).tolist()
    (1.1, [0.909, 1.091])
    >>> _centre_outlook(rel, np.ones(12, bool), False)[1]
    1.0
    """
    if not on:
        return rel, 1.0
    med = _nan_quantile(rel[:, assessed], 0.5)
    med = med[np.isfinite(med) & (med > 0)]
    if len(med) < MIN_CENTRED:
        return rel, 1.0
    shift = float(np.median(med))
    return rel / shift, shift


def ratio_change(
    known: pd.DataFrame,
    past: tuple[int, int],
    later: tuple[int, int],
    *,
    levels: tuple[int, ...] = (3,),
) -> pd.DataFrame:
    """How the newcomers-to-openings ratio of a table of known openings and newcomers moves from
    ``past`` to ``later``: ``(Σ newcomers / Σ openings in later) / (the same in past)`` per region
    and SSYK code, summed to the requested ``levels`` (0 = the total).

    One rule for the synthetic generator's own call (:func:`kompetensprognos.balance_calls.
    truth_status`) and for today's state where the ratio is known up to today (as a
    yrkesbarometer would know it): the last years against the recent past.

    Parameters
    ----------
    known : pandas.DataFrame
        ``region, ssyk, year, openings, newcomers`` (SSYK 3), e.g. ``imbalance_truth``.
    past, later : tuple[int, int]
        Year windows (both ends included; they may overlap).
    levels : tuple of int, default (3,)

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, ssyk_level, ratio`` (``inf``/``NaN`` where a window has no openings).

    Examples
    --------
    >>> t = pd.DataFrame({"region": "r", "ssyk": ["222"] * 4 + ["223"] * 4,
    ...     "year": [2016, 2017, 2020, 2021] * 2, "openings": 10.0,
    ...     "newcomers": [10.0, 10, 8, 8, 10, 10, 10, 10]})
    >>> ratio_change(t, (2016, 2017), (2020, 2021), levels=(3, 0))["ratio"].tolist()
    [0.8, 1.0, 0.9]
    """
    frames = []
    for lvl in levels:
        keyed = known.assign(ssyk=known["ssyk"].astype(str).str[:lvl] if lvl else "total")

        def window(a: int, b: int, keyed: pd.DataFrame = keyed) -> pd.DataFrame:
            sel = keyed[(keyed["year"] >= a) & (keyed["year"] <= b)]
            return sel.groupby(["region", "ssyk"])[["openings", "newcomers"]].sum()

        p, o = window(*past), window(*later)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = (o["newcomers"] / o["openings"]) / (p["newcomers"] / p["openings"])
        frames.append(rel.rename("ratio").reset_index().assign(ssyk_level=lvl))
    out = pd.concat(frames, ignore_index=True)
    return out[["region", "ssyk", "ssyk_level", "ratio"]]


def todays_ratio(known: pd.DataFrame, region: str, past: tuple[int, int]) -> pd.Series:
    """Today's state as a ratio per SSYK code (levels 3, 2, 1 and ``"total"``): the last two
    years of ``past`` against the whole of ``past`` (:func:`ratio_change`), read from the years
    up to ``past[1]`` only — what a yrkesbarometer knows at the end of the recent past.

    Examples
    --------
    >>> t = pd.DataFrame({"region": "r", "ssyk": "222", "year": [2016, 2017, 2018, 2019],
    ...     "openings": 10.0, "newcomers": [10.0, 10, 7, 99]})
    >>> round(float(todays_ratio(t, "r", (2016, 2018))["222"]), 3)  # (17/20) / (27/30)
    0.944
    """
    sel = known[(known["region"] == region) & (known["year"] <= past[1])]
    rel = ratio_change(sel, past, (past[1] - 1, past[1]), levels=(3, 2, 1, 0))
    return rel.set_index("ssyk")["ratio"]


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
    today_ratio: pd.Series | None = None,
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
    today_ratio : pandas.Series, optional
        Today's state as a ratio per SSYK code (any level; :func:`ratio_change` of the last
        years against the recent past): the outlook starts from it, ``balance_ratio`` = today's
        ratio ** ``params.today_weight`` × the model's relative growth (missing codes: 1).

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        The balance per occupation (all levels) and newcomers per occupation, channel and year;
        ``model_ratio`` is the model's own relative growth (after the region's centring
        ``outlook_shift``), before today's state.
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
    idx_y = np.array([ypos.get(int(y), -1) for y in years_all])
    has_o, has_y = idx_o >= 0, idx_y >= 0
    meas = {}
    for ch in _MEASURED:
        out = np.zeros((n_s, len(occ), len(years_all)))
        picked = channels[ch][:, idx_y[has_y]][:, :, idx_o[has_o]]  # [s, t, o]
        out[:, np.flatnonzero(has_o)[:, None], np.flatnonzero(has_y)[None, :]] = np.swapaxes(
            picked, 1, 2
        )
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
    # the relative reading: against the region's median occupation (a shift that moves every
    # occupation alike, such as the demand forecast's damped growth, decides no status), then
    # carried forward from today's state where it is known (SCB's rule)
    open_pt = np.median(sums["open_out"], axis=0)
    assessed = (np.asarray(levels) == 3) & (open_pt >= params.min_need)
    rel, shift = _centre_outlook(rel, assessed, params.centre_outlook)
    model_med = _nan_quantile(rel, 0.5)
    t_ratio = (today_ratio if today_ratio is not None else pd.Series(dtype=float)).reindex(
        all_codes
    )
    t_arr = t_ratio.to_numpy(float)
    if params.today_weight > 0:
        factor = np.where(np.isfinite(t_arr) & (t_arr > 0), t_arr, 1.0) ** params.today_weight
        rel = rel * factor[None]
    today_s = (today if today is not None else pd.Series(dtype=object)).reindex(all_codes)
    lo, hi = _anchored_bands(
        today_s.fillna("").to_numpy(), params.shortage_below, params.surplus_above
    )
    fin = np.isfinite(rel)
    n_fin = np.maximum(fin.sum(axis=0), 1)
    p_short = np.where(fin.any(axis=0), (fin & (rel < lo[None])).sum(axis=0) / n_fin, np.nan)
    p_surp = np.where(fin.any(axis=0), (fin & (rel > hi[None])).sum(axis=0) / n_fin, np.nan)
    status = np.where(p_short >= 0.5, "brist", np.where(p_surp >= 0.5, "överskott", "balans"))
    rel_med = _nan_quantile(rel, 0.5)
    small = (open_pt < params.min_need) | ~np.isfinite(rel_med)
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
            "past_ratio": _nan_quantile(r_past, 0.5),
            "recruitment_need": open_pt,
            "new_entrants": med["new_out"],
            "outlook_ratio": _nan_quantile(r_out, 0.5),
            "balance_ratio": rel_med,
            "balance_ratio_lo80": _nan_quantile(rel, 0.1),
            "balance_ratio_hi80": _nan_quantile(rel, 0.9),
            "status": status,
            "p_shortage": np.where(small, np.nan, p_short),
            "p_surplus": np.where(small, np.nan, p_surp),
            "today_status": today_s.to_numpy(),
            "today_ratio": t_arr,
            "model_ratio": model_med,
            "outlook_shift": shift,
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
        m = _path_median(allch[ch])  # [o, t]
        rows.append(pd.DataFrame({
            "ssyk": np.repeat(occ, len(years_all)), "year": np.tile(years_all, len(occ)),
            "channel": ch, "newcomers": m.reshape(-1)}))  # fmt: skip
    sup = pd.concat(rows, ignore_index=True)
    op = pd.DataFrame({"ssyk": np.repeat(occ, len(years_all)), "year": np.tile(years_all, len(occ)),
                       "openings": _path_median(open_s).reshape(-1)})  # fmt: skip
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
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # a column without any finite ratio (no supply or no demand) gives NaN, said below
        warnings.simplefilter("ignore", RuntimeWarning)
        p_short, p_surp = np.nanmean(p_short, axis=0), np.nanmean(p_surp, axis=0)
        med = _nan_quantile(rel, 0.5)
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
    today: pd.Series | None = None,
    today_ratio: pd.Series | None = None,
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
    today : pandas.Series, optional
        Today's status per SSYK code, anchoring the bands (default: Arbetsförmedlingen's
        yrkesbarometer when the dataset has it, else none).
    today_ratio : pandas.Series, optional
        Today's state as a ratio per SSYK code (:func:`ratio_change`). Default: on synthetic data
        with an ``imbalance_truth`` table, the truth's last two years of the recent past against
        the whole recent past (years up to the past's end only, as a yrkesbarometer would know
        them); else none.

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
        bounds=True, shrink=[(p0, p1)] if bp.shrink_past_change else None,
        shrink_noise=bp.past_change_noise,
    )  # fmt: skip
    op = op[op["ssyk_level"] == 3]
    _, mat = supply_result._cw_matrix(3)
    cw_s = _draw_crosswalk(mat, n_sims, bp.crosswalk_concentration, rng)
    codes, channels = supply_result.channel_occupations(region, 3, crosswalk_draws=cw_s)
    if today is None and dataset.yrkesbarometer is not None:
        af = af_assessment(
            dataset.yrkesbarometer, sorted(set(op["ssyk"])) + ["total"], bp.af_region
        )
        today = af.set_index("ssyk")["af_status"]
    truth = getattr(dataset, "imbalance_truth", None)
    if today_ratio is None and truth is not None:
        today_ratio = todays_ratio(truth, region, (p0, p1))
    bal, sup = centred_balance(
        op, channels, supply_result.years, codes, start=start, end=end, past=(p0, p1),
        params=bp, seed=seed + 1, today=today, today_ratio=today_ratio,
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


def balance_tables(
    supply_result: Any,
    demand_result: DemandResult,
    dataset: Dataset,
    region: str,
    *,
    calls: pd.DataFrame | None = None,
    **kwargs: Any,
) -> dict[str, pd.DataFrame]:
    """The centred balance tables of one region (:func:`region_balance`), with the call
    backtest of :func:`kompetensprognos.balance_calls.call_backtest` filtered to the region as
    ``balance_backtest`` when ``calls`` is given.

    The graduates-only balance of earlier versions is
    :func:`kompetensprognos.graduates_balance.graduates_only_balance_tables`.
    """
    out = region_balance(supply_result, demand_result, dataset, region, **kwargs)
    if calls is not None:
        out["balance_backtest"] = calls[calls["region"] == region].reset_index(drop=True)
    return out

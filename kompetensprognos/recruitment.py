"""Job openings and recruitment need per occupation, region and year, with intervals.

For each SSYK 3 occupation of a region and each year *t* (BLS's occupational openings):

* **employment change** ``ΔE_t``: the period's average yearly change ``(E_end − E_{start−1}) / n``
  (BLS's annual average change; single years carry register noise that a yearly ``max`` would
  count as openings), on the latest data basis (the break-adjusted history, then the reconciled
  forecast), so the 2023 register change is not counted as growth;
* **separations** ``S_t`` = exits of incumbents during *t* by the cohort method
  (:mod:`kompetensprognos.replacement`), following the same employment path;
* **openings** ``O_t = max(ΔE_t + S_t, 0)``: a shrinking occupation needs no one for the exits its
  decline absorbs, and a decline larger than its exits gives no openings (never negative need).

The openings of a year are exactly the entrants the cohort projection places to reach the year's
employment, so need and the age model agree. SSYK 2, 1 and ``"total"`` are sums of the SSYK 3
figures (coherent). **Recruitment need** for a period is the sum of its yearly openings.

Separations convention (``docs/demand.md``): the minimum gross separations an age panel can
show — exits per age band where a band's net rate is positive, never offset by net entry in
other (younger) bands; leavers replaced by entrants of the *same* age band in the same year
(within-band churn, e.g. a mid-career occupation changer replacing another) are invisible in
stock data and excluded. Newcomer supply compared with these openings must count the same way.

Intervals come from one simulation of yearly paths: employment draws around the calibrated
forecast intervals (a two-piece normal whose median is the point and whose 10th/90th
percentiles are the forecast's 80 % bounds, one draw per occupation and path, with a common factor sized so that the
occupations add up to the uncertainty of the region's total), separations along each path
(:func:`kompetensprognos.replacement.simulate_separations`), and the same ``max`` rule year by
year. The point need in :func:`recruitment_need` is the **median of these paths**, so the point
that sets a status and the probabilities read from the paths come from one distribution.
"""

from __future__ import annotations

from typing import Any, get_args

import numpy as np
import pandas as pd
from scipy.stats import norm

from kompetensprognos.config import PastChangeNoise
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandResult
from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "NEED_COLUMNS",
    "OPENINGS_COLUMNS",
    "average_path",
    "openings",
    "openings_rule",
    "recruitment_need",
    "shrunk_change",
    "simulate_need",
]

NEED_COLUMNS = [
    "region", "ssyk", "ssyk_level", "period_start", "period_end", "expansion", "replacement",
    "recruitment_need", "recruitment_need_lo80", "recruitment_need_hi80",
]  # fmt: skip
OPENINGS_COLUMNS = [
    "region", "ssyk", "ssyk_level", "year", "employed", "employment_change", "separations",
    "openings",
]  # fmt: skip
_Z80 = float(norm.ppf(0.9))


def _check_period(result: DemandResult, start: int, end: int) -> None:
    if start > end:
        raise KompetensprognosError(f"outlook period start {start} is after its end {end}")
    if end > result.config.end_year:
        raise KompetensprognosError(
            f"outlook period ends {end} but the demand forecast ends {result.config.end_year}; "
            "raise the demand model's end_year"
        )


def _path3(
    result: DemandResult, region: str, start: int, end: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str], pd.DataFrame]:
    """SSYK 3 employment ``[year, code]`` for ``start - 1 .. end``, the half-widths of its 80 %
    interval (columns ``("down", code)`` and ``("up", code)``), the codes of every level, and
    the region's total rows (for the common factor)."""
    path = result.employment_path(region)
    years = list(range(start - 1, end + 1))
    missing = sorted(set(years) - set(path["year"]))
    if missing:
        raise KompetensprognosError(
            f"no employment for {region!r} in {missing[:3]}; the demand data start "
            f"{int(path['year'].min())} — start the period at least one year after that"
        )
    p3 = path[(path["ssyk_level"] == 3) & path["year"].isin(years)]
    mean = p3.pivot(index="year", columns="ssyk", values="employed").reindex(years).fillna(0.0)
    codes = list(mean.columns)
    if "lo80" in p3 and p3["lo80"].notna().any():
        # half-widths of the calibrated 80 % interval below and above the point, per year
        bounds = p3.assign(
            down=(p3["employed"] - p3["lo80"]).clip(lower=0.0),
            up=(p3["hi80"] - p3["employed"]).clip(lower=0.0),
        )
        down = bounds.pivot(index="year", columns="ssyk", values="down")
        up = bounds.pivot(index="year", columns="ssyk", values="up")
        spread = pd.concat(
            {
                "down": down.reindex(index=years, columns=codes).fillna(0.0),
                "up": up.reindex(index=years, columns=codes).fillna(0.0),
            },
            axis=1,
        )
    else:  # the period lies in observed years: no forecast uncertainty
        spread = pd.concat({"down": mean * 0.0, "up": mean * 0.0}, axis=1)
    levels = path[["ssyk", "ssyk_level"]].drop_duplicates().sort_values(["ssyk_level", "ssyk"])
    total = path[(path["ssyk_level"] == 0) & path["year"].isin(years)]
    return mean, spread, levels, codes, total


def average_path(
    employed: np.ndarray,
    years: np.ndarray,
    windows: list[tuple[int, int]] | tuple[tuple[int, int], ...],
) -> np.ndarray:
    """Employment on the straight line through each window (BLS's average yearly change).

    Single years carry register noise (small cells, Poisson-like counts) and the step from the
    last observed year to the smoother forecast: the yearly ``max`` would count every rise as
    openings and never offset the falls. As BLS does over its projection decade, every year of
    a window gets the window's average yearly change; the employment at both ends of the window,
    and so its change, is unchanged.

    Parameters
    ----------
    employed : numpy.ndarray
        Employment with years on axis ``-2`` (``[..., year, code]``).
    years : numpy.ndarray
        The years of axis ``-2`` (consecutive).
    windows : sequence of (int, int)
        First and last year of each window (changes from ``first - 1`` to ``last``).

    Returns
    -------
    numpy.ndarray
        A copy with the years inside each window on the straight line.

    Examples
    --------
    >>> e = np.array([[100.0], [110.0], [100.0], [130.0]])
    >>> average_path(e, np.arange(2019, 2023), [(2020, 2022)]).ravel().tolist()
    [100.0, 110.0, 120.0, 130.0]
    """
    out = np.array(employed, dtype=float, copy=True)
    years = np.asarray(years)
    for first, last in windows:
        i0 = int(np.searchsorted(years, first)) - 1
        i1 = int(np.searchsorted(years, last))
        if i0 < 0 or i1 >= len(years) or i1 - i0 < 2:
            continue
        a, b = out[..., i0, :], out[..., i1, :]
        for k, i in enumerate(range(i0 + 1, i1), start=1):
            out[..., i, :] = a + (b - a) * k / (i1 - i0)
    return out


def _overdispersion(path: np.ndarray, ok: np.ndarray) -> float:
    """Pooled ratio of the codes' year-to-year variance in a window to Poisson's (method of
    moments; 1 when the window has fewer than three yearly changes).

    Each code's yearly changes, less the total's yearly rate times its level (so a cycle common
    to all codes is not counted), are taken about their own straight line through the window
    (steady growth, compounding included, is not counted either). Were the levels Poisson
    counts, the expected sum of squares would be ``tr(M Σ)``: ``M`` the residual projection,
    ``Σ`` the covariance of the changes of Poisson levels (``E_{t−1} + E_t`` on the diagonal,
    ``−E_t`` beside it). ``φ`` is the ratio of the two sums over the codes.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> mu = np.full((8, 400), 400.0)
    >>> noisy = mu + rng.normal(0.0, np.sqrt(4 * mu))  # 4 × Poisson noise in every level
    >>> round(_overdispersion(noisy, np.ones(400, bool)), 1)
    3.9
    """
    lv = np.maximum(np.asarray(path, float)[:, ok], 0.0)
    n = lv.shape[0] - 1
    if n < 3 or lv.shape[1] < 2:
        return 1.0
    d = np.diff(lv, axis=0)
    r = d.sum(axis=1) / np.maximum(lv[:-1].sum(axis=1), 1e-12)  # the total's yearly rate
    x = d - r[:, None] * lv[:-1]
    t = np.arange(n) - (n - 1) / 2
    design = np.column_stack([np.ones(n), t])
    m = np.eye(n) - design @ np.linalg.solve(design.T @ design, design.T)
    ss = float(((m @ x) ** 2).sum())
    expected = float((np.diag(m) @ (lv[:-1] + lv[1:])).sum() - 2 * (np.diag(m, 1) @ lv[1:-1]).sum())
    return ss / expected if expected > 0 and ss > 0 else 1.0


def _persistent_variance(path: np.ndarray, ok: np.ndarray) -> float:
    """Between-code variance ``tau²`` of the growth rates that *persist* through a window: the
    covariance across codes of their deviations from the total's rate in the window's two
    halves (method of moments, weighted by the level at the start; ``nan`` for windows of
    fewer than three years).

    The halves are the window's first and last ``h = (n − 1) // 2`` yearly changes, with a gap
    between them, so no level is shared and its transient noise cannot make the halves
    covary; what they share is growth that persists.

    Examples
    --------
    >>> rng = np.random.default_rng(2)
    >>> rate = rng.normal(0.01, 0.02, 500)  # persistent growth, sd 2 % a year
    >>> mu = 5_000.0 * (1 + rate) ** np.arange(8)[:, None]
    >>> tau2 = _persistent_variance(mu + rng.normal(0.0, np.sqrt(mu)), np.ones(500, bool))
    >>> round(float(np.sqrt(tau2)), 3)
    0.021
    """
    lv = np.maximum(np.asarray(path, float)[:, ok], 0.0)
    n = lv.shape[0] - 1
    h = (n - 1) // 2
    if h < 1 or lv.shape[1] < 3:
        return float("nan")

    def deviation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rate = np.where(a > 0, (b - a) / (h * np.where(a > 0, a, 1.0)), 0.0)
        return rate - (b.sum() - a.sum()) / (h * a.sum())

    d1, d2 = deviation(lv[0], lv[h]), deviation(lv[n - h], lv[n])
    return max(float((lv[0] * d1 * d2).sum() / lv[0].sum()), 0.0)


def shrunk_change(
    start_level: np.ndarray,
    end_level: np.ndarray,
    n_years: int,
    *,
    noise: PastChangeNoise = "poisson",
    path: np.ndarray | None = None,
) -> np.ndarray:
    """Average yearly change of a window of *observed* years per code, shrunk empirical-Bayes
    toward the total's growth rate (the transient part of each code's change).

    The observed change ``(E_end − E_start) / n`` of a small occupation carries the counting
    noise of both end years (Poisson-like, variance ≈ ``E_start + E_end``). Compared with a
    smooth forecast, that noise reads as a change of growth: a noisy rise in the recent past
    shows up as falling openings in the outlook. Each code's growth rate ``r = ΔE / (n
    E_start)`` is therefore shrunk toward the rate of the codes' total, with weight
    ``tau² / (tau² + v)``. How the transient variance ``v`` and the between-code variance
    ``tau²`` of the persistent growth are estimated is ``noise``:

    * ``"poisson"``: ``v = (E_start + E_end) / (n E_start)²``, ``tau²`` by DerSimonian–Laird (as
      for the exit rates, :mod:`kompetensprognos.replacement`);
    * ``"overdispersed"``: ``v`` times ``φ``, the window's year-to-year variance over Poisson's
      pooled across codes (:func:`_overdispersion`, from ``path``), then DerSimonian–Laird;
    * ``"persistence"``: ``v`` as ``"overdispersed"``, ``tau²`` the covariance of the codes'
      deviations in the window's two halves (:func:`_persistent_variance`; windows of under
      three years: DerSimonian–Laird, as ``"overdispersed"``);
    * ``"total"``: weight 0, every code at the total's rate.

    Large codes keep more of their own change; codes without employment at the start get none.

    Parameters
    ----------
    start_level, end_level : numpy.ndarray
        Employment per code in the year before the window and in its last year.
    n_years : int
        Years in the window.
    noise : {"poisson", "overdispersed", "persistence", "total"}, default "poisson"
        Estimate of the transient variance (``BalanceParams.past_change_noise``).
    path : numpy.ndarray, optional
        Employment ``[year, code]`` from the year before the window to its last year
        (``n_years + 1`` rows); needed by ``"overdispersed"`` and ``"persistence"`` (without
        it they fall back to ``"poisson"``).

    Returns
    -------
    numpy.ndarray
        Shrunk average yearly change per code (``rate × start_level``).

    Examples
    --------
    >>> e0 = np.array([100_000.0, 100_000.0, 50.0, 50.0])
    >>> e1 = np.array([110_000.0, 100_000.0, 75.0, 50.0])
    >>> shrunk_change(e0, e1, 5).round(1).tolist()  # the large keep theirs, the small shrink
    [1995.8, 4.0, 0.9, 0.4]
    >>> shrunk_change(e0, e1, 5, noise="total").round(1).tolist()  # the total's rate for all
    [1002.0, 1002.0, 0.5, 0.5]
    >>> swing = np.array([0, 1, -1, 1, -1, 0])[:, None] * [1000, -1000, 0, 0]  # φ = 16
    >>> path = np.linspace(e0, e1, 6) + swing
    >>> shrunk_change(e0, e1, 5, noise="overdispersed", path=path).round(1).tolist()
    [1915.7, 80.9, 0.5, 0.5]
    """
    from kompetensprognos.replacement import _between_variance

    allowed = get_args(PastChangeNoise)
    if noise not in allowed:
        raise KompetensprognosError(
            f"unknown noise {noise!r}; use one of {', '.join(map(repr, allowed))}"
        )
    e0 = np.asarray(start_level, float)
    e1 = np.asarray(end_level, float)
    ok = e0 > 0
    if not ok.any():
        return np.zeros_like(e0)
    rate = np.where(ok, (e1 - e0) / (n_years * np.where(ok, e0, 1.0)), 0.0)
    target = float((e1[ok] - e0[ok]).sum() / (n_years * e0[ok].sum()))
    if noise == "total":
        return target * np.where(ok, e0, 0.0)
    v = np.where(ok, (e0 + np.maximum(e1, 0.0)) / (n_years * np.where(ok, e0, 1.0)) ** 2, np.inf)
    dev2 = (rate - target) ** 2
    tau2 = float("nan")
    if path is not None and noise in ("overdispersed", "persistence"):
        v = v * _overdispersion(path, ok)
        if noise == "persistence":
            tau2 = _persistent_variance(path, ok)
    if np.isnan(tau2):
        tau2 = _between_variance(dev2[ok], v[ok])
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(ok, np.where(tau2 + v > 0, tau2 / (tau2 + v), 1.0), 0.0)
    return (w * rate + (1 - w) * target) * np.where(ok, e0, 0.0)


def openings_rule(change: np.ndarray, separations: np.ndarray) -> np.ndarray:
    """The one openings rule (BLS): ``max(ΔE + separations, 0)`` per year, element-wise.

    A shrinking occupation opens a job only where its separations exceed its decline; a decline
    larger than the separations gives none (never a negative need).

    Examples
    --------
    >>> openings_rule(np.array([2.0, -3.0, -9.0]), np.array([5.0, 5.0, 5.0])).tolist()
    [7.0, 2.0, 0.0]
    """
    return np.maximum(np.asarray(change, float) + np.asarray(separations, float), 0.0)


def _level_groups(
    codes: list[str], levels: pd.DataFrame
) -> list[tuple[int, list[str], np.ndarray]]:
    """For SSYK 3, 2, 1 and ``"total"``: the groups the demand hierarchy has and the 0/1 matrix
    ``[code, group]`` summing SSYK 3 ``codes`` into them (the unknown code ``0002`` counts
    only in the total).

    Examples
    --------
    >>> lv = pd.DataFrame({"ssyk": ["222", "223", "22", "2", "total"],
    ...                    "ssyk_level": [3, 3, 2, 1, 0]})
    >>> [(level, groups, m.sum(axis=0).tolist()) for level, groups, m in
    ...  _level_groups(["222", "223"], lv)][1:]
    [(2, ['22'], [2.0]), (1, ['2'], [2.0]), (0, ['total'], [2.0])]
    """
    arr = np.asarray(codes, dtype=object)
    out = []
    for level in (3, 2, 1, 0):
        anc = np.full(len(arr), "total", dtype=object) if level == 0 else np.array(
            [c[:level] for c in arr], dtype=object
        )  # fmt: skip
        known = set(levels.loc[levels["ssyk_level"] == level, "ssyk"])
        groups = sorted(set(anc) & known)
        pos = {g: i for i, g in enumerate(groups)}
        m = np.zeros((len(arr), len(groups)))
        for i, a in enumerate(anc):
            if a in pos:
                m[i, pos[a]] = 1.0
        out.append((level, groups, m))
    return out


def _up_levels(
    codes: list[str],
    values: dict[str, np.ndarray],
    levels: pd.DataFrame,
    key: str | None = None,
    key_values: np.ndarray | None = None,
) -> pd.DataFrame:
    """Sum SSYK 3 arrays (``values``, each ``[key, code]``) to SSYK 2, 1 and ``"total"``,
    keeping the groups the demand hierarchy has (:func:`_level_groups`).

    Returns a long frame ``ssyk, [key], <values>, ssyk_level`` sorted by level (total first),
    code and key (``key_values`` ascending).
    """
    n_key = next(iter(values.values())).shape[0]
    parts = []
    for level, groups, m in reversed(_level_groups(codes, levels)):
        cols: dict[str, Any] = {"ssyk": np.repeat(np.asarray(groups, dtype=object), n_key)}
        if key is not None:
            cols[key] = np.tile(np.asarray(key_values), len(groups))
        for name, v in values.items():
            v = np.where(np.isnan(v), 0.0, v)  # a missing value adds nothing, as in a group sum
            cols[name] = (v @ m).T.reshape(-1)  # group-major: code, then key
        parts.append(pd.DataFrame(cols).assign(ssyk_level=level))
    return pd.concat(parts, ignore_index=True)


def openings(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    *,
    rates: pd.DataFrame | None = None,
    windows: list[tuple[int, int]] | None = None,
    bounds: bool = False,
    shrink: list[tuple[int, int]] | None = None,
    shrink_noise: PastChangeNoise = "poisson",
) -> pd.DataFrame:
    """Yearly job openings per occupation: ``max(employment change + separations, 0)``.

    Works for forecast years and for observed years alike (e.g. ``start=2016, end=2022`` for a
    supply closure over the past), on the break-adjusted employment path. Every year takes the
    period's average yearly change, as BLS does (``docs/demand.md``: single-year register noise
    would otherwise count as openings); call year by year (``start == end``) for the raw
    yearly change.

    Parameters
    ----------
    result : DemandResult
        Fitted demand model (:meth:`kompetensprognos.demand.DemandModel.fit`).
    dataset : Dataset
        The dataset the model was fitted on (for the age structure).
    region : str
        Region id, e.g. ``"skaraborg"``.
    start, end : int, default 2023, 2030
        First and last year (inclusive); the year before ``start`` must have employment.
    rates : pandas.DataFrame, optional
        Exit rates (:func:`kompetensprognos.replacement.estimate_exit_rates`); default: the
        dataset's.
    windows : list of (int, int), optional
        Windows whose years share their average change (:func:`average_path`); default the
        whole period. The centred balance passes the recent past and the outlook.
    bounds : bool, default False
        Add ``employed_lo80, employed_hi80`` (the forecast's 80 % interval at SSYK 3; empty for
        observed years and the aggregates).
    shrink : list of (int, int), optional
        Windows of observed years whose average change is shrunk toward the region's growth
        rate (:func:`shrunk_change`: register noise); the centred balance passes its recent
        past, so a noisy past is not read as a change of growth against the smooth forecast.
        The employment path and the separations are unchanged.
    shrink_noise : {"poisson", "overdispersed", "persistence", "total"}, default "poisson"
        How :func:`shrunk_change` estimates the transient part of a ``shrink`` window's change
        (``BalanceParams.past_change_noise``; the window's yearly levels are its ``path``).

    Returns
    -------
    pandas.DataFrame
        :data:`OPENINGS_COLUMNS` — ``region, ssyk, ssyk_level, year, employed,
        employment_change, separations, openings`` for SSYK 3, 2, 1 and ``"total"``
        (``employed`` as observed or forecast, ``employment_change`` as used); every level
        is the sum of its SSYK 3 rows (so an aggregate's openings can exceed
        ``max(ΔE + S, 0)`` of the aggregate: growth in one occupation does not fill another's
        openings).

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> from kompetensprognos.demand import DemandModel
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> o = openings(DemandModel().fit(ds), ds, "skaraborg")  # doctest: +SKIP
    >>> o.query("ssyk == 'total'")[["year", "openings"]].head(2)  # doctest: +SKIP
    """
    _check_period(result, start, end)
    mean, _, levels, codes, _ = _path3(result, region, start, end)
    paths = mean.to_numpy(float)  # [year, code]
    years_e = np.arange(start - 1, end + 1)
    trend = average_path(paths, years_e, windows or [(start, end)])
    sep = _separations(dataset, region, codes, trend, start, end, rates)
    change = np.diff(trend, axis=0)
    for first, last in shrink or []:
        i0, i1 = first - 1 - (start - 1), last - (start - 1)  # rows of years_e
        if i0 >= 0 and i1 < len(years_e) and i1 > i0:
            change[i0:i1] = shrunk_change(
                trend[i0], trend[i1], i1 - i0, noise=shrink_noise, path=paths[i0 : i1 + 1]
            )[None]
    years = np.arange(start, end + 1)
    values = {
        "employed": paths[1:],
        "employment_change": change,
        "separations": sep,
        "openings": openings_rule(change, sep),
    }
    out = _up_levels(codes, values, levels, "year", years).assign(region=region)
    if not bounds:
        return out[OPENINGS_COLUMNS]
    p3 = result.employment_path(region)
    p3 = p3[p3["ssyk_level"] == 3].set_index(["ssyk", "year"])
    key = pd.MultiIndex.from_frame(out[["ssyk", "year"]])
    for c in ("lo80", "hi80"):
        col = p3[c] if c in p3 else pd.Series(np.nan, index=p3.index)
        out[f"employed_{c}"] = col.reindex(key).to_numpy()
    return out[[*OPENINGS_COLUMNS, "employed_lo80", "employed_hi80"]]


def _separations(
    dataset: Dataset,
    region: str,
    codes: list[str],
    paths: np.ndarray,
    start: int,
    end: int,
    rates: pd.DataFrame | None,
) -> np.ndarray:
    """Point separations ``[year, code]`` along the point path (cohort model, no noise)."""
    from kompetensprognos.replacement import (
        _base_year,
        age_structure,
        dataset_exit_rates,
        project_replacement,
    )

    rates = dataset_exit_rates(dataset) if rates is None else rates
    years = list(range(start - 1, end + 1))
    totals = pd.DataFrame(
        {
            "region": region,
            "ssyk": np.tile(codes, len(years)),
            "year": np.repeat(years, len(codes)),
            "employed": paths.reshape(-1),
        }
    )
    structure = age_structure(dataset, region, _base_year(dataset, start, end))
    rep = project_replacement(structure, rates, start, end, totals)
    wide = rep.pivot_table(index="year", columns="ssyk", values="replacement", aggfunc="sum")
    return wide.reindex(index=years[1:], columns=codes).fillna(0.0).to_numpy(float)


def _levels_of(frame: pd.DataFrame) -> pd.DataFrame:
    """``ssyk, ssyk_level`` of a table (the groups :func:`_up_levels` keeps)."""
    return frame[["ssyk", "ssyk_level"]].drop_duplicates()


def _common_factor(sd3: np.ndarray, sd_total: float) -> float:
    """Correlation of the occupations' employment draws that makes their sum as uncertain as
    the region's own total forecast: ``var_tot = rho (Σ sd)² + (1 − rho) Σ sd²``."""
    s1, s2 = float(sd3.sum()), float((sd3**2).sum())
    if not (s1**2 - s2) > 0 or not np.isfinite(sd_total):
        return 0.0
    return float(np.clip((sd_total**2 - s2) / (s1**2 - s2), 0.0, 1.0))


def _simulate3(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    start: int,
    end: int,
    n_sims: int,
    seed: int,
    rates: pd.DataFrame | None = None,
) -> tuple[list[str], pd.DataFrame, np.ndarray, np.ndarray]:
    """Simulated SSYK 3 employment ``(sim, year, code)`` for ``start - 1 .. end`` and yearly
    separations ``(sim, year, code)`` for ``start .. end``."""
    from kompetensprognos.replacement import simulate_separations

    if n_sims < 1:
        raise KompetensprognosError(f"n_sims must be at least 1, got {n_sims}")
    mean, spread, levels, codes, total = _path3(result, region, start, end)
    rng = np.random.default_rng(seed)
    down, up = spread["down"].to_numpy(float), spread["up"].to_numpy(float)
    last_sd = (down[-1] + up[-1]) / (2 * _Z80)
    tot = total.set_index("year")
    sd_total = 0.0
    if {"lo80", "hi80"} <= set(tot.columns) and pd.notna(tot["lo80"].get(end)):
        sd_total = float(tot.loc[end, "hi80"] - tot.loc[end, "lo80"]) / (2 * _Z80)
    rho = _common_factor(last_sd, sd_total)
    half = (n_sims + 1) // 2
    z = np.sqrt(rho) * rng.standard_normal((half, 1)) + np.sqrt(1 - rho) * rng.standard_normal(
        (half, len(codes))
    )  # [sim, code]: one draw per path, scaled by each year's spread (errors persist)
    z = np.concatenate([z, -z])[:n_sims, None, :]  # antithetic: the draws are centred
    # two-piece normal on the calibrated interval: the point is the median, the 10th/90th
    # percentiles are the forecast's own (asymmetric) 80 % bounds; floored at zero
    m = mean.to_numpy(float)[None]
    emp = np.maximum(m + np.where(z < 0, down[None], up[None]) * z / _Z80, 0.0)
    emp = average_path(emp, np.arange(start - 1, end + 1), [(start, end)])  # average change
    sep = simulate_separations(dataset, region, codes, emp, start, seed=seed + 1, rates=rates)
    return codes, levels, emp, sep


def simulate_need(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    *,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulated expansion, separations and recruitment need per occupation (all SSYK levels).

    Each path has its own yearly employment and separations; its need is the sum of the
    yearly openings ``max(ΔE_t + S_t, 0)`` (the rule of :func:`openings`).

    Parameters
    ----------
    result : DemandResult
        Fitted demand model (:meth:`kompetensprognos.demand.DemandModel.fit`).
    dataset : Dataset
        The dataset the model was fitted on (for the age structure).
    region : str
        Region id, e.g. ``"skaraborg"``.
    start, end : int
        Outlook period, inclusive.
    n_sims : int, default 1000
        Number of paths.
    seed : int, default 0
        Random seed.
    rates : pandas.DataFrame, optional
        Exit rates (:func:`kompetensprognos.replacement.dataset_exit_rates`, the default);
        pass them once for many regions.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, ssyk_level, sim, expansion, replacement, recruitment_need`` (period
        sums per path; aggregates are sums of SSYK 3 paths).

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> from kompetensprognos.demand import DemandModel
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> sims = simulate_need(DemandModel().fit(ds), ds, "skaraborg", n_sims=200)  # doctest: +SKIP
    """
    _check_period(result, start, end)
    codes, levels, emp, sep = _simulate3(result, dataset, region, start, end, n_sims, seed, rates)
    change = np.diff(emp, axis=1)  # [sim, year, code]
    need = openings_rule(change, sep).sum(axis=1)  # [sim, code]
    values = {
        "expansion": emp[:, -1] - emp[:, 0],
        "replacement": sep.sum(axis=1),
        "recruitment_need": need,
    }
    out = _up_levels(codes, values, levels, "sim", np.arange(n_sims)).assign(region=region)
    return out[
        ["region", "ssyk", "ssyk_level", "sim", "expansion", "replacement", "recruitment_need"]
    ]


def _path_quantiles(sims: pd.DataFrame, value: str, qs: tuple[float, ...]) -> pd.DataFrame:
    """Quantiles of ``value`` over the paths of each code (``ssyk, sim`` rows, each once):
    ``[code, q]``, codes sorted (one sort of a ``[sim, code]`` array instead of a grouped
    quantile).

    Examples
    --------
    >>> s = pd.DataFrame({"ssyk": ["1", "1", "2", "2"], "sim": [0, 1, 0, 1],
    ...                   "v": [1.0, 3.0, 5.0, 5.0]})
    >>> _path_quantiles(s, "v", (0.5,))[0.5].tolist()
    [2.0, 5.0]
    """
    code_idx, codes = pd.factorize(sims["ssyk"], sort=True)
    sim_idx, paths = pd.factorize(sims["sim"])
    mat = np.full((len(paths), len(codes)), np.nan)
    mat[sim_idx, code_idx] = sims[value].to_numpy(float)
    full = not np.isnan(mat).any()
    q = (np.quantile if full else np.nanquantile)(mat, list(qs), axis=0)
    return pd.DataFrame(q.T, index=pd.Index(codes, name="ssyk"), columns=list(qs))


def recruitment_need(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    *,
    sims: pd.DataFrame | None = None,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``recruitment_need.csv`` table for one region and outlook period.

    Parameters
    ----------
    result, dataset, region, start, end, n_sims, seed
        As in :func:`simulate_need` (the same arguments give the same paths, so a balance that
        pairs these paths with supply paths reads its probabilities from the distribution
        whose median is the point need here).
    sims : pandas.DataFrame, optional
        :func:`simulate_need` of the same arguments when the caller has it already (not
        simulated again).
    rates : pandas.DataFrame, optional
        Exit rates, as in :func:`simulate_need`.

    Returns
    -------
    pandas.DataFrame
        :data:`NEED_COLUMNS`. ``expansion`` (employment at the end minus the year before the
        period) and ``replacement`` (separations summed over the period) are point values of
        the forecast path; at SSYK 3 ``recruitment_need`` is the **median** of the simulated
        need (sum of yearly openings) — the level a balance assesses, so its status and its
        probabilities come from the same paths — and SSYK 2, 1 and ``"total"`` are sums of
        those medians (so the levels add up); ``_lo80``/``_hi80`` are the 10th/90th
        percentiles of each row's own simulated need. For an occupation
        that grows every year ``recruitment_need ≈ expansion + replacement``; for one that
        shrinks, the exits its decline absorbs are not need.

    Examples
    --------
    >>> from kompetensprognos.demand import DemandModel
    >>> from kompetensprognos.dataset import load_dataset
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> need = recruitment_need(DemandModel().fit(ds), ds, "skaraborg")  # doctest: +SKIP
    """
    if sims is None:
        sims = simulate_need(result, dataset, region, start, end, n_sims, seed, rates=rates)
    point = openings(result, dataset, region, start, end, rates=rates)
    g = point.groupby(["ssyk", "ssyk_level"], sort=False)
    out = pd.DataFrame(
        {
            "expansion": g["employment_change"].sum(),
            "replacement": g["separations"].sum(),
        }
    ).reset_index()
    q = _path_quantiles(sims, "recruitment_need", (0.1, 0.5, 0.9))
    known3 = set(out.loc[out["ssyk_level"] == 3, "ssyk"])
    codes3 = [c for c in q.index if c in known3]
    median3 = q.loc[codes3, 0.5].to_numpy(float)[None]
    point = _up_levels(codes3, {"recruitment_need": median3}, _levels_of(out))
    point = point.set_index("ssyk")["recruitment_need"]
    out["recruitment_need"] = point.reindex(out["ssyk"]).to_numpy()
    lo, hi = q[0.1].reindex(out["ssyk"]).to_numpy(), q[0.9].reindex(out["ssyk"]).to_numpy()
    out["recruitment_need_lo80"] = np.minimum(lo, out["recruitment_need"])
    out["recruitment_need_hi80"] = np.maximum(hi, out["recruitment_need"])
    out["region"] = region
    out["period_start"], out["period_end"] = start, end
    return (
        out[NEED_COLUMNS].sort_values(["ssyk_level", "ssyk"], kind="stable").reset_index(drop=True)
    )

"""Series breaks: estimate level shifts at known break years and put history on the new basis.

SCB's occupation register changed source in 2020 (RAMS → BAS) and widened its age range from
16–64 to 16–69 in 2023 (plus model-imputed occupations): national employment jumped +8.7 % from
2022 to 2023 with no real change behind it. A model that sees the raw series extrapolates that jump
as growth. This module estimates, for each occupation, the ratio between the new and the old
basis at every declared break and rescales the years before the break, so the whole history is on
the latest basis.

Estimation (no overlap years in the data): the log growth across the break minus the typical log
growth of the same series in the neighbouring years, on the occupation's total over all regions
(individual municipality cells are too noisy). Occupation estimates are shrunk toward their
SSYK 1 group's estimate with an empirical-Bayes weight ``tau² / (tau² + se²)``, where ``se²`` is the
occupation's year-to-year growth variance (noise) and ``tau²`` the spread of true shifts across
occupations. See ``docs/methods.md`` for what the adjustment does on the demo data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["adjust_breaks", "estimate_break_factors"]


def _log_growth(wide: pd.DataFrame) -> pd.DataFrame:
    """Year-on-year log growth of a (series × year) frame, NaN where a level is zero."""
    safe = wide.where(wide > 0)
    return np.log(safe).diff(axis=1)


def estimate_break_factors(
    employment: pd.DataFrame,
    break_years: Sequence[int],
    *,
    key: str = "ssyk",
    value: str = "employed",
    min_level: float = 20.0,
) -> pd.DataFrame:
    """Estimate the new/old level ratio of each occupation at each break year.

    Parameters
    ----------
    employment : pandas.DataFrame
        Long table with ``key``, ``year`` and ``value`` (other columns are summed over).
    break_years : sequence of int
        First year on the new basis for each break (e.g. ``[2020, 2023]``).
    key : str, default "ssyk"
        Column identifying the occupation.
    value : str, default "employed"
        Count column.
    min_level : float, default 20
        Occupations smaller than this (in the year before the break) take their group's factor.

    Returns
    -------
    pandas.DataFrame
        ``ssyk, break_year, factor, raw_factor, weight``: multiply years before ``break_year``
        by ``factor`` to put them on the new basis. ``weight`` is the shrinkage weight of the
        occupation's own estimate (1 = own, 0 = group).

    Examples
    --------
    >>> df = pd.DataFrame({"ssyk": "251", "year": range(2018, 2026),
    ...                    "employed": [100, 102, 104, 106, 108, 119, 121, 123]})
    >>> round(float(estimate_break_factors(df, [2023])["factor"].iloc[0]), 2)
    1.08
    """
    wide = employment.groupby([key, "year"])[value].sum().unstack("year").sort_index(axis=1)
    years = list(wide.columns)
    growth = _log_growth(wide)
    rows = []
    for b in sorted(break_years):
        if b not in years or b - 1 not in years:
            continue
        others = [y for y in years[1:] if y not in break_years]
        near = sorted(others, key=lambda y: (abs(y - b), y))[:4]
        base = growth[near].median(axis=1)
        jump = growth[b] - base
        noise = growth[others].var(axis=1, ddof=1)
        group = wide.index.str[:1]
        level = wide[b - 1]
        ok = jump.notna() & (level >= min_level)
        # group estimate: growth of the summed group across the break, minus its typical growth
        gw = wide.groupby(group).sum()
        gg = _log_growth(gw)
        gjump = (gg[b] - gg[near].median(axis=1)).reindex(group).to_numpy()
        tau2 = (
            max(float(np.nanvar(jump[ok]) - np.nanmedian(noise[ok])), 1e-5)
            if ok.sum() > 2
            else 1e-5
        )
        weight = (tau2 / (tau2 + noise)).where(ok, 0.0).fillna(0.0)
        own = jump.fillna(0.0).to_numpy()
        shrunk = weight.to_numpy() * own + (1 - weight.to_numpy()) * np.nan_to_num(gjump)
        rows.append(
            pd.DataFrame(
                {
                    key: wide.index,
                    "break_year": b,
                    "factor": np.exp(shrunk),
                    "raw_factor": np.exp(jump.to_numpy()),
                    "weight": weight.to_numpy(),
                }
            )
        )
    if not rows:
        return pd.DataFrame(columns=[key, "break_year", "factor", "raw_factor", "weight"])
    return pd.concat(rows, ignore_index=True)


def adjust_breaks(
    df: pd.DataFrame,
    factors: pd.DataFrame,
    *,
    key: str = "ssyk",
    value: str = "employed",
) -> pd.DataFrame:
    """Rescale the years before each break by its factor, so history is on the latest basis.

    Parameters
    ----------
    df : pandas.DataFrame
        Long table with ``key``, ``year`` and ``value``.
    factors : pandas.DataFrame
        Output of :func:`estimate_break_factors`.

    Returns
    -------
    pandas.DataFrame
        A copy of ``df`` with ``value`` adjusted (years on or after the last break unchanged).
    """
    out = df.copy()
    if factors.empty:
        return out
    mult = np.ones(len(out))
    for b, f in factors.groupby("break_year"):
        fmap = f.set_index(key)["factor"]
        before = (out["year"] < b).to_numpy()
        mult[before] *= out.loc[before, key].map(fmap).fillna(1.0).to_numpy()
    out[value] = out[value].to_numpy() * mult
    return out

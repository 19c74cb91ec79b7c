"""Replacement demand by the cohort method: exit rates from age-structure panels, applied forward.

Replacement demand (*ersättningsbehov*) counts incumbents who leave an occupation — mainly
retirement — and is reported separately from expansion demand. The method follows BLS and
Cedefop: follow each age band of an occupation from one year to the next, compare the observed
stock with what ageing alone would give, and read the shortfall as exits.

* :func:`estimate_exit_rates` — net exit rate per SSYK group × age band, pooled over years
  (transitions that cross a series break are skipped) and shrunk empirical-Bayes from the
  finest SSYK level towards SSYK 2, 1 and the all-occupation rate.
* :func:`age_structure` — a region's employees per occupation × age band in a base year, with
  the county's age shares as fallback where the region has no age table.
* :func:`project_replacement` — age the stock forward year by year, apply the rates, hold the
  total on the caller's employment path; replacement in year *t* = exits during *t*.
* :func:`replacement_demand`, :func:`replacement_by_year` — the period summary and yearly
  figures at SSYK 3, 2, 1 and ``"total"``, summed so that every level adds up.
* :func:`simulate_replacement` — simulated period totals (exit-rate uncertainty plus Poisson
  noise) to add to simulated expansion paths.
* :func:`older_workforce_share` — the share of workers aged 55+ (the "older workforce").

The conventions (net exits, the 2023 age-range change, fallbacks) are in ``docs/replacement.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from kompetensprognos import regions
from kompetensprognos.classifications import UNKNOWN_SSYK
from kompetensprognos.dataset import Dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.schemas import AGE_BANDS

__all__ = [
    "BREAK_YEARS",
    "OLDER_BANDS",
    "PRIOR_EXIT_RATES",
    "age_structure",
    "dataset_exit_rates",
    "aggregate_ssyk_levels",
    "estimate_exit_rates",
    "older_workforce_share",
    "project_replacement",
    "replacement_by_year",
    "replacement_demand",
    "simulate_replacement",
    "simulate_separations",
]

BREAK_YEARS: tuple[int, ...] = (2023,)
"""First years of a new basis in SCB's age tables: 2023 widened the register to 16–69 and added
model-imputed occupations, so the 2022 → 2023 transition is not a cohort movement."""

OLDER_BANDS: tuple[str, ...] = ("55-59", "60-64", "65-69")
"""Age bands counted in the older-workforce share (55+)."""

PRIOR_EXIT_RATES: dict[str, float] = {
    "16-24": 0.0,
    "25-29": 0.0,
    "30-34": 0.0,
    "35-39": 0.0,
    "40-44": 0.0,
    "45-49": 0.0,
    "50-54": 0.0,
    "55-59": 0.0,
    "60-64": 0.035,
    "65-69": 0.18,
}
"""Age-based prior net exit rate per band, used only when a band has no usable transition at all
(e.g. ``65-69`` in a panel that ends in 2023). Rounded from SCB's national panel
(``employment_ssyk_age_sex_sweden_2014_2024.csv``, all occupations, 2014–2022 and 2023 → 2024)."""

#: Band width in years; a band passes 1/width of its members to the next band each year.
_WIDTH = np.array([9.0 if b == "16-24" else 5.0 for b in AGE_BANDS])
_AGEING = 1.0 / _WIDTH
_N_BANDS = len(AGE_BANDS)
#: Entry age profile used when the rate table has no all-occupation rows to derive one from.
_DEFAULT_ENTRY = np.array([0.45, 0.25, 0.13, 0.07, 0.045, 0.03, 0.015, 0.01, 0.0, 0.0])
#: Cell-years with fewer expected persons do not inform the noise variance (rates explode).
_MIN_VARIANCE_EXPOSURE = 10.0
_TAU2_FLOOR = 1e-6
_RATE_COLUMNS = [
    "ssyk",
    "ssyk_level",
    "age",
    "exit_rate",
    "entry_rate",
    "net_rate",
    "raw_rate",
    "se",
    "exposure",
    "n_obs",
    "weight",
    "source",
]


# --- input normalisation -----------------------------------------------------------------------


def _normalise_age(age: pd.Series) -> pd.Series:
    """Map SCB spellings such as ``"065-69"`` to the contract's ``"65-69"``."""
    mapping = {v: re.sub(r"^0+(?=\d)", "", str(v).strip()) for v in pd.unique(age)}
    out = age.map(mapping)
    bad = sorted(set(mapping.values()) - set(AGE_BANDS))
    if bad:
        raise KompetensprognosError(
            f"employment_age: column `age` has {', '.join(map(repr, bad[:5]))} — age bands must "
            f"be one of {', '.join(AGE_BANDS)}"
        )
    return out


def _prepare(employment_age: pd.DataFrame, where: str = "employment_age") -> pd.DataFrame:
    """Check columns and types, normalise ages and sum over sex."""
    need = ["region", "ssyk", "age", "year", "employed"]
    missing = [c for c in need if c not in employment_age.columns]
    if missing:
        raise KompetensprognosError(
            f"{where}: missing column(s) {', '.join(map(repr, missing))}; expected "
            f"{', '.join(need)} (columns are: {', '.join(map(str, employment_age.columns))})"
        )
    for col in ("region", "ssyk"):
        wrong = [v for v in pd.unique(employment_age[col]) if not isinstance(v, str)]
        if wrong:
            value = wrong[0]
            raise KompetensprognosError(
                f"{where}: column `{col}` has {value!r} — codes must be text such as '2512'"
            )
    df = employment_age[need].copy()
    df["age"] = _normalise_age(df["age"])
    df["year"] = df["year"].astype(int)
    df["employed"] = df["employed"].astype(float)
    return df.groupby(["region", "ssyk", "year", "age"], as_index=False, sort=True)[
        "employed"
    ].sum()


def _code_level(codes: Sequence[str]) -> int:
    levels = {len(c) for c in codes if c != UNKNOWN_SSYK}
    if len(levels) > 1 or not all(c.isdigit() for c in codes):
        raise KompetensprognosError(
            f"employment_age: column `ssyk` mixes levels or holds non-codes "
            f"(lengths {sorted(levels)}) — give one SSYK level, e.g. only SSYK 3 codes such as '251'"
        )
    return levels.pop() if levels else 3


def _ancestor(code: str, level: int) -> str:
    """Level-``level`` group of a code; ``"total"`` at level 0; unknown (0002) rolls into total."""
    if level == 0:
        return "total"
    return code if code == UNKNOWN_SSYK else code[:level]


def _parent(code: str, level: int) -> str:
    """Parent group (one level up) of a level-``level`` group."""
    if level <= 1 or code == UNKNOWN_SSYK:
        return "total"
    return code[: level - 1]


# --- exit rates --------------------------------------------------------------------------------


def _transitions(df: pd.DataFrame, break_years: Sequence[int]) -> pd.DataFrame:
    """Expected (ageing only) and observed stock per region × ssyk × band × transition year."""
    wide = df.pivot_table(
        index=["year", "region", "ssyk"], columns="age", values="employed", aggfunc="sum"
    ).reindex(columns=list(AGE_BANDS))
    years = sorted(df["year"].unique())
    units = wide.index.droplevel("year").unique().sort_values()
    full = pd.MultiIndex.from_tuples(
        [(y, r, s) for y in years for r, s in units], names=["year", "region", "ssyk"]
    )
    arr = wide.reindex(full).to_numpy().reshape(len(years), len(units), _N_BANDS)
    # a band is observed in a year when it has any employees at all (SCB writes 65-69 as zeros
    # before 2023); unobserved bands are NaN, missing cells of observed bands are zeros
    band_total = np.nansum(arr, axis=1)
    observed = band_total > 0
    arr = np.where(observed[:, None, :], np.nan_to_num(arr), np.nan)

    frames = []
    breaks = set(break_years)
    for i in range(len(years) - 1):
        t, t1 = years[i], years[i + 1]
        if t1 != t + 1 or t1 in breaks:
            continue
        prev, nxt = arr[i], arr[i + 1]
        for b in range(_N_BANDS):
            if not (observed[i, b] and observed[i + 1, b]):
                continue
            expected = (1 - _AGEING[b]) * prev[:, b]
            if b > 0 and observed[i, b - 1]:
                expected = expected + _AGEING[b - 1] * prev[:, b - 1]
            frames.append(
                pd.DataFrame(
                    {
                        "region": units.get_level_values(0),
                        "ssyk": units.get_level_values(1),
                        "age": AGE_BANDS[b],
                        "year": t1,
                        "expected": expected,
                        "observed": nxt[:, b],
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=["region", "ssyk", "age", "year", "expected", "observed"])
    out = pd.concat(frames, ignore_index=True)
    return out[out["expected"] > 0]


def _noise_variances(finest: pd.DataFrame) -> tuple[dict[str, float], dict[str, float]]:
    """Per band: noise variance per unit exposure (sigma²) and year-to-year rate variance (kappa).

    ``sigma²``: within an occupation, a year's net rate scatters around the pooled rate with
    variance sigma²/exposure (Poisson-like counting noise, much larger than binomial exit noise).
    ``kappa``: the all-occupation yearly rate varies with the business cycle by more than its
    counting noise; that part does not shrink with size.
    """
    yearly = finest.groupby(["ssyk", "age", "year"], as_index=False)[["expected", "observed"]].sum()
    yearly = yearly[yearly["expected"] >= _MIN_VARIANCE_EXPOSURE]
    pooled = yearly.groupby(["ssyk", "age"])[["expected", "observed"]].transform("sum")
    r_t = 1 - yearly["observed"] / yearly["expected"]
    r_bar = 1 - pooled["observed"] / pooled["expected"]
    yearly = yearly.assign(ss=yearly["expected"] * (r_t - r_bar) ** 2)
    per = yearly.groupby(["ssyk", "age"]).agg(ss=("ss", "sum"), n=("year", "size"))
    per = per[per["n"] >= 2]
    by_band = per.groupby("age").agg(ss=("ss", "sum"), df=("n", lambda n: (n - 1).sum()))
    sigma2 = (by_band["ss"] / by_band["df"]).to_dict()
    fallback_sigma = float(np.median(list(sigma2.values()))) if sigma2 else 1.0

    total = finest.groupby(["age", "year"])[["expected", "observed"]].sum().reset_index()
    kappa: dict[str, float] = {}
    for band, g in total.groupby("age"):
        if len(g) < 3:
            continue
        r = 1 - g["observed"] / g["expected"]
        noise = (sigma2.get(band, fallback_sigma) / g["expected"]).mean()
        kappa[str(band)] = max(float(r.var(ddof=1) - noise), 0.0)
    fallback_kappa = max(kappa.values()) if kappa else 0.0
    for band in AGE_BANDS:
        sigma2.setdefault(band, fallback_sigma)
        kappa.setdefault(band, fallback_kappa)
    return sigma2, kappa


def _between_variance(d2: np.ndarray, v: np.ndarray) -> float:
    """DerSimonian–Laird moment estimate of the between-group variance tau².

    ``d2`` are squared deviations of group rates from their parents' rates, ``v`` the groups'
    sampling variances. Weighting by 1/v keeps small, noisy groups from swamping the estimate
    (an unweighted moment estimate gives tau² = 0 on the demo's 148 occupations).
    """
    if len(d2) < 2:
        return _TAU2_FLOOR
    w = 1.0 / v
    q = float((w * d2).sum())
    denom = float(w.sum() - (w**2).sum() / w.sum())
    return max((q - len(d2)) / denom, _TAU2_FLOOR) if denom > 0 else _TAU2_FLOOR


def estimate_exit_rates(
    employment_age: pd.DataFrame,
    *,
    min_count: float = 30.0,
    break_years: Sequence[int] = BREAK_YEARS,
    prior: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Estimate yearly net exit rates per occupation group and age band from an age panel.

    For each band *b* of an occupation, the stock expected at *t+1* from ageing alone is
    ``(1 - 1/w_b) N_b(t) + (1/w_{b-1}) N_{b-1}(t)`` (band width *w* = 5 years, 9 for 16-24); the
    net exit rate is ``1 - observed / expected``, pooled over years and regions. Transitions into
    a year in ``break_years`` are skipped; a band enters a transition only when it is observed in
    both years, so ``65-69`` (SCB from 2023) is estimated from 2023 → 2024 and, before 2023,
    people ageing out of ``60-64`` simply leave the panel (an exit). Rates are shrunk
    empirical-Bayes (normal–normal, method-of-moments between-group variance) from the finest
    SSYK level towards SSYK 2, 1 and the all-occupation rate; negative net rates (net entry,
    typical at young ages) give ``exit_rate = 0`` and a positive ``entry_rate``.

    Parameters
    ----------
    employment_age : pandas.DataFrame
        ``region, ssyk, age, year, employed`` (optional ``sex``, summed), one SSYK level, regions
        that do not overlap (e.g. only county ``"14"``, or only the four subregions).
        ``"065-69"`` is read as ``"65-69"``.
    min_count : float, default 30
        Groups with less pooled exposure (expected persons summed over years) in a band take
        their parent's rate (weight 0).
    break_years : sequence of int, default (2023,)
        First years on a new basis; transitions into them are not used.
    prior : mapping of str to float, optional
        Net exit rate per band used when a band has no usable transition at all; defaults to
        :data:`PRIOR_EXIT_RATES`.

    Returns
    -------
    pandas.DataFrame
        One row per group × band for levels 0 (``ssyk="total"``) to the input's level:
        ``ssyk, ssyk_level, age, exit_rate, entry_rate, net_rate, raw_rate, se, exposure,
        n_obs, weight, source``. ``net_rate`` is the shrunk signed rate, ``exit_rate`` its
        positive part (clipped at 1), ``se`` its standard error (counting noise, shrinkage and
        year-to-year variation), ``exposure`` the pooled expected stock, ``n_obs`` the number of
        yearly transitions used, ``weight`` the weight on the group's own rate (1 at level 0)
        and ``source`` ``"data"`` or ``"prior"``.

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset  # doctest: +SKIP
    >>> ea = load_dataset("demo").employment_age  # doctest: +SKIP
    >>> rates = estimate_exit_rates(ea[ea["region"] == "14"])  # doctest: +SKIP
    >>> rates.query("ssyk == 'total'")[["age", "exit_rate"]].tail(2)  # doctest: +SKIP
    """
    prior = dict(PRIOR_EXIT_RATES if prior is None else prior)
    df = _prepare(employment_age)
    if df.empty:
        raise KompetensprognosError("employment_age: the table is empty — no rates to estimate")
    level = _code_level(sorted(df["ssyk"].unique()))
    trans = _transitions(df, break_years)
    codes = sorted(df["ssyk"].unique())

    if trans.empty:
        sigma2 = dict.fromkeys(AGE_BANDS, 1.0)
        kappa = dict.fromkeys(AGE_BANDS, 0.0)
    else:
        sigma2, kappa = _noise_variances(trans)

    # pooled exposure and observed per group × band at every level
    stats: dict[int, pd.DataFrame] = {}
    for lev in range(level, -1, -1):
        t = trans.assign(group=[_ancestor(c, lev) for c in trans["ssyk"]])
        if 0 < lev < level:
            t = t[t["group"] != UNKNOWN_SSYK]
        g = t.groupby(["group", "age"]).agg(
            exposure=("expected", "sum"), observed=("observed", "sum"), n_obs=("year", "nunique")
        )
        groups = sorted(
            {_ancestor(c, lev) for c in codes} - ({UNKNOWN_SSYK} if 0 < lev < level else set())
        )
        full = pd.MultiIndex.from_product([groups, list(AGE_BANDS)], names=["group", "age"])
        g = g.reindex(full)
        g["exposure"] = g["exposure"].fillna(0.0)
        g["observed"] = g["observed"].fillna(0.0)
        g["n_obs"] = g["n_obs"].fillna(0).astype(int)
        with np.errstate(divide="ignore", invalid="ignore"):
            g["raw_rate"] = np.where(g["exposure"] > 0, 1 - g["observed"] / g["exposure"], np.nan)
        sig = g.index.get_level_values("age").map(sigma2).to_numpy(float)
        kap = g.index.get_level_values("age").map(kappa).to_numpy(float)
        with np.errstate(divide="ignore"):
            g["v"] = sig / g["exposure"].to_numpy() + kap / np.maximum(g["n_obs"].to_numpy(), 1)
        stats[lev] = g.reset_index()

    # level 0: the pooled rate, or the prior where a band has no data at all
    top = stats[0]
    has = top["exposure"] > 0
    top["net_rate"] = np.where(has, top["raw_rate"], top["age"].map(prior).astype(float))
    top["se2"] = np.where(has, top["v"], (0.25 * top["net_rate"]) ** 2)
    top["weight"] = np.where(has, 1.0, 0.0)
    top["source"] = np.where(has, "data", "prior")
    top["level"] = 0
    done = [top]
    parent = top.set_index(["group", "age"])
    for lev in range(1, level + 1):
        g = stats[lev]
        keys = pd.MultiIndex.from_arrays(
            [[_parent(c, lev) for c in g["group"]], g["age"]], names=["group", "age"]
        )
        p_rate = parent["net_rate"].reindex(keys).to_numpy()
        p_se2 = parent["se2"].reindex(keys).to_numpy()
        p_src = parent["source"].reindex(keys).to_numpy()
        ok = (g["exposure"] >= min_count).to_numpy() & np.isfinite(g["raw_rate"].to_numpy())
        d2 = (g["raw_rate"].to_numpy() - p_rate) ** 2
        tau2 = {}
        for band in AGE_BANDS:
            m = ok & (g["age"] == band).to_numpy()
            tau2[band] = _between_variance(d2[m], g["v"].to_numpy()[m])
        t2 = g["age"].map(tau2).to_numpy(float)
        v = g["v"].to_numpy()
        w = np.where(ok, t2 / (t2 + np.where(ok, v, 1.0)), 0.0)
        raw = np.nan_to_num(g["raw_rate"].to_numpy())
        g["net_rate"] = w * raw + (1 - w) * p_rate
        g["se2"] = w * np.where(ok, v, 0.0) + (1 - w) ** 2 * p_se2
        g["weight"] = w
        g["source"] = np.where(w > 0, "data", p_src)
        g["level"] = lev
        done.append(g)
        parent = g.set_index(["group", "age"])

    out = pd.concat(done, ignore_index=True)
    out = out.rename(columns={"group": "ssyk", "level": "ssyk_level"})
    out["exit_rate"] = out["net_rate"].clip(0.0, 1.0)
    out["entry_rate"] = (-out["net_rate"]).clip(lower=0.0)
    out["se"] = np.sqrt(out["se2"])
    out["age"] = pd.Categorical(out["age"], categories=list(AGE_BANDS), ordered=True)
    out = out.sort_values(["ssyk_level", "ssyk", "age"]).reset_index(drop=True)
    out["age"] = out["age"].astype(str)
    out["ssyk_level"] = out["ssyk_level"].astype(int)
    return out[_RATE_COLUMNS]


# --- age structure -----------------------------------------------------------------------------


#: Prepared age tables by the identity of the raw table (kept alive with it, so an id is never
#: reused while cached); a run reads the same table for every region and call.
_AGE_CACHE: dict[int, tuple[pd.DataFrame, pd.DataFrame]] = {}


def _age_table(dataset: Dataset) -> pd.DataFrame:
    raw = dataset.require("employment_age")
    hit = _AGE_CACHE.get(id(raw))
    if hit is None or hit[0] is not raw:
        if len(_AGE_CACHE) >= 4:
            _AGE_CACHE.pop(next(iter(_AGE_CACHE)))
        hit = (raw, _prepare(raw, "employment_age"))
        _AGE_CACHE[id(raw)] = hit
    return hit[1].copy()


def _to_ssyk3(df: pd.DataFrame) -> pd.DataFrame:
    """Sum SSYK 4 rows to SSYK 3 (the level of the age model); SSYK 3 passes through."""
    level = _code_level(sorted(df["ssyk"].unique()))
    if level < 3:
        raise KompetensprognosError(
            f"employment_age: SSYK level {level} is too coarse — replacement demand needs SSYK 3 "
            "(or SSYK 4, which is summed to SSYK 3)"
        )
    if level == 3:
        return df
    keys = [c for c in df.columns if c != "employed"]
    df = df.assign(ssyk=[_ancestor(c, 3) for c in df["ssyk"]])
    return df.groupby(keys, as_index=False, sort=True)["employed"].sum()


def _full_range_years(table: pd.DataFrame) -> list[int]:
    """Years in which band 65-69 is observed (SCB's 16–69 register, from 2023)."""
    top = table[(table["age"] == AGE_BANDS[-1]) & (table["employed"] > 0)]
    return sorted(int(y) for y in top["year"].unique())


def _county_key(table: pd.DataFrame) -> str:
    present = set(table["region"])
    if regions.VG_COUNTY in present:
        return regions.VG_COUNTY
    if "vastra-gotaland" in present:
        return "vastra-gotaland"
    raise KompetensprognosError(
        "employment_age has no county rows (region '14') to take age shares from; add SCB's "
        "county table (YREG57) or age rows for the region itself"
    )


def _region_rows(table: pd.DataFrame, region: str) -> pd.DataFrame | None:
    """The age rows of ``region`` itself, or ``None`` when only a fallback can give them."""
    present = set(table["region"])
    if region in present:
        return table[table["region"] == region]
    if region == "vastra-gotaland" and regions.VG_COUNTY in present:
        return table[table["region"] == regions.VG_COUNTY]
    if region == "delregionerna" and set(regions.SUBREGION_IDS) <= present:
        sub = table[table["region"].isin(regions.SUBREGION_IDS)]
        return sub.groupby(["ssyk", "year", "age"], as_index=False)["employed"].sum()
    return None


def _region_employment(dataset: Dataset, region: str, year: int) -> pd.Series:
    """Employees per SSYK 3 in ``region`` (a table region or a report region built from
    municipalities) in ``year``, or the latest earlier year."""
    emp = dataset.employment
    if region in set(emp["region"]):
        rows = emp[emp["region"] == region]
    elif region in regions.ALL_REGION_IDS:
        munis = emp[emp["region"].map(regions.is_municipality)]
        rows = regions.aggregate_regions(
            munis[["region", "ssyk", "year", "employed"]], "employed", regions=[region]
        )
    else:
        raise KompetensprognosError(
            f"region {region!r} is neither in employment_age nor in employment; use a region id "
            f"({', '.join(regions.ALL_REGION_IDS)}) or a code present in the data"
        )
    years = sorted(y for y in rows["year"].unique() if y <= year) or sorted(rows["year"].unique())
    rows = rows[rows["year"] == years[-1]]
    rows = _to_ssyk3(rows[["ssyk", "employed"]].assign(year=years[-1]))
    return rows.groupby("ssyk")["employed"].sum()


def age_structure(dataset: Dataset, region: str, year: int | None = None) -> pd.DataFrame:
    """Employees per SSYK 3 occupation and age band in a region and base year.

    ``vastra-gotaland`` reads county ``"14"``; ``delregionerna`` sums the four subregions. A
    region without age rows of its own (a municipality, or any region when the data has age
    only by county, as SCB publishes it) gets the county's age shares per occupation applied to
    its own employment in that year (the county's all-occupation shares for occupations the
    county table lacks).

    Parameters
    ----------
    dataset : Dataset
        Needs ``employment_age``; ``employment`` is used for the county-share fallback.
    region : str
        Region id (:data:`kompetensprognos.regions.ALL_REGION_IDS`) or a code in the data.
    year : int, optional
        Base year; defaults to the latest year of the age table.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, age, employed, year``; bands not observed in that year (65-69 before
        2023) are absent.

    Examples
    --------
    >>> s = age_structure(load_dataset("demo"), "skaraborg", 2024)  # doctest: +SKIP
    >>> s.groupby("age")["employed"].sum().tail(2)  # doctest: +SKIP
    """
    table = _to_ssyk3(_age_table(dataset))
    if year is None:
        year = int(table["year"].max())
    if year not in set(table["year"]):
        raise KompetensprognosError(
            f"employment_age has no year {year}; years are {int(table['year'].min())}–"
            f"{int(table['year'].max())}"
        )
    table = table[table["year"] == year]
    table = table[table["age"].isin(_bands_observed(table))]
    own = _region_rows(table, region)
    if own is not None:
        out = own.groupby(["ssyk", "age"], as_index=False)["employed"].sum()
    else:
        county = table[table["region"] == _county_key(table)]
        wide = county.pivot_table(index="ssyk", columns="age", values="employed", aggfunc="sum")
        wide = wide.reindex(columns=[b for b in AGE_BANDS if b in wide.columns]).fillna(0.0)
        overall = wide.sum() / wide.to_numpy().sum()
        emp = _region_employment(dataset, region, year)
        row_sum = wide.sum(axis=1).replace(0.0, np.nan)
        shares = wide.div(row_sum, axis=0).reindex(emp.index)
        lacking = shares.isna().any(axis=1).to_numpy()
        shares.loc[lacking] = np.tile(overall.to_numpy(), (int(lacking.sum()), 1))
        out = shares.mul(emp, axis=0).stack().rename("employed").reset_index()
        out.columns = ["ssyk", "age", "employed"]
    out = out.assign(region=region, year=int(year))
    out["age"] = pd.Categorical(out["age"], categories=list(AGE_BANDS), ordered=True)
    out = out.sort_values(["ssyk", "age"]).reset_index(drop=True)
    out["age"] = out["age"].astype(str)
    return out[["region", "ssyk", "age", "employed", "year"]]


def _bands_observed(table: pd.DataFrame) -> list[str]:
    totals = table.groupby("age")["employed"].sum()
    return [b for b in AGE_BANDS if totals.get(b, 0.0) > 0]


def older_workforce_share(dataset: Dataset, region: str, year: int | None = None) -> pd.DataFrame:
    """Share of employees aged 55 and over per occupation (the older-workforce indicator).

    Parameters
    ----------
    dataset : Dataset
    region : str
    year : int, optional
        Defaults to the latest year of the age table. Before 2023 the register stops at 64,
        so the share then means 55–64 of 16–64.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, share_55plus, employed`` at SSYK 3 (``share_55plus`` is NaN where an
        occupation has no employees).

    Examples
    --------
    >>> older_workforce_share(load_dataset("demo"), "fyrbodal").head(2)  # doctest: +SKIP
    """
    s = age_structure(dataset, region, year)
    s = s.assign(older=np.where(s["age"].isin(OLDER_BANDS), s["employed"], 0.0))
    g = s.groupby("ssyk", as_index=False)[["older", "employed"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        g["share_55plus"] = np.where(g["employed"] > 0, g["older"] / g["employed"], np.nan)
    g.insert(0, "region", region)
    return g[["region", "ssyk", "share_55plus", "employed"]]


# --- projection --------------------------------------------------------------------------------


def _lookup(
    rates: pd.DataFrame, codes: Sequence[str], bands: Sequence[str], column: str
) -> np.ndarray:
    """``column`` of the rate table per code × band, falling back to the nearest ancestor group,
    then ``"total"``, then :data:`PRIOR_EXIT_RATES` (``net_rate``/``exit_rate``) or 0."""
    table = dict(zip(zip(rates["ssyk"], rates["age"], strict=True), rates[column], strict=True))
    out = np.zeros((len(codes), len(bands)))
    for i, code in enumerate(codes):
        chain = [code] + [_ancestor(code, lev) for lev in range(len(code) - 1, -1, -1)]
        for j, band in enumerate(bands):
            for key in chain:
                value = table.get((key, band))
                if value is not None and np.isfinite(value):
                    out[i, j] = value
                    break
            else:
                out[i, j] = PRIOR_EXIT_RATES[band] if column in ("net_rate", "exit_rate") else 0.0
    return out


def _entry_profile(rates: pd.DataFrame, bands: Sequence[str]) -> np.ndarray:
    """Where entrants start, by band: the all-occupation net entries (entry rate × exposure)."""
    top = rates[rates["ssyk"] == "total"].set_index("age")
    if {"entry_rate", "exposure"} <= set(top.columns):
        weights = (top["entry_rate"] * top["exposure"]).reindex(list(bands)).fillna(0.0)
        if weights.sum() > 0:
            return (weights / weights.sum()).to_numpy()
    default = pd.Series(_DEFAULT_ENTRY, index=list(AGE_BANDS)).reindex(list(bands)).to_numpy()
    return default / default.sum()


def _project(
    stock: np.ndarray, rates: np.ndarray, entry: np.ndarray, targets: np.ndarray
) -> np.ndarray:
    """Exits per year. ``stock``/``rates``: [..., unit, band]; ``targets``: [year, unit] totals at
    the end of each year. Returns [..., year, unit]."""
    n_b = stock.shape[-1]
    ageing = _AGEING[:n_b]
    rates = np.clip(rates, 0.0, 1.0)
    shape = np.broadcast_shapes(stock.shape, rates.shape)
    out = np.zeros((*shape[:-2], targets.shape[0], shape[-2]))
    cur = np.broadcast_to(stock.astype(float), shape).copy()
    for k in range(targets.shape[0]):
        # age first, then apply the band's rate to the aged stock: the same convention as the
        # estimate (1 - observed / expected-from-ageing); everyone ageing out of the oldest band
        # leaves (65-69 → 70; 60-64 → 65 when the structure is from the 16–64 register)
        moving = cur * ageing
        aged = cur - moving
        aged[..., 1:] += moving[..., :-1]
        out[..., k, :] = (aged * rates).sum(axis=-1) + moving[..., -1]
        nxt = aged * (1 - rates)
        size = nxt.sum(axis=-1)
        gap = targets[k] - size
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink = np.where(size > 0, targets[k] / size, 0.0)
        cur = np.where(
            (gap >= 0)[..., None],
            nxt + np.maximum(gap, 0)[..., None] * entry,
            nxt * shrink[..., None],
        )
    return out


def _setup(
    structure: pd.DataFrame, start: int, end: int, totals: pd.DataFrame | None
) -> tuple[pd.MultiIndex, list[str], np.ndarray, np.ndarray]:
    """Units (region, ssyk), bands, starting stock [unit, band] and targets [year, unit]."""
    if end < start:
        raise KompetensprognosError(f"end year {end} is before start year {start}")
    df = structure.copy()
    df["age"] = _normalise_age(df["age"])
    wide = df.pivot_table(index=["region", "ssyk"], columns="age", values="employed", aggfunc="sum")
    present = [b for b in AGE_BANDS if b in wide.columns]
    bands = list(AGE_BANDS[: AGE_BANDS.index(present[-1]) + 1])
    stock = wide.reindex(columns=bands).fillna(0.0)
    units = stock.index
    base = stock.sum(axis=1).to_numpy()
    years = list(range(start - 1, end + 1))
    level = np.tile(base, (len(years), 1))
    if totals is not None:
        need = {"region", "ssyk", "year", "employed"} - set(totals.columns)
        if need:
            raise KompetensprognosError(
                f"totals: missing column(s) {', '.join(sorted(need))}; expected region, ssyk, "
                "year, employed at SSYK 3"
            )
        path = totals.pivot_table(
            index=["region", "ssyk"], columns="year", values="employed", aggfunc="sum"
        )
        path = path.reindex(index=units, columns=years).T  # [year, unit]
        # years before the path starts keep the structure's level; gaps hold the last value
        level = path.ffill().fillna(pd.DataFrame(level, index=years, columns=units)).to_numpy()
    start_level = level[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(base > 0, start_level / base, 0.0)
    return units, bands, stock.to_numpy() * scale[:, None], level[1:]


def project_replacement(
    structure: pd.DataFrame,
    rates: pd.DataFrame,
    start: int,
    end: int,
    totals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Project yearly replacement demand (exits of incumbents) from an age structure.

    Each year 1/width of every band moves up a band (those ageing out of the oldest band — 65-69,
    or 60-64 for a 16–64 structure — leave), then every band loses ``aged stock × exit_rate``
    (the convention of :func:`estimate_exit_rates`).
    Entrants then fill the gap to the year's total, placed by the all-occupation entry-age
    profile of ``rates``; when the total falls, all bands shrink proportionally (a fall in
    employment is negative expansion, not replacement).

    Parameters
    ----------
    structure : pandas.DataFrame
        ``region, ssyk, age, employed`` (from :func:`age_structure`): the stock at the start of
        ``start`` (rescaled to ``totals`` at ``start - 1`` when given).
    rates : pandas.DataFrame
        From :func:`estimate_exit_rates`; codes missing there take their nearest ancestor's rate.
    start, end : int
        First and last projection year (inclusive).
    totals : pandas.DataFrame, optional
        ``region, ssyk, year, employed`` at SSYK 3: the employment path (end-of-year levels).
        Without it the totals are held constant; years missing from it hold the last value.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, year, replacement`` at SSYK 3 for ``start..end``; replacement in year *t*
        is the number of exits during *t*.

    Examples
    --------
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> rates = estimate_exit_rates(ds.employment_age.query("region == '14'"))  # doctest: +SKIP
    >>> project_replacement(age_structure(ds, "fyrbodal"), rates, 2025, 2030)  # doctest: +SKIP
    """
    units, bands, stock, targets = _setup(structure, start, end, totals)
    codes = list(units.get_level_values("ssyk"))
    r = _lookup(rates, codes, bands, "exit_rate")
    exits = _project(stock, r, _entry_profile(rates, bands), targets)
    years = np.arange(start, end + 1)
    return pd.DataFrame(
        {
            "region": np.tile(units.get_level_values("region"), len(years)),
            "ssyk": np.tile(codes, len(years)),
            "year": np.repeat(years, len(units)),
            "replacement": exits.reshape(-1),
        }
    ).sort_values(["region", "ssyk", "year"], ignore_index=True)


def aggregate_ssyk_levels(frame: pd.DataFrame, value_cols: str | Sequence[str]) -> pd.DataFrame:
    """Add SSYK 2, SSYK 1 and ``"total"`` rows by summing finest-level rows.

    Parameters
    ----------
    frame : pandas.DataFrame
        Long table with one SSYK level in ``ssyk``; every column other than ``ssyk`` and
        ``value_cols`` is a key.
    value_cols : str or sequence of str

    Returns
    -------
    pandas.DataFrame
        The input rows and their sums, with ``ssyk_level`` (0 = ``"total"``) after ``ssyk``.

    Examples
    --------
    >>> df = pd.DataFrame({"ssyk": ["251", "252"], "replacement": [1.0, 2.0]})
    >>> aggregate_ssyk_levels(df, "replacement")["ssyk"].tolist()
    ['total', '2', '25', '251', '252']
    """
    values = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    keys = [c for c in frame.columns if c not in ("ssyk", *values)]
    level = _code_level(sorted(frame["ssyk"].unique()))
    parts = []
    for lev in range(level, -1, -1):
        part = frame.assign(ssyk=[_ancestor(c, lev) for c in frame["ssyk"]], ssyk_level=lev)
        if lev < level:
            part = part.groupby([*keys, "ssyk", "ssyk_level"], as_index=False, sort=False)[
                values
            ].sum()
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values([*keys, "ssyk_level", "ssyk"], ignore_index=True)
    return out[[*keys, "ssyk", "ssyk_level", *values]]


# --- dataset-level entry points ----------------------------------------------------------------

_RATE_CACHE: dict[int, pd.DataFrame] = {}


def _estimation_panel(table: pd.DataFrame) -> pd.DataFrame:
    """The rows rates are estimated on: the county when present (largest single region, no
    double counting with its subregions), else every region in the table."""
    present = set(table["region"])
    for key in (regions.VG_COUNTY, "vastra-gotaland"):
        if key in present:
            return table[table["region"] == key]
    return table


def dataset_exit_rates(dataset: Dataset) -> pd.DataFrame:
    """Exit rates estimated on a dataset's age table (county rows when present), cached by content.

    Examples
    --------
    >>> rates = dataset_exit_rates(load_dataset("demo"))  # doctest: +SKIP
    """
    table = _to_ssyk3(_age_table(dataset))
    key = int(pd.util.hash_pandas_object(table, index=False).sum())
    if key not in _RATE_CACHE:
        _RATE_CACHE[key] = estimate_exit_rates(_estimation_panel(table))
    return _RATE_CACHE[key].copy()


def _base_year(dataset: Dataset, start: int, end: int | None = None) -> int:
    """The latest full-range (16–69) year before ``start``; else, when the period reaches a
    full-range year (or ``end`` is not given), the earliest full-range year; else (a period wholly
    on the 16–64 register, e.g. observed years before 2023, or a 16–64-only table) the latest
    year before ``start``."""
    table = _age_table(dataset)
    full = _full_range_years(table)
    before = [y for y in full if y <= start - 1]
    if before:
        return before[-1]
    if full and (end is None or end >= full[0]):
        return full[0]
    years = sorted(int(y) for y in table["year"].unique())
    return max([y for y in years if y <= start - 1] or years[:1])


def replacement_by_year(
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    totals: pd.DataFrame | None = None,
    *,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Yearly replacement demand of a region at SSYK 3, 2, 1 and ``"total"``.

    Parameters
    ----------
    dataset : Dataset
    region : str
    start, end : int, default 2023, 2030
    totals : pandas.DataFrame, optional
        ``region, ssyk, year, employed`` at SSYK 3 (the demand forecast); constant without it.
    rates : pandas.DataFrame, optional
        Exit rates; default :func:`dataset_exit_rates`.

    Returns
    -------
    pandas.DataFrame
        ``region, year, ssyk, ssyk_level, replacement``.

    Examples
    --------
    >>> replacement_by_year(load_dataset("demo"), "skaraborg").head()  # doctest: +SKIP
    """
    rates = dataset_exit_rates(dataset) if rates is None else rates
    structure = age_structure(dataset, region, _base_year(dataset, start, end))
    annual = project_replacement(structure, rates, start, end, totals)
    return aggregate_ssyk_levels(annual, "replacement")


def replacement_demand(
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    totals: pd.DataFrame | None = None,
    *,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Replacement demand of a region summed over a period, at SSYK 3, 2, 1 and ``"total"``.

    The base age structure is the latest year with SCB's full 16–69 range before ``start``
    (else the first such year; 2023 for the default outlook), scaled to ``totals`` at
    ``start - 1`` when given, then projected with :func:`project_replacement`.

    Parameters
    ----------
    dataset : Dataset
        Needs ``employment_age`` (and ``employment`` for regions without age rows).
    region : str
        Region id, e.g. ``"skaraborg"``, ``"vastra-gotaland"``, ``"delregionerna"``.
    start, end : int, default 2023, 2030
        The outlook period (inclusive).
    totals : pandas.DataFrame, optional
        ``region, ssyk, year, employed`` at SSYK 3: the employment path; constant without it.
    rates : pandas.DataFrame, optional
        Exit rates; default :func:`dataset_exit_rates` (estimated on the county's age table).

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, ssyk_level, period_start, period_end, replacement``; each level sums to
        the ``"total"`` row.

    Examples
    --------
    >>> out = replacement_demand(load_dataset("demo"), "skaraborg")  # doctest: +SKIP
    >>> out.query("ssyk == 'total'")["replacement"]  # doctest: +SKIP
    """
    yearly = replacement_by_year(dataset, region, start, end, totals, rates=rates)
    out = yearly.groupby(["region", "ssyk", "ssyk_level"], as_index=False, sort=False)[
        "replacement"
    ].sum()
    out = out.assign(period_start=int(start), period_end=int(end))
    out = out.sort_values(["ssyk_level", "ssyk"], ignore_index=True)
    return out[["region", "ssyk", "ssyk_level", "period_start", "period_end", "replacement"]]


def simulate_replacement(
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    n_sims: int = 500,
    seed: int = 0,
    totals: pd.DataFrame | None = None,
    *,
    rates: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Simulated period replacement totals per SSYK 3 occupation.

    Each draw takes every occupation × band net exit rate from a normal distribution around the
    estimate with its standard error (``se``: counting noise, shrinkage and year-to-year
    variation), clipped to [0, 1], projects the period, and adds Poisson noise to the period
    total (people leave one by one). Draws are independent across occupations and bands.

    Parameters
    ----------
    dataset : Dataset
    region : str
    start, end : int
    n_sims : int, default 500
    seed : int, default 0
    totals : pandas.DataFrame, optional
        As in :func:`replacement_demand`.
    rates : pandas.DataFrame, optional
        As in :func:`replacement_demand`.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, sim, replacement`` (long, ``sim`` = 0 … n_sims − 1).

    Examples
    --------
    >>> sims = simulate_replacement(load_dataset("demo"), "fyrbodal", n_sims=200)  # doctest: +SKIP
    >>> sims.groupby("sim")["replacement"].sum().quantile([0.1, 0.9])  # doctest: +SKIP
    """
    if n_sims < 1:
        raise KompetensprognosError(f"n_sims must be at least 1, got {n_sims}")
    rates = dataset_exit_rates(dataset) if rates is None else rates
    structure = age_structure(dataset, region, _base_year(dataset, start, end))
    units, bands, stock, targets = _setup(structure, start, end, totals)
    codes = list(units.get_level_values("ssyk"))
    mean = _lookup(rates, codes, bands, "net_rate")
    se = _lookup(rates, codes, bands, "se")
    rng = np.random.default_rng(seed)
    draws = np.clip(mean + se * rng.standard_normal((n_sims, *mean.shape)), 0.0, 1.0)
    exits = _project(stock[None], draws, _entry_profile(rates, bands), targets).sum(axis=-2)
    totals_sim = rng.poisson(np.maximum(exits, 0.0)).astype(float)  # [sim, unit]
    return pd.DataFrame(
        {
            "region": np.tile(units.get_level_values("region"), n_sims),
            "ssyk": np.tile(codes, n_sims),
            "sim": np.repeat(np.arange(n_sims), len(units)),
            "replacement": totals_sim.reshape(-1),
        }
    )


def simulate_separations(
    dataset: Dataset,
    region: str,
    codes: Sequence[str],
    paths: np.ndarray,
    start: int,
    *,
    seed: int = 0,
    rates: pd.DataFrame | None = None,
) -> np.ndarray:
    """Simulated yearly separations along simulated employment paths (SSYK 3).

    The path-by-path companion of :func:`project_replacement`: every draw takes each
    occupation × band exit rate from a lognormal distribution with the estimate's mean
    (``exit_rate``) and standard error (``se``), capped at 1 — so the simulated separations are
    centred on the point projection, unlike a normal draw clipped at zero — ages the
    region's base structure (rescaled to the draw's employment in ``start - 1``) along the
    draw's employment path, and adds Poisson noise to each year's exits.

    Parameters
    ----------
    dataset : Dataset
    region : str
    codes : sequence of str
        SSYK 3 codes (the columns of the last axis of ``paths``).
    paths : numpy.ndarray
        Employment at the end of each year ``start - 1 .. end``, shape
        ``(n_sims, n_years + 1, len(codes))``.
    start : int
        First year of separations.
    seed : int, default 0
    rates : pandas.DataFrame, optional
        Exit rates; default :func:`dataset_exit_rates`.

    Returns
    -------
    numpy.ndarray
        Separations ``(n_sims, n_years, len(codes))``; occupations without an age structure
        get none (as in :func:`replacement_demand`).

    Examples
    --------
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> paths = np.full((10, 9, 1), 500.0)  # doctest: +SKIP
    >>> simulate_separations(ds, "fyrbodal", ["251"], paths, 2023).shape  # doctest: +SKIP
    (10, 8, 1)
    """
    paths = np.asarray(paths, float)
    n_sims, n_years = paths.shape[0], paths.shape[1] - 1
    end = start + n_years - 1
    rates = dataset_exit_rates(dataset) if rates is None else rates
    structure = age_structure(dataset, region, _base_year(dataset, start, end))
    units, bands, stock, _ = _setup(structure, start, end, None)
    have = list(units.get_level_values("ssyk"))
    pos = {c: i for i, c in enumerate(have)}
    cols = np.array([pos.get(c, -1) for c in codes])
    found = cols >= 0
    out = np.zeros((n_sims, n_years, len(codes)))
    if not found.any():
        return out
    sel = cols[found]
    base = stock[sel]
    with np.errstate(divide="ignore", invalid="ignore"):
        shares = np.nan_to_num(base / base.sum(axis=1, keepdims=True))
    sub = paths[:, :, found]  # [sim, year, unit]
    start_stock = sub[:, 0, :, None] * shares[None]  # [sim, unit, band]
    mean = _lookup(rates, [have[i] for i in sel], bands, "exit_rate")
    se = _lookup(rates, [have[i] for i in sel], bands, "se")
    rng = np.random.default_rng(seed)
    # mean-preserving lognormal draws around the exit rate: clipping N(net, se) at zero would
    # lift bands whose net rate is about 0 and move the simulated centre above the point
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(mean > 0, np.log1p((se / mean) ** 2), 0.0)
    z = rng.standard_normal((n_sims, *mean.shape))
    draws = np.minimum(mean * np.exp(np.sqrt(s2) * z - s2 / 2), 1.0)
    targets = np.moveaxis(sub[:, 1:, :], 1, 0)  # [year, sim, unit]
    exits = _project(start_stock, draws, _entry_profile(rates, bands), targets)
    out[:, :, found] = rng.poisson(np.maximum(exits, 0.0)).astype(float)
    return out

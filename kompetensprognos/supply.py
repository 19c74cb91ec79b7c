"""New-entrant supply per region, occupation and year: graduates who enter work and stay.

``new_entrants[r, o, t] = Σ_e graduates[r, e, t] × entry[e] × retention[r, e] × share[e, o]``

* **graduates** — projected by :func:`kompetensprognos.education.project_graduates` per base
  region (the regions of the dataset's ``education_output``), with simulated paths;
* **entry** — share of graduates who enter the labour market rather than study further;
* **retention** — share who stay in the region; both in :class:`SupplyParams` with documented
  defaults per education type, overridable per region and per education code;
* **share** — the dataset's crosswalk (education → SSYK). Educations without crosswalk rows go
  to ``"0002"`` (*yrke okänt*), so no person is lost or created.

Derived regions: when ``education_output`` is given per subregion, ``delregionerna`` is the
sum of the four subregions and ``vastra-gotaland`` (county 14, without Kungsbacka) is that sum
minus Kungsbacka's share of Göteborgsregionen, taken as Kungsbacka's share of the region's
population aged 16–24 in each year (an approximation: see ``docs/supply.md``). When the table is
given per municipality, every region is summed exactly with
:func:`kompetensprognos.regions.aggregate_regions` and projected directly.

Intervals come from simulated graduate paths pushed through the same arithmetic;
:func:`simulate_supply` returns the paths for the balance step.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kompetensprognos import classifications, regions
from kompetensprognos.config import (
    DEFAULT_RETENTION,
    EntryShares,
    RetentionShares,
    SupplyParams,
    education_groups_of,
)
from kompetensprognos.dataset import Dataset
from kompetensprognos.education import (
    DEFAULT_METHOD,
    GraduateProjection,
    backtest_graduates,
    project_graduates,
)
from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "DEFAULT_RETENTION",
    "EntryShares",
    "RetentionShares",
    "SupplyParams",
    "education_groups_of",
    "education_output_table",
    "region_weights",
    "simulate_supply",
    "supply_backtest_table",
    "supply_by_education_table",
    "supply_table",
    "supply_tables",
]

#: Age band whose population splits Kungsbacka off Göteborgsregionen for the county total.
KUNGSBACKA_AGES: tuple[int, int] = (16, 24)

# --- regions -----------------------------------------------------------------------------------


def region_weights(projection: GraduateProjection, region: str) -> pd.DataFrame:
    """Weights that build a region's graduates from the projection's base regions, per year.

    A base region maps to itself; ``delregionerna`` sums the four subregions;
    ``vastra-gotaland`` sums them with Göteborgsregionen weighted by ``1 − k[t]``, ``k[t]`` being
    Kungsbacka's share of Göteborgsregionen's population aged 16–24 in year ``t``.

    Returns
    -------
    pandas.DataFrame
        ``base, year, weight`` for every year of the history and the forecast.

    Examples
    --------
    >>> w = region_weights(proj, "vastra-gotaland")  # doctest: +SKIP
    >>> sorted(w["base"].unique())  # doctest: +SKIP
    ['fyrbodal', 'goteborgsregionen', 'sjuharad', 'skaraborg']
    """
    regions.get_region(region)
    base = set(projection.history["region"])
    years = np.r_[np.sort(projection.history["year"].unique()), projection.years]
    years = np.unique(years)

    def const(parts: list[str]) -> pd.DataFrame:
        return pd.DataFrame(
            [(b, int(y), 1.0) for b in parts for y in years], columns=["base", "year", "weight"]
        )

    if region in base:
        return const([region])
    subs = list(regions.SUBREGION_IDS)
    missing = [s for s in subs if s not in base]
    if region not in ("delregionerna", "vastra-gotaland") or missing:
        raise KompetensprognosError(
            f"education_output has no rows for region {region!r} and it cannot be built from "
            f"the regions present ({', '.join(sorted(base))}); give education_output per "
            "municipality or per subregion"
        )
    w = const(subs)
    if region == "vastra-gotaland":
        pop = projection.population
        if pop is None:
            raise KompetensprognosError("the projection has no population table")
        sel = pop[(pop["age"] >= KUNGSBACKA_AGES[0]) & (pop["age"] <= KUNGSBACKA_AGES[1])]
        by = sel.groupby(["region", "year"])["population"].sum()
        k = (by.loc[regions.KUNGSBACKA] / by.loc["goteborgsregionen"]).reindex(years)
        k = k.ffill().bfill()
        gr = w["base"] == "goteborgsregionen"
        w.loc[gr, "weight"] = 1.0 - w.loc[gr, "year"].map(k).to_numpy()
    return w


def _region_graduates(
    projection: GraduateProjection, region: str
) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """History, point forecast (long) and draws ``(n_edu, n_sims, n_years)`` for a region."""
    w = region_weights(projection, region)
    keys = ["type", "education"]

    def combine(df: pd.DataFrame) -> pd.DataFrame:
        m = df.merge(w, left_on=["region", "year"], right_on=["base", "year"])
        m["graduates"] = m["graduates"] * m["weight"]
        out = m.groupby([*keys, "year"], as_index=False)["graduates"].sum()
        return out.assign(region=region)

    hist, fc = combine(projection.history), combine(projection.forecast)
    series = projection.series
    edus = series[keys].drop_duplicates().sort_values(keys).reset_index(drop=True)
    pos = {tuple(r): i for i, r in enumerate(edus.itertuples(index=False))}
    wmat = w.pivot(index="base", columns="year", values="weight")
    n_sims = projection.draws.shape[1]
    draws = np.zeros((len(edus), n_sims, len(projection.years)))
    for i, row in enumerate(series.itertuples(index=False)):
        if row.region not in wmat.index:
            continue
        wt = wmat.loc[row.region].reindex(projection.years).to_numpy()
        draws[pos[(row.type, row.education)]] += projection.draws[i] * wt[None, :]
    fc = edus.merge(fc, on=keys, how="left")
    return hist, fc, draws


def _crosswalk_matrix(
    dataset: Dataset, educations: pd.DataFrame, level: int | None
) -> tuple[list[str], np.ndarray]:
    """SSYK codes and matrix ``S[o, e]`` of shares (columns sum to 1)."""
    cw = dataset.require("crosswalk")[["type", "education", "ssyk", "share"]].copy()
    if level is not None:
        cw["ssyk"] = classifications.ssyk_ancestors(cw["ssyk"], level)
        cw = cw.groupby(["type", "education", "ssyk"], as_index=False)["share"].sum()
    key = educations["type"] + "/" + educations["education"]
    cw["key"] = cw["type"] + "/" + cw["education"]
    # normalise: the contract allows a rounding tolerance; shares must sum to exactly 1 here
    cw["share"] = cw["share"] / cw.groupby("key")["share"].transform("sum")
    unmapped = sorted(set(key) - set(cw["key"]))
    if unmapped:
        extra = pd.DataFrame({"key": unmapped, "ssyk": classifications.UNKNOWN_SSYK, "share": 1.0})
        cw = pd.concat([cw, extra], ignore_index=True)
    cw = cw[cw["key"].isin(set(key))]
    codes = sorted(cw["ssyk"].unique())
    mat = (
        cw.pivot_table(index="ssyk", columns="key", values="share", aggfunc="sum")
        .reindex(index=codes, columns=key.to_numpy())
        .fillna(0.0)
    )
    return codes, mat.to_numpy()


# --- public tables -----------------------------------------------------------------------------


def _projection(
    dataset: Dataset, end_year: int, n_sims: int, seed: int, projection: GraduateProjection | None
) -> GraduateProjection:
    if projection is not None:
        if int(projection.years[-1]) < end_year:
            raise KompetensprognosError(
                f"the projection ends in {projection.years[-1]}, before end_year {end_year}"
            )
        return projection
    return project_graduates(dataset, end_year, n_sims=n_sims, seed=seed, method=DEFAULT_METHOD)


def _bounds(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """10 % and 90 % quantiles over the simulation axis (axis 1)."""
    lo, hi = np.quantile(draws, [0.1, 0.9], axis=1)
    return lo, hi


def _observed_graduates(hist: pd.DataFrame, edus: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Observed graduates ``(n_edu, n_years)`` of the region's history and their years.

    Rows follow ``edus`` (the projected educations); an education without a row in a year has 0.
    """
    years = np.sort(hist["year"].unique()).astype(int)
    obs = (
        hist.pivot_table(
            index=["type", "education"], columns="year", values="graduates", aggfunc="sum"
        )
        .reindex(pd.MultiIndex.from_frame(edus[["type", "education"]]), columns=years)
        .fillna(0.0)
        .to_numpy()
    )
    return obs, years


def education_output_table(
    dataset: Dataset,
    region: str,
    params: SupplyParams | None = None,
    *,
    end_year: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    projection: GraduateProjection | None = None,
) -> pd.DataFrame:
    """Graduates per education and year, observed and projected (``education_output.csv``).

    Parameters
    ----------
    dataset : Dataset
    region : str
        Region id.
    params : SupplyParams, optional
        Not used (graduates do not depend on entry or retention); accepted so every table
        function has the same signature.
    end_year : int, default 2030
    n_sims : int, default 1000
    seed : int, default 0
    projection : GraduateProjection, optional
        Reuse a projection (as :func:`supply_tables` does).

    Returns
    -------
    pandas.DataFrame
        ``region, education, type, year, graduates, graduates_lo80, graduates_hi80, kind``;
        ``kind`` is ``observed`` (bounds equal the value) or ``forecast`` (80 % interval from the
        simulated paths; the point is the model forecast).

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> t = education_output_table(load_dataset("demo"), "fyrbodal", n_sims=100)  # doctest: +SKIP
    >>> t["kind"].unique().tolist()  # doctest: +SKIP
    ['observed', 'forecast']
    """
    proj = _projection(dataset, end_year, n_sims, seed, projection)
    hist, fc, draws = _region_graduates(proj, region)
    lo, hi = _bounds(draws)
    n_years = int(end_year) - proj.last_observed
    years = proj.years[:n_years]
    edus = fc[["type", "education"]].drop_duplicates().reset_index(drop=True)
    f = pd.DataFrame(
        {
            "type": np.repeat(edus["type"].to_numpy(), n_years),
            "education": np.repeat(edus["education"].to_numpy(), n_years),
            "year": np.tile(years, len(edus)),
            "graduates_lo80": lo[:, :n_years].ravel(),
            "graduates_hi80": hi[:, :n_years].ravel(),
        }
    )
    f = f.merge(fc[["type", "education", "year", "graduates"]], on=["type", "education", "year"])
    f["graduates_lo80"] = np.minimum(f["graduates_lo80"], f["graduates"])
    f["graduates_hi80"] = np.maximum(f["graduates_hi80"], f["graduates"])
    f["kind"] = "forecast"
    h = hist.assign(graduates_lo80=hist["graduates"], graduates_hi80=hist["graduates"])
    out = pd.concat([h.assign(kind="observed"), f], ignore_index=True).assign(region=region)
    cols = ["region", "education", "type", "year", "graduates", "graduates_lo80",
            "graduates_hi80", "kind"]  # fmt: skip
    out = out.sort_values(["type", "education", "year"], kind="stable").reset_index(drop=True)
    return out[cols]


def simulate_supply(
    dataset: Dataset,
    region: str,
    params: SupplyParams | None = None,
    *,
    end_year: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    level: int | None = None,
    by: str = "ssyk",
    projection: GraduateProjection | None = None,
    include_observed: bool = False,
) -> pd.DataFrame:
    """Simulated new-entrant paths (long frame of draws), for the balance step.

    Parameters
    ----------
    dataset : Dataset
    region : str
    params : SupplyParams, optional
        Defaults to ``SupplyParams()``.
    end_year, n_sims, seed
        Projection settings.
    level : {1, 2, 3, 4}, optional
        SSYK level to aggregate to (default: the crosswalk's own level).
    by : {"ssyk", "education"}, default "ssyk"
        Draws per occupation or per education.
    projection : GraduateProjection, optional
        Reuse a projection.
    include_observed : bool, default False
        Also return the observed years (observed graduates × entry × retention, the same value
        in every path), so a period reaching back before the first forecast year can be summed.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, year, sim, new_entrants`` (or ``region, type, education, year, sim,
        new_entrants`` with ``by="education"``); ``sim`` numbers the path (0..n_sims-1) and
        path ``s`` is the same graduate path for every occupation.

    Examples
    --------
    >>> d = simulate_supply(load_dataset("demo"), "skaraborg", n_sims=20)  # doctest: +SKIP
    >>> d.groupby(["ssyk", "year"]).size().max()  # doctest: +SKIP
    20
    """
    params = params or SupplyParams()
    proj = _projection(dataset, end_year, n_sims, seed, projection)
    hist, fc, draws = _region_graduates(proj, region)
    n_years = int(end_year) - proj.last_observed
    draws = draws[:, :, :n_years]
    years = proj.years[:n_years]
    edus = fc[["type", "education"]].drop_duplicates().reset_index(drop=True)
    n_s = draws.shape[1]
    if include_observed:
        obs, obs_years = _observed_graduates(hist, edus)
        obs_draws = np.broadcast_to(obs[:, None, :], (len(edus), n_s, len(obs_years)))
        draws = np.concatenate([obs_draws, draws], axis=2)
        years = np.r_[obs_years, years]
    rates = edus.merge(params.rates(region, edus), on=["type", "education"], how="left")
    factor = (rates["entry"] * rates["retention"]).to_numpy()
    flows = draws * factor[:, None, None]  # (e, s, t)
    if by == "education":
        idx = pd.MultiIndex.from_product(
            [range(len(edus)), range(n_s), years], names=["_e", "sim", "year"]
        )
        out = pd.DataFrame({"new_entrants": flows.ravel()}, index=idx).reset_index()
        out["type"] = edus["type"].to_numpy()[out["_e"]]
        out["education"] = edus["education"].to_numpy()[out["_e"]]
        out = out.assign(region=region)
        return out[["region", "type", "education", "year", "sim", "new_entrants"]]
    if by != "ssyk":
        raise KompetensprognosError(f"by must be 'ssyk' or 'education' (got {by!r})")
    codes, mat = _crosswalk_matrix(dataset, edus, level)
    occ = np.einsum("oe,est->ost", mat, flows)
    idx = pd.MultiIndex.from_product([codes, range(n_s), years], names=["ssyk", "sim", "year"])
    out = pd.DataFrame({"new_entrants": occ.ravel()}, index=idx).reset_index()
    return out.assign(region=region)[["region", "ssyk", "year", "sim", "new_entrants"]]


def _point_flows(
    dataset: Dataset,
    region: str,
    params: SupplyParams,
    proj: GraduateProjection,
    end_year: int,
    include_observed: bool = False,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    hist, fc, draws = _region_graduates(proj, region)
    n_years = int(end_year) - proj.last_observed
    years = proj.years[:n_years]
    edus = fc[["type", "education"]].drop_duplicates().reset_index(drop=True)
    point = (
        fc.pivot_table(index=["type", "education"], columns="year", values="graduates")
        .reindex(pd.MultiIndex.from_frame(edus), columns=years)
        .to_numpy()
    )
    draws = draws[:, :, :n_years]
    if include_observed:  # observed years: the same value in every path
        obs, obs_years = _observed_graduates(hist, edus)
        point = np.concatenate([obs, point], axis=1)
        obs_draws = np.broadcast_to(obs[:, None, :], (len(edus), draws.shape[1], len(obs_years)))
        draws = np.concatenate([obs_draws, draws], axis=2)
        years = np.r_[obs_years, years]
    rates = edus.merge(params.rates(region, edus), on=["type", "education"], how="left")
    factor = (rates["entry"] * rates["retention"]).to_numpy()
    flows = point * factor[:, None]
    return edus, flows, draws * factor[:, None, None], years, point


def supply_by_education_table(
    dataset: Dataset,
    region: str,
    params: SupplyParams | None = None,
    *,
    end_year: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    projection: GraduateProjection | None = None,
    include_observed: bool = False,
) -> pd.DataFrame:
    """New entrants per education and forecast year (graduates × entry × retention).

    With ``include_observed=True`` the observed years come first (observed graduates, bounds
    equal to the value), so sums over a period that starts before the first forecast year are
    complete; the default keeps the forecast years only.

    Returns
    -------
    pandas.DataFrame
        ``region, type, education, year, graduates, entry, retention, new_entrants,
        new_entrants_lo80, new_entrants_hi80``.

    Examples
    --------
    >>> t = supply_by_education_table(load_dataset("demo"), "sjuharad", n_sims=50)  # doctest: +SKIP
    >>> bool((t["new_entrants"] <= t["graduates"]).all())  # doctest: +SKIP
    True
    """
    params = params or SupplyParams()
    proj = _projection(dataset, end_year, n_sims, seed, projection)
    edus, flows, sims, years, grads = _point_flows(
        dataset, region, params, proj, end_year, include_observed
    )
    lo, hi = _bounds(sims)
    rates = edus.merge(params.rates(region, edus), on=["type", "education"], how="left")
    n = len(years)
    out = pd.DataFrame(
        {
            "region": region,
            "type": np.repeat(edus["type"].to_numpy(), n),
            "education": np.repeat(edus["education"].to_numpy(), n),
            "year": np.tile(years, len(edus)),
            "entry": np.repeat(rates["entry"].to_numpy(), n),
            "retention": np.repeat(rates["retention"].to_numpy(), n),
            "new_entrants": flows.ravel(),
            "new_entrants_lo80": np.minimum(lo.ravel(), flows.ravel()),
            "new_entrants_hi80": np.maximum(hi.ravel(), flows.ravel()),
        }
    )
    out.insert(4, "graduates", grads.ravel())
    return out


def supply_table(
    dataset: Dataset,
    region: str,
    params: SupplyParams | None = None,
    *,
    end_year: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    level: int | None = None,
    projection: GraduateProjection | None = None,
    include_observed: bool = False,
) -> pd.DataFrame:
    """New-entrant supply per occupation and forecast year (``supply.csv``).

    Parameters
    ----------
    dataset : Dataset
        Needs ``education_output``, ``population`` and ``crosswalk``.
    region : str
        Region id.
    params : SupplyParams, optional
        Entry and retention (default ``SupplyParams()``).
    end_year : int, default 2030
    n_sims : int, default 1000
    seed : int, default 0
    level : {1, 2, 3, 4}, optional
        SSYK level (default: the crosswalk's level); coarser levels sum the finer codes.
    projection : GraduateProjection, optional
    include_observed : bool, default False
        Also give the observed years (observed graduates × entry × retention × crosswalk,
        bounds equal to the value), e.g. to sum supply over 2023–2030 when graduates are
        observed until 2024.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, year, new_entrants, new_entrants_lo80, new_entrants_hi80`` for the
        forecast years; an occupation fed by several educations gets their sum. Bounds are the
        10 % and 90 % quantiles of the simulated paths (widened to include the point).

    Examples
    --------
    >>> t = supply_table(load_dataset("demo"), "fyrbodal", n_sims=50, level=1)  # doctest: +SKIP
    >>> sorted(t["ssyk"].unique())[:3]  # doctest: +SKIP
    ['1', '2', '3']
    """
    params = params or SupplyParams()
    proj = _projection(dataset, end_year, n_sims, seed, projection)
    edus, flows, sims, years, grads = _point_flows(
        dataset, region, params, proj, end_year, include_observed
    )
    codes, mat = _crosswalk_matrix(dataset, edus, level)
    point = mat @ flows
    lo, hi = _bounds(np.einsum("oe,est->ost", mat, sims))
    n = len(years)
    out = pd.DataFrame(
        {
            "region": region,
            "ssyk": np.repeat(codes, n),
            "year": np.tile(years, len(codes)),
            "new_entrants": point.ravel(),
            "new_entrants_lo80": np.minimum(lo.ravel(), point.ravel()),
            "new_entrants_hi80": np.maximum(hi.ravel(), point.ravel()),
        }
    )
    return out


def supply_backtest_table(projection: GraduateProjection, region: str) -> pd.DataFrame:
    """Backtest of the graduate projections (``region, type, model, horizon, mase, smape,
    direction_accuracy, coverage80, coverage95``); see :func:`education.backtest_graduates`.

    Examples
    --------
    >>> bt = supply_backtest_table(proj, "fyrbodal")  # doctest: +SKIP
    """
    return backtest_graduates(projection, region)


def supply_tables(
    dataset: Dataset,
    region: str,
    params: SupplyParams | None = None,
    end_year: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
    *,
    level: int | None = None,
    backtest: bool = True,
) -> dict[str, pd.DataFrame]:
    """All supply tables for one region from one graduate projection.

    Parameters
    ----------
    dataset : Dataset
    region : str
        Region id (one of :data:`kompetensprognos.regions.ALL_REGION_IDS`).
    params : SupplyParams, optional
    end_year : int, default 2030
    n_sims : int, default 1000
    seed : int, default 0
    level : int, optional
        SSYK level of ``supply``.
    backtest : bool, default True
        Include ``supply_backtest`` (a few seconds).

    Returns
    -------
    dict[str, pandas.DataFrame]
        ``supply``, ``supply_by_education``, ``education_output`` and (if ``backtest``)
        ``supply_backtest``.

    Examples
    --------
    >>> tables = supply_tables(load_dataset("demo"), "vastra-gotaland", n_sims=200)  # doctest: +SKIP
    >>> sorted(tables)  # doctest: +SKIP
    ['education_output', 'supply', 'supply_backtest', 'supply_by_education']
    """
    regions.get_region(region)
    proj = project_graduates(dataset, end_year, n_sims=n_sims, seed=seed)
    kw = {"end_year": end_year, "projection": proj}
    out = {
        "supply": supply_table(dataset, region, params, level=level, **kw),  # type: ignore[arg-type]
        "supply_by_education": supply_by_education_table(dataset, region, params, **kw),  # type: ignore[arg-type]
        "education_output": education_output_table(dataset, region, params, **kw),  # type: ignore[arg-type]
    }
    if backtest:
        out["supply_backtest"] = backtest_graduates(proj, region)
    return out

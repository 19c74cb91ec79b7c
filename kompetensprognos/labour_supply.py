"""Labour supply as a stock–flow model per region and education group, with newcomer channels.

For every base region ``r`` (municipality where the data allow), education group ``g`` (a
gymnasium programme, a YH or higher-education SUN 2020 field, or ``forgymnasial/0``) and sex,
ages 16–74::

    P[g, t+1] = P[g, t] + age entries − age exits − deaths + graduates − further study
                + in-movers − out-movers

* **Rates** (deaths, age exits, out-migration, further study per person; in-migration per
  inhabitant and its split over groups; age entries per 16-year-old) are period means of the
  observed flows in ``education_flows``, shrunk toward the rate of all base regions together
  (``(events + k·parent) / (exposure + k)``, as Region Skåne's model pools small areas).
* **Graduates where they go**: projected graduates of each school region
  (:func:`kompetensprognos.education.project_graduates`) are sent to the regions where they
  live next with the origin–destination shares of ``graduate_destinations`` (documented
  defaults when the dataset lacks it), so a graduate who moves is counted once, where they go.
* **Control total**: where the ``population`` table has ages 16–74 for a base region, sex and
  year (observed or official projection) the groups are scaled to it; the difference is booked
  as in- or out-movers, so the identity holds in every projected year too.
* **Labour supply** = ``P × participation × employment rate`` by age band, sex and group
  (``labour_status``); the employed share is projected either constant (mean of the last three
  years) or as a damped trend, chosen by a rolling-origin backtest on the data up to the fit's
  last year.
* **Newcomer channels** per occupation: graduates (upper secondary) and further-study leavers
  (YH and higher education) entering work, employed in-movers, and re-entrants from
  unemployment or from outside the labour force, mapped to occupations with the crosswalk of
  *recent entrants* (``crosswalk_entrants``; the stock crosswalk when absent).

Every region is summed exactly from the base regions with
:func:`kompetensprognos.regions.region_membership`, so the four subregions add up to
``delregionerna`` and the county's municipalities to the county, for every table and year.
See ``docs/supply.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import sparse

from kompetensprognos import classifications, regions
from kompetensprognos.config import SupplyParams, education_groups_of
from kompetensprognos.dataset import Dataset
from kompetensprognos.education import GraduateProjection, project_graduates
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.schemas import EDUCATION_AGE_BANDS, FLOW_COLUMNS

__all__ = [
    "CHANNELS",
    "DEFAULT_DESTINATIONS",
    "SupplyConfig",
    "SupplyModel",
    "SupplyResult",
    "missing_channels",
]

#: Newcomer channels measured by the supply model, in report order.
CHANNELS: tuple[str, ...] = ("graduates", "further_study_leavers", "in_movers", "re_entrants")
#: Rates of the stock that leave it each year (per person at the start of the year).
_OUT_FLOWS = ("deaths", "age_exits", "out_movers", "further_study")
#: Default share of a school region's graduates living in the same subregion, in
#: Göteborgsregionen, or elsewhere the year after (used without ``graduate_destinations``).
DEFAULT_DESTINATIONS: dict[str, tuple[float, float]] = {
    "gymnasium": (0.88, 0.05),
    "yh": (0.82, 0.08),
    "higher": (0.55, 0.20),
}
#: Yearly re-entry into work: share of the unemployed and of those outside the labour force
#: aged 25–64 (assumptions: transitions are not in the tables; the balance's residual absorbs
#: the error in the observed years).
REENTRY_UNEMPLOYED, REENTRY_OUTSIDE = 0.25, 0.02
#: Major groups that people with compulsory school only enter (by the region's employment).
_ROUTINE_MAJOR = ("4", "5", "7", "8", "9")
_REQUIRED = ("population_education", "education_flows", "labour_status")


class SupplyConfig(BaseModel):
    """Settings of the stock–flow supply model (all have working defaults).

    Parameters
    ----------
    end_year : int, default 2030
        Last projected year.
    shrinkage : float, default 500
        Prior strength ``k`` in person-years: a base region's rate is
        ``(events + k × pooled rate) / (exposure + k)``.
    participation : {"auto", "constant", "trend"}, default "auto"
        Projection of the employed share; ``"auto"`` chooses by rolling-origin backtest.
    n_sims : int, default 200
        Simulated paths (parameters and graduates drawn) for intervals.
    seed : int, default 0
    until : int, optional
        Use data up to this year only (backtests): stocks, flows, labour status and graduate
        destinations after it are ignored, and the population table after it too unless it is
        an official projection.

    Examples
    --------
    >>> SupplyConfig(shrinkage=100).participation
    'auto'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    end_year: int = Field(default=2030, ge=2000, le=2100)
    shrinkage: float = Field(default=500.0, ge=0.0)
    participation: Literal["auto", "constant", "trend"] = "auto"
    n_sims: int = Field(default=200, ge=1)
    seed: int = 0
    until: int | None = None


def missing_channels(dataset: Dataset) -> list[str]:
    """Names of the stock–flow tables the dataset lacks (empty: the full supply model runs).

    Examples
    --------
    >>> from kompetensprognos.dataset import Dataset, Manifest
    >>> ds = Dataset(manifest=Manifest(name="x", source="y", vintage="z"), employment=None)
    >>> missing_channels(ds)
    ['population_education', 'education_flows', 'labour_status']
    """
    return [n for n in _REQUIRED if getattr(dataset, n, None) is None]


def _until(df: pd.DataFrame | None, until: int | None, col: str = "year") -> pd.DataFrame | None:
    if df is None or until is None:
        return df
    return df[df[col] <= until]


def _shrunk(events: np.ndarray, exposure: np.ndarray, k: float, axis: int = 0) -> np.ndarray:
    """Rates ``events / exposure`` per base region (``axis``), shrunk toward the pooled rate."""
    parent = events.sum(axis=axis, keepdims=True) / np.maximum(
        exposure.sum(axis=axis, keepdims=True), 1e-9
    )
    return (events + k * parent) / (exposure + k)


@dataclass(frozen=True)
class SupplyResult:
    """A fitted stock–flow supply model (from :meth:`SupplyModel.fit`); read with its methods.

    Arrays are indexed ``[year, base region, sex, group]`` unless stated; ``draws_*`` carry a
    leading simulation axis. Use the methods, not the arrays.
    """

    config: SupplyConfig
    base: tuple[str, ...]
    groups: pd.DataFrame  # type, education, param_group
    years: np.ndarray  # observed + projected
    last_observed: int
    stock: np.ndarray  # [t, r, s, g] 31 Dec
    flows: dict[str, np.ndarray]  # [t, r, s, g]; year t's flows (t > first)
    employed: np.ndarray  # [t, r, s, g]
    labour_force: np.ndarray  # [t, r, s, g]
    unemployed: np.ndarray  # [t, r, s, g]
    outside_core: np.ndarray  # [t, r, s, g] outside the labour force aged 25–64
    draws_employed: np.ndarray  # [sim, t_fc, r, g]
    draws_graduates: np.ndarray  # [sim, t_all, r, g] graduates arriving (observed: fixed)
    draws_in_movers: np.ndarray  # [sim, t_all, r, g] employed in-movers
    draws_reentrants: np.ndarray  # [sim, t_all, r, g]
    rates: pd.DataFrame
    participation_method: str
    participation_backtest: pd.DataFrame
    crosswalk: pd.DataFrame  # type, education, ssyk, share (recent entrants where available)
    crosswalk_basis: str
    entry: np.ndarray  # [g] share of graduates entering work
    routine_shares: dict[str, pd.Series] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    # --- regions ----------------------------------------------------------------------------

    def _weights(self, region: str) -> np.ndarray:
        """0/1 weights of the base regions that make up ``region``."""
        if region in self.base:
            return np.array([b == region for b in self.base], dtype=float)
        if region not in regions.ALL_REGION_IDS:
            raise KompetensprognosError(
                f"unknown region {region!r}; use one of {', '.join(regions.ALL_REGION_IDS)} "
                f"or a base region of the supply model ({', '.join(self.base[:3])}, ...)"
            )
        if all(regions.is_municipality(b) for b in self.base):
            members = set(regions.members(region))
            w = np.array([b in members for b in self.base], dtype=float)
        elif region == "delregionerna" and set(regions.SUBREGION_IDS) <= set(self.base):
            w = np.array([b in regions.SUBREGION_IDS for b in self.base], dtype=float)
        else:
            raise KompetensprognosError(
                f"region {region!r} cannot be summed exactly from the supply tables' regions "
                f"({', '.join(self.base)}); give population_education, education_flows and "
                "labour_status per municipality"
            )
        if not w.any():
            raise KompetensprognosError(f"no base region of the supply model lies in {region!r}")
        return w

    def _sum(self, arr: np.ndarray, region: str, axis: int) -> np.ndarray:
        return np.tensordot(arr, self._weights(region), axes=([axis], [0]))

    def _kind(self) -> np.ndarray:
        return np.where(self.years <= self.last_observed, "observed", "forecast")

    # --- tables -----------------------------------------------------------------------------

    def labour_supply(self, region: str) -> pd.DataFrame:
        """Population 16–74, labour force and labour supply (employed) per education group and year.

        Returns
        -------
        pandas.DataFrame
            ``region, type, education, year, population, labour_force, labour_supply,
            labour_supply_lo80, labour_supply_hi80, kind``; observed years have bounds equal to
            the value.

        Examples
        --------
        >>> res.labour_supply("skaraborg").columns[:4].tolist()  # doctest: +SKIP
        ['region', 'type', 'education', 'year']
        """
        pop = self._sum(self.stock.sum(axis=2), region, 1)  # [t, g]
        lf = self._sum(self.labour_force.sum(axis=2), region, 1)
        emp = self._sum(self.employed.sum(axis=2), region, 1)
        n_obs = int((self.years <= self.last_observed).sum())
        d = self._sum(self.draws_employed, region, 2)  # [sim, t_fc, g]
        lo, hi = emp.copy(), emp.copy()
        if d.shape[1]:
            qlo, qhi = np.quantile(d, [0.1, 0.9], axis=0)
            lo[n_obs:] = np.minimum(qlo, emp[n_obs:])
            hi[n_obs:] = np.maximum(qhi, emp[n_obs:])
        return self._frame(
            region,
            {
                "population": pop,
                "labour_force": lf,
                "labour_supply": emp,
                "labour_supply_lo80": lo,
                "labour_supply_hi80": hi,
            },
        )

    def _frame(self, region: str, values: dict[str, np.ndarray]) -> pd.DataFrame:
        n_t, n_g = len(self.years), len(self.groups)
        out = pd.DataFrame(
            {
                "region": region,
                "type": np.tile(self.groups["type"].to_numpy(), n_t),
                "education": np.tile(self.groups["education"].to_numpy(), n_t),
                "year": np.repeat(self.years, n_g),
            }
        )
        for k, v in values.items():
            out[k] = np.asarray(v, float).reshape(-1)
        out["kind"] = np.repeat(self._kind(), n_g)
        return out.sort_values(["type", "education", "year"], ignore_index=True)

    def supply_flows(self, region: str) -> pd.DataFrame:
        """Each stock–flow component per education group and year (``supply_flows.csv``).

        ``population_end = population_start + age_entries − age_exits − deaths + graduates −
        further_study + in_movers − out_movers`` holds on every row (observed rows within the
        rounding of the source; projected rows exactly).

        Returns
        -------
        pandas.DataFrame
            ``region, type, education, year, population_start, <flows>, population_end, kind``.
        """
        pop = self._sum(self.stock.sum(axis=2), region, 1)
        vals: dict[str, np.ndarray] = {
            "population_start": np.r_[np.full((1, pop.shape[1]), np.nan), pop[:-1]]
        }
        for f in FLOW_COLUMNS:
            vals[f] = self._sum(self.flows[f].sum(axis=2), region, 1)
        vals["population_end"] = pop
        out = self._frame(region, vals)
        return out[out["year"] > self.years[0]].reset_index(drop=True)

    def occupation_codes(self, level: int = 3) -> list[str]:
        """SSYK codes newcomers can be mapped to: the crosswalk's, the routine occupations of
        compulsory-school newcomers, and ``"0002"`` (educations without crosswalk rows)."""
        codes = set(classifications.ssyk_ancestors(self.crosswalk["ssyk"].astype(str), level))
        for s in self.routine_shares.values():
            codes |= set(classifications.ssyk_ancestors(pd.Series(s.index, dtype=str), level))
        return sorted(codes | {classifications.UNKNOWN_SSYK})

    def _cw_matrix(self, level: int = 3) -> tuple[list[str], np.ndarray]:
        """Occupation codes and ``C[g, o]`` (rows sum to 1; the ``forgymnasial`` row is 0: it
        is mapped per base region by :meth:`_routine_matrix`). Computed once per level."""
        cache = self.__dict__.setdefault("_cw_cache", {})
        if level not in cache:
            cache[level] = self._cw_matrix_uncached(level)
        codes, m = cache[level]
        return list(codes), m.copy()

    def _cw_matrix_uncached(self, level: int) -> tuple[list[str], np.ndarray]:
        codes = self.occupation_codes(level)
        cw = self.crosswalk.copy()
        cw["ssyk"] = classifications.ssyk_ancestors(cw["ssyk"].astype(str), level)
        key = self.groups["type"] + "/" + self.groups["education"]
        cw["key"] = cw["type"] + "/" + cw["education"]
        missing = sorted(set(key) - set(cw["key"]) - {"forgymnasial/0"})
        if missing:
            extra = pd.DataFrame(
                {"key": missing, "ssyk": classifications.UNKNOWN_SSYK, "share": 1.0}
            )
            cw = pd.concat([cw, extra], ignore_index=True)
        mat = cw.pivot_table(index="key", columns="ssyk", values="share", aggfunc="sum")
        m = mat.reindex(index=key.to_numpy(), columns=codes).fillna(0.0).to_numpy(float)
        m /= np.maximum(m.sum(axis=1, keepdims=True), 1e-12)
        return codes, m

    def _routine_matrix(self, codes: list[str], level: int = 3) -> np.ndarray:
        """``R[b, o]``: where each base region's compulsory-school newcomers go (its routine
        occupations' employment shares; ``"0002"`` without employment data)."""
        out = np.zeros((len(self.base), len(codes)))
        pos = {c: i for i, c in enumerate(codes)}
        for i, b in enumerate(self.base):
            s = self.routine_shares.get(b)
            if s is None or not len(s):
                out[i, pos[classifications.UNKNOWN_SSYK]] = 1.0
                continue
            idx = classifications.ssyk_ancestors(pd.Series(s.index, dtype=str), level)
            for c, v in zip(idx, s.to_numpy(float), strict=True):
                out[i, pos[c]] += v
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)

    def channel_occupations(
        self, region: str, level: int = 3, crosswalk_draws: np.ndarray | None = None
    ) -> tuple[list[str], dict[str, np.ndarray]]:
        """Newcomers per channel and occupation, ``[sim, year, occupation]``.

        Parameters
        ----------
        region : str
        level : int, default 3
        crosswalk_draws : numpy.ndarray, optional
            ``[sim, group, occupation]`` draws of the crosswalk (e.g. Dirichlet, by the
            balance); default: the crosswalk itself in every path.

        Returns
        -------
        tuple[list[str], dict[str, numpy.ndarray]]
            Occupation codes and the arrays. Every region is the exact sum of its base regions.
        """
        codes, mat = self._cw_matrix(level)
        routine = self._routine_matrix(codes, level)
        fg = (self.groups["type"] == "forgymnasial").to_numpy()
        w = self._weights(region)
        keep = np.flatnonzero(w)  # sum over the region's base regions first: far fewer cells
        wk = w[keep]
        out = {}
        for ch, (arr, factor) in self._channel_sources().items():  # arr [sim, t, b, g]
            sub = arr[:, :, keep, :]
            reg = np.tensordot(sub, wk, axes=([2], [0])) * factor  # [sim, t, g]
            if crosswalk_draws is None:
                occ = reg @ mat
            else:
                pick = np.arange(crosswalk_draws.shape[0]) % reg.shape[0]
                occ = np.matmul(reg[pick], crosswalk_draws)  # [s, t, g] @ [s, g, o]
            if fg.any() and factor[fg].any():
                base_fg = (sub[..., fg] * factor[fg]).sum(axis=3) * wk[None, None, :]
                extra = base_fg @ routine[keep]  # [sim, t, o]
                if crosswalk_draws is not None:
                    extra = extra[np.arange(crosswalk_draws.shape[0]) % extra.shape[0]]
                occ = occ + extra
            out[ch] = occ
        return codes, out

    def _channel_sources(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per channel the draws ``[sim, t, b, g]`` and a factor per group (entry share ×
        which groups belong to the channel), so that ``draws × factor`` is
        :meth:`_channel_arrays`."""
        gym = (self.groups["type"] == "gymnasium").to_numpy()
        post = self.groups["type"].isin(["yh", "higher"]).to_numpy()
        ones = np.ones(len(self.groups))
        return {
            "graduates": (self.draws_graduates, self.entry * gym),
            "further_study_leavers": (self.draws_graduates, self.entry * post),
            "in_movers": (self.draws_in_movers, ones),
            "re_entrants": (self.draws_reentrants, ones),
        }

    def _channel_arrays(self) -> dict[str, np.ndarray]:
        g = self.draws_graduates * self.entry[None, None, None, :]
        gym = (self.groups["type"] == "gymnasium").to_numpy()
        post = self.groups["type"].isin(["yh", "higher"]).to_numpy()
        return {
            "graduates": g * gym,
            "further_study_leavers": g * post,
            "in_movers": self.draws_in_movers,
            "re_entrants": self.draws_reentrants,
        }

    def channel_inputs(self, region: str) -> dict[str, np.ndarray]:
        """Per channel, the people entering work by education group: ``[sim, year, group]``.

        Observed years are the same in every path; ``graduates`` holds upper-secondary
        graduates and ``further_study_leavers`` YH and higher-education graduates (both times
        the entry share).
        """
        return {ch: self._sum(a, region, 2) for ch, a in self._channel_arrays().items()}

    def newcomers(self, region: str, level: int = 3) -> pd.DataFrame:
        """Newcomers per occupation, channel and year (point: mean over paths, so regions add
        up; ``supply.csv`` before the balance adds changers and other channels).

        Returns
        -------
        pandas.DataFrame
            ``region, ssyk, year, channel, newcomers, newcomers_lo80, newcomers_hi80, kind``
            for the channels of :data:`CHANNELS`.
        """
        codes, arrays = self.channel_occupations(region, level)
        frames = []
        for ch, occ in arrays.items():
            mean = occ.mean(axis=0)
            lo, hi = np.quantile(occ, [0.1, 0.9], axis=0)
            n_t, n_o = mean.shape
            frames.append(
                pd.DataFrame(
                    {
                        "region": region,
                        "ssyk": np.tile(codes, n_t),
                        "year": np.repeat(self.years, n_o),
                        "channel": ch,
                        "newcomers": mean.reshape(-1),
                        "newcomers_lo80": np.minimum(lo, mean).reshape(-1),
                        "newcomers_hi80": np.maximum(hi, mean).reshape(-1),
                        "kind": np.repeat(self._kind(), n_o),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


class SupplyModel:
    """Fit the stock–flow supply model once for all regions of a dataset.

    Parameters
    ----------
    config : SupplyConfig, optional
    params : SupplyParams, optional
        Entry shares of graduates (``params.entry``).

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> res = SupplyModel().fit(load_dataset("demo"))  # doctest: +SKIP
    >>> res.labour_supply("delregionerna").head()  # doctest: +SKIP
    """

    def __init__(self, config: SupplyConfig | None = None, params: SupplyParams | None = None):
        self.config = config or SupplyConfig()
        self.params = params or SupplyParams()

    def fit(
        self, dataset: Dataset, *, projection: GraduateProjection | None = None
    ) -> SupplyResult:
        """Estimate rates, project the stock, labour supply and the newcomer channels.

        Parameters
        ----------
        dataset : Dataset
            Needs ``population_education``, ``education_flows`` and ``labour_status``
            (:func:`missing_channels` names the ones absent); ``education_output`` (and
            ``population``) for projected graduates; ``crosswalk_entrants`` or ``crosswalk``.
        projection : GraduateProjection, optional
            A graduate projection reaching ``config.end_year`` (shared with other steps); made
            here with ``config.n_sims`` paths when not given.

        Returns
        -------
        SupplyResult
        """
        missing = missing_channels(dataset)
        if missing:
            raise KompetensprognosError(
                f"dataset '{dataset.manifest.name}' has no {', '.join(missing)} table(s); the "
                "stock–flow supply needs them (see docs/supply.md) — the report then shows "
                "graduates only and says which channels are missing"
            )
        return _fit(dataset, self.config, self.params, projection)


# --- fitting -------------------------------------------------------------------------------------


def _cubes(
    df: pd.DataFrame,
    values: tuple[str, ...] | list[str],
    years: np.ndarray,
    base: list[str],
    groups: pd.MultiIndex,
    bands: bool = False,
) -> dict[str, np.ndarray]:
    """Long table → ``[t, r, s, (b,) g]`` per value column (cells without rows are 0).

    The keys are coded once per table and each column summed into its cell with
    ``np.bincount``: a pandas group-by per column spent most of the fit factorising the same
    string keys again and again.
    """
    axes: list[tuple[str, object]] = [("year", years), ("region", base), ("sex", ["men", "women"])]
    if bands:
        axes.append(("age", list(EDUCATION_AGE_BANDS)))
    codes = [_codes(df[col], levels) for col, levels in axes]  # type: ignore[arg-type]
    t_code, t_uniq = pd.factorize(df["type"])
    e_code, e_uniq = pd.factorize(df["education"])
    pair_pos = np.append(groups.get_indexer(pd.MultiIndex.from_product([t_uniq, e_uniq])), -1)
    pair = np.where((t_code < 0) | (e_code < 0), -1, t_code * len(e_uniq) + e_code)
    codes.append(pair_pos[pair])
    shape = tuple(len(levels) for _, levels in axes) + (len(groups),)  # type: ignore[arg-type]
    keep = np.logical_and.reduce([c >= 0 for c in codes])
    cell = np.ravel_multi_index(tuple(c[keep] for c in codes), shape)
    size = int(np.prod(shape))
    out = {}
    for v in values:
        w = df[v].to_numpy(float)[keep]
        w = np.where(np.isnan(w), 0.0, w)  # a group-by sum skips missing values
        out[v] = np.bincount(cell, weights=w, minlength=size).reshape(shape)
    return out


def _codes(values: pd.Series, levels: object) -> np.ndarray:
    """Position of each value in ``levels`` (-1: not there), hashing each distinct value once."""
    code, uniq = pd.factorize(values)
    pos = np.append(pd.Index(levels).get_indexer(uniq), -1)  # type: ignore[arg-type]
    return pos[code]  # a missing value (code -1) takes the appended -1


def _cube(
    df: pd.DataFrame,
    value: str,
    years: np.ndarray,
    base: list[str],
    groups: pd.MultiIndex,
    bands: bool = False,
) -> np.ndarray:
    """Long table → ``[t, r, s, (b,) g]`` (one column of :func:`_cubes`)."""
    return _cubes(df, [value], years, base, groups, bands)[value]


def _destinations(
    dataset: Dataset, groups: pd.DataFrame, base: list[str], until: int | None
) -> tuple[pd.DataFrame, str]:
    """Origin–destination shares ``origin, type, education, destination, share`` (destination
    ``"00"``: away), from ``graduate_destinations`` or the documented defaults."""
    gd = _until(dataset.graduate_destinations, until)
    if gd is not None and len(gd):
        s = gd.groupby(["origin", "type", "education", "destination"], as_index=False)[
            "graduates"
        ].sum()
        tot = s.groupby(["origin", "type", "education"])["graduates"].transform("sum")
        s["share"] = s["graduates"] / tot.where(tot > 0)
        return s.dropna(subset=["share"])[
            ["origin", "type", "education", "destination", "share"]
        ], "graduate_destinations"
    eo = dataset.require("education_output")
    pop = dataset.population
    muni = all(regions.is_municipality(b) for b in base)
    rows = []
    weights: dict[str, float] = {}
    if pop is not None and muni:
        sel = pop[(pop["age"].between(20, 34)) & pop["region"].isin(base)]
        weights = sel.groupby("region")["population"].mean().to_dict()
    for origin in eo["region"].unique():
        for kind, (stay, to_gr) in DEFAULT_DESTINATIONS.items():
            if origin in base:  # school region = a base region: keep them there
                targets = {origin: stay + to_gr}
            elif origin in regions.SUBREGION_IDS and muni:
                home = [b for b in base if b in regions.members(origin)]
                gr = [b for b in base if b in regions.members("goteborgsregionen")]
                share_home = stay + (to_gr if origin == "goteborgsregionen" else 0.0)
                wh = np.array([weights.get(b, 1.0) for b in home])
                targets = dict(zip(home, share_home * wh / wh.sum(), strict=True))
                if origin != "goteborgsregionen" and gr:
                    wg = np.array([weights.get(b, 1.0) for b in gr])
                    for b, v in zip(gr, to_gr * wg / wg.sum(), strict=True):
                        targets[b] = targets.get(b, 0.0) + v
            else:
                targets = {}
            for e in groups.loc[groups["type"] == kind, "education"]:
                rows += [(origin, kind, e, d, v) for d, v in targets.items()]
    out = pd.DataFrame(rows, columns=["origin", "type", "education", "destination", "share"])
    return out, "defaults"


def _control_totals(
    dataset: Dataset, base: list[str], years: np.ndarray, until: int | None
) -> np.ndarray:
    """Population 16–74 per ``[t, r, s]`` from the population table (NaN where absent)."""
    out = np.full((len(years), len(base), 2), np.nan)
    pop = dataset.population
    if pop is None:
        return out
    sel = pop[pop["age"].between(16, 74) & pop["region"].isin(base)]
    if until is not None:  # only an official projection may be used beyond the origin
        sel = sel[(sel["year"] <= until) | (sel["kind"] == "projection")]
    s = sel.groupby(["year", "region", "sex"])["population"].sum()
    idx = pd.MultiIndex.from_product([years, base, ["men", "women"]])
    return s.reindex(idx).to_numpy(float).reshape(out.shape)


def _pop16(dataset: Dataset, base: list[str], years: np.ndarray, until: int | None) -> np.ndarray:
    out = np.full((len(years), len(base), 2), np.nan)
    pop = dataset.population
    if pop is None:
        return out
    sel = pop[(pop["age"] == 16) & pop["region"].isin(base)]
    if until is not None:
        sel = sel[(sel["year"] <= until) | (sel["kind"] == "projection")]
    s = sel.groupby(["year", "region", "sex"])["population"].sum()
    idx = pd.MultiIndex.from_product([years, base, ["men", "women"]])
    return s.reindex(idx).to_numpy(float).reshape(out.shape)


def _employed_share_projection(
    rate: np.ndarray, pop: np.ndarray, method: str, h: int
) -> np.ndarray:
    """Project ``rate[t, r, s, b, g]`` ``h`` years: constant (last-3 mean) or damped trend."""
    base = rate[-3:].mean(axis=0)
    if method == "constant" or rate.shape[0] < 4:
        return np.broadcast_to(base, (h, *base.shape)).copy()
    # pooled slope per (b, g) over all regions and sexes (weighted by population), damped
    w = pop.sum(axis=(1, 2))  # [t, b, g]
    pooled = (rate * pop).sum(axis=(1, 2)) / np.maximum(w, 1e-9)
    t = np.arange(rate.shape[0]) - (rate.shape[0] - 1) / 2
    slope = (t[:, None, None] * (pooled - pooled.mean(axis=0))).sum(axis=0) / (t**2).sum()
    damp = np.cumsum(0.8 ** np.arange(1, h + 1))
    out = base[None] + (damp[:, None, None] * slope)[:, None, None, :, :] * 0.5
    return np.clip(out, 0.0, 1.0)


def _choose_participation(emp_rate: np.ndarray, pop_b: np.ndarray) -> tuple[str, pd.DataFrame]:
    """Rolling-origin MAE (employed, all regions) of the two projections; the lower wins."""
    n = emp_rate.shape[0]
    rows = []
    for origin in range(max(4, n - 4), n):
        h = n - origin
        for method in ("constant", "trend"):
            pred = _employed_share_projection(emp_rate[:origin], pop_b[:origin], method, h)
            emp_hat = (pred * pop_b[origin:]).sum(axis=(1, 2, 3, 4))
            emp_obs = (emp_rate[origin:] * pop_b[origin:]).sum(axis=(1, 2, 3, 4))
            for k in range(h):
                rows.append((origin, k + 1, method, abs(emp_hat[k] - emp_obs[k])))
    bt = pd.DataFrame(rows, columns=["origin_index", "horizon", "method", "abs_error"])
    if bt.empty:
        return "constant", bt
    mae = bt.groupby("method")["abs_error"].mean()
    return str(mae.idxmin()), bt


def _fit(
    dataset: Dataset, cfg: SupplyConfig, params: SupplyParams, projection: GraduateProjection | None
) -> SupplyResult:
    until = cfg.until
    pe = _until(dataset.population_education, until)
    fl = _until(dataset.education_flows, until)
    ls = _until(dataset.labour_status, until)
    assert pe is not None and fl is not None and ls is not None
    base = sorted(pe["region"].unique())
    obs_years = np.sort(pe["year"].unique()).astype(int)
    last = int(obs_years[-1])
    if cfg.end_year <= last:
        raise KompetensprognosError(
            f"SupplyConfig.end_year {cfg.end_year} must lie after the last observed year {last}"
        )
    fc_years = np.arange(last + 1, cfg.end_year + 1)
    years = np.r_[obs_years, fc_years]
    gkeys = pe[["type", "education"]].drop_duplicates().sort_values(["type", "education"])
    groups = gkeys.reset_index(drop=True)
    gidx = pd.MultiIndex.from_frame(groups)
    pgroup = np.where(groups["type"] == "forgymnasial", "forgymnasial",
                      education_groups_of(groups.assign(type=groups["type"].replace("forgymnasial", "yh"))))  # fmt: skip
    groups["param_group"] = pgroup
    n_r, n_g, n_o, n_f = len(base), len(groups), len(obs_years), len(fc_years)

    stock_b = _cube(pe, "population", obs_years, base, gidx, bands=True)  # [t, r, s, b, g]
    stock = stock_b.sum(axis=3)
    flows_obs = _cubes(fl, FLOW_COLUMNS, obs_years, base, gidx)
    status_b = _cubes(ls, ("employed", "unemployed", "outside"), obs_years, base, gidx, True)
    emp_b, une_b, out_b = status_b["employed"], status_b["unemployed"], status_b["outside"]
    pop_b = emp_b + une_b + out_b
    has_flows = np.isin(obs_years, fl["year"].unique())

    # --- rates from observed flows, shrunk toward the pooled rate --------------------------
    k = cfg.shrinkage
    prev = stock[:-1][has_flows[1:]]  # exposure: stock at the start of each flow year
    rate = {}
    for f in _OUT_FLOWS:
        ev = flows_obs[f][1:][has_flows[1:]].sum(axis=0)
        rate[f] = _shrunk(ev, prev.sum(axis=0), k)  # [r, s, g]
    inm = flows_obs["in_movers"][1:][has_flows[1:]].sum(axis=0)  # [r, s, g]
    in_rate = inm.sum(axis=(1, 2)) / np.maximum(prev.sum(axis=(0, 2, 3)), 1e-9)  # [r]
    in_share = _shrunk(inm, np.broadcast_to(inm.sum(axis=(1, 2), keepdims=True), inm.shape), k)
    in_share /= np.maximum(in_share.sum(axis=(1, 2), keepdims=True), 1e-12)
    ent = flows_obs["age_entries"][1:][has_flows[1:]].sum(axis=0)  # [r, s, g]
    ent_share = ent / np.maximum(ent.sum(axis=2, keepdims=True), 1e-9)
    ent_level = flows_obs["age_entries"][1:][has_flows[1:]].sum(axis=3).mean(axis=0)  # [r, s]

    # --- graduates: projected by school region, sent where they go --------------------------
    grads = np.zeros((cfg.n_sims, n_f, n_r, 2, n_g))  # projected years (observed: flows_obs)
    notes: list[str] = []
    eo = dataset.education_output
    if eo is not None and dataset.population is not None and n_f:
        ds = dataset
        if until is not None:
            ds = _truncate_for_graduates(dataset, until)
        proj = projection
        if proj is None or proj.draws.shape[1] < cfg.n_sims or int(proj.years[-1]) < cfg.end_year:
            proj = project_graduates(ds, cfg.end_year, n_sims=cfg.n_sims, seed=cfg.seed)
        od, basis = _destinations(dataset, groups, base, until)
        if basis == "defaults":
            notes.append("graduate destinations: documented defaults (no graduate_destinations)")
        women = flows_obs["graduates"].sum(axis=(0, 1))  # [s, g]
        wshare = women[1] / np.maximum(women.sum(axis=0), 1e-9)
        wshare = np.where(women.sum(axis=0) > 0, wshare, 0.5)
        bpos = {b: i for i, b in enumerate(base)}
        gpos = {
            (t, e): i
            for i, (t, e) in enumerate(zip(groups["type"], groups["education"], strict=True))
        }
        pyears = list(proj.years)
        cols = [pyears.index(y) for y in fc_years if y in pyears]
        ser = proj.series.reset_index(drop=True)
        # graduates of cell (destination, group) = sum over series of draws × destination share
        # × sex share: one sparse matrix [cell, series] times the draws [series, sim × year]
        keys = ["origin", "type", "education"]
        pairs = (
            ser[["region", "type", "education"]]
            .rename(columns={"region": "origin"})
            .assign(_series=np.arange(len(ser)))
            .merge(od[[*keys, "destination", "share"]], on=keys)
        )
        j_of = pd.Series(list(zip(pairs["type"], pairs["education"], strict=True))).map(gpos)
        b_of = pairs["destination"].map(bpos)
        ok = (j_of.notna() & b_of.notna()).to_numpy()
        i_idx = pairs["_series"].to_numpy()[ok]
        j_idx, b_idx = j_of.to_numpy()[ok].astype(int), b_of.to_numpy()[ok].astype(int)
        share = pairs["share"].to_numpy()[ok]
        paths = proj.draws[:, : cfg.n_sims][:, :, cols].reshape(len(ser), -1)  # [series, sim×t]
        for sex, w in ((1, wshare), (0, 1 - wshare)):
            to_cell = sparse.csr_matrix(
                (share * w[j_idx], (b_idx * n_g + j_idx, i_idx)), shape=(n_r * n_g, len(ser))
            )
            cells = (to_cell @ paths).reshape(n_r, n_g, cfg.n_sims, n_f)
            grads[:, :, :, sex, :] = cells.transpose(2, 3, 0, 1)
    elif n_f:
        grads[:] = flows_obs["graduates"][has_flows][-3:].mean(axis=0)[None, None]
        notes.append("graduates held at the mean of the last three years (no education_output)")

    # --- projection of the stock, paths with parameter draws -----------------------------
    rng = np.random.default_rng(cfg.seed)
    control = _control_totals(dataset, base, years, until)
    p16 = _pop16(dataset, base, years, until)
    # parameter uncertainty: year-to-year variation of the pooled rate per group
    cv = {}
    for f in (*_OUT_FLOWS, "in_movers"):
        ev = flows_obs[f][1:][has_flows[1:]].sum(axis=(1, 2))  # [t, g]
        ex = stock[:-1][has_flows[1:]].sum(axis=(1, 2))
        r_t = ev / np.maximum(ex, 1e-9)
        m = r_t.mean(axis=0)
        cv[f] = np.where(m > 0, r_t.std(axis=0) / np.maximum(m, 1e-12), 0.0)

    def project(
        shock: dict[str, np.ndarray] | None,
        g_path: np.ndarray,
        keep: tuple[str, ...] = FLOW_COLUMNS,
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Stocks ``[path, t, r, s, g]`` and the flows named in ``keep`` for a block of paths
        (``g_path[path, t, r, s, g]``; ``shock[f][path, g]`` or None for the point path)."""
        n_p = g_path.shape[0]
        st = np.zeros((n_p, n_f, n_r, 2, n_g))
        fl_out = {f: np.zeros((n_p, n_f, n_r, 2, n_g)) for f in keep}
        cur = np.broadcast_to(stock[-1], (n_p, n_r, 2, n_g))
        m = {  # leaving rates, the same in every year of a path
            f: np.minimum(rate[f] * (1.0 if shock is None else shock[f][:, None, None, :]), 1.0)
            for f in _OUT_FLOWS
        }
        for i in range(n_f):
            t = n_o + i
            outs = {f: cur * m[f] for f in _OUT_FLOWS}
            tot_out = sum(outs.values())
            scale_out = np.minimum(1.0, cur / np.maximum(tot_out, 1e-12))
            outs = {f: v * scale_out for f, v in outs.items()}
            lvl = p16[t] if np.isfinite(p16[t]).all() else ent_level
            entries = lvl[..., None] * ent_share
            in_tot = in_rate * cur.sum(axis=(2, 3)) * (1.0 if shock is None else shock["in_scalar"])
            inflow = in_tot[:, :, None, None] * in_share
            if shock is not None:
                inflow = inflow * shock["in_movers"][:, None, None, :]
            nxt = cur + entries - sum(outs.values()) + g_path[:, i] + inflow
            target = control[t]
            if np.isfinite(target).all():
                gap = target - nxt.sum(axis=3)  # [path, r, s]
                w = nxt / np.maximum(nxt.sum(axis=3, keepdims=True), 1e-12)
                adj = gap[..., None] * w
                inflow = inflow + np.maximum(adj, 0)
                outs["out_movers"] = outs["out_movers"] + np.maximum(-adj, 0)
                nxt = nxt + adj
            nxt = np.maximum(nxt, 0.0)
            st[:, i] = nxt
            step = {"age_entries": entries, "graduates": g_path[:, i], "in_movers": inflow, **outs}
            for f in keep:
                fl_out[f][:, i] = step[f]
            cur = nxt
        return st, fl_out

    point_grads = np.median(grads, axis=0)
    st_point, fl_point = project(None, point_grads[None])
    st_point, fl_point = st_point[0], {f: v[0] for f, v in fl_point.items()}

    # employed share by band: projection method chosen by backtest
    with np.errstate(divide="ignore", invalid="ignore"):
        er = np.where(pop_b > 0, emp_b / pop_b, 0.0)
        lr = np.where(pop_b > 0, (emp_b + une_b) / pop_b, 0.0)
        ur = np.where(pop_b > 0, une_b / pop_b, 0.0)
        orate = np.where(pop_b > 0, out_b / pop_b, 0.0)
    method = cfg.participation
    method_bt = pd.DataFrame()
    if method == "auto":
        method, method_bt = _choose_participation(er, pop_b)
    er_fc = _employed_share_projection(er, pop_b, method, n_f) if n_f else er[:0]
    lr_fc = _employed_share_projection(lr, pop_b, method, n_f) if n_f else lr[:0]
    ur_fc = np.broadcast_to(ur[-3:].mean(axis=0), (n_f, *ur.shape[1:]))
    or_fc = np.broadcast_to(orate[-3:].mean(axis=0), (n_f, *orate.shape[1:]))
    band_share = stock_b[-1] / np.maximum(
        stock_b[-1].sum(axis=2, keepdims=True), 1e-12
    )  # [r,s,b,g]
    # residual sd of the employed share around its 3-year mean, per band/group (pooled)
    # (the pooled series' year-to-year changes: small cells' counting noise is not a forecast risk)
    pooled = emp_b.sum(axis=(1, 2)) / np.maximum(pop_b.sum(axis=(1, 2)), 1e-9)  # [t, b, g]
    er_sd = np.nan_to_num(np.diff(pooled, axis=0).std(axis=0) / np.sqrt(2))  # [b, g]

    core = np.zeros(len(EDUCATION_AGE_BANDS), bool)
    core[2:6] = True  # 25–64

    def status(st: np.ndarray, er_path: np.ndarray) -> dict[str, np.ndarray]:
        pb = st[:, :, :, None, :] * band_share[None]
        return {
            "employed": (pb * er_path).sum(axis=3),
            "unemployed": (pb * ur_fc).sum(axis=3),
            "outside_core": (pb * or_fc)[:, :, :, core].sum(axis=3),
            "labour_force": (pb * lr_fc).sum(axis=3),
        }

    s_point = status(st_point, er_fc)
    emp_rate_g = np.where(
        stock[-3:].sum(axis=0) > 0,
        emp_b[-3:, :, :, 2].sum(axis=0) / np.maximum(pop_b[-3:, :, :, 2].sum(axis=0), 1e-9),
        0.0,
    )  # [r, s, g], 25–34
    obs_core_out = out_b[:, :, :, core].sum(axis=3)
    obs_reentry = REENTRY_UNEMPLOYED * une_b.sum(axis=3) + REENTRY_OUTSIDE * obs_core_out

    # paths
    n_s = cfg.n_sims
    d_emp = np.zeros((n_s, n_f, n_r, n_g))
    d_in = np.zeros((n_s, len(years), n_r, n_g))
    d_re = np.zeros((n_s, len(years), n_r, n_g))
    d_in[:, :n_o] = (flows_obs["in_movers"] * emp_rate_g[None]).sum(axis=2)[None]
    # re-entrants in year t come from the non-employed at the end of t-1
    d_re[:, 1:n_o] = obs_reentry[:-1].sum(axis=2)[None]
    h = np.arange(1, n_f + 1)
    # the random numbers in the order a loop over paths draws them; the paths are then
    # computed in blocks, every path of a block in the same array operations
    shocked = (*_OUT_FLOWS, "in_movers")
    z_shock = np.empty((n_s, len(shocked), n_g))
    z_er = np.empty((n_s, *er_sd.shape))
    for s in range(n_s):
        for k in range(len(shocked)):
            z_shock[s, k] = rng.normal(0, 1, n_g)
        z_er[s] = rng.normal(size=(1, 1, 1, *er_sd.shape))[0, 0, 0]
    er_step = er_sd[None, None, None] * np.sqrt(h)[:, None, None, None, None]  # [t, 1, 1, b, g]
    not_employed_rate = (  # re-entrants per person of the stock, by year [t, r, s, g]
        REENTRY_UNEMPLOYED * (band_share * ur_fc).sum(axis=-2)
        + REENTRY_OUTSIDE * (band_share * or_fc)[..., core, :].sum(axis=-2)
    )
    shock = {f: np.exp(z_shock[:, k] * cv[f] - 0.5 * cv[f] ** 2) for k, f in enumerate(shocked)}
    st = np.empty((n_s, n_f, n_r, 2, n_g))
    for lo in range(0, n_s, 20):  # blocks of paths small enough to stay in the cache
        sl = slice(lo, min(lo + 20, n_s))
        st[sl], fl_s = project(
            {f: v[sl] for f, v in shock.items()} | {"in_scalar": 1.0},  # type: ignore[dict-item]
            grads[sl],
            keep=("in_movers",),
        )
        d_in[sl, n_o:] = (fl_s["in_movers"] * emp_rate_g).sum(axis=3)
    if n_f:  # re-entrants in year t come from the non-employed at the end of t-1
        d_re[:, n_o] = obs_reentry[-1].sum(axis=1)
        d_re[:, n_o + 1 :] = (st[:, :-1] * not_employed_rate[:-1]).sum(axis=3)
    # employed shares by band per path: blocks of paths keep the [path, t, r, s, b, g] array small
    block = 8
    er_buf = np.empty((block, *er_fc.shape))
    for lo in range(0, n_s, block):
        sl = slice(lo, min(lo + block, n_s))
        er_path = er_buf[: sl.stop - lo]
        np.multiply(er_step, z_er[sl, None, None, None], out=er_path)
        np.clip(np.add(er_fc, er_path, out=er_path), 0, 1, out=er_path)
        # status() with the band sums taken before multiplying by the stock (equal to
        # rounding; the stock does not vary by band)
        emp_share = np.einsum("rsbg,ptrsbg->ptrsg", band_share, er_path)
        d_emp[sl] = (st[sl] * emp_share).sum(axis=3)
    d_grads = np.empty((n_s, len(years), n_r, n_g))
    d_grads[:, :n_o] = flows_obs["graduates"].sum(axis=2)
    d_grads[:, n_o:] = grads.sum(axis=3)

    flows_all = {}
    for f in FLOW_COLUMNS:
        obs_f = np.where(has_flows[:, None, None, None], flows_obs[f], 0.0)
        flows_all[f] = np.concatenate([obs_f, fl_point[f]])
    stock_all = np.concatenate([stock, st_point])
    emp_all = np.concatenate([emp_b.sum(axis=3), s_point["employed"]])
    lf_all = np.concatenate([(emp_b + une_b).sum(axis=3), s_point["labour_force"]])
    une_all = np.concatenate([une_b.sum(axis=3), s_point["unemployed"]])
    oc_all = np.concatenate([obs_core_out, s_point["outside_core"]])

    # crosswalk of recent entrants; compulsory school only → routine occupations
    if dataset.crosswalk_entrants is not None:
        cw, cw_basis = dataset.crosswalk_entrants, "crosswalk_entrants"
    else:
        cw, cw_basis = dataset.require("crosswalk"), "crosswalk"
        notes.append("crosswalk of the whole employed stock (no crosswalk_entrants)")
    routine = _routine_shares(dataset, until)
    entry_by_group = {
        "gymnasium_vocational": params.entry.gymnasium_vocational,
        "gymnasium_preparatory": params.entry.gymnasium_preparatory,
        "yh": params.entry.yh,
        "higher": params.entry.higher,
        "forgymnasial": 0.0,
    }
    entry = groups["param_group"].map(entry_by_group).to_numpy(float)
    key = groups["type"] + "/" + groups["education"]
    entry = np.array(
        [params.entry_by_education.get(kk, e) for kk, e in zip(key, entry, strict=True)]
    )

    rates_df = pd.DataFrame(
        {
            "type": groups["type"],
            "education": groups["education"],
            **{
                f: (rate[f] * stock[-1]).sum(axis=(0, 1))
                / np.maximum(stock[-1].sum(axis=(0, 1)), 1e-9)
                for f in _OUT_FLOWS
            },
            "in_share": in_share.sum(axis=(0, 1)) / n_r,
        }
    )
    return SupplyResult(
        config=cfg,
        base=tuple(base),
        groups=groups,
        years=years,
        last_observed=last,
        stock=stock_all,
        flows=flows_all,
        employed=emp_all,
        labour_force=lf_all,
        unemployed=une_all,
        outside_core=oc_all,
        draws_employed=d_emp,
        draws_graduates=d_grads,
        draws_in_movers=d_in,
        draws_reentrants=d_re,
        rates=rates_df,
        participation_method=method,
        participation_backtest=method_bt,
        crosswalk=cw[["type", "education", "ssyk", "share"]].copy(),
        crosswalk_basis=cw_basis,
        entry=entry,
        routine_shares=routine,
        notes=tuple(notes),
    )


def _routine_shares(dataset: Dataset, until: int | None) -> dict[str, pd.Series]:
    """Per region: employment shares of the routine major groups in the last year (the
    occupations people with compulsory school only enter)."""
    emp = _until(dataset.employment, until)
    if emp is None or emp.empty:
        return {}
    last = emp[emp["year"] == emp["year"].max()]
    last = last[last["ssyk"].str[:1].isin(_ROUTINE_MAJOR)]
    out = {}
    by = regions.aggregate_regions(
        last.groupby(["region", "ssyk"], as_index=False)["employed"].sum(), "employed"
    )
    for region, grp in by.groupby("region"):
        s = grp.set_index("ssyk")["employed"]
        out[str(region)] = s / s.sum()
    for code, grp in last.groupby("region"):
        s = grp.groupby("ssyk")["employed"].sum()
        out[str(code)] = s / max(s.sum(), 1e-9)
    return out


def _truncate_for_graduates(dataset: Dataset, until: int) -> Dataset:
    """The dataset as known at ``until`` for the graduate projection: education output up to
    the origin, and population observed up to the origin followed by a cohort-shifted
    projection (no later observations: a backtest must not see them)."""
    from kompetensprognos.dataset import Dataset as _D

    pop = dataset.require("population")
    obs = pop[(pop["year"] <= until) & (pop["kind"] == "observed")]
    last = obs[obs["year"] == until]
    frames = [obs]
    cur = last[["region", "age", "sex", "population"]]
    end = int(pop["year"].max())
    births = last[last["age"] == 0].set_index(["region", "sex"])["population"]
    for y in range(until + 1, end + 1):
        nxt = cur.assign(age=np.minimum(cur["age"] + 1, 100))
        nxt = nxt.groupby(["region", "sex", "age"], as_index=False)["population"].sum()
        b = births.rename("population").reset_index().assign(age=0)
        cur = pd.concat([b, nxt[nxt["age"] > 0]], ignore_index=True)
        frames.append(cur.assign(year=y, kind="projection"))
    eo = dataset.require("education_output")
    return _D(
        manifest=dataset.manifest,
        employment=dataset.employment,
        population=pd.concat(frames, ignore_index=True)[pop.columns],
        education_output=eo[eo["year"] <= until],
        crosswalk=dataset.crosswalk,
    )

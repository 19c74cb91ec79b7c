"""Regional demand: coherent, non-negative employment forecasts per region and occupation.

The pipeline (:class:`DemandModel`):

1. **Breaks** — employment is put on the latest basis at every break the dataset's manifest
   declares (:mod:`kompetensprognos.breaks`), so the 2023 jump is not extrapolated as growth.
2. **Hierarchy** — the bottom series are municipality × SSYK 3 (what SCB publishes). Every
   aggregate is a sum of bottom series: regions along *both* geographic paths (municipality →
   subregion → the four subregions with Kungsbacka; municipality → county 14 without it) crossed
   with SSYK 3 → 2 → 1 → total. With ``geography="sweden"`` the regions are municipality →
   county (``"01"``..``"25"``) → Sweden (``"00"``), plus the Västra Götaland regions when the data
   has their municipalities. The summing matrix is sparse (nothing dense at national size).
3. **Base forecasts** — every series (bottom and aggregate) is forecast by the engine in
   :mod:`kompetensprognos.forecasting`, with intervals calibrated on rolling-origin errors. With
   ``chunk_size`` (or an executor) the panel is forecast in chunks of series, optionally in
   parallel, with the calibration still pooled over all series (:mod:`kompetensprognos.scale`).
4. **Scenarios** — jobs a council adds or removes (e.g. a new plant) are added to the bottom series
   and all its aggregates before reconciliation.
5. **Reconciliation** — sparse non-negative MinTrace (structural weights; the non-negative QP
   solved by an active-set loop over sparse conjugate-gradient solves,
   :func:`kompetensprognos.hierarchy.reconcile`) or bottom-up; the choice is made by backtest
   (``docs/methods.md``). Interval bounds are moved with their point forecast and kept around it.

Outputs follow the contract in ``docs/demand.md``: :meth:`DemandResult.employment_forecast` and
:func:`recruitment_need`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

from kompetensprognos import regions
from kompetensprognos.breaks import adjust_breaks, estimate_break_factors
from kompetensprognos.classifications import UNKNOWN_SSYK
from kompetensprognos.config import DemandConfig, Geography, ScenarioAdjustment
from kompetensprognos.dataset import Dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.hierarchy import (  # the one path shared with forecast --keys
    SEP,
    forecast_reconciled,
    parents_in_key_order,
    reconcile,
    ssyk_parent,
    to_wide,
)

if TYPE_CHECKING:
    from kompetensprognos.executors import Executor

__all__ = [
    "BACKTEST_COLUMNS",
    "DemandConfig",
    "DemandModel",
    "DemandResult",
    "ScenarioAdjustment",
    "backtest_demand",
    "backtest_origins",
    "backtest_table",
    "bottom_panel",
    "build_hierarchy",
    "latest_basis",
    "reconcile",
]

SWEDEN = "00"
"""SCB region code of the national total (``geography="sweden"``)."""


def bottom_panel(dataset: Dataset) -> pd.DataFrame:
    """Employment per municipality × occupation × year (summed over sex), as floats.

    Returns
    -------
    pandas.DataFrame
        ``municipality, ssyk, year, employed``.
    """
    e = dataset.employment
    return (
        e.groupby(["region", "ssyk", "year"], as_index=False)["employed"]
        .sum()
        .rename(columns={"region": "municipality"})
    )


def latest_basis(
    dataset: Dataset, *, until: int | None = None, adjust: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Bottom series as published and on the latest data basis, with the break factors used.

    Parameters
    ----------
    dataset : Dataset
    until : int, optional
        Last year to keep (backtests).
    adjust : bool, default True
        Adjust for the manifest's employment breaks; ``False`` returns the published series twice.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame, pandas.DataFrame]
        ``bottom`` and ``adjusted`` (``municipality, ssyk, year, employed``) and the factors of
        :func:`kompetensprognos.breaks.estimate_break_factors` (empty when nothing was adjusted).
    """
    bottom = bottom_panel(dataset)
    if until is not None:
        bottom = bottom[bottom["year"] <= until]
    last = int(bottom["year"].max())
    years = sorted(
        {b.year for b in dataset.manifest.breaks if b.table == "employment" and b.year <= last}
    )
    if adjust and years:
        factors = estimate_break_factors(bottom, years)
    else:
        factors = pd.DataFrame(columns=["ssyk", "break_year", "factor", "raw_factor", "weight"])
    return bottom, adjust_breaks(bottom, factors), factors


@dataclass
class Hierarchy:
    """Series of the two crossed hierarchies and their sparse summing matrix.

    Attributes
    ----------
    series : pandas.DataFrame
        One row per series in ``S`` row order: ``unique_id, region, region_kind, ssyk,
        ssyk_level`` (aggregates first, bottom series last).
    bottom : pandas.DataFrame
        Bottom series in ``S`` column order: ``unique_id, municipality, ssyk``.
    S : scipy.sparse.csr_matrix
        ``n_series × n_bottom`` 0/1 summing matrix.
    parents : dict[str, str]
        ``unique_id -> parent id`` for the pooling methods (``share``, ``parent``, ``sdrift``,
        ``pdrift``): the same occupation one region up (municipality and subregion → county,
        county → Sweden when present), and at the top region the occupation group one SSYK
        level up (the total has none).
    """

    series: pd.DataFrame
    bottom: pd.DataFrame
    S: sp.csr_matrix
    parents: dict[str, str] = field(default_factory=dict)

    @property
    def tags(self) -> dict[str, np.ndarray]:
        """hierarchicalforecast-style tags: level name → unique ids."""
        key = self.series["region_kind"] + "/ssyk" + self.series["ssyk_level"].astype(str)
        return {k: v["unique_id"].to_numpy() for k, v in self.series.groupby(key)}


def _ssyk_ancestor(code: str, level: int, bottom_level: int) -> str | None:
    if level == 0:
        return "total"
    if code == UNKNOWN_SSYK:
        return code if level == bottom_level else None
    return code[:level]


def _regions_of(
    municipalities: Sequence[str], geography: Geography
) -> dict[str, list[tuple[str, str]]]:
    """Every region (id, kind) each municipality is summed into, itself first."""
    if geography not in ("vg", "sweden"):
        raise KompetensprognosError(f"unknown geography {geography!r}; use 'vg' or 'sweden'")
    munis = list(municipalities)
    region_of: dict[str, list[tuple[str, str]]] = {m: [(m, "municipality")] for m in munis}
    membership = regions.region_membership()
    membership = membership[membership["municipality"].isin(set(munis))]
    kinds = {r.id: r.kind for r in regions.regions()}
    if geography == "sweden":
        county = regions.municipalities("sweden").set_index("code")["county"]
        unknown = sorted(set(munis) - set(county.index))
        if unknown:
            raise KompetensprognosError(
                f"municipality codes {', '.join(unknown[:10])} are not Swedish municipalities; "
                "the national hierarchy needs 4-digit codes such as '0114'"
            )
        # With the VG regions in the hierarchy, county 14 keeps its report id
        # 'vastra-gotaland' (the same 49 municipalities), so no series appears twice.
        vg_county = "vastra-gotaland" if len(membership) else regions.VG_COUNTY
        for m in munis:
            c = str(county[m])
            region_of[m] += [(vg_county if c == regions.VG_COUNTY else c, "county")]
            region_of[m] += [(SWEDEN, "country")]
        membership = membership[membership["region"] != "vastra-gotaland"]
    for r, m in membership[["region", "municipality"]].itertuples(index=False):
        region_of[m].append((r, kinds[r]))
    return region_of


def build_hierarchy(bottom: pd.DataFrame, geography: Geography = "vg") -> Hierarchy:
    """Build the crossed region × occupation hierarchy over the bottom series.

    Parameters
    ----------
    bottom : pandas.DataFrame
        Columns ``municipality, ssyk`` (one row per bottom series; extra columns ignored).
    geography : {"vg", "sweden"}, default "vg"
        ``"vg"``: municipality → subregion → ``delregionerna`` and municipality → county 14
        (``vastra-gotaland``). ``"sweden"``: municipality → county (SCB code ``"01"``..``"25"``,
        kind ``county``) → Sweden (``"00"``, kind ``country``), plus the VG regions when the data
        has VG municipalities (county 14 is then named ``vastra-gotaland``).

    Returns
    -------
    Hierarchy

    Examples
    --------
    >>> b = pd.DataFrame({"municipality": ["0114", "1480"], "ssyk": ["251", "251"]})
    >>> h = build_hierarchy(b, geography="sweden")
    >>> sorted(set(h.series.loc[h.series["region_kind"] != "municipality", "region"]))
    ['00', '01', 'delregionerna', 'goteborgsregionen', 'vastra-gotaland']
    """
    b = bottom[["municipality", "ssyk"]].drop_duplicates().sort_values(["municipality", "ssyk"])
    b = b.reset_index(drop=True)
    # the same bottom series give the same hierarchy: backtest origins and refits reuse it
    key = (geography, "\x00".join(b["municipality"] + SEP + b["ssyk"]))
    if key not in _HIERARCHIES:
        if len(_HIERARCHIES) >= 4:
            _HIERARCHIES.clear()
        _HIERARCHIES[key] = _build_hierarchy(b, geography)
    return _HIERARCHIES[key]


#: Hierarchies already built in this process, by geography and bottom series (a few).
_HIERARCHIES: dict[tuple[str, str], Hierarchy] = {}


def _build_hierarchy(b: pd.DataFrame, geography: Geography) -> Hierarchy:
    """:func:`build_hierarchy` of sorted, unique bottom series ``b``."""
    lengths = b.loc[b["ssyk"] != UNKNOWN_SSYK, "ssyk"].str.len()
    bottom_level = int(lengths.max()) if len(lengths) else 3
    region_of = _regions_of(b["municipality"].unique(), geography)
    rows: dict[tuple[str, str], int] = {}
    meta: list[tuple[str, str, str, int]] = []
    r_idx, c_idx = [], []
    for j, (m, code) in enumerate(b[["municipality", "ssyk"]].itertuples(index=False)):
        for region, kind in region_of[m]:
            for level in range(bottom_level, -1, -1):
                anc = _ssyk_ancestor(code, level, bottom_level)
                if anc is None:
                    continue
                key = (region, anc)
                if key not in rows:
                    rows[key] = len(meta)
                    meta.append((region, kind, anc, level if anc != UNKNOWN_SSYK else bottom_level))
                r_idx.append(rows[key])
                c_idx.append(j)
    series = pd.DataFrame(meta, columns=["region", "region_kind", "ssyk", "ssyk_level"])
    series["unique_id"] = series["region"] + SEP + series["ssyk"]
    is_bottom = (series["region_kind"] == "municipality") & (series["ssyk_level"] == bottom_level)
    order = np.r_[np.flatnonzero(~is_bottom), np.flatnonzero(is_bottom)]
    S = sp.csr_matrix((np.ones(len(r_idx)), (r_idx, c_idx)), shape=(len(meta), len(b)))[order]
    series = series.iloc[order].reset_index(drop=True)
    b["unique_id"] = b["municipality"] + SEP + b["ssyk"]
    bottom_ids = series.loc[len(series) - len(b) :, "unique_id"].to_numpy()
    if not np.array_equal(bottom_ids, b["unique_id"].to_numpy()):  # pragma: no cover - invariant
        raise AssertionError("bottom series order does not match S columns")
    series = series[["unique_id", "region", "region_kind", "ssyk", "ssyk_level"]]
    return Hierarchy(series=series, bottom=b, S=S, parents=_parents(series, region_of))


def _parents(series: pd.DataFrame, region_of: dict[str, list[tuple[str, str]]]) -> dict[str, str]:
    """Each series' parent: the same occupation one region up, else one SSYK level up.

    The rule of keyed panels (:func:`kompetensprognos.hierarchy.parents_in_key_order`) with
    the keys (region, SSYK) and a region's step up given by the geography.
    """
    up: dict[str, str] = {}
    for lst in region_of.values():
        county = next((r for r, k in lst if k == "county"), None)
        country = next((r for r, k in lst if k == "country"), None)
        # a municipality outside every county of the hierarchy (Kungsbacka in 'vg') goes to
        # its subregion
        wider = county or next((r for r, k in lst if k not in ("municipality", "country")), None)
        for r, kind in lst:
            if kind == "country":
                continue
            target = country if kind == "county" else (wider if kind == "municipality" else county)
            if target is not None and target != r:
                up.setdefault(r, target)
    values = series[["region", "ssyk"]].to_numpy(dtype=object)
    return parents_in_key_order(series["unique_id"], values, [up.get, ssyk_parent])


@dataclass
class DemandResult:
    """A fitted demand model's outputs for every region and occupation level.

    Attributes
    ----------
    history : pandas.DataFrame
        ``unique_id, region, region_kind, ssyk, ssyk_level, year, employed, employed_adjusted``.
    forecast : pandas.DataFrame
        Reconciled: ``unique_id, region, region_kind, ssyk, ssyk_level, year, employed`` and
        ``lo<level>, hi<level>``.
    base_forecast : pandas.DataFrame
        Before scenarios and reconciliation (engine output).
    break_factors : pandas.DataFrame
        Output of :func:`kompetensprognos.breaks.estimate_break_factors`.
    config : DemandConfig
    timings : dict[str, float]
        Seconds per step.
    method : str
        Engine method used: ``config.method``, or what ``"select"`` / ``"select_by_level"``
        chose on the data.
    """

    history: pd.DataFrame
    forecast: pd.DataFrame
    base_forecast: pd.DataFrame
    break_factors: pd.DataFrame
    config: DemandConfig
    hierarchy: Hierarchy
    timings: dict[str, float] = field(default_factory=dict)
    method: str = ""
    #: per-region paths already built (a region's path is read several times per run)
    _paths: dict[str, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def last_year(self) -> int:
        """Last observed year."""
        return int(self.history["year"].max())

    def employment_forecast(self, region: str) -> pd.DataFrame:
        """The ``employment_forecast.csv`` table for one region (observed and forecast rows).

        Returns
        -------
        pandas.DataFrame
            ``region, ssyk, ssyk_level, year, employed, lo80, hi80, lo95, hi95, kind``; observed
            rows show the published (unadjusted) values and no bounds.
        """
        self._check_region(region)
        cols = ["region", "ssyk", "ssyk_level", "year", "employed"]
        obs = self.history.loc[self.history["region"] == region, cols].assign(kind="observed")
        fc = self.forecast[self.forecast["region"] == region].drop(
            columns=["unique_id", "region_kind"]
        )
        out = pd.concat([obs, fc.assign(kind="forecast")], ignore_index=True)
        bounds = [c for c in out.columns if c[:2] in ("lo", "hi") and c[2:].isdigit()]
        out = out[[*cols, *bounds, "kind"]]
        return out.sort_values(["ssyk_level", "ssyk", "year"], kind="stable").reset_index(drop=True)

    def employment_path(self, region: str, level: int | None = None) -> pd.DataFrame:
        """Break-adjusted history followed by the reconciled forecast (for expansion demand).

        Returns
        -------
        pandas.DataFrame
            ``region, ssyk, ssyk_level, year, employed`` (plus bounds on forecast years).
        """
        if region not in self._paths:
            self._check_region(region)
            h = self.history[self.history["region"] == region]
            h = h.drop(columns=["employed"]).rename(columns={"employed_adjusted": "employed"})
            f = self.forecast[self.forecast["region"] == region]
            out = pd.concat([h, f], ignore_index=True).drop(columns=["unique_id", "region_kind"])
            self._paths[region] = out.sort_values(["ssyk", "year"]).reset_index(drop=True)
        out = self._paths[region]
        if level is not None:
            return out[out["ssyk_level"] == level].reset_index(drop=True)
        return out.copy()

    def _check_region(self, region: str) -> None:
        known = set(self.history["region"])
        if region not in known:
            raise KompetensprognosError(
                f"no demand results for region {region!r}; known regions include "
                + ", ".join(sorted(r for r in known if not r.isdigit()))
            )


class DemandModel:
    """Fit the demand side for all regions of a dataset at once (the hierarchy is joint).

    Parameters
    ----------
    config : DemandConfig, optional
        Settings; defaults are the backtest-chosen ones.
    progress : bool, default False
        Show progress bars.
    executor : Executor, optional
        Runs the forecasting chunks (:mod:`kompetensprognos.executors`, e.g. a
        :class:`~kompetensprognos.executors.DaskExecutor`); default: in-process. Results do
        not depend on the executor.

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> result = DemandModel().fit(load_dataset("demo"))  # doctest: +SKIP
    >>> result.employment_forecast("skaraborg").head()  # doctest: +SKIP
    """

    def __init__(
        self,
        config: DemandConfig | None = None,
        progress: bool = False,
        executor: Executor | None = None,
    ) -> None:
        self.config = config or DemandConfig()
        self.progress = progress
        self.executor = executor

    def _aggregate_history(self, bottom: pd.DataFrame) -> pd.DataFrame:
        """Every series of the hierarchy summed from ``bottom``: ``unique_id, year, y``."""
        hier = build_hierarchy(bottom, self.config.geography)
        years = sorted(bottom["year"].unique())
        ids = hier.series["unique_id"].to_numpy()
        wide = to_wide(
            bottom.assign(unique_id=bottom["municipality"] + SEP + bottom["ssyk"]),
            hier.bottom["unique_id"],
            years,
            "employed",
            period="year",
        )
        allv = np.asarray(hier.S @ wide)
        return pd.DataFrame(
            {
                "unique_id": np.repeat(ids, len(years)),
                "year": np.tile(years, len(ids)),
                "y": allv.reshape(-1),
            }
        )

    def fit(self, dataset: Dataset, *, until: int | None = None) -> DemandResult:
        """Forecast every series to ``config.end_year``; ``until`` truncates history (backtests)."""
        cfg = self.config
        t0 = time.perf_counter()
        bottom, adjusted, factors = latest_basis(dataset, until=until, adjust=cfg.adjust_breaks)
        result = self.fit_panel(bottom, adjusted)
        result.break_factors = factors
        result.timings["total"] = time.perf_counter() - t0
        return result

    def fit_panel(self, bottom: pd.DataFrame, adjusted: pd.DataFrame) -> DemandResult:
        """Fit on bottom series given as published (``bottom``) and on the latest basis (``adjusted``).

        Both frames have ``municipality, ssyk, year, employed``.
        """
        cfg = self.config
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        last = int(bottom["year"].max())
        horizon = cfg.end_year - last
        if horizon < 1:
            raise KompetensprognosError(
                f"end_year {cfg.end_year} must come after the last observed year {last}"
            )
        factors = pd.DataFrame()
        hier = build_hierarchy(bottom, cfg.geography)
        ids = hier.series["unique_id"].to_numpy()
        years = sorted(bottom["year"].unique())
        raw_b = to_wide(
            bottom.assign(unique_id=bottom["municipality"] + SEP + bottom["ssyk"]),
            hier.bottom["unique_id"],
            years,
            "employed",
            period="year",
        )
        adj_b = to_wide(
            adjusted.assign(unique_id=adjusted["municipality"] + SEP + adjusted["ssyk"]),
            hier.bottom["unique_id"],
            years,
            "employed",
            period="year",
        )
        raw_all, adj_all = hier.S @ raw_b, hier.S @ adj_b
        timings["hierarchy"] = time.perf_counter() - t0

        panel = pd.DataFrame(
            {
                "unique_id": np.repeat(ids, len(years)),
                "ds": np.tile(years, len(ids)),
                "y": adj_all.reshape(-1),
            }
        )
        f_years = list(range(last + 1, cfg.end_year + 1))
        # the pooling methods (share, parent, sdrift, pdrift) read each series' parent, and a
        # per-level method ``bygroup(...)`` or ``select_by_level`` the level (as `tags`)
        level = hier.series["region_kind"] + "/ssyk" + hier.series["ssyk_level"].astype(str)
        res = forecast_reconciled(
            panel,
            hier.S,
            ids,
            horizon=horizon,
            method=cfg.method,
            levels=cfg.levels,
            parents=hier.parents,
            groups=pd.Series(level.to_numpy(), index=hier.series["unique_id"]),
            calibration_origins=min(cfg.calibration_origins, max(len(years) - 4, 0)),
            reconciliation=cfg.reconciliation,
            delta=_scenario_delta(cfg.scenarios, hier, f_years),
            chunk_size=cfg.chunk_size,
            executor=self.executor,
            progress=self.progress,
        )
        base = res.base
        timings.update(res.seconds)
        out = dict(res.values)
        out = {"employed": out.pop("forecast"), **out}

        meta = hier.series.loc[np.repeat(np.arange(len(ids)), len(f_years))].reset_index(drop=True)
        forecast = meta.assign(
            year=np.tile(f_years, len(ids)), **{k: v.reshape(-1) for k, v in out.items()}
        )
        hmeta = hier.series.loc[np.repeat(np.arange(len(ids)), len(years))].reset_index(drop=True)
        history = hmeta.assign(
            year=np.tile(years, len(ids)),
            employed=np.asarray(raw_all).reshape(-1),
            employed_adjusted=np.asarray(adj_all).reshape(-1),
        )
        timings["total"] = time.perf_counter() - t0
        return DemandResult(
            history=history,
            forecast=forecast,
            base_forecast=base,
            break_factors=factors,
            config=cfg,
            hierarchy=hier,
            timings=timings,
            method=res.method,
        )


def _scenario_delta(
    scenarios: Sequence[ScenarioAdjustment], hier: Hierarchy, f_years: Sequence[int]
) -> np.ndarray:
    """Scenario jobs per series and forecast year (bottom cell and all its aggregates)."""
    n_b = hier.S.shape[1]
    delta_b = np.zeros((n_b, len(f_years)))
    if not scenarios:
        return np.zeros((hier.S.shape[0], len(f_years)))
    index = {u: j for j, u in enumerate(hier.bottom["unique_id"])}
    for s in scenarios:
        uid = s.municipality + SEP + s.ssyk
        if uid not in index:
            raise KompetensprognosError(
                f"scenario '{s.description or uid}': no employment series for municipality "
                f"{s.municipality} and SSYK {s.ssyk} — use a code at the table's SSYK level"
            )
        for k, y in enumerate(f_years):
            if y >= s.year:
                delta_b[index[uid], k] += s.jobs * min(1.0, (y - s.year + 1) / s.ramp_years)
    return np.asarray(hier.S @ delta_b)


BACKTEST_COLUMNS = [
    "region",
    "model",
    "horizon",
    "mase",
    "smape",
    "direction_accuracy",
    "coverage80",
    "coverage95",
]


def _origin_truth(
    dataset: Dataset, origins: Sequence[int], adjust: bool, geography: Geography
) -> dict[int, pd.DataFrame]:
    """Actuals per origin on the data basis that origin knew, for every series of the hierarchy.

    Up to the origin: the published series adjusted for the breaks declared up to it, with
    factors estimated from those years only (exactly the model's input). After the origin:
    published values, divided by the factor of every later break they lie beyond (estimated
    ex post on all years), so a break the origin could not know is not scored as its error.
    """
    bottom = bottom_panel(dataset)
    _, _, full = latest_basis(dataset, adjust=adjust)
    model = DemandModel(DemandConfig(geography=geography))
    out: dict[int, pd.DataFrame] = {}
    for origin in origins:
        _, known, _ = latest_basis(dataset, until=origin, adjust=adjust)
        after = bottom[bottom["year"] > origin].copy()
        if not full.empty:
            div = np.ones(len(after))
            for b, f in full[full["break_year"] > origin].groupby("break_year"):
                beyond = (after["year"] >= b).to_numpy()
                fmap = f.set_index("ssyk")["factor"]
                div[beyond] *= after.loc[beyond, "ssyk"].map(fmap).fillna(1.0).to_numpy()
            after["employed"] = after["employed"].to_numpy() / div
        truth = model._aggregate_history(pd.concat([known, after], ignore_index=True))
        out[int(origin)] = truth.rename(columns={"year": "ds"})
    return out


def backtest_origins(dataset: Dataset) -> list[int]:
    """The default origins of :func:`backtest_demand`: the four years before the last observed.

    Examples
    --------
    >>> from kompetensprognos.datamodel import Dataset, Manifest
    >>> emp = pd.DataFrame({"year": [2021, 2022], "region": "1485", "ssyk": "2221",
    ...                     "sex": "1", "employed": 5})
    >>> m = Manifest(name="x", source="y", vintage="z")
    >>> backtest_origins(Dataset(manifest=m, employment=emp))
    [2018, 2019, 2020, 2021]
    """
    last = int(bottom_panel(dataset)["year"].max())
    return list(range(last - 4, last))


def backtest_demand(
    dataset: Dataset,
    *,
    config: DemandConfig | None = None,
    origins: Sequence[int] | None = None,
    regions_: Sequence[str] = regions.REGION_IDS,
    ssyk_level: int = 3,
    horizon: int = 6,
    progress: bool = False,
) -> pd.DataFrame:
    """Rolling-origin backtest of the demand model against naive, drift and constant-share.

    Leak-free (``tests/test_leaks.py``): at each origin the model sees the published series up to
    the origin, put on the latest basis known then (breaks declared up to the origin, factors
    estimated from those years only, :func:`latest_basis` with ``until``). It is scored on the
    following years expressed on that same basis (:func:`_origin_truth`), for every occupation at
    ``ssyk_level`` in each region. Baselines: *naive* (last value), *drift* (straight line through
    the first and last value), *constant_share* (the occupation keeps its share of the region's
    total; the total comes from the model). Runs through
    :func:`kompetensprognos.backtesting.rolling_origin`.

    Parameters
    ----------
    dataset : Dataset
    config : DemandConfig, optional
        Model settings (``end_year`` is overridden per origin).
    origins : sequence of int, optional
        Last training years; default: the last four years before the last observed year.
    regions_ : sequence of str
        Regions to score.
    ssyk_level : int, default 3
        Occupation level scored.
    horizon : int, default 6
        Longest horizon.
    progress : bool
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        Scored rows: ``region, model, origin, horizon, ssyk, y, forecast, ...`` (see
        :func:`kompetensprognos.evaluation.score_forecasts`). Summarise with
        :func:`backtest_table`.
    """
    from tqdm import tqdm

    from kompetensprognos.backtesting import rolling_origin
    from kompetensprognos.evaluation import score_forecasts

    cfg = config or DemandConfig()
    last = int(bottom_panel(dataset)["year"].max())
    origins = list(origins) if origins is not None else backtest_origins(dataset)
    truth = _origin_truth(dataset, origins, cfg.adjust_breaks, cfg.geography)
    bar = tqdm(total=len(origins), desc="demand backtest", disable=not progress)

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        h = min(h, last - cutoff)
        bottom, adjusted, _ = latest_basis(dataset, until=cutoff, adjust=cfg.adjust_breaks)
        # two calibration origins suffice here: errors are pooled over ~11,000 series
        model = DemandModel(
            cfg.model_copy(
                update={
                    "end_year": cutoff + h,
                    "calibration_origins": min(cfg.calibration_origins, 2),
                }
            )
        )
        # the model's input is the basis known at the cutoff (published years kept raw here
        # only for the history columns, which the backtest does not use)
        res = model.fit_panel(bottom, adjusted)
        bar.update()
        fc = res.forecast[
            res.forecast["region"].isin(regions_) & res.forecast["ssyk_level"].isin([ssyk_level, 0])
        ]
        return fc.rename(columns={"year": "ds", "employed": "forecast"})

    rf = rolling_origin(predict, truth, origins, horizon, min_obs=2)
    bar.close()
    base = rf.rename(columns={"ds": "year"})
    model_rows = base.assign(model="kompetensprognos")
    naive = base.assign(model="naive", forecast=base["last"])
    drift = base.assign(
        model="drift", forecast=np.maximum(base["last"] + base["slope"] * base["horizon"], 0.0)
    )
    tot = base[base["ssyk_level"] == 0].set_index(["region", "cutoff", "year"])["forecast"]
    tot_last = base[base["ssyk_level"] == 0].groupby(["region", "cutoff"])["last"].first()
    share = (
        base["last"].to_numpy()
        / tot_last.reindex(pd.MultiIndex.from_frame(base[["region", "cutoff"]])).to_numpy()
    )
    cshare = base.assign(
        model="constant_share",
        forecast=share
        * tot.reindex(pd.MultiIndex.from_frame(base[["region", "cutoff", "year"]])).to_numpy(),
    )
    for f in (naive, drift, cshare):
        for c in [c for c in f.columns if c[:2] in ("lo", "hi") and c[2:].isdigit()]:
            f[c] = np.nan
    rf = pd.concat([model_rows, naive, drift, cshare], ignore_index=True)
    rf = rf[rf["ssyk_level"] == ssyk_level].assign(origin=lambda d: d["cutoff"])
    rf = rf.drop(columns=["cutoff"])
    scored = score_forecasts(rf, levels=cfg.levels)
    baseline = scored["model"] != "kompetensprognos"
    for level in cfg.levels:  # baselines have no intervals: coverage is undefined, not 0
        scored.loc[baseline, [f"in{level:g}", f"width{level:g}"]] = np.nan
    return scored


def backtest_table(detail: pd.DataFrame, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
    """Summarise :func:`backtest_demand` rows into the ``backtest.csv`` contract.

    Returns
    -------
    pandas.DataFrame
        ``region, model, horizon, mase, smape, direction_accuracy, coverage80, coverage95``.
    """
    from kompetensprognos.evaluation import summarise

    out = summarise(detail, levels=levels, by=("region", "model", "horizon"))
    return out[BACKTEST_COLUMNS]

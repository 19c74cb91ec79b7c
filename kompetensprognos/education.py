"""Graduate projections per region, education and year, with calibrated simulated paths.

Two model families, one per kind of education (see ``docs/methods.md``, section *Supply*):

* **Upper secondary (gymnasium)** — cohort models on the region's 16-year-olds (population
  table, observed or projected). ``cohort:starters``: starters (observed, or 16-year-olds × a
  programme share with a damped logit-linear trend, a statsmodels binomial GLM) times completion
  within three years (a binomial GLM per programme on graduates / starters three years earlier,
  region effect, common damped cohort trend). ``cohort:ratio``: one binomial GLM on graduates /
  16-year-olds three years earlier (also the fallback without starters). The variant with the
  lower rolling-origin MASE is used (``gymnasium_model="auto"``).
* **YH and higher education** — graduates per SUN field forecast from history by the
  forecasting engine (:func:`kompetensprognos.models.forecast_points`), either directly or as
  a *rate per 1,000 inhabitants aged 19–34* times the projected cohort. For each type the
  variant with the lower rolling-origin MASE is used (``cohort="auto"``).

Intervals come from the same rolling-origin machinery as the demand forecasts: each model is
re-run from earlier origins, its errors are scaled by the series' naive MAE and calibrated per
horizon with :func:`kompetensprognos.forecasting.calibrate_intervals`. Simulated paths draw from
that calibrated distribution through a Gaussian copula (random-walk correlation over horizons,
a common factor across the series of one type), so the supply step can push whole paths
through its arithmetic.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy.stats import norm

from kompetensprognos import regions
from kompetensprognos.backtesting import Predictor, calibrated_scores, rolling_origin
from kompetensprognos.dataset import Dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.evaluation import summarise, to_backtest_table
from kompetensprognos.forecasting import calibrate_intervals, error_scale
from kompetensprognos.models import forecast_points, parse_method

__all__ = [
    "COHORT_AGES",
    "DAMPING",
    "DEFAULT_METHOD",
    "INTAKE_AGE",
    "GraduateProjection",
    "backtest_graduates",
    "completion_model",
    "project_graduates",
]

#: Age of the upper-secondary intake (16 at 31 December of the starting year).
INTAKE_AGE = 16
#: Ages of the cohort that drives YH and higher-education graduates (inclusive).
COHORT_AGES: tuple[int, int] = (19, 34)
#: Engine method for YH/higher series. Chosen on the demo backtest among cheap candidates
#: (``benchmarks/supply_figures.py``); the engine's ``"auto"`` is ~100x slower here.
DEFAULT_METHOD = "mean(ets,dotheta)"
#: Yearly damping of extrapolated logit trends (shares, completion) beyond the last data year.
DAMPING = 0.5
_PROBS = (10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98)  # levels whose quantiles define Q_h
_SEP = "|"


# --- small helpers -----------------------------------------------------------------------------


def _uid(df: pd.DataFrame) -> pd.Series:
    return df["region"] + _SEP + df["type"] + _SEP + df["education"]


def _split_uid(uids: Sequence[str]) -> pd.DataFrame:
    parts = [u.split(_SEP) for u in uids]
    return pd.DataFrame(parts, columns=["region", "type", "education"])


def _damped_t(t: np.ndarray, last: float, damping: float) -> np.ndarray:
    """Effective trend time: ``t`` up to ``last``, then ``last + phi + phi^2 + ...``."""
    t = np.asarray(t, float)
    k = np.maximum(t - last, 0.0)
    if damping >= 1:
        extra = k
    else:
        extra = damping * (1 - damping**k) / (1 - damping)
    return np.where(t <= last, t, last + extra)


def _glm_rate(
    succ: np.ndarray,
    trials: np.ndarray,
    t: np.ndarray,
    targets: np.ndarray,
    groups: np.ndarray | None = None,
    target_groups: np.ndarray | None = None,
    *,
    trend: bool = True,
    damping: float = DAMPING,
) -> np.ndarray:
    """Binomial GLM of ``succ / trials`` on group effects and a common damped year trend.

    Falls back to the pooled ratio per group when the GLM cannot be fitted (too few points,
    all successes or all failures).
    """
    succ = np.minimum(np.asarray(succ, float), np.asarray(trials, float))
    trials = np.asarray(trials, float)
    ok = trials > 0
    succ, trials, t = succ[ok], trials[ok], np.asarray(t, float)[ok]
    if groups is None:
        groups = np.zeros(len(ok), dtype=int)
        target_groups = np.zeros(len(targets), dtype=int)
    groups = np.asarray(groups)[ok]
    assert target_groups is not None
    levels = list(pd.unique(groups))
    pooled_all = succ.sum() / trials.sum() if trials.sum() > 0 else 0.0
    ratio = {g: (succ[groups == g].sum() / trials[groups == g].sum()) for g in levels}
    fallback = np.array([ratio.get(g, pooled_all) for g in target_groups], dtype=float)
    if len(succ) < 2 or succ.sum() == 0 or (trials - succ).sum() == 0:
        return fallback
    last = float(t.max())
    centre = float(t.mean())
    dummies = (groups[:, None] == np.array(levels)[None, :]).astype(float)
    use_trend = trend and len(np.unique(t)) >= 3
    cols = [dummies] + ([(t - centre)[:, None]] if use_trend else [])
    X = np.hstack(cols)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = sm.GLM(np.c_[succ, trials - succ], X, family=sm.families.Binomial()).fit()
        params = np.asarray(res.params, float)
        if not np.all(np.isfinite(params)):
            return fallback
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return fallback
    known = np.array([g in ratio for g in target_groups])
    idx = np.array([levels.index(g) if g in ratio else 0 for g in target_groups])
    eta = params[idx]
    if use_trend:
        eta = eta + params[-1] * (_damped_t(targets, last, damping) - centre)
    rate = 1 / (1 + np.exp(-eta))
    return np.where(known, rate, fallback)


def _population_by_region(dataset: Dataset) -> pd.DataFrame:
    """Population per region id (and municipality) × year × age, both sexes."""
    pop = dataset.require("population")
    pop = pop.groupby(["region", "year", "age"], as_index=False)["population"].sum()
    if pop["region"].map(regions.is_municipality).all():
        agg = regions.aggregate_regions(pop, "population")
        pop = pd.concat([pop, agg], ignore_index=True)
    return pop


def _cohort(pop: pd.DataFrame, ages: tuple[int, int]) -> pd.Series:
    """Population aged ``ages[0]..ages[1]`` indexed by (region, year)."""
    sel = pop[(pop["age"] >= ages[0]) & (pop["age"] <= ages[1])]
    return sel.groupby(["region", "year"])["population"].sum()


def _last_observed_population(dataset: Dataset) -> int:
    """Last year of *observed* population (rows after it are a projection)."""
    pop = dataset.require("population")
    if "kind" in pop.columns and (pop["kind"] == "observed").any():
        return int(pop.loc[pop["kind"] == "observed", "year"].max())
    return int(pop["year"].max())


class _PopulationVintages:
    """The population each origin could know: cohort sizes as seen from a cutoff year.

    Up to the cutoff: the observed population. After it: the cutoff's population aged one year
    per year (no deaths, no migration — the projection an origin can make from its own data),
    except from ``last_observed`` on, where the dataset's own rows (observed, then projected)
    are what the origin knows. A backtest that read the observed population after its origin would
    score a cohort model with knowledge no forecast has (``tests/test_leaks.py``).
    """

    def __init__(self, pop: pd.DataFrame, last_observed: int) -> None:
        self.pop = pop
        self.last_observed = int(last_observed)
        self._cache: dict[int, pd.DataFrame] = {}

    def at(self, cutoff: int) -> pd.DataFrame:
        """``region, year, age, population`` as known at ``cutoff``."""
        cutoff = int(cutoff)
        if cutoff >= self.last_observed:
            return self.pop
        if cutoff not in self._cache:
            pop = self.pop
            base = pop[pop["year"] == cutoff]
            aged = [
                base.assign(year=cutoff + k, age=base["age"] + k)
                for k in range(1, int(pop["year"].max()) - cutoff + 1)
            ]
            self._cache[cutoff] = pd.concat([pop[pop["year"] <= cutoff], *aged], ignore_index=True)
        return self._cache[cutoff]

    def n16(self, cutoff: int) -> dict[str, pd.Series]:
        """16-year-olds per region as a year series, as known at ``cutoff``."""
        n16_all = _cohort(self.at(cutoff), (INTAKE_AGE, INTAKE_AGE))
        return {r: v.droplevel(0) for r, v in n16_all.groupby(level=0)}

    def young(self, cutoff: int) -> pd.Series:
        """The 19–34 cohort per (region, year), as known at ``cutoff``."""
        return _cohort(self.at(cutoff), COHORT_AGES)


def _education_base(dataset: Dataset) -> pd.DataFrame:
    """Education output per *base* region: subregion ids as given, or every region id summed
    from municipality rows (then each region is projected directly, no approximation)."""
    eo = dataset.require("education_output").copy()
    if "starters" not in eo.columns:
        eo["starters"] = np.nan
    if eo["region"].map(regions.is_municipality).all():
        agg = regions.aggregate_regions(eo, ["graduates", "starters"])
        return agg
    return eo


# --- rolling-origin machinery ------------------------------------------------------------------


def _rolling(
    panel: pd.DataFrame, predict: Predictor, offsets: Sequence[int], h: int, floor: float = 1.0
) -> pd.DataFrame:
    """:func:`kompetensprognos.backtesting.rolling_origin` from ``last year - offset`` origins,
    with the ``offset`` column the calibration here selects on."""
    last_year = int(panel["ds"].max())
    origins = [last_year - int(off) for off in offsets]
    rf = rolling_origin(predict, panel, origins, h, floor=floor)
    rf.insert(1, "offset", last_year - rf["cutoff"].astype(int))
    return rf


def _scaled_errors(rf: pd.DataFrame, max_offset: int) -> pd.DataFrame:
    cal = rf[(rf["offset"] <= max_offset) & (rf["horizon"] <= rf["offset"])].copy()
    cal["scaled_error"] = (cal["y"] - cal["forecast"]) / cal["iscale"]
    return cal.dropna(subset=["scaled_error"])


def _score(
    rfs: dict[str, pd.DataFrame],
    h: int,
    n_cal: int,
    levels: Sequence[float] = (80, 95),
    min_errors: int = 30,
) -> pd.DataFrame:
    """Score rolling-origin frames on their common rows with intervals calibrated on earlier
    origins only (:func:`kompetensprognos.backtesting.calibrated_scores`)."""
    return calibrated_scores(rfs, h, n_cal, levels, min_errors)


# --- gymnasium cohort model --------------------------------------------------------------------


def completion_model(
    starters: pd.DataFrame, graduates: pd.DataFrame, *, trend: bool = True
) -> pd.DataFrame:
    """Completion within three years per programme and region: a binomial GLM over cohorts.

    For each programme, ``graduates[t] / starters[t - 3]`` is modelled as binomial with a
    region effect and a common linear trend in the cohort (start) year.

    Parameters
    ----------
    starters : pandas.DataFrame
        ``region, education, year, starters`` (start year).
    graduates : pandas.DataFrame
        ``region, education, year, graduates`` (graduation year).
    trend : bool, default True
        Include the common cohort trend (needs three or more cohorts).

    Returns
    -------
    pandas.DataFrame
        ``region, education, cohort, starters, graduates, completion`` (fitted rate) for every
        cohort with both numbers.

    Examples
    --------
    >>> s = pd.DataFrame({"region": "r", "education": "VO", "year": [2014, 2015],
    ...                   "starters": [100.0, 100.0]})
    >>> g = pd.DataFrame({"region": "r", "education": "VO", "year": [2017, 2018],
    ...                   "graduates": [70.0, 66.0]})
    >>> round(float(completion_model(s, g)["completion"].iloc[0]), 2)
    0.68
    """
    g = graduates.assign(cohort=graduates["year"] - 3)[["region", "education", "cohort",
                                                           "graduates"]]  # fmt: skip
    s = starters.rename(columns={"year": "cohort"})[["region", "education", "cohort", "starters"]]
    pairs = s.merge(g, on=["region", "education", "cohort"]).dropna()
    pairs = pairs[pairs["starters"] > 0].reset_index(drop=True)
    pairs["completion"] = np.nan
    for _, idx in pairs.groupby("education").groups.items():
        d = pairs.loc[idx]
        pairs.loc[idx, "completion"] = _glm_rate(
            d["graduates"].to_numpy(), d["starters"].to_numpy(), d["cohort"].to_numpy(),
            d["cohort"].to_numpy(), d["region"].to_numpy(), d["region"].to_numpy(), trend=trend,
        )  # fmt: skip
    return pairs


def _gym_predictor(
    gym: pd.DataFrame,
    vintages: _PopulationVintages,
    damping: float = DAMPING,
    observed_starters: bool = False,
    completion_trend: bool = True,
    use_starters: bool = True,
) -> Predictor:
    """Cohort model for the gymnasium panel (``region, education, year, graduates, starters``)."""

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        d = gym[gym["year"] <= cutoff]
        n16 = vintages.n16(cutoff)  # the 16-year-olds this origin could know
        targets = np.arange(cutoff + 1, cutoff + h + 1)
        rows = []
        cohorts = targets - 3
        for prog, dp in d.groupby("education"):
            has_starters = dp.groupby("region")["starters"].apply(lambda v: v.notna().any())
            # completion: graduates[t] / starters[t-3], one GLM per programme over all regions
            s = dp[["region", "year", "starters"]].dropna()
            pairs = s.assign(year=s["year"] + 3).merge(
                dp[["region", "year", "graduates"]], on=["region", "year"]
            )
            with_s = [r for r in has_starters.index if has_starters[r]]
            comp_all: dict[str, np.ndarray] = {}
            if len(pairs) and with_s and use_starters:
                rates = _glm_rate(
                    pairs["graduates"].to_numpy(), pairs["starters"].to_numpy(),
                    pairs["year"].to_numpy() - 3, np.tile(cohorts, len(with_s)),
                    pairs["region"].to_numpy(), np.repeat(with_s, len(cohorts)),
                    trend=completion_trend, damping=damping,
                )  # fmt: skip
                comp_all = {r: rates[i * h : (i + 1) * h] for i, r in enumerate(with_s)}
            for region, dr in dp.groupby("region"):
                n16_r = n16.get(region)
                if n16_r is None:
                    continue
                if region in comp_all:
                    sr = dr.set_index("year")["starters"].dropna()
                    known = (cohorts <= cutoff) & observed_starters
                    start = np.where(known, sr.reindex(cohorts).to_numpy(), np.nan)
                    need = np.isnan(start)
                    if need.any():
                        tr = n16_r.reindex(sr.index).to_numpy()
                        share = _glm_rate(
                            sr.to_numpy(), tr, sr.index.to_numpy(), cohorts[need],
                            damping=damping,
                        )  # fmt: skip
                        start[need] = share * n16_r.reindex(cohorts[need]).to_numpy()
                    fc = start * comp_all[region]
                else:  # no starters: graduates per 16-year-old three years earlier
                    gr = dr.set_index("year")["graduates"]
                    base = n16_r.reindex(gr.index - 3).to_numpy()
                    ok = ~np.isnan(base)
                    if ok.sum() < 2:
                        continue
                    rate = _glm_rate(
                        gr.to_numpy()[ok], base[ok], gr.index.to_numpy()[ok], targets,
                        damping=damping,
                    )  # fmt: skip
                    fc = rate * n16_r.reindex(cohorts).to_numpy()
                rows.append(
                    pd.DataFrame(
                        {
                            "unique_id": f"{region}{_SEP}gymnasium{_SEP}{prog}",
                            "ds": targets,
                            "forecast": fc,
                        }
                    )
                )
        if not rows:
            return pd.DataFrame(columns=["unique_id", "ds", "forecast"])
        out = pd.concat(rows, ignore_index=True).dropna()
        out["forecast"] = out["forecast"].clip(lower=0.0)
        return out

    return predict


# --- YH and higher -----------------------------------------------------------------------------


def _engine_predictor(panel: pd.DataFrame, method: str) -> Predictor:
    def predict(cutoff: int, h: int) -> pd.DataFrame:
        train = panel[panel["ds"] <= cutoff]
        n = train.groupby("unique_id")["y"].transform("size")
        train = train[n >= 3]
        if train.empty:
            return pd.DataFrame(columns=["unique_id", "ds", "forecast"])
        pts, _ = forecast_points(train, method, h)
        pts["forecast"] = pts["forecast"].clip(lower=0.0)
        return pts

    return predict


def _cohort_predictor(panel: pd.DataFrame, vintages: _PopulationVintages, method: str) -> Predictor:
    """Rate per 1,000 of the cohort, forecast by the engine, times the cohort as projected from
    the origin (:class:`_PopulationVintages`)."""
    cohort = vintages.young(vintages.last_observed)  # observed years: the same in every vintage
    region = panel["unique_id"].str.split(_SEP).str[0]
    size = cohort.reindex(pd.MultiIndex.from_arrays([region, panel["ds"]])).to_numpy()
    rate_panel = panel.assign(y=panel["y"] / size * 1000, _region=region.to_numpy()).dropna()
    regions_of = rate_panel.drop_duplicates("unique_id").set_index("unique_id")["_region"]
    rate_panel = rate_panel.drop(columns="_region")
    inner = _engine_predictor(rate_panel, method)

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        pts = inner(cutoff, h)
        idx = pd.MultiIndex.from_arrays([pts["unique_id"].map(regions_of), pts["ds"]])
        known = vintages.young(cutoff)
        pts["forecast"] = pts["forecast"] * known.reindex(idx).to_numpy() / 1000
        return pts.dropna()

    return predict


# --- projection object -------------------------------------------------------------------------


@dataclass
class GraduateProjection:
    """Projected graduates per base region, education and year, with simulated paths.

    Attributes
    ----------
    history : pandas.DataFrame
        Observed ``region, type, education, year, graduates`` of the base regions.
    forecast : pandas.DataFrame
        Point forecasts ``region, type, education, year, graduates`` for the forecast years.
    series : pandas.DataFrame
        ``region, type, education`` of each simulated series (rows of :attr:`draws`).
    years : numpy.ndarray
        Forecast years (columns of the last axis of :attr:`draws`).
    draws : numpy.ndarray
        Simulated graduates, shape ``(n_series, n_sims, n_years)``, non-negative.
    models : dict[str, str]
        Model used per education type (``"cohort"`` for gymnasium; engine method, possibly
        prefixed ``cohort:``, for yh and higher).
    rolling : dict[str, pandas.DataFrame]
        Rolling-origin frames per model name (for backtests and calibration).
    calibration : dict[str, pandas.DataFrame]
        :func:`calibrate_intervals` output per type at the level grid used for simulation.
    correlation : dict[str, float]
        Estimated common-factor correlation of scaled errors per type.
    population : pandas.DataFrame
        Population per region, year and age (both sexes), used for region weights.
    """

    history: pd.DataFrame
    forecast: pd.DataFrame
    series: pd.DataFrame
    years: np.ndarray
    draws: np.ndarray
    models: dict[str, str]
    rolling: dict[str, pd.DataFrame] = field(default_factory=dict)
    calibration: dict[str, pd.DataFrame] = field(default_factory=dict)
    correlation: dict[str, float] = field(default_factory=dict)
    population: pd.DataFrame | None = None
    h: int = 6
    n_cal: int = 6

    @property
    def last_observed(self) -> int:
        """Last year with observed graduates."""
        return int(self.history["year"].max())


def _icc(errors: pd.DataFrame) -> float:
    """Intra-class correlation of scaled errors within (origin, horizon): the share of error
    variance common to all series of a type (method of moments, clipped to [0, 0.9])."""
    e = errors[["offset", "horizon", "scaled_error"]].dropna()
    if len(e) < 10:
        return 0.0
    z = e["scaled_error"].clip(*e["scaled_error"].quantile([0.01, 0.99]))
    total = float(z.var())
    if not total > 0:
        return 0.0
    g = z.groupby([e["offset"], e["horizon"]])
    means, n = g.mean(), g.size()
    within = float((g.var() * (n - 1)).sum() / max((n - 1).sum(), 1))
    between = float(((means - z.mean()) ** 2).mean())
    inv_n = float((1 / n).mean())
    rho = (between - within * inv_n) / max(between - within * inv_n + within, 1e-12)
    return float(np.clip(rho, 0.0, 0.9))


def _quantile_function(cal: pd.DataFrame, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``p`` (shared) and ``q[h-1, k]`` of the calibrated scaled-error quantiles."""
    probs, qs = [0.5], [np.zeros(h)]
    for level in _PROBS:
        c = cal[cal["level"] == level].set_index("horizon").reindex(range(1, h + 1))
        a = (1 - level / 100) / 2
        probs += [a, 1 - a]
        qs += [c["q_lo"].to_numpy(), c["q_hi"].to_numpy()]
    order = np.argsort(probs)
    q = np.vstack(qs)[order].T  # (h, k)
    q = np.maximum.accumulate(q, axis=1)
    return np.asarray(probs)[order], q


def _simulate(
    point: np.ndarray,
    scale: np.ndarray,
    cal: pd.DataFrame,
    rho: float,
    n_sims: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Draw paths ``(n_series, n_sims, h)`` from calibrated quantiles via a Gaussian copula."""
    n, h = point.shape
    probs, q = _quantile_function(cal, h)
    common = rng.standard_normal((1, n_sims, h))
    own = rng.standard_normal((n, n_sims, h))
    steps = np.sqrt(rho) * common + np.sqrt(1 - rho) * own
    z = np.cumsum(steps, axis=2) / np.sqrt(np.arange(1, h + 1))  # random-walk correlation
    u = norm.cdf(z)
    e = np.empty_like(u)
    for j in range(h):
        e[:, :, j] = np.interp(u[:, :, j], probs, q[j])
    return np.maximum(point[:, None, :] + e * scale[:, None, None], 0.0)


def _choose(
    rfs: dict[str, pd.DataFrame], candidates: Sequence[str], h: int, n_cal: int
) -> tuple[str, pd.DataFrame]:
    scored = _score({c: rfs[c] for c in candidates}, h, n_cal)
    if scored.empty:
        return candidates[0], scored
    mase = scored.groupby("model")["ase"].mean()
    return str(mase.idxmin()), scored


def project_graduates(
    dataset: Dataset,
    end_year: int = 2030,
    *,
    method: str = DEFAULT_METHOD,
    cohort: bool | str = "auto",
    gymnasium_model: str = "auto",
    n_sims: int = 1000,
    seed: int = 0,
    n_cal: int | None = None,
    damping: float = DAMPING,
) -> GraduateProjection:
    """Project graduates of every education and base region to ``end_year``, with paths.

    Parameters
    ----------
    dataset : Dataset
        Needs ``education_output`` and ``population``.
    end_year : int, default 2030
        Last forecast year; must lie after the last observed year.
    method : str, default DEFAULT_METHOD
        Engine method for YH and higher-education series (see
        :func:`kompetensprognos.models.parse_method`).
    cohort : bool or "auto", default "auto"
        Drive YH/higher by the 19–34 cohort (rate × cohort). ``"auto"`` chooses per type by
        rolling-origin MASE.
    gymnasium_model : {"auto", "starters", "ratio"}, default "auto"
        ``"starters"``: observed starters (known cohorts) or 16-year-olds × programme share,
        times completion; ``"ratio"``: graduates per 16-year-old three years earlier (one GLM,
        smoother). ``"auto"`` chooses by rolling-origin MASE.
    n_sims : int, default 1000
        Simulated paths per series.
    seed : int, default 0
        Random seed for the paths.
    n_cal : int, optional
        Earlier origins used for interval calibration (default: the horizon).
    damping : float, default DAMPING
        Yearly damping of the share and completion trends.

    Returns
    -------
    GraduateProjection

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> proj = project_graduates(load_dataset("demo"), 2027, n_sims=50)  # doctest: +SKIP
    >>> proj.draws.shape[1:]  # doctest: +SKIP
    (50, 3)
    """
    parse_method(method)
    if gymnasium_model not in ("auto", "starters", "ratio"):
        raise KompetensprognosError(
            f"gymnasium_model must be 'auto', 'starters' or 'ratio' (got {gymnasium_model!r})"
        )
    if cohort not in (True, False, "auto"):
        raise KompetensprognosError(f"cohort must be True, False or 'auto' (got {cohort!r})")
    eo = _education_base(dataset)
    last = int(eo["year"].max())
    h = int(end_year) - last
    if h < 1:
        raise KompetensprognosError(
            f"end_year {end_year} must be after the last observed year of education_output ({last})"
        )
    n_cal = h if n_cal is None else int(n_cal)
    pop = _population_by_region(dataset)
    # origins from the last year of both tables on use the dataset's population as it is (the
    # final forecast, or a projection made from data the origin had); earlier origins age theirs
    vintages = _PopulationVintages(pop, min(_last_observed_population(dataset), last))
    missing_years = set(range(last - 3, end_year + 1)) - set(pop["year"])
    if missing_years:
        raise KompetensprognosError(
            "the population table must cover the years up to end_year (projection rows, "
            f"kind='projection'); missing {sorted(missing_years)[:5]}"
        )

    eo = eo.assign(unique_id=_uid(eo))
    panel_all = eo.rename(columns={"year": "ds", "graduates": "y"})[
        ["unique_id", "ds", "y", "type"]
    ]
    offsets = range(1, h + 2 + n_cal)
    rfs: dict[str, pd.DataFrame] = {}
    models: dict[str, str] = {}
    points, cal_frames, rho_of = [], {}, {}
    for kind in ("gymnasium", "yh", "higher"):
        panel = panel_all[panel_all["type"] == kind].drop(columns="type")
        panel = panel.sort_values(["unique_id", "ds"]).reset_index(drop=True)
        if panel.empty:
            continue
        if kind == "gymnasium":
            gym = eo[eo["type"] == kind]
            predictors = {
                "cohort:starters": _gym_predictor(gym, vintages, damping, observed_starters=True),
                "cohort:ratio": _gym_predictor(gym, vintages, damping, use_starters=False),
            }
            if gymnasium_model != "auto":
                predictors = {f"cohort:{gymnasium_model}": predictors[f"cohort:{gymnasium_model}"]}
        else:
            predictors = {}
            if cohort in (False, "auto"):
                predictors[method] = _engine_predictor(panel, method)
            if cohort in (True, "auto"):
                predictors[f"cohort:{method}"] = _cohort_predictor(panel, vintages, method)
        for name, pred in predictors.items():
            rfs[f"{kind}/{name}"] = _rolling(panel, pred, offsets, h)
        names = list(predictors)
        chosen = names[0]
        if len(names) > 1:
            chosen, _ = _choose({n: rfs[f"{kind}/{n}"] for n in names}, names, h, n_cal)
        models[kind] = chosen
        pts = predictors[chosen](last, h)
        errs = _scaled_errors(rfs[f"{kind}/{chosen}"], n_cal)
        cal_frames[kind] = calibrate_intervals(errs, h, _PROBS)
        rho_of[kind] = _icc(errs)
        scale = panel.groupby("unique_id")["y"].agg(lambda v: error_scale(v.to_numpy(), 1.0))
        pts = pts.assign(iscale=pts["unique_id"].map(scale), type=kind)
        points.append(pts)

    pts = pd.concat(points, ignore_index=True)
    years = np.arange(last + 1, end_year + 1)
    wide = pts.pivot_table(index="unique_id", columns="ds", values="forecast").reindex(
        columns=years
    )
    wide = wide.dropna()
    uids = list(wide.index)
    kinds = pts.drop_duplicates("unique_id").set_index("unique_id").loc[uids, "type"].to_numpy()
    iscale = pts.drop_duplicates("unique_id").set_index("unique_id").loc[uids, "iscale"]
    rng = np.random.default_rng(seed)
    draws = np.empty((len(uids), n_sims, h))
    for kind in pd.unique(kinds):
        m = kinds == kind
        draws[m] = _simulate(
            wide.to_numpy()[m], iscale.to_numpy()[m], cal_frames[kind], rho_of[kind], n_sims, rng
        )
    series = _split_uid(uids)
    fc = wide.stack().rename("graduates").reset_index()
    fc = fc.rename(columns={"ds": "year"})
    fc = pd.concat([_split_uid(fc["unique_id"].tolist()), fc[["year", "graduates"]]], axis=1)
    history = eo[["region", "type", "education", "year", "graduates"]].reset_index(drop=True)
    return GraduateProjection(
        history=history,
        forecast=fc,
        series=series,
        years=years,
        draws=draws,
        models=models,
        rolling=rfs,
        calibration=cal_frames,
        correlation=rho_of,
        population=pop,
        h=h,
        n_cal=n_cal,
    )


def backtest_graduates(
    projection: GraduateProjection,
    region: str | None = None,
    *,
    levels: Sequence[float] = (80, 95),
) -> pd.DataFrame:
    """Rolling-origin backtest of the graduate models against naive and drift.

    Every model is scored on the same rows (series, origin, horizon) with intervals calibrated
    at each origin on earlier origins only, using the engine's scoring functions.

    Parameters
    ----------
    projection : GraduateProjection
        From :func:`project_graduates` (its rolling-origin frames are reused).
    region : str, optional
        A base region id to score only its series. Any other value (e.g. ``"vastra-gotaland"``)
        scores all base series and writes that id in the ``region`` column.
    levels : sequence of float, default (80, 95)

    Returns
    -------
    pandas.DataFrame
        ``region, type, model, horizon, mase, smape, direction_accuracy, coverage80,
        coverage95`` (the demand backtest layout plus ``type``).

    Examples
    --------
    >>> bt = backtest_graduates(proj, "fyrbodal")  # doctest: +SKIP
    >>> sorted(bt["model"].unique())[:2]  # doctest: +SKIP
    ['cohort', 'drift']
    """
    h, n_cal = projection.h, projection.n_cal
    base = set(projection.history["region"])
    out = []
    for kind in ("gymnasium", "yh", "higher"):
        models = {k.split("/", 1)[1]: rf for k, rf in projection.rolling.items()
                  if k.startswith(kind + "/")}  # fmt: skip
        if not models:
            continue
        hist = projection.history[projection.history["type"] == kind]
        panel = hist.assign(unique_id=_uid(hist)).rename(columns={"year": "ds", "graduates": "y"})
        panel = panel[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"])
        offsets = sorted(set().union(*(set(rf["offset"]) for rf in models.values())))
        for b in ("naive", "drift"):
            models[b] = _rolling(panel, _engine_predictor(panel, b), offsets, h)
        if region is not None and region in base:
            models = {
                k: rf[rf["unique_id"].str.startswith(region + _SEP)] for k, rf in models.items()
            }
        scored = _score(models, h, n_cal, levels)
        if scored.empty:
            continue
        table = to_backtest_table(summarise(scored, levels), region or "all")
        out.append(table.assign(type=kind))
    cols = ["region", "type", "model", "horizon", "mase", "smape", "direction_accuracy",
            "coverage80", "coverage95"]  # fmt: skip
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.concat(out, ignore_index=True)[cols]

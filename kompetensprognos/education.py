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
from kompetensprognos.backtesting import (
    COMMON_KEYS,
    Predictor,
    calibrated_scores,
    common_rows,
    rolling_origin,
)
from kompetensprognos.config import GraduateConfig
from kompetensprognos.dataset import Dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.evaluation import score_forecasts, summarise, to_backtest_table
from kompetensprognos.forecasting import calibrate_intervals, error_scale
from kompetensprognos.models import forecast_points, parse_method

__all__ = [
    "COHORT_AGES",
    "DAMPING",
    "DEFAULT_METHOD",
    "INTAKE_AGE",
    "GraduateConfig",
    "GraduateModel",
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
DEFAULT_METHOD: str = GraduateConfig.model_fields["method"].default
#: Yearly damping of extrapolated logit trends (shares, completion) beyond the last data year.
DAMPING: float = GraduateConfig.model_fields["damping"].default
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


@dataclass(frozen=True)
class _GlmTask:
    """One binomial GLM of :func:`_glm_rate`, set up: design, data and what to predict."""

    X: np.ndarray  # (n, p): group dummies [+ centred trend]
    succ: np.ndarray
    trials: np.ndarray
    idx: np.ndarray  # parameter of each target's group
    known: np.ndarray  # target's group was seen in the data
    t_eff: np.ndarray | None  # damped target time minus the centre (None: no trend)
    fallback: np.ndarray


def _glm_task(
    succ: np.ndarray,
    trials: np.ndarray,
    t: np.ndarray,
    targets: np.ndarray,
    groups: np.ndarray | None = None,
    target_groups: np.ndarray | None = None,
    *,
    trend: bool = True,
    damping: float = DAMPING,
) -> _GlmTask | np.ndarray:
    """The GLM of :func:`_glm_rate` ready to fit, or the pooled-ratio fallback when there is
    nothing to fit (too few points, all successes or all failures)."""
    succ = np.minimum(np.asarray(succ, float), np.asarray(trials, float))
    trials = np.asarray(trials, float)
    ok = trials > 0
    succ, trials, t = succ[ok], trials[ok], np.asarray(t, float)[ok]
    n_targets = len(targets)
    total = trials.sum()
    pooled_all = succ.sum() / total if total > 0 else 0.0
    if groups is None:  # one group (the common case): no dummies to build
        levels: list[object] = [0]
        group_of = np.zeros(len(succ), dtype=int)
        known = np.ones(n_targets, dtype=bool)
        idx = np.zeros(n_targets, dtype=int)
        fallback = np.full(n_targets, pooled_all)
    else:
        assert target_groups is not None
        groups = np.asarray(groups)[ok]
        levels = list(pd.unique(groups))
        pos = {g: i for i, g in enumerate(levels)}
        group_of = np.array([pos[g] for g in groups], dtype=int)
        s_g = np.bincount(group_of, weights=succ, minlength=len(levels))
        n_g = np.bincount(group_of, weights=trials, minlength=len(levels))
        ratio = s_g / n_g
        tg = [pos.get(g, -1) for g in target_groups]
        idx = np.array([max(i, 0) for i in tg], dtype=int)
        known = np.array([i >= 0 for i in tg], dtype=bool)
        fallback = np.where(known, ratio[idx] if len(levels) else 0.0, pooled_all).astype(float)
    if len(succ) < 2 or succ.sum() == 0 or (trials - succ).sum() == 0:
        return fallback
    last = float(t.max())
    centre = float(t.mean())
    X = np.zeros((len(succ), len(levels) + 1))
    X[np.arange(len(succ)), group_of] = 1.0
    use_trend = trend and len(np.unique(t)) >= 3
    if use_trend:
        X[:, -1] = t - centre
    else:
        X = X[:, :-1]
    t_eff = _damped_t(targets, last, damping) - centre if use_trend else None
    return _GlmTask(X, succ, trials, idx, known, t_eff, fallback)


def _glm_predict(task: _GlmTask, params: np.ndarray | None) -> np.ndarray:
    """Fitted rates at the task's targets (the fallback where the fit failed)."""
    if params is None:
        return task.fallback
    eta = params[task.idx]
    if task.t_eff is not None:
        eta = eta + params[-1] * task.t_eff
    rate = 1 / (1 + np.exp(-eta))
    return np.where(task.known, rate, task.fallback)


def _glm_params_statsmodels(task: _GlmTask) -> np.ndarray | None:
    """The task's coefficients from statsmodels (None when it cannot be fitted)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            endog = np.c_[task.succ, task.trials - task.succ]
            res = sm.GLM(endog, task.X, family=sm.families.Binomial()).fit()
        params = np.asarray(res.params, float)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return None
    return params if np.all(np.isfinite(params)) else None


def _glm_params_irls(
    tasks: Sequence[_GlmTask], max_iter: int = 50, tol: float = 1e-10
) -> list[np.ndarray | None]:
    """Coefficients of many small binomial GLMs at once: Newton–Raphson (= IRLS with the
    canonical logit link) on zero-padded designs, every task in one set of array operations.

    Written by hand because statsmodels fits one model per call, and the ~1,200 tiny fits of
    a projection spent most of their time in its per-call overhead. The maximum-likelihood
    estimate is unique, so this returns statsmodels' answer (tests compare both to 1e-8).
    Tasks that are rank-deficient, separated or do not converge within ``max_iter`` steps
    come back as ``None`` (the caller fits those with statsmodels).
    """
    out: list[np.ndarray | None] = [None] * len(tasks)
    width = np.array([k.X.shape[1] for k in tasks], dtype=int)
    for p in np.unique(width):  # one stack per number of coefficients: little padding
        which = np.flatnonzero(width == p)
        for i, beta in zip(
            which, _irls_stack([tasks[i] for i in which], max_iter, tol), strict=True
        ):
            out[i] = beta
    return out


def _irls_stack(tasks: Sequence[_GlmTask], max_iter: int, tol: float) -> list[np.ndarray | None]:
    """:func:`_glm_params_irls` for tasks with the same number of coefficients."""
    b, n, p = len(tasks), max(len(k.succ) for k in tasks), tasks[0].X.shape[1]
    X = np.zeros((b, n, p))
    succ, trials = np.zeros((b, n)), np.zeros((b, n))
    for i, k in enumerate(tasks):  # padded rows have no trials: they weigh nothing
        m = len(k.succ)
        X[i, :m], succ[i, :m], trials[i, :m] = k.X, k.succ, k.trials
    out: list[np.ndarray | None] = [None] * b
    active = np.flatnonzero(np.linalg.matrix_rank(X) == p)
    y = np.divide(succ, trials, out=np.zeros_like(succ), where=trials > 0)
    mu = (y + 0.5) / 2  # statsmodels' starting point
    eta = np.log(mu / (1 - mu))
    beta = np.zeros((b, p))
    with np.errstate(all="ignore"):  # separated tasks run off to infinity; they fail below
        for _ in range(max_iter):
            if not len(active):
                break
            xa, m, e = X[active], mu[active], eta[active]
            w = trials[active] * m * (1 - m)
            z = e + (y[active] - m) / (m * (1 - m))
            xw = xa * w[:, :, None]
            new, bad = _solve_each(
                np.einsum("bnp,bnq->bpq", xw, xa), np.einsum("bnp,bn->bp", xw, z)
            )
            bad |= ~np.isfinite(new).all(axis=1) | (np.abs(new).max(axis=1) > 50)
            step = np.abs(new - beta[active]).max(axis=1)
            beta[active] = new
            done = ~bad & (step <= tol * (1 + np.abs(new).max(axis=1)))
            for j in active[done]:
                out[j] = beta[j].copy()
            active = active[~bad & ~done]
            eta[active] = np.einsum("bnp,bp->bn", X[active], beta[active])
            mu[active] = 1 / (1 + np.exp(-eta[active]))
    return out


def _solve_each(a: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve the stack ``a @ x = rhs``; a singular system fails alone (flagged), not the stack."""
    try:
        return np.linalg.solve(a, rhs[:, :, None])[:, :, 0], np.zeros(len(a), dtype=bool)
    except np.linalg.LinAlgError:
        out, bad = np.full(rhs.shape, np.nan), np.zeros(len(a), dtype=bool)
        for i in range(len(a)):
            try:
                out[i] = np.linalg.solve(a[i], rhs[i])
            except np.linalg.LinAlgError:
                bad[i] = True
        return out, bad


def _glm_rates(
    problems: Sequence[tuple[tuple[np.ndarray, ...], dict[str, object]]],
) -> list[np.ndarray]:
    """:func:`_glm_rate` for many ``(args, kwargs)`` at once (one vectorised fit for all)."""
    tasks = [_glm_task(*args, **kw) for args, kw in problems]  # type: ignore[arg-type]
    fit = [k for k in tasks if isinstance(k, _GlmTask)]
    params = iter(_glm_params_irls(fit))
    out = []
    for k in tasks:
        if not isinstance(k, _GlmTask):
            out.append(k)
            continue
        beta = next(params)
        if beta is None:  # separated or otherwise awkward: as statsmodels has it
            beta = _glm_params_statsmodels(k)
        out.append(_glm_predict(k, beta))
    return out


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
    args = (succ, trials, t, targets, groups, target_groups)
    return _glm_rates([(args, {"trend": trend, "damping": damping})])[0]


def _population_by_region(dataset: Dataset) -> pd.DataFrame:
    """Population per region id (and municipality) × year × age, both sexes."""
    pop = dataset.require("population")
    pop = pop.groupby(["region", "year", "age"], as_index=False)["population"].sum()
    if all(regions.is_municipality(r) for r in pop["region"].unique()):
        agg = regions.aggregate_regions(pop, "population")
        pop = pd.concat([pop, agg], ignore_index=True)
    return pop


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

    Held as one array ``[region, year, age]`` (NaN: no row), so a vintage is a few slices.
    """

    def __init__(self, pop: pd.DataFrame, last_observed: int) -> None:
        self.pop = pop
        self.last_observed = int(last_observed)
        s = pop.groupby(["region", "year", "age"])["population"].sum()
        self.regions: list[str] = sorted(s.index.get_level_values(0).unique())
        years = s.index.get_level_values(1).astype(int)
        ages = s.index.get_level_values(2).astype(int)
        self.first_year = int(years.min()) if len(s) else 0
        self.years = np.arange(self.first_year, int(years.max()) + 1 if len(s) else 0)
        self._pos = {r: i for i, r in enumerate(self.regions)}
        n_age = int(ages.max()) + 1 if len(s) else 0
        self._cube = np.full((len(self.regions), len(self.years), n_age), np.nan)
        ri = s.index.get_level_values(0).map(self._pos).to_numpy()
        self._cube[ri, years - self.first_year, ages] = s.to_numpy(float)
        self._cache: dict[tuple[int, int, int], np.ndarray] = {}

    def sizes(self, cutoff: int, ages: tuple[int, int]) -> np.ndarray:
        """``[region, year]`` (axes :attr:`regions`, :attr:`years`): people aged ``ages``
        (inclusive) as known at ``cutoff``; NaN where that origin has no row."""
        cutoff = min(int(cutoff), self.last_observed)  # from last_observed on: the rows as given
        key = (cutoff, *ages)
        if key not in self._cache:
            self._cache[key] = self._sizes(cutoff, ages)
        return self._cache[key]

    def _sizes(self, cutoff: int, ages: tuple[int, int]) -> np.ndarray:
        cube = self._cube
        a0, a1 = max(ages[0], 0), min(ages[1], cube.shape[2] - 1)

        def total(block: np.ndarray) -> np.ndarray:  # sum over ages; NaN when no age has a row
            seen = ~np.isnan(block)
            return np.where(seen.any(axis=-1), np.where(seen, block, 0.0).sum(axis=-1), np.nan)

        out = total(cube[:, :, a0 : a1 + 1]) if a1 >= a0 else np.full(cube.shape[:2], np.nan)
        if cutoff >= self.last_observed:
            return out
        c = cutoff - self.first_year  # rows after the cutoff: its population, aged
        out[:, max(c + 1, 0) :] = np.nan
        if not 0 <= c < len(self.years):
            return out
        for j in range(c + 1, len(self.years)):
            k = j - c
            lo, hi = max(ages[0] - k, 0), min(ages[1] - k, cube.shape[2] - 1)
            if hi >= lo:
                out[:, j] = total(cube[:, c, lo : hi + 1])
        return out

    def lookup(
        self, cutoff: int, ages: tuple[int, int], region: str, years: np.ndarray
    ) -> np.ndarray:
        """Sizes of one region at ``years`` as known at ``cutoff`` (NaN where unknown)."""
        years = np.asarray(years, dtype=int)
        out = np.full(len(years), np.nan)
        i = self._pos.get(region)
        if i is None:
            return out
        j = years - self.first_year
        inside = (j >= 0) & (j < len(self.years))
        out[inside] = self.sizes(cutoff, ages)[i, j[inside]]
        return out

    def has_region(self, cutoff: int, ages: tuple[int, int], region: str) -> bool:
        """Whether the origin knows any size of ``region`` at these ages."""
        i = self._pos.get(region)
        return i is not None and bool(np.isfinite(self.sizes(cutoff, ages)[i]).any())

    def _series(self, cutoff: int, ages: tuple[int, int]) -> pd.Series:
        arr = self.sizes(cutoff, ages)
        ri, yi = np.nonzero(np.isfinite(arr))
        idx = pd.MultiIndex.from_arrays(
            [np.asarray(self.regions, dtype=object)[ri], self.years[yi]], names=["region", "year"]
        )
        return pd.Series(arr[ri, yi], index=idx, name="population")

    def n16(self, cutoff: int) -> dict[str, pd.Series]:
        """16-year-olds per region as a year series, as known at ``cutoff``."""
        n16_all = self._series(cutoff, (INTAKE_AGE, INTAKE_AGE))
        return {r: v.droplevel(0) for r, v in n16_all.groupby(level=0)}

    def young(self, cutoff: int) -> pd.Series:
        """The 19–34 cohort per (region, year), as known at ``cutoff``."""
        return self._series(cutoff, COHORT_AGES)


def _education_base(dataset: Dataset) -> pd.DataFrame:
    """Education output per *base* region: subregion ids as given, or every region id summed
    from municipality rows (then each region is projected directly, no approximation)."""
    eo = dataset.require("education_output").copy()
    if "starters" not in eo.columns:
        eo["starters"] = np.nan
    if all(regions.is_municipality(r) for r in eo["region"].unique()):
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


def _rolling_many(
    panel: pd.DataFrame, forecasts: dict[str, pd.DataFrame], offsets: Sequence[int], h: int
) -> dict[str, pd.DataFrame]:
    """:func:`_rolling` of several models' forecasts (``unique_id, cutoff, ds, forecast``,
    made beforehand from every origin) on one panel: one pass, so the in-sample statistics of
    each origin are computed once for all models. Each model's frame is the one
    :func:`_rolling` gives it alone."""
    stacked = pd.concat(
        [fc.assign(_model=name) for name, fc in forecasts.items()], ignore_index=True
    )
    rf = _rolling(panel, _by_cutoff(stacked), offsets, h)
    if "_model" not in rf.columns:  # no origin had data: every model's frame is empty
        return {name: rf.copy() for name in forecasts}
    model = rf.pop("_model")
    return {name: rf[(model == name).to_numpy()].reset_index(drop=True) for name in forecasts}


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


class _GymPanel:
    """The gymnasium panel as arrays ``[programme, region, year]`` (NaN: no value)."""

    def __init__(self, gym: pd.DataFrame) -> None:
        self.programmes: list[str] = sorted(gym["education"].unique())
        self.regions: list[str] = sorted(gym["region"].unique())
        year = gym["year"].to_numpy(int)
        self.first = int(year.min()) if len(gym) else 0
        n_years = int(year.max()) - self.first + 1 if len(gym) else 0
        shape = (len(self.programmes), len(self.regions), n_years)
        pi = gym["education"].map({p: i for i, p in enumerate(self.programmes)}).to_numpy()
        ri = gym["region"].map({r: i for i, r in enumerate(self.regions)}).to_numpy()
        self.row = np.zeros(shape, dtype=bool)
        self.graduates, self.starters = np.full(shape, np.nan), np.full(shape, np.nan)
        self.row[pi, ri, year - self.first] = True
        self.graduates[pi, ri, year - self.first] = gym["graduates"].to_numpy(float)
        if "starters" in gym.columns:
            self.starters[pi, ri, year - self.first] = gym["starters"].to_numpy(float)


def _gym_forecasts(
    panel: _GymPanel,
    vintages: _PopulationVintages,
    cutoffs: Sequence[int],
    h: int,
    damping: float = DAMPING,
    observed_starters: bool = False,
    completion_trend: bool = True,
    use_starters: bool = True,
) -> pd.DataFrame:
    """Cohort-model forecasts ``unique_id, cutoff, ds, forecast`` from every cutoff, each from
    the rows up to its cutoff and the population that cutoff could know; all the binomial
    GLMs of all cutoffs are fitted in one vectorised call (:func:`_glm_rates`)."""
    n16_age = (INTAKE_AGE, INTAKE_AGE)
    problems: list[tuple[tuple[np.ndarray, ...], dict[str, object]]] = []
    recipes: list[tuple] = []

    def task(*args: np.ndarray | None, trend: bool = True) -> int:
        problems.append((args, {"trend": trend, "damping": damping}))  # type: ignore[arg-type]
        return len(problems) - 1

    all_years = panel.first + np.arange(panel.row.shape[2])
    for cutoff in (int(c) for c in cutoffs):
        upto = all_years <= cutoff
        years = all_years[upto]
        targets = np.arange(cutoff + 1, cutoff + h + 1)
        cohorts = targets - 3
        for p, prog in enumerate(panel.programmes):
            row = panel.row[p][:, upto]
            present = np.flatnonzero(row.any(axis=1))
            if not len(present):
                continue
            grads, starts = panel.graduates[p][:, upto], panel.starters[p][:, upto]
            has_s = row & ~np.isnan(starts)
            # completion: graduates[t] / starters[t-3], one GLM per programme over all regions
            succ, trials, cohort, group = [], [], [], []
            for r in present:
                y_s = np.flatnonzero(has_s[r][:-3] & row[r][3:])
                succ.append(grads[r, y_s + 3])
                trials.append(starts[r, y_s])
                cohort.append(years[y_s])
                group.append(np.full(len(y_s), panel.regions[r], dtype=object))
            with_s = [panel.regions[r] for r in present if has_s[r].any()]
            comp = None
            if sum(len(v) for v in succ) and with_s and use_starters:
                comp = task(
                    np.concatenate(succ), np.concatenate(trials), np.concatenate(cohort),
                    np.tile(cohorts, len(with_s)), np.concatenate(group),
                    np.repeat(np.asarray(with_s, dtype=object), h), trend=completion_trend,
                )  # fmt: skip
            for r in present:
                region = panel.regions[r]
                if not vintages.has_region(cutoff, n16_age, region):
                    continue
                uid = f"{region}{_SEP}gymnasium{_SEP}{prog}"
                if comp is not None and region in with_s:
                    sr_years = years[has_s[r]]
                    sr = starts[r, has_s[r]]
                    known = (cohorts <= cutoff) & observed_starters
                    obs = np.full(h, np.nan)
                    pos = np.searchsorted(sr_years, cohorts)
                    hit = (pos < len(sr_years)) & (sr_years[np.minimum(pos, len(sr_years) - 1)]
                                                    == cohorts)  # fmt: skip
                    obs[hit] = sr[pos[hit]]
                    start = np.where(known, obs, np.nan)
                    need = np.isnan(start)
                    share = None
                    if need.any():
                        tr = vintages.lookup(cutoff, n16_age, region, sr_years)
                        share = task(sr, tr, sr_years, cohorts[need])
                    n16_need = vintages.lookup(cutoff, n16_age, region, cohorts[need])
                    block = with_s.index(region)
                    recipes.append((uid, cutoff, targets, comp, block, start, need, share,
                                    n16_need))  # fmt: skip
                else:  # no starters: graduates per 16-year-old three years earlier
                    g_years = years[row[r]]
                    base = vintages.lookup(cutoff, n16_age, region, g_years - 3)
                    ok = ~np.isnan(base)
                    if ok.sum() < 2:
                        continue
                    ratio = task(grads[r, row[r]][ok], base[ok], g_years[ok], targets)
                    n16_c = vintages.lookup(cutoff, n16_age, region, cohorts)
                    recipes.append((uid, cutoff, targets, ratio, n16_c))
    rates = _glm_rates(problems)
    uids, cuts, ds, fc = [], [], [], []
    for rec in recipes:
        uid, cutoff, targets = rec[0], rec[1], rec[2]
        if len(rec) == 5:
            values = rates[rec[3]] * rec[4]
        else:
            comp, block, start, need, share, n16_need = rec[3:]
            start = start.copy()
            if share is not None:
                start[need] = rates[share] * n16_need
            values = start * rates[comp][block * h : (block + 1) * h]
        uids.append(np.full(h, uid, dtype=object))
        cuts.append(np.full(h, cutoff))
        ds.append(targets)
        fc.append(values)
    if not recipes:
        return pd.DataFrame(columns=["unique_id", "cutoff", "ds", "forecast"])
    out = pd.DataFrame(
        {
            "unique_id": np.concatenate(uids),
            "cutoff": np.concatenate(cuts),
            "ds": np.concatenate(ds),
            "forecast": np.concatenate(fc),
        }
    ).dropna()
    out["forecast"] = out["forecast"].clip(lower=0.0)
    return out


def _by_cutoff(frame: pd.DataFrame) -> Predictor:
    """A predictor that hands out forecasts computed beforehand for every cutoff
    (``unique_id, cutoff, ds, forecast``; each cutoff's rows made from data up to it)."""
    parts = {int(c): g.drop(columns="cutoff") for c, g in frame.groupby("cutoff", sort=False)}
    empty = frame.drop(columns="cutoff").iloc[:0]

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        pts = parts.get(int(cutoff), empty)
        return pts[pts["ds"] <= cutoff + h]

    return predict


def _gym_predictor(
    gym: pd.DataFrame,
    vintages: _PopulationVintages,
    damping: float = DAMPING,
    observed_starters: bool = False,
    completion_trend: bool = True,
    use_starters: bool = True,
) -> Predictor:
    """Cohort model for the gymnasium panel (``region, education, year, graduates, starters``)."""
    panel = _GymPanel(gym)

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        out = _gym_forecasts(
            panel, vintages, [cutoff], h, damping, observed_starters, completion_trend,
            use_starters,
        )  # fmt: skip
        return out.drop(columns="cutoff")

    return predict


# --- YH and higher -----------------------------------------------------------------------------


_KEY = "\x1f"  # joins job, cutoff and series id in one batched engine call


def _engine_train(panel: pd.DataFrame, cutoff: int) -> pd.DataFrame:
    """The rows an origin fits on: years up to ``cutoff``, series with three or more points."""
    train = panel[panel["ds"] <= cutoff]
    n = train.groupby("unique_id")["y"].transform("size")
    return train[n >= 3]


def _engine_batch(
    jobs: dict[str, tuple[pd.DataFrame, Sequence[int]]], method: str, h: int
) -> dict[str, pd.DataFrame]:
    """Engine forecasts for several panels from several cutoffs each, in one
    :func:`~kompetensprognos.models.forecast_points` call.

    ``jobs`` maps a name to ``(panel, cutoffs)``; the answer maps it to ``unique_id, cutoff,
    ds, forecast`` (clipped at zero). Each series is fitted on its own rows up to the cutoff
    (the engine's models are local, so stacking series changes no forecast), and the call's
    fixed cost is paid once instead of once per panel and cutoff.
    """
    frames = []
    for name, (panel, cutoffs) in jobs.items():
        for cutoff in cutoffs:
            train = _engine_train(panel, int(cutoff))
            if len(train):
                key = f"{name}{_KEY}{int(cutoff)}{_KEY}"
                frames.append(
                    train[["unique_id", "ds", "y"]].assign(unique_id=key + train["unique_id"])
                )
    empty = pd.DataFrame({"unique_id": pd.Series(dtype=object), "cutoff": pd.Series(dtype=int),
                          "ds": pd.Series(dtype=int), "forecast": pd.Series(dtype=float)})  # fmt: skip
    out = {name: empty for name in jobs}
    if not frames:
        return out
    stacked = pd.concat(frames, ignore_index=True).sort_values(["unique_id", "ds"], kind="stable")
    pts, _ = forecast_points(stacked.reset_index(drop=True), method, h)
    parts = pts["unique_id"].str.split(_KEY, n=2, expand=True)
    pts = pd.DataFrame(
        {
            "unique_id": parts[2].to_numpy(),
            "cutoff": parts[1].astype(int).to_numpy(),
            "ds": pts["ds"].to_numpy(),
            "forecast": pts["forecast"].clip(lower=0.0).to_numpy(),
        }
    )
    for name, grp in pts.groupby(parts[0].to_numpy(), sort=False):
        out[str(name)] = grp.reset_index(drop=True)
    return out


def _engine_predictor(panel: pd.DataFrame, method: str) -> Predictor:
    def predict(cutoff: int, h: int) -> pd.DataFrame:
        pts = _engine_batch({"": (panel, [cutoff])}, method, h)[""]
        return pts.drop(columns="cutoff")

    return predict


class _CohortRates:
    """YH/higher graduates as a rate per 1,000 of the 19–34 cohort, and back."""

    def __init__(self, panel: pd.DataFrame, vintages: _PopulationVintages) -> None:
        self.vintages = vintages
        region = panel["unique_id"].str.split(_SEP).str[0]
        # observed years: the same in every vintage
        size = self._sizes(vintages.last_observed, region.to_numpy(), panel["ds"].to_numpy())
        rate_panel = panel.assign(y=panel["y"] / size * 1000, _region=region.to_numpy()).dropna()
        self.regions_of = rate_panel.drop_duplicates("unique_id").set_index("unique_id")["_region"]
        self.panel = rate_panel.drop(columns="_region")

    def _sizes(self, cutoff: int, region: np.ndarray, year: np.ndarray) -> np.ndarray:
        v = self.vintages
        arr = v.sizes(cutoff, COHORT_AGES)
        ri = pd.Series(region).map({r: i for i, r in enumerate(v.regions)}).to_numpy()
        j = np.asarray(year, dtype=int) - v.first_year
        ok = ~pd.isna(ri) & (j >= 0) & (j < len(v.years))
        out = np.full(len(region), np.nan)
        out[ok] = arr[ri[ok].astype(int), j[ok]]
        return out

    def to_graduates(self, pts: pd.DataFrame) -> pd.DataFrame:
        """Rate forecasts (with ``cutoff``) times the cohort each cutoff could know."""
        region = pts["unique_id"].map(self.regions_of).to_numpy()
        size = np.full(len(pts), np.nan)
        for cutoff in pd.unique(pts["cutoff"]):
            m = (pts["cutoff"] == cutoff).to_numpy()
            size[m] = self._sizes(int(cutoff), region[m], pts["ds"].to_numpy()[m])
        return pts.assign(forecast=pts["forecast"].to_numpy() * size / 1000).dropna()


def _cohort_predictor(panel: pd.DataFrame, vintages: _PopulationVintages, method: str) -> Predictor:
    """Rate per 1,000 of the cohort, forecast by the engine, times the cohort as projected from
    the origin (:class:`_PopulationVintages`)."""
    rates = _CohortRates(panel, vintages)

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        pts = _engine_batch({"": (rates.panel, [cutoff])}, method, h)[""]
        return rates.to_graduates(pts).drop(columns="cutoff")

    return predict


# --- projection object -------------------------------------------------------------------------


@dataclass(frozen=True)
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
    h, n_cal : int
        Horizon and number of calibration origins.
    config : GraduateConfig, optional
        The settings it was fitted with (:class:`GraduateModel`).
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
    config: GraduateConfig | None = None

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


def _choose(rfs: dict[str, pd.DataFrame], candidates: Sequence[str]) -> tuple[str, pd.DataFrame]:
    """The candidate with the lowest mean scaled error (MASE) on the rows every candidate
    forecast and whose actual is known (the rows :func:`_score` scores).

    Point errors only: the choice does not depend on intervals, so they are not calibrated
    here (:func:`_score` does that for the backtest tables, on the same rows and terms).
    """
    common = common_rows(rfs[c] for c in candidates)
    if common is None or common.empty:
        return candidates[0], pd.DataFrame()
    rows = pd.concat(
        [rfs[c].merge(common, on=COMMON_KEYS).assign(model=c) for c in candidates],
        ignore_index=True,
    )
    rows["forecast"] = rows["forecast"].clip(lower=0.0)
    scored = score_forecasts(rows, levels=())
    mase = scored.groupby("model")["ase"].mean()
    return str(mase.idxmin()), scored


class GraduateModel:
    """Project graduates of every education and base region, with calibrated paths.

    ``GraduateModel(config).fit(dataset)`` returns a frozen :class:`GraduateProjection`, the
    contract every fitted step of the package follows; :func:`project_graduates` is the same
    call with keyword settings.

    Parameters
    ----------
    config : GraduateConfig, optional
        Settings (defaults: projection to 2030, 1,000 paths, seed 0).

    Examples
    --------
    >>> from kompetensprognos.dataset import load_dataset
    >>> proj = GraduateModel(GraduateConfig(end_year=2027, n_sims=50)).fit(
    ...     load_dataset("demo"))  # doctest: +SKIP
    >>> proj.draws.shape[1:]  # doctest: +SKIP
    (50, 3)
    """

    def __init__(self, config: GraduateConfig | None = None) -> None:
        self.config = config or GraduateConfig()

    def fit(self, dataset: Dataset) -> GraduateProjection:
        """Choose the model per education type by rolling-origin MASE, forecast, simulate.

        Parameters
        ----------
        dataset : Dataset
            Needs ``education_output`` and ``population`` (with projection rows up to
            ``config.end_year``).

        Returns
        -------
        GraduateProjection
        """
        return _fit(dataset, self.config)


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

    ``GraduateModel(GraduateConfig(...)).fit(dataset)`` with keyword settings.

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
    if gymnasium_model not in ("auto", "starters", "ratio"):
        raise KompetensprognosError(
            f"gymnasium_model must be 'auto', 'starters' or 'ratio' (got {gymnasium_model!r})"
        )
    if cohort not in (True, False, "auto"):
        raise KompetensprognosError(f"cohort must be True, False or 'auto' (got {cohort!r})")
    config = GraduateConfig(
        end_year=end_year, n_sims=n_sims, seed=seed, method=method, cohort=cohort,
        gymnasium_model=gymnasium_model, n_cal=n_cal, damping=damping,
    )  # fmt: skip
    return GraduateModel(config).fit(dataset)


def _fit(dataset: Dataset, config: GraduateConfig) -> GraduateProjection:
    method, cohort, damping = config.method, config.cohort, config.damping
    end_year, n_sims = config.end_year, config.n_sims
    parse_method(method)
    eo = _education_base(dataset)
    last = int(eo["year"].max())
    h = int(end_year) - last
    if h < 1:
        raise KompetensprognosError(
            f"end_year {end_year} must be after the last observed year of education_output ({last})"
        )
    n_cal = h if config.n_cal is None else int(config.n_cal)
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
    origins = [last - off for off in offsets]
    panels: dict[str, pd.DataFrame] = {}
    for kind in ("gymnasium", "yh", "higher"):
        panel = panel_all[panel_all["type"] == kind].drop(columns="type")
        panel = panel.sort_values(["unique_id", "ds"]).reset_index(drop=True)
        if not panel.empty:
            panels[kind] = panel

    # every candidate's forecasts from every origin (and, for the cheap gymnasium models, from
    # the last year), each from data up to its origin; the engine runs once for all of them
    forecasts: dict[str, dict[str, pd.DataFrame]] = {}
    rates: dict[str, _CohortRates] = {}
    jobs: dict[str, tuple[pd.DataFrame, Sequence[int]]] = {}
    for kind, panel in panels.items():
        if kind == "gymnasium":
            gym = _GymPanel(eo[eo["type"] == kind])
            variants = {"starters": {"observed_starters": True}, "ratio": {"use_starters": False}}
            if config.gymnasium_model != "auto":
                variants = {config.gymnasium_model: variants[config.gymnasium_model]}
            forecasts[kind] = {
                f"cohort:{v}": _gym_forecasts(gym, vintages, [*origins, last], h, damping, **kw)
                for v, kw in variants.items()
            }
            continue
        forecasts[kind] = {}
        if cohort in (False, "auto"):
            jobs[f"{kind}/{method}"] = (panel, origins)
        if cohort in (True, "auto"):
            rates[kind] = _CohortRates(panel, vintages)
            jobs[f"{kind}/cohort:{method}"] = (rates[kind].panel, origins)
    engine = _engine_batch(jobs, method, h)
    for name, pts in engine.items():
        kind, model = name.split("/", 1)
        forecasts[kind][model] = (
            rates[kind].to_graduates(pts) if model.startswith("cohort:") else pts
        )

    rfs: dict[str, pd.DataFrame] = {}
    models: dict[str, str] = {}
    for kind, panel in panels.items():
        for name, rf in _rolling_many(panel, forecasts[kind], offsets, h).items():
            rfs[f"{kind}/{name}"] = rf
        names = list(forecasts[kind])
        chosen = names[0]
        if len(names) > 1:
            chosen, _ = _choose({n: rfs[f"{kind}/{n}"] for n in names}, names)
        models[kind] = chosen

    # the chosen engine models from the last year, again in one call
    final_jobs = {
        f"{kind}/{models[kind]}": (
            rates[kind].panel if models[kind].startswith("cohort:") else panels[kind],
            [last],
        )  # fmt: skip
        for kind in panels
        if kind != "gymnasium"
    }
    final = _engine_batch(final_jobs, method, h)
    points, cal_frames, rho_of = [], {}, {}
    for kind, panel in panels.items():
        chosen = models[kind]
        if kind == "gymnasium":
            pts = _by_cutoff(forecasts[kind][chosen])(last, h)
        else:
            pts = final[f"{kind}/{chosen}"]
            if chosen.startswith("cohort:"):
                pts = rates[kind].to_graduates(pts)
            pts = pts.drop(columns="cutoff")
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
    rng = np.random.default_rng(config.seed)
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
        config=config,
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
        last = int(panel["ds"].max())
        cutoffs = [last - int(off) for off in offsets]
        naive = _engine_batch({"naive": (panel, cutoffs)}, "naive", h)["naive"]
        drift = _engine_batch({"drift": (panel, cutoffs)}, "drift", h)["drift"]
        models.update(_rolling_many(panel, {"naive": naive, "drift": drift}, offsets, h))
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

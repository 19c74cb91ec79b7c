"""Forecasting engine for short yearly panels: point forecasts plus calibrated intervals.

Model intervals are too narrow on yearly data, so intervals here are *empirical*: the engine
re-forecasts the panel from earlier origins (rolling origin, data up to each origin only),
scales each error by the series' in-sample naive MAE at that origin, and takes quantiles of
those scaled errors per horizon, pooled across series (split-conformal in spirit). The
interval for a series is ``forecast + q * scale``. Horizons with too few calibration errors
borrow the widest calibrated horizon, widened by ``sqrt(j / j_max)``; with none at all the
engine falls back to a Gaussian random walk in scaled units (``Forecaster.calibration_``
says which source each horizon used).

The refits are kept cheap without moving the calibration onto the future: they run on a sample
of series (``calibration_series``), each origin forecasts only the horizons it can score (an
origin ``o`` years back has actuals for horizons ``1..o``), and every model is fitted once, on
the data up to the earliest calibration origin, and re-applied at the later origins — the pooled
models as they are, the local models with their parameters fixed and their states re-filtered
over each origin's history (:func:`_calibration_models`, ``Forecaster(frozen_refits=...)``).

Point models, the candidate registry and the default method live in :mod:`kompetensprognos.models`.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm
from tqdm import tqdm

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.models import (
    BY_GROUP,
    DEFAULT_METHOD,
    MODELS,
    OPTIMISED_LOCAL,
    FrozenLocal,
    PooledWindowRegressor,
    by_group_method,
    forecast_points,
    local_models,
    parse_method,
)
from kompetensprognos.panel import DEFAULT_CHUNK_SIZE, split_sorted, validate_panel

__all__ = [
    "DEFAULT_METHOD",
    "Forecaster",
    "calibrate_intervals",
    "origin_length_correction",
    "error_scale",
    "forecast",
    "interval_columns",
    "rolling_origin_forecasts",
    "series_stats",
    "SELECT_CANDIDATES",
    "candidate_rows",
    "combine_rows",
    "group_scores",
    "select_by_group",
    "select_method",
    "SELECT_CRITERION",
]

#: Candidates ``method="select"`` chooses among (the pooling ones only with parents).
SELECT_CANDIDATES: tuple[str, ...] = (
    "naive",
    "drift",
    "ddrift",
    "mean(naive,drift)",
    DEFAULT_METHOD,
    "mean(drift,dotheta)",
    "share",
    "parent",
    "sdrift",
    "pdrift",
    "mean(share,drift)",
    "mean(sdrift,ddrift)",
    "median(share,dotheta,ces,ridge)",
)

#: Groups with fewer series than this take the overall choice in per-group selection.
MIN_GROUP_SERIES: int = 10

#: What selection minimises: ``"relmae"`` (geometric mean of each series' MAE relative to
#: naive's, robust to series with a tiny scale) or ``"mase"`` (mean scaled error).
SELECT_CRITERION: str = "relmae"


def interval_columns(level: float) -> tuple[str, str]:
    """Names of the lower and upper bound columns for a level (``80 -> ("lo80", "hi80")``).

    Examples
    --------
    >>> interval_columns(95)
    ('lo95', 'hi95')
    >>> interval_columns(97.5)
    ('lo97.5', 'hi97.5')
    """
    tag = f"{level:g}"
    return f"lo{tag}", f"hi{tag}"


def error_scale(y: np.ndarray, floor: float = 0.0) -> float:
    """In-sample mean absolute one-step naive error (the MASE scale, period 1), floored.

    A constant series has scale 0; ``floor`` (and 5 % of its mean absolute level) keeps interval
    widths positive. Metrics use the unfloored scale (see :mod:`kompetensprognos.evaluation`).

    Examples
    --------
    >>> error_scale(np.array([1.0, 3.0, 4.0]))
    1.5
    >>> error_scale(np.array([5.0, 5.0, 5.0]), floor=1.0)
    1.0
    """
    y = np.asarray(y, dtype=float)
    s = float(np.mean(np.abs(np.diff(y)))) if len(y) > 1 else 0.0
    return max(s, 0.05 * float(np.mean(np.abs(y))), floor)


def series_stats(df: pd.DataFrame, floor: float = 0.0) -> pd.DataFrame:
    """Per series of a long panel: first/last value and year, length and the error scales.

    Vectorised over the whole panel (one pass of cumulative sums, no per-series Python call), so
    it costs milliseconds on ~10,000 series; values equal :func:`error_scale` and the per-series
    means it replaces up to floating-point rounding.

    Parameters
    ----------
    df : pandas.DataFrame
        ``unique_id, ds, y``; rows of a series must be contiguous and in year order (as
        :func:`kompetensprognos.panel.validate_panel` returns them); it is sorted otherwise.
    floor : float, default 0.0
        Floor of ``iscale`` (see :func:`error_scale`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unique_id`` (order of first appearance): ``first, last, n, cutoff``
        (last year), ``scale`` (mean absolute one-step naive error, NaN for one point),
        ``scale2`` (mean squared) and ``iscale`` (:func:`error_scale` with ``floor``).

    Examples
    --------
    >>> p = pd.DataFrame({"unique_id": ["a"] * 3 + ["b"] * 2, "ds": [1, 2, 3, 1, 2],
    ...                   "y": [1.0, 3.0, 4.0, 5.0, 5.0]})
    >>> series_stats(p, floor=1.0)[["last", "scale", "iscale"]].values.tolist()
    [[4.0, 1.5, 1.5], [5.0, 0.0, 1.0]]
    """
    uid = df["unique_id"].to_numpy()
    ds = df["ds"].to_numpy()
    if len(uid) > 1:
        change = uid[1:] != uid[:-1]
        starts = np.flatnonzero(np.r_[True, change])
        unordered = (ds[1:] <= ds[:-1]) & ~change
        if unordered.any() or len(set(uid[starts])) != len(starts):
            return series_stats(df.sort_values(["unique_id", "ds"], kind="stable"), floor)
    else:
        starts = np.zeros(min(len(uid), 1), dtype=int)
    y = df["y"].to_numpy(dtype=float)
    ends = np.r_[starts[1:], len(y)]
    n = ends - starts
    d = np.r_[0.0, np.diff(y)]
    d[starts] = 0.0

    def per_series(v: np.ndarray) -> np.ndarray:
        c = np.r_[0.0, np.cumsum(v)]
        return c[ends] - c[starts]

    with np.errstate(invalid="ignore", divide="ignore"):
        scale = per_series(np.abs(d)) / (n - 1)
        scale2 = per_series(d**2) / (n - 1)
    level = 0.05 * per_series(np.abs(y)) / n
    iscale = np.maximum(np.maximum(np.where(n > 1, scale, 0.0), level), float(floor))
    return pd.DataFrame(
        {
            "first": y[starts],
            "last": y[ends - 1],
            "n": n,
            "cutoff": ds[ends - 1],
            "scale": scale,
            "scale2": scale2,
            "iscale": iscale,
        },
        index=pd.Index(uid[starts], name="unique_id"),
    )


def _truncate(df: pd.DataFrame, offset: int, min_points: int) -> pd.DataFrame:
    """Drop the last ``offset`` points of every series; drop series left too short."""
    if offset == 0:
        return df
    from_end = df.groupby("unique_id", sort=False).cumcount(ascending=False)
    cut = df[from_end.to_numpy() >= offset]
    n = cut.groupby("unique_id", sort=False)["y"].transform("size")
    return cut[n.to_numpy() >= min_points]


def rolling_origin_forecasts(
    df: pd.DataFrame,
    method: str,
    h: int,
    offsets: Sequence[int],
    *,
    min_points: int = 3,
    scale_floor: float = 0.0,
    parents: Mapping[str, str] | None = None,
    progress: bool = False,
    **model_kwargs: object,
) -> pd.DataFrame:
    """Forecast a panel from several earlier origins, refitting on the data up to each origin.

    Parameters
    ----------
    df : pandas.DataFrame
        Validated panel, sorted by ``unique_id, ds``.
    method : str
        Method string (see :func:`kompetensprognos.models.parse_method`).
    h : int
        Horizon.
    offsets : sequence of int
        Origins as the number of last points withheld from every series (0 = the full data).
    min_points : int, default 3
        Series shorter than this at an origin are skipped at that origin.
    scale_floor : float, default 0.0
        Floor for the interval scale (see :func:`error_scale`).
    parents : Mapping[str, str], optional
        Passed to the models (hierarchy pooling).
    progress : bool, default False
        Show a tqdm bar on stderr, one step per origin.

    Returns
    -------
    pandas.DataFrame
        One row per series, origin and horizon: ``unique_id, offset, cutoff, horizon, ds,
        forecast, y`` (actual value, NaN beyond the data), ``last`` (value at the origin),
        ``scale`` (MASE scale at the origin, unfloored), ``scale2`` (mean squared naive error)
        and ``iscale`` (floored interval scale).

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(2014, 2025), "y": range(11)})
    >>> rf = rolling_origin_forecasts(df, "naive", 2, [2])
    >>> rf[["cutoff", "horizon", "forecast", "y"]].to_numpy().tolist()
    [[2022.0, 1.0, 8.0, 9.0], [2022.0, 2.0, 8.0, 10.0]]
    """
    frames = []
    actual = df.set_index(["unique_id", "ds"])["y"]
    for offset in tqdm(list(offsets), desc=f"origins {method}", disable=not progress, leave=False):
        train = _truncate(df, int(offset), min_points)
        if train.empty:
            continue
        pts, _ = forecast_points(train, method, h, parents=parents, **model_kwargs)  # type: ignore[arg-type]
        stats = series_stats(train, scale_floor)[["last", "scale", "scale2", "iscale", "cutoff"]]
        pts = pts.join(stats, on="unique_id")
        pts["offset"] = int(offset)
        pts["horizon"] = (pts["ds"] - pts["cutoff"]).astype(int)
        idx = pd.MultiIndex.from_arrays([pts["unique_id"], pts["ds"]])
        pts["y"] = actual.reindex(idx).to_numpy()
        frames.append(pts)
    cols = [
        "unique_id",
        "offset",
        "cutoff",
        "horizon",
        "ds",
        "forecast",
        "y",
        "last",
        "scale",
        "scale2",
        "iscale",
    ]
    if not frames:
        return pd.DataFrame(columns=cols)
    return pd.concat(frames, ignore_index=True)[cols]


def _pooling(method: str) -> bool:
    return any(MODELS[n].kind == "hierarchy" for n in parse_method(method)[1])


def candidate_rows(
    panel: pd.DataFrame,
    candidates: Sequence[str],
    h: int,
    offsets: Sequence[int],
    *,
    parents: Mapping[str, str] | None = None,
    min_points: int = 3,
) -> pd.DataFrame:
    """Rolling-origin forecasts of every model the candidates use, one column per model.

    Each base model is fitted once per origin; a combination is then a mean or median of
    columns (:func:`combine_rows`), so comparing many candidates costs no more than their
    distinct components. Rows of earlier origins are kept only up to the horizon they withheld
    (``horizon <= offset``); offset 0 rows (the future) are kept whole.

    Parameters
    ----------
    panel : pandas.DataFrame
        Validated panel — the training years only.
    candidates : sequence of str
        Method strings.
    h : int
        Longest horizon.
    offsets : sequence of int
        Origins as the number of final years withheld.
    parents : Mapping[str, str], optional
        For the pooling models.
    min_points : int, default 3
        Series shorter than this at an origin are skipped there.

    Returns
    -------
    pandas.DataFrame
        ``unique_id, offset, cutoff, horizon, ds, y, last, scale, scale2, iscale`` and one
        forecast column per base model.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(2014, 2020), "y": [1, 2, 3, 4, 5, 6]})
    >>> rows = candidate_rows(df, ["naive", "mean(naive,drift)"], 1, [1])
    >>> rows[["y", "naive", "drift"]].to_numpy().tolist()
    [[6.0, 5.0, 6.0]]
    """
    names = list(dict.fromkeys(["naive", *(n for c in candidates for n in parse_method(c)[1])]))
    keys = ["unique_id", "offset", "horizon"]
    wide: pd.DataFrame | None = None
    for name in names:
        rf = rolling_origin_forecasts(
            panel, name, h, offsets, min_points=min_points, parents=parents
        )
        rf = rf[(rf["offset"] == 0) | (rf["horizon"] <= rf["offset"])].set_index(keys)
        if wide is None:
            wide = rf.drop(columns="forecast")
        wide[name] = rf["forecast"]
    if wide is None:
        raise KompetensprognosError("give at least one candidate method")
    return wide.reset_index()


def combine_rows(rows: pd.DataFrame, method: str) -> np.ndarray:
    """Forecasts of a (combined) method from the base columns of :func:`candidate_rows`.

    Examples
    --------
    >>> rows = pd.DataFrame({"naive": [1.0, 2.0], "drift": [3.0, 2.0], "ets": [8.0, 2.0]})
    >>> combine_rows(rows, "median(naive,drift,ets)").tolist()
    [3.0, 2.0]
    """
    combiner, names = parse_method(method)
    if combiner == BY_GROUP:
        raise KompetensprognosError("combine_rows takes one method per call, not a per-group one")
    stack = np.stack([rows[n].to_numpy(float) for n in names])
    return np.median(stack, axis=0) if combiner == "median" else np.mean(stack, axis=0)


def group_scores(
    rows: pd.DataFrame,
    candidates: Sequence[str],
    groups: Mapping[str, str] | pd.Series | None = None,
) -> pd.DataFrame:
    """Accuracy of every candidate per group on rows with actuals.

    Parameters
    ----------
    rows : pandas.DataFrame
        Output of :func:`candidate_rows` with a ``naive`` column (rows without an actual are
        ignored).
    candidates : sequence of str
        Methods to score.
    groups : Mapping[str, str] or pandas.Series, optional
        ``unique_id -> group``; default one group ``"all"``.

    Returns
    -------
    pandas.DataFrame
        ``group, method, n_series, mase, relmae, direction_accuracy``. ``mase`` is the mean
        scaled error (terms with scale 0 left out); ``relmae`` is the geometric mean over series
        of the method's MAE relative to naive's on the same rows (Davydenko and Fildes' AvgRelMAE:
        below 1 beats naive; series where naive is exact are left out). One series with a tiny
        scale can dominate a mean MASE; it cannot dominate ``relmae``.

    Examples
    --------
    >>> rows = pd.DataFrame({"unique_id": ["a", "a", "b"], "y": [2.0, 3.0, 10.0],
    ...                      "last": [1.0, 1.0, 8.0], "scale": [1.0, 1.0, 2.0],
    ...                      "naive": [1.0, 1.0, 8.0], "drift": [2.0, 3.0, 9.0]})
    >>> sc = group_scores(rows, ["naive", "drift"])
    >>> sc[["method", "mase", "relmae"]].round(3).to_numpy().tolist()
    [['naive', 1.333, 1.0], ['drift', 0.167, 0.071]]
    """
    rows = rows[rows["y"].notna()]
    g = rows["unique_id"].map(groups) if groups is not None else pd.Series("all", rows.index)
    g = g.fillna("*").astype(str).to_numpy()
    uid = rows["unique_id"].to_numpy()
    y, last = rows["y"].to_numpy(float), rows["last"].to_numpy(float)
    s = rows["scale"].to_numpy(float)
    n_series = pd.Series(uid).groupby(g).nunique()
    naive_mae = pd.Series(np.abs(y - rows["naive"].to_numpy(float))).groupby(uid).mean()
    g_of = pd.Series(g, index=uid).groupby(level=0).first()
    out = []
    for cand in candidates:
        f = combine_rows(rows, cand)
        ase = np.where(s > 0, np.abs(y - f) / np.where(s > 0, s, 1), np.nan)
        hit = (np.sign(f - last) == np.sign(y - last)).astype(float)
        per = pd.DataFrame({"g": g, "ase": ase, "hit": hit}).groupby("g")[["ase", "hit"]].mean()
        mae = pd.Series(np.abs(y - f)).groupby(uid).mean()
        ok = naive_mae.to_numpy() > 0
        ratio = np.full(len(mae), np.nan)
        # an exact forecast counts as 1 % of naive's error so one series cannot give -inf
        ratio[ok] = np.log(np.maximum(mae.to_numpy()[ok], 0.01 * naive_mae.to_numpy()[ok]))
        ratio[ok] -= np.log(naive_mae.to_numpy()[ok])
        rel = np.exp(pd.Series(ratio, index=mae.index).groupby(g_of.reindex(mae.index)).mean())
        out.append(
            pd.DataFrame(
                {
                    "group": per.index,
                    "method": cand,
                    "n_series": n_series.reindex(per.index).to_numpy(),
                    "mase": per["ase"].to_numpy(),
                    "relmae": rel.reindex(per.index).to_numpy(),
                    "direction_accuracy": per["hit"].to_numpy(),
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def select_by_group(
    scores: pd.DataFrame,
    *,
    min_series: int = MIN_GROUP_SERIES,
    criterion: str = SELECT_CRITERION,
) -> tuple[str, dict[str, str]]:
    """The overall and the per-group choice from :func:`group_scores`.

    The overall choice has the lowest ``criterion`` averaged over groups (so thousands of
    bottom series do not drown the aggregates; ``relmae`` is averaged geometrically). Each group
    with at least ``min_series`` series takes its own best method; smaller groups (a total, a
    sex) take the overall choice, since a handful of series cannot tell a dozen candidates
    apart.

    Parameters
    ----------
    scores : pandas.DataFrame
        Output of :func:`group_scores`.
    min_series : int, default 10
        Smallest group that gets its own choice.
    criterion : {"relmae", "mase"}, default "relmae"
        Column of ``scores`` to minimise; where it is missing or undefined (naive exact on
        every row) ``mase`` is used.

    Returns
    -------
    tuple[str, dict[str, str]]
        Overall method and ``group -> method``.

    Examples
    --------
    >>> sc = pd.DataFrame({"group": ["a", "a", "b", "b"], "method": ["naive", "drift"] * 2,
    ...                    "n_series": [20, 20, 1, 1], "mase": [1.0, 2.0, 3.0, 1.5]})
    >>> select_by_group(sc, criterion="mase")
    ('drift', {'a': 'naive', 'b': 'drift'})
    """
    if criterion not in ("relmae", "mase"):
        raise KompetensprognosError(
            f"unknown selection criterion {criterion!r}; use relmae or mase"
        )

    def column(frame: pd.DataFrame) -> str:
        # relmae is undefined where naive was exact on every row; fall back to mase there
        has = criterion in frame and frame[criterion].notna().any()
        return criterion if has else "mase"

    crit = column(scores)
    ok = scores.dropna(subset=[crit])
    if ok.empty:
        return DEFAULT_METHOD, {}
    order = list(dict.fromkeys(scores["method"]))
    val = np.log(ok[crit]) if crit == "relmae" else ok[crit]
    mean = val.groupby(ok["method"], sort=False).mean().reindex(order).dropna()
    overall = str(mean.idxmin())
    chosen: dict[str, str] = {}
    for grp, sc in scores.groupby("group", sort=False):
        sc = sc.dropna(subset=[column(sc)])
        if sc.empty or int(sc["n_series"].max()) < min_series:
            chosen[str(grp)] = overall
        else:
            chosen[str(grp)] = str(sc.loc[sc[column(sc)].idxmin(), "method"])
    return overall, chosen


def select_method(
    panel: pd.DataFrame,
    h: int,
    *,
    candidates: Sequence[str] | None = None,
    parents: Mapping[str, str] | None = None,
    groups: Mapping[str, str] | pd.Series | None = None,
    n_origins: int = 3,
    min_points: int = 3,
    return_scores: bool = False,
    by_group: bool = False,
    min_group_series: int = MIN_GROUP_SERIES,
    criterion: str = SELECT_CRITERION,
) -> str | tuple[str, pd.DataFrame]:
    """Choose a method by rolling origins *inside* the panel given (never its future).

    Each candidate forecasts the panel from the last ``n_origins`` origins (1..``n_origins``
    final years withheld, horizons up to what is withheld, at most ``h``); the candidate with
    the lowest ``criterion`` wins (default: MAE relative to naive, geometric mean over series,
    see :func:`group_scores`). Scores are averaged per group first (e.g. per hierarchy level) and
    then over groups, so thousands of bottom series do not drown the aggregates. With
    ``by_group`` each group with at least ``min_group_series`` series gets its own best method
    and the result is a per-group method string (``"bygroup(*=...; <group>=...)"``) for
    :class:`Forecaster` with the same ``groups``.

    Parameters
    ----------
    panel : pandas.DataFrame
        Validated panel ``unique_id, ds, y`` — pass only the training years.
    h : int
        Longest horizon scored.
    candidates : sequence of str, optional
        Methods to compare (default :data:`SELECT_CANDIDATES`; pooling methods are skipped
        without ``parents``).
    parents : Mapping[str, str], optional
        Hierarchy mapping for the pooling methods.
    groups : Mapping[str, str] or pandas.Series, optional
        ``unique_id -> group`` (e.g. hierarchy level) for the averaging.
    n_origins : int, default 3
        Inner origins.
    min_points : int, default 3
        Series shorter than this at an origin are skipped there.
    return_scores : bool, default False
        Also return the score table (``method, mase, direction_accuracy``; with ``by_group``
        per ``group`` too).
    by_group : bool, default False
        Choose per group (needs ``groups``).
    min_group_series : int, default 10
        Smaller groups take the overall choice.
    criterion : {"relmae", "mase"}, default "relmae"
        What is minimised (see :func:`group_scores`).

    Returns
    -------
    str or tuple[str, pandas.DataFrame]
        The chosen method string (and the scores).

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(2010, 2025), "y": range(15)})
    >>> select_method(df, 2, candidates=["naive", "drift"])
    'drift'
    """
    cands = list(candidates or SELECT_CANDIDATES)
    if not parents:
        cands = [c for c in cands if not _pooling(c)]
    if by_group and groups is None:
        raise KompetensprognosError("by_group selection needs groups (unique_id -> group)")
    rows = candidate_rows(
        panel, cands, h, range(1, n_origins + 1), parents=parents, min_points=min_points
    )
    scores = group_scores(rows, cands, groups)
    overall, per = select_by_group(scores, min_series=min_group_series, criterion=criterion)
    best = by_group_method(per, default=overall) if by_group else overall
    if not return_scores:
        return best
    if by_group:
        return best, scores
    table = (
        scores.groupby("method", sort=False)[["mase", "direction_accuracy"]].mean().reset_index()
    )
    return best, table


def origin_length_correction(
    errors: pd.DataFrame, offset: str = "offset", max_shrink: float = 0.6
) -> tuple[pd.DataFrame, float]:
    """Rescale calibration errors to the error size of the latest origin.

    A calibration origin ``o`` years back has ``o`` fewer training years than the forecast it
    calibrates, and its errors are larger: intervals calibrated on them over-cover. Within each
    horizon the median absolute scaled error is regressed (log scale, one slope ``b`` pooled over
    horizons) on the origin's distance; errors at distance ``o`` are multiplied by
    ``exp(-b * o)``, bounded below by ``max_shrink``. A slope ``b <= 0`` (no such trend) leaves the
    errors as they are.

    Parameters
    ----------
    errors : pandas.DataFrame
        ``horizon``, ``scaled_error`` and the distance column ``offset``.
    offset : str, default "offset"
        Column with each error's origin distance from the forecast origin (years).
    max_shrink : float, default 0.6
        Smallest multiplier applied.

    Returns
    -------
    tuple[pandas.DataFrame, float]
        The errors with ``scaled_error`` rescaled, and the slope ``b`` used (0 when none).

    Examples
    --------
    >>> e = pd.DataFrame({"horizon": 1, "offset": np.repeat([1, 2, 3], 50),
    ...                   "scaled_error": np.tile(np.linspace(-1, 1, 50), 3)
    ...                   * np.repeat([1.0, 1.2, 1.44], 50)})
    >>> out, b = origin_length_correction(e)
    >>> round(b, 3), round(float(out["scaled_error"].abs().max()), 3)
    (0.182, 0.864)
    """
    e = errors.dropna(subset=["scaled_error"])
    med = e.assign(a=e["scaled_error"].abs()).groupby(["horizon", offset])["a"].median()
    med = med[med > 0]
    if med.empty:
        return errors, 0.0
    df = med.reset_index()
    df["la"] = np.log(df["a"])
    df = df[df.groupby("horizon")[offset].transform("nunique") > 1]
    if df.empty:
        return errors, 0.0
    x = df[offset] - df.groupby("horizon")[offset].transform("mean")
    yv = df["la"] - df.groupby("horizon")["la"].transform("mean")
    den = float((x**2).sum())
    b = float((x * yv).sum() / den) if den > 0 else 0.0
    if not b > 0:
        return errors, 0.0
    out = errors.copy()
    out["scaled_error"] = out["scaled_error"] * np.maximum(
        np.exp(-b * out[offset].to_numpy(float)), max_shrink
    )
    return out, b


def calibrate_intervals(
    errors: pd.DataFrame,
    h: int,
    levels: Sequence[float] = (80, 95),
    *,
    min_errors: int = 30,
) -> pd.DataFrame:
    """Empirical quantiles of scaled errors per horizon, for each interval level.

    Parameters
    ----------
    errors : pandas.DataFrame
        Columns ``horizon`` and ``scaled_error`` (``(y - forecast) / iscale``), pooled across
        series and origins.
    h : int
        Horizons ``1..h`` to calibrate.
    levels : sequence of float, default (80, 95)
        Nominal coverage in percent.
    min_errors : int, default 30
        Fewest errors a horizon needs to get its own quantiles; horizons with fewer borrow the
        largest calibrated horizon, widened by ``sqrt(j / j_max)``.

    Returns
    -------
    pandas.DataFrame
        ``horizon, level, q_lo, q_hi, n_errors, source`` with ``q_lo <= 0 <= q_hi`` and
        widths that never shrink with the horizon. ``source`` is ``empirical``,
        ``extrapolated`` or ``gaussian`` (no calibration errors at all: random walk with
        scaled step sd 1.25).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> errs = pd.DataFrame({"horizon": 1, "scaled_error": rng.normal(size=1000)})
    >>> cal = calibrate_intervals(errs, h=1, levels=[95])
    >>> bool(abs(cal["q_hi"].iloc[0] - 1.96) < 0.2)
    True
    """
    rows = []
    by_h = {
        int(j): g["scaled_error"].to_numpy()
        for j, g in errors.dropna(subset=["scaled_error"]).groupby("horizon")
    }
    ok = [j for j in range(1, h + 1) if len(by_h.get(j, ())) >= min_errors]
    for level in levels:
        a = (1 - level / 100) / 2
        lo_prev, hi_prev = 0.0, 0.0
        for j in range(1, h + 1):
            e = by_h.get(j, np.empty(0))
            if j in ok:
                n = len(e)
                # finite-sample (conformal) correction: slightly wider quantile levels
                p_lo = max(math.floor(a * (n + 1)) / n, 0.0)
                p_hi = min(math.ceil((1 - a) * (n + 1)) / n, 1.0)
                q_lo, q_hi = float(np.quantile(e, p_lo)), float(np.quantile(e, p_hi))
                source = "empirical"
            elif ok:
                jm = max(k for k in ok if k < j) if any(k < j for k in ok) else min(ok)
                base = next(r for r in rows if r["horizon"] == jm and r["level"] == level)
                f = math.sqrt(j / jm)
                q_lo, q_hi, source = base["q_lo"] * f, base["q_hi"] * f, "extrapolated"
            else:
                z = float(norm.ppf(1 - a)) * 1.25 * math.sqrt(j)
                q_lo, q_hi, source = -z, z, "gaussian"
            q_lo, q_hi = min(q_lo, lo_prev, 0.0), max(q_hi, hi_prev, 0.0)
            lo_prev, hi_prev = q_lo, q_hi
            rows.append(
                {
                    "horizon": j,
                    "level": level,
                    "q_lo": q_lo,
                    "q_hi": q_hi,
                    "n_errors": len(e),
                    "source": source,
                }
            )
    return pd.DataFrame(rows)


class Forecaster:
    """Point forecasts and calibrated prediction intervals for a yearly panel.

    Parameters
    ----------
    horizon : int, default 6
        Years ahead to forecast (``1..horizon``).
    method : str, default "auto"
        ``"auto"`` (the benchmark-chosen default, :data:`DEFAULT_METHOD`), a model name
        (``naive, drift, ets, damped, theta, dotheta, ces, arima, global, parent``) or a
        combination ``"mean(a,b,...)"`` / ``"median(a,b,...)"``.
    levels : sequence of float, default (80, 95)
        Interval levels in percent.
    nonnegative : bool or None, default None
        Clip forecasts and bounds at zero. ``None`` turns it on when every observed value is
        ``>= 0`` (counts, employment).
    calibration_origins : int or None, default None
        Earlier origins used to calibrate intervals (``None``: ``horizon``). ``0`` skips
        calibration and uses the Gaussian fallback.
    min_calibration_errors : int, default 30
        Fewest pooled errors per horizon for an empirical quantile.
    scale_floor : float or None, default None
        Floor of the per-series interval scale. ``None``: 1.0 for count data (non-negative
        whole numbers), else 0.
    parents : Mapping[str, str], optional
        ``unique_id -> parent id`` for hierarchy pooling (method ``"parent"``).
    shrinkage : float, default 0.5
        Weight of the parent-growth forecast in ``"parent"``.
    progress : bool, default False
        Show a tqdm progress bar on stderr.
    origin_correction : bool, default True
        Shrink calibration errors from earlier (shorter) origins to the latest origin's error
        size (:func:`origin_length_correction`); off reproduces the uncorrected intervals.
    calibration_series : int or None, default 400
        The calibration refits use a random sample (seed 0) of this many series when the panel
        has more: the quantiles are pooled over series, so a few hundred series give thousands of
        errors per horizon at a fraction of the cost. ``None`` uses every series. Methods with
        parents (``parent``, ``share``) always use every series (a parent must be present).
    calibration_ids : collection of str, optional
        Exactly these series are used for the calibration refits (overrides
        ``calibration_series``).
    chunk_size, n_chunks : int, optional
        Forecast the panel in chunks of whole series (series per chunk, or the number of chunks;
        see :func:`kompetensprognos.panel.split_panel`). Pooled models (``ridge``, ``global``)
        are then trained per chunk; local models give the same result as unchunked. The
        calibration sample and the pooled calibration do not depend on the chunking.
    executor : Executor, {"local", "dask"} or None
        Where chunks run (:mod:`kompetensprognos.executors`); giving one turns chunking on
        (default chunk size :data:`kompetensprognos.panel.DEFAULT_CHUNK_SIZE`). An executor
        passed in is not closed; one made from ``"dask"`` is closed when done.
    groups : Mapping[str, str] or pandas.Series, optional
        ``unique_id -> group`` (e.g. hierarchy level) for a per-group method
        ``"bygroup(*=...; <group>=...)"`` such as :func:`select_method` returns with
        ``by_group=True``.
    frozen_refits : bool, default True
        The calibration refits fit every model once, on the data up to the earliest calibration
        origin, and re-apply it at the later origins (local models keep their parameters and
        re-filter their states; see :func:`_calibration_models`). ``False`` is the earlier
        scheme (every model but the boosted one refitted at every origin; about three times the
        cost of the refits), kept for comparison.

    Attributes
    ----------
    panel_ : pandas.DataFrame
        The validated training panel.
    point_ : pandas.DataFrame
        ``unique_id, ds, forecast`` before clipping.
    calibration_ : pandas.DataFrame
        Output of :func:`calibrate_intervals`.
    calibration_errors_ : pandas.DataFrame
        The rolling-origin forecasts behind the calibration.
    fallbacks_ : dict[str, list[str]]
        Per model, series too short for it that used the short-series fallback.
    nonnegative_ : bool
        Whether clipping at zero is applied.
    origin_slope_ : float
        Slope of the origin-length correction (0: none applied).
    n_chunks_ : int
        Number of chunks (chunked fits only).

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(2014, 2025),
    ...                    "y": [5, 6, 6, 7, 8, 8, 9, 10, 10, 11, 12]})
    >>> fc = Forecaster(horizon=2, method="drift").fit(df).predict()
    >>> list(fc.columns)
    ['unique_id', 'ds', 'forecast', 'lo80', 'hi80', 'lo95', 'hi95']
    """

    def __init__(
        self,
        horizon: int = 6,
        method: str = "auto",
        levels: Sequence[float] = (80, 95),
        nonnegative: bool | None = None,
        calibration_origins: int | None = None,
        min_calibration_errors: int = 30,
        scale_floor: float | None = None,
        parents: Mapping[str, str] | None = None,
        shrinkage: float = 0.5,
        progress: bool = False,
        origin_correction: bool = True,
        calibration_series: int | None = 400,
        calibration_ids: Collection[str] | None = None,
        chunk_size: int | None = None,
        n_chunks: int | None = None,
        executor: object | None = None,
        groups: Mapping[str, str] | pd.Series | None = None,
        frozen_refits: bool = True,
    ) -> None:
        self.horizon = horizon
        self.method = method
        self.levels = levels
        self.nonnegative = nonnegative
        self.calibration_origins = calibration_origins
        self.min_calibration_errors = min_calibration_errors
        self.scale_floor = scale_floor
        self.parents = parents
        self.shrinkage = shrinkage
        self.progress = progress
        self.origin_correction = origin_correction
        self.calibration_series = calibration_series
        self.calibration_ids = calibration_ids
        self.chunk_size = chunk_size
        self.n_chunks = n_chunks
        self.executor = executor
        self.groups = groups
        self.frozen_refits = frozen_refits

    def _check_settings(self) -> None:
        if int(self.horizon) < 1:
            raise KompetensprognosError(f"horizon must be at least 1 (got {self.horizon})")
        bad = [lv for lv in self.levels if not 0 < float(lv) < 100]
        if bad:
            raise KompetensprognosError(f"interval levels must lie between 0 and 100 (got {bad})")
        parse_method(self.method)

    def _corrected(self, rf: pd.DataFrame) -> pd.DataFrame:
        if not self.origin_correction:
            self.origin_slope_ = 0.0
            return rf
        out, self.origin_slope_ = origin_length_correction(rf)
        return out

    def fit(self, df: pd.DataFrame) -> Forecaster:
        """Validate the panel, forecast it and calibrate the intervals; returns ``self``.

        With ``chunk_size``, ``n_chunks`` or ``executor`` the panel is forecast in chunks of
        whole series (in this process or on the executor's workers) and the calibration errors
        of all chunks are pooled for one calibration, as an unchunked fit pools them.

        Parameters
        ----------
        df : pandas.DataFrame
            Long panel with ``unique_id``, ``ds`` (integer year) and ``y``.

        Returns
        -------
        Forecaster
            The fitted forecaster.
        """
        self._check_settings()
        panel = validate_panel(df)
        y = panel["y"].to_numpy()
        counts = bool((y >= 0).all() and np.allclose(y, np.round(y)))
        self.nonnegative_ = bool((y >= 0).all()) if self.nonnegative is None else self.nonnegative
        floor = (1.0 if counts else 0.0) if self.scale_floor is None else float(self.scale_floor)
        sample = self._calibration_sample(panel)
        if self.chunk_size is None and self.n_chunks is None and self.executor is None:
            self.point_, self.fallbacks_, rf = self._fit_panel(panel, floor, sample)
        else:
            self.point_, self.fallbacks_, rf = self._fit_chunks(panel, floor, sample)
        self.calibration_errors_ = rf
        self.calibration_ = calibrate_intervals(
            self._corrected(rf),
            int(self.horizon),
            self.levels,
            min_errors=self.min_calibration_errors,
        )
        self.panel_ = panel
        self.scale_ = series_stats(panel, floor)["iscale"]
        return self

    def _calibration_sample(self, panel: pd.DataFrame) -> set[str] | None:
        """Series the calibration refits use (None: all); the same set with or without chunks."""
        if self.calibration_ids is not None:
            return {str(u) for u in self.calibration_ids}
        pooled = any(MODELS[n].kind == "hierarchy" for n in parse_method(self.method)[1])
        ids = panel["unique_id"].unique()
        n_sample = self.calibration_series
        if n_sample is None or pooled or len(ids) <= int(n_sample):
            return None
        return set(np.random.default_rng(0).choice(ids, int(n_sample), replace=False))

    def _fit_panel(
        self, panel: pd.DataFrame, floor: float, sample: set[str] | None
    ) -> tuple[pd.DataFrame, dict[str, list[str]], pd.DataFrame]:
        """Points, fallbacks and calibration errors of one (chunk of a) panel."""
        h = int(self.horizon)
        kw = {"parents": self.parents, "shrinkage": self.shrinkage, "groups": self.groups}
        n_cal = h if self.calibration_origins is None else int(self.calibration_origins)
        bar = tqdm(total=n_cal + 1, desc="forecasting", disable=not self.progress)
        point, fallbacks = forecast_points(panel, self.method, h, **kw)  # type: ignore[arg-type]
        bar.update(1)
        cal_panel = panel
        if sample is not None:
            cal_panel = panel[panel["unique_id"].isin(sample)].reset_index(drop=True)
        trained = _calibration_models(cal_panel, self.method, h, n_cal, frozen=self.frozen_refits)
        if trained:
            kw = {**kw, "trained": trained}
        parts = []
        for offset in range(1, n_cal + 1):  # one origin at a time so the bar moves
            if not cal_panel.empty:
                # only horizons up to the origin's distance have actuals to score, so the
                # refit forecasts no further: a pooled model trains one regression per horizon,
                # and the earlier horizons come out the same whatever the horizon asked for
                parts.append(
                    rolling_origin_forecasts(
                        cal_panel,
                        self.method,
                        min(h, offset),
                        [offset],
                        scale_floor=floor,
                        **kw,  # type: ignore[arg-type]
                    )
                )
            bar.update(1)
        bar.close()
        parts = [p for p in parts if not p.empty]
        rf = (
            pd.concat(parts, ignore_index=True)
            if parts
            else rolling_origin_forecasts(panel, self.method, h, [], scale_floor=floor)
        )
        rf = rf[rf["horizon"] <= rf["offset"]].copy()
        rf["scaled_error"] = (rf["y"] - rf["forecast"]) / rf["iscale"]
        return point, fallbacks, rf

    def _fit_chunks(
        self, panel: pd.DataFrame, floor: float, sample: set[str] | None
    ) -> tuple[pd.DataFrame, dict[str, list[str]], pd.DataFrame]:
        from functools import partial

        from kompetensprognos.executors import LocalExecutor, get_executor

        if any(MODELS[n].kind == "hierarchy" for n in parse_method(self.method)[1]):
            raise KompetensprognosError(
                f"method {self.method!r} uses parents and cannot be partitioned into chunks (a series' parent "
                "may sit in another chunk); fit the whole panel without chunk_size/executor"
            )
        chunk_size = self.chunk_size
        if chunk_size is None and self.n_chunks is None:
            chunk_size = DEFAULT_CHUNK_SIZE
        chunks = split_sorted(panel, chunk_size, self.n_chunks)
        # each chunk is fitted unchunked with the settings decided on the whole panel
        worker = Forecaster(
            horizon=self.horizon,
            method=self.method,
            levels=tuple(self.levels),
            nonnegative=self.nonnegative_,
            calibration_origins=self.calibration_origins,
            min_calibration_errors=self.min_calibration_errors,
            scale_floor=floor,
            origin_correction=self.origin_correction,
            groups=self.groups,
            frozen_refits=self.frozen_refits,
        )
        work = partial(_fit_chunk, template=worker, floor=floor, sample=sample)
        own = isinstance(self.executor, str) and self.executor != "local"
        ex = get_executor(self.executor)  # type: ignore[arg-type]
        try:
            if isinstance(ex, LocalExecutor):
                bar = tqdm(chunks, desc="forecast chunks", disable=not self.progress)
                fits = [work(c) for c in bar]
            else:
                fits = ex.map(work, chunks)
        finally:
            if own:
                ex.close()
        fallbacks: dict[str, list[str]] = {}
        for _, fb, _ in fits:
            for name, ids in fb.items():
                fallbacks.setdefault(name, []).extend(ids)
        self.n_chunks_ = len(chunks)
        point = pd.concat([f[0] for f in fits], ignore_index=True)
        return point, fallbacks, pd.concat([f[2] for f in fits], ignore_index=True)

    def predict(self) -> pd.DataFrame:
        """Forecasts with interval bounds for horizons ``1..horizon``.

        Returns
        -------
        pandas.DataFrame
            ``unique_id, ds, forecast`` and ``lo<level>, hi<level>`` per level, clipped at
            zero when :attr:`nonnegative_`.
        """
        if not hasattr(self, "point_"):
            raise KompetensprognosError("call fit() before predict()")
        out = self.point_.copy()
        last = self.panel_.groupby("unique_id")["ds"].max()
        horizon = (out["ds"] - out["unique_id"].map(last)).to_numpy()
        scale = out["unique_id"].map(self.scale_).to_numpy()
        cal = self.calibration_.set_index(["level", "horizon"])
        for level in self.levels:
            lo, hi = interval_columns(level)
            q = cal.loc[level]
            out[lo] = out["forecast"] + q["q_lo"].reindex(horizon).to_numpy() * scale
            out[hi] = out["forecast"] + q["q_hi"].reindex(horizon).to_numpy() * scale
        if self.nonnegative_:
            num = out.columns.drop(["unique_id", "ds"])
            out[num] = out[num].clip(lower=0.0)
        return out.reset_index(drop=True)


#: Size of the boosted pooled model in the calibration refits (the forecasts use the full
#: 200 rounds at step 0.05): a stand-in with an eighth of the rounds at eight times the step.
CALIBRATION_GBM: dict[str, float] = {"max_iter": 25, "learning_rate": 0.4}


def _calibration_models(
    panel: pd.DataFrame, method: str, h: int, n_cal: int, *, frozen: bool = True
) -> dict[str, PooledWindowRegressor | FrozenLocal]:
    """Models fitted once for all calibration refits, on the data up to the earliest origin.

    Everything is fitted on the data up to the *earliest* calibration origin (``n_cal`` years
    withheld from every series), so no origin sees data after itself, and used at every origin:
    the pooled models (``global``, ``ridge``) as they are, the local models with optimised
    parameters (:data:`kompetensprognos.models.OPTIMISED_LOCAL`) with their parameters fixed and
    their states re-filtered over each origin's history (:class:`FrozenLocal`). One fit then
    replaces ``n_cal``. A model a few years staler than the one it stands in for errs a little
    more, so intervals lean wide rather than narrow. The boosted model is a smaller stand-in
    (:data:`CALIBRATION_GBM`). ``frozen=False`` is the earlier, slower scheme: only the boosted
    model is trained once (full size); every other model is refitted at every origin.
    """
    names = parse_method(method)[1]
    if n_cal < 2:
        return {}
    train = _truncate(panel, n_cal, 3)
    if train.empty:
        return {}
    uid = train["unique_id"].to_numpy()
    cuts = np.flatnonzero(uid[1:] != uid[:-1]) + 1
    series = np.split(train["y"].to_numpy(dtype=float), cuts)
    transform = "log" if bool((panel["y"] > 0).all()) else "level"
    out: dict[str, PooledWindowRegressor | FrozenLocal] = {}
    if "global" in names:
        size = CALIBRATION_GBM if frozen else {}
        gbm = PooledWindowRegressor(transform=transform, **size)  # type: ignore[arg-type]
        out["global"] = gbm.fit(series, h)
    if frozen:
        if "ridge" in names:
            ridge = PooledWindowRegressor(estimator="ridge", transform=transform)
            out["ridge"] = ridge.fit(series, h)
        ids = list(uid[np.r_[0, cuts]]) if len(uid) else []
        for name in local_models(names):
            if name in OPTIMISED_LOCAL:
                out[name] = FrozenLocal(name).fit(ids, series)
    return out


def _fit_chunk(
    chunk: pd.DataFrame, template: Forecaster, floor: float, sample: set[str] | None
) -> tuple[pd.DataFrame, dict[str, list[str]], pd.DataFrame]:
    """What a worker computes for one chunk: points, fallbacks, calibration errors."""
    return template._fit_panel(validate_panel(chunk), floor, sample)


def forecast(
    df: pd.DataFrame,
    horizon: int = 6,
    method: str = "auto",
    levels: Sequence[float] = (80, 95),
    **kwargs: object,
) -> pd.DataFrame:
    """Forecast a yearly panel in one call: ``Forecaster(...).fit(df).predict()``.

    Parameters
    ----------
    df : pandas.DataFrame
        Long panel with ``unique_id``, ``ds`` (integer year) and ``y``.
    horizon : int, default 6
        Years ahead.
    method : str, default "auto"
        See :class:`Forecaster`.
    levels : sequence of float, default (80, 95)
        Interval levels in percent.
    **kwargs
        Other :class:`Forecaster` settings.

    Returns
    -------
    pandas.DataFrame
        ``unique_id, ds, forecast, lo80, hi80, lo95, hi95``.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "0114", "ds": [2022, 2023, 2024], "y": [0, 1, 0]})
    >>> bool(forecast(df, horizon=1)["lo95"].min() >= 0)
    True
    """
    return Forecaster(horizon=horizon, method=method, levels=levels, **kwargs).fit(df).predict()  # type: ignore[arg-type]

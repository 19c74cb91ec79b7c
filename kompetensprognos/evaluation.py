"""Forecast accuracy metrics and rolling-origin backtests with calibrated intervals.

Metric definitions (``y`` actual, ``f`` forecast, ``y_0`` the last value at the origin):

* **sMAPE** (M3 convention, percent): ``200 * |y - f| / (|y| + |f|)``; a term with
  ``y = f = 0`` counts as 0 (a perfect forecast).
* **MASE** (seasonal period 1): ``|y - f| / s`` with ``s`` the in-sample mean absolute one-step
  naive error at the origin. When ``s = 0`` (a constant series, e.g. all zeros) the term is
  NaN and left out of every mean; ``n_mase`` in the summary says how many terms were used.
* **RMSSE**: ``sqrt(mean((y - f)^2 / s2))`` with ``s2`` the in-sample mean squared naive
  error; same zero-scale rule.
* **Direction accuracy**: share of forecasts where ``sign(f - y_0) == sign(y - y_0)``
  (no change counts as its own direction).
* **Coverage / width**: share of actuals inside the interval; width is the mean interval
  width divided by the interval scale (see :func:`kompetensprognos.forecasting.error_scale`),
  so it is comparable across series of any size.

Backtests never leak: the intervals scored at an origin are calibrated only on forecasts made
from *earlier* origins for years up to that origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm import tqdm

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.forecasting import (
    calibrate_intervals,
    interval_columns,
    origin_length_correction,
    rolling_origin_forecasts,
)
from kompetensprognos.models import parse_method
from kompetensprognos.panel import validate_panel

__all__ = [
    "BASELINES",
    "BacktestResult",
    "backtest",
    "direction_accuracy",
    "mase",
    "rmsse",
    "score_forecasts",
    "smape",
    "summarise",
    "to_backtest_table",
]

#: Baselines every backtest includes.
BASELINES: tuple[str, ...] = ("naive", "drift")


def smape(y: np.ndarray, f: np.ndarray) -> float:
    """Symmetric MAPE in percent (M3 definition), 0/0 terms count as 0.

    Examples
    --------
    >>> smape(np.array([100.0, 0.0]), np.array([110.0, 0.0]))
    4.761904761904762
    """
    y, f = np.asarray(y, float), np.asarray(f, float)
    den = np.abs(y) + np.abs(f)
    terms = np.divide(200 * np.abs(y - f), den, out=np.zeros_like(den), where=den > 0)
    return float(np.mean(terms))


def _naive_scale(insample: np.ndarray, power: int = 1) -> float:
    d = np.diff(np.asarray(insample, float))
    return float(np.mean(np.abs(d) ** power)) if len(d) else float("nan")


def mase(y: np.ndarray, f: np.ndarray, insample: np.ndarray) -> float:
    """Mean absolute scaled error with seasonal period 1; NaN when the naive scale is 0.

    Examples
    --------
    >>> mase(np.array([4.0, 6.0]), np.array([5.0, 5.0]), np.array([1.0, 2.0, 4.0]))
    0.6666666666666666
    """
    s = _naive_scale(insample)
    if not s > 0:
        return float("nan")
    return float(np.mean(np.abs(np.asarray(y, float) - np.asarray(f, float))) / s)


def rmsse(y: np.ndarray, f: np.ndarray, insample: np.ndarray) -> float:
    """Root mean squared scaled error (period 1); NaN when the naive scale is 0.

    Examples
    --------
    >>> rmsse(np.array([4.0]), np.array([6.0]), np.array([0.0, 2.0]))
    1.0
    """
    s2 = _naive_scale(insample, power=2)
    if not s2 > 0:
        return float("nan")
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(f, float)) ** 2) / s2))


def direction_accuracy(y: np.ndarray, f: np.ndarray, last: float | np.ndarray) -> float:
    """Share of forecasts with the right direction of change from the origin value.

    Examples
    --------
    >>> direction_accuracy(np.array([12.0, 8.0, 10.0]), np.array([11.0, 11.0, 10.0]), 10.0)
    0.6666666666666666
    """
    y, f = np.asarray(y, float), np.asarray(f, float)
    return float(np.mean(np.sign(f - last) == np.sign(y - last)))


def score_forecasts(rf: pd.DataFrame, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
    """Add per-row metric terms to a rolling-origin frame with actuals.

    Parameters
    ----------
    rf : pandas.DataFrame
        Rows with ``y, forecast, last, scale, scale2, iscale`` and, per level,
        ``lo<level>, hi<level>`` (from :func:`backtest` or
        :func:`kompetensprognos.forecasting.rolling_origin_forecasts`).
    levels : sequence of float
        Levels whose bounds are present.

    Returns
    -------
    pandas.DataFrame
        A copy with ``abs_error, smape, ase, sse, direction_hit`` and ``in<level>,
        width<level>`` columns (``ase``/``sse`` are NaN when the scale is 0).

    Examples
    --------
    >>> rf = pd.DataFrame({"y": [3.0], "forecast": [2.0], "last": [1.0], "scale": [1.0],
    ...                    "scale2": [1.0], "iscale": [1.0]})
    >>> float(score_forecasts(rf, levels=[])["ase"].iloc[0])
    1.0
    """
    out = rf.copy()
    y, f = out["y"].to_numpy(float), out["forecast"].to_numpy(float)
    err = y - f
    den = np.abs(y) + np.abs(f)
    out["abs_error"] = np.abs(err)
    out["smape"] = np.divide(200 * np.abs(err), den, out=np.zeros_like(den), where=den > 0)
    s, s2 = out["scale"].to_numpy(float), out["scale2"].to_numpy(float)
    out["ase"] = np.where(s > 0, np.abs(err) / np.where(s > 0, s, 1), np.nan)
    out["sse"] = np.where(s2 > 0, err**2 / np.where(s2 > 0, s2, 1), np.nan)
    last = out["last"].to_numpy(float)
    out["direction_hit"] = (np.sign(f - last) == np.sign(y - last)).astype(float)
    for level in levels:
        lo, hi = interval_columns(level)
        tag = f"{level:g}"
        out[f"in{tag}"] = ((y >= out[lo]) & (y <= out[hi])).astype(float)
        out[f"width{tag}"] = (out[hi] - out[lo]) / out["iscale"]
    return out


def summarise(
    detail: pd.DataFrame,
    levels: Sequence[float] = (80, 95),
    by: Sequence[str] = ("model", "horizon"),
) -> pd.DataFrame:
    """Average scored rows into one row per group (default: model × horizon).

    Parameters
    ----------
    detail : pandas.DataFrame
        Output of :func:`score_forecasts` with a ``model`` column.
    levels : sequence of float
        Levels to summarise.
    by : sequence of str, default ("model", "horizon")
        Grouping columns; ``("model",)`` gives one row per model over all horizons.

    Returns
    -------
    pandas.DataFrame
        ``by..., n, n_mase, mase, smape, rmsse, direction_accuracy`` and ``coverage<level>,
        width<level>`` per level. RMSSE is ``sqrt`` of the mean squared scaled error.

    Examples
    --------
    >>> d = pd.DataFrame({"model": "naive", "horizon": 1, "smape": [10.0, 20.0],
    ...                   "ase": [1.0, np.nan], "sse": [4.0, np.nan], "direction_hit": [1.0, 0.0]})
    >>> summarise(d, levels=[])[["n", "n_mase", "mase", "smape", "rmsse"]].iloc[0].tolist()
    [2.0, 1.0, 1.0, 15.0, 2.0]
    """
    g = detail.groupby(list(by), sort=True)
    out = pd.DataFrame(
        {
            "n": g.size().astype(float),
            "n_mase": g["ase"].count().astype(float),
            "mase": g["ase"].mean(),
            "smape": g["smape"].mean(),
            "rmsse": np.sqrt(g["sse"].mean()),
            "direction_accuracy": g["direction_hit"].mean(),
        }
    )
    for level in levels:
        tag = f"{level:g}"
        out[f"coverage{tag}"] = g[f"in{tag}"].mean()
        out[f"width{tag}"] = g[f"width{tag}"].mean()
    return out.reset_index()


def to_backtest_table(summary: pd.DataFrame, region: str) -> pd.DataFrame:
    """The ``backtest.csv`` layout used by the regional reports.

    Parameters
    ----------
    summary : pandas.DataFrame
        :attr:`BacktestResult.summary` (model × horizon, levels 80 and 95).
    region : str
        Region code or name written in the ``region`` column.

    Returns
    -------
    pandas.DataFrame
        ``region, model, horizon, mase, smape, direction_accuracy, coverage80, coverage95``.

    Examples
    --------
    >>> s = pd.DataFrame({"model": ["naive"], "horizon": [1], "mase": [1.0], "smape": [5.0],
    ...                   "direction_accuracy": [0.5], "coverage80": [0.8], "coverage95": [0.9]})
    >>> list(to_backtest_table(s, "14").columns)[:3]
    ['region', 'model', 'horizon']
    """
    cols = ["model", "horizon", "mase", "smape", "direction_accuracy", "coverage80", "coverage95"]
    missing = [c for c in cols if c not in summary.columns]
    if missing:
        raise KompetensprognosError(
            f"backtest summary lacks {', '.join(missing)}; run the backtest with levels 80 and 95"
        )
    return summary.loc[:, cols].assign(region=str(region))[["region", *cols]]


@dataclass
class BacktestResult:
    """Tidy backtest results.

    Attributes
    ----------
    detail : pandas.DataFrame
        One row per model × series × origin × horizon with forecast, actual, bounds and metric
        terms.
    summary : pandas.DataFrame
        One row per model × horizon (see :func:`summarise`).
    overall : pandas.DataFrame
        One row per model, all horizons pooled.
    """

    detail: pd.DataFrame
    summary: pd.DataFrame
    overall: pd.DataFrame


def backtest(
    df: pd.DataFrame,
    methods: Sequence[str] = ("auto",),
    h: int = 6,
    *,
    n_origins: int = 3,
    levels: Sequence[float] = (80, 95),
    calibration_origins: int | None = None,
    min_calibration_errors: int = 30,
    nonnegative: bool | None = None,
    scale_floor: float | None = None,
    parents: Mapping[str, str] | None = None,
    baselines: bool = True,
    progress: bool = False,
    origin_correction: bool = True,
) -> BacktestResult:
    """Rolling-origin backtest of one or more methods, with calibrated intervals.

    Evaluation origins withhold ``o = 1 .. h + n_origins - 1`` final years; at origin ``o``
    horizons ``j <= o`` are scored, so horizon ``h`` is scored at ``n_origins`` origins and
    shorter horizons at more. Intervals at origin ``o`` are calibrated on forecasts from origins
    ``o + 1 .. o + calibration_origins`` for years up to origin ``o`` only (no leakage).

    Parameters
    ----------
    df : pandas.DataFrame
        Long panel (``unique_id, ds, y``).
    methods : sequence of str, default ("auto",)
        Methods to test; :data:`BASELINES` are added when ``baselines``.
    h : int, default 6
        Longest horizon.
    n_origins : int, default 3
        Origins at which the longest horizon is scored.
    levels : sequence of float, default (80, 95)
        Interval levels in percent.
    calibration_origins : int or None, default None
        Earlier origins used for each calibration (``None``: ``h``).
    min_calibration_errors : int, default 30
        See :func:`kompetensprognos.forecasting.calibrate_intervals`.
    nonnegative, scale_floor
        As in :class:`kompetensprognos.forecasting.Forecaster`.
    parents : Mapping[str, str], optional
        Hierarchy mapping for the ``parent`` method.
    baselines : bool, default True
        Add naive and drift.
    progress : bool, default False
        tqdm bar on stderr.
    origin_correction : bool, default True
        See :func:`kompetensprognos.forecasting.origin_length_correction`.

    Returns
    -------
    BacktestResult
        ``detail``, ``summary`` (model × horizon) and ``overall`` (per model).

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(2010, 2025), "y": range(15)})
    >>> res = backtest(df, ["drift"], h=2, n_origins=2)
    >>> res.summary[["model", "horizon"]].to_numpy().tolist()
    [['drift', 1], ['drift', 2], ['naive', 1], ['naive', 2]]
    """
    panel = validate_panel(df)
    for m in methods:
        parse_method(m)
    names = list(dict.fromkeys([*methods, *(BASELINES if baselines else ())]))
    y = panel["y"].to_numpy()
    counts = bool((y >= 0).all() and np.allclose(y, np.round(y)))
    clip = bool((y >= 0).all()) if nonnegative is None else nonnegative
    floor = (1.0 if counts else 0.0) if scale_floor is None else float(scale_floor)
    n_cal = h if calibration_origins is None else int(calibration_origins)
    eval_offsets = list(range(1, h + n_origins))
    all_offsets = range(1, h + n_origins + n_cal)
    frames = []
    for name in tqdm(names, desc="backtest", disable=not progress):
        rf = rolling_origin_forecasts(
            panel, name, h, all_offsets, scale_floor=floor, parents=parents, progress=progress
        )
        rf = rf[rf["horizon"] <= rf["offset"]].copy()
        rf["scaled_error"] = (rf["y"] - rf["forecast"]) / rf["iscale"]
        for o in eval_offsets:
            test = rf[rf["offset"] == o].copy()
            if test.empty:
                continue
            cal_rows = rf[(rf["offset"] > o) & (rf["offset"] <= o + n_cal)]
            cal_rows = cal_rows[cal_rows["horizon"] <= cal_rows["offset"] - o]
            if origin_correction:
                cal_rows = cal_rows.assign(distance=cal_rows["offset"] - o)
                cal_rows, _ = origin_length_correction(cal_rows, offset="distance")
            cal = calibrate_intervals(cal_rows, h, levels, min_errors=min_calibration_errors)
            cal = cal.set_index(["level", "horizon"])
            for level in levels:
                lo, hi = interval_columns(level)
                q = cal.loc[level]
                hz = test["horizon"].to_numpy()
                test[lo] = test["forecast"] + q["q_lo"].reindex(hz).to_numpy() * test["iscale"]
                test[hi] = test["forecast"] + q["q_hi"].reindex(hz).to_numpy() * test["iscale"]
            if clip:
                num = ["forecast", *(c for lv in levels for c in interval_columns(lv))]
                test[num] = test[num].clip(lower=0.0)
            test["model"] = name
            frames.append(test)
    if not frames:
        raise KompetensprognosError(
            "no series is long enough to backtest: with horizon h a series needs at least "
            f"4 points (found at most {panel.groupby('unique_id').size().max()})"
        )
    detail = score_forecasts(pd.concat(frames, ignore_index=True), levels)
    detail = detail.drop(columns="scaled_error")
    front = ["model", "unique_id", "cutoff", "offset", "horizon", "ds", "y", "forecast"]
    detail = detail[front + [c for c in detail.columns if c not in front]]
    return BacktestResult(
        detail=detail,
        summary=summarise(detail, levels),
        overall=summarise(detail, levels, by=("model",)),
    )

"""One rolling-origin routine and one calibrated scoring helper, for any model.

A model enters a backtest as a *predictor* ``predict(cutoff, h)`` that sees only data up to
``cutoff`` and returns ``unique_id, ds, forecast`` (plus any columns it wants carried along,
e.g. ``lo80``/``hi80`` or ``region``). :func:`rolling_origin` runs it from each origin, joins the
actuals and the in-sample statistics the metrics need, and :func:`calibrated_scores` scores
several such frames on their common rows, with intervals calibrated at each origin on forecasts
from earlier origins only (the rule of :func:`kompetensprognos.evaluation.backtest`).

Leak-freedom is the predictor's duty (it gets the cutoff and must not look past it); the routine
only guarantees that the statistics it adds (last value, drift slope, naive scales) come from
years up to the cutoff. ``tests/test_leaks.py`` poisons the data after an origin and checks that
the origin's forecasts do not move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import pandas as pd

from kompetensprognos.evaluation import score_forecasts
from kompetensprognos.forecasting import calibrate_intervals, interval_columns, series_stats

__all__ = [
    "COMMON_KEYS",
    "ROLLING_COLUMNS",
    "Predictor",
    "calibrated_scores",
    "common_rows",
    "insample_stats",
    "rolling_origin",
]

Predictor = Callable[[int, int], pd.DataFrame]
"""``(cutoff, h) -> unique_id, ds, forecast [, extra columns]`` using data up to ``cutoff`` only."""

ROLLING_COLUMNS = ["unique_id", "cutoff", "horizon", "ds", "forecast", "y", "last", "slope",
                   "scale", "scale2", "iscale"]  # fmt: skip
"""Columns every :func:`rolling_origin` frame has (predictor extras follow ``forecast``)."""


def insample_stats(train: pd.DataFrame, floor: float = 1.0) -> pd.DataFrame:
    """Per series, from its history up to the origin: last value, drift slope and scales.

    Parameters
    ----------
    train : pandas.DataFrame
        ``unique_id, ds, y`` up to the origin.
    floor : float, default 1.0
        Floor of the interval scale ``iscale`` (:func:`kompetensprognos.forecasting.error_scale`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``unique_id``: ``last, slope`` (line through the first and last value),
        ``scale``/``scale2`` (mean absolute/squared one-step naive error, the MASE/RMSSE scales)
        and ``iscale`` (the floored interval scale).

    Examples
    --------
    >>> p = pd.DataFrame({"unique_id": "a", "ds": [2020, 2021, 2022], "y": [1.0, 3.0, 4.0]})
    >>> insample_stats(p).loc["a", ["last", "slope", "scale"]].tolist()
    [4.0, 1.5, 1.5]
    """
    st = series_stats(train.sort_values(["unique_id", "ds"], kind="stable"), floor)
    st["slope"] = (st["last"] - st["first"]) / (st["n"] - 1).clip(lower=1)
    return st[["last", "slope", "scale", "scale2", "iscale"]]


def rolling_origin(
    predict: Predictor,
    data: pd.DataFrame | Mapping[int, pd.DataFrame],
    origins: Sequence[int],
    horizon: int,
    *,
    min_obs: int = 3,
    floor: float = 1.0,
) -> pd.DataFrame:
    """Forecasts from each origin with their actuals and in-sample statistics.

    Parameters
    ----------
    predict : Predictor
        ``predict(cutoff, h)``; must use data up to ``cutoff`` only.
    data : pandas.DataFrame or mapping of int to pandas.DataFrame
        Actuals ``unique_id, ds, y``; or one panel per origin when the actuals depend on it
        (e.g. expressed on the data basis the origin knew).
    origins : sequence of int
        Last years of data (cutoffs); origins whose panel is empty or whose longest series has
        fewer than ``min_obs`` points up to the origin are skipped.
    horizon : int
        Forecast horizon; rows with horizon outside ``1..horizon`` are dropped.
    min_obs : int, default 3
    floor : float, default 1.0
        Floor of ``iscale`` (see :func:`insample_stats`).

    Returns
    -------
    pandas.DataFrame
        :data:`ROLLING_COLUMNS` plus the predictor's extra columns; ``y`` is NaN where the
        actual is not (yet) known.

    Examples
    --------
    >>> p = pd.DataFrame({"unique_id": "a", "ds": range(2015, 2025), "y": range(10)})
    >>> def naive(cutoff, h):
    ...     last = p.loc[p["ds"] == cutoff, "y"].iloc[0]
    ...     return pd.DataFrame({"unique_id": "a", "ds": range(cutoff + 1, cutoff + h + 1),
    ...                          "forecast": last})
    >>> rf = rolling_origin(naive, p, [2021, 2022], 2)
    >>> rf[["cutoff", "horizon", "forecast", "y"]].values.tolist()[:2]
    [[2021, 1, 6, 7], [2021, 2, 6, 8]]
    """
    frames = []
    for cutoff in origins:
        cutoff = int(cutoff)
        panel = data[cutoff] if isinstance(data, Mapping) else data
        train = panel[panel["ds"] <= cutoff]
        if train.empty or train.groupby("unique_id").size().max() < min_obs:
            continue
        pts = predict(cutoff, horizon)
        if pts.empty:
            continue
        pts = pts.join(insample_stats(train, floor), on="unique_id", how="inner")
        pts = pts.assign(cutoff=cutoff, horizon=(pts["ds"] - cutoff).astype(int))
        pts = pts[(pts["horizon"] >= 1) & (pts["horizon"] <= horizon)]
        actual = panel.set_index(["unique_id", "ds"])["y"]
        idx = pd.MultiIndex.from_arrays([pts["unique_id"], pts["ds"]])
        pts["y"] = actual.reindex(idx).to_numpy()
        frames.append(pts)
    if not frames:
        return pd.DataFrame(columns=ROLLING_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    extra = [c for c in out.columns if c not in ROLLING_COLUMNS]
    cols = ROLLING_COLUMNS[:5] + extra + ROLLING_COLUMNS[5:]
    return out[cols]


#: What identifies a scored forecast in rolling-origin frames: series, origin and horizon.
COMMON_KEYS: list[str] = ["unique_id", "cutoff", "horizon"]


def common_rows(frames: Iterable[pd.DataFrame]) -> pd.DataFrame | None:
    """The forecasts every frame made and whose actual is known (:data:`COMMON_KEYS` columns),
    so models are compared on the same rows; ``None`` without frames.

    Examples
    --------
    >>> a = pd.DataFrame({"unique_id": "s", "cutoff": 2020, "horizon": [1, 2], "y": [1.0, None]})
    >>> b = pd.DataFrame({"unique_id": "s", "cutoff": 2020, "horizon": [1, 2], "y": [1.0, 2.0]})
    >>> common_rows([a, b])["horizon"].tolist()
    [1]
    """
    common: pd.DataFrame | None = None
    for rf in frames:
        k = rf.loc[rf["y"].notna(), COMMON_KEYS].drop_duplicates()
        common = k if common is None else common.merge(k, on=COMMON_KEYS)
    return common


def calibrated_scores(
    frames: Mapping[str, pd.DataFrame],
    horizon: int,
    n_cal: int,
    levels: Sequence[float] = (80, 95),
    min_errors: int = 30,
) -> pd.DataFrame:
    """Score rolling-origin frames of several models on their common rows, with intervals.

    At each origin, every model's intervals are calibrated on its own forecasts from the
    ``n_cal`` earlier origins for years up to that origin
    (:func:`kompetensprognos.forecasting.calibrate_intervals`), then applied to its point
    forecasts; forecasts and bounds are clipped at zero.

    Parameters
    ----------
    frames : mapping of str to pandas.DataFrame
        Model name → :func:`rolling_origin` frame.
    horizon : int
    n_cal : int
        Earlier origins used for calibration.
    levels : sequence of float, default (80, 95)
    min_errors : int, default 30

    Returns
    -------
    pandas.DataFrame
        The scored rows of :func:`kompetensprognos.evaluation.score_forecasts` with ``model``;
        empty when no row is common to all models.
    """
    common = common_rows(frames.values())
    out = []
    for name, rf in frames.items():
        rf = rf.assign(scaled_error=(rf["y"] - rf["forecast"]) / rf["iscale"])
        test_all = rf.merge(common, on=COMMON_KEYS) if common is not None else rf.iloc[:0]
        for c, test in test_all.groupby("cutoff"):
            cal_rows = rf[(rf["cutoff"] < c) & (rf["cutoff"] >= c - n_cal) & (rf["ds"] <= c)]
            cal = calibrate_intervals(cal_rows, horizon, levels, min_errors=min_errors)
            cal = cal.set_index(["level", "horizon"])
            test = test.copy()
            hz = test["horizon"].to_numpy()
            for level in levels:
                lo, hi = interval_columns(level)
                q = cal.loc[level]
                test[lo] = test["forecast"] + q["q_lo"].reindex(hz).to_numpy() * test["iscale"]
                test[hi] = test["forecast"] + q["q_hi"].reindex(hz).to_numpy() * test["iscale"]
            num = ["forecast", *(col for lv in levels for col in interval_columns(lv))]
            test[num] = test[num].clip(lower=0.0)
            out.append(test.assign(model=name))
    if not out:
        return pd.DataFrame()
    return score_forecasts(pd.concat(out, ignore_index=True), levels)

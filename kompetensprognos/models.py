"""Point-forecast models for short yearly panels: the candidate registry.

Local models come from statsforecast (one ``StatsForecast`` call per panel for all the local
models a method needs). Written here, because no library does them for a long-format panel:

* :class:`PooledWindowRegressor` — one *global* scikit-learn model trained across every series
  on windows of the recent past, centred on the last value and scaled by the window's level;
  short series borrow the dynamics of the whole panel.
* parent shrinkage — a series' own forecast blended with its last value grown at its parent's
  forecast growth rate (the same occupation at a higher level, or the sum of its group).
* combinations — ``mean(a,b,...)`` / ``median(a,b,...)`` of any registered models.

Series too short for a model (see ``MIN_POINTS``) are forecast by the short-series fallback
(the mean of naive and drift, a crude damped trend), and listed by :func:`forecast_points`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "DEFAULT_METHOD",
    "MODELS",
    "PooledWindowRegressor",
    "available_methods",
    "forecast_points",
    "parse_method",
]

#: The method used by ``method="auto"``: the best of ~800 mean/median combinations of the base
#: models on the M1 and Tourism yearly holdouts (data independent of M3), then scored on the M3
#: yearly test set (see docs/performance.md and benchmarks/m3_yearly.py).
DEFAULT_METHOD = "median(dotheta,ces,ridge,global)"


def _sf_models() -> dict[str, Callable[[], object]]:
    from statsforecast.models import (
        AutoARIMA,
        AutoCES,
        AutoETS,
        DynamicOptimizedTheta,
        Naive,
        RandomWalkWithDrift,
        Theta,
    )

    return {
        "ets": lambda: AutoETS(season_length=1, alias="ets"),
        "damped": lambda: AutoETS(season_length=1, model="ZZZ", damped=True, alias="damped"),
        "dotheta": lambda: DynamicOptimizedTheta(season_length=1, alias="dotheta"),
        "theta": lambda: Theta(season_length=1, alias="theta"),
        "ces": lambda: AutoCES(season_length=1, alias="ces"),
        "arima": lambda: AutoARIMA(season_length=1, alias="arima"),
        "drift": lambda: RandomWalkWithDrift(alias="drift"),
        "naive": lambda: Naive(alias="naive"),
    }


@dataclass(frozen=True)
class ModelInfo:
    """A registered candidate: its name, kind and the fewest points it fits on."""

    name: str
    kind: str
    min_points: int
    description: str


MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in [
        ModelInfo("naive", "local", 1, "random walk: the last value"),
        ModelInfo("drift", "local", 2, "random walk with drift (straight line, first to last)"),
        ModelInfo("ets", "local", 4, "statsforecast AutoETS (AICc-chosen exponential smoothing)"),
        ModelInfo("damped", "local", 5, "AutoETS restricted to damped-trend models"),
        ModelInfo("theta", "local", 4, "standard Theta method (M3 winner)"),
        ModelInfo("dotheta", "local", 4, "Dynamic Optimized Theta"),
        ModelInfo("ces", "local", 4, "AutoCES (complex exponential smoothing)"),
        ModelInfo("arima", "local", 4, "AutoARIMA (slow; not used by 'auto')"),
        ModelInfo(
            "global", "global", 3, "pooled gradient boosting on scaled windows of all series"
        ),
        ModelInfo("ridge", "global", 3, "pooled ridge regression on scaled windows of all series"),
        ModelInfo("parent", "hierarchy", 3, "own forecast shrunk toward the parent's growth"),
        ModelInfo("share", "hierarchy", 1, "last share of the parent × the parent's forecast"),
    ]
}

#: Local models behind the pooling methods (the parent's forecast and a series' own forecast).
PARENT_BASE: tuple[str, ...] = ("ets", "dotheta", "ces")

_COMBO = re.compile(r"^(mean|median)\(([a-z_,\s]+)\)$")


def parse_method(method: str) -> tuple[str, list[str]]:
    """Split a method string into a combiner and its component models.

    Parameters
    ----------
    method : str
        A registered name (``"ets"``), ``"auto"``, or ``"mean(a,b,...)"`` / ``"median(a,b,...)"``.

    Returns
    -------
    tuple[str, list[str]]
        ``("single", [name])`` or ``("mean" | "median", [names])``.

    Examples
    --------
    >>> parse_method("median(ets, dotheta)")
    ('median', ['ets', 'dotheta'])
    """
    text = method.strip().lower()
    if text == "auto":
        text = DEFAULT_METHOD
    m = _COMBO.match(text)
    names = [n.strip() for n in m.group(2).split(",") if n.strip()] if m else [text]
    unknown = [n for n in names if n not in MODELS]
    if unknown or not names:
        raise KompetensprognosError(
            f"unknown forecasting method {method!r}; use 'auto', one of "
            f"{', '.join(MODELS)}, or a combination such as 'median(ets,dotheta,global)'"
        )
    return (m.group(1) if m else "single"), names


def available_methods() -> list[str]:
    """Names accepted by ``--method`` (besides combinations).

    Examples
    --------
    >>> "ets" in available_methods()
    True
    """
    return ["auto", *MODELS]


def _windows(y: np.ndarray, t: int, k: int, log: bool) -> tuple[np.ndarray, float]:
    """Window ``y[t-k+1 .. t]`` (left-padded with the first value) as scale-free features.

    ``log``: log ratios to the value at ``t`` (positive panels). Otherwise differences from the
    value at ``t`` divided by the window's mean absolute level (panels with zeros).
    Returns the features and the scale (the last value, or the window level).
    """
    lo = t - k + 1
    w = y[max(lo, 0) : t + 1]
    if lo < 0:
        w = np.concatenate([np.full(-lo, y[0]), w])
    if log:
        return np.log(w[:-1] / w[-1]), float(w[-1])
    scale = max(float(np.mean(np.abs(w))), 1e-9)
    return (w[:-1] - w[-1]) / scale, scale


class PooledWindowRegressor:
    """Global model: one regression per horizon trained on windows of *all* series.

    Each training example is the last ``window`` values up to a time ``t`` of one series, made
    scale-free; the target is the value at ``t + j`` on the same scale. For a panel of positive
    values the features are log ratios to the value at ``t`` (growth rates); with zeros or
    negatives they are differences from the value at ``t`` divided by the window's mean
    absolute level, so an all-zero series stays at zero. Scale-free inputs let long and short,
    large and small series teach each other.

    Parameters
    ----------
    window : int, default 6
        Number of recent values fed to the model.
    estimator : {"gbm", "ridge"}, default "gbm"
        scikit-learn ``HistGradientBoostingRegressor`` (non-linear, ~2 s per 1,000 series) or
        ``Ridge`` (linear, instant).
    transform : {"auto", "log", "level"}, default "auto"
        Feature scaling; ``"auto"`` uses ``"log"`` when every value in the panel is positive.
    alpha : float, default 1.0
        Ridge penalty.
    clip : float, default 5.0
        Scaled targets are clipped to ``[-clip, clip]`` so a few explosive series cannot dominate.
    random_state : int, default 0
        Seed of the gradient-boosting model.

    Examples
    --------
    >>> import numpy as np
    >>> series = [np.arange(1.0, 12.0), np.arange(10.0, 21.0)]
    >>> model = PooledWindowRegressor(estimator="ridge").fit(series, h=2)
    >>> model.predict(series).shape
    (2, 2)
    """

    def __init__(
        self,
        window: int = 6,
        estimator: str = "gbm",
        transform: str = "auto",
        alpha: float = 1.0,
        clip: float = 5.0,
        random_state: int = 0,
    ) -> None:
        self.window = window
        self.estimator = estimator
        self.transform = transform
        self.alpha = alpha
        self.clip = clip
        self.random_state = random_state

    def _make(self) -> object:
        if self.estimator == "ridge":
            return Ridge(alpha=self.alpha)
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            max_iter=200,
            learning_rate=0.05,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            random_state=self.random_state,
        )

    def _target(self, fut: np.ndarray, last: float, scale: float) -> np.ndarray:
        return np.log(fut / scale) if self.log_ else (fut - last) / scale

    def fit(self, series: list[np.ndarray], h: int) -> PooledWindowRegressor:
        """Train one regression per horizon ``1..h``; returns ``self``."""
        k = self.window
        positive = all(bool((y > 0).all()) for y in series)
        self.log_ = positive if self.transform == "auto" else self.transform == "log"
        if self.log_ and not positive:
            raise KompetensprognosError("transform='log' needs a panel of positive values")
        self.models_: list[object | None] = []
        feats: list[np.ndarray] = []
        targets: list[np.ndarray] = []
        for y in series:
            n = len(y)
            # padded windows only for series too short to fill one; they teach wrong slopes
            for t in range(k - 1 if n > k else 1, n - 1):
                x, s = _windows(y, t, k, self.log_)
                fut = np.full(h, np.nan)
                m = min(h, n - 1 - t)
                fut[:m] = self._target(y[t + 1 : t + 1 + m], y[t], s)
                feats.append(x)
                targets.append(fut)
        x_all = np.asarray(feats).reshape(len(feats), k - 1)
        t_all = np.clip(np.asarray(targets).reshape(len(targets), h), -self.clip, self.clip)
        for j in range(h):
            ok = ~np.isnan(t_all[:, j]) if len(t_all) else np.zeros(0, bool)
            if ok.sum() < 2 * k:
                self.models_.append(None)
                continue
            # one thread: OpenMP in gradient boosting collapses when the cores are shared
            with threadpool_limits(1):
                self.models_.append(self._make().fit(x_all[ok], t_all[ok, j]))  # type: ignore[attr-defined]
        self.h_ = h
        return self

    def predict(self, series: list[np.ndarray]) -> np.ndarray:
        """Forecast ``h`` steps for each series; shape ``(len(series), h)``."""
        xs, scales = [], []
        for y in series:
            x, s = _windows(y, len(y) - 1, self.window, self.log_)
            xs.append(x)
            scales.append(s)
        x_arr = np.asarray(xs).reshape(len(series), self.window - 1)
        scale = np.asarray(scales)
        last = np.asarray([y[-1] for y in series], dtype=float)
        out = np.empty((len(series), self.h_))
        prev = np.zeros(len(series))
        for j, model in enumerate(self.models_):
            # a horizon with too little training data carries the previous horizon forward
            with threadpool_limits(1):
                step = model.predict(x_arr) if model is not None else prev  # type: ignore[attr-defined]
            out[:, j] = scale * np.exp(step) if self.log_ else last + step * scale
            prev = step
        return out


def _short_fallback(y: np.ndarray, h: int) -> np.ndarray:
    drift = (y[-1] - y[0]) / max(len(y) - 1, 1)
    return y[-1] + 0.5 * drift * np.arange(1, h + 1)


def _statsforecast(df: pd.DataFrame, names: list[str], h: int) -> pd.DataFrame:
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    factories = _sf_models()
    sf = StatsForecast(
        models=[factories[n]() for n in names], freq=1, n_jobs=1, fallback_model=Naive()
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = sf.forecast(df=df, h=h)
    return fc.reset_index(drop=True) if "unique_id" in fc.columns else fc.reset_index()


def _parent_growth(
    df: pd.DataFrame, parents: Mapping[str, str], h: int, base: list[str]
) -> dict[str, np.ndarray]:
    """Growth factors ``parent_forecast / parent_last`` for each child's parent."""
    pmap = {str(k): str(v) for k, v in parents.items()}
    ids = set(df["unique_id"])
    missing = sorted({p for p in pmap.values() if p not in ids})
    child = df[df["unique_id"].isin([c for c, p in pmap.items() if p in missing])]
    agg = (
        child.assign(unique_id=child["unique_id"].map(pmap))
        .groupby(["unique_id", "ds"], as_index=False)["y"]
        .sum()
    )
    par = pd.concat([df[df["unique_id"].isin(set(pmap.values()) & ids)], agg])
    if par.empty:
        return {}
    pts, _ = forecast_points(par, f"mean({','.join(base)})", h)
    last = par.groupby("unique_id")["y"].last()
    growth: dict[str, np.ndarray] = {}
    for pid, g in pts.groupby("unique_id"):
        lv = float(last[pid])
        growth[str(pid)] = g["forecast"].to_numpy() / lv if lv > 0 else np.ones(h)
    return growth


def forecast_points(
    df: pd.DataFrame,
    method: str,
    h: int,
    *,
    parents: Mapping[str, str] | None = None,
    shrinkage: float = 0.5,
    global_window: int = 6,
    trained: Mapping[str, PooledWindowRegressor] | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Point forecasts for every series of a validated panel.

    Parameters
    ----------
    df : pandas.DataFrame
        Validated panel (``unique_id``, ``ds`` integer year, ``y``), sorted.
    method : str
        ``"auto"``, a model name from :data:`MODELS`, or ``"mean(...)"`` / ``"median(...)"``.
    h : int
        Horizon in years.
    parents : Mapping[str, str], optional
        ``unique_id -> parent id``. A parent present in ``df`` is used as is; otherwise it is
        the sum of its children. Needed by ``"parent"``.
    shrinkage : float, default 0.5
        Weight of the parent-growth forecast in ``"parent"`` (0 = own forecast only).
    global_window : int, default 6
        Window length of the pooled models.
    trained : Mapping[str, PooledWindowRegressor], optional
        Pooled models (``"global"``, ``"ridge"``) already trained for at least ``h`` horizons,
        used as they are instead of training on ``df`` (the calibration refits of
        :class:`kompetensprognos.forecasting.Forecaster`).

    Returns
    -------
    tuple[pandas.DataFrame, dict[str, list[str]]]
        Long frame ``unique_id, ds, forecast`` and, per model, the series that were too short for
        it and used the short-series fallback instead.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"unique_id": "a", "ds": range(2014, 2025), "y": range(11)})
    >>> pts, fallbacks = forecast_points(df, "drift", 2)
    >>> pts["forecast"].tolist()
    [11.0, 12.0]
    """
    combiner, names = parse_method(method)
    ids = df["unique_id"].drop_duplicates().to_numpy()
    groups = df.groupby("unique_id", sort=False)
    uid_col = df["unique_id"].to_numpy()
    cuts = np.flatnonzero(uid_col[1:] != uid_col[:-1]) + 1
    if len(cuts) + 1 == len(ids):  # contiguous series (a validated panel): split, no groupby loop
        ys = dict(zip(ids, np.split(df["y"].to_numpy(dtype=float), cuts), strict=True))
    else:
        ys = {uid: g["y"].to_numpy(dtype=float) for uid, g in groups}
    n_obs = {uid: len(v) for uid, v in ys.items()}
    last_ds = groups["ds"].max()
    cols: dict[str, np.ndarray] = {}
    fallbacks: dict[str, list[str]] = {}

    local = [n for n in names if MODELS[n].kind == "local"]
    pooled = [n for n in names if MODELS[n].kind == "hierarchy"]
    if pooled:
        if not parents:
            raise KompetensprognosError(
                f"method '{pooled[0]}' needs a parents mapping (unique_id -> parent id); give "
                "--parents, or --keys so the hierarchy supplies it"
            )
        local = sorted(set(local) | set(PARENT_BASE))
    for name in local:
        short = [u for u in ids if n_obs[u] < MODELS[name].min_points]
        if short:
            fallbacks[name] = [str(u) for u in short]
    sf_ids = [u for u in ids if all(n_obs[u] >= MODELS[n].min_points for n in local)]
    sf_fc = None
    if local and sf_ids:
        sub = df[df["unique_id"].isin(set(sf_ids))]
        sf_fc = _statsforecast(sub, local, h)
    for name in local:
        mat = np.vstack([_short_fallback(ys[u], h) for u in ids])
        if sf_fc is not None:
            pos = {u: i for i, u in enumerate(ids)}
            vals = sf_fc[name].to_numpy().reshape(-1, h)
            for row, uid in enumerate(sf_fc["unique_id"].to_numpy()[::h]):
                mat[pos[uid]] = vals[row]
        cols[name] = mat
    for name, est in (("global", "gbm"), ("ridge", "ridge")):
        if name in names:
            series = [ys[u] for u in ids]
            if trained is not None and name in trained:
                cols[name] = trained[name].predict(series)[:, :h]
                continue
            model = PooledWindowRegressor(window=global_window, estimator=est)
            cols[name] = model.fit(series, h).predict(series)
    if pooled:
        own = np.median(np.stack([cols[b] for b in PARENT_BASE]), axis=0)
        growth = _parent_growth(df, parents or {}, h, list(PARENT_BASE))
        for name in pooled:
            w = 1.0 if name == "share" else shrinkage
            par = own.copy()
            for i, uid in enumerate(ids):
                g = growth.get(str((parents or {}).get(uid, "")))
                if g is not None:
                    par[i] = (1 - w) * own[i] + w * ys[uid][-1] * g
            cols[name] = par
    stack = np.stack([cols[n] for n in names])
    point = np.median(stack, axis=0) if combiner == "median" else np.mean(stack, axis=0)
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, h),
            "ds": (last_ds.loc[ids].to_numpy()[:, None] + np.arange(1, h + 1)).ravel(),
            "forecast": point.ravel(),
        }
    )
    return out, fallbacks

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
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from threadpoolctl import ThreadpoolController

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "BY_GROUP",
    "DEFAULT_METHOD",
    "FrozenLocal",
    "MODELS",
    "OPTIMISED_LOCAL",
    "STATE_ONLY",
    "PooledWindowRegressor",
    "available_methods",
    "by_group_method",
    "damped_drift",
    "forecast_points",
    "local_models",
    "parse_by_group",
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
        ModelInfo(
            "ddrift", "local", 2, "damped drift: the drift slope, damped by 0.8 a year (numpy)"
        ),
        ModelInfo(
            "pdrift",
            "hierarchy",
            2,
            "drift with its slope shrunk halfway toward the parent's relative drift",
        ),
        ModelInfo("sdrift", "hierarchy", 1, "last share of the parent × the parent's drift"),
    ]
}

#: Damping factor of ``ddrift`` (fixed a priori, not tuned on any benchmark's test years).
DAMPING: float = 0.8

#: Local models computed here with numpy rather than statsforecast.
NUMPY_LOCAL: frozenset[str] = frozenset({"ddrift"})

#: Pooling models whose own and parent forecasts are drift (cheap) rather than PARENT_BASE.
DRIFT_POOLED: frozenset[str] = frozenset({"pdrift", "sdrift"})

#: Local models behind the pooling methods (the parent's forecast and a series' own forecast).
PARENT_BASE: tuple[str, ...] = ("ets", "dotheta", "ces")

_COMBO = re.compile(r"^(mean|median)\(([a-z_,\s]+)\)$")

#: Prefix of a per-group method: ``"bygroup(*=auto; ssyk4=drift; sex/ssyk4=mean(naive,drift))"``
#: gives each group (hierarchy level) its own method; ``*`` is every other group.
BY_GROUP = "bygroup"


def by_group_method(methods: Mapping[str, str], default: str = "auto") -> str:
    """Write a per-group method string (groups sorted; ``*`` = every other group).

    Examples
    --------
    >>> by_group_method({"ssyk4": "drift", "total": "auto"}, default="naive")
    'bygroup(*=naive; ssyk4=drift; total=auto)'
    >>> by_group_method({"ssyk4": "drift"}, default="drift")
    'drift'
    """
    rest = {g: m for g, m in methods.items() if m != default}
    if not rest:
        return default
    for g, m in rest.items():
        if any(c in str(g) for c in ";=()") or not str(g).strip():
            raise KompetensprognosError(
                f"group name {g!r} cannot be used in a per-group method (no ';', '=', brackets)"
            )
        parse_method(m)
    body = "; ".join([f"*={default}", *(f"{g}={rest[g]}" for g in sorted(rest))])
    return f"{BY_GROUP}({body})"


def parse_by_group(method: str) -> dict[str, str] | None:
    """The ``group -> method`` mapping of a per-group method (``"*"``: the rest), else None.

    Examples
    --------
    >>> parse_by_group("bygroup(*=auto; ssyk4=mean(naive,drift))")
    {'*': 'auto', 'ssyk4': 'mean(naive,drift)'}
    >>> parse_by_group("drift") is None
    True
    """
    text = method.strip()
    if not text.lower().startswith(BY_GROUP + "(") or not text.endswith(")"):
        return None
    out: dict[str, str] = {}
    for part in text[len(BY_GROUP) + 1 : -1].split(";"):
        if not part.strip():
            continue
        group, sep, name = part.partition("=")
        if not sep or not group.strip() or not name.strip():
            raise KompetensprognosError(
                f"cannot read {part.strip()!r} in method {method!r}; write "
                "'bygroup(*=auto; <group>=<method>; ...)'"
            )
        out[group.strip()] = name.strip()
    out.setdefault("*", "auto")
    return out


def parse_method(method: str) -> tuple[str, list[str]]:
    """Split a method string into a combiner and its component models.

    Parameters
    ----------
    method : str
        A registered name (``"ets"``), ``"auto"``, or ``"mean(a,b,...)"`` / ``"median(a,b,...)"``.

    Returns
    -------
    tuple[str, list[str]]
        ``("single", [name])``, ``("mean" | "median", [names])`` or, for a per-group method,
        ``("bygroup", [every model it uses])``.

    Examples
    --------
    >>> parse_method("median(ets, dotheta)")
    ('median', ['ets', 'dotheta'])
    """
    groups = parse_by_group(method)
    if groups is not None:
        names = list(dict.fromkeys(n for m in groups.values() for n in parse_method(m)[1]))
        return BY_GROUP, names
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


_THREADPOOLS: list[ThreadpoolController] = []


def _one_thread() -> object:
    """Context limiting native thread pools to one thread (the controller is found once).

    ``threadpool_limits`` searches the loaded libraries on every call (~5 ms); the controller
    is made once per process and its limit re-applied.
    """
    if not _THREADPOOLS:
        _THREADPOOLS.append(ThreadpoolController())
    return _THREADPOOLS[0].limit(limits=1)


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
    max_iter, learning_rate : int, float, default 200, 0.05
        Boosting rounds per horizon and their step size (``gbm`` only).

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
        max_iter: int = 200,
        learning_rate: float = 0.05,
    ) -> None:
        self.window = window
        self.estimator = estimator
        self.transform = transform
        self.alpha = alpha
        self.clip = clip
        self.random_state = random_state
        self.max_iter = max_iter
        self.learning_rate = learning_rate

    def _make(self) -> object:
        if self.estimator == "ridge":
            return Ridge(alpha=self.alpha)
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=15,
            min_samples_leaf=20,
            random_state=self.random_state,
        )

    def _examples(self, y: np.ndarray, h: int) -> tuple[np.ndarray, np.ndarray]:
        """Training features and scaled targets (NaN beyond the data) of one series.

        Windows end at every ``t`` from ``window - 1`` to ``n - 2``; padded windows only for a
        series too short to fill one (they teach wrong slopes). Vectorised over ``t``; the same
        numbers as :func:`_windows` per ``t``.
        """
        k, n = self.window, len(y)
        if n <= k:  # short series: left-padded windows, one at a time
            rows = [_windows(y, t, k, self.log_) for t in range(1, n - 1)]
            x = np.asarray([r[0] for r in rows]).reshape(len(rows), k - 1)
            scale = np.asarray([r[1] for r in rows], dtype=float)
            ends = np.arange(1, n - 1)
        else:
            w = np.lib.stride_tricks.sliding_window_view(y[: n - 1], k)
            ends = np.arange(k - 1, n - 1)
            if self.log_:
                x, scale = np.log(w[:, :-1] / w[:, -1:]), w[:, -1].astype(float)
            else:
                scale = np.maximum(np.mean(np.abs(w), axis=1), 1e-9)
                x = (w[:, :-1] - w[:, -1:]) / scale[:, None]
        idx = ends[:, None] + 1 + np.arange(h)
        ok = idx < n
        fut = np.where(ok, y[np.minimum(idx, n - 1)], np.nan)
        last = y[ends][:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.log(fut / scale[:, None]) if self.log_ else (fut - last) / scale[:, None]
        return x, np.where(ok, t, np.nan)

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
            x, fut = self._examples(y, h)
            feats.append(x)
            targets.append(fut)
        x_all = np.concatenate(feats) if feats else np.zeros((0, k - 1))
        t_all = np.concatenate(targets) if targets else np.zeros((0, h))
        t_all = np.clip(t_all, -self.clip, self.clip)
        # one thread: OpenMP in gradient boosting collapses when the cores are shared
        with _one_thread():
            for j in range(h):
                ok = ~np.isnan(t_all[:, j]) if len(t_all) else np.zeros(0, bool)
                if ok.sum() < 2 * k:
                    self.models_.append(None)
                    continue
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
        with _one_thread():
            for j, model in enumerate(self.models_):
                # a horizon with too little training data carries the previous horizon forward
                step = model.predict(x_arr) if model is not None else prev  # type: ignore[attr-defined]
                out[:, j] = scale * np.exp(step) if self.log_ else last + step * scale
                prev = step
        return out


#: Local models with parameters optimised per series: the calibration refits can re-apply
#: parameters fitted once (:class:`FrozenLocal`) instead of optimising them at every origin.
OPTIMISED_LOCAL: frozenset[str] = frozenset({"ets", "damped", "theta", "dotheta", "ces", "arima"})


#: Frozen models whose forecast depends only on the state filtered up to the origin (the dynamic
#: Theta model): one pass over a series' longest history serves every shorter one (the same
#: numbers as re-filtering each history; tested).
STATE_ONLY: frozenset[str] = frozenset({"dotheta"})


class FrozenLocal:
    """A local statsforecast model fitted once per series and re-applied to longer histories.

    :meth:`fit` optimises the model's parameters on each series as given (e.g. cut at an early
    origin); :meth:`predict` runs the same model, parameters unchanged, over a longer history
    of the same series (statsforecast's ``forward``: states are re-filtered, nothing is
    re-optimised) and forecasts from its end. A re-application costs a small fraction of a fit,
    so forecasting a series from several origins costs about one fit. For the models of
    :data:`STATE_ONLY` the states filtered over a series' longest history so far are kept and a
    shorter history of the same series is forecast from its state at its own end. Series without
    a fit (too short, or the fit failed) come back as NaN rows. ``theta`` is fitted and re-applied
    with statsforecast's compiled routines directly (:data:`DIRECT_LOCAL`; the same numbers).

    Parameters
    ----------
    name : str
        A model of :data:`OPTIMISED_LOCAL`.

    Examples
    --------
    >>> y = np.array([10.0, 12, 13, 15, 16, 18, 19, 21, 22, 24])
    >>> frozen = FrozenLocal("theta").fit(["a", "b"], [y[:6], y[:2]])
    >>> out = frozen.predict(["a", "b"], [y, y], 2)
    >>> out.shape, bool(np.isnan(out[1]).all()), bool(out[0, 0] > y[-1])
    ((2, 2), True, True)
    """

    def __init__(self, name: str) -> None:
        if name not in OPTIMISED_LOCAL:
            raise KompetensprognosError(f"{name!r} has no parameters to freeze")
        self.name = name

    def fit(self, ids: list[object], series: list[np.ndarray]) -> FrozenLocal:
        """Fit the model on each series with enough points; returns ``self``."""
        make = _sf_models()[self.name]
        self.fits_: dict[object, object] = {}
        self._filtered: dict[object, tuple[np.ndarray, dict[str, object]]] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for uid, y in zip(ids, series, strict=True):
                if len(y) < MODELS[self.name].min_points:
                    continue
                y = np.asarray(y, dtype=float)
                if self.name == "theta" and _theta_direct_applies(y):  # see DIRECT_LOCAL
                    level, alpha = _theta_params(y, y.ctypes.data % 16)
                    if _theta_forward(y, level, alpha, 1) is not None:  # else Theta() raises
                        self.fits_[uid] = (level, alpha)
                    continue
                try:
                    self.fits_[uid] = make().fit(y)  # type: ignore[attr-defined]
                except Exception:  # the origin's own refit (with its fallback) takes over
                    continue
        return self

    def predict(self, ids: list[object], series: list[np.ndarray], h: int) -> np.ndarray:
        """Forecasts ``(len(ids), h)`` from the end of each history; NaN rows without a fit."""
        out = np.full((len(ids), h), np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for i, (uid, y) in enumerate(zip(ids, series, strict=True)):
                model = self.fits_.get(uid)
                if model is None:
                    continue
                y = np.asarray(y, dtype=float)
                if isinstance(model, tuple):  # a direct Theta fit: statsforecast's forward
                    if len(y) > 3 and np.isfinite(y).all():
                        f = _theta_forward(y, model[0], model[1], h)
                        out[i] = np.nan if f is None else f
                    continue
                try:
                    if self.name in STATE_ONLY:
                        out[i] = self._from_state(uid, model, y, h)
                    else:
                        out[i] = model.forward(y, h)["mean"]  # type: ignore[attr-defined]
                except Exception:  # the origin's own refit takes over
                    continue
        out[~np.isfinite(out).all(axis=1)] = np.nan
        return out

    def _from_state(self, uid: object, model: object, y: np.ndarray, h: int) -> np.ndarray:
        """Theta forecast from the state at the end of ``y``, filtered once per longest history."""
        from statsforecast.theta import forecast_theta, forward_theta

        seen = self._filtered.get(uid)
        if seen is None or len(seen[0]) < len(y) or not np.array_equal(seen[0][: len(y)], y):
            seen = (y.copy(), forward_theta(model.model_, y=y))  # type: ignore[attr-defined]
            self._filtered[uid] = seen
        return forecast_theta({**seen[1], "n": len(y)}, h)["mean"]


def _short_fallback(series: list[np.ndarray], h: int) -> np.ndarray:
    """Half the drift from each series' last value, ``(len(series), h)``."""
    first = np.array([y[0] for y in series], dtype=float)
    last = np.array([y[-1] for y in series], dtype=float)
    n = np.array([len(y) for y in series])
    drift = (last - first) / np.maximum(n - 1, 1)
    return last[:, None] + 0.5 * drift[:, None] * np.arange(1, h + 1)


def damped_drift(y: np.ndarray, h: int, phi: float = DAMPING) -> np.ndarray:
    """Drift forecast whose slope is damped by ``phi`` per year ahead.

    The slope is the drift slope ``(y[-1] - y[0]) / (n - 1)``; step ``j`` adds
    ``slope * (phi + phi**2 + ... + phi**j)``. A single point gives the naive forecast.

    Examples
    --------
    >>> damped_drift(np.array([0.0, 10.0]), 3, phi=0.5).tolist()
    [15.0, 17.5, 18.75]
    >>> damped_drift(np.array([4.0]), 2).tolist()
    [4.0, 4.0]
    """
    y = np.asarray(y, dtype=float)
    slope = (y[-1] - y[0]) / (len(y) - 1) if len(y) > 1 else 0.0
    return y[-1] + slope * np.cumsum(phi ** np.arange(1, h + 1))


def _combine(cols: Mapping[str, np.ndarray], combiner: str, names: list[str]) -> np.ndarray:
    stack = np.stack([cols[n] for n in names])
    return np.median(stack, axis=0) if combiner == "median" else np.mean(stack, axis=0)


#: Local models forecast here series by series with statsforecast's own routines instead of
#: through a ``StatsForecast`` frame (:func:`_direct_local`): ``theta`` calls the compiled routines
#: of statsforecast's ``Theta`` with the arguments it passes them, ``drift`` and ``naive`` are its
#: one-line formulas in numpy. The same numbers (tested) at well under half the CPU; a panel whose
#: values are not float64 (statsforecast computes those in float32) goes through ``StatsForecast``.
DIRECT_LOCAL: frozenset[str] = frozenset({"theta", "drift", "naive"})

#: Fitted standard-Theta parameters ``(level, alpha)`` by the series' bytes and alignment: a
#: series met again (the same history at two origins, or two identical series of a hierarchy)
#: is not re-optimised.
_THETA_FITS: dict[tuple[int, bytes], tuple[float, float]] = {}
_THETA_FITS_MAX = 250_000
_THETA_LOWER = np.array([-1e10, 0.1])
_THETA_UPPER = np.array([1e10, 0.99])


_THETA_LIB: list[Any] = []


def _theta_lib() -> Any:
    """statsforecast's compiled Theta module (imported once)."""
    if not _THETA_LIB:
        from statsforecast._lib import theta

        _THETA_LIB.append(theta)
    return _THETA_LIB[0]


def _theta_params(y: np.ndarray, align: int) -> tuple[float, float]:
    """Level and alpha of the standard Theta model fitted to ``y`` as ``Theta()`` fits them.

    ``statsforecast.theta.thetamodel`` for model ``"STM"``: the initial level (start ``y[0] / 2``)
    and alpha (start 0.5, bounds 0.1–0.99) are optimised by its compiled Nelder–Mead, theta is
    fixed at 2 and three steps ahead enter the loss (``nmse=3``). Kept per series' bytes and
    ``align``, the address of its first value modulo 16 (see :func:`_direct_local`).
    """
    key = (align, y.tobytes())
    hit = _THETA_FITS.get(key)
    if hit is not None:
        return hit
    lib = _theta_lib()
    start = y[0] / 2
    res = lib.optimize(
        np.array([start, 0.5]), _THETA_LOWER, _THETA_UPPER, start, 0.5, 2.0,
        True, True, False, y, lib.ModelType.STM, 3,
    )  # fmt: skip
    fit = (res[0][0], res[0][1])
    if len(_THETA_FITS) >= _THETA_FITS_MAX:
        _THETA_FITS.clear()
    _THETA_FITS[key] = fit
    return fit


def _theta_forward(y: np.ndarray, level: float, alpha: float, h: int) -> np.ndarray | None:
    """The standard Theta forecast of ``y`` with fixed parameters; None where statsforecast
    raises (its in-sample MSE is not finite) and its fallback takes over."""
    lib = _theta_lib()
    stm = lib.ModelType.STM
    _, _, states, mse = lib.pegels_resid(y, stm, level, alpha, 2.0, 3)
    if not mse < np.inf:
        return None
    out = np.empty(h)
    lib.forecast(states, len(y), stm, out, alpha, 2.0)
    return out


def _theta_direct_applies(y: np.ndarray) -> bool:
    """Whether the direct Theta path reproduces ``Theta()`` for ``y`` (float64, finite, more than
    three points, not constant); other series take statsforecast's own path."""
    return (
        y.dtype == np.float64
        and len(y) > 3
        and bool(np.isfinite(y).all())
        and not bool((y == y[0]).all())
    )


def _direct_local(name: str, series: list[np.ndarray], h: int) -> np.ndarray:
    """Forecasts ``(len(series), h)`` of a :data:`DIRECT_LOCAL` model, as ``StatsForecast`` with
    ``fallback_model=Naive()`` gives them for float64 series (a failed fit: the last value).

    Pass the series in the order ``StatsForecast`` sorts them (by id): they are laid out one
    after another in one array, as it lays out its panel, because the compiled Theta routines
    sum in SSE pairs and a series' first value on an 8- rather than 16-byte boundary changes
    the last bit of about a quarter of the forecasts.
    """
    if not series:
        return np.zeros((0, h))
    last = np.array([y[-1] for y in series], dtype=float)
    if name == "naive":
        return np.repeat(last[:, None], h, axis=1)
    if name == "drift":  # statsforecast's _random_walk_with_drift, element by element
        first = np.array([y[0] for y in series], dtype=float)
        n = np.array([len(y) for y in series], dtype=float)
        slope = (last - first) / (n - 1)
        return slope[:, None] * (1 + np.arange(h, dtype=float)) + last[:, None]
    if name != "theta":
        raise KompetensprognosError(f"{name!r} has no direct path")
    sizes = np.array([len(y) for y in series])
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    buf = np.concatenate(series).astype(float, copy=False)
    align = (buf.ctypes.data + 8 * starts) % 16
    if (sizes > 0).all():  # the checks of _theta_direct_applies, for all series at once
        finite = np.logical_and.reduceat(np.isfinite(buf), starts)
        with np.errstate(invalid="ignore"):
            varies = np.maximum.reduceat(buf, starts) != np.minimum.reduceat(buf, starts)
        direct = finite & varies & (sizes > 3)
    else:
        direct = np.zeros(len(series), bool)
    out = np.repeat(last[:, None], h, axis=1)
    make = _sf_models()["theta"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i, y in enumerate(np.split(buf, starts[1:])):
            if direct[i]:
                f = _theta_forward(y, *_theta_params(y, int(align[i])), h)
            else:  # statsforecast's own path (constant, too short or not finite)
                try:
                    f = make().forecast(y=y, h=h)["mean"]  # type: ignore[attr-defined]
                except Exception:  # its fallback model: naive
                    f = None
            if f is not None:
                out[i] = f
    return out


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
    pts, _ = forecast_points(par, f"mean({','.join(base)})" if len(base) > 1 else base[0], h)
    last = par.groupby("unique_id")["y"].last()
    growth: dict[str, np.ndarray] = {}
    for pid, g in pts.groupby("unique_id"):
        lv = float(last[pid])
        growth[str(pid)] = g["forecast"].to_numpy() / lv if lv > 0 else np.ones(h)
    return growth


def local_models(names: list[str]) -> list[str]:
    """The local models a method's components fit per series (pooling ones add their bases).

    Examples
    --------
    >>> local_models(["dotheta", "ridge"])
    ['dotheta']
    >>> local_models(["sdrift", "naive"])
    ['drift', 'naive']
    """
    local = [n for n in names if MODELS[n].kind == "local"]
    pooled = [n for n in names if MODELS[n].kind == "hierarchy"]
    if any(n not in DRIFT_POOLED for n in pooled):
        local = sorted(set(local) | set(PARENT_BASE))
    if any(n in DRIFT_POOLED for n in pooled):
        local = sorted(set(local) | {"drift"})
    return local


def forecast_points(
    df: pd.DataFrame,
    method: str,
    h: int,
    *,
    parents: Mapping[str, str] | None = None,
    shrinkage: float = 0.5,
    global_window: int = 6,
    trained: Mapping[str, PooledWindowRegressor | FrozenLocal] | None = None,
    groups: Mapping[str, str] | pd.Series | None = None,
) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Point forecasts for every series of a validated panel.

    Parameters
    ----------
    df : pandas.DataFrame
        Validated panel (``unique_id``, ``ds`` integer year, ``y``), sorted.
    method : str
        ``"auto"``, a model name from :data:`MODELS`, ``"mean(...)"`` / ``"median(...)"``, or a
        per-group method ``"bygroup(*=auto; <group>=<method>; ...)"`` (needs ``groups``).
    h : int
        Horizon in years.
    parents : Mapping[str, str], optional
        ``unique_id -> parent id``. A parent present in ``df`` is used as is; otherwise it is
        the sum of its children. Needed by ``"parent"``, ``"share"``, ``"pdrift"``, ``"sdrift"``.
    shrinkage : float, default 0.5
        Weight of the parent's growth in ``"parent"`` and ``"pdrift"`` (0 = own forecast only).
    global_window : int, default 6
        Window length of the pooled models.
    trained : Mapping[str, PooledWindowRegressor or FrozenLocal], optional
        Models already fitted, used as they are instead of fitting on ``df`` (the calibration
        refits of :class:`kompetensprognos.forecasting.Forecaster`): pooled models (``"global"``,
        ``"ridge"``) trained for at least ``h`` horizons, and local models with per-series
        parameters (:class:`FrozenLocal`; series it has no fit for are fitted as usual).
    groups : Mapping[str, str] or pandas.Series, optional
        ``unique_id -> group`` (e.g. hierarchy level) for a per-group method. Every model of a
        per-group method is fitted on the whole panel (pooled models and parents see every
        series); each series then takes its group's method.

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
    >>> two = pd.concat([df, df.assign(unique_id="b")])
    >>> pts, _ = forecast_points(two, "bygroup(*=naive; g=drift)", 1, groups={"a": "g"})
    >>> pts["forecast"].tolist()
    [11.0, 10.0]
    """
    combiner, names = parse_method(method)
    per_group = parse_by_group(method) if combiner == BY_GROUP else None
    if per_group is not None and groups is None:
        raise KompetensprognosError(
            f"method {method!r} gives each group its own method and needs groups "
            "(unique_id -> group, e.g. the hierarchy level); use --keys so the hierarchy "
            "supplies them, or a single method"
        )
    ids = df["unique_id"].drop_duplicates().to_numpy()
    by_id = df.groupby("unique_id", sort=False)
    uid_col = df["unique_id"].to_numpy()
    cuts = np.flatnonzero(uid_col[1:] != uid_col[:-1]) + 1
    if len(cuts) + 1 == len(ids):  # contiguous series (a validated panel): split, no groupby loop
        ys = dict(zip(ids, np.split(df["y"].to_numpy(dtype=float), cuts), strict=True))
    else:
        ys = {uid: g["y"].to_numpy(dtype=float) for uid, g in by_id}
    n_obs = {uid: len(v) for uid, v in ys.items()}
    last_ds = by_id["ds"].max()
    cols: dict[str, np.ndarray] = {}
    fallbacks: dict[str, list[str]] = {}

    local = local_models(names)
    pooled = [n for n in names if MODELS[n].kind == "hierarchy"]
    if pooled and not parents:
        raise KompetensprognosError(
            f"method '{pooled[0]}' needs a parents mapping (unique_id -> parent id); give "
            "--parents, or --keys so the hierarchy supplies it"
        )
    numpy_local = [n for n in local if n in NUMPY_LOCAL]
    local = [n for n in local if n not in NUMPY_LOCAL]
    for name in numpy_local:
        cols[name] = np.vstack([damped_drift(ys[u], h) for u in ids])
    for name in local:
        short = [u for u in ids if n_obs[u] < MODELS[name].min_points]
        if short:
            fallbacks[name] = [str(u) for u in short]
    sf_ids = [u for u in ids if all(n_obs[u] >= MODELS[n].min_points for n in local)]
    frozen = {
        n: m.predict(list(ids), [ys[u] for u in ids], h)
        for n in local
        if isinstance(m := (trained or {}).get(n), FrozenLocal)
    }
    # statsforecast fits the models without a frozen fit, and a frozen model's gaps (series it
    # has no fit for); with every model frozen, only the series in some gap are fitted here
    sf_names = [n for n in local if n not in frozen or np.isnan(frozen[n]).any()]
    if frozen and all(n in frozen for n in local):
        gap = np.zeros(len(ids), bool)
        for mat in frozen.values():
            gap |= np.isnan(mat).any(axis=1)
        ok = set(sf_ids)
        sf_ids = [u for u, g in zip(ids, gap, strict=True) if g and u in ok]
    sf_fc = None
    direct: dict[str, np.ndarray] = {}
    if sf_names and sf_ids:
        if df["y"].dtype == np.float64:  # see DIRECT_LOCAL
            order = pd.Series(sf_ids, dtype=object).sort_values(kind="stable").to_list()
            series = [ys[u] for u in order]  # in StatsForecast's order (see _direct_local)
            direct = {n: _direct_local(n, series, h) for n in sf_names if n in DIRECT_LOCAL}
            sf_ids = order
        rest = [n for n in sf_names if n not in direct]
        if rest:
            sub = df[df["unique_id"].isin(set(sf_ids))]
            sf_fc = _statsforecast(sub, rest, h)
    pos = {u: i for i, u in enumerate(ids)}
    fallback = _short_fallback([ys[u] for u in ids], h) if local else None
    rows = [pos[u] for u in sf_ids]
    for name in local:
        mat = fallback.copy()  # type: ignore[union-attr]
        if sf_fc is not None and name in sf_fc.columns:
            vals = sf_fc[name].to_numpy().reshape(-1, h)
            for row, uid in enumerate(sf_fc["unique_id"].to_numpy()[::h]):
                mat[pos[uid]] = vals[row]
        if name in direct:
            mat[rows] = direct[name]
        if name in frozen:
            have = ~np.isnan(frozen[name]).any(axis=1)
            mat[have] = frozen[name][have]
        cols[name] = mat
    for name, est in (("global", "gbm"), ("ridge", "ridge")):
        if name in names:
            series = [ys[u] for u in ids]
            if isinstance(model := (trained or {}).get(name), PooledWindowRegressor):
                cols[name] = model.predict(series)[:, :h]
                continue
            model = PooledWindowRegressor(window=global_window, estimator=est)
            cols[name] = model.fit(series, h).predict(series)
    growths: dict[bool, dict[str, np.ndarray]] = {}
    for name in pooled:
        drifty = name in DRIFT_POOLED
        if drifty not in growths:
            base = ["drift"] if drifty else list(PARENT_BASE)
            growths[drifty] = _parent_growth(df, parents or {}, h, base)
        growth = growths[drifty]
        if drifty:
            own = cols["drift"]
        else:
            own = np.median(np.stack([cols[b] for b in PARENT_BASE]), axis=0)
        w = 1.0 if name in ("share", "sdrift") else shrinkage
        par = own.copy()
        for i, uid in enumerate(ids):
            g = growth.get(str((parents or {}).get(uid, "")))
            if g is not None:
                par[i] = (1 - w) * own[i] + w * ys[uid][-1] * g
        cols[name] = par
    if per_group is None:
        point = _combine(cols, combiner, names)
    else:
        gmap = groups if isinstance(groups, pd.Series) else pd.Series(dict(groups or {}))
        g_of = pd.Series(ids).map(gmap).to_numpy(dtype=object)
        point = np.full((len(ids), h), np.nan)
        for m in dict.fromkeys(per_group.values()):
            mask = np.array([per_group.get(str(g), per_group["*"]) == m for g in g_of])
            if mask.any():
                sub_comb, sub_names = parse_method(m)
                point[mask] = _combine(cols, sub_comb, sub_names)[mask]
    out = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, h),
            "ds": (last_ds.loc[ids].to_numpy()[:, None] + np.arange(1, h + 1)).ravel(),
            "forecast": point.ravel(),
        }
    )
    return out, fallbacks

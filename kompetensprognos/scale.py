"""National scale: a national-size synthetic panel and partitioned (chunked, parallel) forecasting.

* :func:`national_panel` — a synthetic employment panel for all 290 municipalities × 148 SSYK 3
  occupations × 2014–2024 (42,920 bottom series), or a nested fraction of the municipalities,
  with a county-level ``employment_age`` table and the demo's series breaks. It reuses the demo
  generator's occupation parameters and its cohort model of the age bands; municipality sizes
  are *synthetic* (lognormal), not SCB's. Cheap (a few seconds) and deterministic.
* :func:`fit_partitioned` / :func:`forecast_partitioned` — the forecasting engine
  (:class:`~kompetensprognos.forecasting.Forecaster`) run on chunks of series, in this process or
  on a Dask cluster (:mod:`kompetensprognos.executors`). Each chunk returns its point forecasts
  and its rolling-origin calibration errors; the intervals are calibrated **once** on the errors
  pooled over all chunks, exactly as an unchunked fit pools them over all series. For local
  models (``theta``, ``ets``, ...) the result is therefore identical to an unchunked
  :class:`Forecaster`; pooled models (``ridge``, ``global``, and so ``auto``) are trained within
  each chunk, so their forecasts depend on the chunk size — never on the executor.

See ``docs/scale.md`` (how to run nationally, how to point at a Dask scheduler) and the "Scale"
section of ``docs/performance.md`` (measured time and memory).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kompetensprognos import regions
from kompetensprognos.datamodel import Dataset, Manifest, SeriesBreak
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.executors import Executor
from kompetensprognos.forecasting import (
    Forecaster,
)
from kompetensprognos.panel import DEFAULT_CHUNK_SIZE, split_panel
from kompetensprognos.schemas import AGE_BANDS

# The demo generator's occupation table and cohort-model constants, so the national panel is
# "built the same way" as the demo (one place to change them).
from kompetensprognos.synthetic import _AGEING, _ENTRY, _EXIT, _IMPUTED_2023, _calibration

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "NATIONAL_SEED",
    "fit_partitioned",
    "forecast_partitioned",
    "national_panel",
    "split_panel",
]

NATIONAL_SEED = 20250101
"""Default seed of :func:`national_panel`."""

_FIRST, _LAST = 2014, 2024
_NATIONAL_EMPLOYMENT_2022 = 5.0e6  # round figure for employees 16-64, scale target only


# --- national synthetic panel ------------------------------------------------------------------


def _sizes(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic jobs per municipality: lognormal (median 8,000, a few large cities)."""
    return np.clip(rng.lognormal(np.log(8000.0), 1.1, n), 600.0, 700_000.0)


def _tilt(ssyk: pd.Series) -> np.ndarray:
    """+1 for occupations that concentrate in large municipalities, -1 for rural ones."""
    first = ssyk.str[:1]
    return np.where(first.isin(["1", "2"]), 1.0, np.where(first.isin(["6", "7", "8"]), -1.0, 0.0))


def _simulate(rng: np.random.Generator, jobs: np.ndarray) -> np.ndarray:
    """Observed employment [year, municipality, occupation, age band], Poisson counts."""
    cal = _calibration()
    n_m, n_o, n_b = len(jobs), len(cal), len(AGE_BANDS)
    years = np.arange(_FIRST, _LAST + 1)
    urban = (np.log(jobs) - np.log(jobs).mean()) / np.log(jobs).std()
    mix = np.exp(0.25 * urban[:, None] * _tilt(cal["ssyk"])[None, :])
    share = cal["size_share"].to_numpy()[None, :] * mix * rng.lognormal(0, 0.45, (n_m, n_o))
    share /= share.sum(axis=1, keepdims=True)
    total0 = jobs[:, None] * share
    prof = cal[[f"age_{b.replace('-', '_')}" for b in AGE_BANDS[:-1]]].to_numpy()
    prof = np.c_[prof, prof[:, -1] * 0.3]
    age_tilt = np.exp(-0.04 * urban)[:, None, None] ** np.arange(n_b)[None, None, :]
    stock = total0[:, :, None] * prof[None, :, :] * age_tilt
    stock *= (total0 / stock.sum(axis=2))[:, :, None]
    growth = (
        cal["growth"].to_numpy()[None, :] * 0.8
        + 0.003 * urban[:, None]
        + rng.normal(0, 0.008, (n_m, n_o))
    )
    exit_rate = np.minimum(_EXIT * rng.lognormal(0, 0.15, n_o)[:, None], 0.9)[None, :, :]
    true = np.empty((len(years), n_m, n_o, n_b))
    true[0] = stock
    target = stock.sum(axis=2)
    for i in range(1, len(years)):
        prev = true[i - 1]
        stay = prev * (1 - _AGEING) * (1 - exit_rate)
        moved = prev * _AGEING * (1 - exit_rate)
        cur = stay
        cur[:, :, 1:] += moved[:, :, :-1]
        shock = rng.normal(0, 0.012, n_o)[None, :] + rng.normal(0, 0.01, (n_m, n_o))
        target = target * (1 + growth + shock)
        gap = target - cur.sum(axis=2)
        cur += np.maximum(gap, 0)[:, :, None] * _ENTRY[None, None, :]
        shrink = np.where(gap < 0, target / np.maximum(cur.sum(axis=2), 1e-9), 1.0)
        true[i] = cur * shrink[:, :, None]
    # observation as in the demo: 65-69 only from 2023, RAMS -> BAS shift 2020, imputation 2023
    coverage = np.ones((len(years), n_o, n_b))
    coverage[:, :, -1] = np.where(years >= 2023, 1.0, 0.0)[:, None]
    coverage[years >= 2020] *= np.exp(rng.normal(-0.008, 0.02, n_o))[None, :, None]
    coverage[years >= 2023] *= _IMPUTED_2023[None, None, :]
    true *= coverage[:, None, :, :]
    true *= _NATIONAL_EMPLOYMENT_2022 / true[2022 - _FIRST].sum()
    return rng.poisson(true).astype(np.float64)


def _select(n: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of a nested, seeded subset: the 10 % sample is inside the 25 % sample, etc."""
    if not 0 < fraction <= 1:
        raise KompetensprognosError(
            f"fraction must lie in (0, 1] — the share of the 290 municipalities (got {fraction})"
        )
    order = np.random.default_rng(seed + 1).permutation(n)
    return np.sort(order[: max(1, round(fraction * n))])


def _age_table(obs: np.ndarray, muni: pd.DataFrame) -> pd.DataFrame:
    """Employment by county (SCB code, as published) and Sweden ``"00"`` × SSYK 3 × age band."""
    cal = _calibration()
    years = np.arange(_FIRST, _LAST + 1)
    counties = sorted(muni["county"].unique())
    groups = [*counties, "00"]
    member = np.zeros((len(groups), len(muni)))
    for k, c in enumerate(counties):
        member[k] = (muni["county"] == c).to_numpy()
    member[-1] = 1.0
    n_y, n_m, n_o, n_b = obs.shape
    flat = obs.transpose(1, 0, 2, 3).reshape(n_m, -1)
    arr = (member @ flat).reshape(len(groups), n_y, n_o, n_b)
    idx = pd.MultiIndex.from_product(
        [groups, years, cal["ssyk"].to_numpy(), list(AGE_BANDS)],
        names=["region", "year", "ssyk", "age"],
    )
    df = pd.DataFrame({"employed": arr.reshape(-1)}, index=idx).reset_index()
    df = df[(df["age"] != AGE_BANDS[-1]) | (df["year"] >= 2023)]  # 65-69 absent before 2023
    return df[["region", "ssyk", "age", "year", "employed"]].reset_index(drop=True)


def national_panel(
    fraction: float = 1.0, *, seed: int = NATIONAL_SEED, age_table: bool = True
) -> Dataset:
    """A national-size synthetic employment panel (290 municipalities × 148 SSYK 3 × 2014–2024).

    The whole country is generated from ``seed`` and then subset, so a municipality's series
    are the same at every ``fraction`` and smaller samples are nested in larger ones.

    Parameters
    ----------
    fraction : float, default 1.0
        Share of the 290 municipalities to keep (e.g. 0.1, 0.25, 0.5, 1.0), a seeded sample.
    seed : int, default NATIONAL_SEED
        Random seed; the same seed gives the same dataset.
    age_table : bool, default True
        Add ``employment_age`` by county and for Sweden (``"00"``), as SCB publishes it, so
        replacement demand can be estimated.

    Returns
    -------
    Dataset
        ``employment`` (``region, ssyk, year, employed``; no sex split) and optionally
        ``employment_age``; the manifest is marked synthetic and declares the demo's breaks
        (2020 source switch, 2023 age range and imputation).

    Examples
    --------
    >>> ds = national_panel(0.1)
    >>> ds.employment["region"].nunique(), ds.employment["ssyk"].nunique()
    (29, 148)
    """
    muni = regions.municipalities("sweden").sort_values("code").reset_index(drop=True)
    keep = _select(len(muni), fraction, seed)
    rng = np.random.default_rng(seed)
    obs = _simulate(rng, _sizes(rng, len(muni)))[:, keep]
    muni = muni.iloc[keep].reset_index(drop=True)
    cal = _calibration()
    years = np.arange(_FIRST, _LAST + 1)
    idx = pd.MultiIndex.from_product(
        [years, muni["code"].to_numpy(), cal["ssyk"].to_numpy()], names=["year", "region", "ssyk"]
    )
    employment = pd.DataFrame({"employed": obs.sum(axis=3).reshape(-1)}, index=idx).reset_index()
    employment = employment[["region", "ssyk", "year", "employed"]]
    manifest = Manifest(
        name="national-synthetic",
        source=f"kompetensprognos national synthetic generator (seed {seed}, fraction {fraction:g})",
        vintage=f"synthetic {_FIRST}-{_LAST}",
        synthetic=True,
        created="generated",
        breaks=[
            SeriesBreak(year=2020, table="employment", description="RAMS → BAS: small level shift"),
            SeriesBreak(
                year=2023,
                table="employment",
                description="age range 16-64 → 16-69 and model-imputed occupations",
            ),
            SeriesBreak(year=2023, table="employment_age", description="band 65-69 added; imputed"),
        ],
        notes="Syntetiska data i nationell storlek för prestandatester — inte verklig statistik. "
        "Municipality sizes are synthetic (lognormal). See docs/scale.md.",
    )
    return Dataset(
        manifest=manifest,
        employment=employment,
        employment_age=_age_table(obs, muni) if age_table else None,
    )


# --- partitioned forecasting -------------------------------------------------------------------


def fit_partitioned(
    df: pd.DataFrame,
    *,
    chunk_size: int | None = None,
    n_chunks: int | None = None,
    executor: Executor | str | None = None,
    horizon: int = 6,
    method: str = "auto",
    levels: Sequence[float] = (80, 95),
    nonnegative: bool | None = None,
    calibration_origins: int | None = None,
    min_calibration_errors: int = 30,
    scale_floor: float | None = None,
    progress: bool = False,
) -> Forecaster:
    """Fit the forecasting engine chunk by chunk, calibrating the intervals once on pooled errors.

    A shortcut for ``Forecaster(..., chunk_size=..., executor=...).fit(df)``: the chunking lives in
    :meth:`Forecaster.fit` itself. Settings shared by every chunk — clipping at zero, the
    interval-scale floor and the calibration sample — are decided on the whole panel first, each
    chunk is fitted by the executor, and the rolling-origin errors of all chunks are pooled for one
    :func:`~kompetensprognos.forecasting.calibrate_intervals`. Chunks hold whole series in sorted
    order, so the merged point forecasts are in the same order as an unchunked fit.

    Parameters
    ----------
    df : pandas.DataFrame
        Long panel ``unique_id, ds, y``.
    chunk_size, n_chunks : int, optional
        Series per chunk, or the number of chunks (see :func:`split_panel`). With neither:
        :data:`DEFAULT_CHUNK_SIZE` series per chunk.
    executor : Executor, {"local", "dask"} or None
        Where chunks run (:mod:`kompetensprognos.executors`); default in-process. An executor
        passed in is not closed; one made from ``"dask"`` here is closed when done.
    horizon, method, levels, nonnegative, calibration_origins, min_calibration_errors, scale_floor
        As for :class:`~kompetensprognos.forecasting.Forecaster`. Method ``"parent"`` is not
        supported (a parent may sit in another chunk).
    progress : bool, default False
        Progress bar over chunks (in-process executor only).

    Returns
    -------
    Forecaster
        Fitted as if by :meth:`Forecaster.fit` (``point_``, ``calibration_``,
        ``calibration_errors_``, ``scale_``, ``fallbacks_``, ``panel_``), plus ``n_chunks_``;
        call :meth:`~Forecaster.predict`.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b", "c"], 8), "ds": list(range(2017, 2025)) * 3,
    ...                    "y": np.arange(24.0)})
    >>> fc = fit_partitioned(df, n_chunks=2, horizon=2, method="drift").predict()
    >>> fc.shape
    (6, 7)
    """
    return Forecaster(
        horizon=horizon,
        method=method,
        levels=levels,
        nonnegative=nonnegative,
        calibration_origins=calibration_origins,
        min_calibration_errors=min_calibration_errors,
        scale_floor=scale_floor,
        progress=progress,
        chunk_size=chunk_size,
        n_chunks=n_chunks,
        executor=executor if executor is not None else "local",
    ).fit(df)


def forecast_partitioned(df: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    """``fit_partitioned(df, **kwargs).predict()``: forecasts with pooled-calibration intervals.

    Examples
    --------
    >>> df = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 8), "ds": list(range(2017, 2025)) * 2,
    ...                    "y": np.arange(16.0)})
    >>> list(forecast_partitioned(df, n_chunks=2, horizon=1, method="naive")["forecast"])
    [7.0, 15.0]
    """
    return fit_partitioned(df, **kwargs).predict()  # type: ignore[arg-type]

"""Graduate projection internals: the vectorised GLM fits equal statsmodels, batched forecasts
equal one-origin forecasts, and GraduateModel(config).fit returns a frozen projection."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.config import GraduateConfig
from kompetensprognos.dataset import Dataset
from kompetensprognos.education import (
    _SEP,
    GraduateModel,
    GraduateProjection,
    _cohort_predictor,
    _CohortRates,
    _education_base,
    _engine_batch,
    _glm_params_irls,
    _glm_params_statsmodels,
    _glm_rates,
    _glm_task,
    _GlmTask,
    _gym_forecasts,
    _gym_predictor,
    _GymPanel,
    _population_by_region,
    _PopulationVintages,
    project_graduates,
)
from kompetensprognos.errors import KompetensprognosError

# --- the binomial GLMs --------------------------------------------------------------------------


def _random_problems(seed: int, n: int) -> list[tuple[tuple, dict]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        m, k = int(rng.integers(2, 12)), int(rng.integers(1, 5))
        t = np.arange(2010, 2010 + m, dtype=float)
        groups = rng.integers(0, k, m)
        trials = rng.integers(1, 3000, m).astype(float)
        p = 1 / (1 + np.exp(-(rng.normal(0, 2) + 0.1 * rng.normal() * (t - 2014) + 0.5 * groups)))
        succ = rng.binomial(trials.astype(int), p).astype(float)
        targets = t + 3
        out.append(((succ, trials, t, targets, groups, groups), {"trend": bool(rng.integers(2))}))
    return out


def test_irls_equals_statsmodels_on_small_glms() -> None:
    tasks = [_glm_task(*a, **kw) for a, kw in _random_problems(1, 200)]
    tasks = [t for t in tasks if isinstance(t, _GlmTask)]
    ours = _glm_params_irls(tasks)
    compared = 0
    for task, beta in zip(tasks, ours, strict=True):
        ref = _glm_params_statsmodels(task)
        if beta is None or ref is None:
            continue
        np.testing.assert_allclose(beta, ref, rtol=1e-8, atol=1e-8)
        compared += 1
    assert compared > 150  # nearly all fits run through the vectorised path


def test_separated_and_degenerate_glms_follow_statsmodels() -> None:
    t = np.arange(2015, 2021, dtype=float)
    trials = np.full(6, 100.0)
    separated = (np.where(t < 2018, 0.0, 100.0), trials, t, t + 1)  # all-or-nothing by year
    flat = (np.zeros(6), trials, t, t + 1)  # no successes: the pooled ratio, 0
    (sep_rate, flat_rate) = _glm_rates([(separated, {}), (flat, {})])
    task = _glm_task(*separated)
    assert isinstance(task, _GlmTask)
    assert _glm_params_irls([task]) == [None]  # not converged: handed to statsmodels
    sm = _glm_params_statsmodels(task)
    if sm is not None:
        expected = 1 / (1 + np.exp(-(sm[task.idx] + sm[-1] * task.t_eff)))
        np.testing.assert_allclose(sep_rate, expected)
    assert np.all(flat_rate == 0.0)


def test_batched_glm_rates_equal_one_at_a_time() -> None:
    problems = _random_problems(2, 40)
    batched = _glm_rates(problems)
    for (args, kw), rate in zip(problems, batched, strict=True):
        task = _glm_task(*args, **kw)
        if isinstance(task, np.ndarray):
            np.testing.assert_array_equal(rate, task)
            continue
        ref = _glm_params_statsmodels(task)
        assert ref is not None
        eta = ref[task.idx] + (ref[-1] * task.t_eff if task.t_eff is not None else 0.0)
        np.testing.assert_allclose(rate, np.where(task.known, 1 / (1 + np.exp(-eta)), task.fallback),
                                   rtol=1e-8)  # fmt: skip


# --- forecasts from many origins at once ----------------------------------------------------------


@pytest.fixture(scope="module")
def inputs(demo_dataset: Dataset) -> tuple[pd.DataFrame, _PopulationVintages]:
    eo = _education_base(demo_dataset)
    eo = eo.assign(unique_id=eo["region"] + _SEP + eo["type"] + _SEP + eo["education"])
    return eo, _PopulationVintages(_population_by_region(demo_dataset), last_observed=2024)


@pytest.mark.parametrize("kw", [{"observed_starters": True}, {"use_starters": False}])
def test_gymnasium_forecasts_of_many_origins_equal_each_origin_alone(
    inputs: tuple[pd.DataFrame, _PopulationVintages], kw: dict[str, bool]
) -> None:
    eo, vintages = inputs
    gym = eo[eo["type"] == "gymnasium"]
    cutoffs = [2017, 2019, 2021]
    many = _gym_forecasts(_GymPanel(gym), vintages, cutoffs, 4, **kw)
    one = _gym_predictor(gym, vintages, **kw)
    for c in cutoffs:
        alone = one(c, 4).reset_index(drop=True)
        part = many[many["cutoff"] == c].drop(columns="cutoff").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone, check_dtype=False)
        assert part["ds"].between(c + 1, c + 4).all()


def test_engine_batch_equals_separate_calls(
    inputs: tuple[pd.DataFrame, _PopulationVintages],
) -> None:
    eo, vintages = inputs
    yh = eo[eo["type"] == "yh"].rename(columns={"year": "ds", "graduates": "y"})
    panel = yh[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"]).reset_index(drop=True)
    rates = _CohortRates(panel, vintages)
    out = _engine_batch({"a": (panel, [2018, 2021]), "b": (rates.panel, [2020])}, "drift", 3)
    for name, data, c in (("a", panel, 2018), ("a", panel, 2021), ("b", rates.panel, 2020)):
        alone = _engine_batch({"x": (data, [c])}, "drift", 3)["x"]
        part = out[name][out[name]["cutoff"] == c].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, alone)
    pred = _cohort_predictor(panel, vintages, "drift")(2020, 3).reset_index(drop=True)
    part = rates.to_graduates(out["b"]).drop(columns="cutoff").reset_index(drop=True)
    pd.testing.assert_frame_equal(part, pred)


# --- the model contract --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(demo_dataset: Dataset) -> Dataset:
    """The demo with four programmes and fields per type: quick to project."""
    eo = demo_dataset.education_output
    keep = eo.groupby("type")["education"].transform(lambda e: e.isin(sorted(e.unique())[:4]))
    return dataclasses.replace(demo_dataset, education_output=eo[keep])


def test_graduate_model_returns_a_frozen_projection_equal_to_project_graduates(
    small: Dataset,
) -> None:
    config = GraduateConfig(end_year=2027, n_sims=30, seed=2, method="drift")
    proj = GraduateModel(config).fit(small)
    assert isinstance(proj, GraduateProjection) and proj.config == config
    with pytest.raises(dataclasses.FrozenInstanceError):
        proj.models = {}  # type: ignore[misc]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        config.n_sims = 5  # type: ignore[misc]
    again = project_graduates(small, 2027, n_sims=30, seed=2, method="drift")
    pd.testing.assert_frame_equal(proj.forecast, again.forecast)
    np.testing.assert_array_equal(proj.draws, again.draws)
    assert proj.models == again.models
    assert proj.draws.shape == (len(proj.series), 30, 3)
    # the rolling frames hold every candidate from every origin with data, nothing later
    for rf in proj.rolling.values():
        assert (rf["ds"] > rf["cutoff"]).all() and rf["cutoff"].max() < 2024


def test_project_graduates_rejects_bad_settings(small: Dataset) -> None:
    with pytest.raises(KompetensprognosError, match="gymnasium_model"):
        project_graduates(small, 2027, gymnasium_model="cohort")
    with pytest.raises(KompetensprognosError, match="end_year"):
        GraduateModel(GraduateConfig(end_year=2024)).fit(small)

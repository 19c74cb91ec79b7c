"""Tests of openings (BLS rule) and recruitment need: shrinking occupations, coherence, and a
point need that is the centre of its own simulated paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandConfig, DemandModel, DemandResult
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.recruitment import (
    NEED_COLUMNS,
    OPENINGS_COLUMNS,
    openings,
    recruitment_need,
    shrunk_change,
    simulate_need,
)

FAST = {"method": "theta", "calibration_origins": 2}
N_SIMS = 300


@pytest.fixture(scope="module")
def small(demo_dataset: Dataset) -> Dataset:
    e = demo_dataset.employment
    return Dataset(
        manifest=demo_dataset.manifest,
        employment=e[e["ssyk"].str[:1].isin(["2", "8"])],
        employment_age=demo_dataset.employment_age,
    )


@pytest.fixture(scope="module")
def result(small: Dataset) -> DemandResult:
    return DemandModel(DemandConfig(**FAST)).fit(small)


def _shrink(result: DemandResult, region: str, code: str, per_year: float) -> DemandResult:
    """A copy of ``result`` in which one occupation (and its aggregates) loses ``per_year`` of
    its 2024 level every forecast year, bounds moved with the point."""
    fc = result.forecast.copy()
    hist = result.history
    base = hist[(hist["region"] == region) & (hist["ssyk"] == code) & (hist["year"] == 2024)]
    level = float(base["employed_adjusted"].iloc[0])
    rows = (fc["region"] == region) & (fc["ssyk"] == code)
    target = level * (1 - per_year) ** (fc.loc[rows, "year"] - 2024)
    delta = (target - fc.loc[rows, "employed"]).to_numpy()
    by_year = dict(zip(fc.loc[rows, "year"], delta, strict=True))
    anc = {code, code[:2], code[:1], "total"}
    hit = (fc["region"] == region) & fc["ssyk"].isin(anc)
    shift = fc.loc[hit, "year"].map(by_year).fillna(0.0)
    for col in [c for c in fc.columns if c in ("employed", "lo80", "hi80", "lo95", "hi95")]:
        fc.loc[hit, col] = fc.loc[hit, col] + shift
    return DemandResult(
        history=hist,
        forecast=fc,
        base_forecast=result.base_forecast,
        break_factors=result.break_factors,
        config=result.config,
        hierarchy=result.hierarchy,
        timings=result.timings,
    )


def test_openings_identity_and_coherence(small: Dataset, result: DemandResult) -> None:
    op = openings(result, small, "fyrbodal", 2025, 2030)
    assert list(op.columns) == OPENINGS_COLUMNS
    assert set(op["year"]) == set(range(2025, 2031))
    o3 = op[op["ssyk_level"] == 3]
    np.testing.assert_allclose(
        o3["openings"], (o3["employment_change"] + o3["separations"]).clip(lower=0)
    )
    assert (op["openings"] >= 0).all() and (op["separations"] >= 0).all()
    total = op[op["ssyk"] == "total"].set_index("year")
    for col in ("openings", "separations", "employment_change"):
        np.testing.assert_allclose(total[col], o3.groupby("year")[col].sum(), rtol=1e-9)
    # the employment path is the demand forecast's, so ΔE sums to the period's expansion
    path = result.employment_path("fyrbodal", level=0).set_index("year")["employed"]
    assert total["employment_change"].sum() == pytest.approx(path[2030] - path[2024], rel=1e-9)


def test_openings_in_observed_years(small: Dataset, result: DemandResult) -> None:
    """The supply closure needs openings over the past: works on the adjusted history."""
    op = openings(result, small, "skaraborg", 2016, 2022)
    hist = result.employment_path("skaraborg", level=0).set_index("year")["employed"]
    total = op[op["ssyk"] == "total"].set_index("year")
    assert total["employed"].to_dict() == pytest.approx(hist.loc[2016:2022].to_dict())
    assert (total["separations"] > 0).all()
    # every year takes the period's average yearly change (register noise must not count as
    # openings), keeping the change over the period
    o3 = op[op["ssyk_level"] == 3]
    per_code = o3.groupby("ssyk")["employment_change"]
    np.testing.assert_allclose(per_code.max(), per_code.min(), atol=1e-9)
    assert total["employment_change"].sum() == pytest.approx(hist[2022] - hist[2015], rel=1e-9)
    one = openings(result, small, "skaraborg", 2019, 2019).query("ssyk == 'total'")
    assert float(one["employment_change"].iloc[0]) == pytest.approx(hist[2019] - hist[2018])
    with pytest.raises(KompetensprognosError, match="start the period"):
        openings(result, small, "skaraborg", 2014, 2016)


def test_past_change_is_shrunk_by_its_register_noise() -> None:
    """Small codes' noisy change moves toward the total's rate, large codes keep theirs; with no
    noise beyond the spread (huge codes) nothing is shrunk."""
    rng = np.random.default_rng(0)
    true_rate = rng.normal(0.01, 0.01, 200)
    size = np.r_[np.full(100, 200.0), np.full(100, 200_000.0)]
    e0 = rng.poisson(size).astype(float)
    e1 = rng.poisson(size * (1 + true_rate) ** 5).astype(float)
    raw = (e1 - e0) / 5
    got = shrunk_change(e0, e1, 5)
    target = (e1 - e0).sum() / (5 * e0.sum())
    small, large = slice(0, 100), slice(100, 200)
    # the small codes end nearer the total's rate than their raw change, and nearer the truth
    dev = lambda x: np.abs(x / e0 - target)  # noqa: E731
    assert (dev(got)[small] <= dev(raw)[small] + 1e-12).all()
    assert dev(got)[small].mean() < 0.5 * dev(raw)[small].mean()
    err = lambda x: np.abs(x[small] / e0[small] - true_rate[small]).mean()  # noqa: E731
    assert err(got) < err(raw)
    assert np.abs(got[large] - raw[large]).max() / 200_000 < 0.001  # < 0.1 pp of growth a year
    assert shrunk_change(np.zeros(3), np.ones(3), 4).tolist() == [0.0, 0.0, 0.0]


def _panel(phi: float, spread: float, seed: int = 0) -> np.ndarray:
    """Levels ``[year, code]`` over a seven-year window: each code grows at its own persistent
    rate (sd ``spread`` around 1 %) and every level carries transient noise of ``phi`` times
    Poisson's variance."""
    rng = np.random.default_rng(seed)
    size = np.repeat([100.0, 1_000.0, 10_000.0], 150)
    rate = rng.normal(0.01, spread, size.size)
    mu = size * (1 + rate) ** np.arange(8)[:, None]
    return np.maximum(mu + rng.normal(0.0, np.sqrt(phi * mu)), 1.0)


@pytest.mark.parametrize("phi", [1.0, 4.0, 16.0])
def test_overdispersion_recovers_the_transient_factor(phi: float) -> None:
    from kompetensprognos.recruitment import _overdispersion

    got = _overdispersion(_panel(phi, 0.01), np.ones(450, bool))
    assert got == pytest.approx(phi, rel=0.2)


def _weights(path: np.ndarray, noise: str) -> np.ndarray:
    """Share of each code's own rate in its shrunk rate."""
    e0, e1 = path[0], path[-1]
    rate = (e1 - e0) / (7 * e0)
    target = (e1 - e0).sum() / (7 * e0.sum())
    got = shrunk_change(e0, e1, 7, noise=noise, path=path) / e0  # type: ignore[arg-type]
    return (got - target) / (rate - target)


def test_transient_noise_beyond_poisson_lowers_the_weights() -> None:
    """With 16 × Poisson noise the data-based variants shrink more than Poisson's weights and
    come nearer each code's true rate; the full shrinkage gives weight 0."""
    path = _panel(16.0, 0.01)
    truth = _panel(0.0, 0.01)  # the same rates without noise (same draws of the rates)
    true_rate = (truth[-1] - truth[0]) / (7 * truth[0])
    w_pois = np.median(_weights(path, "poisson"))
    e0, e1 = path[0], path[-1]
    err = {}
    for noise in ("poisson", "overdispersed", "persistence"):
        got = shrunk_change(e0, e1, 7, noise=noise, path=path) / e0  # type: ignore[arg-type]
        err[noise] = np.abs(got - true_rate).mean()
    for noise in ("overdispersed", "persistence"):
        assert np.median(_weights(path, noise)) < 0.8 * w_pois
        assert err[noise] < err["poisson"]
    assert np.allclose(_weights(path, "total"), 0.0)
    with pytest.raises(KompetensprognosError, match="unknown noise"):
        shrunk_change(e0, e1, 7, noise="gaussian")  # type: ignore[arg-type]
    # without a path the variants fall back to Poisson's weights
    np.testing.assert_allclose(shrunk_change(e0, e1, 7, noise="overdispersed"),
                               shrunk_change(e0, e1, 7))  # fmt: skip


def test_persistence_keeps_persistent_growth() -> None:
    """Growth that persists through the window and little noise: the weights stay high; no
    persistent spread at all: the codes go (nearly) to the total's rate."""
    assert np.median(_weights(_panel(1.0, 0.03), "persistence")) > 0.8
    assert np.median(_weights(_panel(4.0, 0.0), "persistence")) < 0.2


def test_shrunk_window_moves_only_its_own_change(small: Dataset, result: DemandResult) -> None:
    past = (2016, 2022)
    kw = {"windows": [past, (2023, 2030)]}
    a = openings(result, small, "skaraborg", 2016, 2030, **kw)
    b = openings(result, small, "skaraborg", 2016, 2030, **kw, shrink=[past])
    later = a["year"] > past[1]
    pd.testing.assert_frame_equal(a[later], b[later])
    np.testing.assert_allclose(a["separations"], b["separations"])
    np.testing.assert_allclose(a["employed"], b["employed"])
    t_a, t_b = (x[(x["ssyk"] == "total") & ~later]["employment_change"].sum() for x in (a, b))
    assert t_b == pytest.approx(t_a, rel=0.05)  # toward the region's rate: the total barely moves
    o3 = lambda x: x[(x["ssyk_level"] == 3) & ~later]["employment_change"]  # noqa: E731
    assert not np.allclose(o3(a), o3(b))


def test_shrinking_occupation_needs_no_exits_its_decline_absorbs(
    small: Dataset, result: DemandResult
) -> None:
    """An occupation shrinking faster than its exits has no openings (old rule: all its exits
    were need); a slow decline offsets part of the exits."""
    fast = _shrink(result, "fyrbodal", "821", 0.08)
    op = openings(fast, small, "fyrbodal", 2025, 2030).set_index(["ssyk", "year"])
    o = op.loc["821"]
    assert (o["employment_change"] + o["separations"] < 0).all()
    assert o["employment_change"].max() == pytest.approx(o["employment_change"].min())
    assert (o["openings"] == 0).all()
    need = recruitment_need(fast, small, "fyrbodal", 2025, 2030, n_sims=N_SIMS)
    row = need.set_index("ssyk").loc["821"]
    old_rule = max(row["expansion"], 0) + row["replacement"]
    assert row["replacement"] > 0 and old_rule > 0
    assert row["recruitment_need"] < 0.25 * old_rule

    slow = _shrink(result, "fyrbodal", "821", 0.005)
    o = openings(slow, small, "fyrbodal", 2025, 2030).set_index(["ssyk", "year"]).loc["821"]
    assert (o["employment_change"] < 0).all()
    assert (o["openings"] > 0).all()
    assert o["openings"].sum() == pytest.approx(
        o["separations"].sum() + o["employment_change"].sum()
    )


def test_point_need_is_the_centre_of_its_paths(small: Dataset, result: DemandResult) -> None:
    need = recruitment_need(result, small, "sjuharad", 2025, 2030, n_sims=N_SIMS, seed=3)
    sims = simulate_need(result, small, "sjuharad", 2025, 2030, n_sims=N_SIMS, seed=3)
    assert list(need.columns) == NEED_COLUMNS
    lvl3 = need[need["ssyk_level"] == 3].set_index("ssyk")["recruitment_need"]
    med = sims.groupby("ssyk")["recruitment_need"].median()
    np.testing.assert_allclose(lvl3, med.reindex(lvl3.index))
    total = need.set_index("ssyk").loc["total"]
    assert total["recruitment_need"] == pytest.approx(lvl3.sum())  # levels add up
    assert (need["recruitment_need_lo80"] <= need["recruitment_need"] + 1e-9).all()
    assert (need["recruitment_need"] <= need["recruitment_need_hi80"] + 1e-9).all()
    # the medians agree with the deterministic openings (no drift from path-wise clipping)
    det = openings(result, small, "sjuharad", 2025, 2030)
    det3 = det[det["ssyk_level"] == 3].groupby("ssyk")["openings"].sum()
    assert lvl3.sum() == pytest.approx(det3.sum(), rel=0.03)
    big = det3[det3 > 100].index
    np.testing.assert_allclose(lvl3[big], det3[big], rtol=0.1)


def test_need_from_paths_already_simulated_is_the_same(
    small: Dataset, result: DemandResult
) -> None:
    """A caller that has the paths (the old balance) passes them instead of simulating again."""
    kw = {"n_sims": 40, "seed": 5}
    sims = simulate_need(result, small, "skaraborg", 2025, 2030, **kw)
    pd.testing.assert_frame_equal(
        recruitment_need(result, small, "skaraborg", 2025, 2030, **kw, sims=sims),
        recruitment_need(result, small, "skaraborg", 2025, 2030, **kw),
    )


def test_simulated_paths_are_coherent_and_reproducible(
    small: Dataset, result: DemandResult
) -> None:
    sims = simulate_need(result, small, "fyrbodal", 2025, 2030, n_sims=50, seed=1)
    again = simulate_need(result, small, "fyrbodal", 2025, 2030, n_sims=50, seed=1)
    pd.testing.assert_frame_equal(sims, again)
    lvl3 = sims[sims["ssyk_level"] == 3].groupby("sim")["recruitment_need"].sum()
    tot = sims[sims["ssyk"] == "total"].set_index("sim")["recruitment_need"]
    np.testing.assert_allclose(tot, lvl3.reindex(tot.index))
    assert (sims["recruitment_need"] >= 0).all()
    # total uncertainty reaches the region's own interval (common factor), not a sum of
    # independent occupations
    spread = tot.quantile(0.9) - tot.quantile(0.1)
    assert spread > 0
    with pytest.raises(KompetensprognosError, match="n_sims"):
        simulate_need(result, small, "fyrbodal", 2025, 2030, n_sims=0)
    with pytest.raises(KompetensprognosError, match="end_year"):
        openings(result, small, "fyrbodal", 2025, 2035)

"""Tests of the regional demand model: hierarchy, breaks, reconciliation, scenarios, outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from kompetensprognos import regions
from kompetensprognos.breaks import adjust_breaks, estimate_break_factors
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import (
    BACKTEST_COLUMNS,
    DemandConfig,
    DemandModel,
    ScenarioAdjustment,
    backtest_demand,
    backtest_table,
    build_hierarchy,
    reconcile,
)
from kompetensprognos.errors import KompetensprognosError

FAST = {"method": "theta", "calibration_origins": 2}


@pytest.fixture(scope="module")
def small(demo_dataset: Dataset) -> Dataset:
    """The demo restricted to two SSYK 1 groups (all 50 municipalities): fast but complete."""
    e = demo_dataset.employment
    keep = e["ssyk"].str[:1].isin(["2", "8"])
    return Dataset(
        manifest=demo_dataset.manifest,
        employment=e[keep],
        employment_age=demo_dataset.employment_age,
    )


@pytest.fixture(scope="module")
def result(small: Dataset):
    return DemandModel(DemandConfig(**FAST)).fit(small)


def test_hierarchy_has_both_paths_and_kungsbacka_only_in_subregions() -> None:
    bottom = pd.DataFrame({"municipality": ["1384", "1480", "1490"], "ssyk": ["251", "251", "821"]})
    h = build_hierarchy(bottom)
    s = h.series.set_index("unique_id")
    dense = pd.DataFrame(h.S.toarray(), index=h.series["unique_id"], columns=h.bottom["unique_id"])
    assert dense.loc["vastra-gotaland|total"].tolist() == [0, 1, 1]  # no Kungsbacka in county 14
    assert dense.loc["goteborgsregionen|total"].tolist() == [1, 1, 0]
    assert dense.loc["delregionerna|25"].tolist() == [1, 1, 0]
    assert s.loc["sjuharad|8", "ssyk_level"] == 1
    assert list(h.series["unique_id"].iloc[-3:]) == list(h.bottom["unique_id"])  # bottom rows last


def test_hierarchy_is_reused_for_the_same_bottom_series_only() -> None:
    """Backtest origins and refits share one hierarchy; other bottom series get their own."""
    bottom = pd.DataFrame({"municipality": ["1480", "1384"], "ssyk": ["251", "251"], "year": 1})
    h = build_hierarchy(bottom)
    assert build_hierarchy(bottom.iloc[::-1].assign(year=2)) is h  # same series, any order
    other = build_hierarchy(bottom.assign(ssyk=["251", "821"]))
    assert other is not h and "1384|821" in set(other.bottom["unique_id"])
    assert build_hierarchy(bottom, geography="sweden") is not h


def test_reconcile_is_coherent_and_nonnegative() -> None:
    bottom = pd.DataFrame({"municipality": ["1480", "1481", "1482"], "ssyk": ["251"] * 3})
    h = build_hierarchy(bottom)
    rng = np.random.default_rng(0)
    y_hat = np.abs(rng.normal(5, 3, (h.S.shape[0], 2)))
    y_hat[-1] = -2.0  # an incoherent, negative bottom forecast
    for method in ("mint_wls_struct", "mint_ols", "bottom_up"):
        rec = reconcile(h.S, y_hat, method)
        np.testing.assert_allclose(rec, h.S @ rec[-3:], atol=1e-8)
        assert (rec >= 0).all()


def test_reconciled_forecasts_match_the_qp_on_real_base_forecasts(result) -> None:
    """The active-set MinTrace against hierarchicalforecast's QP (the previous implementation).

    Same problem, same base forecasts (the fitted model's, two SSYK 1 groups of the demo):
    coherent to 1e-9, nothing negative, every total (municipality or region, all occupations)
    within one person of the QP's and the sum of all bottom series within 1e-5 relative. The
    QP stops at its interior-point tolerance and leaves near-zero cells slightly above zero, so
    single small cells may differ by a few persons (see docs/performance.md).
    """
    hf = pytest.importorskip("hierarchicalforecast.methods")
    h = result.hierarchy
    ids = h.series["unique_id"].to_numpy()
    base = result.base_forecast.pivot(index="unique_id", columns="ds", values="forecast")
    y_hat = base.reindex(ids).to_numpy(float)
    ours = reconcile(h.S, y_hat)
    n_b = h.S.shape[1]
    np.testing.assert_allclose(ours, np.asarray(h.S @ ours[-n_b:]), rtol=0, atol=1e-9)
    assert (ours >= 0).all()
    qp = np.asarray(
        hf.MinTraceSparse(method="wls_struct", nonnegative=True).fit_predict(S=h.S, y_hat=y_hat)[
            "mean"
        ]
    )
    totals = (h.series["ssyk"] == "total").to_numpy()
    np.testing.assert_allclose(ours[totals], qp[totals], rtol=0, atol=1.0)
    np.testing.assert_allclose(ours[-n_b:].sum(axis=0), qp[-n_b:].sum(axis=0), rtol=1e-5)
    assert np.abs(ours - qp).max() < 5.0  # persons, in the smallest cells
    # and the demand model's forecast is exactly this reconciliation
    fc = result.forecast.pivot(index="unique_id", columns="year", values="employed")
    np.testing.assert_allclose(fc.reindex(ids).to_numpy(float), ours, rtol=1e-12, atol=1e-9)


def test_totals_equal_sums_of_their_parts(result) -> None:
    f = result.forecast.set_index(["region", "ssyk", "year"])["employed"]
    muni = result.forecast[result.forecast["region_kind"] == "municipality"]
    for region in (*regions.SUBREGION_IDS, "vastra-gotaland", "delregionerna"):
        members = set(regions.members(region))
        parts = (
            muni[muni["region"].isin(members) & (muni["ssyk"] == "total")]
            .groupby("year")["employed"]
            .sum()
        )
        np.testing.assert_allclose(
            f.loc[region, "total"].sort_index().to_numpy(), parts.sort_index().to_numpy(), rtol=1e-9
        )
    sk = result.forecast[
        (result.forecast["region"] == "skaraborg") & (result.forecast["ssyk_level"] == 3)
    ]
    by2 = sk.assign(p=sk["ssyk"].str[:2]).groupby(["p", "year"])["employed"].sum()
    for (code, year), v in by2.items():
        assert f.loc["skaraborg", code, year] == pytest.approx(v, rel=1e-9)


def test_no_negative_forecasts_and_ordered_bounds(result) -> None:
    f = result.forecast
    assert (f[["employed", "lo80", "hi80", "lo95", "hi95"]] >= 0).all().all()
    assert (f["lo80"] <= f["employed"] + 1e-9).all() and (f["employed"] <= f["hi80"] + 1e-9).all()
    assert (f["lo95"] <= f["lo80"] + 1e-6).mean() > 0.99


def test_break_adjustment_keeps_the_2023_jump_out_of_growth(small: Dataset, result) -> None:
    drift = {"method": "drift", "calibration_origins": 0}
    raw = DemandModel(DemandConfig(**drift, adjust_breaks=False)).fit(small)
    adjusted = DemandModel(DemandConfig(**drift)).fit(small)

    def growth(r) -> float:
        t = r.forecast[
            (r.forecast["region"] == "vastra-gotaland") & (r.forecast["ssyk"] == "total")
        ]
        t = t.set_index("year")["employed"]
        return float((t[2030] / t[2025]) ** (1 / 5) - 1)

    # a straight line through 2014-2024 carries the +7 % jump into every future year unless adjusted
    assert growth(adjusted) < growth(raw) - 0.002
    assert -0.01 < growth(adjusted) < 0.035
    assert growth(result) < growth(
        DemandModel(DemandConfig(**FAST, adjust_breaks=False)).fit(small)
    )
    f2023 = result.break_factors[result.break_factors["break_year"] == 2023]["factor"]
    assert 1.04 < f2023.median() < 1.10  # the generator's +7 points, found again


def test_break_factors_recover_a_known_shift() -> None:
    years = np.arange(2014, 2025)
    rows = []
    for code, shift in (("251", 1.10), ("821", 1.0)):
        level = 1000 * 1.02 ** (years - 2014) * np.where(years >= 2023, shift, 1.0)
        rows += [(code, y, v) for y, v in zip(years, level, strict=True)]
    df = pd.DataFrame(rows, columns=["ssyk", "year", "employed"])
    f = estimate_break_factors(df, [2023]).set_index("ssyk")
    assert f.loc["251", "raw_factor"] == pytest.approx(1.10, rel=1e-6)
    adj = adjust_breaks(df, f.reset_index()).set_index(["ssyk", "year"])["employed"]
    growth = adj.loc["251"].pct_change().dropna()
    assert growth.max() < 0.06  # the adjusted series no longer jumps


def test_scenario_adds_jobs_in_every_aggregate(small: Dataset, result) -> None:
    plant = ScenarioAdjustment(
        municipality="1499", ssyk="821", year=2027, jobs=400, description="fabrik"
    )
    res = DemandModel(DemandConfig(**FAST, scenarios=(plant,))).fit(small)
    a = result.forecast.set_index(["region", "ssyk", "year"])["employed"]
    b = res.forecast.set_index(["region", "ssyk", "year"])["employed"]
    for region in ("1499", "skaraborg", "vastra-gotaland", "delregionerna"):
        assert b[region, "821", 2030] - a[region, "821", 2030] == pytest.approx(400, abs=5)
        assert b[region, "821", 2026] == pytest.approx(a[region, "821", 2026], abs=1)
    assert b["fyrbodal", "821", 2030] == pytest.approx(a["fyrbodal", "821", 2030], abs=5)


def test_scenario_codes_must_be_quoted_text() -> None:
    with pytest.raises(ValidationError, match="string"):
        ScenarioAdjustment(municipality=1499, ssyk="821", year=2027, jobs=1)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="quote codes"):
        ScenarioAdjustment(municipality="9999", ssyk="821", year=2027, jobs=1)
    with pytest.raises(ValidationError, match="extra"):
        ScenarioAdjustment(municipality="1499", ssyk="821", year=2027, jobs=1, kommun="x")  # type: ignore[call-arg]


def test_employment_forecast_contract(result) -> None:
    t = result.employment_forecast("skaraborg")
    assert list(t.columns) == [
        "region",
        "ssyk",
        "ssyk_level",
        "year",
        "employed",
        "lo80",
        "hi80",
        "lo95",
        "hi95",
        "kind",
    ]
    assert set(t["kind"]) == {"observed", "forecast"}
    assert set(t["ssyk_level"]) == {0, 1, 2, 3}
    assert t.loc[t["kind"] == "forecast", "year"].max() == 2030
    with pytest.raises(KompetensprognosError, match="no demand results"):
        result.employment_forecast("norrland")


def test_recruitment_need(small: Dataset, result) -> None:
    from kompetensprognos.recruitment import NEED_COLUMNS, recruitment_need

    need = recruitment_need(result, small, "fyrbodal", n_sims=200)
    assert list(need.columns) == NEED_COLUMNS
    assert (need["replacement"] >= 0).all() and (
        need.loc[need["ssyk_level"] == 0, "replacement"] > 0
    ).all()
    # need = yearly openings max(ΔE + exits, 0) summed (tests/test_recruitment.py): never
    # negative, and never more than growth plus exits by more than simulation noise
    assert (need["recruitment_need"] >= 0).all()
    old_rule = need["expansion"].clip(lower=0) + need["replacement"]
    assert (need["recruitment_need"] <= 1.1 * old_rule + 5).all()
    assert (need["recruitment_need_lo80"] <= need["recruitment_need"] + 1e-9).all()
    assert (need["recruitment_need"] <= need["recruitment_need_hi80"] + 1e-9).all()
    total = need[need["ssyk"] == "total"].iloc[0]
    level3 = need[need["ssyk_level"] == 3]
    assert total["replacement"] == pytest.approx(level3["replacement"].sum(), rel=1e-6)
    assert total["expansion"] == pytest.approx(level3["expansion"].sum(), rel=1e-6)


def test_backtest_table_has_model_and_baselines(small: Dataset) -> None:
    detail = backtest_demand(
        small, config=DemandConfig(**FAST), origins=[2021], regions_=["skaraborg"]
    )
    table = backtest_table(detail)
    assert list(table.columns) == BACKTEST_COLUMNS
    assert set(table["model"]) == {"kompetensprognos", "naive", "drift", "constant_share"}
    ours = table[table["model"] == "kompetensprognos"]
    assert (
        ours["coverage80"].between(0, 1).all()
        and table.loc[table["model"] == "naive", "coverage80"].isna().all()
    )
    assert set(table["horizon"]) == {1, 2, 3}


def test_parents_go_one_region_up_then_one_ssyk_level_up() -> None:
    bottom = pd.DataFrame({"municipality": ["1384", "1480", "1490"], "ssyk": ["251", "251", "821"]})
    parents = build_hierarchy(bottom).parents
    assert parents["1480|251"] == "vastra-gotaland|251"  # municipality -> county
    assert parents["1384|251"] == "goteborgsregionen|251"  # Kungsbacka: outside county 14
    assert parents["sjuharad|821"] == "vastra-gotaland|821"  # subregion -> county
    assert parents["vastra-gotaland|251"] == "vastra-gotaland|25"  # top region: SSYK level up
    assert parents["vastra-gotaland|2"] == "vastra-gotaland|total"
    assert "vastra-gotaland|total" not in parents
    national = build_hierarchy(bottom, geography="sweden").parents
    assert national["vastra-gotaland|251"] == "00|251" and national["00|251"] == "00|25"


@pytest.mark.slow
def test_pooling_methods_run_in_the_demand_model(small: Dataset) -> None:
    fit = DemandModel(DemandConfig(method="sdrift", calibration_origins=2)).fit(small)
    ef = fit.employment_forecast("skaraborg")
    assert len(ef) and (ef["employed"] >= 0).all()

"""Tests for the graduate projection (education.py) and new-entrant supply (supply.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pydantic
import pytest

from kompetensprognos import regions
from kompetensprognos.dataset import Dataset
from kompetensprognos.education import (
    GraduateProjection,
    _glm_rate,
    _gym_predictor,
    _PopulationVintages,
    backtest_graduates,
    completion_model,
    project_graduates,
)
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.supply import (
    SupplyParams,
    education_output_table,
    region_weights,
    simulate_supply,
    supply_by_education_table,
    supply_table,
    supply_tables,
)

END = 2027  # short horizon keeps the tests fast
N_SIMS = 200


@pytest.fixture(scope="module")
def projection(demo_dataset: Dataset) -> GraduateProjection:
    return project_graduates(demo_dataset, END, n_sims=N_SIMS, seed=1)


def _kw(projection: GraduateProjection) -> dict[str, object]:
    return {"end_year": END, "projection": projection}


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"entri": {"yh": 0.5}},
        {"entry": {"vh": 0.5}},
        {"entry": {"yh": 1.5}},
        {"retention": {"higher": -0.1}},
        {"entry_by_education": {"VO": 0.5}},
        {"entry_by_education": {"gymnasium/XX": 0.5}},
        {"retention_by_education": {"higher/72": 2.0}},
    ],
)
def test_params_reject_unknown_keys_and_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        SupplyParams.model_validate(bad)


def test_params_frozen_and_defaults() -> None:
    p = SupplyParams()
    with pytest.raises(pydantic.ValidationError):
        p.entry = p.entry  # type: ignore[misc]
    edus = pd.DataFrame({"type": ["gymnasium", "gymnasium", "yh", "higher"],
                         "education": ["VO", "NA", "48", "72"]})  # fmt: skip
    r = p.rates("fyrbodal", edus).set_index("education")
    assert r.loc["VO", "entry"] > r.loc["NA", "entry"]  # vocational enter work more
    assert (
        r.loc["72", "retention"]
        < p.rates("goteborgsregionen", edus).set_index("education").loc["72", "retention"]
    )
    over = (
        SupplyParams.model_validate(
            {"retention": {"higher": 0.3}, "entry_by_education": {"higher/72": 0.5}}
        )
        .rates("fyrbodal", edus)
        .set_index("education")
    )
    assert over.loc["72", "retention"] == 0.3
    assert over.loc["72", "entry"] == 0.5
    assert over.loc["VO", "entry"] == r.loc["VO", "entry"]


# --- cohort arithmetic -------------------------------------------------------------------------


def test_glm_rate_recovers_rate_and_trend() -> None:
    t = np.arange(2010, 2020)
    p = 1 / (1 + np.exp(-(0.5 + 0.1 * (t - 2014.5))))
    trials = np.full(len(t), 10_000.0)
    fit = _glm_rate(p * trials, trials, t, t)
    assert np.allclose(fit, p, atol=1e-6)
    # damped: extrapolated trend grows less than the straight line
    far = _glm_rate(p * trials, trials, t, np.array([2025.0]), damping=0.5)
    straight = 1 / (1 + np.exp(-(0.5 + 0.1 * (2025 - 2014.5))))
    assert p[-1] < far[0] < straight
    # degenerate input falls back to the pooled ratio
    assert _glm_rate(np.zeros(3), np.full(3, 5.0), t[:3], t[:1])[0] == 0.0


def test_completion_model_is_binomial_ratio() -> None:
    s = pd.DataFrame({"region": "r", "education": "VO", "year": [2014, 2015, 2016],
                      "starters": [100.0, 200.0, 100.0]})  # fmt: skip
    g = pd.DataFrame({"region": "r", "education": "VO", "year": [2017, 2018, 2019],
                      "graduates": [70.0, 140.0, 70.0]})  # fmt: skip
    out = completion_model(s, g)
    assert np.allclose(out["completion"], 0.7)
    assert list(out["cohort"]) == [2014, 2015, 2016]


def test_gymnasium_cohort_model_follows_16_year_olds() -> None:
    years = np.arange(2010, 2025)
    n16 = pd.Series(1000.0 + 50 * np.sin(np.arange(2007, 2031)), index=np.arange(2007, 2031))
    starters = 0.2 * n16.reindex(years).to_numpy()
    grads = 0.75 * 0.2 * n16.reindex(years - 3).to_numpy()
    gym = pd.DataFrame({"region": "r", "education": "VO", "type": "gymnasium", "year": years,
                        "graduates": grads, "starters": starters})  # fmt: skip
    expected = 0.15 * n16.reindex(np.arange(2022, 2028) - 3).to_numpy()
    pop = pd.DataFrame({"region": "r", "year": n16.index, "age": 16, "population": n16.values})
    vintages = _PopulationVintages(pop, last_observed=2021)  # rows from the origin on are known
    for kw in ({"observed_starters": True}, {"use_starters": False}):
        fc = _gym_predictor(gym, vintages, **kw)(2021, 6)  # type: ignore[arg-type]
        assert np.allclose(fc["forecast"].to_numpy(), expected, rtol=1e-6)


# --- projection and tables ---------------------------------------------------------------------


def test_projection_shapes_and_nonnegative(projection: GraduateProjection) -> None:
    assert projection.draws.shape == (len(projection.series), N_SIMS, END - 2024)
    assert (projection.draws >= 0).all()
    assert (projection.forecast["graduates"] >= 0).all()
    assert set(projection.models) == {"gymnasium", "yh", "higher"}
    # plausible: each type's first forecast year within 15 % of its last observed year
    last = projection.history[projection.history["year"] == 2024].groupby("type")["graduates"]
    first = projection.forecast[projection.forecast["year"] == 2025].groupby("type")["graduates"]
    ratio = first.sum() / last.sum()
    assert ((ratio > 0.85) & (ratio < 1.15)).all(), ratio


def test_education_output_table(demo_dataset: Dataset, projection: GraduateProjection) -> None:
    t = education_output_table(demo_dataset, "fyrbodal", **_kw(projection))  # type: ignore[arg-type]
    assert list(t.columns) == ["region", "education", "type", "year", "graduates",
                               "graduates_lo80", "graduates_hi80", "kind"]  # fmt: skip
    obs = t[t["kind"] == "observed"]
    assert (obs["graduates_lo80"] == obs["graduates"]).all()
    assert (obs["graduates_hi80"] == obs["graduates"]).all()
    fc = t[t["kind"] == "forecast"]
    assert set(fc["year"]) == set(range(2025, END + 1))
    assert (fc["graduates_lo80"] <= fc["graduates"]).all()
    assert (fc["graduates"] <= fc["graduates_hi80"]).all()
    assert (fc["graduates_lo80"] >= 0).all()
    assert (fc["graduates_hi80"] > fc["graduates_lo80"]).mean() > 0.9


def test_supply_conserves_people(demo_dataset: Dataset, projection: GraduateProjection) -> None:
    params = SupplyParams()
    region = "skaraborg"
    s = supply_table(demo_dataset, region, params, **_kw(projection))  # type: ignore[arg-type]
    assert list(s.columns) == ["region", "ssyk", "year", "new_entrants", "new_entrants_lo80",
                               "new_entrants_hi80"]  # fmt: skip
    e = education_output_table(demo_dataset, region, **_kw(projection))  # type: ignore[arg-type]
    fc = e[e["kind"] == "forecast"]
    rates = params.rates(region, fc)
    m = fc.merge(rates, on=["type", "education"])
    expected = (m["graduates"] * m["entry"] * m["retention"]).groupby(m["year"]).sum()
    got = s.groupby("year")["new_entrants"].sum()
    assert np.allclose(got.to_numpy(), expected.reindex(got.index).to_numpy(), rtol=1e-9)
    # per simulated path too
    d = simulate_supply(demo_dataset, region, params, **_kw(projection))  # type: ignore[arg-type]
    de = simulate_supply(demo_dataset, region, params, by="education", **_kw(projection))  # type: ignore[arg-type]
    a = d.groupby(["sim", "year"])["new_entrants"].sum()
    b = de.groupby(["sim", "year"])["new_entrants"].sum()
    assert np.allclose(a.to_numpy(), b.reindex(a.index).to_numpy())
    assert d["sim"].nunique() == N_SIMS
    assert (d["new_entrants"] >= 0).all()
    assert (s["new_entrants_lo80"] <= s["new_entrants"]).all()
    assert (s["new_entrants"] <= s["new_entrants_hi80"]).all()


def test_crosswalk_sums_feeding_educations_and_levels(
    demo_dataset: Dataset, projection: GraduateProjection
) -> None:
    region = "fyrbodal"
    by_e = supply_by_education_table(demo_dataset, region, **_kw(projection))  # type: ignore[arg-type]
    s3 = supply_table(demo_dataset, region, **_kw(projection))  # type: ignore[arg-type]
    factor = by_e["entry"] * by_e["retention"]
    assert np.allclose(by_e["graduates"] * factor, by_e["new_entrants"])
    cw = demo_dataset.crosswalk
    y = by_e[by_e["year"] == 2026]
    m = cw.merge(y, on=["type", "education"])
    manual = (m["share"] * m["new_entrants"]).groupby(m["ssyk"]).sum()
    got = s3[s3["year"] == 2026].set_index("ssyk")["new_entrants"]
    # 522 (shop staff) is fed by many programmes: the sum of all of them
    assert (cw["ssyk"] == "522").sum() > 3
    assert np.isclose(got["522"], manual["522"], rtol=1e-3)
    s1 = supply_table(demo_dataset, region, level=1, **_kw(projection))  # type: ignore[arg-type]
    assert set(s1["ssyk"].str.len()) == {1}
    assert np.isclose(s1["new_entrants"].sum(), s3["new_entrants"].sum())
    s2 = supply_table(demo_dataset, region, level=2, **_kw(projection))  # type: ignore[arg-type]
    assert np.isclose(s2["new_entrants"].sum(), s3["new_entrants"].sum())


def test_unmapped_education_goes_to_unknown_occupation(
    demo_dataset: Dataset, projection: GraduateProjection
) -> None:
    cw = demo_dataset.crosswalk
    partial = Dataset(
        manifest=demo_dataset.manifest,
        employment=demo_dataset.employment,
        population=demo_dataset.population,
        education_output=demo_dataset.education_output,
        crosswalk=cw[~((cw["type"] == "yh") & (cw["education"] == "48"))],
    )
    full = supply_table(demo_dataset, "sjuharad", **_kw(projection))  # type: ignore[arg-type]
    part = supply_table(partial, "sjuharad", **_kw(projection))  # type: ignore[arg-type]
    assert "0002" in set(part["ssyk"]) and "0002" not in set(full["ssyk"])
    assert np.isclose(part["new_entrants"].sum(), full["new_entrants"].sum())


def test_parameters_change_supply(demo_dataset: Dataset, projection: GraduateProjection) -> None:
    region = "goteborgsregionen"
    base = supply_table(demo_dataset, region, **_kw(projection)).set_index(["ssyk", "year"])  # type: ignore[arg-type]
    low = SupplyParams.model_validate({"entry": {"yh": 0.45}, "retention": {"higher": 0.1}})
    alt = supply_table(demo_dataset, region, low, **_kw(projection)).set_index(["ssyk", "year"])  # type: ignore[arg-type]
    assert alt["new_entrants"].sum() < 0.8 * base["new_entrants"].sum()
    # 251 (software developers) is fed by yh/48 and higher/48: both lowered
    assert (alt.loc["251", "new_entrants"] < 0.6 * base.loc["251", "new_entrants"]).all()
    # 532 (care assistants) mainly from the VO programme: barely changed by yh/higher params
    one = SupplyParams.model_validate({"entry_by_education": {"gymnasium/VO": 0.4}})
    vo = supply_table(demo_dataset, region, one, **_kw(projection)).set_index(["ssyk", "year"])  # type: ignore[arg-type]
    assert (vo.loc["532", "new_entrants"] < base.loc["532", "new_entrants"]).all()
    assert np.allclose(vo.loc["251", "new_entrants"], base.loc["251", "new_entrants"])


def test_derived_regions(demo_dataset: Dataset, projection: GraduateProjection) -> None:
    kw = _kw(projection)
    subs = sum(
        supply_table(demo_dataset, r, **kw)["new_entrants"].sum()  # type: ignore[arg-type]
        for r in regions.SUBREGION_IDS
    )
    # delregionerna sums the subregions' graduates but has its own (higher) retention
    g_sub = sum(
        education_output_table(demo_dataset, r, **kw).query("kind == 'forecast'")["graduates"].sum()  # type: ignore[arg-type]
        for r in regions.SUBREGION_IDS
    )
    e_all = education_output_table(demo_dataset, "delregionerna", **kw)  # type: ignore[arg-type]
    assert np.isclose(e_all.query("kind == 'forecast'")["graduates"].sum(), g_sub)
    e_vg = education_output_table(demo_dataset, "vastra-gotaland", **kw)  # type: ignore[arg-type]
    assert e_vg["graduates"].sum() < e_all["graduates"].sum()
    w = region_weights(projection, "vastra-gotaland")
    gr = w[w["base"] == "goteborgsregionen"]["weight"]
    assert ((gr > 0.85) & (gr < 0.97)).all()  # Kungsbacka is ~5-12 % of GR's young people
    assert supply_table(demo_dataset, "delregionerna", **kw)["new_entrants"].sum() > subs  # type: ignore[arg-type]


def test_backtest_table(projection: GraduateProjection) -> None:
    bt = backtest_graduates(projection, "fyrbodal")
    assert list(bt.columns) == ["region", "type", "model", "horizon", "mase", "smape",
                                "direction_accuracy", "coverage80", "coverage95"]  # fmt: skip
    assert {"naive", "drift"} <= set(bt["model"])
    assert set(bt["type"]) == {"gymnasium", "yh", "higher"}
    assert (bt["region"] == "fyrbodal").all()
    assert bt["mase"].notna().all() and (bt["coverage80"] <= bt["coverage95"] + 1e-12).all()


def test_supply_tables_and_errors(demo_dataset: Dataset) -> None:
    with pytest.raises(KompetensprognosError):
        project_graduates(demo_dataset, 2024)
    with pytest.raises(KompetensprognosError):
        supply_tables(demo_dataset, "nowhere")
    out = supply_tables(demo_dataset, "sjuharad", end_year=2026, n_sims=50, backtest=False)
    assert set(out) == {"supply", "supply_by_education", "education_output"}
    assert set(out["supply"]["year"]) == {2025, 2026}


# --- real data ---------------------------------------------------------------------------------


@pytest.mark.shared
def test_completion_on_skolverket_throughput(shared_dir: Path) -> None:
    path = shared_dir / "data" / "skolverket" / "gymnasium_throughput_vg_kungsbacka_2011_2017.csv"
    raw = pd.read_csv(path, dtype=str)
    names = {"Vård- och omsorgsprogrammet": "VO", "Naturvetenskapsprogrammet": "NA",
             "Bygg- och anläggningsprogrammet": "BA"}  # fmt: skip
    d = raw[(raw["huvudman"] == "Samtliga") & raw["program"].isin(names)].copy()
    d["education"] = d["program"].map(names)
    d["starters"] = pd.to_numeric(d["totalt_antal"], errors="coerce")
    d["pct"] = pd.to_numeric(d["examen_3ar"], errors="coerce")  # '..' = suppressed
    d = d.dropna(subset=["starters", "pct"])
    d["year"] = d["startlasar"].str[:4].astype(int)
    d["graduates"] = (d["starters"] * d["pct"] / 100).round()
    d["region"] = d["kommunkod"]
    s = d[["region", "education", "year", "starters"]]
    g = d.assign(year=d["year"] + 3)[["region", "education", "year", "graduates"]]
    out = completion_model(s, g)
    rate = out.groupby("education").apply(
        lambda x: np.average(x["completion"], weights=x["starters"]), include_groups=False
    )
    assert ((rate > 0.4) & (rate < 0.95)).all(), rate
    assert rate["NA"] > rate["VO"]  # preparatory programmes complete more often


# --- observed years (for sums over an outlook period starting before the forecast) ---------


def test_include_observed_adds_observed_years(
    demo_dataset: Dataset, projection: GraduateProjection
) -> None:
    kw = _kw(projection)
    last = projection.last_observed
    plain = supply_table(demo_dataset, "fyrbodal", **kw)
    full = supply_table(demo_dataset, "fyrbodal", include_observed=True, **kw)
    assert set(plain["year"]) == set(range(last + 1, END + 1))  # default unchanged
    obs = full[full["year"] <= last]
    assert set(obs["year"]) == set(projection.history["year"])
    np.testing.assert_allclose(obs["new_entrants_lo80"], obs["new_entrants"])
    np.testing.assert_allclose(obs["new_entrants_hi80"], obs["new_entrants"])
    fc = full[full["year"] > last].reset_index(drop=True)
    pd.testing.assert_frame_equal(fc, plain.reset_index(drop=True))
    # observed new entrants = observed graduates × entry × retention, summed over occupations
    edu = supply_by_education_table(demo_dataset, "fyrbodal", include_observed=True, **kw)
    e_last = edu[edu["year"] == last]
    hist = projection.history
    grads = hist[(hist["region"] == "fyrbodal") & (hist["year"] == last)]
    assert e_last["graduates"].sum() == pytest.approx(grads["graduates"].sum())
    ne = (e_last["graduates"] * e_last["entry"] * e_last["retention"]).sum()
    assert obs[obs["year"] == last]["new_entrants"].sum() == pytest.approx(ne)
    sims = simulate_supply(demo_dataset, "fyrbodal", include_observed=True, **kw)
    s_last = sims[sims["year"] == last]
    spread = s_last.groupby("ssyk")["new_entrants"].agg(np.ptp)
    assert spread.max() == pytest.approx(0.0, abs=1e-9)  # the same value in every path
    assert s_last.groupby("sim")["new_entrants"].sum().iloc[0] == pytest.approx(ne)

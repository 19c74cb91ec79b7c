"""Tests of the synthetic demo generator against its calibration targets (docs/demo-data.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kompetensprognos import regions
from kompetensprognos.dataset import Dataset
from kompetensprognos.synthetic import generate_demo


@pytest.fixture(scope="module")
def emp(demo_dataset: Dataset) -> pd.DataFrame:
    m = regions.municipalities("vg")[["code", "subregion"]].rename(columns={"code": "region"})
    return demo_dataset.employment.merge(m, on="region", validate="m:1")


def county_total(emp: pd.DataFrame) -> pd.Series:
    return emp[emp["region"].str[:2] == regions.VG_COUNTY].groupby("year")["employed"].sum()


def test_deterministic_and_seeded(demo_dataset: Dataset) -> None:
    assert generate_demo().fingerprint() == demo_dataset.fingerprint()
    assert generate_demo(seed=7).fingerprint() != demo_dataset.fingerprint()


def test_is_labelled_synthetic_and_valid(demo_dataset: Dataset) -> None:
    assert demo_dataset.manifest.synthetic
    assert demo_dataset.manifest.label == "syntetiska demonstrationsdata"
    assert {b.year for b in demo_dataset.manifest.breaks} == {2020, 2023}
    generate_demo().validate()  # raises on any contract problem


def test_covers_the_50_municipalities_and_all_ssyk3(demo_dataset: Dataset) -> None:
    e = demo_dataset.employment
    assert set(e["region"]) == set(regions.municipalities("vg")["code"])
    assert e["ssyk"].nunique() == 148 and e["ssyk"].str.len().eq(3).all()
    assert sorted(e["year"].unique()) == list(range(2014, 2025))


def test_county_size_about_0_8_million(emp: pd.DataFrame) -> None:
    assert 0.75e6 <= county_total(emp)[2022] <= 0.85e6


def test_goteborgsregionen_has_the_largest_share(emp: pd.DataFrame) -> None:
    share = emp.groupby("subregion")["employed"].sum()
    assert share.idxmax() == "goteborgsregionen"
    assert 0.5 < share["goteborgsregionen"] / share.sum() < 0.7


def test_occupation_mix_differs_by_subregion(emp: pd.DataFrame) -> None:
    by = emp[emp["year"] == 2024].groupby(["subregion", emp["ssyk"].str[:1]])["employed"].sum()
    share = by / by.groupby(level=0).transform("sum")
    for industrial in ("skaraborg", "fyrbodal"):
        assert share[industrial, "8"] > 1.2 * share["goteborgsregionen", "8"]
    latest = emp[emp["year"] == 2024]
    it_share = (
        latest[latest["ssyk"] == "251"].groupby("subregion")["employed"].sum()
        / latest.groupby("subregion")["employed"].sum()
    )
    assert it_share.idxmax() == "goteborgsregionen"


def test_growth_is_heterogeneous(emp: pd.DataFrame) -> None:
    by = emp[emp["region"].str[:2] == "14"].groupby(["ssyk", "year"])["employed"].sum().unstack()
    big = by[by[2014] > 500]
    change = big[2022] / big[2014] - 1
    assert (change > 0.15).sum() >= 10 and (change < -0.05).sum() >= 10


def test_many_small_and_zero_cells(demo_dataset: Dataset) -> None:
    e = demo_dataset.employment.groupby(["region", "ssyk", "year"])["employed"].sum()
    assert (e == 0).mean() > 0.03
    assert (e < 10).mean() > 0.25


def test_series_breaks(emp: pd.DataFrame, demo_dataset: Dataset) -> None:
    growth = county_total(emp).pct_change()
    normal = growth.drop([2020, 2023]).median()
    assert abs(growth[2020] - normal) < 0.02  # a small level shift at RAMS -> BAS
    assert 0.075 <= growth[2023] <= 0.105  # the 2023 jump is about +8-9 % ...
    assert growth[2023] - normal >= 0.05  # ... most of it with no real change behind it
    age = demo_dataset.employment_age
    county = age[age["region"] == "14"].groupby(["age", "year"])["employed"].sum().unstack()
    jump = county[2023] / county[2022]
    assert jump["60-64"] > jump["35-39"] + 0.01  # concentrated in older (and the youngest) ages
    assert county.loc["65-69"].dropna().index.min() == 2023  # the band exists from 2023 only


def test_age_table_adds_up_to_employment(demo_dataset: Dataset, emp: pd.DataFrame) -> None:
    age = demo_dataset.employment_age
    sub = (
        age[age["region"].isin(regions.SUBREGION_IDS)].groupby(["region", "year"])["employed"].sum()
    )
    direct = emp.groupby(["subregion", "year"])["employed"].sum()
    np.testing.assert_allclose(sub.sort_index().to_numpy(), direct.sort_index().to_numpy())


def test_older_workforce_outside_goteborg(demo_dataset: Dataset) -> None:
    a = demo_dataset.employment_age
    a = a[(a["year"] == 2022) & a["region"].isin(regions.SUBREGION_IDS)]
    old = (
        a[a["age"].isin(["55-59", "60-64"])].groupby("region")["employed"].sum()
        / a.groupby("region")["employed"].sum()
    )
    assert old.idxmin() == "goteborgsregionen"


def test_population_and_education(demo_dataset: Dataset) -> None:
    pop = demo_dataset.population
    assert pop["year"].max() == 2035 and set(pop.loc[pop["year"] > 2024, "kind"]) == {"projection"}
    assert 1.55e6 < pop[pop["year"] == 2024]["population"].sum() < 2.0e6
    edu = demo_dataset.education_output
    assert set(edu["type"]) == {"gymnasium", "yh", "higher"}
    gym = edu[(edu["type"] == "gymnasium") & (edu["year"] == 2024)]
    assert 9_000 < gym["graduates"].sum() < 20_000
    assert (gym["graduates"] <= gym["starters"] * 1.5).all()
    cw = demo_dataset.crosswalk.groupby(["type", "education"])["share"].sum()
    np.testing.assert_allclose(cw.to_numpy(), 1.0, atol=1e-6)


@pytest.mark.shared
def test_calibrated_to_national_statistics(shared_dir: Path, emp: pd.DataFrame) -> None:
    """Occupation growth 2014-2022 in the demo follows the real national pattern."""
    real = pd.read_csv(
        shared_dir / "data/scb/employment_ssyk_age_sex_sweden_2014_2024.csv",
        dtype={"ssyk_code": str},
    )
    real = real[real["level"] == "SSYK3"].groupby(["ssyk_code", "year"])["count"].sum().unstack()
    demo = emp.groupby(["ssyk", "year"])["employed"].sum().unstack()
    both = real.index.intersection(demo.index[demo[2014] > 300])
    g_real = np.log(real.loc[both, 2022] / real.loc[both, 2014])
    g_demo = np.log(demo.loc[both, 2022] / demo.loc[both, 2014])
    assert np.corrcoef(g_real, g_demo)[0, 1] > 0.6
    size_real = real.loc[both, 2022] / real.loc[both, 2022].sum()
    size_demo = demo.loc[both, 2022] / demo.loc[both, 2022].sum()
    assert np.corrcoef(size_real, size_demo)[0, 1] > 0.8

"""Tests of national scale: the national synthetic panel, the national hierarchy and chunked forecasting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import SWEDEN, DemandConfig, DemandModel, build_hierarchy
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.forecasting import Forecaster
from kompetensprognos.scale import fit_partitioned, national_panel, split_panel


@pytest.fixture(scope="module")
def national() -> Dataset:
    return national_panel(0.1)


@pytest.fixture(scope="module")
def small_panel(national: Dataset) -> pd.DataFrame:
    """300 bottom series: ten municipalities × the 30 SSYK 3 codes of major group 2."""
    e = national.employment
    munis = sorted(e["region"].unique())[:10]
    e = e[e["region"].isin(munis) & e["ssyk"].str.startswith("2")]
    return pd.DataFrame(
        {"unique_id": e["region"] + "|" + e["ssyk"], "ds": e["year"], "y": e["employed"]}
    )


def test_national_panel_shape_contract_and_breaks(national: Dataset) -> None:
    e = national.employment
    assert e["region"].nunique() == 29 and e["ssyk"].nunique() == 148
    assert sorted(e["year"].unique()) == list(range(2014, 2025))
    assert len(e) == 29 * 148 * 11
    assert national.manifest.synthetic
    assert {(b.year, b.table) for b in national.manifest.breaks} >= {
        (2020, "employment"),
        (2023, "employment"),
    }
    national.validate()  # the dataset contract holds
    age = national.employment_age
    assert "00" in set(age["region"]) and set(age["region"]) - {"00"} <= {
        f"{c:02d}" for c in range(1, 26)
    }
    assert age.loc[age["age"] == "65-69", "year"].min() == 2023
    total = age[age["region"] == "00"].groupby("year")["employed"].sum()
    by_muni = e.groupby("year")["employed"].sum()
    np.testing.assert_allclose(total.to_numpy(), by_muni.to_numpy())


def test_national_panel_is_deterministic_and_nested(national: Dataset) -> None:
    again = national_panel(0.1)
    pd.testing.assert_frame_equal(national.employment, again.employment)
    larger = national_panel(0.25, age_table=False)
    assert larger.employment_age is None
    assert set(national.employment["region"]) < set(larger.employment["region"])
    both = national.employment.merge(larger.employment, on=["region", "ssyk", "year"])
    assert len(both) == len(national.employment)
    assert (both["employed_x"] == both["employed_y"]).all()
    with pytest.raises(KompetensprognosError, match="fraction"):
        national_panel(0.0)


def test_national_hierarchy_counties_sweden_and_vg_regions() -> None:
    bottom = pd.DataFrame(
        {"municipality": ["0114", "0180", "1384", "1480"], "ssyk": ["251", "251", "251", "821"]}
    )
    h = build_hierarchy(bottom, geography="sweden")
    dense = pd.DataFrame(h.S.toarray(), index=h.series["unique_id"], columns=h.bottom["unique_id"])
    assert dense.loc[f"{SWEDEN}|total"].tolist() == [1, 1, 1, 1]
    assert dense.loc["01|25"].tolist() == [1, 1, 0, 0]
    assert dense.loc["13|total"].tolist() == [0, 0, 1, 0]  # Kungsbacka in Halland
    assert dense.loc["vastra-gotaland|total"].tolist() == [0, 0, 0, 1]  # county 14, report id
    assert dense.loc["delregionerna|total"].tolist() == [0, 0, 1, 1]
    assert "14|total" not in dense.index  # no series twice
    kinds = h.series.drop_duplicates("region").set_index("region")["region_kind"]
    assert kinds[SWEDEN] == "country" and kinds["01"] == "county"
    assert list(h.series["unique_id"].iloc[-4:]) == list(h.bottom["unique_id"])
    # without VG municipalities, county 14 does not occur and no VG regions are added
    only = build_hierarchy(bottom.iloc[:2], geography="sweden")
    assert set(only.series["region"]) == {"0114", "0180", "01", SWEDEN}
    # the default stays the VG hierarchy
    assert SWEDEN not in set(build_hierarchy(bottom).series["region"])
    with pytest.raises(KompetensprognosError, match="not Swedish municipalities"):
        build_hierarchy(pd.DataFrame({"municipality": ["0199"], "ssyk": ["251"]}), "sweden")


def test_split_panel_keeps_series_whole(small_panel: pd.DataFrame) -> None:
    chunks = split_panel(small_panel, chunk_size=40)
    ids = [set(c["unique_id"]) for c in chunks]
    assert all(len(i) == 40 for i in ids[:-1]) and sum(len(i) for i in ids) == 300
    assert not set.intersection(*ids[:2])
    assert len(split_panel(small_panel, n_chunks=3)) == 3
    assert len(split_panel(small_panel)) == 1


@pytest.mark.parametrize("method", ["theta", "drift"])
def test_partitioned_fit_equals_unchunked_fit(small_panel: pd.DataFrame, method: str) -> None:
    settings = {"horizon": 4, "method": method, "calibration_origins": 2}
    whole = Forecaster(**settings).fit(small_panel)
    parts = fit_partitioned(small_panel, chunk_size=37, **settings)
    assert parts.n_chunks_ == 9
    pd.testing.assert_frame_equal(parts.calibration_, whole.calibration_)
    pd.testing.assert_frame_equal(parts.predict(), whole.predict())


def test_partitioned_fit_rejects_parent_method(small_panel: pd.DataFrame) -> None:
    with pytest.raises(KompetensprognosError, match="cannot be partitioned"):
        fit_partitioned(small_panel, method="parent")


def test_national_demand_is_coherent_and_chunking_changes_nothing(national: Dataset) -> None:
    e = national.employment
    munis = sorted(e["region"].unique())[:6]
    tiny = Dataset(
        manifest=national.manifest,
        employment=e[e["region"].isin(munis) & e["ssyk"].str.startswith("5")],
    )
    cfg = DemandConfig(method="theta", calibration_origins=2, geography="sweden")
    res = DemandModel(cfg).fit(tiny)
    f = res.forecast.set_index(["region", "ssyk", "year"])["employed"]
    counties = res.forecast[
        (res.forecast["region_kind"] == "county") & (res.forecast["ssyk"] == "total")
    ]
    np.testing.assert_allclose(
        f.sort_index().loc[SWEDEN, "total"].to_numpy(),
        counties.groupby("year")["employed"].sum().sort_index().to_numpy(),
        rtol=1e-9,
    )
    assert (res.forecast["employed"] >= 0).all()
    chunked = DemandModel(cfg.model_copy(update={"chunk_size": 50})).fit(tiny)
    pd.testing.assert_frame_equal(chunked.forecast, res.forecast)

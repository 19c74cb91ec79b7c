"""Stock–flow labour supply: identity, rate recovery, coherence, contracts, older datasets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from kompetensprognos import regions
from kompetensprognos.dataset import Dataset
from kompetensprognos.errors import DataValidationError, KompetensprognosError
from kompetensprognos.labour_supply import (
    CHANNELS,
    SupplyConfig,
    SupplyModel,
    SupplyResult,
    missing_channels,
)
from kompetensprognos.schemas import FLOW_COLUMNS, check, validate_table

END = 2027


@pytest.fixture(scope="module")
def no_graduate_projection(demo_dataset: Dataset) -> Dataset:
    """The demo without education_output: graduates are held at their recent mean (fast)."""
    return dataclasses.replace(demo_dataset, education_output=None)


@pytest.fixture(scope="module")
def result(no_graduate_projection: Dataset) -> SupplyResult:
    return SupplyModel(SupplyConfig(end_year=END, n_sims=20)).fit(no_graduate_projection)


# --- the generator's stock–flow truth ------------------------------------------------------------


def test_demo_stock_changes_by_the_sum_of_its_flows(demo_dataset: Dataset) -> None:
    pe = demo_dataset.population_education
    keys = ["region", "sex", "type", "education"]
    stock = pe.groupby([*keys, "year"])["population"].sum().unstack("year")
    fl = demo_dataset.education_flows.set_index([*keys, "year"])
    sign = {"age_exits": -1, "deaths": -1, "further_study": -1, "out_movers": -1}
    net = sum(sign.get(f, 1) * fl[f] for f in FLOW_COLUMNS).unstack("year")
    years = [int(y) for y in net.columns]
    change = stock[years].to_numpy() - stock[[y - 1 for y in years]].to_numpy()
    diff = np.abs(change - net.reindex(stock.index)[years].to_numpy())
    assert diff.max() == 0  # published counts are exact
    # and the groups add up to the population table's ages 16–74
    pop = demo_dataset.population
    tot = (
        pop[pop["age"].between(16, 74) & (pop["year"] <= 2024)].groupby("year")["population"].sum()
    )
    assert np.allclose(pe.groupby("year")["population"].sum(), tot, rtol=1e-3)


def test_demo_new_tables_validate(demo_dataset: Dataset) -> None:
    for name in ("education_flows", "graduate_destinations", "crosswalk_entrants"):
        _, problems = validate_table(demo_dataset.tables()[name].astype(str), name)
        assert problems == [], (name, problems[:2])


def test_new_contracts_name_file_column_value_and_fix() -> None:
    bad = pd.DataFrame(
        {
            "region": ["1480", "1480"],
            "year": ["2020", "2020"],
            "sex": ["men", "women"],
            "type": ["forgymnasial", "gymnasium"],
            "education": ["9", "VO"],
            "age_entries": ["1", "-2"],
            "age_exits": "0", "deaths": "0", "graduates": "0", "further_study": "0",
            "in_movers": "0", "out_movers": "0",
        }
    )  # fmt: skip
    _, problems = validate_table(bad, "education_flows")
    text = "\n".join(map(str, problems))
    assert "education_flows.csv, column `education`" in text and "'0'" in text and "9" in text
    assert "column `age_entries`" in text and "negative count" in text
    with pytest.raises(DataValidationError, match="missing column"):
        check(bad.drop(columns="out_movers"), "education_flows")


# --- the model -----------------------------------------------------------------------------------


def test_missing_tables_are_named(demo_dataset: Dataset) -> None:
    old = dataclasses.replace(demo_dataset, labour_status=None, education_flows=None)
    assert missing_channels(old) == ["education_flows", "labour_status"]
    with pytest.raises(KompetensprognosError, match="education_flows, labour_status"):
        SupplyModel().fit(old)
    assert missing_channels(demo_dataset) == []


def test_projected_and_observed_flows_close(result: SupplyResult) -> None:
    f = result.supply_flows("skaraborg")
    net = f["population_end"] - f["population_start"]
    flows = (
        f["age_entries"] - f["age_exits"] - f["deaths"] + f["graduates"] - f["further_study"]
        + f["in_movers"] - f["out_movers"]
    )  # fmt: skip
    fc = f["kind"] == "forecast"
    assert np.allclose(net[fc], flows[fc], atol=1e-6)
    assert np.allclose(net[~fc], flows[~fc])  # the published counts close exactly


def test_regions_add_up_in_every_table(result: SupplyResult) -> None:
    def total(method: str, region: str, value: str) -> pd.Series:
        t = getattr(result, method)(region)
        keys = [c for c in ("type", "education", "ssyk", "channel", "year") if c in t.columns]
        return t.groupby(keys)[value].sum()

    for method, value in (
        ("labour_supply", "labour_supply"),
        ("supply_flows", "in_movers"),
        ("newcomers", "newcomers"),
    ):
        subs = sum(total(method, r, value) for r in regions.SUBREGION_IDS)
        whole = total(method, "delregionerna", value)
        rel = (subs - whole).abs() / whole.abs().clip(lower=1.0)
        assert rel.max() < 0.005, method
    county = total("labour_supply", "vastra-gotaland", "labour_supply")
    munis = sum(
        total("labour_supply", m, "labour_supply") for m in regions.members("vastra-gotaland")
    )
    assert np.allclose(county, munis)


def test_recovers_the_generators_death_and_age_exit_rates(
    demo_dataset: Dataset, result: SupplyResult
) -> None:
    from kompetensprognos.synthetic import _EDU_BAND_AGES, _mortality

    q = _mortality()
    q_band = np.array([q[lo : hi + 1].mean() for lo, hi in _EDU_BAND_AGES])
    pe = demo_dataset.population_education
    pe = pe[pe["year"].between(2014, 2023)]
    bands = pe.pivot_table(
        index=["type", "education"], columns="age", values="population", aggfunc="sum"
    )
    bands = bands[[f"{lo}-{hi}" for lo, hi in _EDU_BAND_AGES]]
    share = bands.div(bands.sum(axis=1), axis=0)
    true_death = (share * q_band).sum(axis=1)
    true_exit = share["65-74"] / 10
    est = result.rates.set_index(["type", "education"])
    big = (
        bands.sum(axis=1) / 10 > 20_000
    )  # small cells: counts rounded to whole people bias rates down
    assert np.allclose(est.loc[big[big].index, "deaths"], true_death[big], rtol=0.1)
    assert np.allclose(est.loc[big[big].index, "age_exits"], true_exit[big], rtol=0.1)


def test_labour_supply_observed_equals_labour_status(
    demo_dataset: Dataset, result: SupplyResult
) -> None:
    ls = result.labour_supply("fyrbodal")
    obs = ls[ls["kind"] == "observed"].groupby("year")["labour_supply"].sum()
    st = demo_dataset.labour_status
    st = st[st["region"].isin(regions.members("fyrbodal"))].groupby("year")["employed"].sum()
    assert np.allclose(obs, st)
    fc = ls[ls["kind"] == "forecast"]
    assert (fc["labour_supply_lo80"] <= fc["labour_supply"] + 1e-9).all()
    assert (fc["labour_supply_hi80"] >= fc["labour_supply"] - 1e-9).all()
    assert result.participation_method in ("constant", "trend")


def test_newcomers_have_every_channel(result: SupplyResult) -> None:
    nc = result.newcomers("sjuharad")
    assert set(nc["channel"]) == set(CHANNELS)
    assert (nc.groupby("channel")["newcomers"].sum() > 0).all()


def test_fit_until_an_origin_ignores_later_years(no_graduate_projection: Dataset) -> None:
    """A backtest origin must not see a later year: change every later row; nothing moves."""
    ds = no_graduate_projection
    origin = 2019
    spoiled = {}
    for name in ("population_education", "education_flows", "labour_status"):
        t = ds.tables()[name].copy()
        num = t.select_dtypes("number").columns.drop("year")
        t.loc[t["year"] > origin, num] *= 3
        spoiled[name] = t
    cfg = SupplyConfig(end_year=2024, n_sims=5, until=origin)
    a = SupplyModel(cfg).fit(ds)
    b = SupplyModel(cfg).fit(dataclasses.replace(ds, **spoiled))
    pd.testing.assert_frame_equal(a.labour_supply("skaraborg"), b.labour_supply("skaraborg"))
    assert a.last_observed == origin


def test_older_dataset_without_the_new_tables_still_loads(demo_dataset: Dataset, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from kompetensprognos.dataset import load_dataset, write_dataset

    new = ("population_education", "education_flows", "labour_status", "graduate_destinations",
           "crosswalk_entrants", "imbalance_truth")  # fmt: skip
    old = dataclasses.replace(
        demo_dataset,
        employment=demo_dataset.employment[demo_dataset.employment["ssyk"].str[:1] == "2"],
        **dict.fromkeys(new),
    )
    loaded = load_dataset(write_dataset(old, tmp_path / "old"))
    assert all(getattr(loaded, n) is None for n in new)
    assert missing_channels(loaded) == ["population_education", "education_flows", "labour_status"]


# --- the fit's array arithmetic --------------------------------------------------------------------


def test_cubes_equal_a_pandas_group_by(demo_dataset: Dataset) -> None:
    from kompetensprognos.labour_supply import _cubes
    from kompetensprognos.schemas import EDUCATION_AGE_BANDS

    ls = demo_dataset.labour_status
    ls = pd.concat([ls, ls.head(50).assign(employed=np.nan)])  # duplicates and missing values
    years = np.array([2016, 2020, 2024])
    base = sorted(ls["region"].unique())[:5]
    groups = pd.MultiIndex.from_frame(
        ls[["type", "education"]].drop_duplicates().sort_values(["type", "education"]).iloc[::3]
    )
    got = _cubes(ls, ["employed"], years, base, groups, bands=True)["employed"]
    keys = ["year", "region", "sex", "age", "type", "education"]
    s = ls.groupby(keys)["employed"].sum()
    full = pd.MultiIndex.from_product([years, base, ["men", "women"], list(EDUCATION_AGE_BANDS)])
    ref = s.unstack(["type", "education"]).reindex(columns=groups).reindex(full).fillna(0.0)
    np.testing.assert_allclose(got, ref.to_numpy().reshape(got.shape), rtol=1e-12)


def test_paths_do_not_depend_on_how_many_are_drawn(no_graduate_projection: Dataset) -> None:
    few = SupplyModel(SupplyConfig(end_year=END, n_sims=11, seed=4)).fit(no_graduate_projection)
    many = SupplyModel(SupplyConfig(end_year=END, n_sims=37, seed=4)).fit(no_graduate_projection)
    # path s draws the same numbers whatever the number of paths or the block it is computed in
    for name in ("draws_employed", "draws_in_movers", "draws_reentrants", "draws_graduates"):
        np.testing.assert_allclose(getattr(many, name)[:11], getattr(few, name), rtol=1e-12)
    assert not np.allclose(many.draws_employed[0], many.draws_employed[1])

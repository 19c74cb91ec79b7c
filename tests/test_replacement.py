"""Tests for replacement demand by the cohort method (kompetensprognos.replacement)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kompetensprognos import replacement as rep
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.schemas import AGE_BANDS

MID_CAREER = ["35-39", "40-44", "45-49"]


@pytest.fixture(scope="module")
def county_age(demo_dataset) -> pd.DataFrame:
    ea = demo_dataset.employment_age
    return ea[ea["region"] == "14"].copy()


@pytest.fixture(scope="module")
def rates(county_age) -> pd.DataFrame:
    return rep.estimate_exit_rates(county_age)


def _total(rates: pd.DataFrame, column: str = "exit_rate") -> pd.Series:
    return rates[rates["ssyk"] == "total"].set_index("age")[column]


# --- exit rates --------------------------------------------------------------------------------


def test_rate_table_shape(rates):
    assert list(rates.columns)[:4] == ["ssyk", "ssyk_level", "age", "exit_rate"]
    assert set(rates["ssyk_level"]) == {0, 1, 2, 3}
    assert (rates.groupby("ssyk").size() == len(AGE_BANDS)).all()
    assert rates["exit_rate"].between(0, 1).all()
    assert rates["weight"].between(0, 1).all()
    assert (rates.loc[rates["ssyk_level"] == 0, "weight"] == 1).all()
    assert (rates["se"] > 0).all()


def test_rates_recover_generator_pattern(rates, county_age):
    """Older bands match the generator's exit rates, restated in the estimator's convention."""
    from kompetensprognos.synthetic import _AGEING, _EXIT

    est = _total(rates)
    # generator: exits hit the band a person is in at the start of the year; the estimator
    # applies the band's rate to the stock after ageing, so movers from b-1 bring b-1's rate
    stock = county_age.groupby(["year", "age"])["employed"].sum().unstack()
    implied = {}
    for b, band in enumerate(AGE_BANDS[1:], start=1):
        years = [2023] if band == "65-69" else list(range(2014, 2022))
        n = stock.loc[years].mean()
        stay = (1 - _AGEING[b]) * n[band]
        inflow = _AGEING[b - 1] * n[AGE_BANDS[b - 1]]
        implied[band] = (_EXIT[b] * stay + _EXIT[b - 1] * inflow) / (stay + inflow)
    for band in ("55-59", "60-64", "65-69"):
        assert est[band] == pytest.approx(implied[band], rel=0.3), band
    # the retirement peak: 65-69 > 60-64 > 55-59 > mid-career, each clearly
    assert est["65-69"] > 2 * est["60-64"] > 2 * est["55-59"]
    assert est["55-59"] > est[MID_CAREER].max() + 0.01
    # mid-career: low (net of entrants, so at or below the generator's 2-3 % gross rate)
    assert (est[MID_CAREER] < 0.015).all()
    # young bands are net entry: no replacement, a positive entry rate
    assert est["16-24"] == 0 and _total(rates, "entry_rate")["16-24"] > 0.1


def test_occupation_rates_vary_and_shrink(rates):
    s3 = rates[rates["ssyk_level"] == 3]
    older = s3[s3["age"] == "60-64"]
    assert older["exit_rate"].std() > 0  # not all pooled to one number
    # shrinkage pulls each rate between its raw rate and its parent's
    parent = rates[rates["ssyk_level"] == 2].set_index(["ssyk", "age"])["net_rate"]
    p = parent.reindex(list(zip(older["ssyk"].str[:2], older["age"], strict=True))).to_numpy()
    lo = np.minimum(older["raw_rate"], p) - 1e-12
    hi = np.maximum(older["raw_rate"], p) + 1e-12
    assert ((older["net_rate"] >= lo) & (older["net_rate"] <= hi)).all()
    # bigger occupations get more weight on their own data
    assert older["weight"].corr(older["exposure"], method="spearman") > 0.5


def test_small_counts_take_parent_rate(county_age):
    rates = rep.estimate_exit_rates(county_age, min_count=1e7)
    s3 = rates[rates["ssyk_level"] == 3].set_index(["ssyk", "age"])
    top = _total(rates, "net_rate")
    assert (s3["weight"] == 0).all()
    np.testing.assert_allclose(
        s3["net_rate"].to_numpy(), top.reindex(s3.index.get_level_values("age")).to_numpy()
    )


def test_break_transition_is_not_used(county_age, rates):
    """A level break in 2023 (here: every count from 2023 cut by 15 %) leaves the rates as they
    are; using the 2022 → 2023 transition would read the break as exits."""
    shifted = county_age.copy()
    shifted.loc[shifted["year"] >= 2023, "employed"] *= 0.85
    robust = rep.estimate_exit_rates(shifted)
    # only the 2023 → 2024 transition sees the shift, and it is a ratio: rates barely move
    np.testing.assert_allclose(robust["exit_rate"], rates["exit_rate"], atol=2e-3)
    naive = rep.estimate_exit_rates(shifted, break_years=())
    for band in ("45-49", "55-59", "60-64"):
        assert _total(naive)[band] > _total(rates)[band] + 0.005, band


def test_65_69_only_from_2023_and_scb_spelling():
    """Band 65-69 is estimated from 2023 → 2024 only; SCB's '065-69' and zero rows before 2023
    (band outside the register) are understood; before 2023 ageing out of 60-64 is an exit."""
    rows = []
    for year in range(2019, 2025):
        for band in AGE_BANDS:
            n = 1000.0
            if band == "65-69":
                n = 0.0 if year < 2023 else 400.0 * (1.0 if year == 2023 else 0.8 * 1.0)
            rows.append(("00", "251", "065-69" if band == "65-69" else band, year, n))
    df = pd.DataFrame(rows, columns=["region", "ssyk", "age", "year", "employed"])
    rates = rep.estimate_exit_rates(df)
    top = rates[rates["ssyk"] == "total"].set_index("age")
    assert top.loc["65-69", "n_obs"] == 1
    # expected 65-69 in 2024 = 0.8 * 400 + 0.2 * 1000 = 520, observed 320
    assert top.loc["65-69", "exit_rate"] == pytest.approx(1 - 320 / 520)
    # a constant 60-64 band of 1000 with 1/5 ageing in and 1/5 out: no exits counted in-band
    assert top.loc["60-64", "exit_rate"] == pytest.approx(0.0)
    assert top.loc["60-64", "n_obs"] == 4  # 2019→…→2022 and 2023→2024, not 2022→2023


def test_prior_when_65_69_never_observed(county_age):
    old = county_age[county_age["year"] <= 2022]
    rates = rep.estimate_exit_rates(old)
    top = _total(rates, "net_rate")
    assert top["65-69"] == rep.PRIOR_EXIT_RATES["65-69"]
    assert (rates.loc[rates["age"] == "65-69", "source"] == "prior").all()


def test_input_errors(county_age):
    bad = county_age.assign(ssyk=county_age["ssyk"].map(lambda c: int(c)))
    with pytest.raises(KompetensprognosError, match="codes must be text"):
        rep.estimate_exit_rates(bad)
    with pytest.raises(KompetensprognosError, match="age bands must be"):
        rep.estimate_exit_rates(county_age.assign(age="70-74"))
    with pytest.raises(KompetensprognosError, match="missing column"):
        rep.estimate_exit_rates(county_age.drop(columns="employed"))


# --- projection --------------------------------------------------------------------------------


def _tiny_rates(rate: float) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "ssyk": "total",
            "age": list(AGE_BANDS),
            "exit_rate": rate,
            "net_rate": rate,
            "entry_rate": [0.2] + [0.0] * 9,
            "exposure": 1000.0,
            "se": 0.01,
        }
    )


def test_projection_mechanics():
    structure = pd.DataFrame(
        {"region": "x", "ssyk": "251", "age": list(AGE_BANDS), "employed": 100.0}
    )
    out = rep.project_replacement(structure, _tiny_rates(0.1), 2025, 2027)
    assert list(out.columns) == ["region", "ssyk", "year", "replacement"]
    assert out["year"].tolist() == [2025, 2026, 2027]
    # year 1: 10 % of the aged stock (1000 minus the 20 ageing out of 65-69) + those 20
    assert out["replacement"].iloc[0] == pytest.approx(0.1 * 980 + 20)
    # 16-64 structure (before 2023): ageing out of 60-64 is an exit
    young = structure[structure["age"] != "65-69"]
    none = rep.project_replacement(young, _tiny_rates(0.0), 2020, 2020)
    assert none["replacement"].iloc[0] == pytest.approx(100 / 5)


def test_totals_path_rescales(demo_dataset, rates):
    structure = rep.age_structure(demo_dataset, "skaraborg", 2024)
    const = rep.project_replacement(structure, rates, 2025, 2030)
    level = structure.groupby("ssyk")["employed"].sum()
    path = pd.concat(
        [
            pd.DataFrame(
                {
                    "region": "skaraborg",
                    "ssyk": level.index.to_numpy(),
                    "year": y,
                    "employed": level.to_numpy() * g,
                }
            )
            for y, g in zip(range(2024, 2031), np.linspace(1.0, 1.3, 7), strict=True)
        ]
    )
    grown = rep.project_replacement(structure, rates, 2025, 2030, totals=path)
    assert grown["replacement"].iloc[0] == pytest.approx(const["replacement"].iloc[0])
    # growth comes in as young entrants, who rarely leave within the period: a little more
    assert (
        const["replacement"].sum() < grown["replacement"].sum() < const["replacement"].sum() * 1.05
    )
    halved = path.assign(employed=path["employed"] * 0.5)
    half = rep.project_replacement(structure, rates, 2025, 2025, totals=halved)
    first = const[const["year"] == 2025]["replacement"].sum()
    assert half["replacement"].sum() == pytest.approx(0.5 * first)


def test_demand_is_coherent_across_levels(demo_dataset):
    out = rep.replacement_demand(demo_dataset, "skaraborg", 2023, 2030)
    assert list(out.columns) == [
        "region",
        "ssyk",
        "ssyk_level",
        "period_start",
        "period_end",
        "replacement",
    ]
    by_level = out.groupby("ssyk_level")["replacement"].sum()
    np.testing.assert_allclose(by_level.to_numpy(), by_level.iloc[0])
    s3 = out[out["ssyk_level"] == 3]
    s2 = out[out["ssyk_level"] == 2].set_index("ssyk")["replacement"]
    np.testing.assert_allclose(s3.groupby(s3["ssyk"].str[:2])["replacement"].sum(), s2)
    assert (s3["replacement"] >= 0).all() and (out["replacement"] > 0).mean() > 0.95
    yearly = rep.replacement_by_year(demo_dataset, "skaraborg", 2023, 2030)
    assert sorted(yearly["year"].unique()) == list(range(2023, 2031))
    total = yearly[yearly["ssyk"] == "total"]["replacement"].sum()
    assert total == pytest.approx(out.loc[out["ssyk"] == "total", "replacement"].iloc[0])


def test_replacement_is_highest_where_workforce_is_oldest(demo_dataset):
    start, end = 2025, 2030
    out = rep.replacement_demand(demo_dataset, "vastra-gotaland", start, end)
    older = rep.older_workforce_share(demo_dataset, "vastra-gotaland", 2024)
    s3 = out[out["ssyk_level"] == 3].merge(older, on=["region", "ssyk"])
    s3 = s3[s3["employed"] >= 200]
    rate = s3["replacement"] / s3["employed"] / (end - start + 1)
    assert rate.corr(s3["share_55plus"]) > 0.6

    def overall(region: str) -> tuple[float, float]:
        d = rep.replacement_demand(demo_dataset, region, start, end)
        o = rep.older_workforce_share(demo_dataset, region, 2024)
        employed = o["employed"].sum()
        share = (o["share_55plus"].fillna(0) * o["employed"]).sum() / employed
        return share, d.loc[d["ssyk"] == "total", "replacement"].iloc[0] / employed

    stats = {r: overall(r) for r in ("fyrbodal", "goteborgsregionen", "sjuharad", "skaraborg")}
    oldest = max(stats, key=lambda r: stats[r][0])
    assert oldest != "goteborgsregionen"
    assert stats[oldest][1] > stats["goteborgsregionen"][1] * 1.05


def test_age_structure_regions_and_fallback(demo_dataset):
    county = rep.age_structure(demo_dataset, "vastra-gotaland", 2024)
    ea = demo_dataset.employment_age
    assert (
        county["employed"].sum()
        == ea[(ea["region"] == "14") & (ea["year"] == 2024)]["employed"].sum()
    )
    parts = sum(
        rep.age_structure(demo_dataset, r, 2024)["employed"].sum()
        for r in ("fyrbodal", "goteborgsregionen", "sjuharad", "skaraborg")
    )
    assert rep.age_structure(demo_dataset, "delregionerna", 2024)["employed"].sum() == parts
    # a municipality has no age rows: county age shares × its own employment
    muni = rep.age_structure(demo_dataset, "1480", 2024)
    emp = demo_dataset.employment
    own = emp[(emp["region"] == "1480") & (emp["year"] == 2024)]["employed"].sum()
    assert muni["employed"].sum() == pytest.approx(own)
    m = muni[muni["ssyk"] == "251"].set_index("age")["employed"]
    c = county[county["ssyk"] == "251"].set_index("age")["employed"]
    np.testing.assert_allclose(m / m.sum(), c / c.sum())
    # before 2023 there is no 65-69 band
    assert "65-69" not in set(rep.age_structure(demo_dataset, "fyrbodal", 2020)["age"])
    with pytest.raises(KompetensprognosError, match="no year"):
        rep.age_structure(demo_dataset, "fyrbodal", 2010)


def test_older_workforce_share(demo_dataset):
    o = rep.older_workforce_share(demo_dataset, "skaraborg")
    assert list(o.columns) == ["region", "ssyk", "share_55plus", "employed"]
    assert o["share_55plus"].dropna().between(0, 1).all()
    assert 0.1 < (o["share_55plus"].fillna(0) * o["employed"]).sum() / o["employed"].sum() < 0.3


def test_simulation(demo_dataset):
    sims = rep.simulate_replacement(demo_dataset, "fyrbodal", 2025, 2030, n_sims=300, seed=1)
    assert list(sims.columns) == ["region", "ssyk", "sim", "replacement"]
    assert sims["sim"].nunique() == 300 and (sims["replacement"] >= 0).all()
    again = rep.simulate_replacement(demo_dataset, "fyrbodal", 2025, 2030, n_sims=300, seed=1)
    pd.testing.assert_frame_equal(sims, again)
    point = rep.replacement_demand(demo_dataset, "fyrbodal", 2025, 2030)
    point = point[point["ssyk_level"] == 3].set_index("ssyk")["replacement"]
    q = sims.groupby("ssyk")["replacement"].quantile([0.1, 0.9]).unstack()
    mean = sims.groupby("ssyk")["replacement"].mean()
    big = point[point > 50].index
    np.testing.assert_allclose(mean[big], point[big], rtol=0.1)
    inside = (q.loc[big, 0.1] <= point[big]) & (point[big] <= q.loc[big, 0.9])
    assert inside.mean() > 0.9
    assert (q.loc[big, 0.9] > q.loc[big, 0.1]).all()


# --- real data ---------------------------------------------------------------------------------


@pytest.mark.shared
def test_national_panel_rates_are_plausible(shared_dir: Path):
    path = shared_dir / "data" / "scb" / "employment_ssyk_age_sex_sweden_2014_2024.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    raw = pd.read_csv(path, dtype={"ssyk_code": str, "level": str, "age": str})
    s3 = raw[raw["level"] == "SSYK3"].rename(columns={"ssyk_code": "ssyk", "count": "employed"})
    panel = s3.assign(region="00")[["region", "ssyk", "age", "sex", "year", "employed"]]
    rates = rep.estimate_exit_rates(panel)
    top = _total(rates)
    # net rates (the register gains people with a newly known occupation at every age, so
    # net exits sit below gross retirements): low until 60, then rising steeply
    assert (top[MID_CAREER] < 0.03).all()
    assert top["55-59"] < top["60-64"] < top["65-69"]
    assert 0.02 < top["60-64"] < 0.15
    assert 0.1 < top["65-69"] < 0.5
    assert top["65-69"] > 3 * top["60-64"]
    assert _total(rates, "n_obs")["65-69"] == 1
    # the age-based prior is what the national panel shows
    for band in ("55-59", "60-64", "65-69"):
        assert top[band] == pytest.approx(rep.PRIOR_EXIT_RATES[band], abs=0.02)
    s3r = rates[(rates["ssyk_level"] == 3) & (rates["age"] == "60-64")]
    assert s3r["exit_rate"].between(0.0, 0.4).all()
    assert s3r["weight"].median() > 0.05  # national counts are large: occupations speak


def _panel(
    rates_5559: dict[str, float], size: float, rng: np.random.Generator | None
) -> pd.DataFrame:
    """Steady stocks per occupation and band; band 55-59 loses ``rate`` a year beyond ageing,
    observed exactly (``rng`` None) or as yearly Poisson counts as in a register."""
    rows = []
    years = range(2014, 2023)
    for code, r in rates_5559.items():
        stock = np.full(len(AGE_BANDS), size)
        for y in years:
            for b, band in enumerate(AGE_BANDS[:-1]):
                val = stock[b] * ((1 - r) ** (y - 2014) if band == "55-59" else 1.0)
                n = float(rng.poisson(val)) if rng is not None else val
                rows.append({"region": "14", "ssyk": code, "age": band, "year": y, "employed": n})
    return pd.DataFrame(rows)


def test_exit_rate_shrinkage_follows_signal_to_noise():
    """Why the demo's occupation exit rates are nearly equal (weight ≈ 0.001): its occupations'
    true rates differ by about ±15 % of the band's rate while yearly register counts carry
    Poisson noise many times larger. Empirical Bayes gives the occupation's own rate weight only
    where the between-occupation spread exceeds that noise."""
    codes = [f"{g}{i}" for g in ("21", "22") for i in range(1, 7)]  # two SSYK 2 groups
    clear = {c: 0.02 + 0.02 * (i % 6) for i, c in enumerate(codes)}  # 2–12 %: a real spread
    close = {c: 0.03 * (1 + 0.05 * ((i % 3) - 1)) for i, c in enumerate(codes)}  # ±5 %
    rng = np.random.default_rng(0)
    strong = rep.estimate_exit_rates(_panel(clear, 2000.0, rng))
    weak = rep.estimate_exit_rates(_panel(close, 300.0, rng))

    def w(r: pd.DataFrame) -> float:
        return float(r[(r["ssyk_level"] == 3) & (r["age"] == "55-59")]["weight"].median())

    assert w(strong) > 0.8
    assert w(weak) < 0.2

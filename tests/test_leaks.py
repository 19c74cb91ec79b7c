"""Backtests must not see the future: poison every year after an origin and the origin's
forecasts must not move (and poisoning a year the origin does know must move them, so each
test can fail)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.backtesting import rolling_origin
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandConfig, backtest_demand, latest_basis
from kompetensprognos.education import (
    _SEP,
    _cohort_predictor,
    _education_base,
    _gym_predictor,
    _population_by_region,
    _PopulationVintages,
)

ORIGIN = 2019
POISON = 1000.0


def _poison(frame: pd.DataFrame, column: str, after: int) -> pd.DataFrame:
    out = frame.copy()
    out.loc[out["year"] > after, column] *= POISON
    return out


# --- the generic routine ------------------------------------------------------------------------


def test_rolling_origin_statistics_use_only_the_past() -> None:
    panel = pd.DataFrame({"unique_id": "a", "ds": range(2014, 2025), "y": np.arange(11.0) ** 1.5})
    seen: list[int] = []

    def predict(cutoff: int, h: int) -> pd.DataFrame:
        seen.append(cutoff)
        y = panel.loc[panel["ds"] == cutoff, "y"].iloc[0]
        return pd.DataFrame({"unique_id": "a", "ds": range(cutoff + 1, cutoff + h + 1),
                             "forecast": y})  # fmt: skip

    poisoned = panel.assign(y=np.where(panel["ds"] > ORIGIN, 1e9, panel["y"]))
    a = rolling_origin(predict, panel, [ORIGIN], 3)
    b = rolling_origin(predict, poisoned, [ORIGIN], 3)
    cols = ["last", "slope", "scale", "scale2", "iscale", "forecast"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert (b["y"] == 1e9).all()  # the actuals are the poisoned ones: they are only scored
    assert seen == [ORIGIN, ORIGIN]


# --- graduates: the population an origin could know ----------------------------------------------


@pytest.fixture(scope="module")
def education(demo_dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    pop = _population_by_region(demo_dataset)
    eo = _education_base(demo_dataset)
    return pop, eo.assign(unique_id=eo["region"] + _SEP + eo["type"] + _SEP + eo["education"])


def _gym_forecast(pop: pd.DataFrame, eo: pd.DataFrame, **kw: bool) -> pd.DataFrame:
    gym = eo[eo["type"] == "gymnasium"]
    vintages = _PopulationVintages(pop, last_observed=2024)
    return _gym_predictor(gym, vintages, **kw)(ORIGIN, 5).sort_values(["unique_id", "ds"])


@pytest.mark.parametrize("kw", [{"observed_starters": True}, {"use_starters": False}])
def test_gymnasium_backtest_does_not_see_later_population(
    education: tuple[pd.DataFrame, pd.DataFrame], kw: dict[str, bool]
) -> None:
    pop, eo = education
    clean = _gym_forecast(pop, eo, **kw)
    later = _gym_forecast(_poison(pop, "population", ORIGIN), eo, **kw)
    assert clean["ds"].max() == ORIGIN + 5  # cohorts after the origin are used ...
    pd.testing.assert_frame_equal(clean, later)  # ... but only as the origin could know them
    known = _gym_forecast(_poison(pop, "population", ORIGIN - 1), eo, **kw)
    assert not np.allclose(known["forecast"], clean["forecast"])  # the test has power


def test_cohort_rate_backtest_does_not_see_later_population(
    education: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    pop, eo = education
    higher = eo[eo["type"] == "higher"].rename(columns={"year": "ds", "graduates": "y"})
    panel = higher[["unique_id", "ds", "y"]].sort_values(["unique_id", "ds"])

    def run(p: pd.DataFrame) -> pd.DataFrame:
        pred = _cohort_predictor(panel, _PopulationVintages(p, last_observed=2024), "drift")
        return pred(ORIGIN, 4).sort_values(["unique_id", "ds"]).reset_index(drop=True)

    clean = run(pop)
    pd.testing.assert_frame_equal(clean, run(_poison(pop, "population", ORIGIN)))
    assert not np.allclose(
        clean["forecast"], run(_poison(pop, "population", ORIGIN - 1))["forecast"]
    )


def test_final_forecast_uses_the_projection() -> None:
    pop = pd.DataFrame({"region": "r", "year": [2024, 2025], "age": [15, 16],
                        "population": [100.0, 90.0]})  # fmt: skip
    v = _PopulationVintages(pop, last_observed=2024)
    assert v.n16(2024)["r"].to_dict() == {2025: 90.0}  # the projection row, as given
    assert "r" not in v.n16(2023)  # nothing at 2023 to age from
    aged = _PopulationVintages(pop.assign(year=[2023, 2025]), last_observed=2024)
    assert aged.n16(2023)["r"].get(2024) == 100.0  # 15-year-olds of 2023, one year older


# --- demand: break factors and data only up to the origin ----------------------------------------


@pytest.fixture(scope="module")
def tiny(demo_dataset: Dataset) -> Dataset:
    e = demo_dataset.employment
    return Dataset(manifest=demo_dataset.manifest, employment=e[e["ssyk"].str[:2] == "82"])


def test_break_factors_come_from_years_up_to_the_origin(tiny: Dataset) -> None:
    origin = 2021  # after the 2020 break, before the 2023 one
    poisoned = Dataset(
        manifest=tiny.manifest, employment=_poison(tiny.employment, "employed", origin)
    )
    _, adj, f = latest_basis(tiny, until=origin)
    _, adj_p, f_p = latest_basis(poisoned, until=origin)
    assert set(f["break_year"]) == {2020}
    pd.testing.assert_frame_equal(f, f_p)
    pd.testing.assert_frame_equal(adj, adj_p)


def test_demand_backtest_origin_does_not_see_later_years(tiny: Dataset) -> None:
    origin = 2021
    cfg = DemandConfig(method="theta", calibration_origins=2)
    poisoned = Dataset(
        manifest=tiny.manifest, employment=_poison(tiny.employment, "employed", origin)
    )
    kw = {"config": cfg, "origins": [origin], "regions_": ["skaraborg", "fyrbodal"]}
    a = backtest_demand(tiny, **kw)
    b = backtest_demand(poisoned, **kw)
    keys = ["model", "region", "ssyk", "origin", "horizon"]
    cols = ["forecast", "lo80", "hi80", "last", "scale"]
    a, b = a.sort_values(keys).reset_index(drop=True), b.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[keys + cols], b[keys + cols])
    assert (b["y"] > 100 * a["y"]).any()  # the poisoned actuals were scored
    # the truth after the origin is on the origin's basis: the later (2023) break is taken out
    assert set(a["origin"]) == {origin} and a["horizon"].max() == 3

"""Tests for the balance between new-entrant supply and recruitment need (balance.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest

from kompetensprognos.balance import (
    BALANCE_COLUMNS,
    EDUCATION_BALANCE_COLUMNS,
    STATUS_NOT_COVERED,
    STATUS_TOO_SMALL,
    BalanceParams,
    af_assessment,
)
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandConfig, DemandModel, DemandResult
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.graduates_balance import (
    classify,
    education_balance,
    graduates_only_balance_tables,
    occupation_balance,
    shortage_probability,
)
from kompetensprognos.params import Params

N_SIMS = 400


def _need(codes: list[str], values: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"region": "skaraborg", "ssyk": codes, "period_start": 2023, "period_end": 2030,
         "recruitment_need": values}
    )  # fmt: skip


def _sims(codes: list[str], draws: np.ndarray, value: str) -> pd.DataFrame:
    """Long frame ``ssyk, sim, <value>`` from a ``(len(codes), n_sims)`` array."""
    n = draws.shape[1]
    return pd.DataFrame(
        {"ssyk": np.repeat(codes, n), "sim": np.tile(np.arange(n), len(codes)),
         value: draws.ravel()}
    )  # fmt: skip


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"shortage": 0.8},
        {"shortage_below": 1.2, "surplus_above": 1.1},
        {"min_need": -1},
        {"af_region": "014"},
    ],
)
def test_params_reject_unknown_keys_and_bad_values(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        BalanceParams.model_validate(bad)


def test_params_frozen_and_embedded_in_report_params() -> None:
    p = BalanceParams()
    assert (p.shortage_below, p.surplus_above, p.min_need, p.af_region) == (0.9, 1.1, 10.0, "14")
    with pytest.raises(pydantic.ValidationError):
        p.min_need = 5  # type: ignore[misc]
    rp = Params.model_validate({"region": "fyrbodal", "balance": {"shortage_below": 0.8}})
    assert isinstance(rp.balance, BalanceParams) and rp.balance.shortage_below == 0.8
    with pytest.raises(pydantic.ValidationError):
        Params.model_validate({"region": "fyrbodal", "balance": {"treshold": 0.8}})


# --- arithmetic --------------------------------------------------------------------------------


def test_classify_ratio_gap_and_thresholds() -> None:
    f = pd.DataFrame(
        {
            "recruitment_need": [100.0, 100.0, 100.0, 100.0, 100.0, 9.9, 0.0, 50.0],
            "new_entrants": [89.9, 90.0, 110.0, 110.1, 300.0, 100.0, 5.0, 0.0],
            "supply_covered": [True] * 7 + [False],
        }
    )
    out = classify(f)
    np.testing.assert_allclose(
        out["balance_ratio"].iloc[:6], [0.899, 0.9, 1.1, 1.101, 3.0, 100 / 9.9]
    )
    assert np.isnan(out["balance_ratio"].iloc[6])  # no need: no ratio
    np.testing.assert_allclose(out["gap"], f["new_entrants"] - f["recruitment_need"])
    assert out["status"].tolist() == [
        "brist", "balans", "balans", "överskott", "överskott",
        STATUS_TOO_SMALL, STATUS_TOO_SMALL, STATUS_NOT_COVERED,
    ]  # fmt: skip
    strict = classify(f, BalanceParams(shortage_below=1.0, surplus_above=1.0, min_need=0))
    assert strict["status"].iloc[:3].tolist() == ["brist", "brist", "överskott"]
    assert strict["status"].iloc[5] == "överskott"


def test_shortage_probability_from_known_draws() -> None:
    rng = np.random.default_rng(3)
    need = rng.normal(100, 10, (1, 20_000))
    supply = rng.normal(90, 10, (1, 20_000))
    # P(S < N) = Φ(10 / √200) ≈ 0.760
    assert shortage_probability(need, supply)[0] == pytest.approx(0.760, abs=0.01)
    assert shortage_probability(np.full((1, 4), 5.0), np.full((1, 4), 5.0))[0] == 0.0
    with pytest.raises(KompetensprognosError, match="same n_sims"):
        shortage_probability(need, supply[:, :10])


# --- occupations and levels --------------------------------------------------------------------


@pytest.fixture(scope="module")
def toy() -> dict[str, pd.DataFrame]:
    """Four SSYK 3 occupations with normal draws; 532 has no feeding education."""
    rng = np.random.default_rng(0)
    codes = ["222", "223", "531", "532"]
    mean_need = np.array([100.0, 60.0, 40.0, 30.0])
    mean_sup = np.array([90.0, 80.0, 41.0])
    n_draws = mean_need[:, None] + rng.normal(0, 10, (4, N_SIMS))
    s_draws = mean_sup[:, None] + rng.normal(0, 10, (3, N_SIMS))
    return {
        "need": _need(codes, mean_need.tolist()),
        "supply": pd.DataFrame({"ssyk": codes[:3], "new_entrants": mean_sup}),
        "need_sims": _sims(codes, n_draws, "recruitment_need"),
        "supply_sims": _sims(codes[:3], s_draws, "new_entrants"),
    }


def test_occupation_balance_levels_are_coherent(toy: dict[str, pd.DataFrame]) -> None:
    b = occupation_balance(toy["need"], toy["supply"], toy["need_sims"], toy["supply_sims"])
    assert list(b.columns[: len(BALANCE_COLUMNS)]) == BALANCE_COLUMNS
    assert list(b.columns[len(BALANCE_COLUMNS) :]) == [
        "ssyk_level",
        "supply_covered",
        "covered_share",
    ]
    assert b["ssyk"].tolist() == ["total", "2", "5", "22", "53", "222", "223", "531", "532"]
    by = b.set_index("ssyk")
    for parent, children in {"22": ["222", "223"], "53": ["531", "532"], "2": ["22"],
                             "5": ["53"], "total": ["2", "5"]}.items():  # fmt: skip
        for col in ("recruitment_need", "new_entrants", "gap"):
            assert by.loc[parent, col] == pytest.approx(by.loc[children, col].sum())
    assert by.loc["22", "balance_ratio"] == pytest.approx(170 / 160)
    # p_shortage of a group is recomputed from the summed paths, not averaged
    n = toy["need_sims"].pivot(index="ssyk", columns="sim", values="recruitment_need")
    s = toy["supply_sims"].pivot(index="ssyk", columns="sim", values="new_entrants")
    expected = float((s.loc[["222", "223"]].sum() < n.loc[["222", "223"]].sum()).mean())
    assert by.loc["22", "p_shortage"] == pytest.approx(expected)
    assert by.loc["222", "p_shortage"] == pytest.approx(float((s.loc["222"] < n.loc["222"]).mean()))
    # the occupation without a feeding education is marked, not called a shortage
    assert by.loc["532", "status"] == STATUS_NOT_COVERED
    assert not by.loc["532", "supply_covered"] and np.isnan(by.loc["532", "p_shortage"])
    assert by.loc["53", "covered_share"] == pytest.approx(40 / 70)
    assert by.loc["53", "status"] == "brist" and by.loc["53", "supply_covered"]
    assert by.loc["222", "status"] == "balans" and by.loc["223", "status"] == "överskott"
    assert (b["period_start"] == 2023).all() and (b["region"] == "skaraborg").all()


def test_occupation_balance_rejects_mismatched_paths(toy: dict[str, pd.DataFrame]) -> None:
    few = toy["supply_sims"][toy["supply_sims"]["sim"] < 10]
    with pytest.raises(KompetensprognosError, match="same n_sims"):
        occupation_balance(toy["need"], toy["supply"], toy["need_sims"], few)


# --- education groups --------------------------------------------------------------------------


def test_education_allocation_preserves_need() -> None:
    codes = ["222", "223", "531", "532"]
    need = _need(codes, [100.0, 60.0, 40.0, 30.0])
    cw = pd.DataFrame(
        {
            "type": ["higher", "higher", "yh", "yh", "gymnasium", "gymnasium"],
            "education": ["72", "72", "72", "72", "VO", "VO"],
            "ssyk": ["2221", "2231", "2221", "5311", "5311", "0002"],
            "share": [0.5, 0.5, 0.4, 0.6, 0.7, 0.3],
        }
    )
    ent = pd.DataFrame(
        {"type": ["higher", "yh", "gymnasium"], "education": ["72", "72", "VO"],
         "new_entrants": [100.0, 50.0, 20.0]}
    )  # fmt: skip
    rng = np.random.default_rng(1)
    n_draws = np.array([100.0, 60, 40, 30])[:, None] + rng.normal(0, 5, (4, 50))
    ent_sims = pd.concat([ent.assign(sim=s, new_entrants=ent["new_entrants"] + s % 3)
                          for s in range(50)])  # fmt: skip
    out = education_balance(need, ent, cw, _sims(codes, n_draws, "recruitment_need"), ent_sims)
    assert list(out.columns) == EDUCATION_BALANCE_COLUMNS
    # 532 is fed by no education: everything else is allocated, nothing created or lost
    assert out["recruitment_need"].sum() == pytest.approx(100 + 60 + 40)
    e = out.set_index(["type", "education"])["recruitment_need"]
    # 222: higher/72 brings 50, yh/72 brings 20 → 100 × 50/70 and 100 × 20/70
    assert e[("higher", "72")] == pytest.approx(100 * 50 / 70 + 60)
    assert e[("yh", "72")] == pytest.approx(100 * 20 / 70 + 40 * 30 / 44)
    assert e[("gymnasium", "VO")] == pytest.approx(40 * 14 / 44)
    # entrants counted are those reaching occupations of the need table (not yrke okänt)
    ne = out.set_index(["type", "education"])["new_entrants"]
    assert ne[("gymnasium", "VO")] == pytest.approx(14.0)
    assert out["p_shortage"].between(0, 1).all()


# --- Arbetsförmedlingen ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def yrkesbarometer() -> pd.DataFrame:
    rows = [
        ("14", "2221", "brist", "2025-2"), ("14", "2222", "brist", "2025-2"),
        ("14", "2231", "balans", "2025-2"), ("14", "5311", "överskott", "2025-2"),
        ("14", "5312", "balans", "2025-2"),
        ("14", "2221", "balans", "2024-2"),  # older round: ignored
        ("13", "5311", "brist", "2025-2"),  # Halland: another county
        ("00", "2221", "balans", "2025-2"),
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["region", "ssyk", "status", "round"])
    return df.assign(occupation="x", outlook=None)


def test_af_assessment_maps_ssyk4_to_our_levels(yrkesbarometer: pd.DataFrame) -> None:
    af = af_assessment(yrkesbarometer, ["total", "2", "22", "222", "223", "53", "531", "532"])
    got = af.set_index("ssyk")
    assert got.loc["222", "af_status"] == "brist" and got.loc["222", "af_n"] == 2
    assert got.loc["22", "af_status"] == "brist" and got.loc["22", "af_n"] == 3
    assert got.loc["531", "af_status"] == "balans" and got.loc["531", "af_n"] == 2  # tie
    assert got.loc["532", "af_n"] == 0 and pd.isna(got.loc["532", "af_status"])
    assert got.loc["total", "af_n"] == 5
    national = af_assessment(yrkesbarometer, ["222"], county="00")
    assert national["af_status"].tolist() == ["balans"]


def test_occupation_balance_shows_af_beside_ours(
    toy: dict[str, pd.DataFrame], yrkesbarometer: pd.DataFrame
) -> None:
    b = occupation_balance(
        toy["need"], toy["supply"], toy["need_sims"], toy["supply_sims"],
        yrkesbarometer=yrkesbarometer,
    )  # fmt: skip
    assert list(b.columns[-2:]) == ["af_status", "af_n"]
    by = b.set_index("ssyk")
    assert by.loc["222", "af_status"] == "brist" and by.loc["223", "af_status"] == "balans"
    assert by.loc["532", "af_n"] == 0
    assert b["af_n"].dtype.kind == "i"


# --- end to end on the demo --------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_demo(demo_dataset: Dataset) -> Dataset:
    """The demo restricted to SSYK major groups 2 and 5 (fast demand fit)."""
    keep = demo_dataset.employment["ssyk"].str[:1].isin(["2", "5"])
    age = demo_dataset.employment_age
    return Dataset(
        manifest=demo_dataset.manifest,
        employment=demo_dataset.employment[keep],
        employment_age=age[age["ssyk"].str[:1].isin(["2", "5"])],
        population=demo_dataset.population,
        education_output=demo_dataset.education_output,
        crosswalk=demo_dataset.crosswalk,
    )


@pytest.fixture(scope="module")
def demo_result(small_demo: Dataset) -> DemandResult:
    return DemandModel(DemandConfig(method="theta", calibration_origins=2)).fit(small_demo)


@pytest.fixture(scope="module")
def demo_tables(small_demo: Dataset, demo_result: DemandResult) -> dict[str, pd.DataFrame]:
    return graduates_only_balance_tables(small_demo, "skaraborg", demo_result, n_sims=200, seed=2)


def test_balance_tables_end_to_end(demo_tables: dict[str, pd.DataFrame]) -> None:
    assert {"balance", "balance_education", "supply", "education_output"} <= set(demo_tables)
    b = demo_tables["balance"]
    assert list(b.columns[: len(BALANCE_COLUMNS)]) == BALANCE_COLUMNS
    assert "af_status" not in b  # the demo has no yrkesbarometer
    assert set(b["ssyk_level"]) == {0, 1, 2, 3}
    assert set(b.loc[b["ssyk_level"] == 1, "ssyk"]) == {"2", "5"}
    assert (b["period_start"] == 2023).all() and (b["period_end"] == 2030).all()
    fine = b[b["ssyk_level"] == 3]
    assert set(fine["status"]) <= {"brist", "balans", "överskott", STATUS_TOO_SMALL,
                                   STATUS_NOT_COVERED}  # fmt: skip
    assert (fine.loc[~fine["supply_covered"], "new_entrants"] == 0).all()
    assert fine["supply_covered"].any() and (~fine["supply_covered"]).any()
    total = b[b["ssyk"] == "total"].iloc[0]
    assert total["recruitment_need"] == pytest.approx(fine["recruitment_need"].sum())
    assert total["new_entrants"] == pytest.approx(fine["new_entrants"].sum())
    assessed = b["status"].isin(["brist", "balans", "överskott"])
    assert b.loc[assessed, "p_shortage"].between(0, 1).all()
    assert b.loc[~assessed, "p_shortage"].isna().all()
    # supply summed over 2023-2030 includes the observed years: more than the forecast years alone
    sup = demo_tables["supply"]
    fc_only = sup.loc[sup["ssyk"].isin(fine["ssyk"]), "new_entrants"].sum()
    assert fine["new_entrants"].sum() > fc_only * 1.2
    e = demo_tables["balance_education"]
    assert list(e.columns) == EDUCATION_BALANCE_COLUMNS
    covered_need = fine.loc[fine["supply_covered"], "recruitment_need"].sum()
    assert e["recruitment_need"].sum() == pytest.approx(covered_need)
    assert e["new_entrants"].sum() == pytest.approx(fine["new_entrants"].sum())


def test_balance_tables_builds_only_the_tables_asked_for(
    small_demo: Dataset, demo_result: DemandResult, demo_tables: dict[str, pd.DataFrame]
) -> None:
    """The call backtest reads the balance only: asked for it alone, the old method gives the
    same balance (need simulated once either way) and no other table."""
    only = graduates_only_balance_tables(
        small_demo, "skaraborg", demo_result, n_sims=200, seed=2, tables=("balance",)
    )
    assert list(only) == ["balance"]
    pd.testing.assert_frame_equal(only["balance"], demo_tables["balance"])


def test_balance_tables_rejects_a_projection_with_other_paths(
    small_demo: Dataset, demo_result: DemandResult
) -> None:
    from kompetensprognos.education import GraduateProjection

    empty = pd.DataFrame()
    proj = GraduateProjection(
        history=empty, forecast=empty, series=empty, years=np.arange(2025, 2031),
        draws=np.zeros((1, 10, 6)), models={},
    )  # fmt: skip
    with pytest.raises(KompetensprognosError, match="n_sims"):
        graduates_only_balance_tables(
            small_demo, "skaraborg", demo_result, n_sims=200, projection=proj
        )

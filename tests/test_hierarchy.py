"""Cross-classified panels: aggregates, SSYK tree, nesting, reconciliation, keyed forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.errors import DataValidationError
from kompetensprognos.hierarchy import (
    TOTAL,
    backtest_keyed,
    build_hierarchy,
    forecast_keyed,
    reconcile,
    validate_keyed,
)

YEARS = list(range(2014, 2025))


def keyed_panel(seed: int = 0) -> pd.DataFrame:
    """Region × SSYK 4 × sex, real codes (leading zeros, unknown 0002), zeros, a 3-point series."""
    rng = np.random.default_rng(seed)
    rows = []
    for region in ["1480", "1401"]:
        for ssyk in ["2512", "2611", "5321", "0110"]:
            for sex in ["men", "women"]:
                level = rng.integers(5, 400)
                path = np.maximum(
                    0, np.round(level * np.exp(np.cumsum(rng.normal(0.02, 0.05, 11))))
                )
                if ssyk == "0110" and region == "1401":
                    path = np.zeros(11)  # an all-zero cell
                rows += [(region, ssyk, sex, y, float(v)) for y, v in zip(YEARS, path, strict=True)]
    rows += [
        ("1480", "0002", "men", y, float(v))
        for y, v in zip(YEARS, [3, 2, 4, 0, 1, 2, 3, 1, 0, 2, 2], strict=True)
    ]
    # a 3-point series: an occupation that appears in 2022
    rows += [("1401", "2514", "women", y, v) for y, v in [(2022, 4.0), (2023, 6.0), (2024, 7.0)]]
    return pd.DataFrame(rows, columns=["region", "ssyk", "sex", "ds", "y"])


KEYS = ["region", "ssyk", "sex"]


def test_hierarchy_levels_and_sums() -> None:
    df = keyed_panel()
    h = build_hierarchy(df, KEYS, ssyk="ssyk")
    n_b = h.n_bottom
    assert n_b == 2 * 4 * 2 + 2
    # bottom last, in column order, and S is 0/1 with one column per bottom series
    assert (h.series["unique_id"].iloc[-n_b:].to_numpy() == h.bottom["unique_id"].to_numpy()).all()
    assert set(np.unique(h.S.data)) == {1.0}
    levels = set(h.series["level"])
    # every crossing of region {keep,total} × ssyk {4..0} × sex {keep,total}
    assert len(levels) == 2 * 5 * 2
    assert {"total", "region/ssyk4/sex", "ssyk2", "region/sex", "sex"} <= levels
    total = h.series.index[h.series["level"] == "total"]
    assert len(total) == 1 and h.S[total[0]].sum() == n_b
    # the unknown occupation enters the total but no SSYK 1-3 group ("0" is armed forces)
    row = h.series.index[(h.series["level"] == "ssyk1") & (h.series["ssyk"] == "0")][0]
    members = h.bottom.iloc[h.S[row].indices]
    assert set(members["ssyk"]) == {"0110"}
    assert h.series.loc[h.series["unique_id"] == "total|0002|total", "ssyk_level"].item() == 4


def test_aggregate_sums_and_short_series() -> None:
    df = keyed_panel()
    h = build_hierarchy(df, KEYS, ssyk="ssyk")
    agg = h.aggregate(df).set_index(["unique_id", "ds"])["y"]
    assert agg[("total|total|total", 2024)] == pytest.approx(df.loc[df["ds"] == 2024, "y"].sum())
    women25 = df[(df["ssyk"].str[:2] == "25") & (df["sex"] == "women") & (df["ds"] == 2023)]
    assert len(women25) == 3
    assert agg[("total|25|women", 2023)] == pytest.approx(women25["y"].sum())
    # the 3-point series keeps its own three years; its parents span every year
    assert len(agg.loc["1401|2514|women"]) == 3
    assert len(agg.loc["1401|251|women"]) == 11


def test_parents_follow_key_order() -> None:
    h = build_hierarchy(keyed_panel(), KEYS, ssyk="ssyk")
    assert h.parents["1480|2512|men"] == "total|2512|men"
    assert h.parents["total|2512|men"] == "total|251|men"
    assert h.parents["total|2|men"] == "total|total|men"
    assert "total|total|total" not in h.parents


def test_nested_keys_drop_repeated_crossings() -> None:
    """municipality nests in county: county × municipality repeats municipality and is dropped."""
    df = pd.DataFrame(
        {
            "county": ["14", "14", "13"],
            "municipality": ["1480", "1490", "1384"],
            "ssyk": ["251", "251", "251"],
        }
    )
    h = build_hierarchy(df, ["county", "municipality", "ssyk"], ssyk="ssyk")
    assert len(h.series) == len(h.series["unique_id"].unique())
    levels = set(h.series["level"])
    assert "county/municipality/ssyk3" in levels  # the bottom keeps its full name
    assert "municipality/ssyk3" not in levels  # the same series again
    assert "county/ssyk3" in levels
    county14 = h.series.index[h.series["unique_id"] == "14|total|251"][0]
    assert h.S[county14].sum() == 2


def test_validation_lists_every_problem() -> None:
    df = keyed_panel().astype({"y": object})
    df.loc[0, "ssyk"] = "25"  # a code of another level (an aggregate in the input)
    df.loc[5, "region"] = ""
    df.loc[7, "sex"] = "total"
    df.loc[9, "y"] = "x"
    with pytest.raises(DataValidationError) as info:
        validate_keyed(df, KEYS, ssyk="ssyk", source="regions.csv")
    text = str(info.value)
    assert "column `ssyk`" in text and "'25'" in text and "different levels" in text
    assert "column `region`" in text and "empty key value" in text
    assert "reserved" in text and "column `y`" in text
    assert "regions.csv" in text


def test_validation_common_last_year_and_numeric_codes() -> None:
    df = keyed_panel()
    df = df[~((df["region"] == "1480") & (df["ssyk"] == "2512") & (df["ds"] == 2024))]
    with pytest.raises(DataValidationError, match="end before 2024"):
        validate_keyed(df, KEYS, ssyk="ssyk")
    df2 = keyed_panel()
    df2["ssyk"] = df2["ssyk"].str.replace("0110", "110.0")
    with pytest.raises(DataValidationError, match="leading zero"):
        validate_keyed(df2, KEYS, ssyk="ssyk")


def test_reconcile_nonnegative_and_coherent() -> None:
    h = build_hierarchy(keyed_panel(), KEYS, ssyk="ssyk")
    rng = np.random.default_rng(1)
    truth = rng.uniform(0, 20, size=(h.n_bottom, 2)) * (rng.uniform(size=(h.n_bottom, 1)) > 0.3)
    # incoherent base forecasts: aggregates too high, small cells at zero
    y_hat = np.asarray(h.S @ truth) * rng.lognormal(0.1, 0.3, size=(h.S.shape[0], 2))
    rec = reconcile(h.S, y_hat, "mint_wls_struct")
    bottom = rec[-h.n_bottom :]
    assert (bottom >= 0).all()
    assert np.allclose(rec, h.S @ bottom)


def _incoherent(h, seed: int, horizon: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0, 20, size=(h.n_bottom, horizon))
    truth *= rng.uniform(size=(h.n_bottom, 1)) > 0.3
    y_hat = np.asarray(h.S @ truth) * rng.lognormal(0.0, 0.4, size=(h.S.shape[0], horizon))
    y_hat[-h.n_bottom :] -= rng.uniform(0, 8, size=(h.n_bottom, horizon))  # some go negative
    return y_hat


def _wls_objective(S, y_hat: np.ndarray, rec: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return (weight[:, None] * (np.maximum(y_hat, 0.0) - rec) ** 2).sum(axis=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reconcile_coherent_nonnegative_and_optimal(seed: int) -> None:
    """Exact coherence, no negative value, and the KKT conditions of the non-negative WLS."""
    h = build_hierarchy(keyed_panel(), KEYS, ssyk="ssyk")
    y_hat = _incoherent(h, seed)
    assert (y_hat[-h.n_bottom :] < 0).any()  # the constraint binds
    rec = reconcile(h.S, y_hat, "mint_wls_struct")
    bottom = rec[-h.n_bottom :]
    np.testing.assert_allclose(rec, np.asarray(h.S @ bottom), rtol=0, atol=1e-9)
    assert (rec >= 0).all()
    assert (bottom == 0).any()
    # KKT: zero gradient on positive bottom series, non-negative gradient on those held at 0
    w = 1.0 / np.asarray(h.S.sum(axis=1)).ravel()
    grad = np.asarray(h.S.T @ (w[:, None] * (rec - np.maximum(y_hat, 0.0))))
    scale = np.abs(grad).max() + 1.0
    assert np.abs(grad[bottom > 1e-9]).max() < 1e-7 * scale
    assert grad[bottom == 0].min() > -1e-7 * scale


def test_reconcile_matches_the_qp_solver() -> None:
    """Same problem as hierarchicalforecast's MinTraceSparse QP (the previous implementation).

    The QP solver (Clarabel, interior point) stops at a relative tolerance of about 1e-8 and
    leaves bottom values a hair above 0; the active-set solution is exact up to the CG
    tolerance. So values agree to 1e-4 of the largest forecast, and our objective is never
    higher than the QP's (beyond rounding).
    """
    hf = pytest.importorskip("hierarchicalforecast.methods")
    h = build_hierarchy(keyed_panel(), KEYS, ssyk="ssyk")
    y_hat = _incoherent(h, 3)
    ours = reconcile(h.S, y_hat, "mint_wls_struct")
    qp = np.asarray(
        hf.MinTraceSparse(method="wls_struct", nonnegative=True).fit_predict(S=h.S, y_hat=y_hat)[
            "mean"
        ]
    )
    np.testing.assert_allclose(ours, qp, atol=1e-4 * np.abs(qp).max())
    w = 1.0 / np.asarray(h.S.sum(axis=1)).ravel()
    assert (
        _wls_objective(h.S, y_hat, ours, w) <= _wls_objective(h.S, y_hat, qp, w) * (1 + 1e-9)
    ).all()


def test_reconcile_unconstrained_case_is_the_closed_form() -> None:
    """With nothing negative, the result is the MinTrace projection S (S'WS)^-1 S'W y."""
    h = build_hierarchy(keyed_panel(), KEYS, ssyk="ssyk")
    rng = np.random.default_rng(5)
    truth = rng.uniform(50, 100, size=(h.n_bottom, 2))
    y_hat = np.asarray(h.S @ truth) * rng.lognormal(0.0, 0.05, size=(h.S.shape[0], 2))
    S = h.S.toarray()
    w = 1.0 / S.sum(axis=1)
    closed = S @ np.linalg.solve(S.T @ (w[:, None] * S), S.T @ (w[:, None] * y_hat))
    assert (closed >= 0).all()
    np.testing.assert_allclose(reconcile(h.S, y_hat), closed, rtol=1e-9, atol=1e-9)
    # identity weights (mint_ols) too
    ols = S @ np.linalg.solve(S.T @ S, S.T @ y_hat)
    np.testing.assert_allclose(reconcile(h.S, y_hat, "mint_ols"), ols, rtol=1e-8, atol=1e-8)


def test_reconcile_zero_cells_stay_zero() -> None:
    h = build_hierarchy(keyed_panel(), KEYS, ssyk="ssyk")
    y_hat = np.abs(_incoherent(h, 4))
    zero = np.zeros(h.n_bottom, bool)
    zero[:3] = True
    rec = reconcile(h.S, y_hat, zero=zero)
    assert (rec[-h.n_bottom :][:3] == 0).all()
    np.testing.assert_allclose(rec, np.asarray(h.S @ rec[-h.n_bottom :]), atol=1e-9)


@pytest.mark.parametrize("method", ["drift", "mean(share,naive)"])
def test_forecast_keyed_bottom_and_all_levels(method: str) -> None:
    df = keyed_panel()
    res = forecast_keyed(
        df, KEYS, ssyk="ssyk", horizon=3, method=method, all_levels=True, calibration_origins=2
    )
    fc = res.forecast
    assert list(fc.columns[:5]) == ["region", "ssyk", "sex", "level", "ssyk_level"]
    assert (fc[["forecast", "lo80", "hi80", "lo95", "hi95"]] >= 0).all().all()
    assert (fc["lo95"] <= fc["forecast"]).all() and (fc["forecast"] <= fc["hi95"]).all()
    # coherent: the total equals the sum of the bottom series, every year
    bottom = fc[fc["level"] == "region/ssyk4/sex"]
    total = fc[fc["level"] == "total"].set_index("ds")["forecast"]
    assert np.allclose(bottom.groupby("ds")["forecast"].sum(), total)
    assert set(bottom["ds"]) == {2025, 2026, 2027}
    zero = bottom[(bottom["region"] == "1401") & (bottom["ssyk"] == "0110")]
    # a cell never staffed stays exactly at zero (it is left out of the MinTrace problem)
    assert (zero["forecast"] == 0).all()
    only = forecast_keyed(
        df, KEYS, ssyk="ssyk", horizon=3, method=method, calibration_origins=2
    ).forecast
    assert len(only) == 18 * 3 and "level" not in only.columns
    assert TOTAL not in set(only["region"])


def test_forecast_keyed_break_is_removed() -> None:
    """A +10 % jump in 2023 in every series is a level shift, not growth."""
    df = keyed_panel()
    df = df[df["ssyk"] != "2514"]
    rng = np.random.default_rng(3)
    flat = df.assign(y=np.round(100 + rng.normal(0, 1, len(df))))
    jumped = flat.assign(y=np.where(flat["ds"] >= 2023, flat["y"] * 1.10, flat["y"]))
    plain = forecast_keyed(jumped, KEYS, ssyk="ssyk", horizon=2, method="drift", all_levels=True)
    adj = forecast_keyed(
        jumped, KEYS, ssyk="ssyk", horizon=2, method="drift", breaks=[2023], all_levels=True
    )
    f = adj.break_factors
    assert set(f["break_year"]) == {2023}
    assert f["factor"].between(1.07, 1.13).all()
    tot = lambda r: r.forecast.loc[r.forecast["level"] == "total", "forecast"].iloc[-1]  # noqa: E731
    last = jumped.loc[jumped["ds"] == 2024, "y"].sum()
    # drift on the raw series extrapolates the jump; on the latest basis it stays near the level
    assert tot(plain) > 1.01 * last
    assert abs(tot(adj) / last - 1) < 0.01


def test_backtest_keyed_uses_only_data_up_to_origin() -> None:
    df = keyed_panel()
    kw = {"ssyk": "ssyk", "methods": ["share"], "horizon": 2, "calibration_origins": 1}
    d = backtest_keyed(df, KEYS, origins=[2020, 2022], **kw)
    assert set(d["model"]) == {"share", "naive", "drift"}
    assert set(d["origin"]) == {2020, 2022}
    assert (d["ds"] > d["origin"]).all() and (d["horizon"] <= 2).all()
    # the 3-point series (from 2022) is not forecast from 2020
    assert not ((d["origin"] == 2020) & (d["unique_id"] == "1401|2514|women")).any()
    # changing the test years does not change the forecasts
    df2 = df.assign(y=np.where(df["ds"] > 2020, df["y"] * 3, df["y"]))
    d2 = backtest_keyed(df2, KEYS, origins=[2020], **kw)
    a = d[(d["origin"] == 2020)].sort_values(["model", "unique_id", "ds"])
    b = d2.sort_values(["model", "unique_id", "ds"])
    assert np.allclose(a["forecast"].to_numpy(), b["forecast"].to_numpy())
    assert not np.allclose(a["y"].to_numpy(), b["y"].to_numpy())


def test_forecast_reconciled_holds_empty_cells_unless_a_scenario_adds() -> None:
    """The shared path: never-staffed bottom cells stay at 0, but not where jobs are added."""
    from kompetensprognos.hierarchy import forecast_reconciled

    df = keyed_panel()
    df = df[df["ssyk"] != "2514"]
    h = build_hierarchy(df, KEYS, ssyk="ssyk")
    ids = h.series["unique_id"].tolist()
    panel = h.aggregate(df)
    kw = {"horizon": 2, "method": "drift", "parents": h.parents, "calibration_origins": 2}
    res = forecast_reconciled(panel, h.S, ids, **kw)
    n_agg = len(ids) - h.n_bottom
    empty = [n_agg + j for j, u in enumerate(h.bottom["unique_id"]) if u.startswith("1401|0110|")]
    assert len(empty) == 2 and (res.values["forecast"][empty] == 0).all()
    assert (res.values["lo95"][empty] == 0).all()
    np.testing.assert_allclose(
        res.values["forecast"], np.asarray(h.S @ res.values["forecast"][-h.n_bottom :]), atol=1e-9
    )
    delta = np.zeros((len(ids), 2))
    delta[empty[0]] = 5.0  # a scenario's jobs in an empty cell (the bottom row) ...
    for row in np.flatnonzero(h.S[:, empty[0] - n_agg].toarray()):
        delta[row] = 5.0  # ... and in all its aggregates
    added = forecast_reconciled(panel, h.S, ids, delta=delta, **kw)
    assert added.values["forecast"][empty[0]].min() > 4.0
    assert (added.values["forecast"][empty[1]] == 0).all()
    assert res.seconds.keys() == {"forecast", "reconcile"}


def test_demand_model_and_keyed_panels_share_one_path() -> None:
    """No second copy: the demand model and forecast_keyed share fitting, reconciling, parents."""
    import ast
    import inspect
    import textwrap

    from kompetensprognos import demand, hierarchy

    def calls(obj: object) -> set[str]:
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))  # type: ignore[arg-type]
        return {
            n.func.id if isinstance(n.func, ast.Name) else getattr(n.func, "attr", "")
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
        }

    for unit in (demand, hierarchy.forecast_keyed):
        found = calls(unit)
        assert "forecast_reconciled" in found
        assert not found & {"Forecaster", "fit_partitioned", "select_method", "reconcile_arrays"}
    # and one parent rule for the pooling methods
    assert "parents_in_key_order" in calls(demand._parents) & calls(hierarchy._parents)

"""Tests for metrics and the rolling-origin backtest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.evaluation import (
    backtest,
    direction_accuracy,
    mase,
    rmsse,
    score_forecasts,
    smape,
    summarise,
    to_backtest_table,
)


def test_smape_hand_computed() -> None:
    # 200*10/210 = 9.5238..., 200*5/15 = 66.666..., 0/0 -> 0
    got = smape(np.array([100.0, 5.0, 0.0]), np.array([110.0, 10.0, 0.0]))
    assert got == pytest.approx((200 * 10 / 210 + 200 * 5 / 15 + 0) / 3)


def test_mase_and_rmsse_hand_computed() -> None:
    insample = np.array([10.0, 12.0, 11.0, 14.0])  # naive abs errors 2,1,3 -> 2; squared -> 14/3
    y, f = np.array([15.0, 13.0]), np.array([14.0, 16.0])  # errors 1, -3
    assert mase(y, f, insample) == pytest.approx(2 / 2)
    assert rmsse(y, f, insample) == pytest.approx(np.sqrt((1 + 9) / 2 / (14 / 3)))


def test_zero_scale_gives_nan() -> None:
    flat = np.zeros(5)
    assert np.isnan(mase(np.array([1.0]), np.array([0.0]), flat))
    assert np.isnan(rmsse(np.array([1.0]), np.array([0.0]), flat))


def test_direction_accuracy_counts_no_change_as_own_direction() -> None:
    y = np.array([11.0, 9.0, 10.0, 10.0])
    f = np.array([12.0, 12.0, 10.0, 11.0])
    assert direction_accuracy(y, f, 10.0) == pytest.approx(2 / 4)


def test_score_and_summarise_match_hand_values() -> None:
    rf = pd.DataFrame(
        {
            "model": "m",
            "horizon": [1, 1, 2],
            "y": [10.0, 0.0, 8.0],
            "forecast": [12.0, 0.0, 8.0],
            "last": [9.0, 0.0, 9.0],
            "scale": [2.0, 0.0, 1.0],
            "scale2": [4.0, 0.0, 1.0],
            "iscale": [2.0, 1.0, 1.0],
            "lo80": [11.0, 0.0, 7.0],
            "hi80": [13.0, 1.0, 9.0],
        }
    )
    scored = score_forecasts(rf, levels=[80])
    assert scored["ase"].tolist()[0] == pytest.approx(1.0) and np.isnan(scored["ase"].iloc[1])
    s = summarise(scored, levels=[80]).set_index("horizon")
    assert s.loc[1, "mase"] == pytest.approx(1.0)  # NaN term excluded from the mean
    assert s.loc[1, "n_mase"] == 1 and s.loc[1, "n"] == 2
    assert s.loc[1, "coverage80"] == pytest.approx(0.5)
    assert s.loc[1, "width80"] == pytest.approx((2 / 2 + 1 / 1) / 2)
    assert s.loc[2, "direction_accuracy"] == pytest.approx(1.0)
    assert s.loc[1, "smape"] == pytest.approx((200 * 2 / 22 + 0) / 2)


def _panel(n: int, length: int, seed: int = 0, start: int = 2008) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        y = np.maximum(0, np.round(30 + np.cumsum(rng.normal(0.3, 2, length))))
        rows.append(
            pd.DataFrame({"unique_id": f"{i:04d}", "ds": np.arange(start, start + length), "y": y})
        )
    return pd.concat(rows, ignore_index=True)


def test_backtest_structure_and_baselines() -> None:
    df = _panel(30, 14)
    res = backtest(df, ["ets"], h=3, n_origins=2)
    assert set(res.summary["model"]) == {"ets", "naive", "drift"}
    for col in [
        "model",
        "horizon",
        "mase",
        "smape",
        "rmsse",
        "direction_accuracy",
        "coverage80",
        "coverage95",
        "width80",
        "width95",
    ]:
        assert col in res.summary.columns
    counts = res.detail[res.detail["model"] == "naive"].groupby("horizon").size()
    # horizon j is scored at origins o = j .. h + n_origins - 1 for each of 30 series
    assert counts.to_dict() == {1: 30 * 4, 2: 30 * 3, 3: 30 * 2}
    assert (res.detail["ds"] <= df["ds"].max()).all()
    assert (res.detail["ds"] > res.detail["cutoff"]).all()
    table = to_backtest_table(res.summary, "1480")
    assert list(table.columns) == [
        "region",
        "model",
        "horizon",
        "mase",
        "smape",
        "direction_accuracy",
        "coverage80",
        "coverage95",
    ]
    assert (table["region"] == "1480").all()


def test_backtest_calibration_has_no_leakage() -> None:
    # a level shift in the final year only: intervals at the last origin may not know about it
    df = _panel(40, 14, seed=1)
    shifted = df.copy()
    last = shifted["ds"] == shifted["ds"].max()
    shifted.loc[last, "y"] += 1000
    a = backtest(df, ["naive"], h=2, n_origins=1, baselines=False).detail
    b = backtest(shifted, ["naive"], h=2, n_origins=1, baselines=False).detail
    cols = ["lo80", "hi80", "lo95", "hi95"]
    old_a = a[a["ds"] < df["ds"].max()].sort_values(["unique_id", "offset", "horizon"])
    old_b = b[b["ds"] < df["ds"].max()].sort_values(["unique_id", "offset", "horizon"])
    np.testing.assert_allclose(old_a[cols].to_numpy(), old_b[cols].to_numpy())


def test_backtest_coverage_near_nominal_on_random_walks() -> None:
    df = _panel(150, 16, seed=2)
    res = backtest(df, ["naive"], h=3, n_origins=3, baselines=False)
    overall = res.overall.set_index("model")
    assert 0.70 <= overall.loc["naive", "coverage80"] <= 0.90
    assert 0.88 <= overall.loc["naive", "coverage95"] <= 0.995


def test_backtest_zero_series_mase_excluded() -> None:
    df = pd.concat(
        [_panel(5, 12), pd.DataFrame({"unique_id": "z", "ds": range(2008, 2020), "y": 0.0})]
    )
    res = backtest(df, ["drift"], h=2, n_origins=1, baselines=False)
    z = res.detail[res.detail["unique_id"] == "z"]
    assert z["ase"].isna().all() and (z["smape"] == 0).all()
    s = res.overall.iloc[0]
    assert s["n_mase"] < s["n"] and np.isfinite(s["mase"])


def test_backtest_too_short_panel() -> None:
    df = pd.DataFrame({"unique_id": "a", "ds": [2020, 2021, 2022], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(KompetensprognosError, match="long enough"):
        backtest(df, ["naive"], h=2)

"""Method selection by inner rolling origins, per-group methods and the drift-based candidates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.forecasting import (
    Forecaster,
    candidate_rows,
    group_scores,
    select_by_group,
    select_method,
)
from kompetensprognos.models import (
    by_group_method,
    damped_drift,
    forecast_points,
    parse_by_group,
    parse_method,
)


def _panel(series: dict[str, list[float]], start: int = 2010) -> pd.DataFrame:
    return pd.DataFrame(
        [(u, start + t, float(v)) for u, ys in series.items() for t, v in enumerate(ys)],
        columns=["unique_id", "ds", "y"],
    )


def _two_groups() -> tuple[pd.DataFrame, dict[str, str]]:
    """20 trending series (drift is right) and 20 series that jumped once (naive is right)."""
    series, groups = {}, {}
    for i in range(20):
        series[f"t{i}"] = [10.0 + (i + 1) * t for t in range(12)]
        groups[f"t{i}"] = "trend"
        series[f"s{i}"] = [5.0 + i] * 6 + [9.0 + i] * 6
        groups[f"s{i}"] = "step"
    return _panel(series), groups


def test_inner_origins_use_only_data_up_to_their_cutoff() -> None:
    # changing the values after an inner origin's cutoff must not change that origin's rows
    df = _panel({"a": [1, 2, 4, 7, 11, 16, 22, 29], "b": [5, 5, 6, 6, 7, 7, 8, 8]})
    rows = candidate_rows(df, ["mean(naive,drift)", "ddrift"], 3, [1, 2, 3])
    changed = df.copy()
    changed.loc[changed["ds"] >= 2015, "y"] *= 100.0  # years after cutoff 2014 (offset 3)
    rows2 = candidate_rows(changed, ["mean(naive,drift)", "ddrift"], 3, [1, 2, 3])
    cols = ["naive", "drift", "ddrift", "last", "scale"]
    a = rows[rows["offset"] == 3].reset_index(drop=True)
    b = rows2[rows2["offset"] == 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(a[cols], b[cols])
    # inner rows score only years inside the panel; the actuals do differ
    assert (rows.loc[rows["offset"] > 0, "ds"] <= 2017).all()
    assert not np.allclose(a["y"], b["y"])


def test_selection_never_sees_the_years_it_is_not_given() -> None:
    # history: steady growth (drift right on every inner origin); future: flat (naive right)
    hist = {f"u{i}": [10.0 + 2 * t + i for t in range(8)] for i in range(5)}
    future = {u: [v[-1]] * 3 for u, v in hist.items()}
    full = _panel({u: hist[u] + future[u] for u in hist})
    train = full[full["ds"] <= 2017]
    assert select_method(train, 3, candidates=["naive", "drift"]) == "drift"
    # the same call on the whole panel does see the flat years and changes its mind
    assert select_method(full, 3, candidates=["naive", "drift"]) == "naive"


def test_per_group_selection_picks_a_method_per_group() -> None:
    df, groups = _two_groups()
    best, scores = select_method(
        df, 2, candidates=["naive", "drift"], groups=groups, by_group=True, return_scores=True
    )
    assert parse_by_group(str(best)) == {"*": "drift", "step": "naive"} or parse_by_group(
        str(best)
    ) == {"*": "naive", "trend": "drift"}
    per = scores.pivot(index="group", columns="method", values="mase")
    assert per.loc["trend", "drift"] < per.loc["trend", "naive"]
    assert per.loc["step", "naive"] < per.loc["step", "drift"]
    # the per-group method forecasts each group with its own model
    fc = Forecaster(horizon=1, method=str(best), groups=groups, calibration_origins=0).fit(df)
    pts = fc.predict().set_index("unique_id")["forecast"]
    assert pts["t0"] == pytest.approx(22.0)  # drift: 10 + 12
    assert pts["s3"] == pytest.approx(12.0)  # naive: the last value


def test_small_groups_take_the_overall_choice() -> None:
    sc = pd.DataFrame(
        {
            "group": ["big", "big", "total", "total"],
            "method": ["naive", "drift"] * 2,
            "n_series": [50, 50, 1, 1],
            "mase": [0.9, 1.2, 2.0, 0.5],
        }
    )
    overall, per = select_by_group(sc, min_series=10)
    assert overall == "drift"  # mean over groups: naive 1.45, drift 0.85
    assert per == {"big": "naive", "total": "drift"}


def test_group_scores_average_per_group() -> None:
    df, groups = _two_groups()
    rows = candidate_rows(df, ["naive"], 1, [1])
    sc = group_scores(rows, ["naive"], groups)
    assert set(sc["group"]) == {"trend", "step"}
    assert sc.set_index("group").loc["step", "mase"] == pytest.approx(0.0)


def test_by_group_method_round_trip_and_errors() -> None:
    text = by_group_method({"sex/ssyk4": "mean(naive,drift)", "total": "auto"}, default="drift")
    assert parse_by_group(text) == {
        "*": "drift",
        "sex/ssyk4": "mean(naive,drift)",
        "total": "auto",
    }
    combiner, names = parse_method(text)
    assert combiner == "bygroup" and set(names) >= {"naive", "drift", "dotheta"}
    with pytest.raises(KompetensprognosError, match="groups"):
        forecast_points(_panel({"a": [1, 2, 3]}), text, 1)
    with pytest.raises(KompetensprognosError, match="cannot read"):
        parse_by_group("bygroup(ssyk4)")
    with pytest.raises(KompetensprognosError, match="unknown forecasting method"):
        parse_method("bygroup(*=auto; ssyk4=nonsense)")


@pytest.mark.parametrize("method", ["ddrift", "pdrift", "sdrift", "mean(sdrift,ddrift)"])
def test_new_candidates_handle_zeros_and_three_points(method: str) -> None:
    df = _panel(
        {
            "p": [0.0, 0.0, 0.0],  # a parent that is all zeros
            "z": [0.0, 0.0, 0.0],  # its child, all zeros
            "q": [10.0, 14.0, 18.0],  # a growing parent of three points
            "c": [0.0, 2.0, 3.0],  # child starting at zero
            "d": [10.0, 12.0, 15.0],
        },
        start=2022,
    )
    parents = {"z": "p", "c": "q", "d": "q"}
    pts, _ = forecast_points(df, method, 3, parents=parents)
    f = pts.set_index(["unique_id", "ds"])["forecast"]
    assert np.isfinite(f).all()
    assert (f.loc["z"] == 0.0).all()  # zeros stay zero
    assert (f.loc["c"] >= 3.0).all()  # a growing child under a growing parent does not fall


def test_pdrift_shrinks_the_slope_toward_the_parent() -> None:
    df = _panel({"p": [100.0, 110.0, 120.0, 130.0], "c": [10.0, 10.0, 10.0, 10.0]})
    pts, _ = forecast_points(df, "pdrift", 2, parents={"c": "p"})
    c = pts[pts["unique_id"] == "c"]["forecast"].to_numpy()
    # own slope 0, parent grows 10/130 a year relative to its last value: half of each
    np.testing.assert_allclose(c, 10.0 + 0.5 * 10.0 * (10.0 / 130.0) * np.array([1, 2]))
    sd, _ = forecast_points(df, "sdrift", 1, parents={"c": "p"})
    assert sd.set_index("unique_id").loc["c", "forecast"] == pytest.approx(10.0 * 140 / 130)


def test_damped_drift_flattens() -> None:
    f = damped_drift(np.array([0.0, 1.0, 2.0, 3.0]), 20)
    steps = np.diff(np.r_[3.0, f])
    assert (np.diff(steps) < 0).all() and f[-1] < 3.0 + 1.0 / (1 - 0.8)


def test_keyed_backtest_selection_ignores_the_test_years() -> None:
    from kompetensprognos.hierarchy import backtest_keyed

    rng = np.random.default_rng(3)
    rows = [
        (r, s, 2012 + t, float(50 + 5 * i + (2 + i) * t + rng.integers(0, 4)))
        for i, (r, s) in enumerate([(r, s) for r in ("a", "b") for s in ("2512", "2611", "3111")])
        for t in range(12)
    ]
    df = pd.DataFrame(rows, columns=["region", "ssyk", "ds", "y"])
    wild = df.copy()
    wild.loc[wild["ds"] > 2019, "y"] = wild.loc[wild["ds"] > 2019, "y"][::-1].to_numpy() * 3
    kw = {"ssyk": "ssyk", "methods": ["select"], "horizon": 2, "origins": [2019]}
    kw["calibration_origins"] = 0  # points are what is compared
    a = backtest_keyed(df, ["region", "ssyk"], baselines=False, **kw)
    b = backtest_keyed(wild, ["region", "ssyk"], baselines=False, **kw)
    assert a["model"].iloc[0] == b["model"].iloc[0]  # same choice
    np.testing.assert_allclose(a["forecast"], b["forecast"])  # same forecasts
    assert not np.allclose(a["y"], b["y"])  # only the actuals differ


def test_keyed_forecast_selects_per_level_and_runs_the_per_level_method() -> None:
    from kompetensprognos.hierarchy import forecast_keyed

    # two levels that want different methods: steady trends below, a total that is also a trend
    rng = np.random.default_rng(5)
    rows = [
        (r, s, 2010 + t, float(40 + 3 * i + (1 + i) * t + rng.integers(0, 3)))
        for i, (r, s) in enumerate([(r, s) for r in ("a", "b") for s in ("2512", "2611", "3111")])
        for t in range(12)
    ]
    df = pd.DataFrame(rows, columns=["region", "ssyk", "ds", "y"])
    kw = {"ssyk": "ssyk", "horizon": 2, "calibration_origins": 0, "all_levels": True}
    res = forecast_keyed(df, ["region", "ssyk"], method="select_by_level", **kw)
    # the choice is a method the engine runs: one per level, or one for all when levels agree
    assert parse_by_group(res.method) is not None or parse_method(res.method)
    assert set(res.forecast["level"]) == set(res.hierarchy.series["level"])
    assert (res.forecast["forecast"] >= 0).all()
    # a per-level method string names levels of the hierarchy and is run per level
    levels = sorted(res.hierarchy.series["level"].unique())
    bottom = levels[-1]
    named = forecast_keyed(df, ["region", "ssyk"], method=f"bygroup(*=naive; {bottom}=drift)", **kw)
    plain = forecast_keyed(df, ["region", "ssyk"], method="naive", **kw)
    assert not np.allclose(named.forecast["forecast"], plain.forecast["forecast"])

"""The direct Theta / drift / naive path gives statsforecast's numbers exactly (issue #15)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos import models
from kompetensprognos.models import (
    DIRECT_LOCAL,
    FrozenLocal,
    _direct_local,
    _statsforecast,
    forecast_points,
)


def _awkward_series() -> dict[str, np.ndarray]:
    """Ordinary, short, constant, zero, negative, huge, spiky, integer-valued and unfittable series."""
    rng = np.random.default_rng(11)
    # lengths 5-14: series start on 8- and 16-byte boundaries of statsforecast's panel array
    out = {f"walk{i:02d}": 100 + np.cumsum(rng.normal(0, 3, 5 + i % 10)) for i in range(40)}
    out |= {
        "four": np.array([3.0, 5.0, 4.0, 6.0]),
        "five": np.array([10.0, 0.0, 0.0, 0.0, 1.0]),
        "constant": np.full(9, 7.0),
        "zero": np.zeros(11),
        "ends_at_zero": np.array([4.0, 3, 2, 1, 0, 0, 0, 0]),
        "negative": -50 + np.cumsum(rng.normal(0, 1, 10)),
        "huge": 1e12 * (1 + np.cumsum(rng.normal(0, 0.01, 10))),
        "spike": np.r_[np.ones(6), 1e6, np.ones(4)],
        "counts": rng.poisson(3, 11).astype(float),
        "trend": np.arange(1.0, 12.0) ** 2,
        "overflow": np.array([1.0, 3, 2, 5, 4, 6, 5]) * 1e200,  # Theta's MSE is inf: it raises
    }
    return out


def _long(series: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.concat(
        pd.DataFrame({"unique_id": k, "ds": np.arange(2010, 2010 + len(v)), "y": v})
        for k, v in series.items()
    ).reset_index(drop=True)


@pytest.mark.parametrize("name", sorted(DIRECT_LOCAL))
def test_direct_local_equals_statsforecast(name: str) -> None:
    series = _awkward_series()
    h = 5
    ref = _statsforecast(_long(series), [name], h)
    ref = ref.set_index("unique_id")[name]
    got = _direct_local(name, list(series.values()), h)
    for i, uid in enumerate(series):
        np.testing.assert_array_equal(got[i], ref.loc[uid].to_numpy(), err_msg=uid)


def test_direct_theta_catches_a_failed_fit_with_the_naive_forecast(monkeypatch) -> None:
    """Where statsforecast's Theta raises, its fallback (the last value) is what comes out."""
    monkeypatch.setattr(models, "_theta_forward", lambda *a: None)
    y = np.array([1.0, 4.0, 2.0, 8.0, 5.0])
    assert _direct_local("theta", [y], 3).tolist() == [[5.0, 5.0, 5.0]]


def test_forecast_points_direct_equals_the_statsforecast_path(monkeypatch) -> None:
    df = _long(_awkward_series())
    for method in ("mean(theta,drift)", "median(theta,naive,ddrift)"):
        direct, _ = forecast_points(df, method, 4)
        monkeypatch.setattr(models, "DIRECT_LOCAL", frozenset())
        plain, _ = forecast_points(df, method, 4)
        monkeypatch.undo()
        pd.testing.assert_frame_equal(direct, plain)


def test_integer_panels_keep_the_statsforecast_path() -> None:
    """statsforecast computes a non-float panel in float32: the direct path is not used."""
    df = _long({"a": np.array([3, 5, 4, 6, 8, 7]), "b": np.array([1, 2, 4, 4, 5, 9])})
    got, _ = forecast_points(df, "theta", 2)
    ref = _statsforecast(df, ["theta"], 2)
    np.testing.assert_array_equal(got["forecast"].to_numpy(), ref["theta"].to_numpy())


def test_frozen_theta_equals_statsforecast_forward() -> None:
    """A direct frozen Theta fit re-applied to longer histories equals ``Theta.forward``."""
    from statsforecast.models import Theta

    series = _awkward_series()
    ids = list(series)
    frozen = FrozenLocal("theta").fit(ids, [y[:-2] for y in series.values()])
    for cut in (0, 1, 2):
        longer = [y[: len(y) - cut] for y in series.values()]
        got = frozen.predict(ids, longer, 3)
        for i, (uid, y) in enumerate(series.items()):
            if len(y) - 2 < 4:  # too short to fit at the earliest cut: no fit, NaN
                assert np.isnan(got[i]).all(), uid
                continue
            try:
                ref = Theta(season_length=1).fit(y[:-2]).forward(longer[i], 3)["mean"]
            except Exception:  # statsforecast raises: a NaN row, refitted by the origin
                ref = np.full(3, np.nan)
            np.testing.assert_array_equal(got[i], ref, err_msg=f"{uid} cut {cut}")


def test_theta_fits_are_reused_for_a_series_met_again() -> None:
    y = 100 + np.cumsum(np.random.default_rng(5).normal(0, 1, 12))
    models._THETA_FITS.clear()
    first = _direct_local("theta", [y, y.copy()], 2)
    assert len(models._THETA_FITS) == 1
    np.testing.assert_array_equal(first[0], first[1])

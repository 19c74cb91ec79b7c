"""Tests of the executors: local, and Dask on a small in-process LocalCluster (skipped without
``distributed``)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.executors import Executor, LocalExecutor, get_executor
from kompetensprognos.scale import fit_partitioned, national_panel


def _fail_on_two(x: int) -> int:
    if x == 2:
        raise ValueError("bad item 2")
    return x * 10


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    e = national_panel(0.05, age_table=False).employment
    e = e[e["ssyk"].str.startswith("3")]
    return pd.DataFrame(
        {"unique_id": e["region"] + "|" + e["ssyk"], "ds": e["year"], "y": e["employed"]}
    )


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[Executor]:
    pytest.importorskip("distributed")
    from kompetensprognos.executors import DaskExecutor

    ex = DaskExecutor(n_workers=2, processes=False)
    try:
        yield ex
    finally:
        ex.close()


def test_local_executor_maps_in_order() -> None:
    ex = get_executor()
    assert isinstance(ex, LocalExecutor) and ex.name == "local"
    assert ex.map(_fail_on_two, [0, 1, 3]) == [0, 10, 30]
    assert get_executor(ex) is ex
    with pytest.raises(KompetensprognosError, match="unknown executor"):
        get_executor("spark")  # type: ignore[arg-type]


def test_dask_executor_maps_in_order_and_raises(dask_executor: Executor) -> None:
    assert dask_executor.name == "dask"
    assert dask_executor.n_workers == 2  # type: ignore[attr-defined]
    assert dask_executor.map(_fail_on_two, [5, 1, 0, 3]) == [50, 10, 0, 30]
    assert dask_executor.map(_fail_on_two, []) == []
    with pytest.raises(ValueError, match="bad item 2"):
        dask_executor.map(_fail_on_two, [1, 2])


@pytest.mark.parametrize("method", ["theta", "median(theta,ridge)"])
def test_dask_results_match_the_local_executor(
    panel: pd.DataFrame, dask_executor: Executor, method: str
) -> None:
    # pooled models (ridge) depend on the chunks, never on where the chunks run
    settings = {"horizon": 3, "method": method, "calibration_origins": 2, "n_chunks": 4}
    local = fit_partitioned(panel, executor="local", **settings)
    remote = fit_partitioned(panel, executor=dask_executor, **settings)
    pd.testing.assert_frame_equal(remote.calibration_, local.calibration_)
    pd.testing.assert_frame_equal(remote.predict(), local.predict())


def test_dask_executor_reuses_a_client_without_closing_it(dask_executor: Executor) -> None:
    from kompetensprognos.executors import DaskExecutor

    client = dask_executor.client  # type: ignore[attr-defined]
    borrowed = DaskExecutor(client)
    assert borrowed.map(abs, [-3]) == [3]
    borrowed.close()
    assert client.status == "running"


def test_demand_model_runs_its_forecasts_on_dask(dask_executor: Executor) -> None:
    from kompetensprognos.dataset import Dataset
    from kompetensprognos.demand import DemandConfig, DemandModel

    ds = national_panel(0.05, age_table=False)
    e = ds.employment
    tiny = Dataset(manifest=ds.manifest, employment=e[e["ssyk"].str.startswith("9")])
    cfg = DemandConfig(method="theta", calibration_origins=2, geography="sweden", chunk_size=60)
    local = DemandModel(cfg).fit(tiny)
    remote = DemandModel(cfg, executor=dask_executor).fit(tiny)
    pd.testing.assert_frame_equal(remote.forecast, local.forecast)

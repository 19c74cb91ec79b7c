"""The steps behind the reports, as functions that return and write the contract tables.

:func:`demand_outputs` fits the demand model once for all regions (the hierarchy is joint) and
returns, per region, the tables of the demand output contract (``docs/demand.md``):
``employment_forecast``, ``recruitment_need`` and ``backtest``. :func:`write_tables` writes a
region's tables atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from kompetensprognos import regions
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import (
    DemandConfig,
    DemandModel,
    DemandResult,
    backtest_demand,
    backtest_table,
)
from kompetensprognos.files import atomic_directory
from kompetensprognos.recruitment import recruitment_need

__all__ = ["demand_outputs", "fit_demand", "region_demand_tables", "write_tables"]


def demand_outputs(
    dataset: Dataset,
    region_ids: Sequence[str] = regions.REGION_IDS,
    *,
    config: DemandConfig | None = None,
    start: int = 2023,
    end: int = 2030,
    backtest: bool = True,
    backtest_origins: Sequence[int] | None = None,
    n_sims: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> tuple[DemandResult, dict[str, dict[str, pd.DataFrame]]]:
    """Fit demand for every region and build each region's output tables.

    Parameters
    ----------
    dataset : Dataset
    region_ids : sequence of str
        Regions to produce tables for (default: the five report regions).
    config : DemandConfig, optional
        Demand model settings; ``end_year`` is raised to ``end`` when lower.
    start, end : int
        Outlook period for the recruitment need.
    backtest : bool, default True
        Also run the rolling-origin backtest (the slowest part).
    backtest_origins : sequence of int, optional
        Origins for the backtest (default: the four years before the last observed year).
    n_sims : int
        Simulation draws for the recruitment-need intervals.
    seed : int
        Random seed.
    progress : bool
        Show progress bars.

    Returns
    -------
    tuple[DemandResult, dict]
        The fitted result and ``{region: {"employment_forecast": df, "recruitment_need": df,
        "backtest": df}}``.
    """
    for r in region_ids:
        regions.get_region(r)  # a clear error for an unknown id, before any work
    cfg = config or DemandConfig()
    if cfg.end_year < end:
        cfg = cfg.model_copy(update={"end_year": end})
    result, bt = fit_demand(
        dataset, cfg, region_ids, backtest=backtest, origins=backtest_origins, progress=progress
    )
    tables = {
        r: region_demand_tables(
            result, dataset, r, bt, start=start, end=end, n_sims=n_sims, seed=seed
        )
        for r in tqdm(region_ids, desc="regions", disable=not progress)
    }
    return result, tables


def fit_demand(
    dataset: Dataset,
    config: DemandConfig,
    region_ids: Sequence[str],
    *,
    backtest: bool = True,
    origins: Sequence[int] | None = None,
    progress: bool = False,
    executor: Any = None,
) -> tuple[DemandResult, pd.DataFrame | None]:
    """Fit the demand model once for all regions and, optionally, its backtest table.

    Returns
    -------
    tuple[DemandResult, pandas.DataFrame | None]
        The fitted result and the ``backtest.csv`` rows of ``region_ids`` (``None`` without).
    """
    result = DemandModel(config, progress=progress, executor=executor).fit(dataset)
    if not backtest:
        return result, None
    detail = backtest_demand(
        dataset, config=config, origins=origins, regions_=list(region_ids), progress=progress
    )
    return result, backtest_table(detail, levels=config.levels)


def region_demand_tables(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    backtest: pd.DataFrame | None,
    *,
    start: int,
    end: int,
    n_sims: int,
    seed: int,
) -> dict[str, pd.DataFrame]:
    """One region's ``employment_forecast``, ``recruitment_need`` and (if given) ``backtest``."""
    tables = {
        "employment_forecast": result.employment_forecast(region),
        "recruitment_need": recruitment_need(
            result, dataset, region, start, end, n_sims=n_sims, seed=seed
        ),
    }
    if backtest is not None:
        tables["backtest"] = backtest[backtest["region"] == region].reset_index(drop=True)
    return tables


def write_tables(tables: dict[str, pd.DataFrame], directory: str | os.PathLike[str]) -> Path:
    """Write tables as ``<name>.csv`` into ``directory`` atomically (temporary folder, then rename).

    An existing ``directory`` is replaced only after every file is written.
    """
    target = Path(directory)
    with atomic_directory(target) as tmp:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
    return target

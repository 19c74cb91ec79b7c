"""Scenario sweeps: one region under several named scenarios, results side by side.

A sweep file (YAML) names a region and a set of scenarios; each scenario may add demand
adjustments (jobs added or removed) and override supply parameters (entry, retention)::

    region: skaraborg
    scenarios:
      bas: {}
      batterifabrik:
        demand:
          - {municipality: '1499', ssyk: '821', year: 2027, jobs: 400, ramp_years: 2}
      fler-stannar:
        supply:
          retention: {higher: 0.6}

Every scenario is computed from the same dataset and base parameters (``params/<region>.yaml``)
— demand fit, recruitment need, supply and balance — on an executor (in this process or on Dask
workers, one scenario per task). :func:`run_sweep` returns a long table and a wide one with one
column per scenario.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kompetensprognos import regions
from kompetensprognos.config import ScenarioAdjustment, SupplyParams
from kompetensprognos.dataset import Dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.params import Params

__all__ = ["SweepScenario", "SweepSpec", "load_sweep", "run_sweep"]

#: Columns compared across scenarios (from the balance table when present).
SWEEP_VALUES = ("recruitment_need", "new_entrants", "balance_ratio", "p_shortage")


class SweepScenario(BaseModel):
    """One named scenario: extra demand adjustments and/or supply overrides."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    demand: tuple[ScenarioAdjustment, ...] = ()
    supply: SupplyParams | None = None


class SweepSpec(BaseModel):
    """A sweep: a region and its named scenarios."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    scenarios: dict[str, SweepScenario] = Field(min_length=1)

    @field_validator("region")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in regions.ALL_REGION_IDS:
            raise ValueError(
                f"unknown region {v!r}; use one of {', '.join(regions.ALL_REGION_IDS)}"
            )
        return v


def load_sweep(path: str | os.PathLike[str]) -> SweepSpec:
    """Read and validate a sweep YAML file (codes must be quoted, unknown keys are errors)."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return SweepSpec.model_validate(raw)
    except FileNotFoundError:
        raise KompetensprognosError(f"sweep file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise KompetensprognosError(f"{path}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        lines = [
            f"{path}: `{'.'.join(map(str, e['loc']))}`: {e['msg']} (got {e.get('input')!r})"
            + (" — quote codes in YAML, e.g. '1499'" if e["type"] == "string_type" else "")
            for e in exc.errors()
        ]
        raise KompetensprognosError("\n".join(lines)) from None


def _scenario_params(base: Params, scenario: SweepScenario) -> Params:
    demand = base.demand.model_copy(
        update={"scenarios": (*base.demand.scenarios, *scenario.demand)}
    )
    update: dict[str, Any] = {"demand": demand, "backtest": False}
    if scenario.supply is not None:
        update["supply"] = scenario.supply
    return base.model_copy(update=update)


def _one(task: tuple[str, Params, Dataset]) -> tuple[str, dict[str, pd.DataFrame]]:
    from kompetensprognos.pipeline import run

    name, params, dataset = task
    return name, run(dataset, {params.region: params}).tables[params.region]


def run_sweep(
    spec: SweepSpec,
    dataset: Dataset,
    base: Params | None = None,
    *,
    executor: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Compute every scenario of a sweep.

    Parameters
    ----------
    spec : SweepSpec
    dataset : Dataset
    base : Params, optional
        Base parameters of the region (default: the defaults).
    executor : Executor, optional
        From :func:`kompetensprognos.executors.get_executor`; one scenario per task.

    Returns
    -------
    tuple[pandas.DataFrame, pandas.DataFrame]
        Long: ``scenario, region, ssyk, ssyk_level`` and the compared values; wide: one row per
        occupation and one column per (value, scenario).
    """
    from kompetensprognos.executors import get_executor

    base = base or Params(region=spec.region)
    if base.region != spec.region:
        raise KompetensprognosError(
            f"base parameters are for {base.region}, the sweep for {spec.region}"
        )
    tasks = [(name, _scenario_params(base, s), dataset) for name, s in spec.scenarios.items()]
    ex = executor or get_executor("local")
    results = ex.map(_one, tasks)
    frames = []
    for name, tables in results:
        if "balance" in tables:
            t = tables["balance"]
        else:  # no supply side: compare recruitment need only
            t = tables["recruitment_need"]
        cols = ["region", "ssyk", *[c for c in ("ssyk_level", *SWEEP_VALUES) if c in t.columns]]
        frames.append(t[cols].assign(scenario=name))
    long = pd.concat(frames, ignore_index=True)
    long = long[["scenario", *[c for c in long.columns if c != "scenario"]]]
    keys = [c for c in ("region", "ssyk", "ssyk_level") if c in long.columns]
    values = [c for c in SWEEP_VALUES if c in long.columns]
    wide = long.pivot_table(index=keys, columns="scenario", values=values, sort=False)
    wide = wide.reindex(columns=pd.MultiIndex.from_product([values, list(spec.scenarios)]))
    wide.columns = [f"{v}[{s}]" for v, s in wide.columns]
    return long, wide.reset_index()


def sweep_summary(long: pd.DataFrame, period: tuple[int, int]) -> Mapping[str, float | None]:
    """Total recruitment need per scenario, by the same rule as every headline number.

    Uses :func:`kompetensprognos.headline.headline` on each scenario's rows.
    """
    from kompetensprognos.headline import headline

    out: dict[str, float | None] = {}
    for name, rows in long.groupby("scenario", sort=False):
        out[str(name)] = headline({"recruitment_need": rows}, period).recruitment_need
    return out

"""Everything one regional report needs, computed or loaded in one call.

The outlook notebook calls :func:`load` once; the batch run (:mod:`kompetensprognos.batch`)
computes the tables for all regions up front with :func:`compute_tables` (the demand model is
fitted once, because the region hierarchy is joint) and hands each notebook a ``tables_dir``.
A researcher running the notebook alone in JupyterLab gets the same tables computed in the kernel.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from kompetensprognos import __version__, regions
from kompetensprognos.dataset import Dataset, Manifest, load_dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.params import Params, load_params

__all__ = [
    "CONTEXT_FILE",
    "TABLE_NAMES",
    "ReportContext",
    "compute_tables",
    "load",
    "read_tables",
    "region_panel",
    "show",
]

CONTEXT_FILE = "context.json"
#: Tables written per region, in report order.
TABLE_NAMES = (
    "employment_forecast",
    "recruitment_need",
    "backtest",
    "education_output",
    "supply",
    "balance",
    "balance_education",
    "notes",
)
_CODE_COLUMNS = {"region": str, "ssyk": str, "education": str, "type": str, "section": str}


@dataclass
class ReportContext:
    """Parameters, data provenance and the output tables of one region.

    Attributes
    ----------
    params : Params
    manifest : Manifest
        The dataset's manifest (``manifest.synthetic`` drives the first-page notice).
    fingerprint : str
        Data fingerprint for the reproducibility stamp.
    tables : dict[str, pandas.DataFrame]
        Keyed by :data:`TABLE_NAMES` (those that were produced).
    version : str
        Package version.
    """

    params: Params
    manifest: Manifest
    fingerprint: str
    tables: dict[str, pd.DataFrame]
    version: str = __version__

    @property
    def region_name(self) -> str:
        """The region's display name."""
        return regions.region_name(self.params.region)

    @property
    def break_years(self) -> list[int]:
        """Years where the employment series change basis (marked in the charts)."""
        return sorted({b.year for b in self.manifest.breaks if b.table == "employment"})

    def table(self, name: str) -> pd.DataFrame:
        """One table, or a clear error naming what is missing."""
        if name not in self.tables:
            raise KompetensprognosError(
                f"table {name!r} was not produced for {self.params.region}; produced: {', '.join(self.tables)}"
            )
        return self.tables[name]

    def render(self, func: Any, *names: str, **kwargs: Any) -> None:
        """Show ``func(*tables, **kwargs)``, or a Swedish note when a table was not produced.

        One notebook cell per figure or text, even when a dataset lacks a part (e.g. real data
        without regional education statistics).
        """
        missing = [n for n in names if n not in self.tables]
        if missing:
            notes = self.tables.get("notes")
            why = " ".join(notes["message"]) if notes is not None and len(notes) else ""
            show(f"*Avsnittet kan inte visas: underlag saknas ({', '.join(missing)}). {why}*")
            return
        show(func(*(self.tables[n] for n in names), **kwargs))

    def stamp(self) -> dict[str, Any]:
        """Parameters and provenance as a plain dict (for the reproducibility section)."""
        return json.loads(self.params.model_dump_json())


def compute_tables(
    params_by_region: Mapping[str, Params],
    dataset: Dataset,
    *,
    progress: bool = False,
    executor: Any = None,
) -> dict[str, dict[str, pd.DataFrame]]:
    """Compute every output table for several regions, fitting the demand model once.

    All regions share one demand fit, so their demand settings must agree; their scenario
    adjustments are combined (a new plant in Falköping is in Skaraborg's *and* the county's figures).
    ``executor`` (:mod:`kompetensprognos.executors`) runs the demand model's forecasting chunks.

    Returns
    -------
    dict
        ``{region: {table name: DataFrame}}``.
    """
    from tqdm import tqdm

    from kompetensprognos.pipeline import fit_demand, region_demand_tables

    plist = list(params_by_region.values())
    if not plist:
        return {}
    first = plist[0]
    shared = ("method", "reconciliation", "adjust_breaks", "levels", "calibration_origins")
    for p in plist[1:]:
        diff = [k for k in shared if getattr(p.demand, k) != getattr(first.demand, k)]
        if diff:
            raise KompetensprognosError(
                f"regions {first.region} and {p.region} have different demand settings ({', '.join(diff)}); "
                "the demand model is fitted once for all regions — use the same values"
            )
    scenarios = tuple(dict.fromkeys(s for p in plist for s in p.demand.scenarios))
    end = max(p.period_end for p in plist)
    config = first.demand.model_copy(
        update={"scenarios": scenarios, "end_year": max(first.demand.end_year, end)}
    )
    result, bt = fit_demand(
        dataset,
        config,
        list(params_by_region),
        backtest=any(p.backtest for p in plist),
        progress=progress,
        executor=executor,
    )
    out: dict[str, dict[str, pd.DataFrame]] = {}
    for region, p in tqdm(params_by_region.items(), desc="tables", disable=not progress):
        t = region_demand_tables(
            result,
            dataset,
            region,
            bt if p.backtest else None,
            start=p.period_start,
            end=p.period_end,
            n_sims=p.n_sims,
            seed=p.seed,
        )
        try:
            t.update(_supply_and_balance(dataset, region, result, p))
        except KompetensprognosError as exc:
            # e.g. education data only nationally: the report says so instead of failing
            t["notes"] = pd.DataFrame(
                {"section": ["supply"], "message": [f"Tillgångssidan kunde inte beräknas: {exc}"]}
            )
        out[region] = {k: t[k] for k in TABLE_NAMES if k in t}
    return out


def _supply_and_balance(
    dataset: Dataset, region: str, result: Any, p: Params
) -> dict[str, pd.DataFrame]:
    if dataset.education_output is None or dataset.crosswalk is None or dataset.population is None:
        return {}  # supply needs all three; the report says the section is missing
    try:
        from kompetensprognos.balance import balance_tables
    except ImportError:  # pragma: no cover - balance not installed
        from kompetensprognos.supply import supply_tables

        s = supply_tables(
            dataset, region, p.supply, end_year=p.period_end, n_sims=p.n_sims, seed=p.seed
        )
        return {k: v for k, v in s.items() if k in ("supply", "education_output")}
    tables = balance_tables(
        dataset,
        region,
        result,
        start=p.period_start,
        end=p.period_end,
        supply_params=p.supply,
        balance_params=p.balance,
        n_sims=p.n_sims,
        seed=p.seed,
    )
    return {k: v for k, v in tables.items() if k in TABLE_NAMES}


def read_tables(directory: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
    """Read a region's ``tables/*.csv`` with code columns as text."""
    directory = Path(directory)
    out = {}
    for name in TABLE_NAMES:
        path = directory / f"{name}.csv"
        if path.exists():
            out[name] = pd.read_csv(path, dtype=_CODE_COLUMNS, keep_default_na=True)
    if not out:
        raise KompetensprognosError(f"no tables found in {directory}")
    return out


def load(
    region: str,
    data: str = "demo",
    params_file: str | None = None,
    tables_dir: str | None = None,
    **overrides: Any,
) -> ReportContext:
    """Validate the parameters and load (or compute) one region's tables — the notebook's first call.

    Parameters
    ----------
    region : str
        Region id.
    data : str
        ``"demo"`` or a dataset folder.
    params_file : str, optional
        A ``params/<region>.yaml``; its values are overridden by ``region``, ``data`` and
        ``overrides``.
    tables_dir : str, optional
        Folder of precomputed tables (as written by the batch run, with ``context.json``); when
        empty or None the tables are computed here.
    **overrides
        Other :class:`~kompetensprognos.params.Params` fields (e.g. ``period_start``).

    Returns
    -------
    ReportContext
    """
    if not isinstance(region, str):
        raise KompetensprognosError(f"region must be text such as 'skaraborg' (got {region!r})")
    if params_file:
        params = load_params(params_file, region=region, data=data, **overrides)
    else:
        params = Params.model_validate({"region": region, "data": data, **overrides})
    if tables_dir:
        tdir = Path(tables_dir)
        ctx = json.loads((tdir / CONTEXT_FILE).read_text(encoding="utf-8"))
        return ReportContext(
            params=params,
            manifest=Manifest.model_validate(ctx["manifest"]),
            fingerprint=ctx["fingerprint"],
            tables=read_tables(tdir),
        )
    dataset = load_dataset(params.data)
    tables = compute_tables({region: params}, dataset)[region]
    return ReportContext(
        params=params, manifest=dataset.manifest, fingerprint=dataset.fingerprint(), tables=tables
    )


def show(obj: Any) -> None:
    """Display a figure or Markdown text in a notebook and release the figure's memory."""
    from IPython.display import Markdown, display

    if isinstance(obj, str):
        if obj:
            display(Markdown(obj))
        return
    from matplotlib.figure import Figure

    if isinstance(obj, Figure):
        import matplotlib.pyplot as plt

        from kompetensprognos.pages import figure_alt

        # the alt text travels in the output's metadata; pages.render_html puts it on <img>
        display(obj, metadata={"image/png": {"alt": figure_alt(obj)}})
        plt.close(obj)
        return
    display(obj)


def region_panel(dataset: Dataset, region: str, ssyk_level: int = 2) -> pd.DataFrame:
    """A region's employment series at one SSYK level, on the latest data basis (for the model lab).

    Returns
    -------
    pandas.DataFrame
        ``unique_id`` (SSYK code), ``ds`` (year), ``y`` — ready for the forecasting engine.
    """
    from kompetensprognos.demand import latest_basis

    _, adjusted, _ = latest_basis(dataset)
    members = set(regions.members(region)) if region in regions.ALL_REGION_IDS else {region}
    sel = adjusted[adjusted["municipality"].isin(members)]
    code = sel["ssyk"].str[:ssyk_level] if ssyk_level > 0 else "total"
    panel = (
        sel.assign(unique_id=code).groupby(["unique_id", "year"], as_index=False)["employed"].sum()
    )
    return panel.rename(columns={"year": "ds", "employed": "y"})

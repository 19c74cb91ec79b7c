"""The notebook API: load one region's tables and the parameters they were made with, and show them.

This module is the one reader and writer of a region's ``tables/`` folder: :func:`write_region`
writes the tables as CSV with ``context.json`` (the parameters that were used, the dataset's
manifest and fingerprint, the package version), :func:`read_tables` and :func:`load` read them
back. The outlook notebook calls :func:`load` once; the batch run (:mod:`kompetensprognos.batch`)
computes the tables of all regions up front with :func:`kompetensprognos.pipeline.run` and hands
each notebook a ``tables_dir``, so the page shows exactly the parameters its tables used. A
researcher running the notebook alone in JupyterLab gets the same tables computed in the kernel
by the same orchestrator.
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
from kompetensprognos.datamodel import Manifest
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.outputs import CODE_COLUMNS, CONTEXT_FILE, TABLE_NAMES
from kompetensprognos.params import Params, load_params

__all__ = [
    "CONTEXT_FILE",
    "TABLE_NAMES",
    "ReportContext",
    "load",
    "read_tables",
    "region_panel",
    "show",
    "write_region",
]


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


def read_tables(directory: str | os.PathLike[str]) -> dict[str, pd.DataFrame]:
    """Read a region's ``tables/*.csv`` with code columns as text."""
    directory = Path(directory)
    out = {}
    for name in TABLE_NAMES:
        path = directory / f"{name}.csv"
        if path.exists():
            # only empty fields are missing: "NA" is an education code (Naturvetenskapsprogrammet)
            out[name] = pd.read_csv(path, dtype=CODE_COLUMNS, keep_default_na=False, na_values=[""])
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
        Folder of precomputed tables (as written by :func:`write_region`, with
        ``context.json``); the parameters are then those the tables were computed with, read
        from ``context.json``. When empty or None the tables are computed here by
        :func:`kompetensprognos.pipeline.run`.
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
        ctx = _read_context(tdir)
        used = Params.model_validate(ctx["params"]) if "params" in ctx else params
        if used.region != params.region:
            raise KompetensprognosError(
                f"{tdir / CONTEXT_FILE}: the tables are for {used.region!r}, not {params.region!r}"
            )
        return ReportContext(
            params=used,
            manifest=Manifest.model_validate(ctx["manifest"]),
            fingerprint=ctx["fingerprint"],
            tables=read_tables(tdir),
        )
    from kompetensprognos.dataset import load_dataset
    from kompetensprognos.pipeline import run

    dataset = load_dataset(params.data)
    tables = run(dataset, {region: params}).tables[region]
    return ReportContext(
        params=params, manifest=dataset.manifest, fingerprint=dataset.fingerprint(), tables=tables
    )


def _read_context(directory: Path) -> dict[str, Any]:
    path = directory / CONTEXT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KompetensprognosError(
            f"{path} is missing — the folder was not written by kompetensprognos run"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KompetensprognosError(f"{path} is not valid JSON ({exc}); rerun the report") from None


def write_region(
    directory: str | os.PathLike[str],
    tables: Mapping[str, pd.DataFrame],
    *,
    params: Params | None = None,
    manifest: Manifest | None = None,
    fingerprint: str | None = None,
) -> Path:
    """Write a region's tables as ``<name>.csv`` with ``context.json``, atomically.

    ``directory`` (normally ``OUTPUT/<region>/tables``) is replaced only after every file is
    written. ``context.json`` holds the parameters the tables were computed with, the dataset's
    manifest and fingerprint and the package version; :func:`load` reads them back.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "tables"
    >>> _ = write_region(d, {"notes": pd.DataFrame({"section": ["x"], "message": ["y"]})})
    >>> sorted(p.name for p in d.iterdir())
    ['context.json', 'notes.csv']
    """
    from kompetensprognos.files import atomic_directory

    context: dict[str, Any] = {"version": __version__}
    if params is not None:
        context["params"] = json.loads(params.model_dump_json())
    if manifest is not None:
        context["manifest"] = json.loads(manifest.model_dump_json())
    if fingerprint is not None:
        context["fingerprint"] = fingerprint
    target = Path(directory)
    with atomic_directory(target) as tmp:
        for name, df in tables.items():
            df.to_csv(tmp / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
        (tmp / CONTEXT_FILE).write_text(
            json.dumps(context, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    return target


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
        from IPython.display import Image

        from kompetensprognos.pages import figure_alt, figure_png

        # drawn once into a palette PNG here (not by the inline backend, which draws twice for
        # its tight bounding box and leaves a full-colour PNG for the HTML step to re-encode);
        # the alt text travels in the output's metadata and pages.render_html puts it on <img>
        alt = figure_alt(obj)
        png = figure_png(obj)
        plt.close(obj)
        display(Image(data=png, format="png", metadata={"alt": alt}))
        return
    display(obj)


def region_panel(dataset: Any, region: str, ssyk_level: int = 2) -> pd.DataFrame:
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

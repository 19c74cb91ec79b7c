"""The main job: one outlook report per region, executed with papermill and rendered to HTML.

:func:`run_reports` validates every region's parameters before any kernel starts, fits the
demand model once for all regions, then per region (in parallel) executes
``notebooks/outlook.ipynb`` with papermill, renders standalone HTML without code cells and
writes::

    OUTPUT/<region>/rapport.html     the report (images embedded)
    OUTPUT/<region>/rapport.ipynb    the executed notebook
    OUTPUT/<region>/rapport.xlsx     the tables as a Swedish Excel workbook (excel.py)
    OUTPUT/<region>/rapport.pdf      with ``pdf=True``: the report printed by headless Chromium
    OUTPUT/<region>/tables/*.csv     the output contracts (demand, supply, balance)
    OUTPUT/index.html                the landing page comparing the regions (landing.py)
    OUTPUT/manifest.json             parameters, data fingerprint, version, git revision, timings

Each region is built in a staging folder and moved into place only when complete, so a failing
region leaves no half-written folder and does not stop the others; the run then exits non-zero
with the failing cell named.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from kompetensprognos import __version__, regions
from kompetensprognos.dataset import load_dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.files import replace_directory
from kompetensprognos.params import DEFAULT_PARAMS_DIR, load_region_params
from kompetensprognos.report import CONTEXT_FILE, compute_tables

__all__ = [
    "BatchResult",
    "RegionOutcome",
    "find_notebook",
    "format_failure",
    "render_html",
    "run_reports",
]

NOTEBOOK = "outlook.ipynb"


@dataclass
class RegionOutcome:
    """What happened to one region."""

    region: str
    ok: bool
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None
    headline: dict[str, Any] = field(default_factory=dict)


@dataclass
class BatchResult:
    """Outcome of a batch run."""

    output: Path
    outcomes: list[RegionOutcome]
    timings: dict[str, float]

    @property
    def ok(self) -> bool:
        """True when every region succeeded."""
        return all(o.ok for o in self.outcomes)


def find_notebook(name: str = NOTEBOOK) -> Path:
    """Locate a report notebook: ``./notebooks/`` first, then beside the package source."""
    for base in (Path.cwd() / "notebooks", Path(__file__).resolve().parents[1] / "notebooks"):
        if (base / name).exists():
            return base / name
    raise KompetensprognosError(f"cannot find notebooks/{name} — run from the project folder")


def render_html(notebook: Path, target: Path) -> None:
    """Render an executed notebook to self-contained HTML (see :func:`kompetensprognos.pages.render_html`)."""
    from kompetensprognos.pages import render_html as _render

    _render(notebook, target)


def _headline(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    need = tables.get("recruitment_need")
    if need is not None:
        total = need[need["ssyk"] == "total"]
        if len(total):
            out["recruitment_need"] = round(float(total["recruitment_need"].iloc[0]))
            out["expansion"] = round(float(total["expansion"].iloc[0]))
            out["replacement"] = round(float(total["replacement"].iloc[0]))
    bal = tables.get("balance")
    if bal is not None and "status" in bal:
        level = bal[bal["ssyk_level"] == bal["ssyk_level"].max()] if "ssyk_level" in bal else bal
        out["brist"] = int((level["status"] == "brist").sum())
    return out


def _git_revision() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            cwd=Path(__file__).resolve().parents[1],
        )
        return done.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _execute_region(
    region: str, *, staging: Path, notebook: Path, data: str, timeout: int, kernel: str
) -> RegionOutcome:
    import papermill as pm

    t0 = time.perf_counter()
    folder = staging / region
    try:
        executed = folder / "rapport.ipynb"
        pm.execute_notebook(
            str(notebook),
            str(executed),
            parameters={"region": region, "data": data, "tables_dir": str(folder / "tables")},
            kernel_name=kernel,
            execution_timeout=timeout,
            progress_bar=False,
            cwd=str(folder),
            log_output=False,
        )
        render_html(executed, folder / "rapport.html")
        return RegionOutcome(region, True, time.perf_counter() - t0)
    except Exception as exc:
        cell = getattr(exc, "cell_index", None)
        if cell is None and getattr(exc, "exec_count", None) is not None:
            cell = exc.exec_count
        ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
        return RegionOutcome(
            region, False, time.perf_counter() - t0, f"{ename}: {evalue}".strip(), cell
        )


def run_reports(
    region_ids: Sequence[str] = regions.REGION_IDS,
    *,
    data: str = "demo",
    output: str | os.PathLike[str] = "outputs",
    params_dir: str | os.PathLike[str] = DEFAULT_PARAMS_DIR,
    jobs: int = 2,
    timeout: int = 600,
    kernel: str = "python3",
    progress: bool = True,
    notebook: str | os.PathLike[str] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    pdf: bool = False,
) -> BatchResult:
    """Build the outlook report of every region (the main job).

    Parameters
    ----------
    region_ids : sequence of str
        Regions to build (default: the five report regions).
    data : str
        ``"demo"`` or a dataset folder.
    output : path
        Output folder.
    params_dir : path
        Folder with ``<region>.yaml`` parameter files.
    jobs : int
        Notebooks executed in parallel.
    timeout : int
        Seconds a single notebook cell may run.
    kernel : str
        Jupyter kernel name.
    progress : bool
        Show progress bars on stderr.
    notebook : path, optional
        Notebook to execute (default ``notebooks/outlook.ipynb``).
    executor : {"local", "dask"}
        ``local``: notebooks in ``jobs`` threads of this process (each kernel is its own
        process). ``dask``: the demand model's forecasting chunks and the regions' notebooks run on
        Dask workers — a ``distributed.LocalCluster`` with ``jobs`` workers, or the cluster at
        ``scheduler`` (its workers must see the output folder, e.g. a shared file system).
    scheduler : str, optional
        Dask scheduler address, e.g. ``tcp://10.0.0.5:8786``.
    pdf : bool, default False
        Also print each report to ``rapport.pdf`` with headless Chromium; fails before any work
        when no browser is installed.

    Returns
    -------
    BatchResult
    """

    if executor not in ("local", "dask"):
        raise KompetensprognosError(f"unknown executor {executor!r}; use 'local' or 'dask'")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    params = load_region_params(region_ids, params_dir, data=data)  # before any kernel starts
    if pdf:
        from kompetensprognos.browser import require_browser

        require_browser()  # says how to install one, before any work
    nb_path = Path(notebook).resolve() if notebook else find_notebook()
    out = Path(output).resolve()  # kernels run with the region folder as working directory
    out.mkdir(parents=True, exist_ok=True)
    dataset = load_dataset(data)
    timings["load_data"] = time.perf_counter() - t0

    pool = None
    if executor == "dask":
        from kompetensprognos.executors import DaskExecutor

        pool = DaskExecutor(scheduler, n_workers=max(1, jobs))
    try:
        t1 = time.perf_counter()
        tables = compute_tables(params, dataset, progress=progress, executor=pool)
        timings["tables"] = time.perf_counter() - t1
        outcomes, staging = _build_regions(
            tables,
            params,
            out,
            nb_path,
            data,
            timeout,
            kernel,
            jobs,
            progress,
            pool,
            dataset,
            timings,
        )
    finally:
        if pool is not None:
            pool.close()
    shutil.rmtree(staging, ignore_errors=True)
    result = BatchResult(out, [outcomes[r] for r in tables], timings)
    if pdf:
        from kompetensprognos.browser import print_reports

        print_reports(out, result.outcomes, timings)
    timings["total"] = time.perf_counter() - t0
    from kompetensprognos.landing import write_landing_page

    write_landing_page(
        out,
        {o.region: tables[o.region] for o in result.outcomes if (out / o.region).is_dir()},
        manifest=dataset.manifest,
        failures={o.region: o.error or "" for o in result.outcomes if not o.ok},
        fingerprint=dataset.fingerprint(),
    )
    manifest = {
        "package_version": __version__,
        "git_revision": _git_revision(),
        "data": data,
        "executor": executor,
        "dataset": json.loads(dataset.manifest.model_dump_json()),
        "data_fingerprint": dataset.fingerprint(),
        "parameters": {r: json.loads(p.model_dump_json()) for r, p in params.items()},
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        "regions": [asdict(o) for o in result.outcomes],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return result


def _build_regions(
    tables: dict[str, dict[str, pd.DataFrame]],
    params: dict[str, Any],
    out: Path,
    nb_path: Path,
    data: str,
    timeout: int,
    kernel: str,
    jobs: int,
    progress: bool,
    pool: Any,
    dataset: Any,
    timings: dict[str, float],
) -> tuple[dict[str, RegionOutcome], Path]:
    """Stage tables, execute the notebooks, and move each complete region into place."""
    from tqdm import tqdm

    from kompetensprognos.excel import write_workbook

    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    context = {
        "manifest": json.loads(dataset.manifest.model_dump_json()),
        "fingerprint": dataset.fingerprint(),
    }
    outcomes: dict[str, RegionOutcome] = {}
    try:
        for region, t in tables.items():
            tdir = staging / region / "tables"
            tdir.mkdir(parents=True)
            for name, df in t.items():
                df.to_csv(tdir / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
            (tdir / CONTEXT_FILE).write_text(
                json.dumps(context, ensure_ascii=False, indent=2), encoding="utf-8"
            )
            (staging / region / "params.json").write_text(
                params[region].model_dump_json(indent=2), encoding="utf-8"
            )

        t2 = time.perf_counter()
        run_one = partial(
            _execute_region,
            staging=staging,
            notebook=nb_path,
            data=data,
            timeout=timeout,
            kernel=kernel,
        )
        if pool is not None:
            for outcome in pool.map(run_one, list(tables)):
                outcomes[outcome.region] = outcome
        else:
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as threads:
                futures = [threads.submit(run_one, r) for r in tables]
                for fut in tqdm(
                    as_completed(futures), total=len(futures), desc="reports", disable=not progress
                ):
                    outcome = fut.result()
                    outcomes[outcome.region] = outcome
        timings["notebooks"] = time.perf_counter() - t2

        for region in tables:
            o = outcomes[region]
            if not o.ok:
                continue
            try:
                write_workbook(
                    staging / region / "rapport.xlsx",
                    tables[region],
                    params[region],
                    dataset.manifest,
                    fingerprint=context["fingerprint"],
                )
                o.headline = _headline(tables[region])
                replace_directory(staging / region, out / region)
            except Exception as exc:
                o.ok, o.error = False, f"{type(exc).__name__}: {exc}"
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return outcomes, staging


def format_failure(outcome: RegionOutcome) -> str:
    """One line saying which region failed, in which cell, and why."""
    cell = f" in notebook cell {outcome.failed_cell}" if outcome.failed_cell is not None else ""
    return f"{outcome.region}: failed{cell}: {outcome.error}"

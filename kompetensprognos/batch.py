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

import contextlib
import hashlib
import json
import os
import queue
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
from kompetensprognos.files import (
    atomic_write_text,
    exclusive_output,
    hold_interrupts,
    replace_directory,
    stop_kernels,
)
from kompetensprognos.headline import headline
from kompetensprognos.params import DEFAULT_PARAMS_DIR, load_region_params
from kompetensprognos.pipeline import code_fingerprint
from kompetensprognos.pipeline import run as run_pipeline
from kompetensprognos.report import read_tables, write_region

__all__ = [
    "BatchResult",
    "RegionOutcome",
    "find_notebook",
    "format_failure",
    "render_html",
    "run_reports",
]

NOTEBOOK = "outlook.ipynb"
#: Folder under the output folder where finished tables are cached between runs.
CACHE_DIR = ".cache"
#: What a region's report was built from (see ``run_reports(force=...)``).
STAMP_FILE = "stamp.json"


@dataclass
class RegionOutcome:
    """What happened to one region."""

    region: str
    ok: bool
    seconds: float = 0.0
    error: str | None = None
    failed_cell: int | None = None
    headline: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False


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


#: The kernel's own log (e.g. the "running over TCP without encryption" warning on every start)
#: would fill the terminal; failures still come back as cell errors.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]

#: What a report kernel loads before its first cell (the outlook notebook's imports and the
#: fonts of a first drawing), run silently in a :class:`WarmKernel` while the tables are computed.
WARM_UP = """\
import importlib as _importlib
for _name in ("kompetensprognos.narrative", "kompetensprognos.pages", "kompetensprognos.plots",
              "kompetensprognos.report", "matplotlib.pyplot"):
    _importlib.import_module(_name)
from matplotlib.figure import Figure as _Figure
_fig = _Figure(figsize=(1, 1)); _fig.text(0.5, 0.5, "Åå 0,5 %", weight="bold"); _fig.canvas.draw()
del _importlib, _name, _Figure, _fig
"""


class WarmKernel:
    """A notebook kernel started ahead of its notebook, loading :data:`WARM_UP` meanwhile.

    :func:`run_reports` starts one per region before it computes the tables, so a kernel's start
    and imports (2-3 s CPU a report, on the notebook stage's critical path when each notebook
    starts its own) overlap the table stage. Each notebook still gets a kernel of its own, started
    in its region folder; the kernel has run nothing but :data:`WARM_UP` (silently: no execution
    count, no output, no names left behind). :meth:`execute` hands the kernel to papermill and
    shuts it down afterwards; :meth:`shutdown` stops a kernel that was never used.
    """

    def __init__(self, kernel: str, cwd: Path) -> None:
        from jupyter_client import KernelManager

        # a synchronous manager (its sockets may be used from the thread that runs the notebook)
        # whose clients are asynchronous, as nbclient wants them
        self.km = KernelManager(
            kernel_name=kernel, client_class="jupyter_client.asynchronous.AsyncKernelClient"
        )
        self.km.start_kernel(cwd=str(cwd), extra_arguments=KERNEL_ARGS)
        try:
            self._kc = self.km.blocking_client()
            self._kc.start_channels()
            # queued until the kernel is up
            self._warm_up = self._kc.execute(WARM_UP, silent=True, store_history=False)
        except BaseException:
            self.km.shutdown_kernel(now=True)
            raise

    def execute(self, timeout: float = 60.0, **papermill_kwargs: Any) -> None:
        """Execute a notebook on this kernel (``papermill.execute_notebook``), then shut it down.

        Waits up to ``timeout`` seconds for the warm-up first (a kernel that died on the way is
        reported by papermill as it would report a kernel that failed to start).
        """
        import papermill as pm

        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.km.is_alive():
                try:
                    reply = self._kc.get_shell_msg(timeout=0.5)
                except queue.Empty:
                    continue
                if reply["parent_header"].get("msg_id") == self._warm_up:
                    break
            self._kc.stop_channels()
            pm.execute_notebook(km=self.km, **papermill_kwargs)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop the kernel (at once) and release its files and sockets."""
        with contextlib.suppress(Exception):
            self._kc.stop_channels()
        with contextlib.suppress(Exception):
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
        with contextlib.suppress(Exception):
            self.km.cleanup_resources()


def _execute_region(
    region: str,
    *,
    staging: Path,
    notebook: Path,
    data: str,
    timeout: int,
    kernel: str,
    warm: dict[str, WarmKernel] | None = None,
) -> RegionOutcome:
    t0 = time.perf_counter()
    folder = staging / region
    try:
        executed = folder / "rapport.ipynb"
        run = {
            "input_path": str(notebook),
            "output_path": str(executed),
            "parameters": {"region": region, "data": data, "tables_dir": str(folder / "tables")},
            "kernel_name": kernel,
            "execution_timeout": timeout,
            "progress_bar": False,
            "log_output": False,
        }
        if warm and region in warm:
            warm.pop(region).execute(**run)
        else:
            import papermill as pm

            pm.execute_notebook(
                **run,
                # the kernel starts in the region folder; papermill's own `cwd=` would chdir
                # this whole process, which two threads running notebooks at once leave in the
                # wrong place
                resources={"metadata": {"path": str(folder)}},
                extra_arguments=KERNEL_ARGS,
            )
        render_html(executed, folder / "rapport.html")
        return RegionOutcome(region, True, time.perf_counter() - t0)
    except Exception as exc:
        cell = getattr(exc, "cell_index", None)
        if cell is None and getattr(exc, "exec_count", None) is not None:
            cell = exc.exec_count
        if cell is None:  # a dead kernel or a timeout: the last cell papermill started
            cell = _last_started_cell(folder / "rapport.ipynb")
        ename, evalue = getattr(exc, "ename", type(exc).__name__), getattr(exc, "evalue", str(exc))
        if type(exc).__name__ == "CellTimeoutError":
            evalue = f"the cell ran longer than {timeout} s (raise --timeout if it needs longer)"
        elif type(exc).__name__ == "DeadKernelError":
            evalue = "the kernel died (out of memory, or the process was killed)"
        return RegionOutcome(
            region, False, time.perf_counter() - t0, f"{ename}: {evalue}".strip(), cell
        )


def _write_tables(
    staging: Path,
    tables: dict[str, dict[str, pd.DataFrame]],
    params: dict[str, Any],
    region: str,
    *,
    manifest: Any,
    fingerprint: str,
) -> None:
    """Stage one region's tables (``staging/<region>/tables``) for its notebook."""
    write_region(
        staging / region / "tables",
        tables[region],
        params=params[region],
        manifest=manifest,
        fingerprint=fingerprint,
    )


def _write_and_execute(region: str, *, write: Any, **kwargs: Any) -> RegionOutcome:
    """Stage a region's tables, then execute its notebook (:func:`_execute_region`)."""
    write(region)
    return _execute_region(region, **kwargs)


def _last_started_cell(executed: Path) -> int | None:
    """Index of the last cell papermill started in a partly executed notebook."""
    try:
        import nbformat

        cells = nbformat.read(executed, as_version=4).cells
    except Exception:  # the notebook may not even have been written
        return None
    started = [i for i, c in enumerate(cells) if c.metadata.get("papermill", {}).get("start_time")]
    return started[-1] if started else None


@exclusive_output("output")  # checked (a file? writable?) and locked before any work
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
    force: bool = False,
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
    force : bool, default False
        Recompute everything. Otherwise finished tables are reused from ``OUTPUT/.cache`` and a
        region whose report was built from the same data, parameters, code and notebook
        (``OUTPUT/<region>/stamp.json``) is kept as it is.
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
    staging = None
    warm: dict[str, WarmKernel] = {}
    fresh: dict[str, dict[str, pd.DataFrame]] = {}
    pool = None
    try:
        # a region without a stamp is built whatever the data say: its kernel starts now and
        # loads its imports on the second core while the data are read (the others, if any,
        # start once the stamps are compared)
        certain = [r for r in params if force or not (out / r / STAMP_FILE).exists()]
        if executor == "local" and certain:
            t1 = time.perf_counter()
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
            warm = _start_kernels(certain, staging, kernel)
            timings["kernels_start"] = time.perf_counter() - t1
        t1 = time.perf_counter()
        dataset = load_dataset(data)
        timings["load_data"] = time.perf_counter() - t1

        fingerprint = dataset.fingerprint()
        stamps = {r: _region_stamp(fingerprint, p, nb_path) for r, p in params.items()}
        todo = [r for r in params if force or not _up_to_date(out / r, stamps[r], pdf=pdf)]
        kept = {r: RegionOutcome(r, True, 0.0, skipped=True) for r in params if r not in todo}
        for r, o in kept.items():
            o.headline = json.loads((out / r / STAMP_FILE).read_text(encoding="utf-8"))["headline"]

        if executor == "dask" and todo:
            from kompetensprognos.executors import DaskExecutor

            pool = DaskExecutor(scheduler, n_workers=max(1, jobs))
        outcomes: dict[str, RegionOutcome] = dict(kept)
        if todo:
            if staging is None:
                staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
            later = [r for r in todo if r not in warm]
            if pool is None and later:  # local kernels start now and load their imports meanwhile
                t1 = time.perf_counter()
                warm |= _start_kernels(later, staging, kernel)
                timings["kernels_start"] = timings.get("kernels_start", 0.0) + (
                    time.perf_counter() - t1
                )
            t1 = time.perf_counter()
            computed = run_pipeline(
                dataset,
                {r: params[r] for r in todo},
                progress=progress,
                executor=pool,
                cache_dir=None if force else out / CACHE_DIR,
                jobs=jobs,
                fingerprint=fingerprint,
            )
            fresh = computed.tables
            timings |= {f"tables.{k}": v for k, v in computed.timings.items()}
            timings["tables"] = time.perf_counter() - t1
            built = _build_regions(
                staging,
                fingerprint,
                computed.tables,
                params,
                stamps,
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
                warm,
            )
            outcomes |= built
    finally:
        for k in warm.values():  # kernels of notebooks that never ran (an error, Ctrl-C)
            k.shutdown()
        if pool is not None:
            pool.close()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
    result = BatchResult(out, [outcomes[r] for r in params], timings)
    if pdf:
        from kompetensprognos.browser import print_reports

        print_reports(out, [o for o in result.outcomes if not o.skipped], timings)
    timings["total"] = time.perf_counter() - t0
    from kompetensprognos.landing import write_landing_page

    shown = {
        o.region: read_tables(out / o.region / "tables") if o.skipped else fresh[o.region]
        for o in result.outcomes
        if o.ok and (out / o.region).is_dir()
    }
    write_landing_page(
        out,
        shown,
        manifest=dataset.manifest,
        failures={o.region: o.error or "" for o in result.outcomes if not o.ok},
        fingerprint=fingerprint,
    )
    manifest = {
        "package_version": __version__,
        "git_revision": _git_revision(),
        "data": data,
        "executor": executor,
        "dataset": json.loads(dataset.manifest.model_dump_json()),
        "data_fingerprint": fingerprint,
        "parameters": {r: json.loads(p.model_dump_json()) for r, p in params.items()},
        "timings_seconds": {k: round(v, 2) for k, v in timings.items()},
        "regions": [asdict(o) for o in result.outcomes],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    atomic_write_text(
        out / "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
    )
    return result


def _region_stamp(fingerprint: str, params: Any, notebook: Path) -> str:
    """What a region's report depends on: data, parameters, package code and the notebook."""
    blob = json.dumps(
        {
            "data": fingerprint,
            "params": json.loads(params.model_dump_json()),
            "code": code_fingerprint(),
            "notebook": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _up_to_date(folder: Path, stamp: str, *, pdf: bool = False) -> bool:
    try:
        saved = json.loads((folder / STAMP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = ["rapport.html", "rapport.xlsx", *(["rapport.pdf"] if pdf else [])]
    return saved.get("stamp") == stamp and all((folder / f).exists() for f in wanted)


def _build_regions(
    staging: Path,
    fingerprint: str,
    tables: dict[str, dict[str, pd.DataFrame]],
    params: dict[str, Any],
    stamps: dict[str, str],
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
    warm: dict[str, WarmKernel] | None = None,
) -> dict[str, RegionOutcome]:
    """Stage tables in ``staging``, execute the notebooks, move each complete region into place."""
    from tqdm.auto import tqdm

    outcomes: dict[str, RegionOutcome] = {}
    write = partial(
        _write_tables, staging, tables, params, manifest=dataset.manifest, fingerprint=fingerprint
    )
    # notebooks whose kernels were started ahead run up to three per core at once, with the
    # workbooks: the kernels are running already, and more busy processes than cores keep
    # every core busy to the end, where ``jobs`` at a time leave one idle between rounds and
    # for the last report (five reports on two cores: three rounds, the third half idle).
    # Each region's tables are then written by the thread that runs its notebook, so the first
    # notebooks start while the others' tables are written
    at_once = pool is None and jobs > 1 and warm is not None and set(tables) <= set(warm)
    threads_n = min(len(tables), 3 * jobs) if at_once else max(1, jobs)
    if not at_once:
        for region in tables:
            write(region)

    import_notebook_tools()
    # the workbooks need only the tables: write them in a second process while a core is free
    books = _Workbooks(staging, tables, params, dataset.manifest, fingerprint, jobs)
    if pool is not None or len(tables) < max(1, jobs) or at_once:
        books.start()  # a core is free from the start, or every process shares them
    try:
        t2 = time.perf_counter()
        run_one = partial(
            _write_and_execute if at_once else _execute_region,
            staging=staging,
            notebook=nb_path,
            data=data,
            timeout=timeout,
            kernel=kernel,
            warm=warm,
            **({"write": write} if at_once else {}),
        )
        if pool is not None:
            for outcome in pool.map(run_one, list(tables)):
                outcomes[outcome.region] = outcome
        else:
            with ThreadPoolExecutor(max_workers=threads_n) as threads:
                futures = [threads.submit(run_one, r) for r in tables]
                try:
                    for fut in tqdm(
                        as_completed(futures),
                        total=len(futures),
                        desc="rapporter",
                        disable=not progress,
                    ):
                        outcome = fut.result()
                        outcomes[outcome.region] = outcome
                        if len(tables) - len(outcomes) < jobs:  # a core is free
                            books.start()
                except BaseException:  # Ctrl-C/SIGTERM: start no more regions, stop the kernels
                    threads.shutdown(wait=False, cancel_futures=True)
                    stop_kernels()
                    raise
        timings["notebooks"] = time.perf_counter() - t2

        hold_interrupts()  # from here to the manifest, Ctrl-C waits so the outputs stay consistent
        t3 = time.perf_counter()
        written = books.result()
    finally:
        books.close()  # a process still waiting after an error or Ctrl-C
    timings["workbooks_wait"] = time.perf_counter() - t3
    for region in tables:
        o = outcomes[region]
        if not o.ok:
            continue
        try:
            folder = staging / region
            p = params[region]
            if written.get(region):
                raise KompetensprognosError(f"the Excel workbook failed: {written[region]}")
            o.headline = headline(tables[region], (p.period_start, p.period_end)).as_dict()
            (folder / STAMP_FILE).write_text(
                json.dumps({"stamp": stamps[region], "headline": o.headline}, ensure_ascii=False)
                + "\n",
                encoding="utf-8",
            )
            replace_directory(folder, out / region)
        except Exception as exc:
            o.ok, o.error = False, f"{type(exc).__name__}: {exc}"
    return outcomes


def import_notebook_tools() -> None:
    """Import papermill and nbformat, skipping the IRI grammar jsonschema would compile.

    nbformat imports jsonschema, whose format checkers import ``rfc3987_syntax`` when it is
    installed (it comes with JupyterLab), and that module compiles a Lark grammar on import:
    2.8 s CPU of the 3.4 s ``import papermill`` costs, paid by every run before its first
    notebook. The notebook schema uses no ``iri`` format, so the module is hidden while jsonschema
    is imported; the only effect is that jsonschema's optional ``FormatChecker`` in this process
    does not check the ``iri`` and ``iri-reference`` formats. A jsonschema imported earlier is
    left as it is.
    """
    import sys

    hidden = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if hidden:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # ImportError on import
    try:
        import jsonschema
    finally:
        if hidden:
            del sys.modules["rfc3987_syntax"]
    import papermill

    del jsonschema, papermill


def _start_kernels(regions: Sequence[str], staging: Path, kernel: str) -> dict[str, WarmKernel]:
    """One :class:`WarmKernel` per region, started in ``staging/<region>``.

    A kernel that fails to start is left out: its notebook then starts its own kernel and
    reports the failure as it always did.
    """
    warm = {}
    for region in regions:
        folder = staging / region
        folder.mkdir(parents=True, exist_ok=True)
        try:
            warm[region] = WarmKernel(kernel, folder)
        except Exception:  # e.g. an unknown kernel name: papermill says so for the region
            continue
    return warm


def _write_workbooks(
    staging: Path,
    tables: dict[str, dict[str, pd.DataFrame]],
    params: dict[str, Any],
    manifest: Any,
    fingerprint: str,
) -> dict[str, str]:
    """Write every region's ``rapport.xlsx``; returns ``{region: error}`` for those that failed."""
    from kompetensprognos.excel import write_workbook

    errors = {}
    for region, t in tables.items():
        try:
            write_workbook(
                staging / region / "rapport.xlsx",
                t,
                params[region],
                manifest,
                fingerprint=fingerprint,
            )
        except Exception as exc:  # reported for the region; the others go on
            errors[region] = f"{type(exc).__name__}: {exc}"
    return errors


class _Workbooks:
    """The workbooks, written in a forked process that starts work on :meth:`start`.

    With ``jobs > 1`` the process is forked before any kernel thread starts, so it inherits the
    tables without pickling them; openpyxl is pure Python, so a thread would compete with the
    kernels' clients for the interpreter lock. It waits until :meth:`start`, which the batch
    calls when fewer notebooks remain than ``jobs`` (a core is free: five reports two at a time
    leave one core idle for the last), so the workbooks do not slow the notebooks down; at the
    latest :meth:`result` starts it and waits. With ``jobs <= 1`` they are written here.
    """

    def __init__(
        self,
        staging: Path,
        tables: dict[str, dict[str, pd.DataFrame]],
        params: dict[str, Any],
        manifest: Any,
        fingerprint: str,
        jobs: int,
    ) -> None:
        args = (staging, tables, params, manifest, fingerprint)
        self._errors: dict[str, str] | None = None
        self._regions = list(tables)
        if jobs <= 1 or os.name != "posix":
            self._errors = _write_workbooks(*args)
            return
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        self._go = ctx.Event()
        self._recv, send = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_workbook_process, args=(self._go, send, *args), daemon=True
        )
        self._proc.start()
        send.close()  # the child holds the only writer: a dead child reads as EOF here

    def start(self) -> None:
        """Let the process write the workbooks (idempotent)."""
        if self._errors is None:
            self._go.set()

    def result(self) -> dict[str, str]:
        """``{region: error}`` for the workbooks that failed, once all are written."""
        if self._errors is None:
            self._go.set()
            try:
                self._errors = self._recv.recv()
            except EOFError:  # the process died (killed, out of memory)
                self._errors = dict.fromkeys(self._regions, "the workbook process died")
            finally:
                self._recv.close()
                self._proc.join()
        return self._errors

    def close(self) -> None:
        """Stop a process still waiting (the run failed or was interrupted before :meth:`result`)."""
        proc = getattr(self, "_proc", None)
        if proc is not None and proc.is_alive() and self._errors is None:
            proc.terminate()
            proc.join()


def _workbook_process(go: Any, send: Any, *args: Any) -> None:
    """The forked workbook process: wait for the go, write, send the errors back."""
    import signal

    # the run handles Ctrl-C and stops this process with SIGTERM (_Workbooks.close): end quietly,
    # not through the run's own handlers inherited with the fork
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    while not go.wait(1.0):
        if os.getppid() != parent:  # the run was killed: nothing to write for
            return
    errors = _write_workbooks(*args)
    with contextlib.suppress(OSError):  # the run is gone
        send.send(errors)
        send.close()


def format_failure(outcome: RegionOutcome) -> str:
    """One line saying which region failed, in which cell, and why."""
    cell = f" in notebook cell {outcome.failed_cell}" if outcome.failed_cell is not None else ""
    return f"{outcome.region}: failed{cell}: {outcome.error}"

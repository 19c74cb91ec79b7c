"""The one orchestrator: a dataset and each region's parameters in, every output table out.

:func:`run` is what ``kompetensprognos run`` (the reports), ``kompetensprognos demand``, scenario
sweeps and the notebook (run alone in JupyterLab) all call. It goes through the stages once for
all regions and passes every shared result on instead of recomputing it per region:

1. **demand** — the demand model is fitted once (the region hierarchy is joint), and its
   rolling-origin backtest is run once; when the dataset has a truth to score against (the
   demo's ``imbalance_truth``), the balance calls of earlier origins are backtested once too
   (``balance_backtest``);
2. **graduates** — the graduate projection does not depend on the region, so it is projected
   once per distinct ``(n_sims, seed, period_end)`` of the regions;
3. **regions** — per region, the recruitment need (simulated once) and the supply and balance
   tables built from the shared projection.

With ``cache_dir`` the finished tables are kept under a key made of the dataset's fingerprint,
every region's parameters and the package's source code, so an unchanged rerun reads them
instead of computing (:func:`cache_key`). :func:`kompetensprognos.report.write_region` writes a
region's tables to disk; this module never writes a region folder itself.

Examples
--------
>>> from kompetensprognos.params import Params
>>> key = cache_key("abc123", {"skaraborg": Params(region="skaraborg")}, stages=("demand",))
>>> len(key)
16
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from kompetensprognos import regions
from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandConfig, DemandModel, DemandResult, backtest_demand
from kompetensprognos.demand import backtest_table as _backtest_table
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.files import atomic_write_bytes
from kompetensprognos.outputs import TABLE_NAMES
from kompetensprognos.params import Params
from kompetensprognos.recruitment import recruitment_need

__all__ = [
    "STAGES",
    "PipelineResult",
    "cache_key",
    "code_fingerprint",
    "demand_config",
    "fit_demand",
    "run",
]

#: Stages a run can go through (``demand`` always runs; the others are optional).
STAGES: tuple[str, ...] = ("demand", "supply")

#: The demand settings every region of one run must share (the model is fitted once).
_SHARED_DEMAND = ("method", "reconciliation", "adjust_breaks", "levels", "calibration_origins")


@dataclass(frozen=True)
class PipelineResult:
    """What a run produced.

    Attributes
    ----------
    tables : dict[str, dict[str, pandas.DataFrame]]
        ``{region: {table name: DataFrame}}`` in :data:`TABLE_NAMES` order.
    params : dict[str, Params]
        The parameters each region's tables were computed with.
    fingerprint : str
        The dataset's fingerprint.
    demand : DemandResult | None
        The fitted demand model (``None`` when the tables came from the cache).
    timings : dict[str, float]
        Seconds per stage (wall time).
    cached : bool
        True when the tables were read from the cache.
    """

    tables: dict[str, dict[str, pd.DataFrame]]
    params: dict[str, Params]
    fingerprint: str
    demand: DemandResult | None = None
    timings: dict[str, float] = field(default_factory=dict)
    cached: bool = False


_CODE_HASH: dict[tuple[tuple[str, int, int], ...], str] = {}


def code_fingerprint() -> str:
    """A hash of the package's source files: cached results are reused only by the same code.

    The files are read and hashed once per process while none of them changes (their names,
    sizes and modification times are compared on each call, which costs a directory walk), so
    a batch asks for it per region at no cost and an edited module in a live session still
    gives a new hash.
    """
    root = Path(__file__).resolve().parent
    paths = sorted(root.rglob("*.py"))
    state = tuple((p.relative_to(root).as_posix(), *_size_mtime(p)) for p in paths)
    if state not in _CODE_HASH:
        h = hashlib.sha256()
        for path in paths:
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
        _CODE_HASH.clear()
        _CODE_HASH[state] = h.hexdigest()[:16]
    return _CODE_HASH[state]


def _size_mtime(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


def cache_key(
    fingerprint: str, params_by_region: Mapping[str, Params], *, stages: Sequence[str] = STAGES
) -> str:
    """The cache key of a run: dataset fingerprint, every region's parameters, stages, code."""
    return _digest(
        {
            "data": fingerprint,
            "params": {
                r: json.loads(p.model_dump_json()) for r, p in sorted(params_by_region.items())
            },
            "stages": list(stages),
            "code": code_fingerprint(),
        }
    )


def _digest(payload: Any) -> str:
    """16 hex digits of SHA-256 over a JSON payload (keys sorted): a cache file's key."""
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(blob).hexdigest()[:16]


def demand_config(params_by_region: Mapping[str, Params]) -> DemandConfig:
    """The one demand configuration of a run: the regions' shared settings, all their scenarios.

    Scenario adjustments are combined (a new plant in Falköping is in Skaraborg's *and* the
    county's figures) and the model forecasts to the latest ``period_end``.

    Raises
    ------
    KompetensprognosError
        When two regions disagree on a setting of the shared fit.
    """
    plist = list(params_by_region.values())
    if not plist:
        raise KompetensprognosError("no regions to compute")
    first = plist[0]
    for p in plist[1:]:
        diff = [k for k in _SHARED_DEMAND if getattr(p.demand, k) != getattr(first.demand, k)]
        if diff:
            raise KompetensprognosError(
                f"regions {first.region} and {p.region} have different demand settings "
                f"({', '.join(diff)}); the demand model is fitted once for all regions — "
                "use the same values"
            )
    scenarios = tuple(dict.fromkeys(s for p in plist for s in p.demand.scenarios))
    end = max(p.period_end for p in plist)
    return first.demand.model_copy(
        update={"scenarios": scenarios, "end_year": max(first.demand.end_year, end)}
    )


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
    table, _ = _timed_backtest(dataset, config, list(region_ids), progress, origins=origins)
    return result, table


def _stored(
    cache_dir: str | os.PathLike[str] | None, kind: str, fingerprint: str, config: Any, extra: Any
) -> tuple[Path | None, Any]:
    """Where a backtest of this data, demand configuration and ``extra`` is kept, and its
    stored result (``None`` without a cache folder or when it was never computed)."""
    if cache_dir is None:
        return None, None
    key = _digest(
        {
            "data": fingerprint,
            "demand": json.loads(config.model_dump_json()),
            "extra": extra,
            "code": code_fingerprint(),
        }
    )
    path = Path(cache_dir) / f"{kind}-{key}.pkl"
    return path, _read_cache(path)


def _store(path: Path | None, value: Any) -> None:
    if path is not None:
        atomic_write_bytes(path, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))


def _read_cache(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return pickle.load(fh)  # our own cache file, named by a hash of its inputs
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None  # a missing or unreadable cache is recomputed


def run(
    dataset: Dataset,
    params_by_region: Mapping[str, Params],
    *,
    stages: Sequence[str] = STAGES,
    progress: bool = False,
    executor: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    jobs: int = 1,
    fingerprint: str | None = None,
) -> PipelineResult:
    """Compute every output table of every region, each shared result once.

    Parameters
    ----------
    dataset : Dataset
    params_by_region : mapping of str to Params
        Validated parameters per region id (:func:`kompetensprognos.params.load_region_params`).
    stages : sequence of str
        ``("demand", "supply")`` (default) or ``("demand",)`` for the demand tables only.
    progress : bool
        One progress bar per stage on stderr.
    executor : Executor, optional
        Runs the demand model's forecasting chunks (:mod:`kompetensprognos.executors`).
    cache_dir : path, optional
        Keep and reuse finished tables here (see :func:`cache_key`).
    jobs : int, default 1
        With 2 or more, the backtests run in two worker processes while the model is fitted
        and the region tables are built (same results, less wall time on a multi-core machine).
    fingerprint : str, optional
        ``dataset.fingerprint()`` when the caller has it already (it is computed otherwise: the
        demo takes most of a second, before the backtests can start).

    Returns
    -------
    PipelineResult
    """
    unknown = sorted(set(stages) - set(STAGES))
    if unknown or "demand" not in stages:
        raise KompetensprognosError(
            f"stages must include 'demand' and only name {', '.join(STAGES)} (got {list(stages)})"
        )
    params = dict(params_by_region)
    for r in params:
        regions.get_region(r)  # a clear error for an unknown id, before any work
    config = demand_config(params)
    fingerprint = fingerprint or dataset.fingerprint()
    cache_path = None
    if cache_dir is not None:
        key = cache_key(fingerprint, params, stages=stages)
        cache_path = Path(cache_dir) / f"tables-{key}.pkl"
        hit = _read_cache(cache_path)
        if hit is not None and set(hit) == set(params):
            return PipelineResult(hit, params, fingerprint, timings={"cache": 0.0}, cached=True)

    timings: dict[str, float] = {}
    want_backtest = any(p.backtest for p in params.values())
    want_calls = want_backtest and "supply" in stages and _can_score_calls(dataset)
    # the backtests depend on the data, the demand settings and (calls) the balance settings,
    # not on a title or a period: kept apart, a change of those does not redo them
    bt_path, backtest = (
        _stored(cache_dir, "backtest", fingerprint, config, sorted(params))
        if want_backtest
        else (None, None)
    )
    calls_path, calls = (
        _stored(
            cache_dir,
            "calls",
            fingerprint,
            config,
            {r: [p.balance.model_dump_json(), p.seed] for r, p in params.items() if p.backtest},
        )
        if want_calls
        else (None, None)
    )
    need_backtest = want_backtest and backtest is None
    need_calls = want_calls and calls is None
    pending = pending_calls = None
    pool = None
    if (need_backtest or need_calls) and jobs > 1:
        # the backtests are independent of the fit: run them on the second core meanwhile
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # with the fit in this process and the kernels starting, two workers keep both cores
        # busy. With both backtests to run, the demand backtest's origins that the call
        # backtest refits the demand model at go first in the call backtest's worker: there it
        # finds their Theta fits kept (``models._THETA_FITS``) instead of optimising them
        # again; the other origins go to the second worker
        pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
        if need_backtest and need_calls:
            pending, pending_calls = _submit_backtests(pool, dataset, config, params)
        elif need_backtest:
            pending = pool.submit(_one_thread, _timed_backtest, dataset, config, list(params))
        else:
            pending_calls = pool.submit(_one_thread, _timed_calls, dataset, config, params)
    blas = threadpool_limits(1)  # as in the workers: see _one_thread
    try:
        t = time.perf_counter()
        result = DemandModel(config, progress=progress, executor=executor).fit(dataset)
        timings["demand_fit"] = time.perf_counter() - t
        if need_backtest and pending is None:
            backtest, timings["backtest"] = _timed_backtest(
                dataset, config, list(params), progress=progress
            )
            _store(bt_path, backtest)
        tables = _region_tables(
            dataset, params, stages, result, backtest, progress, timings, split=jobs > 1
        )
        if pending is not None:
            t = time.perf_counter()
            backtest, timings["backtest"] = pending.result()
            timings["backtest_wait"] = time.perf_counter() - t
            _store(bt_path, backtest)
            for region, p in params.items():
                if p.backtest:
                    bt = backtest[backtest["region"] == region].reset_index(drop=True)
                    tables[region] = _ordered(tables[region] | {"backtest": bt})
        if want_calls:
            t = time.perf_counter()
            if pending_calls is not None:
                calls, timings["call_backtest"] = pending_calls.result()
                timings["call_backtest_wait"] = time.perf_counter() - t
                _store(calls_path, calls)
            elif calls is None:
                calls, timings["call_backtest"] = _timed_calls(dataset, config, params)
                _store(calls_path, calls)
            for region, p in params.items():
                if p.backtest and region in calls:
                    tables[region] = _ordered(tables[region] | {"balance_backtest": calls[region]})
    finally:
        blas.restore_original_limits()
        if pool is not None:
            pool.shutdown(cancel_futures=True)

    if cache_path is not None:
        atomic_write_bytes(cache_path, pickle.dumps(tables, protocol=pickle.HIGHEST_PROTOCOL))
    return PipelineResult(tables, params, fingerprint, demand=result, timings=timings)


def _one_thread(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with the BLAS library on one thread.

    The run's arrays are small (paths × occupations): a second BLAS thread saves no time and
    spins on a core the other processes of the run need — the region stage took about 13 %
    more CPU with two threads than with one, for the same numbers (``docs/performance.md``).
    """
    with threadpool_limits(1):
        return fn(*args)


class _Part:
    """One item of the tuple a future returns, read like a future of its own."""

    def __init__(self, future: Any, index: int) -> None:
        self.future, self.index = future, index

    def result(self) -> Any:
        return self.future.result()[self.index]


class _Backtest:
    """The demand backtest table from the rows of its origins, computed in parts (a future)."""

    def __init__(self, parts: list[Any], levels: Sequence[float]) -> None:
        self.parts, self.levels = parts, levels

    def result(self) -> tuple[pd.DataFrame, float]:
        done = [p.result() for p in self.parts]
        rows = pd.concat([r for r, _ in done], ignore_index=True)
        # the order of one backtest_demand call over all origins: model by model, origins in
        # turn (the summary sums rows in this order)
        rank = {m: i for i, m in enumerate(dict.fromkeys(done[0][0]["model"]))}
        order = np.lexsort((rows["origin"].to_numpy(), rows["model"].map(rank).to_numpy()))
        rows = rows.iloc[order].reset_index(drop=True)
        return _backtest_table(rows, levels=self.levels), sum(t for _, t in done)


def _submit_backtests(
    pool: Any, dataset: Dataset, config: DemandConfig, params: Mapping[str, Params]
) -> tuple[_Backtest, _Part]:
    """Both backtests on two workers: the call backtest after the demand backtest's origins it
    shares, in one process; the other origins in the other (see :func:`run`)."""
    import inspect

    from kompetensprognos.balance_calls import call_backtest
    from kompetensprognos.demand import backtest_origins

    param = inspect.signature(call_backtest).parameters.get("origins")
    calls_at = () if param is None or param.default is param.empty else tuple(param.default)
    origins = backtest_origins(dataset)
    shared = [o for o in origins if o in calls_at]
    rest = [o for o in origins if o not in shared]
    first = pool.submit(_one_thread, _backtest_then_calls, dataset, config, params, shared)
    parts: list[Any] = [_Part(first, 0)] if shared else []
    if rest:
        parts.append(pool.submit(_one_thread, _backtest_rows, dataset, config, list(params), rest))
    return _Backtest(parts, config.levels), _Part(first, 1)


def _backtest_rows(
    dataset: Dataset, config: DemandConfig, region_ids: list[str], origins: Sequence[int]
) -> tuple[pd.DataFrame, float]:
    """The scored rows of the demand backtest at ``origins`` and the seconds they took."""
    t = time.perf_counter()
    rows = backtest_demand(dataset, config=config, origins=origins, regions_=region_ids)
    return rows, time.perf_counter() - t


def _backtest_then_calls(
    dataset: Dataset, config: DemandConfig, params: Mapping[str, Params], origins: list[int]
) -> tuple[tuple[pd.DataFrame, float] | None, tuple[dict[str, pd.DataFrame], float]]:
    """The demand backtest's rows at ``origins`` (if any), then the call backtest."""
    rows = _backtest_rows(dataset, config, list(params), origins) if origins else None
    return rows, _timed_calls(dataset, config, params)


def _ordered(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {k: tables[k] for k in TABLE_NAMES if k in tables}


def _timed_backtest(
    dataset: Dataset,
    config: DemandConfig,
    region_ids: list[str],
    progress: bool = False,
    origins: Sequence[int] | None = None,
) -> tuple[pd.DataFrame, float]:
    t = time.perf_counter()
    detail = backtest_demand(
        dataset, config=config, origins=origins, regions_=region_ids, progress=progress
    )
    return _backtest_table(detail, levels=config.levels), time.perf_counter() - t


def _can_score_calls(dataset: Dataset) -> bool:
    """The call backtest needs a truth to score against (the demo's ``imbalance_truth``) and
    the stock–flow tables its supply model refits."""
    if dataset.imbalance_truth is None or not _has_supply_data(dataset):
        return False
    from kompetensprognos.labour_supply import missing_channels

    return not missing_channels(dataset)


def _timed_calls(
    dataset: Dataset, config: DemandConfig, params: Mapping[str, Params]
) -> tuple[dict[str, pd.DataFrame], float]:
    """The balance calls of earlier origins scored against the truth, per region
    (:func:`kompetensprognos.balance_calls.call_backtest`, every model refitted per origin).

    Regions with the same balance settings share one backtest run.
    """
    from kompetensprognos.balance_calls import call_backtest

    t = time.perf_counter()
    groups: dict[str, list[str]] = {}
    for region, p in params.items():
        if p.backtest:
            groups.setdefault(p.balance.model_dump_json(), []).append(region)
    out: dict[str, pd.DataFrame] = {}
    for members in groups.values():
        first = params[members[0]]
        calls = call_backtest(
            dataset,
            region_ids=tuple(members),
            demand_config=config,
            balance_params=first.balance,
            seed=first.seed,
            # the report compares our calls with today's state carried forward; the old
            # graduates-only method is scored in benchmarks/supply_balance.py instead (a third
            # of the call backtest's CPU time for a method no report uses any more)
            with_today=False,
            old_method=False,
        )
        for region in members:
            out[region] = calls[calls["region"] == region].reset_index(drop=True)
    return out, time.perf_counter() - t


def _region_tables(
    dataset: Dataset,
    params: dict[str, Params],
    stages: Sequence[str],
    result: DemandResult,
    backtest: pd.DataFrame | None,
    progress: bool,
    timings: dict[str, float],
    split: bool = False,
) -> dict[str, dict[str, pd.DataFrame]]:
    """Each region's tables from the shared results (graduates and supply fitted once here).

    With ``split``, half of the regions are computed in a forked process meanwhile (the same
    tables: each region draws from its own seed).
    """
    from kompetensprognos.replacement import dataset_exit_rates

    shared: dict[tuple[int, int, int], dict[str, Any]] = {}
    exit_rates = None
    with_supply = "supply" in stages and _has_supply_data(dataset)
    missing: list[str] = []
    if with_supply:
        from kompetensprognos.education import project_graduates
        from kompetensprognos.labour_supply import SupplyConfig, SupplyModel, missing_channels

        missing = missing_channels(dataset)
        t = time.perf_counter()
        for p in params.values():
            k = (p.n_sims, p.seed, p.period_end)
            if k not in shared:
                shared[k] = {"projection": project_graduates(dataset, k[2], n_sims=k[0], seed=k[1])}
        timings["graduates"] = time.perf_counter() - t
        if not missing:
            t = time.perf_counter()
            exit_rates = dataset_exit_rates(dataset)
            for (_, seed, end), s in shared.items():
                s["supply"] = SupplyModel(SupplyConfig(end_year=end, seed=seed)).fit(
                    dataset, projection=s["projection"]
                )
                s["exit_rates"] = exit_rates
            timings["supply_fit"] = time.perf_counter() - t

    t = time.perf_counter()
    if exit_rates is None:
        exit_rates = dataset_exit_rates(dataset)  # once, not per region and step
    state = _RegionState(dataset, params, stages, result, backtest, shared, exit_rates,
                         with_supply, missing)  # fmt: skip
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    ids = list(params)
    # with a second core, the last half of the regions go to a forked process that finds the
    # shared results in its copy of this one's memory (nothing to pickle but the tables back)
    forked = ids[(len(ids) + 1) // 2 :] if split and len(ids) > 1 else []
    pending = _fork_regions(state, forked) if forked else None
    if pending is None:
        forked = []
    try:
        with tqdm(total=len(ids), desc="regioner", disable=not progress) as bar:
            for region in ids[: len(ids) - len(forked)]:
                tables[region] = _one_region(state, region)
                bar.update()
            if pending is not None:
                tables |= pending.future.result()
                bar.update(len(forked))
    finally:
        if pending is not None:  # also when a region here failed: no process left behind
            pending.pool.shutdown(cancel_futures=True)
    tables = {r: tables[r] for r in ids}
    timings["regions"] = time.perf_counter() - t
    return tables


class _RegionState(NamedTuple):
    """What every region's tables are computed from (see :func:`_region_tables`)."""

    dataset: Dataset
    params: dict[str, Params]
    stages: Sequence[str]
    result: DemandResult
    backtest: pd.DataFrame | None
    shared: dict[tuple[int, int, int], dict[str, Any]]
    exit_rates: pd.DataFrame
    with_supply: bool
    missing: list[str]


def _one_region(state: _RegionState, region: str) -> dict[str, pd.DataFrame]:
    """One region's tables from the shared results."""
    p = state.params[region]
    tabs: dict[str, pd.DataFrame] = {
        "employment_forecast": state.result.employment_forecast(region),
        "recruitment_need": recruitment_need(
            state.result,
            state.dataset,
            region,
            p.period_start,
            p.period_end,
            p.n_sims,
            p.seed,
            rates=state.exit_rates,
        ),
    }
    if state.backtest is not None and p.backtest:
        bt = state.backtest
        tabs["backtest"] = bt[bt["region"] == region].reset_index(drop=True)
    notes: list[str] = []
    if state.with_supply:
        try:
            tabs |= _supply_and_balance(
                state.dataset, region, state.result, p, tabs["recruitment_need"],
                state.shared[(p.n_sims, p.seed, p.period_end)],
            )  # fmt: skip
        except KompetensprognosError as exc:
            # e.g. education data only nationally: the report says so instead of failing
            notes.append(f"Tillgångssidan kunde inte beräknas: {exc}")
        if state.missing:
            from kompetensprognos.narrative import missing_channels_text

            notes.append(missing_channels_text(state.missing))
    elif "supply" in state.stages:
        notes.append("Underlaget saknar tabellerna education_output, crosswalk eller population.")
    if notes:
        tabs["notes"] = pd.DataFrame({"section": ["supply"] * len(notes), "message": notes})
    return _ordered(tabs)


#: The state a forked region process reads (set just before the fork, never pickled).
_FORKED_STATE: _RegionState | None = None


def _regions_in_fork(region_ids: list[str]) -> dict[str, dict[str, pd.DataFrame]]:
    assert _FORKED_STATE is not None
    return {r: _one_region(_FORKED_STATE, r) for r in region_ids}


class _ForkedRegions(NamedTuple):
    """The tables of some regions, computed in a forked process: its pool and future."""

    pool: Any
    future: Any


def _fork_regions(state: _RegionState, region_ids: list[str]) -> _ForkedRegions | None:
    """Start ``region_ids`` in a forked process, or ``None`` where fork is not available (the
    caller shuts the pool down)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    global _FORKED_STATE
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    _FORKED_STATE = state
    try:
        # the process is forked at the first submit, so it sees the state set above
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        return _ForkedRegions(pool, pool.submit(_one_thread, _regions_in_fork, region_ids))
    finally:
        _FORKED_STATE = None


def _has_supply_data(dataset: Dataset) -> bool:
    return not (
        dataset.education_output is None or dataset.crosswalk is None or dataset.population is None
    )


def _supply_and_balance(
    dataset: Dataset,
    region: str,
    result: DemandResult,
    p: Params,
    need: pd.DataFrame,
    shared: dict[str, Any],
) -> dict[str, pd.DataFrame]:
    """The supply and balance tables of one region: the stock–flow supply with the centred
    balance when the dataset has the stock–flow tables, else the graduates-only balance."""
    from kompetensprognos.balance import region_balance
    from kompetensprognos.graduates_balance import graduates_only_balance_tables
    from kompetensprognos.supply import education_output_table

    proj = shared["projection"]
    if "supply" in shared:
        tables = region_balance(
            shared["supply"], result, dataset, region, start=p.period_start, end=p.period_end,
            balance_params=p.balance, n_sims=p.n_sims, seed=p.seed,
            exit_rates=shared["exit_rates"],
        )  # fmt: skip
        tables["education_output"] = education_output_table(
            dataset, region, p.supply, end_year=p.period_end, projection=proj
        )
    else:
        tables = graduates_only_balance_tables(
            dataset, region, result, start=p.period_start, end=p.period_end,
            supply_params=p.supply, balance_params=p.balance, n_sims=p.n_sims, seed=p.seed,
            need=need, projection=proj,
        )  # fmt: skip
    return {k: v for k, v in tables.items() if k in TABLE_NAMES}

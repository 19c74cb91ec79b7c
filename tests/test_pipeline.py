"""Tests of the one orchestrator: shared results computed once, caching, one import graph."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

import kompetensprognos
from kompetensprognos import pipeline
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.params import Params

PACKAGE = Path(kompetensprognos.__file__).resolve().parent


def _module_imports(path: Path, modules: set[str]) -> set[str]:
    """Package modules a file imports anywhere, lazy imports inside functions included.

    ``from pkg import sub`` where ``pkg.sub`` is a module counts as importing ``pkg.sub`` only.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for sub in ast.walk(tree):
        if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("kompetensprognos"):
            submodules = {f"{sub.module}.{a.name}" for a in sub.names} & modules
            found |= submodules or {str(sub.module)}
        elif isinstance(sub, ast.Import):
            found.update(a.name for a in sub.names if a.name.startswith("kompetensprognos"))
    return found


def _import_graph() -> dict[str, set[str]]:
    modules = {
        ".".join(("kompetensprognos", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(
            ".__init__"
        ): p
        for p in PACKAGE.rglob("*.py")
    }
    names = set(modules)
    return {m: _module_imports(p, names) & names - {m} for m, p in modules.items()}


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return [*stack[stack.index(n) :], n]
            if n not in state and (c := visit(n)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_cycle_finder_finds_a_planted_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_package_import_graph_has_no_cycle() -> None:
    graph = _import_graph()
    assert "kompetensprognos.pipeline" in graph["kompetensprognos.batch"]
    # the package's __init__ re-exports; leave it out (every module imports its version)
    graph = {m: deps - {"kompetensprognos"} for m, deps in graph.items() if m != "kompetensprognos"}
    assert _find_cycle(graph) is None, _find_cycle(graph)


def test_regions_must_share_the_demand_settings() -> None:
    a = Params(region="skaraborg")
    b = Params.model_validate({"region": "fyrbodal", "demand": {"method": "naive"}})
    with pytest.raises(KompetensprognosError, match="method"):
        pipeline.demand_config({"skaraborg": a, "fyrbodal": b})


def test_cache_key_changes_with_data_params_and_stages() -> None:
    p = {"skaraborg": Params(region="skaraborg")}
    key = pipeline.cache_key("fp", p)
    assert key == pipeline.cache_key("fp", p)
    assert key != pipeline.cache_key("other", p)
    assert key != pipeline.cache_key("fp", {"skaraborg": Params(region="skaraborg", seed=1)})
    assert key != pipeline.cache_key("fp", p, stages=("demand",))


@pytest.mark.slow
def test_run_computes_shared_results_once_and_reuses_the_cache(
    small_demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kompetensprognos import education
    from kompetensprognos.dataset import load_dataset

    small_demo = load_dataset(small_demo_dir)

    calls = {"graduates": 0}
    real = education.project_graduates

    def counting(*args, **kwargs):
        calls["graduates"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(education, "project_graduates", counting)
    fast = {"n_sims": 60, "backtest": False, "demand": {"calibration_origins": 2}}
    params = {r: Params.model_validate({"region": r, **fast}) for r in ("skaraborg", "fyrbodal")}
    first = pipeline.run(small_demo, params, cache_dir=tmp_path)
    assert calls["graduates"] == 1  # one projection for both regions
    assert set(first.tables) == {"skaraborg", "fyrbodal"} and not first.cached
    assert "balance" in first.tables["skaraborg"]
    again = pipeline.run(small_demo, params, cache_dir=tmp_path)
    assert again.cached and calls["graduates"] == 1
    for region in params:
        for name, df in first.tables[region].items():
            pd.testing.assert_frame_equal(df, again.tables[region][name])


def test_regions_split_across_a_forked_process_give_the_same_tables(small_demo_dir: Path) -> None:
    """With a second core half of the regions are computed in a forked process: the tables
    (every region's own seed) and their order must not change."""
    from kompetensprognos.dataset import load_dataset
    from kompetensprognos.demand import DemandModel

    ds = load_dataset(small_demo_dir)
    fast = {"n_sims": 50, "backtest": False, "demand": {"calibration_origins": 2}}
    ids = ("skaraborg", "fyrbodal", "sjuharad")
    params = {
        r: Params.model_validate({"region": r, **fast, "seed": 3 + i}) for i, r in enumerate(ids)
    }
    result = DemandModel(pipeline.demand_config(params)).fit(ds)
    alone = pipeline._region_tables(ds, params, pipeline.STAGES, result, None, False, {})
    split = pipeline._region_tables(
        ds, params, pipeline.STAGES, result, None, False, {}, split=True
    )
    assert list(split) == list(ids) and pipeline._FORKED_STATE is None
    for region in ids:
        assert list(split[region]) == list(alone[region])
        for name, df in alone[region].items():
            pd.testing.assert_frame_equal(df, split[region][name])


@pytest.mark.slow
def test_backtest_on_a_second_process_gives_the_same_tables(small_demo_dir: Path) -> None:
    from kompetensprognos.dataset import load_dataset

    ds = load_dataset(small_demo_dir)
    params = {
        "skaraborg": Params.model_validate(
            {"region": "skaraborg", "n_sims": 60, "demand": {"calibration_origins": 2}}
        )
    }
    one = pipeline.run(ds, params, stages=("demand",), jobs=1)
    two = pipeline.run(ds, params, stages=("demand",), jobs=2)
    assert "backtest" in two.timings and list(two.tables["skaraborg"]) == list(
        one.tables["skaraborg"]
    )
    for name, df in one.tables["skaraborg"].items():
        pd.testing.assert_frame_equal(df, two.tables["skaraborg"][name])


def test_code_fingerprint_follows_an_edited_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(pipeline, "__file__", str(pkg / "pipeline.py"))
    first = pipeline.code_fingerprint()
    assert pipeline.code_fingerprint() == first  # unchanged files: same hash (memoised)
    (pkg / "a.py").write_text("x = 22\n")  # a different size, so a different state
    assert pipeline.code_fingerprint() != first


@pytest.mark.slow
@pytest.mark.parametrize("jobs", [1, 2])
def test_call_backtest_reaches_each_region_that_asks_for_backtests(
    small_demo_dir: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    from kompetensprognos import balance_calls
    from kompetensprognos.dataset import load_dataset

    ds = load_dataset(small_demo_dir)
    seen: list[tuple[str, ...]] = []

    def fake(dataset, *, region_ids, **kwargs):  # the real one needs the demo's truth tables
        seen.append(tuple(region_ids))
        return pd.DataFrame(
            {"region": list(region_ids), "origin": 2018, "ssyk": "222", "status": "brist"}
        )

    monkeypatch.setattr(balance_calls, "call_backtest", fake)
    monkeypatch.setattr(pipeline, "_can_score_calls", lambda dataset: True)
    fast = {"n_sims": 60, "demand": {"calibration_origins": 2}}
    params = {
        "skaraborg": Params.model_validate({"region": "skaraborg", **fast}),
        "fyrbodal": Params.model_validate({"region": "fyrbodal", **fast, "backtest": False}),
    }
    res = pipeline.run(ds, params, jobs=jobs)
    if jobs == 1:  # with 2 the fake runs in the forked process, where `seen` is its own copy
        assert seen == [("skaraborg",)]  # once per run, only for regions with backtests
    calls = res.tables["skaraborg"]["balance_backtest"]
    assert calls["region"].tolist() == ["skaraborg"] and calls["ssyk"].tolist() == ["222"]
    assert "balance_backtest" not in res.tables["fyrbodal"]
    assert "call_backtest" in res.timings


@pytest.mark.slow
def test_backtests_are_reused_when_only_report_settings_change(
    small_demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kompetensprognos.dataset import load_dataset

    ds = load_dataset(small_demo_dir)
    runs = {"backtest": 0}
    real = pipeline._timed_backtest

    def counting(*args, **kwargs):
        runs["backtest"] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_timed_backtest", counting)
    fast = {"region": "skaraborg", "n_sims": 60, "demand": {"calibration_origins": 2}}
    first = pipeline.run(ds, {"skaraborg": Params.model_validate(fast)}, cache_dir=tmp_path)
    retitled = Params.model_validate({**fast, "title": "Ny titel"})
    second = pipeline.run(ds, {"skaraborg": retitled}, cache_dir=tmp_path)
    assert not second.cached  # the tables were computed again (the parameters changed) ...
    assert runs["backtest"] == 1  # ... but the backtest was read back
    pd.testing.assert_frame_equal(
        first.tables["skaraborg"]["backtest"], second.tables["skaraborg"]["backtest"]
    )
    other = Params.model_validate({**fast, "demand": {"calibration_origins": 2, "method": "naive"}})
    pipeline.run(ds, {"skaraborg": other}, stages=("demand",), cache_dir=tmp_path)
    assert runs["backtest"] == 2  # another demand model: backtested again

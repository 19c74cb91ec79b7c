"""Tests of the batch run: per-region notebooks, staging, failures, HTML without code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from kompetensprognos.batch import run_reports
from kompetensprognos.params import ParamsError

pytestmark = pytest.mark.slow


FAILS_IN_FYRBODAL = (
    'if region == "fyrbodal":\n    raise RuntimeError("boom in " + region)',
    'print("rapport för", region)',
    'import os\nprint("mapp", os.path.basename(os.getcwd()))',
)


def test_failing_region_is_reported_and_leaves_nothing_behind(
    small_demo_dir: Path,
    fast_params_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_notebook,
) -> None:
    monkeypatch.chdir(tmp_path)  # a relative output folder, as `make report` passes it
    out = tmp_path / "out"
    result = run_reports(
        ["fyrbodal", "skaraborg"],
        data=str(small_demo_dir),
        output="out",
        params_dir=fast_params_dir,
        jobs=2,
        progress=False,
        notebook=make_notebook("tiny.ipynb", *FAILS_IN_FYRBODAL),
    )
    assert not result.ok
    by = {o.region: o for o in result.outcomes}
    assert by["skaraborg"].ok and not by["fyrbodal"].ok
    assert "boom in fyrbodal" in by["fyrbodal"].error and by["fyrbodal"].failed_cell is not None
    assert not (out / "fyrbodal").exists()
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == ["index.html", "manifest.json", "skaraborg"]
    sk = out / "skaraborg"
    for name in ("rapport.html", "rapport.ipynb", "rapport.xlsx", "tables/employment_forecast.csv"):
        assert (sk / name).exists(), name
    page = (sk / "rapport.html").read_text(encoding="utf-8")
    assert "rapport för skaraborg" in page
    assert "mapp skaraborg" in page  # the kernel ran in the region's folder
    assert Path.cwd() == tmp_path  # ... and this process's working folder did not move
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["data_fingerprint"] and {r["region"] for r in manifest["regions"]} == {
        "fyrbodal",
        "skaraborg",
    }
    assert "misslyckades" in (out / "index.html").read_text(encoding="utf-8")
    tables = pd.read_csv(sk / "tables" / "recruitment_need.csv", dtype={"ssyk": str})
    assert "total" in set(tables["ssyk"]) and tables["ssyk"].str.match(r"^(\d{1,3}|total)$").all()


def test_parameters_are_validated_before_any_kernel(tmp_path: Path) -> None:
    bad = tmp_path / "params"
    bad.mkdir()
    (bad / "skaraborg.yaml").write_text("region: skaraborg\nunknown_setting: 1\n")
    with pytest.raises(ParamsError, match="unknown_setting"):
        run_reports(["skaraborg"], output=tmp_path / "out", params_dir=bad, progress=False)
    assert not (tmp_path / "out").exists()


def test_a_failing_data_load_stops_the_kernels_started_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kernels start while the data are read; when reading fails they are stopped and the
    staging folder is removed (nothing left behind, no kernel left running)."""
    import psutil

    from kompetensprognos import batch

    def broken(data: str) -> None:
        raise OSError("disk error while reading the data")

    started: list[str] = []
    real_start = batch._start_kernels

    def spy(regions, staging, kernel):  # type: ignore[no-untyped-def]
        started.extend(regions)
        return real_start(regions, staging, kernel)

    monkeypatch.setattr(batch, "load_dataset", broken)
    monkeypatch.setattr(batch, "_start_kernels", spy)
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(OSError, match="disk error"):
        run_reports(["skaraborg"], output=tmp_path / "out", progress=False)
    assert started == ["skaraborg"]  # the kernel was started before the data were read
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []  # no staging folder
    left = [
        p for p in psutil.Process().children(recursive=True)
        if p.pid not in before and p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    ]  # fmt: skip
    assert left == []


def test_outlook_report_end_to_end(
    small_demo_dir: Path, fast_params_dir: Path, tmp_path: Path
) -> None:
    from kompetensprognos.narrative import fmt_int

    out = tmp_path / "out"
    result = run_reports(
        ["skaraborg"],
        data=str(small_demo_dir),
        output=out,
        params_dir=fast_params_dir,
        jobs=1,
        progress=False,
    )
    assert result.ok, [o.error for o in result.outcomes]
    html = (out / "skaraborg" / "rapport.html").read_text(encoding="utf-8")
    # no code cells: nbconvert wraps code input in <div class="highlight ...">; markdown remains
    assert 'class="highlight' not in html and "Kompetensprognos för Skaraborg" in html
    assert "data:image/png;base64" in html  # figures embedded
    assert "Syntetiska demonstrationsdata" in html
    need = pd.read_csv(out / "skaraborg" / "tables" / "recruitment_need.csv", dtype={"ssyk": str})
    total = need.loc[need["ssyk"] == "total", "recruitment_need"].iloc[0]
    assert fmt_int(total) in html
    balance = pd.read_csv(out / "skaraborg" / "tables" / "balance.csv", dtype={"ssyk": str})
    level = (
        balance[balance["ssyk_level"] == balance["ssyk_level"].max()]
        if "ssyk_level" in balance
        else balance
    )
    n_brist = int((level["status"] == "brist").sum())
    assert re.search(rf"\b{n_brist}\b", html)
    # the evidence section shows the scored balance calls, or says in Swedish they were not run
    if (out / "skaraborg" / "tables" / "balance_backtest.csv").exists():
        assert "Hur väl har tidigare bedömningar av balansen stämt?" in html
    else:
        assert "Bedömningarna har inte bakåttestats" in html
    # figures are palette PNGs drawn by report.show, each with alt text; no Python warning leaks
    images = re.findall(r'<img alt="([^"]+)" src="data:image/png;base64,([^"]{0,40})', html)
    assert len(images) >= 6 and all(alt.startswith("Diagram") for alt, _ in images)
    assert not re.search(r"\b[A-Z]\w*Warning\b", html)


def test_dask_executor_gives_the_same_outputs_as_local(
    small_demo_dir: Path, fast_params_dir: Path, tmp_path: Path, make_notebook
) -> None:
    pytest.importorskip("distributed")
    nb = make_notebook("tiny.ipynb", *FAILS_IN_FYRBODAL)
    kw = {
        "data": str(small_demo_dir),
        "params_dir": fast_params_dir,
        "jobs": 2,
        "progress": False,
        "notebook": nb,
    }
    local = run_reports(["sjuharad", "skaraborg"], output=tmp_path / "local", **kw)
    dask = run_reports(["sjuharad", "skaraborg"], output=tmp_path / "dask", executor="dask", **kw)
    assert local.ok and dask.ok
    for region in ("sjuharad", "skaraborg"):
        for name in ("employment_forecast", "recruitment_need"):
            a = pd.read_csv(
                tmp_path / "local" / region / "tables" / f"{name}.csv", dtype={"ssyk": str}
            )
            b = pd.read_csv(
                tmp_path / "dask" / region / "tables" / f"{name}.csv", dtype={"ssyk": str}
            )
            pd.testing.assert_frame_equal(a, b)
        assert "rapport för " + region in (tmp_path / "dask" / region / "rapport.html").read_text(
            encoding="utf-8"
        )
    assert json.loads((tmp_path / "dask" / "manifest.json").read_text())["executor"] == "dask"


def test_yaml_parameters_reach_the_tables_the_page_and_the_stamp(
    small_demo_dir: Path, tmp_path: Path
) -> None:
    """Issue 15: the page shows the parameters its tables were computed with."""
    params = tmp_path / "params"
    params.mkdir()
    (params / "skaraborg.yaml").write_text(
        "region: skaraborg\n"
        "title: Kompetensutsikter för Skaraborgs kompetensforum\n"
        "period_end: 2028\n"
        "n_sims: 100\n"
        "backtest: false\n"
        "demand:\n  method: naive\n  calibration_origins: 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = run_reports(
        ["skaraborg"], data=str(small_demo_dir), output=out, params_dir=params, jobs=1,
        progress=False,
    )  # fmt: skip
    assert result.ok, [o.error for o in result.outcomes]
    need = pd.read_csv(out / "skaraborg" / "tables" / "recruitment_need.csv", dtype={"ssyk": str})
    assert set(need["period_end"]) == {2028}
    context = json.loads((out / "skaraborg" / "tables" / "context.json").read_text())
    assert context["params"]["demand"]["method"] == "naive" and context["params"]["n_sims"] == 100
    html = (out / "skaraborg" / "rapport.html").read_text(encoding="utf-8")
    assert "Kompetensutsikter för Skaraborgs kompetensforum" in html
    assert "2023\u20132028" in html and "2023\u20132030" not in html
    assert "demand.method=naive" in html and "n_sims=100" in html
    assert "demand.method=theta" not in html


def test_unchanged_rerun_keeps_reports_and_a_change_rebuilds(
    small_demo_dir: Path,
    fast_params_dir: Path,
    tmp_path: Path,
    make_notebook,
    capfd: pytest.CaptureFixture[str],
) -> None:
    nb = make_notebook("tiny.ipynb", 'print("rapport för", region)')
    kw = {
        "data": str(small_demo_dir),
        "output": tmp_path / "out",
        "jobs": 1,
        "progress": False,
        "notebook": nb,
    }
    first = run_reports(["skaraborg"], params_dir=fast_params_dir, **kw)
    assert "running over TCP" not in capfd.readouterr().err  # a quiet run: no kernel log
    html = tmp_path / "out" / "skaraborg" / "rapport.html"
    stamp = html.stat().st_mtime_ns
    again = run_reports(["skaraborg"], params_dir=fast_params_dir, **kw)
    assert first.ok and again.ok
    assert again.outcomes[0].skipped and html.stat().st_mtime_ns == stamp
    assert again.outcomes[0].headline == first.outcomes[0].headline
    assert "notebooks" not in again.timings
    changed = tmp_path / "changed"
    changed.mkdir()
    text = (fast_params_dir / "skaraborg.yaml").read_text().replace("n_sims: 200", "n_sims: 150")
    (changed / "skaraborg.yaml").write_text(text)
    third = run_reports(["skaraborg"], params_dir=changed, **kw)
    assert third.ok and not third.outcomes[0].skipped and html.stat().st_mtime_ns != stamp
    forced = run_reports(["skaraborg"], params_dir=changed, force=True, **kw)
    assert not forced.outcomes[0].skipped

"""SCB fetch: table resolution, mapping to contracts, breaks, cache/resume, offline, CLI."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import httpx
import pytest

from kompetensprognos.dataset import load_dataset, validate_dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.sources import scb
from kompetensprognos.sources.pxweb import PxWebClient, PxWebError, PxWebUnreachableError

FIXTURES = Path(__file__).parent / "fixtures" / "pxweb"


def _load_fake():
    if "fake_scb" in sys.modules:
        return sys.modules["fake_scb"]
    spec = importlib.util.spec_from_file_location("fake_scb", FIXTURES / "fake_scb.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_scb"] = module
    spec.loader.exec_module(module)
    return module


fake_scb = _load_fake()


def _fake() -> object:
    fake = fake_scb.FakeScb()
    for path in sorted((FIXTURES / "scb").glob("*.json")):
        fake.add_table(json.loads(path.read_text(encoding="utf-8")))
    return fake


class FakeTime:
    """Sleeping advances the clock; nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _client(fake, transport: httpx.BaseTransport | None = None, **kwargs) -> PxWebClient:
    t = FakeTime()
    fake.clock = t.clock
    return PxWebClient(
        transport=transport or fake.transport(), sleep=t.sleep, clock=t.clock, **kwargs
    )


@pytest.fixture(scope="module")
def fetched(tmp_path_factory):
    """One full fetch (all sources), shared by the read-only tests below."""
    fake = _fake()
    out = tmp_path_factory.mktemp("scb") / "dataset"
    report = scb.fetch_scb(out, years=(2017, 2024), client=_client(fake), progress=False)
    return out, report, fake


def test_fetch_builds_a_dataset_folder_that_validates(fetched):
    out, report, _ = fetched
    assert validate_dataset(out) == []
    ds = load_dataset(out)
    assert not ds.manifest.synthetic
    emp = ds.employment
    assert sorted(emp["year"].unique()) == list(range(2017, 2025))
    assert set(emp["sex"]) == {"men", "women"}
    assert "011" in set(emp["ssyk"]) and "0002" in set(emp["ssyk"])  # leading zeros kept
    assert emp["region"].str.fullmatch(r"\d{4}").all() and "1384" in set(emp["region"])
    assert set(ds.employment_age["age"]) == set(scb._AGE_BANDS)
    assert set(ds.employment_age["region"]) == {"14"}
    pop = ds.population
    assert set(pop["kind"]) == {"observed", "projection"}
    assert pop.loc[pop.kind == "observed", "year"].max() == 2024
    assert pop.loc[pop.kind == "projection", "year"].min() == 2025
    assert pop["age"].max() == 100
    edu = ds.education_output
    assert set(edu["type"]) == {"yh"} and set(edu["education"]) == {"48", "34", "72", "52"}
    assert edu["starters"].notna().all()
    sums = ds.crosswalk.groupby(["type", "education"])["share"].sum()
    assert ((sums - 1).abs() < 1e-9).all()
    assert set(ds.crosswalk["type"]) == {"yh", "higher"}


def test_each_year_comes_from_the_newest_table_and_breaks_are_recorded(fetched):
    out, report, fake = fetched
    assert (
        report.tables["employment"]
        == "TAB1001 (2017-2018), TAB1002 (2019-2019), TAB4436 (2020-2024)"
    )
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    breaks = {(b["year"], b["table"]): b["description"] for b in manifest["breaks"]}
    assert "TAB1001 to TAB1002" in breaks[(2019, "employment")]
    bas = breaks[(2020, "employment")]
    assert "RAMS → BAS" in bas and "level ratio new/old in overlap years 2020:" in bas
    assert "16-64 to 16-69" in breaks[(2023, "employment")]
    assert (2020, "employment_age") in breaks
    # the overlap years were fetched from the older table too (for the ratio) but not kept
    years_asked = {
        y
        for c in fake.data_calls()
        if "/TAB1002/" in c.path
        for y in (
            c.params.get("valuecodes[Tid]", "").split(",")
            if c.body is None
            else next(s["valueCodes"] for s in c.body["selection"] if s["variableCode"] == "Tid")
        )
    }
    assert years_asked == {"2019", "2020", "2021"}


def test_unfitting_tables_are_skipped_with_reasons_and_unmapped_cells_reported(fetched):
    _, report, _ = fetched
    assert "education_flows" in report.skipped
    assert "TAB6928: lacks field" in report.skipped["education_flows"]
    assert any("Övrigt" in n and "without a SUN 2020 field" in n for n in report.notes)
    manifest_notes = load_dataset(fetched[0]).manifest.notes
    assert "education_flows skipped" in manifest_notes


def test_rerun_uses_the_cache(tmp_path):
    fake = _fake()
    out = tmp_path / "ds"
    first = scb.fetch_scb(
        out, years=(2019, 2021), sources=["employment"], client=_client(fake), progress=False
    )
    calls = len(fake.data_calls())
    assert first.downloaded == first.queries == calls
    second = scb.fetch_scb(
        out, years=(2019, 2021), sources=["employment"], client=_client(fake), progress=False
    )
    assert len(fake.data_calls()) == calls
    assert second.downloaded == 0
    third = scb.fetch_scb(
        out,
        years=(2019, 2021),
        sources=["employment"],
        client=_client(fake),
        progress=False,
        refresh=True,
    )
    assert third.downloaded == third.queries


def test_interrupted_fetch_writes_nothing_and_resumes_from_cache(tmp_path):
    fake = _fake()
    fake.config["maxDataCells"] = 2000  # many small queries
    out = tmp_path / "ds"
    client = _client(fake)
    plan_size = None

    original = fake.__call__

    class Boom(Exception):
        pass

    count = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/data"):
            count["n"] += 1
            if count["n"] == 4:
                raise Boom("connection lost")
        return original(request)

    client = _client(fake, httpx.MockTransport(flaky))
    with pytest.raises(Boom):
        scb.fetch_scb(
            out, years=(2020, 2021), sources=["employment"], client=client, progress=False
        )
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.is_dir() and validate_dataset(p) == []]
    report = scb.fetch_scb(
        out, years=(2020, 2021), sources=["employment"], client=_client(fake), progress=False
    )
    plan_size = report.queries
    assert (
        report.downloaded == plan_size - 3
    )  # the three answers before the interruption were cached
    assert validate_dataset(out) == []


def test_offline_writes_nothing(tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Name or service not known", request=request)

    client = PxWebClient(
        transport=httpx.MockTransport(handler), sleep=lambda s: None, clock=lambda: 0.0
    )
    out = tmp_path / "ds"
    with pytest.raises(PxWebUnreachableError, match="cannot reach statistikdatabasen.scb.se"):
        scb.fetch_scb(out, client=client, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_a_folder_that_is_not_a_dataset(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(KompetensprognosError, match="not a dataset folder"):
        scb.fetch_scb(tmp_path, client=_client(_fake()), progress=False)


def test_required_source_without_a_table_fails_clearly(tmp_path):
    fake = fake_scb.FakeScb()  # serves no tables at all
    with pytest.raises(KompetensprognosError, match="SCB source 'employment'.*no SCB table fits"):
        scb.fetch_scb(tmp_path / "ds", client=_client(fake), progress=False)


def test_server_error_is_not_swallowed_during_resolution(tmp_path):
    fake = _fake()
    fake.queued += [("/tables/TAB4436/metadata", httpx.Response(500))] * 10
    client = _client(fake, max_retries=1)
    with pytest.raises(PxWebError, match="500"):
        scb.fetch_scb(tmp_path / "ds", sources=["employment"], client=client, progress=False)


def test_cli_fetch_scb(tmp_path, monkeypatch, capsys):
    from kompetensprognos.cli import main

    fake = _fake()
    monkeypatch.setattr(scb, "PxWebClient", lambda **kw: _client(fake))
    out = tmp_path / "ds"
    code = main(
        ["data", "fetch", "scb", "--out", str(out), "--years", "2020-2022", "--only", "employment"]
    )
    assert code == 0
    assert validate_dataset(out) == []
    assert "TAB4436" in capsys.readouterr().out


def test_cli_offline_message(tmp_path, monkeypatch, capsys):
    from kompetensprognos.cli import main

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network", request=request)

    monkeypatch.setattr(
        scb,
        "PxWebClient",
        lambda **kw: PxWebClient(transport=httpx.MockTransport(handler), sleep=lambda s: None),
    )
    code = main(["data", "fetch", "scb", "--out", str(tmp_path / "ds")])
    assert code != 0
    err = capsys.readouterr().err
    assert "cannot reach statistikdatabasen.scb.se — use --data demo or a dataset folder" in err
    assert "Traceback" not in err
    assert not (tmp_path / "ds").exists()


def test_fetched_dataset_runs_through_the_report_pipeline(
    fetched, fast_params_dir, tmp_path, make_notebook
):
    """Issue 7's done-when: a folder fetched from recorded responses runs through `run`."""
    from kompetensprognos.batch import run_reports

    out_dir, _, _ = fetched
    notebook = make_notebook(
        "check.ipynb",
        "from kompetensprognos import report\n"
        "ctx = report.load(region, data=data, tables_dir=tables_dir)\n"
        "print(sorted(ctx.tables))",
    )
    result = run_reports(
        ["goteborgsregionen"],
        data=str(out_dir),
        output=tmp_path / "out",
        params_dir=fast_params_dir,
        jobs=1,
        progress=False,
        notebook=notebook,
    )
    assert result.ok, [o.error for o in result.outcomes]
    tables = tmp_path / "out" / "goteborgsregionen" / "tables"
    assert (tables / "employment_forecast.csv").exists() and (
        tables / "recruitment_need.csv"
    ).exists()

"""SCB fetch: table resolution, mapping to contracts, breaks, cache/resume, offline, CLI."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest

from kompetensprognos import classifications
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
    return fake_scb.FakeScb.from_dir(FIXTURES / "scb")


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
    from kompetensprognos.sources.recording import RecordingTransport

    fake = _fake()
    base = tmp_path_factory.mktemp("scb")
    out = base / "dataset"
    client = _client(fake, RecordingTransport(base / "recorded", inner=fake.transport()))
    report = scb.fetch_scb(out, years=(2017, 2024), client=client, progress=False)
    return out, report, fake


@pytest.fixture(scope="module")
def replayed(fetched):
    """The same fetch replayed offline from what the live fetch recorded."""
    out = fetched[0].parent / "replayed"
    client = scb.make_client(replay=fetched[0].parent / "recorded")
    scb.fetch_scb(out, years=(2017, 2024), client=client, use_cache=False, progress=False)
    return out


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


def test_employment_uses_the_real_ids_without_searching(fetched):
    """Item 1: real v2 ids are hints; v1 names (which 404 in v2) are gone; no search needed."""
    _, report, fake = fetched
    assert report.tables["employment"] == (
        "TAB4396 (2017-2018), TAB3119 (2019-2019), TAB4434 (2020-2024)"
    )
    for source in scb.SOURCES.values():
        assert all(re.fullmatch(r"TAB\d+", h) for h in source.hints), source.key
    asked = [c.params.get("query", "") for c in fake.calls if c.path.rstrip("/") == "/tables"]
    assert not any("SSYK 2012 region kön" in q for q in asked)  # employment's search never ran


def test_tab4436_is_the_yreg56_family_and_is_rejected():
    """Item 2: TAB4436 has SNI2007 — it must not be taken for YREG58."""
    fake = _fake()
    del fake.tables["TAB4434"]  # the BAS hint is missing → the search fallback finds TAB4436
    resolved, rejected = scb.resolve(_client(fake), scb.SOURCES["employment"], (2014, 2024))
    assert [r.meta.table_id for r in resolved] == ["TAB4396", "TAB3119"]
    assert any(r.startswith("TAB4436: broken down by industry (SNI2007)") for r in rejected)
    assert "TAB4434: not found" in rejected


def test_discontinued_generations_are_found(fetched):
    """Item 3: YREG57 and YREG57N are discontinued; only includeDiscontinued=true finds them."""
    out, report, fake = fetched
    age = load_dataset(out).employment_age
    assert sorted(age["year"].unique()) == list(range(2017, 2025))
    assert "UNVERIFIED-YREG57 (2017-2018)" in report.tables["employment_age"]
    searches = [c.params for c in fake.calls if c.path.rstrip("/") == "/tables"]
    age_search = [p for p in searches if "ålder" in p.get("query", "")]
    assert age_search and all(p.get("includeDiscontinued") == "true" for p in age_search)


def test_education_flows_real_shape_becomes_a_raw_table(fetched):
    """Item 4: TAB6928 has Utbildngrupp, KonAlderFodelseland and periods like 2023-2024."""
    out, report, _ = fetched
    assert "education_flows" not in report.skipped
    raw = pd.read_csv(out / "raw" / "education_flows.csv", dtype=str)
    assert set(raw["period"]) >= {"2023-2024"} and "2024" in set(raw["year"])
    assert raw["education_group"].nunique() == 4
    assert set(raw["measure"]) == {f"000008Q{c}" for c in "GHIJKLMNO"}
    assert set(raw["region"]) <= set(load_dataset(out).employment["region"])


def test_mandatory_variables_without_elimination_do_not_abort(fetched):
    """Item 5: InrikesUtrikes (TAB6008) and Alder (TAB4446) cannot be eliminated."""
    out, report, fake = fetched
    proj_calls = [c for c in fake.data_calls() if "/TAB6008/" in c.path]
    assert proj_calls
    for call in proj_calls:
        sel = _selection(call)
        assert sel["InrikesUtrikes"] == ["UNVERIFIED-tot"]  # the total, "inrikes och utrikes födda"
    cw_calls = [c for c in fake.data_calls() if "/TAB4446/" in c.path]
    assert _selection(cw_calls[0])["Alder"] == ["016-24", "025-44", "045-64", "065-69"]
    assert {"population_projection", "crosswalk"} <= set(report.tables)


def test_an_optional_source_that_cannot_be_mapped_is_reported_and_skipped(tmp_path):
    fake = _fake()
    yh = fake.tables["UNVERIFIED-YHSTUDT1DN"]["metadata"]["dimension"]["Kon"]["category"]
    yh["index"] = {"1": 0, "2": 1}  # no total, and Kon cannot be eliminated
    yh["label"] = {"1": "män", "2": "kvinnor"}
    report = scb.fetch_scb(
        tmp_path / "ds",
        years=(2020, 2021),
        sources=["employment", "yh_graduates"],
        client=_client(fake),
        progress=False,
    )
    assert "Kon" in report.skipped["yh_graduates"]
    assert "UNVERIFIED-YHStudT1dN" in report.skipped["yh_graduates"]
    assert validate_dataset(tmp_path / "ds") == []


def test_a_required_source_names_table_variable_and_expectation(tmp_path):
    fake = _fake()
    for table_id in ("TAB4434", "TAB3119", "TAB4396"):
        kon = fake.tables[table_id]["metadata"]["dimension"]["Kon"]["category"]
        kon["index"], kon["label"] = {"TotSa": 0}, {"TotSa": "totalt"}
    with pytest.raises(KompetensprognosError) as err:
        scb.fetch_scb(tmp_path / "ds", sources=["employment"], client=_client(fake), progress=False)
    message = str(err.value)
    assert "SCB source 'employment'" in message
    assert "variable Kon" in message and "expected codes 1 (men) and 2 (women)" in message
    assert "TotSa (totalt)" in message
    assert not (tmp_path / "ds").exists()


def test_age_bands_with_an_en_dash_are_accepted(fetched):
    """Item 6: the BAS age table writes "16–24 år"."""
    out, report, fake = fetched
    meta = fake.tables["UNVERIFIED-YREG57BAS"]["metadata"]
    assert "16–24 år" in meta["dimension"]["Alder"]["category"]["label"].values()
    age = load_dataset(out).employment_age
    assert set(age["age"]) == set(scb._AGE_BANDS)
    assert set(age.loc[age["year"] >= 2020, "age"]) == set(scb._AGE_BANDS)


def test_yh_is_not_double_counted_and_lands_on_real_occupations(fetched):
    """Item 7: "Teknik och tillverkning" twice; SUN 1-digit crosswalk; upper-secondary rows."""
    out, _, fake = fetched
    ds = load_dataset(out)
    edu = ds.education_output
    tech = edu[(edu["education"] == "52") & (edu["year"] == 2022)]["graduates"].sum()
    expected = fake.value(
        "UNVERIFIED-YHStudT1dN",
        {
            "Kon": "UNVERIFIED-tot",
            "UtbildnInriktn": "UNVERIFIED-13",
            "RegionUtb": "14",
            "ContentsCode": "UNVERIFIED-A3",
            "Tid": "2022",
        },
    )
    assert tech == pytest.approx(expected)  # the SUN-group duplicate (UNVERIFIED-S5) is not added
    cw = ds.crosswalk
    keys = set(cw["type"] + "/" + cw["education"])
    assert {f"yh/{e}" for e in edu["education"]} <= keys  # no YH education falls to 0002
    programmes = classifications.programmes()
    vocational = programmes.loc[programmes["kind"] == "yrkesprogram", "code"]
    assert {f"gymnasium/{p}" for p in vocational} <= keys
    assert not (cw["ssyk"] == "0002").any()


def test_yh_county_rows_are_spread_over_municipalities(fetched):
    """Item 8: supply needs municipality (or subregion) rows; YH is published per county."""
    out, report, fake = fetched
    edu = load_dataset(out).education_output
    assert edu["region"].str.fullmatch(r"14\d\d").all()
    total = edu[(edu["education"] == "48") & (edu["year"] == 2021)]["graduates"].sum()
    expected = fake.value(
        "UNVERIFIED-YHStudT1dN",
        {
            "Kon": "UNVERIFIED-tot",
            "UtbildnInriktn": "UNVERIFIED-01",
            "RegionUtb": "14",
            "ContentsCode": "UNVERIFIED-A3",
            "Tid": "2021",
        },
    )
    assert total == pytest.approx(expected)
    assert any("spread over its municipalities" in n for n in report.notes)


def test_breaks_name_the_registers_correctly(fetched):
    """Item 9: YREG58 → YREG58N (2019) is RAMS → RAMS; YREG58N → YREG58BAS (2020) is RAMS → BAS."""
    out, _, fake = fetched
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    breaks = {(b["year"], b["table"]): b["description"] for b in manifest["breaks"]}
    first = breaks[(2019, "employment")]
    assert "TAB4396 to TAB3119" in first and "RAMS → RAMS" in first and "BAS" not in first
    bas = breaks[(2020, "employment")]
    assert "TAB3119 to TAB4434" in bas and "RAMS → BAS" in bas
    assert "level ratio new/old in overlap years 2020:" in bas
    assert "16-64 to 16-69" in breaks[(2023, "employment")]
    assert (2020, "employment_age") in breaks
    # the overlap years were fetched from the older table too (for the ratio) but not kept
    years_asked = {
        y for c in fake.data_calls() if "/TAB3119/" in c.path for y in _selection(c)["Tid"]
    }
    assert years_asked == {"2019", "2020", "2021"}


def test_fixtures_carry_the_real_ids_and_variable_codes():
    """Item 10: no invented table ids; the known tables have the variables the evidence shows."""
    fake = _fake()
    for table_id in fake.tables:
        assert table_id in scb.KNOWN_TABLES or table_id.startswith("UNVERIFIED-"), table_id

    def dims(table_id: str) -> list[str]:
        return fake.tables[table_id]["metadata"]["id"]

    def codes(table_id: str, dim: str) -> list[str]:
        return list(fake.tables[table_id]["metadata"]["dimension"][dim]["category"]["index"])

    assert dims("TAB4436") == ["Region", "Yrke2012", "SNI2007", "Kon", "ContentsCode", "Tid"]
    assert "00" in codes("TAB4436", "SNI2007") and codes("TAB4436", "ContentsCode") == ["000006XZ"]
    assert dims("TAB4446") == [
        "Yrke2012",
        "UtbinriktnSUN2020",
        "Alder",
        "Kon",
        "ContentsCode",
        "Tid",
    ]
    assert codes("TAB4446", "UtbinriktnSUN2020") == [str(i) for i in range(10)]
    assert "065-69" in codes("TAB4446", "Alder") and codes("TAB4446", "ContentsCode") == [
        "000006Y3"
    ]
    assert dims("TAB6928") == [
        "Region",
        "Utbildngrupp",
        "KonAlderFodelseland",
        "ContentsCode",
        "Tid",
    ]
    assert all(re.fullmatch(r"\d{4}-\d{4}", p) for p in codes("TAB6928", "Tid"))
    assert "InrikesUtrikes" in dims("TAB6008")
    assert {"100+1", "TotSA"} <= set(codes("TAB5557", "Alder"))
    assert {"BE0101N1", "BE0101N2"} == set(codes("TAB638", "ContentsCode"))


def test_reference_note_agrees_with_the_known_ids(shared_dir):
    """The ids in KNOWN_TABLES are the ones the public-evidence note lists."""
    note = (shared_dir / "reference" / "scb_pxwebapi2_tables.md").read_text(encoding="utf-8")
    for table_id in scb.KNOWN_TABLES:
        assert table_id in note, table_id


def _selection(call) -> dict[str, list[str]]:
    if call.body is not None:
        return {s["variableCode"]: s["valueCodes"] for s in call.body["selection"]}
    return {
        k[len("valuecodes[") : -1]: v.split(",")
        for k, v in call.params.items()
        if k.startswith("valuecodes[")
    }


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
    fake.queued += [("/tables/TAB4434/metadata", httpx.Response(500))] * 10
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
    assert "TAB4434" in capsys.readouterr().out


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


def test_replayed_dataset_runs_through_the_report_pipeline(
    fetched, replayed, fast_params_dir, tmp_path, make_notebook
):
    """A folder replayed offline from a recording is the fetched one and runs through `run`."""
    from kompetensprognos.batch import run_reports

    for path in sorted(fetched[0].rglob("*.csv")):
        assert (replayed / path.relative_to(fetched[0])).read_bytes() == path.read_bytes()
    assert validate_dataset(replayed) == []
    out_dir = replayed
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
    supply_csv = pd.read_csv(tables / "supply.csv", dtype={"ssyk": str})
    assert supply_csv["new_entrants"].sum() > 0  # YH graduates reach real occupations
    assert supply_csv.loc[supply_csv["ssyk"] == "0002", "new_entrants"].sum() == pytest.approx(0)


def test_supply_flow_tables_are_mapped_by_search_as_raw_tables(fetched):
    """The RegionInd19 indicators: v2 ids unknown, found by search, unverified codes, raw."""
    out, report, _ = fetched
    for key, v1 in [
        ("stock_flow", "RegionInd19U3N"),
        ("labour_status", "RegionInd19U1aN1"),
        ("commuting", "RegionInd19U2N1"),
        ("yh_admissions", "RegionInd19U5aN"),
    ]:
        assert report.tables[key].startswith(f"UNVERIFIED-{v1} ("), key
        raw = pd.read_csv(out / "raw" / f"{key}.csv", dtype=str)
        assert list(raw.columns[:10]) == list(scb.RAW_COLUMNS)
        # no VG municipalities in these tables: county 14 and the FA regions (fallback)
        assert set(raw["region"]) == {"14", "FA08", "FA09", "FA12"}
        assert set(raw["sex"]) == {"UNVERIFIED-tot"}
        assert scb.SOURCES[key].evidence == "v1 only" and not scb.SOURCES[key].required
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    ids = {t["table_id"] for t in provenance["scb"]["tables"]}
    assert {"TAB4396", "TAB3119", "TAB4434", "TAB638", "TAB6008", "TAB4446", "TAB6928"} <= ids
    assert all(t["retrieved"] for t in provenance["scb"]["tables"])


def test_plan_makes_metadata_calls_only_and_prints_the_plan(tmp_path, monkeypatch, capsys):
    from kompetensprognos.cli import main

    fake = _fake()
    monkeypatch.setattr(scb, "PxWebClient", lambda **kw: _client(fake))
    code = main(["data", "fetch", "scb", "--plan", "--years", "2018-2021"])
    assert code == 0
    out = capsys.readouterr().out
    assert fake.data_calls() == []
    assert list(tmp_path.iterdir()) == []
    assert "TAB4396" in out and "TAB3119" in out and "TAB4434" in out
    assert "table covers 2014-2018; used for 2018-2018" in out
    assert "InrikesUtrikes" in out and "1 of 3: UNVERIFIED-tot" in out
    assert "cells in 1 call(s)" in out and "total:" in out
    assert "evidence: v1 only" in out


def test_record_then_replay_offline_gives_the_identical_dataset(tmp_path):
    from kompetensprognos.sources.recording import RecordingTransport

    fake = _fake()
    record = tmp_path / "rec"
    only = ["employment", "yh_graduates", "education_flows", "population"]
    client = _client(fake, RecordingTransport(record, inner=fake.transport()))
    scb.fetch_scb(
        tmp_path / "live", years=(2020, 2021), sources=only, client=client, progress=False
    )
    assert (record / "config.json").exists()
    assert (record / "metadata" / "TAB4434.json").exists()
    assert (record / "metadata" / "TAB4434.request.json").exists()
    data_files = [p for p in (record / "data").rglob("*.json") if ".request" not in p.name]
    assert len(data_files) == len(fake.data_calls())
    request = json.loads(next((record / "data").rglob("*.request.json")).read_text())
    assert request["status"] == 200 and request["path"].endswith("/data")

    replay = scb.make_client(replay=record)
    scb.fetch_scb(
        tmp_path / "again",
        years=(2020, 2021),
        sources=only,
        client=replay,
        use_cache=False,
        progress=False,
    )
    for name in (
        "employment.csv",
        "population.csv",
        "education_output.csv",
        "raw/education_flows.csv",
    ):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "live" / name).read_bytes()
    assert not (tmp_path / ".again.scb-cache").exists()

    # the fake server serves the recorded folder as it is: recorded answers win over synthesis
    served = fake_scb.FakeScb.from_dir(record)
    served.value = lambda table_id, codes: 1.0  # would change every value if it were used
    scb.fetch_scb(
        tmp_path / "served",
        years=(2020, 2021),
        sources=only,
        client=_client(served),
        use_cache=False,
        progress=False,
    )
    assert (tmp_path / "served" / "employment.csv").read_bytes() == (
        tmp_path / "live" / "employment.csv"
    ).read_bytes()


def test_replay_of_a_missing_answer_says_which_file(tmp_path):
    (tmp_path / "rec").mkdir()
    (tmp_path / "rec" / "config.json").write_text(
        (FIXTURES / "config.json").read_text(), encoding="utf-8"
    )
    client = scb.make_client(replay=tmp_path / "rec")
    with pytest.raises(
        KompetensprognosError,
        match=r"no recorded answer for GET /tables \(search/.*\.json is missing in .*--record",
    ):
        scb.fetch_scb(tmp_path / "ds", sources=["employment"], client=client, progress=False)
    with pytest.raises(KompetensprognosError, match="not a folder written by --record"):
        scb.make_client(replay=tmp_path)


def test_cli_fetch_all_adds_the_yrkesbarometer_round(tmp_path, monkeypatch, capsys):
    from kompetensprognos.cli import main
    from kompetensprognos.sources import arbetsformedlingen as af

    fake = _fake()
    monkeypatch.setattr(scb, "PxWebClient", lambda **kw: _client(fake))
    records = json.loads(
        (Path(__file__).parent / "fixtures" / "af" / "yrkesbarometer_small.json").read_text(
            encoding="utf-8"
        )
    )

    def fake_fetch(url, progress=False):
        return records, af.RoundInfo(url=url, retrieved="2026-12-02", published="2026-11-15")

    monkeypatch.setattr(af, "fetch_yrkesbarometer_with_info", fake_fetch)
    out = tmp_path / "ds"
    code = main(
        [
            "data",
            "fetch",
            "all",
            "--out",
            str(out),
            "--years",
            "2020-2021",
            "--only",
            "employment",
            "--quiet",
        ]
    )
    assert code == 0
    assert validate_dataset(out) == []
    printed = capsys.readouterr().out
    assert "rows per table:" in printed and "employment" in printed and "yrkesbarometer:" in printed
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["arbetsformedlingen"]["published"] == "2026-11-15"
    assert provenance["arbetsformedlingen"]["rounds"]
    assert {t["table_id"] for t in provenance["scb"]["tables"]} == {"TAB4434"}
    assert "round" in load_dataset(out).manifest.notes


def test_cli_fetch_all_offline_writes_nothing(tmp_path, monkeypatch, capsys):
    from kompetensprognos.cli import main

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no network", request=request)

    monkeypatch.setattr(
        scb,
        "PxWebClient",
        lambda **kw: PxWebClient(transport=httpx.MockTransport(handler), sleep=lambda s: None),
    )
    code = main(["data", "fetch", "all", "--out", str(tmp_path / "ds")])
    assert code != 0
    err = capsys.readouterr().err
    assert err.count("cannot reach statistikdatabasen.scb.se") == 1 and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_fetched_dataset_plus_skolverket_gives_vocational_and_yh_supply(
    fetched, shared_dir, tmp_path
):
    """Done-when: real-shaped SCB data + a Skolverket import → no zero vocational supply, no YH
    on 0002 (the crosswalk has upper-secondary rows and 2-digit fields)."""
    import shutil

    from kompetensprognos import supply
    from kompetensprognos.sources import importers

    src = shared_dir / "data" / "skolverket" / "gymnasium_throughput_vg_kungsbacka_2011_2017.csv"
    if not src.exists():
        pytest.skip(f"{src} not found")
    folder = tmp_path / "ds"
    shutil.copytree(fetched[0], folder)
    gym = importers.import_files("skolverket-gymnasium", [src]).tables["education_output"]
    # the real export has suppressed years; keep the series without gaps for this check
    span = gym.groupby(["region", "type", "education"])["year"].agg(["min", "max", "count"])
    whole = span[span["max"] - span["min"] + 1 == span["count"]].index
    gym = gym.set_index(["region", "type", "education"]).loc[whole].reset_index()
    edu = pd.concat([load_dataset(folder).education_output, gym], ignore_index=True)
    importers.merge_into_dataset({"education_output": edu}, folder, source="test")
    assert (folder / "provenance.json").exists() and (folder / "raw").is_dir()  # kept on merge
    ds = load_dataset(folder)
    assert {"gymnasium", "yh"} <= set(ds.education_output["type"])
    by_edu = supply.supply_by_education_table(
        ds, "goteborgsregionen", n_sims=50, end_year=2026, include_observed=True
    )
    vocational = by_edu[by_edu["type"] == "gymnasium"]
    assert vocational["new_entrants"].sum() > 0
    table = supply.supply_table(ds, "goteborgsregionen", n_sims=50, end_year=2026)
    assert table["new_entrants"].sum() > 0
    unknown = table.loc[table["ssyk"] == "0002", "new_entrants"]
    assert unknown.sum() == pytest.approx(0.0)


def test_rate_limit_during_planning_stops_the_fetch_instead_of_skipping(tmp_path):
    fake = _fake()
    fake.queued += [("/tables/TAB6008/metadata", httpx.Response(429))] * 10
    client = _client(fake, max_retries=1)
    with pytest.raises(PxWebError, match="429"):
        scb.plan_scb(client, years=(2020, 2021), sources=["population_projection"])


def test_yh_spread_keeps_totals_and_drops_sweden_only_rows_with_a_note():
    edu = pd.DataFrame(
        {
            "region": ["00", "14", "14"],
            "education": ["48", "48", "48"],
            "type": "yh",
            "year": [2020, 2020, 2025],
            "graduates": [10.0, 20.0, 8.0],
            "starters": [1.0, 2.0, 4.0],
        }
    )
    pop = pd.DataFrame(
        {
            "region": ["1480", "1401", "1384", "1480", "1401"],
            "year": [2020, 2020, 2020, 2020, 2020],
            "age": [25, 25, 25, 50, 50],
            "sex": "men",
            "population": [300.0, 100.0, 50.0, 999.0, 999.0],
            "kind": "observed",
        }
    )
    out, notes = scb._spread_county_rows(edu, pop)
    assert set(out["region"]) == {"1480", "1401"}  # not Kungsbacka (Halland), not 00
    by_year = out.groupby("year")["graduates"].sum()
    assert by_year[2020] == pytest.approx(20.0) and by_year[2025] == pytest.approx(8.0)
    assert out.loc[(out.region == "1480") & (out.year == 2020), "graduates"].item() == 15.0
    assert any("Sweden (00) only" in n for n in notes)


def test_raw_tables_can_be_wired_to_a_contract_declaratively(monkeypatch):
    def convert(raw: pd.DataFrame) -> pd.DataFrame:
        return raw.groupby(["region", "year"], as_index=False)["value"].sum()

    monkeypatch.setitem(scb.RAW_TO_CONTRACT, "commuting", ("commuting", convert))
    tables, report = scb.build_dataset(
        _client(_fake()), years=(2022, 2023), sources=["commuting"], progress=False
    )
    assert "raw/commuting" in tables and "commuting" in tables
    assert list(tables["commuting"].columns) == ["region", "year", "value"]
    assert tables["commuting"]["value"].sum() == pytest.approx(
        tables["raw/commuting"]["value"].sum()
    )


def test_cli_fetch_all_record_then_replay(tmp_path, monkeypatch, capsys):
    from kompetensprognos.cli import main
    from kompetensprognos.sources import arbetsformedlingen as af
    from kompetensprognos.sources.recording import RecordingTransport

    fake = _fake()
    real_make_client = scb.make_client

    def make_client(*, base_url=None, record=None, replay=None):
        if record is not None:
            return _client(fake, RecordingTransport(record, inner=fake.transport()))
        return real_make_client(base_url=base_url, replay=replay)

    monkeypatch.setattr(scb, "make_client", make_client)
    records = json.loads(
        (Path(__file__).parent / "fixtures" / "af" / "yrkesbarometer_small.json").read_text(
            encoding="utf-8"
        )
    )
    monkeypatch.setattr(
        af,
        "fetch_yrkesbarometer_with_info",
        lambda url, progress=False: (records, af.RoundInfo(url=url, retrieved="2026-12-02")),
    )
    rec, live, again = tmp_path / "rec", tmp_path / "live", tmp_path / "again"
    common = ["--years", "2020-2021", "--only", "employment", "yh_graduates", "--quiet"]
    assert main(["data", "fetch", "all", "--out", str(live), "--record", str(rec), *common]) == 0
    assert (rec / "arbetsformedlingen" / "yrkesbarometer.json").exists()
    monkeypatch.setattr(
        af, "fetch_yrkesbarometer_with_info", lambda *a, **k: pytest.fail("network in replay")
    )
    assert main(["data", "fetch", "all", "--out", str(again), "--replay", str(rec), *common]) == 0
    for name in ("employment.csv", "education_output.csv", "yrkesbarometer.csv"):
        assert (again / name).read_bytes() == (live / name).read_bytes()
    assert main(["data", "fetch", "scb", "--plan", "--replay", str(rec), *common]) == 0
    assert "TAB4434" in capsys.readouterr().out


def test_an_optional_table_that_breaks_its_contract_is_left_out_with_the_reason(tmp_path):
    fake = _fake()
    base = fake.value

    def value(table_id, codes):  # negative population: breaks the population contract
        return -5.0 if table_id == "TAB6008" else base(table_id, codes)

    fake.value = value
    report = scb.fetch_scb(
        tmp_path / "ds",
        years=(2020, 2024),
        sources=["employment", "population", "population_projection"],
        client=_client(fake),
        progress=False,
    )
    assert "population does not meet its contract" in report.skipped["population_projection"]
    assert "population does not meet its contract" in report.skipped["population"]
    ds = load_dataset(tmp_path / "ds")
    assert ds.population is None and len(ds.employment)
    assert "population skipped" in ds.manifest.notes


def test_an_optional_answer_that_cannot_be_mapped_is_skipped(tmp_path, monkeypatch):
    def broken(frame, meta, roles):
        raise KeyError("age_label")

    source = scb.SOURCES["employment_age"]
    monkeypatch.setitem(scb.SOURCES, "employment_age", dataclasses.replace(source, build=broken))
    report = scb.fetch_scb(
        tmp_path / "ds",
        years=(2020, 2021),
        sources=["employment", "employment_age"],
        client=_client(_fake()),
        progress=False,
    )
    assert "could not be mapped (KeyError" in report.skipped["employment_age"]
    assert "employment_age" not in report.tables and validate_dataset(tmp_path / "ds") == []


def test_real_tab6471_metadata_roles_and_ages(shared_dir):
    """A real recorded metadata answer: roles found, the open age class taken once, rejected
    for population because it is monthly."""
    from kompetensprognos.sources.pxweb import TableMetadata

    path = shared_dir / "reference" / "api-fixtures" / "scb-pxwebapi2" / "TAB6471_metadata.json"
    meta = TableMetadata.from_json("TAB6471", json.loads(path.read_text(encoding="utf-8")))
    roles = scb.find_roles(meta, ("region", "age", "sex", "contents", "time"))
    assert {k: v.code for k, v in roles.items()} == {
        "region": "Region",
        "age": "Alder",
        "sex": "Kon",
        "contents": "ContentsCode",
        "time": "Tid",
    }
    ages = scb._single_ages(roles["age"])
    assert sorted(ages.values()) == list(range(101)) and "100+" in ages  # not 100+5, 100+10
    assert scb._total_code(roles["sex"]) == "TotSa"
    assert scb._accept_population(meta, roles) == "is monthly"

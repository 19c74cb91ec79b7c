"""PxWebApi 2 client: splitting, throttling, retries, errors, JSON-stat2 parsing, cache, POST."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.sources.pxweb import (
    ApiConfig,
    MalformedResponseError,
    PxWebClient,
    PxWebError,
    PxWebUnreachableError,
    Query,
    RateLimiter,
    ResponseCache,
    TableMetadata,
    count_cells,
    fingerprint,
    jsonstat2_to_frame,
    split_selection,
)

FIXTURES = Path(__file__).parent / "fixtures" / "pxweb"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SCB_SHARED = SHARED / "reference" / "api-fixtures" / "scb-pxwebapi2"


def _load_fake():
    if "fake_scb" in sys.modules:
        return sys.modules["fake_scb"]
    spec = importlib.util.spec_from_file_location("fake_scb", FIXTURES / "fake_scb.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["fake_scb"] = module
    spec.loader.exec_module(module)
    return module


fake_scb = _load_fake()


class FakeTime:
    """Clock + sleep pair: sleeping advances the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def shared_dir() -> Path:
    if not SCB_SHARED.is_dir():
        pytest.skip("../shared reference fixtures are not available")
    return SCB_SHARED


def _employment_meta(regions: int = 6, occupations: int = 5, years: int = 4) -> dict:
    region_codes = {f"14{i:02d}": f"Kommun {i}" for i in range(1, regions + 1)}
    occ = {f"{i:03d}": f"Yrke {i}" for i in range(11, 11 + occupations)}
    return fake_scb.metadata_doc(
        "TAB9001",
        "Anställda efter region, yrke och kön",
        [
            ("Region", "region", region_codes, True),
            ("Yrke2012", "yrke (SSYK 2012)", occ, True),
            ("Kon", "kön", {"1": "män", "2": "kvinnor"}, True),
            ("ContentsCode", "tabellinnehåll", {"000001": "Anställda"}, False),
            ("Tid", "år", {str(y): str(y) for y in range(2020, 2020 + years)}, False),
        ],
    )


def _client(fake, time: FakeTime | None = None, **kwargs) -> PxWebClient:
    time = time or FakeTime()
    fake.clock = time.clock
    return PxWebClient(transport=fake.transport(), sleep=time.sleep, clock=time.clock, **kwargs)


# --- JSON-stat2 ------------------------------------------------------------------------------


def test_jsonstat2_to_frame_keeps_codes_as_text_in_row_major_order():
    doc = json.loads((FIXTURES / "data_small.json").read_text(encoding="utf-8"))
    frame = jsonstat2_to_frame(doc, labels=True)
    assert len(frame) == 16
    assert frame["Region"].tolist()[:8] == ["0114"] * 8
    assert frame["Yrke2012"].iloc[:4].tolist() == ["011"] * 4  # leading zero kept
    assert all(isinstance(v, str) for v in frame["Yrke2012"])
    # last dimension varies fastest
    assert frame["Tid"].iloc[:4].tolist() == ["2023", "2024", "2023", "2024"]
    row = frame[
        (frame.Region == "1480")
        & (frame.Yrke2012 == "011")
        & (frame.Kon == "2")
        & (frame.Tid == "2024")
    ]
    assert np.isnan(row["value"].iloc[0])
    assert row["status"].iloc[0] == ".."
    row = frame[
        (frame.Region == "1480")
        & (frame.Yrke2012 == "251")
        & (frame.Kon == "2")
        & (frame.Tid == "2024")
    ]
    assert row["value"].iloc[0] == 3010
    assert row["Region_label"].iloc[0] == "Göteborg"


def test_jsonstat2_sparse_values_and_list_index():
    doc = {
        "id": ["A", "B"],
        "size": [2, 2],
        "dimension": {
            "A": {"category": {"index": ["01", "02"]}},
            "B": {"category": {"index": {"x": 0, "y": 1}}},
        },
        "value": {"3": 7, "0": 1},
    }
    frame = jsonstat2_to_frame(doc)
    assert frame["A"].tolist() == ["01", "01", "02", "02"]
    assert frame["value"].tolist()[0] == 1 and frame["value"].tolist()[3] == 7
    assert frame["value"].isna().sum() == 2


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(value=d["value"][:-1]),  # too few values
        lambda d: d.pop("dimension"),
        lambda d: d.update(size=[2, 2, 2, 1, 3]),  # size disagrees with categories
        lambda d: d["value"].__setitem__(0, "many"),
    ],
)
def test_jsonstat2_malformed_is_reported(mutate):
    doc = json.loads((FIXTURES / "data_small.json").read_text(encoding="utf-8"))
    mutate(doc)
    with pytest.raises(MalformedResponseError):
        jsonstat2_to_frame(doc)


def test_real_scb_jsonstat2_answer(shared_dir):
    doc = json.loads((shared_dir / "TAB6471_data.json").read_text(encoding="utf-8"))
    frame = jsonstat2_to_frame(doc)
    assert len(frame) == 21 * 11 * 3 * 4
    assert frame["Region"].iloc[0] == "01"
    assert frame["value"].iloc[0] == 245284
    assert frame["value"].notna().all()


def test_real_scb_metadata(shared_dir):
    doc = json.loads((shared_dir / "TAB6471_metadata.json").read_text(encoding="utf-8"))
    meta = TableMetadata.from_json("TAB6471", doc)
    region = meta.variable("region")
    assert region.elimination and "0114" in region.values and region.label_of("1480") == "Göteborg"
    assert meta.time_variable.code == "Tid"
    assert not meta.variable("Alder").elimination
    assert "vs_CKM03Kommun" in region.codelists
    assert meta.find(r"^k[öo]n$").code == "Kon"


def test_real_config(shared_dir):
    cfg = ApiConfig.from_json(json.loads((shared_dir / "config.json").read_text()))
    assert (
        cfg.max_data_cells == 150_000
        and cfg.max_calls_per_time_window == 3
        and cfg.time_window == 1
    )


# --- splitting -------------------------------------------------------------------------------


@pytest.mark.parametrize("max_cells", [1, 5, 7, 24, 100, 1000])
def test_split_selection_covers_every_cell_once_within_limit(max_cells):
    selection = {
        "Region": [f"{i:04d}" for i in range(9)],
        "Kon": ["1", "2"],
        "Tid": ["2020", "2021", "2022"],
    }
    parts = split_selection(selection, max_cells)
    assert all(count_cells(p) <= max_cells for p in parts)
    cells = [c for p in parts for c in itertools.product(*p.values())]
    assert sorted(cells) == sorted(itertools.product(*selection.values()))
    # no more calls than needed by a factor of two
    assert len(parts) <= 2 * -(-count_cells(selection) // max_cells) + 2


def test_data_splits_queries_over_the_cell_limit():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    fake.config["maxDataCells"] = 50  # 6*5*2*1*4 = 240 cells -> at least 5 calls
    client = _client(fake)
    frame = client.data(
        "TAB9001",
        {
            "Region": ["*"],
            "Yrke2012": ["*"],
            "Kon": ["1", "2"],
            "ContentsCode": ["*"],
            "Tid": ["*"],
        },
    )
    calls = fake.data_calls()
    assert 5 <= len(calls) <= 8
    assert len(frame) == 240
    assert not frame.duplicated(["Region", "Yrke2012", "Kon", "Tid"]).any()
    assert frame["Region"].str.len().eq(4).all()


def test_expand_selection_wildcards_and_errors():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    client = _client(fake)
    sel = client.expand_selection(
        "TAB9001",
        {
            "Region": ["1401", "140*"],
            "Yrke2012": ["range(012,014)"],
            "ContentsCode": ["*"],
            "Tid": ["from(2022)"],
        },
    )
    assert sel["Region"] == ["1401", "1402", "1403", "1404", "1405", "1406"]
    assert sel["Yrke2012"] == ["012", "013", "014"]
    assert sel["Tid"] == ["2022", "2023"]
    with pytest.raises(KompetensprognosError, match="cannot be eliminated"):
        client.expand_selection("TAB9001", {"Region": ["*"], "ContentsCode": ["*"]})
    with pytest.raises(KompetensprognosError, match="no value '9999'"):
        client.expand_selection(
            "TAB9001", {"Region": ["9999"], "ContentsCode": ["*"], "Tid": ["*"]}
        )


# --- throttling ------------------------------------------------------------------------------


def test_rate_limiter_never_exceeds_the_window():
    t = FakeTime()
    limiter = RateLimiter(3, 1.0, clock=t.clock, sleep=t.sleep)
    stamps = []
    for _ in range(10):
        limiter.acquire()
        stamps.append(t.now)
    for s in stamps:
        assert sum(1 for u in stamps if s <= u < s + 1.0) <= 3
    assert stamps[-1] >= 3.0  # ten calls at three a second take at least three seconds
    assert stamps[:3] == [0.0, 0.0, 0.0]


def test_client_throttles_to_config_limits():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    fake.config["maxDataCells"] = 20
    fake.config["maxCallsPerTimeWindow"] = 2
    fake.config["timeWindow"] = 5
    t = FakeTime()
    client = _client(fake, t)
    client.data(
        "TAB9001", {"Region": ["*"], "Yrke2012": ["*"], "ContentsCode": ["*"], "Tid": ["*"]}
    )
    throttled = [c.time for c in fake.calls if c.path != "/config"]
    assert len(throttled) >= 6
    for s in throttled:
        assert sum(1 for u in throttled if s <= u < s + 5) <= 2
    assert t.sleeps, "the client must have slept instead of hammering the API"


# --- retries and errors ----------------------------------------------------------------------


def test_429_then_success_respects_retry_after():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    body = json.loads((FIXTURES / "problem_429.json").read_text())
    fake.queued.append(("/metadata", httpx.Response(429, json=body, headers={"Retry-After": "7"})))
    t = FakeTime()
    client = _client(fake, t)
    meta = client.metadata("TAB9001")
    assert meta.variable("Region").values[0] == "1401"
    assert 7.0 in t.sleeps
    assert sum(c.path.endswith("/metadata") for c in fake.calls) == 2


def test_retry_after_as_http_date():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    fake.queued.append(("/metadata", httpx.Response(429, headers={"Retry-After": when})))
    t = FakeTime()
    _client(fake, t).metadata("TAB9001")
    assert any(20 < s <= 30 for s in t.sleeps)


def test_5xx_backs_off_exponentially_then_succeeds():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    fake.queued += [("/metadata", httpx.Response(503)), ("/metadata", httpx.Response(502))]
    t = FakeTime()
    _client(fake, t, backoff=2.0).metadata("TAB9001")
    assert [s for s in t.sleeps if s >= 1.5] == [2.0, 4.0]


def test_persistent_429_gives_up_with_plain_message():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    body = json.loads((FIXTURES / "problem_429.json").read_text())
    fake.queued += [("/metadata", httpx.Response(429, json=body))] * 10
    client = _client(fake, max_retries=3)
    with pytest.raises(PxWebError) as info:
        client.metadata("TAB9001")
    assert info.value.status == 429
    assert "too many requests" in str(info.value).lower()
    assert sum(c.path.endswith("/metadata") for c in fake.calls) == 4


def test_problem_details_error_is_surfaced_and_not_retried():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    body = json.loads((FIXTURES / "problem_400.json").read_text())
    fake.queued.append(
        (
            "/data",
            httpx.Response(400, json=body, headers={"content-type": "application/problem+json"}),
        )
    )
    client = _client(fake)
    query = Query("TAB9001", {"Region": ("1401",), "ContentsCode": ("000001",), "Tid": ("2020",)})
    with pytest.raises(PxWebError) as info:
        client.fetch_raw(query)
    message = str(info.value)
    assert "400 Bad Request" in message
    assert "Value, 9999 is not a valid value code for variable Region" in message
    assert info.value.detail.startswith("Value, 9999")
    assert len(fake.data_calls()) == 1


def test_too_many_cells_answered_with_400_gets_the_cells_hint():
    """SCB answers "too many cells" with 400, not 403: the hint must still fire."""
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    fake.config["maxDataCells"] = 10_000
    client = _client(fake)
    client.config  # noqa: B018
    fake.config["maxDataCells"] = 2  # the server now counts fewer cells than the client splits at
    query = Query(
        "TAB9001",
        {"Region": ("1401", "1402"), "ContentsCode": ("000001",), "Tid": ("2020", "2021")},
    )
    with pytest.raises(PxWebError) as info:
        client.fetch_raw(query)
    assert info.value.status == 400
    message = str(info.value)
    assert "more cells than the API allows" in message and "maxDataCells=10000" in message
    assert "check variable and value codes" not in message


def test_unknown_table_404_suggests_search():
    fake = fake_scb.FakeScb()
    with pytest.raises(PxWebError, match="renames tables"):
        _client(fake).metadata("TAB0000")


def test_malformed_body_is_reported_and_not_cached(tmp_path):
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    html = (FIXTURES / "maintenance.html").read_text(encoding="utf-8")
    fake.queued.append(
        ("/data", httpx.Response(200, text=html, headers={"content-type": "text/html"}))
    )
    client = _client(fake)
    cache = ResponseCache(tmp_path)
    query = Query("TAB9001", {"Region": ("1401",), "ContentsCode": ("000001",), "Tid": ("2020",)})
    with pytest.raises(MalformedResponseError, match="not JSON"):
        client.fetch_raw(query, cache=cache)
    assert cache.get("TAB9001", query.fingerprint) is None
    # a JSON body that is not JSON-stat2 is refused too
    fake.queued.append(("/data", httpx.Response(200, json={"hello": "world"})))
    with pytest.raises(MalformedResponseError, match="JSON-stat2"):
        client.fetch_raw(query, cache=cache)
    assert cache.get("TAB9001", query.fingerprint) is None
    # and the next good answer goes through and is cached
    assert client.fetch_frame(query, cache=cache)["value"].notna().all()
    assert cache.get("TAB9001", query.fingerprint) is not None


def test_offline_gives_one_clear_message():
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -3] Temporary failure in name resolution", request=request)

    client = PxWebClient(transport=httpx.MockTransport(handler), sleep=lambda s: None)
    with pytest.raises(PxWebUnreachableError) as info:
        client.config  # noqa: B018 - property triggers the request
    assert (
        str(info.value)
        == "cannot reach statistikdatabasen.scb.se — use --data demo or a dataset folder"
    )
    assert isinstance(info.value, KompetensprognosError)


def test_read_timeouts_are_retried_then_reported():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("timed out", request=request)

    client = PxWebClient(
        transport=httpx.MockTransport(handler),
        sleep=lambda s: None,
        max_retries=2,
        config=ApiConfig(),
    )
    with pytest.raises(PxWebError, match="broke off 3 times"):
        client.metadata("TAB1")
    assert len(calls) == 3


# --- GET vs POST, cache ----------------------------------------------------------------------


def test_short_selection_uses_get_long_uses_post():
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta(regions=40))
    client = _client(fake, max_url_length=400)
    short = Query("TAB9001", {"Region": ("1401",), "ContentsCode": ("000001",), "Tid": ("2020",)})
    client.fetch_raw(short)
    assert fake.data_calls()[-1].method == "GET"
    assert fake.data_calls()[-1].params["valuecodes[Region]"] == "1401"
    regions = tuple(f"14{i:02d}" for i in range(1, 41))
    long = Query(
        "TAB9001", {"Region": regions, "ContentsCode": ("000001",), "Tid": ("2020", "2021")}
    )
    frame = client.fetch_frame(long)
    call = fake.data_calls()[-1]
    assert call.method == "POST"
    assert call.body["selection"][0] == {"variableCode": "Region", "valueCodes": list(regions)}
    assert call.params["outputFormat"] == "json-stat2"
    assert len(frame) == 80


def test_cache_avoids_second_download_and_refresh_forces_it(tmp_path):
    fake = fake_scb.FakeScb()
    fake.add_table(_employment_meta())
    client = _client(fake)
    cache = ResponseCache(tmp_path)
    sel = {"Region": ["*"], "Yrke2012": ["011"], "ContentsCode": ["*"], "Tid": ["*"]}
    first = client.data("TAB9001", sel, cache=cache)
    n = len(fake.data_calls())
    again = client.data("TAB9001", sel, cache=cache)
    assert len(fake.data_calls()) == n
    pd.testing.assert_frame_equal(first, again)
    client.data("TAB9001", sel, cache=cache, refresh=True)
    assert len(fake.data_calls()) == 2 * n


def test_fingerprint_depends_on_query_not_on_key_order():
    a = fingerprint("TAB1", {"A": ["1"], "B": ["2"]})
    assert a == fingerprint("TAB1", {"B": ["2"], "A": ["1"]})
    assert a != fingerprint("TAB1", {"A": ["1"], "B": ["3"]})
    assert a != fingerprint("TAB2", {"A": ["1"], "B": ["2"]})
    assert a != fingerprint("TAB1", {"A": ["1"], "B": ["2"]}, output_format="csv")

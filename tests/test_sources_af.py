"""Arbetsförmedlingen yrkesbarometer: download, mapping to SSYK 4 and county, dataset, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from kompetensprognos.dataset import load_dataset, validate_dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.schemas import validate_table
from kompetensprognos.sources import arbetsformedlingen as af
from kompetensprognos.sources.pxweb import MalformedResponseError, PxWebUnreachableError

FIXTURE = Path(__file__).parent / "fixtures" / "af" / "yrkesbarometer_small.json"
SHARED = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "reference"
    / "api-fixtures"
    / "arbetsformedlingen"
)


@pytest.fixture
def records() -> list[dict]:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def test_mapping_to_ssyk_and_county(records):
    frame, unmapped = af.yrkesbarometer_frame(records)
    _, problems = validate_table(frame, "yrkesbarometer")
    assert problems == []
    assert frame["region"].tolist()[:3] == ["00", "13", "14"]
    assert frame.iloc[2]["status"] == "balans" and frame.iloc[2]["round"] == "2025-2"
    dev = frame[frame.ssyk == "2512"].iloc[0]
    assert dev["region"] == "14" and dev["status"] == "brist"  # integer lan/ssyk become codes
    assert "0110" in set(frame["ssyk"])  # lost leading zero restored
    reasons = {u.record.get("yb_concept_id"): u.reason for u in unmapped}
    assert "unknown recruitment situation 'ej bedömd'" in reasons["xx3"]
    assert "county code None" in reasons["xx4"]
    assert "already assessed" in reasons["xx5"]
    assert "not a 4-digit SSYK" in reasons["xx6"]
    assert len(frame) + len(unmapped) == len(records)  # nothing dropped silently


def test_real_sample_maps_completely():
    if not SHARED.is_dir():
        pytest.skip("../shared reference fixtures are not available")
    records = json.loads(
        (SHARED / "yrkesbarometer_sample_3records.json").read_text(encoding="utf-8")
    )
    frame, unmapped = af.yrkesbarometer_frame(records)
    assert unmapped == [] and len(frame) == 3
    assert frame.loc[frame.region == "00", "status"].item() == "överskott"


def test_fetch_and_errors(records):
    def ok(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/prognoser/yrkesbarometer.json"
        return httpx.Response(200, json=records)

    assert af.fetch_yrkesbarometer(transport=httpx.MockTransport(ok)) == records

    def offline(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    with pytest.raises(PxWebUnreachableError, match="cannot reach data.arbetsformedlingen.se"):
        af.fetch_yrkesbarometer(transport=httpx.MockTransport(offline))
    with pytest.raises(MalformedResponseError):
        af.fetch_yrkesbarometer(
            transport=httpx.MockTransport(lambda r: httpx.Response(200, text="<html>"))
        )
    with pytest.raises(KompetensprognosError, match="503"):
        af.fetch_yrkesbarometer(transport=httpx.MockTransport(lambda r: httpx.Response(503)))


def test_added_to_an_existing_dataset_keeps_its_tables(tmp_path, records):
    import pandas as pd

    from kompetensprognos.dataset import Dataset, Manifest, write_dataset

    out = tmp_path / "ds"
    employment = pd.DataFrame(
        {
            "region": ["1480", "1480"],
            "ssyk": ["251", "251"],
            "year": [2023, 2024],
            "employed": [10.0, 12.0],
        }
    )
    write_dataset(Dataset(Manifest(name="t", source="test", vintage="2025"), employment), out)
    before = (out / "employment.csv").read_bytes()
    frame, _ = af.yrkesbarometer_frame(records)
    af.add_to_dataset(frame, out)
    assert validate_dataset(out) == []
    assert (out / "employment.csv").read_bytes() == before
    ds = load_dataset(out)
    assert len(ds.yrkesbarometer) == len(frame)
    assert "yrkesbarometer: Arbetsförmedlingen" in ds.manifest.notes


def test_cli_with_saved_file(tmp_path, capsys):
    from kompetensprognos.cli import main

    out = tmp_path / "yb"
    assert main(["data", "fetch", "yrkesbarometer", "--out", str(out), "--file", str(FIXTURE)]) == 0
    captured = capsys.readouterr()
    assert "records not mapped" in captured.out and "ej bedömd" in captured.out
    assert "no employment table yet" in captured.err
    assert (
        (out / "yrkesbarometer.csv")
        .read_text(encoding="utf-8")
        .startswith("region,ssyk,occupation")
    )


def test_round_and_publication_date_are_stored(tmp_path, records):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, json=records, headers={"Last-Modified": "Mon, 17 Nov 2025 08:00:00 GMT"}
        )

    got, info = af.fetch_yrkesbarometer_with_info(transport=httpx.MockTransport(handler))
    assert got == records
    assert info.published == "2025-11-17" and info.rounds == ("2025-2",)
    frame, _ = af.yrkesbarometer_frame(got)
    out = af.add_to_dataset(frame, tmp_path / "ds", info=info)
    provenance = json.loads((out / "provenance.json").read_text(encoding="utf-8"))
    assert provenance["arbetsformedlingen"]["rounds"] == ["2025-2"]
    assert provenance["arbetsformedlingen"]["published"] == "2025-11-17"
    notes = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["notes"]
    assert "round 2025-2" in notes and "published 2025-11-17" in notes

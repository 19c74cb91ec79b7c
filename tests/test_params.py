"""Tests of the report parameters: the shipped files validate, bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from kompetensprognos.params import Params, ParamsError, load_params, load_region_params
from kompetensprognos.regions import REGION_IDS

PARAMS = Path(__file__).resolve().parents[1] / "params"


def test_shipped_params_validate_for_every_region() -> None:
    params = load_region_params(REGION_IDS, PARAMS)
    assert set(params) == set(REGION_IDS)
    assert all(p.region == r for r, p in params.items())
    assert len({p.demand.method for p in params.values()}) == 1  # one joint demand fit


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skaraborg.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unquoted_code_is_rejected_with_the_fix(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "region: skaraborg\ndemand:\n  scenarios:\n    - {municipality: 0114, ssyk: '821', year: 2027, jobs: 5}\n",
    )
    with pytest.raises(ParamsError) as info:
        load_params(path)
    msg = str(info.value)
    assert str(path) in msg and "demand.scenarios.0.municipality" in msg and "quoted" in msg


def test_unknown_key_and_every_problem_listed(tmp_path: Path) -> None:
    path = write(tmp_path, "region: skaraborg\nperid_start: 2023\nn_sims: 5\n")
    with pytest.raises(ParamsError) as info:
        load_params(path)
    msg = str(info.value)
    assert "perid_start" in msg and "unknown key" in msg
    assert "n_sims" in msg  # both problems at once


def test_region_must_match_file_and_be_known(tmp_path: Path) -> None:
    write(tmp_path, "region: fyrbodal\n")
    with pytest.raises(ParamsError, match="file is for 'skaraborg'"):
        load_region_params(["skaraborg"], tmp_path)
    with pytest.raises(ParamsError, match="unknown region"):
        load_region_params(["norrland"], tmp_path)


def test_defaults_and_period_checks() -> None:
    p = Params(region="sjuharad")
    assert p.display_title == "Kompetensprognos för Boråsregionen (Sjuhärad)"
    with pytest.raises(ValueError, match="after period_end"):
        Params(region="sjuharad", period_start=2030, period_end=2025)
    with pytest.raises(ValueError, match="frozen"):
        p.region = "skaraborg"  # type: ignore[misc]

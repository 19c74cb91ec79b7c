"""Tests of scenario sweeps: validation, side-by-side results, scenarios really differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from kompetensprognos.cli import main
from kompetensprognos.dataset import load_dataset
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.params import Params
from kompetensprognos.sweep import load_sweep, run_sweep

SWEEP = """region: skaraborg
scenarios:
  bas: {}
  nytt-sjukhus:
    demand:
      - {municipality: '1496', ssyk: '532', year: 2026, jobs: 300}
  fler-stannar:
    supply:
      retention: {gymnasium_vocational: 1.0, yh: 1.0, higher: 1.0}
"""


@pytest.fixture(scope="module")
def swept(small_demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("sweep") / "sweep.yaml"
    path.write_text(SWEEP, encoding="utf-8")
    spec = load_sweep(path)
    base = Params(
        region="skaraborg", n_sims=200, demand={"method": "theta", "calibration_origins": 2}
    )
    return run_sweep(spec, load_dataset(small_demo_dir), base)


def test_wide_table_has_one_column_per_scenario(swept) -> None:
    long, wide = swept
    assert set(long["scenario"]) == {"bas", "nytt-sjukhus", "fler-stannar"}
    assert {
        "recruitment_need[bas]",
        "recruitment_need[nytt-sjukhus]",
        "recruitment_need[fler-stannar]",
    } <= set(wide)


def test_scenarios_change_what_they_should(swept) -> None:
    _, wide = swept
    row = wide.set_index("ssyk")
    # 300 new jobs in 532 raise its expansion by up to 300, plus a little replacement of them
    extra = (
        row.loc["532", "recruitment_need[nytt-sjukhus]"] - row.loc["532", "recruitment_need[bas]"]
    )
    assert 200 < extra < 330
    assert row.loc["251", "recruitment_need[nytt-sjukhus]"] == pytest.approx(
        row.loc["251", "recruitment_need[bas]"],
        rel=1e-4,  # QP solver tolerance
    )
    if "new_entrants[bas]" in wide:
        total = row.loc["total"]
        assert total["new_entrants[fler-stannar]"] > total["new_entrants[bas]"]


def test_sweep_file_errors_name_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "region: skaraborg\nscenarios:\n  x:\n    demand:\n      - {municipality: 1499, ssyk: '821', year: 2027, jobs: 1}\n"
    )
    with pytest.raises(
        KompetensprognosError, match=r"scenarios\.x\.demand\.0\.municipality.*quote"
    ):
        load_sweep(bad)
    bad.write_text("region: skaraborg\nscenarios: {}\n")
    with pytest.raises(KompetensprognosError, match="scenarios"):
        load_sweep(bad)


def test_cli_sweep_writes_side_by_side_tables(
    small_demo_dir: Path, fast_params_dir: Path, tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "region: skaraborg\nscenarios:\n  bas: {}\n  mer:\n    demand:\n      - {municipality: '1496', ssyk: '532', year: 2026, jobs: 50}\n"
    )
    out = tmp_path / "out"
    code = main(
        [
            "sweep",
            str(path),
            "--data",
            str(small_demo_dir),
            "--params-dir",
            str(fast_params_dir),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    assert (out / "sweep.csv").exists() and (out / "sweep_long.csv").exists()

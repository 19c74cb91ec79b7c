"""Tests of the command-line interface shell: help everywhere, data demo and validate."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from kompetensprognos.cli import build_parser, main


def all_command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths += all_command_paths(sub, (*prefix, name))
    return paths


@pytest.mark.parametrize(
    "path", all_command_paths(build_parser()), ids=lambda p: " ".join(p) or "root"
)
def test_every_command_has_help(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: kompetensprognos") and len(out) > 100


def test_demo_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "D"
    assert main(["data", "demo", "--out", str(out)]) == 0
    assert "syntetiska demonstrationsdata" in capsys.readouterr().out
    assert main(["data", "validate", str(out)]) == 0
    assert main(["data", "demo", "--out", str(out)]) == 2  # exists: refuse without --force
    assert "--force" in capsys.readouterr().err
    assert main(["data", "demo", "--out", str(out), "--force"]) == 0


def test_validate_reports_every_problem_and_exits_nonzero(
    demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    d = tmp_path / "bad"
    shutil.copytree(demo_dir, d)
    lines = (d / "employment.csv").read_text().splitlines()
    lines[1] = lines[1].replace(",011,", ",11.0,", 1)
    lines[2] = lines[2].rsplit(",", 1)[0] + ",-4"
    (d / "employment.csv").write_text("\n".join(lines) + "\n")
    assert main(["data", "validate", str(d)]) == 1
    err = capsys.readouterr().err
    assert "2 problems found" in err
    assert "employment.csv, column `ssyk`, line 2" in err
    assert "employment.csv, column `employed`, line 3" in err


def test_console_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "kompetensprognos", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("kompetensprognos ")


def test_demand_command_writes_the_contract_tables(small_demo_dir: Path, tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "out"
    code = main(
        ["demand", "--data", str(small_demo_dir), "--regions", "sjuharad", "--output", str(out)]
        + ["--no-backtest", "--sims", "100", "--quiet"]
    )
    assert code == 0
    need = pd.read_csv(out / "sjuharad" / "tables" / "recruitment_need.csv", dtype={"ssyk": str})
    assert set(need["region"]) == {"sjuharad"} and "total" in set(need["ssyk"])
    assert not (out / "sjuharad" / "tables" / "backtest.csv").exists()
    assert (out / "demand_manifest.json").exists()

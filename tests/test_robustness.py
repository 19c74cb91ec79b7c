"""Fault injection: every bad input is caught at the door, every fault is survived.

Each case checks the exit code, that the message names the file / column / value at fault, and
that an output folder is either unchanged or complete — never partial. Most cases use
``data validate`` on a small dataset folder (fast); a few run ``run`` with one or two regions,
precomputed tables and a tiny notebook, so the faults of the run itself (interrupts, a second
run, a dead kernel, a full disk) are exercised without the cost of the models.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from kompetensprognos import regions
from kompetensprognos.cli import main
from kompetensprognos.dataset import Dataset, load_dataset, write_dataset
from kompetensprognos.errors import DataValidationError, KompetensprognosError
from kompetensprognos.files import atomic_write_text, output_lock
from kompetensprognos.params import Params, ParamsError, load_params
from kompetensprognos.schemas import TABLES, validate_table

REPO = Path(__file__).resolve().parents[1]
TWO_REGIONS = ["skaraborg", "sjuharad"]


# --- fixtures ----------------------------------------------------------------------------------


def _subset(ds: Dataset, region_ids: list[str], *, with_all: bool) -> Dataset:
    munis = {m for r in region_ids for m in regions.members(r)}
    emp = ds.employment[
        ds.employment["region"].isin(munis) & ds.employment["ssyk"].str.startswith("2")
    ]
    pop = ds.population[ds.population["region"].isin(munis)]
    if not with_all:
        return Dataset(
            manifest=ds.manifest.model_copy(update={"breaks": []}), employment=emp, population=pop
        )
    age = ds.employment_age
    # two educations per type leading to SSYK 2: the education projection is the slow part
    cw = ds.crosswalk
    linked = (
        cw[cw["ssyk"].str.startswith("2")]
        .sort_values(["share", "education"], ascending=[False, True])
        .drop_duplicates(["type", "education"])
        .groupby("type")
        .head(2)[["type", "education"]]
    )
    edu = ds.education_output.merge(linked)
    return Dataset(
        manifest=ds.manifest,
        employment=emp,
        population=pop,
        employment_age=age[age["region"].isin(region_ids) & age["ssyk"].str.startswith("2")],
        education_output=edu[edu["region"].isin(region_ids)].reset_index(drop=True),
        crosswalk=cw.merge(linked),
    )


@pytest.fixture(scope="session")
def mini_dir(tmp_path_factory: pytest.TempPathFactory, demo_dataset: Dataset) -> Path:
    """A small valid dataset folder (three municipalities, SSYK group 2, employment + population)."""
    ds = _subset(demo_dataset, ["skaraborg"], with_all=False)
    three = sorted(ds.employment["region"].unique())[:3]
    small = Dataset(
        manifest=ds.manifest,
        employment=ds.employment[ds.employment["region"].isin(three)],
        population=ds.population[
            ds.population["region"].isin(three) & (ds.population["kind"] == "observed")
        ],
    )
    return write_dataset(small, tmp_path_factory.mktemp("mini") / "D")


@pytest.fixture(scope="session")
def tiny_dataset(demo_dataset: Dataset) -> Dataset:
    """Two regions (Skaraborg, Sjuhärad), SSYK group 2, every table: enough for the whole model."""
    return _subset(demo_dataset, TWO_REGIONS, with_all=True)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory, tiny_dataset: Dataset) -> Path:
    return write_dataset(tiny_dataset, tmp_path_factory.mktemp("tiny") / "D")


def fast_params(seed: int = 0) -> dict[str, Params]:
    cfg = {"method": "theta", "calibration_origins": 2}
    return {
        r: Params(region=r, n_sims=50, backtest=False, seed=seed, demand=cfg) for r in TWO_REGIONS
    }


@pytest.fixture(scope="session")
def params_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("params")
    for r in TWO_REGIONS:
        (d / f"{r}.yaml").write_text(
            f"region: {r}\nn_sims: 50\nbacktest: false\n"
            "demand:\n  method: theta\n  calibration_origins: 2\n",
            encoding="utf-8",
        )
    return d


@pytest.fixture(scope="session")
def tables(tiny_dataset: Dataset) -> dict[str, dict[str, pd.DataFrame]]:
    """The two regions' output tables, computed once (seed 0)."""
    from kompetensprognos.pipeline import run

    return run(tiny_dataset, fast_params()).tables


@pytest.fixture(scope="session")
def tables_pickle(tmp_path_factory: pytest.TempPathFactory, tables) -> Path:
    path = tmp_path_factory.mktemp("tables") / "tables.pkl"
    path.write_bytes(pickle.dumps(tables))
    return path


def _precomputed(tables: dict[str, dict[str, pd.DataFrame]]):
    """A stand-in for ``pipeline.run`` that returns tables computed once for the session."""
    from kompetensprognos.pipeline import PipelineResult

    return lambda dataset, params, **kwargs: PipelineResult(
        {r: tables[r] for r in params}, dict(params), "fp"
    )


def copy_dir(src: Path, tmp_path: Path) -> Path:
    target = tmp_path / "D"
    shutil.copytree(src, target)
    return target


def edit_csv(path: Path, func) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    func(df).to_csv(path, index=False)


def edit_manifest(directory: Path, **changes) -> None:
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest.update(changes)
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def validate(directory: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["data", "validate", str(directory)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with the SHA-256 of its content (hidden files included)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def previous_outputs(tmp_path: Path) -> Path:
    """An output folder holding the (fake) outputs of an earlier, successful run."""
    out = tmp_path / "out"
    for region in TWO_REGIONS:
        (out / region / "tables").mkdir(parents=True)
        (out / region / "rapport.html").write_text(f"<p>förra körningen {region}</p>", "utf-8")
        (out / region / "tables" / "balance.csv").write_text("region,ssyk\nx,1\n", "utf-8")
    (out / "index.html").write_text("<p>förra index</p>", encoding="utf-8")
    (out / "manifest.json").write_text('{"previous": true}\n', encoding="utf-8")
    return out


def first_row(df: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    df.loc[0, column] = value
    return df


# --- bad input tables: the rows --------------------------------------------------------


def test_header_only_employment_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: df.iloc[:0])
    code, _, err = validate(d, capsys)
    assert code == 1
    assert "employment.csv" in err and "no data rows" in err


def test_zero_byte_table_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    (d / "population.csv").write_bytes(b"")
    code, _, err = validate(d, capsys)
    assert code == 1 and "population.csv" in err and "the file is empty" in err


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_non_finite_counts_are_rejected(mini_dir: Path, tmp_path: Path, capsys, value: str) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "employed", value))
    code, _, err = validate(d, capsys)
    assert code == 1
    assert "employment.csv, column `employed`, line 2" in err and "not finite" in err
    assert repr(value) in err


def test_nan_count_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "population.csv", lambda df: first_row(df, "population", "NaN"))
    code, _, err = validate(d, capsys)
    assert code == 1 and "column `population`, line 2" in err and "'NaN'" in err


def test_empty_count_cell_is_named_with_its_line(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "employed", ""))
    code, _, err = validate(d, capsys)
    assert code == 1 and "column `employed`, line 2: empty value" in err


def test_absurd_count_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "employed", "1e300"))
    code, _, err = validate(d, capsys)
    assert code == 1 and "implausibly large" in err and "1e+300" in err


def test_year_on_year_jump_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    df = pd.read_csv(d / "employment.csv", dtype=str)
    later = df[df["year"] != "2014"].astype({"employed": int})
    big = later.sort_values("employed", kind="stable").index[-1]
    row = df.loc[big]
    df.loc[big, "employed"] = str(int(row["employed"]) * 1000)  # three stray zeros
    df.to_csv(d / "employment.csv", index=False)
    code, _, err = validate(d, capsys)
    assert code == 1
    assert "implausible jump" in err and re.search(rf"lines? ({big + 2}|\d+, {big + 2})\b", err)
    assert f"ssyk={row['ssyk']}" in err and f"({row['year']})" in err


def test_jump_at_a_declared_break_is_accepted(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    (d / "population.csv").unlink()  # employed vs population is another check
    df = pd.read_csv(d / "employment.csv", dtype=str)
    later = df["year"].astype(int) >= 2020
    df.loc[later, "employed"] = (df.loc[later, "employed"].astype(int) * 100).astype(str)
    df.to_csv(d / "employment.csv", index=False)
    assert validate(d, capsys)[0] == 1  # undeclared: a jump
    edit_manifest(d, breaks=[{"year": 2020, "table": "employment", "description": "new source"}])
    code, out, err = validate(d, capsys)
    assert code == 0, err


def test_more_employed_than_inhabitants_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    df = pd.read_csv(d / "employment.csv", dtype=str)
    region, year = df.loc[0, "region"], df.loc[0, "year"]
    series = (df[["region", "ssyk", "sex"]] == df.loc[0, ["region", "ssyk", "sex"]]).all(axis=1)
    df.loc[series, "employed"] = "500000"  # every year, so it is not a jump
    df.to_csv(d / "employment.csv", index=False)
    code, _, err = validate(d, capsys)
    assert code == 1 and "employment.csv, column `employed`" in err
    assert "population" in err and f"region={region}, year={year}" in err


@pytest.mark.parametrize("year", [1999, 2050])
def test_break_year_outside_the_data_is_rejected(
    mini_dir: Path, tmp_path: Path, capsys, year: int
) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_manifest(d, breaks=[{"year": year, "table": "employment", "description": ""}])
    code, _, err = validate(d, capsys)
    assert code == 1
    assert "manifest.json, column `breaks.0.year`" in err and f"'{year}'" in err
    assert "2014–2024" in err


def test_break_year_at_the_first_year_is_rejected(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_manifest(d, breaks=[{"year": 2014, "table": "employment", "description": ""}])
    code, _, err = validate(d, capsys)
    assert code == 1 and "breaks.0.year" in err


def test_break_for_an_unknown_table_is_rejected_and_an_absent_one_noted(
    mini_dir: Path, tmp_path: Path, capsys
) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_manifest(
        d,
        breaks=[
            {"year": 2020, "table": "employmnt", "description": ""},
            {"year": 2020, "table": "employment_age", "description": ""},
        ],
    )
    code, out, err = validate(d, capsys)
    assert code == 1
    assert "breaks.0.table" in err and "'employmnt'" in err
    edit_manifest(d, breaks=[{"year": 2020, "table": "employment_age", "description": ""}])
    code, out, err = validate(d, capsys)
    assert code == 0  # harmless: nothing to adjust, but said
    assert "note:" in out and "breaks.0.table" in out and "no employment_age.csv" in out


def test_fractional_counts_are_accepted_with_a_note(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "employed", "2.5"))
    code, out, _ = validate(d, capsys)
    assert code == 0  # intended: weighted or apportioned estimates (docs/data.md)
    assert "note:" in out and "column `employed`, line 2" in out and "fractional" in out
    assert "'2.5'" in out
    assert load_dataset(d).employment.loc[0, "employed"] == 2.5  # kept, not rounded


# --- bad input tables: cases that already worked (kept from regressing) ------------------------


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("ssyk", "251.0", "code written as a number"),
        ("region", "9999", "unknown municipality code"),
        ("employed", "-5", "negative count"),
        ("employed", "..", "SCB writes '..'"),
        ("employed", "fem", "value is not a number"),
        ("year", "2020.5", "year"),
        ("sex", "kvinnor", "fails check"),
    ],
)
def test_bad_cell_is_named_with_file_column_and_value(
    mini_dir: Path, tmp_path: Path, capsys, column: str, value: str, expected: str
) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, column, value))
    code, _, err = validate(d, capsys)
    assert code == 1
    assert f"employment.csv, column `{column}`" in err and expected in err


def test_leading_zero_lost(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "ssyk", "21"))
    code, _, err = validate(d, capsys)
    assert code == 1 and "column `ssyk`" in err


def test_duplicate_key(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: pd.concat([df, df.iloc[[0]]]))
    code, _, err = validate(d, capsys)
    assert code == 1 and "repeat the key" in err


def test_year_gap(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: df[df["year"] != "2018"])
    code, _, err = validate(d, capsys)
    assert code == 1 and "2018" in err


def test_unexpected_and_missing_columns(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: df.rename(columns={"employed": "antal"}))
    code, _, err = validate(d, capsys)
    assert code == 1 and "missing column(s) employed" in err and "antal" in err


def test_latin1_csv_is_named_with_the_byte(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    text = (d / "employment.csv").read_text(encoding="utf-8")
    (d / "employment.csv").write_bytes(text.replace("men", "män", 1).encode("latin-1"))
    code, _, err = validate(d, capsys)
    assert code == 1 and "employment.csv" in err and "not UTF-8" in err and "0xe4" in err


def test_utf8_with_byte_order_mark_is_accepted(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)  # Excel's "CSV UTF-8" writes a BOM
    data = (d / "employment.csv").read_bytes()
    (d / "employment.csv").write_bytes(b"\xef\xbb\xbf" + data)
    code, _, err = validate(d, capsys)
    assert code == 0, err


def test_semicolon_separated_csv(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    df = pd.read_csv(d / "employment.csv", dtype=str)
    df.to_csv(d / "employment.csv", index=False, sep=";")
    code, _, err = validate(d, capsys)
    assert code == 1 and "employment.csv" in err and "separated by ';'" in err


def test_missing_corrupt_and_latin1_manifest(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    (d / "manifest.json").unlink()
    code, _, err = validate(d, capsys)
    assert code == 1 and "missing manifest.json" in err
    (d / "manifest.json").write_text("{not json", encoding="utf-8")
    code, _, err = validate(d, capsys)
    assert code == 1 and "manifest.json" in err and "json" in err.lower()
    good = json.loads((mini_dir / "manifest.json").read_text(encoding="utf-8"))
    good["notes"] = "Göteborg"
    (d / "manifest.json").write_bytes(json.dumps(good, ensure_ascii=False).encode("latin-1"))
    code, _, err = validate(d, capsys)
    assert code == 1 and "manifest.json" in err and "not UTF-8" in err


def test_unknown_file_and_folder_that_is_a_file(mini_dir: Path, tmp_path: Path, capsys) -> None:
    d = copy_dir(mini_dir, tmp_path)
    shutil.copy(d / "employment.csv", d / "sysselsatta.csv")
    code, _, err = validate(d, capsys)
    assert code == 1 and "sysselsatta.csv" in err and "unknown table file" in err
    code, _, err = validate(d / "employment.csv", capsys)
    assert code == 1 and "not a dataset folder" in err


def test_load_dataset_raises_with_every_problem(mini_dir: Path, tmp_path: Path) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "employed", "inf"))
    edit_manifest(d, breaks=[{"year": 2050, "table": "employment", "description": ""}])
    with pytest.raises(DataValidationError) as info:
        load_dataset(d)
    assert "not finite" in str(info.value)
    # a notebook user who edits a table in memory gets the same checks
    ds = load_dataset(mini_dir)
    ds.employment.loc[0, "employed"] = float("inf")
    with pytest.raises(DataValidationError, match="not finite"):
        ds.validate()


@pytest.mark.parametrize("name", ["employment", "employment_age", "population", "education_output"])
def test_every_counts_column_rejects_non_finite_values(demo_dataset: Dataset, name: str) -> None:
    """The generic checks apply to any counts column of any contract, via the validation API."""
    full = demo_dataset.tables()[name]
    keys = [k for k in TABLES[name].keys if k != "year" and k in full]
    one_series = (full[keys] == full[keys].iloc[0]).all(axis=1)
    table = full[one_series].reset_index(drop=True).astype("string").fillna("")
    assert validate_table(table, name)[1] == []
    for col in TABLES[name].counts:
        if col not in table:
            continue
        bad = table.copy()
        bad.loc[3, col] = "inf"
        _, problems = validate_table(bad, name)
        assert any(
            p.column == col and p.rows == (5,) and "not finite" in p.message for p in problems
        )
        bad.loc[3, col] = "2e7"
        _, problems = validate_table(bad, name)
        assert any(p.column == col and "implausibly large" in p.message for p in problems)


# --- parameter files ---------------------------------------------------------------------------


def test_latin1_params_file_is_a_clear_error(
    tiny_dir: Path, params_dir: Path, tmp_path: Path, capsys
) -> None:
    pdir = tmp_path / "params"
    shutil.copytree(params_dir, pdir)
    text = (pdir / "skaraborg.yaml").read_text(encoding="utf-8") + "title: Kompetens i Skövde\n"
    (pdir / "skaraborg.yaml").write_bytes(text.encode("latin-1"))
    out = tmp_path / "out"
    code = main(["run", "--regions", "skaraborg", "--data", str(tiny_dir), "--params-dir",
                 str(pdir), "--output", str(out), "--quiet"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    assert "skaraborg.yaml, line 7" in err and "not UTF-8" in err and "0xf6" in err
    assert "Traceback" not in err and not out.exists()


def test_utf16_and_bom_params(tmp_path: Path) -> None:
    path = tmp_path / "skaraborg.yaml"
    path.write_text("region: skaraborg\ntitle: Skövde\n", encoding="utf-16")
    with pytest.raises(ParamsError, match="UTF-16"):
        load_params(path)
    path.write_text("\ufeffregion: skaraborg\ntitle: Skövde\n", encoding="utf-8")
    assert load_params(path).title == "Skövde"


def test_params_file_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "skaraborg.yaml").mkdir()
    with pytest.raises(ParamsError, match="cannot read"):
        load_params(tmp_path / "skaraborg.yaml")


# --- the CLI never shows a traceback -----------------------------------------------------------


def test_unexpected_error_prints_a_short_message_and_the_log(
    mini_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(directory):
        raise ValueError("something nobody expected")

    monkeypatch.setenv("KOMPETENSPROGNOS_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.setattr("kompetensprognos.dataset.check_dataset", boom)
    code = main(["data", "validate", str(mini_dir)])
    err = capsys.readouterr().err
    assert code == 3 and "Traceback" not in err
    assert "unexpected ValueError: something nobody expected" in err
    logs = list((tmp_path / "logs").glob("error-*.log"))
    assert len(logs) == 1 and str(logs[0]) in err
    log = logs[0].read_text(encoding="utf-8")
    assert "Traceback" in log and "boom" in log and "data validate" in log


def test_os_error_is_one_message(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "D" / "x.csv"))

    old = tmp_path / "D"
    old.mkdir()
    (old / "keep.txt").write_text("earlier data")
    before = snapshot(tmp_path)
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    code = main(["data", "demo", "--out", str(old), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and "disk is full" in err and "x.csv" in err and "Traceback" not in err
    assert snapshot(tmp_path) == before  # the earlier folder intact, no temporary folder left


def test_atomic_write_keeps_the_old_file_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "index.html"
    target.write_text("<p>förra</p>", encoding="utf-8")

    class Full(io.StringIO):
        def write(self, s: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    real_fdopen = os.fdopen

    def fdopen(fd, *args, **kwargs):
        os.close(fd)
        return Full()

    monkeypatch.setattr("kompetensprognos.files.os.fdopen", fdopen)
    with pytest.raises(OSError):
        atomic_write_text(target, "<p>ny</p>")
    monkeypatch.setattr("kompetensprognos.files.os.fdopen", real_fdopen)
    assert target.read_text(encoding="utf-8") == "<p>förra</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["index.html"]


# --- run: faults before any work ---------------------------------------------------------------


def _run_args(data: Path, params: Path, out: Path, *regions_: str) -> list[str]:
    return ["run", "--regions", *(regions_ or ["skaraborg"]), "--data", str(data),
            "--params-dir", str(params), "--output", str(out), "--quiet", "--jobs", "2"]  # fmt: skip


@pytest.fixture
def no_work(monkeypatch: pytest.MonkeyPatch):
    """Fail the test if the run loads data or computes anything."""

    def forbidden(*args, **kwargs):
        raise AssertionError("work started before the output folder was checked")

    monkeypatch.setattr("kompetensprognos.batch.load_dataset", forbidden)
    monkeypatch.setattr("kompetensprognos.batch.run_pipeline", forbidden)


def test_output_path_that_is_a_file(tiny_dir, params_dir, tmp_path, capsys, no_work) -> None:
    out = tmp_path / "out.html"
    out.write_text("mine")
    assert main(_run_args(tiny_dir, params_dir, out)) == 2
    err = capsys.readouterr().err
    assert f"output folder {out} is a file" in err and out.read_text() == "mine"


def test_output_below_a_file(tiny_dir, params_dir, tmp_path, capsys, no_work) -> None:
    (tmp_path / "f").write_text("x")
    assert main(_run_args(tiny_dir, params_dir, tmp_path / "f" / "out")) == 2
    assert "is a file" in capsys.readouterr().err


def test_output_that_cannot_be_written(
    tiny_dir, params_dir, tmp_path, capsys, no_work, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr("kompetensprognos.files.tempfile.mkstemp", refuse)
    assert main(_run_args(tiny_dir, params_dir, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "cannot be written" in err and "Permission denied" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_output_folder(tiny_dir, params_dir, tmp_path, capsys, no_work) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert main(_run_args(tiny_dir, params_dir, out)) == 2
    finally:
        out.chmod(0o700)
    assert "cannot be written" in capsys.readouterr().err


def test_second_run_into_a_locked_folder(
    tiny_dir, params_dir, previous_outputs: Path, capsys, no_work
) -> None:
    before = snapshot(previous_outputs)
    with output_lock(previous_outputs):  # another run holds the folder
        assert main(_run_args(tiny_dir, params_dir, previous_outputs)) == 2
        err = capsys.readouterr().err
        assert "another run is writing to" in err and f"pid {os.getpid()}" in err
    after = snapshot(previous_outputs)
    assert after == before  # the lock file is gone again, nothing else touched


def test_bad_dataset_leaves_previous_outputs(
    mini_dir: Path, params_dir, previous_outputs: Path, tmp_path: Path, capsys
) -> None:
    d = copy_dir(mini_dir, tmp_path)
    edit_csv(d / "employment.csv", lambda df: first_row(df, "employed", "1e300"))
    before = snapshot(previous_outputs)
    assert main(_run_args(d, params_dir, previous_outputs)) == 2
    err = capsys.readouterr().err
    assert "employment.csv, column `employed`" in err and "1e+300" in err
    assert snapshot(previous_outputs) == before


def test_leftovers_of_a_killed_run_are_cleaned(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / ".staging-abc" / "skaraborg").mkdir(parents=True)
    (out / ".skaraborg.old").mkdir()
    (out / "my.old").mkdir()  # a user's folder: not ours to remove
    with output_lock(out):
        pass
    assert sorted(p.name for p in out.iterdir()) == ["my.old"]


# --- run: faults during the run (tiny notebook, precomputed tables) ----------------------------

SLOW_CELL = 'import time\nif region == "skaraborg":\n    time.sleep(120)'
PRINT_CELL = 'print("rapport för", region)'


def _notebook_dir(make_notebook, tmp_path: Path, *cells: str) -> Path:
    """A folder holding notebooks/outlook.ipynb (the run looks there first)."""
    nb = make_notebook("outlook.ipynb", *cells)
    (tmp_path / "cwd" / "notebooks").mkdir(parents=True)
    shutil.move(nb, tmp_path / "cwd" / "notebooks" / "outlook.ipynb")
    return tmp_path / "cwd"


@pytest.mark.slow
def test_dead_kernel_and_timeout_are_named_and_others_finish(
    tiny_dir, params_dir, tmp_path, make_notebook, tables, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kompetensprognos.batch import format_failure, run_reports

    monkeypatch.setattr("kompetensprognos.batch.run_pipeline", _precomputed(tables))
    nb = make_notebook(
        "tiny.ipynb",
        PRINT_CELL,
        'import os\nif region == "skaraborg":\n    os._exit(1)',
    )
    result = run_reports(TWO_REGIONS, data=str(tiny_dir), output=tmp_path / "out",
                         params_dir=params_dir, jobs=2, progress=False, notebook=nb)  # fmt: skip
    by = {o.region: o for o in result.outcomes}
    assert not by["skaraborg"].ok and by["sjuharad"].ok
    message = format_failure(by["skaraborg"])
    assert message.startswith("skaraborg: failed in notebook cell 3") and "kernel died" in message
    assert (tmp_path / "out" / "sjuharad" / "rapport.html").exists()
    assert not (tmp_path / "out" / "skaraborg").exists()

    slow = make_notebook(
        "slow.ipynb", PRINT_CELL, 'import time\ntime.sleep(60 if region == "sjuharad" else 0)'
    )
    result = run_reports(TWO_REGIONS, data=str(tiny_dir), output=tmp_path / "out2",
                         params_dir=params_dir, jobs=2, progress=False, notebook=slow, timeout=3)  # fmt: skip
    by = {o.region: o for o in result.outcomes}
    assert by["skaraborg"].ok and not by["sjuharad"].ok
    message = format_failure(by["sjuharad"])
    assert "cell 3" in message and "longer than 3 s" in message and "--timeout" in message


@pytest.mark.slow
def test_full_disk_while_writing_keeps_previous_outputs(
    tiny_dir, params_dir, previous_outputs: Path, tmp_path, make_notebook, tables, capsys,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setattr("kompetensprognos.batch.run_pipeline", _precomputed(tables))
    monkeypatch.chdir(_notebook_dir(make_notebook, tmp_path, PRINT_CELL))
    before = snapshot(previous_outputs)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    # while staging the tables: nothing replaced at all
    real_to_csv = pd.DataFrame.to_csv
    monkeypatch.setattr(pd.DataFrame, "to_csv", full)
    assert main(_run_args(tiny_dir, params_dir, previous_outputs, *TWO_REGIONS)) == 2
    assert "disk is full" in capsys.readouterr().err
    assert snapshot(previous_outputs) == before
    monkeypatch.setattr(pd.DataFrame, "to_csv", real_to_csv)

    # while writing one region's Excel file: that region keeps its previous folder, the other
    # region is complete and new
    def excel(target, tables_, *args, **kwargs):
        if target.parent.name == "skaraborg":
            full()
        target.write_bytes(b"xlsx")

    monkeypatch.setattr("kompetensprognos.excel.write_workbook", excel)
    assert main(_run_args(tiny_dir, params_dir, previous_outputs, *TWO_REGIONS)) == 1
    err = capsys.readouterr().err
    assert "skaraborg: failed" in err and "No space left" in err
    after = snapshot(previous_outputs)
    assert {k: v for k, v in after.items() if k.startswith("skaraborg")} == {
        k: v for k, v in before.items() if k.startswith("skaraborg")
    }
    assert "rapport för sjuharad" in (previous_outputs / "sjuharad" / "rapport.html").read_text(
        "utf-8"
    )
    assert not [p for p in previous_outputs.iterdir() if p.name.startswith(".")]


def _wait_for(predicate, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_interrupted_run_leaves_previous_outputs_and_blocks_a_second_run(
    tiny_dir, params_dir, previous_outputs: Path, tmp_path, make_notebook, tables_pickle, capsys,
    sig: int,
) -> None:  # fmt: skip
    cwd = _notebook_dir(make_notebook, tmp_path, PRINT_CELL, SLOW_CELL)
    before = snapshot(previous_outputs)
    script = (
        "import pickle, sys\n"
        "import kompetensprognos.batch as b\n"
        f"tables = pickle.loads(open({str(tables_pickle)!r}, 'rb').read())\n"
        "from kompetensprognos.pipeline import PipelineResult\n"
        "b.run_pipeline = lambda ds, params, **k: PipelineResult(tables, dict(params), 'fp')\n"
        "from kompetensprognos.cli import main\n"
        f"sys.exit(main({_run_args(tiny_dir, params_dir, previous_outputs, *TWO_REGIONS)!r}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        staged = lambda: any(previous_outputs.glob(".staging-*/sjuharad/rapport.html"))  # noqa: E731
        assert _wait_for(staged, 120), proc.stderr.read() if proc.poll() is not None else "timeout"
        # a second run into the same folder is refused at once, naming the first
        assert main(_run_args(tiny_dir, params_dir, previous_outputs)) == 2
        assert f"pid {proc.pid}" in capsys.readouterr().err
        t0 = time.monotonic()
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - t0 < 30  # the sleeping kernel was stopped, not waited for
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted: nothing in" in err and "intact" in err and "Traceback" not in err
    assert snapshot(previous_outputs) == before  # no staging folder, no lock file, no new region


# --- determinism -------------------------------------------------------------------------------

SIMULATED = ("lo80", "hi80", "lo95", "hi95", "p_shortage")


def _csv_bytes(tables_: dict[str, dict[str, pd.DataFrame]]) -> dict[tuple[str, str], bytes]:
    return {
        (r, name): df.to_csv(index=False, lineterminator="\n").encode()
        for r, t in tables_.items()
        for name, df in t.items()
    }


@pytest.mark.slow
def test_same_seed_gives_byte_identical_tables(tiny_dataset: Dataset, tables) -> None:
    from kompetensprognos.pipeline import run

    again = run(tiny_dataset, fast_params()).tables
    assert _csv_bytes(again) == _csv_bytes(tables)


@pytest.mark.slow
def test_another_seed_changes_only_the_simulated_columns(tiny_dataset: Dataset, tables) -> None:
    from kompetensprognos.pipeline import run

    other = run(tiny_dataset, fast_params(seed=1)).tables
    changed: set[str] = set()
    for region, t in tables.items():
        assert set(other[region]) == set(t)
        for name, df in t.items():
            o = other[region][name]
            assert list(o.columns) == list(df.columns) and len(o) == len(df)
            changed |= {f"{name}.{c}" for c in df.columns if not df[c].equals(o[c])}
    assert changed, "a different seed changed nothing: are the intervals simulated at all?"
    # the employment forecast is not simulated; need and balance are read from simulated paths
    # (the point need is the median of the paths the probabilities come from, issue 12), so their
    # values move with the seed, but never a key, a code or a year
    keys = ("region", "ssyk", "ssyk_level", "year", "period_start", "period_end", "type")
    assert not any(c.startswith("employment_forecast.") for c in changed), sorted(changed)
    assert not any(c.split(".", 1)[1] in keys for c in changed), sorted(changed)
    assert "recruitment_need.recruitment_need_hi80" in changed


def test_errors_are_package_errors() -> None:
    """Every error raised for bad input derives from the class the CLI prints without traceback."""
    assert issubclass(DataValidationError, KompetensprognosError)
    assert issubclass(ParamsError, KompetensprognosError)


def test_interrupt_during_the_final_moves_is_held_until_they_are_done(tmp_path: Path) -> None:
    from kompetensprognos.files import RunInterrupted, exclusive_output, hold_interrupts

    @exclusive_output("output")
    def fake_run(output: Path) -> str:
        (output / "a").mkdir()
        hold_interrupts()  # the moves start
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C arrives during the moves
        time.sleep(0.1)
        (output / "b").mkdir()
        (output / "index.html").write_text("new")
        return "done"

    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(RunInterrupted):
        fake_run(tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a", "b", "index.html"]
    assert signal.getsignal(signal.SIGINT) is before  # the usual Ctrl-C handling is back
    # outside such a run, hold_interrupts does nothing
    hold_interrupts()
    assert signal.getsignal(signal.SIGINT) is before

"""Tests of dataset folders: round trip, atomic writes, and located errors from altered copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kompetensprognos.dataset import Dataset, load_dataset, validate_dataset, write_dataset
from kompetensprognos.errors import DataValidationError, KompetensprognosError


def altered(demo_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "D"
    shutil.copytree(demo_dir, target)
    return target


def edit_csv(path: Path, func) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    func(df).to_csv(path, index=False)


def test_round_trip_keeps_tables_and_fingerprint(demo_dataset: Dataset, demo_dir: Path) -> None:
    loaded = load_dataset(demo_dir)
    assert loaded.manifest.synthetic
    assert set(loaded.tables()) == set(demo_dataset.tables())
    assert loaded.employment["region"].str.len().eq(4).all()
    assert loaded.fingerprint() == demo_dataset.fingerprint()


def test_validate_demo_dir_is_clean(demo_dir: Path) -> None:
    assert validate_dataset(demo_dir) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda df: df.assign(ssyk=df["ssyk"].where(df.index != 0, "11.0")),
            "code written as a number",
        ),
        (
            lambda df: df.assign(employed=df["employed"].where(df.index != 5, "-3")),
            "negative count",
        ),
        (lambda df: pd.concat([df, df.iloc[[7]]]), "repeat the key"),
        (
            lambda df: df.assign(region=df["region"].where(df.index != 9, "9999")),
            "unknown municipality code",
        ),
    ],
    ids=["number-code", "negative", "duplicate", "unknown-municipality"],
)
def test_altered_copies_fail_naming_file_and_column(
    demo_dir: Path, tmp_path: Path, change, expected: str
) -> None:
    d = altered(demo_dir, tmp_path)
    edit_csv(d / "employment.csv", change)
    problems = validate_dataset(d)
    assert problems, "the altered copy must not validate"
    hit = [p for p in problems if expected in p.message]
    assert hit and all(p.file.endswith("employment.csv") for p in hit)
    if expected != "repeat the key":
        assert hit[0].column in {"ssyk", "employed", "region"}
    with pytest.raises(DataValidationError):
        load_dataset(d)


def test_missing_manifest_and_unknown_file(demo_dir: Path, tmp_path: Path) -> None:
    d = altered(demo_dir, tmp_path)
    (d / "manifest.json").unlink()
    (d / "notes.csv").write_text("a\n1\n")
    messages = [str(p) for p in validate_dataset(d)]
    assert any("missing manifest.json" in m for m in messages)
    assert any("notes.csv" in m and "unknown table file" in m for m in messages)


def test_write_refuses_to_overwrite_and_leaves_no_temp_on_failure(
    demo_dataset: Dataset, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    write_dataset(demo_dataset, target)
    with pytest.raises(KompetensprognosError, match="already exists"):
        write_dataset(demo_dataset, target)
    broken = Dataset(manifest=demo_dataset.manifest, employment=object())  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        write_dataset(broken, target, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no half-written siblings
    assert validate_dataset(target) == []  # the old folder is intact


def test_missing_table_is_a_clear_error(demo_dataset: Dataset) -> None:
    partial = Dataset(manifest=demo_dataset.manifest, employment=demo_dataset.employment)
    with pytest.raises(KompetensprognosError, match="has no population table"):
        partial.require("population")


def test_load_unknown_folder() -> None:
    with pytest.raises(KompetensprognosError, match="does not exist"):
        load_dataset("/nonexistent/dataset")

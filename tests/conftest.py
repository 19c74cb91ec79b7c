"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``../shared`` reference folder; skips the test when it is absent."""
    if not (SHARED_DIR / "reference").is_dir():
        pytest.skip(f"shared reference material not found at {SHARED_DIR}")
    return SHARED_DIR


@pytest.fixture(scope="session")
def demo_dataset():
    """The synthetic demo dataset (generated once per test session; treat as read-only)."""
    from kompetensprognos.synthetic import generate_demo

    return generate_demo()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory, demo_dataset) -> Path:
    """The demo dataset written as a dataset folder (read-only: copy it before altering)."""
    from kompetensprognos.dataset import write_dataset

    return write_dataset(demo_dataset, tmp_path_factory.mktemp("demo") / "D")


@pytest.fixture(scope="session")
def small_demo_dir(tmp_path_factory: pytest.TempPathFactory, demo_dataset) -> Path:
    """A smaller valid dataset folder: the demo restricted to SSYK major groups 2 and 5.

    Fast enough to run the whole pipeline (demand, supply, balance, notebooks) in tests.
    """
    from kompetensprognos.dataset import Dataset, write_dataset

    keep = demo_dataset.employment["ssyk"].str[:1].isin(["2", "5"])
    age = demo_dataset.employment_age
    small = Dataset(
        manifest=demo_dataset.manifest,
        employment=demo_dataset.employment[keep],
        employment_age=age[age["ssyk"].str[:1].isin(["2", "5"])],
        population=demo_dataset.population,
        education_output=demo_dataset.education_output,
        crosswalk=demo_dataset.crosswalk,
    )
    return write_dataset(small, tmp_path_factory.mktemp("small") / "D")


@pytest.fixture(scope="session")
def fast_params_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Parameter files that keep test runs short (no backtest, fewer draws)."""
    d = tmp_path_factory.mktemp("params")
    for region in ("fyrbodal", "goteborgsregionen", "sjuharad", "skaraborg", "vastra-gotaland"):
        (d / f"{region}.yaml").write_text(
            f"region: {region}\nn_sims: 200\nbacktest: false\n"
            "demand:\n  method: theta\n  calibration_origins: 2\n",
            encoding="utf-8",
        )
    return d


@pytest.fixture
def make_notebook(tmp_path: Path):
    """Write a small report notebook: the batch's parameters cell followed by ``cells`` (sources)."""
    import nbformat

    def make(name: str, *cells: str) -> Path:
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        params = nbformat.v4.new_code_cell('region = "x"\ndata = "demo"\ntables_dir = ""')
        params.metadata["tags"] = ["parameters"]
        nb.cells = [params, *(nbformat.v4.new_code_cell(c) for c in cells)]
        path = tmp_path / name
        nbformat.write(nb, path)
        return path

    return make

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

"""Shared fixtures: the project folders and a scratch copy of the shipped data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SPEC = ROOT / "data_spec"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of data/ (CSV files only) to break in a test."""
    target = tmp_path / "data"
    target.mkdir()
    for path in DATA.glob("*.csv"):
        shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def rendered_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole book rendered once per test session with the builtin engine (all formats)."""
    from trialreport.cli import main

    out = tmp_path_factory.mktemp("report")
    assert main(["render", "--engine", "builtin", "--output", str(out)]) == 0
    return out

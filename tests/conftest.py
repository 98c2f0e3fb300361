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

"""The demonstration data rebuild byte for byte, and data/README.md lists every choice."""

from __future__ import annotations

from pathlib import Path

from conftest import DATA
from trialreport.demodata import CHOICES, write_demo_data


def test_generator_reproduces_committed_files_byte_for_byte(tmp_path: Path) -> None:
    written = write_demo_data(tmp_path)
    assert {p.name for p in written} == {p.name for p in DATA.glob("*.csv")} | {
        "reconstruction.yml"}
    for path in written:
        assert path.read_bytes() == (DATA / path.name).read_bytes(), path.name


def test_different_seed_gives_different_patients_same_aggregates(tmp_path: Path) -> None:
    write_demo_data(tmp_path, seed=1)
    assert (tmp_path / "adsl.csv").read_bytes() != (DATA / "adsl.csv").read_bytes()


def test_readme_lists_every_reconstruction_choice() -> None:
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in readme.lower()
    for choice in CHOICES:
        assert choice in readme

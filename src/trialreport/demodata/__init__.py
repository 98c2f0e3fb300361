"""Demonstration data: a seeded synthetic reconstruction of the ALEVIATE trial."""

from __future__ import annotations

from pathlib import Path

from trialreport.demodata.aleviate import CHOICES, SEED, build

__all__ = ["CHOICES", "SEED", "build", "write_demo_data"]


def write_demo_data(out_dir: Path, seed: int = SEED) -> list[Path]:
    """Write every demonstration dataset as UTF-8 CSV (LF line ends) into ``out_dir``.

    The output is a pure function of ``seed``: re-running reproduces the files byte for byte.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in build(seed).items():
        path = out_dir / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        written.append(path)
    return written

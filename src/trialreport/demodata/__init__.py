"""Demonstration data: a seeded synthetic reconstruction of the ALEVIATE trial."""

from __future__ import annotations

from pathlib import Path

import yaml

from trialreport.demodata.aleviate import CHOICES, SEED, build

__all__ = ["CHOICES", "RECONSTRUCTION_FILE", "SEED", "build", "write_demo_data"]

#: Written beside synthetic data: the choices made where the publication is silent.
RECONSTRUCTION_FILE = "reconstruction.yml"


def write_demo_data(out_dir: Path, seed: int = SEED) -> list[Path]:
    """Write every demonstration dataset as UTF-8 CSV (LF line ends) into ``out_dir``, with
    ``reconstruction.yml`` listing the reconstruction choices.

    The output is a pure function of ``seed``: re-running reproduces the files byte for byte.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in build(seed).items():
        path = out_dir / f"{name}.csv"
        frame.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        written.append(path)
    path = out_dir / RECONSTRUCTION_FILE
    path.write_text(yaml.safe_dump({"synthetic": True, "generator": "trialreport.demodata",
                                    "seed": seed, "choices": CHOICES}, allow_unicode=True,
                                   sort_keys=False, width=100), encoding="utf-8")
    written.append(path)
    return written

"""Write environment.yml (conda) pinning exactly the packages of requirements.lock.

Usage: python tools/write_environment_yml.py requirements.lock environment.yml
Conda users get the same pip pins plus conda-forge's quarto (the render engine).
"""

from __future__ import annotations

import sys
from pathlib import Path

HEADER = """\
# Generated from requirements.lock by tools/write_environment_yml.py (make lock); do not edit.
# conda env create -f environment.yml && conda activate trialreport && pip install --no-deps -e .
name: trialreport
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip
  - quarto
  - pip:
"""


def main(lock: str, out: str) -> None:
    pins = [line.strip() for line in Path(lock).read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    body = "".join(f"      - {pin}\n" for pin in pins)
    Path(out).write_text(HEADER + body, encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""Issue 9.7: the same inputs rendered in two different folders with the same
``SOURCE_DATE_EPOCH`` give byte-identical HTML, Word and PDF (two cold renders, about a
minute each on two cores)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from trialreport.paths import copy_project
from trialreport.versioning import report_stem


def _render(project: Path) -> Path:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "TRIALREPORT_PROJECT": str(project)}
    env.pop("TRIALREPORT_DATA", None)
    proc = subprocess.run([sys.executable, "-m", "trialreport", "render", "--engine", "builtin"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return project / "report"


@pytest.mark.render
def test_two_folders_same_epoch_identical_bytes(tmp_path: Path) -> None:
    first = copy_project(ROOT, tmp_path / "one" / "project")
    second = copy_project(ROOT, tmp_path / "two" / "somewhere" / "else")
    # both render cold: the kernels get the project's absolute paths, so nothing is shared
    out_first = _render(first)
    out_second = _render(second)
    stem = report_stem(ROOT)
    for suffix in ("html", "docx", "pdf"):
        a = (out_first / f"{stem}.{suffix}").read_bytes()
        b = (out_second / f"{stem}.{suffix}").read_bytes()
        assert a == b, f"{suffix} differs between the two folders"
        assert str(first).encode() not in a and str(second).encode() not in b

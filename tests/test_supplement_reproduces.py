"""A journal supplement unpacked in an empty folder reproduces with the two commands of its
README (`make report`, `make test`), using the builtin engine and a fresh virtual environment.

Slow (a virtual environment is built from requirements.lock, the report is rendered and the
suite runs inside the unpacked supplement); the copy of this test inside the supplement skips
itself so the check does not recurse.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from trialreport.paths import copy_project

NESTED = "TRIALREPORT_SUPPLEMENT_CHECK"


@pytest.mark.skipif(os.environ.get(NESTED) == "1", reason="already inside a supplement check")
@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_supplement_reproduces_with_the_two_readme_commands(tmp_path: Path) -> None:
    project = tmp_path / "project"
    copy_project(ROOT, project)
    env = {**os.environ, "TRIALREPORT_PROJECT": str(project), NESTED: "1",
           "TRIALREPORT_ENGINE": "builtin"}
    env.pop("VIRTUAL_ENV", None)

    def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    run([sys.executable, "-m", "trialreport", "render", "--engine", "builtin"], project)
    run([sys.executable, "-m", "trialreport", "bundle"], project)
    supplement = next((project / "report").glob("*-supplement.zip"))

    unpacked = tmp_path / "unpacked"
    unpacked.mkdir()
    with zipfile.ZipFile(supplement) as archive:
        archive.extractall(unpacked)
    readme = (unpacked / "README.md").read_text(encoding="utf-8")
    commands = readme.split("```")[1].strip().splitlines()[1:]
    assert commands == ["make report", "make test"]

    env["TRIALREPORT_PROJECT"] = str(unpacked)
    for command in commands:
        done = run(command.split(), unpacked)
        if command == "make test":
            assert re.search(r"\d+ passed", done.stdout), done.stdout[-2000:]
    stem = supplement.name.removesuffix("-supplement.zip")
    for ext in ("html", "docx", "pdf"):
        assert (unpacked / "report" / f"{stem}.{ext}").is_file()
    verify = subprocess.run([str(unpacked / ".venv" / "bin" / "trialreport"), "verify",
                             str(supplement)], cwd=tmp_path, env=env, capture_output=True,
                            text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert re.search(r"reproduced (\d+) of \1 results", verify.stdout)

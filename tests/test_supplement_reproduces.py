"""The ALEVIATE supplement round trip (issue 11.3), without network.

Fast: bundle a copy of this project (its rendered report comes from the session's one render,
``rendered_report``) and verify it: every result must be reproduced, and the zip holds the
study, not the tool's source. Slow: install the bundled wheel offline into a fresh virtual
environment and run the README's commands there; re-render with ``verify --rerender``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from supplement_helpers import ROOT, run_cli

from trialreport.paths import copy_project
from trialreport.supplement.bundle import build_supplement
from trialreport.supplement.safe_unpack import safe_extract


@pytest.fixture(scope="module")
def aleviate(rendered_report: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ALEVIATE supplement, bundled from a temporary copy of the project."""
    project = copy_project(ROOT, tmp_path_factory.mktemp("aleviate") / "project")
    (project / "report").mkdir(exist_ok=True)
    for path in rendered_report.iterdir():
        if path.is_file():
            shutil.copy2(path, project / "report" / path.name)
    return build_supplement(project).path


def _results(zip_path: Path) -> int:
    with zipfile.ZipFile(zip_path) as archive:
        return len(json.loads(archive.read("report/ard.json"))["results"])


def test_aleviate_supplement_reproduces_every_result(aleviate: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["verify", str(aleviate)], capsys)
    assert code == 0, out
    n = _results(aleviate)
    assert n > 100
    assert f"results: OK: reproduced {n} of {n} results" in out
    with zipfile.ZipFile(aleviate) as archive:
        names = archive.namelist()
    tops = {name.split("/")[0] for name in names}
    assert not tops & {"src", "tests", "bench", "tools", "docs", "Makefile", "pyproject.toml",
                       "environment.yml", "README"}
    assert {"chapters", "data", "data_spec", "wheels", "requirements.lock", "index.qmd",
            "_quarto.yml", "CHANGELOG.md", "README.md", "report"} <= tops


def _readme_blocks(readme: str) -> list[list[str]]:
    """The command lines of each ```sh block."""
    return [block.split("```", 1)[0].strip().splitlines()
            for block in readme.split("```sh\n")[1:]]


def _fresh_environment(venv: Path) -> Path:
    """A virtual environment that reuses this environment's packages; returns its python.

    ``--system-site-packages`` from inside a virtual environment exposes the BASE
    interpreter's packages, so this environment's site-packages are added with a ``.pth``
    file; they come after the new environment's own, so the installed wheel wins.
    """
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, capture_output=True, timeout=300)
    target = next(venv.glob("lib/python*/site-packages"))
    (target / "_reuse_test_environment.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    return venv / "bin" / "python"


@pytest.mark.slow
def test_readme_commands_work_offline_in_a_fresh_environment(aleviate: Path,
                                                             tmp_path: Path) -> None:
    work = tmp_path / "journal"
    safe_extract(aleviate, work)
    shutil.copy2(aleviate, work / aleviate.name)
    python = _fresh_environment(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRIALREPORT_", "VIRTUAL_ENV", "PYTHON"))}
    env["PATH"] = f"{python.parent}{os.pathsep}{env.get('PATH', '')}"
    env["HOME"] = str(tmp_path / "home")

    def run(line: str) -> subprocess.CompletedProcess:
        args = line.split()
        args[0] = str(python) if args[0] == "python" else str(python.parent / args[0])
        done = subprocess.run(args, cwd=work, env=env, capture_output=True, text=True,
                              timeout=900)
        assert done.returncode == 0, f"{line}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    blocks = _readme_blocks((work / "README.md").read_text(encoding="utf-8"))
    install, verify = blocks[0]  # the two commands the README opens with
    assert install.startswith("python -m pip install -r requirements.lock wheels/")
    offline = blocks[1]  # the same install without network: dependencies already present
    assert offline == [install.replace("-r requirements.lock", "--no-index --no-deps")]
    run(offline[0])
    where = subprocess.run([str(python), "-c", "import trialreport; print(trialreport.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert Path(where.stdout.strip()).is_relative_to(tmp_path / "venv"), where  # not src/
    done = run(verify)
    n = _results(aleviate)
    assert f"reproduced {n} of {n} results" in done.stdout
    assert re.search(r"made with trialreport (\S+); recomputed with the installed trialreport "
                     r"\1\n", done.stdout), done.stdout
    run("trialreport validate")  # the unpacked study is a working study folder (exit 0)


@pytest.mark.slow
def test_verify_rerender_renders_again_in_a_throwaway_environment(
        aleviate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keep = tmp_path / "kept"
    code, out = run_cli(["verify", str(aleviate), "--rerender", "--keep", str(keep)], capsys)
    assert "--rerender RUNS THE AUTHORS' CODE" in out
    assert code == 0, out
    n = _results(aleviate)
    assert f"re-rendered ard.json: reproduced {n} of {n} results" in out
    stem = aleviate.name.removesuffix("-supplement.zip")
    for ext in ("html", "docx", "pdf"):
        assert (keep / "rerendered" / f"{stem}.{ext}").is_file()
    assert list((keep / "venv").glob("lib/python*/site-packages/trialreport-*.dist-info"))

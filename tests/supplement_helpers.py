"""Helpers for the supplement tests: a STUDY folder (no src/, Makefile or pyproject.toml; the
tool is the installed package) with real analysis results, and zip surgery."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from trialreport.cli import main
from trialreport.versioning import dist_version, report_version, stamp_for_ard, version_stamp

ROOT = Path(__file__).resolve().parents[1]
VERSION = report_version(ROOT)
STEM = f"ALEVIATE-CSR-v{VERSION}"
ZIP_NAME = f"{STEM}-supplement.zip"
RENDERED_AT = "2026-11-25T12:00:00Z"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".cache", ".pytest_cache",
                                ".ruff_cache", "*.egg-info")


def write_ard(project: Path, results: list[dict] | None = None) -> list[dict]:
    """report/ard.json: the installed trialreport's results (or ``results``) plus a version
    stamp of the study folder, as a render writes it. Returns the results."""
    metadata = {"packages": {"trialreport": dist_version("trialreport")}}
    if results is None:
        from trialreport.ard import build_ard_from_paths

        ard = build_ard_from_paths(project / "data", project / "data_spec",
                                   project / "data_spec" / "study.yml")
        metadata, results = ard.metadata, ard.to_dict()["results"]
    metadata["stamp"] = stamp_for_ard(version_stamp(project, project / "data",
                                                    timestamp=RENDERED_AT, version=VERSION))
    out = project / "report" / "ard.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"metadata": metadata, "results": results}, indent=1),
                   encoding="utf-8")
    return results


def make_study(base: Path, results: bool = True) -> Path:
    """A study folder: the book, data, specification, document history and placeholder
    rendered outputs with real results (none when not ``results``: for tests that only
    bundle); the report version is the study definition's. Also things that must stay out of
    the supplement."""
    project = base / "study"
    project.mkdir(parents=True)
    for folder in ("data", "data_spec", "chapters"):
        shutil.copytree(ROOT / folder, project / folder, ignore=IGNORE)
    for name in ("index.qmd", "CHANGELOG.md"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copy2(ROOT / "_quarto.yml", project / "_quarto.yml")
    # not shipped: caches, environments, version control, stray output, the authors' notes
    (project / ".cache").mkdir()
    (project / ".cache" / "cell.json").write_text("{}")
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").write_text("")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("")
    (project / "notes").mkdir()
    (project / "notes" / "todo.txt").write_text("private\n")
    (project / "data" / "__pycache__").mkdir()
    (project / "data" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    report = project / "report"
    report.mkdir()
    (report / f"{STEM}.html").write_text("<html><body>CSR</body></html>\n")
    (report / f"{STEM}.docx").write_bytes(b"PK\x03\x04 placeholder docx\n")
    (report / f"{STEM}.pdf").write_bytes(b"%PDF-1.7 placeholder\n")
    (report / "scratch.log").write_text("not shipped\n")
    write_ard(project, None if results else [])
    return project


def rewrite_zip(source: Path, target: Path, replace: dict[str, bytes | None] | None = None,
                add: list[tuple[zipfile.ZipInfo | str, bytes]] | None = None,
                fix_manifest: bool = False) -> Path:
    """Copy a zip, replacing (bytes) or dropping (None) members and adding raw members;
    ``fix_manifest`` rewrites MANIFEST so that it lists the replaced and added files with their
    new checksums (a forger who also forges the MANIFEST)."""
    replace = dict(replace or {})
    add = list(add or [])
    with zipfile.ZipFile(source) as zin:
        members = {i.filename: (i, zin.read(i)) for i in zin.infolist()}
    if fix_manifest:
        entries = dict(line.split("\t", 1) for line in
                       members["MANIFEST"][1].decode().splitlines()[1:])
        changed = {**{k: v for k, v in replace.items() if v is not None},
                   **{(i if isinstance(i, str) else i.filename): d for i, d in add}}
        for path, data in changed.items():
            entries[path] = f"{len(data)}\t{hashlib.sha256(data).hexdigest()}"
        for path, data in replace.items():
            if data is None:
                entries.pop(path, None)
        lines = ["path\tsize\tsha256"] + [f"{p}\t{entries[p]}" for p in sorted(entries)]
        replace["MANIFEST"] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, (info, data) in members.items():
            if name in replace:
                if replace[name] is None:
                    continue
                data = replace[name]
            zout.writestr(info, data)
        for info, data in add:
            zout.writestr(info, data)
    return target


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run ``trialreport ARGS`` in-process; (exit status, stdout + stderr)."""
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err

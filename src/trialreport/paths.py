"""Where the project's folders are."""

from __future__ import annotations

import os
from pathlib import Path


def project_root(start: Path | None = None) -> Path:
    """The project folder: ``TRIALREPORT_PROJECT``, else the nearest parent with _quarto.yml
    or pyproject.toml, else the current folder."""
    env = os.environ.get("TRIALREPORT_PROJECT")
    if env:
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_quarto.yml").exists() or (folder / "data_spec").is_dir():
            return folder
    return here


def data_dir(root: Path | None = None) -> Path:
    """The data folder: ``TRIALREPORT_DATA`` or ``<project>/data``."""
    env = os.environ.get("TRIALREPORT_DATA")
    return Path(env).resolve() if env else (root or project_root()) / "data"


def spec_dir(root: Path | None = None) -> Path:
    """The specification folder ``<project>/data_spec``."""
    return (root or project_root()) / "data_spec"


def study_file(root: Path | None = None) -> Path:
    """The study definition: ``TRIALREPORT_STUDY`` or ``<project>/data_spec/study.yml``."""
    env = os.environ.get("TRIALREPORT_STUDY")
    return Path(env).resolve() if env else spec_dir(root) / "study.yml"


#: What a working copy of the project leaves out: version control, caches, environments, output.
NOT_PROJECT_FILES = frozenset({".git", ".cache", ".venv", "report", "build", "__pycache__",
                               ".pytest_cache", ".ruff_cache", "_variables.yml"})


def copy_project(root: Path, target: Path) -> Path:
    """Copy the project's own files from ``root`` to ``target`` (no git, caches or outputs);
    used to render or benchmark in isolation."""
    import shutil

    shutil.copytree(root, target,
                    ignore=lambda _dir, names: [n for n in names if n in NOT_PROJECT_FILES])
    return target

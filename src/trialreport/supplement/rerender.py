"""``verify --rerender``: render the authors' chapters again, in a throw-away virtual
environment made from the supplement's wheel and lock file, offline.

This RUNS THE AUTHORS' CODE (the chapters' Python cells), so it is only done on request. The
environment is a fresh ``venv`` whose ``site-packages`` gets the supplement's trialreport wheel
(``pip install --no-index --no-deps``); the lock's other packages come from the verifier's own
installed packages (appended to ``sys.path`` by a ``.pth`` file, so the wheel comes first) when
their versions match the lock, else from ``--wheelhouse DIR`` (``pip install --no-index
--find-links DIR``). When neither has a locked version, nothing runs and the report names what
is needed.
"""

from __future__ import annotations

import importlib.metadata as md
import os
import site
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from trialreport.supplement.compare import compare_results, load_results
from trialreport.supplement.layout import WHEEL_DIR
from trialreport.supplement.toolpin import DIST_NAME, LOCK_NAME, read_lock

RENDER_TIMEOUT = 3600  # seconds
_PIP_TIMEOUT = 600  # seconds


@dataclass
class RerenderReport:
    """What the re-render did: ``ok`` only when it rendered and reproduced every result."""

    ok: bool = False
    lines: list[str] = field(default_factory=list)


def _installed_versions() -> dict[str, str]:
    """``{canonical name: version}`` of the verifier's installed distributions."""
    versions: dict[str, str] = {}
    for dist in md.distributions():
        name = dist.metadata["Name"]
        if name:
            versions.setdefault(canonicalize_name(name), dist.version)
    return versions


def lock_shortfall(lock: dict[str, str], installed: dict[str, str]) -> list[str]:
    """Locked packages not installed at the locked version (``name==version (installed X)``)."""
    short = []
    for name, version in sorted(lock.items()):
        have = installed.get(name)
        if have != version:
            short.append(f"{name}=={version} ({'not installed' if have is None else have})")
    return short


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int) -> str | None:
    """Run ``command``; None when it succeeded, else the last lines of its output."""
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode == 0:
        return None
    tail = (done.stdout + done.stderr).strip().splitlines()[-20:]
    return f"exit {done.returncode}:\n" + "\n".join(f"    {line}" for line in tail)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def rerender(root: Path, work: Path, wheelhouse: Path | None = None) -> RerenderReport:
    """Render the unpacked supplement ``root`` into ``work/rerendered`` with its own wheel in
    a throw-away environment under ``work``; compare the re-rendered ``ard.json`` with the
    shipped one."""
    report = RerenderReport()
    wheels = sorted((root / WHEEL_DIR).glob(f"{DIST_NAME}-*.whl"))
    if len(wheels) != 1:
        report.lines.append(f"cannot re-render: expected one {WHEEL_DIR}/{DIST_NAME}-*.whl, "
                            f"found {len(wheels)}")
        return report
    try:
        lock = read_lock((root / LOCK_NAME).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        report.lines.append(f"cannot re-render: {LOCK_NAME}: {exc}")
        return report
    lock.pop(canonicalize_name(DIST_NAME), None)
    short = lock_shortfall(lock, _installed_versions())
    if short and wheelhouse is None:
        report.lines.append("cannot re-render offline: these locked packages are not installed "
                            "at their locked versions: " + ", ".join(short)
                            + "; put their wheels in a folder and pass --wheelhouse DIR (or "
                            f"install `{LOCK_NAME}` with network access)")
        return report

    venv = work / "venv"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TRIALREPORT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update({"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
                "MPLCONFIGDIR": str(work / "mplconfig"), "XDG_CACHE_HOME": str(work / "cache"),
                "TRIALREPORT_PROJECT": str(root)})
    steps: list[tuple[str, list[str], int]] = [
        ("create the virtual environment",
         [sys.executable, "-m", "venv", "--without-pip", str(venv)], _PIP_TIMEOUT)]
    python = _venv_python(venv)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "--disable-pip-version-check",
           "install", "--no-index", "--no-deps", "--no-cache-dir"]
    steps.append(("install the supplement's wheel", [*pip, str(wheels[0])], _PIP_TIMEOUT))
    if short:
        pins = [f"{n}=={v}" for n, v in sorted(lock.items())
                if any(s.startswith(f"{n}=={v} ") for s in short)]
        steps.append((f"install {len(pins)} locked package(s) from {wheelhouse}",
                      [*pip, "--find-links", str(wheelhouse), *pins], _PIP_TIMEOUT))
    out = work / "rerendered"
    for label, command, timeout in steps:
        failure = _run(command, work, env, timeout)
        if failure is not None:
            report.lines.append(f"cannot re-render: could not {label}: {failure}")
            return report
        if label == "create the virtual environment":
            _share_site_packages(venv)
    report.lines.append(f"re-rendering with {wheels[0].name} in a throw-away environment")
    # -I: no current folder on sys.path, no user site, no PYTHON* variables
    failure = _run([str(python), "-I", "-m", "trialreport", "render", "--output", str(out)],
                   root, env, RENDER_TIMEOUT)
    if failure is not None:
        report.lines.append(f"re-render FAILED: {failure}")
        return report
    rendered = sorted(p.name for p in out.iterdir() if p.is_file())
    report.lines.append("re-rendered: " + ", ".join(rendered))
    try:
        comparison = compare_results(load_results(root / "report" / "ard.json"),
                                     load_results(out / "ard.json"))
    except (OSError, ValueError) as exc:
        report.lines.append(f"re-render FAILED: cannot compare ard.json: {exc}")
        return report
    report.lines += ["re-rendered ard.json: " + comparison.lines()[0], *comparison.lines()[1:]]
    report.ok = comparison.ok
    return report


def _share_site_packages(venv: Path) -> None:
    """Let the throw-away environment see the verifier's installed packages, after its own."""
    targets = sorted(venv.glob("lib/python*/site-packages")) or sorted(
        venv.glob("Lib/site-packages"))
    if not targets:
        return
    shared = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (targets[0] / "_verifier_packages.pth").write_text("\n".join(shared) + "\n",
                                                       encoding="utf-8")

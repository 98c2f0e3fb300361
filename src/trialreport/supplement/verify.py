"""Verify a supplement: unpack safely, check the MANIFEST, re-run the analyses, compare.

The analyses are re-run in a subprocess, ``python -m trialreport ard ...`` with ``PYTHONPATH``
set to the bundled ``src/``, so the bundled code (not the installed one) produces the results;
each result of the re-run is compared with the bundled ``report/ard.json`` by its key
(analysis, population, group, variable, category, statistic).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialreport.supplement.bundle import ARD_NAME, REPORT_DIR
from trialreport.supplement.manifest import (
    MANIFEST_NAME,
    ManifestCheck,
    ManifestError,
    check_tree,
    parse_manifest,
)
from trialreport.supplement.safe_unpack import Limits, UnsafeArchiveError, safe_extract

KEY_FIELDS = ("analysis", "population", "group", "variable", "category", "statistic")
REL_TOL = 1e-9
ABS_TOL = 1e-12  # values that should be 0 may differ by rounding noise across platforms
RERUN_NAME = "ard.rerun.json"
RERUN_TIMEOUT = 3600
# environment variables that would point the re-run at the caller's project, not the bundle
_PROJECT_ENV = ("TRIALREPORT_PROJECT", "TRIALREPORT_DATA", "TRIALREPORT_STUDY",
                "TRIALREPORT_VERSION_STAMP", "PYTHONHOME", "PYTHONSTARTUP")

Key = tuple[str, ...]


class VerifyUsageError(ValueError):
    """The command was used wrongly (file not found, not a zip, --keep not empty)."""


@dataclass
class ResultComparison:
    """Results of the re-run compared with the bundled ones."""

    total: int = 0
    reproduced: int = 0
    differing: list[tuple[Key, Any, Any]] = field(default_factory=list)
    missing: list[tuple[Key, Any]] = field(default_factory=list)  # bundled, not re-run
    extra: list[tuple[Key, Any]] = field(default_factory=list)  # re-run only
    duplicates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every result was reproduced and none is extra."""
        return (self.reproduced == self.total and not self.extra and not self.missing
                and not self.differing and not self.duplicates)

    def lines(self) -> list[str]:
        """The summary line and one line per problem."""
        out = [f"reproduced {self.reproduced} of {self.total} results"]
        out += [f"  differs: {format_key(k)}: bundled {a}, re-run {b}"
                for k, a, b in self.differing]
        out += [f"  missing from the re-run: {format_key(k)} (bundled {v})"
                for k, v in self.missing]
        out += [f"  extra in the re-run: {format_key(k)} (re-run {v})" for k, v in self.extra]
        out += [f"  {d}" for d in self.duplicates]
        return out


@dataclass
class VerifyReport:
    """Everything ``verify`` found; ``ok`` only when checksums and results all match."""

    supplement: Path
    unpacked: Path | None = None
    files: int = 0
    refused: str | None = None
    manifest_error: str | None = None
    checksums: ManifestCheck | None = None
    rerun_error: str | None = None
    results: ResultComparison | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was refused and every checksum and result matches."""
        return (self.refused is None and self.manifest_error is None
                and self.checksums is not None and self.checksums.ok
                and self.rerun_error is None and self.results is not None and self.results.ok)

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = [f"verifying {self.supplement}"]
        if self.refused:
            return [*out, f"REFUSED: {self.refused}", "FAILED: the archive was not unpacked"]
        out.append(f"unpacked {self.files} files into {self.unpacked}")
        if self.manifest_error:
            out.append(f"checksums: FAILED: {self.manifest_error}")
        elif self.checksums is not None:
            c = self.checksums
            verdict = "OK" if c.ok else "FAILED"
            out.append(f"checksums: {verdict}: {c.checked - len(c.differ)} of "
                       f"{c.checked + len(c.missing)} files listed in MANIFEST match")
            out += c.lines()
        if self.rerun_error:
            out.append(f"results: FAILED: {self.rerun_error}")
        elif self.results is not None:
            out.append("results: " + ("OK" if self.results.ok else "FAILED"))
            out += self.results.lines()
        out.append("OK: the supplement is intact and reproduces every result" if self.ok
                   else "FAILED: the supplement does not verify")
        return out


def format_key(key: Key) -> str:
    """``analysis / population / group / variable / category / statistic``."""
    return " / ".join(f'"{k}"' if k == "" else k for k in key)


def _value(raw: Any) -> float:
    if raw is None:
        return math.nan
    try:
        return float(raw)
    except (TypeError, ValueError):
        return math.nan


def values_equal(a: Any, b: Any, rel_tol: float = REL_TOL) -> bool:
    """Equal within ``rel_tol`` relative (and 1e-12 absolute), or both NaN/missing."""
    x, y = _value(a), _value(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=rel_tol, abs_tol=ABS_TOL)


def _index(records: list[dict[str, Any]], label: str, problems: list[str]) -> dict[Key, dict]:
    index: dict[Key, dict] = {}
    for record in records:
        key = tuple("" if record.get(f) is None else str(record.get(f)) for f in KEY_FIELDS)
        if key in index:
            problems.append(f"duplicate result in {label}: {format_key(key)}")
        index[key] = record
    return index


def compare_results(bundled: list[dict[str, Any]], rerun: list[dict[str, Any]],
                    rel_tol: float = REL_TOL) -> ResultComparison:
    """Compare result records by key; values within ``rel_tol`` or both NaN are equal, and the
    ``method`` must match too."""
    comparison = ResultComparison()
    want = _index(bundled, "the bundled ard.json", comparison.duplicates)
    got = _index(rerun, "the re-run", comparison.duplicates)
    comparison.total = len(want)
    for key, record in want.items():
        other = got.get(key)
        if other is None:
            comparison.missing.append((key, record.get("value")))
            continue
        a, b = record.get("value"), other.get("value")
        if not values_equal(a, b, rel_tol):
            comparison.differing.append((key, a, b))
        elif (record.get("method") or "") != (other.get("method") or ""):
            comparison.differing.append((key, f"{a} (method {record.get('method')!r})",
                                         f"{b} (method {other.get('method')!r})"))
        else:
            comparison.reproduced += 1
    comparison.extra = [(k, r.get("value")) for k, r in got.items() if k not in want]
    return comparison


def load_results(path: Path) -> list[dict[str, Any]]:
    """The ``results`` records of an ``ard.json`` file (NaN, Infinity and null accepted)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ValueError(f"{path.name} has no 'results' list")
    return results


def _rerun_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PROJECT_ENV}
    env["PYTHONPATH"] = str(root / "src")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    env["TRIALREPORT_PROJECT"] = str(root)
    return env


def rerun_analyses(root: Path, python: str | None = None,
                   timeout: int = RERUN_TIMEOUT) -> Path:
    """Run the bundled code's ``trialreport ard`` on the bundled data; return the output path.

    Raises RuntimeError (with the command's output) when the re-run fails or would not use
    the bundled code.
    """
    python = python or sys.executable
    env = _rerun_env(root)
    probe = subprocess.run([python, "-c", "import trialreport; print(trialreport.__file__)"],
                           cwd=root, env=env, capture_output=True, text=True, timeout=120)
    location = Path(probe.stdout.strip() or ".").resolve()
    if probe.returncode != 0 or (root / "src").resolve() not in location.parents:
        raise RuntimeError("the bundled code in src/ cannot be imported (imported "
                           f"{probe.stdout.strip() or 'nothing'}): {probe.stderr.strip()}")
    out = root / RERUN_NAME
    command = [python, "-m", "trialreport", "ard", "--data", str(root / "data"),
               "--spec", str(root / "data_spec"), "--study", str(root / "data_spec/study.yml"),
               "--out", str(out)]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0 or not out.is_file():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise RuntimeError(f"re-running the analyses failed (exit {done.returncode}):\n{tail}")
    return out


def verify_supplement(supplement: Path, keep: Path | None = None, limits: Limits | None = None,
                      python: str | None = None) -> VerifyReport:
    """Verify ``supplement`` (see the module docstring); ``keep`` copies the unpacked folder
    (with the re-run's ``ard.rerun.json``) there.

    Raises :class:`VerifyUsageError` for a missing file, a file that is not a zip, or a
    ``keep`` folder that exists and is not empty.
    """
    supplement = Path(supplement)
    if not supplement.is_file():
        raise VerifyUsageError(f"file not found: {supplement}")
    if not zipfile.is_zipfile(supplement):
        raise VerifyUsageError(f"not a zip file: {supplement}")
    if keep is not None and Path(keep).exists() and (
            not Path(keep).is_dir() or any(Path(keep).iterdir())):
        raise VerifyUsageError(f"--keep folder exists and is not empty: {keep}")
    report = VerifyReport(supplement=supplement)
    with tempfile.TemporaryDirectory(prefix="trialreport-verify-") as tmp:
        root = Path(tmp) / "supplement"
        try:
            report.files = len(safe_extract(supplement, root, limits))
        except UnsafeArchiveError as exc:
            report.refused = str(exc)
            return report
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            report.refused = f"damaged or unsupported zip file: {exc}"
            return report
        report.unpacked = Path(keep) if keep is not None else root
        _check(report, root, python)
        if keep is not None:
            shutil.copytree(root, Path(keep), dirs_exist_ok=True)
    return report


def _check(report: VerifyReport, root: Path, python: str | None) -> None:
    manifest_path = root / MANIFEST_NAME
    try:
        if not manifest_path.is_file():
            raise ManifestError(f"no {MANIFEST_NAME} in the supplement")
        manifest = parse_manifest(manifest_path.read_text(encoding="utf-8"))
    except (ManifestError, UnicodeDecodeError) as exc:
        report.manifest_error = str(exc)
    else:
        report.checksums = check_tree(root, manifest)
    bundled_path = root / REPORT_DIR / ARD_NAME
    try:
        bundled = load_results(bundled_path)
    except (OSError, ValueError) as exc:
        report.rerun_error = f"cannot read the bundled {REPORT_DIR}/{ARD_NAME}: {exc}"
        return
    try:
        rerun_path = rerun_analyses(root, python)
        rerun = load_results(rerun_path)
    except (RuntimeError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
        report.rerun_error = str(exc)
        return
    report.results = compare_results(bundled, rerun)

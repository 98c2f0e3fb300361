"""Verify a received supplement without importing or executing anything from it.

1. Every member is checked before anything is written (paths, types, sizes, count, compression
   ratio: :mod:`trialreport.supplement.safe_unpack`) and the archive is unpacked into one private
   temporary folder (removed afterwards) or the new, empty ``keep`` folder.
2. Every file is checked against ``MANIFEST`` (no file missing, extra or changed); on any
   mismatch verification STOPS there. Members a supplement never holds (code outside its wheel,
   other folders: :mod:`.layout`) are reported as a failure (and, like everything, not run).
3. Every result is recomputed by the VERIFIER'S installed trialreport from the supplement's
   ``data/`` and ``data_spec/`` (read as data: CSV/XPT and YAML, never imported) and compared
   with the shipped ``report/ard.json``. A supplement made with another trialreport version is
   still compared, with a warning.

Re-rendering the chapters runs the authors' code and is separate (:mod:`.rerender`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialreport.supplement.compare import ResultComparison, compare_results, load_results
from trialreport.supplement.layout import layout_problems
from trialreport.supplement.manifest import (
    MANIFEST_NAME,
    ManifestCheck,
    ManifestError,
    check_tree,
    parse_manifest,
    printable,
)
from trialreport.supplement.safe_unpack import Limits, UnsafeArchiveError, safe_extract

REPORT_ARD = "report/ard.json"
STAMP_NAME = "VERSION_STAMP.json"
UNPACKED_NAME = "supplement"
RECOMPUTED_NAME = "recomputed-ard.json"


class VerifyUsageError(ValueError):
    """The command was used wrongly (file not found, not a zip, unusable --keep folder)."""


def recompute_ard(data_dir: Path, spec_dir: Path, study_file: Path) -> dict[str, Any]:
    """Every result recomputed by the installed trialreport, ``{"metadata", "results"}``.

    The ONE call into the analysis layer: re-point it here when that layer changes.
    """
    from trialreport.ard import build_ard_from_paths

    return build_ard_from_paths(data_dir, spec_dir, study_file).to_dict()


def _recompute_failure(exc: Exception) -> str:
    """A readable message for why recomputing failed (the data or specification are bad)."""
    from trialreport.validation import DataValidationError

    if isinstance(exc, DataValidationError):
        errors = exc.report.errors
        shown = [f"  {printable(str(v))}" for v in errors[:50]]
        more = [f"  ... and {len(errors) - 50} more"] if len(errors) > 50 else []
        return "\n".join([f"the data break the specification ({len(errors)} error(s)):",
                          *shown, *more])
    return printable(f"{type(exc).__name__}: {exc}")


def installed_tool_version() -> str:
    """The version of the trialreport running this verification."""
    from trialreport.versioning import dist_version

    return dist_version("trialreport")


def shipped_tool_version(root: Path) -> str | None:
    """The trialreport version recorded in the supplement's ``VERSION_STAMP.json``."""
    try:
        stamp = json.loads((root / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    tool = stamp.get("trialreport") if isinstance(stamp, dict) else None
    version = tool.get("version") if isinstance(tool, dict) else None
    return printable(str(version)) if isinstance(version, str | int | float) else None


@dataclass
class VerifyReport:
    """Everything ``verify`` found; ``ok`` only when checksums and results all match."""

    supplement: Path
    kept: Path | None = None
    members: int = 0
    refused: str | None = None
    manifest_error: str | None = None
    checksums: ManifestCheck | None = None
    unexpected: list[str] = field(default_factory=list)
    shipped_tool: str | None = None
    verifier_tool: str = ""
    recompute_error: str | None = None
    results: ResultComparison | None = None
    rerender_lines: list[str] = field(default_factory=list)
    rerender_ok: bool | None = None  # None: not asked for

    @property
    def checksums_ok(self) -> bool:
        """True when the archive was unpacked and every file matches MANIFEST."""
        return (self.refused is None and self.manifest_error is None
                and self.checksums is not None and self.checksums.ok)

    @property
    def ok(self) -> bool:
        """True when nothing was refused and every checksum and result matches (and the
        re-render, when asked for, reproduced every result)."""
        return (self.checksums_ok and not self.unexpected and self.recompute_error is None
                and self.results is not None and self.results.ok
                and self.rerender_ok is not False)

    def lines(self) -> list[str]:
        """The human-readable report."""
        out = [f"verifying {printable(str(self.supplement))}"]
        if self.refused:
            return [*out, f"REFUSED: {printable(self.refused)}",
                    "FAILED: the archive is unsafe; nothing was unpacked for use"]
        where = f"into {self.kept}" if self.kept else "into a temporary folder (removed after)"
        out.append(f"archive: {self.members} members checked (paths, types, sizes, "
                   f"compression) and unpacked {where}")
        if self.manifest_error:
            return [*out, f"checksums: FAILED: {printable(self.manifest_error)}",
                    "FAILED: the supplement has no valid MANIFEST; nothing was recomputed"]
        c = self.checksums
        if c is None:
            return [*out, "FAILED: the checksums were not checked"]
        out.append(f"checksums: {'OK' if c.ok else 'FAILED'}: {c.checked - len(c.differ)} of "
                   f"{c.checked + len(c.missing)} files listed in MANIFEST match")
        out += c.lines()
        if not c.ok:
            return [*out, "FAILED: the supplement does not match its MANIFEST; nothing was "
                          "recomputed"]
        if self.unexpected:
            out.append(f"contents: FAILED: {len(self.unexpected)} member(s) a supplement does "
                       "not hold (none of them was run or imported):")
            out += [f"  unexpected: {printable(line)}" for line in self.unexpected]
        shipped = self.shipped_tool or "an unrecorded version"
        out.append(f"tool: made with trialreport {shipped}; recomputed with the installed "
                   f"trialreport {self.verifier_tool}")
        if self.shipped_tool != self.verifier_tool:
            out.append(f"WARNING: the supplement was made with trialreport {shipped}, this is "
                       f"trialreport {self.verifier_tool}: a difference below may come from the "
                       "tool version, not the data (install the supplement's wheel to compare "
                       "like with like)")
        if self.recompute_error:
            out.append(f"results: FAILED: cannot recompute: {self.recompute_error}")
        elif self.results is not None:
            out.append("results: " + ("OK: " if self.results.ok else "FAILED: ")
                       + self.results.lines()[0])
            out += self.results.lines()[1:]
        out += self.rerender_lines
        out.append("OK: the supplement is intact and reproduces every result" if self.ok
                   else "FAILED: the supplement does not verify")
        return out


def _prepare_keep(keep: Path) -> Path:
    """Create or accept the ``--keep`` folder: new, or existing, empty and writable."""
    keep = Path(keep)
    if keep.is_symlink() or (keep.exists() and not keep.is_dir()):
        raise VerifyUsageError(f"--keep {keep} exists and is not a folder")
    if keep.is_dir():
        if any(keep.iterdir()):
            raise VerifyUsageError(f"--keep folder {keep} is not empty; give a new or empty one")
        if not os.access(keep, os.W_OK | os.X_OK):
            raise VerifyUsageError(f"--keep folder {keep} is not writable")
        return keep
    if not keep.parent.is_dir():
        raise VerifyUsageError(f"--keep {keep}: its parent folder does not exist")
    try:
        keep.mkdir()
    except OSError as exc:
        raise VerifyUsageError(f"--keep {keep}: cannot create the folder: "
                               f"{exc.strerror or exc}") from None
    return keep


def _check_supplement_file(supplement: Path) -> None:
    if not supplement.exists():
        raise VerifyUsageError(f"file not found: {supplement}")
    if not supplement.is_file():
        raise VerifyUsageError(f"not a file: {supplement}")
    if not os.access(supplement, os.R_OK):
        raise VerifyUsageError(f"cannot read {supplement}")
    if not zipfile.is_zipfile(supplement):
        raise VerifyUsageError(f"not a zip file: {supplement}")


def verify_supplement(supplement: Path, keep: Path | None = None, limits: Limits | None = None,
                      rerender: bool = False, wheelhouse: Path | None = None) -> VerifyReport:
    """Verify ``supplement`` (see the module docstring).

    ``keep`` (new or empty) receives the unpacked supplement (``supplement/``) and the
    recomputed results (``recomputed-ard.json``); else everything lives in a private temporary
    folder that is removed. ``rerender`` also renders the chapters again (runs the authors'
    code, :func:`trialreport.supplement.rerender.rerender`), only after the checksums pass.

    Raises :class:`VerifyUsageError` for a missing or unreadable file, a file that is not a
    zip, or an unusable ``keep`` folder.
    """
    supplement = Path(supplement)
    _check_supplement_file(supplement)
    kept = _prepare_keep(keep) if keep is not None else None
    report = VerifyReport(supplement=supplement, kept=kept,
                          verifier_tool=installed_tool_version())
    work = kept if kept is not None else Path(tempfile.mkdtemp(prefix="trialreport-verify-"))
    try:
        _verify_in(report, work, limits, rerender, wheelhouse)
    finally:
        if kept is None:
            shutil.rmtree(work, ignore_errors=True)
    return report


def _verify_in(report: VerifyReport, work: Path, limits: Limits | None, rerender: bool,
               wheelhouse: Path | None) -> None:
    root = work / UNPACKED_NAME
    try:
        report.members = len(safe_extract(report.supplement, root, limits))
    except UnsafeArchiveError as exc:
        report.refused = str(exc)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError,
            ValueError) as exc:
        report.refused = f"damaged, unsupported or unwritable zip member: {exc}"
    if report.refused is not None:
        shutil.rmtree(root, ignore_errors=True)  # nothing half-unpacked stays, even with keep
        return
    try:
        if not (root / MANIFEST_NAME).is_file():
            raise ManifestError(f"no {MANIFEST_NAME} in the supplement")
        manifest = parse_manifest((root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (ManifestError, UnicodeDecodeError) as exc:
        report.manifest_error = str(exc)
        return
    report.checksums = check_tree(root, manifest)
    if not report.checksums.ok:
        return  # nothing from a supplement that does not match its MANIFEST is used
    report.unexpected = layout_problems(sorted(manifest))
    report.shipped_tool = shipped_tool_version(root)
    try:
        shipped = load_results(root / REPORT_ARD)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        report.recompute_error = f"cannot read the shipped {REPORT_ARD}: {printable(str(exc))}"
        return
    try:
        recomputed = recompute_ard(root / "data", root / "data_spec",
                                   root / "data_spec" / "study.yml")
    except Exception as exc:  # noqa: BLE001 - untrusted input: report any failure, never a traceback
        report.recompute_error = _recompute_failure(exc)
        return
    if report.kept is not None:
        (work / RECOMPUTED_NAME).write_text(json.dumps(recomputed, indent=1, default=str),
                                            encoding="utf-8")
    report.results = compare_results(shipped, recomputed["results"])
    if rerender and report.unexpected:
        report.rerender_lines = ["not re-rendered: the supplement holds members a supplement "
                                 "does not (see above)"]
        report.rerender_ok = False
    elif rerender:
        from trialreport.supplement.rerender import rerender as run_rerender

        outcome = run_rerender(root, work, wheelhouse)
        report.rerender_lines = outcome.lines
        report.rerender_ok = outcome.ok

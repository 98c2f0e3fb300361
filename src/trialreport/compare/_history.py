"""Earlier versions of a report: kept under ``report/history/v<version>/`` when a new version
is published, and summarised for the document history ("what changed since version X")."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from trialreport.compare._model import Changes, is_missing
from trialreport.compare._results import ARDReadError, compare_ards, report_version
from trialreport.compare._sides import ARD_NAME, _html_name

HISTORY_DIR = "history"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]")
_MARKDOWN_LIMIT = 20


def _read_ard(path: Path, strict: bool = False) -> dict[str, Any] | None:
    """An ``ard.json`` object; None when the file is missing, and also when it is not an ARD
    with metadata unless ``strict`` (then :class:`ARDReadError` names the file)."""
    if not path.is_file():
        return None
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
        problem = "" if isinstance(obj, dict) and isinstance(obj.get("metadata"), dict) \
            else "not an ARD (no 'metadata' object)"
    except (OSError, ValueError, RecursionError) as exc:
        obj, problem = None, f"cannot be read: {exc}"
    if problem:
        if strict:
            raise ARDReadError(f"{path}: {problem}")
        return None
    return obj


def _version_of(obj: dict[str, Any] | None) -> str | None:
    if obj is None:
        return None
    version = report_version(obj["metadata"])
    return None if version == "unknown" else version


def archive_previous_version(output_dir: str | Path, new_ard: str | Path) -> Path | None:
    """Keep the report in ``output_dir`` before a new version replaces it.

    When ``output_dir/ard.json`` holds another report version than ``new_ard`` (the ARD about
    to be published), copy it and its HTML report to ``output_dir/history/v<old>/`` (replacing
    an earlier copy of that version, atomically) and return that folder; else return None
    (no previous report, same version, or an ``ard.json`` without a version). Raises
    :class:`~trialreport.render.RenderError` when the copy cannot be made (the caller then
    leaves the report in place).
    """
    output_dir = Path(output_dir)
    old = _read_ard(output_dir / ARD_NAME)
    old_version = _version_of(old)
    if old is None or old_version is None or old_version == _version_of(_read_ard(Path(new_ard))):
        return None
    target = output_dir / HISTORY_DIR / f"v{_UNSAFE_NAME.sub('_', old_version)}"
    try:
        return _archive(output_dir, old, target)
    except OSError as exc:  # the report is not replaced when its version cannot be kept
        from trialreport.render.result import RenderError

        raise RenderError(f"could not keep version {old_version} under {target}: "
                          f"{exc.strerror or exc}") from exc


def _archive(output_dir: Path, old: dict[str, Any], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        shutil.copy2(output_dir / ARD_NAME, stage / ARD_NAME)
        names = sorted(p.name for p in output_dir.iterdir() if p.is_file())
        html = _html_name(names, old["metadata"])
        if html is not None:
            shutil.copy2(output_dir / html, stage / html)
        stage.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return target


def _version_order(version: str) -> tuple[int, Any]:
    from packaging.version import InvalidVersion, Version

    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def previous_version(report_dir: str | Path, current_version: str) -> tuple[str, Path] | None:
    """The newest version other than ``current_version`` among ``report_dir/ard.json`` (the
    last published report, not yet archived while a new version renders) and
    ``report_dir/history/v*/ard.json``: ``(version, path of its ard.json)``, or None.

    Raises :class:`ARDReadError` for a kept version whose ``ard.json`` is missing or unreadable
    (a damaged history is reported, never skipped).
    """
    report_dir = Path(report_dir)
    candidates: list[tuple[str, Path]] = []
    history = report_dir / HISTORY_DIR
    if history.is_dir():
        for folder in sorted(history.iterdir()):
            if not folder.name.startswith("v") or not folder.is_dir():
                continue  # a staging folder of an interrupted archive, or not ours
            version = _version_of(_read_ard(folder / ARD_NAME, strict=True))
            if version is None:
                raise ARDReadError(f"{folder / ARD_NAME}: missing, or no report version")
            if version != current_version:
                candidates.append((version, folder / ARD_NAME))
    version = _version_of(_read_ard(report_dir / ARD_NAME, strict=True))
    if version not in (None, current_version):
        candidates.append((str(version), report_dir / ARD_NAME))  # wins a tie: newer copy
    if not candidates:
        return None
    return max(reversed(candidates), key=lambda c: _version_order(c[0]))


def changes_since_previous(current_ard: Any, report_dir: str | Path,
                           current_version: str | None = None) -> Changes | None:
    """The results changed from the previous version (:func:`previous_version`) to
    ``current_ard``; None when there is no earlier version."""
    meta = current_ard.metadata if hasattr(current_ard, "metadata") else current_ard["metadata"]
    version = current_version or report_version(meta)
    found = previous_version(report_dir, version)
    if found is None:
        return None
    old = _read_ard(found[1], strict=True)
    if old is None:
        raise ARDReadError(f"{found[1]}: removed while it was being read")
    try:
        changes = compare_ards(old, current_ard)
    except ARDReadError as exc:
        raise ARDReadError(f"{found[1]}: {exc}") from None
    changes.old_source, changes.new_source = str(found[1]), "this report"
    changes.new_version = version
    return changes


def _cell(text: str) -> str:
    from trialreport.render.escape import markdown_text

    return markdown_text(text)


def changes_markdown(changes: Changes | None, limit: int = _MARKDOWN_LIMIT) -> str:
    """Markdown for the document history: the results that changed since the previous
    version, output by output (the first ``limit`` of each), values at full precision with the
    report's rounding; "No earlier version." when ``changes`` is None. Every text from an input
    is escaped (:func:`trialreport.render.escape.markdown_text`)."""
    from trialreport.compare._display import key_cells, method_text, value_text

    if changes is None:
        return "No earlier version.\n"
    old, new = _cell(changes.old_version), _cell(changes.new_version)
    counts = (f"{changes.count('changed')} changed, {changes.count('added')} added, "
              f"{changes.count('removed')} removed")
    if not changes.outputs:
        return (f"No result changed since version {old} ({changes.compared} results "
                "compared).\n")
    parts = [f"Results since version {old}: {counts} ({changes.compared} results in both "
             "versions; values at full precision, with the report's rounding where it differs)."]
    for output in changes.outputs:
        lines = [f"**{_cell(output.label)}**: {output.summary()}.", "",
                 f"| Result | Version {old} | Version {new} |",
                 "|:-----------------------|:-----------|:-----------|"]
        for change in output.results[:limit]:
            key = " · ".join(_cell(c) for c in key_cells(change.key) if c != "-")
            statistic = change.key.statistic
            before = _cell(value_text(statistic, change.old))
            after = value_text(statistic, change.new)
            method = method_text(change)
            after = _cell(f"{after}; {method}" if method else after)
            if is_missing(change.old) and change.status == "added":
                before = "(new)"
            if is_missing(change.new) and change.status == "removed":
                after = "(removed)"
            lines.append(f"| {key} | {before} | {after} |")
        hidden = len(output.results) - limit
        if hidden > 0:
            lines += ["", f"\u2026 and {hidden} more in this output."]
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"

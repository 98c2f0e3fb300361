"""Read one side of a comparison: a report folder, an ``ard.json`` or a supplement zip.

A supplement is untrusted input: every member is checked with the supplement's safe-unpack
rules before anything is read (:func:`trialreport.supplement.safe_unpack.check_archive`), only
``report/ard.json`` and the report's HTML are read, into memory, counted against the size
limits and checked against the supplement's ``MANIFEST``; nothing is extracted or run.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialreport.compare._results import ARDReadError, parse_results, report_version
from trialreport.supplement.safe_unpack import Limits, UnsafeArchiveError, check_archive

REPORT_DIR = "report"
ARD_NAME = "ard.json"
CHANGES_PREFIX = "changes-"


class ReportReadError(ValueError):
    """A path is not a readable report, ``ard.json`` or supplement (the message says why)."""


@dataclass(frozen=True)
class ReportSide:
    """One version of a report: its ``ard.json`` object and, when it has one, its HTML."""

    source: str  #: the path as given
    ard: Mapping[str, Any]
    html: str | None = None
    html_name: str = ""

    @property
    def version(self) -> str:
        """The report version recorded in the ARD."""
        return report_version(self.ard.get("metadata") or {})


def _parse_json(raw: bytes, where: str) -> Mapping[str, Any]:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ReportReadError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") \
            from None
    except json.JSONDecodeError as exc:
        raise ReportReadError(f"{where}: not valid JSON (line {exc.lineno}, column "
                              f"{exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise ReportReadError(f"{where}: JSON nested too deeply") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("results"), list):
        raise ReportReadError(f"{where}: not an ARD (expected an object with a 'results' list)")
    try:
        parse_results(obj, where)  # the records' shape, checked once here
    except ARDReadError as exc:
        raise ReportReadError(str(exc)) from None
    return obj


def _html_name(names: list[str], metadata: Mapping[str, Any]) -> str | None:
    """The report's HTML among ``names`` (file names in the report folder): the one named
    after the study and version, else the only HTML file besides change reports."""
    study = str(metadata.get("study_id") or "")
    expected = f"{study}-CSR-v{report_version(metadata)}.html"
    if expected in names:
        return expected
    candidates = [n for n in names if n.lower().endswith(".html")
                  and not n.startswith(CHANGES_PREFIX)]
    return candidates[0] if len(candidates) == 1 else None


def _read_file(path: Path, limit: int) -> bytes:
    size = path.stat().st_size
    if size > limit:
        raise ReportReadError(f"{path}: {size} bytes is above the limit of {limit} bytes")
    return path.read_bytes()


def _from_folder(folder: Path, limits: Limits) -> ReportSide:
    ard_path = folder / ARD_NAME
    if not ard_path.is_file():
        raise ReportReadError(f"{folder}: not a report folder (it holds no {ARD_NAME})")
    ard = _parse_json(_read_file(ard_path, limits.max_member_bytes), str(ard_path))
    names = sorted(p.name for p in folder.iterdir() if p.is_file())
    name = _html_name(names, ard.get("metadata") or {})
    html = None
    if name is not None:
        html = _read_file(folder / name, limits.max_member_bytes).decode("utf-8", "replace")
    return ReportSide(str(folder), ard, html, name or "")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits,
                 where: str) -> bytes:
    """A member's bytes, never more than its declared size or the per-member limit."""
    cap = min(info.file_size, limits.max_member_bytes)
    with archive.open(info) as handle:
        data = handle.read(cap + 1)
    if len(data) > cap:
        raise ReportReadError(f"{where}: {info.filename} decompresses to more than its "
                              f"declared size or the limit ({cap} bytes)")
    return data


def _check_manifest(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                    content: dict[str, bytes], limits: Limits, where: str) -> None:
    """Stop when a member read does not match the supplement's MANIFEST."""
    from trialreport.supplement.manifest import (
        MANIFEST_NAME,
        ManifestError,
        entry_for_bytes,
        parse_manifest,
    )

    info = members.get(MANIFEST_NAME)
    if info is None:
        raise ReportReadError(f"{where}: not a trialreport supplement (no {MANIFEST_NAME})")
    try:
        manifest = parse_manifest(_read_member(archive, info, limits, where)
                                  .decode("utf-8"))
    except (ManifestError, UnicodeDecodeError) as exc:
        raise ReportReadError(f"{where}: {MANIFEST_NAME}: {exc}") from None
    for name, data in content.items():
        want = manifest.get(name)
        got = entry_for_bytes(name, data)
        if want is None or (want.size, want.sha256) != (got.size, got.sha256):
            raise ReportReadError(f"{where}: {name} does not match the supplement's "
                                  f"{MANIFEST_NAME} (altered or damaged)")


def _from_zip(path: Path, limits: Limits) -> ReportSide:
    where = str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            try:
                infos = check_archive(archive, limits)
            except UnsafeArchiveError as exc:
                raise ReportReadError(f"{where}: refused: {exc}") from None
            members = {i.filename: i for i in infos if not i.filename.endswith("/")}
            ard_member = f"{REPORT_DIR}/{ARD_NAME}"
            if ard_member not in members:
                raise ReportReadError(f"{where}: not a report supplement (no {ard_member})")
            content = {ard_member: _read_member(archive, members[ard_member], limits, where)}
            ard = _parse_json(content[ard_member], f"{where}: {ard_member}")
            report_names = [n.split("/", 1)[1] for n in members
                            if n.startswith(REPORT_DIR + "/") and n.count("/") == 1]
            name = _html_name(sorted(report_names), ard.get("metadata") or {})
            html = None
            if name is not None:
                member = f"{REPORT_DIR}/{name}"
                content[member] = _read_member(archive, members[member], limits, where)
                html = content[member].decode("utf-8", "replace")
            _check_manifest(archive, members, content, limits, where)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError,
            zlib.error) as exc:
        raise ReportReadError(f"{where}: not a readable zip archive ({exc})") from None
    return ReportSide(where, ard, html, name or "")


def load_report(path: str | Path, limits: Limits | None = None) -> ReportSide:
    """One side of a comparison from ``path``: a report folder (``ard.json`` and the HTML
    report), an ``ard.json`` file, or a supplement zip (its ``report/``).

    Raises :class:`ReportReadError` with a message naming the path and the problem.
    """
    limits = limits or Limits()
    path = Path(path)
    try:
        if not path.exists():
            raise ReportReadError(f"{path}: not found")
        if path.is_dir():
            return _from_folder(path, limits)
        if zipfile.is_zipfile(path):
            return _from_zip(path, limits)
        if path.suffix.lower() == ".zip":
            raise ReportReadError(f"{path}: not a readable zip archive")
        ard = _parse_json(_read_file(path, limits.max_member_bytes), str(path))
        return ReportSide(str(path), ard)
    except OSError as exc:
        raise ReportReadError(f"{path}: cannot be read ({exc.strerror or exc})") from None

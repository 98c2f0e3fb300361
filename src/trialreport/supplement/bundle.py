"""Build the journal supplement: a deterministic zip that a journal can verify without running
anyone's code.

``report/<STUDY>-CSR-v<version>-supplement.zip`` holds the STUDY only, never the tool's source:
the book (``_quarto.yml``, the top-level ``*.qmd`` files, ``chapters/``), ``data/``,
``data_spec/``, ``CHANGELOG.md`` (the document history), the rendered HTML, Word and PDF report,
``report/ard.json`` and the TLF package ``report/tlf/`` (when the report has one); the tool
pinned as a wheel of the running trialreport (``wheels/``) and ``requirements.lock`` (its exact
dependency versions); a README for the journal, ``VERSION_STAMP.json`` and ``MANIFEST`` (path,
size, SHA-256 of every other file). Members are sorted, time-stamped 1980-01-01 (or
``SOURCE_DATE_EPOCH``) and have fixed permissions, so the same inputs give the same bytes. The
study folder needs no ``src/``, ``Makefile`` or ``pyproject.toml``: the tool is the installed
package.
"""

from __future__ import annotations

import csv
import json
import os
import stat
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml

from trialreport.supplement.layout import (
    OPTIONAL_STUDY_DIRS,
    REPORT_DIR,
    REQUIRED_STUDY_DIRS,
    TOP_LEVEL_PATTERNS,
    layout_problems,
)
from trialreport.supplement.manifest import (
    MANIFEST_NAME,
    ManifestEntry,
    entry_for_bytes,
    format_manifest,
)
from trialreport.supplement.toolpin import (
    LOCK_NAME,
    WHEEL_DIR,
    ToolPinError,
    lock_text,
    tool_version,
    tool_wheel,
)
from trialreport.versioning import (
    STAMP_FILE,
    TIMESTAMP_KEY,
    data_checksums,
    dist_version,
    find_stamp,
    render_timestamp,
    report_stem,
    report_version,
    sha256_file,
    study_id,
    version_conflicts,
    version_stamp,
)

REPORT_FORMATS = ("html", "docx", "pdf")
ARD_NAME = "ard.json"
README_NAME = "README.md"
REQUIRED_FILES = ("_quarto.yml", "CHANGELOG.md")
EXCLUDE_DIRS = frozenset({".cache", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache",
                          ".venv", "venv", ".git", ".ipynb_checkpoints", ".quarto", "_book",
                          "node_modules"})
EXCLUDE_SUFFIXES = (".pyc", ".pyo", ".egg-info", "-supplement.zip", ".zip.part")
EXCLUDE_NAMES = frozenset({".DS_Store", ".coverage", "Thumbs.db"})
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class BundleError(RuntimeError):
    """The supplement cannot be built (the message says why and what to do)."""


@dataclass
class BundleResult:
    """The written supplement and what went into it."""

    path: Path
    members: list[str]
    size: int
    identifiers_included: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def report_outputs(stem: str) -> list[str]:
    """The rendered outputs the supplement ships (paths relative to the project) for the
    report file stem ``stem`` (:func:`trialreport.versioning.report_stem`)."""
    return [f"{REPORT_DIR}/{stem}.{fmt}" for fmt in REPORT_FORMATS] + [f"{REPORT_DIR}/{ARD_NAME}"]


def tlf_files(project_dir: Path) -> dict[str, Path]:
    """The TLF package to ship, ``{archive path: file}``: ``report/tlf/index.csv``,
    ``index.html`` and every file the index lists (``{}`` when the report has no package).

    Raises :class:`BundleError` when the index cannot be read, a listed file is missing, the
    folder holds a file the index does not list, or anything in it is a symbolic link.
    """
    from trialreport.tlf import INDEX_FILES, TLF_DIR, read_tlf_index

    rel = f"{REPORT_DIR}/{TLF_DIR}"
    folder = Path(project_dir) / REPORT_DIR / TLF_DIR
    if not folder.exists() and not folder.is_symlink():
        return {}
    if folder.is_symlink() or not folder.is_dir():
        raise BundleError(f"{rel} is not a folder; run `trialreport render` (`make report`) "
                          "again")
    try:
        listed = read_tlf_index(folder / INDEX_FILES[0])
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BundleError(f"cannot read the TLF index: {exc}; run `trialreport render` "
                          "(`make report`) again") from None
    names = [*listed, *INDEX_FILES]
    present = {p.name: p for p in folder.iterdir()}
    problems = [f"{rel}/{n} is missing" for n in names if n not in present]
    problems += [f"{rel}/{n} is not listed in {INDEX_FILES[0]}"
                 for n in sorted(set(present) - set(names))]
    problems += [f"{rel}/{n} is a symbolic link or not a file" for n in names
                 if n in present and (present[n].is_symlink() or not present[n].is_file())]
    if problems:
        raise BundleError("the TLF package is not as rendered: " + "; ".join(problems)
                          + "; run `trialreport render` (`make report`) again")
    return {f"{rel}/{n}": folder / n for n in names}


def _tlf_lines(tlf: dict[str, Path]) -> list[str]:
    """The README's line on the shipped TLF package (none without one)."""
    from trialreport.tlf import INDEX_FILES, TLF_DIR

    if not tlf:
        return []
    return [f"- `{REPORT_DIR}/{TLF_DIR}/`: each numbered table, listing and figure as an RTF "
            f"file ({len(tlf) - len(INDEX_FILES)} files), listed in "
            + " and ".join(f"`{name}`" for name in INDEX_FILES)]


def report_identity(project_dir: Path) -> tuple[str, str]:
    """The report version and the report file stem (``<STUDY>-CSR-v<version>``).

    The ONE place the supplement reads the report version:
    :func:`trialreport.versioning.report_version` (``report.version`` of the study
    definition). Raises :class:`BundleError` when ``_quarto.yml`` states another version,
    :class:`VersionError` when the study declares none.
    """
    conflicts = version_conflicts(project_dir)
    if conflicts:
        raise BundleError("; ".join(conflicts) + "; make them agree and run `make report`")
    return report_version(project_dir), report_stem(project_dir)


def _excluded(rel: Path) -> bool:
    if any(p in EXCLUDE_DIRS for p in rel.parts):
        return True
    return rel.name in EXCLUDE_NAMES or any(part.endswith(EXCLUDE_SUFFIXES) for part in rel.parts)


def collect_project_files(project_dir: Path) -> dict[str, Path]:
    """The study files to ship, ``{archive path: file}``.

    Raises :class:`BundleError` when a required file or folder is missing, or a shipped file
    is a symbolic link (the supplement holds regular files only, so a link would be lost).
    """
    project_dir = Path(project_dir)
    missing = [d + "/" for d in REQUIRED_STUDY_DIRS if not (project_dir / d).is_dir()]
    missing += [f for f in REQUIRED_FILES if not (project_dir / f).is_file()]
    if missing:
        raise BundleError("the supplement would not reproduce the report: missing "
                          + ", ".join(missing) + f" in {project_dir}")
    files: dict[str, Path] = {}

    def add(path: Path) -> None:
        rel = path.relative_to(project_dir)
        if _excluded(rel):
            return
        if path.is_symlink():
            raise BundleError(f"{rel.as_posix()} is a symbolic link; the supplement ships "
                              "regular files only: replace the link by the file")
        if path.is_file():
            files[rel.as_posix()] = path

    for name in (*REQUIRED_STUDY_DIRS, *OPTIONAL_STUDY_DIRS):
        folder = project_dir / name
        if folder.is_symlink():
            raise BundleError(f"{name}/ is a symbolic link; the supplement ships regular "
                              "files only")
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                rel = path.relative_to(project_dir)
                if _excluded(rel) or (path.is_dir() and not path.is_symlink()):
                    continue
                add(path)
    for name in REQUIRED_FILES:
        add(project_dir / name)
    for pattern in TOP_LEVEL_PATTERNS:
        for path in sorted(project_dir.glob(pattern)):
            add(path)
    for rel in files:
        if any(c in rel for c in "\t\n\r\\") or not rel.isprintable():
            raise BundleError(f"file name not allowed in the supplement: {rel!r}")
    problems = layout_problems(sorted(files))
    if problems:
        raise BundleError("not shipped in a supplement (move it out of the study's folders): "
                          + "; ".join(problems))
    return files


# Quarto/pandoc options whose values are files of the project (format options and top level).
PATH_OPTIONS = frozenset({"reference-doc", "css", "template", "template-partials",
                          "include-in-header", "include-before-body", "include-after-body",
                          "bibliography", "csl", "filters", "logo", "cover-image", "resources"})


def _path_options(node: Any) -> list[str]:
    """Every string value of a :data:`PATH_OPTIONS` key anywhere in a parsed YAML tree."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in PATH_OPTIONS:
                values = value if isinstance(value, list) else [value]
                found += [v for v in values if isinstance(v, str)]
            else:
                found += _path_options(value)
    elif isinstance(node, list):
        for value in node:
            found += _path_options(value)
    return found


def unshipped_book_files(project_dir: Path, shipped: dict[str, Path]) -> list[str]:
    """Files that ``_quarto.yml`` refers to (reference-doc, css, bibliography, ...) but the
    supplement does not hold, e.g. a path into the tool's ``src/``: re-rendering would fail."""
    config = yaml.safe_load((Path(project_dir) / "_quarto.yml").read_text(encoding="utf-8"))
    missing = []
    for value in sorted(set(_path_options(config))):
        if "://" in value or value.startswith("{{") or value in ("none", "default"):
            continue
        if value.startswith("/") or value.replace("\\", "/") not in shipped:
            missing.append(value)
    return missing


def _columns(path: Path) -> list[str]:
    """Column names of a CSV or SAS transport file."""
    if path.suffix.lower() == ".xpt":
        import pyreadstat

        _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
        return list(meta.column_names)
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        return next(csv.reader(handle), [])


def find_identifying_columns(data_dir: Path, spec_dir: Path) -> dict[str, list[str]]:
    """Columns marked ``identifying: true`` in the specification that are present in the data,
    ``{data file name: [columns]}``; every data file is checked for every identifying name."""
    from trialreport.spec import load_specification

    spec = load_specification(spec_dir)
    marked = spec.identifying_columns
    if not marked:
        return {}
    names = {c.upper() for cols in marked.values() for c in cols}
    found: dict[str, list[str]] = {}
    for path in sorted(Path(data_dir).iterdir(), key=lambda p: p.name):
        if not path.is_file() or path.suffix.lower() not in (".csv", ".xpt"):
            continue
        hits = [c for c in _columns(path) if c.strip().upper() in names]
        if hits:
            found[path.name] = hits
    return found


def _zip_date_time() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return ZIP_EPOCH
    t = time.gmtime(int(epoch))
    if t.tm_year < 1980:
        return ZIP_EPOCH
    return (min(t.tm_year, 2107), t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec)


def write_deterministic_zip(target: Path, members: dict[str, bytes | Path]) -> int:
    """Write ``members`` (archive path -> bytes or file) sorted, with fixed time stamps and
    permissions (0644), via a temporary file moved into place (never a half-written zip).
    Returns the size of the zip in bytes."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    date_time = _zip_date_time()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w", allowZip64=True) as archive:
            for name in sorted(members):
                content = members[name]
                if isinstance(content, Path):
                    content = content.read_bytes()
                info = zipfile.ZipInfo(name, date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, content, compresslevel=9)
        tmp.chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target.stat().st_size


def _study_info(project_dir: Path) -> dict[str, Any]:
    raw = yaml.safe_load((project_dir / "data_spec" / "study.yml").read_text(encoding="utf-8"))
    return dict((raw or {}).get("study") or {})


def render_readme(values: dict[str, str]) -> str:
    """The supplement README from ``resources/supplement/README.md.in`` ($placeholders)."""
    template = resources.files("trialreport").joinpath("resources", "supplement",
                                                       "README.md.in")
    return Template(template.read_text(encoding="utf-8")).substitute(values)


RENDER_HINT = "run `trialreport render` (`make report`) again"


def _ard_metadata(ard_path: Path) -> dict[str, Any]:
    try:
        ard = json.loads(ard_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{ard_path} is not readable JSON ({exc}); {RENDER_HINT}") from None
    if not isinstance(ard, dict) or not isinstance(ard.get("results"), list):
        raise BundleError(f"{ard_path} has no results list; {RENDER_HINT}")
    metadata = ard.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _check_computed_here(metadata: dict[str, Any]) -> list[str]:
    """Refuse results computed by other package versions than the ones the supplement pins
    (the running trialreport and its installed dependencies); warn when none are recorded."""
    recorded = metadata.get("packages")
    if not isinstance(recorded, dict) or "trialreport" not in recorded:
        return [f"{REPORT_DIR}/{ARD_NAME} does not record which trialreport computed it"]
    differ = [f"{name} {version} (installed: {dist_version(name)})"
              for name, version in sorted(recorded.items())
              if str(version) != dist_version(name)]
    if differ:
        raise BundleError(f"{REPORT_DIR}/{ARD_NAME} was computed with " + ", ".join(differ)
                          + "; the supplement pins the installed versions, so "
                          + RENDER_HINT)
    return []


def _check_render_stamp(render_stamp: dict[str, Any], data_dir: Path, version: str) -> None:
    """Refuse a report rendered from other data or as another version."""
    current = data_checksums(data_dir)
    recorded = render_stamp.get("data") or {}
    stale = sorted(n for n in set(current) | set(recorded) if current.get(n) != recorded.get(n))
    if stale:
        raise BundleError(f"{REPORT_DIR}/{ARD_NAME} was built from other data ("
                          + ", ".join(f"data/{n}" for n in stale)
                          + f" changed since); {RENDER_HINT}")
    if str(render_stamp.get("version")) != version:
        raise BundleError(f"{REPORT_DIR}/{ARD_NAME} was rendered as version "
                          f"{render_stamp.get('version')}, the report is {version}; "
                          f"{RENDER_HINT}")


def escape_markdown(text: str) -> str:
    """Text from the study definition, shown literally in the README (no markup)."""
    from trialreport.methods import esc

    return esc(text)


def _data_note(study: str, info: dict[str, Any], identifiers: dict[str, list[str]],
               include_identifiers: bool) -> str:
    notice = info.get("synthetic_notice")
    if notice:
        note = ("**The data are synthetic** (a synthetic reconstruction): the records in "
                f"`data/` describe invented patients, no row is a real person. The study "
                f"definition says: {escape_markdown(str(notice))}")
    else:
        note = "The data in `data/` are the study's analysis datasets."
    if include_identifiers and identifiers:
        listing = "; ".join(f"`data/{f}`: {', '.join(c)}" for f, c in identifiers.items())
        note += (f"\n\n**This supplement contains identifying columns** ({listing}); it "
                 "was built with `--include-identifiers`. Share it only where permitted.")
    return note


def build_supplement(project_dir: Path, output_dir: Path | None = None,
                     include_identifiers: bool = False) -> BundleResult:
    """Build ``<output_dir>/<STUDY>-CSR-v<version>-supplement.zip`` (default ``report/``).

    Raises :class:`BundleError` when the rendered outputs are missing or stale, a required
    study file is missing, the data hold identifying columns (unless ``include_identifiers``),
    two places state different report versions, or the running trialreport cannot be pinned.
    """
    project_dir = Path(project_dir).resolve()
    version, stem = report_identity(project_dir)
    study = study_id(project_dir)
    outputs = report_outputs(stem)
    missing = [o for o in outputs if not (project_dir / o).is_file()]
    if missing:
        raise BundleError("rendered outputs missing: " + ", ".join(missing)
                          + "; run `trialreport render` (`make report`) first")
    data_dir = project_dir / "data"
    spec_dir = project_dir / "data_spec"
    identifiers = find_identifying_columns(data_dir, spec_dir)
    if identifiers and not include_identifiers:
        listing = "; ".join(f"data/{f}: {', '.join(c)}" for f, c in identifiers.items())
        raise BundleError("the data hold columns the specification marks as identifying ("
                          f"{listing}); remove them, or pass --include-identifiers if sharing "
                          "them is permitted")
    files = collect_project_files(project_dir)
    warnings = [f"_quarto.yml refers to {value}, which is not in the supplement (not a file of "
                "the study): re-rendering the supplement will fail; keep the file in the "
                "study folder (e.g. styles/) and refer to it there"
                for value in unshipped_book_files(project_dir, files)]

    metadata = _ard_metadata(project_dir / REPORT_DIR / ARD_NAME)
    warnings += _check_computed_here(metadata)
    render_stamp = find_stamp(metadata)
    if render_stamp is not None:
        _check_render_stamp(render_stamp, data_dir, version)
    else:
        warnings.append(f"{REPORT_DIR}/{ARD_NAME} carries no version stamp")
    for rel in outputs:
        files[rel] = project_dir / rel
    tlf = tlf_files(project_dir)
    files.update(tlf)

    try:
        wheel = tool_wheel(project_dir)
        lock = lock_text()
        tool = tool_version()
    except ToolPinError as exc:
        raise BundleError(f"cannot pin the tool: {exc}") from None
    wheel_member = f"{WHEEL_DIR}/{wheel.name}"
    files[wheel_member] = wheel

    if render_stamp is not None:
        timestamp = str(render_stamp.get(TIMESTAMP_KEY))
    elif os.environ.get("SOURCE_DATE_EPOCH"):
        timestamp = render_timestamp()
    else:
        timestamp = "unknown"
    engine = ((render_stamp or {}).get("engine") or {}).get("name")
    stamp = version_stamp(project_dir, data_dir, spec_dir=spec_dir, timestamp=timestamp,
                          engine=engine, version=version)
    if stamp["git"].get("dirty"):
        warnings.append(f"the working tree has uncommitted changes; the supplement records "
                        f"commit {stamp['git']['describe']}")
    stamp = {"study": study, **stamp, "render_stamp": render_stamp,
             "trialreport": {"version": tool, "wheel": wheel_member,
                             "wheel_sha256": sha256_file(wheel), "lock": LOCK_NAME},
             "identifying_columns_included": identifiers if include_identifiers else {}}

    info = _study_info(project_dir)
    zip_name = f"{stem}-supplement.zip"
    readme = render_readme({
        "study": study, "title": str(info.get("title", study)), "version": version,
        "zip_name": zip_name, "commit": str(stamp["git"].get("describe")),
        "rendered_at": timestamp,
        "data_note": _data_note(study, info, identifiers, include_identifiers),
        "report_files": "\n".join([f"- `{o}`" for o in outputs] + _tlf_lines(tlf)),
        "registration": str(info.get("registration", "")),
        "tool_version": tool, "wheel": wheel_member, "lock": LOCK_NAME,
    })
    members: dict[str, bytes | Path] = dict(files)
    members[LOCK_NAME] = lock.encode("utf-8")
    members[README_NAME] = readme.encode("utf-8")
    members[STAMP_FILE] = (json.dumps(stamp, indent=2, sort_keys=True, ensure_ascii=False)
                           + "\n").encode("utf-8")
    entries: list[ManifestEntry] = []
    for name, content in members.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        entries.append(entry_for_bytes(name, data))
    members[MANIFEST_NAME] = format_manifest(entries).encode("utf-8")

    out_dir = Path(output_dir) if output_dir is not None else project_dir / REPORT_DIR
    target = out_dir / zip_name
    size = write_deterministic_zip(target, members)
    return BundleResult(path=target, members=sorted(members),
                        identifiers_included=identifiers if include_identifiers else {},
                        size=size, warnings=warnings)

"""The version stamp: which version, commit, data and software produced a report.

The report version is declared by the study (``report.version`` in ``data_spec/study.yml``);
the tool's own version is the installed trialreport package's.
A stamp records the version, the render time (UTC; ``SOURCE_DATE_EPOCH`` when set), the git
commit (or, in an unpacked supplement without ``.git``, the commit recorded in the shipped
``VERSION_STAMP.json``), the SHA-256 of every input file, the versions of the key packages and
the render engine. The render time is the only field that changes between two renders of the
same inputs (:data:`TIMESTAMP_KEY`; :func:`drop_render_timestamp` removes it for comparisons).
"""

from __future__ import annotations

import datetime as _dt
import functools
import importlib.metadata as _md
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from trialreport.checksums import sha256_file

TIMESTAMP_KEY = "rendered_at"
STAMP_FILE = "VERSION_STAMP.json"
STAMP_ENV = "TRIALREPORT_VERSION_STAMP"  # path of the stamp of the render in progress
NOT_A_CHECKOUT = "not a git checkout"
DATA_SUFFIXES = (".csv", ".xpt", ".parquet")
SPEC_SUFFIXES = (".yml", ".yaml")
# label -> distribution name (importlib.metadata)
PACKAGES: dict[str, str] = {
    "pandas": "pandas",
    "numpy": "numpy",
    "scipy": "scipy",
    "statsmodels": "statsmodels",
    "pingouin": "pingouin",
    "lifelines": "lifelines",
    "great_tables": "great_tables",
    "matplotlib": "matplotlib",
    "nbclient": "nbclient",
    "pypandoc": "pypandoc_binary",
    "typst": "typst",
}
NOT_INSTALLED = "not installed"


class VersionError(RuntimeError):
    """The project version cannot be determined."""


def _study_block(project_dir: Path, block: str, key: str) -> str:
    """``<block>.<key>`` of the study definition ``data_spec/study.yml`` (read as data only)."""
    path = Path(project_dir) / "data_spec" / "study.yml"
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise VersionError(f"{path}: the study definition is missing") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise VersionError(f"{path}: cannot be read: {exc}") from None
    value = raw.get(block, {}).get(key) if isinstance(raw, dict) and isinstance(
        raw.get(block), dict) else None
    if value in (None, ""):
        raise VersionError(f"{path}: no {block}.{key} (the study definition declares it)")
    return str(value)


def report_version(project_dir: Path) -> str:
    """The report version the study declares (``report.version`` in ``data_spec/study.yml``).

    Falls back to the ``version`` of a shipped ``VERSION_STAMP.json``; raises
    :class:`VersionError` when neither is there.
    """
    try:
        return _study_block(project_dir, "report", "version")
    except VersionError:
        shipped = read_shipped_stamp(Path(project_dir))
        if shipped and shipped.get("version"):
            return str(shipped["version"])
        raise


def tool_version() -> str:
    """The version of the installed trialreport package (the tool, not the report)."""
    return dist_version("trialreport")


def quarto_declared_version(project_dir: Path) -> str | None:
    """``trialreport.version`` written in ``_quarto.yml`` (a copy; None when absent)."""
    path = Path(project_dir) / "_quarto.yml"
    if not path.is_file():
        return None
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    custom = raw.get("trialreport") if isinstance(raw, dict) else None
    value = custom.get("version") if isinstance(custom, dict) else None
    return None if value is None else str(value)


def version_conflicts(project_dir: Path) -> list[str]:
    """Places that state a version other than :func:`report_version` (empty when consistent)."""
    version = report_version(project_dir)
    declared = quarto_declared_version(project_dir)
    if declared is not None and declared != version:
        return [f"_quarto.yml says trialreport.version {declared}, the study definition "
                f"(report.version, the source of truth) says {version}"]
    return []


def study_id(project_dir: Path) -> str:
    """The study identifier (``study.id``) from ``data_spec/study.yml``."""
    return _study_block(project_dir, "study", "id")


def report_stem(project_dir: Path) -> str:
    """The file stem of the rendered report: ``<STUDY>-CSR-v<version>``."""
    return f"{study_id(project_dir)}-CSR-v{report_version(project_dir)}"


def render_timestamp() -> str:
    """Now in UTC as ISO 8601 (seconds, ``Z``); ``SOURCE_DATE_EPOCH`` when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        moment = _dt.datetime.fromtimestamp(int(epoch), tz=_dt.UTC)
    else:
        moment = _dt.datetime.now(tz=_dt.UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _checksums(folder: Path, suffixes: Iterable[str]) -> dict[str, str]:
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    wanted = tuple(suffixes)
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir(), key=lambda p: p.name)
            if p.is_file() and p.suffix.lower() in wanted}


def data_checksums(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every data file (``*.csv``, ``*.xpt``, ``*.parquet``) in ``data_dir``, by name."""
    return _checksums(data_dir, DATA_SUFFIXES)


def spec_checksums(spec_dir: Path) -> dict[str, str]:
    """SHA-256 of every specification file (``*.yml``) in ``spec_dir``, by file name."""
    return _checksums(spec_dir, SPEC_SUFFIXES)


def _git(project_dir: Path, *args: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    out = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True,
                         text=True, env=env, timeout=60, check=True)
    return out.stdout


def read_shipped_stamp(project_dir: Path) -> dict[str, Any] | None:
    """The ``VERSION_STAMP.json`` shipped in an unpacked supplement, or None."""
    path = Path(project_dir) / STAMP_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _no_checkout(project_dir: Path) -> dict[str, Any]:
    shipped = read_shipped_stamp(project_dir)
    if shipped and isinstance(shipped.get("git"), dict):
        info = dict(shipped["git"])
        info["source"] = STAMP_FILE
        return info
    return {"commit": None, "short": None, "dirty": None, "describe": NOT_A_CHECKOUT,
            "source": "none"}


def _unknown(reason: str) -> dict[str, Any]:
    return {"commit": None, "short": None, "dirty": None, "describe": f"unknown ({reason})",
            "source": "git"}


def git_info(project_dir: Path) -> dict[str, Any]:
    """The git commit of ``project_dir``: full, short, ``describe`` (``+modified`` when dirty).

    Without ``<project_dir>/.git`` the commit recorded in a shipped ``VERSION_STAMP.json`` is
    returned (``source`` says so), else ``describe`` is "not a git checkout".
    """
    project_dir = Path(project_dir)
    if not (project_dir / ".git").exists():
        return _no_checkout(project_dir)
    if shutil.which("git") is None:
        return _unknown("git not installed")
    try:
        top = _git(project_dir, "rev-parse", "--show-toplevel").strip()
    except subprocess.CalledProcessError as exc:
        message = (exc.stderr or "").strip().splitlines()
        if any("not a git repository" in line for line in message):
            return _no_checkout(project_dir)
        return _unknown(f"git: {message[0] if message else exc}")
    except (subprocess.TimeoutExpired, OSError) as exc:
        return _unknown(f"git: {exc}")
    if Path(top).resolve() != project_dir.resolve():
        return _no_checkout(project_dir)  # .git belongs to another folder
    try:
        full = _git(project_dir, "rev-parse", "--verify", "HEAD").strip()
        short = _git(project_dir, "rev-parse", "--short=12", "HEAD").strip()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        return _unknown("no commit yet")
    try:
        dirty = bool(_git(project_dir, "status", "--porcelain").strip())
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError):
        dirty = True  # cannot prove the tree is clean
    return {"commit": full, "short": short, "dirty": dirty,
            "describe": f"{short}+modified" if dirty else short, "source": "git"}


def dist_version(dist: str) -> str:
    """The installed version of distribution ``dist`` (\"not installed\" when absent)."""
    try:
        return _md.version(dist)
    except _md.PackageNotFoundError:
        return NOT_INSTALLED


@functools.lru_cache(maxsize=1)
def pandoc_version() -> str:
    """The version of the pandoc binary that pypandoc uses."""
    try:
        import pypandoc

        return str(pypandoc.get_pandoc_version())
    except Exception:  # noqa: BLE001 - pypandoc missing or no pandoc binary
        return NOT_INSTALLED


@functools.lru_cache(maxsize=1)
def quarto_version() -> str:
    """``quarto --version``, or "not installed"."""
    exe = shutil.which("quarto")
    if exe is None:
        return NOT_INSTALLED
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return NOT_INSTALLED
    return out.stdout.strip() or NOT_INSTALLED


def package_versions() -> dict[str, str]:
    """Versions of Python and the key packages (pandoc: the binary's version)."""
    versions = {"python": platform.python_version()}
    for label, dist in PACKAGES.items():
        version = dist_version(dist)
        if version == NOT_INSTALLED and label == "pypandoc":
            version = dist_version("pypandoc")
        versions[label] = version
    versions["pandoc"] = pandoc_version()
    return versions


def render_engine(engine: str | None = None) -> dict[str, str]:
    """The render engine: ``builtin`` (+ pandoc version) or ``quarto`` (+ its version).

    ``engine`` defaults to the environment variable ``TRIALREPORT_ENGINE``, else "builtin".
    """
    name = (engine or os.environ.get("TRIALREPORT_ENGINE") or "builtin").strip().lower()
    if name == "quarto":
        return {"name": "quarto", "version": quarto_version()}
    return {"name": name, "pandoc": pandoc_version()}


def version_stamp(project_dir: Path, data_dir: Path | None = None, *,
                  spec_dir: Path | None = None, engine: str | None = None,
                  timestamp: str | None = None, version: str | None = None) -> dict[str, Any]:
    """The version stamp of a render (a JSON-serialisable dict).

    Keys: ``version``, ``rendered_at`` (:data:`TIMESTAMP_KEY`), ``git`` (commit, short,
    dirty, describe, source), ``data`` and ``data_spec`` (file name -> SHA-256),
    ``packages`` and ``engine``. ``timestamp`` and ``version`` override the render time and
    :func:`report_version`.
    """
    project_dir = Path(project_dir)
    data_dir = Path(data_dir) if data_dir is not None else project_dir / "data"
    spec_dir = Path(spec_dir) if spec_dir is not None else project_dir / "data_spec"
    return {
        "version": version if version is not None else report_version(project_dir),
        "tool": {"name": "trialreport", "version": tool_version()},
        TIMESTAMP_KEY: timestamp if timestamp is not None else render_timestamp(),
        "git": git_info(project_dir),
        "data": data_checksums(data_dir),
        "data_spec": spec_checksums(spec_dir),
        "packages": package_versions(),
        "engine": render_engine(engine),
    }


def stamp_for_ard(stamp: dict[str, Any]) -> dict[str, Any]:
    """The stamp as stored in ``ard.json`` metadata (``metadata["stamp"]``).

    A deep copy with sorted keys and plain JSON types, so that two builds from the same inputs
    serialise identically apart from :data:`TIMESTAMP_KEY`.
    """
    return json.loads(json.dumps(stamp, sort_keys=True, default=str))


def write_stamp(stamp: dict[str, Any], path: Path) -> Path:
    """Write ``stamp`` as JSON (sorted keys) to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(json.dumps(stamp, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                       encoding="utf-8")
    os.replace(partial, path)  # never a half-written stamp
    return path


def current_stamp(project_dir: Path | None = None, data_dir: Path | None = None,
                  spec_dir: Path | None = None, engine: str | None = None) -> dict[str, Any]:
    """The stamp of the render in progress: the JSON file named by ``$TRIALREPORT_VERSION_STAMP``
    (written once per render with :func:`write_stamp`, so the title page and ``ard.json`` share
    one time stamp), else a fresh :func:`version_stamp` (version "unknown" when there is no
    ``report.version``; never raises for that).

    ``project_dir`` defaults to :func:`trialreport.paths.project_root`.
    """
    env = os.environ.get(STAMP_ENV, "").strip()
    if env and Path(env).is_file():
        return json.loads(Path(env).read_text(encoding="utf-8"))
    from trialreport.paths import project_root

    project_dir = Path(project_dir) if project_dir is not None else project_root()
    try:
        version = report_version(project_dir)
    except (VersionError, OSError, ValueError):
        version = "unknown"
    return version_stamp(project_dir, data_dir, spec_dir=spec_dir, engine=engine,
                         version=version)


def drop_render_timestamp(obj: Any) -> Any:
    """A copy of ``obj`` (nested dicts/lists) without any :data:`TIMESTAMP_KEY` entry."""
    if isinstance(obj, dict):
        return {k: drop_render_timestamp(v) for k, v in obj.items() if k != TIMESTAMP_KEY}
    if isinstance(obj, list):
        return [drop_render_timestamp(v) for v in obj]
    return obj


def find_stamp(obj: Any) -> dict[str, Any] | None:
    """The first nested dict that looks like a version stamp (has version, git and
    :data:`TIMESTAMP_KEY`), e.g. inside ``ard.json`` metadata; None when there is none."""
    if isinstance(obj, dict):
        if TIMESTAMP_KEY in obj and "git" in obj and "version" in obj:
            return obj
        for value in obj.values():
            found = find_stamp(value)
            if found is not None:
                return found
    elif isinstance(obj, list):
        for value in obj:
            found = find_stamp(value)
            if found is not None:
                return found
    return None

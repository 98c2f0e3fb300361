"""Pin the tool in the supplement: a wheel of the running trialreport and a lock file.

The wheel is repacked from the installed distribution (the package folder that is actually
imported, plus its ``.dist-info`` metadata), so it works for an ordinary and for an editable
install, offline and without build tools. It is written by hand because nothing installed does
this: ``pip wheel`` needs the source tree and a build backend able to make wheels (the lock's
setuptools 65 cannot without the ``wheel`` package), and ``wheel pack`` is not a dependency.

The lock lists the exact installed versions of trialreport's runtime dependencies, resolved
transitively through the installed distributions' metadata (``packaging`` evaluates the markers).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import os
import platform
import stat
import tempfile
import zipfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from trialreport.supplement.layout import WHEEL_DIR

DIST_NAME = "trialreport"
LOCK_NAME = "requirements.lock"
CACHE_DIR = Path(".cache") / "supplement" / "wheels"
_WHEEL_TAG = "py3-none-any"
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_METADATA_FILES = ("METADATA", "entry_points.txt", "top_level.txt")
_SKIP_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_SKIP_SUFFIXES = (".pyc", ".pyo")
_COMPILED_SUFFIXES = (".so", ".pyd", ".dylib", ".dll")


class ToolPinError(RuntimeError):
    """The running tool cannot be pinned (names what is missing or wrong)."""


def tool_version() -> str:
    """The installed trialreport version (the distribution's metadata)."""
    try:
        return md.version(DIST_NAME)
    except md.PackageNotFoundError:
        raise ToolPinError("trialreport is not installed as a distribution "
                           "(install it with pip, e.g. `pip install -e .`)") from None


def wheel_name(version: str) -> str:
    """``trialreport-<version>-py3-none-any.whl``."""
    return f"{DIST_NAME}-{version}-{_WHEEL_TAG}.whl"


def _package_dir() -> Path:
    import trialreport

    return Path(trialreport.__file__).resolve().parent


def _package_files(package_dir: Path) -> dict[str, Path]:
    """``{archive path: file}`` for every file of the imported package (no byte code)."""
    files: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*")):
        rel = path.relative_to(package_dir)
        if any(part in _SKIP_DIRS for part in rel.parts) or path.is_dir():
            continue
        if path.name.endswith(_SKIP_SUFFIXES):
            continue
        if path.name.endswith(_COMPILED_SUFFIXES):
            raise ToolPinError(f"{path} is a compiled extension; the supplement can only pin "
                               "a pure-Python trialreport")
        if path.is_symlink():
            raise ToolPinError(f"{path} is a symbolic link; cannot pack it into a wheel")
        files[f"{package_dir.name}/{rel.as_posix()}"] = path
    if f"{package_dir.name}/__init__.py" not in files:
        raise ToolPinError(f"{package_dir} holds no __init__.py")
    return files


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


def wheel_contents() -> dict[str, bytes]:
    """The members of the wheel of the running trialreport, RECORD last (``{path: bytes}``)."""
    dist = md.distribution(DIST_NAME)
    version = dist.version
    members: dict[str, bytes] = {name: path.read_bytes()
                                 for name, path in _package_files(_package_dir()).items()}
    info_dir = f"{DIST_NAME}-{version}.dist-info"
    for name in _METADATA_FILES:
        text = dist.read_text(name)
        if text is None:
            if name == "METADATA":
                raise ToolPinError(f"the installed {DIST_NAME} {version} has no METADATA")
            continue
        members[f"{info_dir}/{name}"] = text.encode("utf-8")
    members[f"{info_dir}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: trialreport supplement (repacked from the installed "
        f"distribution)\nRoot-Is-Purelib: true\nTag: {_WHEEL_TAG}\n").encode("ascii")
    record = [f"{name},{_record_hash(data)},{len(data)}" for name, data in sorted(members.items())]
    record.append(f"{info_dir}/RECORD,,")
    members[f"{info_dir}/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    return members


def _write_wheel(target: Path, members: dict[str, bytes]) -> None:
    """Write ``members`` (already in order) with fixed time stamps, via a temporary file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with zipfile.ZipFile(tmp, "w") as archive:
            for name, data in members.items():
                info = zipfile.ZipInfo(name, _ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                archive.writestr(info, data, compresslevel=9)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def tool_wheel(project_dir: Path) -> Path:
    """A wheel of the running trialreport, cached under ``<project>/.cache/supplement/wheels/``
    by the SHA-256 of its contents (so an edited package is never served from the cache)."""
    members = wheel_contents()
    version = md.version(DIST_NAME)
    content = hashlib.sha256()
    for name, data in members.items():
        content.update(name.encode("utf-8") + b"\0" + hashlib.sha256(data).digest())
    target = Path(project_dir) / CACHE_DIR / content.hexdigest()[:16] / wheel_name(version)
    if not target.is_file():
        _write_wheel(target, members)
    return target


def _dependencies(dist: md.Distribution, extras: frozenset[str]) -> list[Requirement]:
    wanted: list[Requirement] = []
    for line in dist.requires or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            raise ToolPinError(f"{dist.metadata['Name']}: unreadable requirement {line!r}: "
                               f"{exc}") from None
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras | {""}):
            wanted.append(requirement)
    return wanted


def runtime_lock() -> list[str]:
    """``name==version`` of every installed runtime dependency of trialreport (transitively,
    markers evaluated for this interpreter, no extras), sorted by name.

    Raises :class:`ToolPinError` when a dependency is missing or outside its declared range.
    """
    pins: dict[str, str] = {}
    visited: set[tuple[str, frozenset[str]]] = set()
    queue: list[tuple[md.Distribution, frozenset[str]]] = [(md.distribution(DIST_NAME),
                                                            frozenset())]
    while queue:
        dist, extras = queue.pop()
        for requirement in _dependencies(dist, extras):
            name = canonicalize_name(requirement.name)
            try:
                child = md.distribution(requirement.name)
            except md.PackageNotFoundError:
                raise ToolPinError(f"{requirement.name}, required by {dist.metadata['Name']} "
                                   f"({requirement}), is not installed") from None
            if not requirement.specifier.contains(child.version, prereleases=True):
                raise ToolPinError(f"{requirement.name} {child.version} is installed, but "
                                   f"{dist.metadata['Name']} requires {requirement}")
            pins[name] = child.version
            key = (name, frozenset(requirement.extras))
            if key not in visited:
                visited.add(key)
                queue.append((child, frozenset(requirement.extras)))
    pins.pop(canonicalize_name(DIST_NAME), None)
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def lock_text() -> str:
    """The supplement's ``requirements.lock`` (comment header, one pin per line)."""
    header = (f"# The runtime dependencies of trialreport {tool_version()} exactly as installed "
              "when this supplement was built\n"
              f"# (Python {platform.python_version()}, {platform.system()} "
              f"{platform.machine()}). Install with the wheel in {WHEEL_DIR}/: see README.md.\n")
    return header + "\n".join(runtime_lock()) + "\n"


def read_lock(text: str) -> dict[str, str]:
    """``{canonical name: version}`` of a lock file's ``name==version`` lines (comments and
    blank lines skipped); raises ValueError naming the first line that is not an exact pin."""
    pins: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip() or any(
                c in line for c in "<>!~;@ "):
            raise ValueError(f"{LOCK_NAME} line {number}: not an exact pin name==version: "
                             f"{raw!r}")
        pins[canonicalize_name(name.strip())] = version.strip()
    return pins

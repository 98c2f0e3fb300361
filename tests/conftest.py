"""Shared fixtures: the project folders, a scratch copy of the shipped data, the session's one
render of a temporary copy of the project; and a check that the test run leaves the repository
as it found it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Property tests keep no example database and no cache in the repository (tests never write
# there): hypothesis stores under a temporary folder.
import os as _os  # noqa: E402
import tempfile as _tempfile  # noqa: E402

_os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", _tempfile.mkdtemp(prefix="hypothesis-"))
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("trialreport", database=None)
_hypothesis_settings.load_profile("trialreport")
DATA = ROOT / "data"
SPEC = ROOT / "data_spec"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of data/ (CSV files only) to break in a test."""
    target = tmp_path / "data"
    target.mkdir()
    for path in DATA.glob("*.csv"):
        shutil.copy(path, target / path.name)
    return target


#: The render time of the session's renders (``SOURCE_DATE_EPOCH``, 2023-11-14T22:13:20Z), so
#: that two renders of the same inputs can be compared byte for byte.
RENDER_EPOCH = "1700000000"


@contextmanager
def inside_project(project: Path, **env: str) -> Iterator[Path]:
    """Run the block as a user inside ``project``: the current folder and TRIALREPORT_PROJECT
    are ``project``, TRIALREPORT_DATA / TRIALREPORT_STUDY are unset, ``env`` is set."""
    patch = pytest.MonkeyPatch()
    try:
        patch.chdir(project)
        patch.setenv("TRIALREPORT_PROJECT", str(project))
        patch.delenv("TRIALREPORT_DATA", raising=False)
        patch.delenv("TRIALREPORT_STUDY", raising=False)
        for key, value in env.items():
            patch.setenv(key, value)
        yield project
    finally:
        patch.undo()


@pytest.fixture(scope="session")
def rendered_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary copy of this project (trialreport.paths.copy_project), rendered once per
    test session with the builtin engine in all formats into its own ``report/`` (in this
    process, at RENDER_EPOCH); its ``.cache/`` and ``_variables.yml`` stay in the copy, never
    in the repository. Tests using it are marked ``render``."""
    from trialreport.cli import main
    from trialreport.paths import copy_project

    project = copy_project(ROOT, tmp_path_factory.mktemp("rendered") / "project")
    with inside_project(project, SOURCE_DATE_EPOCH=RENDER_EPOCH):
        assert main(["render", "--engine", "builtin"]) == 0
    return project


@pytest.fixture(scope="session")
def rendered_report(rendered_project: Path) -> Path:
    """The report folder of the session's one render (see ``rendered_project``)."""
    report = rendered_project / "report"
    assert report.is_dir(), report
    return report


@pytest.fixture(scope="session")
def second_render(rendered_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another copy of the project, in a folder of another name and depth, rendered cold in a
    separate process (``python -m trialreport render``) at the same RENDER_EPOCH: the second
    render that reproducibility tests compare with ``rendered_project`` (mark them ``slow``)."""
    from trialreport.paths import copy_project

    project = copy_project(ROOT, tmp_path_factory.mktemp("second") / "somewhere" / "else")
    env = {**os.environ, "SOURCE_DATE_EPOCH": RENDER_EPOCH, "TRIALREPORT_PROJECT": str(project)}
    env.pop("TRIALREPORT_DATA", None)
    env.pop("TRIALREPORT_STUDY", None)
    proc = subprocess.run([sys.executable, "-m", "trialreport", "render", "--engine", "builtin"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return project


STUDY_FILE = SPEC / "study.yml"
#: Set to 1 (``make test`` does) to make a skipped ``browser`` test a failure.
REQUIRE_BROWSER_ENV = "TRIALREPORT_REQUIRE_BROWSER"

#: Fixtures that render the book; a test using one is marked ``render`` automatically.
RENDER_FIXTURES = frozenset({"rendered_project", "rendered_report", "second_render"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if RENDER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.render)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """With TRIALREPORT_REQUIRE_BROWSER=1 (``make test``) a skipped ``browser`` test is a
    failure: the browser check must run there."""
    outcome = yield
    report = outcome.get_result()
    if (report.skipped and item.get_closest_marker("browser") is not None
            and os.environ.get(REQUIRE_BROWSER_ENV) == "1" and not hasattr(report, "wasxfail")):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"{REQUIRE_BROWSER_ENV}=1, but this browser test was skipped: "
                           f"{reason}")


# --- the test run leaves the repository as it found it ---------------------------------------

#: Folders whose changes are not the tests' doing: Python's bytecode, tools' caches, the venv.
NOT_WATCHED = frozenset({"__pycache__", ".pytest_cache", ".ruff_cache", ".venv", ".git"})
_STATE_BEFORE = pytest.StashKey[dict]()


def _fingerprint(path: Path) -> tuple[tuple[str, int, int], ...]:
    """(path, mtime in ns, size) of ``path`` or of every file under it."""
    files = [path]
    if path.is_dir():
        files = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if d not in NOT_WATCHED]
            files += [Path(folder) / name for name in names]
    out = []
    for file in sorted(files):
        try:
            info = file.lstat()
        except FileNotFoundError:
            continue
        out.append((str(file.relative_to(ROOT)), info.st_mtime_ns, info.st_size))
    return tuple(out)


def repository_state(root: Path = ROOT) -> dict[str, tuple] | None:
    """What ``git status`` shows of ``root`` (untracked and ignored files included), with the
    modification time and size of every file it names; None outside a git checkout."""
    if not (root / ".git").exists() or shutil.which("git") is None:
        return None
    proc = subprocess.run(["git", "-C", str(root), "status", "--porcelain=v1", "-z", "--ignored",
                           "--untracked-files=normal"], capture_output=True, check=False)
    if proc.returncode != 0:
        return None
    entries = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    state: dict[str, tuple] = {}
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if not entry:
            continue
        code, name = entry[:2], entry[3:]
        if code[0] in "RC":
            index += 1  # the original name of a rename or copy follows
        if any(part in NOT_WATCHED or part.endswith(".egg-info")
               for part in Path(name.rstrip("/")).parts):
            continue
        state[name] = (code, _fingerprint(root / name))
    return state


def repository_changes(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    """Paths whose git status or files differ between two :func:`repository_state` calls."""
    changes = []
    for name in sorted(set(before) | set(after)):
        if before.get(name) != after.get(name):
            was = before[name][0] if name in before else "clean"
            now = after[name][0] if name in after else "clean"
            changes.append(f"{name} ({was!r} -> {now!r})" if was != now
                           else f"{name} (written: {now!r})")
    return changes


def pytest_sessionstart(session: pytest.Session) -> None:
    state = repository_state()
    if state is not None:
        session.config.stash[_STATE_BEFORE] = state


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test wrote into the repository (compared with the session start, so
    a developer's own uncommitted work is no failure)."""
    before = session.config.stash.get(_STATE_BEFORE, None)
    after = repository_state() if before is not None else None
    if before is None or after is None:
        return
    changes = repository_changes(before, after)
    if changes:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        message = ("the test run changed the repository (tests must work in temporary "
                   "folders):\n  " + "\n  ".join(changes))
        if reporter is not None:
            reporter.write("\n")
            reporter.write_line(f"ERROR: {message}", red=True, bold=True)
        else:
            print(f"ERROR: {message}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def study_with(base, path=None, **blocks):
    """A copy of ``base`` (a :class:`trialreport.study.Study`) with top-level blocks replaced
    (``None`` removes a block), validated again."""
    from trialreport.study import study_from_mapping

    raw = base.model.model_dump(mode="json", exclude_none=True, by_alias=True)
    for key, value in blocks.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return study_from_mapping(raw, path or base.path)


def synthetic_study(k: int = 3, **blocks):
    """The study definition of the synthetic k-arm trial as a validated Study."""
    from trialreport.demodata.synthetic import study_definition
    from trialreport.study import study_from_mapping

    raw = study_definition(k)
    raw.update({key: value for key, value in blocks.items() if value is not None})
    for key in [k_ for k_, v in blocks.items() if v is None]:
        raw.pop(key, None)
    return study_from_mapping(raw)


@pytest.fixture(scope="session", autouse=True)
def no_kernel_outlives_the_session():
    """Every Jupyter kernel (and kernel server) started by the tests is gone at the end: the
    session marks its environment, which every kernel inherits, and looks for survivors."""
    import os
    import time
    import uuid

    from trialreport.render.procs import cmdline_of, processes_with_env

    mark = uuid.uuid4().hex
    os.environ["TRIALREPORT_TEST_SESSION"] = mark
    yield

    def survivors() -> list[str]:
        return [f"{pid}: {cmdline_of(pid)}" for pid in
                processes_with_env("TRIALREPORT_TEST_SESSION", mark)
                if any(k in cmdline_of(pid) for k in ("ipykernel", "forkserver.py"))]

    deadline = time.monotonic() + 10  # a kernel being killed right now gets a moment
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not survivors(), f"kernels outlived the test session: {survivors()}"

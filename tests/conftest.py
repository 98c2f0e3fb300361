"""Shared fixtures: the project folders and a scratch copy of the shipped data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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


@pytest.fixture(scope="session")
def rendered_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole book rendered once per test session with the builtin engine (all formats)."""
    from trialreport.cli import main

    out = tmp_path_factory.mktemp("report")
    assert main(["render", "--engine", "builtin", "--output", str(out)]) == 0
    return out


STUDY_FILE = SPEC / "study.yml"


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

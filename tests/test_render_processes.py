"""The processes of a render: every kernel is shut down (success, failure, SIGTERM, kill -9 of
the render), pandoc dies with the render, chapters run in separate fresh processes, two
renders of one project take turns, and a killed render's staging folder is removed next time.

Processes are recognised by an environment variable set for the render under test, which its
kernels, kernel server and pandoc inherit (``/proc/<pid>/environ``); Linux only.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import ROOT
from trialreport.paths import copy_project
from trialreport.render import RenderError, render_book
from trialreport.render.procs import cmdline_of, processes_with_env

FIXTURE = Path(__file__).parent / "fixtures" / "minibook"
MARK = "TRIALREPORT_TEST_RENDER"

pytestmark = [
    pytest.mark.render,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc"),
]

RENDER_SCRIPT = textwrap.dedent("""\
    import sys
    from pathlib import Path
    from trialreport.render import render_book
    root = Path(sys.argv[1])
    render_book(root, root / "report", formats=sys.argv[2].split(","), engine="builtin")
    """)
SLEEPING_CELL = "\n```{python}\nimport time\ntime.sleep(600)\n```\n"


def _minibook(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns(".cache", "report"))
    return dest


def _marked(value: str) -> list[int]:
    return list(processes_with_env(MARK, value))


def _wait_for(condition, seconds: float = 120.0, what: str = "condition") -> None:
    """Poll ``condition`` (a bounded wait for another process, not a timing assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _kernels(value: str) -> list[int]:
    return [p for p in _marked(value)
            if any(k in cmdline_of(p) for k in ("forkserver.py", "ipykernel"))]


def _start(args: list[str], mark: str, cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *args], cwd=cwd, text=True,
                            env={**os.environ, MARK: mark, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _kernel_in_cell(mark: str) -> bool:
    """A chapter kernel (a child of the kernel server) is running."""
    servers = [p for p in _marked(mark) if "forkserver.py" in cmdline_of(p)]
    return any(_parent(p) in servers for p in _marked(mark))


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def test_kernels_are_shut_down_after_success_and_failure(tmp_path, monkeypatch):
    root = _minibook(tmp_path / "book")
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK, mark)
    result = render_book(root, root / "report", formats=["html"], engine="builtin",
                         progress=lambda _: None)
    assert result.executed  # kernels did run
    assert _marked(mark) == []
    chapter = root / "chapters" / "02-efficacy.qmd"
    chapter.write_text(chapter.read_text() + "\n```{python}\nraise ValueError('boom')\n```\n")
    with pytest.raises(RenderError, match="boom"):
        render_book(root, root / "report", formats=["html"], engine="builtin",
                    progress=lambda _: None)
    assert _marked(mark) == []


def test_without_fork_kernels_start_the_usual_way_and_are_shut_down(tmp_path, monkeypatch):
    root = _minibook(tmp_path / "book")
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK, mark)
    monkeypatch.setenv("TRIALREPORT_KERNEL_FORK", "0")
    result = render_book(root, root / "report", formats=["html"], engine="builtin",
                         progress=lambda _: None)
    assert len(result.executed) == 3
    assert 'src="data:image/png;base64,' in result.outputs["html"].read_text()
    assert _marked(mark) == []


def test_every_chapter_runs_in_its_own_fresh_process(tmp_path):
    """Three chapters, two kernels at a time: the third must not see what the first left."""
    root = tmp_path / "iso"
    root.mkdir()
    chapters = ["a.qmd", "b.qmd", "c.qmd"]
    (root / "_quarto.yml").write_text(
        "project: {type: book, output-dir: report}\n"
        f"book: {{title: Isolation, chapters: [{', '.join(chapters)}]}}\n")
    cell = textwrap.dedent("""\
        ```{python}
        import json, os
        print("pid", os.getpid(), "probe", getattr(json, "probe", "clean"))
        json.probe = "left behind"
        ```
        """)
    for name in chapters:
        (root / name).write_text(f"# {name}\n\n{cell}")
    render_book(root, root / "report", formats=["html"], engine="builtin",
                kernel_warmup="import json", progress=lambda _: None)
    html = (root / "report" / "Isolation.html").read_text()
    import re

    seen = re.findall(r"pid (\d+) probe (\w+)", html)
    assert len(seen) == 3
    assert len({pid for pid, _ in seen}) == 3
    assert {probe for _, probe in seen} == {"clean"}


def test_figures_survive_a_warm_up_that_loaded_the_inline_backend(tmp_path):
    root = _minibook(tmp_path / "book")
    result = render_book(root, root / "report", formats=["html"], engine="builtin",
                         kernel_warmup="import matplotlib_inline.backend_inline",
                         progress=lambda _: None)
    assert 'src="data:image/png;base64,' in result.outputs["html"].read_text()


def test_two_renders_at_once_take_turns(tmp_path):
    root = _minibook(tmp_path / "book")
    mark = uuid.uuid4().hex
    procs = [_start(["-c", RENDER_SCRIPT, str(root), "html"], mark, tmp_path) for _ in range(2)]
    logs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], logs
    assert sum("holds the lock" in log and "waiting" in log for log in logs) == 1, logs
    html = (root / "report" / "MINI-CSR-v0.1.0.html").read_text()
    assert "A total of 12 subjects were randomised" in html
    assert not [p for p in root.iterdir() if p.name.startswith(".render-")]


def test_terminated_render_stops_its_kernels_and_keeps_the_report(tmp_path):
    project = copy_project(ROOT, tmp_path / "project")
    chapter = project / "chapters" / "a4-reproducibility.qmd"
    chapter.write_text(chapter.read_text() + SLEEPING_CELL)
    out = project / "report"
    out.mkdir()
    (out / "ALEVIATE-CSR-v1.0.0.html").write_text("last good report")
    mark = uuid.uuid4().hex
    proc = _start(["-m", "trialreport", "render", "--engine", "builtin", "--format", "html",
                   "--output", str(out)], mark, project, TRIALREPORT_PROJECT=str(project))
    try:
        _wait_for(lambda: _kernel_in_cell(mark) or proc.poll() is not None, what="a kernel")
        assert proc.poll() is None, proc.communicate()[0]
        proc.send_signal(signal.SIGTERM)
        log = proc.communicate(timeout=120)[0]
    finally:
        proc.kill()
    assert proc.returncode == 143, log
    assert "terminated" in log and "is unchanged" in log and "Traceback" not in log
    assert _marked(mark) == []
    assert [p.name for p in out.iterdir()] == ["ALEVIATE-CSR-v1.0.0.html"]
    assert not [p for p in project.iterdir() if p.name.startswith(".render-")]


def test_kill_9_takes_kernels_along_and_next_render_cleans_up(tmp_path):
    root = _minibook(tmp_path / "book")
    chapter = root / "chapters" / "02-efficacy.qmd"
    chapter.write_text(chapter.read_text() + SLEEPING_CELL)
    mark = uuid.uuid4().hex
    proc = _start(["-c", RENDER_SCRIPT, str(root), "html"], mark, tmp_path)
    try:
        _wait_for(lambda: _kernel_in_cell(mark) or proc.poll() is not None, what="a kernel")
        assert proc.poll() is None, proc.communicate()[0]
        staged = [p for p in root.iterdir() if p.name.startswith(f".render-{proc.pid}-")]
        assert staged  # the render's staging folder beside report/
    finally:
        proc.kill()
        proc.wait()
    _wait_for(lambda: not _marked(mark), seconds=30, what="the render's processes to end")
    assert all(p.exists() for p in staged)
    chapter.write_text(chapter.read_text().replace(SLEEPING_CELL, ""))
    render_book(root, root / "report", formats=["html"], engine="builtin",
                progress=lambda _: None)
    assert not [p for p in root.iterdir() if p.name.startswith(".render-")]


def test_kill_9_during_pandoc_takes_pandoc_along(tmp_path):
    root = _minibook(tmp_path / "book")
    fake = tmp_path / "fake-pandoc"
    fake.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "pandoc 3.1.11"; exit 0; fi\n'
                    "exec sleep 600\n")
    fake.chmod(0o755)
    mark = uuid.uuid4().hex
    proc = _start(["-c", RENDER_SCRIPT, str(root), "html"], mark, tmp_path,
                  PYPANDOC_PANDOC=str(fake))

    def pandoc_running() -> bool:
        return any(cmdline_of(p).startswith("sleep 600") for p in _marked(mark))
    try:
        _wait_for(lambda: pandoc_running() or proc.poll() is not None, what="pandoc")
        assert proc.poll() is None, proc.communicate()[0]
    finally:
        proc.kill()
        proc.wait()
    _wait_for(lambda: not _marked(mark), seconds=30, what="pandoc to end with the render")

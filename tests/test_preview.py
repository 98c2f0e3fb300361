"""`trialreport preview`: serves the report on 127.0.0.1, re-renders it on save (a prose edit
shows up without restarting), shows a failing cell's error in the page (escaped), and SIGINT
stops the server, the render and every kernel."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from trialreport.cli import main
from trialreport.preview._page import report_page, status_page
from trialreport.preview._render import RenderOutcome
from trialreport.preview._server import PreviewState
from trialreport.preview._watch import changed_files, snapshot

NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
CHAPTER = "chapters/a4-reproducibility.qmd"


def get(url: str, host: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with NO_PROXY.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def wait_for(what: str, check: Callable[[], object], timeout: float) -> object:
    """Poll ``check`` until it returns something true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


# -- fast: the pieces ------------------------------------------------------------------------


def test_page_escapes_the_error_and_injects_one_reload_script() -> None:
    report = "<html><body><p>Report</p></body></html>"
    state = PreviewState()
    assert "Rendering" in state.page() and "/__version" in state.page()
    state.update(RenderOutcome(False, None, "cell failed: <script>alert(1)</script>", "", 1.0))
    page = state.page()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "alert(1)</script>" not in page
    page = report_page(report, 7, error="bad <b>", log="log <i>")
    assert page.count("<script>") == 1 and 'var shown = "7"' in page
    assert "bad &lt;b&gt;" in page and "log &lt;i&gt;" in page
    assert page.index("trialreport-preview-error") < page.index("<p>Report</p>")
    assert page.index("<p>Report</p>") < page.index("<script>") < page.index("</body>")
    assert "&lt;x&gt;" in status_page("<x>", 1)


def test_state_keeps_the_last_good_report_after_a_failure(tmp_path) -> None:
    html = tmp_path / "r.html"
    html.write_text("<html><body><p>Good</p></body></html>", encoding="utf-8")
    state = PreviewState()
    state.update(RenderOutcome(True, html, "", "", 1.0))
    assert state.version == 1 and "<p>Good</p>" in state.page()
    state.update(RenderOutcome(False, None, "NameError: x", "", 1.0))
    assert state.version == 2
    page = state.page()
    assert "<p>Good</p>" in page and "NameError: x" in page
    state.update(RenderOutcome(True, html, "", "", 1.0))
    assert "NameError" not in state.page()


def test_watcher_sees_edits_in_chapters_spec_and_data_only(tmp_path) -> None:
    root, data = tmp_path / "p", tmp_path / "p" / "data"
    for folder in ("chapters", "data_spec", "data", "report", ".cache"):
        (root / folder).mkdir(parents=True)
    for name in ("chapters/01.qmd", "data_spec/study.yml", "data/adsl.csv", "_quarto.yml",
                 "index.qmd"):
        (root / name).write_text("x", encoding="utf-8")
    before = snapshot(root, data)
    (root / "report" / "ard.json").write_text("{}", encoding="utf-8")
    (root / ".cache" / "x").write_text("x", encoding="utf-8")
    (root / "chapters" / ".01.qmd.swp").write_text("x", encoding="utf-8")
    assert changed_files(before, snapshot(root, data)) == []
    (root / "chapters" / "01.qmd").write_text("prose edit", encoding="utf-8")
    (root / "data" / "adae.csv").write_text("new", encoding="utf-8")
    (root / "index.qmd").unlink()
    assert changed_files(before, snapshot(root, data)) == sorted(
        str(root / n) for n in ("chapters/01.qmd", "data/adae.csv", "index.qmd"))


def test_usage_errors_exit_2(tmp_path, monkeypatch, capsys) -> None:
    import socket

    assert main(["preview", "--no-browser", "--data", str(tmp_path / "none")]) == 2
    assert "data folder not found" in capsys.readouterr().err
    assert main(["preview", "--port", "70000"]) == 2
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["preview", "--no-browser", "--port", str(port)]) == 2
        assert "cannot serve" in capsys.readouterr().err
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(tmp_path))
    assert main(["preview", "--no-browser", "--data", str(tmp_path)]) == 2
    assert "not a report project" in capsys.readouterr().err


# -- slow: a real preview in a subprocess ----------------------------------------------------


def kernels_under(pid: int) -> list[int]:
    import psutil

    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for proc in procs:
        try:
            line = " ".join(proc.cmdline())
            parent = " ".join(proc.parent().cmdline()) if proc.parent() else ""
        except psutil.Error:
            continue
        # a kernel: started the usual way, or forked from the render's warm kernel server
        if "ipykernel_launcher" in line or ("forkserver.py" in line and "forkserver.py" in parent):
            found.append(proc.pid)
    return found


def alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.render
def test_preview_serves_rerenders_shows_errors_and_stops_its_kernels(
        tmp_path, rendered_project) -> None:
    # the session's rendered copy with its execution cache: the first preview runs no chapter
    project = Path(shutil.copytree(rendered_project, tmp_path / "project",
                                   ignore=shutil.ignore_patterns("report")))
    chapter = project / CHAPTER
    original = chapter.read_text(encoding="utf-8")
    chapter.write_text(original + "\nPreview marker sentence one.\n", encoding="utf-8")
    log = tmp_path / "preview.log"
    env = dict(os.environ, TRIALREPORT_PROJECT=str(project))
    env.pop("TRIALREPORT_DATA", None)
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "trialreport", "preview", "--port", "0",
                                 "--no-browser"], cwd=project, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    kernels: list[int] = []
    try:
        url = wait_for("the preview's address", lambda: (m := re.search(
            r"http://127\.0\.0\.1:\d+/", log.read_text())) and m.group(0), 120)
        assert get(url, host="attacker.example")[0] == 403
        # The first render is cold (every chapter runs): a generous bound on a busy machine.
        page = wait_for("the first render", lambda: (p := get(url)[1]) and
                        "Preview marker sentence one." in p and p, 900)
        assert '<nav id="TOC"' in page and "/__version" in page
        version = get(url + "__version")[1]

        chapter.write_text(original + "\nPreview marker sentence two.\n", encoding="utf-8")
        page = wait_for("the prose edit", lambda: (p := get(url)[1]) and
                        "Preview marker sentence two." in p and p, 300)
        assert "Preview marker sentence one." not in page
        assert get(url + "__version")[1] != version

        chapter.write_text(original + '\n```{python}\nraise ValueError("marker <b>bold</b>")'
                           "\n```\n", encoding="utf-8")
        page = wait_for("the error page", lambda: (p := get(url)[1]) and
                        "trialreport-preview-error" in p and p, 300)
        assert "ValueError" in page and "marker &lt;b&gt;bold&lt;/b&gt;" in page
        assert "Preview marker sentence two." in page  # the last good report stays below
        assert proc.poll() is None  # the server keeps running

        chapter.write_text(original + "\n```{python}\nimport time\ntime.sleep(600)\n```\n",
                           encoding="utf-8")
        kernels = wait_for("a kernel of the next render",
                           lambda: kernels_under(proc.pid), 300)  # type: ignore[assignment]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        assert "preview stopped" in log.read_text()
        survivors = [pid for pid in kernels if alive(pid)]
        assert survivors == [], f"kernel processes still running: {survivors}"
    finally:
        if proc.poll() is None:
            from trialreport.preview._render import kill_tree

            kill_tree(proc.pid, grace=2)
        for pid in kernels:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)

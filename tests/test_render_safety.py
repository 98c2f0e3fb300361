"""Render safety without rendering: the render lock, all-or-nothing publication, atomic cache
writes, removal of staging folders left by killed renders, SOURCE_DATE_EPOCH and the messages
of `trialreport render` for a bad output folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trialreport.cli import main
from trialreport.render import staging
from trialreport.render.cache import RenderCache
from trialreport.render.lock import RenderLockError, render_lock
from trialreport.render.staging import PublishError, publish_folder, remove_stale

HOLDER = textwrap.dedent("""\
    import sys, time
    from pathlib import Path
    from trialreport.render.lock import render_lock
    with render_lock(Path(sys.argv[1]), Path(sys.argv[2]), wait=0, progress=lambda _: None):
        print("locked", flush=True)
        time.sleep(300)
    """)


@pytest.fixture
def holder(tmp_path):
    """Another process holding the render lock of project ``tmp_path/a`` (output a/report)."""
    project = tmp_path / "a"
    project.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(project), str(project / "report")],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    yield project, proc
    proc.kill()
    proc.wait()


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# -- one render at a time -----------------------------------------------------------------
def test_no_wait_fails_at_once_naming_the_holder(holder):
    project, proc = holder
    with pytest.raises(RenderLockError, match=rf"another render \(pid {proc.pid}\) holds the "
                                              r"lock on project .*not waiting"):
        with render_lock(project, project / "report", wait=0):
            pass


def test_waiting_render_says_who_it_waits_for_and_gives_up(holder):
    project, proc = holder
    lines: list[str] = []
    with pytest.raises(RenderLockError, match=r"gave up after waiting 0\.5 s"):
        with render_lock(project, project / "report", wait=0.5, progress=lines.append):
            pass
    assert len(lines) == 1 and f"pid {proc.pid}" in lines[0] and "waiting up to 0.5 s" in lines[0]


def test_lock_is_released_when_its_holder_is_killed(holder):
    project, proc = holder
    proc.kill()
    proc.wait()
    with render_lock(project, project / "report", wait=30):
        with render_lock(project, project / "report", wait=0):  # re-entrant in one thread
            pass


def test_two_projects_cannot_write_one_output_folder_at_once(holder, tmp_path):
    other = tmp_path / "b"
    other.mkdir()
    with pytest.raises(RenderLockError, match="output folders in"):
        with render_lock(other, holder[0] / "report2", wait=0):
            pass


def test_cli_no_wait_exits_1_with_the_message(holder, tmp_path, monkeypatch, capsys):
    project, proc = holder
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(project))
    (tmp_path / "data").mkdir()
    code = main(["render", "--no-wait", "--data", str(tmp_path / "data"),
                 "--output", str(project / "report")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"another render (pid {proc.pid}) holds the lock" in err and "Traceback" not in err


# -- all-or-nothing publication -----------------------------------------------------------
def _old_report(folder: Path) -> dict[str, bytes]:
    (folder / "figures").mkdir(parents=True)
    (folder / "CSR.html").write_text("old html")
    (folder / "ard.json").write_text('{"old": true}')
    (folder / "figures" / "fig-1.png").write_bytes(b"old png")
    (folder / "README.md").write_text("kept: not produced by the render")
    (folder / "CSR-supplement.zip").write_bytes(b"zip")
    return _files(folder)


def _new_stage(parent: Path) -> Path:
    stage = staging.make_staging_dir(parent)
    (stage / "figures").mkdir()
    (stage / "CSR.html").write_text("new html")
    (stage / "ard.json").write_text('{"new": true}')
    (stage / "figures" / "fig-1.png").write_bytes(b"new png")
    return stage


def test_publish_replaces_produced_files_and_keeps_the_others(tmp_path):
    out = tmp_path / "report"
    _old_report(out)
    published = publish_folder(_new_stage(tmp_path), out)
    assert [p.name for p in published] == ["CSR.html", "ard.json", "figures"]
    assert _files(out) == {"CSR-supplement.zip": b"zip", "CSR.html": b"new html",
                           "README.md": b"kept: not produced by the render",
                           "ard.json": b'{"new": true}', "figures/fig-1.png": b"new png"}
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # the old folder is gone


def test_publish_into_a_new_folder(tmp_path):
    publish_folder(_new_stage(tmp_path), tmp_path / "report")
    assert _files(tmp_path / "report")["CSR.html"] == b"new html"


@pytest.mark.parametrize("failure", ["carry-over", "exchange", "second-rename"])
def test_failed_publication_leaves_the_old_report_complete(tmp_path, monkeypatch, failure):
    out = tmp_path / "report"
    before = _old_report(out)
    stage = _new_stage(tmp_path)
    if failure == "carry-over":  # a file of the old report cannot be linked or copied
        def refuse(src, dst):
            raise PermissionError(13, "Permission denied", src)
        monkeypatch.setattr(staging, "_link_or_copy", refuse)
    elif failure == "exchange":  # the atomic swap itself fails
        def refuse(a, b):
            raise OSError(16, "Device or resource busy", str(a))
        monkeypatch.setattr(staging, "exchange", refuse)
    else:  # no atomic swap here, and the new folder cannot be renamed into place
        monkeypatch.setattr(staging, "exchange", lambda a, b: False)
        real_rename = os.rename

        def rename(src, dst):
            if Path(src) == stage:
                raise OSError(30, "Read-only file system", str(src))
            real_rename(src, dst)
        monkeypatch.setattr(staging.os, "rename", rename)
    with pytest.raises(PublishError, match="previous report is unchanged"):
        publish_folder(stage, out)
    assert _files(out) == before


def test_cli_publication_failure_keeps_the_last_report(tmp_path, monkeypatch, capsys):
    """The whole `trialreport render` path, with the book rendering stubbed: the new report
    cannot be swapped in, so the old one stays complete and nothing is left beside it."""
    import trialreport.publish

    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(project))
    out = project / "report"
    before = _old_report(out)

    def fake_publish(root, data_dir, out_dir, **kwargs):
        (out_dir / "CSR.html").write_text("new html")
        (out_dir / "ard.json").write_text("{}")
        return {}

    monkeypatch.setattr(trialreport.publish, "publish_report", fake_publish)
    monkeypatch.setattr(trialreport.publish, "start_kernels", lambda *a, **k: None)
    monkeypatch.setattr("trialreport.commands.render._validate", lambda *a: True)

    def refuse(a, b):
        raise OSError(16, "Device or resource busy", str(a))
    monkeypatch.setattr(staging, "exchange", refuse)
    code = main(["render", "--data", str(project / "data"), "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{out} is unchanged" in err and "Traceback" not in err
    assert _files(out) == before
    assert not [p for p in project.iterdir() if p.name.startswith(".render-")]
    monkeypatch.undo()  # and with a working swap the new report replaces the old one
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(project))
    monkeypatch.setattr(trialreport.publish, "publish_report", fake_publish)
    monkeypatch.setattr(trialreport.publish, "start_kernels", lambda *a, **k: None)
    monkeypatch.setattr("trialreport.commands.render._validate", lambda *a: True)
    assert main(["render", "--data", str(project / "data"), "--output", str(out)]) == 0
    after = _files(out)
    assert after["CSR.html"] == b"new html" and after["README.md"] == before["README.md"]


# -- messages for a bad output folder -----------------------------------------------------
@pytest.mark.parametrize("shape", ["file", "under-file", "read-only"])
def test_bad_output_folder_gets_a_message(tmp_path, monkeypatch, capsys, shape):
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(tmp_path))
    (tmp_path / "data").mkdir()
    target = tmp_path / "out"
    if shape == "file":
        target.write_text("not a folder")
        expected = "is a file, not a folder"
    elif shape == "under-file":
        (tmp_path / "afile").write_text("x")
        target = tmp_path / "afile" / "report"
        expected = "afile is a file"
    else:
        target.mkdir()
        real = os.access
        monkeypatch.setattr(os, "access",  # root ignores permissions: ask as a user would
                            lambda p, mode: False if Path(p) == target else real(p, mode))
        expected = "is read-only"
    code = main(["render", "--data", str(tmp_path / "data"), "--output", str(target)])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err and "Traceback" not in err


# -- cache ----------------------------------------------------------------------------------
def test_cache_writes_are_atomic(tmp_path, monkeypatch):
    cache = RenderCache(tmp_path)
    cache.store_execution("ch.qmd", "k1", {"cells": {"1": ["old"]}})
    produced = tmp_path / "CSR.html"
    produced.write_text("old output")
    cache.store_output("html", "k1", produced, [])

    def fail(src, dst):
        raise OSError(28, "No space left on device", str(dst))
    monkeypatch.setattr("trialreport.render.cache.os.replace", fail)
    with pytest.raises(OSError):
        cache.store_execution("ch.qmd", "k2", {"cells": {"1": ["new"]}})
    produced.write_text("new output")
    with pytest.raises(OSError):
        cache.store_output("html", "k2", produced, [])
    monkeypatch.undo()
    assert cache.load_execution("ch.qmd", "k1") == {"cells": {"1": ["old"]}}
    assert cache.load_execution("ch.qmd", "k2") is None
    hit = cache.load_output("html", "k1")
    assert hit is not None and hit[0].read_text() == "old output"
    leftovers = [p for p in cache.root.rglob("*") if p.name.startswith(".render-")]
    assert leftovers == []


# -- leftovers of killed renders ----------------------------------------------------------
def test_only_staging_of_dead_processes_is_removed(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".render-{dead.pid}-1-abcd"
    stale.mkdir()
    (stale / "book.md").write_text("partial")
    stale_file = tmp_path / f".render-{dead.pid}-1-abce.tmp"
    stale_file.write_text("partial")
    mine = staging.make_staging_dir(tmp_path)
    foreign = tmp_path / ".render-notours"
    foreign.mkdir()
    assert sorted(remove_stale(tmp_path)) == sorted([stale, stale_file])
    assert mine.is_dir() and foreign.is_dir()


# -- SOURCE_DATE_EPOCH ----------------------------------------------------------------------
def test_source_date_epoch_wins_over_the_cached_stamp(tmp_path, monkeypatch):
    from trialreport.publish import render_stamp, write_variables

    (tmp_path / "data_spec").mkdir()
    (tmp_path / "data_spec" / "study.yml").write_text("report: {version: 1.2.3}\n"
                                                       "study: {id: X}\n")
    (tmp_path / "data").mkdir()
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, path = render_stamp(tmp_path, tmp_path / "data", "builtin")
    assert not first["rendered_at"].startswith("1970")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    stamp, path = render_stamp(tmp_path, tmp_path / "data", "builtin")
    assert stamp["rendered_at"] == "1970-01-02T00:00:00Z"
    assert json.loads(path.read_text())["rendered_at"] == "1970-01-02T00:00:00Z"
    variables = write_variables(tmp_path, stamp).read_text()
    assert "rendered: 1970-01-02 00:00:00 UTC" in variables and "date: '1970-01-02'" in variables


def test_book_date_today_follows_source_date_epoch(tmp_path, monkeypatch):
    from trialreport.render.project import load_project

    (tmp_path / "index.qmd").write_text("# Hi\n")
    (tmp_path / "_quarto.yml").write_text(
        "project: {type: book}\nbook: {title: T, date: today, chapters: [index.qmd]}\n")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(86400 * 365))
    assert load_project(tmp_path).date == "1971-01-01"


def test_cli_rejects_a_malformed_source_date_epoch(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(tmp_path))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    (tmp_path / "data").mkdir()
    assert main(["render", "--data", str(tmp_path / "data")]) == 2
    err = capsys.readouterr().err
    assert "SOURCE_DATE_EPOCH" in err and "'yesterday'" in err and "Traceback" not in err

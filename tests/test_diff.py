"""`trialreport diff` and trialreport.compare: changed results by output and key, changed
sentences of the report text, report history; zip input read safely; usage errors exit 2."""

from __future__ import annotations

import copy
import json
import math
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from conftest import DATA, SPEC, STUDY_FILE
from trialreport.ard import KEY, build_ard_from_paths
from trialreport.cli import main
from trialreport.compare import (
    ResultKey,
    archive_previous_version,
    compare_ards,
    compare_reports,
    compare_text,
    previous_version,
)
from trialreport.supplement.manifest import entry_for_bytes, format_manifest

STEM = "ALEVIATE-CSR-v{}.html"

# Two small reports as pandoc renders them: one number in the prose changes, one sentence is new,
# one number in a table changes (tables are results, not prose: not a sentence change).
OLD_MD = """# Safety evaluation

In the safety population of 23 patients, 7/23 (30%) had a serious adverse event. Most events
were mild. The investigators, e.g. the site leads, reviewed every event.

| Term | n |
|:-----|--:|
| Headache | 6 |

# Efficacy

Response at month 6: 16/23 (70%) patients.
"""
NEW_MD = OLD_MD.replace("7/23 (30%)", "8/23 (35%)").replace("| 6 |", "| 7 |").replace(
    "Most events\nwere mild.", "Most events\nwere mild. One event was severe.")


@pytest.fixture(scope="module")
def ards(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The ARD of the shipped data and of a copy in which ONE adverse event's severity
    changed (a treatment-emergent, non-severe event became severe)."""
    data = tmp_path_factory.mktemp("changed") / "data"
    data.mkdir()
    for path in DATA.iterdir():
        if path.is_file():
            (data / path.name).write_bytes(path.read_bytes())
    adae = pd.read_csv(data / "adae.csv", dtype=str, keep_default_na=False)
    row = adae.index[(adae["TRTEMFL"] == "Y") & (adae["AESEV"] == "MILD")][0]
    adae.loc[row, "AESEV"] = "SEVERE"
    adae.to_csv(data / "adae.csv", index=False, lineterminator="\n")
    old = build_ard_from_paths(DATA, SPEC, STUDY_FILE)
    new = build_ard_from_paths(data, SPEC, STUDY_FILE)
    return {"old": old, "new": new}


def ard_json(ard, version: str) -> dict:
    obj = copy.deepcopy(ard.to_dict())
    obj["metadata"]["report_version"] = version
    return obj


def report_folder(folder: Path, ard_obj: dict, html: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "ard.json").write_text(json.dumps(ard_obj), encoding="utf-8")
    if html is not None:
        version = ard_obj["metadata"]["report_version"]
        (folder / STEM.format(version)).write_text(html, encoding="utf-8")
    return folder


def pandoc_html(markdown: str) -> str:
    import pypandoc

    return pypandoc.convert_text(markdown, "html", format="markdown",
                                 extra_args=["--standalone", "--metadata", "title=Report"])


def expected_changes(old, new) -> set[tuple[str, ResultKey]]:
    """The oracle: an outer join of the two ARD tables on the key (pandas, not the code under
    test); a value counts as changed unless both are NaN or they are equal."""
    merged = old.frame.merge(new.frame, on=list(KEY), how="outer", suffixes=("_old", "_new"),
                             indicator=True)
    found = set()
    for rec in merged.to_dict("records"):
        key = ResultKey(*(rec[k] for k in KEY))
        if rec["_merge"] == "left_only":
            found.add(("removed", key))
        elif rec["_merge"] == "right_only":
            found.add(("added", key))
        else:
            a, b = rec["value_old"], rec["value_new"]
            same = (math.isnan(a) and math.isnan(b)) or a == b
            if not same or rec["method_old"] != rec["method_new"]:
                found.add(("changed", key))
    return found


def test_one_changed_adverse_event_names_exactly_the_changed_results(ards) -> None:
    old, new = ards["old"], ards["new"]
    changes = compare_ards(old, new)
    got = {(c.status, c.key) for c in changes.results}
    assert got == expected_changes(old, new)
    assert got, "a severity change must change some result"
    outputs = new.metadata["outputs"]
    # Only adverse-event outputs change; every other output (and the big N) is unchanged.
    assert {c.key.analysis for c in changes.results} <= {
        name for name, o in outputs.items() if o["type"].startswith("ae_")}
    overview = next(o for o in changes.outputs if outputs[o.name]["type"] == "ae_overview")
    info = outputs[overview.name]
    assert overview.label == f"Table {info['number']} {info['title']}"
    total = new.total_label
    severe_events = next(c for c in overview.results
                         if c.key.variable == "SEVERE_AE" and c.key.group == total
                         and c.key.statistic == "events")
    assert severe_events.status == "changed"
    assert severe_events.new == severe_events.old + 1  # exactly one more severe event
    assert changes.compared == len(old.frame) == len(new.frame)
    assert changes.changed


def test_identical_ards_have_no_changes(ards) -> None:
    changes = compare_ards(ards["old"], ards["old"].to_dict())
    assert changes.results == [] and not changes.changed
    assert changes.compared == len(ards["old"].frame)


def test_cli_diff_of_two_report_folders(ards, tmp_path, capsys) -> None:
    old = report_folder(tmp_path / "old", ard_json(ards["old"], "1.1.0"), pandoc_html(OLD_MD))
    new = report_folder(tmp_path / "new", ard_json(ards["new"], "1.2.0"), pandoc_html(NEW_MD))
    out = tmp_path / "out"
    code = main(["diff", str(old), str(new), "--output", str(out)])
    printed = capsys.readouterr()
    assert code == 1, printed.err
    assert "Traceback" not in printed.err
    overview = next(n for n, o in ards["new"].metadata["outputs"].items()
                    if o["type"] == "ae_overview")
    info = ards["new"].metadata["outputs"][overview]
    assert f"Table {info['number']} {info['title']}" in printed.out
    assert "SEVERE_AE" in printed.out
    assert "[-7/23 (30%)-]" in printed.out and "{+8/23 (35%)+}" in printed.out
    html_file = out / "changes-v1.1.0-v1.2.0.html"
    docx_file = out / "changes-v1.1.0-v1.2.0.docx"
    page = html_file.read_text(encoding="utf-8")
    assert "<del>7/23 (30%)</del>" in page and "<ins>8/23 (35%)</ins>" in page
    assert "<script" not in page
    from docx import Document

    document = Document(str(docx_file))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "SEVERE_AE" in cells
    assert any("8/23 (35%)" in c for c in cells)
    n_changed = len(compare_ards(ards["old"], ards["new"]).results)
    # One table row per change (and a header row per table), up to the file limit.
    assert sum(len(t.rows) - 1 for t in document.tables[:-1]) == n_changed


def test_cli_diff_of_identical_reports_exits_0(ards, tmp_path, capsys) -> None:
    html = pandoc_html(OLD_MD)
    old = report_folder(tmp_path / "a", ard_json(ards["old"], "1.1.0"), html)
    new = report_folder(tmp_path / "b", ard_json(ards["old"], "1.1.0"), html)
    assert main(["diff", str(old), str(new), "--no-files"]) == 0
    out = capsys.readouterr().out
    assert "Nothing changed." in out and "0 sentence(s) differ" in out
    assert not list(tmp_path.rglob("changes-*"))


def test_sentence_diff_of_two_rendered_reports() -> None:
    changes = compare_text(pandoc_html(OLD_MD), pandoc_html(NEW_MD))
    assert [c.status for c in changes] == ["changed", "added"]
    changed, added = changes
    assert changed.section == "Safety evaluation"
    assert [t.text for t in changed.old_tokens if t.changed] == ["7/23", "(30%)"]
    assert [t.text for t in changed.new_tokens if t.changed] == ["8/23", "(35%)"]
    assert added.new == "One event was severe." and added.old == ""
    # "e.g." does not end a sentence; the table's changed count is not prose.
    assert not any("Headache" in c.old + c.new for c in changes)


def supplement_zip(path: Path, ard_obj: dict, extra: dict[str, bytes] | None = None,
                   tamper: bool = False) -> Path:
    ard_bytes = json.dumps(ard_obj).encode()
    members = {"report/ard.json": ard_bytes, "data/adsl.csv": b"STUDYID\nX\n"}
    manifest = format_manifest([entry_for_bytes(p, b) for p, b in members.items()])
    if tamper:
        members["report/ard.json"] = ard_bytes.replace(b'"value": 1.0', b'"value": 2.0', 1)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("MANIFEST", manifest)
        for name, data in {**members, **(extra or {})}.items():
            archive.writestr(name, data)
    return path


def test_zip_input_is_read_without_extracting(ards, tmp_path, capsys) -> None:
    old_zip = supplement_zip(tmp_path / "old.zip", ard_json(ards["old"], "1.1.0"))
    new = report_folder(tmp_path / "new", ard_json(ards["new"], "1.2.0"))
    before = sorted(p.name for p in tmp_path.iterdir())
    changes = compare_reports(old_zip, new)
    assert {(c.status, c.key) for c in changes.results} == expected_changes(ards["old"],
                                                                             ards["new"])
    assert changes.text is None and "no HTML report" in changes.text_skipped
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing unpacked
    assert main(["diff", str(old_zip), str(new), "--no-files"]) == 1
    same = supplement_zip(tmp_path / "same.zip", ard_json(ards["new"], "1.2.0"))
    assert main(["diff", str(same), str(new), "--no-files"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize("case", ["missing", "no-ard", "bad-json", "not-ard", "bad-record",
                                  "not-zip", "unsafe-zip", "tampered-zip", "zip-no-ard"])
def test_usage_errors_exit_2(case, ards, tmp_path, capsys) -> None:
    good = report_folder(tmp_path / "good", ard_json(ards["old"], "1.1.0"))
    target = tmp_path / "side"
    if case == "no-ard":
        target.mkdir()
    elif case == "bad-json":
        target = tmp_path / "ard.json"
        target.write_text('{"results": [', encoding="utf-8")
    elif case == "not-ard":
        target = tmp_path / "ard.json"
        target.write_text('{"rows": []}', encoding="utf-8")
    elif case == "bad-record":
        obj = ard_json(ards["old"], "1.1.0")
        obj["results"][3]["value"] = "forty"
        target = tmp_path / "ard.json"
        target.write_text(json.dumps(obj), encoding="utf-8")
    elif case == "not-zip":
        target = tmp_path / "side.zip"
        target.write_bytes(b"PK\x03\x04 not really a zip")
    elif case == "unsafe-zip":
        target = supplement_zip(tmp_path / "side.zip", ard_json(ards["old"], "1.1.0"),
                                extra={"../escape.txt": b"x"})
    elif case == "tampered-zip":
        target = supplement_zip(tmp_path / "side.zip", ard_json(ards["old"], "1.1.0"),
                                tamper=True)
    elif case == "zip-no-ard":
        target = tmp_path / "side.zip"
        with zipfile.ZipFile(target, "w") as archive:
            archive.writestr("README.md", "hello")
    assert main(["diff", str(target), str(good), "--no-files"]) == 2
    err = capsys.readouterr().err
    assert str(target) in err and "Traceback" not in err
    assert {"bad-record": "result 4", "unsafe-zip": "..", "tampered-zip": "MANIFEST",
            "bad-json": "not valid JSON", "missing": "not found"}.get(case, "") in err
    assert not (tmp_path / "escape.txt").exists()


def test_history_keeps_the_previous_version_and_book_summarises_changes(ards,
                                                                        tmp_path) -> None:
    from trialreport.book import Book
    from trialreport.render.escape import markdown_text

    report = report_folder(tmp_path / "report", ard_json(ards["new"], "1.0.0"), "<p>v1</p>")
    staged = report_folder(tmp_path / "stage", ard_json(ards["old"], "1.1.0"))
    kept = archive_previous_version(report, staged / "ard.json")
    assert kept == report / "history" / "v1.0.0"
    assert sorted(p.name for p in kept.iterdir()) == ["ALEVIATE-CSR-v1.0.0.html", "ard.json"]
    assert archive_previous_version(staged, staged / "ard.json") is None  # same version
    assert previous_version(report, "1.1.0") == ("1.0.0", report / "ard.json")

    book = Book(root=tmp_path, data_dir=DATA, spec_dir=SPEC, study_path=STUDY_FILE)
    (report / "ard.json").unlink()  # now only the kept copy
    text = book.changes(report)
    changed = compare_ards(ards["new"], ards["old"])
    assert f"{changed.count('changed')} changed" in text
    overview = next(o for o in changed.outputs if o.name == "ae_overview")
    assert markdown_text(overview.label) in text  # escaped Markdown
    assert "SEVERE\\_AE" in text
    assert book.changes(tmp_path / "nothing-here").strip() == "No earlier version."


def test_render_keeps_the_previous_version_under_history(ards, tmp_path, monkeypatch,
                                                         capsys) -> None:
    """`trialreport render` publishing version 1.1.0 over a report of version 1.0.0 keeps the
    old ard.json and HTML under report/history/v1.0.0/ (the book itself is not rendered here:
    publish_report is replaced by one that stages a finished report)."""
    from conftest import ROOT
    from trialreport.paths import copy_project

    project = copy_project(ROOT, tmp_path / "project")
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(project))
    monkeypatch.delenv("TRIALREPORT_DATA", raising=False)
    monkeypatch.chdir(project)
    out = report_folder(project / "report", ard_json(ards["new"], "1.0.0"), "<p>old</p>")
    old_bytes = (out / "ard.json").read_bytes()

    def staged_report(root, data, stage, **_):
        report_folder(stage / "tmp", ard_json(ards["old"], "1.1.0"), "<p>new</p>")
        for path in (stage / "tmp").iterdir():
            path.rename(stage / path.name)
        (stage / "tmp").rmdir()
        return {}

    monkeypatch.setattr("trialreport.publish.publish_report", staged_report)
    assert main(["render", "--format", "html", "--output", str(out)]) == 0
    kept = out / "history" / "v1.0.0"
    assert (kept / "ard.json").read_bytes() == old_bytes
    assert (kept / "ALEVIATE-CSR-v1.0.0.html").read_text() == "<p>old</p>"
    assert json.loads((out / "ard.json").read_text())["metadata"]["report_version"] == "1.1.0"
    capsys.readouterr()
    assert main(["diff", str(kept), str(out), "--no-files"]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_damaged_history_is_reported_not_skipped(ards, tmp_path) -> None:
    from trialreport.compare import ARDReadError

    report = tmp_path / "report"
    report_folder(report / "history" / "v1.0.0", ard_json(ards["old"], "1.0.0"))
    (report / "history" / "v0.9.0").mkdir()
    (report / "history" / "v0.9.0" / "ard.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ARDReadError, match="v0.9.0"):
        previous_version(report, "1.1.0")

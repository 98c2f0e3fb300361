"""Issue 9.7: the same inputs rendered in two different folders with the same
``SOURCE_DATE_EPOCH`` give byte-identical HTML, Word and PDF. The two renders are the session's
(conftest.rendered_project, in this process) and conftest.second_render (another folder, another
process), both cold and both at conftest.RENDER_EPOCH."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialreport.versioning import report_stem


@pytest.mark.slow
@pytest.mark.render
def test_two_folders_same_epoch_identical_bytes(rendered_project: Path,
                                                second_render: Path) -> None:
    stem = report_stem(rendered_project)
    assert report_stem(second_render) == stem
    for suffix in ("html", "docx", "pdf"):
        a = (rendered_project / "report" / f"{stem}.{suffix}").read_bytes()
        b = (second_render / "report" / f"{stem}.{suffix}").read_bytes()
        assert a == b, f"{suffix} differs between the two folders"
        assert str(rendered_project).encode() not in a
        assert str(second_render).encode() not in b

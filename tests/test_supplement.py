"""The journal supplement: bundle (study files only, the tool pinned as a wheel and a lock,
determinism, refusals) and verify (checksums, recomputation by the installed trialreport,
usage errors). Hostile supplements: test_supplement_hostile.py; the ALEVIATE round trip:
test_supplement_reproduces.py.

The fixture is a STUDY folder without src/, Makefile or pyproject.toml (the tool is the
installed package) whose report/ard.json holds real results.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata as md
import io
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from supplement_helpers import (
    RENDERED_AT,
    ROOT,
    STEM,
    VERSION,
    ZIP_NAME,
    make_study,
    rewrite_zip,
    run_cli,
    write_ard,
)

from trialreport.supplement import toolpin
from trialreport.supplement.bundle import BundleError, build_supplement
from trialreport.supplement.compare import compare_results
from trialreport.supplement.manifest import parse_manifest
from trialreport.supplement.safe_unpack import Limits, UnsafeArchiveError, safe_extract
from trialreport.supplement.verify import verify_supplement
from trialreport.versioning import TIMESTAMP_KEY, drop_render_timestamp

TOOL_VERSION = md.version("trialreport")
WHEEL = f"wheels/trialreport-{TOOL_VERSION}-py3-none-any.whl"


@pytest.fixture(scope="module")
def study_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(study folder, supplement zip) built once."""
    project = make_study(tmp_path_factory.mktemp("study"))
    return project, build_supplement(project).path


def _results_count(project: Path) -> int:
    return len(json.loads((project / "report" / "ard.json").read_text())["results"])


# --------------------------------------------------------------------------------------
# bundle
# --------------------------------------------------------------------------------------


def test_bundle_ships_the_study_and_pins_the_tool(study_bundle: tuple[Path, Path]) -> None:
    project, path = study_bundle
    assert path == project / "report" / ZIP_NAME
    assert not (project / "src").exists() and not (project / "pyproject.toml").exists()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = parse_manifest(archive.read("MANIFEST").decode())
        for name in names:
            if name != "MANIFEST":
                data = archive.read(name)
                assert manifest[name].size == len(data)
                assert manifest[name].sha256 == hashlib.sha256(data).hexdigest()
        readme = archive.read("README.md").decode()
        stamp = json.loads(archive.read("VERSION_STAMP.json"))
        lock = archive.read("requirements.lock").decode()
        wheel = archive.read(WHEEL)
        infos = archive.infolist()
    assert names == sorted(names)
    assert set(manifest) == set(names) - {"MANIFEST"}
    tops = {n.split("/")[0] for n in names}
    assert tops == {"CHANGELOG.md", "MANIFEST", "README.md", "VERSION_STAMP.json", "_quarto.yml",
                    "chapters", "data", "data_spec", "index.qmd", "report", "requirements.lock",
                    "wheels"}
    assert sorted(n for n in names if n.startswith("report/")) == sorted(
        [f"report/{STEM}.docx", f"report/{STEM}.html", f"report/{STEM}.pdf", "report/ard.json"])
    assert [n for n in names if n.startswith("wheels/")] == [WHEEL]
    assert "data/adsl.csv" in names and "data_spec/study.yml" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert stat.S_IMODE(info.external_attr >> 16) == 0o644 and not info.is_dir()

    # the README opens with the two commands that reproduce it
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert block == [f"python -m pip install -r requirements.lock {WHEEL}",
                     f"trialreport verify {ZIP_NAME}"]
    assert "network" in readme and "--no-index --no-deps" in readme
    assert "synthetic reconstruction" in readme
    # the stamp records the report version, the render and the tool
    assert stamp["version"] == VERSION and stamp["study"] == "ALEVIATE"
    assert stamp[TIMESTAMP_KEY] == RENDERED_AT
    assert stamp["git"]["describe"] == "not a git checkout"
    assert stamp["trialreport"] == {"version": TOOL_VERSION, "wheel": WHEEL,
                                    "wheel_sha256": hashlib.sha256(wheel).hexdigest(),
                                    "lock": "requirements.lock"}
    assert stamp["data"]["adsl.csv"] == hashlib.sha256(
        (project / "data" / "adsl.csv").read_bytes()).hexdigest()
    # the lock pins the installed runtime dependencies exactly (not the test extras)
    pins = toolpin.read_lock(lock)
    assert pins["pandas"] == md.version("pandas") and pins["scipy"] == md.version("scipy")
    assert "pytest" not in pins and "ruff" not in pins and "trialreport" not in pins


def test_bundled_wheel_is_a_valid_wheel_of_the_running_package(
        study_bundle: tuple[Path, Path]) -> None:
    with zipfile.ZipFile(study_bundle[1]) as archive:
        wheel = zipfile.ZipFile(io.BytesIO(archive.read(WHEEL)))
    info_dir = f"trialreport-{TOOL_VERSION}.dist-info"
    names = wheel.namelist()
    assert names[-1] == f"{info_dir}/RECORD"
    record = wheel.read(f"{info_dir}/RECORD").decode().splitlines()
    listed = {}
    for line in record:
        path, digest, size = line.rsplit(",", 2)
        listed[path] = (digest, size)
    assert set(listed) == set(names)
    for name in names[:-1]:
        data = wheel.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
        assert listed[name] == ("sha256=" + expected.decode(), str(len(data))), name
    import trialreport.supplement.verify as verify_module

    running = Path(verify_module.__file__).read_bytes()
    assert wheel.read("trialreport/supplement/verify.py") == running
    assert "Tag: py3-none-any" in wheel.read(f"{info_dir}/WHEEL").decode()
    assert f"Version: {TOOL_VERSION}" in wheel.read(f"{info_dir}/METADATA").decode()
    assert "trialreport = trialreport.cli:main" in wheel.read(
        f"{info_dir}/entry_points.txt").decode()
    assert not [n for n in names if n.endswith(".pyc") or "__pycache__" in n]


def test_tool_wheel_is_cached_by_content(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import trialreport

    first = toolpin.tool_wheel(tmp_path)
    assert first.is_relative_to(tmp_path / ".cache" / "supplement" / "wheels")
    mtime = first.stat().st_mtime_ns
    assert toolpin.tool_wheel(tmp_path) == first and first.stat().st_mtime_ns == mtime
    # an edited package (same version) gets a new wheel, never the cached one
    package = tmp_path / "pkg" / "trialreport"
    shutil.copytree(Path(trialreport.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (package / "edited.py").write_text("X = 1\n")
    monkeypatch.setattr(toolpin, "_package_dir", lambda: package)
    second = toolpin.tool_wheel(tmp_path)
    assert second != first and second.name == first.name
    with zipfile.ZipFile(second) as wheel:
        assert wheel.read("trialreport/edited.py") == b"X = 1\n"


def test_bundle_warns_about_book_files_outside_the_study(tmp_path: Path) -> None:
    project = make_study(tmp_path, results=False)
    assert build_supplement(project, tmp_path / "a").warnings == []
    config = project / "_quarto.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "    # reference-doc: the built-in",
        "    reference-doc: src/trialreport/resources/render/reference.docx\n    # the built-in")
        + "bibliography: [refs.bib, https://example.org/x.bib]\n", encoding="utf-8")
    warnings = build_supplement(project, tmp_path / "b").warnings
    assert len(warnings) == 2
    assert "_quarto.yml refers to refs.bib, which is not in the supplement" in warnings[0]
    assert "src/trialreport/resources/render/reference.docx" in warnings[1]


def test_bundle_is_deterministic(study_bundle: tuple[Path, Path], tmp_path: Path) -> None:
    project, path = study_bundle
    first = build_supplement(project, tmp_path / "a").path.read_bytes()
    second = build_supplement(project, tmp_path / "b").path.read_bytes()
    assert first == second == path.read_bytes()
    assert not list((tmp_path / "a").glob("*.part"))


def test_bundle_honours_source_date_epoch(study_bundle: tuple[Path, Path], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764072000")  # 2025-11-25 12:00:00 UTC
    path = build_supplement(study_bundle[0], tmp_path).path
    with zipfile.ZipFile(path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2025, 11, 25, 12, 0, 0)}


def test_bundle_refuses_without_rendered_outputs(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    project = make_study(tmp_path, results=False)
    (project / "report" / f"{STEM}.pdf").unlink()
    with pytest.raises(BundleError, match="trialreport render"):
        build_supplement(project)
    code, out = run_cli(["bundle", "--project", str(project)], capsys)
    assert code == 1
    assert f"report/{STEM}.pdf" in out and "first" in out
    assert not (project / "report" / ZIP_NAME).exists()

    study = project / "data_spec" / "study.yml"
    study.write_text(study.read_text(encoding="utf-8").replace("  version: 1.1.0\n", ""),
                     encoding="utf-8")
    code, out = run_cli(["bundle", "--project", str(project)], capsys)  # no version anywhere
    assert code == 1 and "report.version" in out


def test_bundle_refuses_two_versions(tmp_path: Path) -> None:
    project = make_study(tmp_path, results=False)
    config = project / "_quarto.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# a stale copy\n"
                      "trialreport: {version: 9.9.9}\n", encoding="utf-8")
    with pytest.raises(BundleError, match="9.9.9"):
        build_supplement(project)


def test_bundle_refuses_stale_ard(tmp_path: Path) -> None:
    project = make_study(tmp_path, results=False)
    with (project / "data" / "adae.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    with pytest.raises(BundleError, match="data/adae.csv"):
        build_supplement(project)


def test_bundle_refuses_results_of_another_tool_version(tmp_path: Path) -> None:
    project = make_study(tmp_path, results=False)
    ard_path = project / "report" / "ard.json"
    ard = json.loads(ard_path.read_text())
    ard["metadata"]["packages"] = {"trialreport": "0.0.1", "pandas": md.version("pandas")}
    ard_path.write_text(json.dumps(ard))
    with pytest.raises(BundleError, match=f"trialreport 0.0.1 \\(installed: {TOOL_VERSION}\\)"):
        build_supplement(project)
    del ard["metadata"]["packages"]
    ard_path.write_text(json.dumps(ard))
    assert build_supplement(project).warnings == [
        "report/ard.json does not record which trialreport computed it"]


def test_bundle_refuses_a_symbolic_link(tmp_path: Path) -> None:
    project = make_study(tmp_path, results=False)
    (project / "chapters" / "linked.qmd").symlink_to(project / "index.qmd")
    with pytest.raises(BundleError, match="chapters/linked.qmd is a symbolic link"):
        build_supplement(project)


def test_bundle_refuses_identifying_columns(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    project = make_study(tmp_path, results=False)
    spec = project / "data_spec" / "adsl.yml"
    text = spec.read_text(encoding="utf-8").replace(
        "rules:\n", "  - {name: PATNAME, label: Patient name, type: string, identifying: true}\n"
        "rules:\n", 1)
    spec.write_text(text, encoding="utf-8")
    adsl = project / "data" / "adsl.csv"
    lines = adsl.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",PATNAME"] + [f"{line},Name {n}" for n, line in enumerate(lines[1:])]
    adsl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_ard(project, results=[])  # the render saw these data

    with pytest.raises(BundleError, match="PATNAME"):
        build_supplement(project)
    code, out = run_cli(["bundle", "--project", str(project)], capsys)
    assert code == 1
    assert "data/adsl.csv: PATNAME" in out and "--include-identifiers" in out
    assert not (project / "report" / ZIP_NAME).exists()

    code, out = run_cli(["bundle", "--project", str(project), "--include-identifiers"], capsys)
    assert code == 0, out
    assert "identifying columns included" in out
    with zipfile.ZipFile(project / "report" / ZIP_NAME) as archive:
        assert "PATNAME" in archive.read("README.md").decode()
        stamp = json.loads(archive.read("VERSION_STAMP.json"))
    assert stamp["identifying_columns_included"] == {"adsl.csv": ["PATNAME"]}


def test_runtime_lock_matches_the_installed_packages() -> None:
    pins = dict(line.split("==") for line in toolpin.runtime_lock())
    assert pins, "no dependencies found"
    for name, version in pins.items():
        assert md.version(name) == version, name
    for direct in ("pandas", "numpy", "scipy", "pyyaml", "lifelines"):
        assert direct in pins
    assert "six" in pins or "python-dateutil" in pins  # transitive (pandas' dependencies)


def test_read_lock_refuses_a_loose_pin() -> None:
    assert toolpin.read_lock("# c\nPandas==2.2\n\nscipy==1.1  # x\n") == {"pandas": "2.2",
                                                                        "scipy": "1.1"}
    with pytest.raises(ValueError, match="line 2"):
        toolpin.read_lock("a==1\nb>=2\n")


# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


def test_verify_recomputes_every_result(study_bundle: tuple[Path, Path], tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    project, path = study_bundle
    keep = tmp_path / "kept"
    code, out = run_cli(["verify", str(path), "--keep", str(keep)], capsys)
    assert code == 0, out
    n = _results_count(project)
    assert n > 100
    assert f"results: OK: reproduced {n} of {n} results" in out
    assert f"made with trialreport {TOOL_VERSION}; recomputed with the installed " \
           f"trialreport {TOOL_VERSION}" in out
    assert "WARNING" not in out
    assert out.rstrip().endswith("OK: the supplement is intact and reproduces every result")
    assert (keep / "supplement" / "MANIFEST").is_file()
    recomputed = json.loads((keep / "recomputed-ard.json").read_text())
    assert len(recomputed["results"]) == n


def test_verify_names_a_changed_result(study_bundle: tuple[Path, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(study_bundle[1]) as archive:
        ard = json.loads(archive.read("report/ard.json"))
    record = next(r for r in ard["results"]
                  if r["statistic"] == "mean" and isinstance(r["value"], float))
    original = record["value"]
    record["value"] = original + 0.5
    bad = rewrite_zip(study_bundle[1], tmp_path / "ard.zip",
                      {"report/ard.json": json.dumps(ard, indent=1).encode()}, fix_manifest=True)
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "checksums: OK" in out
    n = len(ard["results"])
    assert f"results: FAILED: reproduced {n - 1} of {n} results" in out
    line = next(x for x in out.splitlines() if x.startswith("  differs: "))
    key = " / ".join(record[f] or '""' for f in ("analysis", "population", "group", "variable",
                                                 "category", "statistic"))
    assert line == f"  differs: {key}: shipped {original + 0.5}, recomputed {original}"
    assert out.rstrip().endswith("FAILED: the supplement does not verify")


def test_verify_warns_about_another_tool_version(study_bundle: tuple[Path, Path],
                                                 tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(study_bundle[1]) as archive:
        stamp = json.loads(archive.read("VERSION_STAMP.json"))
    stamp["trialreport"]["version"] = "0.0.1"
    other = rewrite_zip(study_bundle[1], tmp_path / "other.zip",
                        {"VERSION_STAMP.json": json.dumps(stamp).encode()}, fix_manifest=True)
    code, out = run_cli(["verify", str(other)], capsys)
    assert code == 0, out
    warning = next(x for x in out.splitlines() if x.startswith("WARNING"))
    assert "made with trialreport 0.0.1" in warning and f"trialreport {TOOL_VERSION}" in warning
    n = _results_count(study_bundle[0])
    assert f"reproduced {n} of {n} results" in out


def test_verify_reports_data_that_break_the_specification(
        study_bundle: tuple[Path, Path], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(study_bundle[1]) as archive:
        adsl = archive.read("data/adsl.csv").decode()
    header, first, *rest = adsl.splitlines()
    column = header.split(",").index("SEX")
    cells = first.split(",")
    cells[column] = "Q"
    broken = "\n".join([header, ",".join(cells), *rest]) + "\n"
    bad = rewrite_zip(study_bundle[1], tmp_path / "spec.zip",
                      {"data/adsl.csv": broken.encode()}, fix_manifest=True)
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "results: FAILED: cannot recompute: the data break the specification" in out
    assert "SEX" in out and "Traceback" not in out


def test_verify_usage_errors(study_bundle: tuple[Path, Path], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    zip_path = str(study_bundle[1])
    code, out = run_cli(["verify", str(tmp_path / "missing.zip")], capsys)
    assert code == 2 and "file not found" in out
    text = tmp_path / "plain.zip"
    text.write_text("not a zip\n")
    code, out = run_cli(["verify", str(text)], capsys)
    assert code == 2 and "not a zip file" in out
    code, out = run_cli(["verify", str(tmp_path)], capsys)
    assert code == 2 and "not a file" in out
    for value in ("nan", "-1", "0", "inf", "lots"):
        code, out = run_cli(["verify", zip_path, "--max-member-mb", value], capsys)
        assert code == 2 and "--max-member-mb" in out and "MiB" in out, (value, out)
    code, out = run_cli(["verify", zip_path, "--keep", str(text)], capsys)
    assert code == 2 and "is not a folder" in out
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("")
    code, out = run_cli(["verify", zip_path, "--keep", str(full)], capsys)
    assert code == 2 and "is not empty" in out
    code, out = run_cli(["verify", zip_path, "--keep", str(tmp_path / "no" / "such")], capsys)
    assert code == 2 and "parent folder does not exist" in out
    code, out = run_cli(["verify", zip_path, "--keep", "/proc/trialreport-keep"], capsys)
    assert code == 2 and "cannot create the folder" in out
    code, out = run_cli(["verify", zip_path, "--wheelhouse", str(tmp_path)], capsys)
    assert code == 2 and "only used with --rerender" in out
    assert "Traceback" not in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_verify_refuses_an_unwritable_keep_folder(study_bundle: tuple[Path, Path],
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        code, out = run_cli(["verify", str(study_bundle[1]), "--keep", str(locked)], capsys)
    finally:
        locked.chmod(0o700)
    assert code == 2 and "not writable" in out


def test_verify_keeps_nothing_and_spawns_nothing(study_bundle: tuple[Path, Path],
                                                 tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The default verify runs no subprocess and leaves no temporary folder behind."""
    import subprocess

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"verify started a process: {args}")

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    report = verify_supplement(study_bundle[1])
    assert report.ok, report.lines()
    assert list(tmp_path.iterdir()) == []


def test_unpack_counts_actual_bytes(tmp_path: Path) -> None:
    """Limits hold against the bytes actually decompressed, not only the declared sizes."""
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zout:
        zout.writestr("a.bin", b"\0" * 600_000)
        zout.writestr("b.bin", b"\0" * 600_000)
    with pytest.raises(UnsafeArchiveError, match="b.bin"):
        safe_extract(archive, tmp_path / "out", Limits(max_total_bytes=1_000_000))
    # headers that under-state the size: no more than the declared bytes are ever written
    raw = bytearray(archive.read_bytes())
    local = raw.index(b"PK\x03\x04")
    assert raw[local + 30:local + 35] == b"a.bin"
    raw[local + 22:local + 26] = (1000).to_bytes(4, "little")
    central = raw.index(b"PK\x01\x02")
    assert raw[central + 46:central + 51] == b"a.bin"
    raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
    lying = tmp_path / "lying.zip"
    lying.write_bytes(bytes(raw))
    with zipfile.ZipFile(lying) as zin:
        assert zin.getinfo("a.bin").file_size == 1000
    with pytest.raises((UnsafeArchiveError, zipfile.BadZipFile)):
        safe_extract(lying, tmp_path / "out2", Limits(max_member_bytes=2000))
    written = tmp_path / "out2" / "a.bin"
    assert not written.exists() or written.stat().st_size <= 1000


def test_compare_results_tolerance_and_nan() -> None:
    key = {"analysis": "a", "population": "P", "group": "g", "variable": "v", "category": "",
           "statistic": "s", "method": ""}
    shipped = [{**key, "value": 1.0}, {**key, "statistic": "t", "value": None},
               {**key, "statistic": "u", "value": 2.0}]
    recomputed = [{**key, "value": 1.0 + 1e-12}, {**key, "statistic": "t", "value": float("nan")},
                  {**key, "statistic": "w", "value": 3.0}]
    result = compare_results(shipped, recomputed)
    assert (result.total, result.reproduced) == (3, 2)
    assert [k[-1] for k, _ in result.missing] == ["u"]
    assert [k[-1] for k, _ in result.extra] == ["w"]
    assert not compare_results([{**key, "value": 1.0}], [{**key, "value": 1.001}]).ok
    # a text value equal to the number's spelling is not a number
    assert not compare_results([{**key, "value": "1.0"}], [{**key, "value": 1.0}]).ok
    odd = compare_results([{**key, "value": "\x1b[2J"}], [{**key, "value": 1.0}])
    assert "\x1b" not in "\n".join(odd.lines()) and "\\x1b" in "\n".join(odd.lines())


def test_ard_json_is_deterministic_apart_from_the_timestamp(tmp_path: Path) -> None:
    from trialreport.ard import build_ard_from_paths

    texts = []
    for n in (1, 2):
        ard = build_ard_from_paths(ROOT / "data", ROOT / "data_spec",
                                   ROOT / "data_spec" / "study.yml")
        out = tmp_path / f"ard{n}.json"
        ard.to_json(out)
        texts.append(json.loads(out.read_text(encoding="utf-8")))
    assert drop_render_timestamp(texts[0]) == drop_render_timestamp(texts[1])


def test_rerender_names_what_it_needs_offline(tmp_path: Path) -> None:
    """Without the locked versions installed (and no --wheelhouse) nothing is run and the
    report names every package it needs."""
    from trialreport.supplement.rerender import rerender

    root = tmp_path / "supplement"
    (root / "wheels").mkdir(parents=True)
    (root / "wheels" / f"trialreport-{TOOL_VERSION}-py3-none-any.whl").write_bytes(b"")
    (root / "requirements.lock").write_text(
        f"# pins\npandas=={md.version('pandas')}\nnot-a-real-package==1.0\nscipy==0.0.1\n",
        encoding="utf-8")
    report = rerender(root, tmp_path / "work")
    assert not report.ok and len(report.lines) == 1
    line = report.lines[0]
    assert line.startswith("cannot re-render offline")
    assert "not-a-real-package==1.0 (not installed)" in line
    assert f"scipy==0.0.1 ({md.version('scipy')})" in line
    assert "pandas" not in line and "--wheelhouse DIR" in line
    assert not (tmp_path / "work").exists()

"""The journal supplement: bundle (contents, determinism, refusals) and verify (checksums,
re-run of the bundled code, unsafe archives).

Most tests use a fixture project whose ``src/`` holds a tiny stand-in ``trialreport`` package
with an ``ard`` command (results computed from the bundled data), so they exercise the whole
verify path quickly and prove that the BUNDLED code is what runs. Two tests use the project's
own ``src/`` and analyses instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from trialreport.cli import main
from trialreport.supplement.bundle import BundleError, build_supplement
from trialreport.supplement.manifest import parse_manifest
from trialreport.supplement.safe_unpack import Limits, UnsafeArchiveError, safe_extract
from trialreport.supplement.verify import compare_results, verify_supplement
from trialreport.versioning import (
    TIMESTAMP_KEY,
    drop_render_timestamp,
    report_version,
    stamp_for_ard,
    version_stamp,
)

ROOT = Path(__file__).resolve().parents[1]
VERSION = report_version(ROOT)
STEM = f"ALEVIATE-CSR-v{VERSION}"
ZIP_NAME = f"{STEM}-supplement.zip"
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".cache", ".pytest_cache",
                                ".ruff_cache", "*.egg-info")

# A stand-in for the analysis command: per data file, the number of records and (for adsl)
# the mean age, as ARD records. Lives in the fixture's src/ only.
STUB_MAIN = '''
import argparse, csv, json, pathlib, statistics, sys

def main(argv=None):
    p = argparse.ArgumentParser(prog="trialreport")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("ard")
    for opt in ("--data", "--spec", "--study", "--out"):
        a.add_argument(opt, required=True)
    args = p.parse_args(argv)
    results = []
    for path in sorted(pathlib.Path(args.data).glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        results.append({"analysis": "stub", "population": "", "group": "Total",
                        "variable": path.stem.upper(), "category": "", "statistic": "n",
                        "value": float(len(rows)), "method": ""})
        if path.stem == "adsl":
            ages = [float(r["AGE"]) for r in rows]
            results.append({"analysis": "baseline", "population": "FAS", "group": "Total",
                            "variable": "AGE", "category": "", "statistic": "mean",
                            "value": statistics.fmean(ages), "method": ""})
    pathlib.Path(args.out).write_text(json.dumps({"metadata": {}, "results": results}))
    return 0

raise SystemExit(main())
'''


def _write_ard(project: Path, results: list[dict] | None = None) -> None:
    """report/ard.json: results from the fixture's own code, plus a version stamp."""
    out = project / "report" / "ard.json"
    if results is None:
        env = {**os.environ, "PYTHONPATH": str(project / "src")}
        subprocess.run([sys.executable, "-m", "trialreport", "ard", "--data",
                        str(project / "data"), "--spec", str(project / "data_spec"),
                        "--study", str(project / "data_spec/study.yml"), "--out", str(out)],
                       cwd=project, env=env, check=True, capture_output=True)
        results = json.loads(out.read_text(encoding="utf-8"))["results"]
    stamp = stamp_for_ard(version_stamp(project, project / "data",
                                        timestamp="2026-11-25T12:00:00Z"))
    out.write_text(json.dumps({"metadata": {"stamp": stamp}, "results": results}, indent=1),
                   encoding="utf-8")


def make_project(base: Path, real_code: bool = False) -> Path:
    """A small project: the real data and specification, stand-in or real code, and fake
    rendered outputs (placeholder HTML/DOCX/PDF)."""
    project = base / "project"
    project.mkdir(parents=True)
    shutil.copytree(ROOT / "data", project / "data", ignore=IGNORE)
    shutil.copytree(ROOT / "data_spec", project / "data_spec", ignore=IGNORE)
    if real_code:
        shutil.copytree(ROOT / "src", project / "src", ignore=IGNORE)
    else:
        package = project / "src" / "trialreport"
        package.mkdir(parents=True)
        (package / "__init__.py").write_text('"""Stand-in package."""\n', encoding="utf-8")
        (package / "__main__.py").write_text(STUB_MAIN, encoding="utf-8")
    shutil.copytree(ROOT / "chapters", project / "chapters", ignore=IGNORE)
    for name in ("pyproject.toml", "_quarto.yml", "index.qmd", "Makefile", "requirements.lock",
                 "environment.yml"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copy2(ROOT / "CHANGELOG.md", project / "CHANGELOG.md")
    (project / "tests").mkdir()
    (project / "tests" / "test_nothing.py").write_text("def test_ok():\n    pass\n")
    (project / "tools").mkdir()  # an empty folder the Makefile lints: kept as a folder entry
    # things that must stay out of the supplement
    (project / "src" / "trialreport" / "__pycache__").mkdir()
    (project / "src" / "trialreport" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (project / ".cache").mkdir()
    (project / ".cache" / "cell.json").write_text("{}")
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").write_text("")
    (project / ".git").mkdir()  # a folder git would reject: not a checkout, must be left out
    (project / ".git" / "config").write_text("")
    report = project / "report"
    report.mkdir()
    (report / f"{STEM}.html").write_text("<html><body>CSR</body></html>\n")
    (report / f"{STEM}.docx").write_bytes(b"PK\x03\x04 placeholder docx\n")
    (report / f"{STEM}.pdf").write_bytes(b"%PDF-1.7 placeholder\n")
    (report / "scratch.log").write_text("not shipped\n")
    if real_code:
        from trialreport.analysis.ard import build_ard_from_paths

        ard = build_ard_from_paths(project / "data", project / "data_spec",
                                   project / "data_spec" / "study.yml")
        _write_ard(project, json.loads(ard.to_json())["results"])
    else:
        _write_ard(project)
    return project


@pytest.fixture(scope="module")
def stub_bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project, supplement zip) built once from the stand-in project."""
    project = make_project(tmp_path_factory.mktemp("stub"))
    return project, build_supplement(project).path


def rewrite_zip(source: Path, target: Path, replace: dict[str, bytes | None] | None = None,
                add: list[tuple[zipfile.ZipInfo, bytes]] | None = None,
                fix_manifest: bool = False) -> Path:
    """Copy a zip, replacing (bytes) or dropping (None) members and adding raw members;
    ``fix_manifest`` rewrites the MANIFEST lines of the replaced members."""
    replace = dict(replace or {})
    with zipfile.ZipFile(source) as zin:
        members = {i.filename: (i, zin.read(i)) for i in zin.infolist()}
    if fix_manifest:
        lines = members["MANIFEST"][1].decode().splitlines()
        for n, line in enumerate(lines):
            path = line.split("\t")[0]
            if path in replace and replace[path] is not None:
                data = replace[path]
                lines[n] = f"{path}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}"
        replace["MANIFEST"] = ("\n".join(lines) + "\n").encode()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, (info, data) in members.items():
            if name in replace:
                if replace[name] is None:
                    continue
                data = replace[name]
            zout.writestr(info, data)
        for info, data in add or []:
            zout.writestr(info, data)
    return target


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# --------------------------------------------------------------------------------------
# bundle
# --------------------------------------------------------------------------------------


def test_bundle_contents(stub_bundle: tuple[Path, Path]) -> None:
    project, path = stub_bundle
    assert path == project / "report" / ZIP_NAME
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        manifest = parse_manifest(archive.read("MANIFEST").decode())
        readme = archive.read("README.md").decode()
        stamp = json.loads(archive.read("VERSION_STAMP.json"))
        for name in names:
            if name != "MANIFEST" and not name.endswith("/"):
                data = archive.read(name)
                assert manifest[name].size == len(data)
                assert manifest[name].sha256 == hashlib.sha256(data).hexdigest()
        infos = archive.infolist()
    assert names == sorted(names)
    assert set(manifest) == {n for n in names if not n.endswith("/")} - {"MANIFEST"}
    assert "tools/" in names
    for expected in (f"report/{STEM}.html", f"report/{STEM}.docx", f"report/{STEM}.pdf",
                     "report/ard.json", "data/adsl.csv", "data_spec/study.yml",
                     "src/trialreport/__main__.py", "pyproject.toml", "Makefile",
                     "requirements.lock", "environment.yml", "CHANGELOG.md", "_quarto.yml",
                     "tests/test_nothing.py", "chapters/", "README.md", "VERSION_STAMP.json"):
        if expected.endswith("/"):
            assert any(n.startswith(expected) for n in names), expected
        else:
            assert expected in names, expected
    for name in names:
        assert not any(part in (".cache", "__pycache__", ".venv", ".git", ".pytest_cache")
                       for part in name.split("/")), name
        assert not name.startswith("report/") or name.split("/")[1] in (
            f"{STEM}.html", f"{STEM}.docx", f"{STEM}.pdf", "ard.json"), name
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert stat.S_IMODE(info.external_attr >> 16) in (0o644, 0o755)
        assert info.is_dir() == stat.S_ISDIR(info.external_attr >> 16)
    assert "make report" in readme and "make test" in readme
    assert "trialreport verify" in readme and "synthetic reconstruction" in readme
    assert stamp["version"] == VERSION and stamp["study"] == "ALEVIATE"
    assert stamp["git"]["describe"] == "not a git checkout"
    assert stamp[TIMESTAMP_KEY] == "2026-11-25T12:00:00Z"  # the render's, from ard.json
    assert stamp["data"]["adsl.csv"] == hashlib.sha256(
        (project / "data" / "adsl.csv").read_bytes()).hexdigest()


def test_bundle_is_deterministic(stub_bundle: tuple[Path, Path], tmp_path: Path) -> None:
    project, path = stub_bundle
    first = build_supplement(project, tmp_path / "a").path.read_bytes()
    second = build_supplement(project, tmp_path / "b").path.read_bytes()
    assert first == second == path.read_bytes()
    assert not list((tmp_path / "a").glob("*.part"))


def test_bundle_honours_source_date_epoch(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764072000")  # 2025-11-25 12:00:00 UTC
    path = build_supplement(stub_bundle[0], tmp_path).path
    with zipfile.ZipFile(path) as archive:
        assert {i.date_time for i in archive.infolist()} == {(2025, 11, 25, 12, 0, 0)}


def test_bundle_refuses_without_rendered_outputs(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path)
    (project / "report" / f"{STEM}.pdf").unlink()
    with pytest.raises(BundleError, match="make report"):
        build_supplement(project)
    code, out = run_cli(["bundle", "--project", str(project)], capsys)
    assert code == 1
    assert f"report/{STEM}.pdf" in out and "run `make report` first" in out
    assert not (project / "report" / ZIP_NAME).exists()


def test_bundle_refuses_a_second_version(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project / "_quarto.yml").write_text("trialreport: {version: 0.0.1}\n", encoding="utf-8")
    with pytest.raises(BundleError, match="0.0.1"):
        build_supplement(project)


def test_bundle_refuses_stale_ard(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    with (project / "data" / "adae.csv").open("a", encoding="utf-8") as handle:
        handle.write("\n")
    with pytest.raises(BundleError, match="data/adae.csv"):
        build_supplement(project)


def test_bundle_refuses_identifying_columns(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path)
    spec = project / "data_spec" / "adsl.yml"
    text = spec.read_text(encoding="utf-8").replace(
        "rules:\n", "  - {name: PATNAME, label: Patient name, type: string, identifying: true}\n"
        "rules:\n", 1)
    spec.write_text(text, encoding="utf-8")
    adsl = project / "data" / "adsl.csv"
    lines = adsl.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + ",PATNAME"] + [f"{line},Name {n}" for n, line in enumerate(lines[1:])]
    adsl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _write_ard(project)  # the render saw these data

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


# --------------------------------------------------------------------------------------
# verify
# --------------------------------------------------------------------------------------


def test_verify_reproduces(stub_bundle: tuple[Path, Path], tmp_path: Path,
                           capsys: pytest.CaptureFixture[str]) -> None:
    keep = tmp_path / "kept"
    code, out = run_cli(["verify", str(stub_bundle[1]), "--keep", str(keep)], capsys)
    assert code == 0, out
    n = len(json.loads((stub_bundle[0] / "report" / "ard.json").read_text())["results"])
    assert f"reproduced {n} of {n} results" in out
    assert (keep / "ard.rerun.json").is_file() and (keep / "MANIFEST").is_file()
    assert (keep / "tools").is_dir()


def test_verify_runs_the_bundled_code(stub_bundle: tuple[Path, Path], tmp_path: Path) -> None:
    """A change to the bundled code changes the re-run, so the bundled code is what runs."""
    with zipfile.ZipFile(stub_bundle[1]) as archive:
        code = archive.read("src/trialreport/__main__.py")
    changed = code.replace(b"float(len(rows))", b"float(len(rows) + 1)")
    bad = rewrite_zip(stub_bundle[1], tmp_path / "code.zip",
                      {"src/trialreport/__main__.py": changed}, fix_manifest=True)
    report = verify_supplement(bad)
    assert not report.ok
    assert report.checksums is not None and report.checksums.ok
    assert report.results is not None and report.results.differing


def test_verify_names_a_changed_data_file(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(stub_bundle[1]) as archive:
        data = bytearray(archive.read("data/adsl.csv"))
    position = data.index(b"\n") + 1 + data[data.index(b"\n") + 1:].index(b",") - 1
    data[position] = ord("9") if data[position] != ord("9") else ord("8")
    bad = rewrite_zip(stub_bundle[1], tmp_path / "data.zip", {"data/adsl.csv": bytes(data)})
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "differs: data/adsl.csv" in out
    assert "FAILED" in out


def test_verify_names_a_changed_result(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    with zipfile.ZipFile(stub_bundle[1]) as archive:
        ard = json.loads(archive.read("report/ard.json"))
    record = next(r for r in ard["results"] if r["statistic"] == "mean")
    original = record["value"]
    record["value"] = original + 0.5
    content = json.dumps(ard, indent=1).encode()
    bad = rewrite_zip(stub_bundle[1], tmp_path / "ard.zip", {"report/ard.json": content},
                      fix_manifest=True)
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "checksums: OK" in out
    n = len(ard["results"])
    assert f"reproduced {n - 1} of {n} results" in out
    line = next(x for x in out.splitlines() if "differs: baseline" in x)
    assert "FAS / Total / AGE" in line and "mean" in line
    assert f"bundled {original + 0.5}" in line and f"re-run {original}" in line


def test_verify_names_missing_and_extra_files(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    info = zipfile.ZipInfo("data/extra.txt")
    bad = rewrite_zip(stub_bundle[1], tmp_path / "files.zip", {"CHANGELOG.md": None},
                      add=[(info, b"not listed\n")])
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "missing: CHANGELOG.md" in out and "extra: data/extra.txt" in out


def test_verify_refuses_parent_escape(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    bad = rewrite_zip(stub_bundle[1], tmp_path / "escape.zip",
                      add=[(zipfile.ZipInfo("../escape"), b"outside\n")])
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "refused member '../escape'" in out
    assert not (tmp_path / "escape").exists()


def test_verify_refuses_absolute_path(stub_bundle: tuple[Path, Path], tmp_path: Path) -> None:
    info = zipfile.ZipInfo("placeholder")
    info.filename = "/tmp/absolute-escape"  # ZipInfo() strips a leading slash
    bad = rewrite_zip(stub_bundle[1], tmp_path / "abs.zip", add=[(info, b"x")])
    report = verify_supplement(bad)
    assert not report.ok and report.refused and "/tmp/absolute-escape" in report.refused


def test_verify_refuses_symlink(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    info = zipfile.ZipInfo("data/link.csv")
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    bad = rewrite_zip(stub_bundle[1], tmp_path / "link.zip", add=[(info, b"/etc/passwd")])
    code, out = run_cli(["verify", str(bad)], capsys)
    assert code == 1
    assert "refused member 'data/link.csv': symbolic link" in out


def test_verify_refuses_oversized_member(stub_bundle: tuple[Path, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    big = rewrite_zip(stub_bundle[1], tmp_path / "big.zip",
                      add=[(zipfile.ZipInfo("data/big.bin"), b"\0" * (3 * 1024 * 1024))])
    code, out = run_cli(["verify", str(big), "--max-member-mb", "2"], capsys)
    assert code == 1
    assert "refused member 'data/big.bin'" in out and "per-member limit" in out


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


def test_verify_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run_cli(["verify", str(tmp_path / "missing.zip")], capsys)
    assert code == 2 and "file not found" in out
    text = tmp_path / "plain.zip"
    text.write_text("not a zip\n")
    code, out = run_cli(["verify", str(text)], capsys)
    assert code == 2 and "not a zip file" in out


def test_compare_results_tolerance_and_nan() -> None:
    key = {"analysis": "a", "population": "P", "group": "g", "variable": "v", "category": "",
           "statistic": "s", "method": ""}
    bundled = [{**key, "value": 1.0}, {**key, "statistic": "t", "value": None},
               {**key, "statistic": "u", "value": 2.0}]
    rerun = [{**key, "value": 1.0 + 1e-12}, {**key, "statistic": "t", "value": float("nan")},
             {**key, "statistic": "w", "value": 3.0}]
    result = compare_results(bundled, rerun)
    assert (result.total, result.reproduced) == (3, 2)
    assert [k[-1] for k, _ in result.missing] == ["u"]
    assert [k[-1] for k, _ in result.extra] == ["w"]
    assert not compare_results([{**key, "value": 1.0}], [{**key, "value": 1.001}]).ok


# --------------------------------------------------------------------------------------
# with the project's real code and analyses
# --------------------------------------------------------------------------------------

def test_verify_reproduces_real_analyses(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    project = make_project(tmp_path, real_code=True)
    path = build_supplement(project).path
    code, out = run_cli(["verify", str(path)], capsys)
    assert code == 0, out
    n = len(json.loads((project / "report" / "ard.json").read_text())["results"])
    assert f"reproduced {n} of {n} results" in out


def test_ard_json_is_deterministic_apart_from_the_timestamp(tmp_path: Path) -> None:
    from trialreport.analysis.ard import build_ard_from_paths

    texts = []
    for n in (1, 2):
        ard = build_ard_from_paths(ROOT / "data", ROOT / "data_spec",
                                   ROOT / "data_spec" / "study.yml")
        out = tmp_path / f"ard{n}.json"
        ard.to_json(out)
        texts.append(json.loads(out.read_text(encoding="utf-8")))
    assert drop_render_timestamp(texts[0]) == drop_render_timestamp(texts[1])

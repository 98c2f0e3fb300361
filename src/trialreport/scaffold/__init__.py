"""Make a new study project from an ADaM delivery (``trialreport init``).

::

    from trialreport.scaffold import create_study
    result = create_study(Path("my-study"), Path("adam/"), define=None, title=None)
    print("\\n".join(result.summary_lines()))

The project is built in a temporary folder beside the target and renamed into place only when
everything succeeded: the data files copied (names kept), a specification per dataset
(:func:`trialreport.spec.infer.write_specifications`, define.xml used when given or present),
the study definition inferred from the ADaM standard variables
(:func:`trialreport.study.infer.infer_study`), the chapters the data support, ``_quarto.yml``,
``CHANGELOG.md``, ``.gitignore`` and a README. Before the rename the data are validated against
the new specification, the definition is loaded and checked against the data, every output's
results are computed and every chapter is checked for the supported Quarto subset, so the
project validates, computes and renders without an edit. A failure leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from trialreport.io.readers import SUFFIXES

__all__ = ["InitError", "InitResult", "create_study"]

DEFINE_FILE = "define.xml"


class InitError(Exception):
    """``trialreport init`` cannot make the project; ``status`` is the exit status (2 a usage
    error, 1 data that cannot be used)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


@dataclass
class InitResult:
    """What was made: the folder and the summary of what was inferred and what to fill in."""

    target: Path
    study_id: str
    datasets: list[str]
    arms: list[str]
    reference: str | None
    populations: dict[str, str]
    outputs: list[str]
    files: list[str]
    placeholders: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def inferred(self) -> list[str]:
        """One line per kind of inferred content."""
        return [f"study: {self.study_id}",
                f"arms ({len(self.arms)}): " + "; ".join(self.arms)
                + (f" (reference: {self.reference})" if self.reference else " (no reference)"),
                "populations: " + "; ".join(f"{k} {v}" for k, v in self.populations.items()),
                f"outputs ({len(self.outputs)}): " + "; ".join(self.outputs)]

    def summary_lines(self) -> list[str]:
        """The summary printed by ``trialreport init``."""
        lines = [f"Created {self.target} ({len(self.files)} files).", "",
                 "Inferred from the data:",
                 *[f"  {x}" for x in [*self.inferred(), "datasets: " + ", ".join(self.datasets)]],
                 "", "To fill in (data_spec/study.yml, the chapters):",
                 *[f"  - {x}" for x in self.placeholders]]
        if self.notes:
            lines += ["", "Choices made from the data (confirm them):",
                      *[f"  - {x}" for x in self.notes]]
        lines += ["", "Next: cd into the folder, then trialreport validate && trialreport "
                      "render"]
        return lines


def _data_files(adam_dir: Path) -> list[Path]:
    from trialreport.spec.infer import _data_files as chosen

    return chosen(adam_dir)


def _check_usage(target: Path, adam_dir: Path, define: Path | None,
                 title: str | None) -> list[Path]:
    if target.exists() and not target.is_dir():
        raise InitError(f"{target} exists and is not a folder", 2)
    if target.is_dir() and any(target.iterdir()):
        raise InitError(f"{target} is not empty: give a new or empty folder", 2)
    if not target.parent.is_dir():
        raise InitError(f"the folder {target.parent} does not exist", 2)
    if not adam_dir.is_dir():
        raise InitError(f"ADaM folder not found: {adam_dir}", 2)
    if define is not None and not define.is_file():
        raise InitError(f"define.xml not found: {define}", 2)
    if title is not None and not title.strip():
        raise InitError("--title is empty", 2)
    files = _data_files(adam_dir)
    if not any(p.stem.lower() == "adsl" for p in files):
        found = ", ".join(p.name for p in files) or "no data files"
        raise InitError(f"{adam_dir} holds no ADSL (adsl{', adsl'.join(SUFFIXES)}); found: "
                        f"{found}", 2)
    return files


def _build(work: Path, files: list[Path], define: Path | None, title: str | None,
           default_id: str, today: dt.date | None) -> InitResult:
    """Write the whole project into ``work`` and check it; raises :class:`InitError`."""
    from trialreport.io.define_xml import DefineXmlError
    from trialreport.io.readers import DataReadError
    from trialreport.spec.infer import write_specifications
    from trialreport.spec.model import load_specification
    from trialreport.study.infer import InferenceError, infer_study
    from trialreport.validation import validate_folder

    data, spec_dir = work / "data", work / "data_spec"
    data.mkdir()
    for path in files:
        shutil.copy2(path, data / path.name)
    if define is not None:
        shutil.copy2(define, data / define.name)
    try:
        write_specifications(data, spec_dir, data / define.name if define else None)
    except (DataReadError, DefineXmlError) as exc:
        raise InitError(f"cannot read the delivery: {exc}") from None
    spec = load_specification(spec_dir)
    report = validate_folder(data, spec)
    if not report.ok:
        shown = "\n".join(f"  {v}" for v in report.errors[:20])
        more = len(report.errors) - 20
        origin = "define.xml gives" if define else "inferred from them"
        raise InitError(f"the data break the specification {origin} ({len(report.errors)} "
                        f"error(s)); correct the data or define.xml:\n{shown}"
                        + (f"\n  ... and {more} more" if more > 0 else ""))
    try:
        inferred = infer_study(report.datasets, spec, title=title.strip() if title else None,
                               default_id=default_id)
    except InferenceError as exc:
        raise InitError(f"no study definition can be drafted: {exc}") from None
    (spec_dir / "study.yml").write_text(inferred.yaml(), encoding="utf-8", newline="\n")
    texts = _project_texts(inferred, [p.name for p in files], today)
    for rel, text in texts.items():
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
    _check_project(work, texts)
    m = inferred.mapping
    written = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file())
    return InitResult(
        target=work, study_id=m["study"]["id"], datasets=[p.name for p in files],
        arms=[a["code"] for a in m["arms"]["levels"]], reference=m["arms"].get("reference"),
        populations={k: f"({v['flag']}, by {v['arm_variable']})"
                     for k, v in m["populations"].items()},
        outputs=[f"{o['id']} {o['name']}" for o in m.get("outputs", [])], files=written,
        placeholders=inferred.placeholders, notes=inferred.notes)


def _project_texts(inferred, data_files: list[str], today: dt.date | None) -> dict[str, str]:
    from trialreport.scaffold._chapters import chapters
    from trialreport.scaffold._files import changelog, gitignore, quarto_yml, readme

    m = inferred.mapping
    texts, order, appendices = chapters(m, inferred.primary_population)
    study_id = m["study"]["id"]
    arms = [a["code"] for a in m["arms"]["levels"]]
    summary = [f"arms: {'; '.join(arms)}",
               "populations: " + ", ".join(m["populations"]),
               "outputs: " + ", ".join(f"{o['id']} {o['name']}" for o in m.get("outputs", []))]
    texts["_quarto.yml"] = quarto_yml(study_id, order, appendices)
    texts["CHANGELOG.md"] = changelog(today)
    texts[".gitignore"] = gitignore()
    texts["README.md"] = readme(study_id, data_files, summary, inferred.placeholders,
                                inferred.notes)
    return texts


def _check_project(work: Path, texts: dict[str, str]) -> None:
    """The new project loads, fits its data, computes every output and uses only the
    supported Quarto subset; anything else is a bug of this module, reported as such."""
    from trialreport.ard import ARDError, build_ard
    from trialreport.data import load_trial
    from trialreport.render import check_supported_syntax
    from trialreport.study import StudyDefinitionError, load_study

    try:
        study = load_study(work / "data_spec" / "study.yml")
        build_ard(load_trial(work / "data", work / "data_spec", study))
    except (StudyDefinitionError, ARDError, KeyError, ValueError) as exc:
        raise InitError("the drafted study definition does not fit the data (a bug of "
                        f"trialreport init; please report it):\n{exc}") from None
    problems = [p for rel, text in texts.items() if rel.endswith(".qmd")
                for p in check_supported_syntax(text, rel)]
    if problems:
        raise InitError("a drafted chapter is outside the supported Quarto subset (a bug of "
                        "trialreport init):\n" + "\n".join(problems))


def create_study(target: Path, adam_dir: Path, define: Path | None = None,
                 title: str | None = None, today: dt.date | None = None) -> InitResult:
    """Make the study project ``target`` (new or empty) from the ADaM folder ``adam_dir``.

    ``define`` defaults to ``adam_dir/define.xml`` when present; ``title`` is the study's
    title (else "Study <STUDYID>"); ``today`` dates the first changelog entry. Raises
    :class:`InitError` (status 2 for a usage error, 1 for data that cannot be used) and then
    writes nothing.
    """
    target, adam_dir = Path(target).absolute(), Path(adam_dir)
    files = _check_usage(target, adam_dir, define, title)
    if define is None and (adam_dir / DEFINE_FILE).is_file():
        define = adam_dir / DEFINE_FILE
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.init-", dir=target.parent))
    try:
        result = _build(work, files, define, title, target.name, today)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(work, 0o777 & ~umask)  # a temporary folder is private; the project is not
        try:
            os.replace(work, target)  # POSIX: replaces an empty folder in one step
        except OSError:
            if not target.is_dir():
                raise
            target.rmdir()  # empty (checked)
            os.replace(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    result.target = target
    return result

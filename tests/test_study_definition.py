"""The study definition is strict: every mistake is an error naming the file, line and key, and
every name it uses is checked against the data before any analysis runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import DATA, ROOT, SPEC, STUDY_FILE
from trialreport.cli import main
from trialreport.data import load_trial
from trialreport.study import StudyDefinitionError, json_schema, load_study


def _copy_spec(tmp_path: Path) -> Path:
    spec = tmp_path / "data_spec"
    shutil.copytree(SPEC, spec)
    return spec


def _edit(path: Path, old: str, new: str, count: int = 1) -> int:
    """Replace ``old`` (``count`` times, -1 = all) and return the 1-based line of the first."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) >= 1, old
    line = text[:text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, count), encoding="utf-8")
    return line


def _problems(path: Path) -> str:
    with pytest.raises(StudyDefinitionError) as err:
        load_study(path)
    return str(err.value)


def test_the_shipped_definition_loads() -> None:
    study = load_study(STUDY_FILE)
    assert study.id == "ALEVIATE" and study.report_version
    assert [o.kind for o in study.output_specs].count("figure") == 3


@pytest.mark.parametrize(("old", "new", "key", "hint"), [
    ("  treatment_emergent_flag: TRTEMFL", "  treatment_emergent_flg: TRTEMFL",
     "safety.treatment_emergent_flg", "did you mean 'treatment_emergent_flag'?"),
    ("    - {name: SEX, label: Sex,", "    - {nmae: SEX, label: Sex,",
     "baseline.variables[1].nmae", "did you mean 'name'?"),
    ("  total: Total", "  totl: Total", "arms.totl", "did you mean 'total'?"),
    ("    filter: related", "    filtre: related", "outputs[12].filtre",
     "did you mean 'filter'?"),
])
def test_a_misspelt_key_names_file_line_and_the_nearest_key(tmp_path, old, new, key,
                                                            hint) -> None:
    spec = _copy_spec(tmp_path)
    line = _edit(spec / "study.yml", old, new)
    text = _problems(spec / "study.yml")
    assert f"study.yml:{line}: {key}: unknown key" in text
    assert hint in text


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    filter: related", "    filter: relatd", "'relatd' is not one of"),
    ("  tests: false ", "  tests: maybe ", "baseline.tests"),
    ("  version: 1.1.0", "  version: one", "not a version like 1.2.0"),
    ("  reference: Alemtuzumab 30 mg", "  reference: Alemtuzumab 20 mg",
     "comparison arm 'Alemtuzumab 20 mg' is not one of the arms"),
    ("  - {id: \"14.1.1\", name: consort, type: consort,",
     "  - {id: \"14.1.1\", name: consort, type: consrt,", "did you mean 'consort'?"),
    ("    population: FAS\n    subset: RESP6", "    population: FAS\n    subset: RESP60",
     "'RESP60' is not a binary endpoint id"),
    ("    param: TTRELAPS\n    title: Time", "    param: TTRELAPSE\n    title: Time",
     "param: no time-to-event parameter 'TTRELAPSE'"),
    ("  phase: {text: IIb, source: pub,", "  phase: {text: IIb, source: publication,",
     "source 'publication' is not defined under sources"),
    ('quote: "This phase IIb clinical trial"', 'quote: "This phase III clinical trial"',
     "the quote is not in the text of source 'pub'"),
])
def test_wrong_values_and_references_are_errors(tmp_path, old, new, expected) -> None:
    spec = _copy_spec(tmp_path)
    _edit(spec / "study.yml", old, new)
    text = _problems(spec / "study.yml")
    assert expected in text
    assert "study.yml:" in text


def test_a_fact_without_a_source_is_refused(tmp_path) -> None:
    spec = _copy_spec(tmp_path)
    _edit(spec / "study.yml", "  phase: {text: IIb, source: pub, quote: \"This phase IIb "
          "clinical trial\"}", "  phase: IIb")
    assert "study.phase" in _problems(spec / "study.yml")


def test_every_problem_is_listed_at_once(tmp_path) -> None:
    spec = _copy_spec(tmp_path)
    _edit(spec / "study.yml", "  total: Total", "  totl: Total")
    _edit(spec / "study.yml", "  treatment_emergent_flag: TRTEMFL", "  te_flag: TRTEMFL")
    text = _problems(spec / "study.yml")
    assert "2 problems" in text and "arms.totl" in text and "safety.te_flag" in text


def test_duplicate_keys_and_bad_yaml(tmp_path) -> None:
    path = tmp_path / "study.yml"
    path.write_text("report: {version: 1.0.0}\nreport: {version: 2.0.0}\n", encoding="utf-8")
    assert "key 'report' appears twice" in _problems(path)
    path.write_text("report: [\n", encoding="utf-8")
    assert "not valid YAML" in _problems(path)


# -- checked against the data -------------------------------------------------------------------


def _load(spec: Path):
    return load_trial(DATA, spec, spec / "study.yml")


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("Alemtuzumab 60 mg", "Alemtuzumab 60mg",
     "arm 'Alemtuzumab 60mg' is not a value of TRT01P in adsl.csv; did you mean "
     "'Alemtuzumab 60 mg'?"),
    ("    - {name: DURDIS,", "    - {name: DURDISS,",
     "variable 'DURDISS' is not in adsl.csv; did you mean 'DURDIS'?"),
    ("  FAS: {label: Full analysis set, flag: FASFL,", "  FAS: {label: Full analysis set, "
     "flag: FASFLG,", "variable 'FASFLG' is not in adsl.csv"),
    ("      responder: {paramcd: RESP, visit: 6, values: [COMPLETE]}",
     "      responder: {paramcd: RESP, visit: 6, values: [COMPLET]}",
     "'COMPLET' is not a value of AVALC in adeff.csv; did you mean 'COMPLETE'?"),
    ("    paramcd: TTRELAPS\n", "    paramcd: TTRELAPSE\n",
     "'TTRELAPSE' is not a value of PARAMCD in adtte.csv"),
    ("  severity: {variable: AESEV, levels: [MILD, MODERATE, SEVERE]}",
     "  severity: {variable: AESEV, levels: [MILD, MODERATE]}",
     "AESEV has values that are not severity levels: 'SEVERE'"),
    ("  adae: adae\n", "  adae: adverse_events\n", "dataset 'adae' is not in the data folder"),
])
def test_names_the_data_do_not_have_are_errors(tmp_path, old, new, expected) -> None:
    spec = _copy_spec(tmp_path)
    _edit(spec / "study.yml", old, new, count=-1)
    with pytest.raises(StudyDefinitionError) as err:
        _load(spec)
    assert expected in str(err.value)


def test_a_missing_related_setting_is_an_error_for_outputs_that_need_it(tmp_path) -> None:
    spec = _copy_spec(tmp_path)
    _edit(spec / "study.yml", "  related: {variable: AEREL, value: RELATED}\n", "")
    text = _problems(spec / "study.yml")
    assert "filter 'related' needs the matching setting under safety:" in text


def test_the_arm_typo_case_stops_the_command_line(tmp_path, capsys) -> None:
    """An arm code one character off used to give Total N=12 and '0/0 on 30 mg' with exit 0."""
    spec = _copy_spec(tmp_path)
    _edit(spec / "study.yml", "Alemtuzumab 30 mg", "Alemtuzumab 30mg", count=-1)
    out = tmp_path / "ard.json"
    status = main(["ard", "--data", str(DATA), "--spec", str(spec), "--study",
                   str(spec / "study.yml"), "--out", str(out)])
    assert status == 1 and not out.exists()
    err = capsys.readouterr().err
    assert "did you mean 'Alemtuzumab 30 mg'?" in err and "Traceback" not in err


# -- documentation -------------------------------------------------------------------------------


def test_committed_json_schema_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "schema" / "study.schema.json").read_text("utf-8"))
    assert committed == json_schema(), "run tools/write_study_docs.py"


def test_every_key_is_documented() -> None:
    """docs/study.md names every key of every block and every output type's options."""
    from trialreport.outputs import output_types
    from trialreport.study._model import StudyDefinition

    doc = (ROOT / "docs" / "study.md").read_text(encoding="utf-8")
    missing = []

    def walk(model: type, prefix: str) -> None:
        from trialreport.study._errors import _models_in

        for name, field in model.model_fields.items():
            if f"`{name}`" not in doc:
                missing.append(f"{prefix}{name}")
            for sub in _models_in(field.annotation):
                if sub is not model:
                    walk(sub, f"{prefix}{name}.")

    walk(StudyDefinition, "")
    for name, otype in output_types().items():
        if f"`{name}`" not in doc:
            missing.append(f"output type {name}")
        walk(otype.options, f"outputs[type={name}].")
    assert missing == []


def test_the_schema_accepts_the_shipped_definition() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    raw = yaml.safe_load(STUDY_FILE.read_text(encoding="utf-8"))
    jsonschema.validate(json.loads(json.dumps(raw, default=str)), json_schema())


def test_committed_key_reference_is_current() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("write_study_docs",
                                                  ROOT / "tools" / "write_study_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (ROOT / "docs" / "study.md").read_text(encoding="utf-8")
    assert module.render_doc(text) == text, "run tools/write_study_docs.py"

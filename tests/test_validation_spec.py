"""Strict dataset specifications: every mistake names the file, the line and what to write.

The models forbid unknown keys and wrong types; YAML's own traps (a bare ``Yes`` read as true,
a duplicated key silently keeping the last, an unquoted comma in a flow mapping) are refused.
The committed JSON Schemas equal the ones generated from the models, and docs/data_spec.md
documents every key.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import ROOT, SPEC
from trialreport.cli import main
from trialreport.spec import SpecificationError, load_dataset_spec, load_specification
from trialreport.spec.describe import dataset_markdown
from trialreport.spec.jsonschema import schema_texts
from trialreport.spec.model import (
    CrossRule,
    DatasetSpec,
    JoinSpec,
    RowRule,
    RulesFile,
    VariableSpec,
    Windows,
)

GOOD = """\
dataset: DM
file: dm
label: Demographics
keys: [USUBJID]
variables:
  - {name: USUBJID, label: Subject, type: string, required: true}
  - {name: AGE, label: Age, type: integer, unit: years, required: true, range: [0, 120]}
  - {name: SEX, label: Sex, type: string, codelist: {F: Female, M: Male}}
rules:
  - {id: DM-01, description: Adults, check: "AGE >= 18", columns: [AGE]}
"""


def spec_file(tmp_path: Path, text: str, name: str = "dm.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(SpecificationError) as caught:
        load_dataset_spec(path)
    return str(caught.value)


def test_good_specification_loads(tmp_path) -> None:
    ds = load_dataset_spec(spec_file(tmp_path, GOOD))
    assert ds.name == "DM" and ds.names == ["USUBJID", "AGE", "SEX"]
    assert ds.variable("AGE").range == (0.0, 120.0) and ds.missing_values == ("",)
    assert ds.source == tmp_path / "dm.yml"


@pytest.mark.parametrize(("old", "new", "line", "expected"), [
    ("codelist: {F", "codelsit: {F", 8, "unknown key 'codelsit' (did you mean 'codelist'?)"),
    ("required: true, range", "requried: true, range", 7,
     "unknown key 'requried' (did you mean 'required'?)"),
    ("keys: [USUBJID]", "kyes: [USUBJID]", 4, "unknown key 'kyes' (did you mean 'keys'?)"),
    ("check: \"AGE", "chekc: \"AGE", 10, "unknown key 'chekc' (did you mean 'check'?)"),
    ("required: true, range", "required: maybe, range", 7,
     "variables[1] (AGE).required: must be true or false, not 'maybe'"),
    ("type: integer", "type: integr", 7,
     "'integr' is not one of string, integer, number, date (did you mean 'integer'?)"),
    ("range: [0, 120]", "range: [0, '120']", 7, "must be a number, not '120'"),
    ("range: [0, 120]", "range: [120, 0]", 7, "low 120 is above high 0"),
    ("label: Age, ", "", 7, "variables[1] (AGE): required key 'label' is missing"),
    ("{F: Female, M: Male}", "{F: Female, M: Male, Y: Yes}", 8,
     "decode True is YAML's true, not text; quote it"),
    ("{F: Female, M: Male}", "[F, M, F]", 8, "code 'F' is listed twice"),
    ("keys: [USUBJID]", "keys: [USUBJID, SUBJECT]", 4,
     "key SUBJECT is not a variable"),
    ("columns: [AGE]", "columns: [AGES]", 10, "AGES is not a variable (did you mean 'AGE'?)"),
    ("label: Sex, type: string,", "label: Sex, type: string, length: 0,", 8,
     "greater than or equal to 1"),
    ("label: Sex, type: string,", "label: Sex, type: string, format: 'DATE 9',", 8,
     "'DATE 9' is not allowed here"),
    ("label: Subject,", "label: Subject (a, b),", 6, "unknown key 'b)'"),
])
def test_mistakes_name_file_line_and_fix(tmp_path, old, new, line, expected) -> None:
    assert old in GOOD
    path = spec_file(tmp_path, GOOD.replace(old, new, 1))
    message = error_of(path)
    assert message.startswith(f"{path}: line {line}: "), message
    assert expected in message, message


def test_every_mistake_is_listed_at_once(tmp_path) -> None:
    text = GOOD.replace("codelist: {F", "codelsit: {F").replace("keys:", "kyes:")
    message = error_of(spec_file(tmp_path, text))
    assert "codelsit" in message and "kyes" in message and len(message.splitlines()) == 2


def test_duplicate_key_is_refused(tmp_path) -> None:
    text = GOOD.replace("label: Demographics\n", "label: Demographics\nlabel: Other\n")
    assert "line 4: duplicate key 'label' (first on line 3)" in error_of(
        spec_file(tmp_path, text))


def test_anchors_and_aliases_are_refused(tmp_path) -> None:
    text = GOOD.replace("label: Demographics", "label: &name Demographics\nstructure: *name")
    assert "anchors and aliases" in error_of(spec_file(tmp_path, text))


def test_not_yaml_and_not_utf8(tmp_path) -> None:
    message = error_of(spec_file(tmp_path, "dataset: DM\nlabel: [a, b\nkeys: [X]\n"))
    assert "line 3: not valid YAML" in message and "expected ',' or ']'" in message
    path = tmp_path / "dm.yml"
    path.write_bytes(GOOD.replace("Demographics", "D\xe9mographics").encode("latin-1"))
    assert "line 3: byte 0xE9 is not valid UTF-8" in error_of(path)


def _plain(markdown: str) -> str:
    import pypandoc

    return pypandoc.convert_text(markdown, "plain", format="markdown",
                                 extra_args=["--wrap=none"])


def test_missing_values_and_sas_metadata_are_modelled(tmp_path) -> None:
    text = GOOD.replace("keys: [USUBJID]", "keys: [USUBJID]\nmissing_values: [NA, '.']")
    text = text.replace("label: Sex, type: string,",
                        "label: Sex, type: string, length: 1, format: $CHAR1.,")
    ds = load_dataset_spec(spec_file(tmp_path, text))
    assert ds.missing_values == ("", "NA", ".")  # the empty field is always missing
    assert ds.variable("SEX").length == 1 and ds.variable("SEX").format == "$CHAR1."
    page = " ".join(_plain(dataset_markdown(ds)).split())  # what a reader sees
    page = page.replace("\u201c", '"').replace("\u201d", '"')  # typographic quotes
    assert 'Missing values: an empty field or "NA", ".".' in page
    assert "SAS" in page and "length 1; format $CHAR1." in page


def test_missing_value_spelling_must_be_text(tmp_path) -> None:
    text = GOOD.replace("keys: [USUBJID]", "keys: [USUBJID]\nmissing_values: [null]")
    assert "line 5: missing_values[0]: must be text, not None" in error_of(
        spec_file(tmp_path, text))


def test_rules_file_mistakes_are_located(tmp_path) -> None:
    folder = tmp_path / "spec"
    folder.mkdir()
    spec_file(folder, GOOD)
    (folder / "rules.yml").write_text(
        "rules:\n"
        "  - {id: X-01, description: In DM, type: foreign_key, dataset: DM,\n"
        "     columns: [USUBJID], refrence: DM}\n", encoding="utf-8")
    with pytest.raises(SpecificationError) as caught:
        load_specification(folder)
    assert "rules.yml: line 3: rules[0] (X-01): unknown key 'refrence' (did you mean " \
           "'reference'?)" in str(caught.value)


def test_cli_reports_a_misspelt_key_as_usage_error(tmp_path, data_copy, capsys) -> None:
    import shutil

    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    text = (spec / "adsl.yml").read_text(encoding="utf-8")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "{name: SEX," in t)
    (spec / "adsl.yml").write_text(text.replace(
        "{name: SEX, label: Sex, type: string, required: true, codelist:",
        "{name: SEX, label: Sex, type: string, required: true, codelsit:"), encoding="utf-8")
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"adsl.yml: line {line}: variables[" in err and "(SEX): unknown key 'codelsit'" \
        in err and "did you mean 'codelist'" in err


def test_committed_json_schemas_equal_the_generated_ones() -> None:
    for name, text in schema_texts().items():
        committed = (ROOT / "docs" / "schema" / name).read_text(encoding="utf-8")
        assert committed == text, f"docs/schema/{name} is stale: run python -m " \
                                  "trialreport.spec.jsonschema docs/schema"


def test_shipped_specification_conforms_to_the_json_schema() -> None:
    dataset = json.loads((ROOT / "docs/schema/data_spec.schema.json").read_text("utf-8"))
    rules = json.loads((ROOT / "docs/schema/rules.schema.json").read_text("utf-8"))
    for path in SPEC.glob("*.yml"):
        if path.name == "study.yml":
            continue
        data = json.loads(json.dumps(yaml.safe_load(path.read_text("utf-8"))))
        jsonschema.validate(data, rules if path.name == "rules.yml" else dataset)
    broken = json.loads(json.dumps(yaml.safe_load(GOOD.replace("codelist:", "codelsit:"))))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, dataset)


def test_docs_describe_every_key() -> None:
    doc = (ROOT / "docs" / "data_spec.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", doc, flags=re.MULTILINE))
    for model in (DatasetSpec, VariableSpec, RowRule, Windows, CrossRule, JoinSpec, RulesFile):
        for name, info in model.model_fields.items():
            assert (info.alias or name) in documented, f"{model.__name__}.{name} undocumented"

"""The rule language: evaluated by walking the syntax tree, never by Python's ``eval``.

Known escapes from an ``eval`` sandbox are refused with the construct named; a rule naming an
unknown column, a bad regular expression or an unknown rule type is a specification error that
names the file, the line and the rule (exit 2), never a traceback or a row-less data error.
"""

from __future__ import annotations

import ast
import builtins
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import SPEC
from trialreport.cli import main
from trialreport.spec import SpecificationError, load_specification
from trialreport.validation.expressions import RuleError, compile_rule, evaluate

TYPES = {"A": "integer", "B": "number", "D": "date", "E": "date", "S": "string"}


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "A": pd.array([1, None, 3], dtype="Int64"), "B": [1.5, 2.0, float("nan")],
        "D": pd.to_datetime(["2020-01-01", None, "2020-03-01"]),
        "E": pd.to_datetime(["2020-01-05", "2020-01-01", None]),
        "S": pd.Series(["Y", None, "N"], dtype=object)})


@pytest.mark.parametrize(("expression", "expected"), [
    ("A > 1", [False, False, True]),
    ("D.isna() | (D <= E)", [True, True, False]),
    ("(E - D).dt.days + 1 == 5", [True, False, False]),
    ("S.isin(['Y'])", [True, False, False]),
    ("A.between(0, 2)", [True, False, False]),
    ("D >= '2020-02-01'", [False, False, True]),
    ("S.str.match('^[YN]$')", [True, False, True]),
    ("S.str.startswith(('Y', 'N'))", [True, False, True]),
    ("S.str.len() == 1", [True, False, True]),
    ("not (A > 1) and B < 2", [True, False, False]),
    ("1 < A < 4", [False, False, True]),
    ("A.fillna(0) == 0", [False, True, False]),
    ("-A < -2", [False, False, True]),
    ("D.dt.year == 2020", [True, False, True]),
    ("A % 2 == 1", [True, False, True]),
    ("(A * 2 // 3 + 1) / 2 >= 1", [False, False, True]),
    ("B.abs() > 1.75", [False, True, False]),
    ("S.notna() & ~S.isin(['N'])", [True, False, False]),
])
def test_rule_language_evaluates(frame, expression, expected) -> None:
    assert evaluate(compile_rule(expression, TYPES), frame).tolist() == expected


@pytest.mark.parametrize(("expression", "refused"), [
    ("().__class__.__bases__[0].__subclasses__()", "underscores"),
    ("__import__('os')", "function calls are not allowed"),
    ("__import__('os').system('echo pwned')", "method .system() is not allowed"),
    ("lambda: 1", "lambda is not allowed"),
    ("[x for x in A]", "list comprehension is not allowed"),
    ("{x for x in A}", "set comprehension is not allowed"),
    ("f'{A}' == S", "f-string is not allowed"),
    ("getattr(A, 'x')", "function calls are not allowed"),
    ("A.isin.__globals__", "underscores"),
    ("A.between.__func__.__globals__", "underscores"),
    ("A.between.__func__.__globals__['__builtins__']", "not allowed"),
    ("10**10**10", "operator ** is not allowed"),
    ("(" * 300 + "A" + ")" * 300 + " > 1", "not a valid expression"),
    ("-" * 5000 + "A > 1", "not a valid expression"),
    ("A" + " + A" * 1000 + " > 1", "nested more than 100 levels"),
    ("A" + " + A" * 6000 + " > 1", "longer than 20,000 characters"),
    ("A[0] > 1", "subscript"),
    ("A.apply(print)", "method .apply() is not allowed"),
    ("S.str.cat('x') == S", "method .str.cat() is not allowed"),
    ("A.values", "attribute .values is not allowed"),
    ("(S := 1)", "assignment expression"),
    ("A if S else B", "conditional"),
    ("S == None", "isna"),
    ("1 in A", "isin"),
    ("b'x' == S", "bytes literal"),
])
def test_eval_escapes_are_refused(expression, refused, monkeypatch) -> None:
    real_compile = builtins.compile

    def no_eval(*args, **kwargs):
        raise AssertionError("eval/exec must not be used")

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse is allowed; making code is not
            raise AssertionError("compile to code must not be used")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", no_eval)
    monkeypatch.setattr(builtins, "exec", no_eval)
    monkeypatch.setattr(builtins, "compile", parse_only)
    with pytest.raises(RuleError) as caught:
        compile_rule(expression, TYPES)
    monkeypatch.undo()
    assert refused in str(caught.value)


def test_evaluation_runs_no_python_code(frame, monkeypatch) -> None:
    rule = compile_rule("D.isna() | (D <= E) & S.isin(['Y'])", TYPES)

    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec/compile must not be used")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    result = evaluate(rule, frame).tolist()
    monkeypatch.undo()
    assert result == [True, True, False]


@pytest.mark.parametrize(("expression", "reason"), [
    ("A & B", "& combines conditions"),
    ("D > 5", "cannot compare date with integer"),
    ("A.isin(['1'])", ".isin() of a integer column lists string"),
    ("S.str.match('[')", "not a valid regular expression"),
    ("D > '2020-02-30'", "not a valid date"),
    ("A + 1", "not a condition"),
    ("A.dt.days > 1", ".dt.days needs a duration"),
])
def test_type_mistakes_are_refused(expression, reason) -> None:
    with pytest.raises(RuleError) as caught:
        compile_rule(expression, TYPES)
    assert reason in str(caught.value)


def _spec_copy(tmp_path: Path) -> Path:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    return spec


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _line_of(path: Path, fragment: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if fragment in line)


def test_escape_in_a_specification_is_a_usage_error_naming_rule_file_and_line(
        tmp_path, data_copy, capsys) -> None:
    spec = _spec_copy(tmp_path)
    _replace(spec / "adsl.yml", 'check: "TRT01P == ARM"',
             'check: "().__class__.__bases__[0].__subclasses__()"')
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    line = _line_of(spec / "adsl.yml", "__subclasses__")
    assert f"adsl.yml: line {line}:" in err and "ADSL-09" in err
    assert "__class__" in err and "underscores" in err and "Traceback" not in err


def test_rule_with_unknown_column_is_a_specification_error(tmp_path, data_copy,
                                                          capsys) -> None:
    spec = _spec_copy(tmp_path)
    _replace(spec / "adae.yml", "(ASTDT <= AENDT)", "(ASTDT <= AEENDT)")
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    line = _line_of(spec / "adae.yml", "AEENDT")
    assert f"adae.yml: line {line}:" in err and "ADAE-01" in err
    assert "unknown column AEENDT" in err and "did you mean 'AENDT'" in err


def test_cross_rule_with_unknown_column_is_a_specification_error(tmp_path, data_copy,
                                                                capsys) -> None:
    spec = _spec_copy(tmp_path)
    _replace(spec / "rules.yml", 'check: "ADT >= RANDDT_ADSL"', 'check: "ADT >= RANDT_ADSL"')
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"rules.yml: line {_line_of(spec / 'rules.yml', 'RANDT_ADSL')}:" in err
    assert "X-07" in err and "unknown column RANDT_ADSL" in err


def test_bad_pattern_is_a_specification_error(tmp_path, data_copy, capsys) -> None:
    spec = _spec_copy(tmp_path)
    _replace(spec / "adsl.yml", r"pattern: '^\d{3}$'", r"pattern: '^\d{3}($'")
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"adsl.yml: line {_line_of(spec / 'adsl.yml', 'name: SUBJID')}:" in err
    assert "SUBJID" in err and "not a valid regular expression" in err
    assert "Traceback" not in err


def test_unknown_rule_type_is_a_specification_error(tmp_path, data_copy, capsys) -> None:
    spec = _spec_copy(tmp_path)
    _replace(spec / "rules.yml", "type: foreign_key, dataset: ADEX",
             "type: foreign_kee, dataset: ADEX")
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert f"rules.yml: line {_line_of(spec / 'rules.yml', 'foreign_kee')}:" in err
    assert "X-03" in err and "'foreign_kee'" in err and "did you mean 'foreign_key'" in err


def test_rule_keys_must_fit_the_rule_type(tmp_path) -> None:
    spec = _spec_copy(tmp_path)
    _replace(spec / "rules.yml", "columns: [USUBJID], reference: ADSL}",
             "columns: [USUBJID], reference: ADSL, check: 'USUBJID.notna()'}")
    with pytest.raises(SpecificationError, match="'check' does not apply to a foreign_key"):
        load_specification(spec)


def test_shipped_specification_rules_all_compile() -> None:
    spec = load_specification(SPEC)
    for ds in spec.datasets.values():
        for rule in ds.rules:
            assert compile_rule(rule.check, ds.types).type == "bool"


@pytest.mark.parametrize("expression", [
    "S == 'Y'", "S != 'Y'", "'N' == S", "S.isin(['Y', 'Q'])", "S == 'absent'",
    "S != 'absent'", "~S.isin(['N']) & (S != 'Y')", "S.isin([])"])
def test_text_codes_give_the_same_result(expression) -> None:
    import numpy as np

    texts = np.array(["N", "Y", "  "], dtype=object)
    codes = np.array([1, 0, -1, 1, 2, 0, -1])
    frame = pd.DataFrame({"S": pd.Series(np.append(texts, None)[codes], dtype=object)})
    rule = compile_rule(expression, {"S": "string"})
    plain = evaluate(rule, frame).tolist()
    assert evaluate(rule, frame, {"S": (codes, texts)}).tolist() == plain

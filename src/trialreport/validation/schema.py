"""Check one dataset against its specification with pandera, in two passes.

Pass 1 checks the columns and that each value has its declared type (integer, number, ISO 8601
date); pass 2 checks the typed values: required, codelist, range, pattern, unique keys, visit
windows and the dataset's row rules. pandera's lazy validation collects every failure in one
pass; this module only turns its failure cases into :class:`Violation` records that name the
file, the row as a person sees it, the subject, the variable and the offending value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from trialreport.io.readers import row_number
from trialreport.spec.model import DatasetSpec, VariableSpec
from trialreport.validation.expressions import evaluate
from trialreport.validation.violations import Violation

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
PANDERA_DTYPES = {"integer": "Int64", "number": "Float64", "date": "datetime64[ns]"}
SEP = "\x1f"  # separates rule id and message inside a pandera check's error text
TYPE_MESSAGES = {"integer": "is not an integer", "number": "is not a number",
                 "date": "is not a date in ISO 8601 form YYYY-MM-DD", "string": "is not text"}


def _err(rule: str, message: str) -> str:
    return f"{rule}{SEP}{message}"


def _type_column(var: VariableSpec) -> pa.Column:
    if var.type == "string":
        return pa.Column(object, nullable=True, required=True)
    checks = []
    if var.type == "date":
        checks.append(pa.Check.str_matches(ISO_DATE, error=_err(
            "type", "is not a date in ISO 8601 form YYYY-MM-DD")))
        return pa.Column(object, checks=checks, nullable=True, required=True)
    return pa.Column(PANDERA_DTYPES[var.type], coerce=True, nullable=True, required=True)


def type_schema(spec: DatasetSpec) -> pa.DataFrameSchema:
    """Pass 1: the declared columns and value types (unknown columns are reported)."""
    return pa.DataFrameSchema({v.name: _type_column(v) for v in spec.variables}, strict=True,
                              name=spec.name)


def coerce(frame: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """Typed copy of a text frame; values that failed pass 1 become missing."""
    typed = pd.DataFrame(index=frame.index)
    for var in spec.variables:
        if var.name not in frame:
            continue
        col = frame[var.name]
        if var.type == "integer":
            num = pd.to_numeric(col, errors="coerce")
            whole = num.where(num.isna() | (num == num.round()))
            typed[var.name] = whole.astype("Int64")
        elif var.type == "number":
            typed[var.name] = pd.to_numeric(col, errors="coerce").astype("float64")
        elif var.type == "date":
            typed[var.name] = pd.to_datetime(col, format="%Y-%m-%d", errors="coerce")
        else:
            typed[var.name] = col.astype(object).where(col.notna(), None)
    return typed


def _content_column(var: VariableSpec) -> pa.Column:
    checks = []
    if var.codelist is not None:
        shown = ", ".join(map(str, var.codes[:12])) + (" ..." if len(var.codes) > 12 else "")
        checks.append(pa.Check.isin(var.codes, error=_err(
            "codelist", f"is not in the codelist ({shown})")))
    if var.range is not None:
        lo, hi = var.range
        unit = f" {var.unit}" if var.unit else ""
        checks.append(pa.Check.in_range(lo, hi, error=_err(
            "range", f"is outside the range {lo:g}-{hi:g}{unit}")))
    if var.pattern is not None:
        checks.append(pa.Check.str_matches(var.pattern, error=_err(
            "pattern", f"does not match the pattern {var.pattern}")))
    dtype = {"integer": "Int64", "number": "float64", "date": "datetime64[ns]"}.get(
        var.type, object)
    return pa.Column(dtype, checks=checks, nullable=not var.required, required=False)


def _row_rule_check(rule_id: str, expression: str, message: str) -> pa.Check:
    return pa.Check(lambda df: evaluate(expression, df), error=_err(rule_id, message))


def _window_check(spec: DatasetSpec) -> pa.Check:
    w = spec.windows
    assert w is not None

    def inside(df: pd.DataFrame) -> pd.Series:
        lo = df[w.by].map(lambda k: w.limits.get(int(k), (None, None))[0] if pd.notna(k)
                          else None)
        hi = df[w.by].map(lambda k: w.limits.get(int(k), (None, None))[1] if pd.notna(k)
                          else None)
        day = df[w.column].astype("float64")
        ok = (day >= lo.astype("float64")) & (day <= hi.astype("float64"))
        return ok | day.isna()

    spans = ", ".join(f"{k}: {a} to {b}" for k, (a, b) in w.limits.items())
    return pa.Check(inside, error=_err(
        "window", f"{w.column} lies outside the window for its {w.by} ({spans})"))


def content_schema(spec: DatasetSpec) -> pa.DataFrameSchema:
    """Pass 2: required values, codelists, ranges, patterns, keys, windows, row rules."""
    checks = [_row_rule_check(r.id, r.check, r.description) for r in spec.rules]
    if spec.windows is not None:
        checks.append(_window_check(spec))
    return pa.DataFrameSchema(
        {v.name: _content_column(v) for v in spec.variables}, checks=checks,
        unique=list(spec.keys) or None, name=spec.name)


def _split(check: str) -> tuple[str, str]:
    if SEP in str(check):
        rule, message = str(check).split(SEP, 1)
        return rule, message
    return str(check), str(check)


def _message_for(check: str, column: str | None, failure: object) -> tuple[str, str, str]:
    """(rule, message, severity) for one pandera failure case."""
    text = str(check)
    if text == "column_in_schema":
        return "extra-column", f"column {failure} is not in the specification (ignored)", \
            "warning"
    if text == "column_in_dataframe":
        return "missing-column", f"required column {failure} is missing", "error"
    if text.startswith("coerce_dtype") or text.startswith("dtype("):
        return "type", "is not of the declared type", "error"
    if text == "not_nullable":
        return "required", "is required but missing", "error"
    if "uniqueness" in text or text.startswith("unique"):
        return "unique-key", "duplicate key", "error"
    rule, message = _split(text)
    return rule, message, "error"


def failures_to_violations(cases: pd.DataFrame, spec: DatasetSpec, path: Path,
                           text: pd.DataFrame, typed_rules: dict[str, tuple[str, ...]]
                           ) -> list[Violation]:
    """Turn pandera failure cases into violations naming file, row, subject and variable."""
    out: list[Violation] = []
    seen: set[tuple] = set()
    subjects = text["USUBJID"] if "USUBJID" in text else None
    for case in cases.itertuples(index=False):
        rule, message, severity = _message_for(case.check, case.column, case.failure_case)
        index = case.index if case.index is not None and not pd.isna(case.index) else None
        row = row_number(path, int(index)) if index is not None else (
            1 if rule in {"missing-column", "extra-column"} else None)
        subject = None
        if subjects is not None and index is not None and int(index) in subjects.index:
            subject = subjects.loc[int(index)]
        if rule in {"missing-column", "extra-column"}:
            variables: tuple[str | None, ...] = (str(case.failure_case),)
        elif case.schema_context == "DataFrameSchema" and rule in typed_rules:
            # a row rule: pandera reports every column of the failing record; name the rule's
            variables = typed_rules[rule] or (None,)
        elif case.column is not None and not pd.isna(case.column):
            variables = (str(case.column),)
        else:
            variables = typed_rules.get(rule) or (None,)
        for variable in variables:
            value = None
            if index is not None and variable is not None and variable in text:
                raw = text.at[int(index), variable]
                value = None if raw is None else str(raw)
            if rule == "type" and variable in spec.names:
                message = TYPE_MESSAGES[spec.variable(variable).type]
            if rule == "unique-key":
                keys = ", ".join(f"{k}={text.at[int(index), k]}" for k in spec.keys
                                 if k in text)
                message = f"duplicate key ({keys})"
                variable = spec.keys[0] if spec.keys else None
                value = str(text.at[int(index), variable]) if variable in text else None
            key = (row, variable, rule)
            if key in seen:
                continue
            seen.add(key)
            out.append(Violation(dataset=spec.name, file=str(path), rule=rule, message=message,
                                 row=row, subject=subject, variable=variable, value=value,
                                 severity=severity))
    return out


def check_dataset(text: pd.DataFrame, spec: DatasetSpec, path: Path
                  ) -> tuple[pd.DataFrame, list[Violation]]:
    """Validate one dataset read as text; returns the typed frame and every violation."""
    violations: list[Violation] = []
    rule_columns = {r.id: r.columns for r in spec.rules}
    if spec.windows is not None:
        rule_columns["window"] = (spec.windows.column,)
    try:
        type_schema(spec).validate(text, lazy=True)
    except pa.errors.SchemaErrors as exc:
        violations += failures_to_violations(exc.failure_cases, spec, path, text, rule_columns)
    typed = coerce(text, spec)
    missing = [v.name for v in spec.variables if v.name not in typed]
    bad_cells = {(v.row, v.variable) for v in violations if v.rule == "type"}
    if not missing:
        try:
            content_schema(spec).validate(typed, lazy=True)
        except pa.errors.SchemaErrors as exc:
            found = failures_to_violations(exc.failure_cases, spec, path, text, rule_columns)
            violations += [v for v in found if (v.row, v.variable) not in bad_cells]
    return typed, violations

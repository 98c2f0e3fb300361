"""Checks of a specification that span several entries: names that must exist, rule
expressions that must compile against the columns' types, codes of the variable's type, the keys
each kind of cross rule takes. Every problem is recorded on the file's :class:`YamlSource` with
its line."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from trialreport.spec.yamlsource import Location, YamlSource, nearest

if TYPE_CHECKING:
    from trialreport.spec.model import CrossRule, DatasetSpec, RulesFile, VariableSpec

# Keys each kind of cross rule takes besides id, description, type and dataset.
CROSS_RULE_KEYS = {"foreign_key": ({"columns", "reference"}, {"optional", "where"}),
                   "expression": ({"check"}, {"join", "where", "columns"}),
                   "count": ({"column", "count_of"}, set())}


def _compile(source: YamlSource, location: Location, rule_id: str, expression: str,
             columns: dict[str, str]) -> None:
    from trialreport.validation.expressions import RuleError, compile_rule  # no import cycle

    try:
        compile_rule(expression, columns)
    except RuleError as exc:
        hint = ""
        unknown = re.match(r"unknown column (\w+)", str(exc))
        if unknown:
            hint = nearest(unknown.group(1), columns)
        source.add(location, f"rule {rule_id}: {exc}{hint}")


def _check_codes(var: VariableSpec) -> str | None:
    if var.codelist is None:
        return None
    if var.type == "date":
        return "a date variable takes no codelist"
    for code in var.codelist:
        if var.type == "integer" and not re.fullmatch(r"[+-]?\d+", code):
            return f"codelist code {code!r} is not an integer"
        if var.type == "number":
            try:
                float(code)
            except ValueError:
                return f"codelist code {code!r} is not a number"
    return None


def check_dataset_spec(ds: DatasetSpec, source: YamlSource) -> None:
    names: dict[str, int] = {}
    for i, var in enumerate(ds.variables):
        at = ("variables", i)
        if var.name in names:
            source.add((*at, "name"), f"variable {var.name} is listed twice (first as "
                                      f"variables[{names[var.name]}])")
        names.setdefault(var.name, i)
        problem = _check_codes(var)
        if problem:
            source.add((*at, "codelist"), problem)
        if var.range is not None:
            if var.type not in ("integer", "number"):
                source.add((*at, "range"), f"a {var.type} variable takes no range")
            elif var.range[0] > var.range[1]:
                source.add((*at, "range"), f"low {var.range[0]:g} is above high "
                                           f"{var.range[1]:g}")
        if var.pattern is not None and var.type != "string":
            source.add((*at, "pattern"), f"a {var.type} variable takes no pattern")
    for i, key in enumerate(ds.keys):
        if key not in names:
            source.add(("keys", i), f"key {key} is not a variable{nearest(key, names)}")
    if ds.windows is not None:
        for key in ("column", "by"):
            name = getattr(ds.windows, key)
            if name not in names:
                source.add(("windows", key), f"{name} is not a variable{nearest(name, names)}")
            elif ds.variable(name).type not in ("integer", "number"):
                source.add(("windows", key), f"{name} is {ds.variable(name).type}, not a number")
    ids: dict[str, int] = {}
    for i, rule in enumerate(ds.rules):
        at = ("rules", i)
        if rule.id in ids:
            source.add((*at, "id"), f"rule id {rule.id} is used twice")
        ids.setdefault(rule.id, i)
        for j, column in enumerate(rule.columns):
            if column not in names:
                source.add((*at, "columns", j), f"rule {rule.id}: {column} is not a variable"
                                                f"{nearest(column, names)}")
        _compile(source, (*at, "check"), rule.id, rule.check, ds.types)


def check_rules_file(rules: RulesFile, datasets: dict[str, DatasetSpec],
                       source: YamlSource, row_rule_ids: set[str]) -> None:
    ids: set[str] = set()
    for i, rule in enumerate(rules.rules):
        at = ("rules", i)
        if rule.id in ids or rule.id in row_rule_ids:
            source.add((*at, "id"), f"rule id {rule.id} is used twice")
        ids.add(rule.id)
        needed, optional = CROSS_RULE_KEYS[rule.type]
        given = rule.model_fields_set - {"id", "description", "type", "dataset"}
        for key in sorted(needed - given):
            source.add(at, f"rule {rule.id}: a {rule.type} rule needs {key!r}")
        for key in sorted(given - needed - optional):
            source.add((*at, key), f"rule {rule.id}: {key!r} does not apply to a {rule.type} "
                                   "rule")
        named = {"dataset": rule.dataset, "reference": rule.reference,
                 "count_of": rule.count_of, "join": rule.join.dataset if rule.join else None}
        missing = False
        for key, name in named.items():
            if name is not None and name not in datasets:
                where = (*at, key, "dataset") if key == "join" and isinstance(
                    source.data["rules"][i].get("join"), dict) else (*at, key)
                source.add(where, f"rule {rule.id}: no dataset {name} in the specification"
                                  f"{nearest(name, datasets)}")
                missing = True
        if missing:
            continue
        left = datasets[rule.dataset]
        _check_cross_columns(rule, at, left, datasets, source)


def _check_cross_columns(rule: CrossRule, at: Location, left: DatasetSpec,
                         datasets: dict[str, DatasetSpec], source: YamlSource) -> None:
    def need(column: str, ds: DatasetSpec, where: Location) -> None:
        if column not in ds.names:
            source.add(where, f"rule {rule.id}: {ds.name} has no column {column}"
                              f"{nearest(column, ds.names)}")

    for j, column in enumerate(rule.columns):
        need(column, left, (*at, "columns", j))
        if rule.type == "foreign_key" and rule.reference is not None:
            need(column, datasets[rule.reference], (*at, "columns", j))
    if rule.where is not None:
        _compile(source, (*at, "where"), rule.id, rule.where, left.types)
    if rule.type == "count" and rule.column is not None and rule.count_of is not None:
        need(rule.column, left, (*at, "column"))
        if rule.column in left.names and left.variable(rule.column).type not in (
                "integer", "number"):
            source.add((*at, "column"), f"rule {rule.id}: {rule.column} is not a number")
        need("USUBJID", left, (*at, "dataset"))
        need("USUBJID", datasets[rule.count_of], (*at, "count_of"))
    if rule.type != "expression" or rule.check is None:
        return
    columns = dict(left.types)
    if rule.join is not None:
        right = datasets[rule.join.dataset]
        join_at = (*at, "join")
        for key in rule.join.on:
            need(key, left, join_at)
            need(key, right, join_at)
        if rule.join.where is not None:
            _compile(source, (*join_at, "where"), rule.id, rule.join.where, right.types)
        columns.update({f"{c}{rule.join.suffix}": t for c, t in right.types.items()
                        if c not in rule.join.on})
    _compile(source, (*at, "check"), rule.id, rule.check, columns)

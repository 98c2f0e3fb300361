"""Typed, strict model of the data specification, loaded from one YAML file per dataset.

Each ``data_spec/<dataset>.yml`` names the dataset, its file stem, keys, the spellings that mean
"missing", every variable (name, label, type, unit, required, codelist or range, pattern,
identifying, SAS length and format) and row rules; ``rules.yml`` holds the cross-dataset rules.
``study.yml`` (the study definition) lives beside them but is not part of the data
specification. ``docs/data_spec.md`` documents every key.

The models are pydantic models that forbid unknown keys: a misspelt key, a value of the wrong
type, a rule outside the rule language or naming an unknown column, a bad regular expression or
an unknown rule type is a :class:`SpecificationError` naming the file, the line, the entry and,
for a misspelling, the nearest valid key.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from trialreport.spec.yamlsource import Location, SpecificationError, YamlSource, nearest

__all__ = ["VARIABLE_TYPES", "CrossRule", "DatasetSpec", "JoinSpec", "RowRule", "RulesFile",
           "Specification", "SpecificationError", "VariableSpec", "Windows",
           "load_dataset_spec", "load_specification"]

VARIABLE_TYPES = ("string", "integer", "number", "date")
CROSS_RULE_TYPES = ("foreign_key", "expression", "count")
NOT_DATASET_FILES = {"rules.yml", "study.yml"}
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]*$"
# SAS format: optional $, a name not ending in a digit, a width, a period, decimals (8.2, DATE9.)
SAS_FORMAT_PATTERN = r"^\$?([A-Za-z_]([A-Za-z0-9_]*[A-Za-z_])?)?\d*\.\d*$"
FILE_STEM_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

Name = Annotated[StrictStr, StringConstraints(pattern=NAME_PATTERN)]
CODE = {"type": ["string", "number"]}
CODELIST_SCHEMA = {"anyOf": [
    {"type": "array", "items": CODE, "minItems": 1},
    {"type": "object", "additionalProperties": CODE, "minProperties": 1},
    {"type": "null"}]}


def _join_by_name(schema: dict[str, Any]) -> None:
    """In the JSON Schema, ``join:`` may also be just a dataset name."""
    schema["anyOf"] = [{"type": "string", "pattern": NAME_PATTERN}, *schema.get("anyOf", [])]
Text = Annotated[StrictStr, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VariableSpec(_Strict):
    """One variable (column) of a dataset."""

    name: Name = Field(description="Column name as in the file header (letters, digits, _).")
    label: StrictStr = Field(description="Label a person reads (appendix, define.xml).")
    type: Literal["string", "integer", "number", "date"] = Field(
        description="Value type: text, whole number, decimal number or ISO 8601 date.")
    required: StrictBool = Field(False, description="A value must be present in every record.")
    unit: StrictStr | None = Field(None, description="Unit of measurement, for people.")
    codelist: Annotated[dict[str, str] | None, WithJsonSchema(CODELIST_SCHEMA)] = Field(
        None, description="Allowed codes: a list, or a mapping code: decode.")
    range: tuple[StrictFloat, StrictFloat] | None = Field(
        None, description="Inclusive [low, high] for integer and number variables.")
    pattern: StrictStr | None = Field(
        None, description="Regular expression every text value must match (re.match).")
    identifying: StrictBool = Field(
        False, description="Identifies a person; the supplement removes or replaces it.")
    length: Annotated[StrictInt, Field(ge=1, le=32767)] | None = Field(
        None, description="SAS length in bytes (compared with a SAS transport file).")
    format: Annotated[StrictStr, StringConstraints(pattern=SAS_FORMAT_PATTERN)] | None = Field(
        None, description="SAS display format, e.g. DATE9., 8.2, $CHAR200.")

    @field_validator("codelist", mode="before")
    @classmethod
    def _codelist(cls, raw: Any) -> Any:
        if raw is None:
            return None
        if isinstance(raw, list):
            items = [(code, code) for code in raw]
        elif isinstance(raw, dict):
            items = list(raw.items())
        else:
            raise ValueError("must be a list of codes or a mapping code: decode")
        if not items:
            raise ValueError("is empty (leave it out if any value is allowed)")
        out: dict[str, str] = {}
        for code, decode in items:
            for what, value in (("code", code), ("decode", decode)):
                if isinstance(value, bool) or value is None:
                    raise ValueError(f"{what} {value!r} is YAML's {str(value).lower()}, not "
                                     "text; quote it (e.g. 'Y', 'yes', 'NA')")
                if not isinstance(value, str | int | float):
                    raise ValueError(f"{what} {value!r} must be text or a number")
            key = str(code)
            if key in out:
                raise ValueError(f"code {key!r} is listed twice")
            out[key] = str(decode)
        return out

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"'{pattern}' is not a valid regular expression ({exc})") \
                    from None
        return pattern

    @property
    def codes(self) -> list[Any]:
        """Allowed codes, typed like the variable (integers for integer variables)."""
        if self.codelist is None:
            return []
        if self.type == "integer":
            return [int(c) for c in self.codelist]
        if self.type == "number":
            return [float(c) for c in self.codelist]
        return list(self.codelist)


class RowRule(_Strict):
    """A rule every record of one dataset must satisfy (an expression of the rule language)."""

    id: Text = Field(description="Rule identifier shown with every violation.")
    description: Text = Field(description="What the rule requires, in words.")
    check: Text = Field(description="Condition every record must satisfy (rule language).")
    columns: tuple[Name, ...] = Field(
        (), description="Columns a violation is reported on (default: none named).")


class Windows(_Strict):
    """Visit windows: ``column`` (a study day) must lie in ``limits[value of by]``."""

    column: Name = Field(description="The study-day column checked.")
    by: Name = Field(description="The visit column whose value selects the window.")
    limits: dict[StrictInt, tuple[StrictInt, StrictInt]] = Field(
        description="Visit value -> [first day, last day], inclusive.")


class DatasetSpec(_Strict):
    """One dataset: its file stem, keys, variables, missing-value spellings and row rules."""

    name: Name = Field(alias="dataset", description="Dataset name (upper case), e.g. ADSL.")
    file: Annotated[StrictStr, StringConstraints(pattern=FILE_STEM_PATTERN)] | None = Field(
        None, description="File stem in the data folder (default: this YAML file's stem).")
    order: StrictInt = Field(99, description="Position in reports and the appendix.")
    label: StrictStr = Field("", description="Dataset label.")
    structure: StrictStr = Field("", description="What one record is.")
    keys: tuple[Name, ...] = Field((), description="Variables that identify a record uniquely.")
    missing_values: tuple[StrictStr, ...] = Field(
        ("",), description="Spellings that mean 'missing' in this dataset's files; the empty "
                           "field is always missing. Anything else is a value.")
    variables: tuple[VariableSpec, ...] = Field(min_length=1, description="Every column.")
    rules: tuple[RowRule, ...] = Field((), description="Rules every record must satisfy.")
    windows: Windows | None = Field(None, description="Visit windows of a study-day column.")
    _source: Path | None = PrivateAttr(None)

    @field_validator("name")
    @classmethod
    def _upper(cls, name: str) -> str:
        return name.upper()

    @field_validator("rules", mode="before")
    @classmethod
    def _no_rules(cls, raw: Any) -> Any:
        return () if raw is None else raw

    @field_validator("missing_values")
    @classmethod
    def _always_empty(cls, spellings: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(("", *spellings)))

    @property
    def source(self) -> Path | None:
        """The YAML file this specification was read from."""
        return self._source

    def variable(self, name: str) -> VariableSpec:
        """The variable called ``name``."""
        for var in self.variables:
            if var.name == name:
                return var
        raise KeyError(f"{self.name} has no variable {name}")

    @property
    def names(self) -> list[str]:
        """Variable names in specification order."""
        return [v.name for v in self.variables]

    @property
    def types(self) -> dict[str, str]:
        """Variable name -> type."""
        return {v.name: v.type for v in self.variables}


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class JoinSpec(_Strict):
    """The other side of a cross-dataset rule: its records are joined on ``on``."""

    dataset: Name = Field(description="Dataset joined (its columns get the suffix).")
    on: tuple[Name, ...] = Field(("USUBJID",), alias="by", min_length=1,
                                 description="Join keys (default USUBJID).")
    where: Text | None = Field(None, description="Only the joined records where this holds.")
    suffix: Text = Field(description="Appended to the joined columns (default _<DATASET>).")

    @field_validator("dataset")
    @classmethod
    def _upper_dataset(cls, name: str) -> str:
        return name.upper()


class CrossRule(_Strict):
    """A rule linking records of two datasets (``type``: foreign_key, expression or count)."""

    id: Text = Field(description="Rule identifier shown with every violation.")
    description: Text = Field(description="What the rule requires, in words.")
    type: Literal["foreign_key", "expression", "count"] = Field(description="Kind of rule.")
    dataset: Name = Field(description="Dataset whose records are checked.")
    columns: tuple[Name, ...] = Field(
        (), description="foreign_key: the key columns; expression: columns reported.")
    reference: Name | None = Field(None, description="foreign_key: dataset holding the keys.")
    optional: StrictBool = Field(False, description="foreign_key: a missing key is allowed.")
    where: Text | None = Field(None, description="Only the records where this holds.")
    join: JoinSpec | None = Field(
        None, description="expression: the dataset joined (a name, or dataset/by/where/suffix).",
        json_schema_extra=_join_by_name)
    check: Text | None = Field(None, description="expression: condition every record meets.")
    column: Name | None = Field(None, description="count: the column holding the count.")
    count_of: Name | None = Field(None, description="count: dataset whose records are counted.")

    @field_validator("dataset", "reference", "count_of")
    @classmethod
    def _upper_names(cls, name: str | None) -> str | None:
        return _upper(name)

    @field_validator("join", mode="before")
    @classmethod
    def _join(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            raw = {"dataset": raw}
        if isinstance(raw, dict) and "suffix" not in raw and isinstance(raw.get("dataset"), str):
            raw = {**raw, "suffix": f"_{raw['dataset'].upper()}"}
        return raw


class RulesFile(_Strict):
    """``rules.yml``: the cross-dataset rules."""

    rules: tuple[CrossRule, ...] = Field((), description="Cross-dataset rules.")

    @field_validator("rules", mode="before")
    @classmethod
    def _no_rules(cls, raw: Any) -> Any:
        return () if raw is None else raw


# Keys each kind of cross rule takes besides id, description, type and dataset.
CROSS_RULE_KEYS = {"foreign_key": ({"columns", "reference"}, {"optional", "where"}),
                   "expression": ({"check"}, {"join", "where", "columns"}),
                   "count": ({"column", "count_of"}, set())}


@dataclass(frozen=True)
class Specification:
    """Every dataset specification plus the cross-dataset rules."""

    datasets: dict[str, DatasetSpec]
    cross_rules: tuple[CrossRule, ...] = field(default_factory=tuple)
    folder: Path | None = None

    def dataset(self, name: str) -> DatasetSpec:
        """The dataset called ``name`` (case-insensitive)."""
        return self.datasets[name.upper()]

    @property
    def identifying_columns(self) -> dict[str, list[str]]:
        """Columns marked ``identifying: true``, by dataset."""
        return {name: [v.name for v in ds.variables if v.identifying]
                for name, ds in self.datasets.items()
                if any(v.identifying for v in ds.variables)}


# -- pydantic errors as messages a person can act on ------------------------------------------


def _candidates(annotation: Any) -> list[Any]:
    """The member types of ``X | None`` / ``Annotated[X, ...]``, else ``[annotation]``."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _candidates(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [c for a in typing.get_args(annotation) for c in _candidates(a)
                if c is not type(None)]
    return [annotation]


def _model_at(model: type[BaseModel], location: Location) -> type[BaseModel] | None:
    """The model class whose mapping sits at ``location`` inside ``model``'s data."""
    current: Any = model
    for step in location:
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or n: f for n, f in current.model_fields.items()}
            if step not in fields:
                return None
            current = fields[step].annotation
            continue
        container = next((c for c in _candidates(current)
                          if typing.get_origin(c) in (tuple, list, dict)), None)
        if container is None:
            return None
        args = typing.get_args(container)
        current = args[-1] if typing.get_origin(container) is dict else args[0]
    models = [c for c in _candidates(current) if isinstance(c, type)
              and issubclass(c, BaseModel)]
    return models[0] if models else None


def _keys(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


def _message(error: dict[str, Any], root: type[BaseModel]) -> tuple[Location, str, Location]:
    """(location of the line, message, entry named) for one pydantic error."""
    loc = tuple(step for step in error["loc"] if step != "[key]")
    kind, given = error["type"], error.get("input")
    shown = repr(given) if not isinstance(given, dict | list) else type(given).__name__
    if kind == "extra_forbidden":
        valid = _keys(_model_at(root, loc[:-1]))
        hint = nearest(loc[-1], valid) or (f" (valid keys: {', '.join(valid)})" if valid else "")
        return loc, f"unknown key {loc[-1]!r}{hint}", loc[:-1]
    if kind == "missing":
        return loc[:-1], f"required key {loc[-1]!r} is missing", loc[:-1]
    if kind == "literal_error":
        expected = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        return loc, (f"{shown} is not one of {', '.join(expected)}"
                     f"{nearest(given, expected)}"), loc
    messages = {
        "bool_type": f"must be true or false, not {shown}",
        "string_type": f"must be text, not {shown}",
        "int_type": f"must be a whole number, not {shown}",
        "float_type": f"must be a number, not {shown}",
        "tuple_type": f"must be a list, not {shown}",
        "list_type": f"must be a list, not {shown}",
        "dict_type": f"must be a mapping (key: value), not {shown}",
        "model_type": f"must be a mapping (key: value), not {shown}",
        "model_attributes_type": f"must be a mapping (key: value), not {shown}",
        "string_pattern_mismatch": f"{shown} is not allowed here (expected the form "
                                   f"{error.get('ctx', {}).get('pattern', '')})",
        "string_too_short": "must not be empty",
    }
    if kind in messages:
        return loc, messages[kind], loc
    text = str(error.get("msg", kind))
    return loc, text.removeprefix("Value error, "), loc


def _validate(model: type[BaseModel], source: YamlSource) -> Any:
    """``model`` built from the source's data, or every problem recorded on ``source``."""
    try:
        return model.model_validate(source.data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            at, message, entry = _message(error, model)
            source.add(at, message, entry)
        source.raise_problems()
    raise AssertionError("unreachable")  # pragma: no cover


# -- checks that span several entries ----------------------------------------------------------


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


def _check_dataset(ds: DatasetSpec, source: YamlSource) -> None:
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


def _check_cross_rules(rules: RulesFile, datasets: dict[str, DatasetSpec],
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


# -- loading ------------------------------------------------------------------------------------


def load_dataset_spec(path: Path) -> DatasetSpec:
    """Load one ``<dataset>.yml`` file; any problem is a :class:`SpecificationError`."""
    path = Path(path)
    source = YamlSource.read(path)
    if not isinstance(source.data, dict):
        raise SpecificationError(f"{path}: expected a mapping (dataset: ..., variables: ...) at "
                                 "the top level")
    spec: DatasetSpec = _validate(DatasetSpec, source)
    if spec.file is None:
        spec = spec.model_copy(update={"file": path.stem})
    _check_dataset(spec, source)
    source.raise_problems()
    spec._source = path
    return spec


def load_specification(folder: Path) -> Specification:
    """Load every dataset specification and ``rules.yml`` from ``folder``.

    Raises :class:`SpecificationError` naming file, line and entry of every problem found.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise SpecificationError(f"specification folder not found: {folder}")
    datasets: dict[str, DatasetSpec] = {}
    problems: list[str] = []
    for path in sorted(folder.glob("*.yml")):
        if path.name in NOT_DATASET_FILES:
            continue
        try:
            spec = load_dataset_spec(path)
        except SpecificationError as exc:
            problems.append(str(exc))
            continue
        if spec.name in datasets:
            problems.append(f"{path}: dataset {spec.name} is also specified in "
                            f"{datasets[spec.name].source}")
            continue
        datasets[spec.name] = spec
    if problems:
        raise SpecificationError("\n".join(problems))
    if not datasets:
        raise SpecificationError(f"{folder}: no dataset specification (<dataset>.yml) found")
    datasets = dict(sorted(datasets.items(), key=lambda kv: (kv[1].order, kv[0])))
    cross: tuple[CrossRule, ...] = ()
    rules_path = folder / "rules.yml"
    if rules_path.exists():
        source = YamlSource.read(rules_path)
        if not isinstance(source.data, dict):
            raise SpecificationError(f"{rules_path}: expected a mapping (rules: [...]) at the "
                                     "top level")
        rules: RulesFile = _validate(RulesFile, source)
        row_ids = {r.id for ds in datasets.values() for r in ds.rules}
        _check_cross_rules(rules, datasets, source, row_ids)
        source.raise_problems()
        cross = rules.rules
    return Specification(datasets=datasets, cross_rules=cross, folder=folder)


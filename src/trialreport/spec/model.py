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
    WithJsonSchema,
    field_validator,
)

from trialreport.spec._consistency import check_dataset_spec, check_rules_file
from trialreport.spec._messages import validate_located
from trialreport.spec.yamlsource import SpecificationError, YamlSource

__all__ = ["VARIABLE_TYPES", "CrossRule", "DatasetSpec", "JoinSpec", "RowRule", "RulesFile",
           "Specification", "SpecificationError", "VariableSpec", "Windows",
           "load_dataset_spec", "load_specification"]

VARIABLE_TYPES = ("string", "integer", "number", "date")
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


# -- loading ------------------------------------------------------------------------------------


def load_dataset_spec(path: Path) -> DatasetSpec:
    """Load one ``<dataset>.yml`` file; any problem is a :class:`SpecificationError`."""
    path = Path(path)
    source = YamlSource.read(path)
    if not isinstance(source.data, dict):
        raise SpecificationError(f"{path}: expected a mapping (dataset: ..., variables: ...) at "
                                 "the top level")
    spec: DatasetSpec = validate_located(DatasetSpec, source)
    if spec.file is None:
        spec = spec.model_copy(update={"file": path.stem})
    check_dataset_spec(spec, source)
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
        rules: RulesFile = validate_located(RulesFile, source)
        row_ids = {r.id for ds in datasets.values() for r in ds.rules}
        check_rules_file(rules, datasets, source, row_ids)
        source.raise_problems()
        cross = rules.rules
    return Specification(datasets=datasets, cross_rules=cross, folder=folder)


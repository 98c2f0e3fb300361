"""Typed model of the data specification, loaded from one YAML file per dataset.

Each ``data_spec/<dataset>.yml`` names the dataset, its file stem, keys, every variable (name,
label, type, unit, required, codelist or range, pattern, identifying) and row rules; ``rules.yml``
holds the cross-dataset rules. ``study.yml`` (the study definition) lives beside them but is not
part of the data specification.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

VARIABLE_TYPES = ("string", "integer", "number", "date")
NOT_DATASET_FILES = {"rules.yml", "study.yml"}


class SpecificationError(ValueError):
    """The specification itself is malformed (names the YAML file and entry)."""


@dataclass(frozen=True)
class VariableSpec:
    """One variable (column) of a dataset."""

    name: str
    label: str
    type: str
    required: bool = False
    unit: str | None = None
    codelist: dict[str, str] | None = None  # code -> decode
    range: tuple[float, float] | None = None
    pattern: str | None = None
    identifying: bool = False

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


@dataclass(frozen=True)
class RowRule:
    """A rule every record of one dataset must satisfy (a pandas expression)."""

    id: str
    description: str
    check: str
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class Windows:
    """Visit windows: ``column`` (a study day) must lie in ``limits[by-value]``."""

    column: str
    by: str
    limits: dict[int, tuple[int, int]]


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: its file stem, keys, variables and row rules."""

    name: str
    file: str
    label: str
    structure: str
    keys: tuple[str, ...]
    variables: tuple[VariableSpec, ...]
    rules: tuple[RowRule, ...] = ()
    windows: Windows | None = None
    source: Path | None = None
    order: int = 99

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


@dataclass(frozen=True)
class JoinSpec:
    """The other side of a cross-dataset rule."""

    dataset: str
    on: tuple[str, ...] = ("USUBJID",)
    where: str | None = None
    suffix: str = ""


@dataclass(frozen=True)
class CrossRule:
    """A rule linking records of two datasets."""

    id: str
    description: str
    type: str  # foreign_key | expression | count
    dataset: str
    columns: tuple[str, ...] = ()
    reference: str | None = None
    optional: bool = False
    where: str | None = None
    join: JoinSpec | None = None
    check: str | None = None
    column: str | None = None
    count_of: str | None = None


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


def _codelist(raw: Any, where: str) -> dict[str, str] | None:
    if raw is None:
        return None
    if isinstance(raw, dict):
        return {str(k): str(v) for k, v in raw.items()}
    if isinstance(raw, list):
        return {str(k): str(k) for k in raw}
    raise SpecificationError(f"{where}: codelist must be a list or a mapping")


def _variable(raw: dict[str, Any], where: str) -> VariableSpec:
    try:
        name, label, vtype = raw["name"], raw["label"], raw["type"]
    except KeyError as exc:
        raise SpecificationError(f"{where}: variable entry lacks {exc.args[0]!r}") from None
    if vtype not in VARIABLE_TYPES:
        raise SpecificationError(f"{where}: variable {name} has unknown type {vtype!r}")
    rng = raw.get("range")
    return VariableSpec(
        name=name, label=label, type=vtype, required=bool(raw.get("required", False)),
        unit=raw.get("unit"), codelist=_codelist(raw.get("codelist"), f"{where}: {name}"),
        range=(float(rng[0]), float(rng[1])) if rng is not None else None,
        pattern=raw.get("pattern"), identifying=bool(raw.get("identifying", False)))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise SpecificationError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(content, dict):
        raise SpecificationError(f"{path}: expected a mapping at the top level")
    return content


def load_dataset_spec(path: Path) -> DatasetSpec:
    """Load one ``<dataset>.yml`` file (a missing or malformed entry is named)."""
    try:
        return _dataset_spec(path, _read_yaml(path))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, SpecificationError):
            raise
        raise SpecificationError(f"{path}: missing or malformed entry: {exc!r}") from None


def _dataset_spec(path: Path, raw: dict[str, Any]) -> DatasetSpec:
    where = str(path)
    windows = None
    if raw.get("windows"):
        w = raw["windows"]
        windows = Windows(column=w["column"], by=w["by"],
                          limits={int(k): (int(v[0]), int(v[1])) for k, v in w["limits"].items()})
    return DatasetSpec(
        name=str(raw["dataset"]).upper(), file=raw.get("file", path.stem),
        label=raw.get("label", ""), structure=raw.get("structure", ""),
        keys=tuple(raw.get("keys", [])),
        variables=tuple(_variable(v, where) for v in raw.get("variables", [])),
        rules=tuple(RowRule(id=r["id"], description=r["description"], check=r["check"],
                            columns=tuple(r.get("columns", []))) for r in raw.get("rules") or []),
        windows=windows, source=path, order=int(raw.get("order", 99)))


def _join(raw: Any) -> JoinSpec | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        return JoinSpec(dataset=raw.upper(), suffix=f"_{raw.upper()}")
    return JoinSpec(dataset=raw["dataset"].upper(), on=tuple(raw.get("by", ["USUBJID"])),
                    where=raw.get("where"), suffix=raw.get("suffix", f"_{raw['dataset'].upper()}"))


def load_specification(folder: Path) -> Specification:
    """Load every dataset specification and ``rules.yml`` from ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SpecificationError(f"specification folder not found: {folder}")
    datasets = {}
    for path in sorted(folder.glob("*.yml")):
        if path.name in NOT_DATASET_FILES:
            continue
        spec = load_dataset_spec(path)
        datasets[spec.name] = spec
    datasets = dict(sorted(datasets.items(), key=lambda kv: (kv[1].order, kv[0])))
    cross: list[CrossRule] = []
    rules_path = folder / "rules.yml"
    if rules_path.exists():
        try:
            cross = _cross_rules(_read_yaml(rules_path))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, SpecificationError):
                raise
            raise SpecificationError(
                f"{rules_path}: missing or malformed entry: {exc!r}") from None
    return Specification(datasets=datasets, cross_rules=tuple(cross), folder=folder)


def _cross_rules(raw: dict[str, Any]) -> list[CrossRule]:
    return [CrossRule(
        id=r["id"], description=r["description"], type=r["type"],
        dataset=r["dataset"].upper(), columns=tuple(r.get("columns", [])),
        reference=r.get("reference", "").upper() or None,
        optional=bool(r.get("optional", False)), where=r.get("where"),
        join=_join(r.get("join")), check=r.get("check"), column=r.get("column"),
        count_of=(r.get("count_of") or "").upper() or None) for r in raw.get("rules", [])]

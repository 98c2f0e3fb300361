"""The datasets as :func:`trialreport.study.infer.infer_study` reads them, and the base of the
inference (the result being built, notes, placeholders, comments)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from trialreport.analysis_sets import as_text
from trialreport.spec.model import DatasetSpec, Specification
from trialreport.study._model import NAME_PATTERN

if TYPE_CHECKING:
    from trialreport.study.infer import InferredStudy

__all__ = ["Base", "Data", "lower_first", "name_of"]


class Data:
    """The validated datasets by role (file stem in lower case) with their specifications."""

    def __init__(self, frames: Mapping[str, pd.DataFrame], spec: Specification):
        self.frames: dict[str, pd.DataFrame] = {}
        self.specs: dict[str, DatasetSpec] = {}
        self.stems: dict[str, str] = {}
        for name, frame in frames.items():
            ds = spec.datasets[name]
            role = ds.file.lower()
            self.frames[role], self.specs[role], self.stems[role] = frame, ds, ds.file

    def has(self, role: str, *names: str) -> bool:
        return role in self.frames and all(n in self.frames[role].columns for n in names)

    def first(self, role: str, *names: str) -> str | None:
        """The first of ``names`` that ``role`` has."""
        return next((n for n in names if self.has(role, n)), None)

    def text(self, role: str, name: str) -> pd.Series:
        return as_text(self.frames[role][name])

    def values(self, role: str, name: str) -> list[str]:
        """Distinct non-missing values as text, in order of appearance."""
        return list(dict.fromkeys(self.text(role, name).dropna()))

    def codes(self, role: str, name: str) -> list[str]:
        """Codes of the variable's codelist in the specification (as text)."""
        var = self.variable(role, name)
        if var is None or not var.codelist:
            return []
        return [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c)
                for c in var.codes]

    def known(self, role: str, name: str) -> list[str]:
        """Values in the data, then codes of the codelist that do not occur."""
        return list(dict.fromkeys([*self.values(role, name), *self.codes(role, name)]))

    def variable(self, role: str, name: str) -> Any:
        spec = self.specs.get(role)
        if spec is None:
            return None
        return next((v for v in spec.variables if v.name == name), None)

    def label(self, role: str, name: str) -> str:
        var = self.variable(role, name)
        return var.label if var is not None and var.label else name


def name_of(text: str, fallback: str) -> str:
    """``text`` as a Name (letters, digits, ``_ . -``, starting with a letter)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-_.")[:64]
    if name and not name[0].isalpha():
        name = f"S-{name}"[:64]
    return name if re.match(NAME_PATTERN, name or "") else fallback


def lower_first(text: str) -> str:
    """A label in running text: "Time to death" -> "time to death"; "TTP ..." stays."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


class Base:
    """What every block of the inference shares: the data, the result, the arms and
    populations found so far, and how notes, placeholders and comments are recorded."""

    def __init__(self, data: Data, result: InferredStudy):
        self.data = data
        self.result = result
        self.arms: list[str] = []
        self.reference: str | None = None
        self.populations: dict[str, dict[str, Any]] = {}

    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def todo(self, text: str) -> None:
        self.result.placeholders.append(text)

    def comment(self, text: str, *path: Any) -> None:
        self.result.comments[path] = text

    def population_of(self, *codes: str) -> str:
        return next((c for c in codes if c in self.populations), self.result.primary_population)

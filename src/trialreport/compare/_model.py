"""What a comparison of two report versions holds: changed results and changed sentences."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Status = Literal["added", "removed", "changed"]
STATUSES: tuple[Status, ...] = ("changed", "added", "removed")


class ResultKey(NamedTuple):
    """The key of one ARD result (``docs/ard.md``)."""

    analysis: str
    population: str
    group: str
    variable: str
    category: str
    statistic: str


@dataclass(frozen=True)
class ResultChange:
    """One result added, removed or changed between two versions.

    ``old``/``new`` are the values at full precision: ``None`` when the result is absent on that
    side, NaN when it is present but not estimable. ``old_method``/``new_method`` likewise.
    """

    status: Status
    key: ResultKey
    old: float | None
    new: float | None
    old_method: str | None = None
    new_method: str | None = None

    @property
    def method_changed(self) -> bool:
        """True when both sides hold the result and its method name differs."""
        return (self.status == "changed" and self.old_method is not None
                and self.new_method is not None and self.old_method != self.new_method)


@dataclass
class OutputChanges:
    """The changed results of one output (or of the population counts)."""

    name: str  #: the ARD ``analysis`` id (the output's name)
    label: str  #: "Table 14.3.1 Overview of treatment-emergent adverse events"
    results: list[ResultChange] = field(default_factory=list)

    def count(self, status: Status) -> int:
        """How many results have ``status``."""
        return sum(1 for r in self.results if r.status == status)

    def summary(self) -> str:
        """"2 changed, 1 added, 0 removed"."""
        return ", ".join(f"{self.count(s)} {s}" for s in STATUSES)


class Token(NamedTuple):
    """A word of a sentence and whether it differs from the other version."""

    text: str
    changed: bool


@dataclass(frozen=True)
class SentenceChange:
    """A sentence of the report text that differs between the versions.

    ``old`` is "" for an added sentence, ``new`` is "" for a removed one. ``section`` is the
    heading above the sentence (in the new version when it has one).
    """

    section: str
    old: str
    new: str
    old_tokens: tuple[Token, ...]
    new_tokens: tuple[Token, ...]

    @property
    def status(self) -> Status:
        return "added" if not self.old else "removed" if not self.new else "changed"


@dataclass
class Changes:
    """Everything that differs between an old and a new version of a report."""

    old_version: str
    new_version: str
    old_source: str = ""
    new_source: str = ""
    outputs: list[OutputChanges] = field(default_factory=list)
    compared: int = 0  #: results present in both versions
    #: sentence changes; None when a side had no HTML report to compare
    text: list[SentenceChange] | None = None
    #: why the text was not compared (when ``text`` is None)
    text_skipped: str = ""
    #: changes to the outputs themselves (new, dropped, renamed)
    notes: list[str] = field(default_factory=list)

    @property
    def results(self) -> list[ResultChange]:
        """Every result change, output by output."""
        return [r for o in self.outputs for r in o.results]

    def count(self, status: Status) -> int:
        """How many results have ``status`` (over all outputs)."""
        return sum(o.count(status) for o in self.outputs)

    @property
    def changed(self) -> bool:
        """True when any result or sentence differs."""
        return bool(self.results) or bool(self.text)


def is_missing(value: float | None) -> bool:
    """True for an absent (None) or not-estimable (NaN) value."""
    return value is None or (isinstance(value, float) and math.isnan(value))

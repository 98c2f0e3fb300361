"""The study definition (``data_spec/study.yml``): arms, populations, endpoints, outputs.

Analysis functions take a :class:`Study` and never hard-code anything trial-specific, so the
same code runs on another trial's ADaM data with another study definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml


class StudyDefinitionError(ValueError):
    """The study definition is malformed (names the file and the entry)."""


@dataclass(frozen=True)
class Arm:
    """One arm: the value in the data (``code``) and its display label."""

    code: str
    label: str


@dataclass(frozen=True)
class Population:
    """An analysis population selected by a Y/N flag in ADSL."""

    code: str
    label: str
    flag: str
    arm_variable: str
    definition: str = ""


@dataclass(frozen=True)
class OutputSpec:
    """A numbered table or figure (ICH E3 numbering) with its title and footnotes."""

    id: str
    name: str
    title: str
    population: str | None = None
    footnotes: tuple[str, ...] = ()
    kind: str = "table"
    type: str = ""  # figures: consort | km | swimmer
    param: str | None = None  # km: the time-to-event parameter (default: the first)

    @property
    def caption(self) -> str:
        """"Table 14.2.1 Response ..." style caption."""
        return f"{self.kind.capitalize()} {self.id} {self.title}"


@dataclass(frozen=True)
class Study:
    """A loaded study definition; ``raw`` keeps the YAML mapping for section-specific code."""

    raw: dict[str, Any]
    path: Path | None = None

    @property
    def id(self) -> str:
        """Study identifier (e.g. ALEVIATE)."""
        return str(self.raw["study"]["id"])

    @property
    def info(self) -> dict[str, Any]:
        """The ``study:`` block (title, registration, reference, ...)."""
        return dict(self.raw["study"])

    @cached_property
    def arms(self) -> tuple[Arm, ...]:
        """Arms in display order."""
        return tuple(Arm(code=str(a["code"]), label=str(a.get("label", a["code"])))
                     for a in self.raw["arms"]["levels"])

    @property
    def arm_variable(self) -> str:
        """ADSL variable holding the planned arm."""
        return str(self.raw["arms"].get("variable", "TRT01P"))

    @property
    def total_label(self) -> str:
        """Label of the all-arms column ("Total")."""
        return str(self.raw["arms"].get("total", "Total"))

    @property
    def comparison(self) -> dict[str, str] | None:
        """``{treatment, reference, label}`` for between-arm differences, if defined."""
        return self.raw["arms"].get("comparison")

    def arm_label(self, code: str) -> str:
        """Display label of the arm whose data value is ``code``."""
        for arm in self.arms:
            if arm.code == code:
                return arm.label
        return code

    @cached_property
    def populations(self) -> dict[str, Population]:
        """Analysis populations by code."""
        return {code: Population(code=code, label=p["label"], flag=p["flag"],
                                 arm_variable=p.get("arm_variable", self.arm_variable),
                                 definition=p.get("definition", ""))
                for code, p in self.raw["populations"].items()}

    def conf_level(self, spec: dict[str, Any] | None = None) -> float:
        """Confidence level (0-1): ``spec``'s own ``conf_level``, else the ``endpoints:``
        block's, else 0.95."""
        default = (self.section("endpoints") or {}).get("conf_level", 0.95)
        return float((spec or {}).get("conf_level", default))

    def conf_label(self, spec: dict[str, Any] | None = None) -> str:
        """"95% CI" for :meth:`conf_level` (rounded by the project's one rounding rule)."""
        from decimal import Decimal

        from trialreport.formatting import fmt_number

        return f"{fmt_number(Decimal(repr(self.conf_level(spec))) * 100, 0)}% CI"

    def dataset_stem(self, role: str) -> str:
        """File stem of the dataset with role ``role`` (adsl, adae, ...)."""
        return str(self.raw.get("datasets", {}).get(role, role))

    def section(self, name: str, default: Any = None) -> Any:
        """A top-level block of the definition (baseline, endpoints, safety, ...)."""
        return self.raw.get(name, default)

    @cached_property
    def outputs(self) -> dict[str, OutputSpec]:
        """Numbered tables and figures by name."""
        found: dict[str, OutputSpec] = {}
        outs = self.raw.get("outputs", {})
        for kind in ("tables", "figures"):
            for o in outs.get(kind, []):
                found[o["name"]] = OutputSpec(
                    id=str(o["id"]), name=o["name"], title=o["title"],
                    population=o.get("population"), footnotes=tuple(o.get("footnotes", [])),
                    kind=kind[:-1], type=str(o.get("type", "")), param=o.get("param"))
        return found

    @property
    def arm_labels(self) -> dict[str, str]:
        """Arm code -> display label, in display order."""
        return {a.code: a.label for a in self.arms}

    def figures(self) -> list[OutputSpec]:
        """The numbered figures, in definition order."""
        return [o for o in self.outputs.values() if o.kind == "figure"]

    def output(self, name: str) -> OutputSpec:
        """The table or figure called ``name``."""
        try:
            return self.outputs[name]
        except KeyError:
            raise StudyDefinitionError(f"{self.path}: no output named {name!r}") from None

    def source_datasets(self, name: str) -> list[str]:
        """Datasets a table is computed from (for its source line)."""
        return list(self.raw.get("outputs", {}).get("source_datasets", {}).get(name, []))


def load_study(path: Path) -> Study:
    """Read a study definition YAML file."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudyDefinitionError(f"study definition not found: {path}") from None
    except yaml.YAMLError as exc:
        raise StudyDefinitionError(f"{path}: not valid YAML: {exc}") from None
    for key in ("study", "arms", "populations"):
        if not isinstance(raw, dict) or key not in raw:
            raise StudyDefinitionError(f"{path}: the definition needs a '{key}:' block")
    return Study(raw=raw, path=path)

"""A loaded study definition: the typed model plus the lookups analyses and tables need."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from trialreport.study._errors import StudyDefinitionError
from trialreport.study._model import (
    Arm,
    BinaryEndpoint,
    Comparison,
    Fact,
    OutputEntry,
    Population,
    StudyDefinition,
    TimeToEvent,
)
from trialreport.study._yaml import LocatedYaml

__all__ = ["OutputSpec", "Study"]


@dataclass(frozen=True)
class OutputSpec:
    """A numbered output (ICH E3 section 14 numbering): the common keys, its kind (``table``,
    ``figure`` or ``listing``) and its type's validated ``options``."""

    entry: OutputEntry
    kind: str
    options: BaseModel
    index: int = 0

    @property
    def id(self) -> str:
        """The output number ("14.2.1")."""
        return self.entry.id

    @property
    def name(self) -> str:
        """The output's name (unique in the study; the ARD's ``analysis`` key)."""
        return self.entry.name

    @property
    def type(self) -> str:
        """The registered output type (``ae_soc_pt``, ``km``, ...)."""
        return self.entry.type

    @property
    def title(self) -> str:
        return self.entry.title

    @property
    def population(self) -> str | None:
        return self.entry.population

    @property
    def footnotes(self) -> tuple[str, ...]:
        return tuple(self.entry.footnotes)

    @property
    def label(self) -> str:
        """"Table 14.2.1" / "Figure 14.1.1" / "Listing 16.2.7"."""
        return f"{self.kind.capitalize()} {self.id}"

    @property
    def caption(self) -> str:
        """"Table 14.2.1 Response ..." (the standalone numbered title)."""
        return f"{self.label} {self.title}"


@dataclass(frozen=True)
class Study:
    """A validated study definition (see :mod:`trialreport.study._model` and docs/study.md)."""

    model: StudyDefinition
    path: Path | None = None
    source: LocatedYaml | None = field(default=None, compare=False, repr=False)
    output_specs: tuple[OutputSpec, ...] = ()

    # -- identification -------------------------------------------------------------------
    @property
    def id(self) -> str:
        """Study identifier used in file names (``study.id``)."""
        return self.model.study.id

    @property
    def info(self) -> Any:
        """The ``study:`` block (facts with sources)."""
        return self.model.study

    @property
    def report_version(self) -> str:
        """The report version declared in the study (``report.version``)."""
        return self.model.report.version

    @property
    def synthetic(self) -> bool:
        """Whether the records are declared synthetic (a notice is printed on every page)."""
        return bool(self.model.study.synthetic_notice)

    def fact(self, name: str) -> Fact | None:
        """The fact ``study.<name>`` (``None`` when not given)."""
        value = getattr(self.model.study, name)
        return value if isinstance(value, Fact) else None

    def line(self, *loc: Any) -> int | None:
        """The line of a key path in the study definition file (for messages)."""
        return self.source.line(loc) if self.source is not None else None

    def where(self, *loc: Any) -> str:
        """``file:line: key.path`` of a key, for messages."""
        from trialreport.study._errors import key_path

        line = self.line(*loc)
        name = str(self.path) if self.path is not None else "study definition"
        return f"{name}:{line}: {key_path(loc)}" if line else f"{name}: {key_path(loc)}"

    # -- arms -----------------------------------------------------------------------------
    @property
    def arms(self) -> tuple[Arm, ...]:
        """Arms in display order."""
        return tuple(self.model.arms.levels)

    @property
    def arm_codes(self) -> list[str]:
        """Arm values in the data, in display order."""
        return [a.code for a in self.model.arms.levels]

    @property
    def arm_labels(self) -> dict[str, str]:
        """Arm code -> display label, in display order."""
        return {a.code: a.display for a in self.model.arms.levels}

    @property
    def arm_variable(self) -> str:
        """ADSL variable holding the planned arm."""
        return self.model.arms.variable

    @property
    def total_label(self) -> str:
        """Label of the all-arms column ("Total")."""
        return self.model.arms.total or "Total"

    @property
    def has_total(self) -> bool:
        """Whether tables show an all-arms column."""
        return self.model.arms.total is not None

    def arm_label(self, code: str) -> str:
        """Display label of the arm whose data value is ``code`` (the total label as is)."""
        labels = self.arm_labels
        if code in labels:
            return labels[code]
        if code == self.total_label:
            return code
        raise KeyError(f"{code!r} is not an arm of the study; arms are {self.arm_codes}")

    @cached_property
    def comparisons(self) -> tuple[Comparison, ...]:
        """Between-arm comparisons: as declared, else every other arm against the reference."""
        arms = self.model.arms
        if arms.comparisons:
            return tuple(arms.comparisons)
        if arms.reference is None:
            return ()
        return tuple(Comparison(treatment=a.code, reference=arms.reference)
                     for a in arms.levels if a.code != arms.reference)

    def comparison_label(self, comp: Comparison) -> str:
        """``"60 mg − 30 mg"`` (the declared label or the arm labels)."""
        if comp.label:
            return comp.label
        return f"{self.arm_label(comp.treatment)} \u2212 {self.arm_label(comp.reference)}"

    @staticmethod
    def comparison_group(comp: Comparison) -> str:
        """The ARD group of a comparison: ``"<treatment> vs <reference>"``."""
        return f"{comp.treatment} vs {comp.reference}"

    # -- populations ------------------------------------------------------------------------
    @cached_property
    def populations(self) -> dict[str, Population]:
        """Analysis populations by code, with ``arm_variable`` filled in."""
        return {code: (p if p.arm_variable else p.model_copy(
                    update={"arm_variable": self.arm_variable}))
                for code, p in self.model.populations.items()}

    def population(self, code: str) -> Population:
        try:
            return self.populations[code]
        except KeyError:
            raise KeyError(f"no population {code!r}; populations are "
                           f"{sorted(self.populations)}") from None

    # -- statistics -------------------------------------------------------------------------
    def conf_level(self, spec: Any = None) -> float:
        """Confidence level (0-1): ``spec``'s own ``conf_level``, else the endpoints block's."""
        own = getattr(spec, "conf_level", None) if spec is not None else None
        return float(own if own is not None else self.model.endpoints.conf_level)

    def conf_label(self, spec: Any = None) -> str:
        """"95% CI" for :meth:`conf_level`."""
        from trialreport.formatting import fmt_number

        return f"{fmt_number(Decimal(repr(self.conf_level(spec))) * 100, 0)}% CI"

    # -- datasets ---------------------------------------------------------------------------
    def dataset_stem(self, role: str) -> str:
        """File stem of the dataset with role ``role`` (``datasets:``; default the role)."""
        return self.model.datasets.get(role, role)

    # -- endpoints --------------------------------------------------------------------------
    @cached_property
    def binary_endpoints(self) -> dict[str, BinaryEndpoint]:
        return {e.id: e for e in self.model.endpoints.binary}

    def endpoint(self, endpoint_id: str) -> BinaryEndpoint:
        try:
            return self.binary_endpoints[endpoint_id]
        except KeyError:
            raise KeyError(f"no binary endpoint {endpoint_id!r}; endpoints are "
                           f"{sorted(self.binary_endpoints)}") from None

    @cached_property
    def tte_parameters(self) -> dict[str, TimeToEvent]:
        return {t.id: t for t in self.model.time_to_event}

    def tte(self, param: str) -> TimeToEvent:
        """A time-to-event parameter by id (or PARAMCD)."""
        for spec in self.model.time_to_event:
            if param in (spec.id, spec.paramcd):
                return spec
        raise KeyError(f"no time-to-event parameter {param!r}; parameters are "
                       f"{sorted(self.tte_parameters)}")

    # -- outputs ----------------------------------------------------------------------------
    @cached_property
    def outputs(self) -> dict[str, OutputSpec]:
        """Numbered outputs by name, in definition order."""
        return {o.name: o for o in self.output_specs}

    def output(self, name: str) -> OutputSpec:
        """The output called ``name``."""
        try:
            return self.outputs[name]
        except KeyError:
            raise StudyDefinitionError(
                f"{self.path}: no output named {name!r}; outputs are "
                f"{list(self.outputs)}") from None

    def outputs_of(self, *types: str) -> list[OutputSpec]:
        """Outputs of the given types, in definition order."""
        return [o for o in self.output_specs if o.type in types]

    def figures(self) -> list[OutputSpec]:
        """The numbered figures, in definition order."""
        return [o for o in self.output_specs if o.kind == "figure"]

    @property
    def abbreviations(self) -> dict[str, str]:
        """The study's own abbreviations (added to the tool's glossary)."""
        return dict(self.model.abbreviations)

    # -- convenience for code that reads a block ----------------------------------------------
    def section(self, name: str) -> Any:
        """A top-level block of the definition (``baseline``, ``safety``, ...)."""
        return getattr(self.model, name)

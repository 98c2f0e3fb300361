"""Disposition of patients (ICH E3 10.1): the CONSORT 2010 flow and the disposition table.

Stages (ARD ``variable``) and how they are counted, all names from ``disposition:`` in the
study definition:

* ``assessed``: records of the screening log; ``excluded``: those not randomised
  (``category`` = reason, "" = all); screening stages have group Total and population "".
* ``randomised``: ADSL subjects with the randomised flag; ``allocated``: the same by planned
  arm (the study's arm variable).
* ``received`` / ``not_received`` (category = reason): allocated subjects with / without the
  treated flag.
* ``completed`` / ``discontinued`` (category = reason): among those who received the
  intervention, by end-of-study status.
* ``analysed`` / ``excluded_from_analysis`` (category = reason): allocated subjects with /
  without the analysis-set flag.

Counts are conserved from stage to stage (checked). A missing reason is counted as "NOT
RECORDED", never dropped. Reference: Schulz KF, Altman DG, Moher D (2010). CONSORT 2010
statement. BMJ 340:c332.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from great_tables import GT

from trialreport.analysis_sets import as_text, flag_set
from trialreport.ard._frame import concat_frames, records_frame
from trialreport.ard._table import ARD
from trialreport.data import TrialData
from trialreport.outputs import NoOptions, OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.tables._layout import Row, csr_table, group_columns, n_pct_text

__all__ = ["ArmFlow", "ConsortConservationError", "ConsortFlow", "compute", "consort_flow"]

PROGRAM = "trialreport.families.disposition"

NOT_RECORDED = "NOT RECORDED"
NOT_TREATED = "DID NOT RECEIVE ALLOCATED INTERVENTION"
OTHER = "OTHER"
ARM_STAGES = ("allocated", "received", "not_received", "completed", "discontinued", "analysed",
              "excluded_from_analysis")


class ConsortConservationError(AssertionError):
    """Counts are not conserved from one CONSORT stage to the next (lists every break)."""


# --------------------------------------------------------------------------------------
# flow objects (what a figure draws)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArmFlow:
    """One arm's column of the diagram: allocation, follow-up and analysis boxes."""

    code: str
    label: str
    allocated: int
    received: int
    not_received: int
    not_received_reasons: dict[str, int] = field(default_factory=dict)
    completed: int = 0
    discontinued: int = 0
    discontinued_reasons: dict[str, int] = field(default_factory=dict)
    analysed: int = 0
    excluded_from_analysis: int = 0
    excluded_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ConsortFlow:
    """The whole CONSORT 2010 flow; ``assessed``/``excluded`` are ``None`` without a
    screening log."""

    randomised: int
    arms: tuple[ArmFlow, ...]
    assessed: int | None = None
    excluded: int | None = None
    excluded_reasons: dict[str, int] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """Every stage-to-stage equality that does not hold (empty when conserved)."""
        found: list[str] = []

        def need(ok: bool, text: str) -> None:
            if not ok:
                found.append(text)

        if self.assessed is not None:
            need(self.assessed == (self.excluded or 0) + self.randomised,
                 f"assessed {self.assessed} != excluded {self.excluded} + randomised "
                 f"{self.randomised}")
            need(sum(self.excluded_reasons.values()) == self.excluded,
                 f"excluded {self.excluded} != sum of reasons {self.excluded_reasons}")
        allocated = sum(a.allocated for a in self.arms)
        need(allocated == self.randomised,
             f"randomised {self.randomised} != allocated over arms {allocated}")
        for a in self.arms:
            need(a.allocated == a.received + a.not_received,
                 f"{a.code}: allocated {a.allocated} != received {a.received} + not received "
                 f"{a.not_received}")
            need(sum(a.not_received_reasons.values()) == a.not_received,
                 f"{a.code}: not received {a.not_received} != sum of reasons")
            need(a.received == a.completed + a.discontinued,
                 f"{a.code}: received {a.received} != completed {a.completed} + discontinued "
                 f"{a.discontinued}")
            need(sum(a.discontinued_reasons.values()) == a.discontinued,
                 f"{a.code}: discontinued {a.discontinued} != sum of reasons")
            need(a.allocated == a.analysed + a.excluded_from_analysis,
                 f"{a.code}: allocated {a.allocated} != analysed {a.analysed} + excluded "
                 f"{a.excluded_from_analysis}")
            need(sum(a.excluded_reasons.values()) == a.excluded_from_analysis,
                 f"{a.code}: excluded from analysis {a.excluded_from_analysis} != sum of reasons")
        return found

    def check_conservation(self) -> None:
        """Raise :class:`ConsortConservationError` unless every count is conserved."""
        problems = self.problems()
        if problems:
            raise ConsortConservationError("CONSORT counts not conserved:\n"
                                           + "\n".join(f"  {p}" for p in problems))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, study: Study, analysis: str) -> ConsortFlow:
        """Rebuild the flow from the ARD rows of output ``analysis``."""
        rows = frame[(frame["analysis"] == analysis) & (frame["statistic"] == "n")]
        total = study.total_label

        def count(stage: str, group: str, category: str = "") -> int:
            hit = rows[(rows["variable"] == stage) & (rows["group"] == group)
                       & (rows["category"] == category)]
            return int(hit["value"].iloc[0]) if len(hit) else 0

        def reasons(stage: str, group: str) -> dict[str, int]:
            hit = rows[(rows["variable"] == stage) & (rows["group"] == group)
                       & (rows["category"] != "")]
            return {str(c): int(v) for c, v in zip(hit["category"], hit["value"], strict=True)}

        has_screening = bool((rows["variable"] == "assessed").any())
        arms = tuple(
            ArmFlow(code=a.code, label=a.display,
                    allocated=count("allocated", a.code), received=count("received", a.code),
                    not_received=count("not_received", a.code),
                    not_received_reasons=reasons("not_received", a.code),
                    completed=count("completed", a.code),
                    discontinued=count("discontinued", a.code),
                    discontinued_reasons=reasons("discontinued", a.code),
                    analysed=count("analysed", a.code),
                    excluded_from_analysis=count("excluded_from_analysis", a.code),
                    excluded_reasons=reasons("excluded_from_analysis", a.code))
            for a in study.arms)
        return cls(randomised=count("randomised", total), arms=arms,
                   assessed=count("assessed", total) if has_screening else None,
                   excluded=count("excluded", total) if has_screening else None,
                   excluded_reasons=reasons("excluded", total) if has_screening else {})

    @classmethod
    def from_ard(cls, ard: ARD, study: Study, analysis: str) -> ConsortFlow:
        """The flow stored in an ARD under output ``analysis``."""
        return cls.from_frame(ard.frame, study, analysis)




# --------------------------------------------------------------------------------------
# counting
# --------------------------------------------------------------------------------------


def _flag(frame: pd.DataFrame, column: str | None) -> np.ndarray:
    if not column or column not in frame:
        return np.zeros(len(frame), dtype=bool)
    return flag_set(frame[column])


def _reason(frame: pd.DataFrame, column: str | None, default: str) -> pd.Series:
    if column and column in frame:
        return as_text(frame[column]).fillna(default)
    return pd.Series(default, index=frame.index, dtype=object)


def _reason_counts(reasons: pd.Series) -> list[tuple[str, int]]:
    """Reasons by decreasing count, then alphabetically (deterministic)."""
    vc = reasons.value_counts()
    return sorted(((str(k), int(v)) for k, v in vc.items()), key=lambda kv: (-kv[1], kv[0]))


def _randomised_population(study: Study, flag: str) -> str:
    for code, pop in study.populations.items():
        if pop.flag == flag:
            return code
    return ""


def _settings(study: Study) -> Any:
    if study.model.disposition is None:
        raise ValueError("disposition outputs need a 'disposition:' block")
    return study.model.disposition


def compute(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """ARD rows of the flow (statistic ``n``; see the module docstring)."""
    study = data.study
    disp = _settings(study)
    total = study.total_label
    name = spec.name
    records: list[dict[str, Any]] = []

    def add(stage: str, group: str, n: int, category: str = "", population: str = "") -> None:
        records.append({"analysis": name, "population": population, "group": group,
                        "variable": stage, "category": category, "statistic": "n",
                        "value": float(n)})

    if disp.screening is not None:
        scr = data[disp.screening.dataset]
        rand = _flag(scr, disp.screening.randomised_flag)
        add("assessed", total, len(scr))
        excluded = scr.loc[~rand]
        add("excluded", total, len(excluded))
        for reason, n in _reason_counts(_reason(excluded, disp.screening.reason,
                                                NOT_RECORDED)):
            add("excluded", total, n, reason)

    adsl = data.adsl
    pop_code = _randomised_population(study, disp.randomised_flag)
    randomised = adsl.loc[_flag(adsl, disp.randomised_flag)]
    add("randomised", total, len(randomised), population=pop_code)
    arm = as_text(randomised[study.arm_variable])
    arms = study.arm_codes
    stray = ~arm.isin(arms)
    if stray.any():
        raise ValueError(f"{int(stray.sum())} randomised subject(s) have "
                         f"{study.arm_variable} values that are not arms: "
                         f"{sorted(set(arm[stray].fillna('(missing)')))}")
    allocated = randomised
    treated = _flag(allocated, disp.treated_flag)
    status = (as_text(allocated[disp.status]).to_numpy(dtype=object)
              if disp.status else np.full(len(allocated), None))
    completed = treated & (status == disp.completed_value)
    discontinued = treated & ~completed
    analysed = _flag(allocated, disp.analysed_flag) if disp.analysed_flag else treated
    not_treated_reason = _reason(allocated, disp.not_treated_reason, NOT_RECORDED)
    dc_reason = _reason(allocated, disp.discontinued_reason, NOT_RECORDED)
    excl_reason = pd.Series(np.where(treated, OTHER, NOT_TREATED), index=allocated.index,
                            dtype=object)
    stages = {
        "allocated": (np.ones(len(allocated), dtype=bool), None),
        "received": (treated, None),
        "not_received": (~treated, not_treated_reason),
        "completed": (completed, None),
        "discontinued": (discontinued, dc_reason),
        "analysed": (analysed, None),
        "excluded_from_analysis": (~analysed, excl_reason),
    }
    arm_values = arm.to_numpy(dtype=object)
    for stage in ARM_STAGES:
        mask, reasons = stages[stage]
        for group in [*arms, total]:
            in_group = mask if group == total else mask & (arm_values == group)
            add(stage, group, int(in_group.sum()), population=pop_code)
            if reasons is not None:
                for reason, n in _reason_counts(reasons[in_group]):
                    add(stage, group, n, reason, population=pop_code)
    frame = records_frame(records)
    flow = ConsortFlow.from_frame(frame, study, name)
    flow.check_conservation()
    counts = [dict(r, variable="", statistic="N", category="") for r in records
              if r["variable"] == "allocated" and r["category"] == ""]
    return concat_frames([records_frame(counts), frame])


def consort_flow(data: TrialData, spec: OutputSpec) -> ConsortFlow:
    """The CONSORT flow of a trial (see :class:`ConsortFlow`)."""
    return ConsortFlow.from_frame(compute(data, spec), data.study, spec.name)


def _check(study: Study, spec: OutputSpec) -> list[str]:
    if study.model.disposition is None:
        return [f"type {spec.type!r} needs a 'disposition:' block"]
    return []


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    disp = study.model.disposition
    roles = ["adsl"]
    if disp is not None and disp.screening is not None:
        roles.append(disp.screening.dataset)
    return roles


@register("consort", "figure", compute=compute, datasets=_datasets, check=_check)
def consort_figure(ctx: OutputContext) -> Any:
    """CONSORT 2010 flow diagram: enrolment, allocation, follow-up and analysis by arm."""
    from trialreport.figures.consort import plot_consort

    flow = ConsortFlow.from_ard(ctx.ard, ctx.study, ctx.spec.name)
    return plot_consort(flow, ctx.study.arm_labels)


def _reason_label(reason: str) -> str:
    return reason[:1] + reason[1:].lower() if reason.isupper() else reason


@register("disposition", "table", options=NoOptions, compute=compute, datasets=_datasets,
          check=_check)
def disposition_table(ctx: OutputContext) -> GT:
    """Disposition of randomised patients: treated, completed, discontinued with reasons."""
    study, spec = ctx.study, ctx.spec
    flow = ConsortFlow.from_ard(ctx.ard, study, spec.name)
    by_arm = {a.code: a for a in flow.arms}
    ns = {**{a.code: a.allocated for a in flow.arms}, study.total_label: flow.randomised}
    groups = group_columns(study, ns)

    def total_of(attr: str) -> int:
        return sum(getattr(a, attr) for a in flow.arms)

    def cells(attr: str) -> dict[str, str]:
        out = {}
        for g, col in groups:
            n = total_of(attr) if g == study.total_label else getattr(by_arm[g], attr)
            out[col.id] = n_pct_text(n, ns[g])
        return out

    def reason_rows(attr: str) -> list[Row]:
        reasons: list[str] = []
        for a in flow.arms:
            reasons += [r for r in getattr(a, attr) if r not in reasons]
        rows = []
        for reason in reasons:
            out = {}
            for g, col in groups:
                n = (sum(getattr(a, attr).get(reason, 0) for a in flow.arms)
                     if g == study.total_label else getattr(by_arm[g], attr).get(reason, 0))
                out[col.id] = n_pct_text(n, ns[g])
            rows.append(Row(_reason_label(reason), out, level=2))
        return rows

    rows = [Row("Randomised", cells("allocated")),
            Row("Received study treatment", cells("received")),
            Row("Did not receive study treatment", cells("not_received")),
            *reason_rows("not_received_reasons"),
            Row("Completed the study", cells("completed"), level=1),
            Row("Discontinued the study", cells("discontinued"), level=1),
            *reason_rows("discontinued_reasons")]
    notes = ["n (%) of randomised patients in each column. Completed and discontinued: among "
             "patients who received study treatment."]
    return csr_table(rows, [col for _, col in groups], ctx, program=PROGRAM,
                     population_n=flow.randomised, stub_label="Status", notes=notes)

"""CONSORT 2010 participant flow: screening log and ADSL to counts per stage and arm.

Stages (ARD ``variable``) and how they are counted, all names from ``disposition:`` in the
study definition:

* ``assessed``: records of the screening log; ``excluded``: those not randomised
  (``category`` = reason, "" = all); screening stages have group ``Total`` and population "".
* ``randomised``: ADSL subjects with the randomised flag; ``allocated``: the same by planned
  arm (the study's arm variable).
* ``received`` / ``not_received`` (category = reason): allocated subjects with / without the
  treated flag.
* ``completed`` / ``discontinued`` (category = reason): among those who received the
  intervention, by end-of-study status.
* ``analysed`` / ``excluded_from_analysis`` (category = reason): allocated subjects with /
  without the analysis-set flag.

Arm stages carry the population code whose flag is the randomised flag (e.g. ``RAND``).
Reference: Schulz KF, Altman DG, Moher D (2010). CONSORT 2010 statement. BMJ 340:c332.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis.ard import ARD, concat_frames, empty_frame, records_frame
from trialreport.analysis.populations import arm_codes, as_text, flag_set
from trialreport.data import TrialData
from trialreport.study import Study

__all__ = ["ArmFlow", "ConsortConservationError", "ConsortFlow", "consort_ard", "consort_flow"]

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
    def from_frame(cls, frame: pd.DataFrame, study: Study) -> ConsortFlow:
        """Rebuild the flow from ``analysis == "consort"`` ARD rows (or a whole ARD frame)."""
        rows = frame[(frame["analysis"] == "consort") & (frame["statistic"] == "n")]
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
            ArmFlow(code=a.code, label=a.label,
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
    def from_ard(cls, ard: ARD, study: Study) -> ConsortFlow:
        """The flow stored in an ARD."""
        return cls.from_frame(ard.frame, study)


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
    items = sorted(((str(k), int(v)) for k, v in vc.items()), key=lambda kv: (-kv[1], kv[0]))
    return items


def _randomised_population(study: Study, flag: str) -> str:
    for code, pop in study.populations.items():
        if pop.flag == flag:
            return code
    return ""


def consort_ard(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="consort"`` (statistic ``n``); empty without ``disposition:``."""
    study = data.study
    disp: dict[str, Any] | None = study.section("disposition")
    if not disp:
        return empty_frame()
    total = study.total_label
    records: list[dict[str, Any]] = []

    def add(stage: str, group: str, n: int, category: str = "", population: str = "") -> None:
        records.append({"analysis": "consort", "population": population, "group": group,
                        "variable": stage, "category": category, "statistic": "n",
                        "value": float(n)})

    scr_spec = disp.get("screening")
    if scr_spec and scr_spec.get("dataset", "screening") in data:
        scr = data[scr_spec.get("dataset", "screening")]
        rand = _flag(scr, scr_spec.get("randomised_flag", disp.get("randomised_flag")))
        add("assessed", total, len(scr))
        excluded = scr.loc[~rand]
        add("excluded", total, len(excluded))
        for reason, n in _reason_counts(_reason(excluded, scr_spec.get("reason"), NOT_RECORDED)):
            add("excluded", total, n, reason)

    adsl = data.adsl
    rand_flag = disp.get("randomised_flag", "RANDFL")
    pop_code = _randomised_population(study, rand_flag)
    randomised = adsl.loc[_flag(adsl, rand_flag)]
    add("randomised", total, len(randomised), population=pop_code)

    arm = as_text(randomised[study.arm_variable])
    arms = arm_codes(study)
    in_arm = arm.isin(arms).to_numpy(dtype=bool)
    allocated = randomised.loc[in_arm]
    treated = _flag(allocated, disp.get("treated_flag"))
    status = (as_text(allocated[disp["status"]]).to_numpy(dtype=object)
              if disp.get("status") in allocated else np.full(len(allocated), None))
    completed = treated & (status == str(disp.get("completed_value", "COMPLETED")))
    discontinued = treated & ~completed
    analysed = _flag(allocated, disp.get("analysed_flag"))
    not_treated_reason = _reason(allocated, disp.get("not_treated_reason"), NOT_RECORDED)
    dc_reason = _reason(allocated, disp.get("discontinued_reason"), NOT_RECORDED)
    if disp.get("analysis_exclusion_reason"):
        excl_reason = _reason(allocated, disp.get("analysis_exclusion_reason"), NOT_RECORDED)
    else:
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
    arm_values = arm[in_arm].to_numpy(dtype=object)
    for stage in ARM_STAGES:
        mask, reasons = stages[stage]
        for group in [*arms, total]:
            in_group = mask if group == total else mask & (arm_values == group)
            add(stage, group, int(in_group.sum()), population=pop_code)
            if reasons is not None:
                for reason, n in _reason_counts(reasons[in_group]):
                    add(stage, group, n, reason, population=pop_code)
    return concat_frames([records_frame(records)])


def consort_flow(data: TrialData) -> ConsortFlow:
    """The CONSORT flow of a trial (see :class:`ConsortFlow`)."""
    return ConsortFlow.from_frame(consort_ard(data), data.study)


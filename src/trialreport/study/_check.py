"""Check a study definition against the data before any analysis runs.

Every arm code, population flag, variable, parameter code and coded value the definition names
must exist in the data (a value may instead be a code of the variable's codelist in the
specification: a legitimate code that happens not to occur). Every subject of a population must
be in one of the declared arms, and every arm must have subjects in every population: otherwise a
typo would silently give a report with the wrong totals.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from trialreport.study._errors import StudyDefinitionError
from trialreport.study._study import Study

__all__ = ["check_against_data", "dataset_roles"]


def dataset_roles(study: Study) -> dict[str, tuple[Any, ...]]:
    """Every dataset role the definition reads, with the key path that names it first."""
    m = study.model
    roles: dict[str, tuple[Any, ...]] = {"adsl": ("datasets",)}

    def add(role: str | None, *loc: Any) -> None:
        if role is not None:
            roles.setdefault(role, loc)

    if m.disposition and m.disposition.screening:
        add(m.disposition.screening.dataset, "disposition", "screening", "dataset")
    for i, ep in enumerate(m.endpoints.binary):
        add(ep.dataset, "endpoints", "binary", i, "dataset")
    for i, tte in enumerate(m.time_to_event):
        add(tte.dataset, "time_to_event", i, "dataset")
    if m.safety:
        add(m.safety.dataset, "safety", "dataset")
    if m.exposure:
        for i, var in enumerate(m.exposure.variables):
            add(var.dataset, "exposure", "variables", i, "dataset")
    if m.swimmer:
        sw = m.swimmer
        if sw.exposure:
            add(sw.exposure.dataset, "swimmer", "exposure", "dataset")
        for key in ("response", "relapse"):
            crit = getattr(sw, key)
            if crit is not None and crit.dataset is not None:
                add(crit.dataset, "swimmer", key, "dataset")
    return roles


def _text(values: pd.Series) -> pd.Series:
    from trialreport.analysis_sets import as_text

    return as_text(values)


class _Checker:
    def __init__(self, study: Study, frames: Mapping[str, pd.DataFrame],
                 files: Mapping[str, Path], codelists: Mapping[tuple[str, str], Iterable[str]]):
        self.study = study
        self.frames = frames
        self.files = files
        self.codelists = {k: {str(c) for c in v} for k, v in codelists.items()}
        self.problems: list[str] = []

    def where(self, *loc: Any) -> str:
        return self.study.where(*loc)

    def file(self, role: str) -> str:
        path = self.files.get(role)
        return path.name if path is not None else role

    def has_dataset(self, role: str | None, *loc: Any) -> bool:
        if role is None:
            return False
        if role not in self.frames:
            self.problems.append(
                f"{self.where(*loc)}: dataset {role!r} is not in the data folder (datasets: "
                f"{', '.join(sorted(self.frames)) or 'none'}); check the name or 'datasets:'")
            return False
        return True

    def has_variable(self, role: str, name: str | None, *loc: Any) -> bool:
        if name is None or role not in self.frames:
            return False
        frame = self.frames[role]
        if name in frame.columns:
            return True
        near = difflib.get_close_matches(name, [str(c) for c in frame.columns], n=1, cutoff=0.6)
        hint = f"; did you mean {near[0]!r}?" if near else ""
        self.problems.append(f"{self.where(*loc)}: variable {name!r} is not in "
                             f"{self.file(role)}{hint}")
        return False

    def has_values(self, role: str, variable: str, wanted: Iterable[str], *loc: Any,
                   within: pd.Series | None = None) -> None:
        """Each wanted value occurs in the data (or is a code of the variable's codelist)."""
        if role not in self.frames or variable not in self.frames[role].columns:
            return
        column = self.frames[role][variable]
        if within is not None:
            column = column[within.to_numpy(dtype=bool)]
        present = set(_text(column).dropna())
        known = present | self.codelists.get((role, variable), set())
        for value in wanted:
            if str(value) not in known:
                near = difflib.get_close_matches(str(value), sorted(present), n=1, cutoff=0.6)
                hint = f"; did you mean {near[0]!r}?" if near else ""
                shown = ", ".join(repr(v) for v in sorted(present)[:12])
                self.problems.append(
                    f"{self.where(*loc)}: {value!r} is not a value of {variable} in "
                    f"{self.file(role)}{hint} (values: {shown or 'none'})")

    # -- blocks ------------------------------------------------------------------------------
    def datasets(self) -> None:
        for role, loc in dataset_roles(self.study).items():
            self.has_dataset(role, *loc)

    def arms_and_populations(self) -> None:
        study, m = self.study, self.study.model
        if "adsl" not in self.frames:
            return
        adsl = self.frames["adsl"]
        self.has_variable("adsl", m.subject_variable, "subject_variable")
        arm_vars = {study.arm_variable: ("arms", "variable")}
        for code, pop in study.populations.items():
            self.has_variable("adsl", pop.flag, "populations", code, "flag")
            arm_vars.setdefault(pop.arm_variable or study.arm_variable,
                                ("populations", code, "arm_variable"))
        for var, loc in arm_vars.items():
            self.has_variable("adsl", var, *loc)
        if study.arm_variable in adsl.columns:
            present = set(_text(adsl[study.arm_variable]).dropna())
            for i, arm in enumerate(study.arms):
                if arm.code not in present:
                    near = difflib.get_close_matches(arm.code, sorted(present), n=1,
                                                     cutoff=0.6)
                    hint = f"; did you mean {near[0]!r}?" if near else ""
                    self.problems.append(
                        f"{self.where('arms', 'levels', i, 'code')}: arm {arm.code!r} is not a "
                        f"value of {study.arm_variable} in {self.file('adsl')}{hint} (values: "
                        f"{', '.join(repr(v) for v in sorted(present))})")
        codes = set(study.arm_codes)
        for code, pop in study.populations.items():
            arm_var = pop.arm_variable or study.arm_variable
            if pop.flag not in adsl.columns or arm_var not in adsl.columns:
                continue
            inside = (_text(adsl[pop.flag]) == pop.flag_value).to_numpy(dtype=bool)
            if not inside.any():
                flags = sorted(set(_text(adsl[pop.flag]).dropna()))
                self.problems.append(
                    f"{self.where('populations', code, 'flag')}: no subject has {pop.flag} = "
                    f"{pop.flag_value!r} (values: {', '.join(map(repr, flags)) or 'none'})")
                continue
            arms = _text(adsl[arm_var])[inside]
            stray = arms[~arms.isin(codes)]
            if len(stray):
                values = ", ".join(repr(v) for v in sorted(set(stray.fillna("(missing)"))))
                self.problems.append(
                    f"{self.where('populations', code)}: {len(stray)} subject(s) of population "
                    f"{code} have {arm_var} values that are not arms of the study: {values} "
                    f"(add the arm under arms.levels, or correct the data)")
            counts = arms.value_counts()
            for arm in study.arm_codes:
                if arm in set(_text(adsl[study.arm_variable]).dropna()) and \
                        int(counts.get(arm, 0)) == 0:
                    self.problems.append(
                        f"{self.where('populations', code)}: arm {arm!r} has no subjects in "
                        f"population {code} ({pop.flag} = {pop.flag_value!r}, by {arm_var})")

    def variables(self) -> None:
        m = self.study.model
        if m.baseline:
            for i, var in enumerate(m.baseline.variables):
                self.has_variable("adsl", var.name, "baseline", "variables", i, "name")
        if m.exposure:
            for i, var in enumerate(m.exposure.variables):
                role = var.dataset or "adsl"
                if var.aggregate == "count":
                    continue
                self.has_variable(role, var.name, "exposure", "variables", i, "name")
        if m.disposition:
            d = m.disposition
            for key in ("randomised_flag", "treated_flag", "not_treated_reason", "status",
                        "discontinued_reason", "analysed_flag"):
                self.has_variable("adsl", getattr(d, key), "disposition", key)
            if d.status and d.status in self.frames.get("adsl", pd.DataFrame()).columns:
                self.has_values("adsl", d.status, [d.completed_value], "disposition",
                                "completed_value")
            if d.screening and d.screening.dataset in self.frames:
                for key in ("randomised_flag", "reason", "detail"):
                    self.has_variable(d.screening.dataset, getattr(d.screening, key),
                                      "disposition", "screening", key)

    def criterion(self, role: str, crit: Any, visit_var: str, *loc: Any) -> None:
        ok = [self.has_variable(role, crit.param_variable, *loc, "param_variable"),
              self.has_variable(role, crit.variable, *loc, "variable")]
        if not ok[0]:
            return
        self.has_values(role, crit.param_variable, [crit.paramcd], *loc, "paramcd")
        uses_visit = any(v is not None for v in (crit.visit, crit.from_visit,
                                                 crit.through_visit))
        if uses_visit:
            self.has_variable(role, visit_var, "endpoints", "visit_variable")
        if ok[1] and crit.values:
            frame = self.frames[role]
            of_param = _text(frame[crit.param_variable]) == crit.paramcd
            self.has_values(role, crit.variable, crit.values, *loc, "values", within=of_param)

    def endpoints(self) -> None:
        m = self.study.model
        visit_var = m.endpoints.visit_variable
        for i, ep in enumerate(m.endpoints.binary):
            if ep.dataset not in self.frames:
                continue
            for key in ("responder", "no_event", "assessed_at"):
                crit = getattr(ep, key)
                if crit is not None:
                    self.criterion(ep.dataset, crit, visit_var, "endpoints", "binary", i, key)

    def time_to_event(self) -> None:
        for i, tte in enumerate(self.study.model.time_to_event):
            role = tte.dataset
            if role not in self.frames:
                continue
            loc = ("time_to_event", i)
            if self.has_variable(role, tte.param_variable, *loc, "param_variable"):
                self.has_values(role, tte.param_variable, [tte.paramcd], *loc, "paramcd")
            self.has_variable(role, tte.time_variable, *loc, "time_variable")
            if self.has_variable(role, tte.censor_variable, *loc, "censor_variable"):
                frame = self.frames[role]
                of_param = (_text(frame[tte.param_variable]) == tte.paramcd) \
                    if tte.param_variable in frame else pd.Series(True, index=frame.index)
                cnsr = _text(frame.loc[of_param.to_numpy(dtype=bool), tte.censor_variable])
                bad = sorted(set(cnsr.dropna()) - {"0", "1"})
                if bad or cnsr.isna().any():
                    self.problems.append(
                        f"{self.where(*loc, 'censor_variable')}: {tte.censor_variable} must be "
                        f"0 (event) or 1 (censored) for {tte.paramcd}; found "
                        f"{', '.join(map(repr, bad)) or 'missing values'} in {self.file(role)}")

    def safety(self) -> None:
        s = self.study.model.safety
        if s is None or s.dataset not in self.frames:
            return
        role = s.dataset
        for key in ("treatment_emergent_flag", "soc", "term", "outcome", "start_day"):
            self.has_variable(role, getattr(s, key), "safety", key)
        if s.treatment_emergent_flag:
            self.has_values(role, s.treatment_emergent_flag, ["Y"], "safety",
                            "treatment_emergent_flag")
        for key in ("serious", "related", "fatal", "leading_to_discontinuation"):
            flag = getattr(s, key)
            if flag is not None and self.has_variable(role, flag.variable, "safety", key,
                                                      "variable"):
                self.has_values(role, flag.variable, flag.values, "safety", key, "values")
        if s.severity is not None and self.has_variable(role, s.severity.variable, "safety",
                                                        "severity", "variable"):
            present = set(_text(self.frames[role][s.severity.variable]).dropna())
            unknown = sorted(present - set(s.severity.levels))
            if unknown:
                self.problems.append(
                    f"{self.where('safety', 'severity', 'levels')}: {s.severity.variable} has "
                    f"values that are not severity levels: {', '.join(map(repr, unknown))} "
                    f"(levels: {', '.join(s.severity.levels)})")

    def swimmer(self) -> None:
        sw = self.study.model.swimmer
        if sw is None:
            return
        self.has_variable("adsl", sw.origin, "swimmer", "origin")
        self.has_variable("adsl", sw.end, "swimmer", "end")
        if sw.exposure and sw.exposure.dataset in self.frames:
            self.has_variable(sw.exposure.dataset, sw.exposure.day, "swimmer", "exposure", "day")
        default = self.study.model.endpoints.binary[0].dataset \
            if self.study.model.endpoints.binary else None
        for key in ("response", "relapse"):
            crit = getattr(sw, key)
            if crit is None:
                continue
            role = crit.dataset or default
            if role is None or role not in self.frames:
                self.problems.append(f"{self.where('swimmer', key)}: give 'dataset:' (no "
                                     "binary endpoint names one)")
                continue
            if self.has_variable(role, crit.param_variable, "swimmer", key, "param_variable"):
                self.has_values(role, crit.param_variable, [crit.paramcd], "swimmer", key,
                                "paramcd")
            self.has_variable(role, crit.variable, "swimmer", key, "variable")

    def outputs(self) -> None:
        from trialreport.outputs import output_type

        for spec in self.study.output_specs:
            otype = output_type(spec.type)
            roles = otype.datasets(self.study, spec) if otype.datasets else []
            for role in roles:
                self.has_dataset(role, "outputs", spec.index, "type")


def check_against_data(study: Study, frames: Mapping[str, pd.DataFrame],
                       files: Mapping[str, Path] | None = None,
                       codelists: Mapping[tuple[str, str], Iterable[str]] | None = None) -> None:
    """Raise :class:`StudyDefinitionError` listing every name or value of the definition that
    the data do not have (``frames``: datasets by role; ``codelists``: codes of
    ``(role, variable)`` from the specification)."""
    checker = _Checker(study, frames, files or {}, codelists or {})
    checker.datasets()
    checker.arms_and_populations()
    checker.variables()
    checker.endpoints()
    checker.time_to_event()
    checker.safety()
    checker.swimmer()
    checker.outputs()
    if checker.problems:
        unique = list(dict.fromkeys(checker.problems))
        raise StudyDefinitionError(unique)

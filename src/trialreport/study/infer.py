"""A first study definition inferred from CDISC ADaM standard variables (``trialreport init``).

:func:`infer_study` reads the validated datasets and their specification and returns the
definition as a mapping, with what it could not know listed: the facts about the trial that no
dataset holds (sponsor, phase, protocol, registrations, design, objectives, GCP statement) are
never invented but written as commented placeholders, and every choice made from the data (the
reference arm, the values counted as related, the time unit) is noted for a person to confirm.
:func:`study_yaml` writes it the way ``data_spec/study.yml`` is written by hand: one entry per
line, with comments.

What is read (ADaM IG names):

* arms: ``TRT01P`` (else ``ARM``) of the subjects in any population, ordered by ``TRT01PN``;
  the reference is the one arm whose name says placebo, control or vehicle;
* populations: the flags ``RANDFL``, ``ITTFL``, ``MITTFL``, ``FASFL``, ``EFFFL``, ``PPROTFL``,
  ``SAFFL`` (the safety set by ``TRT01A``, the actual arm, when every treated subject's
  actual arm is an arm of the study);
* disposition: ``RANDFL`` (else ``ITTFL``), ``SAFFL``, ``EOSSTT``, ``DCSREAS``;
* baseline: ``AGE``, ``AGEGR1``, ``SEX``, ``RACE``, ``ETHNIC``, ``COUNTRY``, ``REGION1``,
  ``HEIGHTBL``, ``WEIGHTBL``, ``BMIBL``, ``BMIBLGR1`` and other ``*BL`` variables
  (continuous or categorical from the specification's type and codelist);
* exposure: ``TRTDURD``;
* safety (ADAE): ``TRTEMFL``, ``AEBODSYS``, ``AEDECOD``, ``AESER``, ``ASEV``/``AESEV``
  (or ``ATOXGR``/``AETOXGR``), ``AREL``/``AEREL``, ``AEOUT``, ``AEACN``, ``ASTDY``;
* time to event (ADTTE): one parameter per ``PARAMCD`` with ``AVAL``, ``CNSR``, ``PARAM``,
  ``AVALU``.

Binary endpoints are not inferred: which parameter, visit and values make a responder is a
decision of the statistical analysis plan, so a commented example is written instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from trialreport.analysis_sets import as_text
from trialreport.spec.model import DatasetSpec, Specification
from trialreport.spec.yaml_out import flow
from trialreport.study._model import NAME_PATTERN

__all__ = ["InferenceError", "InferredStudy", "infer_study", "related_values",
           "severity_levels", "study_yaml"]

#: Population flags in the order the definition lists them: (flag, code, label).
POPULATION_FLAGS = (("RANDFL", "RAND", "Randomised set"),
                    ("ITTFL", "ITT", "Intention-to-treat set"),
                    ("MITTFL", "MITT", "Modified intention-to-treat set"),
                    ("FASFL", "FAS", "Full analysis set"),
                    ("EFFFL", "EFF", "Efficacy set"),
                    ("PPROTFL", "PP", "Per-protocol set"),
                    ("SAFFL", "SAF", "Safety set"))
#: Which population describes the patients and carries the efficacy analyses, first found.
PRIMARY_ORDER = ("ITT", "FAS", "MITT", "EFF", "RAND", "PP", "SAF")
BASELINE_VARIABLES = ("AGE", "AGEGR1", "SEX", "RACE", "ETHNIC", "COUNTRY", "REGION1",
                      "HEIGHTBL", "WEIGHTBL", "BMIBL", "BMIBLGR1")
#: A baseline ``*BL`` text variable without a codelist is shown only up to this many values.
MAX_LEVELS = 20
REFERENCE_WORDS = re.compile(r"\b(placebo|control|vehicle)\b", re.IGNORECASE)
SEVERITY_SCALE = ("MILD", "MODERATE", "SEVERE")
GRADE = re.compile(r"^(?:GRADE\s*)?([1-5])$", re.IGNORECASE)
#: Causality values that say "not related"; every other value counts as related (the
#: conservative reading: an unclear assessment is not taken as "not related").
NOT_RELATED = re.compile(r"^(NOT\b.*|UNRELATED|NONE|NO|N)$", re.IGNORECASE)
TIME_UNITS = {"DAY": "days", "DAYS": "days", "D": "days", "WEEK": "weeks", "WEEKS": "weeks",
              "MONTH": "months", "MONTHS": "months", "YEAR": "years", "YEARS": "years"}
UNIT_IN_LABEL = re.compile(r"\s*\((days?|weeks?|months?|years?)\)\s*$", re.IGNORECASE)
#: Show times in months when the longest time is at least this many (stored) units.
MONTHS_FROM = {"days": 183.0, "weeks": 26.0}
#: Facts about the trial that no dataset holds: (key, example written as a placeholder).
FACT_PLACEHOLDERS = (
    ("protocol", "{text: PROTOCOL-ID version and date, source: protocol}"),
    ("sponsor", "{text: Sponsor name, source: protocol}"),
    ("phase", "{text: III, source: protocol}"),
    ("indication", "{text: The disease studied, source: protocol}"),
    ("investigational_product", "{text: Drug name, dose and route, source: protocol}"),
    ("design", "{text: 'Randomised, double-blind, parallel-group ...', source: protocol}"),
    ("objectives", "{text: The primary and secondary objectives, source: protocol}"),
    ("treatment", "{text: Doses and schedule of each arm, source: protocol}"),
    ("eligibility", "{text: Main inclusion and exclusion criteria, source: protocol}"),
    ("gcp_statement", "{text: 'The study was conducted in accordance with ICH E6 Good "
                      "Clinical Practice ...', source: protocol}"),
)


class InferenceError(ValueError):
    """The datasets lack what any study definition needs (an arm variable, a population
    flag); the message names the dataset and the variables looked for."""


@dataclass
class InferredStudy:
    """A study definition inferred from ADaM data, with what a person must still do.

    ``mapping`` is the definition (it loads with :func:`trialreport.study.load_study`);
    ``placeholders`` the facts and settings to fill in; ``notes`` the choices made from the
    data, to confirm; ``comments`` end-of-line comments by key path and ``commented`` the
    commented-out lines (placeholders, examples) written at the end of a top-level block.
    """

    mapping: dict[str, Any]
    placeholders: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    comments: dict[tuple[Any, ...], str] = field(default_factory=dict)
    commented: dict[str, list[str]] = field(default_factory=dict)
    primary_population: str = ""

    @property
    def outputs(self) -> list[dict[str, Any]]:
        """The numbered outputs, in definition order."""
        return list(self.mapping.get("outputs", []))

    def output(self, name: str) -> dict[str, Any] | None:
        """The output called ``name``, if the data support it."""
        return next((o for o in self.outputs if o["name"] == name), None)

    def yaml(self) -> str:
        """The definition as commented YAML (see :func:`study_yaml`)."""
        return study_yaml(self)


class _Data:
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


def _name(text: str, fallback: str) -> str:
    """``text`` as a Name (letters, digits, ``_ . -``, starting with a letter)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-_.")[:64]
    if name and not name[0].isalpha():
        name = f"S-{name}"[:64]
    return name if re.match(NAME_PATTERN, name or "") else fallback


class _Inference:
    def __init__(self, data: _Data, title: str | None, default_id: str):
        self.data = data
        self.title = title
        self.default_id = default_id
        self.result = InferredStudy(mapping={})
        self.arms: list[str] = []
        self.reference: str | None = None
        self.populations: dict[str, dict[str, Any]] = {}

    # -- small helpers ----------------------------------------------------------------------
    def note(self, text: str) -> None:
        self.result.notes.append(text)

    def todo(self, text: str) -> None:
        self.result.placeholders.append(text)

    def comment(self, text: str, *path: Any) -> None:
        self.result.comments[path] = text

    # -- blocks -----------------------------------------------------------------------------
    def identification(self) -> dict[str, Any]:
        d = self.data
        ids = d.values("adsl", "STUDYID") if d.has("adsl", "STUDYID") else []
        if len(ids) > 1:
            self.note(f"ADSL holds {len(ids)} values of STUDYID ({', '.join(ids[:5])}); the "
                      f"study is named after the first")
        if ids:
            study_id = _name(ids[0], _name(self.default_id, "STUDY"))
            if study_id != ids[0]:
                self.note(f"study.id {study_id!r} is STUDYID {ids[0]!r} made a file name")
            self.comment("STUDYID in ADSL; names the report's files", "study", "id")
        else:
            study_id = _name(self.default_id, "STUDY")
            self.todo("study.id: ADSL has no STUDYID, so the study is named after its "
                      f"folder ({study_id}); change it if needed")
        sources: dict[str, Any] = {"data": {"type": "data",
                                            "citation": "the ADaM datasets in data/"}}
        if self.title:
            sources["init"] = {"type": "other", "citation": "given to trialreport init"}
            title = {"text": self.title, "source": "init"}
        else:
            title = {"text": f"Study {ids[0] if ids else study_id}", "source": "data"}
            self.todo("study.title: the data give only the study identifier; write the "
                      "protocol title (and add the protocol under sources)")
        self.result.commented["sources"] = [
            "# TODO add the source of each fact below, for example:",
            "# protocol: {type: protocol, citation: 'Protocol ... version ..., date'}",
            "# registry: {type: registry, citation: 'ClinicalTrials.gov NCT00000000'}",
        ]
        study: dict[str, Any] = {"id": study_id, "title": title}
        lines = ["# TODO facts no dataset holds: write each from its source (a key of",
                 "# sources:) or leave it out ('Not stated in the sources'):",
                 "# registrations:",
                 "#   - {registry: ClinicalTrials.gov, id: NCT00000000, source: registry}"]
        lines += [f"# {key}: {example}" for key, example in FACT_PLACEHOLDERS]
        self.result.commented["study"] = lines
        self.todo("study facts (not in the data): registrations, "
                  + ", ".join(key.replace("_", " ") for key, _ in FACT_PLACEHOLDERS)
                  + " - each with its source under sources:")
        self.result.mapping.update({"report": {"version": "0.1.0", "status": "Draft"},
                                    "sources": sources, "study": study})
        return study

    def arm_block(self) -> None:
        d = self.data
        if not d.has("adsl", "USUBJID"):
            raise InferenceError("ADSL has no USUBJID (the unique subject identifier)")
        variable = d.first("adsl", "TRT01P", "ARM")
        if variable is None:
            raise InferenceError("ADSL has no planned treatment variable (TRT01P, or ARM): "
                                 "the arms cannot be named")
        if variable != "TRT01P":
            self.note("ADSL has no TRT01P: the arms are the values of ARM")
        flags = [f for f, _, _ in POPULATION_FLAGS if d.has("adsl", f)
                 and (d.text("adsl", f) == "Y").any()]
        if not flags:
            raise InferenceError("ADSL has no population flag with a subject flagged Y (looked "
                                 "for " + ", ".join(f for f, _, _ in POPULATION_FLAGS) + ")")
        adsl = d.frames["adsl"]
        inside = pd.concat([d.text("adsl", f) == "Y" for f in flags], axis=1).any(axis=1)
        arms_text = d.text("adsl", variable)
        present = list(dict.fromkeys(arms_text[inside.to_numpy()].dropna()))
        left_out = sorted(set(arms_text.dropna()) - set(present))
        if left_out:
            self.note(f"{variable} values held only by subjects in no population are not arms: "
                      + ", ".join(left_out))
        number = "TRT01PN" if variable == "TRT01P" else "ARMN"
        order = {code: i for i, code in enumerate(d.codes("adsl", variable))}
        if d.has("adsl", number):
            pairs = pd.DataFrame({"arm": arms_text, "n": pd.to_numeric(adsl[number])}).dropna()
            per_arm = pairs.groupby("arm")["n"].agg(["min", "max"])
            if (per_arm["min"] == per_arm["max"]).all():
                order = {str(a): float(v) for a, v in per_arm["min"].items()}
                self.comment(f"planned arm; display order by {number}", "arms", "variable")
            else:
                self.note(f"{number} is not one number per arm; the arms are in "
                          f"{'codelist' if order else 'alphabetical'} order")
        self.arms = sorted(present, key=lambda a: (order.get(a, float("inf")), a))
        matches = [a for a in self.arms if REFERENCE_WORDS.search(a)]
        self.reference = matches[0] if len(matches) == 1 and len(self.arms) > 1 else None
        arms: dict[str, Any] = {"variable": variable,
                                "levels": [{"code": a, "label": a} for a in self.arms],
                                "total": "Total"}
        if self.reference is not None:
            arms["reference"] = self.reference
            self.comment("its name says placebo, control or vehicle; every other arm is "
                         "compared with it", "arms", "reference")
            self.note(f"reference arm: {self.reference} (between-arm statistics against it)")
        else:
            why = (f"{len(matches)} arms ({', '.join(matches)})" if matches else "no arm")
            self.note(f"no reference arm: {why} named placebo, control or vehicle, so there "
                      "are no between-arm statistics; set arms.reference to add them")
            self.result.commented["arms"] = [
                "# reference: <an arm code>   # TODO set to compare every other arm with it"]
        self.comment("labels are the codes: shorten them for table headers", "arms", "levels")
        self.todo("arms.levels: labels are the data's codes; shorten them if the table "
                  "headers need it")
        self.result.mapping["arms"] = arms

    def population_block(self) -> None:
        d = self.data
        arm_variable = self.result.mapping["arms"]["variable"]
        pops: dict[str, dict[str, Any]] = {}
        for flag, code, label in POPULATION_FLAGS:
            if not d.has("adsl", flag):
                continue
            inside = (d.text("adsl", flag) == "Y").to_numpy()
            if not inside.any():
                self.note(f"{flag} is in ADSL but no subject has {flag} = Y: no population")
                continue
            by = arm_variable
            if code == "SAF" and arm_variable == "TRT01P" and d.has("adsl", "TRT01A"):
                actual = d.text("adsl", "TRT01A")[inside]
                if actual.isin(self.arms).all():
                    by = "TRT01A"
                else:
                    stray = sorted(set(actual[~actual.isin(self.arms)].fillna("(missing)")))
                    self.note(f"the safety set is analysed by TRT01P: some treated subjects' "
                              f"TRT01A is not an arm ({', '.join(stray)})")
            arm_of = d.text("adsl", by)[inside]
            empty = [a for a in self.arms if not (arm_of == a).any()]
            if empty:
                self.note(f"no population {code}: arm(s) {', '.join(empty)} have no subject "
                          f"with {flag} = Y")
                continue
            missing = int(arm_of.isna().sum())
            if missing:
                raise InferenceError(f"{missing} subject(s) with {flag} = Y in ADSL have no "
                                     f"{by}: each subject of population {code} needs an arm")
            pops[code] = {"label": label, "flag": flag, "arm_variable": by}
            if by == "TRT01A":
                self.comment("analysed as treated (actual arm)", "populations", code)
        if not pops:
            raise InferenceError("no population flag of ADSL gives subjects in every arm")
        self.populations = pops
        self.result.primary_population = next(c for c in PRIMARY_ORDER if c in pops) \
            if any(c in pops for c in PRIMARY_ORDER) else next(iter(pops))
        self.todo("populations: write each definition from the SAP (definition: ...)")
        self.result.mapping["populations"] = pops

    def population_of(self, *codes: str) -> str:
        return next((c for c in codes if c in self.populations), self.result.primary_population)

    def disposition_block(self) -> None:
        d = self.data
        randomised = next((f for f in ("RANDFL", "ITTFL") if f in
                           {p["flag"] for p in self.populations.values()}), None)
        if randomised is None or "SAF" not in self.populations:
            self.note("no disposition or CONSORT diagram: they need a randomised flag "
                      "(RANDFL or ITTFL) and SAFFL in ADSL")
            return
        disp: dict[str, Any] = {"randomised_flag": randomised, "treated_flag": "SAFFL"}
        if d.has("adsl", "DCSREAS"):
            disp["not_treated_reason"] = "DCSREAS"
        if d.has("adsl", "EOSSTT") and "COMPLETED" in d.known("adsl", "EOSSTT"):
            disp["status"] = "EOSSTT"
            disp["completed_value"] = "COMPLETED"
        else:
            disp["status"] = None
            self.note("disposition: no EOSSTT with the value COMPLETED, so completion is not "
                      "shown")
        disp["discontinued_reason"] = "DCSREAS" if d.has("adsl", "DCSREAS") else None
        primary = self.populations[self.result.primary_population]["flag"]
        disp["analysed_flag"] = primary
        self.comment("no screening log in ADaM: add screening: {dataset: ...} for the "
                     "CONSORT enrolment box", "disposition", "randomised_flag")
        self.result.mapping["disposition"] = disp

    def _variable_entry(self, name: str) -> dict[str, Any] | None:
        d = self.data
        var = d.variable("adsl", name)
        values = d.frames["adsl"][name]
        if var is None or var.type == "date" or values.isna().all():
            return None
        entry: dict[str, Any] = {"name": name, "label": d.label("adsl", name)}
        if var.type in ("integer", "number") and not var.codelist:
            entry["type"] = "continuous"
        else:
            entry["type"] = "categorical"
            if var.codelist:
                codes = d.codes("adsl", name)
                entry["levels"] = {c: str(v) for c, v in zip(codes, var.codelist.values(),
                                                                strict=True)}
        return entry

    def baseline_block(self) -> None:
        d = self.data
        adsl = d.frames["adsl"]
        extra = [str(c) for c in adsl.columns if re.fullmatch(r"[A-Z][A-Z0-9]*BL(GR\d)?",
                                                              str(c))
                 and str(c) not in BASELINE_VARIABLES and not str(c).endswith("FL")]
        variables = []
        for name in [*BASELINE_VARIABLES, *extra]:
            if name in adsl.columns:
                entry = self._variable_entry(name)
                if entry is not None and name in extra and entry["type"] == "categorical" \
                        and "levels" not in entry and len(d.values("adsl", name)) > MAX_LEVELS:
                    self.note(f"baseline: {name} left out (text with more than {MAX_LEVELS} "
                              "values and no codelist)")
                    continue
                if entry is not None:
                    variables.append(entry)
        if not variables:
            self.note("no baseline table: ADSL has none of the demographic variables "
                      + ", ".join(BASELINE_VARIABLES))
            return
        for entry in variables:  # "Age" in the units of AGEU when ADSL states one
            if entry["name"] == "AGE" and d.has("adsl", "AGEU"):
                units = d.values("adsl", "AGEU")
                if len(units) == 1:
                    entry["label"] = f"{entry['label']}, {units[0].lower()}"
        population = self.result.primary_population
        self.result.mapping["baseline"] = {"population": population, "tests": False,
                                           "variables": variables}
        self.comment("CONSORT 2010 item 15: no tests of baseline differences", "baseline",
                     "tests")
        self.comment("labels from the specification; levels from its codelists",
                     "baseline", "variables")

    def exposure_block(self) -> None:
        if not self.data.has("adsl", "TRTDURD"):
            self.note("no exposure table: ADSL has no TRTDURD (treatment duration in days)")
            return
        entry = self._variable_entry("TRTDURD")
        if entry is None or entry["type"] != "continuous":
            self.note("no exposure table: TRTDURD is empty or not numeric")
            return
        self.result.mapping["exposure"] = {"population": self.population_of("SAF"),
                                           "variables": [entry]}

    def tte_block(self) -> None:
        d = self.data
        if not d.has("adtte", "PARAMCD", "AVAL", "CNSR"):
            if "adtte" in d.frames:
                self.note("no time-to-event analyses: ADTTE lacks PARAMCD, AVAL or CNSR")
            return
        frame = d.frames["adtte"]
        paramcd = d.text("adtte", "PARAMCD")
        population = self.result.primary_population
        pop_flag = self.populations[population]["flag"]
        adsl = d.frames["adsl"]
        members = set(adsl.loc[(d.text("adsl", pop_flag) == "Y").to_numpy(), "USUBJID"]) \
            if "USUBJID" in adsl else set()
        entries, used = [], set()
        for code in d.known("adtte", "PARAMCD"):
            rows = (paramcd == code).to_numpy()
            if not rows.any():
                continue
            cnsr = as_text(frame.loc[rows, "CNSR"])
            aval = pd.to_numeric(frame.loc[rows, "AVAL"], errors="coerce")
            if cnsr.isna().any() or not set(cnsr) <= {"0", "1"}:
                self.note(f"time to event {code}: CNSR is not 0 or 1 on every record; left out")
                continue
            if aval.isna().any() or (aval < 0).any():
                self.note(f"time to event {code}: AVAL is missing or negative; left out")
                continue
            if "USUBJID" in frame and not frame.loc[rows, "USUBJID"].isin(members).any():
                self.note(f"time to event {code}: no subject of population {population}; "
                          "left out")
                continue
            ident = _name(code, f"TTE{len(entries) + 1}")
            if ident in used:
                ident = f"{ident}-{len(entries) + 1}"
            used.add(ident)
            label = code
            if d.has("adtte", "PARAM"):
                params = list(dict.fromkeys(as_text(frame.loc[rows, "PARAM"]).dropna()))
                label = UNIT_IN_LABEL.sub("", params[0]) if params else code
            unit, unit_note = "days", "no AVALU: times taken as days"
            if d.has("adtte", "AVALU"):
                units = list(dict.fromkeys(as_text(frame.loc[rows, "AVALU"]).dropna()))
                mapped = {TIME_UNITS.get(u.upper()) for u in units}
                if len(mapped) == 1 and None not in mapped:
                    unit, unit_note = mapped.pop(), ""
                else:
                    self.note(f"time to event {code}: AVALU {units} is not one unit of days, "
                              "weeks, months or years; left out")
                    continue
            entry: dict[str, Any] = {"id": ident, "label": label, "dataset": "adtte",
                                     "paramcd": code, "population": population,
                                     "time_unit": unit}
            if unit in MONTHS_FROM and float(aval.max()) >= MONTHS_FROM[unit]:
                entry["display_unit"] = "months"
            if unit_note:
                self.note(f"time to event {code}: {unit_note}")
                self.todo(f"time_to_event {ident}: confirm the time unit (days assumed: "
                          "ADTTE has no AVALU)")
            entries.append(entry)
        if entries:
            self.result.mapping["time_to_event"] = entries

    def safety_block(self) -> None:
        d = self.data
        if "adae" not in d.frames:
            self.note("no safety tables: no ADAE dataset")
            return
        missing = [v for v in ("USUBJID", "AEBODSYS", "AEDECOD", "AESER")
                   if not d.has("adae", v)]
        if missing:
            self.note(f"no safety tables: ADAE lacks {', '.join(missing)}")
            return
        safety: dict[str, Any] = {"population": self.population_of("SAF"), "dataset": "adae"}
        if safety["population"] != "SAF":
            self.note(f"adverse events are counted in population {safety['population']}: "
                      "ADSL has no usable SAFFL")
        if d.has("adae", "TRTEMFL") and "Y" in d.known("adae", "TRTEMFL"):
            safety["treatment_emergent_flag"] = "TRTEMFL"
        else:
            safety["treatment_emergent_flag"] = None
            self.note("ADAE has no TRTEMFL: every adverse event record is counted")
            self.todo("safety.treatment_emergent_flag: ADAE has no TRTEMFL, so every record "
                      "counts as treatment-emergent; confirm")
        if "Y" not in d.known("adae", "AESER"):
            self.note("no safety tables: AESER has no value Y (in the data or its codelist)")
            return
        safety["serious"] = {"variable": "AESER", "value": "Y"}
        related = d.first("adae", "AREL", "AEREL")
        if related is not None:
            values = related_values(d.known("adae", related))
            if values:
                safety["related"] = {"variable": related, "values": values}
                self.comment("TODO confirm: the values counted as related", "safety",
                             "related")
                self.todo(f"safety.related: confirm the {related} values counted as related: "
                          + ", ".join(values) + " (every value not meaning 'not related')")
        severity = self._severity()
        if severity is not None:
            safety["severity"] = severity
        if d.has("adae", "AEOUT") and "FATAL" in d.known("adae", "AEOUT"):
            safety["fatal"] = {"variable": "AEOUT", "value": "FATAL"}
        elif d.has("adae", "AESDTH") and "Y" in d.known("adae", "AESDTH"):
            safety["fatal"] = {"variable": "AESDTH", "value": "Y"}
        if d.has("adae", "AEACN") and "DRUG WITHDRAWN" in d.known("adae", "AEACN"):
            safety["leading_to_discontinuation"] = {"variable": "AEACN",
                                                    "value": "DRUG WITHDRAWN"}
        safety["soc"], safety["term"] = "AEBODSYS", "AEDECOD"
        if d.has("adae", "AEOUT"):
            safety["outcome"] = "AEOUT"
        start = d.first("adae", "ASTDY", "AESTDY")
        if start is not None:
            safety["start_day"] = start
        if self.reference is not None:
            safety["statistics"] = {"test": "fisher", "difference_method": "newcombe",
                                    "conf_level": 0.95}
            self.comment("against the reference arm", "safety", "statistics")
        self.result.mapping["safety"] = safety

    def _severity(self) -> dict[str, Any] | None:
        d = self.data
        for name in ("ASEV", "AESEV", "ATOXGR", "AETOXGR"):
            if not d.has("adae", name):
                continue
            values = d.known("adae", name)
            if not values:
                continue
            levels = severity_levels(values)
            if levels is None:
                self.note(f"no severity tables: {name} values are neither mild/moderate/severe "
                          f"nor grades 1 to 5 ({', '.join(values[:6])})")
                return None
            self.comment("mildest first; the last is 'the worst severity'", "safety",
                         "severity")
            self.note(f"severity from {name}: {' < '.join(levels)}")
            return {"variable": name, "levels": levels}
        return None

    def endpoint_example(self) -> None:
        d = self.data
        bds = [r for r in d.frames if r not in ("adsl", "adae", "adtte")
               and d.has(r, "PARAMCD", "AVALC")]
        lines = ["# endpoints:   # TODO binary endpoints cannot be inferred from the data: "
                 "write them from the SAP, e.g."]
        population = self.result.primary_population
        if bds:
            role = bds[0]
            params = d.known(role, "PARAMCD")
            frame, paramcd = d.frames[role], d.text(role, "PARAMCD")
            example, values, visit = "RESP", ["Y"], "12"
            for code in params:  # the first parameter with a coded result (AVALC)
                rows = (paramcd == code).to_numpy()
                found = list(dict.fromkeys(as_text(frame.loc[rows, "AVALC"]).dropna()))
                if found:
                    example, values = code, (["Y"] if "Y" in found else found[:1])
                    if "AVISITN" in frame:
                        visits = as_text(frame.loc[rows, "AVISITN"]).dropna()
                        visit = visits.iloc[-1] if len(visits) else visit
                    break
            lines += [f"#   binary:   # parameters of {role}: {', '.join(params[:8])}",
                      "#     - {id: RESP, label: Response at visit " + visit
                      + f", population: {population}, dataset: {role},",
                      "#        responder: {paramcd: " + example + ", visit: " + visit
                      + ", values: " + flow(values) + "}, primary: true}"]
        else:
            lines += ["#   binary:",
                      "#     - {id: RESP, label: Response at week 12, population: "
                      f"{population}, dataset: adrs,",
                      "#        responder: {paramcd: RESP, visit: 12, values: [Y]}, "
                      "primary: true}"]
        self.result.commented["endpoints"] = lines
        self.todo("endpoints.binary: responder endpoints are not inferred; write them from "
                  "the SAP and add an output of type binary_endpoints"
                  + (f" (dataset {bds[0]} has PARAMCD and AVALC)" if bds else ""))

    def outputs_block(self) -> None:
        m = self.result.mapping
        out: list[dict[str, Any]] = []
        counters: dict[tuple[str, str], int] = {}

        def add(section: str, kind: str, **entry: Any) -> None:
            counters[(section, kind)] = counters.get((section, kind), 0) + 1
            out.append({"id": f"{section}.{counters[(section, kind)]}", **entry})

        primary = self.result.primary_population
        if "disposition" in m:
            add("14.1", "figure", name="consort", type="consort",
                title="CONSORT 2010 flow diagram")
            rand = next(c for c, p in self.populations.items()
                        if p["flag"] == m["disposition"]["randomised_flag"])
            add("14.1", "table", name="disposition", type="disposition",
                title="Disposition of randomised patients", population=rand)
        add("14.1", "table", name="analysis_sets", type="population_sets",
            title="Analysis sets", population=next(iter(self.populations)))
        if "baseline" in m:
            add("14.1", "table", name="baseline", type="baseline",
                title="Demographic and baseline characteristics", population=primary)
        if "exposure" in m:
            add("14.1", "table", name="exposure", type="exposure",
                title="Extent of exposure", population=m["exposure"]["population"])
        for tte in m.get("time_to_event", []):
            slug = re.sub(r"[^a-z0-9]+", "_", tte["id"].lower()).strip("_")
            add("14.2", "table", name=f"tte_{slug}", type="time_to_event", param=tte["id"],
                title=f"{tte['label']} (Kaplan-Meier estimates)", population=primary)
            add("14.2", "figure", name=f"km_{slug}", type="km", param=tte["id"],
                title=f"Kaplan-Meier estimate of {_lower_first(tte['label'])} by arm",
                population=primary)
        safety = m.get("safety")
        if safety is not None:
            pop = safety["population"]
            add("14.3", "table", name="ae_overview", type="ae_overview",
                title="Overview of treatment-emergent adverse events", population=pop)
            add("14.3", "table", name="teae_soc_pt", type="ae_soc_pt", filter="all",
                title="Treatment-emergent adverse events by system organ class and preferred "
                      "term", population=pop)
            if "severity" in safety:
                add("14.3", "table", name="teae_severity", type="ae_severity",
                    title="Treatment-emergent adverse events by system organ class, preferred "
                          "term and maximum severity", population=pop)
            subsets = (("related", "related_soc_pt", "related",
                        "Related treatment-emergent adverse events"),
                       ("serious", "sae_soc_pt", "serious", "Serious adverse events"),
                       ("fatal", "fatal_soc_pt", "fatal", "Adverse events with fatal outcome"),
                       ("leading_to_discontinuation", "disc_soc_pt",
                        "leading_to_discontinuation",
                        "Adverse events leading to discontinuation of study treatment"))
            for setting, name, kind, title in subsets:
                if setting in safety:
                    add("14.3", "table", name=name, type="ae_soc_pt", filter=kind,
                        statistics=False, title=f"{title} by system organ class and preferred "
                                                "term", population=pop)
            columns = ["soc", "pt"] + [col for col, key in
                                       (("start_day", "start_day"),
                                        ("severity_text", "severity"),
                                        ("relatedness", "related"),
                                        ("outcome", "outcome")) if key in safety]
            out.append({"id": "14.3.2", "name": "sae_listing", "type": "ae_listing",
                        "filter": "serious", "columns": columns,
                        "title": "Listing of serious adverse events", "population": pop})
        m["outputs"] = out

    def run(self) -> InferredStudy:
        self.identification()
        self.result.mapping["datasets"] = {role: stem for role, stem in
                                           self.data.stems.items()}
        self.comment("dataset role -> file stem in data/", "datasets")
        self.arm_block()
        self.population_block()
        self.disposition_block()
        self.baseline_block()
        self.exposure_block()
        self.endpoint_example()
        self.tte_block()
        self.safety_block()
        self.outputs_block()
        return self.result


def related_values(values: list[str]) -> list[str]:
    """The causality values counted as related: every value that does not say "not related"
    (NOT RELATED, NOT SUSPECTED, UNRELATED, NONE, NO, N), so that an unclear assessment
    ("UNLIKELY", "POSSIBLE") counts as related, the conservative reading for safety."""
    return [v for v in values if not NOT_RELATED.match(v.strip())]


def severity_levels(values: list[str]) -> list[str] | None:
    """Severity levels from mildest to worst for the values of a severity variable: the
    mild/moderate/severe scale (all three, in the data's letter case) or toxicity grades 1 to 5
    in numeric order (those present); ``None`` for any other values."""
    if {v.upper() for v in values} <= set(SEVERITY_SCALE):
        style = values[0]
        case = str.upper if style.isupper() else str.title if style.istitle() else str.lower
        by_upper = {v.upper(): v for v in values}
        return [by_upper.get(s, case(s)) for s in SEVERITY_SCALE]
    grades = [GRADE.match(v) for v in values]
    if all(grades):
        return [v for _, v in sorted(zip((int(g.group(1)) for g in grades), values,
                                         strict=True))]
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def infer_study(frames: Mapping[str, pd.DataFrame], spec: Specification, *,
                title: str | None = None, default_id: str = "STUDY") -> InferredStudy:
    """The study definition the ADaM datasets support.

    ``frames``: the validated datasets by dataset name (``ValidationReport.datasets``);
    ``spec``: their specification (types, labels, codelists); ``title``: the study title when
    the user gives one (source "given to trialreport init"); ``default_id``: the study id when
    ADSL has no STUDYID. Raises :class:`InferenceError` when there is no ADSL, no arm variable
    or no population flag.
    """
    if not any(spec.datasets[name].file.lower() == "adsl" for name in frames):
        raise InferenceError("no ADSL dataset (adsl.xpt, adsl.csv or adsl.parquet)")
    return _Inference(_Data(frames, spec), title, default_id).run()


def study_yaml(inferred: InferredStudy) -> str:
    """The definition as YAML with comments (see :mod:`trialreport.study._infer_yaml`)."""
    from trialreport.study._infer_yaml import write_study_yaml

    return write_study_yaml(inferred)

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

from trialreport.spec.model import Specification
from trialreport.study._infer_base import Data, name_of
from trialreport.study._infer_events import EventBlocks, related_values, severity_levels
from trialreport.study._infer_outputs import numbered_outputs

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


class _Inference(EventBlocks):
    """The subject-level blocks (identification, arms, populations, disposition, baseline,
    exposure); the event blocks come from :class:`EventBlocks`."""

    def __init__(self, data: Data, title: str | None, default_id: str):
        super().__init__(data, InferredStudy(mapping={}))
        self.title = title
        self.default_id = default_id

    # -- blocks -----------------------------------------------------------------------------
    def identification(self) -> dict[str, Any]:
        d = self.data
        ids = d.values("adsl", "STUDYID") if d.has("adsl", "STUDYID") else []
        if len(ids) > 1:
            self.note(f"ADSL holds {len(ids)} values of STUDYID ({', '.join(ids[:5])}); the "
                      f"study is named after the first")
        if ids:
            study_id = name_of(ids[0], name_of(self.default_id, "STUDY"))
            if study_id != ids[0]:
                self.note(f"study.id {study_id!r} is STUDYID {ids[0]!r} made a file name")
            self.comment("STUDYID in ADSL; names the report's files", "study", "id")
        else:
            study_id = name_of(self.default_id, "STUDY")
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
        self.result.mapping["outputs"] = numbered_outputs(
            self.result.mapping, self.populations, self.result.primary_population)
        return self.result


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
    return _Inference(Data(frames, spec), title, default_id).run()


def study_yaml(inferred: InferredStudy) -> str:
    """The definition as YAML with comments (see :mod:`trialreport.study._infer_yaml`)."""
    from trialreport.study._infer_yaml import write_study_yaml

    return write_study_yaml(inferred)

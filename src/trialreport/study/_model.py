"""The study definition as typed, strict pydantic models (``data_spec/study.yml``).

Every block refuses keys it does not know (``extra="forbid"``), so a misspelt key is an error
instead of a silently ignored setting. Defaults follow CDISC ADaM names (TRT01P, USUBJID, PARAMCD,
AVAL, CNSR, AEBODSYS, AEDECOD, ...). The keys, their defaults and examples are documented in
``docs/study.md``; :func:`trialreport.study.json_schema` gives the JSON Schema for editors.

Output entries (``outputs:``) are checked in two steps: the keys every output has
(:class:`OutputEntry`) here, and the keys of its ``type`` by the options model that the output's
family registered (:mod:`trialreport.outputs`), so that a new family adds its own keys without
touching this module.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "Arm",
    "Arms",
    "Baseline",
    "BaselineTests",
    "BinaryEndpoint",
    "Comparison",
    "Criterion",
    "Disposition",
    "Endpoints",
    "EventFlag",
    "Exposure",
    "ExposureVariable",
    "Fact",
    "Landmark",
    "OutputEntry",
    "Population",
    "PublishedFigure",
    "Registration",
    "ReportInfo",
    "Safety",
    "SafetyStatistics",
    "Screening",
    "Severity",
    "Source",
    "StudyDefinition",
    "StudyInfo",
    "Swimmer",
    "SwimmerEvent",
    "SwimmerExposure",
    "SwimmerResponse",
    "TimeToEvent",
    "Variable",
]

#: Names used in file names, ARD keys and cross-references: letters, digits, ``_ . -``.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]*$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, max_length=64)]
#: A variable of a dataset (SAS names: letters, digits, underscores, at most 32 characters).
VarName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=32)]
Text = Annotated[str, Field(min_length=1)]
SEMVER = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$")


class Strict(BaseModel):
    """A block of the definition: unknown keys are refused, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# --------------------------------------------------------------------------------------
# facts and their sources
# --------------------------------------------------------------------------------------


class Source(Strict):
    """Where facts about the trial come from (a publication, a registry entry, the protocol),
    or ``type: reconstruction`` for choices made where no source says anything."""

    type: Literal["publication", "registry", "conference", "protocol", "sap", "data",
                  "reconstruction", "other"]
    citation: Text
    doi: str | None = None
    url: str | None = None
    #: A text copy of the source (relative to the study definition); every ``quote`` of a fact
    #: citing this source must occur in it.
    file: str | None = None


class Fact(Strict):
    """A statement about the trial with its source key (and the source's own words)."""

    text: Text
    source: Name
    quote: str | None = None


class Registration(Strict):
    """A registry identifier, e.g. ``{registry: ClinicalTrials.gov, id: NCT01405807}``."""

    registry: Text
    id: Text
    source: Name
    quote: str | None = None


class PublishedFigure(Strict):
    """A result as the publication prints it, quoted where the records give another rounding or
    wording (``{result: PR6, text: "10/23 (44%)", source: pub}``); ``result`` names the
    endpoint id or AE-overview row it corresponds to."""

    result: Name
    text: Text
    source: Name
    quote: str | None = None


class StudyInfo(Strict):
    """Identification of the study (ICH E3 title page and synopsis). Every statement is a
    :class:`Fact` with a source; ``id`` only names files."""

    id: Name
    title: Fact
    acronym: Fact | None = None
    protocol: Fact | None = None
    registrations: list[Registration] = []
    sponsor: Fact | None = None
    phase: Fact | None = None
    indication: Fact | None = None
    investigational_product: Fact | None = None
    design: Fact | None = None
    setting: Fact | None = None
    objectives: Fact | None = None
    treatment: Fact | None = None
    eligibility: Fact | None = None
    conclusion: Fact | None = None
    gcp_statement: Fact | None = None
    #: The main publication of the results (a key of ``sources``), cited in the synopsis.
    publication: Name | None = None
    published: list[PublishedFigure] = []
    #: Set when the records are synthetic: this notice is printed on every page.
    synthetic_notice: str | None = None
    #: Data cut-off date (shown in every table's source line).
    data_cut: dt.date | None = None


class ReportInfo(Strict):
    """The report itself: its version (semantic versioning) and, optionally, its date (default:
    the date of this version in the study's CHANGELOG.md, else the render date)."""

    version: Text
    date: dt.date | None = None
    status: Literal["Draft", "Final"] = "Final"

    @field_validator("version")
    @classmethod
    def _semver(cls, value: str) -> str:
        if not SEMVER.match(value):
            raise ValueError(f"{value!r} is not a version like 1.2.0 (semantic versioning)")
        return value


# --------------------------------------------------------------------------------------
# arms and populations
# --------------------------------------------------------------------------------------


class Arm(Strict):
    """One arm: the value in the data (``code``) and its display label."""

    code: Text
    label: Text | None = None

    @property
    def display(self) -> str:
        """The label, or the code when no label is given."""
        return self.label or self.code


class Comparison(Strict):
    """A between-arm comparison ``treatment - reference`` (arm codes)."""

    treatment: Text
    reference: Text
    label: Text | None = None


class Arms(Strict):
    """Arms in display order. ``comparisons`` default to every other arm against
    ``reference`` when a reference is given."""

    variable: VarName = "TRT01P"
    levels: list[Arm] = Field(min_length=1)
    total: Text | None = "Total"
    reference: Text | None = None
    comparisons: list[Comparison] = []

    @model_validator(mode="after")
    def _known_codes(self) -> Arms:
        codes = [a.code for a in self.levels]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"arm code(s) listed twice: {dup}")
        named = [self.reference] + [x for c in self.comparisons for x in (c.treatment,
                                                                           c.reference)]
        for code in named:
            if code is not None and code not in codes:
                raise ValueError(f"comparison arm {code!r} is not one of the arms {codes}")
        if self.total is not None and self.total in codes:
            raise ValueError(f"the total label {self.total!r} is also an arm code")
        return self


class Population(Strict):
    """An analysis population: the ADSL records whose ``flag`` equals ``flag_value``, each in
    the arm given by ``arm_variable`` (planned arm for efficacy, actual arm for safety)."""

    label: Text
    flag: VarName
    flag_value: Text = "Y"
    arm_variable: VarName | None = None
    definition: str = ""


# --------------------------------------------------------------------------------------
# disposition, baseline, exposure
# --------------------------------------------------------------------------------------


class Screening(Strict):
    """A screening log with one record per screened person."""

    dataset: Name
    randomised_flag: VarName = "RANDFL"
    reason: VarName | None = None
    detail: VarName | None = None


class Disposition(Strict):
    """Variables of the CONSORT flow and the disposition table (ADSL unless stated)."""

    screening: Screening | None = None
    randomised_flag: VarName = "RANDFL"
    treated_flag: VarName = "SAFFL"
    not_treated_reason: VarName | None = None
    status: VarName | None = "EOSSTT"
    completed_value: Text = "COMPLETED"
    discontinued_reason: VarName | None = "DCSREAS"
    analysed_flag: VarName | None = None


ContinuousStat = Literal["n", "mean_sd", "median", "median_iqr", "min_max", "q1_q3"]
TestName = Literal["auto", "mwu", "kruskal", "anova", "welch", "ttest", "fisher", "chi2",
                   "none"]


class Variable(Strict):
    """A baseline variable of ADSL. ``levels`` maps codes to labels in display order (other
    observed codes follow); ``decimals`` defaults to the data's own precision."""

    name: VarName
    label: Text | None = None
    type: Literal["continuous", "categorical"]
    levels: dict[str, str] | None = None
    stats: list[ContinuousStat] = ["n", "mean_sd", "median_iqr", "min_max"]
    decimals: int | None = Field(default=None, ge=0, le=6)
    test: TestName | None = None

    @field_validator("levels", mode="before")
    @classmethod
    def _level_keys_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): (str(v) if not isinstance(v, str) else v) for k, v in value.items()}
        if isinstance(value, list):  # a list of codes: each code is its own label
            return {str(v): str(v) for v in value}
        return value


class BaselineTests(Strict):
    """Between-arm tests of baseline variables (off by default: CONSORT 2010 item 15 advises
    against testing baseline differences in randomised trials)."""

    continuous: TestName = "auto"
    categorical: TestName = "auto"


class Baseline(Strict):
    """Demographic and baseline characteristics (ADSL variables) of one population."""

    population: Name
    tests: BaselineTests | bool = False
    variables: list[Variable] = Field(min_length=1)


class ExposureVariable(Variable):
    """An exposure summary: an ADSL variable, or per subject an aggregate of an exposure
    dataset's records (``dataset`` + ``aggregate``: count of records, sum/max/min of
    ``name``)."""

    dataset: Name | None = None
    aggregate: Literal["count", "sum", "max", "min"] | None = None

    @model_validator(mode="after")
    def _aggregate_needs_dataset(self) -> ExposureVariable:
        if (self.dataset is None) != (self.aggregate is None):
            raise ValueError("give both 'dataset' and 'aggregate' (or neither, for an ADSL "
                             "variable)")
        return self


class Exposure(Strict):
    """Extent of exposure (ICH E3 12.1) of one population (default: the safety population)."""

    population: Name | None = None
    variables: list[ExposureVariable] = Field(min_length=1)


# --------------------------------------------------------------------------------------
# efficacy
# --------------------------------------------------------------------------------------


class Criterion(Strict):
    """Records of a BDS dataset meeting a condition: parameter ``paramcd`` at ``visit`` (or
    in ``from_visit``..``through_visit``) whose value is one of ``values`` (any non-missing
    value when ``values`` is omitted)."""

    paramcd: Text
    visit: float | None = None
    from_visit: float | None = None
    through_visit: float | None = None
    values: list[str] | None = None
    variable: VarName = "AVALC"
    param_variable: VarName = "PARAMCD"

    @field_validator("values", mode="before")
    @classmethod
    def _values_as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value


CiMethod = Literal["clopper-pearson", "wilson", "jeffreys", "agresti-coull", "wald"]
DifferenceMethod = Literal["newcombe", "miettinen-nurminen", "wald"]


class BinaryEndpoint(Strict):
    """A responder endpoint: responders meet ``responder`` (and ``assessed_at``) and not
    ``no_event``; a subject of the population without a qualifying record is a non-responder."""

    id: Name
    label: Text
    definition: str | None = None
    population: Name
    dataset: Name
    responder: Criterion
    no_event: Criterion | None = None
    assessed_at: Criterion | None = None
    primary: bool = False
    conf_level: float | None = Field(default=None, gt=0, lt=1)
    ci_method: CiMethod | None = None
    difference_method: DifferenceMethod | None = None
    test: Literal["fisher", "chi2", "barnard", "boschloo"] | None = None


class Endpoints(Strict):
    """Binary endpoints and their common settings."""

    visit_variable: VarName = "AVISITN"
    conf_level: float = Field(default=0.95, gt=0, lt=1)
    ci_method: CiMethod = "clopper-pearson"
    difference_method: DifferenceMethod = "newcombe"
    test: Literal["fisher", "chi2", "barnard", "boschloo"] = "fisher"
    notes: list[Text] = []
    binary: list[BinaryEndpoint] = []


class Landmark(Strict):
    """Time origin of a landmark analysis: time is counted from ``time`` (in ``unit``) after the
    dataset's own origin, and only subjects still at risk then are analysed."""

    time: float = Field(gt=0)
    unit: Literal["days", "weeks", "months", "years"] = "months"
    label: Text | None = None


class TimeToEvent(Strict):
    """A time-to-event parameter of a BDS time-to-event dataset (ADTTE: AVAL, CNSR = 0 event,
    1 censored). ``subset`` restricts the analysis to subjects meeting a criterion in another
    dataset (e.g. six-month responders) whose own big N the table then shows."""

    id: Name
    label: Text
    dataset: Name = "adtte"
    paramcd: Text
    population: Name
    param_variable: VarName = "PARAMCD"
    time_variable: VarName = "AVAL"
    censor_variable: VarName = "CNSR"
    time_unit: Literal["days", "weeks", "months", "years"] = "days"
    display_unit: Literal["days", "weeks", "months", "years"] | None = None
    landmarks: list[float] = []
    event_label: Text | None = None
    origin: Landmark | None = None
    subset: Name | None = None  # id of a binary endpoint whose responders are analysed
    subset_label: Text | None = None
    conf_level: float | None = Field(default=None, gt=0, lt=1)


# --------------------------------------------------------------------------------------
# safety
# --------------------------------------------------------------------------------------


class EventFlag(Strict):
    """Records whose ``variable`` holds ``value`` (or one of ``values``)."""

    variable: VarName
    value: str | None = None
    values: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _value_shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("value") is not None:
            if data.get("values"):
                raise ValueError("give 'value' or 'values', not both")
            data = {**data, "values": [data["value"]], "value": None}
        if isinstance(data, dict) and isinstance(data.get("values"), list):
            data = {**data, "values": [str(v) for v in data["values"]]}
        return data

    @model_validator(mode="after")
    def _some_value(self) -> EventFlag:
        if not self.values:
            raise ValueError("give the coded 'value' (or 'values') that marks the records")
        return self


class Severity(Strict):
    """Severity (or toxicity grade) variable and its levels from mildest to worst."""

    variable: VarName = "AESEV"
    levels: list[str] = Field(min_length=1)


class SafetyStatistics(Strict):
    """Between-arm statistics of adverse-event tables against each comparison's reference:
    Fisher's exact test and the risk difference with its confidence interval."""

    test: Literal["fisher", "none"] = "fisher"
    difference_method: DifferenceMethod = "newcombe"
    conf_level: float = Field(default=0.95, gt=0, lt=1)


class Safety(Strict):
    """Adverse-event analysis settings (ADAE variable names)."""

    population: Name
    dataset: Name = "adae"
    treatment_emergent_flag: VarName | None = "TRTEMFL"
    serious: EventFlag = EventFlag(variable="AESER", values=["Y"])
    related: EventFlag | None = None
    severity: Severity | None = None
    soc: VarName = "AEBODSYS"
    term: VarName = "AEDECOD"
    outcome: VarName | None = None
    fatal: EventFlag | None = None
    leading_to_discontinuation: EventFlag | None = None
    start_day: VarName | None = None
    statistics: SafetyStatistics | None = None


# --------------------------------------------------------------------------------------
# patient profiles (swimmer plot)
# --------------------------------------------------------------------------------------


class SwimmerExposure(Strict):
    """Dosing records drawn as markers: ``day`` is the study day of each record."""

    dataset: Name
    day: VarName = "ASTDY"
    label: Text = "Dose"


class SwimmerResponse(Strict):
    """Response assessments drawn by level (``levels``: code -> label, best first)."""

    paramcd: Text
    levels: dict[str, str] = Field(min_length=1)
    dataset: Name | None = None
    variable: VarName = "AVALC"
    param_variable: VarName = "PARAMCD"
    day: VarName = "ADY"


class SwimmerEvent(Strict):
    """Events drawn as markers (e.g. relapses): records of ``paramcd`` with ``value``."""

    paramcd: Text
    value: Text
    dataset: Name | None = None
    variable: VarName = "AVALC"
    param_variable: VarName = "PARAMCD"
    date: VarName | None = None
    day: VarName = "ADY"


class Swimmer(Strict):
    """One lane per subject from ``origin`` to ``end`` (ADSL dates)."""

    population: Name | None = None
    origin: VarName = "TRTSDT"
    end: VarName = "EOSDT"
    months: float = Field(default=12, gt=0)
    exposure: SwimmerExposure | None = None
    response: SwimmerResponse | None = None
    relapse: SwimmerEvent | None = None


# --------------------------------------------------------------------------------------
# outputs and the whole definition
# --------------------------------------------------------------------------------------


class OutputEntry(BaseModel):
    """The keys every numbered output has; its ``type``'s own keys are checked by the options
    model its family registered (:mod:`trialreport.outputs`)."""

    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=r"^\d+(\.\d+)*$")]
    name: Name
    type: Name
    title: Text
    population: Name | None = None
    footnotes: list[Text] = []
    source_datasets: list[str] | None = None

    @field_validator("id", mode="before")
    @classmethod
    def _number_as_text(cls, value: Any) -> Any:
        if isinstance(value, (int, float)):
            raise ValueError(f"write the output number in quotes (\"{value}\"), or YAML reads "
                             "it as a number and drops trailing zeros")
        return value


class StudyDefinition(Strict):
    """The whole study definition (``data_spec/study.yml``)."""

    report: ReportInfo
    sources: dict[Name, Source] = {}
    study: StudyInfo
    abbreviations: dict[str, str] = {}
    datasets: dict[Name, str] = {}
    subject_variable: VarName = "USUBJID"
    arms: Arms
    populations: dict[Name, Population] = Field(min_length=1)
    disposition: Disposition | None = None
    baseline: Baseline | None = None
    exposure: Exposure | None = None
    endpoints: Endpoints = Endpoints()
    time_to_event: list[TimeToEvent] = []
    safety: Safety | None = None
    swimmer: Swimmer | None = None
    outputs: list[OutputEntry] = []

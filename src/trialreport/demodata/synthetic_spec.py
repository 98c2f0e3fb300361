"""Data specification of the synthetic trial SYNTH-001, one explicit definition per dataset.

The definitions below say what :func:`trialreport.demodata.synthetic.make_synthetic_trial`
promises about its data: every variable with label, type, whether it is required, codelist
or range, the keys, row rules (date order, flag consistency, dictionary consistency) and the
cross-dataset rules of ``rules.yml``. They are written by hand, like ``data_spec/*.yml`` for
ALEVIATE, and never inferred from the data, so validating the written files is a real test of
the generator. Only the arm codelists depend on the number of arms.

:func:`write_specification` writes them in the same layout as ``data_spec/`` (one flow-style
line per variable and rule).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from trialreport.demodata.synthetic import (
    DC_REASONS,
    EXCLUSION_REASONS,
    NOT_TREATED_REASONS,
    SOC_PT,
    STUDYID,
    arm_codes,
)

__all__ = ["cross_rules", "dataset_specs", "dump_dataset_spec", "write_specification"]

YES_NO = {"Y": "Yes", "N": "No"}
SUBJECT_PATTERN = r"^SYN-\d{6,}$"
END_OF_STUDY_DAYS = "(EOSDT_ADSL - TRTSDT_ADSL).dt.days"
LONG_LINE = 200  # rules whose flow line is longer are written as a block


def var(name: str, label: str, type: str, *, required: bool = False, unit: str | None = None,
        codelist: list[Any] | dict[Any, str] | None = None,
        range: tuple[float, float] | None = None, pattern: str | None = None
        ) -> dict[str, Any]:
    """One variable entry as it appears in ``<dataset>.yml`` (absent options left out)."""
    entry: dict[str, Any] = {"name": name, "label": label, "type": type, "required": required}
    for key, value in (("unit", unit), ("codelist", codelist), ("range", range),
                       ("pattern", pattern)):
        if value is not None:
            entry[key] = list(value) if key == "range" else value
    return entry


def rule(id: str, description: str, check: str, *columns: str) -> dict[str, Any]:
    """One row rule: a pandas expression every record must satisfy."""
    return {"id": id, "description": description, "check": check, "columns": list(columns)}


# -- datasets ---------------------------------------------------------------------------------


def screening_spec() -> dict[str, Any]:
    """SCREENING: one record per patient assessed for eligibility."""
    return {
        "dataset": "SCREENING", "file": "screening", "order": 1,
        "label": "Screening log",
        "structure": "One record per patient assessed for eligibility",
        "keys": ["SCRID"],
        "variables": [
            var("STUDYID", "Study identifier", "string", required=True, codelist=[STUDYID]),
            var("SCRID", "Screening number", "string", required=True, pattern=r"^S\d{6,}$"),
            var("RANDFL", "Randomised", "string", required=True, codelist=YES_NO),
            var("EXCLREAS", "Reason not randomised (CONSORT category)", "string",
                codelist=list(EXCLUSION_REASONS)),
            var("USUBJID", "Unique subject identifier (randomised patients)", "string",
                pattern=SUBJECT_PATTERN),
        ],
        "rules": [
            rule("SCR-01", "Randomised patients have a subject identifier and no exclusion "
                 "reason", "(RANDFL == 'Y') == (USUBJID.notna() & EXCLREAS.isna())",
                 "RANDFL", "USUBJID", "EXCLREAS"),
        ],
    }


def adsl_spec(arms: int = 3) -> dict[str, Any]:
    """ADSL: one record per randomised subject."""
    codes = arm_codes(arms)
    return {
        "dataset": "ADSL", "file": "adsl", "order": 2,
        "label": "Subject-Level Analysis Dataset",
        "structure": "One record per randomised subject",
        "keys": ["USUBJID"],
        "variables": [
            var("STUDYID", "Study identifier", "string", required=True, codelist=[STUDYID]),
            var("USUBJID", "Unique subject identifier", "string", required=True,
                pattern=SUBJECT_PATTERN),
            var("TRTP", "Planned treatment", "string", required=True, codelist=codes),
            var("TRTA", "Actual treatment", "string", codelist=codes),
            var("AGE", "Age at randomisation", "integer", required=True, unit="years",
                range=(18, 85)),
            var("SEX", "Sex", "string", required=True, codelist={"F": "Female", "M": "Male"}),
            var("RACE", "Race", "string", required=True,
                codelist={"WHITE": "White", "BLACK": "Black or African American",
                          "ASIAN": "Asian", "OTHER": "Other"}),
            var("WEIGHT", "Body weight at baseline", "number", unit="kg", range=(0, 250)),
            var("REGION", "Geographic region", "string", required=True,
                codelist={"EU": "Europe", "NA": "North America", "APAC": "Asia-Pacific"}),
            var("RANDDT", "Date of randomisation", "date", required=True),
            var("TRTSDT", "Date of first exposure to treatment", "date"),
            var("EOSDT", "End of study date", "date", required=True),
            var("ITTFL", "Intention-to-treat population flag", "string", required=True,
                codelist=YES_NO),
            var("MITTFL", "Modified intention-to-treat population flag", "string",
                required=True, codelist=YES_NO),
            var("SAFFL", "Safety population flag", "string", required=True, codelist=YES_NO),
            var("PPROTFL", "Per-protocol population flag", "string", required=True,
                codelist=YES_NO),
            var("EOSSTT", "End of study status", "string", required=True,
                codelist=["COMPLETED", "DISCONTINUED"]),
            var("DCSREAS", "Reason for discontinuation from study", "string",
                codelist=list(dict.fromkeys(DC_REASONS + NOT_TREATED_REASONS))),
        ],
        "rules": [
            rule("ADSL-01", "Randomisation on or before first dose",
                 "TRTSDT.isna() | (RANDDT <= TRTSDT)", "RANDDT", "TRTSDT"),
            rule("ADSL-02", "First dose on or before the end of study",
                 "TRTSDT.isna() | (TRTSDT <= EOSDT)", "TRTSDT", "EOSDT"),
            rule("ADSL-03", "Randomisation before the end of study", "RANDDT < EOSDT",
                 "EOSDT"),
            rule("ADSL-04", "Every randomised subject is in the intention-to-treat population",
                 "ITTFL == 'Y'", "ITTFL"),
            rule("ADSL-05", "Safety flag is Y exactly when a first dose date is present",
                 "(SAFFL == 'Y') == TRTSDT.notna()", "SAFFL", "TRTSDT"),
            rule("ADSL-06", "Actual treatment is present exactly for treated subjects",
                 "TRTA.notna() == (SAFFL == 'Y')", "TRTA", "SAFFL"),
            rule("ADSL-07", "Treated subjects received their planned treatment",
                 "TRTA.isna() | (TRTA == TRTP)", "TRTA"),
            rule("ADSL-08", "Modified ITT is the randomised subjects who received a dose",
                 "(MITTFL == 'Y') == ((ITTFL == 'Y') & (SAFFL == 'Y'))", "MITTFL"),
            rule("ADSL-09", "Per-protocol subjects were treated and completed the study",
                 "(PPROTFL == 'N') | ((SAFFL == 'Y') & (EOSSTT == 'COMPLETED'))", "PPROTFL"),
            rule("ADSL-10", "A discontinuation reason is given exactly for discontinued "
                 "subjects", "DCSREAS.notna() == (EOSSTT == 'DISCONTINUED')",
                 "DCSREAS", "EOSSTT"),
        ],
    }


def adrs_spec() -> dict[str, Any]:
    """ADRS: response and flare assessments at weeks 12 and 24."""
    return {
        "dataset": "ADRS", "file": "adrs", "order": 3,
        "label": "Response Analysis Dataset (response and flare)",
        "structure": "One record per subject per parameter per visit",
        "keys": ["USUBJID", "PARAMCD", "AVISITN"],
        "variables": [
            var("STUDYID", "Study identifier", "string", required=True, codelist=[STUDYID]),
            var("USUBJID", "Unique subject identifier", "string", required=True,
                pattern=SUBJECT_PATTERN),
            var("PARAMCD", "Parameter code", "string", required=True,
                codelist={"RESPONSE": "Clinical response", "FLARE": "Flare since previous "
                          "visit"}),
            var("AVISITN", "Analysis visit (N)", "integer", required=True, unit="weeks",
                codelist=[12, 24]),
            var("ADY", "Analysis relative day", "integer", required=True, unit="days",
                range=(1, 400)),
            var("AVALC", "Analysis value (character)", "string", required=True,
                codelist=YES_NO),
        ],
        "windows": {"column": "ADY", "by": "AVISITN",
                    "limits": {12: [79, 89], 24: [163, 173]}},
    }


def adtte_spec() -> dict[str, Any]:
    """ADTTE: time to first flare from the first dose."""
    return {
        "dataset": "ADTTE", "file": "adtte", "order": 4,
        "label": "Time-to-Event Analysis Dataset (time to first flare)",
        "structure": "One record per treated subject per parameter",
        "keys": ["USUBJID", "PARAMCD"],
        "variables": [
            var("STUDYID", "Study identifier", "string", required=True, codelist=[STUDYID]),
            var("USUBJID", "Unique subject identifier", "string", required=True,
                pattern=SUBJECT_PATTERN),
            var("PARAMCD", "Parameter code", "string", required=True,
                codelist={"TTFLARE": "Time to first flare"}),
            var("AVAL", "Analysis value (days from first dose)", "integer", required=True,
                unit="days", range=(1, 400)),
            var("CNSR", "Censor (0 = event, 1 = censored)", "integer", required=True,
                codelist={0: "Event", 1: "Censored"}),
        ],
    }


def adae_spec(arms: int = 3) -> dict[str, Any]:
    """ADAE: one record per adverse event."""
    terms = [pt for pts in SOC_PT.values() for pt in pts]
    in_soc = " | ".join(f"((AEBODSYS == {json.dumps(soc)}) & AEDECOD.isin({json.dumps(pts)}))"
                        for soc, pts in SOC_PT.items())
    return {
        "dataset": "ADAE", "file": "adae", "order": 5,
        "label": "Adverse Events Analysis Dataset",
        "structure": "One record per adverse event per subject",
        "keys": ["USUBJID", "AESEQ"],
        "variables": [
            var("STUDYID", "Study identifier", "string", required=True, codelist=[STUDYID]),
            var("USUBJID", "Unique subject identifier", "string", required=True,
                pattern=SUBJECT_PATTERN),
            var("AESEQ", "Sequence number", "integer", required=True, range=(1, 99999)),
            var("TRTA", "Actual treatment", "string", required=True, codelist=arm_codes(arms)),
            var("AEDECOD", "Dictionary-derived term (preferred term)", "string",
                required=True, codelist=terms),
            var("AEBODSYS", "Body system or organ class", "string", required=True,
                codelist=list(SOC_PT)),
            var("AESER", "Serious event", "string", required=True,
                codelist={"Y": "Serious", "N": "Not serious"}),
            var("AESEV", "Severity", "string", required=True,
                codelist=["MILD", "MODERATE", "SEVERE"]),
            var("AEREL", "Causality (relationship to study drug)", "string", required=True,
                codelist=["RELATED", "NOT RELATED"]),
            var("AEOUT", "Outcome of adverse event", "string", required=True,
                codelist=["RECOVERED/RESOLVED", "RECOVERING/RESOLVING",
                          "NOT RECOVERED/NOT RESOLVED", "FATAL", "UNKNOWN"]),
            var("ASTDY", "Analysis start relative day", "integer", required=True, unit="days",
                range=(1, 400)),
            var("TRTEMFL", "Treatment-emergent analysis flag", "string", required=True,
                codelist=YES_NO),
        ],
        "rules": [
            rule("ADAE-01", "A fatal event is serious", "(AEOUT != 'FATAL') | (AESER == 'Y')",
                 "AESER", "AEOUT"),
            rule("ADAE-02", "The preferred term belongs to its system organ class", in_soc,
                 "AEDECOD"),
        ],
    }


def dataset_specs(arms: int = 3) -> dict[str, dict[str, Any]]:
    """Every dataset definition of an ``arms``-arm synthetic trial, by file stem."""
    specs = [screening_spec(), adsl_spec(arms), adrs_spec(), adtte_spec(), adae_spec(arms)]
    return {s["file"]: s for s in specs}


def cross_rules() -> list[dict[str, Any]]:
    """The rules of ``rules.yml``: foreign keys to ADSL and joined expressions."""
    def fk(id: str, description: str, dataset: str, reference: str, **extra: Any
           ) -> dict[str, Any]:
        return {"id": id, "description": description, "type": "foreign_key",
                "dataset": dataset, "columns": ["USUBJID"], "reference": reference, **extra}

    def joined(id: str, description: str, dataset: str, check: str, *columns: str
               ) -> dict[str, Any]:
        return {"id": id, "description": description, "type": "expression", "dataset": dataset,
                "join": "ADSL", "check": check, "columns": list(columns)}

    return [
        fk("X-01", "Every screening record of a randomised patient belongs to a subject in "
           "ADSL", "SCREENING", "ADSL", optional=True),
        fk("X-02", "Every ADSL subject appears in the screening log", "ADSL", "SCREENING"),
        fk("X-03", "Every response record belongs to a subject in ADSL", "ADRS", "ADSL"),
        fk("X-04", "Every time-to-event record belongs to a subject in ADSL", "ADTTE", "ADSL"),
        fk("X-05", "Every adverse event belongs to a subject in ADSL", "ADAE", "ADSL"),
        joined("X-06", "Adverse-event treatment matches the actual treatment in ADSL", "ADAE",
               "TRTA == TRTA_ADSL", "TRTA"),
        joined("X-07", "Adverse events are reported for treated subjects only", "ADAE",
               "SAFFL_ADSL == 'Y'", "USUBJID"),
        joined("X-08", "Responses are assessed in treated subjects only", "ADRS",
               "SAFFL_ADSL == 'Y'", "USUBJID"),
        joined("X-09", "Time to event ends on or before the end of study", "ADTTE",
               f"AVAL <= {END_OF_STUDY_DAYS}", "AVAL"),
        joined("X-10", "Censored subjects are censored at the end of study", "ADTTE",
               f"(CNSR == 0) | (AVAL == {END_OF_STUDY_DAYS})", "CNSR"),
    ]


# -- writing ----------------------------------------------------------------------------------

HEADER = ("# Data specification of the synthetic trial {study} (not a real study), written by\n"
          "# trialreport.demodata.synthetic_spec; change the definitions there, not this file.\n")


def _flow(value: Any) -> str:
    """One mapping or list in YAML flow style on a single line."""
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True,
                          width=1_000_000).strip()


def _item(entry: dict[str, Any]) -> list[str]:
    """A list entry (variable or rule): one flow line, or a block with a folded long check."""
    line = f"  - {_flow(entry)}"
    if len(line) <= LONG_LINE or " | " not in str(entry.get("check", "")):
        return [line]
    out = []
    for i, (key, value) in enumerate(entry.items()):
        lead = "  - " if i == 0 else "    "
        if key == "check":  # folded scalar: each line break reads back as one space
            out.append(f"{lead}check: >-")
            out += ["      " + part for part in value.replace(" | ", "\n| ").split("\n")]
        else:
            out.append(f"{lead}{_flow({key: value})[1:-1]}")
    return out


def dump_dataset_spec(spec: dict[str, Any]) -> str:
    """``<dataset>.yml`` text: scalars and keys first, then one line per variable and rule.

    Raises ``ValueError`` if the text would not read back as ``spec``.
    """
    lines = [HEADER.format(study=STUDYID).rstrip("\n")]
    for key, value in spec.items():
        if key in ("variables", "rules"):
            lines.append(f"{key}:")
            for item in value:
                lines += _item(item)
        elif isinstance(value, dict | list):
            lines.append(f"{key}: {_flow(value)}")
        else:
            lines.append(_flow({key: value})[1:-1])
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != spec:
        raise ValueError(f"{spec.get('dataset')}: the YAML text does not read back as written")
    return text


def write_specification(folder: Path, arms: int = 3) -> dict[str, Path]:
    """Write ``<dataset>.yml`` for every dataset and ``rules.yml`` into ``folder``.

    Returns the written files by dataset file stem (and ``rules``).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for stem, spec in dataset_specs(arms).items():
        path = folder / f"{stem}.yml"
        path.write_text(dump_dataset_spec(spec), encoding="utf-8", newline="\n")
        written[stem] = path
    path = folder / "rules.yml"
    rules = cross_rules()
    text = HEADER.format(study=STUDYID) + "rules:\n" + "".join(
        f"{line}\n" for r in rules for line in _item(r))
    if yaml.safe_load(text) != {"rules": rules}:
        raise ValueError("rules.yml: the YAML text does not read back as written")
    path.write_text(text, encoding="utf-8", newline="\n")
    written["rules"] = path
    return written

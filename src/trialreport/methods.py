"""Text blocks written from the study definition, the ARD and the validation report.

The methods chapter and the appendices are generated from the same definitions the analyses
run on, so the report cannot describe one method and compute another.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from trialreport.analysis.ard import ARD
from trialreport.data import TrialData
from trialreport.study import Study


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def group_digits(digest: str, size: int = 8) -> str:
    """A long hex digest in groups of ``size`` characters, so it wraps in tables."""
    return " ".join(digest[i:i + size] for i in range(0, len(digest), size))


def design_markdown(study: Study) -> str:
    """Design, arms, populations and endpoint definitions as Markdown."""
    info = study.info
    lines = [f"**Design.** {_esc(info.get('design', ''))}.", ""]
    lines += ["| Arm | Value in the data |", "|:---|:---|"]
    lines += [f"| {_esc(a.label)} | {_esc(a.code)} |" for a in study.arms]
    lines += ["", "**Analysis populations.**", ""]
    lines += [f"- **{_esc(p.label)}** ({p.code}, flag `{p.flag}`, analysed by `{p.arm_variable}`):"
              f" {_esc(p.definition)}." for p in study.populations.values()]
    endpoints = (study.section("endpoints") or {}).get("binary", [])
    if endpoints:
        lines += ["", "**Endpoints.**", "", "| Endpoint | Definition | Population |",
                  "|:---|:---|:---|"]
        lines += [f"| {_esc(e['label'])} | {_esc(e.get('definition', ''))} | "
                  f"{_esc(study.populations[e['population']].label)} |" for e in endpoints]
    for tte in study.section("time_to_event") or []:
        lines += ["", f"**{_esc(tte['label'])}** from the first dose, from dataset "
                      f"{tte['dataset'].upper()} (parameter `{tte['paramcd']}`)."]
    return "\n".join(lines) + "\n"


def statistical_methods_markdown(study: Study, ard: ARD) -> str:
    """Every method that produced a number in the ARD, by analysis, as a bullet list."""
    frame = ard.frame
    described = {
        "baseline": "Baseline characteristics",
        "efficacy": "Binary efficacy endpoints",
        "tte": "Time to event",
    }
    conf = study.conf_label().removesuffix(" CI")
    lines = []
    for analysis, title in described.items():
        methods = [m for m in dict.fromkeys(frame.loc[frame["analysis"] == analysis, "method"])
                   if m]
        if methods:
            lines.append(f"- **{title}:** " + "; ".join(_esc(m) for m in methods) + ".")
    lines.append(f"- Confidence intervals are two-sided at the {conf} level; tests are "
                 "two-sided.")
    lines += [f"- {_esc(note)}" for note in (study.section("endpoints") or {}).get("notes", [])]
    lines.append("- Rounding: half away from zero on the decimal value, as SAS `ROUND` does; "
                 "percentages of patients to whole numbers, confidence limits of percentages "
                 "and differences in percentage points to one decimal in tables (whole numbers "
                 "in the text); p-values to three "
                 "decimals, below 0.001 shown as <0.001.")
    safety = study.section("safety") or {}
    if safety:
        lines.append(f"- **Safety:** adverse events in the "
                     f"{_esc(study.populations[safety['population']].label.lower())}, counted by "
                     "patient (n, %) and by event (E), by system organ class and preferred term.")
    return "\n".join(lines) + "\n"


def validation_markdown(data: TrialData) -> str:
    """The validation result for the data folder of this report."""
    report = data.validation
    if report is None:
        return "The datasets were supplied in memory and not validated.\n"
    rows = ["| Dataset | File | Records | Variables |", "|:---|:---|---:|---:|"]
    for name, frame in report.datasets.items():
        path = report.files.get(name)
        rows.append(f"| {name} | `{_esc(Path(path).name if path else '')}` | {len(frame)} | "
                    f"{frame.shape[1]} |")
    verdict = ("All datasets conform to the specification: no errors"
               if report.ok else f"{len(report.errors)} errors")
    warnings = len(report.warnings)
    text = (f"{verdict}, {warnings} warning{'s' if warnings != 1 else ''}. Every variable was "
            "checked for presence, type, required values, codelist or range and pattern; every "
            "dataset for unique keys and its row rules; and the cross-dataset rules of Appendix "
            "A were checked on every record.\n\n")
    if report.violations:
        text += "| File | Row | Variable | Rule | Message |\n|:---|---:|:---|:---|:---|\n"
        text += "\n".join(f"| {_esc(Path(v.file).name)} | {v.row or ''} | {_esc(v.variable or '')}"
                          f" | {_esc(v.rule)} | {_esc(v.message)} |" for v in report.violations)
        text += "\n\n"
    return text + "\n".join(rows) + "\n"


def checksum_table(digests: dict[str, str], prefix: str) -> str:
    """A two-column Markdown table of files and their SHA-256 (grouped so that it wraps)."""
    rows = [f"| `{_esc(prefix + name)}` | {group_digits(digest)} |"
            for name, digest in digests.items()]
    return "| File | SHA-256 |\n|:--------|:-------------------|\n" + "\n".join(rows) + "\n"


def reproducibility_markdown(stamp: dict[str, Any]) -> str:
    """Input checksums and package versions, as recorded in the render's version stamp."""
    digests = {f"data/{k}": v for k, v in (stamp.get("data") or {}).items()}
    digests |= {f"data_spec/{k}": v for k, v in (stamp.get("data_spec") or {}).items()}
    lines = ["**Input files (SHA-256).**", "", checksum_table(digests, prefix=""),
             "**Software.**", "", "| Package | Version |", "|:---|:---|"]
    lines += [f"| {_esc(k)} | {_esc(v)} |" for k, v in (stamp.get("packages") or {}).items()]
    return "\n".join(lines) + "\n"

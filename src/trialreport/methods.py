"""Text blocks written from the study definition, the ARD and the validation report.

The title page, synopsis facts, methods and appendices are generated from the same definitions
the analyses run on, so the report cannot describe one method and compute another, and every
statement about the trial shows where it comes from. Every text taken from an input file is
escaped (:func:`esc`) before it becomes Markdown.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trialreport.ard import ARD
    from trialreport.book import Book
    from trialreport.data import TrialData
    from trialreport.study import Study

__all__ = ["abbreviations_markdown", "checksum_table", "design_markdown", "esc",
           "reconstruction_markdown", "reproducibility_markdown", "sources_markdown",
           "statistical_methods_markdown", "synopsis_facts_markdown", "title_page_markdown",
           "validation_markdown"]

#: Facts of the synopsis, in ICH E3 synopsis order, with their row labels.
SYNOPSIS_FACTS = (("title", "Title of study"), ("acronym", "Acronym"),
                  ("protocol", "Protocol identifier"), ("sponsor", "Sponsor"),
                  ("phase", "Phase"), ("indication", "Indication"),
                  ("investigational_product", "Investigational product"),
                  ("design", "Design"), ("setting", "Setting"), ("objectives", "Objectives"),
                  ("eligibility", "Eligibility"), ("treatment", "Treatment"),
                  ("conclusion", "Conclusion of the publication"))
NOT_STATED = "Not stated in the sources"
#: First and last dates of the study, from the first ADSL variable of each list present.
FIRST_DATE_VARIABLES = ("RANDDT", "RFICDT", "ENRLDT", "TRTSDT")
LAST_DATE_VARIABLES = ("EOSDT", "RFPENDT", "LSTALVDT", "TRTEDT")
#: Characters that can start Markdown markup anywhere in a line (emphasis, code, links, images,
#: raw HTML and entities, math, citations, sub/superscript, strike-out, spans, pipes).
_MARKDOWN_PUNCT = re.compile(r"([\\`*_{}\[\]#|<>$@~^&!])")


def esc(text: Any) -> str:
    """Text from an input file as literal Markdown: every Markdown-significant punctuation mark
    backslash-escaped (so no link, emphasis, math, raw HTML, shortcode or citation can come from
    data), line breaks as spaces."""
    return _MARKDOWN_PUNCT.sub(r"\\\1", " ".join(str(text).split()))


def group_digits(digest: str, size: int = 8) -> str:
    """A long hex digest in groups of ``size`` characters, so it wraps in tables."""
    return " ".join(digest[i:i + size] for i in range(0, len(digest), size))


def _source_mark(study: Study, key: str) -> str:
    """``" [pub]"``-style source reference of a fact (its source key, escaped)."""
    return f" \\[{esc(key)}\\]"


def _fact_cell(study: Study, name: str) -> str:
    fact = study.fact(name)
    if fact is None:
        return NOT_STATED
    return esc(fact.text) + _source_mark(study, fact.source)


def _date_range(data: TrialData) -> tuple[str, str]:
    adsl = data.adsl
    first = next((v for v in FIRST_DATE_VARIABLES if v in adsl), None)
    last = next((v for v in LAST_DATE_VARIABLES if v in adsl), None)

    def text(var: str | None, pick: str) -> str:
        if var is None:
            return "not in the data"
        import pandas as pd

        values = pd.to_datetime(adsl[var], errors="raise").dropna()
        if values.empty:
            return "not in the data"
        day = values.min() if pick == "min" else values.max()
        return f"{day.date().isoformat()} ({var})"

    return text(first, "min"), text(last, "max")


def title_page_markdown(book: Book) -> str:
    """The ICH E3 title page items as a two-column table."""
    from trialreport.history import read_history
    from trialreport.versioning import tool_version

    study = book.study
    info = study.info
    rows = [("Study title", _fact_cell(study, "title"))]
    for name, label in (("protocol", "Protocol identifier"), ("sponsor", "Sponsor"),
                        ("phase", "Phase"), ("indication", "Indication"),
                        ("investigational_product", "Investigational product")):
        rows.append((label, _fact_cell(study, name)))
    regs = "; ".join(f"{esc(r.registry)} {esc(r.id)}{_source_mark(study, r.source)}"
                     for r in info.registrations) or NOT_STATED
    rows.insert(2, ("Registration", regs))
    first, last = _date_range(book.data)
    suffix = " (synthetic data)" if study.synthetic else ""
    rows.append(("First patient randomised", f"{esc(first)}{suffix}"))
    rows.append(("Last patient's end of study", f"{esc(last)}{suffix}"))
    version = study.report_version
    dates = {h.version: h.date for h in read_history(book.root / "CHANGELOG.md")}
    report_date = (study.model.report.date.isoformat() if study.model.report.date
                   else dates.get(version) or str(book.stamp.get("rendered_at", ""))[:10])
    rows.append(("Report version and date",
                 f"{esc(version)} ({esc(study.model.report.status.lower())}), "
                 f"{esc(report_date)}"))
    rows.append(("GCP statement", _fact_cell(study, "gcp_statement")))
    rows.append(("Generated by", f"trialreport {esc(tool_version())}"))
    lines = ["| Item | |", "|:---------|:----------------------------------|"]
    lines += [f"| {label} | {value} |" for label, value in rows]
    text = "\n".join(lines) + "\n"
    if study.synthetic:
        text = f"**{esc(info.synthetic_notice)}**\n\n" + text
    return text + "\nSources of the facts in brackets: see the list of sources.\n"


def synopsis_facts_markdown(study: Study) -> str:
    """The sourced facts of the synopsis (only those the definition gives)."""
    lines = ["| Item | Summary |", "|:---------|:----------------------------------|"]
    for name, label in SYNOPSIS_FACTS:
        if study.fact(name) is not None:
            lines.append(f"| {label} | {_fact_cell(study, name)} |")
    regs = study.info.registrations
    if regs:
        lines.append("| Registration | " + "; ".join(
            f"{esc(r.registry)} {esc(r.id)}{_source_mark(study, r.source)}" for r in regs) + " |")
    return "\n".join(lines) + "\n"


def sources_markdown(study: Study) -> str:
    """The sources, each with the facts that cite it; reconstruction sources say so."""
    from trialreport.study._load import _facts

    cited: dict[str, list[str]] = {}
    for loc, fact in _facts(study.model):
        cited.setdefault(fact.source, []).append(".".join(str(p) for p in loc[1:]))
    lines = []
    for key, source in study.model.sources.items():
        ref = esc(source.citation)
        if source.doi:
            ref += f" doi {esc(source.doi)}"
        facts = ", ".join(esc(f) for f in cited.get(key, [])) or "none"
        kind = "reconstruction choice" if source.type == "reconstruction" else esc(source.type)
        lines.append(f"- \\[{esc(key)}\\] {ref} ({kind}; facts: {facts})")
    return "\n".join(lines) + "\n" if lines else "The study definition cites no sources.\n"


def abbreviations_markdown(book: Book) -> str:
    """Every abbreviation the report's tables define (the tables' own footnotes), sorted."""
    from trialreport.glossary import abbreviations_in

    texts: list[str] = []
    for spec in book.study.output_specs:
        texts += [spec.title, *spec.footnotes]
        if spec.kind != "figure":
            texts.append(book.table(spec.name).html)
    found = abbreviations_in(texts, book.study)
    lines = ["| Abbreviation | Meaning |", "|:---|:---|"]
    lines += [f"| {esc(k)} | {esc(v)} |" for k, v in found.items()]
    return "\n".join(lines) + "\n"


def design_markdown(study: Study) -> str:
    """Arms, populations and endpoint definitions as Markdown."""
    lines = ["| Arm | Value in the data |", "|:---|:---|"]
    lines += [f"| {esc(a.display)} | {esc(a.code)} |" for a in study.arms]
    lines += ["", "**Analysis populations.**", ""]
    lines += [f"- **{esc(p.label)}** ({esc(code)}, flag {esc(p.flag)} = {esc(p.flag_value)}, "
              f"analysed by {esc(p.arm_variable)})"
              + (f": {esc(p.definition)}" if p.definition else "") + "."
              for code, p in study.populations.items()]
    endpoints = study.model.endpoints.binary
    if endpoints:
        lines += ["", "**Endpoints.**", "", "| Endpoint | Definition | Population |",
                  "|:---|:---|:---|"]
        lines += [f"| {esc(e.label)}{' (primary)' if e.primary else ''} | "
                  f"{esc(e.definition or '')} | {esc(study.population(e.population).label)} |"
                  for e in sorted(endpoints, key=lambda e: not e.primary)]
    for tte in study.model.time_to_event:
        origin = ""
        if tte.origin is not None:
            origin = (f"; time counted from {esc(tte.origin.label or tte.origin.time)} "
                      "(landmark)")
        subset = f" among {esc(tte.subset_label)}" if tte.subset_label else ""
        lines += ["", f"**{esc(tte.label)}**{subset}: dataset {esc(tte.dataset.upper())}, "
                      f"parameter {esc(tte.paramcd)}{origin}."]
    return "\n".join(lines) + "\n"


def statistical_methods_markdown(study: Study, ard: ARD) -> str:
    """Every method that produced a number in the ARD, by output, as a bullet list."""
    frame = ard.frame
    conf = study.conf_label().removesuffix(" CI")
    lines = []
    for name, meta in ard.outputs.items():
        methods = [m for m in dict.fromkeys(frame.loc[frame["analysis"] == name, "method"]) if m]
        if methods:
            lines.append(f"- **{esc(meta['title'])}** ({esc(meta['kind'].capitalize())} "
                         f"{esc(meta['number'])}): " + "; ".join(esc(m) for m in methods) + ".")
    lines.append(f"- Confidence intervals are two-sided at the {conf} level; tests are "
                 "two-sided.")
    lines += [f"- {esc(note)}" for note in study.model.endpoints.notes]
    if study.model.baseline is not None and study.model.baseline.tests is False:
        lines.append("- Baseline characteristics are described without tests (CONSORT 2010, "
                     "item 15).")
    lines.append("- Rounding: half away from zero on the decimal value, as SAS ROUND does; "
                 "percentages of patients to whole numbers (one decimal below 1%), confidence "
                 "limits of percentages and differences in percentage points to one decimal in "
                 "tables (whole numbers in the text); location statistics at the data's "
                 "precision plus one decimal; p-values to three decimals, below 0.001 shown as "
                 "<0.001.")
    safety = study.model.safety
    if safety is not None:
        lines.append(f"- **Safety:** treatment-emergent adverse events in the "
                     f"{esc(study.population(safety.population).label.lower())}, counted by "
                     "patient (n, %) and by event (E), by system organ class and preferred "
                     "term.")
    return "\n".join(lines) + "\n"


def validation_markdown(data: TrialData) -> str:
    """The validation result for the data folder of this report."""
    report = data.validation
    if report is None:
        return "The datasets were supplied in memory and not validated.\n"
    rows = ["| Dataset | File | Records | Variables |", "|:---|:---|---:|---:|"]
    for name, frame in report.datasets.items():
        path = report.files.get(name)
        rows.append(f"| {esc(name)} | {esc(Path(path).name if path else '')} | {len(frame)} | "
                    f"{frame.shape[1]} |")
    verdict = ("All datasets conform to the specification: no errors"
               if report.ok else f"{len(report.errors)} errors")
    warnings = len(report.warnings)
    text = (f"{verdict}, {warnings} warning{'s' if warnings != 1 else ''}. Every variable was "
            "checked for presence, type, required values, codelist or range and pattern; every "
            "dataset for unique keys and its row rules; and the cross-dataset rules were "
            "checked on every record. The study definition was checked against the data "
            "(every arm, population flag, variable and code it names).\n\n")
    if report.violations:
        text += "| File | Row | Variable | Rule | Message |\n|:---|---:|:---|:---|:---|\n"
        text += "\n".join(f"| {esc(Path(v.file).name)} | {v.row or ''} | {esc(v.variable or '')}"
                          f" | {esc(v.rule)} | {esc(v.message)} |" for v in report.violations)
        text += "\n\n"
    return text + "\n".join(rows) + "\n"


def checksum_table(digests: dict[str, str], prefix: str) -> str:
    """A two-column Markdown table of files and their SHA-256 (grouped so that it wraps)."""
    rows = [f"| {esc(prefix + name)} | {group_digits(digest)} |"
            for name, digest in digests.items()]
    return "| File | SHA-256 |\n|:--------|:-------------------|\n" + "\n".join(rows) + "\n"


def reproducibility_markdown(stamp: dict[str, Any]) -> str:
    """Versions, commit, input checksums and package versions, from the render's stamp."""
    git = stamp.get("git") or {}
    engine = stamp.get("engine") or {}
    tool = stamp.get("tool") or {}
    lines = ["| Item | Value |", "|:---|:---|",
             f"| Report version | {esc(stamp.get('version', ''))} |",
             f"| trialreport version | {esc(tool.get('version', ''))} |",
             f"| Rendered | {esc(stamp.get('rendered_at', ''))} |",
             f"| Git commit | {esc(git.get('describe') or 'not a git checkout')} |",
             f"| Render engine | {esc(engine.get('name', ''))} "
             f"{esc(engine.get('pandoc') or engine.get('version') or '')} |", ""]
    digests = {f"data/{k}": v for k, v in (stamp.get("data") or {}).items()}
    digests |= {f"data_spec/{k}": v for k, v in (stamp.get("data_spec") or {}).items()}
    lines += ["**Input files (SHA-256).**", "", checksum_table(digests, prefix=""),
              "**Software.**", "", "| Package | Version |", "|:---|:---|"]
    lines += [f"| {esc(k)} | {esc(v)} |" for k, v in (stamp.get("packages") or {}).items()]
    return "\n".join(lines) + "\n"


def reconstruction_markdown(study: Study, data_dir: Path) -> str:
    """Numbered reconstruction choices: facts citing a reconstruction source, then the choices
    recorded beside synthetic data (``reconstruction.yml``: a list under ``choices``)."""
    import yaml

    from trialreport.study._load import _facts

    recon = {k for k, s in study.model.sources.items() if s.type == "reconstruction"}
    items = [f"{'.'.join(str(p) for p in loc[1:])}: {fact.text}"
             for loc, fact in _facts(study.model) if fact.source in recon
             and hasattr(fact, "text")]
    path = Path(data_dir) / "reconstruction.yml"
    if path.is_file():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        choices = raw.get("choices", []) if isinstance(raw, dict) else []
        items += [str(c) for c in choices]
    if not items:
        return "The study definition and the data folder record no reconstruction choices.\n"
    return "\n".join(f"{i}. {esc(item)}" for i, item in enumerate(items, 1)) + "\n"

"""The chapters of a new study's book, written for what its data support.

Each chapter is literate prose with inline ``{python}`` values and one-line calls, exactly like a
hand-written one: every number comes from the ARD through :class:`trialreport.prose.Numbers`
(no digit is typed in the prose), every arm appears through a per-arm phrase
(:meth:`~trialreport.prose.Numbers.per_arm`), and only the Quarto subset both engines render is
used. Text taken from the data (a parameter's label in a heading or caption) is escaped
(:func:`trialreport.render.escape.markdown_text`). A section is written only when the study
definition has the outputs it shows.
"""

from __future__ import annotations

import re
from typing import Any

from trialreport.render.escape import markdown_text
from trialreport.spec.yaml_out import flow

__all__ = ["chapters"]

SETUP = """```{python}
#| label: setup
import trialreport as tr

b = tr.open_book()
n = b.n
```
"""
SETUP_BOOK_ONLY = """```{python}
#| label: setup
import trialreport as tr

b = tr.open_book()
```
"""
KINDS = {"consort": "Figure", "km": "Figure"}
WIDTH = 100
#: A word for wrapping: runs of inline code spans and other non-space characters.
_WORD = re.compile(r"(?:`[^`]*`|[^\s`])+")


def _q(text: str) -> str:
    """A Python string literal for an inline call (names and codes: no quotes inside)."""
    if '"' in text or "\\" in text or "\n" in text:
        raise ValueError(f"cannot write {text!r} into a chapter call")
    return f'"{text}"'


def _wrap(text: str, width: int = WIDTH) -> list[str]:
    """A paragraph as lines of at most ``width`` characters where possible (an inline code
    span is never broken: the engines read it on one line)."""
    lines: list[str] = []
    for word in _WORD.findall(text):
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def fill(text: str, width: int = WIDTH) -> str:
    """A chapter with each prose paragraph re-wrapped; cells, headings, lists and tables stay
    as written."""
    out: list[str] = []
    paragraph: list[str] = []
    in_cell = False

    def flush() -> None:
        if paragraph:
            out.extend(_wrap(" ".join(paragraph), width))
            paragraph.clear()

    for line in text.split("\n"):
        if line.startswith("```"):
            flush()
            in_cell = not in_cell
            out.append(line)
        elif in_cell or not line.strip() or line.startswith(("#", "|", "- ", ":::")):
            flush()
            out.append(line)
        else:
            paragraph.append(line.strip())
    flush()
    return "\n".join(out)


def _label(prefix: str, name: str) -> str:
    """A cross-reference label: ``prefix-`` and the name in lower case, ``-`` between words."""
    return f"{prefix}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class _Writer:
    def __init__(self, mapping: dict[str, Any], primary: str):
        self.m = mapping
        self.primary = primary
        self.outputs = {o["name"]: o for o in mapping.get("outputs", [])}
        self.comparisons = "reference" in mapping["arms"]

    def has(self, name: str) -> bool:
        return name in self.outputs

    def ref(self, name: str) -> str:
        out = self.outputs[name]
        prefix = "fig" if out["type"] in KINDS else "tbl"
        return "@" + _label(prefix, name)

    def show(self, name: str) -> str:
        """The cell that shows output ``name`` with its numbered caption."""
        out = self.outputs[name]
        kind = KINDS.get(out["type"], "Listing" if out["type"] == "ae_listing" else "Table")
        prefix = "fig" if kind == "Figure" else "tbl"
        title = out["title"]
        if out["type"] in ("time_to_event", "km"):  # the parameter's label is the data's PARAM
            label = next(t["label"] for t in self.m["time_to_event"] if t["id"] == out["param"])
            for piece in dict.fromkeys((label, label[:1].lower() + label[1:])):
                title = title.replace(piece, markdown_text(piece))
        caption = f"{title} ({kind} {out['id']})"
        call = f"b.figure({_q(name)})" if kind == "Figure" else f"b.table({_q(name)})"
        options = [f"#| label: {_label(prefix, name)}", f"#| {prefix}-cap: {flow(caption)}"]
        return "```{python}\n" + "\n".join(options) + f"\n{call}\n```\n"

    # -- index ------------------------------------------------------------------------------
    def index(self) -> str:
        p = _q(self.primary)
        parts = [f"# Title page {{.unnumbered}}\n\n{SETUP}",
                 "```{python}\n#| label: title-page\nb.title_page()\n```\n",
                 "# Synopsis {#sec-synopsis .unnumbered}\n",
                 "```{python}\n#| label: synopsis-facts\nb.synopsis_facts()\n```\n"]
        if self.has("consort"):
            patients = ('**Patients.** `{python} n.consort("randomised")` patients were '
                        'randomised (`{python} n.per_arm("consort", "allocated", joiner="to")`); '
                        f'`{{python}} n.big_n({p})` form the `{{python}} b.population_name({p})`.')
        else:
            patients = (f'**Patients.** The `{{python}} b.population_name({p})` comprised '
                        f'`{{python}} n.big_n({p})` patients '
                        f'(`{{python}} n.per_arm("big_n", {p})`).')
        parts.append(patients + "\n")
        efficacy = []
        for tte in self.m.get("time_to_event", []):
            t = _q(tte["id"])
            efficacy.append(f"`{{python}} b.parameter({t})`: `{{python}} n.events({t})` "
                            f"patients of `{{python}} n.analysed({t})` analysed had an event "
                            f"(`{{python}} b.event({t})`); median `{{python}} n.median_time({t})`.")
        if efficacy:
            parts.append("**Efficacy.** " + " ".join(efficacy) + "\n")
        safety = self.m.get("safety")
        if safety is not None:
            text = ("**Safety.** `{python} n.ae_patients()` patients had at least one "
                    "treatment-emergent adverse event and `{python} n.sae_patients()` a serious "
                    "adverse event")
            if "fatal" in safety:
                text += ('; `{python} n.ae_patient_count("AE_FATAL")` had an event with a fatal '
                         "outcome")
            parts.append(text + ".\n")
        parts += ["# Document history {.unnumbered}\n",
                  '```{python}\n#| label: tbl-history\n#| tbl-cap: "Document history (from '
                  'CHANGELOG.md)"\nb.history()\n```\n']
        return "\n".join(parts)

    # -- chapters -----------------------------------------------------------------------------
    @staticmethod
    def abbreviations() -> str:
        return ("# List of abbreviations {#sec-abbreviations .unnumbered}\n\n"
                f"{SETUP_BOOK_ONLY}\nEvery abbreviation defined in the footnotes of the "
                "report's tables:\n\n```{python}\n#| label: abbreviations\n"
                "b.abbreviations()\n```\n")

    @staticmethod
    def methods() -> str:
        return ("# Study design and methods {#sec-methods}\n\n"
                f"{SETUP_BOOK_ONLY}\n## Objectives and design\n\n"
                "The study's objectives, design and treatment as the sources state them are in "
                "the synopsis\n(@sec-synopsis); each statement names its source "
                "(@sec-sources). The arms, the analysis\npopulations and the endpoints "
                "analysed in this report are defined as follows.\n\n"
                "```{python}\n#| label: design\nb.design()\n```\n\n"
                "## Statistical methods\n\n"
                "All analyses are computed by the `trialreport` package from the validated "
                "analysis datasets;\nthe tables and every number in the text come from one "
                "analysis results dataset (`ard.json`,\nshipped with the report). Methods by "
                "output:\n\n```{python}\n#| label: methods\nb.statistical_methods()\n```\n")

    def patients(self) -> str:
        p = _q(self.primary)
        parts = ["# Study patients {#sec-patients}\n", SETUP]
        disposition = self.m.get("disposition")
        if self.has("consort"):
            text = ('## Disposition of patients\n\n`{python} n.consort("randomised")` patients '
                    'were randomised:\n`{python} n.per_arm("consort", "allocated", joiner="to")` '
                    f'({self.ref("consort")}).\nOf these, `{{python}} n.consort("received")` '
                    'received study treatment and `{python} n.consort("not_received")` did not')
            if disposition.get("status"):
                text += (';\n`{python} n.consort("completed")` completed the study and '
                         '`{python} n.consort("discontinued")` of those treated discontinued it')
            text += f" ({self.ref('disposition')}).\n"
            parts += [text, self.show("consort"), self.show("disposition")]
        text = (f'## Data sets analysed\n\nThe `{{python}} b.population_name({p})` comprised '
                f'`{{python}} n.big_n({p})` patients\n(`{{python}} n.per_arm("big_n", {p})`)')
        safety_pop = (self.m.get("safety") or {}).get("population")
        if safety_pop and safety_pop != self.primary:
            s = _q(safety_pop)
            text += (f' and the `{{python}} b.population_name({s})`\n`{{python}} n.big_n({s})` '
                     f'(`{{python}} n.per_arm("big_n", {s})`)')
        parts += [text + f"; every analysis set is shown by arm in {self.ref('analysis_sets')}.\n",
                  self.show("analysis_sets")]
        if self.has("baseline"):
            parts.append(self.baseline_text())
            parts.append(self.show("baseline"))
        return "\n".join(parts)

    def baseline_text(self) -> str:
        variables = {v["name"]: v for v in self.m["baseline"]["variables"]}
        p = _q(self.primary)
        clauses = []
        age = variables.get("AGE")
        if age is not None and age["type"] == "continuous":
            clauses.append('mean age was `{python} n.mean_sd("AGE")` (median '
                           '`{python} n.median_range("AGE")`)')
        levels = (variables.get("SEX") or {}).get("levels") or {}
        if str(levels.get("F", "")).lower() == "female":
            clauses.append('`{python} n.level("SEX", "F")` patients were female')
        where = f"the characteristics are in {self.ref('baseline')}"
        if clauses:
            text = (f"In the `{{python}} b.population_name({p})`, " + " and ".join(clauses)
                    + f";\n{where}.")
        else:
            text = (f"The characteristics of the `{{python}} b.population_name({p})` are in "
                    f"{self.ref('baseline')}.")
        return ("## Demographic and baseline characteristics\n\n" + text + "\nAs advised for "
                "randomised trials, the arms are described without tests of baseline\n"
                "differences.\n")

    def efficacy(self) -> str:
        p = _q(self.primary)
        parts = ["# Efficacy evaluation {#sec-efficacy}\n", SETUP,
                 f"The time-to-event endpoints are analysed in the "
                 f"`{{python}} b.population_name({p})`: each patient\nwith a record of the "
                 "parameter, by planned arm, with Kaplan-Meier estimates and the log-rank "
                 "test.\n"]
        for tte in self.m["time_to_event"]:
            t = _q(tte["id"])
            table, figure = self._tte_outputs(tte["id"])
            heading = markdown_text(tte["label"])
            text = (f"## {heading} {{#{_label('sec-tte', tte['id'])}}}\n\n"
                    f"Of the `{{python}} n.analysed({t})` patients analysed, "
                    f"`{{python}} n.events({t})` had an event\n(`{{python}} b.event({t})`): "
                    f'`{{python}} n.per_arm("events", {t})`. The median time to the event was\n'
                    f"`{{python}} n.median_time({t})` overall and "
                    f'`{{python}} n.per_arm("median_time", {t})`\n')
            if self.comparisons:
                text += (f'(log-rank test against the reference: '
                         f'`{{python}} n.per_comparison("p_logrank", {t})`;\n')
            elif len(self.m["arms"]["levels"]) > 1:
                text += f"(log-rank test across the arms, `{{python}} n.p_logrank({t})`;\n"
            else:
                text += "("
            text += f"{self.ref(table)}, {self.ref(figure)}).\n"
            parts += [text, self.show(table), self.show(figure)]
        return "\n".join(parts)

    def _tte_outputs(self, ident: str) -> tuple[str, str]:
        table = next(o["name"] for o in self.outputs.values()
                     if o["type"] == "time_to_event" and o["param"] == ident)
        figure = next(o["name"] for o in self.outputs.values()
                      if o["type"] == "km" and o["param"] == ident)
        return table, figure

    def safety(self) -> str:
        parts = ["# Safety evaluation {#sec-safety}\n", SETUP]
        if self.has("exposure"):
            e = _q(self.m["exposure"]["population"])
            parts += [f"## Extent of exposure\n\nIn the `{{python}} b.population_name({e})`, the "
                      'median treatment duration was\n`{python} n.median_range("TRTDURD")` days '
                      f'(by arm: `{{python}} n.per_arm("median_range", "TRTDURD")`;\n'
                      f"{self.ref('exposure')}).\n", self.show("exposure")]
        safety = self.m.get("safety")
        if safety is None:
            return "\n".join(parts)
        s = _q(safety["population"])
        text = (f"## Adverse events\n\nIn the `{{python}} b.population_name({s})` of "
                f"`{{python}} n.big_n({s})` patients, `{{python}} n.ae_patients()` had\nat least "
                "one treatment-emergent adverse event (`{python} n.ae_events()` events; "
                f"{self.ref('ae_overview')},\n{self.ref('teae_soc_pt')}): "
                '`{python} n.per_arm("ae_patients")`.')
        if "severity" in safety:
            text += ('\n`{python} n.ae_patients("SEVERE_AE")` patients had an event of the worst '
                     f"severity ({self.ref('teae_severity')}).")
        if "related" in safety:
            text += ('\n`{python} n.ae_patients("RELATED_AE")` patients had an event assessed as '
                     f"related to study treatment ({self.ref('related_soc_pt')}).")
        parts.append(text + "\n")
        parts += [self.show(name) for name in ("ae_overview", "teae_soc_pt", "teae_severity",
                                               "related_soc_pt") if self.has(name)]
        text = ("## Deaths, other serious adverse events\n\n`{python} n.sae_patients()` "
                "patients had a serious adverse event\n(`{python} n.sae_events()` events; "
                f"{self.ref('sae_soc_pt')}, {self.ref('sae_listing')})")
        if "related" in safety:
            text += (', of which `{python} n.sae_related_events()` were assessed as related to '
                     "study\ntreatment")
        text += "."
        if "fatal" in safety:
            text += ('\n`{python} n.ae_patient_count("AE_FATAL")` patients had an event with a '
                     f"fatal outcome ({self.ref('fatal_soc_pt')}).")
        if "leading_to_discontinuation" in safety:
            text += ('\n`{python} n.ae_patients("AE_DISC")` patients had an event leading to '
                     f"discontinuation of study treatment\n({self.ref('disc_soc_pt')}).")
        parts.append(text + "\n")
        parts += [self.show(name) for name in ("sae_soc_pt", "fatal_soc_pt", "disc_soc_pt",
                                               "sae_listing") if self.has(name)]
        return "\n".join(parts)

    @staticmethod
    def appendices() -> dict[str, str]:
        return {
            "sources": ("# Sources {#sec-sources}\n\n" + SETUP_BOOK_ONLY +
                        "\nEvery statement about the trial in this report names its source in "
                        "brackets; the sources\nare:\n\n```{python}\n#| label: sources\n"
                        "b.sources()\n```\n"),
            "data-specification": (
                "# Data specification {#sec-data-specification}\n\n" + SETUP_BOOK_ONLY +
                "\nThe analysis datasets follow CDISC ADaM conventions. Each dataset is "
                "described by a YAML file in\n`data_spec/`; the tables below are rendered from "
                "those files, which the validator also reads.\n\n```{python}\n"
                "#| label: specification\nb.specification()\n```\n"),
            "validation": (
                "# Validation report {#sec-validation}\n\n" + SETUP_BOOK_ONLY +
                "\nThe data folder was validated against the specification "
                "(@sec-data-specification) before any\nanalysis ran; a render stops on any "
                "violation.\n\n```{python}\n#| label: validation\nb.validation()\n```\n"),
            "reproducibility": (
                "# Reproducibility {#sec-reproducibility}\n\n" + SETUP_BOOK_ONLY +
                "\nThe journal supplement (`trialreport bundle`) contains the data, the "
                "specification, the study\ndefinition, the chapters and a wheel of the exact "
                "trialreport version with locked package\nversions; `trialreport verify` "
                "recomputes every result from it and compares each with the\nshipped "
                "`ard.json`. This render:\n\n```{python}\n#| label: reproducibility\n"
                "b.reproducibility()\n```\n"),
        }


def chapters(mapping: dict[str, Any], primary: str) -> tuple[dict[str, str], list[str],
                                                               list[str]]:
    """The book's files for study definition ``mapping`` (``primary``: the population the
    patients are described in): ``(texts by relative path, chapters, appendices)`` in reading
    order."""
    w = _Writer(mapping, primary)
    body = [("abbreviations", w.abbreviations()), ("methods", w.methods()),
            ("patients", w.patients())]
    if mapping.get("time_to_event"):
        body.append(("efficacy", w.efficacy()))
    if "exposure" in mapping or "safety" in mapping:
        body.append(("safety", w.safety()))
    texts = {"index.qmd": fill(w.index())}
    order = ["index.qmd"]
    for i, (name, text) in enumerate(body, 1):
        path = f"chapters/{i:02d}-{name}.qmd"
        texts[path] = fill(text)
        order.append(path)
    appendix_order = []
    for i, (name, text) in enumerate(w.appendices().items(), 1):
        path = f"chapters/a{i}-{name}.qmd"
        texts[path] = fill(text)
        appendix_order.append(path)
    return texts, order, appendix_order

"""Abbreviations: the tool's glossary plus the study's own, found in a table's text.

Every table's footnotes define each abbreviation its text uses, and the report's list of
abbreviations is built from those definitions (ICH E3 section 4), so the two cannot disagree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trialreport.study import Study

__all__ = ["GLOSSARY", "abbreviation_note", "abbreviations_in", "glossary"]

#: Abbreviations the tool's own tables and methods use.
GLOSSARY: dict[str, str] = {
    "AE": "adverse event",
    "ADaM": "Analysis Data Model",
    "ANOVA": "analysis of variance",
    "ARD": "analysis results data",
    "CDISC": "Clinical Data Interchange Standards Consortium",
    "CI": "confidence interval",
    "CONSORT": "Consolidated Standards of Reporting Trials",
    "CSR": "clinical study report",
    "E": "number of events",
    "GCP": "Good Clinical Practice",
    "ICH": "International Council for Harmonisation",
    "MedDRA": "Medical Dictionary for Regulatory Activities",
    "N": "number of patients in the population or arm",
    "n": "number of patients with the characteristic or event",
    "NE": "not estimable",
    "PT": "preferred term",
    "Q1": "first quartile",
    "Q3": "third quartile",
    "SAE": "serious adverse event",
    "SD": "standard deviation",
    "SOC": "system organ class",
    "TEAE": "treatment-emergent adverse event",
}


def glossary(study: Study | None = None) -> dict[str, str]:
    """The tool's glossary with the study's own abbreviations (the study's wins)."""
    merged = dict(GLOSSARY)
    if study is not None:
        merged.update(study.abbreviations)
    return merged


@lru_cache(maxsize=256)
def _pattern(term: str) -> re.Pattern[str]:
    # a term stands alone: not inside a longer word, code or number ("E" in "E.coli" is not)
    return re.compile(rf"(?<![\w/.]){re.escape(term)}(?![\w/])")


def abbreviations_in(texts: Iterable[str], study: Study | None = None) -> dict[str, str]:
    """The glossary entries whose abbreviation occurs in ``texts``, sorted case-insensitively.

    ``n`` and ``N`` count only in the forms tables use: ``n (%)``, ``n/N``, ``(N=...)``.
    """
    text = "\n".join(t for t in texts if t)
    found: dict[str, str] = {}
    entries = glossary(study)
    while True:  # a definition may use another abbreviation ("ANCA-associated vasculitis")
        before = len(found)
        found.update(_found(text, entries))
        text = "\n".join([text, *found.values()])
        if len(found) == before:
            break
    return dict(sorted(found.items(), key=lambda kv: (kv[0].lower(), kv[0])))


def _found(text: str, entries: dict[str, str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for term, meaning in entries.items():
        if term == "n":
            hit = re.search(r"(?<!\w)n(?= \(%\)|/N\b|, )", text) is not None
        elif term == "N":
            hit = re.search(r"\(N=|/N\b|\bN \(", text) is not None
        else:
            hit = _pattern(term).search(text) is not None
        if hit:
            found[term] = meaning
    return found


def abbreviation_note(texts: Iterable[str], study: Study | None = None) -> str:
    """``"AE = adverse event; CI = confidence interval."`` for the abbreviations in ``texts``
    ("" when there are none)."""
    found = abbreviations_in(texts, study)
    return "; ".join(f"{k} = {v}" for k, v in found.items()) + "." if found else ""

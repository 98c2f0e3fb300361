"""Every abbreviation a table uses is defined in its own footnotes ("CI = confidence interval")."""

from __future__ import annotations

import html
import re

import pytest

from conftest import SPEC
from trialreport.book import open_book
from trialreport.spec import load_specification

TABLES = ["disposition", "analysis_sets", "baseline", "exposure", "efficacy", "time_to_relapse",
          "ae_overview", "teae_soc_pt", "teae_severity", "related_soc_pt", "sae_soc_pt", "deaths",
          "sae_listing"]
# N (big N), P (P-value) and U (Mann-Whitney U) are notation, not abbreviations.
NOTATION = {"N", "P", "U"}


def table_text(name: str) -> str:
    raw = open_book(SPEC.parent).table(name, title=True).html
    raw = re.sub(r"<style.*?</style>", "", raw, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", raw)))


@pytest.mark.parametrize("name", TABLES)
def test_abbreviations_are_defined_in_the_footnotes(name: str) -> None:
    text = table_text(name)
    datasets = set(load_specification(SPEC).datasets)
    used = set(re.findall(r"(?<![\w/])([A-Z][A-Z0-9]*(?:/[A-Z]+)?)(?![\w/])", text))
    undefined = sorted(a for a in used - NOTATION - datasets
                       if not re.search(rf"(?<![\w/]){re.escape(a)}(, [A-Z0-9]+)* = ", text))
    assert undefined == [], f"{name}: abbreviations without a definition: {undefined}"


@pytest.mark.parametrize("name", TABLES)
def test_population_and_source_are_stated(name: str) -> None:
    text = table_text(name)
    assert re.search(r"(Randomised set|Full analysis set|Safety population)[\w :]* \(N=\d+\)",
                     text)
    assert "Source: ADSL" in text

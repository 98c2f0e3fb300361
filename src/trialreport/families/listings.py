"""Listings of individual adverse events (ICH E3 14.3.2 / 16.2.7).

One row per event of the population, filtered like the SOC/PT tables (serious, fatal, leading to
discontinuation, ...), sorted by arm (study order), subject, onset day and preferred term, grouped
under the arm. Listings show records, not results: they have no ARD rows and are built from the
validated data. Upper-case controlled terms are shown in sentence case.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd
from great_tables import GT
from pydantic import BaseModel, ConfigDict

from trialreport.analysis_sets import big_n as arm_counts
from trialreport.data import TrialData
from trialreport.families._common import population_of
from trialreport.families.adverse_events import FILTERS, Filter, ae_frame, filter_mask
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.tables._layout import Column, Row, csr_table

__all__ = ["AeListingOptions", "ae_listing"]

PROGRAM = "trialreport.families.listings"
#: Listing columns (ae_frame column -> header).
COLUMNS = {"soc": "System organ class", "pt": "Preferred term", "start_day": "Onset, study day",
           "severity_text": "Severity", "serious": "Serious", "relatedness": "Relationship",
           "outcome": "Outcome"}
_CODED = re.compile(r"[A-Z][A-Z /,()-]*")


class AeListingOptions(BaseModel):
    """``filter``: which events (default serious); ``columns``: which columns, in order."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    filter: Filter = "serious"
    columns: list[str] = ["soc", "pt", "start_day", "severity_text", "relatedness", "outcome"]


def _check(study: Study, spec: OutputSpec) -> list[str]:
    from trialreport.families.adverse_events import _check_filter

    bad = [c for c in spec.options.columns if c not in COLUMNS]  # type: ignore[attr-defined]
    problems = [f"columns: {c!r} is not a listing column ({', '.join(COLUMNS)})" for c in bad]
    return problems + _check_filter(study, spec)


def ae_listing(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """The listed events: ``subject``, ``arm`` and the output's columns, in listing order."""
    study = data.study
    population = population_of(study, spec, study.model.safety.population)
    ae = ae_frame(data, population)
    worst = len(study.model.safety.severity.levels) - 1 if study.model.safety.severity else -9
    ae = ae.loc[filter_mask(ae, spec.options.filter, worst)].copy()  # type: ignore
    ae["_order"] = ae["arm"].cat.codes
    for col in ("subject", "pt"):  # sort by the text, not by the categorical's code order
        ae[f"_{col}"] = ae[col].astype(object).astype(str)
    ae = ae.sort_values(["_order", "_subject", "start_day", "_pt"], kind="mergesort")
    return ae[["subject", "arm", *spec.options.columns]].reset_index(drop=True)  # type: ignore


def _cell_text(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA:
        return ""
    if isinstance(x, bool):
        return "Yes" if x else "No"
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _sentence_case(values: list[str]) -> list[str]:
    """Controlled terms in sentence case ("NOT RELATED" -> "Not related") when every value of
    the column is upper-case words (identifiers with digits are left alone)."""
    present = [v for v in values if v]
    if not present or not all(_CODED.fullmatch(v) for v in present):
        return values
    return [v[:1] + v[1:].lower() for v in values]


def _short_ids(values: list[str], study: Study) -> list[str]:
    """``"ALEVIATE-005"`` -> ``"005"`` when every id starts with the study id."""
    prefix = f"{study.id}-"
    if values and all(v.startswith(prefix) and len(v) > len(prefix) for v in values):
        return [v[len(prefix):] for v in values]
    return values


@register("ae_listing", "listing", options=AeListingOptions,
          datasets=lambda study, spec: ["adsl", study.model.safety.dataset]
          if study.model.safety else ["adsl"], check=_check)
def ae_listing_table(ctx: OutputContext) -> GT:
    """One row per adverse event (serious ones by default), grouped by arm."""
    study, spec = ctx.study, ctx.spec
    if ctx.data is None:
        raise ValueError(f"listing {spec.name!r} is built from the records: pass the trial data")
    listing = ae_listing(ctx.data, spec)
    population = population_of(study, spec, study.model.safety.population)
    ns = arm_counts(ctx.data, population)  # per arm and in total
    names = list(spec.options.columns)  # type: ignore[attr-defined]
    columns = [Column(f"c{i}", COLUMNS[c]) for i, c in enumerate(names, start=1)]
    text = {c: _sentence_case([_cell_text(v) for v in listing[c]]) for c in names}
    subjects = _short_ids([_cell_text(v) for v in listing["subject"]], study)
    labels = study.arm_labels
    rows = [Row(subjects[i], {col.id: text[c][i] for col, c in zip(columns, names, strict=True)},
                group=f"{labels[arm]} (N={ns[arm]})")
            for i, arm in enumerate(listing["arm"].astype(object))]
    if not rows:
        rows = [Row(f"No {FILTERS[spec.options.filter]}s were reported.")]  # type: ignore
    numeric = {col.id for col, c in zip(columns, names, strict=True) if c == "start_day"}
    notes = []
    s = study.model.safety
    if "start_day" in names and s is not None and s.start_day:
        notes.append("Onset study day as recorded in the data (day 1 = first dose).")
    return csr_table(rows, columns, ctx, program=PROGRAM, stub_label="Patient",
                     population_n=ns[study.total_label], stub_max=12,
                     left_columns=[col.id for col in columns if col.id not in numeric],
                     notes=notes)

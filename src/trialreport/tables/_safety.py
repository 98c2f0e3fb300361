"""Safety tables: 14.3.1 AE overview, 14.3.2 SAEs by SOC and PT, 14.3.3 SAE listing."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

import pandas as pd
from great_tables import GT

from trialreport.study import Study
from trialreport.tables._layout import (
    Column,
    Lookup,
    Row,
    Spanner,
    big_n,
    count_text,
    csr_table,
    group_columns,
    n_pct_text,
    resolve_output,
)

__all__ = ["ae_overview_table", "sae_listing_table", "sae_soc_pt_table"]

#: Row labels of the AE overview (unknown variables are shown by their id).
OVERVIEW_LABELS: dict[str, str] = {
    "ANY_AE": "Any adverse event",
    "RELATED_AE": "Any related adverse event",
    "SEVERE_AE": "Any severe adverse event",
    "ANY_SAE": "Any serious adverse event",
    "RELATED_SAE": "Any related serious adverse event",
    "SAE_FATAL": "Serious adverse event with fatal outcome",
    "AE_FATAL": "Adverse event with fatal outcome",
    "AE_DISC": "Adverse event leading to discontinuation",
    "MAX_SEVERITY": "Patients by maximum severity (E = events of that severity)",
}

#: Column headers of the SAE listing for ADaM variable names (others keep their name).
LISTING_LABELS: dict[str, str] = {
    "USUBJID": "Patient",
    "SUBJID": "Patient",
    "TRTA": "Arm",
    "TRT01A": "Arm",
    "AGE": "Age",
    "SEX": "Sex",
    "AESEQ": "AE no.",
    "AEBODSYS": "System organ class",
    "AEDECOD": "Preferred term",
    "AETERM": "Reported term",
    "ASTDY": "Onset, study day",
    "AENDY": "End, study day",
    "ADURN": "Duration, days",
    "AESEV": "Severity",
    "AEREL": "Relationship",
    "AEOUT": "Outcome",
    "AEACN": "Action taken",
    "ASTDT": "Start date",
    "AENDT": "End date",
}


def _n_pct_e_columns(study: Study, ns: Mapping[str, int]
                     ) -> tuple[dict[str, str], list[Column], list[Spanner]]:
    """Per group an ``n (%)`` and an ``E`` column under a spanner ``"60 mg (N=12)"``."""
    groups: dict[str, str] = {}
    columns: list[Column] = []
    spanners: list[Spanner] = []
    for code, col in group_columns(study, ns):
        groups[code] = col.id
        columns += [Column(f"{col.id}_n", "n (%)"), Column(f"{col.id}_e", "E")]
        spanners.append(Spanner(col.id, col.label, [f"{col.id}_n", f"{col.id}_e"], col.n))
    return groups, columns, spanners


def _cells(look: Lookup, groups: Mapping[str, str], ns: Mapping[str, int], var: str,
           category: str = "") -> dict[str, str]:
    """``n (%)`` (percent of the group's big N) and ``E`` cells of one row, for every group."""
    cells = {}
    for g, c in groups.items():
        n = look.get(g, var, "subjects", category)
        cells[f"{c}_n"] = n_pct_text(0.0 if math.isnan(n) else n, ns.get(g, math.nan))
        events = look.get(g, var, "events", category)
        cells[f"{c}_e"] = count_text(0.0 if math.isnan(events) else events)
    return cells


def overview_rows(look: Lookup, groups: Mapping[str, str], ns: Mapping[str, int]) -> list[Row]:
    """One row per kind of event; a variable with categories (``MAX_SEVERITY``) gets a label
    row with one indented row per category."""
    rows: list[Row] = []
    for var in look.variables():
        label = OVERVIEW_LABELS.get(var, var)
        categories = look.categories(var)
        if not categories:
            rows.append(Row(label, _cells(look, groups, ns, var)))
            continue
        rows.append(Row(label))
        for cat in categories:
            rows.append(Row(cat.capitalize() if cat.isupper() else cat,
                            _cells(look, groups, ns, var, cat), level=1))
    return rows


def ae_overview_table(ard: Any, study: Study, name: str | None = None, *,
        title: bool = True) -> GT:
    """Table 14.3.1: patients (n, %) and events (E) with each kind of adverse event."""
    name = resolve_output(study, name, ("ae_overview",))
    spec = study.output(name)
    population = spec.population or (study.section("safety", {}) or {}).get("population")
    look = Lookup(ard, "ae_overview", population)
    ns = big_n(ard, population)
    groups, columns, spanners = _n_pct_e_columns(study, ns)
    rows = overview_rows(look, groups, ns)
    return csr_table(rows, columns, study, name, ard=ard, title=title,
                     program="trialreport.tables.ae_overview_table", spanners=spanners,
                     population_n=ns.get(study.total_label))


def _order(look: Lookup, total: str, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Sort ``(variable, category)`` by decreasing total patients, then alphabetically."""

    def key(vc: tuple[str, str]) -> tuple[float, str, str]:
        n = look.get(total, vc[0], "subjects", vc[1])
        return (-(0.0 if math.isnan(n) else n), vc[1].casefold() or vc[0].casefold(), vc[0])

    return sorted(pairs, key=key)


def soc_pt_rows(look: Lookup, groups: Mapping[str, str], ns: Mapping[str, int], total: str,
                any_label: str = "Any serious adverse event") -> list[Row]:
    """"Any" row, then each SOC (bold) with its PTs indented, by decreasing frequency."""
    rows = [Row(any_label, _cells(look, groups, ns, "ANY"))]
    socs = [v for v in look.variables() if v != "ANY"]
    for soc, _ in _order(look, total, [(s, "") for s in socs]):
        rows.append(Row(soc, _cells(look, groups, ns, soc), bold=True))
        pts = [(soc, pt) for pt in look.categories(soc)]
        for _, pt in _order(look, total, pts):
            rows.append(Row(pt, _cells(look, groups, ns, soc, pt), level=1))
    return rows


def sae_soc_pt_table(ard: Any, study: Study, name: str | None = None, *,
        title: bool = True) -> GT:
    """Table 14.3.2: serious adverse events by system organ class and preferred term."""
    name = resolve_output(study, name, ("sae_soc_pt",))
    spec = study.output(name)
    population = spec.population or (study.section("safety", {}) or {}).get("population")
    look = Lookup(ard, "sae_soc_pt", population)
    ns = big_n(ard, population)
    groups, columns, spanners = _n_pct_e_columns(study, ns)
    rows = soc_pt_rows(look, groups, ns, study.total_label)
    return csr_table(rows, columns, study, name, ard=ard, title=title,
                     program="trialreport.tables.sae_soc_pt_table", spanners=spanners,
                     population_n=ns.get(study.total_label),
                     stub_label="System organ class / Preferred term")


def _cell_text(x: Any) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA or x is pd.NaT:
        return ""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if isinstance(x, pd.Timestamp):
        return x.strftime("%Y-%m-%d")
    return str(x)


_CODED = re.compile(r"[A-Z][A-Z /,()-]*")


def _sentence_case(values: list[str]) -> list[str]:
    """Controlled terms shown in sentence case ("NOT RELATED" -> "Not related") when every
    value of the column is upper-case words (identifiers with digits are left alone)."""
    present = [v for v in values if v]
    if not present or not all(_CODED.fullmatch(v) for v in present):
        return values
    return [v[:1] + v[1:].lower() for v in values]


def _arm_column(frame: pd.DataFrame, study: Study) -> str | None:
    """The listing column holding the arm (codes or labels), if any."""
    known = {a.code for a in study.arms} | {a.label for a in study.arms}
    for col in frame.columns:
        values = {str(v) for v in frame[col].dropna().unique()}
        if values and values <= known:
            return str(col)
    return None


def _short_ids(values: list[str], study: Study) -> list[str]:
    """``"ALEVIATE-005"`` -> ``"005"`` when every id starts with the study id."""
    prefix = f"{study.id}-"
    if values and all(v.startswith(prefix) and len(v) > len(prefix) for v in values):
        return [v[len(prefix):] for v in values]
    return values


def sae_listing_table(listing: pd.DataFrame, study: Study, ard: Any = None,
                      name: str | None = None, *, title: bool = True) -> GT:
    """Table 14.3.3: one row per serious adverse event, in the order of ``listing``.

    Rows are grouped under their arm ("60 mg (N=12)") when the listing has an arm column; the
    first other column (the patient) is the row label, shown without the study-id prefix.
    Upper-case controlled terms are shown in sentence case. ``ard`` is only used for big N.
    """
    name = resolve_output(study, name, ("sae_listing",))
    spec = study.output(name)
    population = spec.population or (study.section("safety", {}) or {}).get("population")
    ns = big_n(ard, population) if ard is not None else {}
    arm_labels = study.arm_labels
    frame = listing.reset_index(drop=True)
    if frame.shape[1] == 0:
        frame = pd.DataFrame({"USUBJID": pd.Series(dtype=object)})
    arm_col = _arm_column(frame, study) if len(frame) else None
    cols = [str(c) for c in frame.columns if str(c) != arm_col]
    stub, rest = cols[0], cols[1:]
    columns = [Column(f"c{i}", LISTING_LABELS.get(c, c)) for i, c in enumerate(rest, start=1)]
    text = {c: _sentence_case(list(map(_cell_text, frame[c]))) for c in cols}
    text[stub] = _short_ids(text[stub], study)
    groups: list[str | None] = [None] * len(frame)
    if arm_col is not None:
        by_label = {a.label: a.code for a in study.arms}
        for i, value in enumerate(map(_cell_text, frame[arm_col])):
            code = by_label.get(value, value)
            label = arm_labels.get(code, code)
            groups[i] = f"{label} (N={ns[code]})" if code in ns else label
    rows = [Row(text[stub][i], {col.id: text[c][i] for col, c in zip(columns, rest, strict=True)},
                group=groups[i])
            for i in range(len(frame))]
    if not rows:
        rows = [Row("No serious adverse events were reported.")]
    numeric = {col.id for col, c in zip(columns, rest, strict=True)
               if pd.api.types.is_numeric_dtype(frame[c])}
    return csr_table(rows, columns, study, name, ard=ard, title=title,
                     program="trialreport.tables.sae_listing_table",
                     stub_label=LISTING_LABELS.get(stub, stub),
                     population_n=ns.get(study.total_label), stub_max=12,
                     left_columns=[col.id for col in columns if col.id not in numeric])

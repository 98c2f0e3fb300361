"""Adverse events (ICH E3 12.2): overview, events by SOC and PT, by maximum severity.

Variable names come from ``safety:`` in the study definition. Only treatment-emergent events of
subjects in the safety population count, each in the subject's arm of that population (actual
treatment). Patients are counted once per row, events (E) each time they occur; percentages are
of the population's N per arm. Counting is vectorised (``drop_duplicates`` + ``groupby``).

SOC/PT tables may carry the field's between-arm statistics for each comparison of the study
(treatment vs reference): Fisher's exact test on patients with vs without the event and the risk
difference in percentage points with its confidence interval (Newcombe hybrid score by default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from great_tables import GT
from pydantic import BaseModel, ConfigDict, Field

from trialreport import formatting as F
from trialreport.analysis_sets import ARM, as_text, big_n, population_adsl
from trialreport.ard._frame import concat_frames, empty_frame, stack_statistics
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key, population_of
from trialreport.families._occurrence import ANY, _pct, _subjects_events, codes_of, count_soc_pt
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.tables._layout import (
    Column,
    Lookup,
    Row,
    Spanner,
    count_text,
    csr_table,
    group_columns,
    n_pct_text,
    pvalue_text,
)
from trialreport.tables._layout import big_n as table_big_n

__all__ = ["AeSocPtOptions", "AeSeverityOptions", "FILTERS", "ae_frame", "count_soc_pt",
           "overview_rows"]

PROGRAM = "trialreport.families.adverse_events"
STATS = ("subjects", "pct", "events")
Filter = Literal["all", "serious", "related", "serious_related", "severe",
                 "leading_to_discontinuation", "fatal", "nonserious"]
#: What each filter keeps, for titles of rows and footnotes.
FILTERS: dict[str, str] = {
    "all": "treatment-emergent adverse event",
    "serious": "serious adverse event",
    "related": "related adverse event",
    "serious_related": "related serious adverse event",
    "severe": "adverse event at the worst severity",
    "leading_to_discontinuation": "adverse event leading to discontinuation",
    "fatal": "adverse event with fatal outcome",
    "nonserious": "non-serious adverse event",
}
#: Overview rows: ARD variable -> (filter, label).
OVERVIEW: dict[str, tuple[str, str]] = {
    "ANY_AE": ("all", "Any treatment-emergent adverse event"),
    "RELATED_AE": ("related", "Any related adverse event"),
    "SEVERE_AE": ("severe", "Any adverse event of the worst severity"),
    "ANY_SAE": ("serious", "Any serious adverse event"),
    "RELATED_SAE": ("serious_related", "Any related serious adverse event"),
    "AE_DISC": ("leading_to_discontinuation", "Any adverse event leading to discontinuation"),
    "AE_FATAL": ("fatal", "Any adverse event with fatal outcome"),
}


def _settings(study: Study) -> Any:
    if study.model.safety is None:
        raise ValueError("adverse-event outputs need a 'safety:' block")
    return study.model.safety


def _population(study: Study, spec: OutputSpec) -> str:
    return population_of(study, spec, _settings(study).population)


class _Columns:
    """The AE dataset's columns as integer codes, each coded once (a pass over the records per
    column, however many settings read it)."""

    def __init__(self, ae: pd.DataFrame):
        self.ae = ae
        self.coded: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def codes(self, variable: str) -> tuple[np.ndarray, np.ndarray]:
        """Codes (-1 = missing) and the text of each code (as :func:`as_text` writes it)."""
        if variable not in self.coded:
            codes, uniques = codes_of(self.ae[variable])
            texts = as_text(pd.Series(uniques, dtype=object)).to_numpy(dtype=object)
            self.coded[variable] = (codes, texts)
        return self.coded[variable]

    def isin(self, variable: str, wanted: Sequence[str]) -> np.ndarray:
        codes, texts = self.codes(variable)
        hit = np.isin(texts, list(wanted))
        return np.append(hit, False)[codes]  # code -1 (missing) picks the final False

    def categorical(self, variable: str, missing: str | None = None) -> pd.Categorical:
        """The text as a categorical (``missing`` for missing values, else NaN)."""
        codes, texts = self.codes(variable)
        values = pd.Series(texts, dtype=object)
        if missing is not None:
            codes = np.where(codes < 0, len(texts), codes)
            values = pd.concat([values.fillna(missing), pd.Series([missing], dtype=object)],
                               ignore_index=True)
        new_codes, categories = pd.factorize(values)  # texts may repeat ("A" and "A ")
        mapped = np.append(new_codes, -1)[codes]
        return pd.Categorical.from_codes(mapped, categories=list(categories))


def ae_frame(data: TrialData, population: str | None = None) -> pd.DataFrame:
    """Treatment-emergent events of the population's subjects, in analysis terms.

    Columns: ``subject``, ``arm`` (categorical, study order), ``soc``, ``pt``, ``serious``,
    ``related``, ``fatal``, ``discontinued`` (bool), ``severity`` (rank 0 = mildest, -1 =
    unknown), ``severity_text``, ``relatedness``, ``outcome`` (text), ``start_day`` (float);
    dataset record order.
    """
    study = data.study
    s = _settings(study)
    population = population or s.population
    cached = data.cache.get(("ae_frame", population))
    if cached is not None:
        return cached
    subject = study.model.subject_variable
    pop = population_adsl(data, population)[[subject, ARM]]
    ae = data[s.dataset]
    if s.treatment_emergent_flag:
        ae = ae.loc[_Columns(ae).isin(s.treatment_emergent_flag, ["Y"])]
    subj_codes, subj_ids = codes_of(ae[subject])
    arm_of_id = pd.Index(pop[subject].to_numpy()).get_indexer(subj_ids)  # -1: not in population
    pop_arm = pop[ARM].cat.codes.to_numpy()
    arm_code = np.append(np.where(arm_of_id >= 0, pop_arm[arm_of_id], -1), -1)[subj_codes]
    inside = arm_code >= 0
    ae = ae.loc[inside]
    cols = _Columns(ae)
    n = len(ae)
    none = pd.Categorical(np.full(n, None, dtype=object))
    false = np.zeros(n, dtype=bool)
    levels = s.severity.levels if s.severity else []
    severity = cols.categorical(s.severity.variable) if s.severity else none
    frame = pd.DataFrame({
        "subject": pd.Categorical.from_codes(subj_codes[inside],
                                             categories=list(pd.Index(subj_ids))),
        "arm": pd.Categorical.from_codes(arm_code[inside], categories=study.arm_codes),
        "soc": cols.categorical(s.soc, "(SOC not coded)"),
        "pt": cols.categorical(s.term, "(PT not coded)"),
        "serious": cols.isin(s.serious.variable, s.serious.values),
        "related": cols.isin(s.related.variable, s.related.values) if s.related else false,
        "fatal": cols.isin(s.fatal.variable, s.fatal.values) if s.fatal else false,
        "discontinued": (cols.isin(s.leading_to_discontinuation.variable,
                                   s.leading_to_discontinuation.values)
                         if s.leading_to_discontinuation else false),
        "severity": (pd.Categorical(severity.astype(object), categories=levels).codes
                     if levels else np.full(n, -1)).astype(np.int64),
        "severity_text": severity,
        "relatedness": cols.categorical(s.related.variable) if s.related else none,
        "outcome": cols.categorical(s.outcome) if s.outcome else none,
        "start_day": pd.to_numeric(ae[s.start_day], errors="raise").astype(float).to_numpy()
        if s.start_day else np.full(n, np.nan),
    })
    data.cache[("ae_frame", population)] = frame  # every AE output of a build shares it
    return frame


def filter_mask(ae: pd.DataFrame, kind: str, worst: int) -> np.ndarray:
    """Events kept by filter ``kind`` (``worst``: rank of the worst severity level)."""
    if kind == "all":
        return np.ones(len(ae), dtype=bool)
    if kind == "serious":
        return ae["serious"].to_numpy()
    if kind == "nonserious":
        return ~ae["serious"].to_numpy()
    if kind == "related":
        return ae["related"].to_numpy()
    if kind == "serious_related":
        return (ae["serious"] & ae["related"]).to_numpy()
    if kind == "severe":
        return ae["severity"].to_numpy() == worst
    if kind == "leading_to_discontinuation":
        return ae["discontinued"].to_numpy()
    if kind == "fatal":
        return ae["fatal"].to_numpy()
    raise ValueError(f"unknown adverse-event filter {kind!r}")


def _available(study: Study, kind: str) -> bool:
    s = _settings(study)
    need = {"related": s.related, "serious_related": s.related, "severe": s.severity,
            "leading_to_discontinuation": s.leading_to_discontinuation, "fatal": s.fatal}
    return need.get(kind, True) is not None


def comparison_rows(study: Study, keys: list[tuple[str, str]], subjects: np.ndarray,
                    ns: np.ndarray, key: Mapping[str, str], statistics: Any) -> pd.DataFrame:
    """Per row and comparison: risk difference (proportion, with CI) and Fisher's p-value,
    vectorised over rows (:func:`trialreport.stats.risk_difference_many`,
    :func:`trialreport.stats.fisher_exact_2x2_many`).

    References: Fisher RA (1935). J R Stat Soc 98:39-82. Newcombe RG (1998). Stat Med
    17:873-890.
    """
    from trialreport.stats.categorical import FISHER, fisher_exact_2x2_many
    from trialreport.stats.proportions import difference_label, risk_difference_many

    arms = study.arm_codes
    frames = []
    for comp in study.comparisons:
        t, r = arms.index(comp.treatment), arms.index(comp.reference)
        a, b = subjects[:, t].astype(np.int64), subjects[:, r].astype(np.int64)
        n1 = np.full(len(keys), int(ns[t]))
        n2 = np.full(len(keys), int(ns[r]))
        est, lo, hi = risk_difference_many(a, n1, b, n2, conf=statistics.conf_level,
                                           method=statistics.difference_method)
        wide = pd.DataFrame({"variable": [k[0] for k in keys], "category": [k[1] for k in keys],
                             "group": study.comparison_group(comp), "estimate": est,
                             "lower": lo, "upper": hi})
        stats = ["estimate", "lower", "upper"]
        methods = dict.fromkeys(stats, difference_label(statistics.difference_method))
        if statistics.test == "fisher":
            wide["pvalue"] = fisher_exact_2x2_many(a, n1, b, n2)
            stats.append("pvalue")
            methods["pvalue"] = FISHER
        frames.append(stack_statistics(wide, stats, methods=methods, **key))
    return concat_frames(frames)


# --------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------


class AeOverviewOptions(BaseModel):
    """``rows``: overview rows to show (default: every row the safety settings support)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    rows: list[Literal["ANY_AE", "RELATED_AE", "SEVERE_AE", "ANY_SAE", "RELATED_SAE",
                       "AE_DISC", "AE_FATAL"]] | None = None


class AeSocPtOptions(BaseModel):
    """``filter``: which events (default all TEAEs); ``statistics``: between-arm statistics
    against each comparison's reference (default: when ``safety.statistics`` is set);
    ``min_pct``: keep only PTs reported by at least this % of patients in any arm."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    filter: Filter = "all"
    statistics: bool | None = None
    min_pct: float | None = Field(default=None, ge=0, le=100)


class AeSeverityOptions(BaseModel):
    """``filter``: which events (default all TEAEs); ``socs_only``: SOC rows without PTs."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    filter: Filter = "all"
    socs_only: bool = False


def _check_filter(study: Study, spec: OutputSpec) -> list[str]:
    if study.model.safety is None:
        return [f"type {spec.type!r} needs a 'safety:' block"]
    kind = getattr(spec.options, "filter", "all")
    if not _available(study, kind):
        return [f"filter {kind!r} needs the matching setting under safety: (related, severity, "
                "leading_to_discontinuation or fatal)"]
    if spec.type == "ae_severity" and study.model.safety.severity is None:
        return ["type 'ae_severity' needs safety.severity (variable and levels)"]
    opts = spec.options
    if getattr(opts, "statistics", None) and not study.comparisons:
        return ["statistics: true needs comparisons (arms.reference or arms.comparisons)"]
    return []


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    return ["adsl", _settings(study).dataset]


def _ns(data: TrialData, population: str) -> np.ndarray:
    return np.array(list(big_n(data, population).values()), dtype=float)


# --------------------------------------------------------------------------------------
# overview
# --------------------------------------------------------------------------------------


def _overview_vars(study: Study, spec: OutputSpec) -> list[str]:
    chosen = spec.options.rows  # type: ignore[attr-defined]
    names = chosen or [v for v, (kind, _) in OVERVIEW.items() if _available(study, kind)]
    return [v for v in names if _available(study, OVERVIEW[v][0])]


def overview_compute(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """ARD rows: per overview variable and group ``subjects``, ``pct``, ``events``."""
    study = data.study
    population = _population(study, spec)
    key = output_key(spec, population)
    ae = ae_frame(data, population)
    ns = _ns(data, population)
    groups = [*study.arm_codes, study.total_label]
    worst = len(study.model.safety.severity.levels) - 1 if study.model.safety.severity else -9
    wide = []
    for var in _overview_vars(study, spec):
        subj, ev = _subjects_events(ae, filter_mask(ae, OVERVIEW[var][0], worst),
                                    len(study.arm_codes))
        wide.append(pd.DataFrame({"variable": var, "category": "", "group": groups,
                                  "subjects": subj, "pct": _pct(subj, ns), "events": ev}))
    counts = dict(zip(groups, ns.astype(int).tolist(), strict=True))
    rows = stack_statistics(pd.concat(wide, ignore_index=True), STATS, **key) if wide else \
        empty_frame()
    return concat_frames([bign_rows(key, counts), rows])


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
    """``n (%)`` (percent of the group's N) and ``E`` cells of one row, for every group."""
    cells = {}
    for g, c in groups.items():
        n = look.get(g, var, "subjects", category)
        cells[f"{c}_n"] = n_pct_text(0.0 if math.isnan(n) else n, ns.get(g, math.nan))
        events = look.get(g, var, "events", category)
        cells[f"{c}_e"] = count_text(0.0 if math.isnan(events) else events)
    return cells


def overview_rows(look: Lookup, groups: Mapping[str, str], ns: Mapping[str, int]) -> list[Row]:
    """One row per kind of event, in ARD order."""
    return [Row(OVERVIEW.get(var, ("", var))[1], _cells(look, groups, ns, var))
            for var in look.variables() if var]


_COUNTING_NOTE = ("n (%) = patients with at least one event (percent of N); E = number of "
                  "events. Patients are counted once per row.")


@register("ae_overview", "table", options=AeOverviewOptions, compute=overview_compute,
          datasets=_datasets, check=_check_filter)
def ae_overview_table(ctx: OutputContext) -> GT:
    """Patients (n, %) and events (E) with each kind of treatment-emergent adverse event."""
    look = Lookup(ctx.ard, ctx.spec.name)
    ns = table_big_n(ctx.ard, ctx.spec.name)
    groups, columns, spanners = _n_pct_e_columns(ctx.study, ns)
    notes = [_COUNTING_NOTE]
    s = ctx.study.model.safety
    if s is not None and s.severity is not None and "SEVERE_AE" in look.variables():
        notes.append(f"Worst severity: {s.severity.levels[-1].lower()} (levels: "
                     f"{', '.join(level.lower() for level in s.severity.levels)}).")
    return csr_table(overview_rows(look, groups, ns), columns, ctx, program=PROGRAM,
                     spanners=spanners, notes=notes)


# --------------------------------------------------------------------------------------
# SOC / PT
# --------------------------------------------------------------------------------------


def _statistics(study: Study, spec: OutputSpec) -> Any:
    """The safety statistics settings when this output shows them, else ``None``."""
    s = study.model.safety
    wanted = getattr(spec.options, "statistics", None)
    if wanted is None:
        wanted = s is not None and s.statistics is not None
    if not wanted or not study.comparisons:
        return None
    from trialreport.study._model import SafetyStatistics

    return s.statistics if s is not None and s.statistics is not None else SafetyStatistics()


def soc_pt_compute(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """ARD rows: variable = SOC (``ANY`` = any event), category = PT ("" = the SOC total);
    statistics ``subjects``, ``pct``, ``events`` per group; per comparison ``estimate``,
    ``lower``, ``upper`` (risk difference, proportion) and ``pvalue``."""
    study = data.study
    population = _population(study, spec)
    key = output_key(spec, population)
    ae = ae_frame(data, population)
    worst = len(study.model.safety.severity.levels) - 1 if study.model.safety.severity else -9
    ae = ae.loc[filter_mask(ae, spec.options.filter, worst)]  # type: ignore[attr-defined]
    arms = study.arm_codes
    ns = _ns(data, population)
    keys, subjects, events = count_soc_pt(ae, arms)
    min_pct = spec.options.min_pct  # type: ignore[attr-defined]
    if min_pct is not None and len(keys) > 1:
        pct = _pct(subjects[:, :-1], ns[None, :-1])
        keep_pt = {(s, p) for (s, p), row in zip(keys, pct, strict=True)
                   if p and np.nanmax(row) >= min_pct}
        kept_socs = {s for s, _ in keep_pt}
        idx = [i for i, (s, p) in enumerate(keys)
               if s == ANY or (p == "" and s in kept_socs) or (s, p) in keep_pt]
        keys = [keys[i] for i in idx]
        subjects, events = subjects[idx], events[idx]
    groups = [*arms, study.total_label]
    m = len(keys)
    wide = pd.DataFrame({
        "variable": np.repeat([k[0] for k in keys], len(groups)),
        "category": np.repeat([k[1] for k in keys], len(groups)),
        "group": np.tile(np.array(groups, dtype=object), m),
        "subjects": subjects.ravel(), "pct": _pct(subjects, ns[None, :]).ravel(),
        "events": events.ravel()})
    frames = [bign_rows(key, dict(zip(groups, ns.astype(int).tolist(), strict=True))),
              stack_statistics(wide, STATS, **key)]
    statistics = _statistics(study, spec)
    if statistics is not None:
        frames.append(comparison_rows(study, keys, subjects, ns, key, statistics))
    return concat_frames(frames)


def _rd_cell(look: Lookup, group: str, var: str, category: str) -> str:
    est = look.get(group, var, "estimate", category)
    if math.isnan(est):
        return ""
    return (f"{F.fmt_number(est, 1, na=F.NE, scale=100)} "
            f"{F.fmt_ci(look.get(group, var, 'lower', category), look.get(group, var, 'upper', category), 1, scale=100)}")  # noqa: E501


def _any_label(kind: str) -> str:
    return f"Any {FILTERS[kind]}" if kind != "all" else "Any treatment-emergent adverse event"


@register("ae_soc_pt", "table", options=AeSocPtOptions, compute=soc_pt_compute,
          datasets=_datasets, check=_check_filter)
def ae_soc_pt_table(ctx: OutputContext) -> GT:
    """Treatment-emergent adverse events by system organ class and preferred term."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    ns = table_big_n(ctx.ard, spec.name)
    groups, columns, spanners = _n_pct_e_columns(study, ns)
    comps = [(study.comparison_group(c), study.comparison_label(c), f"c{i}")
             for i, c in enumerate(study.comparisons, start=1)
             if look.has(study.comparison_group(c), ANY, "estimate")]
    for _group, label, cid in comps:
        columns += [Column(f"{cid}_rd", f"Risk difference, %\n({study.conf_label()})"),
                    Column(f"{cid}_p", "P-value")]
        spanners.append(Spanner(cid, label, [f"{cid}_rd", f"{cid}_p"]))

    def cells(var: str, cat: str = "") -> dict[str, str]:
        out = _cells(look, groups, ns, var, cat)
        for group, _, cid in comps:
            out[f"{cid}_rd"] = _rd_cell(look, group, var, cat)
            out[f"{cid}_p"] = pvalue_text(look.get(group, var, "pvalue", cat))
        return out

    kind = spec.options.filter  # type: ignore[attr-defined]
    rows = [Row(_any_label(kind), cells(ANY))]
    for soc in [v for v in look.variables() if v not in (ANY, "")]:
        rows.append(Row(soc, cells(soc), bold=True))
        for pt in look.categories(soc):
            rows.append(Row(pt, cells(soc, pt), level=1))
    if len(rows) == 1 and look.get(study.total_label, ANY, "subjects") == 0:
        rows.append(Row(f"No {FILTERS[kind]}s were reported.", {}))
    notes = [_COUNTING_NOTE + " System organ classes and preferred terms are sorted by "
             "decreasing number of patients in the total column, then alphabetically."]
    min_pct = spec.options.min_pct  # type: ignore[attr-defined]
    if min_pct is not None:
        notes.append(f"Preferred terms reported by at least {F.fmt_number(min_pct, 1)}% of "
                     "patients in any arm.")
    if comps:
        method = look.method(comps[0][0], ANY, "estimate")
        ptest = look.method(comps[0][0], ANY, "pvalue")
        notes.append(f"Risk difference (treatment minus reference) in percentage points with "
                     f"{study.conf_label(_statistics(study, spec))}: {method}"
                     + (f"; p-value: {ptest}" if ptest else "") + ".")
    return csr_table(rows, columns, ctx, program=PROGRAM, spanners=spanners,
                     stub_label="System organ class\n  Preferred term", notes=notes)


# --------------------------------------------------------------------------------------
# maximum severity
# --------------------------------------------------------------------------------------


def _worst_by_row(ae: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Patients per row (``by`` = [], [soc] or [soc, pt]), arm and worst severity rank: each
    patient counted once per row, at the worst severity of their events in that row."""
    per_subject = ae.groupby([*by, "subject"], sort=False, observed=True).agg(
        worst=("severity", "max"), arm=("arm", "first"))
    counts = per_subject.groupby([*by, "arm", "worst"], sort=False, observed=True).size()
    return counts.rename("n").reset_index()


def severity_compute(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """ARD rows: per SOC/PT row (as :func:`soc_pt_compute`) and severity level (statistics
    ``subjects@<level>`` and ``pct@<level>``; ``subjects@(missing)`` when a patient's events in
    the row have no severity): patients counted once, at the worst severity of their events in
    that row. Vectorised: one group-by per row level."""
    study = data.study
    population = _population(study, spec)
    key = output_key(spec, population)
    ae = ae_frame(data, population)
    levels = study.model.safety.severity.levels
    ae = ae.loc[filter_mask(ae, spec.options.filter, len(levels) - 1)]  # type: ignore
    arms = study.arm_codes
    ns = _ns(data, population)
    groups = [*arms, study.total_label]
    keys, _, _ = count_soc_pt(ae, arms)
    if spec.options.socs_only:  # type: ignore[attr-defined]
        keys = [k for k in keys if k[1] == ""]
    index = {k: i for i, k in enumerate(keys)}
    names = [*levels, "(missing)"]
    counts = np.zeros((len(keys), len(arms), len(names)))  # rows x arms x levels
    for by in ([], ["soc"], ["soc", "pt"]):
        table = _worst_by_row(ae, by)
        if table.empty:
            continue
        soc = table["soc"].to_numpy(dtype=object) if by else np.full(len(table), ANY, object)
        pt = table["pt"].to_numpy(dtype=object) if len(by) == 2 else np.full(len(table), "",
                                                                              object)
        rows = np.array([index.get((s, p), -1) for s, p in zip(soc, pt, strict=True)])
        arm = pd.Categorical(table["arm"], categories=arms).codes
        worst = table["worst"].to_numpy()
        level = np.where(worst >= 0, worst, len(levels))
        keep = (rows >= 0) & (arm >= 0)
        np.add.at(counts, (rows[keep], arm[keep], level[keep]), table["n"].to_numpy()[keep])
    full = np.concatenate([counts, counts.sum(axis=1, keepdims=True)], axis=1)  # + total
    records = []
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(ns[None, :, None] > 0, 100.0 * full / ns[None, :, None], np.nan)
    for (var, cat), i in index.items():
        for j, level in enumerate(names):
            if level == "(missing)" and not full[i, :, j].any():
                continue
            stats = [("subjects", full[i, :, j])] + (
                [("pct", pct[i, :, j])] if level != "(missing)" else [])
            for stat, values in stats:
                records += [(var, cat, g, f"{stat}@{level}", float(v))
                            for g, v in zip(groups, values, strict=True)]
    frame = pd.DataFrame.from_records(records, columns=["variable", "category", "group",
                                                        "statistic", "value"])
    from trialreport.ard._frame import long_frame

    rows_frame = long_frame(frame["value"].to_numpy(dtype=float),
                            variable=frame["variable"].to_numpy(dtype=object),
                            category=frame["category"].to_numpy(dtype=object),
                            group=frame["group"].to_numpy(dtype=object),
                            statistic=frame["statistic"].to_numpy(dtype=object), **key)
    return concat_frames([bign_rows(key, dict(zip(groups, ns.astype(int).tolist(),
                                                   strict=True))), rows_frame])


@register("ae_severity", "table", options=AeSeverityOptions, compute=severity_compute,
          datasets=_datasets, check=_check_filter)
def ae_severity_table(ctx: OutputContext) -> GT:
    """Treatment-emergent adverse events by SOC, PT and maximum severity (patients at their
    worst severity)."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    ns = table_big_n(ctx.ard, spec.name)
    cols = group_columns(study, ns)
    levels = study.model.safety.severity.levels

    def level_rows(var: str, cat: str, indent: int) -> list[Row]:
        out = []
        for level in [*levels, "(missing)"]:
            stat = f"subjects@{level}"
            if level == "(missing)" and not any(look.has(g, var, stat, cat) for g, _ in cols):
                continue
            cells = {col.id: n_pct_text(look.get(g, var, stat, cat), ns.get(g, math.nan))
                     for g, col in cols}
            label = level[:1] + level[1:].lower() if level.isupper() else level
            out.append(Row(label, cells, level=indent))
        return out

    kind = spec.options.filter  # type: ignore[attr-defined]
    rows = [Row(_any_label(kind), bold=True), *level_rows(ANY, "", 1)]
    for soc in [v for v in look.variables() if v not in (ANY, "")]:
        rows.append(Row(soc, bold=True))
        rows += level_rows(soc, "", 2)  # as deep as a PT's levels, below the PT names
        for pt in look.categories(soc):
            rows.append(Row(pt, level=1))
            rows += level_rows(soc, pt, 2)
    notes = ["n (%) = patients (percent of N), each counted once per row at the worst severity "
             "of their events in that row."]
    return csr_table(rows, [col for _, col in cols], ctx, program=PROGRAM,
                     stub_label="System organ class\n  Preferred term\n    Maximum severity",
                     notes=notes)

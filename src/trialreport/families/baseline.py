"""Demographic and baseline characteristics by arm (ICH E3 11.2; Table 14.1.x).

Variables come from ``baseline:`` in the study definition. Between-arm tests are off unless the
definition asks for them: CONSORT 2010 (item 15) advises against testing baseline differences in
randomised trials. Continuous variables: n, mean (SD), median (Q1, Q3), min, max (as the
definition selects); location statistics are shown at the data's precision plus one decimal,
the SD plus two, min and max at the data's precision. Categorical variables: n (%) of patients
with a non-missing value.
"""

from __future__ import annotations

import math
from typing import Any

from great_tables import GT
from pydantic import BaseModel, ConfigDict

from trialreport import formatting as F
from trialreport.analysis_sets import big_n as arm_counts
from trialreport.analysis_sets import population_adsl
from trialreport.ard._frame import concat_frames
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key, population_of
from trialreport.families._summary import summarise
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.tables._layout import (
    COMPARISON,
    Column,
    Lookup,
    Row,
    big_n,
    count_text,
    csr_table,
    group_columns,
    n_pct_text,
    pvalue_text,
)

__all__ = ["BaselineOptions", "baseline_rows", "compute", "continuous_cell", "missing_row"]

PROGRAM = "trialreport.families.baseline"

#: Stub labels of the continuous summaries.
SUMMARY_LABELS = {"n": "n", "mean_sd": "Mean (SD)", "median": "Median",
                  "median_iqr": "Median (Q1, Q3)", "q1_q3": "Q1, Q3", "min_max": "Min, Max"}


class BaselineOptions(BaseModel):
    """``variables``: names of ``baseline.variables`` to show (default: all, in order)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    variables: list[str] | None = None


def _variables(study: Study, spec: OutputSpec) -> list[Any]:
    section = study.model.baseline
    if section is None:
        return []
    chosen = spec.options.variables  # type: ignore[attr-defined]
    if chosen is None:
        return list(section.variables)
    by_name = {v.name: v for v in section.variables}
    return [by_name[n] for n in chosen]


def _check(study: Study, spec: OutputSpec) -> list[str]:
    section = study.model.baseline
    if section is None:
        return ["type 'baseline' needs a 'baseline:' block with the variables"]
    known = {v.name for v in section.variables}
    chosen = spec.options.variables or []  # type: ignore[attr-defined]
    return [f"variables: {n!r} is not one of baseline.variables ({', '.join(sorted(known))})"
            for n in chosen if n not in known]


def _population(study: Study, spec: OutputSpec) -> str:
    section = study.model.baseline
    return population_of(study, spec, section.population if section else None)


def compute(data: TrialData, spec: OutputSpec) -> Any:
    """ARD rows of a baseline table (see :func:`trialreport.families._summary.summarise`)."""
    study = data.study
    population = _population(study, spec)
    pop = population_adsl(data, population)
    key = output_key(spec, population)
    counts = arm_counts(data, population)  # per arm and in total
    tests = study.model.baseline.tests if study.model.baseline else False
    rows = summarise(pop, _variables(study, spec), study.arm_codes, study.total_label, key,
                     tests)
    return concat_frames([bign_rows(key, counts), rows])


def continuous_cell(look: Lookup, group: str, var: str, stat: str, decimals: int) -> str:
    """One summary cell; ``decimals`` is the data's precision (min and max); location
    statistics get one more, the SD two more."""
    g = look.get
    if g(group, var, "n") == 0 and stat != "n":
        return ""
    if stat == "n":
        return count_text(g(group, var, "n"))
    if stat == "median":
        return F.fmt_number(g(group, var, "median"), decimals + 1, na=F.NE)
    if stat == "median_iqr":
        return F.fmt_median_iqr(g(group, var, "median"), g(group, var, "q1"),
                                g(group, var, "q3"), decimals + 1)
    if stat == "q1_q3":
        return F.fmt_min_max(g(group, var, "q1"), g(group, var, "q3"), decimals + 1)
    if stat == "min_max":
        return F.fmt_min_max(g(group, var, "min"), g(group, var, "max"), decimals)
    if stat == "mean_sd":
        return F.fmt_mean_sd(g(group, var, "mean"), g(group, var, "sd"), decimals + 1)
    raise ValueError(f"unknown continuous summary {stat!r} for {var}")


def missing_row(look: Lookup, groups: dict[str, str], var: str) -> Row | None:
    """"Missing" (patients) when any group has a missing value (none otherwise)."""
    counts = {g: look.get(g, var, "nmiss") for g in groups}
    if not any(v > 0 for v in counts.values() if not math.isnan(v)):
        return None
    return Row("Missing", {groups[g]: count_text(0.0 if math.isnan(v) else v)
                           for g, v in counts.items()}, level=1)


def baseline_rows(look: Lookup, variables: list[Any], groups: dict[str, str], total: str,
                  tests: bool) -> list[Row]:
    """Display rows (variables in study-definition order); ``groups``: ARD group -> column."""
    rows: list[Row] = []
    present = set(look.variables())
    for var in variables:
        if var.name not in present:
            continue
        head = {"pvalue": pvalue_text(look.get(COMPARISON, var.name, "pvalue"))} if tests else {}
        rows.append(Row(var.label or var.name, head))
        if var.type == "continuous":
            precision = look.get(total, var.name, "precision")
            decimals = var.decimals if var.decimals is not None else \
                (0 if math.isnan(precision) else int(precision))
            for stat in var.stats:
                cells = {col: continuous_cell(look, g, var.name, stat, decimals)
                         for g, col in groups.items()}
                rows.append(Row(SUMMARY_LABELS[stat], cells, level=1))
        else:
            levels = dict(var.levels or {})
            order = list(levels) + [c for c in look.categories(var.name) if c not in levels]
            for code in order:
                cells = {}
                for g, col in groups.items():
                    n = look.get(g, var.name, "n", code)
                    cells[col] = n_pct_text(0.0 if math.isnan(n) else n,
                                            look.get(g, var.name, "N", code))
                rows.append(Row(levels.get(code, code), cells, level=1))
        missing = missing_row(look, groups, var.name)
        if missing is not None:
            rows.append(missing)
    return rows


def table_notes(look: Lookup, variables: list[Any], tests: bool) -> list[str]:
    """Footnotes on the statistics shown and the tests used."""
    kinds = {v.type for v in variables}
    notes = []
    if "continuous" in kinds:
        notes.append("Continuous variables: mean (SD), median (Q1, Q3) and minimum, maximum as "
                     "shown; location statistics at the data's precision plus one decimal.")
    if "categorical" in kinds:
        notes.append("Categorical variables: n (%) of patients with a non-missing value.")
    if tests:
        methods = sorted({look.method(COMPARISON, v.name, "pvalue") for v in variables
                          if look.has(COMPARISON, v.name, "pvalue")} - {""})
        if methods:
            notes.append(f"P-values: {'; '.join(methods)}; two-sided, descriptive, without "
                         "adjustment for multiplicity.")
    return notes


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    return ["adsl"]


@register("baseline", "table", options=BaselineOptions, compute=compute, datasets=_datasets,
          check=_check)
def baseline_table(ctx: OutputContext) -> GT:
    """Demographic and baseline characteristics by arm and in total."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    ns = big_n(ctx.ard, spec.name)
    groups = group_columns(study, ns)
    variables = _variables(study, spec)
    tests = any(look.has(COMPARISON, v.name, "pvalue") for v in variables)
    columns = [col for _, col in groups]
    if tests:
        columns.append(Column("pvalue", "P-value"))
    rows = baseline_rows(look, variables, {code: col.id for code, col in groups},
                         study.total_label, tests)
    return csr_table(rows, columns, ctx, program=PROGRAM, stub_label="Characteristic",
                     notes=table_notes(look, variables, tests))

"""Extent of exposure (ICH E3 12.1): doses, courses or duration per subject, by arm.

Variables come from ``exposure:`` in the study definition: an ADSL variable, or per subject an
aggregate of an exposure dataset's records (count of records; sum, max or min of a variable).
A subject of the population without exposure records has a count of 0 and a sum of 0; max and
min are then missing (shown as missing, never imputed).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from great_tables import GT

from trialreport.analysis_sets import big_n as arm_counts
from trialreport.analysis_sets import population_adsl
from trialreport.ard._frame import concat_frames
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key, population_of
from trialreport.families._summary import summarise
from trialreport.families.baseline import baseline_rows, table_notes
from trialreport.outputs import NoOptions, OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.tables._layout import Lookup, big_n, csr_table, group_columns

__all__ = ["compute", "exposure_values"]

PROGRAM = "trialreport.families.exposure"


def _population(study: Study, spec: OutputSpec) -> str:
    section = study.model.exposure
    default = section.population if section and section.population else \
        (study.model.safety.population if study.model.safety else None)
    return population_of(study, spec, default)


def exposure_values(data: TrialData, pop: pd.DataFrame, var: Any) -> pd.Series:
    """The per-subject values of one exposure variable, aligned with ``pop``."""
    if var.dataset is None:
        return pop[var.name]
    subject = data.study.model.subject_variable
    records = data[var.dataset]
    records = records[records[subject].isin(pop[subject])]
    if var.aggregate == "count":
        per_subject = records.groupby(subject, sort=False, observed=True).size().astype(float)
        fill = 0.0
    else:
        values = pd.to_numeric(records[var.name], errors="raise").astype(float)
        grouped = values.groupby(records[subject].to_numpy(), sort=False)
        per_subject = getattr(grouped, var.aggregate)(min_count=1) if var.aggregate == "sum" \
            else getattr(grouped, var.aggregate)()
        fill = 0.0 if var.aggregate == "sum" else np.nan
    return pop[subject].astype(object).map(per_subject).fillna(fill).astype(float)


def compute(data: TrialData, spec: OutputSpec) -> Any:
    """ARD rows of the exposure table (same statistics as the baseline table)."""
    study = data.study
    population = _population(study, spec)
    pop = population_adsl(data, population)
    key = output_key(spec, population)
    counts = arm_counts(data, population)  # per arm and in total
    variables = study.model.exposure.variables if study.model.exposure else []
    rows = summarise(pop, variables, study.arm_codes, study.total_label, key,
                     values_of=lambda var: exposure_values(data, pop, var))
    return concat_frames([bign_rows(key, counts), rows])


def _check(study: Study, spec: OutputSpec) -> list[str]:
    if study.model.exposure is None:
        return ["type 'exposure' needs an 'exposure:' block with the variables"]
    return []


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    section = study.model.exposure
    roles = ["adsl"] + ([v.dataset for v in section.variables if v.dataset] if section else [])
    return list(dict.fromkeys(roles))


@register("exposure", "table", options=NoOptions, compute=compute, datasets=_datasets,
          check=_check)
def exposure_table(ctx: OutputContext) -> GT:
    """Extent of exposure by arm and in total."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    groups = group_columns(study, big_n(ctx.ard, spec.name))
    variables = list(study.model.exposure.variables) if study.model.exposure else []
    rows = baseline_rows(look, variables, {code: col.id for code, col in groups},
                         study.total_label, tests=False)
    return csr_table(rows, [col for _, col in groups], ctx, program=PROGRAM,
                     stub_label="Exposure", notes=table_notes(look, variables, False))

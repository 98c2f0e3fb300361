"""Protocol deviations (ICH E3 10.2): patients with deviations by category and term, by arm.

Read from an occurrence dataset with one record per deviation (ADaM ADDV: ``DVCAT`` category,
``DVDECOD`` or ``DVTERM`` term); the study definition's output entry names the dataset and the
variables. Patients are counted once per row; percentages are of the population's N per arm.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from great_tables import GT
from pydantic import BaseModel, ConfigDict, Field

from trialreport.analysis_sets import ARM, as_text, big_n, population_adsl
from trialreport.ard._frame import concat_frames, stack_statistics
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key, population_of
from trialreport.families._occurrence import ANY, _pct, count_soc_pt
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study, StudyDefinitionError
from trialreport.tables._layout import Lookup, Row, count_text, csr_table, group_columns, n_pct_text
from trialreport.tables._layout import big_n as table_big_n

__all__ = ["DeviationOptions", "compute"]

PROGRAM = "trialreport.families.deviations"


class DeviationOptions(BaseModel):
    """``dataset``: the deviations dataset role (default ``addv``); ``category`` and ``term``:
    its variables (default ``DVCAT`` and ``DVDECOD``); ``flag``: optionally only records with
    this variable = "Y" (e.g. a major-deviation flag)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dataset: str = Field(default="addv", pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")
    category: str = "DVCAT"
    term: str = "DVDECOD"
    flag: str | None = None


def _check(study: Study, spec: OutputSpec) -> list[str]:
    if spec.population is None:
        return ["type 'protocol_deviations' needs 'population:'"]
    return []


def _records(data: TrialData, spec: OutputSpec, population: str) -> pd.DataFrame:
    opts = spec.options
    study = data.study
    subject = study.model.subject_variable
    pop = population_adsl(data, population)[[subject, ARM]]
    ds = data[opts.dataset]  # type: ignore[attr-defined]
    for key, var in (("category", opts.category), ("term", opts.term),  # type: ignore
                     ("flag", opts.flag)):  # type: ignore[attr-defined]
        if var is not None and var not in ds.columns:
            raise StudyDefinitionError(
                f"{study.where('outputs', spec.index, key)}: variable {var!r} is not in "
                f"dataset {opts.dataset!r}")  # type: ignore[attr-defined]
    if opts.flag is not None:  # type: ignore[attr-defined]
        ds = ds.loc[(as_text(ds[opts.flag]) == "Y").to_numpy(dtype=bool)]  # type: ignore
    arm = ds[subject].map(pd.Series(pop[ARM].to_numpy(), index=pop[subject].to_numpy()))
    inside = arm.notna().to_numpy()
    ds, arm = ds.loc[inside], arm[inside]
    return pd.DataFrame({
        "subject": ds[subject].to_numpy(),
        "arm": pd.Categorical(arm.astype(object).to_numpy(), categories=study.arm_codes),
        "soc": as_text(ds[opts.category]).fillna("(no category)").to_numpy(dtype=object),  # type: ignore
        "pt": as_text(ds[opts.term]).fillna("(no term)").to_numpy(dtype=object),  # type: ignore
    })


def compute(data: TrialData, spec: OutputSpec) -> pd.DataFrame:
    """ARD rows: variable = category (``ANY`` = any deviation), category = term ("" = the
    category total); statistics ``subjects``, ``pct``, ``events`` per group."""
    study = data.study
    population = population_of(study, spec, None)
    key = output_key(spec, population)
    records = _records(data, spec, population)
    ns = np.array(list(big_n(data, population).values()), dtype=float)
    keys, subjects, events = count_soc_pt(records, study.arm_codes)
    groups = [*study.arm_codes, study.total_label]
    wide = pd.DataFrame({
        "variable": np.repeat([k[0] for k in keys], len(groups)),
        "category": np.repeat([k[1] for k in keys], len(groups)),
        "group": np.tile(np.array(groups, dtype=object), len(keys)),
        "subjects": subjects.ravel(), "pct": _pct(subjects, ns[None, :]).ravel(),
        "events": events.ravel()})
    return concat_frames([bign_rows(key, dict(zip(groups, ns.astype(int).tolist(), strict=True))),
                          stack_statistics(wide, ("subjects", "pct", "events"), **key)])


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    return ["adsl", spec.options.dataset]  # type: ignore[attr-defined]


@register("protocol_deviations", "table", options=DeviationOptions, compute=compute,
          datasets=_datasets, check=_check)
def deviations_table(ctx: OutputContext) -> GT:
    """Patients with protocol deviations by category and term, by arm."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    ns = table_big_n(ctx.ard, spec.name)
    cols = group_columns(study, ns)

    def cells(var: str, cat: str = "") -> dict[str, str]:
        out = {}
        for g, col in cols:
            n = look.get(g, var, "subjects", cat)
            out[col.id] = n_pct_text(0.0 if math.isnan(n) else n, ns.get(g, math.nan))
        return out

    rows = [Row("Patients with any protocol deviation", cells(ANY))]
    for category in [v for v in look.variables() if v not in (ANY, "")]:
        rows.append(Row(category, cells(category), bold=True))
        rows += [Row(term, cells(category, term), level=1) for term in look.categories(category)]
    events = look.get(study.total_label, ANY, "events")
    notes = ["n (%) = patients with at least one deviation (percent of N); patients are counted "
             "once per row. Categories and terms by decreasing number of patients."]
    if not math.isnan(events):
        notes.append(f"Deviations recorded in total: {count_text(events)}.")
    return csr_table(rows, [col for _, col in cols], ctx, program=PROGRAM,
                     stub_label="Category\n  Deviation", notes=notes)

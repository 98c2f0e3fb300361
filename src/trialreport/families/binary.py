"""Binary (responder) endpoints: responders per arm with exact CIs, differences and tests.

Each endpoint under ``endpoints.binary`` names a population, a BDS dataset and up to three
criteria evaluated on its records (:class:`trialreport.study._model.Criterion`):
``responder`` (required), ``no_event`` and ``assessed_at``. A subject of the population without
a qualifying record is a non-responder. The primary endpoint is shown first.

Per arm and total: ``n`` responders, ``N`` subjects, ``pct`` (0-100), ``estimate``, ``lower``,
``upper`` (0-1; exact Clopper-Pearson by default). Per declared comparison (group
``"<treatment> vs <reference>"``): the difference in proportions with its CI (Newcombe hybrid
score by default) and the two-sided p-value (Fisher's exact test by default). Without
comparisons, one test across all arms (group ``comparison``).

References: Clopper CJ, Pearson ES (1934). Biometrika 26:404-413. Newcombe RG (1998). Stat Med
17:873-890 (method 10). Agresti A (2002). Categorical Data Analysis, 2nd ed., 3.5.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from great_tables import GT
from pydantic import BaseModel, ConfigDict

from trialreport import formatting as F
from trialreport.analysis_sets import ARM, as_text, population_adsl
from trialreport.analysis_sets import big_n as arm_counts
from trialreport.ard._frame import concat_frames, stack_statistics
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key
from trialreport.outputs import OutputContext, register
from trialreport.stats.comparisons import compare_categorical
from trialreport.stats.proportions import binomial_ci, risk_difference_ci
from trialreport.study import OutputSpec, Study
from trialreport.study._model import BinaryEndpoint, Criterion
from trialreport.tables._layout import (
    COMPARISON,
    Column,
    Lookup,
    Row,
    Spanner,
    big_n,
    csr_table,
    group_columns,
    n_over_n_text,
    pvalue_text,
)

__all__ = ["BinaryOptions", "PER_GROUP_STATS", "compute", "endpoint_rows", "responder_flags"]

PROGRAM = "trialreport.families.binary"
PER_GROUP_STATS = ("n", "N", "pct", "estimate", "lower", "upper")
#: Decimals of percentages inside confidence intervals and of differences (percentage points).
CI_DECIMALS = 1


class BinaryOptions(BaseModel):
    """``endpoints``: ids of ``endpoints.binary`` to show (default: all; primary first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    endpoints: list[str] | None = None


def endpoints_of(study: Study, spec: OutputSpec) -> list[BinaryEndpoint]:
    """The output's endpoints, the primary endpoint(s) first, otherwise in definition order."""
    chosen = spec.options.endpoints  # type: ignore[attr-defined]
    eps = [study.endpoint(e) for e in chosen] if chosen else list(study.binary_endpoints.values())
    return sorted(eps, key=lambda e: not e.primary)


def _check(study: Study, spec: OutputSpec) -> list[str]:
    known = study.binary_endpoints
    if not known:
        return ["type 'binary_endpoints' needs endpoints under endpoints.binary"]
    problems = [f"endpoints: {e!r} is not an endpoint id ({', '.join(known)})"
                for e in (spec.options.endpoints or []) if e not in known]  # type: ignore
    if not problems:
        pops = {e.population for e in endpoints_of(study, spec)}
        if spec.population is not None and pops != {spec.population}:
            problems.append(f"population {spec.population!r} differs from the endpoints' "
                            f"population(s) {sorted(pops)}")
    return problems


def _subjects_meeting(ds: pd.DataFrame, crit: Criterion, visit_var: str,
                      subject: str) -> np.ndarray:
    """Subjects with at least one record meeting ``crit``."""
    mask = as_text(ds[crit.param_variable]).eq(crit.paramcd)
    if any(v is not None for v in (crit.visit, crit.through_visit, crit.from_visit)):
        visit = pd.to_numeric(ds[visit_var], errors="raise")
        if crit.visit is not None:
            mask &= visit.eq(float(crit.visit)).fillna(False)
        if crit.through_visit is not None:
            mask &= visit.le(float(crit.through_visit)).fillna(False)
        if crit.from_visit is not None:
            mask &= visit.ge(float(crit.from_visit)).fillna(False)
    values = as_text(ds[crit.variable])
    mask &= values.isin(crit.values).fillna(False) if crit.values else values.notna()
    return ds.loc[mask.to_numpy(dtype=bool), subject].unique()


def responder_flags(data: TrialData, ep: BinaryEndpoint | str) -> pd.DataFrame:
    """One row per subject of the endpoint's population: ``subject``, ``arm``, ``responder``."""
    study = data.study
    if isinstance(ep, str):
        ep = study.endpoint(ep)
    subject = study.model.subject_variable
    visit_var = study.model.endpoints.visit_variable
    pop = population_adsl(data, ep.population)
    ds = data[ep.dataset]
    ids = pop[subject]
    flag = ids.isin(_subjects_meeting(ds, ep.responder, visit_var, subject))
    if ep.no_event is not None:
        flag &= ~ids.isin(_subjects_meeting(ds, ep.no_event, visit_var, subject))
    if ep.assessed_at is not None:
        flag &= ids.isin(_subjects_meeting(ds, ep.assessed_at, visit_var, subject))
    return pd.DataFrame({"subject": ids.to_numpy(), "arm": pop[ARM].to_numpy(),
                         "responder": flag.to_numpy(dtype=bool)})


def endpoint_rows(data: TrialData, ep: BinaryEndpoint, key: dict[str, str]) -> pd.DataFrame:
    """ARD rows of one endpoint (see the module docstring)."""
    study = data.study
    settings = study.model.endpoints
    conf = study.conf_level(ep)
    ci_method = ep.ci_method or settings.ci_method
    diff_method = ep.difference_method or settings.difference_method
    test = ep.test or settings.test
    flags = responder_flags(data, ep)
    arms = study.arm_codes
    arm_idx = pd.Categorical(flags["arm"].astype(object), categories=arms).codes
    n = np.bincount(arm_idx[flags["responder"].to_numpy()], minlength=len(arms))
    N = np.bincount(arm_idx, minlength=len(arms))
    groups = [*arms, study.total_label]
    ns, Ns = [*n.tolist(), int(n.sum())], [*N.tolist(), int(N.sum())]
    cis = [binomial_ci(a, b, conf, ci_method) for a, b in zip(ns, Ns, strict=True)]
    wide = pd.DataFrame({
        "group": groups, "n": ns, "N": Ns,
        "pct": [100.0 * a / b if b else np.nan for a, b in zip(ns, Ns, strict=True)],
        "estimate": [c.estimate for c in cis], "lower": [c.lower for c in cis],
        "upper": [c.upper for c in cis],
    })
    const = {**key, "variable": ep.id}
    ci_label = cis[0].method
    frames = [stack_statistics(wide, PER_GROUP_STATS, methods=dict.fromkeys(
        ("estimate", "lower", "upper"), ci_label), **const)]
    if study.comparisons:
        for comp in study.comparisons:
            t, r = arms.index(comp.treatment), arms.index(comp.reference)
            d = risk_difference_ci(ns[t], Ns[t], ns[r], Ns[r], conf, diff_method)
            res = compare_categorical([[ns[t], Ns[t] - ns[t]], [ns[r], Ns[r] - ns[r]]], test)
            part = pd.DataFrame({"group": [study.comparison_group(comp)],
                                 "estimate": [d.estimate], "lower": [d.lower],
                                 "upper": [d.upper], "pvalue": [res.pvalue]})
            frames.append(stack_statistics(part, ["estimate", "lower", "upper", "pvalue"],
                                           methods={**dict.fromkeys(("estimate", "lower",
                                                                     "upper"), d.method),
                                                    "pvalue": res.method}, **const))
    else:
        res = compare_categorical(np.column_stack([n, N - n]), test)
        frames.append(stack_statistics(pd.DataFrame({"group": [COMPARISON],
                                                     "pvalue": [res.pvalue]}),
                                       ["pvalue"], methods={"pvalue": res.method}, **const))
    return concat_frames(frames)


def compute(data: TrialData, spec: OutputSpec) -> Any:
    """ARD rows of every endpoint of the output, with the output's analysed N."""
    eps = endpoints_of(data.study, spec)
    population = eps[0].population
    key = output_key(spec, population)
    counts = arm_counts(data, population)  # per arm and in total
    return concat_frames([bign_rows(key, counts), *(endpoint_rows(data, ep, key)
                                                    for ep in eps)])


def _pct_ci(look: Lookup, group: str, var: str) -> str:
    """``"(47.1, 86.8)"``: the CI of a proportion (or difference) in percent."""
    lo, hi = look.get(group, var, "lower"), look.get(group, var, "upper")
    if math.isnan(lo) and math.isnan(hi):
        return ""
    return F.fmt_ci(lo, hi, CI_DECIMALS, scale=100)


def _difference(look: Lookup, group: str, var: str) -> str:
    """``"28.8 (−9.1, 58.7)"``: difference in percentage points with its CI."""
    est = look.get(group, var, "estimate")
    if math.isnan(est):
        return ""
    return f"{F.fmt_number(est, CI_DECIMALS, na=F.NE, scale=100)} {_pct_ci(look, group, var)}"


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    return ["adsl", *dict.fromkeys(e.dataset for e in endpoints_of(study, spec))]


@register("binary_endpoints", "table", options=BinaryOptions, compute=compute,
          datasets=_datasets, check=_check)
def binary_table(ctx: OutputContext) -> GT:
    """Responders by arm with confidence intervals, differences between arms and p-values."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    ns = big_n(ctx.ard, spec.name)
    groups = group_columns(study, ns)
    colmap = {code: col.id for code, col in groups}
    columns = [col for _, col in groups]
    spanners: list[Spanner] = []
    comparisons = [(study.comparison_group(c), study.comparison_label(c), f"c{i}")
                   for i, c in enumerate(study.comparisons, start=1)]
    if not comparisons and any(look.has(COMPARISON, v, "pvalue") for v in look.variables()):
        columns.append(Column("pvalue", "P-value"))
    for _group, label, cid in comparisons:
        columns += [Column(f"{cid}_diff", f"Difference\n({study.conf_label()})"),
                    Column(f"{cid}_p", "P-value")]
        spanners.append(Spanner(cid, label, [f"{cid}_diff", f"{cid}_p"]))
    rows: list[Row] = []
    ci_label = f"{study.conf_label()}, %"
    eps = endpoints_of(study, spec)
    for ep in eps:
        label = ep.label + (" (primary endpoint)" if ep.primary else "")
        rows.append(Row(label, bold=True))
        cells = {col: n_over_n_text(look.get(g, ep.id, "n"), look.get(g, ep.id, "N"))
                 for g, col in colmap.items()}
        if not comparisons:
            cells["pvalue"] = pvalue_text(look.get(COMPARISON, ep.id, "pvalue"))
        for group, _, cid in comparisons:
            cells[f"{cid}_diff"] = _difference(look, group, ep.id)
            cells[f"{cid}_p"] = pvalue_text(look.get(group, ep.id, "pvalue"))
        rows.append(Row("n/N (%)", cells, level=1))
        rows.append(Row(ci_label, {col: _pct_ci(look, g, ep.id) for g, col in colmap.items()},
                        level=1))
    notes = [f"{ep.label}: {ep.definition}" for ep in eps if ep.definition]
    methods = sorted({look.method(g, ep.id, s) for ep in eps for g in [*colmap, COMPARISON,
                      *(c[0] for c in comparisons)] for s in ("lower", "pvalue")
                      if look.has(g, ep.id, s)} - {""})
    if methods:
        notes.append("Methods: " + "; ".join(methods) + ".")
    return csr_table(rows, columns, ctx, program=PROGRAM, spanners=spanners,
                     stub_label="Endpoint", notes=notes)

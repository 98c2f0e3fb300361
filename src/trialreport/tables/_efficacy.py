"""Table 14.2.1: binary endpoints by arm: n/N (%), 95% CI, difference with 95% CI, p-value."""

from __future__ import annotations

import math
from typing import Any

from great_tables import GT

from trialreport import formatting as F
from trialreport.study import Study
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
    resolve_output,
)

__all__ = ["efficacy_table"]

PROGRAM = "trialreport.tables.efficacy_table"
#: Decimals of percentages inside confidence intervals and of differences (percentage points).
CI_DECIMALS = 1


def _pct_ci(look: Lookup, group: str, var: str) -> str:
    """``"(47.1, 86.8)"``: the CI of a proportion (or difference) in percent."""
    lo, hi = look.get(group, var, "lower"), look.get(group, var, "upper")
    if math.isnan(lo) and math.isnan(hi):
        return ""
    return F.fmt_ci(lo, hi, CI_DECIMALS, scale=100)


def _difference(look: Lookup, var: str) -> str:
    """``"28.8 (-9.1, 58.7)"``: difference in percentage points with its CI."""
    est = look.get(COMPARISON, var, "estimate")
    if math.isnan(est):
        return ""
    return f"{F.fmt_number(est, CI_DECIMALS, na=F.NE, scale=100)} {_pct_ci(look, COMPARISON, var)}"


def _endpoints(study: Study, look: Lookup) -> list[dict[str, Any]]:
    defined = (study.section("endpoints", {}) or {}).get("binary", []) or []
    present = set(look.variables())
    found = [e for e in defined if str(e["id"]) in present]
    known = {str(e["id"]) for e in found}
    found += [{"id": v, "label": v} for v in look.variables() if v not in known]
    return found


def efficacy_rows(look: Lookup, study: Study, groups: dict[str, str], compare: bool) -> list[Row]:
    """Per endpoint: a label row, then n/N (%) (with difference and p-value) and 95% CI rows."""
    rows: list[Row] = []
    ci_label = f"{study.conf_label()}, %"
    for ep in _endpoints(study, look):
        var = str(ep["id"])
        label = str(ep.get("label", var))
        if ep.get("primary"):
            label += " (primary endpoint)"
        rows.append(Row(label, bold=True))
        cells = {col: n_over_n_text(look.get(g, var, "n"), look.get(g, var, "N"))
                 for g, col in groups.items()}
        if compare:
            cells["diff"] = _difference(look, var)
            cells["pvalue"] = pvalue_text(look.get(COMPARISON, var, "pvalue"))
        rows.append(Row("n/N (%)", cells, level=1))
        rows.append(Row(ci_label, {col: _pct_ci(look, g, var) for g, col in groups.items()},
                        level=1))
    return rows


def efficacy_table(ard: Any, study: Study, name: str | None = None, *,
        title: bool = True) -> GT:
    """Table 14.2.1: response proportions by arm, difference between arms and p-value."""
    name = resolve_output(study, name, ("efficacy",))
    spec = study.output(name)
    look = Lookup(ard, "efficacy", spec.population)
    ns = big_n(ard, spec.population)
    groups = group_columns(study, ns)
    columns = [col for _, col in groups]
    spanners: list[Spanner] = []
    compare = any(look.has(COMPARISON, v, "estimate") or look.has(COMPARISON, v, "pvalue")
                  for v in look.variables())
    if compare:
        comp = study.comparison or {}
        columns += [Column("diff", f"Difference\n({study.conf_label()})"),
                    Column("pvalue", "P-value")]
        spanners.append(Spanner("comparison", str(comp.get("label", "Comparison")),
                                ["diff", "pvalue"]))
    rows = efficacy_rows(look, study, {code: col.id for code, col in groups}, compare)
    return csr_table(rows, columns, study, name, ard=ard, title=title, program=PROGRAM,
                     spanners=spanners, population_n=ns.get(study.total_label),
                     stub_label="Endpoint")

"""Table 14.2.2: time-to-event summary by arm: events/N, median (CI), landmarks, log-rank."""

from __future__ import annotations

import math
from typing import Any

from great_tables import GT

from trialreport import formatting as F
from trialreport.analysis.time_to_event import display_unit, event_name
from trialreport.study import Study
from trialreport.tables._layout import (
    COMPARISON,
    Column,
    Lookup,
    Row,
    big_n,
    count_text,
    csr_table,
    group_columns,
    n_over_n_text,
    pvalue_text,
    resolve_output,
)

__all__ = ["tte_table"]

PROGRAM = "trialreport.tables.tte_table"
#: Decimals of medians (display unit) and of landmark percentages.
DECIMALS = 1


def _estimate_ci(est: Any, lo: float, hi: float, scale: int = 1) -> str:
    """``"9.3 (6.1, NE)"``; NaN components are "not estimable"."""
    estimate = F.fmt_number(est, DECIMALS, na=F.NE, scale=scale)
    return f"{estimate} {F.fmt_ci(lo, hi, DECIMALS, scale=scale)}"


def _landmarks(look: Lookup, var: str) -> list[str]:
    cats = look.categories(var)

    def key(c: str) -> tuple[float, str]:
        try:
            return (float(c), c)
        except ValueError:
            return (math.inf, c)

    return sorted(cats, key=key)


def _parameters(study: Study, look: Lookup) -> list[dict[str, Any]]:
    defined = [e for e in (study.section("time_to_event", []) or [])
               if str(e.get("id")) in set(look.variables())]
    known = {str(e["id"]) for e in defined}
    return defined + [{"id": v, "label": v} for v in look.variables() if v not in known]


def tte_rows(look: Lookup, study: Study, groups: dict[str, str]) -> list[Row]:
    """Per parameter: label row, patients, events/N (%) with log-rank p, censored, median,
    landmark survival."""
    rows: list[Row] = []
    for entry in _parameters(study, look):
        var = str(entry["id"])
        unit = display_unit(entry)
        event = event_name(entry)
        ci = study.conf_label(entry)
        rows.append(Row(str(entry.get("label", var)), bold=True))
        rows.append(Row("Patients analysed, n",
                        {c: count_text(look.get(g, var, "n")) for g, c in groups.items()},
                        level=1))
        cells = {c: n_over_n_text(look.get(g, var, "events"), look.get(g, var, "n"))
                 for g, c in groups.items()}
        cells["pvalue"] = pvalue_text(look.get(COMPARISON, var, "pvalue"))
        who = f"Patients with {event}" if event else "Patients with an event"
        rows.append(Row(f"{who}, n/N (%)", cells, level=1))
        rows.append(Row("Censored, n",
                        {c: count_text(look.get(g, var, "censored")) for g, c in groups.items()},
                        level=1))
        median = {}
        for g, c in groups.items():
            if not look.has(g, var, "median"):
                median[c] = ""
                continue
            median[c] = _estimate_ci(look.get(g, var, "median"), look.get(g, var, "median_lower"),
                                     look.get(g, var, "median_upper"))
        what = f"Median time to {event}" if event else "Median time to event"
        rows.append(Row(f"{what}, {unit} ({ci})" if unit else f"{what} ({ci})", median,
                        level=1))
        for cat in _landmarks(look, var):
            surv = {}
            for g, c in groups.items():
                s = look.get(g, var, "surv", cat)
                if math.isnan(s) and not look.has(g, var, "surv", cat):
                    surv[c] = ""
                    continue
                surv[c] = _estimate_ci(s, look.get(g, var, "surv_lower", cat),
                                       look.get(g, var, "surv_upper", cat), scale=100)
            free = f"Free of {event}" if event else "Event-free"
            when = f"{cat} {unit}".strip()
            rows.append(Row(f"{free} at {when}, % ({ci})", surv, level=1))
    return rows


def tte_table(ard: Any, study: Study, name: str | None = None, *,
        title: bool = True) -> GT:
    """Table 14.2.2: Kaplan-Meier summary by arm with the log-rank p-value."""
    name = resolve_output(study, name, ("tte", "time_to_event", "time_to_relapse"))
    spec = study.output(name)
    look = Lookup(ard, "tte", spec.population)
    ns = big_n(ard, spec.population)
    groups = group_columns(study, ns)
    columns = [col for _, col in groups]
    if any(look.has(COMPARISON, v, "pvalue") for v in look.variables()):
        columns.append(Column("pvalue", "Log-rank\np-value"))
    rows = tte_rows(look, study, {code: col.id for code, col in groups})
    return csr_table(rows, columns, study, name, ard=ard, title=title, program=PROGRAM,
                     population_n=ns.get(study.total_label))

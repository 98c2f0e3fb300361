"""Table 14.1.1: demographic and baseline characteristics by arm, with optional p-values."""

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
    big_n,
    count_text,
    csr_table,
    group_columns,
    n_pct_text,
    pvalue_text,
    resolve_output,
)

__all__ = ["baseline_table"]

PROGRAM = "trialreport.tables.baseline_table"

#: Continuous summaries the study definition may ask for, with their stub labels.
_CONTINUOUS = {
    "n": "n",
    "median_iqr": "Median (Q1, Q3)",
    "min_max": "Min, Max",
    "mean_sd": "Mean (SD)",
}
_DEFAULT_STATS = ("median_iqr", "min_max")


def _continuous_cell(look: Lookup, group: str, var: str, stat: str, decimals: int) -> str:
    """One summary cell; ``decimals`` (from the study definition) applies to every location
    and range statistic, the SD gets one more (``fmt_mean_sd``'s default)."""
    g = look.get
    if g(group, var, "n") == 0 and stat != "n":
        return ""
    if stat == "n":
        return count_text(g(group, var, "n"))
    if stat == "median_iqr":
        return F.fmt_median_iqr(g(group, var, "median"), g(group, var, "q1"), g(group, var, "q3"),
                                decimals)
    if stat == "min_max":
        return F.fmt_min_max(g(group, var, "min"), g(group, var, "max"), decimals)
    if stat == "mean_sd":
        return F.fmt_mean_sd(g(group, var, "mean"), g(group, var, "sd"), decimals)
    raise ValueError(f"unknown continuous summary {stat!r} for {var}")


def _missing_row(look: Lookup, groups: dict[str, str], var: str) -> Row | None:
    """"Missing, n" when any group has a missing value (none otherwise)."""
    counts = {g: look.get(g, var, "nmiss") for g in groups}
    if not any(v > 0 for v in counts.values() if not math.isnan(v)):
        return None
    return Row("Missing", {groups[g]: count_text(0.0 if math.isnan(v) else v)
                           for g, v in counts.items()}, level=1)


def baseline_rows(look: Lookup, study: Study, groups: dict[str, str], tests: bool) -> list[Row]:
    """Display rows of the baseline table (variables in study-definition order).

    ``groups`` maps ARD group codes to column ids.
    """
    rows: list[Row] = []
    spec = study.section("baseline", {}) or {}
    for var_def in spec.get("variables", []):
        var = str(var_def["name"])
        if var not in look.variables():
            continue
        label = str(var_def.get("label", var))
        head = {"pvalue": pvalue_text(look.get(COMPARISON, var, "pvalue"))} if tests else {}
        rows.append(Row(label, head))
        if var_def.get("type", "categorical") == "continuous":
            decimals = int(var_def.get("decimals", 1))
            for stat in var_def.get("stats", _DEFAULT_STATS):
                if stat not in _CONTINUOUS:
                    raise ValueError(f"baseline variable {var}: unknown summary {stat!r}; "
                                     f"use one of {sorted(_CONTINUOUS)}")
                cells = {col: _continuous_cell(look, g, var, stat, decimals)
                         for g, col in groups.items()}
                rows.append(Row(_CONTINUOUS[stat], cells, level=1))
            missing = _missing_row(look, groups, var)
        else:
            levels = {str(k): str(v) for k, v in (var_def.get("levels") or {}).items()}
            order = list(levels) + [c for c in look.categories(var) if c not in levels]
            for code in order:
                cells = {}
                for g, col in groups.items():
                    n = look.get(g, var, "n", code)
                    cells[col] = n_pct_text(0.0 if math.isnan(n) else n,
                                            look.get(g, var, "N", code))
                rows.append(Row(levels.get(code, code), cells, level=1))
            missing = _missing_row(look, groups, var)
        if missing is not None:
            rows.append(missing)
    return rows


def baseline_table(ard: Any, study: Study, name: str | None = None, *,
        title: bool = True) -> GT:
    """Table 14.1.1: demographic and baseline characteristics by arm and in total."""
    name = resolve_output(study, name, ("baseline",))
    spec = study.output(name)
    population = spec.population or (study.section("baseline", {}) or {}).get("population")
    look = Lookup(ard, "baseline", population)
    ns = big_n(ard, population)
    groups = group_columns(study, ns)
    tests = bool((study.section("baseline", {}) or {}).get("tests", False)) and any(
        look.has(COMPARISON, v, "pvalue") for v in look.variables())
    columns = [col for _, col in groups]
    if tests:
        columns.append(Column("pvalue", "P-value"))
    rows = baseline_rows(look, study, {code: col.id for code, col in groups}, tests)
    return csr_table(rows, columns, study, name, ard=ard, title=title, program=PROGRAM,
                     population_n=ns.get(study.total_label),
                     stub_label="Characteristic")

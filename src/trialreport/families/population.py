"""Analysis sets by arm (ICH E3 11.1, "data sets analysed"): subjects in each population.

Percentages are of the first population listed (usually the randomised set), per arm.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from great_tables import GT
from pydantic import BaseModel, ConfigDict

from trialreport.analysis_sets import big_n as population_counts
from trialreport.ard._frame import concat_frames, stack_statistics
from trialreport.data import TrialData
from trialreport.families._common import bign_rows, output_key
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study
from trialreport.tables._layout import Lookup, Row, big_n, csr_table, group_columns, n_pct_text

__all__ = ["PopulationSetsOptions", "compute"]

PROGRAM = "trialreport.families.population"


class PopulationSetsOptions(BaseModel):
    """``populations``: codes to show, in order (default: all; the first is the denominator)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    populations: list[str] | None = None


def _codes(study: Study, spec: OutputSpec) -> list[str]:
    return spec.options.populations or list(study.populations)  # type: ignore[attr-defined]


def _check(study: Study, spec: OutputSpec) -> list[str]:
    return [f"populations: {c!r} is not a population ({', '.join(study.populations)})"
            for c in (spec.options.populations or [])  # type: ignore[attr-defined]
            if c not in study.populations]


def compute(data: TrialData, spec: OutputSpec) -> Any:
    """Per population and group: ``n`` and ``pct`` (of the first population's N)."""
    study = data.study
    codes = _codes(study, spec)
    key = output_key(spec, codes[0])
    base = population_counts(data, codes[0])
    frames = [bign_rows(key, base)]
    for code in codes:
        counts = population_counts(data, code)
        wide = pd.DataFrame({
            "group": list(counts), "n": [float(v) for v in counts.values()],
            "pct": [100.0 * counts[g] / base[g] if base.get(g) else float("nan")
                    for g in counts]})
        frames.append(stack_statistics(wide, ["n", "pct"], variable=code, **key))
    return concat_frames(frames)


@register("population_sets", "table", options=PopulationSetsOptions, compute=compute,
          datasets=lambda study, spec: ["adsl"], check=_check)
def population_sets_table(ctx: OutputContext) -> GT:
    """Subjects in each analysis set by arm, n (%) of the first set listed."""
    study, spec = ctx.study, ctx.spec
    look = Lookup(ctx.ard, spec.name)
    ns = big_n(ctx.ard, spec.name)
    groups = group_columns(study, ns)
    rows = []
    for code in _codes(study, spec):
        pop = study.population(code)
        rows.append(Row(pop.label, {col.id: n_pct_text(look.get(g, code, "n"), ns.get(g))
                                    for g, col in groups}))
    first = study.population(_codes(study, spec)[0]).label
    notes = [f"Percentages are of the {first.lower()} in each column."]
    notes += [f"{study.population(c).label}: {study.population(c).definition}"
              for c in _codes(study, spec) if study.population(c).definition]
    return csr_table(rows, [col for _, col in groups], ctx, program=PROGRAM,
                     stub_label="Analysis set", notes=notes)

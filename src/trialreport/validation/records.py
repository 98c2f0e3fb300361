"""Checks across the columns of a record: unique keys, visit windows and row rules.

They run on the typed frame, each as one whole-column pandas operation. A record whose cell
could not be parsed (already reported) is not blamed again by a rule that reads that cell: the
rule saw a missing value there, not the record's real one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialreport.spec.model import SpecificationError
from trialreport.validation.context import DatasetContext
from trialreport.validation.expressions import RuleError, compile_rule, evaluate


class RuleEvaluationError(SpecificationError):
    """A rule could not be evaluated on the data (names the rule and the file)."""


def check_keys(ctx: DatasetContext, typed: pd.DataFrame) -> list:
    """Records sharing the same key (every one of them; a record whose key is missing or did
    not parse is already reported and left out)."""
    keys = list(ctx.spec.keys)
    if not keys:
        return []
    complete = ~typed[keys].isna().any(axis=1).to_numpy()
    dup = typed[keys].duplicated(keep=False).to_numpy() & complete
    where = np.flatnonzero(dup)
    if not len(where):
        return []
    raw = {k: ctx.raw(k, where) for k in keys}
    message = [f"duplicate key ({', '.join(f'{k}={raw[k][i]}' for k in keys)})"
               for i in range(len(where))]
    return [ctx.batch(where, "unique-key", np.asarray(message, dtype=object),
                      variable=keys[0])]


def check_windows(ctx: DatasetContext, typed: pd.DataFrame) -> list:
    """Study days outside the window of their visit."""
    w = ctx.spec.windows
    if w is None:
        return []
    visit = typed[w.by].astype("Float64")
    lo = visit.map({float(k): a for k, (a, _) in w.limits.items()}).astype("Float64")
    hi = visit.map({float(k): b for k, (_, b) in w.limits.items()}).astype("Float64")
    day = typed[w.column].astype("Float64")
    inside = ((day >= lo) & (day <= hi)).fillna(False).to_numpy(dtype=bool)
    decided = (day.notna() & visit.notna()).to_numpy(dtype=bool)
    where = np.flatnonzero(decided & ~inside)
    if not len(where):
        return []
    spans = ", ".join(f"{k}: {a} to {b}" for k, (a, b) in w.limits.items())
    return [ctx.batch(where, "window", f"{w.column} lies outside the window for its "
                                       f"{w.by} ({spans})", variable=w.column)]


def check_row_rules(ctx: DatasetContext, typed: pd.DataFrame, unusable: pd.DataFrame,
                    codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> list:
    """Records failing a row rule; one violation per column the rule names.

    ``codes`` (text column -> per-record code, distinct texts) lets ``==`` and ``isin`` on
    text compare small integers instead of a million strings.
    """
    batches = []
    for rule in ctx.spec.rules:
        try:
            compiled = compile_rule(rule.check, ctx.spec.types)
            holds = evaluate(compiled, typed, codes).to_numpy(dtype=bool)
        except (RuleError, TypeError, ValueError, ArithmeticError) as exc:
            raise RuleEvaluationError(f"{ctx.spec.source or ctx.spec.name}: rule {rule.id} "
                                      f"cannot be evaluated on {ctx.path}: {exc}") from None
        read = [c for c in compiled.columns if c in unusable]
        blamed = ~holds & ~unusable[read].any(axis=1).to_numpy() if read else ~holds
        where = np.flatnonzero(blamed)
        if not len(where):
            continue
        for variable in rule.columns or (None,):
            batches.append(ctx.batch(where, rule.id, rule.description, variable=variable))
    return batches

"""Cross-dataset rules: foreign keys, joined expressions and record counts.

Each rule is one whole-column pandas operation on the typed datasets; the other dataset's
columns a rule reads are looked up by the join keys (``map`` on one key, a merge on several),
so a million-record dataset is never copied with every column of the other side. Failures come
back as the records' positions and become violations naming the file, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialreport.spec.model import CrossRule
from trialreport.validation.context import SUBJECT, DatasetContext
from trialreport.validation.expressions import RuleError, compile_rule, evaluate
from trialreport.validation.records import RuleEvaluationError


@dataclass
class Checked:
    """One dataset after its own checks: context, typed frame, cells that did not parse."""

    ctx: DatasetContext
    typed: pd.DataFrame
    unparsed: pd.DataFrame  # bool per cell


def _where(checked: Checked, expression: str | None) -> np.ndarray:
    """Positions of the records where ``expression`` holds (all when it is None)."""
    if expression is None:
        return np.arange(len(checked.typed))
    rule = compile_rule(expression, checked.ctx.spec.types)
    return np.flatnonzero(evaluate(rule, checked.typed).to_numpy(dtype=bool))


def _foreign_key(rule: CrossRule, left: Checked, ref: Checked) -> tuple[np.ndarray, list]:
    cols = list(rule.columns)
    rows = _where(left, rule.where)
    rows = rows[~left.unparsed[cols].to_numpy()[rows].any(axis=1)]
    keys = left.typed[cols].iloc[rows]
    reference = ref.typed[cols].dropna()
    if len(cols) == 1:
        found = keys[cols[0]].isin(set(reference[cols[0]])).to_numpy()
    else:
        found = pd.MultiIndex.from_frame(keys).isin(pd.MultiIndex.from_frame(reference))
    absent = keys.isna().any(axis=1).to_numpy()
    ok = found | (absent if rule.optional else False)
    where = rows[~ok]
    raw = left.ctx.raw(cols[0], where)
    message = np.asarray([f"{cols[0]} {value} has no record in {rule.reference}"
                          for value in raw], dtype=object)
    return where, message


def _count(rule: CrossRule, left: Checked, counted: Checked) -> tuple[np.ndarray, object]:
    column = str(rule.column)
    rows = _where(left, rule.where)
    counts = counted.typed.groupby(SUBJECT, dropna=True, observed=True).size()
    expected = left.typed[SUBJECT].iloc[rows].map(counts).fillna(0).to_numpy(dtype=float)
    value = left.typed[column].iloc[rows].astype("Float64")
    decided = value.notna().to_numpy()
    ok = (value.to_numpy(dtype=float, na_value=np.nan) == expected) | ~decided
    where = rows[~ok]
    message = np.asarray([f"differs from the number of {rule.count_of} records ({int(n)})"
                          for n in expected[~ok]], dtype=object)
    return where, message


def _expression(rule: CrossRule, left: Checked, datasets: dict[str, Checked]
                ) -> tuple[np.ndarray, object]:
    assert rule.check is not None
    types = dict(left.ctx.spec.types)
    right = datasets[rule.join.dataset] if rule.join is not None else None
    if rule.join is not None and right is not None:
        types.update({f"{c}{rule.join.suffix}": t for c, t in right.ctx.spec.types.items()
                      if c not in rule.join.on})
    compiled = compile_rule(rule.check, types)
    rows = _where(left, rule.where)
    read_left = [c for c in compiled.columns if c in left.typed]
    frame = left.typed[read_left].iloc[rows]
    if rule.join is not None and right is not None:
        frame = _join(frame, rule, left, right, rows,
                      [c for c in compiled.columns if c not in left.typed])
    holds = evaluate(compiled, frame).to_numpy(dtype=bool)
    blamed = ~holds
    if read_left:
        blamed &= ~left.unparsed[read_left].to_numpy()[rows].any(axis=1)
    return rows[blamed], rule.description


def _join(frame: pd.DataFrame, rule: CrossRule, left: Checked, right: Checked,
          rows: np.ndarray, wanted: list[str]) -> pd.DataFrame:
    """``frame`` plus the joined dataset's columns ``wanted`` (suffixed) by the join keys."""
    assert rule.join is not None
    on, suffix = list(rule.join.on), rule.join.suffix
    other = right.typed.iloc[_where(right, rule.join.where)]
    other = other.dropna(subset=on).drop_duplicates(on)
    originals = {name: name[: len(name) - len(suffix)] for name in wanted}
    keys = left.typed[on].iloc[rows]
    frame = frame.copy()
    if len(on) == 1:
        lookup = other.set_index(on[0])
        for name, original in originals.items():
            frame[name] = keys[on[0]].map(lookup[original]).astype(other[original].dtype)
        return frame
    picked = other[on + list(dict.fromkeys(originals.values()))]
    merged = keys.reset_index(drop=True).merge(picked, on=on, how="left")
    for name, original in originals.items():
        frame[name] = merged[original].to_numpy()
        frame[name] = frame[name].astype(other[original].dtype)
    return frame


def check_cross_rules(rules: tuple[CrossRule, ...], datasets: dict[str, Checked]) -> list:
    """Run every cross rule whose datasets were read; one violation per failing record."""
    batches = []
    for rule in rules:
        needed = {rule.dataset, rule.reference, rule.count_of,
                  rule.join.dataset if rule.join else None} - {None}
        if not needed <= datasets.keys():
            continue
        left = datasets[rule.dataset]
        try:
            if rule.type == "foreign_key":
                where, message = _foreign_key(rule, left, datasets[str(rule.reference)])
            elif rule.type == "count":
                where, message = _count(rule, left, datasets[str(rule.count_of)])
            else:
                where, message = _expression(rule, left, datasets)
        except (RuleError, TypeError, ValueError, ArithmeticError) as exc:
            raise RuleEvaluationError(f"rule {rule.id} (rules.yml) cannot be evaluated on "
                                      f"{left.ctx.path}: {exc}") from None
        if not len(where):
            continue
        variable = rule.columns[0] if rule.columns else rule.column
        batches.append(left.ctx.batch(where, rule.id, message, variable=variable))
    return batches

"""Cross-dataset rules: foreign keys, joined expressions and record counts.

Each rule is run as a pandera check on the dataset it constrains (joined to the other side
where needed), so failures come back with the row of the record that breaks the rule.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from trialreport.io.readers import row_number
from trialreport.spec.model import CrossRule
from trialreport.validation.expressions import evaluate
from trialreport.validation.violations import Violation


def _rows(frame: pd.DataFrame, where: str | None) -> pd.DataFrame:
    return frame if where is None else frame[evaluate(where, frame)]


def _joined(rule: CrossRule, datasets: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The constrained records, each with the matching record of the other dataset."""
    left = _rows(datasets[rule.dataset], rule.where)
    if rule.join is None:
        return left
    j = rule.join
    right = _rows(datasets[j.dataset], j.where)
    right = right.drop_duplicates(list(j.on)).rename(
        columns={c: f"{c}{j.suffix}" for c in right.columns if c not in j.on})
    merged = left.reset_index().merge(right, on=list(j.on), how="left")
    return merged.set_index("index")


def _check(rule: CrossRule, datasets: dict[str, pd.DataFrame]
           ) -> tuple[pa.Check, str, pd.DataFrame]:
    """(pandera check, column it is attached to, frame it runs on) for one rule."""
    if rule.type == "foreign_key":
        col = rule.columns[0]
        ref = set(datasets[rule.reference][col].dropna())
        optional = rule.optional
        check = pa.Check(lambda s: s.isin(ref) | (s.isna() if optional else False),
                         error=f"no subject {col} in {rule.reference}")
        return check, col, _rows(datasets[rule.dataset], rule.where)
    if rule.type == "count":
        counts = datasets[rule.count_of].groupby("USUBJID").size()
        frame = datasets[rule.dataset]
        expected = frame["USUBJID"].map(counts).fillna(0)
        check = pa.Check(lambda s: s.astype("float64") == expected.loc[s.index].to_numpy(),
                         error=f"differs from the number of {rule.count_of} records")
        return check, rule.column, frame
    if rule.type == "expression":
        frame = _joined(rule, datasets)
        expression = rule.check
        check = pa.Check(lambda df: evaluate(expression, df), error=rule.description)
        return check, "", frame
    raise ValueError(f"rule {rule.id}: unknown type {rule.type!r}")


def check_cross_rules(rules: tuple[CrossRule, ...], datasets: dict[str, pd.DataFrame],
                      texts: dict[str, pd.DataFrame], files: dict[str, Path]) -> list[Violation]:
    """Run every cross-dataset rule whose datasets were read; one violation per failing record."""
    out: list[Violation] = []
    for rule in rules:
        needed = {rule.dataset, rule.reference, rule.count_of,
                  rule.join.dataset if rule.join else None} - {None}
        if not needed <= datasets.keys():
            continue
        check, column, frame = _check(rule, datasets)
        if column:
            schema = pa.DataFrameSchema({column: pa.Column(checks=[check], nullable=True)})
        else:
            schema = pa.DataFrameSchema(checks=[check])
        try:
            schema.validate(frame, lazy=True)
        except pa.errors.SchemaErrors as exc:
            text = texts[rule.dataset]
            path = files[rule.dataset]
            variables = rule.columns or ((rule.column,) if rule.column else (None,))
            for index in exc.failure_cases["index"].dropna().astype(int).unique():
                variable = variables[0]
                raw = text.at[index, variable] if variable in text else None
                message = rule.description if rule.type != "foreign_key" else (
                    f"{variable} {raw} has no record in {rule.reference}")
                out.append(Violation(
                    dataset=rule.dataset, file=str(path), rule=rule.id, message=message,
                    row=row_number(path, int(index)),
                    subject=text.at[index, "USUBJID"] if "USUBJID" in text else None,
                    variable=variable, value=None if raw is None else str(raw)))
    return out

"""Evaluate a specification rule: a pandas expression over a record's columns.

Rules are written in the specification as Python/pandas expressions over column names
(``TRTSDT.isna() | (RANDDT <= TRTSDT)``). They come from the project's own files, never from
data, and are evaluated with no builtins. A record fails when the expression is False or
cannot be decided (missing).
"""

from __future__ import annotations

import pandas as pd


def evaluate(expression: str, frame: pd.DataFrame) -> pd.Series:
    """Boolean Series: True where ``expression`` holds for the record."""
    namespace = {str(c): frame[c] for c in frame.columns}
    result = eval(compile(expression, "<rule>", "eval"), {"__builtins__": {}}, namespace)  # noqa: S307
    if not isinstance(result, pd.Series):
        result = pd.Series(bool(result), index=frame.index)
    return result.astype("boolean").fillna(False).astype(bool)

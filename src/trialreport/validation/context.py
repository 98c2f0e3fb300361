"""One dataset being validated: its text, file and specification, and how to report a cell."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialreport.io.readers import row_number
from trialreport.spec.model import DatasetSpec
from trialreport.validation.violations import violation_frame

SUBJECT = "USUBJID"


def raw_values(column: pd.Series, positions: np.ndarray) -> np.ndarray:
    """The text of ``column`` at integer ``positions`` (``None`` where missing)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = np.append(np.asarray(column.cat.categories, dtype=object), None)
        return categories[column.cat.codes.to_numpy()[positions]]
    values = column.to_numpy(dtype=object)[positions]
    return np.where(pd.isna(values), None, values).astype(object)


@dataclass
class DatasetContext:
    """The text frame of one file with the means to turn failing positions into violations."""

    spec: DatasetSpec
    path: Path
    text: pd.DataFrame
    _first_row: int = field(init=False)

    def __post_init__(self) -> None:
        self._first_row = row_number(self.path, 0)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """Row numbers a person sees for integer ``positions`` of the frame."""
        return self.text.index.to_numpy()[positions].astype(np.int64) + self._first_row

    def raw(self, variable: str | None, positions: np.ndarray) -> Any:
        """Text of ``variable`` at ``positions`` (``None`` when it is not a column)."""
        if variable is None or variable not in self.text:
            return None
        return raw_values(self.text[variable], positions)

    def batch(self, positions: np.ndarray, rule: str, message: Any, *,
              variable: str | None = None, values: Any = "raw",
              severity: str = "error") -> pd.DataFrame:
        """Violations at ``positions`` (the value defaults to the cell's text)."""
        positions = np.asarray(positions, dtype=np.int64)
        subjects = self.raw(SUBJECT, positions)
        return violation_frame(
            dataset=self.spec.name, file=str(self.path), rule=rule, message=message,
            rows=self.rows(positions), subjects=subjects, variable=variable,
            values=self.raw(variable, positions) if isinstance(values, str) and
            values == "raw" else values, severity=severity)

    def file_problem(self, rule: str, message: str, *, variable: str | None = None,
                     row: int | None = None, severity: str = "error") -> pd.DataFrame:
        """One violation about the file itself (not a record)."""
        return violation_frame(dataset=self.spec.name, file=str(self.path), rule=rule,
                               message=message, rows=row, variable=variable,
                               severity=severity)

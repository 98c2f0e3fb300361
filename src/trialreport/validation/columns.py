"""Check every column on its own: type, missing spellings, required, codelist, range, pattern.

Each column is handled as a pandas category: its distinct texts are parsed and checked once
(a column of a million records usually holds a few hundred distinct values), and the verdicts
are spread to the records through the category codes. Nothing that fails to parse becomes a
missing value silently: every such cell is a violation naming row, column and value, and only
the declared missing spellings (``missing_values:``, by default the empty field) mean missing.

Value forms: integer ``[+-]digits`` within 64 bits; number a decimal (``-1.5``, ``2e3``; not
``NaN``/``inf``, which are declared missing spellings or violations); date ISO 8601
``YYYY-MM-DD`` that exists in the calendar; text anything, but not only spaces.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialreport.spec.model import VariableSpec
from trialreport.validation.context import DatasetContext

INTEGER = r"[+-]?\d+"
NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
ISO_DATE = r"\d{4}-\d{2}-\d{2}"
INT64 = (-(2**63), 2**63 - 1)
DATE_LIMITS = (pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D"))
Categories = tuple[np.ndarray, np.ndarray]
MESSAGES = {
    "integer": "is not an integer",
    "number": "is not a number",
    "date": "is not a date in ISO 8601 form YYYY-MM-DD",
    "string": "is only spaces (leave the field empty for a missing value)",
}


@dataclass
class Column:
    """One column's distinct texts (categories) and what each means."""

    texts: np.ndarray  # object: the distinct texts
    codes: np.ndarray  # per record: index into texts, -1 for an empty field
    missing: np.ndarray  # per text: a declared missing spelling
    problem: np.ndarray  # per text: why it is not a valid value (None if it is)

    def per_record(self, per_text: np.ndarray, empty: object) -> np.ndarray:
        """Spread a per-text array to the records (``empty`` for an empty field)."""
        return np.append(per_text, np.array([empty], dtype=per_text.dtype))[self.codes]


def _categories(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object).where(column.notna(), None).astype("category")
    texts = np.array([t if isinstance(t, str) else str(t) for t in column.cat.categories],
                     dtype=object)
    return texts, column.cat.codes.to_numpy().astype(np.int64)


def _matches(texts: np.ndarray, pattern: str) -> np.ndarray:
    if not len(texts):
        return np.zeros(0, dtype=bool)
    return np.asarray(pd.Index(texts, dtype=object).str.fullmatch(pattern), dtype=bool)


def _parse(texts: np.ndarray, kind: str, usable: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray]:
    """(typed value per text, problem per text) for the texts marked ``usable``."""
    problem = np.full(len(texts), None, dtype=object)
    if kind == "string":
        blank = np.asarray(pd.Index(texts, dtype=object).str.strip()) == "" if len(texts) \
            else np.zeros(0, dtype=bool)
        problem[usable & blank] = MESSAGES["string"]
        return texts, problem
    if kind == "date":
        values = np.full(len(texts), np.datetime64("NaT"), dtype="datetime64[ns]")
        form = usable & _matches(texts, ISO_DATE)
        problem[usable & ~form] = MESSAGES["date"]
        parsed = pd.to_datetime(pd.Index(texts[form], dtype=object), format="%Y-%m-%d",
                                errors="coerce")
        values[form] = parsed.to_numpy(dtype="datetime64[ns]")
        for i in np.flatnonzero(form)[parsed.isna()]:
            year = int(texts[i][:4])
            outside = not DATE_LIMITS[0].year <= year <= DATE_LIMITS[1].year
            problem[i] = ("is outside the dates that can be analysed (1678-01-01 to "
                          "2262-04-11)" if outside else
                          "is not a valid date (no such day or month)")
        return values, problem
    pattern = INTEGER if kind == "integer" else NUMBER
    form = usable & _matches(texts, pattern)
    problem[usable & ~form] = MESSAGES[kind]
    if kind == "integer":
        values = np.zeros(len(texts), dtype=np.int64)
        for i in np.flatnonzero(form):  # Python int: exact for any length, then range-checked
            number = int(texts[i])
            if INT64[0] <= number <= INT64[1]:
                values[i] = number
            else:
                problem[i] = "is too large for a 64-bit integer"
        return values, problem
    values = np.full(len(texts), np.nan)
    for i in np.flatnonzero(form):  # Python float: correctly rounded
        number = float(texts[i])
        if math.isfinite(number):
            values[i] = number
        else:
            problem[i] = "is too large for a number"
    return values, problem


def _typed(values: np.ndarray, invalid: np.ndarray, col: Column, kind: str,
           index: pd.Index) -> pd.Series:
    """The typed column: missing where the text is empty, a missing spelling or invalid."""
    gone = col.per_record(invalid, True)
    if kind == "integer":
        data = col.per_record(values, 0)
        return pd.Series(pd.arrays.IntegerArray(data, gone), index=index)
    if kind == "number":
        data = col.per_record(values, np.nan)
        data[gone] = np.nan
        return pd.Series(data, index=index, dtype="float64")
    if kind == "date":
        data = col.per_record(values, np.datetime64("NaT"))
        data[gone] = np.datetime64("NaT")
        return pd.Series(data, index=index, dtype="datetime64[ns]")
    # Text: a categorical of the valid distinct texts (codes per record, -1 = missing), so a
    # million records of a few hundred terms take a few megabytes and group-bys use the codes.
    valid = ~invalid
    new_code = np.full(len(values), -1, dtype=np.int64)
    new_code[valid] = np.arange(int(valid.sum()))
    codes = np.append(new_code, -1)[col.codes]
    categories = pd.Index(values[valid], dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, categories=categories), index=index)


@dataclass
class CheckedColumn:
    """What :func:`check_column` found for one variable."""

    typed: pd.Series  # the values, typed; missing where empty, a missing spelling or invalid
    unparsed: np.ndarray  # per record: the text is not a valid value (reported as "type")
    batches: list  # violation batches
    codes: Categories | None  # text columns: (per-record code, -1 when missing; distinct texts)


def check_column(ctx: DatasetContext, var: VariableSpec) -> CheckedColumn:
    """Parse and check one variable (it must be a column of the text)."""
    texts, codes = _categories(ctx.text[var.name])
    missing = np.isin(texts, list(ctx.spec.missing_values)) if len(texts) else \
        np.zeros(0, dtype=bool)
    values, problem = _parse(texts, var.type, ~missing)
    col = Column(texts, codes, missing, problem)
    invalid = missing | (problem != None)  # noqa: E711 (element-wise)
    batches = []
    bad = col.per_record(problem, None)
    unparsed = bad != None  # noqa: E711
    where = np.flatnonzero(unparsed)
    if len(where):
        batches.append(ctx.batch(where, "type", bad[where], variable=var.name))
    if var.required:
        empty = np.flatnonzero(col.per_record(missing, True))
        if len(empty):
            batches.append(ctx.batch(empty, "required", "is required but missing",
                                     variable=var.name))
    valid = ~invalid
    for failing, rule, message in _value_checks(var, values, valid, texts):
        where = np.flatnonzero(col.per_record(failing, False))
        if len(where):
            batches.append(ctx.batch(where, rule, message, variable=var.name))
    category_codes = None
    if var.type == "string":
        category_codes = (np.where(col.per_record(invalid, True), -1, codes), texts)
    return CheckedColumn(_typed(values, invalid, col, var.type, ctx.text.index), unparsed,
                         batches, category_codes)


def _value_checks(var: VariableSpec, values: np.ndarray, valid: np.ndarray,
                  texts: np.ndarray) -> list[tuple[np.ndarray, str, str]]:
    """(per-text failure, rule, message) for the codelist, range and pattern of ``var``."""
    checks = []
    if var.codelist is not None:
        codes = var.codes
        shown = ", ".join(map(str, codes[:12])) + (" ..." if len(codes) > 12 else "")
        inside = np.isin(values, np.array(codes, dtype=values.dtype if var.type != "string"
                                          else object)) if len(values) else valid
        checks.append((valid & ~inside, "codelist", f"is not in the codelist ({shown})"))
    if var.range is not None:
        lo, hi = var.range
        unit = f" {var.unit}" if var.unit else ""
        numbers = values.astype(np.float64)
        with np.errstate(invalid="ignore"):
            outside = (numbers < lo) | (numbers > hi)
        checks.append((valid & outside, "range", f"is outside the range {lo:g}-{hi:g}{unit}"))
    if var.pattern is not None:
        compiled = re.compile(var.pattern)
        fits = np.array([compiled.match(t) is not None for t in texts], dtype=bool)
        checks.append((valid & ~fits, "pattern", f"does not match the pattern {var.pattern}"))
    return checks

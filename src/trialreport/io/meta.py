"""What a reader knows about a table beside its values: labels, types, formats, lengths.

The binary readers (:mod:`trialreport.io.xpt`, :mod:`trialreport.io.parquet`) return the values
as text, like the CSV reader, plus one :class:`TableMeta` that the validator and the
specification inference compare with the specification. Numbers become text here in one way
for every format (:func:`number_text`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

# Integral floats below 2**53 are written as integers ("0", "12", "-3"); all are exact there.
EXACT_INTEGER_LIMIT = 2.0**53
_ZERO_FRACTION = re.compile(r"(\.\d*?)0+(?=$|[Z+\-])")


@dataclass(frozen=True)
class VariableMeta:
    """One column as the file describes it.

    ``type`` is the storage type: ``"character"`` or ``"numeric"`` (SAS, Parquet numbers) or
    ``None`` where the file has none (CSV). ``kind`` says what the text values are when the
    format or the storage type makes them dates or times: ``"date"`` (ISO ``YYYY-MM-DD``),
    ``"datetime"`` (ISO ``YYYY-MM-DDTHH:MM:SS[.ffffff]``), ``"time"`` (``HH:MM:SS[.ffffff]``),
    else ``None``. ``length`` is the storage length in bytes (SAS) and ``format`` the SAS
    display format as SAS writes it (``"DATE9."``, ``"8.2"``).
    ``special_missing`` maps a row (record 1 is row 1) to the SAS special missing code that
    the value had there (``"A"`` to ``"Z"`` or ``"_"``); its value in the table is ``None``
    like every other missing value.
    """

    name: str
    label: str | None = None
    type: str | None = None
    length: int | None = None
    format: str | None = None
    kind: str | None = None
    special_missing: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TableMeta:
    """A table file's own description: file, format, dataset name and label, variables."""

    file: str
    file_format: str  # "xpt" | "parquet" | "csv"
    name: str | None = None
    label: str | None = None
    version: int | None = None  # SAS transport version (5 or 8)
    variables: tuple[VariableMeta, ...] = ()

    def variable(self, name: str) -> VariableMeta:
        """The variable called ``name`` (exact name)."""
        for var in self.variables:
            if var.name == name:
                return var
        raise KeyError(f"{self.file} has no variable {name}")

    @property
    def names(self) -> list[str]:
        """Variable names in file order."""
        return [v.name for v in self.variables]


def number_text(value: float) -> str:
    """A number as exact text: integral values without ``.0`` (``-0.0`` is ``"0"``), every
    other value as Python's shortest round-trip ``repr`` (``0.1`` -> ``"0.1"``)."""
    if math.isfinite(value) and value == math.floor(value) and abs(value) < EXACT_INTEGER_LIMIT:
        return str(int(value))
    return repr(float(value))


def numbers_as_text(values: np.ndarray) -> np.ndarray:
    """:func:`number_text` for a float array as an object array, ``None`` for NaN (whole
    numbers cast at once, the others through ``repr``)."""
    values = np.asarray(values, dtype="float64")
    out = np.full(len(values), None, dtype=object)
    finite = np.isfinite(values)
    safe = np.where(finite, values, 0.0)
    integral = finite & (np.floor(safe) == safe) & (np.abs(safe) < EXACT_INTEGER_LIMIT)
    if integral.any():
        out[integral] = list(map(str, values[integral].astype("int64").tolist()))
    other = ~integral & ~np.isnan(values)
    if other.any():
        out[other] = list(map(repr, values[other].tolist()))
    return out


def trim_fraction(text: str) -> str:
    """ISO time text without trailing zeros in the seconds' fraction, the same for every
    format: ``01:02:03.250000`` -> ``01:02:03.25``, ``01:02:03.000`` -> ``01:02:03``."""
    return _ZERO_FRACTION.sub(lambda m: m.group(1).rstrip("."), text, count=1)

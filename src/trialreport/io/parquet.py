"""Read a Parquet file (pyarrow) as text plus metadata, the same way as a SAS transport file.

Values become text like the CSV reader's: numbers exact (integers without ``.0``, other
numbers as their shortest repr), dates as ISO ``YYYY-MM-DD``, timestamps as ISO datetimes,
times as ``HH:MM:SS[.ffffff]``, booleans as ``true``/``false``, dictionary-encoded columns by
their values; nulls, NaN and empty text are ``None``. A column of any other type (lists,
structures, binary, durations) is an error naming the column. Record 1 is row 1.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from trialreport.io.meta import TableMeta, VariableMeta, numbers_as_text, trim_fraction
from trialreport.io.readers import DataReadError

__all__ = ["read_parquet"]


def _decoded(column):  # a pyarrow ChunkedArray
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return pa.chunked_array([chunk.dictionary_decode() for chunk in column.chunks],
                                type=column.type.value_type)
    return column


def _column_text(column, name: str, path: Path  # column: a pyarrow ChunkedArray
                 ) -> tuple[list[str | None], str, str | None]:
    """(text values, storage type, kind) for one pyarrow column."""
    import pyarrow as pa

    column = _decoded(column)
    kind_of = column.type
    if pa.types.is_floating(kind_of):
        values = column.to_numpy(zero_copy_only=False).astype("float64")
        return numbers_as_text(values), "numeric", None
    values = column.to_pylist()
    if (pa.types.is_string(kind_of) or pa.types.is_large_string(kind_of)
            or pa.types.is_string_view(kind_of)):
        return [v if v else None for v in values], "character", None
    if pa.types.is_null(kind_of):
        return [None] * len(values), "character", None
    if pa.types.is_integer(kind_of):
        return [None if v is None else str(int(v)) for v in values], "numeric", None
    if pa.types.is_decimal(kind_of):
        return [None if v is None else format(Decimal(v), "f") for v in values], "numeric", None
    if pa.types.is_boolean(kind_of):
        return [None if v is None else ("true" if v else "false") for v in values], \
            "character", None
    if pa.types.is_date(kind_of):
        return [None if v is None else v.isoformat() for v in values], "numeric", "date"
    if pa.types.is_timestamp(kind_of):
        return [None if v is None else trim_fraction(v.isoformat()) for v in values], \
            "numeric", "datetime"
    if pa.types.is_time(kind_of):
        return [None if v is None else trim_fraction(v.isoformat()) for v in values], \
            "numeric", "time"
    raise DataReadError(str(path), f"Parquet type {kind_of} is not a table value (expected "
                        "text, a number, a date or a time)", column=name)


def _index_columns(schema) -> set[str]:  # schema: a pyarrow Schema
    """Columns that pandas stored for its row index (not data)."""
    meta = schema.pandas_metadata or {}
    return {c for c in meta.get("index_columns", []) if isinstance(c, str)}


def read_parquet(path: Path) -> tuple[pd.DataFrame, TableMeta]:
    """Read one Parquet file as text plus its metadata.

    Raises :class:`DataReadError` naming the file (and column) for a damaged file or a column
    whose type is not a table value.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataReadError(str(path), f"not a readable Parquet file: {exc}") from None
    skip = _index_columns(table.schema)
    columns: dict[str, list[str | None]] = {}
    variables = []
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.name in skip:
            continue
        if field.name in columns:
            raise DataReadError(str(path), "the column name occurs twice", column=field.name)
        columns[field.name], storage, kind = _column_text(column, field.name, path)
        label = (field.metadata or {}).get(b"label")
        variables.append(VariableMeta(name=field.name, type=storage, kind=kind,
                                      label=label.decode("utf-8", "replace") if label else None))
    frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows), dtype=object)
    return frame, TableMeta(file=str(path), file_format="parquet", variables=tuple(variables))


"""Parquet files read as text the same way as SAS transport and CSV files."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from trialreport.io.readers import (
    DataReadError,
    find_data_file,
    read_table,
    read_table_with_meta,
    row_number,
)


def test_every_column_type_becomes_text(tmp_path) -> None:
    table = pa.table({
        "USUBJID": pa.array(["S-1", "S-2", None, ""]),
        "AGE": pa.array([30, 0, None, -4], pa.int32()),
        "AVAL": pa.array([0.0, 0.1, float("nan"), None], pa.float64()),
        "BIG": pa.array([2.0**60, 1.5, 12.0, -0.0]),
        "ADT": pa.array([dt.date(2023, 4, 5), None, dt.date(1960, 1, 1), dt.date(1, 1, 1)]),
        "ADTM": pa.array([dt.datetime(2023, 4, 5, 1, 2, 3), None,
                          dt.datetime(2023, 4, 5, 1, 2, 3, 250000), None], pa.timestamp("us")),
        "ATM": pa.array([dt.time(1, 2, 3), None, dt.time(0, 0), None]),
        "SEX": pa.array(["F", "M", "F", None]).dictionary_encode(),
        "DOSE": pa.array([Decimal("1.50"), None, Decimal("100"), Decimal("0")],
                         pa.decimal128(6, 2)),
        "FLAG": pa.array([True, False, None, True]),
    })
    path = tmp_path / "adsl.parquet"
    pq.write_table(table, path)
    text, meta = read_table_with_meta(path)
    assert list(text["USUBJID"]) == ["S-1", "S-2", None, None]
    assert list(text["AGE"]) == ["30", "0", None, "-4"]
    assert list(text["AVAL"]) == ["0", "0.1", None, None]
    assert list(text["BIG"]) == ["1.152921504606847e+18", "1.5", "12", "0"]
    assert list(text["ADT"]) == ["2023-04-05", None, "1960-01-01", "0001-01-01"]
    assert list(text["ADTM"]) == ["2023-04-05T01:02:03", None, "2023-04-05T01:02:03.25",
                                  None]
    assert list(text["ATM"]) == ["01:02:03", None, "00:00:00", None]
    assert list(text["SEX"]) == ["F", "M", "F", None]
    assert list(text["DOSE"]) == ["1.50", None, "100.00", "0.00"]
    assert list(text["FLAG"]) == ["true", "false", None, "true"]
    assert text.dtypes.eq(object).all()
    kinds = {v.name: (v.type, v.kind) for v in meta.variables}
    assert kinds["ADT"] == ("numeric", "date") and kinds["USUBJID"] == ("character", None)
    assert meta.file_format == "parquet" and row_number(path, 0) == 1


def test_pandas_index_is_not_a_column_and_labels_are_read(tmp_path) -> None:
    frame = pd.DataFrame({"USUBJID": ["A", "B"], "AGE": [1, 2]}, index=["x", "y"])
    path = tmp_path / "adsl.parquet"
    table = pa.Table.from_pandas(frame)
    fields = [f.with_metadata({b"label": b"Age"}) if f.name == "AGE" else f
              for f in table.schema]
    pq.write_table(table.cast(pa.schema(fields, metadata=table.schema.metadata)), path)
    text, meta = read_table_with_meta(path)
    assert list(text.columns) == ["USUBJID", "AGE"]
    assert meta.variable("AGE").label == "Age"
    assert find_data_file(tmp_path, "adsl") == path


def test_nested_column_is_an_error_naming_it(tmp_path) -> None:
    path = tmp_path / "adae.parquet"
    pq.write_table(pa.table({"USUBJID": ["A"], "TERMS": pa.array([[1, 2]])}), path)
    with pytest.raises(DataReadError) as err:
        read_table(path)
    assert err.value.column == "TERMS" and "list" in err.value.message


@pytest.mark.parametrize("data", [b"", b"PAR1 not really", b"USUBJID,AGE\nA,1\n"])
def test_damaged_parquet_is_a_clear_error(tmp_path, data) -> None:
    path = tmp_path / "adsl.parquet"
    path.write_bytes(data)
    with pytest.raises(DataReadError) as err:
        read_table(path)
    assert str(path) in str(err.value) and "Parquet" in err.value.message


def test_cut_short_parquet_is_a_clear_error(tmp_path) -> None:
    path = tmp_path / "adsl.parquet"
    pq.write_table(pa.table({"USUBJID": [f"S-{i}" for i in range(500)]}), path)
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(DataReadError, match="not a readable Parquet file"):
        read_table(path)


@pytest.mark.parametrize(("text", "trimmed"), [
    ("01:02:03.250000", "01:02:03.25"), ("01:02:03.105", "01:02:03.105"),
    ("2023-04-05T01:02:03.000000", "2023-04-05T01:02:03"),
    ("2023-04-05T01:02:03.100+02:00", "2023-04-05T01:02:03.1+02:00"),
    ("2023-04-05T00:00:00.000000Z", "2023-04-05T00:00:00Z"), ("1960-01-01", "1960-01-01")])
def test_fractions_of_seconds_lose_trailing_zeros_only(text, trimmed) -> None:
    from trialreport.io.meta import trim_fraction

    assert trim_fraction(text) == trimmed

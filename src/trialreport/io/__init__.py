"""Reading trial data files (CSV, SAS transport, Parquet) and define.xml safely."""

from trialreport.io.meta import TableMeta, VariableMeta
from trialreport.io.readers import (
    DEFAULT_MAX_BYTES,
    DataReadError,
    find_data_file,
    read_table,
    read_table_with_meta,
)

__all__ = ["DEFAULT_MAX_BYTES", "DataReadError", "TableMeta", "VariableMeta", "find_data_file",
           "read_table", "read_table_with_meta"]

"""Reading trial data files (CSV and SAS transport) safely."""

from trialreport.io.readers import (
    DEFAULT_MAX_BYTES,
    DataReadError,
    find_data_file,
    read_table,
)

__all__ = ["DEFAULT_MAX_BYTES", "DataReadError", "find_data_file", "read_table"]

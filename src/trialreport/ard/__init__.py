"""Analysis results data (ARD): one tidy long table of every number in the report.

The contract is ``docs/ard.md``: columns ``analysis, population, group, variable, category,
statistic, value, method``; values at full precision; the key (all columns but ``value`` and
``method``) is unique; ``analysis`` is ``population`` or the name of an output of the study
definition.
"""

from trialreport.ard._build import (
    ARD_SCHEMA_VERSION,
    ard_metadata,
    build_ard,
    build_ard_from_paths,
    population_rows,
)
from trialreport.ard._frame import (
    COLUMNS,
    KEY,
    concat_frames,
    empty_frame,
    long_frame,
    records_frame,
    stack_statistics,
)
from trialreport.ard._table import ARD, POPULATION, ARDError

__all__ = ["ARD", "ARDError", "ARD_SCHEMA_VERSION", "COLUMNS", "KEY", "POPULATION",
           "ard_metadata", "build_ard", "build_ard_from_paths", "concat_frames", "empty_frame",
           "long_frame", "population_rows", "records_frame", "stack_statistics"]

"""The machine-readable data specification (``data_spec/*.yml``)."""

from trialreport.spec.model import (
    CrossRule,
    DatasetSpec,
    RowRule,
    Specification,
    VariableSpec,
    load_specification,
)

__all__ = ["CrossRule", "DatasetSpec", "RowRule", "Specification", "VariableSpec",
           "load_specification"]

"""The machine-readable data specification (``data_spec/*.yml``)."""

from trialreport.spec.model import (
    CrossRule,
    DatasetSpec,
    JoinSpec,
    RowRule,
    Specification,
    SpecificationError,
    VariableSpec,
    Windows,
    load_dataset_spec,
    load_specification,
)

__all__ = ["CrossRule", "DatasetSpec", "JoinSpec", "RowRule", "Specification",
           "SpecificationError", "VariableSpec", "Windows", "load_dataset_spec",
           "load_specification"]

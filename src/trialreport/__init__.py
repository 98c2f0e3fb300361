"""trialreport: a reproducible clinical-study-report generator for ADaM data.

The public facade (everything a chapter cell or a script needs)::

    import trialreport as tr
    b = tr.open_book()                  # the study project around the current folder
    b.table("baseline"); b.figure("km_relapse"); b.n.response("RESP6")

    study = tr.load_study("data_spec/study.yml")
    trial = tr.load_trial("data", "data_spec", study)     # validated, checked against the study
    ard = tr.build_ard(trial)                              # analysis results data
    tr.build_output(study, "ae_soc_pt", ard, trial)        # a great_tables.GT or a figure
    tr.stats.binomial_ci(16, 23)

Imports are lazy, so ``import trialreport`` and the command line start quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ARD", "Book", "Study", "StudyDefinitionError", "__version__", "build_ard",
           "build_output", "load_study", "load_trial", "open_book", "output_types", "stats"]

_LAZY = {
    "ARD": ("trialreport.ard", "ARD"),
    "build_ard": ("trialreport.ard", "build_ard"),
    "Book": ("trialreport.book", "Book"),
    "open_book": ("trialreport.book", "open_book"),
    "Study": ("trialreport.study", "Study"),
    "StudyDefinitionError": ("trialreport.study", "StudyDefinitionError"),
    "load_study": ("trialreport.study", "load_study"),
    "load_trial": ("trialreport.data", "load_trial"),
    "build_output": ("trialreport.tables", "build_output"),
    "output_types": ("trialreport.outputs", "output_types"),
}


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("trialreport")
        except PackageNotFoundError:  # running from a source tree that was never installed
            return "0+unknown"
    if name == "stats":
        return importlib.import_module("trialreport.stats")
    if name in _LAZY:
        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'trialreport' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)

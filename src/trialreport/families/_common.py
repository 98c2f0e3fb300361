"""Small pieces every family uses: the ARD key of an output and its analysed big N rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from trialreport.ard._frame import stack_statistics
from trialreport.study import OutputSpec, Study

__all__ = ["bign_rows", "groups", "output_key", "population_of"]


def groups(study: Study) -> list[str]:
    """ARD groups of per-arm results: the arm codes in display order, then the total."""
    return [*study.arm_codes, study.total_label]


def population_of(study: Study, spec: OutputSpec, default: str | None) -> str:
    """The output's population: its own ``population:``, else the family's default."""
    code = spec.population or default
    if code is None:
        raise ValueError(f"output {spec.name!r} needs 'population:' (no default for "
                         f"type {spec.type!r})")
    return code


def output_key(spec: OutputSpec, population: str) -> dict[str, str]:
    """The ARD key columns every row of an output shares."""
    return {"analysis": spec.name, "population": population}


def bign_rows(key: Mapping[str, Any], counts: Mapping[str, int]) -> pd.DataFrame:
    """The analysed N of an output per group: ``variable=""``, ``statistic="N"``."""
    wide = pd.DataFrame({"group": list(counts), "N": [float(v) for v in counts.values()]})
    return stack_statistics(wide, ["N"], variable="", **key)

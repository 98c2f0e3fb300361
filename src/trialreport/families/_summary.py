"""Descriptive summaries of subject-level variables by arm (baseline and exposure families).

Counting is vectorised: one ``np.bincount`` per categorical variable, one summary per arm per
continuous variable. Continuous variables also record the data's precision (decimals of the
recorded values), so that tables show location statistics at the data's precision plus one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis_sets import ARM, as_text
from trialreport.ard._frame import concat_frames, long_frame, records_frame, stack_statistics
from trialreport.formatting import data_decimals
from trialreport.stats.comparisons import compare_categorical, compare_continuous
from trialreport.stats.continuous import STAT_NAMES, describe, describe_by

__all__ = ["CATEGORICAL_STATS", "CONTINUOUS_STATS", "categorical_rows", "continuous_rows",
           "data_decimals", "summarise", "variable_levels"]

CONTINUOUS_STATS = STAT_NAMES  # the statistics describe() returns, in the same order
CATEGORICAL_STATS = ("n", "N", "pct")


def variable_levels(levels: Mapping[str, str] | None, observed: pd.Series) -> list[str]:
    """Levels of a categorical variable: the definition's order, then any other observed code
    (sorted), so no record is silently dropped."""
    declared = [str(k) for k in (levels or {})]
    extra = sorted(set(observed.dropna().unique()) - set(declared))
    return declared + [str(e) for e in extra]


def continuous_rows(values: np.ndarray, arm: pd.Series, groups: Sequence[str],
                    total: str) -> pd.DataFrame:
    """Wide summary, one row per group: :func:`describe_by` per arm, :func:`describe` of all."""
    per_arm = describe_by(values, arm.to_numpy(dtype=object), levels=list(groups))
    rows = pd.concat([per_arm, pd.DataFrame([describe(values)], index=[total])])
    return rows.rename_axis("group").reset_index()


def categorical_rows(values: pd.Series, arm: pd.Series, groups: Sequence[str], total: str,
                     levels: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Counts per group and level, laid out as ARD columns.

    Returns ``(columns, table)``: ``columns`` holds ``group``, ``category``, ``statistic``,
    ``value`` arrays (per group first ``nmiss`` with category "", then per level ``n``, ``N``
    (non-missing in the group) and ``pct`` (0-100, NaN when N = 0)); ``table`` is the
    arms x levels count matrix for tests.
    """
    k, m = len(groups), len(levels)
    arm_idx = pd.Categorical(arm.astype(object), categories=list(groups)).codes
    lvl_idx = pd.Categorical(values.astype(object), categories=list(levels)).codes
    ok = (arm_idx >= 0) & (lvl_idx >= 0)
    table = np.bincount(arm_idx[ok] * m + lvl_idx[ok], minlength=k * m).reshape(k, m)
    miss = np.bincount(arm_idx[(arm_idx >= 0) & (lvl_idx < 0)], minlength=k)
    full = np.vstack([table, table.sum(axis=0)]).astype(float)
    miss = np.append(miss, miss.sum()).astype(float)
    denom = full.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(denom > 0, 100.0 * full / np.where(denom > 0, denom, 1.0), np.nan)
    per_level = np.stack([full, np.broadcast_to(denom, full.shape), pct], axis=2)  # K x m x 3
    value = np.hstack([miss[:, None], per_level.reshape(k + 1, 3 * m)]).ravel()
    block = 1 + 3 * m
    levels_arr = np.array(list(levels), dtype=object)
    columns = {
        "group": np.repeat(np.array([*groups, total], dtype=object), block),
        "category": np.tile(np.concatenate([[""], np.repeat(levels_arr, 3)]), k + 1),
        "statistic": np.tile(np.concatenate([["nmiss"], np.tile(CATEGORICAL_STATS, m)]), k + 1),
        "value": value,
    }
    return columns, table


def _test_rows(result: Any, variable: str, key: Mapping[str, str]) -> pd.DataFrame:
    """Group ``comparison`` rows: the test statistic and the two-sided p-value."""
    return records_frame(
        {**key, "group": "comparison", "variable": variable, "category": "",
         "statistic": stat, "value": float(value), "method": result.method}
        for stat, value in (("statistic", result.statistic), ("pvalue", result.pvalue)))


def summarise(pop: pd.DataFrame, variables: Sequence[Any], groups: Sequence[str], total: str,
              key: Mapping[str, str], tests: Any = False,
              values_of: Any = None) -> pd.DataFrame:
    """ARD rows for subject-level variables of one population (``pop`` has column ``ARM``).

    ``variables``: :class:`trialreport.study._model.Variable` models. ``tests``: ``False`` (no
    tests), ``True`` ("auto") or a ``BaselineTests`` with a test per type; a variable's own
    ``test`` wins. ``values_of(var)``: the variable's values aligned with ``pop`` (default: the
    column of ``pop``). Continuous: ``n, nmiss, mean, sd, median, q1, q3, min, max`` per group
    and ``precision`` (group total); categorical: ``n, N, pct`` per group and level and
    ``nmiss`` (category ""); tests: group ``comparison``, ``statistic`` and ``pvalue``.
    """
    arm = pop[ARM].astype(object)
    frames = []
    for var in variables:
        column = values_of(var) if values_of is not None else pop[var.name]
        test = var.test
        if test is None and tests is not False:
            test = "auto" if tests is True else getattr(tests, var.type)
        if test == "none":
            test = None
        if var.type == "continuous":
            x = pd.to_numeric(column, errors="raise").astype(float).to_numpy()
            wide = continuous_rows(x, arm, groups, total)
            frames.append(stack_statistics(wide, CONTINUOUS_STATS, variable=var.name, **key))
            frames.append(records_frame([{**key, "group": total, "variable": var.name,
                                          "category": "", "statistic": "precision",
                                          "value": float(data_decimals(x))}]))
            if test is not None:
                res = compare_continuous([x[(arm == g).to_numpy()] for g in groups], test=test)
                frames.append(_test_rows(res, var.name, key))
        else:
            text = as_text(column)
            levels = variable_levels(var.levels, text)
            columns, table = categorical_rows(text, arm, groups, total, levels)
            frames.append(long_frame(columns.pop("value"), variable=var.name, **columns, **key))
            if test is not None:
                frames.append(_test_rows(compare_categorical(table, test=test), var.name, key))
    return concat_frames(frames)

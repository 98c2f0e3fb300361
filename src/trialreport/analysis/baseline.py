"""Demographic and baseline characteristics (and exposure) by arm, with between-arm tests.

The variables, their type (continuous / categorical), levels and the population come from
the ``baseline:`` block of the study definition (``exposure:`` has the same shape). Counting is
vectorised: one ``np.bincount`` per categorical variable, one summary per arm per continuous
variable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis.ard import (
    concat_frames,
    empty_frame,
    long_frame,
    records_frame,
    stack_statistics,
)
from trialreport.analysis.populations import ARM, arm_codes, as_text, population_adsl
from trialreport.data import TrialData
from trialreport.stats.comparisons import compare_categorical, compare_continuous
from trialreport.stats.continuous import STAT_NAMES, describe, describe_by

__all__ = ["CONTINUOUS_STATS", "as_text", "baseline_ard", "categorical_rows", "continuous_rows",
           "exposure_ard", "summarise_variables", "variable_levels"]

CONTINUOUS_STATS = STAT_NAMES  # the statistics describe() returns, in the same order
CATEGORICAL_STATS = ("n", "N", "pct")


def variable_levels(spec: Mapping[str, Any], observed: pd.Series | None = None) -> list[str]:
    """Levels of a categorical variable: the definition's order, then any other observed code
    (sorted), so no record is silently dropped."""
    levels = [str(k) for k in (spec.get("levels") or {})]
    if observed is not None:
        extra = sorted(set(observed.dropna().unique()) - set(levels))
        levels += [str(e) for e in extra]
    return levels


def _test_name(section: Mapping[str, Any], spec: Mapping[str, Any], kind: str) -> str | None:
    """Which test to run for a variable (``None`` = no test)."""
    if "test" in spec:
        chosen = spec["test"]
        return None if chosen in (None, False, "none") else str(chosen)
    tests = section.get("tests", False)
    if tests is True:
        return "auto"
    if isinstance(tests, Mapping):
        chosen = tests.get(kind, "auto")
        return None if chosen in (None, False, "none") else str(chosen)
    return None


def continuous_rows(values: pd.Series, arm: pd.Series, groups: Sequence[str],
                    total: str) -> pd.DataFrame:
    """Wide summary, one row per group: :func:`describe_by` per arm, :func:`describe` of all."""
    x = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    per_arm = describe_by(x, arm.to_numpy(dtype=object), levels=list(groups))
    rows = pd.concat([per_arm, pd.DataFrame([describe(x)], index=[total])])
    return rows.rename_axis("group").reset_index()


def categorical_rows(values: pd.Series, arm: pd.Series, groups: Sequence[str], total: str,
                     levels: Sequence[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Counts per group and level, laid out as ARD columns.

    Returns
    -------
    (columns, table)
        ``columns``: ``group``, ``category``, ``statistic``, ``value`` arrays; per group first
        ``nmiss`` (category ""), then per level ``n``, ``N`` (non-missing in the group) and
        ``pct`` (0-100, NaN when N = 0). ``table``: the arms x levels count matrix for tests.
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


def summarise_variables(data: TrialData, population: str, variables: Sequence[Mapping[str, Any]],
                        analysis: str, section: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """ARD rows for a list of ADSL variables in one population.

    Parameters
    ----------
    data : TrialData
    population : str
        Population code; subjects are placed by that population's arm variable.
    variables : sequence of mapping
        Variable specs: ``name``, ``type`` (``continuous``/``categorical``), ``levels``,
        optionally ``test``.
    analysis : str
        ARD analysis id (``baseline`` or ``exposure``).
    section : mapping, optional
        The study-definition block, for its ``tests`` setting.

    Returns
    -------
    DataFrame
        Continuous: ``n, nmiss, mean, sd, median, q1, q3, min, max`` per group; categorical:
        ``n, N, pct`` per group and level and ``nmiss`` (category ""); tests: group
        ``comparison``, ``statistic`` and ``pvalue`` with the test's name as method.
        Two arms: Mann-Whitney U / Fisher's exact; three or more: Kruskal-Wallis / Pearson
        chi-square (``"auto"`` in :mod:`trialreport.stats.comparisons`).
    """
    section = section or {}
    study = data.study
    pop = population_adsl(data, population)
    groups = arm_codes(study)
    total = study.total_label
    arm = pop[ARM].astype(object)
    const = {"analysis": analysis, "population": population}
    frames = []
    for spec in variables:
        name = str(spec["name"])
        if name not in pop:
            continue
        kind = str(spec.get("type", "categorical"))
        test = _test_name(section, spec, kind)
        if kind == "continuous":
            wide = continuous_rows(pop[name], arm, groups, total)
            frames.append(stack_statistics(wide, CONTINUOUS_STATS, variable=name, **const))
            if test is not None:
                x = pd.to_numeric(pop[name], errors="coerce").astype(float)
                res = compare_continuous([x[arm == g].to_numpy() for g in groups], test=test)
                frames.append(_test_rows(res, name, const))
        else:
            text = as_text(pop[name])
            levels = variable_levels(spec, text)
            columns, table = categorical_rows(text, arm, groups, total, levels)
            frames.append(long_frame(columns.pop("value"), variable=name, **columns, **const))
            if test is not None:
                frames.append(_test_rows(compare_categorical(table, test=test), name, const))
    return concat_frames(frames)


def _test_rows(result: Any, variable: str, const: Mapping[str, str]) -> pd.DataFrame:
    """Group ``comparison`` rows: the test statistic and the two-sided p-value."""
    return records_frame(
        {**const, "group": "comparison", "variable": variable, "category": "",
         "statistic": stat, "value": float(value), "method": result.method}
        for stat, value in (("statistic", result.statistic), ("pvalue", result.pvalue)))


def baseline_ard(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="baseline"`` from the ``baseline:`` block (empty without it)."""
    section = data.study.section("baseline")
    if not section or "adsl" not in data:
        return empty_frame()
    return summarise_variables(data, section["population"], section.get("variables", []),
                               "baseline", section)


def exposure_ard(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="exposure"`` from an optional ``exposure:`` block of the same shape
    as ``baseline:`` (population defaults to the safety population)."""
    section = data.study.section("exposure")
    if not section or not section.get("variables"):
        return empty_frame()
    safety = data.study.section("safety") or {}
    population = section.get("population", safety.get("population"))
    if population is None:
        return empty_frame()
    return summarise_variables(data, population, section["variables"], "exposure", section)

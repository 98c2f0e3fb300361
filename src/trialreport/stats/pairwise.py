"""Several treatment-vs-reference comparisons for multi-arm trials, as tidy tables.

Each helper takes the arms' data and either ``reference=`` (every other arm against it)
or ``pairs=[(treatment, reference), ...]`` (arm labels or 0-based positions; see
:func:`._arms.resolve_arm`), runs one two-group test per pair and returns one row per
pair, in order. P-values are not adjusted for multiplicity.

* :func:`pairwise_proportions` -- risk difference (percentage points) with CI and
  Fisher's exact p-value for one binary outcome (:func:`.adverse_events.ae_comparisons`
  with a single row).
* :func:`pairwise_categorical` -- :func:`.categorical.compare_categorical` on the two arms'
  rows of a contingency table.
* :func:`pairwise_continuous` -- :func:`.continuous_tests.compare_continuous` on the two
  arms' values.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from ._arms import Pair, resolve_pairs
from ._result import TestResult
from .adverse_events import ae_comparisons
from .categorical import compare_categorical
from .continuous_tests import compare_continuous

__all__ = [
    "PAIRWISE_TEST_COLUMNS",
    "pairwise_categorical",
    "pairwise_continuous",
    "pairwise_proportions",
]

#: Columns of :func:`pairwise_categorical` and :func:`pairwise_continuous`.
PAIRWISE_TEST_COLUMNS: tuple[str, ...] = ("arm", "reference", "statistic", "pvalue", "method")


def _frame(arms: list[Hashable], pairs: list[tuple[int, int]],
           results: list[TestResult]) -> pd.DataFrame:
    return pd.DataFrame(
        {"arm": [arms[t] for t, _ in pairs], "reference": [arms[r] for _, r in pairs],
         "statistic": [r.statistic for r in results], "pvalue": [r.pvalue for r in results],
         "method": [r.method for r in results]},
        columns=list(PAIRWISE_TEST_COLUMNS),
    )


def pairwise_proportions(
    n,
    N,
    reference: Hashable | None = None,
    *,
    pairs: Sequence[Pair] | None = None,
    conf_level: float = 0.95,
    difference_method: str = "newcombe",
    arms: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Risk difference and Fisher's exact test of one binary outcome, per arm pair.

    Parameters
    ----------
    n, N : array-like of int, shape (arms,), or Series / mapping by arm label
        Subjects with the outcome and subjects per arm.
    reference, pairs, conf_level, difference_method, arms
        As :func:`.adverse_events.ae_comparisons`.

    Returns
    -------
    pandas.DataFrame
        :data:`.adverse_events.AE_COLUMNS` without ``row``: ``estimate``, ``lower``,
        ``upper`` in **percentage points**, ``pvalue`` Fisher's exact two-sided.
    """
    if isinstance(n, Mapping | pd.Series):
        if arms is not None:
            raise ValueError("arms= labels a sequence of counts; a mapping has its own labels")
        labels = list(n.keys())
        counts = np.array([[n[a] for a in labels]])
    else:
        counts = np.asarray(n)[None, :]
        labels = list(range(counts.shape[1])) if arms is None else list(arms)
    out = ae_comparisons(counts, N, reference, pairs=pairs, conf_level=conf_level,
                         difference_method=difference_method, arms=labels)
    return out.drop(columns="row")


def pairwise_categorical(
    table,
    reference: Hashable | None = None,
    *,
    pairs: Sequence[Pair] | None = None,
    test: str = "fisher",
    arms: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """:func:`.categorical.compare_categorical` of each pair's two rows of ``table``.

    Parameters
    ----------
    table : array-like of int, shape (arms, categories), or pandas.DataFrame
        Counts, one row per arm (a DataFrame's index gives the arm labels).
    reference, pairs
        The comparisons (exactly one of them).
    test : {"fisher", "chi-square", "auto"}
        Test for each two-arm table; default Fisher's exact (``"auto"`` also picks
        Fisher's for two arms).
    arms : sequence, optional
        Arm labels (default: the DataFrame index, else positions).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PAIRWISE_TEST_COLUMNS`, one row per pair.
    """
    if isinstance(table, pd.DataFrame):
        labels = list(table.index) if arms is None else list(arms)
        values = table.to_numpy()
    else:
        values = np.asarray(table)
        labels = list(range(values.shape[0])) if arms is None else list(arms)
    if values.ndim != 2 or values.shape[0] != len(labels):
        raise ValueError(f"table must have one row per arm ({len(labels)} arms), got shape "
                         f"{values.shape}")
    chosen = resolve_pairs(labels, reference, pairs)
    results = [compare_categorical(values[[t, r]], test=test) for t, r in chosen]
    return _frame(labels, chosen, results)


def pairwise_continuous(
    groups,
    reference: Hashable | None = None,
    *,
    pairs: Sequence[Pair] | None = None,
    test: str = "mwu",
    arms: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """:func:`.continuous_tests.compare_continuous` of each pair's two arms.

    Parameters
    ----------
    groups : sequence of array-like, or mapping arm label -> array-like
        Values per arm (NaN = missing).
    reference, pairs
        The comparisons (exactly one of them).
    test : {"mwu", "ttest", "welch", "anova", "kruskal", "auto"}
        Two-group test; default the Wilcoxon rank-sum (Mann-Whitney U) test.
    arms : sequence, optional
        Arm labels (default: the mapping's keys, else positions).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PAIRWISE_TEST_COLUMNS`, one row per pair.
    """
    if isinstance(groups, Mapping):
        if arms is not None:
            raise ValueError("arms= labels a sequence of groups; a mapping has its own labels")
        labels = list(groups.keys())
        values = [groups[a] for a in labels]
    else:
        values = list(groups)
        labels = list(range(len(values))) if arms is None else list(arms)
    if len(values) != len(labels):
        raise ValueError(f"{len(labels)} arm labels for {len(values)} groups")
    chosen = resolve_pairs(labels, reference, pairs)
    results = [compare_continuous([values[t], values[r]], test=test) for t, r in chosen]
    return _frame(labels, chosen, results)

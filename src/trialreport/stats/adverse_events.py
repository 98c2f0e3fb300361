"""Adverse-event comparisons as in the field's reference CSR safety tables.

For every row of an incidence table (any TEAE, each system organ class, each preferred
term) and every treatment arm against a reference arm: the subjects with / without the
event are compared by Fisher's exact test (two-sided), and the risk difference
(treatment - reference) is given in percentage points with its confidence interval. This
is the layout of the CDISC pilot's AE table (Table 14-5.01, "Fisher's exact p-values",
re-created in the R Consortium submission pilot 1) and of the FDA Standard Safety Tables
(risk difference with 95% CI).

Everything is vectorised over rows and arm pairs (a pooled safety database has thousands
of preferred terms): p-values by :func:`.categorical.fisher_exact_2x2_many` (equal to
:func:`scipy.stats.fisher_exact` table by table), intervals by
:func:`.proportions.risk_difference_many` (statsmodels for Newcombe and Wald).
P-values are not adjusted for multiplicity.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from ._arms import Pair, resolve_pairs
from .categorical import FISHER, fisher_exact_2x2_many
from .proportions import difference_label, risk_difference_many

__all__ = ["AE_COLUMNS", "ae_comparisons"]

#: Columns of :func:`ae_comparisons`, in order.
AE_COLUMNS: tuple[str, ...] = (
    "row", "arm", "reference", "n", "N", "n_reference", "N_reference",
    "estimate", "lower", "upper", "pvalue", "conf_level", "method", "test",
)


def _labels(given: Sequence[Hashable] | None, default: Sequence[Hashable], what: str,
            size: int) -> list[Hashable]:
    labels = list(default) if given is None else list(given)
    if len(labels) != size:
        raise ValueError(f"{len(labels)} {what} labels for {size} {what}s")
    return labels


def _scalar(value):
    """A NumPy scalar as the plain Python value, for error messages."""
    return value.item() if isinstance(value, np.generic) else value


def _count_matrix(subjects) -> tuple[np.ndarray, list[Hashable], list[Hashable]]:
    if isinstance(subjects, pd.DataFrame):
        rows, arms = list(subjects.index), list(subjects.columns)
        values = subjects.to_numpy()
    else:
        values = np.asarray(subjects)
        if values.ndim != 2:
            raise ValueError(f"subjects must be a 2-D table [rows, arms], got shape {values.shape}")
        rows, arms = list(range(values.shape[0])), list(range(values.shape[1]))
    try:
        as_float = values.astype(float)
    except (TypeError, ValueError):
        raise ValueError("subjects must hold counts (numbers)") from None
    bad = ~np.isfinite(as_float) | (as_float < 0) | (as_float != np.round(as_float))
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        cell = _scalar(values[i, j])
        raise ValueError(f"subjects: row {rows[i]!r}, arm {arms[j]!r}: {cell!r} is not a "
                         "count (a non-negative whole number)")
    return as_float.astype(np.int64), rows, arms


def _denominators(N, arms: list[Hashable], labelled: bool) -> np.ndarray:
    if isinstance(N, Mapping | pd.Series):
        keys = list(N.keys())
        missing = [a for a in arms if a not in keys]
        extra = [k for k in keys if k not in arms]
        if missing or extra:
            raise ValueError(f"N must give exactly the arms {arms!r}; missing {missing!r}, "
                             f"unknown {extra!r}")
        values = np.array([N[a] for a in arms])
    else:
        values = np.asarray(N)
        if values.ndim != 1 or len(values) != len(arms):
            raise ValueError(f"N must hold one count per arm ({len(arms)}), got shape "
                             f"{values.shape}" + (" (or pass a mapping by arm label)" if labelled
                                                  else ""))
    as_float = values.astype(float)
    bad = ~np.isfinite(as_float) | (as_float < 0) | (as_float != np.round(as_float))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise ValueError(f"N: arm {arms[j]!r}: {_scalar(values[j])!r} is not a count")
    return as_float.astype(np.int64)


def ae_comparisons(
    subjects,
    N,
    reference: Hashable | None = None,
    *,
    pairs: Sequence[Pair] | None = None,
    conf_level: float = 0.95,
    difference_method: str = "newcombe",
    rows: Sequence[Hashable] | None = None,
    arms: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """Fisher's exact p-value and risk difference for every AE row and arm pair.

    Parameters
    ----------
    subjects : array-like of int, shape (rows, arms), or pandas.DataFrame
        Number of subjects with the event, one row per table row (any TEAE, SOC, PT...),
        one column per arm. A DataFrame's index and columns give the row and arm labels.
    N : array-like of int, shape (arms,), or mapping / Series by arm label
        Subjects per arm (the denominators, e.g. the safety population).
    reference : arm label or 0-based position, optional
        Compare every other arm with this arm. Give this or ``pairs``.
    pairs : sequence of (treatment, reference), optional
        The comparisons to make, in order (arm labels or positions; see
        :func:`._arms.resolve_arm`). Give this or ``reference``.
    conf_level : float
        Confidence level of the risk-difference interval (default 0.95).
    difference_method : {"newcombe", "wald", "miettinen-nurminen", "mee"}
        Interval for the risk difference (:func:`.proportions.risk_difference_many`).
        Default ``"newcombe"``: Newcombe's hybrid score interval, which stays inside
        [-100, 100], is not degenerate for rows with no events and has near-nominal
        coverage for rare events (Newcombe 1998). ``"wald"``: the simple normal
        approximation some sponsors use (zero width when neither arm has the event).
    rows, arms : sequence, optional
        Row and arm labels (default: the DataFrame's index/columns, else positions).

    Returns
    -------
    pandas.DataFrame
        One row per (table row, pair), table rows in input order and pairs in order
        within each row; columns :data:`AE_COLUMNS`: ``row``, ``arm`` (treatment),
        ``reference``, ``n``, ``N``, ``n_reference``, ``N_reference`` (counts),
        ``estimate``, ``lower``, ``upper`` (risk difference treatment - reference and its
        limits, **in percentage points**; the estimate is the correctly rounded value of
        the exact fraction, so display ties round like :func:`fmt_pct`), ``pvalue``
        (Fisher's exact, two-sided, unadjusted; 1.0 for a row with no events in either
        arm), ``conf_level``, ``method`` (interval name), ``test`` (p-value name).

    Raises
    ------
    ValueError
        Naming the row and arm, for a count that is not a non-negative whole number, a
        count above its arm's N, or an arm with N = 0 in a comparison; and for an unknown
        or repeated arm, or a pair of an arm with itself.

    References
    ----------
    CDISC SDS/ADaM Pilot Project (2008), Table 14-5.01 "Incidence of Treatment Emergent
    Adverse Events by Treatment Group" (Fisher's exact p-values against placebo).
    FDA (2022). Standard Safety Tables and Figures: Integrated Guide.
    Newcombe RG (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890.
    """
    counts, default_rows, default_arms = _count_matrix(subjects)
    row_labels = _labels(rows, default_rows, "row", counts.shape[0])
    arm_labels = _labels(arms, default_arms, "arm", counts.shape[1])
    denominators = _denominators(N, arm_labels, isinstance(subjects, pd.DataFrame))
    pair_index = resolve_pairs(arm_labels, reference, pairs)
    used = sorted({j for pair in pair_index for j in pair})
    for j in used:
        if denominators[j] == 0:
            raise ValueError(f"arm {arm_labels[j]!r} has no subjects (N = 0): it cannot be "
                             "compared")
        over = np.flatnonzero(counts[:, j] > denominators[j])
        if over.size:
            i = int(over[0])
            raise ValueError(f"subjects: row {row_labels[i]!r}, arm {arm_labels[j]!r}: "
                             f"{counts[i, j]} subjects with the event but N = "
                             f"{denominators[j]}")
    treat = np.array([t for t, _ in pair_index], dtype=np.int64)
    ref = np.array([r for _, r in pair_index], dtype=np.int64)
    n1, n2 = counts[:, treat], counts[:, ref]  # shape (rows, pairs)
    big1 = np.broadcast_to(denominators[treat], n1.shape)
    big2 = np.broadcast_to(denominators[ref], n2.shape)
    pvalue = fisher_exact_2x2_many(n1, big1, n2, big2)
    _, lower, upper = risk_difference_many(n1, big1, n2, big2, conf_level, difference_method)
    # exact fraction, one correctly rounded division (integers well below 2**53)
    estimate = (100 * (n1 * big2 - n2 * big1)) / (big1 * big2)
    n_rows, n_pairs = n1.shape
    label = f"{difference_label(difference_method)} {_pct(conf_level)} CI"
    frame = pd.DataFrame({
        "row": np.repeat(np.array(row_labels, dtype=object), n_pairs),
        "arm": np.tile(np.array([arm_labels[t] for t in treat], dtype=object), n_rows),
        "reference": np.tile(np.array([arm_labels[r] for r in ref], dtype=object), n_rows),
        "n": n1.ravel(), "N": big1.ravel(), "n_reference": n2.ravel(),
        "N_reference": big2.ravel(),
        "estimate": estimate.ravel(), "lower": 100.0 * lower.ravel(),
        "upper": 100.0 * upper.ravel(), "pvalue": pvalue.ravel(),
        "conf_level": float(conf_level), "method": label, "test": FISHER,
    })
    return frame.loc[:, list(AE_COLUMNS)]


def _pct(conf_level: float) -> str:
    """``0.95`` -> ``"95%"`` (exact in decimal: ``0.975`` -> ``"97.5%"``)."""
    return f"{(Decimal(repr(float(conf_level))) * 100).normalize():f}%"

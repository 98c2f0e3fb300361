"""Descriptive statistics for continuous variables.

Vectorised with NumPy: no Python loop runs over subjects. :func:`describe_by` splits one
array by group with a single sort and loops over groups only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["STAT_NAMES", "describe", "describe_by"]

STAT_NAMES: tuple[str, ...] = ("n", "nmiss", "mean", "sd", "median", "q1", "q3", "min", "max")


def as_float_array(x) -> np.ndarray:
    """1-D float array with NaN for missing (None, NaN, ``pd.NA``, nullable dtypes)."""
    try:
        return np.asarray(x, dtype=float).ravel()
    except TypeError:
        s = pd.to_numeric(pd.Series(np.asarray(x, dtype=object).ravel()), errors="raise")
        return s.to_numpy(dtype=float, na_value=np.nan)


def describe(x: Sequence[float], quantile_method: str = "linear") -> dict[str, float]:
    """Summary statistics of one sample, ignoring missing values.

    Parameters
    ----------
    x : array-like of float
        Values in the variable's own units; NaN (or None) marks a missing value.
    quantile_method : str
        Passed to :func:`numpy.quantile` as ``method``. The default ``"linear"`` is
        Hyndman & Fan (1996) definition 7, the default of NumPy, pandas and R. SAS
        PROC MEANS/UNIVARIATE default (QNTLDEF=5) is Hyndman & Fan definition 2,
        ``"averaged_inverted_cdf"``.

    Returns
    -------
    dict
        ``n`` (non-missing count), ``nmiss`` (missing count), ``mean``, ``sd``
        (sample standard deviation, ddof=1; NaN when n < 2), ``median``, ``q1``,
        ``q3`` (25th/75th percentiles), ``min``, ``max`` -- all floats, statistics in
        the units of ``x``. With no non-missing value every statistic except the two
        counts is NaN.

    References
    ----------
    Hyndman RJ, Fan Y (1996). Sample quantiles in statistical packages. Am Stat
    50:361-365.
    """
    a = as_float_array(x)
    missing = np.isnan(a)
    v = a[~missing]
    n = int(v.size)
    out = dict.fromkeys(STAT_NAMES, float("nan"))
    out["n"] = float(n)
    out["nmiss"] = float(missing.sum())
    if n == 0:
        return out
    q1, median, q3 = np.quantile(v, [0.25, 0.5, 0.75], method=quantile_method)
    out.update(
        mean=float(v.mean()),
        sd=float(v.std(ddof=1)) if n > 1 else float("nan"),
        median=float(median),
        q1=float(q1),
        q3=float(q3),
        min=float(v.min()),
        max=float(v.max()),
    )
    return out


def describe_by(
    values: Sequence[float],
    groups: Sequence,
    levels: Sequence | None = None,
    quantile_method: str = "linear",
) -> pd.DataFrame:
    """:func:`describe` for each group: one row per group, columns :data:`STAT_NAMES`.

    Parameters
    ----------
    values : array-like of float
        One value per subject (NaN = missing).
    groups : array-like
        Group label per subject, same length as ``values``.
    levels : sequence, optional
        Groups to report, in order; a level with no subjects gives ``n = 0`` and NaN
        statistics. Default: the sorted distinct labels present.
    quantile_method : str
        See :func:`describe`.

    Returns
    -------
    pandas.DataFrame
        Indexed by group.
    """
    v = as_float_array(values)
    g = pd.Categorical(np.asarray(groups).ravel(), categories=levels)
    if len(g) != len(v):
        raise ValueError(f"values and groups differ in length: {len(v)} vs {len(g)}")
    codes = g.codes
    order = np.argsort(codes, kind="stable")
    cuts = np.searchsorted(codes[order], np.arange(len(g.categories) + 1))
    rows = [
        describe(v[order[cuts[i] : cuts[i + 1]]], quantile_method) for i in range(len(g.categories))
    ]
    return pd.DataFrame(rows, index=pd.Index(g.categories, name="group"), columns=STAT_NAMES)

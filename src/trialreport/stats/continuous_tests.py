"""Between-group tests for continuous variables: rank tests, t-test and one-way ANOVA.

All tests are two-sided and run by pingouin (:func:`pingouin.mwu`,
:func:`pingouin.kruskal`, :func:`pingouin.anova`, :func:`pingouin.welch_anova`,
:func:`pingouin.ttest`), with pingouin's display rounding switched off
(:func:`._libs.pingouin_exact`). Missing values (NaN) are dropped; a group with no
non-missing value is dropped (it carries no information). A test that cannot be
computed — fewer than two non-empty groups, no variability, no residual degrees of
freedom — returns NaN statistic and p-value ("NE" in tables), never an infinite F.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._libs import pingouin_exact
from ._result import TestResult, nan_result
from .continuous import as_float_array

__all__ = [
    "MW_EXACT",
    "MW_NORMAL",
    "KRUSKAL",
    "ANOVA",
    "WELCH",
    "TTEST",
    "mann_whitney",
    "kruskal_wallis",
    "anova_oneway",
    "welch_anova",
    "student_t",
    "compare_continuous",
]

MW_EXACT = "Wilcoxon rank-sum (Mann-Whitney U) test, exact"
MW_NORMAL = (
    "Wilcoxon rank-sum (Mann-Whitney U) test, normal approximation "
    "with continuity and tie correction"
)
KRUSKAL = "Kruskal-Wallis test (chi-square approximation, tie-corrected)"
ANOVA = "One-way analysis of variance (F test)"
WELCH = "Welch's one-way analysis of variance (F test, unequal variances)"
TTEST = "Student's two-sample t-test (pooled variance, two-sided)"

# pingouin.mwu also computes two effect sizes (which we do not report) from the full
# n1 x n2 matrix of pairwise differences: memory and time grow with n1 * n2 (~0.5 GB and
# ~1 s at 5,000 x 5,000, against milliseconds for the test itself). Its U and p-value are
# those of the scipy.stats.mannwhitneyu call it makes; above this many pairs (~1,000 per
# arm) we make that same call directly, so the result is identical and time and memory
# stay bounded (tested in tests/test_stats_continuous_tests.py).
_PINGOUIN_MWU_MAX_PAIRS = 1_000_000


def _clean(x) -> np.ndarray:
    a = as_float_array(x)
    return a[~np.isnan(a)]


def _non_empty(groups: Sequence[Sequence[float]]) -> list[np.ndarray]:
    return [g for g in (_clean(g) for g in groups) if len(g)]


def _long(groups: list[np.ndarray]) -> pd.DataFrame:
    """pingouin's long format: one row per value, ``y`` the value, ``g`` the group index."""
    return pd.DataFrame({"y": np.concatenate(groups),
                         "g": np.repeat(np.arange(len(groups)), [len(g) for g in groups])})


# --------------------------------------------------------------------------------------
# rank tests
# --------------------------------------------------------------------------------------


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """Two-sided Wilcoxon rank-sum (Mann-Whitney U) test of two independent samples.

    NaNs are dropped. The exact null distribution of U is used when both samples have
    fewer than 50 observations and there are no ties (the rule of R ``wilcox.test``);
    otherwise the normal approximation with tie-corrected variance and continuity
    correction (R ``wilcox.test(correct = TRUE)``, SAS PROC NPAR1WAY's default). Computed
    by :func:`pingouin.mwu`, which calls :func:`scipy.stats.mannwhitneyu`, with the
    variant chosen explicitly (``method="exact"`` or ``"asymptotic"``,
    ``use_continuity=True``) and named in ``method``.

    Returns
    -------
    TestResult
        ``statistic`` is U for ``x`` (number of pairs with x > y, ties counting 1/2).
        NaN when either sample is empty or all values are identical.

    References
    ----------
    Mann HB, Whitney DR (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Ann Math Stat 18:50-60.
    Hollander M, Wolfe DA, Chicken E (2014). Nonparametric Statistical Methods, 3rd ed.
    Wiley, section 4.1.
    """
    a, b = _clean(x), _clean(y)
    if len(a) == 0 or len(b) == 0:
        return nan_result(MW_NORMAL)
    both = np.concatenate([a, b])
    has_ties = len(np.unique(both)) < len(both)
    exact = len(a) < 50 and len(b) < 50 and not has_ties
    if not exact and np.all(both == both[0]):
        return nan_result(MW_NORMAL)
    options = dict(alternative="two-sided", use_continuity=True,
                   method="exact" if exact else "asymptotic")
    if len(a) * len(b) <= _PINGOUIN_MWU_MAX_PAIRS:
        with pingouin_exact() as pg:
            res = pg.mwu(a, b, **options)
        u, p = float(res["U_val"].iloc[0]), float(res["p_val"].iloc[0])
    else:
        res = stats.mannwhitneyu(a, b, **options)
        u, p = float(res.statistic), float(res.pvalue)
    return TestResult(u, min(p, 1.0), MW_EXACT if exact else MW_NORMAL)


def kruskal_wallis(*groups: Sequence[float]) -> TestResult:
    """Kruskal-Wallis H test for k independent samples.

    NaNs and empty groups are dropped; H is referred to a chi-square distribution with
    (k-1) degrees of freedom, with the usual correction for ties. Computed by
    :func:`pingouin.kruskal`.

    Returns
    -------
    TestResult
        ``statistic`` is the tie-corrected H, ``df = (k-1,)``. NaN when fewer than two
        non-empty groups remain or all values are identical.

    References
    ----------
    Kruskal WH, Wallis WA (1952). Use of ranks in one-criterion variance analysis.
    J Am Stat Assoc 47:583-621.
    """
    cleaned = _non_empty(groups)
    if len(cleaned) < 2:
        return nan_result(KRUSKAL)
    allv = np.concatenate(cleaned)
    if np.all(allv == allv[0]):
        return nan_result(KRUSKAL)
    with pingouin_exact() as pg:
        res = pg.kruskal(_long(cleaned), dv="y", between="g")
    return TestResult(float(res["H"].iloc[0]), float(res["p_unc"].iloc[0]), KRUSKAL,
                      (float(res["ddof1"].iloc[0]),))


# --------------------------------------------------------------------------------------
# normal-theory tests
# --------------------------------------------------------------------------------------


def _within_ss_is_zero(groups: list[np.ndarray]) -> bool:
    return all(np.all(g == g[0]) for g in groups)


def anova_oneway(*groups: Sequence[float]) -> TestResult:
    """Classical one-way analysis of variance (equal variances assumed): F test.

    Computed by :func:`pingouin.anova` (``between`` = group). NaNs and empty groups are
    dropped.

    Returns
    -------
    TestResult
        ``statistic`` is F with ``df = (k-1, n-k)``. NaN when fewer than two non-empty
        groups remain, there are no residual degrees of freedom (``n = k``), or every
        group is constant (F would be infinite or undefined).

    References
    ----------
    Fisher RA (1925). Statistical Methods for Research Workers. Oliver & Boyd.
    Montgomery DC (2017). Design and Analysis of Experiments, 9th ed. Wiley, chapter 3.
    """
    cleaned = _non_empty(groups)
    n = sum(len(g) for g in cleaned)
    if len(cleaned) < 2 or n <= len(cleaned) or _within_ss_is_zero(cleaned):
        return nan_result(ANOVA)
    with pingouin_exact() as pg:
        res = pg.anova(_long(cleaned), dv="y", between="g", detailed=False)
    row = res.iloc[0]
    return TestResult(float(row["F"]), float(row["p_unc"]), ANOVA,
                      (float(row["ddof1"]), float(row["ddof2"])))


def welch_anova(*groups: Sequence[float]) -> TestResult:
    """Welch's one-way analysis of variance (unequal variances): F test.

    Computed by :func:`pingouin.welch_anova`; for two groups it equals Welch's t-test
    (F = t^2, same p-value). NaNs and empty groups are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is Welch's F with ``df = (k-1, Welch-Satterthwaite df2)``. NaN
        when fewer than two non-empty groups remain, or a group has fewer than two
        values or no variability (its weight n/s^2 is undefined).

    References
    ----------
    Welch BL (1951). On the comparison of several mean values: an alternative approach.
    Biometrika 38:330-336.
    """
    cleaned = _non_empty(groups)
    if len(cleaned) < 2 or any(len(g) < 2 or np.all(g == g[0]) for g in cleaned):
        return nan_result(WELCH)
    with pingouin_exact() as pg:
        res = pg.welch_anova(_long(cleaned), dv="y", between="g")
    row = res.iloc[0]
    return TestResult(float(row["F"]), float(row["p_unc"]), WELCH,
                      (float(row["ddof1"]), float(row["ddof2"])))


def student_t(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """Student's two-sample t-test with pooled variance, two-sided.

    Computed by :func:`pingouin.ttest` with ``correction=False`` (no Welch correction;
    use :func:`welch_anova` for unequal variances). NaNs are dropped.

    Returns
    -------
    TestResult
        ``statistic`` is t for ``mean(x) - mean(y)`` with ``df = (n_x + n_y - 2,)``. NaN
        when a sample is empty, there are no degrees of freedom, or both samples are
        constant.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6:1-25.
    """
    a, b = _clean(x), _clean(y)
    if len(a) == 0 or len(b) == 0 or len(a) + len(b) < 3 or _within_ss_is_zero([a, b]):
        return nan_result(TTEST)
    with pingouin_exact() as pg:
        res = pg.ttest(a, b, paired=False, alternative="two-sided", correction=False)
    row = res.iloc[0]
    return TestResult(float(row["T"]), float(row["p_val"]), TTEST, (float(row["dof"]),))


# --------------------------------------------------------------------------------------
# dispatcher
# --------------------------------------------------------------------------------------

_CONTINUOUS_TESTS = {
    "mwu": "mwu",
    "mann-whitney": "mwu",
    "wilcoxon": "mwu",
    "rank-sum": "mwu",
    "kruskal": "kruskal",
    "kruskal-wallis": "kruskal",
    "anova": "anova",
    "welch": "welch",
    "welch-anova": "welch",
    "ttest": "ttest",
    "t-test": "ttest",
    "student": "ttest",
}
_TWO_GROUP_TESTS = {"mwu": mann_whitney, "ttest": student_t}
_K_GROUP_TESTS = {"kruskal": kruskal_wallis, "anova": anova_oneway, "welch": welch_anova}


def compare_continuous(groups: Sequence[Sequence[float]], test: str = "auto") -> TestResult:
    """Between-group test for a continuous variable.

    Parameters
    ----------
    groups : sequence of array-like
        One array of values per treatment group (NaN = missing), as planned.
    test : {"auto", "mwu", "kruskal", "anova", "welch", "ttest"}
        ``"auto"``: Wilcoxon rank-sum (Mann-Whitney) for two groups, Kruskal-Wallis for
        three or more (unchanged). ``"mwu"`` (aliases ``"mann-whitney"``, ``"wilcoxon"``,
        ``"rank-sum"``) and ``"ttest"`` (Student's, aliases ``"t-test"``, ``"student"``)
        need exactly two groups. ``"kruskal"`` (``"kruskal-wallis"``), ``"anova"``
        (equal variances) and ``"welch"`` (``"welch-anova"``; Welch's t-test when k = 2)
        take any number of groups. Underscores count as hyphens.

    Returns
    -------
    TestResult
    """
    groups = list(groups)
    key = str(test).strip().lower().replace("_", "-")
    if key == "auto":
        key = "mwu" if len(groups) <= 2 else "kruskal"
    chosen = _CONTINUOUS_TESTS.get(key)
    if chosen in _TWO_GROUP_TESTS:
        if len(groups) != 2:
            raise ValueError(f"test {test!r} needs exactly 2 groups, got {len(groups)}")
        return _TWO_GROUP_TESTS[chosen](groups[0], groups[1])
    if chosen in _K_GROUP_TESTS:
        return _K_GROUP_TESTS[chosen](*groups)
    raise ValueError(
        f"unknown continuous test {test!r}; use 'auto', 'mwu', 'kruskal', 'anova', "
        "'welch' or 'ttest'"
    )

"""Between-group hypothesis tests: the names analysis code imports, in one place.

The tests live in one module per family — :mod:`.categorical` (Fisher's exact, Pearson's
chi-square), :mod:`.continuous_tests` (Mann-Whitney, Kruskal-Wallis, ANOVA, Welch ANOVA,
Student's t) — and :mod:`.pairwise` (several treatment-vs-reference pairs). This module
re-exports them so that ``from trialreport.stats.comparisons import compare_categorical``
keeps working; new code may import from :mod:`trialreport.stats` directly.

Every test returns a :class:`TestResult` whose ``method`` is a human-readable name for table
footnotes. A test that cannot be computed returns NaN statistic and p-value instead of
raising; :func:`trialreport.formatting.fmt_pvalue` shows NaN as "NE". All tests are
two-sided.
"""

from __future__ import annotations

from ._result import TestResult
from .categorical import (
    CHI_SQUARE,
    FISHER,
    chi_square,
    compare_categorical,
    fisher_exact_2x2,
    fisher_exact_2x2_many,
    fisher_exact_rxc,
)
from .continuous_tests import (
    ANOVA,
    KRUSKAL,
    MW_EXACT,
    MW_NORMAL,
    TTEST,
    WELCH,
    anova_oneway,
    compare_continuous,
    kruskal_wallis,
    mann_whitney,
    student_t,
    welch_anova,
)

__all__ = [
    "ANOVA",
    "CHI_SQUARE",
    "FISHER",
    "KRUSKAL",
    "MW_EXACT",
    "MW_NORMAL",
    "TTEST",
    "WELCH",
    "TestResult",
    "anova_oneway",
    "chi_square",
    "compare_categorical",
    "compare_continuous",
    "fisher_exact_2x2",
    "fisher_exact_2x2_many",
    "fisher_exact_rxc",
    "kruskal_wallis",
    "mann_whitney",
    "student_t",
    "welch_anova",
]

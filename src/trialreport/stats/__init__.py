"""Statistical primitives for trialreport tables.

One module per family; hypothesis tests return :class:`TestResult`, intervals frozen
dataclasses with float fields, many-row computations tidy :class:`pandas.DataFrame`\\ s:

* :mod:`.proportions` -- :func:`binomial_ci` (Clopper-Pearson, Wilson) and
  :func:`risk_difference_ci` (Newcombe hybrid score, Miettinen-Nurminen, Mee);
  :func:`risk_difference_many` for arrays of tables (also Wald).
* :mod:`.categorical` -- Fisher's exact (2 x 2, many 2 x 2 at once, r x c), Pearson
  chi-square, :func:`compare_categorical`.
* :mod:`.continuous_tests` -- Wilcoxon rank-sum (Mann-Whitney), Kruskal-Wallis, one-way
  ANOVA, Welch ANOVA, Student's t, :func:`compare_continuous`.
* :mod:`.adverse_events` -- :func:`ae_comparisons`: Fisher's exact p-value and risk
  difference for every AE row and arm pair.
* :mod:`.pairwise` -- several (treatment, reference) comparisons for multi-arm trials.
* :mod:`.continuous` -- :func:`describe` / :func:`describe_by` summary statistics.
* :mod:`.comparisons` -- the test names analysis code imports (re-exports).

Libraries: pingouin (rank tests, ANOVA, Welch ANOVA, t-test, chi-square), SciPy (Fisher's
exact, hypergeometric, binomial intervals), statsmodels (Newcombe and Wald differences).
Display rounding lives in :mod:`trialreport.formatting`, not here: these functions
return unrounded floats.
"""

from ._result import TestResult
from .adverse_events import AE_COLUMNS, ae_comparisons
from .categorical import (
    chi_square,
    compare_categorical,
    fisher_exact_2x2,
    fisher_exact_2x2_many,
    fisher_exact_rxc,
)
from .continuous import STAT_NAMES, describe, describe_by
from .continuous_tests import (
    anova_oneway,
    compare_continuous,
    kruskal_wallis,
    mann_whitney,
    student_t,
    welch_anova,
)
from .pairwise import (
    PAIRWISE_TEST_COLUMNS,
    pairwise_categorical,
    pairwise_continuous,
    pairwise_proportions,
)
from .proportions import (
    Difference,
    Proportion,
    binomial_ci,
    difference_label,
    risk_difference_ci,
    risk_difference_many,
)

__all__ = [
    "AE_COLUMNS",
    "PAIRWISE_TEST_COLUMNS",
    "Difference",
    "Proportion",
    "STAT_NAMES",
    "TestResult",
    "ae_comparisons",
    "anova_oneway",
    "binomial_ci",
    "chi_square",
    "compare_categorical",
    "compare_continuous",
    "describe",
    "describe_by",
    "difference_label",
    "fisher_exact_2x2",
    "fisher_exact_2x2_many",
    "fisher_exact_rxc",
    "kruskal_wallis",
    "mann_whitney",
    "pairwise_categorical",
    "pairwise_continuous",
    "pairwise_proportions",
    "risk_difference_ci",
    "risk_difference_many",
    "student_t",
    "welch_anova",
]

"""Statistical primitives for trialreport tables.

One module per family, results as frozen dataclasses with float fields:

* :mod:`.proportions` -- :func:`binomial_ci` (Clopper-Pearson, Wilson) and
  :func:`risk_difference_ci` (Newcombe hybrid score, Miettinen-Nurminen, Mee).
* :mod:`.comparisons` -- Fisher's exact (2 x 2 and r x c), Pearson chi-square,
  Wilcoxon rank-sum (Mann-Whitney), Kruskal-Wallis, and the ``compare_*`` dispatchers.
* :mod:`.continuous` -- :func:`describe` / :func:`describe_by` summary statistics.

Display rounding lives in :mod:`trialreport.formatting`, not here: these functions
return unrounded floats.
"""

from .comparisons import (
    TestResult,
    chi_square,
    compare_categorical,
    compare_continuous,
    fisher_exact_2x2,
    fisher_exact_rxc,
    kruskal_wallis,
    mann_whitney,
)
from .continuous import STAT_NAMES, describe, describe_by
from .proportions import Difference, Proportion, binomial_ci, risk_difference_ci

__all__ = [
    "Difference",
    "Proportion",
    "STAT_NAMES",
    "TestResult",
    "binomial_ci",
    "chi_square",
    "compare_categorical",
    "compare_continuous",
    "describe",
    "describe_by",
    "fisher_exact_2x2",
    "fisher_exact_rxc",
    "kruskal_wallis",
    "mann_whitney",
    "risk_difference_ci",
]

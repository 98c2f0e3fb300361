"""Between-group tests for categorical variables: Fisher's exact test and Pearson's chi-square.

Conventions
-----------
* Contingency tables have one **row per treatment group** and one **column per
  category** (the layout of ``pd.crosstab(arm, category)``). Fisher's and the
  chi-square test are symmetric in rows and columns, so the orientation only matters
  for counting groups in :func:`compare_categorical`.
* All-zero rows (empty groups) and all-zero columns (unused categories) are removed
  before testing: they carry no information under the conditional (Fisher) model and
  would otherwise make the chi-square expected counts zero and its degrees of freedom
  wrong.
* All tests are two-sided. A test that cannot be computed (fewer than two non-empty
  groups) returns NaN statistic and p-value, shown as "NE" by
  :func:`trialreport.formatting.fmt_pvalue`.

Libraries: :func:`scipy.stats.fisher_exact` (2 x 2), :func:`pingouin.chi2_independence`
(chi-square); the exact r x c Fisher test is computed in :mod:`._fisher_rxc` because no
library has it. :func:`fisher_exact_2x2_many` evaluates many 2 x 2 tables at once (adverse
events) from the hypergeometric distribution on arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from ._counts import two_group_counts
from ._fisher_rxc import BudgetExceeded, fisher_rxc_exact_pvalue
from ._libs import pingouin_exact
from ._result import TestResult, nan_result

__all__ = [
    "FISHER",
    "CHI_SQUARE",
    "fisher_exact_2x2",
    "fisher_exact_2x2_many",
    "fisher_exact_rxc",
    "chi_square",
    "compare_categorical",
]

FISHER = "Fisher's exact test (two-sided)"
FISHER_MC = "Fisher's exact test (two-sided; Monte Carlo p-value, {n:,} simulated tables)"
CHI_SQUARE = "Pearson's chi-square test"

# scipy.stats.fisher_exact (2 x 2) counts a table as "as extreme" as the observed one when
# its probability is at most (1 + 1e-14) times the observed probability. The vectorised
# computation uses the same rule so that a table gets the same p-value on either path.
_SCIPY_FISHER_RTOL = 1e-14
_EPS = np.finfo(float).eps


def _as_table(table) -> np.ndarray:
    t = np.asarray(table)
    if t.ndim != 2:
        raise ValueError(f"table must be 2-dimensional, got shape {t.shape}")
    if t.size and (not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t != np.round(t))):
        raise ValueError("table entries must be non-negative whole numbers")
    return t.astype(np.int64)


def _drop_empty(t: np.ndarray) -> np.ndarray:
    """Remove all-zero rows and columns."""
    if t.size == 0:
        return t
    return t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]


# --------------------------------------------------------------------------------------
# Fisher's exact test, 2 x 2
# --------------------------------------------------------------------------------------


def fisher_exact_2x2(n1: int, N1: int, n2: int, N2: int) -> TestResult:
    """Fisher's exact test comparing two proportions ``n1/N1`` and ``n2/N2``.

    Two-sided conditional test: the p-value is the sum of the hypergeometric
    probabilities of all tables with the observed margins whose probability is no
    larger than that of the observed table. Computed by :func:`scipy.stats.fisher_exact`.

    Parameters
    ----------
    n1, N1 : int
        Responders and subjects in group 1.
    n2, N2 : int
        Responders and subjects in group 2.

    Returns
    -------
    TestResult
        ``statistic`` is the sample odds ratio ``n1 (N2-n2) / ((N1-n1) n2)`` (``inf``
        when a denominator cell is 0, NaN when no events or no non-events at all).
        ``pvalue`` is 1.0 when the margins allow only one table (e.g. no events in
        either group). An empty group (``N1 = 0`` or ``N2 = 0``) gives NaN.

    References
    ----------
    Fisher RA (1935). The logic of inductive inference. J R Stat Soc 98:39-82.
    Agresti A (2002). Categorical Data Analysis, 2nd ed. Wiley, section 3.5.
    """
    for n, N in ((n1, N1), (n2, N2)):
        if not 0 <= int(n) <= int(N):
            raise ValueError(f"need 0 <= n <= N, got n={n}, N={N}")
    if int(N1) == 0 or int(N2) == 0:
        return nan_result(FISHER)
    table = np.array([[n1, N1 - n1], [n2, N2 - n2]], dtype=np.int64)
    res = stats.fisher_exact(table, alternative="two-sided")
    return TestResult(float(res.statistic), min(float(res.pvalue), 1.0), FISHER)


def fisher_exact_2x2_many(n1, N1, n2, N2, *, max_cells: int = 2_000_000) -> np.ndarray:
    """Two-sided Fisher's exact p-values of many 2 x 2 tables at once.

    Table ``i`` is ``[[n1[i], N1[i] - n1[i]], [n2[i], N2[i] - n2[i]]]``. Conditional on
    its margins, ``n1`` is hypergeometric; the p-value is the total probability of the
    tables at most as probable as the observed one — the definition, the tie rule
    (relative 1e-14) and hence the values of :func:`scipy.stats.fisher_exact`, without a
    Python loop over tables (a pooled safety database has thousands of rows).

    Each table's support (``max(0, K - N2) .. min(K, N1)`` with ``K = n1 + n2``) is
    enumerated on arrays, ``max_cells`` probabilities per block. Probabilities come
    from a table of ``log(k!)`` (:func:`scipy.special.gammaln`); where a table's
    probability is so close to the observed one that the comparison is within
    floating-point error of ``log(k!)``, the comparison is decided with
    :func:`scipy.stats.hypergeom` ``.pmf`` exactly as SciPy does.

    Parameters
    ----------
    n1, N1, n2, N2 : array-like of int
        Events and subjects in group 1 and group 2 (broadcast together); ``0 <= n <= N``.
    max_cells : int
        Memory bound: probabilities evaluated per block.

    Returns
    -------
    numpy.ndarray of float
        Two-sided p-values in the broadcast shape; 1.0 when the margins allow only one
        table (no events, or only events, in both groups together); NaN when a group
        is empty (``N1 = 0`` or ``N2 = 0``).

    References
    ----------
    Fisher RA (1935). The logic of inductive inference. J R Stat Soc 98:39-82.
    Agresti A (2002). Categorical Data Analysis, 2nd ed. Wiley, section 3.5.
    """
    shape, (a, m1, c, m2) = two_group_counts(n1, N1, n2, N2)
    pvalue = np.full(a.shape, np.nan)
    ok = np.flatnonzero((m1 > 0) & (m2 > 0))
    if ok.size == 0:
        return pvalue.reshape(shape)
    a, m1, c, m2 = a[ok], m1[ok], c[ok], m2[ok]
    k = a + c
    total = m1 + m2
    lgf = gammaln(np.arange(int(total.max()) + 1, dtype=float) + 1.0)  # lgf[j] = log(j!)
    const = lgf[m1] + lgf[m2] + lgf[k] + lgf[total - k] - lgf[total]

    def log_pmf(x: np.ndarray, r: np.ndarray) -> np.ndarray:
        return const[r] - lgf[x] - lgf[m1[r] - x] - lgf[k[r] - x] - lgf[m2[r] - k[r] + x]

    rows_all = np.arange(len(a))
    log_obs = log_pmf(a, rows_all)
    # worst-case rounding error of a log-probability: a few ulps of each log(k!) term
    band = 1e3 * _EPS * (lgf[total] + 1.0)
    lo = np.maximum(0, k - m2)
    size = np.minimum(k, m1) - lo + 1
    ends = np.cumsum(size)
    out = np.empty(len(a))
    start = 0
    while start < len(a):
        first = ends[start] - size[start]
        stop = max(start + 1, int(np.searchsorted(ends, first + max_cells, side="right")))
        sz = size[start:stop]
        local = np.repeat(np.arange(stop - start), sz)
        r = local + start
        x = lo[r] + np.arange(int(sz.sum())) - np.repeat(np.cumsum(sz) - sz, sz)
        lp = log_pmf(x, r)
        diff = lp - log_obs[r]
        keep = diff < -band[r]
        close = np.flatnonzero(np.abs(diff) <= band[r])
        if close.size:  # decide near-ties as scipy does, on hypergeom.pmf
            rc = r[close]
            p_x = stats.hypergeom.pmf(x[close], total[rc], m1[rc], k[rc])
            p_obs = stats.hypergeom.pmf(a[rc], total[rc], m1[rc], k[rc])
            keep[close] = p_x <= p_obs * (1.0 + _SCIPY_FISHER_RTOL)
        block = np.bincount(local, weights=np.where(keep, np.exp(lp), 0.0),
                            minlength=stop - start)
        # every table as or more extreme (e.g. no events at all): exactly 1, as scipy
        every = np.bincount(local, weights=~keep, minlength=stop - start) == 0
        out[start:stop] = np.where(every, 1.0, block)
        start = stop
    pvalue[ok] = np.minimum(out, 1.0)
    return pvalue.reshape(shape)


# --------------------------------------------------------------------------------------
# Fisher's exact test, r x c
# --------------------------------------------------------------------------------------


def fisher_exact_rxc(
    table,
    *,
    max_work: int = 2_000_000,
    n_resamples: int = 100_000,
    seed: int = 20240101,
) -> TestResult:
    """Fisher's exact test (Freeman-Halton extension) for an r x c contingency table.

    The two-sided p-value is the total probability, under independence with both
    margins fixed (multiple hypergeometric distribution), of all tables whose
    probability does not exceed that of the observed table (relative tolerance 1e-7,
    as R ``fisher.test``). SciPy 1.17 ``fisher_exact`` has no exact r x c algorithm
    (it defaults to an *unseeded* Monte Carlo estimate), so the exact p-value is
    computed here with a network algorithm (Mehta & Patel 1983). 2 x 2 tables are
    passed to :func:`scipy.stats.fisher_exact`.

    When the exact computation would need more than ``max_work`` partial-table
    evaluations (large tables with many subjects), a Monte Carlo p-value from
    :func:`scipy.stats.fisher_exact` with ``MonteCarloMethod(n_resamples, rng=seed)``
    is returned instead; it is reproducible for a given SciPy version and ``method``
    says so.

    Parameters
    ----------
    table : array-like of int, shape (r, c)
        Counts; rows are groups, columns categories. All-zero rows/columns are dropped.
    max_work : int
        Budget for the exact algorithm before falling back to Monte Carlo.
    n_resamples, seed : int
        Monte Carlo settings for the fallback.

    Returns
    -------
    TestResult
        ``statistic`` is the probability of the observed table under the null (the
        quantity ordered by the test); ``pvalue`` as above, 1.0 when only one table has
        the observed margins (e.g. a single non-empty category). Fewer than two
        non-empty groups (rows) gives NaN.

    References
    ----------
    Freeman GH, Halton JH (1951). Note on an exact treatment of contingency, goodness
    of fit and other problems of significance. Biometrika 38:141-149.
    Mehta CR, Patel NR (1983). A network algorithm for performing Fisher's exact test in
    r x c contingency tables. J Am Stat Assoc 78:427-434.
    Agresti A (2002). Categorical Data Analysis, 2nd ed. Wiley, section 3.5.
    """
    t = _as_table(table)
    n_groups = int(np.count_nonzero(t.sum(axis=1))) if t.size else 0
    if n_groups < 2:
        return nan_result(FISHER)
    t = _drop_empty(t)
    total = int(t.sum())
    lgf_obs = (
        gammaln(t.sum(axis=1) + 1.0).sum()
        + gammaln(t.sum(axis=0) + 1.0).sum()
        - gammaln(total + 1.0)
        - gammaln(t + 1.0).sum()
    )
    prob_obs = float(np.exp(lgf_obs))
    if t.shape[1] < 2:
        return TestResult(1.0, 1.0, FISHER)
    if t.shape == (2, 2):
        res = stats.fisher_exact(t, alternative="two-sided")
        return TestResult(prob_obs, min(float(res.pvalue), 1.0), FISHER)
    try:
        p = fisher_rxc_exact_pvalue(t, max_work)
        return TestResult(prob_obs, p, FISHER)
    except BudgetExceeded:
        method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
        res = stats.fisher_exact(t, method=method)
        return TestResult(prob_obs, float(res.pvalue), FISHER_MC.format(n=n_resamples))


# --------------------------------------------------------------------------------------
# chi-square
# --------------------------------------------------------------------------------------


def chi_square(table) -> TestResult:
    """Pearson's chi-square test of independence for an r x c table.

    No continuity correction (also for 2 x 2 tables), matching the Pearson statistic
    reported first by SAS PROC FREQ and R ``chisq.test(correct = FALSE)``. Computed by
    :func:`pingouin.chi2_independence` (``correction=False``, its ``"pearson"`` row) after
    removing all-zero rows and columns; pingouin takes one record per subject, so the
    table is expanded to records first.

    Parameters
    ----------
    table : array-like of int, shape (r, c)
        Counts; rows are groups, columns categories.

    Returns
    -------
    TestResult
        ``statistic`` is X^2 with ``df = ((r-1)(c-1),)`` of the reduced table. NaN when
        fewer than two non-empty rows or columns remain.

    References
    ----------
    Pearson K (1900). On the criterion that a given system of deviations from the
    probable... Philos Mag 50:157-175.
    Agresti A (2002). Categorical Data Analysis, 2nd ed. Wiley, section 3.2.
    """
    t = _drop_empty(_as_table(table))
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        return nan_result(CHI_SQUARE)
    r, c = np.indices(t.shape)
    counts = t.ravel()
    records = pd.DataFrame({"group": np.repeat(r.ravel(), counts),
                            "category": np.repeat(c.ravel(), counts)})
    with pingouin_exact() as pg:
        _, _, res = pg.chi2_independence(records, x="group", y="category", correction=False)
    row = res.loc[res["test"] == "pearson"].iloc[0]
    return TestResult(float(row["chi2"]), float(row["pval"]), CHI_SQUARE, (float(row["dof"]),))


# --------------------------------------------------------------------------------------
# dispatcher
# --------------------------------------------------------------------------------------

_CATEGORICAL_TESTS = {
    "fisher": "fisher",
    "fisher-exact": "fisher",
    "exact": "fisher",
    "chi-square": "chi-square",
    "chisq": "chi-square",
    "chi2": "chi-square",
    "chi-squared": "chi-square",
    "pearson": "chi-square",
}


def compare_categorical(table, test: str = "auto") -> TestResult:
    """Between-group test for a categorical variable.

    Parameters
    ----------
    table : array-like of int, shape (groups, categories)
        Counts, one row per treatment group (as planned, including empty groups).
    test : {"auto", "fisher", "chi-square"}
        ``"auto"``: Fisher's exact test for two groups (2 x 2 via SciPy, 2 x c via
        :func:`fisher_exact_rxc`), Pearson's chi-square for three or more groups.
        Aliases: ``"fisher-exact"``, ``"exact"``; ``"chisq"``, ``"chi2"``,
        ``"chi-squared"``, ``"pearson"``.

    Returns
    -------
    TestResult
    """
    t = _as_table(table)
    key = str(test).strip().lower().replace("_", "-")
    if key == "auto":
        key = "fisher" if t.shape[0] <= 2 else "chi-square"
    chosen = _CATEGORICAL_TESTS.get(key)
    if chosen == "fisher":
        return fisher_exact_rxc(t)
    if chosen == "chi-square":
        return chi_square(t)
    raise ValueError(f"unknown categorical test {test!r}; use 'auto', 'fisher' or 'chi-square'")

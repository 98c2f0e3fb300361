"""Between-group hypothesis tests for categorical and continuous variables.

Every function returns a :class:`TestResult` whose ``method`` is a human-readable name
for table footnotes, e.g. ``"Fisher's exact test (two-sided)"``. A test that cannot be
computed (fewer than two non-empty groups, no variability) returns NaN statistic and
p-value instead of raising; :func:`trialreport.formatting.fmt_pvalue` shows NaN as "NE".

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
* All tests are two-sided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import gammaln

from .continuous import as_float_array

__all__ = [
    "TestResult",
    "fisher_exact_2x2",
    "fisher_exact_rxc",
    "chi_square",
    "mann_whitney",
    "kruskal_wallis",
    "compare_categorical",
    "compare_continuous",
]

_NAN = float("nan")

FISHER = "Fisher's exact test (two-sided)"
FISHER_MC = "Fisher's exact test (two-sided; Monte Carlo p-value, {n:,} simulated tables)"
CHI_SQUARE = "Pearson's chi-square test"
MW_EXACT = "Wilcoxon rank-sum (Mann-Whitney U) test, exact"
MW_NORMAL = (
    "Wilcoxon rank-sum (Mann-Whitney U) test, normal approximation "
    "with continuity and tie correction"
)
KRUSKAL = "Kruskal-Wallis test (chi-square approximation, tie-corrected)"

# R's fisher.test treats tables whose probability is within a relative 1e-7 of the
# observed table's probability as "as extreme" (guards against floating-point ties).
_REL_TOL = 1e-7


@dataclass(frozen=True)
class TestResult:
    """Result of a hypothesis test: test statistic, two-sided p-value, method name."""

    __test__ = False  # not a pytest test class

    statistic: float
    pvalue: float
    method: str


def _nan_result(method: str) -> TestResult:
    return TestResult(_NAN, _NAN, method)


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
# Fisher's exact test
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
        return _nan_result(FISHER)
    table = np.array([[n1, N1 - n1], [n2, N2 - n2]], dtype=np.int64)
    res = stats.fisher_exact(table, alternative="two-sided")
    return TestResult(float(res.statistic), min(float(res.pvalue), 1.0), FISHER)


def _compositions(total: int, caps: np.ndarray) -> np.ndarray:
    """All integer vectors x with 0 <= x <= caps and sum(x) == total, one per row."""
    r = len(caps)
    suffix = np.concatenate([np.cumsum(caps[::-1])[::-1], [0]])  # suffix[i] = sum caps[i:]
    partial = np.zeros((1, 0), dtype=np.int64)
    left = np.array([total], dtype=np.int64)
    for i in range(r - 1):
        lo = np.maximum(0, left - suffix[i + 1])
        hi = np.minimum(caps[i], left)
        cnt = hi - lo + 1
        idx = np.repeat(np.arange(len(left)), cnt)
        offs = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        xi = lo[idx] + offs
        partial = np.column_stack([partial[idx], xi])
        left = left[idx] - xi
    return np.column_stack([partial, left])


def _lagrange_max(a: np.ndarray, b: np.ndarray, lgf: np.ndarray) -> float:
    """Upper bound on max -sum(log x_ij!) over tables with row sums a, column sums b.

    Lagrangian relaxation of the row constraints with multipliers -log(a_i) (their
    optimum for large counts, where the maximising table is ~ a_i b_j / N). Each
    column subproblem max sum_i [x_i log a_i - log x_i!] s.t. sum_i x_i = b_j is solved
    exactly by the greedy (D'Hondt) allocation: x_i = floor(a_i b_j / A), then the
    remaining units go one at a time to the largest a_i / (x_i + 1). Weak duality makes
    the result a valid upper bound for any multipliers.
    """
    a = a[a > 0].astype(np.int64)
    b = b[b > 0].astype(np.int64)
    if len(a) == 0 or len(b) == 0:
        return 0.0
    big_a = int(a.sum())
    x = (a[:, None] * b[None, :]) // big_a
    short = b - x.sum(axis=0)
    cols = np.arange(len(b))
    while np.any(short > 0):
        need = short > 0
        pick = np.argmax(a[:, None] / (x + 1.0), axis=0)
        x[pick[need], cols[need]] += 1
        short = short - need
    w = np.log(a.astype(float))
    return float(-(a * w).sum() + (x * w[:, None]).sum() - lgf[x].sum())


def _spread_max(total: int, caps: np.ndarray, lgf: np.ndarray) -> float:
    """max of -sum(log x_i!) subject to sum x = total, 0 <= x <= caps (water-filling)."""
    caps = np.sort(caps)
    k = len(caps)
    value = 0.0
    left = total
    for i, cap in enumerate(caps):
        parts = k - i
        if cap * parts <= left:
            value -= lgf[cap]
            left -= cap
        else:
            q, rem = divmod(left, parts)
            return value - rem * lgf[q + 1] - (parts - rem) * lgf[q]
    return value


def _spread_min(total: int, caps: np.ndarray, lgf: np.ndarray) -> float:
    """min of -sum(log x_i!) subject to sum x = total, 0 <= x <= caps (fill largest)."""
    value = 0.0
    left = total
    for cap in np.sort(caps)[::-1]:
        take = min(cap, left)
        value -= lgf[take]
        left -= take
        if left == 0:
            break
    return value


def _future_bounds(rows: np.ndarray, cols: np.ndarray, lgf: np.ndarray) -> tuple[float, float]:
    """Upper and lower bounds on -sum(log x_ij!) over tables with margins (rows, cols).

    Upper: the tighter of the two Lagrangian bounds (relaxing row or column sums).
    Lower: each column (and, separately, each row) minimised on its own, concentrating
    its total in the largest cells; both relaxations are valid, the tighter is used.
    """
    ub = min(
        _lagrange_max(rows, cols, lgf),
        _lagrange_max(cols, rows, lgf),
        sum(_spread_max(int(b), rows, lgf) for b in cols),
        sum(_spread_max(int(a), cols, lgf) for a in rows),
    )
    lb_c = sum(_spread_min(int(b), rows, lgf) for b in cols)
    lb_r = sum(_spread_min(int(a), cols, lgf) for a in rows)
    return ub, max(lb_c, lb_r)


def _encode_rows(rows: np.ndarray) -> np.ndarray:
    """One int64 code per row of a non-negative int matrix (equal rows, equal codes)."""
    base = int(rows.max()) + 1 if rows.size else 1
    if rows.shape[1] * np.log2(base) < 62:
        weights = base ** np.arange(rows.shape[1], dtype=np.int64)
        return rows @ weights
    return np.unique(rows, axis=0, return_inverse=True)[1].ravel().astype(np.int64)


class _BudgetExceeded(Exception):
    pass


def _fisher_rxc_exact_pvalue(t: np.ndarray, max_work: int) -> float:
    """Exact Fisher(-Freeman-Halton) p-value by a network algorithm.

    Columns are processed one at a time; a node is the multiset of remaining row totals
    and carries the distinct "past" values sum(-log x!) of the partial tables that reach
    it. Mehta & Patel's bounds on the remaining ("future") part let whole sub-networks
    be counted in closed form (all completions as or more extreme) or dropped (none
    are). Raises ``_BudgetExceeded`` when more than ``max_work`` partial-table values
    would have to be kept.
    """
    if t.shape[0] > t.shape[1]:
        t = t.T
    rows = np.sort(t.sum(axis=1))
    cols = np.sort(t.sum(axis=0))
    total = int(t.sum())
    lgf = gammaln(np.arange(total + 2, dtype=float) + 1.0)  # lgf[k] = log(k!)
    log_k = lgf[rows].sum() + lgf[cols].sum() - lgf[total]
    observed = -lgf[t].sum()
    threshold = observed + np.log1p(_REL_TOL)
    key_scale = 1e9  # past values closer than 1e-9 (log scale) are merged

    # node -> (past values, multiplicities)
    nodes: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray]] = {
        tuple(rows.tolist()): (np.zeros(1), np.ones(1))
    }
    pvalue = 0.0
    n_cols = len(cols)
    for j in range(n_cols):
        rest = cols[j:]
        children_rows: list[np.ndarray] = []
        children_vals: list[np.ndarray] = []
        children_cnts: list[np.ndarray] = []
        work = dense_work = 0
        for node, (past, count) in nodes.items():
            rem = np.array(node, dtype=np.int64)
            if j == n_cols - 1:  # the last column is forced: x = rem
                value = past - lgf[rem].sum()
                hit = value <= threshold
                pvalue += float(np.sum(count[hit] * np.exp(value[hit] + log_k)))
                continue
            ub, lb = _future_bounds(rem, rest, lgf)
            log_all = lgf[rem.sum()] - lgf[rem].sum() - lgf[rest].sum()  # log sum 1/prod x!
            take_all = past + ub <= threshold
            if take_all.any():
                pvalue += float(np.sum(count[take_all] * np.exp(past[take_all] + log_all + log_k)))
            keep = ~take_all & (past + lb <= threshold)
            if not keep.any():
                continue
            past, count = past[keep], count[keep]
            comps = _compositions(int(rest[0]), rem)
            inc = -lgf[comps].sum(axis=1)
            if j == n_cols - 2:  # the last column is then forced: evaluate completions now
                inc = inc - lgf[rem[None, :] - comps].sum(axis=1)
                dense_work += len(comps) * len(past)
                if dense_work > 10 * max_work:
                    raise _BudgetExceeded
                step = max(1, 1_000_000 // len(comps))  # bound memory per block
                for k in range(0, len(past), step):
                    value = inc[:, None] + past[None, k : k + step]
                    weight = np.where(value <= threshold, np.exp(value + log_k), 0.0)
                    pvalue += float(weight.sum(axis=0) @ count[k : k + step])
                continue
            child = np.sort(rem[None, :] - comps, axis=1)
            work += len(comps) * len(past)
            if work > max_work:
                raise _BudgetExceeded
            children_rows.append(np.repeat(child, len(past), axis=0))
            children_vals.append((inc[:, None] + past[None, :]).ravel())
            children_cnts.append(np.tile(count, len(comps)))
        if not children_rows:
            break
        crow = np.concatenate(children_rows)
        cval = np.concatenate(children_vals)
        ccnt = np.concatenate(children_cnts)
        vkey = np.round(cval * key_scale).astype(np.int64)
        ncode = _encode_rows(crow)
        order = np.lexsort((vkey, ncode))
        ncode, vkey = ncode[order], vkey[order]
        new_group = np.empty(len(order), dtype=bool)
        new_group[0] = True
        new_group[1:] = (ncode[1:] != ncode[:-1]) | (vkey[1:] != vkey[:-1])
        starts = np.flatnonzero(new_group)
        merged = np.add.reduceat(ccnt[order], starts)
        vals = cval[order][starts]
        node_of = ncode[starts]
        rows_of = crow[order][starts]
        change = np.flatnonzero(node_of[1:] != node_of[:-1]) + 1
        bounds = np.concatenate([[0], change, [len(starts)]])
        nodes = {}
        for s, e in zip(bounds[:-1], bounds[1:], strict=True):
            nodes[tuple(rows_of[s].tolist())] = (vals[s:e], merged[s:e])
    return min(pvalue, 1.0)


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
        return _nan_result(FISHER)
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
        p = _fisher_rxc_exact_pvalue(t, max_work)
        return TestResult(prob_obs, p, FISHER)
    except _BudgetExceeded:
        method = stats.MonteCarloMethod(n_resamples=n_resamples, rng=np.random.default_rng(seed))
        res = stats.fisher_exact(t, method=method)
        return TestResult(prob_obs, float(res.pvalue), FISHER_MC.format(n=n_resamples))


# --------------------------------------------------------------------------------------
# chi-square
# --------------------------------------------------------------------------------------


def chi_square(table) -> TestResult:
    """Pearson's chi-square test of independence for an r x c table.

    No continuity correction (also for 2 x 2 tables), matching the Pearson statistic
    reported first by SAS PROC FREQ and R ``chisq.test(correct = FALSE)``. Computed
    by :func:`scipy.stats.chi2_contingency` after removing all-zero rows and columns.

    Parameters
    ----------
    table : array-like of int, shape (r, c)
        Counts; rows are groups, columns categories.

    Returns
    -------
    TestResult
        ``statistic`` is X^2 with (r-1)(c-1) degrees of freedom of the reduced table.
        NaN when fewer than two non-empty rows or columns remain.

    References
    ----------
    Pearson K (1900). On the criterion that a given system of deviations from the
    probable... Philos Mag 50:157-175.
    Agresti A (2002). Categorical Data Analysis, 2nd ed. Wiley, section 3.2.
    """
    t = _drop_empty(_as_table(table))
    if t.ndim != 2 or t.shape[0] < 2 or t.shape[1] < 2:
        return _nan_result(CHI_SQUARE)
    res = stats.chi2_contingency(t, correction=False)
    return TestResult(float(res.statistic), float(res.pvalue), CHI_SQUARE)


# --------------------------------------------------------------------------------------
# rank tests
# --------------------------------------------------------------------------------------


def _clean(x) -> np.ndarray:
    a = as_float_array(x)
    return a[~np.isnan(a)]


def mann_whitney(x: Sequence[float], y: Sequence[float]) -> TestResult:
    """Two-sided Wilcoxon rank-sum (Mann-Whitney U) test of two independent samples.

    NaNs are dropped. The exact null distribution of U is used when both samples have
    fewer than 50 observations and there are no ties (the rule of R ``wilcox.test``);
    otherwise the normal approximation with tie-corrected variance and continuity
    correction. Computed by :func:`scipy.stats.mannwhitneyu` with the variant chosen
    explicitly, and named in ``method``.

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
        return _nan_result(MW_NORMAL)
    both = np.concatenate([a, b])
    has_ties = len(np.unique(both)) < len(both)
    exact = len(a) < 50 and len(b) < 50 and not has_ties
    if not exact and np.all(both == both[0]):
        return _nan_result(MW_NORMAL)
    res = stats.mannwhitneyu(
        a,
        b,
        alternative="two-sided",
        use_continuity=True,
        method="exact" if exact else "asymptotic",
    )
    return TestResult(
        float(res.statistic), min(float(res.pvalue), 1.0), MW_EXACT if exact else MW_NORMAL
    )


def kruskal_wallis(*groups: Sequence[float]) -> TestResult:
    """Kruskal-Wallis H test for k independent samples.

    NaNs and empty groups are dropped; H is referred to a chi-square distribution with
    (k-1) degrees of freedom, with the usual correction for ties
    (:func:`scipy.stats.kruskal`).

    Returns
    -------
    TestResult
        ``statistic`` is the tie-corrected H. NaN when fewer than two non-empty groups
        remain or all values are identical.

    References
    ----------
    Kruskal WH, Wallis WA (1952). Use of ranks in one-criterion variance analysis.
    J Am Stat Assoc 47:583-621.
    """
    cleaned = [g for g in (_clean(g) for g in groups) if len(g)]
    if len(cleaned) < 2:
        return _nan_result(KRUSKAL)
    allv = np.concatenate(cleaned)
    if np.all(allv == allv[0]):
        return _nan_result(KRUSKAL)
    res = stats.kruskal(*cleaned)
    return TestResult(float(res.statistic), float(res.pvalue), KRUSKAL)


# --------------------------------------------------------------------------------------
# dispatchers
# --------------------------------------------------------------------------------------


def compare_categorical(table, test: str = "auto") -> TestResult:
    """Between-group test for a categorical variable.

    Parameters
    ----------
    table : array-like of int, shape (groups, categories)
        Counts, one row per treatment group (as planned, including empty groups).
    test : {"auto", "fisher", "chi-square"}
        ``"auto"``: Fisher's exact test for two groups (2 x 2 via SciPy, 2 x c via
        :func:`fisher_exact_rxc`), Pearson's chi-square for three or more groups.

    Returns
    -------
    TestResult
    """
    t = _as_table(table)
    key = str(test).strip().lower().replace("_", "-")
    if key == "auto":
        key = "fisher" if t.shape[0] <= 2 else "chi-square"
    if key in ("fisher", "fisher-exact", "exact"):
        return fisher_exact_rxc(t)
    if key in ("chi-square", "chisq", "chi2", "chi-squared", "pearson"):
        return chi_square(t)
    raise ValueError(f"unknown categorical test {test!r}; use 'auto', 'fisher' or 'chi-square'")


def compare_continuous(groups: Sequence[Sequence[float]], test: str = "auto") -> TestResult:
    """Between-group test for a continuous variable.

    Parameters
    ----------
    groups : sequence of array-like
        One array of values per treatment group (NaN = missing).
    test : {"auto", "mann-whitney", "kruskal-wallis"}
        ``"auto"``: Wilcoxon rank-sum (Mann-Whitney) for two groups, Kruskal-Wallis for
        three or more.

    Returns
    -------
    TestResult
    """
    groups = list(groups)
    key = str(test).strip().lower().replace("_", "-")
    if key == "auto":
        key = "mann-whitney" if len(groups) <= 2 else "kruskal-wallis"
    if key in ("mann-whitney", "wilcoxon", "rank-sum"):
        if len(groups) != 2:
            raise ValueError(f"Mann-Whitney needs exactly 2 groups, got {len(groups)}")
        return mann_whitney(groups[0], groups[1])
    if key in ("kruskal-wallis", "kruskal"):
        return kruskal_wallis(*groups)
    raise ValueError(
        f"unknown continuous test {test!r}; use 'auto', 'mann-whitney' or 'kruskal-wallis'"
    )

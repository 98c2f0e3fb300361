"""Confidence intervals for one binomial proportion and for a difference of two.

All proportions are on the 0-1 scale (multiply by 100 for display; see
:func:`trialreport.formatting.fmt_ci`). Results are frozen dataclasses with plain
``float`` fields. Edge cases never raise: ``0/N`` gives a lower limit of exactly 0,
``N/N`` an upper limit of exactly 1, and an empty group (``N = 0``) gives NaN for the
estimate and both limits ("not estimable").

Libraries are used where they are correct: :func:`scipy.stats.binomtest` for the
Clopper-Pearson and Wilson intervals, ``statsmodels.stats.proportion.
confint_proportions_2indep`` for the Newcombe hybrid score and Wald intervals of a
difference. The Miettinen-Nurminen (and Mee) interval is computed here because
``confint_proportions_2indep(method="score")`` (statsmodels 0.14/0.15) uses a wrong
coefficient in the restricted-MLE cubic for ``compare="diff"`` (statsmodels issue
#10269) and fails outright for several small tables (e.g. 9/10 vs 3/10, or no events in
either group). TODO: switch ``"miettinen-nurminen"`` to statsmodels once #10269 is fixed
(the reference tests in tests/test_stats_proportions.py say when it agrees).

:func:`risk_difference_many` computes differences for arrays of tables at once (adverse
events: thousands of rows).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq
from scipy.stats import binomtest, norm

from ._counts import two_group_counts
from ._libs import statsmodels_proportion

__all__ = ["Proportion", "Difference", "binomial_ci", "risk_difference_ci",
           "risk_difference_many", "difference_label"]

_NAN = float("nan")

_BINOMIAL_METHODS = {
    "clopper-pearson": "clopper-pearson",
    "exact": "clopper-pearson",
    "wilson": "wilson",
}
_BINOMIAL_LABELS = {
    "clopper-pearson": "Clopper-Pearson exact",
    "wilson": "Wilson score",
}
_DIFF_METHODS = {
    "newcombe": "newcombe",
    "newcombe-wilson": "newcombe",
    "hybrid-score": "newcombe",
    "miettinen-nurminen": "miettinen-nurminen",
    "mn": "miettinen-nurminen",
    "mee": "mee",
    "farrington-manning": "mee",
}
_DIFF_LABELS = {
    "newcombe": "Newcombe hybrid score",
    "miettinen-nurminen": "Miettinen-Nurminen score",
    "mee": "Mee score",
    "wald": "Wald",
}
# The vectorised difference also offers the Wald interval (some sponsors' AE tables use
# it); the single-table function does not, because its coverage is poor for the small
# arms and rare events of efficacy tables (Newcombe 1998).
_MANY_DIFF_METHODS = {**_DIFF_METHODS, "wald": "wald"}


@dataclass(frozen=True)
class Proportion:
    """A binomial proportion ``n/N`` with its confidence interval (0-1 scale)."""

    n: int
    N: int
    estimate: float
    lower: float
    upper: float
    method: str


@dataclass(frozen=True)
class Difference:
    """A difference of two proportions ``n1/N1 - n2/N2`` with its CI (0-1 scale)."""

    estimate: float
    lower: float
    upper: float
    method: str
    n1: int
    N1: int
    n2: int
    N2: int


def _check_count(n: int, N: int) -> tuple[int, int]:
    if isinstance(n, bool) or isinstance(N, bool):
        raise TypeError("counts must be integers, not bool")
    if float(n) != int(n) or float(N) != int(N):
        raise ValueError(f"counts must be whole numbers, got n={n!r}, N={N!r}")
    n, N = int(n), int(N)
    if N < 0 or n < 0 or n > N:
        raise ValueError(f"need 0 <= n <= N, got n={n}, N={N}")
    return n, N


def _check_conf(conf: float) -> float:
    conf = float(conf)
    if not 0.0 < conf < 1.0:
        raise ValueError(f"conf must be strictly between 0 and 1, got {conf}")
    return conf


def _lookup(method: str, table: dict[str, str], what: str) -> str:
    key = str(method).strip().lower().replace("_", "-").replace(" ", "-")
    if key not in table:
        raise ValueError(f"unknown {what} method {method!r}; choose from {sorted(set(table))}")
    return table[key]


def binomial_ci(n: int, N: int, conf: float = 0.95, method: str = "clopper-pearson") -> Proportion:
    """Two-sided confidence interval for a single binomial proportion.

    Parameters
    ----------
    n, N : int
        Number of responders and number of subjects (``0 <= n <= N``).
    conf : float
        Confidence level, e.g. 0.95.
    method : {"clopper-pearson", "wilson"}
        ``"clopper-pearson"`` (alias ``"exact"``): the exact interval from beta
        quantiles, guaranteed coverage >= ``conf``. ``"wilson"``: the score interval
        without continuity correction. Both via :meth:`scipy.stats.binomtest`
        ``.proportion_ci``.

    Returns
    -------
    Proportion
        ``estimate = n/N`` and limits on the 0-1 scale. ``n = 0`` gives a lower limit
        of exactly 0 and ``n = N`` an upper limit of exactly 1; ``N = 0`` gives NaN
        estimate and limits.

    References
    ----------
    Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated
    in the case of the binomial. Biometrika 26:404-413.
    Wilson EB (1927). Probable inference, the law of succession, and statistical
    inference. J Am Stat Assoc 22:209-212.
    Newcombe RG (1998). Two-sided confidence intervals for the single proportion:
    comparison of seven methods. Stat Med 17:857-872.
    """
    n, N = _check_count(n, N)
    conf = _check_conf(conf)
    key = _lookup(method, _BINOMIAL_METHODS, "binomial")
    label = _BINOMIAL_LABELS[key]
    if N == 0:
        return Proportion(n, N, _NAN, _NAN, _NAN, label)
    ci = binomtest(n, N).proportion_ci(
        confidence_level=conf, method="exact" if key == "clopper-pearson" else "wilson"
    )
    lower = 0.0 if n == 0 else min(max(float(ci.low), 0.0), 1.0)
    upper = 1.0 if n == N else min(max(float(ci.high), 0.0), 1.0)
    return Proportion(n, N, n / N, lower, upper, label)


# --------------------------------------------------------------------------------------
# difference of two proportions
# --------------------------------------------------------------------------------------


def _statsmodels_difference(n1, N1, n2, N2, conf: float, key: str):
    """Newcombe hybrid score (statsmodels ``"newcomb"``) or Wald limits; arrays welcome."""
    sm_method = {"newcombe": "newcomb", "wald": "wald"}[key]
    lower, upper = statsmodels_proportion().confint_proportions_2indep(
        n1, N1, n2, N2, method=sm_method, compare="diff", alpha=1.0 - conf
    )
    return np.clip(lower, -1.0, 1.0), np.clip(upper, -1.0, 1.0)


def _restricted_mle(x1: int, N1: int, x2: int, N2: int, delta: float) -> tuple[float, float]:
    """MLE of (p1, p2) under the constraint p1 - p2 = delta.

    Closed-form root of the likelihood-equation cubic, Miettinen & Nurminen (1985)
    Appendix 1; notation of Farrington & Manning (1990) eq. (A1).
    """
    p1, p2 = x1 / N1, x2 / N2
    theta = N2 / N1
    a = 1.0 + theta
    b = -(1.0 + theta + p1 + theta * p2 + delta * (theta + 2.0))
    c = delta * delta + delta * (2.0 * p1 + theta + 1.0) + p1 + theta * p2
    d = -p1 * delta * (1.0 + delta)
    v = b**3 / (27.0 * a**3) - b * c / (6.0 * a * a) + d / (2.0 * a)
    u = math.sqrt(max(b * b / (9.0 * a * a) - c / (3.0 * a), 0.0))
    if v < 0:
        u = -u
    if u == 0.0:
        p1t = -b / (3.0 * a)
    else:
        w = (math.pi + math.acos(min(max(v / u**3, -1.0), 1.0))) / 3.0
        p1t = 2.0 * u * math.cos(w) - b / (3.0 * a)
    p1t = min(max(p1t, 0.0), 1.0)
    p2t = min(max(p1t - delta, 0.0), 1.0)
    return p1t, p2t


def _score_z(x1: int, N1: int, x2: int, N2: int, delta: float, correction: bool) -> float:
    """Score statistic for H0: p1 - p2 = delta (MN with correction, Mee without)."""
    p1t, p2t = _restricted_mle(x1, N1, x2, N2, delta)
    var = p1t * (1.0 - p1t) / N1 + p2t * (1.0 - p2t) / N2
    if correction:
        n_total = N1 + N2
        var *= n_total / (n_total - 1.0)
    num = x1 / N1 - x2 / N2 - delta
    if num == 0.0:
        return 0.0
    if var <= 0.0:
        return math.copysign(1e300, num)
    return num / math.sqrt(var)


def _score_interval(
    n1: int, N1: int, n2: int, N2: int, conf: float, correction: bool
) -> tuple[float, float]:
    """Invert the score test: {delta : |z(delta)| <= z_(1-alpha/2)}."""
    q = float(norm.ppf(0.5 + conf / 2.0))
    d = n1 / N1 - n2 / N2

    def f(delta: float, target: float) -> float:
        return _score_z(n1, N1, n2, N2, delta, correction) - target

    # z(delta) decreases in delta and is 0 at the estimate, so each limit is bracketed.
    lower = -1.0 if d <= -1.0 else brentq(f, -1.0, d, args=(q,), xtol=1e-12, maxiter=500)
    upper = 1.0 if d >= 1.0 else brentq(f, d, 1.0, args=(-q,), xtol=1e-12, maxiter=500)
    return float(max(lower, -1.0)), float(min(upper, 1.0))


def risk_difference_ci(
    n1: int, N1: int, n2: int, N2: int, conf: float = 0.95, method: str = "newcombe"
) -> Difference:
    """Confidence interval for the risk difference ``p1 - p2`` of two independent groups.

    Parameters
    ----------
    n1, N1 : int
        Responders and subjects in group 1 (usually the experimental arm).
    n2, N2 : int
        Responders and subjects in group 2 (usually the control arm).
    conf : float
        Confidence level, e.g. 0.95.
    method : {"newcombe", "miettinen-nurminen", "mee"}
        ``"newcombe"``: hybrid score interval (Newcombe 1998, method 10), combining the
        two Wilson score intervals without continuity correction; closed form, computed
        by ``statsmodels`` ``confint_proportions_2indep(method="newcomb")``.
        ``"miettinen-nurminen"`` (alias ``"mn"``): inversion of the score test with
        restricted-MLE variance and the ``N/(N-1)`` factor (Newcombe's method 6; the
        SAS ``RISKDIFF(CL=MN)`` interval). ``"mee"``: the same without the ``N/(N-1)``
        factor (Mee 1984; Farrington & Manning 1990).

    Returns
    -------
    Difference
        Estimate and limits on the -1 to 1 scale. Groups with no events (one or both)
        give a proper finite interval. An empty group (``N1 = 0`` or ``N2 = 0``) gives
        NaN estimate and limits.

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890 (method 10, hybrid
    score; method 6, Miettinen-Nurminen).
    Miettinen O, Nurminen M (1985). Comparative analysis of two rates. Stat Med
    4:213-226.
    Mee RW (1984). Confidence bounds for the difference between two probabilities.
    Biometrics 40:1175-1176.
    Farrington CP, Manning G (1990). Test statistics and sample size formulae for
    comparative binomial trials with null hypothesis of non-zero risk difference or
    non-unity relative risk. Stat Med 9:1447-1454.
    """
    n1, N1 = _check_count(n1, N1)
    n2, N2 = _check_count(n2, N2)
    conf = _check_conf(conf)
    key = _lookup(method, _DIFF_METHODS, "risk-difference")
    label = _DIFF_LABELS[key]
    if N1 == 0 or N2 == 0:
        return Difference(_NAN, _NAN, _NAN, label, n1, N1, n2, N2)
    if key == "newcombe":
        lower, upper = (float(v) for v in _statsmodels_difference(n1, N1, n2, N2, conf, key))
    else:
        lower, upper = _score_interval(n1, N1, n2, N2, conf, correction=key != "mee")
    estimate = n1 / N1 - n2 / N2
    # guard against round-off pushing a limit past the estimate
    lower, upper = min(lower, estimate), max(upper, estimate)
    return Difference(float(estimate), float(lower), float(upper), label, n1, N1, n2, N2)


def difference_label(method: str) -> str:
    """Display name of a risk-difference method (``"newcombe"`` -> "Newcombe hybrid score")."""
    return _DIFF_LABELS[_lookup(method, _MANY_DIFF_METHODS, "risk-difference")]


def risk_difference_many(
    n1, N1, n2, N2, conf: float = 0.95, method: str = "newcombe"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Risk differences ``n1/N1 - n2/N2`` with confidence limits for arrays of tables.

    Parameters
    ----------
    n1, N1, n2, N2 : array-like of int
        Events and subjects in group 1 (treatment) and group 2 (reference), broadcast
        together; ``0 <= n <= N``.
    conf : float
        Confidence level, e.g. 0.95.
    method : {"newcombe", "wald", "miettinen-nurminen", "mee"}
        ``"newcombe"`` (default): hybrid score (Newcombe 1998, method 10) and ``"wald"``:
        ``p1 - p2 +/- z sqrt(p1 q1/N1 + p2 q2/N2)`` without continuity correction, both
        vectorised in ``statsmodels`` ``confint_proportions_2indep`` (``"newcomb"``,
        ``"wald"``); Wald limits are truncated to [-1, 1] (a difference of proportions
        cannot lie outside), and are ``(0, 0)`` for a row with no events in either
        group. ``"miettinen-nurminen"`` and ``"mee"`` solve :func:`risk_difference_ci`
        once per distinct table (slower).

    Returns
    -------
    estimate, lower, upper : numpy.ndarray of float
        On the -1 to 1 scale, in the broadcast shape; NaN where a group is empty
        (``N1 = 0`` or ``N2 = 0``).

    References
    ----------
    Newcombe RG (1998). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. Stat Med 17:873-890 (method 1, Wald;
    method 10, hybrid score).
    """
    conf = _check_conf(conf)
    key = _lookup(method, _MANY_DIFF_METHODS, "risk-difference")
    shape, (a, m1, c, m2) = two_group_counts(n1, N1, n2, N2)
    estimate = np.full(a.shape, np.nan)
    lower = np.full(a.shape, np.nan)
    upper = np.full(a.shape, np.nan)
    ok = (m1 > 0) & (m2 > 0)
    if ok.any():
        a, m1, c, m2 = a[ok], m1[ok], c[ok], m2[ok]
        est = a / m1 - c / m2
        if key in ("newcombe", "wald"):
            lo, hi = _statsmodels_difference(a, m1, c, m2, conf, key)
        else:
            tables, inverse = np.unique(np.column_stack([a, m1, c, m2]), axis=0,
                                        return_inverse=True)
            limits = np.array([
                _score_interval(*map(int, t), conf, correction=key != "mee") for t in tables
            ])
            lo, hi = limits[inverse.ravel(), 0], limits[inverse.ravel(), 1]
        estimate[ok] = est
        lower[ok] = np.minimum(lo, est)  # round-off must not push a limit past the estimate
        upper[ok] = np.maximum(hi, est)
    return estimate.reshape(shape), lower.reshape(shape), upper.reshape(shape)

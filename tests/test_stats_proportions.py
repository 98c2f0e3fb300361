"""Binomial and risk-difference confidence intervals against libraries and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import norm
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    score_test_proportions_2indep,
)

from trialreport.stats import Difference, Proportion, binomial_ci, risk_difference_ci
from trialreport.stats.proportions import _restricted_mle, _score_z

GRID = [
    (n, N) for N in (1, 2, 5, 10, 23, 50, 137) for n in sorted({0, 1, N // 3, N // 2, N - 1, N})
]


# ---------------------------------------------------------------- single proportion


def test_clopper_pearson_16_of_23():
    # 16/23 = 69.6% (47.1%, 86.8%). To 4 dp the limits are 0.4708 and 0.8679
    # (upper = 0.867897...; a value of 0.8680 sometimes quoted is a rounding slip).
    r = binomial_ci(16, 23)
    assert isinstance(r, Proportion)
    assert (r.n, r.N) == (16, 23)
    assert r.estimate == pytest.approx(16 / 23)
    assert r.lower == pytest.approx(0.470808, abs=5e-7)
    assert r.upper == pytest.approx(0.867897, abs=5e-7)
    assert r.method == "Clopper-Pearson exact"


@pytest.mark.parametrize(("n", "N"), GRID)
def test_clopper_pearson_matches_statsmodels_beta(n, N):
    lo, hi = proportion_confint(n, N, alpha=0.05, method="beta")
    r = binomial_ci(n, N)
    assert r.lower == pytest.approx(lo, abs=1e-10)
    assert r.upper == pytest.approx(hi, abs=1e-10)


@pytest.mark.parametrize("N", [1, 4, 10, 60])
@pytest.mark.parametrize("conf", [0.90, 0.95, 0.99])
def test_clopper_pearson_closed_form_edges(N, conf):
    alpha = 1 - conf
    zero = binomial_ci(0, N, conf)
    assert zero.lower == 0.0  # exactly
    assert zero.upper == pytest.approx(1 - (alpha / 2) ** (1 / N), rel=1e-10)
    full = binomial_ci(N, N, conf)
    assert full.upper == 1.0  # exactly
    assert full.lower == pytest.approx((alpha / 2) ** (1 / N), rel=1e-10)


@pytest.mark.parametrize(("n", "N"), GRID)
def test_wilson_matches_statsmodels_and_formula(n, N):
    lo, hi = proportion_confint(n, N, alpha=0.05, method="wilson")
    r = binomial_ci(n, N, method="wilson")
    assert r.lower == pytest.approx(lo, abs=1e-12)
    assert r.upper == pytest.approx(hi, abs=1e-12)
    z = norm.ppf(0.975)
    p = n / N
    centre = (p + z * z / (2 * N)) / (1 + z * z / N)
    half = z / (1 + z * z / N) * math.sqrt(p * (1 - p) / N + z * z / (4 * N * N))
    assert r.lower == pytest.approx(max(centre - half, 0.0), abs=1e-12)
    assert r.upper == pytest.approx(min(centre + half, 1.0), abs=1e-12)
    assert r.method == "Wilson score"


@pytest.mark.parametrize("method", ["clopper-pearson", "wilson"])
def test_binomial_empty_group_is_nan(method):
    r = binomial_ci(0, 0, method=method)
    assert (r.n, r.N) == (0, 0)
    assert math.isnan(r.estimate) and math.isnan(r.lower) and math.isnan(r.upper)


def test_binomial_bad_input():
    with pytest.raises(ValueError):
        binomial_ci(5, 4)
    with pytest.raises(ValueError):
        binomial_ci(-1, 4)
    with pytest.raises(ValueError):
        binomial_ci(1, 4, conf=1.0)
    with pytest.raises(ValueError):
        binomial_ci(1, 4, method="wald")
    with pytest.raises(ValueError):
        binomial_ci(1.5, 4)


def test_binomial_exact_alias_and_conf():
    assert binomial_ci(3, 10, method="exact") == binomial_ci(3, 10)
    assert binomial_ci(3, 10, conf=0.99).lower < binomial_ci(3, 10, conf=0.95).lower


# ---------------------------------------------------------------- risk difference

# Newcombe RG (1998) Stat Med 17:873-890, Table II, examples (a)-(h): 95% limits for
# method 10 (hybrid score, no continuity correction) and method 6 (Miettinen-Nurminen).
NEWCOMBE_TABLE_II = [
    # n1, N1, n2, N2, method 10 (lower, upper), method 6 (lower, upper)
    (56, 70, 48, 80, (0.0524, 0.3339), (0.0528, 0.3382)),
    (9, 10, 3, 10, (0.1705, 0.8090), (0.1700, 0.8406)),
    (6, 7, 2, 7, (0.0582, 0.8062), (0.0342, 0.8534)),
    (5, 56, 0, 29, (-0.0381, 0.1926), (-0.0326, 0.1933)),
    (0, 10, 0, 20, (-0.1611, 0.2775), (-0.1658, 0.2844)),
    (0, 10, 0, 10, (-0.2775, 0.2775), (-0.2879, 0.2879)),
    (10, 10, 0, 20, (0.6791, 1.0000), (0.7156, 1.0000)),
    (10, 10, 0, 10, (0.6075, 1.0000), (0.6636, 1.0000)),
]


@pytest.mark.parametrize(("n1", "N1", "n2", "N2", "m10", "m6"), NEWCOMBE_TABLE_II)
def test_newcombe_1998_table_ii_method_10(n1, N1, n2, N2, m10, m6):
    r = risk_difference_ci(n1, N1, n2, N2)
    assert isinstance(r, Difference)
    assert (r.n1, r.N1, r.n2, r.N2) == (n1, N1, n2, N2)
    assert r.estimate == pytest.approx(n1 / N1 - n2 / N2)
    assert round(r.lower, 4) == m10[0]
    assert round(r.upper, 4) == m10[1]
    assert r.method == "Newcombe hybrid score"


@pytest.mark.parametrize(("n1", "N1", "n2", "N2", "m10", "m6"), NEWCOMBE_TABLE_II)
def test_newcombe_1998_table_ii_method_6_miettinen_nurminen(n1, N1, n2, N2, m10, m6):
    r = risk_difference_ci(n1, N1, n2, N2, method="miettinen-nurminen")
    assert round(r.lower, 4) == m6[0]
    assert round(r.upper, 4) == m6[1]
    assert r.method == "Miettinen-Nurminen score"


def test_newcombe_56_70_vs_48_80_headline():
    r = risk_difference_ci(56, 70, 48, 80)
    assert r.estimate == pytest.approx(0.2)
    assert r.lower == pytest.approx(0.0524, abs=5e-5)
    assert r.upper == pytest.approx(0.3339, abs=5e-5)


GRID2 = [
    (n1, N1, n2, N2)
    for (N1, N2) in [(1, 1), (7, 9), (20, 20), (34, 34), (100, 57)]
    for n1 in sorted({0, 1, N1 // 2, N1})
    for n2 in sorted({0, N2 // 3, N2})
]


@pytest.mark.parametrize(("n1", "N1", "n2", "N2"), GRID2)
def test_newcombe_matches_statsmodels(n1, N1, n2, N2):
    lo, hi = confint_proportions_2indep(n1, N1, n2, N2, method="newcomb", compare="diff")
    r = risk_difference_ci(n1, N1, n2, N2)
    assert r.lower == pytest.approx(lo, abs=1e-10)
    assert r.upper == pytest.approx(hi, abs=1e-10)


def test_published_fagerland_lydersen_laake_values():
    # Fagerland, Lydersen & Laake (2017) Statistical Analysis of Contingency Tables,
    # ch. 4, as reproduced in the R package contingencytables' tests.
    # Perondi et al. (2004): 7/34 vs 1/34.
    nc = risk_difference_ci(7, 34, 1, 34)
    assert (round(nc.estimate, 4), round(nc.lower, 4), round(nc.upper, 4)) == (
        0.1765,
        0.0189,
        0.3404,
    )
    mee = risk_difference_ci(7, 34, 1, 34, method="mee")
    assert (round(mee.lower, 4), round(mee.upper, 4)) == (0.0284, 0.3439)
    # Ritland et al. (2007): 0/16 vs 15/72, Miettinen-Nurminen.
    mn = risk_difference_ci(0, 16, 15, 72, method="miettinen-nurminen")
    assert (round(mn.estimate, 4), round(mn.lower, 4), round(mn.upper, 4)) == (
        -0.2083,
        -0.3164,
        -0.0056,
    )


def test_miettinen_nurminen_paper_example_both_arms_zero():
    # Miettinen & Nurminen (1985) example 4 (0/10 vs 0/20), as computed by the R package
    # sasLM::RDmn1(0, 10, 0, 20): -0.1657585 to 0.2843637. sasLM stops its root search
    # early (at its limits z = 1.959952 and -1.959879); ours solve |z| = 1.959964 to
    # 1e-9, so agreement is to ~2e-5.
    r = risk_difference_ci(0, 10, 0, 20, method="mn")
    assert r.estimate == 0.0
    assert r.lower == pytest.approx(-0.1657585, abs=3e-5)
    assert r.upper == pytest.approx(0.2843637, abs=3e-5)
    q = norm.ppf(0.975)
    assert _score_z(0, 10, 0, 20, r.lower, True) == pytest.approx(q, abs=1e-9)
    assert _score_z(0, 10, 0, 20, r.upper, True) == pytest.approx(-q, abs=1e-9)


CASES_MN = [(56, 70, 48, 80), (9, 10, 3, 10), (7, 34, 1, 34), (0, 16, 15, 72), (30, 100, 20, 100)]


@pytest.mark.parametrize(("n1", "N1", "n2", "N2"), CASES_MN)
def test_score_statistic_at_zero_matches_statsmodels(n1, N1, n2, N2):
    # statsmodels' score test is correct at value=0 (pooled estimate); its restricted
    # MLE for value != 0 has a wrong coefficient (statsmodels issue #10269), so its
    # method="score" intervals are not used as a reference.
    res = score_test_proportions_2indep(
        n1, N1, n2, N2, value=0, compare="diff", correction=True, return_results=True
    )
    assert _score_z(n1, N1, n2, N2, 0.0, True) == pytest.approx(res.statistic, rel=1e-10)


@pytest.mark.parametrize(("n1", "N1", "n2", "N2"), CASES_MN + [(0, 10, 0, 20), (10, 10, 3, 9)])
@pytest.mark.parametrize("delta", [-0.6, -0.2, 0.0, 0.15, 0.45])
def test_restricted_mle_maximises_constrained_likelihood(n1, N1, n2, N2, delta):
    lo_p2, hi_p2 = max(0.0, -delta), min(1.0, 1.0 - delta)

    def negloglik(p2):
        p1 = p2 + delta
        eps = 1e-300
        return -(
            n1 * math.log(max(p1, eps))
            + (N1 - n1) * math.log(max(1 - p1, eps))
            + n2 * math.log(max(p2, eps))
            + (N2 - n2) * math.log(max(1 - p2, eps))
        )

    p1t, p2t = _restricted_mle(n1, N1, n2, N2, delta)
    assert p1t - p2t == pytest.approx(delta, abs=1e-12)
    best = minimize_scalar(
        negloglik, bounds=(lo_p2, hi_p2), method="bounded", options={"xatol": 1e-12}
    )
    assert negloglik(p2t) <= best.fun + 1e-7


@pytest.mark.parametrize(("n1", "N1", "n2", "N2"), CASES_MN)
@pytest.mark.parametrize("conf", [0.90, 0.95])
def test_mn_limits_invert_the_score_test(n1, N1, n2, N2, conf):
    q = norm.ppf(0.5 + conf / 2)
    r = risk_difference_ci(n1, N1, n2, N2, conf=conf, method="miettinen-nurminen")
    assert _score_z(n1, N1, n2, N2, r.lower, True) == pytest.approx(q, abs=1e-6)
    assert _score_z(n1, N1, n2, N2, r.upper, True) == pytest.approx(-q, abs=1e-6)


@pytest.mark.parametrize("method", ["newcombe", "miettinen-nurminen", "mee"])
def test_difference_edges(method):
    # an arm with no events
    r = risk_difference_ci(2, 40, 0, 38, method=method)
    assert r.estimate == pytest.approx(0.05)
    assert -0.06 < r.lower < 0 < r.estimate < r.upper < 0.17
    r = risk_difference_ci(5, 40, 0, 38, method=method)
    assert 0.0 < r.lower < r.estimate == 0.125 < r.upper < 0.27
    # both arms with no events: finite interval around 0, narrower with more subjects
    r = risk_difference_ci(0, 40, 0, 38, method=method)
    assert r.estimate == 0.0
    assert -0.1 < r.lower < 0 < r.upper < 0.1
    wider = risk_difference_ci(0, 10, 0, 9, method=method)
    assert wider.lower < r.lower and wider.upper > r.upper
    # all events in one arm and none in the other
    r = risk_difference_ci(12, 12, 0, 15, method=method)
    assert r.estimate == 1.0 and r.upper == 1.0 and 0.5 < r.lower < 1
    r = risk_difference_ci(0, 15, 12, 12, method=method)
    assert r.estimate == -1.0 and r.lower == -1.0 and -1 < r.upper < -0.5
    # an empty arm: not estimable, no crash
    for args in [(0, 0, 3, 10), (3, 10, 0, 0), (0, 0, 0, 0)]:
        r = risk_difference_ci(*args, method=method)
        assert math.isnan(r.estimate) and math.isnan(r.lower) and math.isnan(r.upper)


@pytest.mark.parametrize("method", ["newcombe", "miettinen-nurminen", "mee"])
def test_difference_is_antisymmetric(method):
    a = risk_difference_ci(9, 31, 4, 29, method=method)
    b = risk_difference_ci(4, 29, 9, 31, method=method)
    assert a.estimate == pytest.approx(-b.estimate)
    assert a.lower == pytest.approx(-b.upper, abs=1e-9)
    assert a.upper == pytest.approx(-b.lower, abs=1e-9)


def test_difference_bad_input():
    with pytest.raises(ValueError):
        risk_difference_ci(3, 2, 1, 5)
    with pytest.raises(ValueError):
        risk_difference_ci(1, 2, 1, 5, method="wald")
    with pytest.raises(ValueError):
        risk_difference_ci(1, 2, 1, 5, conf=0)


def test_results_are_frozen_plain_floats():
    r = risk_difference_ci(3, 10, 1, 10, method="mn")
    assert all(type(v) is float for v in (r.estimate, r.lower, r.upper))
    p = binomial_ci(3, 10)
    assert all(type(v) is float for v in (p.estimate, p.lower, p.upper))
    with pytest.raises(AttributeError):
        r.lower = 0.0  # type: ignore[misc]
    assert np.isfinite([r.lower, r.upper]).all()

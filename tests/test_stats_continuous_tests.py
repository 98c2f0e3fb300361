"""Continuous between-group tests run by pingouin: published values, SciPy, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pingouin as pg
import pytest
from scipy import stats

from trialreport.stats import (
    TestResult,
    anova_oneway,
    compare_continuous,
    kruskal_wallis,
    mann_whitney,
    student_t,
    welch_anova,
)
from trialreport.stats import continuous_tests as ct

# R datasets::PlantGrowth (Dobson 1983): dried weight of plants, three groups of 10.
CTRL = [4.17, 5.58, 5.18, 6.11, 4.50, 4.61, 5.17, 4.53, 5.33, 5.14]
TRT1 = [4.81, 4.17, 4.41, 3.59, 5.87, 3.83, 6.03, 4.89, 4.32, 4.69]
TRT2 = [6.31, 5.12, 5.54, 5.50, 5.37, 5.29, 4.92, 6.15, 5.80, 5.26]
# R datasets::sleep (Student 1908): extra hours of sleep, two groups of 10.
SLEEP1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_anova_plant_growth_published():
    # R: summary(aov(weight ~ group, PlantGrowth)): F = 4.846 on 2 and 27 df, p = 0.01591
    r = anova_oneway(CTRL, TRT1, TRT2)
    assert isinstance(r, TestResult)
    assert round(r.statistic, 3) == 4.846
    assert round(r.pvalue, 5) == 0.01591
    assert r.df == (2.0, 27.0)
    assert r.method == "One-way analysis of variance (F test)"
    ref = stats.f_oneway(CTRL, TRT1, TRT2)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)


def test_welch_anova_plant_growth_published():
    # R: oneway.test(weight ~ group, PlantGrowth): F = 5.181, num df = 2,
    # denom df = 17.128, p-value = 0.01739
    r = welch_anova(CTRL, TRT1, TRT2)
    assert round(r.statistic, 3) == 5.181
    assert round(r.df[1], 3) == 17.128
    assert round(r.pvalue, 5) == 0.01739
    assert r.method.startswith("Welch's one-way analysis of variance")
    ref = stats.f_oneway(CTRL, TRT1, TRT2, equal_var=False)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-9)


def test_kruskal_plant_growth_published():
    # R: kruskal.test(weight ~ group, PlantGrowth): chi-squared = 7.9882, df = 2, p = 0.01842
    r = kruskal_wallis(CTRL, TRT1, TRT2)
    assert round(r.statistic, 4) == 7.9882
    assert round(r.pvalue, 5) == 0.01842
    assert r.df == (2.0,)
    ref = stats.kruskal(CTRL, TRT1, TRT2)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)


def test_t_tests_sleep_published():
    # R: t.test(extra ~ group, sleep, var.equal = TRUE): t = -1.8608, df = 18, p = 0.07919
    r = student_t(SLEEP1, SLEEP2)
    assert round(r.statistic, 4) == -1.8608
    assert r.df == (18.0,)
    assert round(r.pvalue, 5) == 0.07919
    ref = stats.ttest_ind(SLEEP1, SLEEP2)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-10)
    # R: t.test(extra ~ group, sleep): Welch t = -1.8608, df = 17.776, p-value = 0.07939;
    # Welch's ANOVA of two groups is the same test (F = t^2)
    w = welch_anova(SLEEP1, SLEEP2)
    assert w.statistic == pytest.approx(1.8608134674868524**2, rel=1e-9)
    assert round(w.df[1], 3) == 17.776
    assert round(w.pvalue, 5) == 0.07939
    assert w.pvalue == pytest.approx(stats.ttest_ind(SLEEP1, SLEEP2, equal_var=False).pvalue)


def test_mann_whitney_sleep_published_with_ties():
    # R: wilcox.test(extra ~ group, sleep): W = 25.5, p-value = 0.06933 (ties: normal
    # approximation with continuity correction, as before)
    r = mann_whitney(SLEEP1, SLEEP2)
    assert r.statistic == 25.5
    assert round(r.pvalue, 5) == 0.06933
    assert r.method.endswith("with continuity and tie correction")
    ref = stats.mannwhitneyu(SLEEP1, SLEEP2, use_continuity=True, method="asymptotic")
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_pingouin_equals_scipy_on_random_samples(seed):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 60, size=3)
    groups = [rng.normal(50 + 3 * i, 5 + 4 * i, size=n).round(1) for i, n in enumerate(sizes)]
    assert anova_oneway(*groups).pvalue == pytest.approx(stats.f_oneway(*groups).pvalue,
                                                         rel=1e-9)
    assert welch_anova(*groups).pvalue == pytest.approx(
        stats.f_oneway(*groups, equal_var=False).pvalue, rel=1e-9)
    assert kruskal_wallis(*groups).pvalue == pytest.approx(stats.kruskal(*groups).pvalue,
                                                           rel=1e-9)
    x, y = groups[0], groups[1]
    assert student_t(x, y).pvalue == pytest.approx(stats.ttest_ind(x, y).pvalue, rel=1e-9)
    exact = len(np.unique(np.r_[x, y])) == len(x) + len(y) and max(len(x), len(y)) < 50
    ref = stats.mannwhitneyu(x, y, use_continuity=True,
                             method="exact" if exact else "asymptotic")
    r = mann_whitney(x, y)
    assert r.statistic == ref.statistic
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


def test_large_mann_whitney_skips_pingouin_effect_sizes_with_the_same_result(monkeypatch):
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=300), rng.normal(0.2, size=250)
    via_pingouin = mann_whitney(x, y)
    monkeypatch.setattr(ct, "_PINGOUIN_MWU_MAX_PAIRS", 10)
    direct = mann_whitney(x, y)
    assert direct == via_pingouin  # identical U, p-value and method
    res = pg.mwu(x, y, alternative="two-sided", method="asymptotic")
    assert direct.pvalue == pytest.approx(float(res["p_val"].iloc[0]), rel=1e-12)


def test_pingouin_rounding_option_does_not_reach_results():
    r0 = anova_oneway(CTRL, TRT1, TRT2)
    saved = dict(pg.options)
    pg.options["round"] = 2
    pg.options["round.column.p_unc"] = 1
    try:
        assert anova_oneway(CTRL, TRT1, TRT2) == r0
        assert kruskal_wallis(CTRL, TRT1).pvalue == pytest.approx(
            stats.kruskal(CTRL, TRT1).pvalue, rel=1e-12)
        assert pg.options["round"] == 2  # the caller's setting is restored
    finally:
        pg.options.clear()
        pg.options.update(saved)


def test_normal_theory_edges_are_not_estimable():
    assert math.isnan(anova_oneway([1.0, 2.0]).pvalue)  # one group
    assert math.isnan(anova_oneway([1.0], [2.0]).pvalue)  # no residual df
    assert math.isnan(anova_oneway([1.0, 1.0], [2.0, 2.0]).pvalue)  # F would be infinite
    assert math.isnan(welch_anova([1.0, 2.0, 3.0], [4.0]).pvalue)  # group of one
    assert math.isnan(welch_anova([1.0, 2.0, 3.0], [4.0, 4.0]).pvalue)  # zero variance
    assert math.isnan(student_t([], [1.0, 2.0]).pvalue)
    assert math.isnan(student_t([3.0, 3.0], [3.0]).pvalue)
    # missing values and empty groups are dropped, like the rank tests
    r = anova_oneway([*CTRL, np.nan], [], TRT1)
    assert r.pvalue == pytest.approx(stats.f_oneway(CTRL, TRT1).pvalue, rel=1e-10)
    assert r.df == (1.0, 18.0)
    w = welch_anova([1.0, 2.0, np.nan], [2.5, 4.0])
    assert w.pvalue == pytest.approx(stats.ttest_ind([1, 2], [2.5, 4], equal_var=False).pvalue)


@pytest.mark.parametrize(
    ("test", "expected"),
    [
        ("anova", ct.ANOVA),
        ("welch", ct.WELCH),
        ("Welch_ANOVA", ct.WELCH),
        ("kruskal", ct.KRUSKAL),
        ("kruskal-wallis", ct.KRUSKAL),
    ],
)
def test_compare_continuous_k_group_tests(test, expected):
    r = compare_continuous([CTRL, TRT1, TRT2], test=test)
    assert r.method == expected


def test_compare_continuous_two_group_tests_and_errors():
    assert compare_continuous([SLEEP1, SLEEP2]).method == mann_whitney(SLEEP1, SLEEP2).method
    assert compare_continuous([SLEEP1, SLEEP2], test="mwu") == mann_whitney(SLEEP1, SLEEP2)
    assert compare_continuous([SLEEP1, SLEEP2], test="ttest") == student_t(SLEEP1, SLEEP2)
    assert compare_continuous([SLEEP1, SLEEP2], test="t-test") == student_t(SLEEP1, SLEEP2)
    assert compare_continuous([SLEEP1, SLEEP2], test="anova").pvalue == pytest.approx(
        student_t(SLEEP1, SLEEP2).pvalue, rel=1e-10)  # ANOVA of two groups = Student's t
    with pytest.raises(ValueError, match="needs exactly 2 groups"):
        compare_continuous([CTRL, TRT1, TRT2], test="ttest")
    with pytest.raises(ValueError, match="needs exactly 2 groups"):
        compare_continuous([CTRL, TRT1, TRT2], test="mwu")
    with pytest.raises(ValueError, match="unknown continuous test"):
        compare_continuous([CTRL, TRT1], test="welch-t")

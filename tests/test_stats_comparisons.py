"""Hypothesis tests and descriptive statistics against libraries and published values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

from trialreport.stats import (
    STAT_NAMES,
    TestResult,
    chi_square,
    compare_categorical,
    compare_continuous,
    describe,
    describe_by,
    fisher_exact_2x2,
    fisher_exact_rxc,
    kruskal_wallis,
    mann_whitney,
)

# R datasets used in the fisher.test help page (Agresti 2002).
JOB = np.array([1, 2, 1, 0, 3, 3, 6, 1, 10, 10, 14, 9, 6, 7, 12, 11]).reshape(4, 4).T
MP6 = np.array(  # 6th example of Mehta & Patel (1983)
    [
        [1, 2, 2, 1, 1, 0, 1],
        [2, 0, 0, 2, 3, 0, 0],
        [0, 1, 1, 1, 2, 7, 3],
        [1, 1, 2, 0, 0, 0, 1],
        [0, 1, 1, 1, 1, 0, 0],
    ]
)


# ---------------------------------------------------------------- Fisher 2 x 2


def test_fisher_lady_tasting_tea_4_of_4_vs_0_of_4():
    # Fisher (1935): all 4 cups identified; two-sided p = 2 / C(8, 4) = 2/70.
    r = fisher_exact_2x2(4, 4, 0, 4)
    assert isinstance(r, TestResult)
    assert r.pvalue == pytest.approx(2 / 70, rel=1e-12)
    assert round(r.pvalue, 4) == 0.0286
    assert r.method == "Fisher's exact test (two-sided)"


def test_fisher_textbook_values():
    # R fisher.test help: TeaTasting 3/4 vs 1/4, two-sided p = 0.4857 (= 34/70).
    assert fisher_exact_2x2(3, 4, 1, 4).pvalue == pytest.approx(34 / 70, rel=1e-12)
    # R fisher.test help: Convictions of like-sex twins, p = 0.0005367 (tidystats fixture).
    assert fisher_exact_2x2(2, 12, 15, 18).pvalue == pytest.approx(0.000537, abs=5e-7)
    # Fagerland et al. (2017) ch. 4, Ritland et al. (2007): 0/16 vs 15/72, P = 0.06287.
    r = fisher_exact_2x2(0, 16, 15, 72)
    assert round(r.pvalue, 5) == 0.06287
    assert r.statistic == 0.0  # sample odds ratio


def test_fisher_2x2_matches_scipy_on_grid():
    rng = np.random.default_rng(11)
    for _ in range(60):
        N1, N2 = rng.integers(1, 40, size=2)
        n1, n2 = rng.integers(0, N1 + 1), rng.integers(0, N2 + 1)
        ref = stats.fisher_exact([[n1, N1 - n1], [n2, N2 - n2]])
        r = fisher_exact_2x2(n1, N1, n2, N2)
        assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


def test_fisher_2x2_edges():
    both_zero = fisher_exact_2x2(0, 30, 0, 25)  # one possible table
    assert both_zero.pvalue == 1.0
    assert math.isnan(both_zero.statistic)
    empty = fisher_exact_2x2(0, 0, 3, 10)
    assert math.isnan(empty.pvalue) and math.isnan(empty.statistic)
    with pytest.raises(ValueError):
        fisher_exact_2x2(5, 4, 1, 3)


# ---------------------------------------------------------------- Fisher r x c


def test_fisher_rxc_job_satisfaction():
    # R fisher.test(Job): p = 0.7827 (R 4.0.2 value 0.782685, tidystats fixture).
    r = fisher_exact_rxc(JOB)
    assert r.pvalue == pytest.approx(0.782685, abs=1e-6)
    assert r.method == "Fisher's exact test (two-sided)"
    # orientation does not matter
    assert fisher_exact_rxc(JOB.T).pvalue == pytest.approx(r.pvalue, rel=1e-9)


def test_fisher_rxc_mehta_patel_example():
    # R fisher.test(MP6): p = 0.03929 (tidystats fixture; exact, Cochran's conditions fail).
    assert fisher_exact_rxc(MP6).pvalue == pytest.approx(0.03929, abs=5e-6)


def _brute_force_fisher(t: np.ndarray) -> float:
    """Enumerate every table with the margins of ``t`` (free cells by itertools.product)."""
    rows, cols = t.sum(axis=1), t.sum(axis=0)
    dist = stats.random_table(rows, cols)
    p_obs = dist.pmf(t)
    r, c = t.shape
    ranges = [range(min(rows[i], cols[j]) + 1) for i in range(r - 1) for j in range(c - 1)]
    total = 0.0
    for free in itertools.product(*ranges):
        x = np.zeros((r, c), dtype=int)
        x[:-1, :-1] = np.reshape(free, (r - 1, c - 1))
        x[:-1, -1] = rows[:-1] - x[:-1, :-1].sum(axis=1)
        x[-1, :] = cols - x[:-1, :].sum(axis=0)
        if (x < 0).any():
            continue
        p = dist.pmf(x)
        if p <= p_obs * (1 + 1e-7):
            total += p
    return total


def test_fisher_rxc_matches_brute_force_enumeration():
    rng = np.random.default_rng(5)
    checked = 0
    while checked < 40:
        r, c = rng.integers(2, 4, size=2)
        t = rng.integers(0, 5, size=(r, c))
        t = t[t.sum(axis=1) > 0][:, t.sum(axis=0) > 0]
        if min(t.shape) < 2 or t.sum() > 25:
            continue
        assert fisher_exact_rxc(t).pvalue == pytest.approx(_brute_force_fisher(t), rel=1e-9), t
        checked += 1


def test_fisher_rxc_matches_scipy_full_permutation_enumeration():
    # scipy's PermutationMethod with n_resamples=inf enumerates all N! pairings: the exact
    # conditional p-value, feasible for tiny tables only.
    for t in ([[2, 1, 0], [0, 2, 2]], [[1, 2], [2, 0], [0, 2]], [[3, 0, 1], [0, 2, 1]]):
        ref = stats.fisher_exact(np.array(t), method=stats.PermutationMethod(n_resamples=np.inf))
        assert fisher_exact_rxc(t).pvalue == pytest.approx(ref.pvalue, rel=1e-9)


def test_fisher_rxc_on_2x2_equals_2x2_and_hypergeometric_statistic():
    r = fisher_exact_rxc([[7, 27], [1, 33]])
    assert r.pvalue == pytest.approx(fisher_exact_2x2(7, 34, 1, 34).pvalue, rel=1e-12)
    assert r.statistic == pytest.approx(stats.hypergeom.pmf(7, 68, 34, 8), rel=1e-9)


def test_fisher_rxc_drops_empty_rows_and_columns():
    t = np.array([[3, 0, 5, 2], [1, 0, 7, 6], [0, 0, 0, 0]])
    r = fisher_exact_rxc(t)
    assert r.pvalue == pytest.approx(fisher_exact_rxc(t[:2][:, [0, 2, 3]]).pvalue, rel=1e-12)


def test_fisher_rxc_degenerate_tables():
    assert fisher_exact_rxc([[5, 0, 0], [7, 0, 0]]).pvalue == 1.0  # one category used
    assert math.isnan(fisher_exact_rxc([[5, 3, 1], [0, 0, 0]]).pvalue)  # one group
    assert math.isnan(fisher_exact_rxc(np.zeros((2, 3), dtype=int)).pvalue)
    with pytest.raises(ValueError):
        fisher_exact_rxc([[1, -1], [2, 3]])
    with pytest.raises(ValueError):
        fisher_exact_rxc([1, 2, 3])


def test_fisher_rxc_monte_carlo_fallback_is_reproducible_and_close():
    t = np.array([[12, 7, 5, 3], [8, 10, 9, 1], [6, 6, 11, 4]])
    exact = fisher_exact_rxc(t)
    assert "Monte Carlo" not in exact.method
    mc1 = fisher_exact_rxc(t, max_work=10)
    mc2 = fisher_exact_rxc(t, max_work=10)
    assert "Monte Carlo p-value, 100,000 simulated tables" in mc1.method
    assert mc1.pvalue == mc2.pvalue  # seeded
    assert mc1.pvalue == pytest.approx(exact.pvalue, abs=0.01)
    assert mc1.statistic == pytest.approx(exact.statistic, rel=1e-12)


def test_fisher_rxc_large_two_group_table_is_exact():
    # 2 arms x 3 categories, 10,000 subjects: the exact network algorithm still applies
    # (its speed is measured by `make bench`, not asserted here).
    t = np.array([[2510, 1480, 1010], [2490, 1520, 990]])
    r = fisher_exact_rxc(t)
    assert "Monte Carlo" not in r.method
    assert r.pvalue == pytest.approx(stats.chi2_contingency(t, correction=False).pvalue, abs=0.01)


# ---------------------------------------------------------------- chi-square


def test_chi_square_published_values():
    # Fagerland et al. (2017): Pearson chi-squared for [[3,1],[1,3]]: T = 2.000, P = 0.15730.
    r = chi_square([[3, 1], [1, 3]])
    assert r.statistic == pytest.approx(2.0)
    assert round(r.pvalue, 5) == 0.15730
    assert r.method == "Pearson's chi-square test"
    # Fagerland et al. (2017) ch. 7: T = 17.562, df = 2, P = 0.00015.
    r = chi_square([[40, 25], [54, 7], [63, 10]])
    assert round(r.statistic, 3) == 17.562
    assert r.pvalue == pytest.approx(stats.chi2.sf(17.56163644276432, 2), rel=1e-9)
    assert round(r.pvalue, 5) == 0.00015


def test_chi_square_matches_scipy_and_handles_empty_margins():
    t = np.array([[20, 15, 5], [18, 22, 9], [25, 10, 12]])
    ref = stats.chi2_contingency(t, correction=False)
    r = chi_square(t)
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)
    padded = np.hstack([t, np.zeros((3, 1), dtype=int)])
    padded = np.vstack([padded, np.zeros((1, 4), dtype=int)])
    assert chi_square(padded).pvalue == pytest.approx(ref.pvalue)  # df stays (3-1)(3-1)
    assert math.isnan(chi_square([[4, 0], [6, 0]]).pvalue)
    assert math.isnan(chi_square([[4, 6], [0, 0]]).pvalue)


# ---------------------------------------------------------------- rank tests

X_R = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
Y_R = [1.15, 0.88, 0.90, 0.74, 1.21]


def test_mann_whitney_r_help_example_exact():
    # R wilcox.test help (Hollander & Wolfe): W = 35; exact two-sided p = 0.254412
    # (R 4.0.2, tidystats fixture).
    r = mann_whitney(X_R, Y_R)
    assert r.statistic == 35.0
    assert r.pvalue == pytest.approx(0.254412, abs=1e-6)
    assert r.method == "Wilcoxon rank-sum (Mann-Whitney U) test, exact"
    ref = pg.mwu(X_R, Y_R, alternative="two-sided")
    assert r.pvalue == pytest.approx(float(ref["p_val"].iloc[0]), rel=1e-12)
    assert r.statistic == float(ref["U_val"].iloc[0])


def test_mann_whitney_asymptotic_with_ties_and_large_samples():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 10, size=40).astype(float)
    y = rng.integers(1, 11, size=35).astype(float)
    r = mann_whitney(x, y)
    ref = stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")
    assert r.method.startswith("Wilcoxon rank-sum (Mann-Whitney U) test, normal approximation")
    assert r.statistic == ref.statistic and r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)
    assert r.pvalue == pytest.approx(float(pg.mwu(x, y)["p_val"].iloc[0]), rel=1e-12)
    # no ties but >= 50 per group: also the normal approximation
    a, b = rng.normal(size=60), rng.normal(0.3, size=55)
    r = mann_whitney(a, b)
    assert "normal approximation" in r.method
    ref = stats.mannwhitneyu(a, b, method="asymptotic")
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-12)


def test_mann_whitney_drops_nan_and_edges():
    r = mann_whitney([*X_R, np.nan], [np.nan, *Y_R])
    assert r.pvalue == pytest.approx(0.254412, abs=1e-6)
    assert math.isnan(mann_whitney([], [1.0, 2.0]).pvalue)
    assert math.isnan(mann_whitney([np.nan], [1.0, 2.0]).pvalue)
    assert math.isnan(mann_whitney([2.0] * 60, [2.0] * 60).pvalue)  # no variability


def test_kruskal_wallis_published_and_scipy():
    # Fagerland et al. (2017) ch. 7: ordinal 3 x 3 table, asymptotic Kruskal-Wallis
    # T = 9.162, df = 2, P = 0.010.
    n4 = np.array([[22, 4, 12], [24, 9, 10], [51, 7, 6]])
    groups = [np.repeat([1.0, 2.0, 3.0], row) for row in n4]
    r = kruskal_wallis(*groups)
    assert round(r.statistic, 3) == 9.162
    assert round(r.pvalue, 3) == 0.010
    ref = stats.kruskal(*groups)
    assert r.statistic == pytest.approx(ref.statistic) and r.pvalue == pytest.approx(ref.pvalue)
    df = pd.DataFrame({"y": np.concatenate(groups), "g": np.repeat([0, 1, 2], n4.sum(axis=1))})
    assert r.pvalue == pytest.approx(float(pg.kruskal(df, dv="y", between="g")["p_unc"].iloc[0]))


def test_kruskal_wallis_edges():
    assert math.isnan(kruskal_wallis([1.0, 2.0]).pvalue)
    assert math.isnan(kruskal_wallis([1.0, 1.0], [1.0], []).pvalue)
    # an empty arm is dropped: the remaining two groups are compared
    r = kruskal_wallis([1.0, 2.0, 3.0], [], [4.0, 5.0, 6.5])
    assert r.pvalue == pytest.approx(stats.kruskal([1.0, 2.0, 3.0], [4.0, 5.0, 6.5]).pvalue)


# ---------------------------------------------------------------- dispatchers


def test_compare_categorical_auto():
    two = compare_categorical([[12, 8], [5, 15]])
    assert two.method == "Fisher's exact test (two-sided)"
    assert two.pvalue == pytest.approx(fisher_exact_2x2(12, 20, 5, 20).pvalue)
    two_by_three = compare_categorical([[5, 8, 2], [9, 3, 4]])
    assert two_by_three.method == "Fisher's exact test (two-sided)"
    three = compare_categorical([[5, 8], [9, 3], [4, 4]])
    assert three.method == "Pearson's chi-square test"
    assert compare_categorical([[5, 8], [9, 3]], test="chi-square").method == three.method
    assert compare_categorical([[5, 8], [9, 3], [4, 4]], test="fisher").method == two.method
    with pytest.raises(ValueError):
        compare_categorical([[1, 2], [3, 4]], test="g-test")


def test_compare_continuous_auto():
    r2 = compare_continuous([X_R, Y_R])
    assert r2.pvalue == pytest.approx(0.254412, abs=1e-6)
    r3 = compare_continuous([X_R, Y_R, [1.0, 1.2, 2.2]])
    assert r3.method.startswith("Kruskal-Wallis")
    with pytest.raises(ValueError):
        compare_continuous([X_R, Y_R, Y_R], test="mann-whitney")
    with pytest.raises(ValueError, match="unknown continuous test 'median-test'"):
        compare_continuous([X_R, Y_R], test="median-test")


# ---------------------------------------------------------------- describe


def test_describe_matches_pandas():
    x = [61.0, 42.0, 103.0, np.nan, 55.5, 70.25, 48.0, np.nan, 90.0]
    d = describe(x)
    s = pd.Series(x).dropna()
    assert list(d) == list(STAT_NAMES)
    assert d["n"] == 7 and d["nmiss"] == 2
    assert d["mean"] == pytest.approx(s.mean())
    assert d["sd"] == pytest.approx(s.std(ddof=1))
    assert d["median"] == 61.0
    assert d["q1"] == pytest.approx(s.quantile(0.25))  # type 7: 48 + 0.5 * (55.5 - 48)
    assert d["q1"] == pytest.approx(51.75)
    assert d["q3"] == pytest.approx(s.quantile(0.75))
    assert (d["min"], d["max"]) == (42.0, 103.0)
    assert all(type(v) is float for v in d.values())


def test_describe_quantile_definitions():
    x = np.arange(1.0, 11.0)  # 1..10
    assert describe(x)["q1"] == pytest.approx(3.25)  # Hyndman-Fan 7
    sas5 = describe(x, quantile_method="averaged_inverted_cdf")  # SAS QNTLDEF=5
    assert (sas5["q1"], sas5["median"], sas5["q3"]) == (3.0, 5.5, 8.0)


def test_describe_edges():
    empty = describe([])
    assert empty["n"] == 0 and empty["nmiss"] == 0
    assert all(math.isnan(empty[k]) for k in STAT_NAMES[2:])
    all_missing = describe([np.nan, None])
    assert all_missing["n"] == 0 and all_missing["nmiss"] == 2
    one = describe([5.0])
    assert one["mean"] == 5.0 and math.isnan(one["sd"]) and one["q1"] == 5.0
    nullable = describe(pd.Series([1.0, pd.NA, 3.0], dtype=object))
    assert (nullable["n"], nullable["nmiss"], nullable["mean"]) == (2.0, 1.0, 2.0)
    assert describe(pd.array([4, None, 6], dtype="Int64"))["median"] == 5.0


def test_describe_by_groups():
    rng = np.random.default_rng(0)
    n = 10_000
    values = rng.normal(50, 10, size=n)
    values[rng.random(n) < 0.02] = np.nan
    arm = rng.choice(["Placebo", "Drug A", "Drug B"], size=n)
    table = describe_by(values, arm, levels=["Placebo", "Drug A", "Drug B", "Unused"])
    assert list(table.index) == ["Placebo", "Drug A", "Drug B", "Unused"]
    ref = pd.DataFrame({"v": values, "g": arm}).groupby("g")["v"]
    for g in ["Placebo", "Drug A", "Drug B"]:
        assert table.loc[g, "n"] == ref.count()[g]
        assert table.loc[g, "nmiss"] == (arm == g).sum() - ref.count()[g]
        assert table.loc[g, "mean"] == pytest.approx(ref.mean()[g])
        assert table.loc[g, "sd"] == pytest.approx(ref.std()[g])
        assert table.loc[g, "q3"] == pytest.approx(ref.quantile(0.75)[g])
    assert table.loc["Unused", "n"] == 0 and math.isnan(table.loc["Unused", "mean"])
    groups = [values[arm == g] for g in ["Placebo", "Drug A", "Drug B"]]
    kw = compare_continuous(groups)
    mw = compare_continuous(groups[:2])
    assert 0 <= kw.pvalue <= 1 and 0 <= mw.pvalue <= 1

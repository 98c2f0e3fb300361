"""Adverse-event comparisons: vectorised Fisher's exact test and risk differences against
an independent per-row computation (scipy.stats.fisher_exact, statsmodels)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from trialreport.stats import (
    AE_COLUMNS,
    ae_comparisons,
    fisher_exact_2x2,
    fisher_exact_2x2_many,
    risk_difference_ci,
    risk_difference_many,
)


def _scipy_fisher(n1, N1, n2, N2) -> np.ndarray:
    return np.array([
        stats.fisher_exact([[a, m1 - a], [c, m2 - c]]).pvalue
        for a, m1, c, m2 in zip(n1, N1, n2, N2, strict=True)
    ])


def _random_ae_table(rng, n_rows: int, N: np.ndarray) -> np.ndarray:
    """Rare and common events, zero cells, all-zero rows and rows at N."""
    risk = rng.beta(0.4, 6.0, size=(n_rows, 1)) * rng.uniform(0.5, 1.5, size=(1, len(N)))
    table = rng.binomial(N[None, :], np.clip(risk, 0, 1))
    table[rng.random(n_rows) < 0.15] = 0  # all-zero rows
    table[rng.random(n_rows) < 0.03, 0] = N[0]  # every subject of the first arm
    return table


# ---------------------------------------------------------------- Fisher, many tables


@pytest.mark.parametrize(("N1", "N2"), [(1, 1), (7, 9), (10, 10), (30, 30), (40, 38), (25, 60)])
def test_fisher_many_equals_scipy_on_every_table(N1, N2):
    # every possible table for these arm sizes; equal arms have exactly tied probabilities
    a, c = (v.ravel() for v in np.meshgrid(np.arange(N1 + 1), np.arange(N2 + 1)))
    p = fisher_exact_2x2_many(a, N1, c, N2)
    np.testing.assert_allclose(p, _scipy_fisher(a, [N1] * a.size, c, [N2] * a.size),
                               rtol=1e-9, atol=0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_fisher_many_equals_scipy_on_random_ae_tables(seed):
    rng = np.random.default_rng(seed)
    N = rng.integers(40, 400, size=3)
    table = _random_ae_table(rng, 300, N)
    for arm in (1, 2):
        p = fisher_exact_2x2_many(table[:, arm], N[arm], table[:, 0], N[0])
        ref = _scipy_fisher(table[:, arm], [N[arm]] * 300, table[:, 0], [N[0]] * 300)
        np.testing.assert_allclose(p, ref, rtol=1e-9, atol=0)
        assert (p[table[:, [0, arm]].sum(axis=1) == 0] == 1.0).all()  # no events: p = 1


def test_fisher_many_large_arms_and_blocks():
    rng = np.random.default_rng(4)
    n1 = rng.integers(0, 3000, size=40)
    n2 = rng.integers(0, 2900, size=40)
    n1[:5] = n2[:5]  # some rows with the same count in both arms
    ref = _scipy_fisher(n1, [3000] * 40, n2, [2900] * 40)
    whole = fisher_exact_2x2_many(n1, 3000, n2, 2900)
    small_blocks = fisher_exact_2x2_many(n1, 3000, n2, 2900, max_cells=500)
    np.testing.assert_allclose(whole, ref, rtol=1e-9, atol=1e-300)
    np.testing.assert_array_equal(whole, small_blocks)


def test_fisher_many_agrees_with_fisher_exact_2x2_and_keeps_shape():
    n1 = np.array([[0, 3], [7, 12]])
    p = fisher_exact_2x2_many(n1, 12, [[1, 0], [1, 5]], 15)
    assert p.shape == (2, 2)
    assert p[1, 0] == pytest.approx(fisher_exact_2x2(7, 12, 1, 15).pvalue, rel=1e-12)
    assert p[0, 1] == pytest.approx(fisher_exact_2x2(3, 12, 0, 15).pvalue, rel=1e-12)
    assert fisher_exact_2x2_many(4, 4, 0, 4) == pytest.approx(2 / 70, rel=1e-12)  # tea tasting


def test_fisher_many_edges_and_bad_input():
    p = fisher_exact_2x2_many([0, 2, 0], [0, 5, 5], [1, 0, 0], [3, 0, 5])
    assert math.isnan(p[0]) and math.isnan(p[1]) and p[2] == 1.0  # empty arm: not estimable
    assert fisher_exact_2x2_many([], [], [], []).shape == (0,)
    with pytest.raises(ValueError, match=r"n1\[1\] = 6 exceeds its number of subjects 5"):
        fisher_exact_2x2_many([1, 6], 5, [0, 0], 5)
    with pytest.raises(ValueError, match=r"n2\[0\] = -1"):
        fisher_exact_2x2_many([1], 5, [-1], 5)
    with pytest.raises(ValueError, match="not a non-negative whole number"):
        fisher_exact_2x2_many([1.5], 5, [1], 5)


# ---------------------------------------------------------------- risk differences


@pytest.mark.parametrize("method", ["newcombe", "wald"])
def test_risk_difference_many_equals_statsmodels(method):
    rng = np.random.default_rng(5)
    N = np.array([50, 47])
    table = _random_ae_table(rng, 200, N)
    est, lo, hi = risk_difference_many(table[:, 1], N[1], table[:, 0], N[0], 0.90, method)
    ref_lo, ref_hi = confint_proportions_2indep(
        table[:, 1], N[1], table[:, 0], N[0], method={"newcombe": "newcomb"}.get(method, method),
        compare="diff", alpha=0.10)
    np.testing.assert_allclose(est, table[:, 1] / N[1] - table[:, 0] / N[0], rtol=1e-12)
    np.testing.assert_allclose(lo, np.clip(ref_lo, -1, 1), atol=1e-12)
    np.testing.assert_allclose(hi, np.clip(ref_hi, -1, 1), atol=1e-12)


def test_risk_difference_many_matches_the_single_table_function():
    cases = [(56, 70, 48, 80), (9, 10, 3, 10), (0, 10, 0, 20), (10, 10, 0, 10), (5, 56, 0, 29)]
    n1, N1, n2, N2 = (np.array(v) for v in zip(*cases, strict=True))
    for method in ("newcombe", "miettinen-nurminen", "mee"):
        _, lo, hi = risk_difference_many(n1, N1, n2, N2, method=method)
        for i, case in enumerate(cases):
            one = risk_difference_ci(*case, method=method)
            assert (lo[i], hi[i]) == pytest.approx((one.lower, one.upper), abs=1e-12)


def test_wald_is_truncated_and_degenerate_without_events():
    est, lo, hi = risk_difference_many([9, 0, 3], [10, 12, 5], [1, 0, 0], [10, 15, 0], 0.95,
                                       "wald")
    z = stats.norm.ppf(0.975)
    assert hi[0] == 1.0 and lo[0] == pytest.approx(0.8 - z * math.sqrt(0.018))
    assert (est[1], lo[1], hi[1]) == (0.0, 0.0, 0.0)  # the Wald interval's known weakness
    assert math.isnan(est[2]) and math.isnan(lo[2]) and math.isnan(hi[2])  # empty arm


# ---------------------------------------------------------------- ae_comparisons


def test_ae_comparisons_against_independent_per_row_computation():
    rng = np.random.default_rng(6)
    N = np.array([86, 84, 84])
    table = _random_ae_table(rng, 120, N)
    out = ae_comparisons(table, N, reference=0)
    assert tuple(out.columns) == AE_COLUMNS
    assert len(out) == 120 * 2
    assert list(out["row"][:4]) == [0, 0, 1, 1] and list(out["arm"][:4]) == [1, 2, 1, 2]
    assert (out["reference"] == 0).all()
    for arm in (1, 2):
        part = out[out["arm"] == arm]
        n1, n2 = table[:, arm], table[:, 0]
        np.testing.assert_array_equal(part["n"], n1)
        np.testing.assert_array_equal(part["n_reference"], n2)
        np.testing.assert_allclose(part["pvalue"], _scipy_fisher(n1, [N[arm]] * 120, n2,
                                                                 [N[0]] * 120), rtol=1e-9)
        lo, hi = confint_proportions_2indep(n1, N[arm], n2, N[0], method="newcomb",
                                            compare="diff")
        np.testing.assert_allclose(part["estimate"], 100 * (n1 / N[arm] - n2 / N[0]),
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(part["lower"], 100 * lo, atol=1e-10)
        np.testing.assert_allclose(part["upper"], 100 * hi, atol=1e-10)
    assert set(out["method"]) == {"Newcombe hybrid score 95% CI"}
    assert set(out["test"]) == {"Fisher's exact test (two-sided)"}
    empty = out[(out["n"] == 0) & (out["n_reference"] == 0)]
    assert len(empty) > 0 and (empty["pvalue"] == 1.0).all() and (empty["estimate"] == 0).all()
    assert (empty["lower"] < 0).all() and (empty["upper"] > 0).all()  # a proper interval


def test_ae_comparisons_labels_pairs_and_methods():
    subjects = pd.DataFrame(
        {"Placebo": [40, 3, 0], "Low": [52, 9, 1], "High": [60, 14, 0]},
        index=["Any TEAE", "Nausea", "Rash"],
    )
    N = {"Placebo": 86, "Low": 84, "High": 84}
    out = ae_comparisons(subjects, N, pairs=[("High", "Placebo"), ("High", "Low")],
                         difference_method="wald", conf_level=0.9)
    assert list(out["row"]) == ["Any TEAE", "Any TEAE", "Nausea", "Nausea", "Rash", "Rash"]
    assert list(out["arm"]) == ["High"] * 6
    assert list(out["reference"]) == ["Placebo", "Low"] * 3
    nausea = out.iloc[3]  # High 14/84 vs Low 9/84
    assert nausea["pvalue"] == pytest.approx(fisher_exact_2x2(14, 84, 9, 84).pvalue, rel=1e-12)
    assert nausea["estimate"] == pytest.approx(100 * 5 / 84)
    lo, hi = confint_proportions_2indep(14, 84, 9, 84, method="wald", alpha=0.1)
    assert (nausea["lower"], nausea["upper"]) == pytest.approx((100 * lo, 100 * hi))
    assert nausea["method"] == "Wald 90% CI"
    # reference by label; N as a Series in another order
    by_ref = ae_comparisons(subjects, pd.Series({"High": 84, "Low": 84, "Placebo": 86}),
                            reference="Placebo")
    assert list(by_ref["arm"][:2]) == ["Low", "High"]
    mn = ae_comparisons(subjects, N, reference="Placebo", difference_method="mn")
    one = risk_difference_ci(14, 84, 3, 86, method="mn")
    row = mn[(mn["row"] == "Nausea") & (mn["arm"] == "High")].iloc[0]
    assert (row["lower"], row["upper"]) == pytest.approx((100 * one.lower, 100 * one.upper))
    assert row["method"] == "Miettinen-Nurminen score 95% CI"


def test_ae_estimate_is_the_exact_fraction_for_display_ties():
    # 1/8 - 0/10 = 12.5 percentage points exactly; 57/200 - 0/100 = 28.5 exactly (a float
    # product 0.285 * 100 would give 28.499999999999996)
    out = ae_comparisons([[0, 1, 57], [0, 0, 0]], [100, 8, 200], reference=0)
    assert list(out["estimate"][:2]) == [12.5, 28.5]


def test_ae_comparisons_errors_name_row_and_arm():
    subjects = pd.DataFrame({"A": [3, 11], "B": [1, 2]}, index=["Any", "Headache"])
    with pytest.raises(ValueError, match=r"row 'Headache', arm 'A': 11 subjects .* N = 10"):
        ae_comparisons(subjects, {"A": 10, "B": 10}, reference="B")
    with pytest.raises(ValueError, match=r"arm 'B' has no subjects \(N = 0\)"):
        ae_comparisons(subjects, {"A": 20, "B": 0}, reference="B")
    with pytest.raises(ValueError, match="unknown reference arm 'Placebo'"):
        ae_comparisons(subjects, {"A": 20, "B": 20}, reference="Placebo")
    with pytest.raises(ValueError, match="missing .*'B'"):
        ae_comparisons(subjects, {"A": 20}, reference="A")
    with pytest.raises(ValueError, match="compares arm 'A' with itself"):
        ae_comparisons(subjects, {"A": 20, "B": 20}, pairs=[("A", "A")])
    with pytest.raises(ValueError, match="exactly one of reference"):
        ae_comparisons(subjects, {"A": 20, "B": 20})
    bad = subjects.astype(float)
    bad.loc["Any", "B"] = 1.5
    with pytest.raises(ValueError, match=r"row 'Any', arm 'B': 1.5 is not a count"):
        ae_comparisons(bad, {"A": 20, "B": 20}, reference="A")
    with pytest.raises(ValueError, match="one count per arm"):
        ae_comparisons([[1, 2]], [10], reference=0)
    with pytest.raises(ValueError, match="unknown risk-difference method"):
        ae_comparisons([[1, 2]], [10, 10], reference=0, difference_method="exact")


def test_ae_comparisons_integer_arm_codes_are_labels_not_positions():
    subjects = pd.DataFrame({0: [5], 54: [9], 81: [12]})
    out = ae_comparisons(subjects, {0: 86, 54: 84, 81: 84}, reference=0)
    assert list(out["arm"]) == [54, 81]
    with pytest.raises(ValueError, match="unknown reference arm 1"):
        ae_comparisons(subjects, {0: 86, 54: 84, 81: 84}, reference=1)


def test_ae_comparisons_no_rows():
    out = ae_comparisons(np.zeros((0, 2), dtype=int), [10, 10], reference=0)
    assert out.empty and tuple(out.columns) == AE_COLUMNS

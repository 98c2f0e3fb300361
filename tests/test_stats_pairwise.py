"""Several (treatment, reference) comparisons for multi-arm trials."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialreport.stats import (
    PAIRWISE_TEST_COLUMNS,
    compare_categorical,
    fisher_exact_2x2,
    mann_whitney,
    pairwise_categorical,
    pairwise_continuous,
    pairwise_proportions,
    risk_difference_ci,
    student_t,
)
from trialreport.stats._arms import resolve_arm, resolve_pairs

ARMS = ["Placebo", "Low", "High"]


def test_resolve_pairs_reference_and_explicit_pairs():
    assert resolve_pairs(ARMS, reference="Placebo") == [(1, 0), (2, 0)]
    assert resolve_pairs(ARMS, reference=2) == [(0, 2), (1, 2)]  # position: labels are text
    assert resolve_pairs(ARMS, pairs=[("High", "Low"), (2, "Placebo")]) == [(2, 1), (2, 0)]
    with pytest.raises(ValueError, match="exactly one of"):
        resolve_pairs(ARMS)
    with pytest.raises(ValueError, match="exactly one of"):
        resolve_pairs(ARMS, reference="Placebo", pairs=[("High", "Low")])
    with pytest.raises(ValueError, match="given twice"):
        resolve_pairs(ARMS, pairs=[("High", "Low"), (2, 1)])
    with pytest.raises(ValueError, match="not a \\(treatment, reference\\) pair"):
        resolve_pairs(ARMS, pairs=["High"])
    with pytest.raises(ValueError, match="pairs is empty"):
        resolve_pairs(ARMS, pairs=[])
    with pytest.raises(ValueError, match="position 3 is out of range"):
        resolve_arm(ARMS, 3)
    with pytest.raises(ValueError, match="unknown arm 'placebo'"):
        resolve_arm(ARMS, "placebo")  # labels are exact
    with pytest.raises(ValueError, match="must be unique"):
        resolve_arm(["A", "A"], "A")
    with pytest.raises(ValueError, match="unknown arm True"):
        resolve_arm(ARMS, True)  # a bool is not a position


def test_pairwise_proportions_equals_single_table_functions():
    out = pairwise_proportions({"Placebo": 12, "Low": 20, "High": 31},
                               {"Placebo": 40, "Low": 41, "High": 39}, reference="Placebo",
                               difference_method="miettinen-nurminen")
    assert "row" not in out.columns
    assert list(out["arm"]) == ["Low", "High"]
    high = out.iloc[1]
    one = risk_difference_ci(31, 39, 12, 40, method="miettinen-nurminen")
    assert high["estimate"] == pytest.approx(100 * one.estimate)
    assert (high["lower"], high["upper"]) == pytest.approx((100 * one.lower, 100 * one.upper))
    assert high["pvalue"] == pytest.approx(fisher_exact_2x2(31, 39, 12, 40).pvalue, rel=1e-12)
    by_position = pairwise_proportions([12, 20, 31], [40, 41, 39], pairs=[(2, 1)], arms=ARMS)
    assert list(by_position["arm"]) == ["High"] and list(by_position["reference"]) == ["Low"]
    with pytest.raises(ValueError, match="a mapping has its own labels"):
        pairwise_proportions({"A": 1, "B": 2}, {"A": 5, "B": 5}, reference="A", arms=["x", "y"])


def test_pairwise_categorical():
    table = pd.DataFrame([[10, 5, 3], [6, 9, 4], [2, 8, 9]], index=ARMS,
                         columns=["Mild", "Moderate", "Severe"])
    out = pairwise_categorical(table, reference="Placebo")
    assert tuple(out.columns) == PAIRWISE_TEST_COLUMNS
    assert list(out["arm"]) == ["Low", "High"]
    ref = compare_categorical(table.to_numpy()[[2, 0]], test="fisher")
    assert out.iloc[1]["pvalue"] == pytest.approx(ref.pvalue, rel=1e-12)
    assert out.iloc[1]["method"] == "Fisher's exact test (two-sided)"
    chi = pairwise_categorical(table.to_numpy(), pairs=[(2, 1)], test="chi-square", arms=ARMS)
    assert chi.iloc[0]["method"] == "Pearson's chi-square test"
    with pytest.raises(ValueError, match="one row per arm"):
        pairwise_categorical(table.to_numpy(), reference=0, arms=["A", "B"])


def test_pairwise_continuous():
    rng = np.random.default_rng(2)
    groups = {arm: rng.normal(50 + 5 * i, 8, size=30).round(1) for i, arm in enumerate(ARMS)}
    out = pairwise_continuous(groups, pairs=[("High", "Placebo"), ("Low", "Placebo")])
    assert list(out["arm"]) == ["High", "Low"]
    assert out.iloc[0]["pvalue"] == mann_whitney(groups["High"], groups["Placebo"]).pvalue
    t = pairwise_continuous(list(groups.values()), reference=0, test="ttest", arms=ARMS)
    assert t.iloc[1]["statistic"] == student_t(groups["High"], groups["Placebo"]).statistic
    with pytest.raises(ValueError, match="2 arm labels for 3 groups"):
        pairwise_continuous(list(groups.values()), reference=0, arms=["A", "B"])

"""The project's single rounding rule and the table-cell formatters."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from trialreport import formatting
from trialreport.formatting import (
    MINUS,
    NE,
    data_decimals,
    fmt_ci,
    fmt_mean_sd,
    fmt_median_iqr,
    fmt_min_max,
    fmt_n_over_N_pct,
    fmt_n_pct,
    fmt_number,
    fmt_pct,
    fmt_pvalue,
    round_half_away,
    summary_decimals,
)

NAN = float("nan")

# (value, ndigits, expected) -- ties go away from zero on the decimal value (SAS ROUND)
ROUNDING_CASES = [
    (42.65, 1, 42.7),  # binary 42.649999... ; Python round() gives 42.6
    (2.5, 0, 3.0),  # Python round() gives 2 (banker's)
    (-2.5, 0, -3.0),
    (0.5, 0, 1.0),
    (1.5, 0, 2.0),
    (-0.5, 0, -1.0),
    (0.125, 2, 0.13),  # exact binary tie; Python round() gives 0.12
    (1.005, 2, 1.01),  # binary 1.00499999...
    (-1.005, 2, -1.01),
    (2.675, 2, 2.68),  # the Python docs' round() surprise (gives 2.67)
    (0.045, 2, 0.05),
    (1.45, 1, 1.5),
    (-1.45, 1, -1.5),
    (0.0455, 3, 0.046),
    (99.95, 1, 100.0),
    (1234.5, -1, 1230.0),
    (1235.0, -1, 1240.0),
    (0.1 + 0.2, 1, 0.3),
    (1.2344999, 3, 1.234),  # just below a tie rounds down
    (7, 0, 7.0),
    (-0.04, 1, 0.0),
]


@pytest.mark.parametrize(("x", "ndigits", "expected"), ROUNDING_CASES)
def test_round_half_away(x, ndigits, expected):
    got = round_half_away(x, ndigits)
    assert got == expected
    assert isinstance(got, float)


def test_round_half_away_differs_from_builtin_round_on_ties():
    assert round(2.5) == 2 and round_half_away(2.5) == 3
    assert round(0.125, 2) == 0.12 and round_half_away(0.125, 2) == 0.13
    assert round(42.65, 1) == 42.6 and round_half_away(42.65, 1) == 42.7


def test_round_half_away_special_values_and_types():
    assert math.isnan(round_half_away(NAN, 2))
    assert math.isnan(round_half_away(None, 2))
    assert round_half_away(math.inf, 1) == math.inf
    assert round_half_away(np.float64(1.005), 2) == 1.01
    assert round_half_away(np.float32(2.5)) == 3.0
    assert round_half_away(np.int64(15), -1) == 20.0
    assert round_half_away(Decimal("0.125"), 2) == 0.13
    # no negative zero
    assert math.copysign(1.0, round_half_away(-0.0004, 2)) == 1.0


@pytest.mark.parametrize(
    ("x", "decimals", "expected"),
    [
        (42.65, 1, "42.7"),
        (2.5, 0, "3"),
        (-2.5, 0, "\u22123"),  # the minus sign is U+2212 (MINUS)
        (0.125, 2, "0.13"),
        (1.005, 2, "1.01"),
        (3, 2, "3.00"),
        (1.0, 1, "1.0"),
        (-0.04, 1, "0.0"),  # never "-0.0"
        (-0.0, 2, "0.00"),
        (-0.05, 1, "\u22120.1"),
        (123456.789, 1, "123456.8"),
        (1e20, 0, "100000000000000000000"),
        (1e-7, 3, "0.000"),
        (1234.5, -1, "1230"),
        (np.float64(61.25), 1, "61.3"),
    ],
)
def test_fmt_number(x, decimals, expected):
    assert fmt_number(x, decimals) == expected


def test_fmt_number_missing():
    assert fmt_number(NAN, 1) == ""
    assert fmt_number(None, 1) == ""
    assert fmt_number(np.nan, 1, na=NE) == "NE"
    assert fmt_number(math.inf, 1) == "NE"


@pytest.mark.parametrize(
    ("n", "N", "decimals", "expected"),
    [
        (16, 23, 0, "70"),
        (16, 23, 1, "69.6"),
        (1, 8, 0, "13"),  # 12.5 -> 13
        (1, 8, 1, "12.5"),
        (57, 200, 0, "29"),  # 28.5: 100 * 0.285 is 28.499999999999996 in floats
        (3, 8, 0, "38"),  # 37.5
        (1, 3, 1, "33.3"),
        (2, 3, 0, "67"),
        (23, 23, 0, "100"),
        (0, 23, 0, "0"),
        (1, 1000, 0, "0.1"),  # a non-zero count is never 0%: one more decimal below 1%
        (1, 1000, 1, "0.1"),  # with decimals=1 the band is below 0.1%: 0.1 is not in it
        (1, 2000, 1, "0.05"),  # ... 0.05 is
        (1, 250, 0, "0.4"),
        (2, 201, 0, "1.0"),  # 0.995...% is below 1: one decimal, rounds to 1.0
        (1, 100, 0, "1"),  # exactly 1% is not below 1
        (1, 2500, 0, "<0.1"),  # 0.04% would still round to 0.0
        (1, 20000, 1, "0.01"),  # 0.005 rounds half away from zero
        (1, 300000, 1, "<0.01"),
        (249, 250, 0, "99.6"),  # a count below N is never 100%
        (199, 200, 0, "99.5"),
        (2499, 2500, 0, ">99.9"),  # 99.96% would still round to 100.0
        (99, 100, 0, "99"),  # exactly 99% is not above 99
        (250, 250, 0, "100"),  # exactly 100% stays "100"
        (250, 250, 1, "100.0"),
        (5, 0, 0, ""),
    ],
)
def test_fmt_pct(n, N, decimals, expected):
    assert fmt_pct(n, N, decimals) == expected


def test_fmt_n_pct():
    assert fmt_n_pct(16, 23) == "16 (70%)"
    assert fmt_n_pct(16, 23, 1) == "16 (69.6%)"
    assert fmt_n_pct(23, 23) == "23 (100%)"
    assert fmt_n_pct(57, 200) == "57 (29%)"
    assert fmt_n_pct(0, 23) == "0"  # no percentage for a zero count
    assert fmt_n_pct(0, 0) == "0"
    assert fmt_n_pct(np.int64(4), np.int64(8)) == "4 (50%)"


def test_fmt_n_over_N_pct():
    assert fmt_n_over_N_pct(16, 23) == "16/23 (70%)"
    assert fmt_n_over_N_pct(16, 23, 1) == "16/23 (69.6%)"
    assert fmt_n_over_N_pct(0, 23) == "0/23"
    assert fmt_n_over_N_pct(0, 0) == "0/0"
    assert fmt_n_over_N_pct(1, 8) == "1/8 (13%)"


def test_fmt_ci():
    # Clopper-Pearson 16/23 as percentages
    assert fmt_ci(0.47080833399149313, 0.8678971203019153, 1, scale=100) == "(47.1, 86.8)"
    assert fmt_ci(0.47080833399149313, 0.8678971203019153, 1, scale=100, pct=True) == (
        "(47.1%, 86.8%)"
    )
    assert fmt_ci(0.0524, 0.3339, 4) == "(0.0524, 0.3339)"
    # scaling is exact in decimal: 0.285 * 100 is a true tie
    assert fmt_ci(0.285, 0.5, 0, scale=100) == "(29, 50)"
    assert fmt_ci(-0.0004, 0.30, 2) == "(0.00, 0.30)"
    assert fmt_ci(-0.1611, 0.2775, 1, scale=100) == f"({MINUS}16.1, 27.8)"
    assert fmt_ci(-0.25, -0.05, 2) == "(\u22120.25, \u22120.05)"
    assert fmt_ci(12.34, NAN, 1) == "(12.3, NE)"
    assert fmt_ci(NAN, NAN, 1) == "(NE, NE)"
    assert fmt_ci(None, math.inf, 1) == "(NE, NE)"


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (0.0009999, "<0.001"),
        (0.001, "0.001"),
        (0.0005, "<0.001"),
        (0.00049, "<0.001"),
        (0.0, "<0.001"),
        (1e-300, "<0.001"),
        (0.0010004, "0.001"),
        (0.0014999, "0.001"),
        (0.0015, "0.002"),
        (0.0455, "0.046"),
        (0.04549, "0.045"),
        (0.04999, "0.050"),
        (0.05, "0.050"),
        (0.2544122544122544, "0.254"),
        (0.9995, "1.000"),
        (0.99949, "0.999"),
        (1.0, "1.000"),
        (1.0000000002, "1.000"),
        (NAN, "NE"),
        (None, "NE"),
    ],
)
def test_fmt_pvalue(p, expected):
    assert fmt_pvalue(p) == expected


def test_fmt_pvalue_other_precision():
    assert fmt_pvalue(0.00009, decimals=4) == "<0.0001"
    assert fmt_pvalue(0.00015, decimals=4) == "0.0002"


def test_fmt_mean_sd():
    assert fmt_mean_sd(52.345, 10.125, 1) == "52.3 (10.13)"  # SD one more decimal
    assert fmt_mean_sd(52.35, 10.125, 1, sd_decimals=1) == "52.4 (10.1)"
    assert fmt_mean_sd(5.0, NAN, 1) == "5.0 (NE)"  # n = 1
    assert fmt_mean_sd(NAN, NAN, 1) == "NE (NE)"
    assert fmt_mean_sd(-0.04, 0.5, 1) == "0.0 (0.50)"


def test_fmt_median_iqr_and_min_max():
    assert fmt_median_iqr(61, 42, 103, 1) == "61.0 (42.0, 103.0)"
    assert fmt_median_iqr(61.25, 51.75, 80.125, 1) == "61.3 (51.8, 80.1)"
    assert fmt_median_iqr(NAN, NAN, NAN, 1) == "NE (NE, NE)"
    assert fmt_min_max(18, 85, 0) == "18, 85"
    assert fmt_min_max(-2.5, 2.5, 0) == "\u22123, 3"
    assert fmt_min_max(NAN, 3.0, 0) == "NE, 3"


def test_fmt_number_scale_is_exact_on_ties():
    # 0.285 * 100 is 28.499999999999996 in binary floating point; scaled in decimal it is
    # the tie 28.5, which rounds half away from zero to 29
    assert 0.285 * 100 < 28.5
    assert fmt_number(0.285, 0, scale=100) == "29"
    assert fmt_number(0.4265, 1, scale=100) == "42.7"
    assert fmt_number(-0.025, 0, scale=100) == "\u22123"
    assert fmt_number(float("nan"), 1, na="NE", scale=100) == "NE"


def test_small_and_near_complete_percentages_in_count_cells():
    assert fmt_n_pct(1, 250) == "1 (0.4%)"  # not "1 (0%)"
    assert fmt_n_pct(1, 2500) == "1 (<0.1%)"
    assert fmt_n_pct(249, 250) == "249 (99.6%)"  # not "249 (100%)"
    assert fmt_n_pct(250, 250) == "250 (100%)"
    assert fmt_n_pct(3, 250) == "3 (1%)"  # 1.2% is not below 1: the whole-number rule
    assert fmt_n_over_N_pct(1, 250) == "1/250 (0.4%)"
    assert fmt_n_over_N_pct(2499, 2500) == "2499/2500 (>99.9%)"
    with pytest.raises(ValueError, match="decimals >= 0"):
        fmt_pct(1, 3, -1)


def test_minus_sign_is_one_constant_in_every_formatter():
    assert MINUS == "\u2212" and formatting.MINUS is MINUS
    outputs = [
        fmt_number(-1.25, 1),
        fmt_number(-0.0125, 1, scale=100),
        fmt_ci(-0.30, -0.10, 1, scale=100),
        fmt_ci(-3.0, 2.0, 0, pct=True),
        fmt_mean_sd(-1.5, 0.25, 1),
        fmt_median_iqr(-1.0, -2.0, -0.5, 1),
        fmt_min_max(-7, -1, 0),
    ]
    for text in outputs:
        assert "-" not in text, text  # no hyphen-minus anywhere
        assert MINUS in text, text
    assert fmt_mean_sd(-1.5, 0.25, 1) == f"{MINUS}1.5 (0.25)"
    assert fmt_ci(-3.0, 2.0, 0, pct=True) == f"({MINUS}3%, 2%)"
    # rounding to zero drops the sign; positives and p-values carry none
    assert fmt_number(-0.04, 1) == "0.0" and fmt_pvalue(0.0004) == "<0.001"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([61.0, 42.0, 103.0], 0),
        ([61.0, 42.5, 70.3], 1),
        ([1.25, 3.5, np.nan, None], 2),
        ([0.1 + 0.2, 0.7], 1),  # 0.30000000000000004: an arithmetic artefact, still 1 decimal
        ([24.691358024691358], 3),  # derived value: capped at max_decimals
        ([0.0025, 1.0], 3),
        ([123456.0, -7.0], 0),
        ([-0.5, 12.0], 1),
        ([], 0),
        ([np.nan, np.nan], 0),
        (np.array([52, 61, 70]), 0),
    ],
)
def test_data_decimals(values, expected):
    assert data_decimals(values) == expected


def test_data_decimals_cap_and_nullable():
    assert data_decimals([0.0025, 1.0], max_decimals=4) == 4
    assert data_decimals([24.691358024691358], max_decimals=1) == 1
    assert data_decimals(np.array([1.5, None], dtype=object)) == 1
    assert data_decimals(pd.array([170, None, 182], dtype="Int64")) == 0


def test_summary_decimals_convention():
    d = summary_decimals(1)
    assert (d["min"], d["max"]) == (1, 1)  # as recorded
    assert d["mean"] == d["median"] == d["q1"] == d["q3"] == 2  # one more
    assert d["sd"] == 3  # two more
    assert d["n"] == d["nmiss"] == 0
    # consistent with fmt_mean_sd's default: SD one more decimal than the mean
    assert fmt_mean_sd(52.345, 10.12345, d["mean"]) == fmt_mean_sd(
        52.345, 10.12345, d["mean"], sd_decimals=d["sd"]) == "52.35 (10.123)"
    with pytest.raises(ValueError):
        summary_decimals(-1)


def test_counts_in_running_text_are_words_below_ten() -> None:
    from trialreport.formatting import count_phrase

    assert count_phrase(0, "patient", capital=True) == "No patient"
    assert count_phrase(1, "randomised patient", capital=True) == "One randomised patient"
    assert count_phrase(3, "patient") == "three patients"
    assert count_phrase(10, "event") == "10 events"
    with pytest.raises(ValueError):
        count_phrase(-1, "patient")

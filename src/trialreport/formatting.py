"""Number formatting for report tables: the project's single rounding rule.

Rounding rule
-------------
Every displayed number is rounded **half away from zero on its decimal value**, like
the SAS ``ROUND`` function: 2.5 -> 3, -2.5 -> -3, 0.125 -> 0.13, 42.65 -> 42.7,
1.005 -> 1.01. The decimal value of a float is its shortest round-tripping repr
(``repr(1.005) == '1.005'``), so binary artefacts (1.005 is stored as
1.00499999999999989...) do not turn ties into round-downs, unlike Python's ``round``
(banker's rounding on the binary value) or ``f"{x:.2f}"``. Percentages are computed
exactly from the integer counts (``100 * n / N`` as a fraction), so 57/200 = 28.5% is a
true tie and shows as 29.

Display conventions
-------------------
* Percentages are whole numbers by default, without a "%" sign in ``fmt_pct`` and
  with one in ``fmt_n_pct``/``fmt_n_over_N_pct``.
* A percentage is never shown as 0 for a non-zero count, nor as 100 for a count below
  N: strictly between 0 and 1 (or 99 and 100) it gets one more decimal, ``"1 (0.4%)"``,
  ``"249 (99.6%)"``, and if it still rounds to 0 or 100 it is shown as ``"<0.1"`` /
  ``">99.9"``. Exactly 100% stays ``"100"``. (With ``decimals=d`` the band is
  ``10**-d``.)
* A zero count is shown without a percentage: ``"0"`` (ICH E3 table convention).
* Negative numbers carry the one minus sign :data:`MINUS` (U+2212), in every ``fmt_*``
  function; change it there and nowhere else.
* A negative number that rounds to zero is shown as ``"0.0"``, never ``"\u22120.0"``.
* Missing values (NaN/None) are shown as ``""`` by :func:`fmt_number`; inside composite
  cells (CIs, mean (SD), median (Q1, Q3), min, max, p-values) a NaN component is
  "not estimable" and shown as ``"NE"``.
* A percentage with a zero denominator is ``""`` (:func:`fmt_pct`).
* Median row: ``"median (Q1, Q3)"``; range row: ``"min, max"``; CI: ``"(lower, upper)"``.

Decimals of summary statistics
------------------------------
Common CSR convention, :func:`summary_decimals`: minimum and maximum at the precision the
data were recorded with (:func:`data_decimals`), mean, median and quartiles with one
decimal more, the standard deviation with two more. ``fmt_mean_sd(mean, sd, d + 1)``
therefore gives the SD ``d + 2`` decimals by default.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from numbers import Integral, Real

import numpy as np
import pandas as pd

__all__ = [
    "MINUS",
    "NE",
    "data_decimals",
    "summary_decimals",
    "round_half_away",
    "fmt_number",
    "fmt_pct",
    "fmt_n_pct",
    "fmt_n_over_N_pct",
    "fmt_ci",
    "fmt_pvalue",
    "fmt_mean_sd",
    "fmt_median_iqr",
    "fmt_min_max",
]

NE = "NE"  #: shown for a value that is not estimable
MINUS = "\u2212"  #: the minus sign of every formatted negative number (U+2212 MINUS SIGN)

_CTX = Context(prec=200, rounding=ROUND_HALF_UP)  # HALF_UP = half away from zero


def _is_missing(x) -> bool:
    if x is None:
        return True
    try:
        return math.isnan(x)
    except TypeError:
        return False


def _to_decimal(x) -> Decimal:
    """Exact decimal value of ``x`` as written: ints exactly, floats via shortest repr."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, Fraction):
        raise TypeError("use _round_fraction for Fraction input")
    if isinstance(x, Integral) and not isinstance(x, bool):
        return Decimal(int(x))
    if isinstance(x, Real) or hasattr(x, "__float__"):
        return Decimal(repr(float(x)))
    raise TypeError(f"cannot format {type(x).__name__!r} as a number")


def _quantize(d: Decimal, ndigits: int) -> Decimal:
    """Round half away from zero to ``ndigits`` decimals (negative: tens, hundreds...)."""
    q = _CTX.quantize(d, Decimal(1).scaleb(-ndigits))
    if q.is_zero():
        q = q.copy_abs()  # no negative zero
    return q


def _round_fraction(f: Fraction, ndigits: int) -> Decimal:
    """Round an exact rational half away from zero to ``ndigits`` decimals."""
    scale = Fraction(10) ** ndigits
    scaled = abs(f) * scale
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    if 2 * rest >= scaled.denominator:
        whole += 1
    if f < 0:
        whole = -whole
    return _quantize(Decimal(whole).scaleb(-ndigits), ndigits)


def _text(d: Decimal, ndigits: int) -> str:
    """Rounded decimal as display text, negative numbers with :data:`MINUS`."""
    q = _quantize(d, ndigits)
    text = f"{q:f}" if ndigits > 0 else f"{q:.0f}"
    return MINUS + text[1:] if text.startswith("-") else text


def round_half_away(x: float, ndigits: int = 0) -> float:
    """Round ``x`` half away from zero on its decimal value, like SAS ``ROUND``.

    Parameters
    ----------
    x : float
        Value to round (int, float, NumPy scalar or Decimal). NaN and +/-inf are
        returned unchanged.
    ndigits : int
        Number of decimals; negative values round to tens, hundreds, ...

    Returns
    -------
    float
        The nearest float to the rounded decimal, e.g. ``round_half_away(42.65, 1)`` is
        42.7, ``round_half_away(-2.5)`` is -3.0, ``round_half_away(1.005, 2)`` is 1.01.
    """
    if _is_missing(x):
        return float("nan")
    if isinstance(x, float) and math.isinf(x):
        return x
    return float(_quantize(_to_decimal(x), int(ndigits)))


def fmt_number(x, decimals: int, na: str = "", scale: float = 1) -> str:
    """Format one number with ``decimals`` decimals using :func:`round_half_away`.

    Missing (NaN/None) gives ``na`` (default ``""``); pass ``na="NE"`` for a value
    that is not estimable. Negative numbers start with :data:`MINUS` (``"\u22122.5"``);
    ``-0.04`` with 1 decimal gives ``"0.0"``. ``scale`` multiplies
    first, exactly in decimal (``scale=100`` shows a proportion as a percentage, and a tie on
    the displayed value stays a tie).
    """
    if _is_missing(x):
        return na
    if isinstance(x, float) and math.isinf(x):
        return NE
    return _text(_scaled(x, scale), int(decimals))


def _pct_text(n: int, N: int, decimals: int) -> str:
    """``100 n / N`` rounded exactly; near 0 and 100 one decimal more (module docstring)."""
    pct = Fraction(100 * int(n), int(N))
    digits = int(decimals)
    if digits < 0:
        raise ValueError(f"percentages need decimals >= 0, got {digits}")
    band = Fraction(1, 10**digits)
    if not (0 < pct < band or 100 - band < pct < 100):
        return _text(_round_fraction(pct, digits), digits)
    digits += 1
    finer = Decimal(1).scaleb(-digits)
    rounded = _round_fraction(pct, digits)
    if rounded.is_zero():
        return "<" + _text(finer, digits)
    if rounded == 100:
        return ">" + _text(Decimal(100) - finer, digits)
    return _text(rounded, digits)


def fmt_pct(n: int, N: int, decimals: int = 0) -> str:
    """Percentage ``100 n / N`` as a bare number, e.g. ``fmt_pct(16, 23) == "70"``.

    Computed exactly from the integer counts and rounded half away from zero. Strictly
    between 0 and 1 (or 99 and 100) one more decimal: ``fmt_pct(1, 250) == "0.4"``,
    ``fmt_pct(249, 250) == "99.6"``; still 0 or 100 after that: ``"<0.1"``, ``">99.9"``.
    ``N = 0`` gives ``""`` (no percentage can be shown).
    """
    if int(N) == 0:
        return ""
    return _pct_text(n, N, decimals)


def fmt_n_pct(n: int, N: int, decimals: int = 0) -> str:
    """Count with percentage, ``"16 (70%)"``.

    A zero count is shown as ``"0"`` with no percentage (ICH E3 convention), and so is
    any count with ``N = 0``. ``fmt_n_pct(23, 23) == "23 (100%)"``; small percentages as
    :func:`fmt_pct`: ``fmt_n_pct(1, 250) == "1 (0.4%)"``.
    """
    if int(n) == 0 or int(N) == 0:
        return str(int(n))
    return f"{int(n)} ({_pct_text(n, N, decimals)}%)"


def fmt_n_over_N_pct(n: int, N: int, decimals: int = 0) -> str:
    """Count over denominator with percentage, ``"16/23 (70%)"``.

    Zero count: ``"0/23"`` without percentage; ``N = 0``: ``"0/0"``.
    """
    if int(n) == 0 or int(N) == 0:
        return f"{int(n)}/{int(N)}"
    return f"{int(n)}/{int(N)} ({_pct_text(n, N, decimals)}%)"


def _scaled(x, scale) -> Decimal:
    d = _to_decimal(x)
    if scale != 1 and scale != 1.0:
        d = _CTX.multiply(d, _to_decimal(scale))
    return d


def fmt_ci(lower, upper, decimals: int, scale: float = 1.0, pct: bool = False) -> str:
    """Confidence interval ``"(lower, upper)"``.

    Parameters
    ----------
    lower, upper : float
        Limits; NaN (or None, or infinite) is shown as ``"NE"``, e.g. ``"(12.3, NE)"``.
    decimals : int
        Decimals after scaling.
    scale : float
        Multiplier applied exactly in decimal before rounding, e.g. 100 to show
        proportions as percentages: ``fmt_ci(0.47081, 0.86790, 1, scale=100)`` gives
        ``"(47.1, 86.8)"``.
    pct : bool
        Append ``"%"`` to each limit: ``"(47.1%, 86.8%)"``.
    """
    suffix = "%" if pct else ""

    def one(v) -> str:
        if _is_missing(v) or (isinstance(v, float) and math.isinf(v)):
            return NE
        return _text(_scaled(v, scale), int(decimals)) + suffix

    return f"({one(lower)}, {one(upper)})"


def fmt_pvalue(p: float, decimals: int = 3) -> str:
    """P-value with ``decimals`` decimals (default 3), ``"<0.001"`` below 0.001.

    The threshold is ``10**-decimals`` and is applied before rounding, so 0.0009999 and
    0.0005 give ``"<0.001"`` while 0.001 gives ``"0.001"``. Otherwise rounding is half
    away from zero: 0.0455 -> ``"0.046"``, 0.9995 -> ``"1.000"``. Values a hair above 1
    (floating-point) are shown as 1. NaN/None gives ``"NE"``.
    """
    if _is_missing(p):
        return NE
    decimals = int(decimals)
    d = _to_decimal(p)
    threshold = Decimal(1).scaleb(-decimals)
    if d < threshold:
        return "<" + _text(threshold, decimals)
    return _text(min(d, Decimal(1)), decimals)


def fmt_mean_sd(mean, sd, decimals: int, sd_decimals: int | None = None) -> str:
    """``"mean (SD)"``, e.g. ``fmt_mean_sd(52.345, 10.123, 1) == "52.3 (10.12)"``.

    ``sd_decimals`` defaults to ``decimals + 1`` (common CSR convention: the SD carries
    one more decimal than the mean). A NaN component (e.g. SD with n = 1) is ``"NE"``.
    """
    sd_dec = int(decimals) + 1 if sd_decimals is None else int(sd_decimals)
    return f"{fmt_number(mean, decimals, na=NE)} ({fmt_number(sd, sd_dec, na=NE)})"


def fmt_median_iqr(median, q1, q3, decimals: int) -> str:
    """``"median (Q1, Q3)"``, e.g. ``"61.0 (42.0, 103.0)"``; NaN components are ``"NE"``."""
    return (
        f"{fmt_number(median, decimals, na=NE)} "
        f"({fmt_number(q1, decimals, na=NE)}, {fmt_number(q3, decimals, na=NE)})"
    )


def fmt_min_max(minimum, maximum, decimals: int) -> str:
    """``"min, max"``, e.g. ``"18, 85"``; NaN components are ``"NE"``."""
    return f"{fmt_number(minimum, decimals, na=NE)}, {fmt_number(maximum, decimals, na=NE)}"


# --------------------------------------------------------------------------------------
# decimals of summary statistics
# --------------------------------------------------------------------------------------


def _float_values(values) -> np.ndarray:
    try:
        return np.asarray(values, dtype=float).ravel()
    except TypeError:  # None / pd.NA in an object array, nullable dtypes
        s = pd.to_numeric(pd.Series(np.asarray(values, dtype=object).ravel()), errors="raise")
        return s.to_numpy(dtype=float, na_value=np.nan)


def data_decimals(values, max_decimals: int = 3) -> int:
    """Number of decimals the data are recorded with, e.g. 1 for ``[61.0, 42.5, 70.3]``.

    The smallest ``d`` (0 to ``max_decimals``) such that every finite value is a
    ``d``-decimal number, to within 4 units in the last place (so an arithmetic artefact
    such as ``0.1 + 0.2`` still counts as one decimal). Values that need more than
    ``max_decimals`` (derived, e.g. a computed BMI) give ``max_decimals``: give such a
    variable its decimals in the study definition. Missing values are ignored; no value
    at all gives 0.

    Parameters
    ----------
    values : array-like of float
        The variable's values in their own units (NaN/None = missing).
    max_decimals : int
        Upper bound on the result.
    """
    a = _float_values(values)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return 0
    tolerance = 4 * np.spacing(np.abs(a))
    for d in range(int(max_decimals) + 1):
        if np.all(np.abs(np.round(a, d) - a) <= tolerance):
            return d
    return int(max_decimals)


def summary_decimals(data_decimals: int) -> dict[str, int]:
    """Decimals for each summary statistic, from the data's own ``data_decimals``.

    Common CSR convention: ``min`` and ``max`` as recorded (``d``); ``mean``, ``median``,
    ``q1``, ``q3`` one more (``d + 1``); ``sd`` two more (``d + 2``); counts ``n`` and
    ``nmiss`` none. Keys are those of :func:`trialreport.stats.describe`.
    """
    d = int(data_decimals)
    if d < 0:
        raise ValueError(f"data_decimals must be >= 0, got {d}")
    return {"n": 0, "nmiss": 0, "mean": d + 1, "sd": d + 2, "median": d + 1, "q1": d + 1,
            "q3": d + 1, "min": d, "max": d}


_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def count_phrase(n: int, noun: str, capital: bool = False) -> str:
    """``"no patient"``, ``"one patient"``, ``"three patients"``, ``"12 patients"``: counts
    below ten in words, as style guides ask for running text; the noun in the plural from two
    (regular plural "s"). ``capital`` starts the phrase with a capital letter."""
    if n < 0:
        raise ValueError(f"a count cannot be negative: {n}")
    number = _WORDS[n] if n < len(_WORDS) else str(n)
    text = f"{number} {noun if n == 1 or n == 0 else noun + 's'}"
    return text[:1].upper() + text[1:] if capital else text

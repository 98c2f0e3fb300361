"""The result type shared by every hypothesis test in :mod:`trialreport.stats`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TestResult"]

_NAN = float("nan")


@dataclass(frozen=True)
class TestResult:
    """Result of a hypothesis test: test statistic, two-sided p-value, method name.

    ``method`` is a human-readable name for table footnotes, e.g. ``"Fisher's exact test
    (two-sided)"``. ``df`` holds the degrees of freedom of the reference distribution
    where there is one (chi-square: ``(df,)``; F: ``(df1, df2)``; t: ``(df,)``), else ``()``.
    """

    __test__ = False  # not a pytest test class

    statistic: float
    pvalue: float
    method: str
    df: tuple[float, ...] = ()


def nan_result(method: str) -> TestResult:
    """A test that cannot be computed: NaN statistic and p-value (shown as "NE")."""
    return TestResult(_NAN, _NAN, method)

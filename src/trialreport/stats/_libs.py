"""Lazy access to pingouin and statsmodels, with pingouin's display rounding switched off.

Both libraries take about a second to import (pingouin pulls in matplotlib), so they are
imported on first use rather than when :mod:`trialreport.stats` is imported.

pingouin rounds the numbers in its result tables when ``pingouin.options["round"]`` (or
a ``round.column.*`` option) is set — a process-wide setting any other code may change.
:func:`pingouin_exact` clears those options for the duration of a call, so the floats that
reach our tables are always unrounded.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

__all__ = ["pingouin", "pingouin_exact", "statsmodels_proportion"]


@functools.cache
def pingouin() -> ModuleType:
    """The ``pingouin`` module (imported on first use)."""
    import pingouin as pg

    return pg


@functools.cache
def statsmodels_proportion() -> ModuleType:
    """``statsmodels.stats.proportion`` (imported on first use)."""
    from statsmodels.stats import proportion

    return proportion


@contextmanager
def pingouin_exact() -> Iterator[ModuleType]:
    """``with pingouin_exact() as pg:`` — pingouin with all result rounding disabled.

    Also silences pingouin's advisory ``UserWarning``s (e.g. "Low count on expected
    frequencies" from ``chi2_independence``): the choice of test is the study
    definition's, and the caller documents it in the table footnote.
    """
    pg = pingouin()
    saved = dict(pg.options)
    for key in [k for k in pg.options if str(k).startswith("round")]:
        del pg.options[key]
    pg.options["round"] = None
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module=r"pingouin(\.|$)")
            yield pg
    finally:
        pg.options.clear()
        pg.options.update(saved)

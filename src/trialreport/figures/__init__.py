"""Report figures drawn with matplotlib in the shared report style.

The drawing functions take plain data structures (see each module) and return a
:class:`matplotlib.figure.Figure`: :func:`plot_consort` (CONSORT 2010 flow),
:func:`plot_km` (Kaplan-Meier curves) and :func:`plot_swimmer` (patient profiles).
:func:`save_figure` writes SVG, PNG and PDF deterministically. Which figure a study shows, and
from which data, is the study definition's ``outputs`` (:mod:`trialreport.families`).
"""

from __future__ import annotations

from trialreport.figures.consort import ConsortArm, ConsortCounts, as_consort_counts, plot_consort
from trialreport.figures.km import KMCurve, as_km_curves, plot_km
from trialreport.figures.save import save_figure
from trialreport.figures.style import A4_WIDTH_IN, ARM_COLOURS, style_context
from trialreport.figures.swimmer import Lane, as_lanes, plot_swimmer

__all__ = [
    "A4_WIDTH_IN",
    "ARM_COLOURS",
    "ConsortArm",
    "ConsortCounts",
    "KMCurve",
    "Lane",
    "as_consort_counts",
    "as_km_curves",
    "as_lanes",
    "plot_consort",
    "plot_km",
    "plot_swimmer",
    "save_figure",
    "style_context",
]

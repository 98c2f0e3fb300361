"""Analyses of a trial: each returns ARD rows (see ``docs/ard.md``) or tidy frames for figures.

``build_ard(data)`` runs them all; the modules are small and have one concern each:
populations, consort, baseline, efficacy, time_to_event, safety, swimmer.
"""

from trialreport.analysis.ard import ARD, ARDError, build_ard, build_ard_from_paths

__all__ = ["ARD", "ARDError", "build_ard", "build_ard_from_paths"]

"""Families of analyses, one module each; each registers the output types it makes.

=================  ==========================================================================
module             output types
=================  ==========================================================================
population         ``population_sets`` (analysis sets by arm)
disposition        ``disposition`` (table), ``consort`` (CONSORT 2010 flow diagram)
baseline           ``baseline`` (demographic and baseline characteristics)
exposure           ``exposure`` (extent of exposure)
binary             ``binary_endpoints`` (responders, CIs, differences, tests)
time_to_event      ``time_to_event`` (Kaplan-Meier summary), ``km`` (Kaplan-Meier figure)
adverse_events     ``ae_overview``, ``ae_soc_pt``, ``ae_severity``
listings           ``ae_listing``
profiles           ``swimmer`` (patient profiles over time)
=================  ==========================================================================

A module registers with :func:`trialreport.outputs.register`; :mod:`trialreport.outputs` imports
every module here, so a new family is one new file.
"""

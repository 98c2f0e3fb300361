"""Binary efficacy endpoints: responders per arm with exact CIs, difference and test.

Each endpoint under ``endpoints.binary`` in the study definition names a population, a BDS
dataset and up to three criteria, all evaluated on that dataset's records:

* ``responder``: a record with ``PARAMCD == paramcd`` at ``visit`` whose value is in
  ``values`` (required);
* ``no_event``: no record with ``PARAMCD == paramcd`` and value in ``values`` at any visit
  up to ``through_visit`` (optional);
* ``assessed_at``: a non-missing record with ``PARAMCD == paramcd`` at ``visit`` (optional).

A subject of the population without a qualifying record is a non-responder. Optional keys of a
criterion: ``variable`` (value variable, default AVALC), ``param_variable`` (default PARAMCD),
``from_visit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis.ard import concat_frames, empty_frame, stack_statistics
from trialreport.analysis.populations import (
    ARM,
    arm_codes,
    as_text,
    population_adsl,
    subject_variable,
)
from trialreport.data import TrialData
from trialreport.stats.comparisons import compare_categorical
from trialreport.stats.proportions import binomial_ci, risk_difference_ci

__all__ = ["PER_GROUP_STATS", "efficacy_ard", "endpoint", "endpoint_ard", "responder_flags"]

PER_GROUP_STATS = ("n", "N", "pct", "estimate", "lower", "upper")


def endpoint(data: TrialData, endpoint_id: str) -> dict[str, Any]:
    """The definition of one binary endpoint (``KeyError`` if unknown)."""
    for ep in (data.study.section("endpoints") or {}).get("binary", []):
        if str(ep["id"]) == endpoint_id:
            return dict(ep)
    raise KeyError(f"no binary endpoint {endpoint_id!r} in the study definition")


def _subjects_meeting(ds: pd.DataFrame, crit: Mapping[str, Any], visit_var: str,
                      subject: str) -> np.ndarray:
    """Subjects with at least one record meeting ``crit``."""
    param_var = str(crit.get("param_variable", "PARAMCD"))
    value_var = str(crit.get("variable", "AVALC"))
    mask = as_text(ds[param_var]).eq(str(crit["paramcd"]))
    visit = pd.to_numeric(ds[visit_var], errors="coerce") if visit_var in ds else None
    if visit is not None:
        if "visit" in crit:
            mask &= visit.eq(float(crit["visit"])).fillna(False)
        if "through_visit" in crit:
            mask &= visit.le(float(crit["through_visit"])).fillna(False)
        if "from_visit" in crit:
            mask &= visit.ge(float(crit["from_visit"])).fillna(False)
    values = as_text(ds[value_var])
    if "values" in crit:
        mask &= values.isin([str(v) for v in crit["values"]]).fillna(False)
    else:
        mask &= values.notna()
    return ds.loc[mask.to_numpy(dtype=bool), subject].unique()


def responder_flags(data: TrialData, ep: Mapping[str, Any] | str) -> pd.DataFrame:
    """One row per subject of the endpoint's population: ``subject``, ``arm``, ``responder``.

    Parameters
    ----------
    data : TrialData
    ep : mapping or str
        Endpoint definition or its id.
    """
    if isinstance(ep, str):
        ep = endpoint(data, ep)
    study = data.study
    subject = subject_variable(study)
    visit_var = str((study.section("endpoints") or {}).get("visit_variable", "AVISITN"))
    pop = population_adsl(data, ep["population"])
    ds = data[ep["dataset"]]
    ids = pop[subject]
    flag = ids.isin(_subjects_meeting(ds, ep["responder"], visit_var, subject))
    if ep.get("no_event"):
        flag &= ~ids.isin(_subjects_meeting(ds, ep["no_event"], visit_var, subject))
    if ep.get("assessed_at"):
        flag &= ids.isin(_subjects_meeting(ds, ep["assessed_at"], visit_var, subject))
    return pd.DataFrame({"subject": ids.to_numpy(), "arm": pop[ARM].to_numpy(),
                         "responder": flag.to_numpy(dtype=bool)})


def endpoint_ard(data: TrialData, ep: Mapping[str, Any]) -> pd.DataFrame:
    """ARD rows for one binary endpoint.

    Per arm and total: ``n`` responders, ``N`` subjects, ``pct`` (0-100), ``estimate``,
    ``lower``, ``upper`` (0-1, exact Clopper-Pearson by default). Group ``comparison``: the
    difference treatment - reference with its CI (Newcombe hybrid score by default) and the
    two-sided ``pvalue`` (Fisher's exact test by default). Without a ``comparison`` in the
    study definition, only a test across all arms is reported.

    References
    ----------
    Clopper CJ, Pearson ES (1934). Biometrika 26:404-413.
    Newcombe RG (1998). Stat Med 17:873-890 (method 10).
    Agresti A (2002). Categorical Data Analysis, 2nd ed., section 3.5 (Fisher's exact test).
    """
    study = data.study
    settings = {**(study.section("endpoints") or {}), **ep}
    conf = study.conf_level(ep)
    ci_method = str(settings.get("ci_method", "clopper-pearson"))
    diff_method = str(settings.get("difference_method", "newcombe"))
    test = str(settings.get("test", "fisher"))
    flags = responder_flags(data, ep)
    arms = arm_codes(study)
    arm_idx = pd.Categorical(flags["arm"].astype(object), categories=arms).codes
    n = np.bincount(arm_idx[flags["responder"].to_numpy()], minlength=len(arms))
    N = np.bincount(arm_idx, minlength=len(arms))
    groups = [*arms, study.total_label]
    ns, Ns = [*n.tolist(), int(n.sum())], [*N.tolist(), int(N.sum())]
    cis = [binomial_ci(a, b, conf, ci_method) for a, b in zip(ns, Ns, strict=True)]
    wide = pd.DataFrame({
        "group": groups, "n": ns, "N": Ns,
        "pct": [100.0 * a / b if b else np.nan for a, b in zip(ns, Ns, strict=True)],
        "estimate": [c.estimate for c in cis], "lower": [c.lower for c in cis],
        "upper": [c.upper for c in cis],
    })
    const = {"analysis": "efficacy", "population": str(ep["population"]),
             "variable": str(ep["id"])}
    ci_label = cis[0].method
    frames = [stack_statistics(wide, PER_GROUP_STATS, methods={
        "estimate": ci_label, "lower": ci_label, "upper": ci_label}, **const)]
    comp = study.comparison
    if comp and comp.get("treatment") in arms and comp.get("reference") in arms:
        t, r = arms.index(comp["treatment"]), arms.index(comp["reference"])
        d = risk_difference_ci(ns[t], Ns[t], ns[r], Ns[r], conf, diff_method)
        res = compare_categorical([[ns[t], Ns[t] - ns[t]], [ns[r], Ns[r] - ns[r]]], test)
        frames.append(stack_statistics(
            pd.DataFrame({"group": ["comparison"], "estimate": [d.estimate],
                          "lower": [d.lower], "upper": [d.upper]}),
            ["estimate", "lower", "upper"], methods=dict.fromkeys(
                ("estimate", "lower", "upper"), d.method), **const))
    else:
        res = compare_categorical(np.column_stack([n, N - n]), test)
    frames.append(stack_statistics(pd.DataFrame({"group": ["comparison"],
                                                 "pvalue": [res.pvalue]}),
                                   ["pvalue"], methods={"pvalue": res.method}, **const))
    return concat_frames(frames)


def efficacy_ard(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="efficacy"`` for every binary endpoint whose dataset is present."""
    endpoints = (data.study.section("endpoints") or {}).get("binary", [])
    frames = [endpoint_ard(data, ep) for ep in endpoints if ep.get("dataset") in data]
    return concat_frames(frames) if frames else empty_frame()

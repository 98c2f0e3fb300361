"""Adverse events: overview, counts by system organ class and preferred term, SAE listing.

Variable names come from ``safety:`` in the study definition (population, dataset,
treatment-emergent flag, serious / related variable and value, severity variable and levels,
SOC and PT variables, outcome, onset day). Only treatment-emergent events of subjects in the
safety population count, each in the subject's arm of that population (actual treatment).
Subjects are counted once per row, events each time they occur. All counting is vectorised
(``drop_duplicates`` + ``np.bincount`` / ``groupby``), so 10^5-10^6 records take well under a
second.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis.ard import concat_frames, empty_frame, stack_statistics
from trialreport.analysis.populations import (
    ARM,
    arm_codes,
    as_text,
    big_n,
    flag_set,
    population_adsl,
    subject_variable,
)
from trialreport.data import TrialData

__all__ = ["OVERVIEW", "ae_frame", "ae_overview_ard", "sae_listing", "safety_ard", "soc_pt_ard",
           "soc_pt_counts"]

ANY = "ANY"
STATS = ("subjects", "pct", "events")
OVERVIEW = ("ANY_AE", "RELATED_AE", "SEVERE_AE", "ANY_SAE", "RELATED_SAE", "SAE_FATAL")


def _settings(data: TrialData) -> dict[str, Any] | None:
    section = data.study.section("safety")
    if not section or section.get("dataset", "adae") not in data:
        return None
    return dict(section)


def _is(values: pd.Series, spec: Any) -> np.ndarray:
    """Records whose ``spec['variable']`` equals ``spec['value']`` (or is in ``values``)."""
    want = spec.get("values", [spec.get("value", "Y")])
    return as_text(values).isin([str(v) for v in want]).to_numpy(dtype=bool)


def ae_frame(data: TrialData) -> pd.DataFrame:
    """Treatment-emergent events of safety-population subjects, in analysis terms.

    Returns
    -------
    DataFrame
        ``subject``, ``arm`` (categorical in study order), ``soc``, ``pt``, ``serious``,
        ``related`` (bool), ``severity``, ``relatedness``, ``outcome`` (text), ``fatal``
        (bool), ``start_day`` (float, NaN if missing); record order of the dataset.
    """
    s = _settings(data)
    if s is None:
        raise KeyError("no safety section or adverse-event dataset")
    study = data.study
    subject = subject_variable(study)
    pop = population_adsl(data, s["population"])[[subject, ARM]]
    ae = data[s.get("dataset", "adae")]
    keep = np.ones(len(ae), dtype=bool)
    if s.get("treatment_emergent_flag"):
        keep &= flag_set(ae[s["treatment_emergent_flag"]])
    ae = ae.loc[keep]
    arm = ae[subject].map(pd.Series(pop[ARM].to_numpy(), index=pop[subject].to_numpy()))
    ae = ae.loc[arm.notna().to_numpy()]
    arm = arm[arm.notna()]
    serious = s.get("serious", {"variable": "AESER", "value": "Y"})
    related = s.get("related", {"variable": "AEREL", "value": "RELATED"})
    severity = s.get("severity", {}).get("variable")
    outcome = s.get("outcome")
    fatal = s.get("fatal", {"value": "FATAL"})
    out = pd.DataFrame({
        "subject": ae[subject].to_numpy(),
        "arm": pd.Categorical(arm.astype(object).to_numpy(), categories=arm_codes(study)),
        "soc": ae[s.get("soc", "AEBODSYS")].astype(object).to_numpy(),
        "pt": ae[s.get("term", "AEDECOD")].astype(object).to_numpy(),
        "serious": _is(ae[serious["variable"]], serious),
        "related": _is(ae[related["variable"]], related),
        "severity": (ae[severity].astype(object).to_numpy() if severity in ae
                     else np.full(len(ae), None, dtype=object)),
        "relatedness": ae[related["variable"]].astype(object).to_numpy(),
        "outcome": (ae[outcome].astype(object).to_numpy() if outcome in ae
                    else np.full(len(ae), None, dtype=object)),
        "fatal": (_is(ae[outcome], fatal) if outcome in ae else np.zeros(len(ae), bool)),
        "start_day": (pd.to_numeric(ae[s["start_day"]]).astype(float).to_numpy()
                      if s.get("start_day") in ae else np.full(len(ae), np.nan)),
    })
    return out


def _pct(subjects: np.ndarray, n: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, 100.0 * subjects / np.where(n > 0, n, 1), np.nan)


def _subjects_events(ae: pd.DataFrame, mask: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
    """Subjects and events per arm (length k + 1, last = total) among ``ae[mask]``."""
    codes = ae["arm"].cat.codes.to_numpy()[mask]
    first = ~pd.Series(ae["subject"].to_numpy()[mask]).duplicated().to_numpy()
    events = np.bincount(codes, minlength=k)
    subjects = np.bincount(codes[first], minlength=k)
    return np.append(subjects, subjects.sum()), np.append(events, events.sum())


def ae_overview_ard(data: TrialData, ae: pd.DataFrame | None = None) -> pd.DataFrame:
    """ARD rows ``analysis="ae_overview"``.

    Variables: ``ANY_AE``, ``RELATED_AE``, ``SEVERE_AE`` (the last severity level),
    ``ANY_SAE``, ``RELATED_SAE``, ``SAE_FATAL`` (serious with fatal outcome), and
    ``MAX_SEVERITY`` (category = level: subjects by their worst event, events of that
    severity). Statistics ``subjects``, ``pct`` (of the population's N), ``events``. ``ae``:
    a precomputed :func:`ae_frame`.
    """
    s = _settings(data)
    if s is None:
        return empty_frame()
    study = data.study
    ae = ae_frame(data) if ae is None else ae
    arms = arm_codes(study)
    groups = [*arms, study.total_label]
    ns = np.array(list(big_n(data, s["population"]).values()))
    levels = [str(v) for v in s.get("severity", {}).get("levels", [])]
    sev = ae["severity"].astype(object).to_numpy()
    crit = {
        "ANY_AE": np.ones(len(ae), dtype=bool),
        "RELATED_AE": ae["related"].to_numpy(),
        "SEVERE_AE": (sev == levels[-1]) if levels else None,
        "ANY_SAE": ae["serious"].to_numpy(),
        "RELATED_SAE": (ae["serious"] & ae["related"]).to_numpy(),
        "SAE_FATAL": (ae["serious"] & ae["fatal"]).to_numpy(),
    }
    wide = []
    for name, mask in crit.items():
        if mask is None:
            continue
        subj, ev = _subjects_events(ae, mask, len(arms))
        wide.append(pd.DataFrame({"variable": name, "category": "", "group": groups,
                                  "subjects": subj, "pct": _pct(subj, ns), "events": ev}))
    if levels:
        rank = pd.Categorical(sev, categories=levels).codes
        worst = pd.Series(rank).groupby(ae["subject"].to_numpy(), sort=False).transform("max")
        is_worst = (rank == worst.to_numpy()) & (rank >= 0)
        for i, level in enumerate(levels):
            subj, _ = _subjects_events(ae, is_worst & (rank == i), len(arms))
            _, ev = _subjects_events(ae, rank == i, len(arms))
            wide.append(pd.DataFrame({"variable": "MAX_SEVERITY", "category": level,
                                      "group": groups, "subjects": subj, "pct": _pct(subj, ns),
                                      "events": ev}))
    return stack_statistics(pd.concat(wide, ignore_index=True), STATS, analysis="ae_overview",
                            population=s["population"])


def soc_pt_counts(data: TrialData, serious_only: bool = False,
                  ae: pd.DataFrame | None = None) -> pd.DataFrame:
    """Subjects and events per SOC / PT and group, sorted for display.

    Returns
    -------
    DataFrame
        One row per (``variable`` = SOC or ``ANY``, ``category`` = PT or "") x group, with
        ``subjects``, ``pct`` and ``events``. SOCs, and PTs within a SOC, are sorted by
        decreasing number of subjects in the total column, then alphabetically.
    """
    s = _settings(data)
    if s is None:
        return pd.DataFrame(columns=["variable", "category", "group", *STATS])
    study = data.study
    ae = ae_frame(data) if ae is None else ae
    if serious_only:
        ae = ae.loc[ae["serious"].to_numpy()]
    arms = arm_codes(study)
    groups = [*arms, study.total_label]
    k = len(arms)
    ns = np.array(list(big_n(data, s["population"]).values()), dtype=float)

    def per_key(keys: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
        events = ae.groupby([*keys, "arm"], observed=True, sort=False).size()
        subs = (ae.drop_duplicates(["subject", *keys])
                .groupby([*keys, "arm"], observed=True, sort=False).size())
        ev = events.unstack("arm").reindex(columns=arms, fill_value=0).fillna(0)
        su = subs.unstack("arm").reindex(columns=arms, fill_value=0).fillna(0)
        su = su.loc[ev.index]
        return su, ev

    blocks: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    any_s, any_e = _subjects_events(ae, np.ones(len(ae), dtype=bool), k)
    blocks.append((ANY, "", any_s, any_e))
    if len(ae):
        soc_s, soc_e = per_key(["soc"])
        pt_s, pt_e = per_key(["soc", "pt"])
        soc_tot = soc_s.sum(axis=1)
        soc_order = sorted(soc_s.index, key=lambda x: (-int(soc_tot[x]), str(x)))
        pt_tot = pt_s.sum(axis=1)
        for soc in soc_order:
            row_s = soc_s.loc[soc].to_numpy()
            row_e = soc_e.loc[soc].to_numpy()
            blocks.append((str(soc), "", np.append(row_s, row_s.sum()),
                           np.append(row_e, row_e.sum())))
            pts = [pt for (sc, pt) in pt_s.index if sc == soc]
            for pt in sorted(pts, key=lambda p: (-int(pt_tot[(soc, p)]), str(p))):
                rs = pt_s.loc[(soc, pt)].to_numpy()
                re = pt_e.loc[(soc, pt)].to_numpy()
                blocks.append((str(soc), str(pt), np.append(rs, rs.sum()),
                               np.append(re, re.sum())))
    m = len(blocks)
    subjects = np.vstack([b[2] for b in blocks]).astype(float)
    events = np.vstack([b[3] for b in blocks]).astype(float)
    return pd.DataFrame({
        "variable": np.repeat([b[0] for b in blocks], k + 1),
        "category": np.repeat([b[1] for b in blocks], k + 1),
        "group": np.tile(np.array(groups, dtype=object), m),
        "subjects": subjects.ravel(),
        "pct": _pct(subjects, ns[None, :]).ravel(),
        "events": events.ravel(),
    })


def soc_pt_ard(data: TrialData, serious_only: bool = False,
               ae: pd.DataFrame | None = None) -> pd.DataFrame:
    """ARD rows ``analysis="sae_soc_pt"`` (serious events) or ``"ae_soc_pt"`` (all events):
    variable = SOC (``ANY`` = any event), category = PT ("" = SOC total); statistics
    ``subjects``, ``pct``, ``events``."""
    s = _settings(data)
    if s is None:
        return empty_frame()
    wide = soc_pt_counts(data, serious_only, ae)
    return stack_statistics(wide, STATS, analysis="sae_soc_pt" if serious_only else "ae_soc_pt",
                            population=s["population"])


def safety_ard(data: TrialData) -> pd.DataFrame:
    """All safety ARD rows (overview, serious SOC/PT, all SOC/PT) from one :func:`ae_frame`."""
    if _settings(data) is None:
        return empty_frame()
    ae = ae_frame(data)
    return concat_frames([ae_overview_ard(data, ae), soc_pt_ard(data, True, ae),
                          soc_pt_ard(data, False, ae)])


def sae_listing(data: TrialData) -> pd.DataFrame:
    """Listing of serious adverse events, sorted by arm (study order), subject, onset day, PT.

    Returns
    -------
    DataFrame
        Columns named after the study definition's variables, in this order: subject
        (``USUBJID``), arm *label* (the safety population's arm variable, e.g. ``TRT01A``), SOC,
        PT, onset study day (``Int64``), severity, relatedness, outcome (e.g. ``USUBJID,
        TRT01A, AEBODSYS, AEDECOD, ASTDY, AESEV, AEREL, AEOUT``).
    """
    s = _settings(data)
    study = data.study
    if s is None:
        return pd.DataFrame()
    names = [subject_variable(study), study.populations[s["population"]].arm_variable,
             s.get("soc", "AEBODSYS"), s.get("term", "AEDECOD"), s.get("start_day", "ASTDY"),
             s.get("severity", {}).get("variable", "AESEV"),
             s.get("related", {"variable": "AEREL"})["variable"], s.get("outcome", "AEOUT")]
    ae = ae_frame(data)
    sae = ae.loc[ae["serious"].to_numpy()].copy()
    sae["_order"] = sae["arm"].cat.codes
    sae = sae.sort_values(["_order", "subject", "start_day", "pt"], kind="mergesort")
    labels = study.arm_labels
    columns = [
        sae["subject"].to_numpy(),
        sae["arm"].astype(object).map(labels).to_numpy(dtype=object),
        sae["soc"].to_numpy(), sae["pt"].to_numpy(),
        pd.array(sae["start_day"].to_numpy(), dtype="Float64").astype("Int64"),
        sae["severity"].to_numpy(), sae["relatedness"].to_numpy(), sae["outcome"].to_numpy(),
    ]
    return pd.DataFrame(dict(zip(names, columns, strict=True)))

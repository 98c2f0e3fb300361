"""Fast, seeded synthetic multi-arm trials for tests and benchmarks (not a real study).

:func:`make_synthetic_trial` returns a study definition (the mapping ``study.yml`` would
hold) and typed ADaM-like frames by role, shaped like validated data (text as ``object`` with
``None`` for missing, integers as ``Int64``, dates as ``datetime64[ns]``). Its names differ on
purpose from ALEVIATE's (arm variable ``TRTP``, populations ``ITT``/``MITT``/``SAFETY``/``PP``,
dataset role ``adrs``, endpoints ``RESP24``/``SUSTAIN24``, weeks as the display unit) so that
tests show the analyses read every name from the study definition. Everything is generated
with whole-array numpy operations: 10,000 subjects with 300,000 adverse events take well under
a second.

:func:`write_synthetic_trial` writes the same trial to disk like a real one: the datasets as
CSV in ``data/``, their specification (:mod:`trialreport.demodata.synthetic_spec`) and the study
definition with its numbered outputs in ``data_spec/``, ready for ``trialreport validate`` and
``trialreport ard``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = ["SOC_PT", "arm_codes", "make_synthetic_trial", "study_outputs",
           "write_synthetic_trial"]

STUDYID = "SYNTH-001"
EXCLUSION_REASONS = ("NOT MEETING INCLUSION CRITERIA", "DECLINED TO PARTICIPATE",
                     "OTHER REASONS")
DC_REASONS = ("ADVERSE EVENT", "LACK OF EFFICACY", "WITHDRAWAL BY SUBJECT", "LOST TO FOLLOW-UP")
NOT_TREATED_REASONS = ("WITHDRAWAL BY SUBJECT", "PHYSICIAN DECISION")
SOC_PT: dict[str, tuple[str, ...]] = {
    "Infections and infestations": ("Nasopharyngitis", "Upper respiratory tract infection",
                                    "Urinary tract infection", "Pneumonia", "Sepsis"),
    "Nervous system disorders": ("Headache", "Dizziness", "Paraesthesia"),
    "Gastrointestinal disorders": ("Nausea", "Diarrhoea", "Vomiting", "Abdominal pain"),
    "General disorders and administration site conditions": ("Fatigue", "Pyrexia",
                                                             "Injection site reaction"),
    "Skin and subcutaneous tissue disorders": ("Rash", "Pruritus"),
    "Musculoskeletal and connective tissue disorders": ("Arthralgia", "Back pain"),
    "Blood and lymphatic system disorders": ("Neutropenia", "Anaemia"),
    "Vascular disorders": ("Hypertension", "Deep vein thrombosis"),
    "Cardiac disorders": ("Atrial fibrillation", "Myocardial infarction"),
    "Hepatobiliary disorders": ("Hepatic function abnormal",),
}
VISITS = (12, 24)  # weeks
DAY0 = np.datetime64("2020-01-06")


def _arms(k: int) -> list[dict[str, str]]:
    arms = [{"code": "Placebo", "label": "Placebo"}]
    arms += [{"code": f"Zelvimab {50 * i} mg", "label": f"{50 * i} mg"} for i in range(1, k)]
    return arms


def arm_codes(k: int = 3) -> list[str]:
    """Arm values in the data of a ``k``-arm trial, in display order (placebo first)."""
    return [a["code"] for a in _arms(k)]


def study_definition(k: int = 3) -> dict[str, Any]:
    """The study definition of a synthetic trial with ``k`` arms (placebo + ``k-1`` doses)."""
    arms = _arms(k)
    return {
        "report": {"version": "0.1.0", "status": "Draft"},
        "sources": {"recon": {"type": "reconstruction",
                              "citation": "Synthetic trial generated for tests"}},
        "study": {"id": STUDYID,
                  "title": {"text": f"Synthetic {k}-arm placebo-controlled trial",
                            "source": "recon"},
                  "synthetic_notice": "Synthetic data generated for testing."},
        "datasets": {"adsl": "adsl", "adae": "adae", "adrs": "adrs", "adtte": "adtte",
                     "screening": "screening"},
        "arms": {"variable": "TRTP", "levels": arms, "total": "All patients",
                 "reference": "Placebo"},
        "populations": {
            "ITT": {"label": "Intention-to-treat", "flag": "ITTFL", "arm_variable": "TRTP"},
            "MITT": {"label": "Modified ITT", "flag": "MITTFL", "arm_variable": "TRTP"},
            "SAFETY": {"label": "Safety set", "flag": "SAFFL", "arm_variable": "TRTA"},
            "PP": {"label": "Per protocol", "flag": "PPROTFL", "arm_variable": "TRTP"},
        },
        "disposition": {
            "screening": {"dataset": "screening", "randomised_flag": "RANDFL",
                          "reason": "EXCLREAS"},
            "randomised_flag": "ITTFL", "treated_flag": "SAFFL",
            "not_treated_reason": "DCSREAS", "status": "EOSSTT", "completed_value": "COMPLETED",
            "discontinued_reason": "DCSREAS", "analysed_flag": "MITTFL",
        },
        "baseline": {
            "population": "ITT", "tests": {"continuous": "auto", "categorical": "auto"},
            "variables": [
                {"name": "AGE", "label": "Age, years", "type": "continuous"},
                {"name": "SEX", "label": "Sex", "type": "categorical",
                 "levels": {"F": "Female", "M": "Male"}},
                {"name": "RACE", "label": "Race", "type": "categorical",
                 "levels": {"WHITE": "White", "BLACK": "Black", "ASIAN": "Asian"}},
                {"name": "WEIGHT", "label": "Weight, kg", "type": "continuous"},
                {"name": "REGION", "label": "Region", "type": "categorical",
                 "levels": {"EU": "Europe", "NA": "North America", "APAC": "Asia-Pacific"}},
            ],
        },
        "endpoints": {
            "visit_variable": "AVISITN", "conf_level": 0.95, "ci_method": "clopper-pearson",
            "difference_method": "newcombe", "test": "fisher",
            "binary": [
                {"id": "RESP24", "label": "Response at week 24", "population": "MITT",
                 "dataset": "adrs", "responder": {"paramcd": "RESPONSE", "visit": 24,
                                                  "values": ["Y"]}, "primary": True},
                {"id": "SUSTAIN24", "label": "Response at week 12 sustained without flare",
                 "population": "MITT", "dataset": "adrs",
                 "responder": {"paramcd": "RESPONSE", "visit": 12, "values": ["Y"]},
                 "no_event": {"paramcd": "FLARE", "values": ["Y"], "through_visit": 24},
                 "assessed_at": {"paramcd": "RESPONSE", "visit": 24}},
            ],
        },
        "time_to_event": [
            {"id": "TTFLARE", "label": "Time to first flare", "dataset": "adtte",
             "paramcd": "TTFLARE", "population": "MITT", "time_unit": "days",
             "display_unit": "weeks", "landmarks": [12, 24, 52]},
        ],
        "safety": {
            "population": "SAFETY", "dataset": "adae", "treatment_emergent_flag": "TRTEMFL",
            "serious": {"variable": "AESER", "value": "Y"},
            "related": {"variable": "AEREL", "value": "RELATED"},
            "severity": {"variable": "AESEV", "levels": ["MILD", "MODERATE", "SEVERE"]},
            "fatal": {"variable": "AEOUT", "value": "FATAL"},
            "soc": "AEBODSYS", "term": "AEDECOD", "outcome": "AEOUT", "start_day": "ASTDY",
            "statistics": {"test": "fisher", "difference_method": "newcombe"},
        },
        "outputs": study_outputs(k),
    }


def _text(values: np.ndarray, present: np.ndarray | None = None) -> np.ndarray:
    """Object array of str with ``None`` where ``present`` is False."""
    out = np.asarray(values).astype(object)
    if present is not None:
        out[~present] = None
    return out


def _yn(mask: np.ndarray) -> np.ndarray:
    return np.where(mask, "Y", "N").astype(object)


def make_synthetic_trial(n_subjects: int = 1000, n_ae: int | None = None, arms: int = 3,
                         seed: int = 20240101) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """A synthetic ``arms``-arm placebo-controlled trial.

    Parameters
    ----------
    n_subjects : int
        Randomised subjects (ADSL records); about 15% more are screened.
    n_ae : int, optional
        Adverse-event records (default ``30 * n_subjects``), spread over treated subjects.
    arms : int
        Number of arms (>= 2): placebo and ``arms - 1`` doses, 1:1:... allocation.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the result is a pure function of the
        arguments.

    Returns
    -------
    (study, frames)
        ``study``: the study-definition mapping (write it as YAML or pass it to
        :class:`trialreport.study.Study`); ``frames``: ``screening``, ``adsl``, ``adrs``,
        ``adtte``, ``adae`` DataFrames.
    """
    if arms < 2:
        raise ValueError("a synthetic trial needs at least 2 arms")
    rng = np.random.default_rng(seed)
    n = int(n_subjects)
    n_ae = 30 * n if n_ae is None else int(n_ae)
    arm_codes = np.array([a["code"] for a in _arms(arms)], dtype=object)

    # ADSL -----------------------------------------------------------------------------
    ids = np.array([f"SYN-{i:06d}" for i in range(1, n + 1)], dtype=object)
    arm_idx = rng.permutation(np.arange(n) % arms)
    treated = rng.random(n) > 0.01
    randdt = DAY0 + rng.integers(0, 730, n).astype("timedelta64[D]")
    trtsdt = randdt + rng.integers(0, 8, n).astype("timedelta64[D]")
    disc = treated & (rng.random(n) < 0.12)
    follow = np.where(disc, rng.integers(20, 360, n), 365)
    eosdt = np.where(treated, trtsdt + follow.astype("timedelta64[D]"),
                     randdt + rng.integers(1, 20, n).astype("timedelta64[D]"))
    dcsreas = np.where(disc, np.array(DC_REASONS, dtype=object)[rng.integers(0, 4, n)],
                       np.array(NOT_TREATED_REASONS, dtype=object)[rng.integers(0, 2, n)])
    weight = np.round(rng.normal(78, 14, n), 1)
    weight[rng.random(n) < 0.02] = np.nan
    race = np.array(["WHITE", "BLACK", "ASIAN", "OTHER"], dtype=object)[
        rng.choice(4, n, p=[0.62, 0.14, 0.2, 0.04])]
    adsl = pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": ids,
        "TRTP": arm_codes[arm_idx], "TRTA": _text(arm_codes[arm_idx], treated),
        "AGE": pd.array(np.clip(np.round(rng.normal(54, 12, n)), 18, 85).astype(int),
                        dtype="Int64"),
        "SEX": np.where(rng.random(n) < 0.55, "F", "M").astype(object),
        "RACE": race,
        "WEIGHT": weight,
        "REGION": np.array(["EU", "NA", "APAC"], dtype=object)[rng.integers(0, 3, n)],
        "RANDDT": randdt.astype("datetime64[ns]"),
        "TRTSDT": pd.Series(np.where(treated, trtsdt, np.datetime64("NaT"))
                            .astype("datetime64[ns]")),
        "EOSDT": eosdt.astype("datetime64[ns]"),
        "ITTFL": "Y", "MITTFL": _yn(treated), "SAFFL": _yn(treated),
        "PPROTFL": _yn(treated & ~disc & (rng.random(n) > 0.05)),
        "EOSSTT": np.where(treated & ~disc, "COMPLETED", "DISCONTINUED").astype(object),
        "DCSREAS": _text(dcsreas, ~(treated & ~disc)),
    })

    # screening ------------------------------------------------------------------------
    n_excl = int(round(0.15 * n))
    scr_rand = np.concatenate([np.ones(n, bool), np.zeros(n_excl, bool)])
    order = rng.permutation(n + n_excl)
    scr_rand = scr_rand[order]
    scr_ids = np.concatenate([ids, np.full(n_excl, None, dtype=object)])[order]
    reasons = np.array(EXCLUSION_REASONS, dtype=object)[rng.choice(3, n + n_excl,
                                                                   p=[0.6, 0.3, 0.1])]
    screening = pd.DataFrame({
        "STUDYID": STUDYID,
        "SCRID": np.array([f"S{i:06d}" for i in range(1, n + n_excl + 1)], dtype=object),
        "RANDFL": _yn(scr_rand), "EXCLREAS": _text(reasons, ~scr_rand),
        "USUBJID": scr_ids,
    })

    # response records (treated subjects, weeks 12 and 24, while on study) ---------------
    t_idx = np.flatnonzero(treated)
    p_resp = 0.30 + 0.12 * arm_idx[t_idx] / max(arms - 1, 1) * 2
    rows = []
    for v in VISITS:
        on_study = follow[t_idx] >= v * 7
        s = t_idx[on_study]
        p = p_resp[on_study] * (0.8 if v == 12 else 1.0)
        day = v * 7 + rng.integers(-5, 6, len(s))
        for param, values in (("RESPONSE", _yn(rng.random(len(s)) < p)),
                              ("FLARE", _yn(rng.random(len(s)) < 0.08))):
            rows.append(pd.DataFrame({"STUDYID": STUDYID, "USUBJID": ids[s], "PARAMCD": param,
                                      "AVISITN": v, "ADY": day, "AVALC": values}))
    adrs = pd.concat(rows, ignore_index=True)
    adrs = adrs.sort_values(["USUBJID", "AVISITN", "PARAMCD"], kind="mergesort")
    adrs["AVISITN"] = adrs["AVISITN"].astype("Int64")
    adrs["ADY"] = adrs["ADY"].astype("Int64")
    adrs = adrs.reset_index(drop=True)

    # time to first flare ------------------------------------------------------------------
    hazard = 1 / 500 * (1 - 0.15 * arm_idx[t_idx])
    event_day = np.ceil(rng.exponential(1 / hazard)).astype(int) + 1
    cens_day = follow[t_idx]
    event = event_day <= cens_day
    adtte = pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": ids[t_idx], "PARAMCD": "TTFLARE",
        "AVAL": pd.array(np.where(event, event_day, cens_day), dtype="Int64"),
        "CNSR": pd.array(np.where(event, 0, 1), dtype="Int64"),
    })

    # adverse events -------------------------------------------------------------------
    socs = np.array([s for s, pts in SOC_PT.items() for _ in pts], dtype=object)
    pts = np.array([p for ps in SOC_PT.values() for p in ps], dtype=object)
    weights = 1.0 / np.arange(1, len(pts) + 1)
    weights = rng.permutation(weights / weights.sum())
    who = t_idx[rng.integers(0, len(t_idx), n_ae)] if len(t_idx) else np.zeros(0, int)
    term = rng.choice(len(pts), n_ae, p=weights)
    serious = rng.random(n_ae) < 0.04
    sev = np.where(serious, rng.choice(3, n_ae, p=[0.1, 0.4, 0.5]),
                   rng.choice(3, n_ae, p=[0.65, 0.3, 0.05]))
    fatal = serious & (rng.random(n_ae) < 0.03)
    adae = pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": ids[who], "TRTA": arm_codes[arm_idx[who]],
        "AEDECOD": pts[term], "AEBODSYS": socs[term],
        "AESER": _yn(serious),
        "AESEV": np.array(["MILD", "MODERATE", "SEVERE"], dtype=object)[sev],
        "AEREL": np.where(rng.random(n_ae) < 0.3, "RELATED", "NOT RELATED").astype(object),
        "AEOUT": np.where(fatal, "FATAL", "RECOVERED/RESOLVED").astype(object),
        "ASTDY": pd.array(rng.integers(1, 366, n_ae), dtype="Int64"),
        "TRTEMFL": _yn(rng.random(n_ae) < 0.97),
    })
    adae = adae.sort_values(["USUBJID", "ASTDY"], kind="mergesort").reset_index(drop=True)
    adae.insert(2, "AESEQ", pd.array(adae.groupby("USUBJID", sort=False).cumcount() + 1,
                                     dtype="Int64"))
    frames = {"screening": screening, "adsl": adsl, "adrs": adrs, "adtte": adtte,
              "adae": adae}
    return study_definition(arms), frames


# -- the trial on disk ----------------------------------------------------------------------------


def study_outputs(k: int = 3) -> list[dict[str, Any]]:
    """The ``outputs:`` list of the synthetic study definition (ICH E3 section 14 numbering)."""
    return [
        {"id": "14.1.1", "name": "consort", "type": "consort",
         "title": "CONSORT 2010 flow diagram"},
        {"id": "14.1.1", "name": "disposition", "type": "disposition", "population": "ITT",
         "title": "Disposition of randomised subjects"},
        {"id": "14.1.2", "name": "analysis_sets", "type": "population_sets", "population": "ITT",
         "title": "Analysis sets"},
        {"id": "14.1.3", "name": "baseline", "type": "baseline", "population": "ITT",
         "title": "Demographic and baseline characteristics"},
        {"id": "14.2.1", "name": "efficacy", "type": "binary_endpoints", "population": "MITT",
         "title": "Response at week 24 and sustained response by arm",
         "footnotes": ["Subjects without an assessment are counted as non-responders."]},
        {"id": "14.2.2", "name": "tte", "type": "time_to_event", "param": "TTFLARE",
         "population": "MITT", "title": "Time to first flare (Kaplan-Meier estimates)"},
        {"id": "14.2.1", "name": "km_flare", "type": "km", "param": "TTFLARE",
         "population": "MITT", "title": "Kaplan-Meier estimate of time to first flare, by arm"},
        {"id": "14.3.1", "name": "ae_overview", "type": "ae_overview", "population": "SAFETY",
         "title": "Overview of treatment-emergent adverse events"},
        {"id": "14.3.2", "name": "teae_soc_pt", "type": "ae_soc_pt", "population": "SAFETY",
         "title": "Treatment-emergent adverse events by system organ class and preferred term"},
        {"id": "14.3.3", "name": "teae_severity", "type": "ae_severity", "population": "SAFETY",
         "title": "Treatment-emergent adverse events by maximum severity"},
        {"id": "14.3.4", "name": "sae_soc_pt", "type": "ae_soc_pt", "filter": "serious",
         "population": "SAFETY",
         "title": "Serious adverse events by system organ class and preferred term"},
        {"id": "14.3.2", "name": "sae_listing", "type": "ae_listing", "population": "SAFETY",
         "title": "Listing of serious adverse events"},
    ]


def _csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with dates as ISO 8601 text (``YYYY-MM-DD``), ready for ``to_csv``."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def write_synthetic_trial(folder: Path, n_subjects: int = 5000, n_ae: int | None = None,
                          arms: int = 3, seed: int = 20240101) -> dict[str, Path]:
    """Write a synthetic trial to ``folder`` as files, like a real study.

    Writes ``folder/data/<dataset>.csv`` (UTF-8, LF; missing values empty), the data
    specification ``folder/data_spec/<dataset>.yml`` and ``rules.yml`` (from
    :mod:`trialreport.demodata.synthetic_spec`) and the study definition
    ``folder/data_spec/study.yml`` (:func:`make_synthetic_trial`'s, plus :func:`study_outputs`).
    The arguments are those of :func:`make_synthetic_trial`; the files are a pure function of
    them.

    Returns
    -------
    dict
        ``data`` (the data folder), ``spec`` (the specification folder) and ``study`` (the
        study definition file): the ``--data``, ``--spec`` and ``--study`` of
        ``trialreport ard``.

    Raises
    ------
    ValueError
        If a dataset's columns differ from its specification (the generator and the
        specification have drifted apart).
    """
    from trialreport.demodata.synthetic_spec import dataset_specs, write_specification

    folder = Path(folder)
    data_dir, spec_dir = folder / "data", folder / "data_spec"
    data_dir.mkdir(parents=True, exist_ok=True)
    study, frames = make_synthetic_trial(n_subjects, n_ae, arms=arms, seed=seed)
    specs = dataset_specs(arms)
    for role, frame in frames.items():
        stem = study["datasets"][role]
        names = [v["name"] for v in specs[stem]["variables"]]
        if list(frame.columns) != names:
            raise ValueError(f"{stem}: columns {list(frame.columns)} differ from the "
                             f"specification {names}")
        _csv_text(frame).to_csv(data_dir / f"{stem}.csv", index=False, lineterminator="\n",
                                encoding="utf-8")
    write_specification(spec_dir, arms)
    study = {**study, "outputs": study_outputs(arms)}
    study_file = spec_dir / "study.yml"
    header = (f"# Study definition of the synthetic trial {STUDYID} ({arms} arms, "
              f"{n_subjects} subjects, seed {seed}); not a real study.\n")
    study_file.write_text(header + yaml.safe_dump(study, sort_keys=False, allow_unicode=True,
                                                  width=100),
                          encoding="utf-8", newline="\n")
    return {"data": data_dir, "spec": spec_dir, "study": study_file}

"""A seeded synthetic ADaM trial shipped the way sponsors ship one: SAS transport v5 + define.xml.

:func:`write_sas_trial` writes ``adsl.xpt``, ``adae.xpt`` and, on request, ``adeff.xpt`` (a
BDS efficacy dataset: a symptom score SYMSCORE at baseline and weeks 4, 8, 12 with change from
baseline, and a responder parameter RESP with AVALC Y/N) and ``adtte.xpt`` (time to
progression TTPROG and to death TTDEATH from the first dose, CNSR 0 = event), each a SAS
transport version 5 file with dataset and variable labels and SAS formats (DATE9. dates),
plus a Define-XML 2.0 ``define.xml`` with key sequences and codelists
(:mod:`trialreport.demodata.sas_define`).
The data are invented for tests (not a real study, not the CDISC pilot data) and hold what
real submissions hold and naive readers get wrong: exact zeros (placebo dose 0, event
indicator 0), SAS special missing values (.A not done, .B not applicable) in numeric columns,
missing dates and blank text. :func:`build_sas_trial` returns the same data as Python values
(dates as ``datetime64[D]``, numbers as floats, missing as NaN/NaT/``None``, special missing
codes by column and row) so tests can compare what is read with what was written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from trialreport.demodata.synthetic import SOC_PT

__all__ = ["SEED", "SasDataset", "SasVariable", "build_sas_trial", "sas_arms", "write_sas_trial"]

SEED = 20240917
STUDYID = "VLT-301"
DRUG = "Veltrasib"
SAS_EPOCH = np.datetime64("1960-01-01", "D")
DAY0 = np.datetime64("2021-03-01", "D")
DC_REASONS = ("ADVERSE EVENT", "LACK OF EFFICACY", "WITHDRAWAL BY SUBJECT", "LOST TO FOLLOW-UP",
              "PHYSICIAN DECISION")
RACES = ("WHITE", "BLACK OR AFRICAN AMERICAN", "ASIAN", "AMERICAN INDIAN OR ALASKA NATIVE",
         "MULTIPLE")
ETHNICITIES = ("HISPANIC OR LATINO", "NOT HISPANIC OR LATINO", "NOT REPORTED")
OUTCOMES = ("RECOVERED/RESOLVED", "RECOVERING/RESOLVING", "NOT RECOVERED/NOT RESOLVED",
            "RECOVERED/RESOLVED WITH SEQUELAE", "FATAL")
ACTIONS = ("DOSE NOT CHANGED", "DRUG INTERRUPTED", "DRUG WITHDRAWN", "NOT APPLICABLE")
SEVERITIES = ("MILD", "MODERATE", "SEVERE")
VISITS = ((0, "Baseline"), (4, "Week 4"), (8, "Week 8"), (12, "Week 12"))
SCORE_PARAM = "Total Symptom Score"
RESPONSE_PARAM = "Symptom Score Responder (Score at Most 50% of Baseline)"
# (PARAMCD, PARAM, event description, hazard per day on placebo)
TTE_PARAMS = (("TTPROG", "Time to Disease Progression (days)", "DISEASE PROGRESSION", 0.0015),
              ("TTDEATH", "Time to Death (days)", "DEATH", 0.0004))


@dataclass(frozen=True)
class SasVariable:
    """One variable: SAS type via ``kind`` (text | integer | float | date), label, codelist."""

    name: str
    label: str
    kind: str
    codelist: str | None = None  # a codelist OID of sas_define.codelists()
    key: int | None = None  # KeySequence in define.xml


@dataclass
class SasDataset:
    """One dataset as written: typed values, labels and the special missing codes."""

    name: str
    label: str
    structure: str
    dataset_class: str
    variables: list[SasVariable]
    frame: pd.DataFrame
    special_missing: dict[str, dict[int, str]] = field(default_factory=dict)  # col -> row -> code

    @property
    def file(self) -> str:
        """File name (lower case, as submissions name them)."""
        return f"{self.name.lower()}.xpt"

    def variable(self, name: str) -> SasVariable:
        """The variable called ``name``."""
        return next(v for v in self.variables if v.name == name)


def sas_arms(arms: int = 3) -> list[tuple[str, int]]:
    """(arm name, dose in mg) of a ``arms``-arm trial: placebo (dose 0) and rising doses."""
    if not 1 <= arms <= 9:
        raise ValueError(f"arms must be between 1 and 9, got {arms}")
    doses = [25 * i for i in range(1, arms)] if arms > 1 else [25]
    out = [("Placebo", 0)] if arms > 1 else []
    return out + [(f"{DRUG} {d} mg", d) for d in doses]


def _days(dates: np.ndarray) -> np.ndarray:
    """SAS day counts (float, NaN for NaT) of ``datetime64[D]`` values."""
    dates = np.asarray(dates, dtype="datetime64[D]")
    out = (dates - SAS_EPOCH).astype("int64").astype("float64")
    out[np.isnat(dates)] = np.nan
    return out


def _pick(rng: np.random.Generator, options: tuple[str, ...], n: int,
          p: list[float] | None = None) -> np.ndarray:
    return np.array(options, dtype=object)[rng.choice(len(options), n, p=p)]


def _adsl(rng: np.random.Generator, n: int, arms: int) -> SasDataset:
    arm_list = sas_arms(arms)
    arm_idx = rng.permutation(np.arange(n) % len(arm_list))
    names = np.array([a for a, _ in arm_list], dtype=object)[arm_idx]
    doses = np.array([d for _, d in arm_list], dtype="float64")[arm_idx]
    treated = rng.random(n) > 0.02
    treated[0] = True  # at least one subject in the safety population
    sites = np.array([f"{s}" for s in range(101, 111)], dtype=object)[rng.integers(0, 10, n)]
    subjid = np.array([f"{s}{i + 1:04d}" for i, s in enumerate(sites)], dtype=object)
    trtsdt = DAY0 + rng.integers(0, 540, n).astype("timedelta64[D]")
    disc = treated & (rng.random(n) < 0.15)
    length = np.where(disc, rng.integers(10, 160, n), rng.integers(166, 172, n))
    trtedt = trtsdt + length.astype("timedelta64[D]")
    trtsdt[~treated] = np.datetime64("NaT")
    trtedt[~treated] = np.datetime64("NaT")
    age = np.clip(np.round(rng.normal(58, 12, n)), 18, 85)
    height = np.round(rng.normal(170, 9, n), 1)
    weight = np.round(rng.normal(78, 14, n), 1)
    not_done = rng.random(n) < 0.03  # .A: height not measured
    not_applicable = rng.random(n) < 0.02  # .B: weight not applicable
    if n >= 2:  # at least one of each, whatever the size
        first, second = rng.choice(n, 2, replace=False)
        not_done[first], not_applicable[second] = True, True
    not_applicable &= ~not_done
    height[not_done] = np.nan
    weight[not_applicable] = np.nan
    bmi = np.round(weight / (height / 100) ** 2, 1)
    discontinued = disc | ~treated
    frame = pd.DataFrame({
        "STUDYID": STUDYID,
        "USUBJID": [f"{STUDYID}-{s}-{i}" for s, i in zip(sites, subjid, strict=True)],
        "SUBJID": subjid, "SITEID": sites,
        "TRT01P": names, "TRT01PN": doses,
        "TRT01A": np.where(treated, names, None), "TRT01AN": np.where(treated, doses, np.nan),
        "AGE": age, "AGEGR1": np.where(age >= 65, ">=65", "<65").astype(object),
        "SEX": _pick(rng, ("F", "M"), n), "RACE": _pick(rng, RACES, n, [.7, .12, .12, .02, .04]),
        "ETHNIC": _pick(rng, ETHNICITIES, n, [.15, .8, .05]),
        "BMIBL": bmi, "HEIGHTBL": height, "WEIGHTBL": weight,
        "ITTFL": "Y", "SAFFL": np.where(treated, "Y", "N").astype(object),
        "EFFFL": np.where(treated & (length >= 28), "Y", "N").astype(object), "RANDFL": "Y",
        "TRTSDT": trtsdt, "TRTEDT": trtedt,
        "EOSSTT": np.where(discontinued, "DISCONTINUED", "COMPLETED").astype(object),
        "DCSREAS": np.where(discontinued, _pick(rng, DC_REASONS, n), None),
    })
    frame["TRT01P"] = frame["TRT01P"].astype(object)
    rows_a = {int(i) + 1: "A" for i in np.flatnonzero(not_done)}
    rows_b = {int(i) + 1: "B" for i in np.flatnonzero(not_applicable)}
    variables = [
        SasVariable("STUDYID", "Study Identifier", "text", key=1),
        SasVariable("USUBJID", "Unique Subject Identifier", "text", key=2),
        SasVariable("SUBJID", "Subject Identifier for the Study", "text"),
        SasVariable("SITEID", "Study Site Identifier", "text"),
        SasVariable("TRT01P", "Planned Treatment for Period 01", "text", "CL.ARM"),
        SasVariable("TRT01PN", "Planned Treatment for Period 01 (N)", "integer", "CL.ARMN"),
        SasVariable("TRT01A", "Actual Treatment for Period 01", "text", "CL.ARM"),
        SasVariable("TRT01AN", "Actual Treatment for Period 01 (N)", "integer", "CL.ARMN"),
        SasVariable("AGE", "Age", "integer"),
        SasVariable("AGEGR1", "Pooled Age Group 1", "text", "CL.AGEGR1"),
        SasVariable("SEX", "Sex", "text", "CL.SEX"),
        SasVariable("RACE", "Race", "text", "CL.RACE"),
        SasVariable("ETHNIC", "Ethnicity", "text", "CL.ETHNIC"),
        SasVariable("BMIBL", "Baseline BMI (kg/m2)", "float"),
        SasVariable("HEIGHTBL", "Baseline Height (cm)", "float"),
        SasVariable("WEIGHTBL", "Baseline Weight (kg)", "float"),
        SasVariable("ITTFL", "Intent-To-Treat Population Flag", "text", "CL.NY"),
        SasVariable("SAFFL", "Safety Population Flag", "text", "CL.NY"),
        SasVariable("EFFFL", "Efficacy Population Flag", "text", "CL.NY"),
        SasVariable("RANDFL", "Randomized Population Flag", "text", "CL.NY"),
        SasVariable("TRTSDT", "Date of First Exposure to Treatment", "date"),
        SasVariable("TRTEDT", "Date of Last Exposure to Treatment", "date"),
        SasVariable("EOSSTT", "End of Study Status", "text", "CL.EOSSTT"),
        SasVariable("DCSREAS", "Reason for Discontinuation from Study", "text", "CL.DCSREAS"),
    ]
    return SasDataset("ADSL", "Subject-Level Analysis Dataset", "One record per subject",
                      "SUBJECT LEVEL ANALYSIS DATASET", variables, frame,
                      {"HEIGHTBL": rows_a, "WEIGHTBL": rows_b,
                       "BMIBL": {**rows_a, **rows_b}})


def _adae(rng: np.random.Generator, adsl: pd.DataFrame) -> SasDataset:
    safety = adsl[adsl["SAFFL"] == "Y"].reset_index(drop=True)
    counts = rng.poisson(2.2, len(safety))
    who = np.repeat(np.arange(len(safety)), counts)
    n = len(who)
    pairs = [(soc, pt) for soc, pts in SOC_PT.items() for pt in pts]
    term = rng.integers(0, len(pairs), n)
    start = safety["TRTSDT"].to_numpy()[who]
    end = safety["TRTEDT"].to_numpy()[who]
    span = ((end - start).astype("timedelta64[D]").astype(int) + 30)
    offset = np.floor(rng.random(n) * (span + 14)).astype(int) - 14  # some before first dose
    astdt = (start + offset.astype("timedelta64[D]")).astype("datetime64[D]")
    astdy = np.where(offset >= 0, offset + 1, offset).astype("float64")
    serious = rng.random(n) < 0.06
    outcome = _pick(rng, OUTCOMES[:4], n, [.7, .12, .13, .05])
    outcome[serious & (rng.random(n) < 0.05)] = "FATAL"
    first = np.repeat(np.cumsum(counts) - counts, counts)
    seq = (np.arange(n) - first + 1).astype("float64")  # AESEQ: each subject's events from 1
    frame = pd.DataFrame({
        "STUDYID": STUDYID, "USUBJID": safety["USUBJID"].to_numpy()[who], "AESEQ": seq,
        "TRTA": safety["TRT01A"].to_numpy()[who],
        "TRTEMFL": np.where(offset >= 0, "Y", "N").astype(object),
        "AEBODSYS": np.array([pairs[t][0] for t in term], dtype=object),
        "AEDECOD": np.array([pairs[t][1] for t in term], dtype=object),
        "AESER": np.where(serious, "Y", "N").astype(object),
        "AESEV": np.where(serious, _pick(rng, SEVERITIES, n, [.1, .4, .5]),
                          _pick(rng, SEVERITIES, n, [.65, .3, .05])),
        "AEREL": np.where(rng.random(n) < 0.3, "RELATED", "NOT RELATED").astype(object),
        "ASTDT": astdt, "ASTDY": astdy, "AEOUT": outcome,
        "AEACN": _pick(rng, ACTIONS, n, [.7, .12, .08, .1]),
    })
    variables = [
        SasVariable("STUDYID", "Study Identifier", "text", key=1),
        SasVariable("USUBJID", "Unique Subject Identifier", "text", key=2),
        SasVariable("AESEQ", "Sequence Number", "integer", key=3),
        SasVariable("TRTA", "Actual Treatment", "text", "CL.ARM"),
        SasVariable("TRTEMFL", "Treatment Emergent Analysis Flag", "text", "CL.NY"),
        SasVariable("AEBODSYS", "Body System or Organ Class", "text", "CL.MEDDRA"),
        SasVariable("AEDECOD", "Dictionary-Derived Term", "text", "CL.MEDDRA"),
        SasVariable("AESER", "Serious Event", "text", "CL.NY"),
        SasVariable("AESEV", "Severity/Intensity", "text", "CL.AESEV"),
        SasVariable("AEREL", "Causality", "text", "CL.AEREL"),
        SasVariable("ASTDT", "Analysis Start Date", "date"),
        SasVariable("ASTDY", "Analysis Start Relative Day", "integer"),
        SasVariable("AEOUT", "Outcome of Adverse Event", "text", "CL.AEOUT"),
        SasVariable("AEACN", "Action Taken with Study Treatment", "text", "CL.AEACN"),
    ]
    return SasDataset("ADAE", "Adverse Events Analysis Dataset",
                      "One record per subject per adverse event", "OCCURRENCE DATA STRUCTURE",
                      variables, frame)


def _adeff(rng: np.random.Generator, adsl: pd.DataFrame) -> SasDataset:
    eff = adsl[adsl["EFFFL"] == "Y"].reset_index(drop=True)
    n = len(eff)
    effect = eff["TRT01PN"].to_numpy() / 25.0  # larger doses lower the score more
    base = np.round(rng.uniform(12, 40, n), 1)
    # exact zeros: a few subjects free of symptoms at baseline, a few unchanged at week 8
    free = rng.random(n) < 0.03
    unchanged = rng.random(n) < 0.05
    if n:
        free[rng.integers(n)] = True
        unchanged[rng.integers(n)] = True
    base[free] = 0.0
    rows = []
    for week, visit in VISITS:
        attended = np.ones(n, bool) if week == 0 else rng.random(n) > 0.08
        value = base if week == 0 else np.round(np.clip(
            base - effect * week * 0.35 - rng.normal(0, 3, n), 0, 60), 1)
        if week == 8:
            value = np.where(unchanged, base, value)  # change from baseline is 0
            attended |= unchanged
        for i in np.flatnonzero(attended):
            common = {"STUDYID": STUDYID, "USUBJID": eff["USUBJID"].iloc[i],
                      "TRTP": eff["TRT01P"].iloc[i], "TRTPN": eff["TRT01PN"].iloc[i],
                      "AVISIT": visit, "AVISITN": float(week),
                      "ADT": eff["TRTSDT"].iloc[i] + np.timedelta64(week * 7, "D"),
                      "ADY": float(week * 7 + 1)}
            rows.append({**common, "PARAMCD": "SYMSCORE", "PARAM": SCORE_PARAM,
                         "AVAL": float(value[i]), "AVALC": None, "BASE": float(base[i]),
                         "CHG": np.nan if week == 0 else round(float(value[i] - base[i]), 1),
                         "ABLFL": "Y" if week == 0 else None})
            if week:  # responder: the score at most half its baseline (1 = Y, 0 = N)
                responder = bool(value[i] * 2 <= base[i])
                rows.append({**common, "PARAMCD": "RESP", "PARAM": RESPONSE_PARAM,
                             "AVAL": float(responder), "AVALC": "Y" if responder else "N",
                             "BASE": np.nan, "CHG": np.nan, "ABLFL": None})
    frame = pd.DataFrame(rows)
    frame["ADT"] = frame["ADT"].to_numpy().astype("datetime64[D]")
    variables = [
        SasVariable("STUDYID", "Study Identifier", "text", key=1),
        SasVariable("USUBJID", "Unique Subject Identifier", "text", key=2),
        SasVariable("TRTP", "Planned Treatment", "text", "CL.ARM"),
        SasVariable("TRTPN", "Planned Treatment (N)", "integer", "CL.ARMN"),
        SasVariable("PARAMCD", "Parameter Code", "text", "CL.EFFPARAMCD", key=3),
        SasVariable("PARAM", "Parameter", "text"),
        SasVariable("AVISIT", "Analysis Visit", "text", "CL.AVISIT"),
        SasVariable("AVISITN", "Analysis Visit (N)", "integer", "CL.AVISITN", key=4),
        SasVariable("ADT", "Analysis Date", "date"),
        SasVariable("ADY", "Analysis Relative Day", "integer"),
        SasVariable("AVAL", "Analysis Value", "float"),
        SasVariable("AVALC", "Analysis Value (C)", "text", "CL.NY"),
        SasVariable("BASE", "Baseline Value", "float"),
        SasVariable("CHG", "Change from Baseline", "float"),
        SasVariable("ABLFL", "Baseline Record Flag", "text", "CL.Y"),
    ]
    return SasDataset("ADEFF", "Efficacy Analysis Dataset",
                      "One record per subject per parameter per analysis visit",
                      "BASIC DATA STRUCTURE", variables, frame)


def _adtte(rng: np.random.Generator, adsl: pd.DataFrame) -> SasDataset:
    safety = adsl[adsl["SAFFL"] == "Y"].reset_index(drop=True)
    start = safety["TRTSDT"].to_numpy().astype("datetime64[D]")
    follow = (safety["TRTEDT"].to_numpy().astype("datetime64[D]") - start).astype(int) + 30
    frames = []
    for paramcd, param, description, hazard in TTE_PARAMS:
        rate = hazard * (1.0 - safety["TRT01PN"].to_numpy() / 200.0)
        event_day = np.maximum(np.ceil(rng.exponential(1 / rate)), 1).astype(int)
        event = event_day <= follow
        aval = np.where(event, event_day, follow).astype("float64")
        frames.append(pd.DataFrame({
            "STUDYID": STUDYID, "USUBJID": safety["USUBJID"].to_numpy(),
            "PARAMCD": paramcd, "PARAM": param, "AVAL": aval,
            "CNSR": np.where(event, 0.0, 1.0),
            "EVNTDESC": np.where(event, description, "END OF FOLLOW-UP").astype(object),
            "STARTDT": start, "ADT": start + (aval - 1).astype(int).astype("timedelta64[D]")}))
    frame = pd.concat(frames, ignore_index=True)
    variables = [
        SasVariable("STUDYID", "Study Identifier", "text", key=1),
        SasVariable("USUBJID", "Unique Subject Identifier", "text", key=2),
        SasVariable("PARAMCD", "Parameter Code", "text", "CL.TTEPARAMCD", key=3),
        SasVariable("PARAM", "Parameter", "text"),
        SasVariable("AVAL", "Analysis Value", "integer"),
        SasVariable("CNSR", "Censor", "integer", "CL.CNSR"),
        SasVariable("EVNTDESC", "Event or Censoring Description", "text", "CL.EVNTDESC"),
        SasVariable("STARTDT", "Time-to-Event Origin Date for Subject", "date"),
        SasVariable("ADT", "Analysis Date", "date"),
    ]
    return SasDataset("ADTTE", "Time-to-Event Analysis Dataset",
                      "One record per subject per parameter", "BASIC DATA STRUCTURE",
                      variables, frame)


def build_sas_trial(n_subjects: int = 254, arms: int = 3, seed: int = SEED,
                    with_efficacy: bool = True, with_tte: bool = True
                    ) -> dict[str, SasDataset]:
    """The trial's datasets by name (ADSL, ADAE[, ADEFF][, ADTTE]); a pure function of the
    arguments."""
    if n_subjects < 1:
        raise ValueError(f"n_subjects must be at least 1, got {n_subjects}")
    rng = np.random.default_rng(seed)
    adsl = _adsl(rng, n_subjects, arms)
    out = {"ADSL": adsl, "ADAE": _adae(rng, adsl.frame)}
    if with_efficacy:
        out["ADEFF"] = _adeff(rng, adsl.frame)
    if with_tte:
        out["ADTTE"] = _adtte(rng, adsl.frame)
    return out


def _sas_frame(ds: SasDataset) -> tuple[pd.DataFrame, dict[str, str]]:
    """Values as SAS stores them (numbers and day counts as floats) and the formats."""
    columns: dict[str, object] = {}
    formats: dict[str, str] = {}
    for var in ds.variables:
        values = ds.frame[var.name]
        if var.kind == "date":
            columns[var.name] = _days(values.to_numpy())
            formats[var.name] = "DATE9."
        elif var.kind in ("integer", "float"):
            columns[var.name] = values.to_numpy(dtype="float64")
            if var.kind == "integer":
                formats[var.name] = "8."
        else:
            columns[var.name] = values.astype(object).where(values.notna(), "").to_numpy()
    return pd.DataFrame(columns), formats


def _write_special_missing(path: Path, ds: SasDataset) -> None:
    """Turn the written system missing values (``.``) into their special codes in place.

    pyreadstat writes special missing values only to SAS7BDAT, so they are set here in the
    v5 layout (SAS TS-140): a missing number is its code byte (``.``, ``A``-``Z``, ``_``)
    followed by zero bytes, records follow the ``OBS`` header record back to back.
    """
    if not ds.special_missing:
        return
    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    widths = [int(meta.variable_storage_width[c]) for c in meta.column_names]
    starts = dict(zip(meta.column_names, np.cumsum([0, *widths[:-1]]).tolist(), strict=True))
    row_length = sum(widths)
    data = bytearray(path.read_bytes())
    obs = data.find(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!")
    if obs < 0 or obs % 80:
        raise RuntimeError(f"{path}: no observation header record where expected")
    for column, rows in ds.special_missing.items():
        for row, code in rows.items():
            offset = obs + 80 + (row - 1) * row_length + starts[column]
            if data[offset:offset + 1] != b"." or any(data[offset + 1:offset + 8]):
                raise RuntimeError(f"{path}: {column} row {row} is not a missing value")
            data[offset] = ord(code)
    path.write_bytes(bytes(data))


def write_sas_trial(folder: Path, n_subjects: int = 254, arms: int = 3, seed: int = SEED,
                    with_efficacy: bool = True, with_tte: bool = True) -> list[Path]:
    """Write the trial into ``folder`` as SAS transport v5 files plus ``define.xml``.

    Returns the written paths (``adsl.xpt``, ``adae.xpt``[, ``adeff.xpt``][, ``adtte.xpt``],
    ``define.xml``). With ``with_efficacy=False, with_tte=False`` only ADSL and ADAE are
    written (a safety-only delivery). The files are a pure function of the arguments.
    """
    from trialreport.demodata.sas_define import write_define

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    datasets = build_sas_trial(n_subjects, arms, seed, with_efficacy, with_tte)
    written = []
    for ds in datasets.values():
        frame, formats = _sas_frame(ds)
        path = folder / ds.file
        pyreadstat.write_xport(frame, str(path), file_label=ds.label, table_name=ds.name,
                               column_labels={v.name: v.label for v in ds.variables},
                               file_format_version=5, variable_format=formats)
        _write_special_missing(path, ds)
        written.append(path)
    written.append(write_define(folder / "define.xml", datasets, arms))
    return written

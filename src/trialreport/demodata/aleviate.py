"""Seeded, deterministic reconstruction of the ALEVIATE trial data.

ALEVIATE (NCT01405807; Gopaluni et al., Arthritis Res Ther 2022, doi 10.1186/s13075-022-02761-6)
randomised 24 patients with refractory ANCA-associated vasculitis (AAV) or Behçet's disease (BD)
to alemtuzumab 60 mg or 30 mg. Individual patient data are not public, so this module builds
*synthetic* patients whose aggregates reproduce every published figure exactly. The published
figures are fixed by construction (the lists below); the seeded random generator only decides
which synthetic patient carries which value and fills details the publication does not report.
Every such choice is listed in ``CHOICES`` and written to ``data/README.md``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SEED = 20111108  # NCT01405807 first posted 2011-08; fixed so the files rebuild byte for byte
STUDYID = "ALEVIATE"
ARM_HIGH = "Alemtuzumab 60 mg"
ARM_LOW = "Alemtuzumab 30 mg"

# Published aggregates, fixed by construction (23 treated patients).
AGES = [28, 30, 31, 33, 34, 35, 36, 37, 38, 39, 39, 40, 40, 41, 41, 42, 42, 42, 43, 43, 44, 44, 44]
DURATIONS = [14, 22, 27, 33, 38, 42, 42, 47, 51, 55, 58, 61, 66, 74, 82, 95, 103, 103, 118, 134,
             150, 177, 212]

# Reconstruction choices where the publication is silent (documented in data/README.md).
CHOICES: list[str] = [
    "Arm split of the 24 randomised: 12 to 60 mg, 12 to 30 mg; the one never-dosed patient was "
    "allocated to 30 mg (withdrew consent before the first infusion), so 12 and 11 were treated.",
    "Diagnosis by arm among the treated: 60 mg 6 AAV + 6 BD, 30 mg 6 AAV + 5 BD; AAV subtypes "
    "8 GPA, 3 MPA, 1 EGPA; the undosed patient had GPA.",
    "Sex by arm: 8/12 female (60 mg), 7/11 female (30 mg).",
    "Six-month response by arm: 60 mg 3 complete + 5 partial (8/12), 30 mg 3 complete + 5 partial "
    "(8/11); remission without relapse to month 12: 4/12 and 4/11.",
    "Serious adverse events: the publication reports 'Ten severe adverse events were observed "
    "in 7 (30%) patients; 4 were related to alemtuzumab'; the reconstruction records these ten "
    "events as serious adverse events (AESER = Y) and grades their severity separately (a "
    "synthetic choice, so the severity counts are not the publication's). 60 mg 6 events in 4 "
    "patients (2 related), 30 mg 4 events in 3 patients (2 related); preferred terms and "
    "system organ classes are plausible choices in MedDRA style (Pneumonia, Sepsis, Infusion "
    "related reaction, Vasculitis, Cytomegalovirus "
    "infection, Urinary tract infection, Immune thrombocytopenia, Basedow's disease, Deep vein "
    "thrombosis), not the trial's own coding.",
    "Non-serious adverse events are drawn at random from a list of events common after "
    "alemtuzumab (infusion reactions, infections, thyroid disorders); their counts are synthetic.",
    "Screening: 31 patients assessed for eligibility, 7 excluded (4 not meeting inclusion "
    "criteria: 2 creatinine above 150 µmol/L, 1 aged over 60, 1 without prior treatment "
    "failure; 2 declined to participate; 1 other reason).",
    "Disease activity: one score per patient, BVAS/WG for AAV and BDCAF for Behçet's disease, "
    "stored as PARAMCD ACTSCORE with the instrument in ADSL.ACTINSTR; baseline scores 3-12. "
    "Response uses the published definition on that score (complete: 0; partial: at most 50% of "
    "baseline).",
    "Courses: 19 patients received two courses (baseline, month 6), 3 received a third course "
    "from month 3, 1 (a complete responder) received only the first course.",
    "Discontinuations after dosing: 1 non-responder in 60 mg (lack of efficacy, after month 6) and "
    "1 relapsing responder in 30 mg (physician decision, after month 9).",
    "Relapses among the 16 six-month responders: 8 (4 per arm), onset between months 6 and 12.",
    "Dates: first randomisation 2012-03-05, later ones every 3-6 weeks; visits at days 91, 183, "
    "274 and 365 after the first dose with a jitter of up to 7 days.",
]


@dataclass
class Patient:
    """One synthetic patient before conversion to ADaM rows."""

    arm: str
    dosed: bool = True
    diaggrp: str = ""
    diag: str = ""
    sex: str = ""
    age: int = 0
    durdis: int = 0
    resp6: str = "NONE"  # COMPLETE / PARTIAL / NONE
    relapse_visit: int | None = None  # month of the visit at which a relapse is recorded
    courses: int = 2
    dc_reason: str | None = None
    dc_after_month: int | None = None
    saes: list[tuple[str, str, bool]] = field(default_factory=list)  # (term, SOC, related)


SAE_60 = [
    [("Pneumonia", "Infections and infestations", False),
     ("Sepsis", "Infections and infestations", False)],
    [("Infusion related reaction", "Injury, poisoning and procedural complications", True),
     ("Vasculitis", "Vascular disorders", False)],
    [("Cytomegalovirus infection", "Infections and infestations", True)],
    [("Urinary tract infection", "Infections and infestations", False)],
]
SAE_30 = [
    [("Immune thrombocytopenia", "Blood and lymphatic system disorders", True),
     ("Pneumonia", "Infections and infestations", False)],
    [("Basedow's disease", "Endocrine disorders", True)],
    [("Deep vein thrombosis", "Vascular disorders", False)],
]
NONSERIOUS = [
    ("Infusion related reaction", "Injury, poisoning and procedural complications", True),
    ("Headache", "Nervous system disorders", True),
    ("Rash", "Skin and subcutaneous tissue disorders", True),
    ("Pyrexia", "General disorders and administration site conditions", True),
    ("Nausea", "Gastrointestinal disorders", False),
    ("Upper respiratory tract infection", "Infections and infestations", False),
    ("Urinary tract infection", "Infections and infestations", False),
    ("Oral herpes", "Infections and infestations", True),
    ("Fatigue", "General disorders and administration site conditions", False),
    ("Lymphopenia", "Blood and lymphatic system disorders", True),
    ("Hypothyroidism", "Endocrine disorders", True),
    ("Arthralgia", "Musculoskeletal and connective tissue disorders", False),
    ("Oral ulceration", "Gastrointestinal disorders", False),
]
VISITS = [(0, "Baseline", 1), (3, "Month 3", 91), (6, "Month 6", 183), (9, "Month 9", 274),
          (12, "Month 12", 365)]


def _arm_patients(arm: str, n_aav: int, n_bd: int, n_female: int, resp: list[str],
                  n_relapse: int, saes: list, rng: np.random.Generator) -> list[Patient]:
    """Patients of one arm with the arm's aggregates fixed; who-gets-what is shuffled."""
    n = n_aav + n_bd
    patients = [Patient(arm=arm) for _ in range(n)]
    diag = ["AAV"] * n_aav + ["BD"] * n_bd
    sexes = ["F"] * n_female + ["M"] * (n - n_female)
    for p, d, s, r in zip(patients, rng.permutation(diag), rng.permutation(sexes),
                          rng.permutation(resp), strict=True):
        p.diaggrp, p.sex, p.resp6 = str(d), str(s), str(r)
    responders = [p for p in patients if p.resp6 != "NONE"]
    for p in responders[:n_relapse]:
        p.relapse_visit = int(rng.choice([9, 12]))
    order = rng.permutation(n)
    for k, sae_list in enumerate(saes):
        patients[order[k]].saes = list(sae_list)
    return patients


def _build_patients(rng: np.random.Generator) -> list[Patient]:
    resp_60 = ["COMPLETE"] * 3 + ["PARTIAL"] * 5 + ["NONE"] * 4
    resp_30 = ["COMPLETE"] * 3 + ["PARTIAL"] * 5 + ["NONE"] * 3
    high = _arm_patients(ARM_HIGH, 6, 6, 8, resp_60, 4, SAE_60, rng)
    low = _arm_patients(ARM_LOW, 6, 5, 7, resp_30, 4, SAE_30, rng)
    treated = high + low
    # AAV subtypes among the 12 treated AAV patients: 8 GPA, 3 MPA, 1 EGPA.
    aav = [p for p in treated if p.diaggrp == "AAV"]
    for p, sub in zip(aav, rng.permutation(["GPA"] * 8 + ["MPA"] * 3 + ["EGPA"]), strict=True):
        p.diag = str(sub)
    for p in treated:
        if p.diaggrp == "BD":
            p.diag = "BEHCET"
    for p, age, dur in zip(treated, rng.permutation(AGES), rng.permutation(DURATIONS),
                           strict=True):
        p.age, p.durdis = int(age), int(dur)
    # Courses: three patients get a third course from month 3 (non-responders at month 3 need
    # it most); one complete responder needs only the first course.
    third = [p for p in high if p.resp6 == "NONE"][:2] + [p for p in low if p.resp6 == "NONE"][:1]
    for p in third:
        p.courses = 3
    next(p for p in low if p.resp6 == "COMPLETE" and p.relapse_visit is None).courses = 1
    # Discontinuations after dosing.
    drop_high = next(p for p in high if p.resp6 == "NONE" and p.courses == 2)
    drop_high.dc_reason, drop_high.dc_after_month = "LACK OF EFFICACY", 6
    drop_low = next(p for p in low if p.relapse_visit is not None)
    drop_low.relapse_visit = 9
    drop_low.dc_reason, drop_low.dc_after_month = "PHYSICIAN DECISION", 9
    undosed = Patient(arm=ARM_LOW, dosed=False, diaggrp="AAV", diag="GPA", sex="M", age=36,
                      durdis=49, courses=0, dc_reason="WITHDRAWAL BY SUBJECT")
    return treated + [undosed]


def _iso(d: dt.date | None) -> str:
    return "" if d is None else d.isoformat()


def _score_at(p: Patient, month: int, base: int, rng: np.random.Generator) -> int:
    """Disease activity score consistent with the patient's response path."""
    half = base // 2
    if month == 0:
        return base
    if p.resp6 == "NONE":
        return int(rng.integers(half + 1, base + 1))
    if month == 3:
        return int(rng.integers(0 if p.resp6 == "COMPLETE" else 1, base))
    if month == 6 or p.relapse_visit is None or month < p.relapse_visit:
        return 0 if p.resp6 == "COMPLETE" else int(rng.integers(1, half + 1))
    return int(rng.integers(half + 1, base + 1))  # at and after relapse


def build(seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Build every demonstration dataset.

    Returns a mapping of dataset name (``screening``, ``adsl``, ``adex``, ``adeff``,
    ``adtte``, ``adae``) to a DataFrame of strings, ready to be written as CSV.
    """
    rng = np.random.default_rng(seed)
    patients = _build_patients(rng)
    order = rng.permutation(len(patients))  # randomisation order
    patients = [patients[i] for i in order]

    adsl, adex, adeff, adtte, adae = [], [], [], [], []
    rand_date = dt.date(2012, 3, 5)
    for i, p in enumerate(patients, start=1):
        usubjid = f"{STUDYID}-{i:03d}"
        randdt = rand_date
        rand_date = rand_date + dt.timedelta(days=int(rng.integers(21, 43)))
        scrndt = randdt - dt.timedelta(days=int(rng.integers(7, 29)))
        trtsdt = randdt + dt.timedelta(days=int(rng.integers(0, 8))) if p.dosed else None
        base = int(rng.integers(3, 13))
        instr = "BVAS/WG" if p.diaggrp == "AAV" else "BDCAF"

        visit_dates: dict[int, dt.date] = {}
        if trtsdt is not None:
            last_month = p.dc_after_month if p.dc_after_month is not None else 12
            for month, _name, day in VISITS:
                if month <= last_month:
                    jitter = 0 if month == 0 else int(rng.integers(-7, 8))
                    visit_dates[month] = trtsdt + dt.timedelta(days=day - 1 + jitter)
        # Exposure: course 1 at day 1, third course (if any) at month 3, second at month 6.
        course_months = {0: [], 1: [0], 2: [0, 6], 3: [0, 3, 6]}[p.courses]
        course_dates = [visit_dates[m] for m in course_months]
        for k, (m, d) in enumerate(zip(course_months, course_dates, strict=True), start=1):
            adex.append({
                "STUDYID": STUDYID, "USUBJID": usubjid, "EXSEQ": k, "EXTRT": "ALEMTUZUMAB",
                "EXDOSE": 60 if p.arm == ARM_HIGH else 30, "EXDOSU": "mg", "EXROUTE": "INTRAVENOUS",
                "PREMED": "METHYLPREDNISOLONE 500 MG", "AVISIT": VISITS[m // 3][1],
                "ASTDT": _iso(d), "ASTDY": (d - trtsdt).days + 1,
            })
        if p.dc_reason is None:
            eosdt, eosstt = visit_dates[12], "COMPLETED"
        elif not p.dosed:
            eosdt, eosstt = randdt + dt.timedelta(days=10), "DISCONTINUED"
        else:
            eosdt = visit_dates[p.dc_after_month] + dt.timedelta(days=int(rng.integers(10, 30)))
            eosstt = "DISCONTINUED"

        reldt = None
        for month, name, _day in VISITS:
            if month not in visit_dates:
                continue
            adt = visit_dates[month]
            ady = (adt - trtsdt).days + 1
            score = _score_at(p, month, base, rng)
            common = {"STUDYID": STUDYID, "USUBJID": usubjid, "AVISIT": name,
                      "AVISITN": month, "ADT": _iso(adt), "ADY": ady}
            adeff.append({**common, "PARAMCD": "ACTSCORE",
                          "PARAM": "Disease activity score (BVAS/WG or BDCAF)",
                          "AVAL": score, "AVALC": "", "BASE": base,
                          "ABLFL": "Y" if month == 0 else "", "EVNTDT": ""})
            if month == 0:
                continue
            if score == 0:
                resp = "COMPLETE"
            elif score * 2 <= base:
                resp = "PARTIAL"
            else:
                resp = "NONE"
            adeff.append({**common, "PARAMCD": "RESP", "PARAM": "Response category",
                          "AVAL": "", "AVALC": resp, "BASE": "", "ABLFL": "", "EVNTDT": ""})
            relapsed_now = p.relapse_visit == month
            if relapsed_now:
                prev = visit_dates[month - 3]
                reldt = prev + dt.timedelta(days=int(rng.integers(20, (adt - prev).days - 5)))
            adeff.append({**common, "PARAMCD": "RELAPSE",
                          "PARAM": "Relapse since previous visit", "AVAL": "",
                          "AVALC": "Y" if relapsed_now else "N", "BASE": "", "ABLFL": "",
                          "EVNTDT": _iso(reldt) if relapsed_now else ""})
        if p.dosed and p.resp6 != "NONE":
            last = max(visit_dates.values())
            end, cnsr = (reldt, 0) if reldt is not None else (last, 1)
            adtte.append({
                "STUDYID": STUDYID, "USUBJID": usubjid, "PARAMCD": "TTRELAPS",
                "PARAM": "Time to first relapse (days), six-month responders",
                "STARTDT": _iso(trtsdt), "ADT": _iso(end), "AVAL": (end - trtsdt).days + 1,
                "CNSR": cnsr, "EVNTDESC": "RELAPSE" if cnsr == 0 else "LAST ASSESSMENT",
            })

        aeseq = 0
        if p.dosed:
            n_ns = int(rng.integers(2, 7))
            picks = rng.choice(len(NONSERIOUS), size=n_ns, replace=False)
            events = [(NONSERIOUS[k], False) for k in sorted(picks)] + [
                (e, True) for e in p.saes]
            span = (eosdt - trtsdt).days
            for (term, soc, related), serious in events:
                aeseq += 1
                start = int(rng.integers(0, span - 5))
                astdt = trtsdt + dt.timedelta(days=start)
                if term == "Infusion related reaction":
                    astdt = course_dates[int(rng.integers(0, len(course_dates)))]
                    start = (astdt - trtsdt).days
                ongoing = rng.random() < 0.1 and not serious
                aendt = None if ongoing else astdt + dt.timedelta(
                    days=int(rng.integers(1, 21 if not serious else 40)))
                if aendt is not None and aendt > eosdt:
                    aendt = eosdt
                sev = ("SEVERE" if rng.random() < 0.6 else "MODERATE") if serious else (
                    "MILD" if rng.random() < 0.65 else "MODERATE")
                adae.append({
                    "STUDYID": STUDYID, "USUBJID": usubjid, "AESEQ": aeseq,
                    "TRTA": p.arm, "AETERM": term.upper(), "AEDECOD": term, "AEBODSYS": soc,
                    "AESER": "Y" if serious else "N", "AESEV": sev,
                    "AEREL": "RELATED" if related else "NOT RELATED",
                    "AEOUT": "NOT RECOVERED/NOT RESOLVED" if ongoing
                    else "RECOVERED/RESOLVED",
                    "ASTDT": _iso(astdt), "AENDT": _iso(aendt), "ASTDY": start + 1,
                    "TRTEMFL": "Y",
                })

        adsl.append({
            "STUDYID": STUDYID, "USUBJID": usubjid, "SUBJID": f"{i:03d}", "SITEID": "01",
            "ARM": p.arm, "TRT01P": p.arm, "TRT01PN": 60 if p.arm == ARM_HIGH else 30,
            "TRT01A": p.arm if p.dosed else "", "TRT01AN": (60 if p.arm == ARM_HIGH else 30)
            if p.dosed else "",
            "AGE": p.age, "AGEU": "YEARS", "SEX": p.sex, "DIAGGRP": p.diaggrp, "DIAG": p.diag,
            "ANCA": "", "DURDIS": p.durdis, "ACTINSTR": instr, "ACTBL": base,
            "CREATBL": int(rng.integers(55, 141)),
            "PRIORTRT": "ANTI-TNF" if p.diaggrp == "BD" else str(
                rng.choice(["CYCLOPHOSPHAMIDE", "RITUXIMAB"])),
            "SCRNDT": _iso(scrndt), "RANDDT": _iso(randdt), "TRTSDT": _iso(trtsdt),
            "TRTEDT": _iso(course_dates[-1] if course_dates else None), "EOSDT": _iso(eosdt),
            "RANDFL": "Y", "ITTFL": "Y", "SAFFL": "Y" if p.dosed else "N",
            "FASFL": "Y" if p.dosed else "N", "NCOURSE": p.courses, "EOSSTT": eosstt,
            "DCSREAS": p.dc_reason or "",
        })
    # ANCA type follows the diagnosis: GPA mostly PR3, MPA MPO, EGPA negative; BD not applicable.
    anca = {"GPA": "PR3", "MPA": "MPO", "EGPA": "NEGATIVE"}
    for row in adsl:
        row["ANCA"] = anca.get(row["DIAG"], "NOT APPLICABLE")
    gpa_rows = [r for r in adsl if r["DIAG"] == "GPA"]
    gpa_rows[int(rng.integers(0, len(gpa_rows)))]["ANCA"] = "MPO"

    screening = _screening(adsl, rng)
    frames = {"screening": screening, "adsl": adsl, "adex": adex, "adeff": adeff,
              "adtte": adtte, "adae": adae}
    return {name: pd.DataFrame(rows).astype(str).replace({"None": ""})
            for name, rows in frames.items()}


def _screening(adsl: list[dict], rng: np.random.Generator) -> list[dict]:
    """Screening log: the 24 randomised plus 7 excluded patients, in screening-date order."""
    rows = [{"SCRID": "", "SCRNDT": r["SCRNDT"], "AGE": r["AGE"], "SEX": r["SEX"],
             "ELIGFL": "Y", "RANDFL": "Y", "EXCLREAS": "", "EXCLDET": "",
             "USUBJID": r["USUBJID"]} for r in adsl]
    excluded = [
        ("NOT MEETING INCLUSION CRITERIA", "Creatinine above 150 umol/L", "N", 52),
        ("NOT MEETING INCLUSION CRITERIA", "Creatinine above 150 umol/L", "N", 47),
        ("NOT MEETING INCLUSION CRITERIA", "Age above 60 years", "N", 63),
        ("NOT MEETING INCLUSION CRITERIA", "No previous cyclophosphamide or rituximab failure",
         "N", 35),
        ("DECLINED TO PARTICIPATE", "Declined after information visit", "Y", 41),
        ("DECLINED TO PARTICIPATE", "Declined after information visit", "Y", 29),
        ("OTHER REASONS", "Moved away before randomisation", "Y", 38),
    ]
    first = dt.date.fromisoformat(adsl[0]["SCRNDT"])
    for reason, detail, elig, age in excluded:
        day = first + dt.timedelta(days=int(rng.integers(0, 800)))
        rows.append({"SCRID": "", "SCRNDT": day.isoformat(), "AGE": age,
                     "SEX": str(rng.choice(["F", "M"])), "ELIGFL": elig, "RANDFL": "N",
                     "EXCLREAS": reason, "EXCLDET": detail, "USUBJID": ""})
    rows.sort(key=lambda r: (r["SCRNDT"], r["USUBJID"]))
    for k, r in enumerate(rows, start=1):
        r["SCRID"] = f"S{k:03d}"
    return [{"STUDYID": STUDYID, **r} for r in rows]

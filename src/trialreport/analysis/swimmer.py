"""Per-patient lanes for a swimmer plot: courses, responses, relapses, SAEs, end of follow-up.

Settings come from ``swimmer:`` in the study definition::

    swimmer:
      exposure: {dataset: adex, day: ASTDY}              # one marker per course
      response: {paramcd: RESP}                          # response category at each visit
      relapse: {paramcd: RELAPSE, value: Y, date: EVNTDT}
      months: 12                                         # plotting horizon

Optional keys: ``population`` (default: the safety population), ``origin`` (ADSL date of day 1,
default TRTSDT), ``end`` (ADSL end-of-follow-up date, default EOSDT), ``dataset`` and ``day`` in
``response``/``relapse`` (default: the binary endpoints' dataset and ADY). Study day =
date - origin + 1 (no day 0). Everything is joined, not looped per patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis.populations import (
    ARM,
    arm_codes,
    as_text,
    population_adsl,
    subject_variable,
)
from trialreport.analysis.safety import ae_frame
from trialreport.data import TrialData

__all__ = ["EVENT_COLUMNS", "LANE_COLUMNS", "SwimmerData", "swimmer_data"]

DAYS_PER_MONTH = 30.4375
LANE_COLUMNS = ("subject", "arm", "arm_label", "lane", "end_day", "end_month", "courses",
                "discontinued", "dc_reason", "status")
EVENT_COLUMNS = ("subject", "arm", "lane", "event", "day", "month", "value", "detail")


@dataclass(frozen=True)
class SwimmerData:
    """Tidy inputs of a swimmer plot.

    Attributes
    ----------
    lanes : DataFrame
        One row per patient (:data:`LANE_COLUMNS`); ``lane`` 1..n is the plotting order (arm in
        study order, then longest follow-up first, then subject).
    events : DataFrame
        One row per marker (:data:`EVENT_COLUMNS`): ``event`` is ``course`` (value = course
        number), ``response`` (value = category, detail = visit), ``relapse``, ``sae`` (value =
        PT, detail = relatedness), ``end`` (value = end-of-study status) or ``discontinued``
        (value = reason); ``day`` is the study day, ``month`` = day / 30.4375.
    horizon_months : float
        Planned follow-up to draw (``months``), NaN if not set.
    """

    lanes: pd.DataFrame
    events: pd.DataFrame
    horizon_months: float


def _study_day(dates: pd.Series, origin: pd.Series) -> pd.Series:
    days = (pd.to_datetime(dates) - pd.to_datetime(origin)).dt.days + 1
    return days.astype("Float64")


def _default_dataset(data: TrialData) -> str:
    for ep in (data.study.section("endpoints") or {}).get("binary", []):
        return str(ep.get("dataset", "adeff"))
    return "adeff"


def _events(base: pd.DataFrame, event: str, day: Any, value: Any = "",
            detail: Any = "") -> pd.DataFrame:
    out = pd.DataFrame({"subject": base["subject"].to_numpy(), "event": event,
                        "day": pd.array(np.asarray(day, dtype=float), dtype="Float64"),
                        "value": value, "detail": detail})
    for col in ("value", "detail"):
        out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
    return out


def swimmer_data(data: TrialData) -> SwimmerData | None:
    """Lanes and markers for every patient of the swimmer population (``None`` without a
    ``swimmer:`` section)."""
    spec = data.study.section("swimmer")
    if not spec:
        return None
    study = data.study
    subject = subject_variable(study)
    population = spec.get("population") or (study.section("safety") or {}).get("population")
    population = population or next(iter(study.populations))
    pop = population_adsl(data, population)
    origin_var, end_var = str(spec.get("origin", "TRTSDT")), str(spec.get("end", "EOSDT"))
    disp = study.section("disposition") or {}
    origin = pop.set_index(subject)[origin_var]

    status = as_text(pop[disp["status"]]) if disp.get("status") in pop else None
    completed = str(disp.get("completed_value", "COMPLETED"))
    discontinued = ((status.notna() & status.ne(completed)).to_numpy(dtype=bool)
                    if status is not None else np.zeros(len(pop), dtype=bool))
    reason_var = disp.get("discontinued_reason")
    reasons = (as_text(pop[reason_var]).fillna("").to_numpy(dtype=object) if reason_var in pop
               else np.full(len(pop), "", dtype=object))
    lanes = pd.DataFrame({
        "subject": pop[subject].to_numpy(),
        "arm": pop[ARM].astype(object).to_numpy(),
        "end_day": _study_day(pop[end_var], pop[origin_var]).to_numpy(),
        "discontinued": discontinued,
        "dc_reason": np.where(discontinued, reasons, ""),
        "status": (status.fillna("").to_numpy(dtype=object) if status is not None
                   else np.full(len(pop), "", dtype=object)),
    })
    lanes["arm_label"] = lanes["arm"].map(study.arm_labels)
    lanes["end_month"] = lanes["end_day"].astype(float) / DAYS_PER_MONTH

    parts = []
    exp = spec.get("exposure")
    if exp and exp.get("dataset", "adex") in data:
        ex = data[exp.get("dataset", "adex")]
        ex = ex[ex[subject].isin(lanes["subject"])]
        ex = ex.sort_values([subject, exp.get("day", "ASTDY")], kind="mergesort")
        number = ex.groupby(subject, sort=False).cumcount() + 1
        parts.append(_events(ex.rename(columns={subject: "subject"}), "course",
                             pd.to_numeric(ex[exp.get("day", "ASTDY")]).astype(float),
                             number.astype(str).to_numpy()))
    courses = (parts[0].groupby("subject").size() if parts else pd.Series(dtype=int))
    lanes["courses"] = lanes["subject"].map(courses).fillna(0).astype(int)
    visit_var = str((study.section("endpoints") or {}).get("visit_variable", "AVISITN"))
    for key, event in (("response", "response"), ("relapse", "relapse")):
        crit = spec.get(key)
        ds_name = crit.get("dataset", _default_dataset(data)) if crit else None
        if not crit or ds_name not in data:
            continue
        ds = data[ds_name]
        param_var = str(crit.get("param_variable", "PARAMCD"))
        value_var = str(crit.get("variable", "AVALC"))
        rows = ds[as_text(ds[param_var]).eq(str(crit["paramcd"])).to_numpy(dtype=bool)
                  & ds[subject].isin(lanes["subject"]).to_numpy()]
        values = as_text(rows[value_var])
        if "value" in crit or "values" in crit:
            want = [str(v) for v in crit.get("values", [crit.get("value")])]
            keep = values.isin(want).fillna(False).to_numpy(dtype=bool)
            rows, values = rows[keep], values[keep]
        if crit.get("date") and crit["date"] in rows:
            day = _study_day(rows[crit["date"]], rows[subject].map(origin))
        else:
            day = pd.to_numeric(rows[crit.get("day", "ADY")]).astype("Float64")
        detail = (as_text(rows[visit_var]).fillna("").to_numpy(dtype=object)
                  if visit_var in rows else "")
        parts.append(_events(rows.rename(columns={subject: "subject"}), event,
                             day.astype(float).to_numpy(), values.fillna("").to_numpy(), detail))
    if study.section("safety") and (study.section("safety") or {}).get("dataset", "adae") in data:
        ae = ae_frame(data)
        sae = ae[ae["serious"].to_numpy() & ae["subject"].isin(lanes["subject"]).to_numpy()]
        parts.append(_events(sae, "sae", sae["start_day"].to_numpy(), sae["pt"].to_numpy(),
                             sae["relatedness"].to_numpy()))
    parts.append(_events(lanes, "end", lanes["end_day"].astype(float).to_numpy(),
                         lanes["status"].to_numpy()))
    dc = lanes[lanes["discontinued"]]
    parts.append(_events(dc, "discontinued", dc["end_day"].astype(float).to_numpy(),
                         dc["dc_reason"].to_numpy()))

    arm_rank = {code: i for i, code in enumerate(arm_codes(study))}
    lanes["_rank"] = lanes["arm"].map(arm_rank)
    lanes["_end"] = -lanes["end_day"].astype(float).fillna(-np.inf)
    lanes = lanes.sort_values(["_rank", "_end", "subject"], kind="mergesort")
    lanes["lane"] = np.arange(1, len(lanes) + 1)
    lanes = lanes[list(LANE_COLUMNS)].reset_index(drop=True)

    event_order = {"course": 0, "response": 1, "relapse": 2, "sae": 3, "discontinued": 4,
                   "end": 5}
    events = pd.concat(parts, ignore_index=True)
    events = events.merge(lanes[["subject", "arm", "lane"]], on="subject", how="inner")
    events["month"] = events["day"].astype(float) / DAYS_PER_MONTH
    events["_o"] = events["event"].map(event_order)
    events = events.sort_values(["lane", "day", "_o", "value"], kind="mergesort",
                                na_position="last")
    events = events[list(EVENT_COLUMNS)].reset_index(drop=True)
    months = spec.get("months")
    return SwimmerData(lanes=lanes, events=events,
                       horizon_months=float(months) if months is not None else np.nan)

"""Patient profiles over time: a swimmer plot with one lane per patient.

Settings come from ``swimmer:`` in the study definition: the dosing records (one marker per
dose or course), response assessments by level, events such as relapses, serious adverse
events (from ``safety:``), discontinuation and the end of follow-up. Study day = date - origin
+ 1 (no day 0). Everything is joined, not looped per patient. A figure of records: no ARD rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from trialreport.analysis_sets import ARM, as_text, population_adsl
from trialreport.data import TrialData
from trialreport.families.adverse_events import ae_frame
from trialreport.outputs import OutputContext, register
from trialreport.study import OutputSpec, Study

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


def _default_dataset(data: TrialData) -> str | None:
    binary = data.study.model.endpoints.binary
    return binary[0].dataset if binary else None


def _events(base: pd.DataFrame, event: str, day: Any, value: Any = "",
            detail: Any = "") -> pd.DataFrame:
    out = pd.DataFrame({"subject": base["subject"].to_numpy(), "event": event,
                        "day": pd.array(np.asarray(day, dtype=float), dtype="Float64"),
                        "value": value, "detail": detail})
    for col in ("value", "detail"):
        out[col] = out[col].astype(object).where(out[col].notna(), "").astype(str)
    return out


def swimmer_data(data: TrialData) -> SwimmerData:
    """Lanes and markers for every patient of the swimmer population."""
    study = data.study
    spec = study.model.swimmer
    if spec is None:
        raise ValueError("the swimmer figure needs a 'swimmer:' block")
    subject = study.model.subject_variable
    population = spec.population or (study.model.safety.population if study.model.safety
                                     else next(iter(study.populations)))
    pop = population_adsl(data, population)
    origin_var, end_var = spec.origin, spec.end
    disp = study.model.disposition
    origin = pd.Series(pop[origin_var].to_numpy(), index=pop[subject].astype(object).to_numpy())

    status = as_text(pop[disp.status]) if disp is not None and disp.status else None
    completed = disp.completed_value if disp is not None else "COMPLETED"
    discontinued = ((status.notna() & status.ne(completed)).to_numpy(dtype=bool)
                    if status is not None else np.zeros(len(pop), dtype=bool))
    reason_var = disp.discontinued_reason if disp is not None else None
    reasons = (as_text(pop[reason_var]).fillna("").to_numpy(dtype=object) if reason_var
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
    exp = spec.exposure
    if exp is not None:
        ex = data[exp.dataset]
        ex = ex[ex[subject].isin(lanes["subject"])]
        ex = ex.sort_values([subject, exp.day], kind="mergesort")
        number = ex.groupby(subject, sort=False, observed=True).cumcount() + 1
        parts.append(_events(ex.rename(columns={subject: "subject"}), "course",
                             pd.to_numeric(ex[exp.day], errors="raise").astype(float),
                             number.astype(str).to_numpy()))
    courses = (parts[0].groupby("subject", observed=True).size() if parts
               else pd.Series(dtype=int))
    lanes["courses"] = lanes["subject"].map(courses).fillna(0).astype(int)
    visit_var = study.model.endpoints.visit_variable
    for key in ("response", "relapse"):
        crit = getattr(spec, key)
        if crit is None:
            continue
        ds = data[crit.dataset or _default_dataset(data)]
        rows = ds[as_text(ds[crit.param_variable]).eq(crit.paramcd).to_numpy(dtype=bool)
                  & ds[subject].isin(lanes["subject"]).to_numpy()]
        values = as_text(rows[crit.variable])
        if key == "relapse":
            keep = values.eq(crit.value).fillna(False).to_numpy(dtype=bool)
            rows, values = rows[keep], values[keep]
        date_var = getattr(crit, "date", None)
        if date_var:
            day = _study_day(rows[date_var], rows[subject].astype(object).map(origin))
        else:
            day = pd.to_numeric(rows[crit.day], errors="raise").astype("Float64")
        detail = (as_text(rows[visit_var]).fillna("").to_numpy(dtype=object)
                  if visit_var in rows else "")
        parts.append(_events(rows.rename(columns={subject: "subject"}), key,
                             day.astype(float).to_numpy(), values.fillna("").to_numpy(), detail))
    if study.model.safety is not None and study.model.safety.dataset in data:
        ae = ae_frame(data)
        sae = ae[ae["serious"].to_numpy() & ae["subject"].isin(lanes["subject"]).to_numpy()]
        parts.append(_events(sae, "sae", sae["start_day"].to_numpy(), sae["pt"].to_numpy(),
                             sae["relatedness"].to_numpy()))
    parts.append(_events(lanes, "end", lanes["end_day"].astype(float).to_numpy(),
                         lanes["status"].to_numpy()))
    dc = lanes[lanes["discontinued"]]
    parts.append(_events(dc, "discontinued", dc["end_day"].astype(float).to_numpy(),
                         dc["dc_reason"].to_numpy()))

    arm_rank = {code: i for i, code in enumerate(study.arm_codes)}
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
    return SwimmerData(lanes=lanes, events=events, horizon_months=float(spec.months))


def _check(study: Study, spec: OutputSpec) -> list[str]:
    if study.model.swimmer is None:
        return ["type 'swimmer' needs a 'swimmer:' block"]
    sw = study.model.swimmer
    if (sw.response is not None and sw.response.dataset is None
            or sw.relapse is not None and sw.relapse.dataset is None) \
            and not study.model.endpoints.binary:
        return ["swimmer.response/relapse need 'dataset:' (no binary endpoint names one)"]
    return []


def _datasets(study: Study, spec: OutputSpec) -> list[str]:
    sw = study.model.swimmer
    roles = ["adsl"]
    if sw is None:
        return roles
    default = study.model.endpoints.binary[0].dataset if study.model.endpoints.binary else None
    if sw.exposure is not None:
        roles.append(sw.exposure.dataset)
    for crit in (sw.response, sw.relapse):
        if crit is not None and (crit.dataset or default):
            roles.append(crit.dataset or default)
    if study.model.safety is not None:
        roles.append(study.model.safety.dataset)
    return list(dict.fromkeys(roles))


@register("swimmer", "figure", datasets=_datasets, check=_check)
def swimmer_figure(ctx: OutputContext) -> Any:
    """Each patient's course over time: doses, response, relapses, serious adverse events."""
    from trialreport.figures.swimmer import plot_swimmer

    if ctx.data is None:
        raise ValueError(f"figure {ctx.spec.name!r} is drawn from the records: pass the data")
    study = ctx.study
    sd = swimmer_data(ctx.data)
    sw = study.model.swimmer
    related = study.model.safety.related.values if study.model.safety and \
        study.model.safety.related else ("RELATED", "Y")
    levels = sw.response.levels if sw.response is not None else None
    course = sw.exposure.label if sw.exposure is not None else "Treatment course"
    return plot_swimmer(sd, study.arm_labels, months=float(sw.months),
                        related_values=tuple(related), responses=levels, course_label=course)

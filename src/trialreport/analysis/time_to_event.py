"""Time-to-event endpoints: Kaplan-Meier estimates per arm, landmarks and the log-rank test.

Each entry of ``time_to_event:`` in the study definition names an ADTTE-style dataset and
``paramcd``; the analysis set is the population's subjects with a record of that parameter.
Times (``AVAL``, in ``time_unit``) are converted to ``display_unit`` (days / 30.4375 for
months); ``CNSR`` = 0 is an event. Optional keys: ``time_variable``, ``censor_variable``,
``param_variable``.

Estimates use :class:`lifelines.KaplanMeierFitter`: survival with Greenwood variance and the
log(-log) ("exponential Greenwood") confidence interval. The median is the smallest time at
which the estimate is at most 0.5; its CI limits are where the pointwise CI limits first reach
0.5 (Brookmeyer-Crowley with the log(-log) transform).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test

from trialreport.analysis.ard import concat_frames, empty_frame, stack_statistics
from trialreport.analysis.populations import (
    ARM,
    arm_codes,
    as_text,
    population_adsl,
    subject_variable,
)
from trialreport.data import TrialData

__all__ = ["DAYS_PER_UNIT", "km_curves", "km_fit", "quantile_time", "tte_ard",
           "tte_frame", "tte_param"]

DAYS_PER_UNIT = {"days": 1.0, "weeks": 7.0, "months": 30.4375, "years": 365.25}
MEDIAN_METHOD = "Kaplan-Meier; CI Brookmeyer-Crowley, log(-log) transform"
SURV_METHOD = "Kaplan-Meier; CI Greenwood variance, log(-log) transform"
LOGRANK = "Log-rank test (two-sided)"


def tte_param(data: TrialData, param: str) -> dict[str, Any]:
    """Definition of a time-to-event endpoint by ``id`` or ``paramcd``."""
    for spec in data.study.section("time_to_event") or []:
        if param in (str(spec.get("id")), str(spec.get("paramcd"))):
            return dict(spec)
    raise KeyError(f"no time-to-event endpoint {param!r} in the study definition")


_EVENT_FROM_LABEL = re.compile(
    r"\btime to (?:the )?(?:first )?([a-z][a-z -]*?)\b(?: among| in| by| from| after|,|$)",
    re.IGNORECASE)


def time_unit(spec: Mapping[str, Any]) -> str:
    """Unit of the stored times (``time_unit``, default days)."""
    return str(spec.get("time_unit", "days")).lower()


def display_unit(spec: Mapping[str, Any]) -> str:
    """Unit times are shown in (``display_unit``, default the stored unit)."""
    return str(spec.get("display_unit", time_unit(spec))).lower()


def event_name(spec: Mapping[str, Any]) -> str:
    """The event's name: ``event_label``, else parsed from "Time to first relapse ..."
    ("relapse"); "" when neither gives one."""
    if spec.get("event_label"):
        return str(spec["event_label"])
    match = _EVENT_FROM_LABEL.search(str(spec.get("label", "")))
    return match.group(1).strip().lower() if match else ""


def _unit_factor(spec: Mapping[str, Any]) -> float:
    """Divide stored times by this to get display units."""
    return DAYS_PER_UNIT[display_unit(spec)] / DAYS_PER_UNIT[time_unit(spec)]


def tte_frame(data: TrialData, spec: Mapping[str, Any] | str) -> pd.DataFrame:
    """Analysis records: ``subject``, ``arm``, ``time`` (display unit), ``event`` (bool)."""
    if isinstance(spec, str):
        spec = tte_param(data, spec)
    study = data.study
    subject = subject_variable(study)
    pop = population_adsl(data, spec["population"])[[subject, ARM]]
    ds = data[spec.get("dataset", "adtte")]
    param_var = str(spec.get("param_variable", "PARAMCD"))
    ds = ds.loc[as_text(ds[param_var]).eq(str(spec["paramcd"])).to_numpy(dtype=bool)]
    time_var = str(spec.get("time_variable", "AVAL"))
    cnsr_var = str(spec.get("censor_variable", "CNSR"))
    merged = pop.merge(ds[[subject, time_var, cnsr_var]], on=subject, how="inner", sort=False)
    return pd.DataFrame({
        "subject": merged[subject].to_numpy(),
        "arm": pd.Categorical(merged[ARM].astype(object), categories=arm_codes(study)),
        "time": pd.to_numeric(merged[time_var]).astype(float).to_numpy() / _unit_factor(spec),
        "event": pd.to_numeric(merged[cnsr_var]).astype(float).to_numpy() == 0,
    })


def km_fit(time: np.ndarray, event: np.ndarray, conf: float = 0.95) -> KaplanMeierFitter | None:
    """Fitted Kaplan-Meier estimator (``None`` for an empty group)."""
    if len(time) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return KaplanMeierFitter(alpha=1.0 - conf).fit(time, event)


def _finite(x: float) -> float:
    x = float(x)
    return x if np.isfinite(x) else np.nan


def quantile_time(curve: pd.Series, q: float = 0.5, tol: float = 1e-9) -> float:
    """Smallest time ``t`` with ``curve(t) <= q`` (NaN if never reached).

    ``tol`` absorbs floating-point error: lifelines multiplies through logs, so a product-limit
    estimate of exactly 1/2 can come out as 0.5000000000000001 and would otherwise leave the
    median "not reached" (``lifelines`` ``median_survival_time_`` has this flaw).
    """
    values = curve.to_numpy(dtype=float)
    hit = np.flatnonzero(values <= q + tol)
    return float(curve.index[hit[0]]) if len(hit) else np.nan


def _at(kmf: KaplanMeierFitter, t: float, last: float) -> tuple[float, float, float]:
    """Survival and CI at time ``t``; NaN beyond the last follow-up time. The CI is NaN where
    the estimate is 1 or 0 (the log(-log) interval is undefined there)."""
    if t > last:
        return np.nan, np.nan, np.nan
    sf = kmf.survival_function_.iloc[:, 0]
    pos = int(np.searchsorted(sf.index.to_numpy(dtype=float), t, side="right")) - 1
    surv = float(sf.iloc[pos])
    if surv in (0.0, 1.0):
        return surv, np.nan, np.nan
    ci = kmf.confidence_interval_.iloc[pos]
    return surv, float(ci.iloc[0]), float(ci.iloc[1])


def _group_stats(kmf: KaplanMeierFitter | None, time: np.ndarray, event: np.ndarray,
                 landmarks: Sequence[float]) -> dict[str, float]:
    out = {"n": float(len(time)), "events": float(event.sum()),
           "censored": float(len(time) - event.sum()),
           "median": np.nan, "median_lower": np.nan, "median_upper": np.nan}
    for lm in landmarks:
        out.update({f"surv@{lm}": np.nan, f"surv_lower@{lm}": np.nan,
                    f"surv_upper@{lm}": np.nan})
    if kmf is None:
        return out
    ci = kmf.confidence_interval_
    out["median"] = quantile_time(kmf.survival_function_.iloc[:, 0])
    out["median_lower"] = quantile_time(ci.iloc[:, 0])
    out["median_upper"] = quantile_time(ci.iloc[:, 1])
    last = float(time.max())
    for lm in landmarks:
        s, lo, hi = _at(kmf, float(lm), last)
        out[f"surv@{lm}"], out[f"surv_lower@{lm}"], out[f"surv_upper@{lm}"] = s, lo, hi
    return out


def _logrank(frame: pd.DataFrame, groups: Sequence[str]) -> float:
    """Two-sided log-rank p-value across ``groups`` (NaN with < 2 non-empty groups or no
    events)."""
    sub = frame[frame["arm"].isin(groups)]
    present = [g for g in groups if (sub["arm"] == g).any()]
    if len(present) < 2 or not sub["event"].any():
        return np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(present) == 2:
            a, b = (sub[sub["arm"] == g] for g in present)
            res = logrank_test(a["time"], b["time"], a["event"], b["event"])
        else:
            res = multivariate_logrank_test(sub["time"], sub["arm"].astype(str), sub["event"])
    return _finite(res.p_value)


def param_ard(data: TrialData, spec: Mapping[str, Any]) -> pd.DataFrame:
    """ARD rows for one time-to-event endpoint.

    Per arm and total: ``n``, ``events``, ``censored``, ``median``, ``median_lower``,
    ``median_upper`` (display unit; NaN = not reached / not estimable); per landmark
    (category = landmark in display units): ``surv``, ``surv_lower``, ``surv_upper`` (0-1).
    Group ``comparison``: log-rank ``pvalue`` (treatment vs reference when the study defines a
    comparison, otherwise across all arms).

    References
    ----------
    Kaplan EL, Meier P (1958). J Am Stat Assoc 53:457-481.
    Brookmeyer R, Crowley J (1982). A confidence interval for the median survival time.
    Biometrics 38:29-41.
    Mantel N (1966). Cancer Chemother Rep 50:163-170 (log-rank test).
    """
    study = data.study
    conf = study.conf_level(spec)
    landmarks = [float(x) for x in spec.get("landmarks", [])]
    frame = tte_frame(data, spec)
    arms = arm_codes(study)
    rows = []
    for g in [*arms, study.total_label]:
        sub = frame if g == study.total_label else frame[frame["arm"] == g]
        t, e = sub["time"].to_numpy(), sub["event"].to_numpy()
        rows.append({"group": g, **_group_stats(km_fit(t, e, conf), t, e, landmarks)})
    wide = pd.DataFrame(rows)
    const = {"analysis": "tte", "population": str(spec["population"]),
             "variable": str(spec.get("id", spec["paramcd"]))}
    frames = [stack_statistics(wide, ["n", "events", "censored", "median", "median_lower",
                                      "median_upper"],
                               methods=dict.fromkeys(("median", "median_lower",
                                                      "median_upper"), MEDIAN_METHOD), **const)]
    for lm in landmarks:
        part = wide[["group", f"surv@{lm}", f"surv_lower@{lm}", f"surv_upper@{lm}"]].copy()
        part.columns = ["group", "surv", "surv_lower", "surv_upper"]
        part["category"] = _category(lm)
        frames.append(stack_statistics(part, ["surv", "surv_lower", "surv_upper"],
                                       methods=dict.fromkeys(
                                           ("surv", "surv_lower", "surv_upper"), SURV_METHOD),
                                       **const))
    comp = study.comparison
    pair = ([comp["treatment"], comp["reference"]]
            if comp and comp.get("treatment") in arms and comp.get("reference") in arms else arms)
    frames.append(stack_statistics(pd.DataFrame({"group": ["comparison"],
                                                 "pvalue": [_logrank(frame, pair)]}),
                                   ["pvalue"], methods={"pvalue": LOGRANK}, **const))
    return concat_frames(frames)


def _category(x: float) -> str:
    """Landmark as ARD category: "6" for 6.0, "1.5" for 1.5."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def tte_ard(data: TrialData) -> pd.DataFrame:
    """ARD rows ``analysis="tte"`` for every time-to-event endpoint whose dataset is present."""
    specs = [s for s in data.study.section("time_to_event") or []
             if s.get("dataset", "adtte") in data]
    return concat_frames(param_ard(data, s) for s in specs) if specs else empty_frame()


def km_curves(data: TrialData, param: str) -> pd.DataFrame:
    """Kaplan-Meier step curves for plotting, one block of rows per arm.

    Returns
    -------
    DataFrame
        ``group`` (arm code), ``label``, ``time`` (display unit, starting at 0), ``surv``,
        ``lower``, ``upper`` (pointwise CI), ``at_risk`` (at risk just before ``time``),
        ``events``, ``censored`` (censoring marks go at rows with ``censored > 0``).
    """
    spec = tte_param(data, param)
    frame = tte_frame(data, spec)
    study = data.study
    groups = arm_codes(study)
    parts = []
    for g in groups:
        sub = frame if g == study.total_label else frame[frame["arm"] == g]
        kmf = km_fit(sub["time"].to_numpy(), sub["event"].to_numpy(), study.conf_level(spec))
        if kmf is None:
            continue
        et = kmf.event_table
        ci = kmf.confidence_interval_
        parts.append(pd.DataFrame({
            "group": g, "label": study.arm_label(g),
            "time": et.index.to_numpy(dtype=float),
            "surv": kmf.survival_function_.iloc[:, 0].to_numpy(),
            "lower": ci.iloc[:, 0].to_numpy(), "upper": ci.iloc[:, 1].to_numpy(),
            "at_risk": et["at_risk"].to_numpy(), "events": et["observed"].to_numpy(),
            "censored": et["censored"].to_numpy(),
        }))
    if not parts:
        return pd.DataFrame(columns=["group", "label", "time", "surv", "lower", "upper",
                                     "at_risk", "events", "censored"])
    return pd.concat(parts, ignore_index=True)


